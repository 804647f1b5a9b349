"""The one way samljit makes an XML parser for data from the network.

Every parser refuses to resolve entities, never touches the network, loads no DTD, keeps
libxml2's size limits, and resolves any external reference to nothing (no file is read even
if a document slipped past the DTD checks). lxml is imported only when a parser is made.

:func:`parse_untrusted` is the one parse of a whole document from the network (a SAML
response, an STS answer): DTDs refused before and after parsing, size and depth bounded.
"""

from __future__ import annotations

import re
from typing import Any

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UntrustedXmlError(ValueError):
    """Why :func:`parse_untrusted` refused a document: ``kind`` is ``size``, ``empty``,
    ``dtd``, ``depth`` or ``syntax`` (``detail``: the parser's message, or the size); the
    caller words it for its stage."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def parse_untrusted(
    content: bytes,
    *,
    max_bytes: int | None = None,
    max_depth: int | None = None,
    **options: Any,
) -> Any:
    """The root element of ``content``, parsed by :func:`safe_parser` (plus ``options``).

    Refused with :class:`UntrustedXmlError`: more than ``max_bytes``, blank, a DTD or entity
    declaration (seen in the bytes, or by the parser in another encoding), not well-formed,
    or nested deeper than ``max_depth`` elements."""
    from lxml import etree

    if max_bytes is not None and len(content) > max_bytes:
        raise UntrustedXmlError("size", str(len(content)))
    if not content.strip():
        raise UntrustedXmlError("empty")
    if _DTD.search(content):
        raise UntrustedXmlError("dtd")
    try:
        root = etree.fromstring(content, parser=safe_parser(**options))
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg)
        raise UntrustedXmlError(
            "depth" if "depth" in message.lower() else "syntax", message
        ) from None
    except ValueError as exc:
        raise UntrustedXmlError("syntax", str(exc)) from None
    if root is None:
        raise UntrustedXmlError("syntax", "no root element")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UntrustedXmlError("dtd")
    if max_depth is not None and _depth(root, max_depth) > max_depth:
        raise UntrustedXmlError("depth")
    return root


def _depth(root: Any, limit: int) -> int:
    """How deep ``root`` nests, counting no further than one past ``limit``."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            return level
        stack.extend((child, level + 1) for child in element)
    return deepest


def safe_parser(**options: Any) -> Any:
    """An ``lxml.etree.XMLParser`` with samljit's safe settings plus ``options``
    (e.g. ``remove_pis=True``; never anything that loads or expands)."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        **options,
    )
    return load_nothing(parser)


def load_nothing(parser: Any) -> Any:
    """Make ``parser`` resolve every external DTD or entity to nothing (no file, no network),
    whatever its other options say; returns it."""
    from lxml import etree

    class LoadNothing(etree.Resolver):  # type: ignore[misc]
        def resolve(self, url: str, pubid: str, context: Any) -> Any:
            return self.resolve_string("", context)  # (resolve_empty falls back to loading)

    parser.resolvers.add(LoadNothing())
    return parser
