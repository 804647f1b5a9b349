"""File primitives shared by every writer: atomic replace, inter-process locks, private
directories. Errors are plain ``OSError``; callers turn them into samljit errors. What differs
per OS is :mod:`samljit.common.platform`'s."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from samljit.common.platform import LockBusy, current


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: a reader sees the old file or the new one, never half.

    The temp file lives in the same directory, gets ``mode`` before any byte is written, is
    fsynced, renamed over ``path`` and the directory fsynced (best effort)."""
    directory = path.parent
    platform = current()
    fd, temp = _create_temp(directory, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            platform.set_mode(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        platform.replace(temp, str(path))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_directory(directory)


def _create_temp(directory: Path, name: str) -> tuple[int, str]:
    """A new, exclusive temp file next to ``name`` (``tempfile`` costs 10 ms to import)."""
    for _ in range(100):
        temp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(
                temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | current().open_flags, 0o600
            ), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name in {directory}")


def fsync_directory(directory: Path) -> None:
    """Make a rename durable; best effort, since some file systems refuse it."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LockTimeout(Exception):
    """The lock was not free within the time allowed."""


@contextlib.contextmanager
def locked(lock_path: Path, *, timeout: float | None = None, poll: float = 0.05) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created 0600, never removed).

    ``timeout=None`` waits as long as it takes; otherwise :class:`LockTimeout` after that many
    seconds."""
    platform = current()
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | platform.open_flags, 0o600)
    try:
        if timeout is None:
            try:
                platform.lock(fd)
            except LockBusy:
                raise LockTimeout(str(lock_path)) from None
        else:
            deadline = time.monotonic() + timeout
            while not platform.try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockTimeout(str(lock_path)) from None
                time.sleep(poll)
        try:
            yield
        finally:
            platform.unlock(fd)
    finally:
        os.close(fd)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700, or tighten it when it is ours and too open.

    Raises ``PermissionError`` when the directory belongs to someone else."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(str(path))
    current().make_private_dir(str(path))
    return path
