"""Text from the network, made safe to show: the one escape function for the terminal and files.

An IdP page, a JSON ``message``, a SAML ``StatusMessage`` or an AWS error can carry control
characters: ESC and CSI/OSC sequences (retitle the terminal, erase a line, write the clipboard
with OSC 52), a carriage return or line feed that forges a whole line ("Logged in as …"), or
a bidirectional override that reorders what is shown. :func:`printable` replaces each with a
visible escape (``\\x1b``, ``\\n``, ``\\u202e``), so the text reads the same and does nothing.

Network text goes through :func:`printable` where it enters an error message, the terminal or
a file; the CLI's error printer and :class:`~samljit.common.terminal.Terminal` apply it once more
with ``newlines=True`` (samljit's own multi-line output keeps its line breaks) as the last line
of defence. Stdlib only: this module is on the start-up path.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

#: C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidirectional
#: formatting characters (embeddings, overrides, isolates, marks that reorder text).
_FORMAT = "\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}]")
#: The same, less tab and line feed (for text whose line breaks are samljit's own).
_UNSAFE_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\r``, ``\\n``).

    ``newlines=True`` keeps tab and line feed (for messages whose line breaks are legitimate);
    a carriage return is always escaped, as it can overwrite a line already shown."""
    pattern = _UNSAFE_KEEP_LINES if newlines else _UNSAFE
    return pattern.sub(_escape, text)


def has_controls(text: str) -> bool:
    """Whether :func:`printable` would change ``text``."""
    return _UNSAFE.search(text) is not None


def one_line(text: str) -> str:
    """``text`` for one line of a message: every character that is not printable (controls,
    line breaks, bidirectional and other format characters) as a space."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
