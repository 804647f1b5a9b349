"""Passwords: ``SAMLJIT_PASSWORD``, then the OS keyring, then a prompt — never a file.

The keyring is optional: on a box without a usable backend samljit warns once and keeps
working. ``keyring`` is imported only here, and only when a password is really needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from samljit.cli.terminal import Terminal
from samljit.config.accounts import Account

SERVICE_PREFIX = "samljit"


def service_name(account: Account) -> str:
    """Keyring service: one password per IdP host and username."""
    return f"{SERVICE_PREFIX}:{urlsplit(account.url).hostname or account.url}"


class PasswordStore:
    """The keyring, or nothing. Every failure of the backend is a warning, never an error."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self._backend: Any = None
        self._checked = False

    def _keyring(self) -> Any:
        if self._checked:
            return self._backend
        self._checked = True
        try:
            import keyring
            from keyring.backends import fail, null

            backend = keyring.get_keyring()
        except Exception as exc:  # a broken keyring installation must not block a login
            self._unavailable(f"the keyring could not be loaded ({type(exc).__name__})")
            return None
        if isinstance(backend, null.Keyring):
            return None  # the user turned the keyring off on purpose: stay silent
        if isinstance(backend, fail.Keyring):
            self._unavailable("no OS keyring is available")
            return None
        self._backend = backend
        return backend

    def _unavailable(self, why: str) -> None:
        self.terminal.warn_once(
            "keyring",
            f"{why}; the password is not remembered "
            "(set SAMLJIT_PASSWORD, or install a keyring backend)",
        )

    def get(self, account: Account, username: str) -> str | None:
        backend = self._keyring()
        if backend is None:
            return None
        try:
            value = backend.get_password(service_name(account), username)
        except Exception as exc:  # locked or broken keyring: carry on without it
            self._unavailable(f"the keyring could not be read ({type(exc).__name__})")
            return None
        return value if isinstance(value, str) and value else None

    def set(self, account: Account, username: str, password: str) -> bool:
        backend = self._keyring()
        if backend is None:
            return False
        try:
            backend.set_password(service_name(account), username, password)
        except Exception as exc:
            self._unavailable(f"the keyring could not store the password ({type(exc).__name__})")
            return False
        return True


def resolve_password(
    account: Account,
    username: str,
    *,
    env: Mapping[str, str],
    store: PasswordStore,
    terminal: Terminal,
) -> tuple[str, str]:
    """The password and where it came from (``env``, ``keyring`` or ``prompt``)."""
    from_env = env.get("SAMLJIT_PASSWORD")
    if from_env:
        return from_env, "env"
    stored = store.get(account, username)
    if stored:
        return stored, "keyring"
    password = terminal.ask_secret(
        f"Password for {username}",
        what="the IdP password",
        hint="set SAMLJIT_PASSWORD, or run `samljit login` once in a terminal to store it "
        "in the keyring",
    )
    return password, "prompt"
