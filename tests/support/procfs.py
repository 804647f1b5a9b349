"""What other processes are doing, read from Linux's /proc (as ``ps`` and ``lsof`` do): the
synchronisation point of tests that start several samljit runs at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

DEADLINE = 60.0  # seconds; a bound on waiting for a condition, never a timing assertion


def openers(path: Path) -> set[int]:
    """The processes other than this one that have ``path`` open."""
    target = os.path.realpath(path)
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # the process ended, or is not ours
            continue
        if target in links:
            found.add(int(entry.name))
    return found


def wait_for_openers(path: Path, count: int) -> None:
    """Return once ``count`` other processes have ``path`` open (e.g. wait on a lock file)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs Linux's /proc to see which processes wait on a lock")
    deadline = time.monotonic() + DEADLINE
    while len(openers(path)) < count:
        if time.monotonic() >= deadline:
            raise AssertionError(f"{len(openers(path))} of {count} processes opened {path}")
        time.sleep(0.02)  # polling /proc for a condition, bounded by the deadline
