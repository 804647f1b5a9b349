"""A keyring backend for end-to-end tests that stands in for an OS keyring.

samljit stores passwords only in backends that encrypt them or hand them to the OS, never in
a plain-file one (``keyrings.alt``'s ``PlaintextKeyring``). Tests need a real backend that
persists across processes without a desktop session: this one keeps its entries in a 0600
file outside HOME (the file ``SAMLJIT_TEST_VAULT`` names), as an OS keyring keeps them in its
own store, not among the user's files. Loaded through
``PYTHON_KEYRING_BACKEND=tests.support.keyring_backend.VaultKeyring`` with the repository on
``PYTHONPATH`` (see :func:`vault_env`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError, PasswordSetError

from tests.support.paths import REPO


def vault_env(home: Path) -> dict[str, str]:
    """Environment that makes the installed ``samljit`` use this backend, its store next to
    (not inside) ``home``."""
    return {
        "PYTHON_KEYRING_BACKEND": "tests.support.keyring_backend.VaultKeyring",
        "PYTHONPATH": str(REPO),
        "SAMLJIT_TEST_VAULT": str(home.parent / "os-keyring.json"),
    }


@contextmanager
def installed(backend: Any) -> Iterator[Any]:
    """``backend`` as keyring's backend in this process for the ``with`` block."""
    original = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(original)


class VaultKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def _path(self) -> Path:
        return Path(os.environ["SAMLJIT_TEST_VAULT"])

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\n{username}"] = password
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\n{username}", None)
        self._path.write_text(json.dumps(data))


class MemoryKeyring(KeyringBackend):
    """An OS keyring stand-in in this process's memory (:func:`installed` registers it).
    Like an OS keyring it refuses to delete an entry it does not hold; ``limit``, when set,
    is the longest entry it takes (Windows' Credential Manager has one)."""

    priority = 1  # type: ignore[assignment]
    limit: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.limit is not None and len(password) > self.limit:
            raise PasswordSetError("the entry is too large")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")
