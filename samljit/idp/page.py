"""Reading the IdP's final HTML page: the SAMLResponse, or what the page said instead."""

from __future__ import annotations

import re
from typing import Any

from samljit.errors import AssertionFormatError
from samljit.redact import redact_url

_SPACE = re.compile(r"\s+")


def parse_html(html: str | bytes) -> Any:
    import lxml.html

    if not html.strip():
        return lxml.html.fromstring("<html></html>")
    try:
        return lxml.html.document_fromstring(html)
    except Exception:  # lxml raises ParserError/ValueError on hopeless input
        return lxml.html.fromstring("<html></html>")


def saml_response(html: str | bytes, *, url: str, step: str) -> str:
    """The value of the page's ``SAMLResponse`` input (entities decoded), or a clear error."""
    doc = parse_html(html)
    for element in doc.iter("input"):
        if (element.get("name") or "") == "SAMLResponse":
            value = (element.get("value") or "").strip()
            if value:
                return value
    said = visible_text(doc)
    raise AssertionFormatError(
        f"{step}: the page at {redact_url(url)} holds no SAMLResponse"
        + (f"; it says: {said}" if said else ""),
        hint="check that your user is assigned to the AWS app at the IdP",
    )


def visible_text(doc: Any, limit: int = 200) -> str:
    """The title and body text of a page, squeezed onto one line."""
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    title = " ".join(doc.xpath("//title/text()")).strip()
    body = doc.find("body")
    text = body.text_content() if body is not None else doc.text_content()
    text = _SPACE.sub(" ", text).strip()
    if title and not text.startswith(title):
        text = f"{title}: {text}" if text else title
    return text[:limit] + ("…" if len(text) > limit else "")
