"""The text of `samljit script --shell powershell` and `--shell cmd` (pwsh and cmd.exe are
not installed where the suite runs; tests/e2e/test_jit.py sources the POSIX shells' output
with the real shells)."""

from __future__ import annotations

import pytest

from samljit.sinks.shells import render


def test_powershell_lines_quote_with_doubled_single_quotes() -> None:
    text = render("powershell", {"AWS_SESSION_TOKEN": "a'b$c`d"}, ("AWS_PROFILE",))
    assert text == (
        "Remove-Item Env:\\AWS_PROFILE -ErrorAction SilentlyContinue\n"
        "$Env:AWS_SESSION_TOKEN = 'a''b$c`d'\n"
    )


@pytest.mark.parametrize("value", ['a"b', "a%PATH%b", "a\rb", "a\nb"])
def test_cmd_refuses_what_cmd_exe_cannot_take(value: str) -> None:
    with pytest.raises(ValueError, match=r"AWS_SESSION_TOKEN holds a character cmd\.exe cannot"):
        render("cmd", {"AWS_SESSION_TOKEN": value})
