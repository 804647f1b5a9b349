"""Colour: only on a terminal, never with NO_COLOR or TERM=dumb, and the plain text is the
same with colour off."""

from __future__ import annotations

import io

import pytest

from samljit.common.terminal import Terminal, colour_enabled, style


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_style_wraps_only_when_enabled() -> None:
    assert style("Logged in", "success", enabled=True) == "\x1b[1;32mLogged in\x1b[0m"
    assert style("Logged in", "success", enabled=False) == "Logged in"
    assert style("x", "no-such-style", enabled=True) == "x"
    assert style("", "warn", enabled=True) == ""


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: set and not empty
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_colour_enabled(env: dict[str, str], tty: bool, expected: bool) -> None:
    stream = FakeTty() if tty else io.StringIO()
    assert colour_enabled(stream, env) is expected


def test_terminal_lines_plain_without_colour_and_styled_with() -> None:
    plain = io.StringIO()
    terminal = Terminal(interactive=False, stream=plain, colour=False)
    terminal.success("Logged in: RO in acme (1); profile [p] valid until 10:00 UTC (59 min left).")
    terminal.warn("keyring missing")
    assert plain.getvalue() == (
        "Logged in: RO in acme (1); profile [p] valid until 10:00 UTC (59 min left).\n"
        "samljit: warning: keyring missing\n"
    )
    coloured = FakeTty()
    terminal = Terminal(
        interactive=False, stream=coloured, colour=True, scrub=lambda t: t.replace("s3cret", "***")
    )
    terminal.success("done s3cret")
    terminal.warn("careful")
    assert coloured.getvalue() == (
        "\x1b[1;32mdone ***\x1b[0m\n\x1b[33msamljit: warning: careful\x1b[0m\n"
    )
    quiet = io.StringIO()
    Terminal(interactive=False, stream=quiet, quiet=True).success("nothing")
    assert quiet.getvalue() == ""
