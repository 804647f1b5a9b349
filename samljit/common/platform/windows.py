"""Windows: ``msvcrt.locking`` with bounded retries, ``os.replace`` retried on sharing
violations, the console through ``CONIN$``/``CONOUT$``, ``%LOCALAPPDATA%``, Edge and Chrome
in their install folders, and no POSIX modes.

Private files: Windows has no mode bits (``os.stat`` reports only the read-only flag, and
``st_uid`` is 0). samljit's files live under ``%LOCALAPPDATA%`` (in the user's profile), whose
inherited ACL grants access to the user, SYSTEM and the Administrators only; samljit relies on
that ACL and sets none itself (see docs/security.md).
``msvcrt`` is imported where a lock is taken, never at import time."""

from __future__ import annotations

import errno
import os

from samljit.common.platform import LockBusy, Platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

#: Lock retries: ``msvcrt`` has no blocking lock that waits for good, so a wait is polled
#: every LOCK_DELAY seconds, LOCK_ATTEMPTS times (10 minutes), then :class:`LockBusy`.
LOCK_DELAY = 0.05
LOCK_ATTEMPTS = 12_000
#: ``os.replace`` retries when another process (an antivirus, a backup, an editor, a second
#: samljit reading the file) has the target open without FILE_SHARE_DELETE.
REPLACE_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
#: The Windows error codes of a sharing violation, access denied while a file is open, and a
#: lock violation.
SHARING_ERRORS = frozenset({5, 32, 33})

#: Where Edge, Chrome and Chromium install themselves: (environment variable, path under it).
INSTALLS: dict[str, tuple[tuple[str, str], ...]] = {
    "chrome": (
        ("PROGRAMFILES", r"Google\Chrome\Application\chrome.exe"),
        ("PROGRAMFILES(X86)", r"Google\Chrome\Application\chrome.exe"),
        ("LOCALAPPDATA", r"Google\Chrome\Application\chrome.exe"),
    ),
    "msedge": (
        ("PROGRAMFILES(X86)", r"Microsoft\Edge\Application\msedge.exe"),
        ("PROGRAMFILES", r"Microsoft\Edge\Application\msedge.exe"),
        ("LOCALAPPDATA", r"Microsoft\Edge\Application\msedge.exe"),
    ),
    "chromium": (("LOCALAPPDATA", r"Chromium\Application\chrome.exe"),),
}
#: The same programs by name on ``PATH``.
PATH_NAMES = {
    "chromium": ("chromium.exe", "chrome.exe", "msedge.exe"),
    "chrome": ("chrome.exe",),
    "msedge": ("msedge.exe",),
}


class Windows(Platform):
    name = "win32"
    open_flags = getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0)
    appends_atomically = False
    read_flags = getattr(os, "O_BINARY", 0)
    exec_replaces_process = False  # os.execv* starts a new process and exits at once
    has_modes = False  # os.stat shows 0o666 or 0o444 (read-only) whatever the ACL says
    browser_trust_via_nss = False

    def _msvcrt(self) -> Any:
        import importlib

        return importlib.import_module("msvcrt")  # only Windows has it

    def try_lock(self, fd: int) -> bool:
        msvcrt = self._msvcrt()
        os.lseek(fd, 0, os.SEEK_SET)  # the lock covers one byte from the file position
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLK):
                return False
            raise
        return True

    def lock(self, fd: int) -> None:
        for _ in range(LOCK_ATTEMPTS):
            if self.try_lock(fd):
                return
            self.sleep(LOCK_DELAY)
        raise LockBusy(f"the lock was held for over {LOCK_ATTEMPTS * LOCK_DELAY:.0f} seconds")

    def unlock(self, fd: int) -> None:
        msvcrt = self._msvcrt()
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def replace(self, source: str, target: str) -> None:
        for delay in (*REPLACE_DELAYS, None):
            try:
                os.replace(source, target)
                return
            except PermissionError as exc:
                if delay is None or getattr(exc, "winerror", None) not in SHARING_ERRORS:
                    raise
            self.sleep(delay)

    def set_mode(self, fd: int, mode: int) -> None:
        """No modes on Windows: the directory's inherited ACL protects the file."""

    def is_ours(self, info: os.stat_result) -> bool:
        return True  # no owner in os.stat; the profile's ACL keeps others out

    def is_private(self, info: os.stat_result) -> bool:
        return True

    def make_private_dir(self, path: str) -> None:
        """Nothing to tighten: the directory inherits the ACL of the user's profile."""

    def own_cache_dir(self, env: Mapping[str, str]) -> str:
        return os.path.join(_local_app_data(env), "samljit", "Cache")

    def own_state_dir(self, env: Mapping[str, str]) -> str:
        return os.path.join(_local_app_data(env), "samljit", "State")

    def console(self) -> tuple[IO[str], IO[str]] | None:
        from samljit.common.platform.posix import open_pair

        return open_pair("CONIN$", "CONOUT$")

    def open_url(self, url: str) -> bool:
        try:
            os.startfile(url)  # type: ignore[attr-defined]  # the default browser
        except OSError:
            return False
        return True

    def browser_candidates(self, browser_type: str, env: Mapping[str, str]) -> list[str]:
        found = [
            _join(base, relative)
            for variable, relative in INSTALLS[browser_type]
            if (base := env.get(variable))
        ]
        return [*found, *PATH_NAMES[browser_type]]

    def browser_looked_for(self, browser_type: str) -> str:
        places = ", ".join(f"%{v}%\\{p}" for v, p in INSTALLS[browser_type])
        return f"looked in {places} and for {', '.join(PATH_NAMES[browser_type])} on PATH"


def _join(base: str, relative: str) -> str:
    """``base`` and a backslash-separated ``relative`` path with the running OS's separator
    (so the rules can be tried on a POSIX file system)."""
    return os.path.join(base, *relative.split("\\"))


def _local_app_data(env: Mapping[str, str]) -> str:
    base = env.get("LOCALAPPDATA")
    if base:
        return base
    profile = env.get("USERPROFILE") or os.path.expanduser("~")
    return os.path.join(profile, "AppData", "Local")
