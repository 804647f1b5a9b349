"""Run a check with an ordinary user's permissions, also when the tests run as root (as CI
does): root ignores permission bits, so a forked child drops to uid/gid ``nobody`` first."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

NOBODY = 65534


@contextmanager
def shared_dir() -> Iterator[Path]:
    """A directory the unprivileged child can reach and own (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="samljit-perm-", dir="/tmp"))
    try:
        if os.geteuid() == 0:
            os.chown(path, NOBODY, NOBODY)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def as_unprivileged(check: Callable[[], None]) -> None:
    """Run ``check`` directly, or as root in a child with uid/gid ``nobody``; a failure in
    the child is raised here as an AssertionError carrying its type and message."""
    if os.geteuid() != 0:
        check()
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        outcome = b""
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            check()
        except BaseException as exc:
            outcome = f"{type(exc).__qualname__}: {exc}".encode()
        os.write(write_end, outcome)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read()
    os.waitpid(pid, 0)
    if outcome:
        raise AssertionError(f"as uid nobody: {outcome.decode(errors='replace')}")
