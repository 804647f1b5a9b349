"""Reading one HTML page of an IdP: its forms and fields, the SAMLResponse, the text it shows,
and the error text shown near a form.

The one HTML reader of samljit. Pages are parsed with ``lxml.html`` (libxml2's HTML parser:
tag and attribute names lower-cased, entities decoded, broken markup recovered) and searched
with CSS selectors translated to XPath by ``cssselect``. Both are imported inside
:func:`parse_page`/:meth:`Page.select`, so importing this module costs nothing at start-up.

Bytes are decoded here, not by libxml2 (which reads undeclared bytes as Latin-1): a byte
order mark, else the charset a ``<meta>`` tag or XML declaration names, else UTF-8 when the
bytes are valid UTF-8, else Windows-1252.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from samljit.common.errors import AssertionFormatError
from samljit.common.redact import redact_url
from samljit.common.text import printable

#: Input types a person types into (an ``<input>`` without a type is a text input).
TEXT_TYPES = frozenset({"text", "email", "tel", "number", "search", "url", "password", ""})
#: Controls that never reach the form data set unless they are the submitter.
BUTTON_TYPES = frozenset({"submit", "image", "button", "reset"})
#: Controls a person fills in (an auto-submit form has none of these).
USER_TYPES = TEXT_TYPES | {"select", "textarea", "file"}
#: Longer pages are cut to this many bytes (characters for text) before parsing.
MAX_PAGE_BYTES = 5 * 1024 * 1024
#: How long :func:`visible_text` and :meth:`Page.text_of` let a text grow before shortening.
TEXT_LIMIT = 300
_OTHER_INPUTS = frozenset({"hidden", "checkbox", "radio", "file", "date", "range", "color"})
#: Elements whose content is never shown as text.
_UNSEEN = frozenset({"script", "style", "noscript", "template", "title"})
_ICONS = ("img", "i", "svg")
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "label")
_SPACE = re.compile(r"\s+")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(
    rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)"
    rb"|<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)",
    re.IGNORECASE,
)


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
    #: A ``select``'s options as ``(value, text)`` pairs, in document order.
    options: tuple[tuple[str, str], ...] = ()

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
    #: The SAMLResponse the page carries, whitespace removed: the value of the first
    #: ``<input name="SAMLResponse">`` that has one, ``""`` when every such input is empty,
    #: ``None`` when the page has no such input.
    saml_response: str | None
    #: The parsed document (the ``lxml.html`` root element).
    root: Any = field(repr=False, compare=False)

    def select(self, selector: str) -> list[Any]:
        """Elements matching a CSS selector, in document order (an invalid selector, or one
        cssselect cannot translate, matches nothing)."""
        xpath = _xpath(selector)
        if xpath is None:
            return []
        try:
            return list(self.root.xpath(xpath))
        except Exception:  # lxml's XPathError: an expression libxml2 refuses
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
        """The error text a form engine reports: the text of the first selector whose
        matches show any. Hidden matches are skipped; an icon (``img``, ``i``, ``svg``)
        stands for the box around it; each match's text is :func:`element_text`, repeats
        dropped, joined as sentences and shortened to :data:`TEXT_LIMIT`. ``""`` if none."""
        for selector in selectors:
            texts: list[str] = []
            for element in self.select(selector):
                if _hidden(element):
                    continue
                text = element_text(element)
                parent = element.getparent()
                if not text and element.tag in _ICONS and parent is not None:
                    text = element_text(parent)  # an error icon: its box holds the text
                if text and text not in texts and not any(text in t for t in texts):
                    texts.append(text)
            if texts:
                return shorten(join_sentences(texts))
        return ""

    def unrendered_text(self, selectors: Sequence[str]) -> str:
        """What an error a script would render says, read from the markup that carries it:
        the ``title``, ``aria-label`` or ``data-message``-like attributes of the elements
        ``selectors`` match (and their children), the message codes they carry
        (``<span trmsg="5"></span>`` → ``message code 5``), and the message of a JSON block
        (``<script type="application/json">``). Shortened like :meth:`text_of`; ``""`` if
        the page carries nothing of the kind."""
        found: list[str] = []

        def add(text: str) -> None:
            text = _squeeze(text)
            if text and text not in found:
                found.append(text)

        for selector in selectors:
            for element in self.select(selector):
                if _hidden(element):
                    continue
                for node in (element, *element.iterdescendants()):
                    if not isinstance(node.tag, str):
                        continue
                    for name, value in node.attrib.items():
                        key = str(name).lower()
                        if key in _MESSAGE_ATTRS:
                            add(str(value))
                        elif key in _CODE_ATTRS and str(value).strip():
                            add(f"message code {str(value).strip()}")
        for script in self.root.iter("script"):
            if "json" in _attr(script, "type").lower():
                for text in _json_messages(script.text_content()):
                    add(text)
        return shorten(join_sentences(found)) if found else ""

    @property
    def has_auto_submit(self) -> bool:
        """Whether the page submits a form by itself (onload or script) or tells a script-less
        reader to press a button (``<noscript>``)."""
        body = self.root.find("body")
        onload = str(body.get("onload") or "") if body is not None else ""
        scripts = " ".join(s.text_content() for s in self.root.iter("script"))
        return (
            ".submit()" in onload
            or ".submit()" in scripts
            or next(self.root.iter("noscript"), None) is not None
        )

    @property
    def text(self) -> str:
        """What the page says: its :func:`visible_text`."""
        return visible_text(self.root)


def parse_page(html: str | bytes, *, url: str, status: int = 200) -> Page:
    """Parse an IdP page. Never raises on bad markup: the worst HTML is a page with no form."""
    root = _parse(html)
    base = _base_url(root, url)
    forms = []
    for index, element in enumerate(root.iter("form")):
        has_action = bool(_attr(element, "action").strip())
        method = _attr(element, "method").strip().upper()
        forms.append(
            Form(
                index=index,
                action=resolve(base, _attr(element, "action")) if has_action else url,
                method="GET" if method == "GET" else "POST",
                fields=tuple(
                    _field(c) for c in element.iter("input", "select", "textarea", "button")
                ),
                id=_attr(element, "id"),
                name=_attr(element, "name"),
                has_action=has_action,
                element=element,
            )
        )
    return Page(url=url, status=status, forms=tuple(forms), saml_response=_saml(root), root=root)


def saml_response(html: str | bytes, *, url: str, step: str) -> str:
    """The page's SAMLResponse (:attr:`Page.saml_response`); when it has none, or only an
    empty one, an :class:`AssertionFormatError` naming ``step``, the URL and what the page
    says instead."""
    page = parse_page(html, url=url)
    if page.saml_response:
        return page.saml_response
    said = page.text
    raise AssertionFormatError(
        f"{step}: the page at {printable(redact_url(url))} holds no SAMLResponse"
        + (f"; it says: {said}" if said else ""),
        hint="check that your user is assigned to the AWS app at the IdP",
    )


def visible_text(root: Any, limit: int = TEXT_LIMIT) -> str:
    """What a person reading ``root`` (a document or an element) without scripts sees, on
    one line: the text of ``root`` in document order, each text node separated by a space,
    leaving out comments, the content of ``<script>``, ``<style>``, ``<noscript>``,
    ``<template>`` and ``<title>``, and every element hidden by a ``hidden`` attribute,
    ``aria-hidden="true"`` or an inline ``display:none``/``visibility:hidden``; runs of
    whitespace squeezed to one space. The document's ``<title>`` is put in front
    (``"Title: text"``) unless the text already starts with it. Shortened to ``limit``
    characters, the last one ``…``, when longer; ``""`` for a page with no text."""
    title = ""
    element = next(root.iter("title"), None)
    if element is not None:
        title = _squeeze(element.text_content())
    body = root.find("body") if root.tag == "html" else None
    text = _squeeze(" ".join(_strings(body if body is not None else root)))
    if title and not text.startswith(title):
        text = f"{title}: {text}" if text else title
    return shorten(text, limit)


def element_text(element: Any) -> str:
    """An element's visible text (as in :func:`visible_text`, without the title); when it
    holds headings, paragraphs, list items or labels, only theirs, each one a sentence."""
    blocks = [
        b
        for b in element.iterdescendants(*_BLOCKS)
        if next(b.iterdescendants(*_BLOCKS), None) is None
    ]
    if blocks:
        parts = [_squeeze(" ".join(_strings(b))) for b in blocks]
        return join_sentences([p for p in parts if p])
    return _squeeze(" ".join(_strings(element)))


def shorten(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` on one line, control characters escaped (:func:`samljit.common.text.printable`), cut
    to ``limit`` characters (the last one ``…``) when longer."""
    text = printable(_squeeze(text))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def join_sentences(texts: Sequence[str]) -> str:
    """``["Error", "Bad password"]`` → ``"Error. Bad password"``."""
    out = ""
    for text in texts:
        if out:
            out += " " if out.endswith((".", "!", "?", ":", "…")) else ". "
        out += text
    return out


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


# -- parsing ------------------------------------------------------------------------------
def _parse(html: str | bytes) -> Any:
    import lxml.etree
    import lxml.html

    text = _decode(html[:MAX_PAGE_BYTES])
    # libxml2 gets UTF-8 with the encoding named, so a <meta> or XML declaration naming
    # another charset cannot re-decode text that is already decoded
    parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):  # "Document is empty": no element at all
        return lxml.html.document_fromstring(b"<html><body></body></html>", parser=parser)


def _decode(html: str | bytes) -> str:
    if isinstance(html, str):
        return html
    for bom, encoding in _BOMS:
        if html.startswith(bom):
            return html[len(bom) :].decode(encoding, "replace")
    declared = _DECLARED.search(html[:4096])
    if declared is not None:
        label = (declared.group(1) or declared.group(2)).decode("ascii")
        try:
            encoding = codecs.lookup(label).name
        except LookupError:
            encoding = ""
        if encoding.startswith(("utf-16", "utf-32")):
            encoding = "utf-8"  # bytes that declare it in ASCII are not UTF-16
        if encoding:
            return html.decode(encoding, "replace")
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        return html.decode("cp1252", "replace")


def _saml(root: Any) -> str | None:
    found: str | None = None
    for element in root.iter("input"):
        if element.get("name") == "SAMLResponse":
            value = "".join(_attr(element, "value").split())
            if value:
                return value
            found = ""
    return found


def _base_url(root: Any, url: str) -> str:
    for base in root.iter("base"):
        if base.get("href") is not None:
            return resolve(url, _attr(base, "href"))
    return url


def _field(element: Any) -> Field:
    tag = element.tag
    choices: tuple[tuple[str, str], ...] = ()
    if tag == "select":
        options = list(element.iter("option"))
        chosen = next(
            (o for o in options if o.get("selected") is not None), options[0] if options else None
        )
        value = "" if chosen is None else _option_value(chosen)
        choices = tuple((_option_value(o), _squeeze(o.text_content())) for o in options)
        kind = "select"
    elif tag == "textarea":
        value, kind = element.text_content(), "textarea"
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
        checked=element.get("checked") is not None,
        disabled=element.get("disabled") is not None,
        placeholder=_attr(element, "placeholder"),
        options=choices,
    )


def _option_value(option: Any) -> str:
    """What an ``<option>`` submits: its ``value``, else its text."""
    value = option.get("value")
    return str(value) if value is not None else option.text_content().strip()


def _attr(element: Any, name: str) -> str:
    return str(element.get(name) or "")


@lru_cache(maxsize=256)
def _xpath(selector: str) -> str | None:
    from cssselect import HTMLTranslator, SelectorError

    try:
        return str(HTMLTranslator().css_to_xpath(selector))
    except SelectorError:
        return None


# -- text ---------------------------------------------------------------------------------
#: Attributes that hold an error's words when a script, not the markup, shows them.
_MESSAGE_ATTRS = frozenset(
    {"title", "aria-label", "data-message", "data-error", "data-error-message", "data-msg"}
)
#: Attributes that hold the code of a message a script looks up (``trmsg`` and the like).
_CODE_ATTRS = frozenset(
    {"trmsg", "msgid", "data-msgid", "data-msg-id", "data-message-id", "data-error-code"}
)
#: Keys of a JSON block whose string value is an error's words, and those holding its code.
_JSON_MESSAGES = ("errorMessage", "error_description", "errorText", "message", "error")
_JSON_CODES = ("errorCode", "messageCode", "code")


def _json_messages(text: str) -> list[str]:
    """The error words (or codes) of a JSON block, searched a few levels deep."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return []
    found: list[str] = []
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack and len(found) < 5:
        item, depth = stack.pop()
        if isinstance(item, list) and depth < 4:
            stack.extend((value, depth + 1) for value in item)
        if not isinstance(item, dict):
            continue
        for key in _JSON_MESSAGES:
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                found.append(value)
        for key in _JSON_CODES:
            value = item.get(key)
            if isinstance(value, (str, int)) and str(value).strip():
                found.append(f"message code {value}")
        if depth < 4:
            stack.extend((value, depth + 1) for value in item.values())
    return found


def _strings(element: Any) -> Iterator[str]:
    """The text nodes under ``element`` a reader sees, in document order."""
    stack: list[Any] = [element]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
            continue
        if not isinstance(item.tag, str) or item.tag in _UNSEEN or _hidden_itself(item):
            continue  # a comment or processing instruction, or unseen content
        parts: list[Any] = [item.text] if item.text else []
        for child in item:
            parts.append(child)
            if child.tail:
                parts.append(child.tail)
        stack.extend(reversed(parts))


def _squeeze(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _hidden(element: Any) -> bool:
    """Whether ``element`` or one of its ancestors is hidden."""
    return any(_hidden_itself(node) for node in (element, *element.iterancestors()))


def _hidden_itself(element: Any) -> bool:
    if element.get("hidden") is not None:
        return True
    if str(element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = str(element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


_JS_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.DOTALL)


def js_unescape(text: str) -> str:
    """The content of a JavaScript string literal in a page's script (``\\xHH``,
    ``\\uHHHH`` and ``\\c`` undone)."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else match.group(3)

    return _JS_ESCAPE.sub(one, text)


def number(value: object, default: float) -> float:
    """A positive number from an IdP's JSON (a number, or a string of one), else
    ``default``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        found = float(value)
    except ValueError:
        return default
    return found if found > 0 else default
