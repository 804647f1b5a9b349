"""samljit.common.text.printable: network text shown as text, and the last line of defence in the
Terminal and the CLI's error printer."""

from __future__ import annotations

import io

import pytest

from samljit.common.terminal import Terminal
from samljit.common.text import has_controls, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain words, ünïcode ok", "plain words, ünïcode ok"),
        ("a\x1b]0;title\x07b", "a\\x1b]0;title\\x07b"),  # OSC: retitle the terminal
        ("x\x1b]52;c;ZXZpbA==\x07", "x\\x1b]52;c;ZXZpbA==\\x07"),  # OSC 52: clipboard
        ("bad\r\nLogged in: Admin", "bad\\r\\nLogged in: Admin"),  # a forged line
        ("\x9b2J\x85", "\\x9b2J\\x85"),  # C1 CSI and NEL
        ("abc\u202egnp.exe", "abc\\u202egnp.exe"),  # a bidirectional override
        ("tab\there\x7f", "tab\\there\\x7f"),
    ],
)
def test_printable_escapes_every_control_character(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert has_controls(raw) == (raw != shown)
    assert not has_controls(printable(raw))


def test_newlines_true_keeps_line_feed_and_tab_only() -> None:
    assert printable("one\ntwo\tthree\rfour\x1b[2K", newlines=True) == (
        "one\ntwo\tthree\\rfour\\x1b[2K"
    )


def test_terminal_escapes_what_reaches_it_but_keeps_its_own_colours() -> None:
    stream = io.StringIO()
    terminal = Terminal(interactive=False, stream=stream, colour=True)
    terminal.warn("IdP says \x1b]0;pwned\x07\rok")
    terminal.status("waiting \x1b[2K\r")
    text = stream.getvalue()
    assert "\x1b]0" not in text and "\x07" not in text
    assert "IdP says \\x1b]0;pwned\\x07\\rok" in text
    assert text.startswith("\x1b[33m")  # samljit's own style codes are still there
    assert "waiting \\x1b[2K\\r" in text
