"""The one way samljit makes an XML parser for data from the network.

Every parser refuses to resolve entities, never touches the network, loads no DTD, keeps
libxml2's size limits, and resolves any external reference to nothing (no file is read even
if a document slipped past the DTD checks). lxml is imported only when a parser is made.
"""

from __future__ import annotations

from typing import Any


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
