"""The dialog prompt's choices and command lines (samljit.common.dialog): which program
``auto`` picks, what each program is run with (never an answer, a notice or a secret on the
command line), and how a cancel or a failure ends. The real zenity is in
tests/e2e/test_dialog.py."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from samljit.common.dialog import (
    PROGRAMS,
    Choice,
    DialogTerminal,
    Kdialog,
    Osascript,
    Zenity,
    choose_prompt,
)
from samljit.common.errors import ConfigError, UsageError
from samljit.config import accounts

SECRET = "hunter2-Secret-42"


def which_of(*installed: str) -> Any:
    return lambda name: f"/usr/bin/{name}" if name in installed else None


X11 = {"DISPLAY": ":0"}


@pytest.mark.parametrize(
    ("prompt", "terminal", "env", "platform", "installed", "expected"),
    [
        # a terminal wins, whatever is installed
        ("auto", True, X11, "linux", ("zenity",), Choice()),
        ("zenity", True, X11, "linux", ("zenity",), Choice()),
        # prompt = terminal never opens a dialog
        ("terminal", False, X11, "linux", ("zenity",), Choice()),
        # auto: the first installed of zenity, kdialog on Linux, with a display
        ("auto", False, X11, "linux", ("zenity", "kdialog"), Choice("zenity")),
        ("auto", False, X11, "linux", ("kdialog",), Choice("kdialog")),
        ("auto", False, {"WAYLAND_DISPLAY": "wayland-0"}, "linux", ("zenity",), Choice("zenity")),
        ("auto", False, {}, "linux", ("zenity",), Choice()),
        ("auto", False, {"DISPLAY": ""}, "linux", ("zenity",), Choice()),
        ("auto", False, X11, "linux", ("osascript",), Choice()),
        ("auto", False, X11, "linux", (), Choice()),
        # macOS: osascript, always a display
        ("auto", False, {}, "darwin", ("osascript", "zenity"), Choice("osascript")),
        ("auto", False, {}, "darwin", ("zenity",), Choice()),
        # a named program that cannot run says why (a usage error at the first question)
        (
            "zenity",
            False,
            X11,
            "linux",
            ("kdialog",),
            Choice(problem="zenity (prompt = zenity) is not installed"),
        ),
        (
            "kdialog",
            False,
            {},
            "linux",
            ("kdialog",),
            Choice(problem="there is no display for kdialog (prompt = kdialog)"),
        ),
        ("kdialog", False, X11, "linux", ("zenity", "kdialog"), Choice("kdialog")),
        ("osascript", False, {}, "darwin", ("osascript",), Choice("osascript")),
        (
            "osascript",
            False,
            X11,
            "linux",
            (),
            Choice(problem="osascript (prompt = osascript) is not installed"),
        ),
    ],
)
def test_choose_prompt(
    prompt: str,
    terminal: bool,
    env: dict[str, str],
    platform: str,
    installed: tuple[str, ...],
    expected: Choice,
) -> None:
    got = choose_prompt(
        prompt, has_terminal=terminal, env=env, platform=platform, which=which_of(*installed)
    )
    assert got == expected


class Runner:
    """subprocess.run as a dialog program would answer: records every command line."""

    def __init__(self, *answers: tuple[int, str, str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, argv: Sequence[str], *, input: str, **_: Any) -> Any:
        self.calls.append((list(argv), input))
        code, out, err = self.answers.pop(0)
        return subprocess.CompletedProcess(list(argv), code, out, err)


def terminal(program: str, runner: Runner, **kwargs: Any) -> DialogTerminal:
    return DialogTerminal(PROGRAMS[program](), stream=io.StringIO(), runner=runner, **kwargs)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_a_typed_secret_comes_back_on_stdout_never_on_the_command_line(program: str) -> None:
    runner = Runner((0, SECRET + "\n", ""))
    got = terminal(program, runner).ask_secret("Password for alice", what="the IdP password")
    assert got == SECRET
    (argv, _stdin), *_ = runner.calls
    assert argv[0] == program
    assert not any(SECRET in part for part in argv)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_an_empty_answer_takes_the_default_the_question_shows(program: str) -> None:
    runner = Runner((0, "\n", ""))
    got = terminal(program, runner).ask("Username", what="a username", default="alice")
    assert got == "alice"
    argv, stdin = runner.calls[0]
    assert "Username [alice]" in "\0".join(argv) + stdin  # shown as the terminal shows it


def test_the_secret_dialogs_hide_what_is_typed() -> None:
    assert "--hide-text" in Zenity().secret("Password").argv
    assert "--password" in Kdialog().secret("Password").argv
    run = Osascript().secret("Password")
    assert run.argv == ["osascript"] and "with hidden answer" in run.stdin
    assert "hidden" not in Osascript().entry("Code").stdin


@pytest.mark.parametrize("program", ["zenity", "osascript"])
def test_notices_and_options_go_through_stdin(program: str) -> None:
    dialog = PROGRAMS[program]()
    notice = dialog.notice(f"Pick {SECRET} in the app")
    assert SECRET in notice.stdin and not any(SECRET in part for part in notice.argv)
    choice = dialog.choice("Choose a role", ["admin", SECRET])
    assert SECRET in choice.stdin and not any(SECRET in part for part in choice.argv)


def test_kdialog_notice_reads_its_text_from_stdin() -> None:
    run = Kdialog().notice(f"Pick {SECRET} in the app")
    assert run.argv[-2:] == ["--textbox", "/dev/stdin"]
    assert SECRET in run.stdin and not any(SECRET in part for part in run.argv)


@pytest.mark.parametrize(
    ("program", "output"),
    [("zenity", "2\n"), ("kdialog", "2\n"), ("osascript", "2. beta\n")],
)
def test_a_choice_comes_back_as_its_number(program: str, output: str) -> None:
    runner = Runner((0, output, ""))
    assert terminal(program, runner).choose("Pick", ["alpha", "beta"], what="a role") == 1


def test_osascript_quotes_text_as_applescript_strings() -> None:
    script = Osascript().entry('Say "hi" \\ there').stdin
    assert 'display dialog "Say \\"hi\\" \\\\ there"' in script


def test_zenity_shows_markup_characters_as_written() -> None:
    argv = Zenity().entry("Code for <b>&me</b>").argv
    assert argv[argv.index("--text") + 1] == "Code for &lt;b&gt;&amp;me&lt;/b&gt;"


@pytest.mark.parametrize(
    ("program", "code", "stderr"),
    [
        ("zenity", 1, ""),
        ("kdialog", 1, ""),
        ("osascript", 1, "execution error: User canceled. (-128)\n"),
    ],
)
def test_cancel_is_an_interrupt(program: str, code: int, stderr: str) -> None:
    runner = Runner((code, "", stderr))
    with pytest.raises(KeyboardInterrupt):
        terminal(program, runner).ask("Code", what="a code")


@pytest.mark.parametrize(
    ("program", "code", "stderr", "line"),
    [
        (
            "zenity",
            1,
            "Gtk-WARNING **: cannot open display: :9\n",
            "zenity could not show a dialog (exit 1): Gtk-WARNING **: cannot open display: :9",
        ),
        ("zenity", 255, "", "zenity could not show a dialog (exit 255)"),
        (
            "osascript",
            1,
            "syntax error: oops\x1b[31m\n",
            "osascript could not show a dialog (exit 1): syntax error: oops [31m",
        ),
    ],
)
def test_a_dialog_that_fails_is_a_usage_error(
    program: str, code: int, stderr: str, line: str
) -> None:
    runner = Runner((code, "", stderr))
    with pytest.raises(UsageError) as raised:
        terminal(program, runner).ask_secret("Password", what="the IdP password")
    assert str(raised.value) == line


def test_a_program_that_cannot_start_is_a_usage_error() -> None:
    def missing(argv: Sequence[str], **_: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory")

    dialog = DialogTerminal(Zenity(), stream=io.StringIO(), runner=missing)
    with pytest.raises(UsageError, match="cannot run zenity: No such file or directory"):
        dialog.ask("Code", what="a code")


class Shown:
    """A notice dialog (subprocess.Popen) that stays open until closed."""

    def __init__(self, argv: Sequence[str], **_: Any) -> None:
        self.argv = list(argv)
        self.stdin = io.StringIO()
        self.closed = False

    def poll(self) -> int | None:
        return 0 if self.closed else None

    def terminate(self) -> None:
        self.closed = True

    def wait(self, timeout: float) -> int:
        return 0

    def kill(self) -> None:
        self.closed = True


def test_a_notice_does_not_block_and_closes_when_the_wait_ends() -> None:
    shown: list[Shown] = []

    def spawn(argv: Sequence[str], **kwargs: Any) -> Shown:
        shown.append(Shown(argv, **kwargs))
        return shown[-1]

    stream = io.StringIO()
    dialog = DialogTerminal(Zenity(), stream=stream, runner=Runner(), spawner=spawn)
    dialog.notice("Pick 42 in the app")
    assert len(shown) == 1 and not shown[0].closed
    assert "42" not in " ".join(shown[0].argv)
    dialog.info("still waiting")  # a line before the countdown keeps it open
    assert not shown[0].closed
    dialog.status("Waiting 30 s left")
    dialog.clear_status()  # what wait_until does when the wait ends
    assert shown[0].closed
    assert "Pick 42 in the app" in stream.getvalue()


def test_a_question_closes_an_open_notice() -> None:
    shown: list[Shown] = []

    def spawn(argv: Sequence[str], **kwargs: Any) -> Shown:
        shown.append(Shown(argv, **kwargs))
        return shown[-1]

    dialog = DialogTerminal(
        Zenity(), stream=io.StringIO(), runner=Runner((0, "123456\n", "")), spawner=spawn
    )
    dialog.notice("Approve code 12 on the phone")
    assert dialog.ask("Code", what="a code") == "123456"
    assert shown[0].closed


def _config(tmp_path: Path, extra: str) -> Any:
    path = tmp_path / "config"
    path.write_text(f"[work]\nprovider = JumpCloud\n{extra}")
    return accounts.load(path), path


def test_prompt_key_env_over_file_and_checked(tmp_path: Path) -> None:
    cfg, path = _config(tmp_path, "prompt = Zenity\n")
    assert accounts.resolve_account(cfg, "work", path=path, env={}).prompt == "zenity"
    got = accounts.resolve_account(cfg, "work", path=path, env={"SAMLJIT_PROMPT": "kdialog"})
    assert got.prompt == "kdialog"
    cfg, path = _config(tmp_path, "")
    assert accounts.resolve_account(cfg, "work", path=path, env={}).prompt == "auto"
    cfg, path = _config(tmp_path, "prompt = yad\n")
    with pytest.raises(ConfigError) as raised:
        accounts.resolve_account(cfg, "work", path=path, env={})
    assert str(raised.value) == (
        "prompt of account 'work' must be one of auto, terminal, zenity, kdialog, osascript, "
        "not 'yad'"
    )
    with pytest.raises(ConfigError, match="SAMLJIT_PROMPT must be one of auto, terminal"):
        accounts.resolve_account(cfg, "work", path=path, env={"SAMLJIT_PROMPT": "xmessage"})


def test_idp_text_cannot_break_out_of_an_applescript_string() -> None:
    hostile = 'Push" & (do shell script "id") & "\\'
    script = Osascript().choice("Choose a factor", [hostile]).stdin
    assert '"1. Push\\" & (do shell script \\"id\\") & \\"\\\\"' in script
    outside, inside, escaped = [], False, False  # AppleScript's own reading of the literals
    for char in script:
        if inside:
            inside = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            inside = True
        else:
            outside.append(char)
    assert "shell" not in "".join(outside)
