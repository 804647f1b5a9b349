"""Cached answers: what ``credential-process``, ``login`` and ``exec`` said last time, replayed
without loading anything while it is still true.

A command that was answered from still-valid credentials has one job the next time: find them
and print them. After every successful run, the CLI remembers the answer under the exact
command line and the environment that shaped it, with the files it came from (the config
file, the cache entry, the credentials file: path, size, mtime, inode). The next identical run
replays it when every one of those files is unchanged and the credentials are still outside
the refresh margin; anything else (a changed file, ``logout``, a refresh by another process,
an expiry) falls through to the full path, which answers and remembers again.

This module is on the start-up path: it imports nothing but builtins (``marshal``, not
``json``, whose decoder loads ``re``). The answers file is 0600 in the 0700 cache directory,
like the credentials cache it mirrors.
"""

import marshal
import os
import time

from samljit.common.paths import cache_dir, state_dir
from samljit.common.platform import current

TYPE_CHECKING = False  # typing costs more to import than this whole module
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

FORMAT = 1
FILE = "answers"
#: The environment variables that decide which account, files and directories a run uses.
ENV_KEYS = (
    "SAMLJIT_IDP_ACCOUNT",
    "SAMLJIT_CONFIG",
    "SAMLJIT_USERNAME",
    "SAMLJIT_REASON",  # in the remembered audit line (and exec's child environment)
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",  # login and exec warn about its credential_process profiles
    "AWS_REGION",  # exec sets the account's region only when these are unset
    "AWS_DEFAULT_REGION",
    "HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "NO_COLOR",
    "TERM",
)
#: Words that make a run answer differently (or must never be written down): never replayed.
_NEVER = frozenset({"--debug", "--force", "--no-cache", "--mfa-token", "--all-roles", "-h"})
_NEVER_PREFIXES = ("--mfa-token=", "--help")
TIME_MARK = "\0time\0"
#: :data:`TIME_MARK` as ``json.dumps`` writes it into the remembered line, where it is the
#: first value (the line starts with ``time``); the other values had their control characters
#: escaped before, so no other NUL escape can be in the line.
_TIME_JSON = '"\\u0000time\\u0000"'
MAX_AUDIT_BYTES = 1024 * 1024
_AUDIT_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT


def file_id(path: str) -> tuple[str, int, int, int]:
    """What says a file is unchanged: path, size, mtime (ns), inode (``-1``s: absent)."""
    try:
        info = os.stat(path)
    except OSError:
        return (path, -1, -1, -1)
    return (path, info.st_size, info.st_mtime_ns, info.st_ino)


# -- the audit line, shared with samljit.jit.audit ----------------------------------------
def append_audit(directory: str, data: bytes, *, max_bytes: int = MAX_AUDIT_BYTES) -> None:
    """Append one line to ``directory/audit.log``, rotating it by size (one generation kept).
    Raises ``OSError``; the directory must exist and be private.

    Where one ``O_APPEND`` write is atomic (POSIX) it needs no lock: lines never interleave,
    and a line written while another process rotates lands in ``audit.log`` or
    ``audit.log.1``, both kept. Then only the rotation takes the audit lock (two processes
    never rotate twice), which keeps the lock module off the replay path."""
    platform = current()
    path = os.path.join(directory, "audit.log")
    try:
        small = os.stat(path).st_size < max_bytes
    except FileNotFoundError:
        small = True
    if small and platform.appends_atomically:
        _append(path, data, platform.open_flags)
        return
    lock = os.open(os.path.join(directory, "audit.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        platform.lock(lock)
        try:
            try:
                if os.stat(path).st_size >= max_bytes:
                    platform.replace(path, path + ".1")
            except FileNotFoundError:
                pass
            _append(path, data, platform.open_flags)
        finally:
            platform.unlock(lock)
    finally:
        os.close(lock)


def _append(path: str, data: bytes, flags: int) -> None:
    fd = os.open(path, _AUDIT_FLAGS | flags, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# -- expiry in words, shared with the CLI's messages ---------------------------------------
def expiry_text(expires: float, now: float) -> str:
    """``until 14:05 CET (59 min left)``; the date too when it is not today."""
    local = time.localtime(expires)
    if local[:3] == time.localtime(now)[:3]:
        when = time.strftime("%H:%M %Z", local)
    else:
        when = time.strftime("%Y-%m-%d %H:%M %Z", local)
    minutes = int((expires - now) // 60)
    left = f"{minutes} min left" if minutes >= 0 else "expired"
    return f"until {when} ({left})"


# -- remembering and replaying --------------------------------------------------------------
def key_of(words: "Sequence[str]", env: "Mapping[str, str]") -> str | None:
    """The key of a command line (up to ``--``), or ``None`` when it is never replayed."""
    head = list(words[: words.index("--") + 1]) if "--" in words else list(words)
    if any(w in _NEVER or w.startswith(_NEVER_PREFIXES) for w in head):
        return None
    fields = [*head, "\0env", *(f"{k}={env.get(k, '')}" for k in ENV_KEYS)]
    return "\0".join(fields)


def _load(path: str) -> "dict[str, Any]":
    """The remembered answers; none from a file that is not ours alone."""
    try:
        fd = os.open(path, os.O_RDONLY | current().open_flags)
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not current().is_private(info) or info.st_size > 1 << 20:
            return {}
        with os.fdopen(os.dup(fd), "rb") as handle:
            # marshal, not json (json loads re): the file is ours, 0600, in our 0700 directory
            data = marshal.load(handle)  # noqa: S302
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    finally:
        os.close(fd)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def remember(
    env: "Mapping[str, str]",
    words: "Sequence[str]",
    *,
    watch: "Sequence[str]",
    until: float,
    expires: float,
    stdout: str = "",
    stderr: str = "",
    exec_env: "Mapping[str, str] | None" = None,
    unset: "Sequence[str]" = (),
    audit: str = "",
) -> None:
    """Remember the answer to ``words``: replayed while the files in ``watch`` are unchanged
    and ``time.time() < until``. ``stderr`` may hold ``{expiry}``; ``audit`` is a JSON line
    whose time is :data:`TIME_MARK`. Best effort: a cache that cannot be written is skipped."""
    key = key_of(words, env)
    if key is None or (exec_env is not None and "--" not in words):
        return
    directory = cache_dir(env)
    path = os.path.join(directory, FILE)
    entries = {k: v for k, v in _load(path).items() if v.get("until", 0) > time.time()}
    entries[key] = {
        "watch": [file_id(p) for p in watch],
        "until": until,
        "expires": expires,
        "stdout": stdout,
        "stderr": stderr,
        "exec_env": dict(exec_env) if exec_env is not None else None,
        "unset": list(unset),
        "audit": audit,
    }
    data = marshal.dumps({"format": FORMAT, "entries": entries})
    # after the run, not on the replay path: the credentials cache's own checks (a 0700
    # directory of ours, else nothing is written) and its exclusive temp file
    from pathlib import Path

    from samljit.common import fsutil

    try:
        fsutil.private_dir(Path(directory))
        fsutil.atomic_write(Path(path), data, mode=0o600)
    except OSError:
        pass  # best effort: the next run takes the full path


def _program(argv: list[str], env: "Mapping[str, str]") -> list[str] | None:
    """``[path, *argv]`` of an executable ``argv[0]`` (searched on ``PATH``), else ``None``."""
    if not argv:
        return None
    name = argv[0]
    candidates = (
        [name]
        if "/" in name
        else [os.path.join(d or ".", name) for d in env.get("PATH", "").split(os.pathsep)]
    )
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return [path, *argv]
    return None


def _colour(env: "Mapping[str, str]") -> bool:
    return not env.get("NO_COLOR") and env.get("TERM") != "dumb" and os.isatty(2)


def _private(directory: str) -> bool:
    try:
        info = os.stat(directory)
    except OSError:
        return False
    return current().is_private(info)


def answer(
    words: "Sequence[str]", env: "Mapping[str, str]", quiet: bool, *, now: float | None = None
) -> "dict[str, Any] | None":
    """What to answer ``words`` with from what was remembered (its audit line recorded), or
    ``None`` to take the full path: ``stdout`` and ``stderr`` (``""`` when quiet) to write,
    and for ``exec`` the ``argv`` to run (the program found as execvp would) with its
    environment ``exec_env``. Writing and running them is the CLI's
    (:mod:`samljit.cli.replay`)."""
    key = key_of(words, env)
    if key is None:
        return None
    directory = cache_dir(env)
    if not _private(directory):
        return None
    entry = _load(os.path.join(directory, FILE)).get(key)
    now = time.time() if now is None else now
    if entry is None or entry["until"] <= now:
        return None
    if any(file_id(watched[0]) != tuple(watched) for watched in entry["watch"]):
        return None
    if entry["stderr"] and not quiet and _colour(env):
        return None  # the full path styles its line
    argv = None
    exec_env = None
    if entry["exec_env"] is not None:  # exec: the program, found as execvp would
        argv = _program(list(words[words.index("--") + 1 :]), env)
        if argv is None:
            return None  # no command, or not found: the full path says so
        exec_env = {k: v for k, v in env.items() if k not in entry["unset"]}
        exec_env.update(entry["exec_env"])
    audit = entry["audit"]
    if audit:
        state = state_dir(env)
        if not _private(state):
            return None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        try:
            line = audit.replace(_TIME_JSON, f'"{stamp}"', 1)
            append_audit(state, line.encode("utf-8"))
        except OSError:
            return None
    stderr = ""
    if entry["stderr"] and not quiet:
        stderr = entry["stderr"].replace("{expiry}", expiry_text(entry["expires"], now))
    return {"stdout": entry["stdout"], "stderr": stderr, "argv": argv, "exec_env": exec_env}
