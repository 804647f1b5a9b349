"""Loopback emulators of the IdPs samljit talks to (see each module), and shapes they share."""


def deep_json(levels: int = 200_000) -> bytes:
    """A JSON document nested ``levels`` deep (``{"a":{"a":…}}``): valid, small (about
    1 MB at the default), and deeper than Python's JSON reader can recurse."""
    return b'{"a":' * levels + b"1" + b"}" * levels
