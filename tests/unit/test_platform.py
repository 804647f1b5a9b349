"""The platform layer (samljit.common.platform): the Windows and macOS implementations run
here on Linux wherever their logic can (paths from an injected environment, the lock and
replace retry policies against a fake ``msvcrt`` and a failing ``os.replace``, the private
file decisions, browser discovery in a fake file system), PowerShell completion's text, the
exit status ``exec`` passes on where it cannot replace itself, and the rule that nothing
outside the layer looks at the OS."""

from __future__ import annotations

import ast
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from samljit.common.platform import LockBusy, Platform, for_name, posix, windows
from samljit.common.platform.macos import MacOS

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "samljit" / "common" / "platform"
#: What only POSIX's ``os`` has (an AttributeError on Windows).
POSIX_OS = {
    "getuid",
    "geteuid",
    "getgid",
    "fchmod",
    "fchown",
    "O_NOFOLLOW",
    "O_NONBLOCK",
    "killpg",
    "setsid",
    "getpgid",
}
#: Modules only one OS has.
OS_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "msvcrt", "winreg"}


# -- nothing else looks at the OS -------------------------------------------------------------
def _os_checks(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (
                (node.value.id, node.attr) in (("os", "name"), ("sys", "platform"))
                or (node.value.id == "os" and node.attr in POSIX_OS)
            )
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno} import {n}"
            for n in names
            if n.split(".")[0] in OS_ONLY
        ]
    return found


def test_nothing_outside_the_platform_layer_looks_at_the_os() -> None:
    files = [*(ROOT / "samljit").rglob("*.py"), *(ROOT / "providers").rglob("*.py")]
    found = [f for path in files if LAYER not in path.parents for f in _os_checks(path)]
    assert found == []


def test_current_is_this_machines() -> None:
    from samljit.common.platform import current

    assert current().name == ("linux" if sys.platform.startswith("linux") else sys.platform)


# -- where things live ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "env", "cache", "state"),
    [
        ("linux", {"HOME": "/h"}, "/h/.cache/samljit", "/h/.local/state/samljit"),
        ("linux", {"HOME": "/h", "XDG_CACHE_HOME": "/c", "XDG_STATE_HOME": "/s"}, "/c/samljit",
         "/s/samljit"),
        ("darwin", {"HOME": "/h"}, "/h/Library/Caches/samljit",
         "/h/Library/Application Support/samljit"),
        ("darwin", {"HOME": "/h", "XDG_CACHE_HOME": "/c"}, "/c/samljit",
         "/h/Library/Application Support/samljit"),
        ("win32", {"LOCALAPPDATA": "/L"}, "/L/samljit/Cache", "/L/samljit/State"),
        ("win32", {"USERPROFILE": "/U"}, "/U/AppData/Local/samljit/Cache",
         "/U/AppData/Local/samljit/State"),
        ("win32", {"LOCALAPPDATA": "/L", "XDG_STATE_HOME": "/s"}, "/L/samljit/Cache",
         "/s/samljit"),
    ],
)  # fmt: skip
def test_directories(name: str, env: dict[str, str], cache: str, state: str) -> None:
    platform = for_name(name)
    assert (platform.cache_dir(env), platform.state_dir(env)) == (cache, state)


def test_macos_keeps_using_the_state_directory_of_earlier_versions(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    legacy = tmp_path / ".local" / "state" / "samljit"
    legacy.mkdir(parents=True)
    assert MacOS().state_dir(env) == str(legacy)
    (tmp_path / "Library" / "Application Support" / "samljit").mkdir(parents=True)
    assert MacOS().state_dir(env) == str(tmp_path / "Library" / "Application Support" / "samljit")


# -- Windows locks: msvcrt with bounded retries -----------------------------------------------
class FakeMsvcrt:
    LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

    def __init__(self, busy: int, error: int = errno.EACCES) -> None:
        self.busy, self.error = busy, error
        self.calls: list[tuple[int, int, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        self.calls.append((os.lseek(fd, 0, os.SEEK_CUR), mode, nbytes))
        if mode == self.LK_NBLCK and self.busy:
            self.busy -= 1
            raise OSError(self.error, "locked")


@pytest.fixture
def lock_fd(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path / "x.lock", os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"moved")  # the lock covers byte 0 wherever the file position is
    yield fd
    os.close(fd)


def test_windows_lock_retries_until_free(monkeypatch: pytest.MonkeyPatch, lock_fd: int) -> None:
    fake = FakeMsvcrt(busy=3)
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    slept: list[float] = []
    platform = for_name("win32", slept.append)
    platform.lock(lock_fd)
    platform.unlock(lock_fd)
    assert slept == [windows.LOCK_DELAY] * 3
    assert fake.calls == [(0, fake.LK_NBLCK, 1)] * 4 + [(0, fake.LK_UNLCK, 1)]


def test_windows_lock_wait_is_bounded(monkeypatch: pytest.MonkeyPatch, lock_fd: int) -> None:
    monkeypatch.setitem(sys.modules, "msvcrt", FakeMsvcrt(busy=10**9))
    monkeypatch.setattr(windows, "LOCK_ATTEMPTS", 5)
    slept: list[float] = []
    with pytest.raises(LockBusy):
        for_name("win32", slept.append).lock(lock_fd)
    assert len(slept) == 5
    assert isinstance(LockBusy(), OSError)  # callers handle it as any failed file operation


def test_windows_try_lock(monkeypatch: pytest.MonkeyPatch, lock_fd: int) -> None:
    monkeypatch.setitem(sys.modules, "msvcrt", FakeMsvcrt(busy=1))
    platform = for_name("win32", lambda _: None)
    assert platform.try_lock(lock_fd) is False
    assert platform.try_lock(lock_fd) is True
    monkeypatch.setitem(sys.modules, "msvcrt", FakeMsvcrt(busy=1, error=errno.EBADF))
    with pytest.raises(OSError, match="locked"):  # not "busy": an error
        platform.try_lock(lock_fd)


# -- Windows replace: retried on sharing violations, bounded ----------------------------------
def _refusing(times: int, winerror: int | None) -> tuple[list[tuple[str, str]], object]:
    done: list[tuple[str, str]] = []
    left = [times]

    def replace(source: str, target: str) -> None:
        if left[0]:
            left[0] -= 1
            exc = PermissionError(errno.EACCES, "in use")
            exc.winerror = winerror  # type: ignore[attr-defined]
            raise exc
        done.append((source, target))

    return done, replace


def test_windows_replace_retries_a_sharing_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    done, replace = _refusing(2, 32)
    monkeypatch.setattr(windows.os, "replace", replace)
    slept: list[float] = []
    for_name("win32", slept.append).replace("new", "old")
    assert done == [("new", "old")]
    assert slept == list(windows.REPLACE_DELAYS[:2])


def test_windows_replace_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    done, replace = _refusing(100, 32)
    monkeypatch.setattr(windows.os, "replace", replace)
    slept: list[float] = []
    with pytest.raises(PermissionError):
        for_name("win32", slept.append).replace("new", "old")
    assert slept == list(windows.REPLACE_DELAYS) and done == []


def test_windows_replace_does_not_retry_other_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    _, replace = _refusing(1, None)  # read-only target, a directory: no point waiting
    monkeypatch.setattr(windows.os, "replace", replace)
    slept: list[float] = []
    with pytest.raises(PermissionError):
        for_name("win32", slept.append).replace("new", "old")
    assert slept == []


# -- private files ----------------------------------------------------------------------------
def _stat(mode: int, uid: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


def test_posix_private_means_ours_and_closed() -> None:
    platform = for_name("linux")
    me = os.getuid()
    assert platform.is_private(_stat(0o100600, me))
    assert not platform.is_private(_stat(0o100640, me))
    assert not platform.is_private(_stat(0o100600, me + 1))


def test_windows_private_rests_on_the_profile_acl(tmp_path: Path) -> None:
    """No mode bits or owner in Windows' os.stat (files read 0o666, uid 0): the decision is
    the inherited ACL of %LOCALAPPDATA%, so samljit neither refuses nor chmods."""
    platform = for_name("win32")
    assert platform.is_private(_stat(0o100666, 0))
    loose = tmp_path / "d"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    platform.make_private_dir(str(loose))
    assert loose.stat().st_mode & 0o777 == 0o755
    for_name("linux").make_private_dir(str(loose))
    assert loose.stat().st_mode & 0o777 == 0o700


# -- browser discovery ------------------------------------------------------------------------
def _program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_windows_finds_edge_and_chrome_where_they_install(tmp_path: Path) -> None:
    env = {
        "PROGRAMFILES": str(tmp_path / "pf"),
        "PROGRAMFILES(X86)": str(tmp_path / "pf86"),
        "LOCALAPPDATA": str(tmp_path / "local"),
        "PATH": str(tmp_path / "bin"),
    }
    platform = for_name("win32")
    assert platform.find_browser("msedge", env) is None
    edge = _program(tmp_path / "pf86" / "Microsoft" / "Edge" / "Application" / "msedge.exe")
    chrome = _program(tmp_path / "local" / "Google" / "Chrome" / "Application" / "chrome.exe")
    assert platform.find_browser("msedge", env) == str(edge)
    assert platform.find_browser("chrome", env) == str(chrome)
    assert platform.find_browser("chromium", env) is None  # Chromium's own folder only ...
    on_path = _program(tmp_path / "bin" / "chrome.exe")
    assert platform.find_browser("chromium", env) == str(on_path)  # ... or chrome.exe on PATH
    assert "%PROGRAMFILES(X86)%\\Microsoft\\Edge\\Application\\msedge.exe" in (
        platform.browser_looked_for("msedge")
    )


def test_macos_finds_app_bundles(tmp_path: Path) -> None:
    platform = MacOS()
    platform.applications = str(tmp_path / "Applications")
    env = {"HOME": str(tmp_path / "home"), "PATH": str(tmp_path / "bin")}
    assert platform.find_browser("chromium", env) is None
    edge = _program(
        tmp_path / "home" / "Applications" / "Microsoft Edge.app" / "Contents" / "MacOS"
        / "Microsoft Edge"
    )  # fmt: skip
    assert platform.find_browser("chromium", env) == str(edge)  # the user's Applications
    chrome = _program(
        tmp_path / "Applications" / "Google Chrome.app" / "Contents" / "MacOS" / "Google Chrome"
    )
    assert platform.find_browser("chromium", env) == str(chrome)  # the system's, first
    assert platform.find_browser("chrome", env) == str(chrome)
    on_path = _program(tmp_path / "bin" / "chromium")
    assert platform.find_browser("chromium", env) == str(on_path)  # PATH before bundles


def test_linux_finds_browsers_on_path_only(tmp_path: Path) -> None:
    platform = for_name("linux")
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}
    _program(tmp_path / "Applications" / "Chromium.app" / "Contents" / "MacOS" / "Chromium")
    assert platform.find_browser("chromium", env) is None
    edge = _program(tmp_path / "bin" / "microsoft-edge")
    assert platform.find_browser("msedge", env) == str(edge)
    assert platform.browser_looked_for("chrome") == (
        "looked for google-chrome, google-chrome-stable on PATH"
    )


# -- the user's console and display -----------------------------------------------------------
def test_windows_console_is_conin_and_conout(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, str]] = []

    def pair(read: str, write: str) -> None:
        opened.append((read, write))

    monkeypatch.setattr(posix, "open_pair", pair)
    for_name("win32").console()
    for_name("linux").console()
    assert opened == [("CONIN$", "CONOUT$"), ("/dev/tty", "/dev/tty")]


def test_macos_opens_pages_with_open(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []

    def run(argv: list[str], **_: object) -> SimpleNamespace:
        ran.append(argv)
        return SimpleNamespace(returncode=0)

    monkeypatch.setattr(subprocess, "run", run)
    assert MacOS().open_url("file:///tmp/console.html") is True
    assert ran == [["open", "file:///tmp/console.html"]]


def test_displays() -> None:
    assert for_name("darwin").has_display({}) and for_name("win32").has_display({})
    assert not for_name("linux").has_display({})
    assert for_name("linux").has_display({"WAYLAND_DISPLAY": "wayland-0"})


def test_only_posix_replaces_the_process_on_exec() -> None:
    assert [for_name(n).exec_replaces_process for n in ("linux", "darwin", "win32")] == [
        True,
        True,
        False,
    ]
    assert isinstance(for_name("win32"), Platform)


# -- exec where the process cannot be replaced ------------------------------------------------
def test_exec_passes_the_childs_exit_status_on() -> None:
    from samljit.cli.commands.exec import run_child

    env = dict(os.environ)
    assert run_child([sys.executable, "-c", "raise SystemExit(7)"], env) == 7
    kill = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert run_child([sys.executable, "-c", kill], env) == 128 + 15


# -- completion powershell --------------------------------------------------------------------
def test_powershell_completion_text() -> None:
    from samljit.cli.commands.completion import script

    text = script("powershell")
    assert "Register-ArgumentCompleter -Native -CommandName samljit, samljit.exe" in text
    lines = text.splitlines()
    top = next(line for line in lines if line.startswith("  '' = @("))
    assert "'login'" in top and "'credential-process'" in top and "'--version'" in top
    login = next(line for line in lines if line.startswith("  'login' = @("))
    assert "'--mfa-token'" in login and "'--role'" in login
    assert "  'sandbox serve' = @(" in text  # sub-commands have their own options
    assert "  'script --shell' = @('bash', 'zsh', 'fish', 'powershell', 'cmd'" in text
    assert "'--idp-account'" in text and "SAMLJIT_CONFIG" in text
    assert "== SUPPRESS ==" not in text


# -- doctor where files have no modes ---------------------------------------------------------
@pytest.mark.parametrize(("name", "level"), [("linux", "fix"), ("win32", "ok")])
def test_doctor_asks_for_chmod_only_where_modes_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, level: str
) -> None:
    """Windows' os.stat shows every writable file as 0o666: no "chmod 600" to give there."""
    from samljit.tools import doctor

    monkeypatch.setattr(doctor, "current", lambda: for_name(name))
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAEXAMPLE\n")
    credentials.chmod(0o644)
    found: list[doctor.Finding] = []
    doctor.Doctor({"HOME": str(tmp_path)}, tmp_path / "config", found.append)._credentials_file(
        credentials
    )
    assert [f.level for f in found] == [level]
