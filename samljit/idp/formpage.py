"""Reading one HTML page of a form-based IdP: its forms and fields, the SAMLResponse, and the
error text shown near a form.

Parsed with BeautifulSoup and the lxml parser (entities decoded, tag and attribute names
case-insensitive, broken markup recovered). bs4 is imported inside :func:`parse_page` so
that importing this module costs nothing at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

#: Input types a person types into (an ``<input>`` without a type is a text input).
TEXT_TYPES = frozenset({"text", "email", "tel", "number", "search", "url", "password", ""})
#: Controls that never reach the form data set unless they are the submitter.
BUTTON_TYPES = frozenset({"submit", "image", "button", "reset"})
#: Controls a person fills in (an auto-submit form has none of these).
USER_TYPES = TEXT_TYPES | {"select", "textarea", "file"}
MAX_PAGE_BYTES = 5 * 1024 * 1024
_SPACE = re.compile(r"\s+")
_ICONS = ("img", "i", "svg")
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "label")


@dataclass(frozen=True)
class Field:
    """One named or nameless control of a form, as the page serves it."""

    tag: str
    name: str
    type: str
    value: str = ""
    id: str = ""
    autocomplete: str = ""
    checked: bool = False
    disabled: bool = False
    placeholder: str = ""

    @property
    def is_submit(self) -> bool:
        return self.type in ("submit", "image")

    @property
    def is_text(self) -> bool:
        """A visible input a person types into (``password`` included)."""
        return self.tag == "input" and self.type in TEXT_TYPES

    @property
    def fillable(self) -> bool:
        return self.type in USER_TYPES

    def data(self) -> list[tuple[str, str]]:
        """The pairs this control adds to a submission when it is not the submitter."""
        if not self.name or self.disabled or self.type in BUTTON_TYPES or self.type == "file":
            return []
        if self.type in ("checkbox", "radio"):
            return [(self.name, self.value or "on")] if self.checked else []
        return [(self.name, self.value)]


@dataclass(frozen=True)
class Form:
    """One ``<form>``: where it goes and what it holds."""

    index: int
    action: str  #: absolute URL (the page URL when the form has no action)
    method: str  #: ``GET`` or ``POST``
    fields: tuple[Field, ...]
    id: str = ""
    name: str = ""
    has_action: bool = True
    element: Any = field(default=None, repr=False, compare=False)

    def named(self, *names: str) -> Field | None:
        """The first control whose name is one of ``names`` (exact, then any case)."""
        for name in names:
            for control in self.fields:
                if control.name == name:
                    return control
        lowered = {n.lower() for n in names}
        for control in self.fields:
            if control.name.lower() in lowered:
                return control
        return None

    @property
    def passwords(self) -> list[Field]:
        return [f for f in self.fields if f.tag == "input" and f.type == "password" and f.name]

    @property
    def text_inputs(self) -> list[Field]:
        return [f for f in self.fields if f.is_text and f.name and not f.disabled]

    @property
    def user_controls(self) -> list[Field]:
        return [f for f in self.fields if f.fillable and f.name and not f.disabled]

    def has(self, name: str) -> bool:
        return self.named(name) is not None

    def submission(
        self,
        values: Mapping[str, str] | None = None,
        *,
        submitter: Field | None = None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> list[tuple[str, str]]:
        """The form data set: this form's named controls only, ``values`` replacing (or
        adding) by name, then the submitter's pair, then ``extra`` pairs not yet present."""
        values = dict(values or {})
        pairs: list[tuple[str, str]] = []
        for control in self.fields:
            for name, value in control.data():
                if name in values:
                    value = values.pop(name)
                pairs.append((name, value))
        pairs.extend(values.items())
        if submitter is not None and submitter.name:
            pairs.append((submitter.name, submitter.value))
        present = {name for name, _ in pairs}
        pairs.extend((name, value) for name, value in extra if name not in present)
        return pairs


@dataclass(frozen=True)
class Page:
    """One answer of the IdP, parsed."""

    url: str
    status: int
    forms: tuple[Form, ...]
    #: The value of the first ``SAMLResponse`` input, ``None`` when there is no such input.
    saml_response: str | None
    soup: Any = field(repr=False, compare=False)
    raw: str = field(default="", repr=False, compare=False)

    def select(self, selector: str) -> list[Any]:
        """Elements matching a CSS selector (an invalid selector matches nothing)."""
        try:
            return list(self.soup.select(selector))
        except Exception:  # soupsieve raises its own SelectorSyntaxError
            return []

    def select_form(self, selectors: Sequence[str]) -> Form | None:
        """The first form matched by the first selector that matches one."""
        for selector in selectors:
            for element in self.select(selector):
                for form in self.forms:
                    if form.element is element:
                        return form
        return None

    def text_of(self, selectors: Sequence[str]) -> str:
        """The visible text of the first selector that matches something with text."""
        for selector in selectors:
            texts: list[str] = []
            for element in self.select(selector):
                if _hidden(element):
                    continue
                text = element_text(element)
                if not text and element.name in _ICONS and element.parent is not None:
                    text = element_text(element.parent)  # an error icon: its box holds the text
                if text and text not in texts and not any(text in t for t in texts):
                    texts.append(text)
            if texts:
                return shorten(join_sentences(texts))
        return ""

    @property
    def has_auto_submit(self) -> bool:
        """Whether the page submits a form by itself (onload or script) or tells a script-less
        reader to press a button (``<noscript>``)."""
        body = self.soup.find("body")
        onload = str(body.get("onload") or "") if body is not None else ""
        scripts = " ".join(s.get_text() for s in self.soup.find_all("script"))
        return ".submit()" in onload or ".submit()" in scripts or bool(self.soup.find("noscript"))

    @property
    def text(self) -> str:
        """Title and body text on one line, shortened."""
        return shorten(visible_text(self.soup))


def shorten(text: str, limit: int = 300) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def join_sentences(texts: Sequence[str]) -> str:
    """``["Error", "Bad password"]`` → ``"Error. Bad password"``."""
    out = ""
    for text in texts:
        if out:
            out += " " if out.endswith((".", "!", "?", ":", "…")) else ". "
        out += text
    return out


def element_text(element: Any) -> str:
    """An element's text; headings and paragraphs become separate sentences."""
    blocks = [b for b in element.find_all(_BLOCKS) if not b.find(_BLOCKS)]
    if blocks:
        parts = [_SPACE.sub(" ", b.get_text(" ", strip=True)) for b in blocks]
        return join_sentences([p for p in parts if p])
    return _SPACE.sub(" ", element.get_text(" ", strip=True))


def visible_text(soup: Any) -> str:
    title_tag = soup.find("title")
    title = _SPACE.sub(" ", title_tag.get_text(" ", strip=True)) if title_tag else ""
    body = soup.find("body") or soup
    parts = []
    for string in body.find_all(string=True):
        parent = string.parent
        if parent is not None and parent.name in ("script", "style", "noscript", "title"):
            continue
        if parent is not None and _hidden(parent):
            continue
        parts.append(str(string))
    text = _SPACE.sub(" ", " ".join(parts)).strip()
    if title and not text.startswith(title):
        return f"{title}: {text}" if text else title
    return text


def _hidden(element: Any) -> bool:
    for node in [element, *element.parents]:
        attrs = getattr(node, "attrs", None)
        if not attrs:
            continue
        if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
            return True
        style = str(attrs.get("style", "")).replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
    return False


def _attr(element: Any, name: str) -> str:
    value = element.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def resolve(base: str, action: str) -> str:
    """Resolve a form action or Location against the URL that served it, as browsers do
    (``"?"`` keeps the path with an empty query; ``"#x"`` is the page itself). An address
    that cannot be resolved is returned as written (``web_url`` then refuses it)."""
    action = action.strip()
    try:
        if not action or action.startswith("#"):
            return base.split("#", 1)[0]
        if action.startswith("?"):
            parts = urlsplit(base)
            return urlunsplit((parts.scheme, parts.netloc, parts.path, action[1:], ""))
        return urljoin(base, action)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return action


def web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) address with a host."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _field(element: Any) -> Field:
    tag = element.name
    if tag == "select":
        options = element.find_all("option")
        chosen = next(
            (o for o in options if o.has_attr("selected")), options[0] if options else None
        )
        value = "" if chosen is None else _attr(chosen, "value") or chosen.get_text(strip=True)
        kind = "select"
    elif tag == "textarea":
        value, kind = element.get_text(), "textarea"
    elif tag == "button":
        value, kind = _attr(element, "value"), (_attr(element, "type").lower() or "submit")
    else:
        value, kind = _attr(element, "value"), _attr(element, "type").strip().lower()
        kind = kind if kind in TEXT_TYPES | BUTTON_TYPES | _OTHER_INPUTS else "text"
    return Field(
        tag=tag,
        name=_attr(element, "name"),
        type=kind,
        value=value,
        id=_attr(element, "id"),
        autocomplete=_attr(element, "autocomplete").strip().lower(),
        checked=element.has_attr("checked"),
        disabled=element.has_attr("disabled"),
        placeholder=_attr(element, "placeholder"),
    )


_OTHER_INPUTS = frozenset({"hidden", "checkbox", "radio", "file", "date", "range", "color"})


def _base_url(soup: Any, url: str) -> str:
    base = soup.find("base", href=True)
    return resolve(url, _attr(base, "href")) if base is not None else url


def parse_page(html: str | bytes, *, url: str, status: int = 200) -> Page:
    """Parse an IdP page. Never raises on bad markup: the worst HTML is a page with no form."""
    from bs4 import BeautifulSoup

    if len(html) > MAX_PAGE_BYTES:
        html = html[:MAX_PAGE_BYTES]
    if isinstance(html, bytes):
        # let bs4 sniff the charset (meta tag, BOM) when the header named none
        soup = BeautifulSoup(html, "lxml")
        text = html.decode("utf-8", "replace")
    else:
        soup = BeautifulSoup(html, "lxml")
        text = html
    base = _base_url(soup, url)
    forms = []
    for index, element in enumerate(soup.find_all("form")):
        raw_action = element.get("action")
        has_action = isinstance(raw_action, str) and bool(raw_action.strip())
        method = _attr(element, "method").strip().upper()
        forms.append(
            Form(
                index=index,
                action=resolve(base, _attr(element, "action")) if has_action else url,
                method="GET" if method == "GET" else "POST",
                fields=tuple(
                    _field(c) for c in element.find_all(("input", "select", "textarea", "button"))
                ),
                id=_attr(element, "id"),
                name=_attr(element, "name"),
                has_action=has_action,
                element=element,
            )
        )
    saml = None
    for element in soup.find_all("input"):
        if _attr(element, "name") == "SAMLResponse":
            saml = _attr(element, "value")
            break
    return Page(url=url, status=status, forms=tuple(forms), saml_response=saml, soup=soup, raw=text)
