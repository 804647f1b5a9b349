"""The dialog prompt (``prompt = auto|zenity``): ``credential-process`` run the way an IDE runs
it — no terminal at all (stdin and stdout pipes, its own session, so no ``/dev/tty``) but a
display — asks in the real zenity, under Xvfb, typed into with xdotool as a user would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import PASSWORD, account_config, fresh_code
from tests.support.cli import Cli
from tests.support.display import xvfb
from tests.support.moto_sts import StsView
from tests.support.tools import requires_tool

if TYPE_CHECKING:
    from samljit.common.dialog import DialogTerminal

pytestmark = [requires_tool("zenity"), requires_tool("Xvfb"), requires_tool("xdotool")]

#: How long a dialog may take to appear or go (a bound on waiting, not a pace).
DEADLINE = 30.0


@pytest.fixture
def display() -> Iterator[str]:
    """A private X server for the dialogs."""
    yield from xvfb("1024x768x24")


@dataclass
class Dialog:
    """One open zenity of the samljit run: its process and its command line."""

    pid: int
    argv: list[str]


def running_zenities() -> Iterator[tuple[Dialog, int]]:
    """Every zenity process, with its session, read from /proc as ``ps`` does."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            session = os.getsid(int(entry.name))
        except OSError:
            continue
        if os.path.basename(argv[0]) == b"zenity":
            dialog = Dialog(int(entry.name), [part.decode() for part in argv if part])
            yield dialog, session


def zenity_of(session: int, seen: set[int]) -> Dialog:
    """The next zenity of the samljit run whose session is ``session`` (not one in ``seen``),
    once it is running."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        for dialog, sid in running_zenities():
            if sid == session and dialog.pid not in seen:
                seen.add(dialog.pid)
                return dialog
        time.sleep(0.05)  # polling /proc for a condition, bounded by the deadline
    raise AssertionError("no zenity dialog appeared")


def xdotool(display: str, *args: str) -> str:
    done = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=True,
    )
    return done.stdout


def answer(display: str, dialog: Dialog, keys: list[str], text: str | None = None) -> str:
    """Focus ``dialog``'s window (found by its pid once mapped), type ``text``, press
    ``keys``; then wait until the dialog has gone. Its command line as ``ps`` showed it with
    the answer typed in."""
    window = xdotool(display, "search", "--sync", "--onlyvisible", "--pid", str(dialog.pid))
    window = window.split()[0]
    xdotool(display, "windowfocus", "--sync", window)
    if text is not None:
        xdotool(display, "type", "--delay", "5", text)
    typed = Path(f"/proc/{dialog.pid}/cmdline").read_bytes().decode(errors="replace")
    xdotool(display, "key", *keys)
    deadline = time.monotonic() + DEADLINE
    while Path(f"/proc/{dialog.pid}").exists():
        stat = Path(f"/proc/{dialog.pid}/stat").read_text(errors="replace")
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            break  # ended, not yet reaped
        assert time.monotonic() < deadline, "the dialog did not close"
        time.sleep(0.05)
    return typed


def start(cli: Cli, display: str, **env: str) -> subprocess.Popen[str]:
    return cli.popen(
        "credential-process",
        "-a",
        "production",
        env={"DISPLAY": display, "SAMLJIT_PASSWORD": "", **env},
    )


def test_password_and_code_typed_into_zenity_reach_samljit(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView, display: str
) -> None:
    cli.write_config(account_config(jumpcloud))
    process = start(cli, display)
    seen: set[int] = set()
    asked = zenity_of(process.pid, seen)
    assert "--hide-text" in asked.argv
    assert not any(PASSWORD in part for part in asked.argv)
    answer(display, asked, ["Return"], PASSWORD)
    code = fresh_code(cli)
    asked = zenity_of(process.pid, seen)
    answer(display, asked, ["Return"], code)
    out, err = process.communicate(timeout=60)
    cli.outputs.append(err)
    assert process.returncode == 0, err
    data = json.loads(out)
    assert data["Version"] == 1
    cli.secrets.update([data["SecretAccessKey"], data["SessionToken"]])


def test_no_secret_is_on_the_dialog_command_line(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView, display: str
) -> None:
    cli.write_config(account_config(jumpcloud))
    process = start(cli, display, SAMLJIT_PROMPT="zenity")
    seen: set[int] = set()
    shown: list[str] = []
    asked = zenity_of(process.pid, seen)
    shown.append("\0".join(asked.argv))
    shown.append(answer(display, asked, ["Return"], PASSWORD))
    code = fresh_code(cli)
    asked = zenity_of(process.pid, seen)
    shown.append("\0".join(asked.argv))
    shown.append(answer(display, asked, ["Return"], code))
    out, err = process.communicate(timeout=60)
    cli.outputs.append(err)
    assert process.returncode == 0, err
    assert all(line.startswith("zenity\0") for line in shown), shown
    for secret in (PASSWORD, code):
        assert not any(secret in line for line in shown)
    data = json.loads(out)
    cli.secrets.update([data["SecretAccessKey"], data["SessionToken"]])


def test_cancel_in_the_dialog_is_exit_130(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView, display: str
) -> None:
    cli.write_config(account_config(jumpcloud))
    process = start(cli, display)
    asked = zenity_of(process.pid, set())
    answer(display, asked, ["Escape"])
    out, err = process.communicate(timeout=60)
    cli.outputs.extend([out, err])
    assert process.returncode == 130, err
    assert out == ""


def test_a_named_dialog_without_a_display_is_exit_2(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    cli.write_config(account_config(jumpcloud, extra="prompt = zenity\n"))
    ran = cli.run("credential-process", "-a", "production", env={"SAMLJIT_PASSWORD": ""})
    assert ran.returncode == 2, ran.stderr
    assert "there is no display for zenity (prompt = zenity)" in ran.stderr
    assert ran.stdout == ""


def test_a_notice_shows_without_blocking_and_closes_when_the_wait_ends(
    display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A number to match in the real zenity: the login goes on while it is open (notice
    returns), its text is not on the command line, and the end of the countdown closes it."""
    monkeypatch.setenv("DISPLAY", display)
    said: list[str] = []
    for attempt in range(3):  # a zenity that dies on its own start is retried, and shown
        stderr = tmp_path / f"zenity-{attempt}.err"
        terminal, stream, shown = show_notice("Pick 73 in the app", stderr)
        if window_of(display, shown):
            break
        said.append(f"zenity exited {shown.returncode}: {stderr.read_text()!r}")
    else:
        raise AssertionError("the notice never showed: " + "; ".join(said))
    argv = Path(f"/proc/{shown.pid}/cmdline").read_bytes().split(b"\0")  # as ps shows it
    assert os.path.basename(argv[0]) == b"zenity"
    assert not any(b"73" in part for part in argv)
    terminal.status("Waiting for the app 30 s left")
    terminal.clear_status()  # what wait_until does when the wait ends
    assert shown.returncode is not None
    assert not Path(f"/proc/{shown.pid}").exists()
    assert "Pick 73 in the app" in stream.getvalue()


def show_notice(
    text: str, stderr: Path
) -> tuple[DialogTerminal, io.StringIO, subprocess.Popen[str]]:
    """A zenity :class:`DialogTerminal` that has shown ``text`` as a notice (its stderr line
    and its dialog), with the dialog's process; what zenity says on stderr goes to ``stderr``."""
    from samljit.common.dialog import DialogTerminal, Zenity

    spawned: list[subprocess.Popen[str]] = []

    def spawn(argv: list[str], **options: Any) -> subprocess.Popen[str]:
        with stderr.open("w") as errors:
            shown: subprocess.Popen[str] = subprocess.Popen(argv, **{**options, "stderr": errors})
        spawned.append(shown)
        return shown

    stream = io.StringIO()
    terminal = DialogTerminal(Zenity(), stream=stream, spawner=spawn)
    terminal.notice(text)  # returns with the dialog open
    (shown,) = spawned
    return terminal, stream, shown


def window_of(display: str, shown: subprocess.Popen[str]) -> bool:
    """Whether ``shown`` maps a visible window (waited for); False when it exits first."""
    deadline = time.monotonic() + DEADLINE
    while shown.poll() is None:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--pid", str(shown.pid)],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        if found.stdout.split():
            return True
        assert time.monotonic() < deadline, "the notice's window did not appear"
        time.sleep(0.05)  # polling the X server for a condition, bounded by the deadline
    return False
