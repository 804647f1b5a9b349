"""Where samljit keeps things: the user cache and state directories, and the file-name-safe
key of an entry in them (the credentials cache, the IdP sessions, the audit log, a
provider's per-account state all use these).

On the start-up path: builtins only (``base64`` is imported by :func:`entry_key` alone)."""

from samljit.common.platform import current

TYPE_CHECKING = False  # typing costs more to import than this whole module
if TYPE_CHECKING:
    from collections.abc import Mapping


def cache_dir(env: "Mapping[str, str]") -> str:
    """``$XDG_CACHE_HOME/samljit``, else the platform's (``~/.cache``, ``~/Library/Caches``,
    ``%LOCALAPPDATA%``)."""
    return current().cache_dir(env)


def state_dir(env: "Mapping[str, str]") -> str:
    """``$XDG_STATE_HOME/samljit``, else the platform's (``~/.local/state``,
    ``~/Library/Application Support``, ``%LOCALAPPDATA%``)."""
    return current().state_dir(env)


def entry_key(*parts: str) -> str:
    """A file-name-safe key naming the parts exactly (no hashing: hashlib costs 3 ms)."""
    import base64

    raw = "\0".join(parts).encode("utf-8")
    encoded = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    if len(encoded) <= 180:
        return encoded
    import hashlib  # long names only

    return "h" + hashlib.sha256(raw).hexdigest()


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")


def safe_name(name: str) -> str:
    """``name`` as a directory name: itself when it is plain (letters, digits, ``_.@-``, not
    starting with one of the four), else its :func:`entry_key`."""
    plain = name[:1].isalnum() and name.isascii() and all(c in _NAME_CHARS for c in name)
    return name if plain else entry_key(name)
