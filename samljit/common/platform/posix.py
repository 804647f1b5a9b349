"""Linux and the other Unixes: ``flock``, modes and ``getuid``, ``/dev/tty``, XDG
directories, browsers by their names on ``PATH``. ``fcntl`` is imported where a lock is taken,
never at import time."""

import os
import stat

from samljit.common.platform import Platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO

#: The programs each ``browser_type`` looks for on ``PATH``, first found first.
PATH_BROWSERS: dict[str, tuple[str, ...]] = {
    "chromium": (
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "microsoft-edge",
    ),
    "chrome": ("google-chrome", "google-chrome-stable"),
    "msedge": ("microsoft-edge", "microsoft-edge-stable"),
}


class Posix(Platform):
    name = "linux"
    browser_trust_via_nss = True

    def try_lock(self, fd: int) -> bool:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def lock(self, fd: int) -> None:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)

    def unlock(self, fd: int) -> None:
        import fcntl

        # Unlock explicitly: a forked child may share this open file description.
        fcntl.flock(fd, fcntl.LOCK_UN)

    def set_mode(self, fd: int, mode: int) -> None:
        os.fchmod(fd, mode)

    def is_ours(self, info: os.stat_result) -> bool:
        return info.st_uid == os.getuid()

    def is_private(self, info: os.stat_result) -> bool:
        return self.is_ours(info) and not info.st_mode & 0o077

    def make_private_dir(self, path: str) -> None:
        info = os.lstat(path)
        if not self.is_ours(info):
            raise PermissionError(f"{path} belongs to another user")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, 0o700)

    def own_cache_dir(self, env: "Mapping[str, str]") -> str:
        return os.path.join(home(env), ".cache", "samljit")

    def own_state_dir(self, env: "Mapping[str, str]") -> str:
        return os.path.join(home(env), ".local", "state", "samljit")

    def console(self) -> "tuple[IO[str], IO[str]] | None":
        return open_pair("/dev/tty", "/dev/tty")

    def has_display(self, env: "Mapping[str, str]") -> bool:
        return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))

    def browser_candidates(self, browser_type: str, env: "Mapping[str, str]") -> list[str]:
        return list(PATH_BROWSERS[browser_type])

    def browser_looked_for(self, browser_type: str) -> str:
        return f"looked for {', '.join(PATH_BROWSERS[browser_type])} on PATH"


def home(env: "Mapping[str, str]") -> str:
    return env.get("HOME") or os.path.expanduser("~")


def open_pair(read_path: str, write_path: str) -> "tuple[IO[str], IO[str]] | None":
    """A console opened for reading and for writing (a tty cannot be opened "r+" in text
    mode: it is not seekable), or None when it cannot be opened."""
    try:
        reader = open(read_path, encoding="utf-8")  # noqa: SIM115 (lives for the run)
    except OSError:
        return None
    try:
        writer = open(write_path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError:
        reader.close()
        return None
    return reader, writer
