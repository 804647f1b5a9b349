"""Everything that differs per operating system, behind one interface.

:func:`current` is the :class:`Platform` of this machine: :mod:`.posix` (Linux and other
Unixes), :mod:`.macos` (where macOS differs from POSIX) or :mod:`.windows`. Nothing else in
samljit looks at ``os.name``/``sys.platform`` or imports a module only one OS has (``fcntl``,
``termios``, ``pwd``, ``grp``, ``resource``, ``msvcrt``): those are imported lazily, inside
the implementation that uses them, so importing samljit works everywhere.

On the start-up path: builtins only here; the implementation module is imported on first use.
"""

import os
import sys

TYPE_CHECKING = False  # typing costs more to import than this whole module
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import IO

#: The programs each ``browser_type`` of the Browser provider may be, first found first.
BROWSER_TYPES = ("chromium", "chrome", "msedge")


class LockBusy(OSError):
    """A lock could not be taken within the platform's bounded retries."""


class Platform:
    """What samljit needs from the operating system. Subclasses fill in the differences."""

    #: ``sys.platform``'s spelling: ``linux``, ``darwin`` or ``win32``.
    name = "posix"
    #: What every ``os.open`` of a samljit file adds: ``O_NOFOLLOW`` on POSIX (a symlink
    #: planted in the file's place is refused), ``O_BINARY`` on Windows (no newline
    #: translation; Windows follows no symlink a user without privilege could plant).
    open_flags = getattr(os, "O_NOFOLLOW", 0)
    #: What opening a file the user names for reading adds: ``O_NONBLOCK`` on POSIX (a FIFO
    #: must not hang the open), ``O_BINARY`` on Windows.
    read_flags = getattr(os, "O_NONBLOCK", 0)
    #: Whether ``os.execvpe`` replaces this process (else ``exec`` runs the command as a child
    #: and passes its exit status on).
    exec_replaces_process = True
    #: Whether a browser samljit starts trusts a CA bundle through an NSS database of
    #: samljit's (Linux); elsewhere the system's certificate store decides.
    browser_trust_via_nss = False
    #: Whether files have POSIX modes (0600, 0700) that say who may read them.
    has_modes = True
    #: Whether one ``O_APPEND`` write lands whole at the end of the file whatever other
    #: processes append at the same time (POSIX; Windows seeks, then writes).
    appends_atomically = True

    def __init__(self, sleep: "Callable[[float], None] | None" = None) -> None:
        import time

        #: The sleeper between retries (a lock, a replace); tests inject one.
        self.sleep: Callable[[float], None] = sleep or time.sleep

    # -- locks (an exclusive lock on an open file descriptor) ---------------------------
    def try_lock(self, fd: int) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        raise NotImplementedError

    def lock(self, fd: int) -> None:
        """Take the lock, waiting for it (:class:`LockBusy` where the wait is bounded)."""
        raise NotImplementedError

    def unlock(self, fd: int) -> None:
        raise NotImplementedError

    # -- files ---------------------------------------------------------------------------
    def replace(self, source: str, target: str) -> None:
        """``os.replace``, made to work where another process may have ``target`` open."""
        os.replace(source, target)

    def set_mode(self, fd: int, mode: int) -> None:
        """Give an open file ``mode`` (where modes exist)."""
        raise NotImplementedError

    def is_ours(self, info: os.stat_result) -> bool:
        """Whether a file (its ``stat``) belongs to the user running samljit."""
        raise NotImplementedError

    def is_private(self, info: os.stat_result) -> bool:
        """Whether a file is ours and nobody else may read it."""
        raise NotImplementedError

    def make_private_dir(self, path: str) -> None:
        """Check an existing directory is ours and tighten it to owner-only; raises
        ``PermissionError`` when it belongs to someone else."""
        raise NotImplementedError

    # -- where things live ---------------------------------------------------------------
    def cache_dir(self, env: "Mapping[str, str]") -> str:
        """samljit's cache: under ``XDG_CACHE_HOME`` when set, else the platform's place."""
        return _xdg_dir(env, "XDG_CACHE_HOME") or self.own_cache_dir(env)

    def state_dir(self, env: "Mapping[str, str]") -> str:
        """samljit's state: under ``XDG_STATE_HOME`` when set, else the platform's place."""
        return _xdg_dir(env, "XDG_STATE_HOME") or self.own_state_dir(env)

    def own_cache_dir(self, env: "Mapping[str, str]") -> str:
        raise NotImplementedError

    def own_state_dir(self, env: "Mapping[str, str]") -> str:
        raise NotImplementedError

    # -- the user ------------------------------------------------------------------------
    def console(self) -> "tuple[IO[str], IO[str]] | None":
        """The user's console for reading and for writing when stdin/stdout are redirected,
        or None when the process has none."""
        raise NotImplementedError

    def has_display(self, env: "Mapping[str, str]") -> bool:
        """Whether windows (a browser, a dialog) can be shown."""
        return True

    def open_url(self, url: str) -> bool:
        """Open ``url`` (a web page, a ``file:`` URI) in the user's browser (``$BROWSER``,
        a terminal one included, on POSIX); False when none was opened."""
        import webbrowser

        try:
            return webbrowser.open(url)
        except webbrowser.Error:
            return False

    def find_browser(self, browser_type: str, env: "Mapping[str, str]") -> str | None:
        """The program of ``browser_type`` (see :data:`BROWSER_TYPES`) the Browser provider
        starts, or None when none is installed."""
        for candidate in self.browser_candidates(browser_type, env):
            found = _program(candidate, env)
            if found is not None:
                return found
        return None

    def browser_candidates(self, browser_type: str, env: "Mapping[str, str]") -> list[str]:
        """Where to look, first found first: full paths, or names looked up on ``PATH``."""
        raise NotImplementedError

    def browser_looked_for(self, browser_type: str) -> str:
        """Where :meth:`find_browser` looked, in words (for the error saying none was found)."""
        raise NotImplementedError


def _program(candidate: str, env: "Mapping[str, str]") -> str | None:
    """``candidate`` when it is a full path to a program, else its first match on ``PATH``."""
    if os.path.isabs(candidate):
        ok = os.path.isfile(candidate) and os.access(candidate, os.X_OK)
        return candidate if ok else None
    import shutil

    return shutil.which(candidate, path=env.get("PATH", os.defpath))


def for_name(name: str, sleep: "Callable[[float], None] | None" = None) -> Platform:
    """The implementation for ``sys.platform``'s ``name`` (tests run the Windows and macOS
    ones on Linux where their logic allows)."""
    if name == "win32":
        from samljit.common.platform.windows import Windows

        return Windows(sleep)
    if name == "darwin":
        from samljit.common.platform.macos import MacOS

        return MacOS(sleep)
    from samljit.common.platform.posix import Posix

    return Posix(sleep)


_CURRENT: list[Platform] = []


def current() -> Platform:
    """This machine's platform (made once)."""
    if not _CURRENT:
        _CURRENT.append(for_name(sys.platform))
    return _CURRENT[0]


def _xdg_dir(env: "Mapping[str, str]", variable: str) -> str | None:
    """samljit's folder under the XDG base directory ``variable`` names, when it is set."""
    base = env.get(variable)
    return os.path.join(base, "samljit") if base else None
