"""Passwords: ``SAMLJIT_PASSWORD``, then the OS keyring, then a prompt — never a file.

The keyring is optional: on a box without a usable backend samljit warns once and keeps
working. A password goes only to a backend that encrypts it or hands it to the OS: keyring
may pick a backend that keeps it in a plain file (``keyrings.alt``'s ``PlaintextKeyring``,
chosen as soon as that package is installed), and samljit stores nothing there and reads
nothing from it (:func:`refusal`), saying once why. ``keyring`` is imported only here (and
in ``doctor``), and only when a password is really needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from samljit.common.services import PasswordKeeper
from samljit.common.terminal import Terminal
from samljit.config.accounts import Account

SERVICE_PREFIX = "samljit"
_WHAT_TO_DO = "set SAMLJIT_PASSWORD, or use an OS keyring or an encrypted keyring backend"


def backend_name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def storing_backend(backend: Any) -> Any:
    """The backend a password would really go to: a chain stores in its first one."""
    chained = getattr(backend, "backends", None)
    if type(backend).__name__ == "ChainerBackend" and chained:
        return next(iter(chained))
    return backend


def is_plaintext(backend: Any) -> bool:
    """Whether ``backend`` keeps passwords readable in a file (``keyrings.alt``'s
    ``PlaintextKeyring`` and its kin: a class named ``Plaintext…`` or a "no encryption"
    scheme)."""
    if any("plaintext" in cls.__name__.lower() for cls in type(backend).__mro__):
        return True
    scheme = str(getattr(type(backend), "scheme", "") or "").lower()
    return scheme.startswith("no encr") or scheme.startswith("no encyption")  # (sic, keyrings.alt)


def refusal(backend: Any) -> str | None:
    """Why no password may go to ``backend``; ``None`` when it encrypts the password or hands
    it to the OS."""
    from keyring.backends import fail, null

    target = storing_backend(backend)
    if isinstance(target, null.Keyring):
        return f"the keyring is turned off ({backend_name(target)})"
    if isinstance(target, fail.Keyring):
        return "no OS keyring is available"
    if is_plaintext(target):
        return f"the keyring backend {backend_name(target)} keeps passwords in a plain file"
    return None


def service_name(account: Account) -> str:
    """Keyring service: one password per IdP host and username."""
    return f"{SERVICE_PREFIX}:{urlsplit(account.url).hostname or account.url}"


class PasswordStore:
    """The keyring, or nothing. Every failure of the backend is a warning, never an error."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self._backend: Any = None
        self._checked = False
        #: Why the keyring takes no password (turned off, plain file), once it was looked at.
        self._refused: str | None = None
        #: Why there is no keyring to use (none installed, broken), once it was looked at.
        self._missing: str | None = None

    def _keyring(self) -> Any:
        if self._checked:
            return self._backend
        self._checked = True
        try:
            import keyring
            from keyring.backends import fail, null

            backend = keyring.get_keyring()
            why = refusal(backend)
        except Exception as exc:  # a broken keyring installation must not block a login
            self._unavailable(f"the keyring could not be loaded ({type(exc).__name__})")
            return None
        if isinstance(storing_backend(backend), null.Keyring):
            self._refused = why  # turned off on purpose: said only when a password is at hand
            return None
        if isinstance(storing_backend(backend), fail.Keyring):
            self._unavailable("no OS keyring is available")
            return None
        if why is not None:  # a plain file: not used at all, neither to store nor to read
            self._refused = why
            self.terminal.warn_once(
                "keyring", f"{why}; samljit does not store the password there ({_WHAT_TO_DO})"
            )
            return None
        self._backend = backend
        return backend

    def not_kept(self) -> str | None:
        """Why a password given now would not be kept (``None``: the keyring keeps it)."""
        if self._keyring() is not None:
            return None
        return self._refused or self._missing or "the keyring is not available"

    def _unavailable(self, why: str) -> None:
        self._missing = self._missing or why
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
        """Store the password; ``False`` (said once on the terminal, with why) when not."""
        backend = self._keyring()
        if backend is None:
            if self._refused is not None:
                self.terminal.warn_once(
                    "keyring", f"the password is not stored: {self._refused} ({_WHAT_TO_DO})"
                )
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
    store: PasswordKeeper,
    terminal: Terminal,
) -> tuple[str, str]:
    """The password and where it came from (``env``, ``keyring`` or ``prompt``)."""
    from_env = env.get("SAMLJIT_PASSWORD")
    if from_env:
        return from_env, "env"
    stored = store.get(account, username)
    if stored:
        return stored, "keyring"
    return ask_password(terminal, username), "prompt"


# -- the prompts: every question for a username or a password is asked here -----------------
def ask_username(terminal: Terminal, *, default: str | None = None) -> str:
    """The IdP username, asked on the terminal (``default``: the configured one)."""
    return terminal.ask(
        "Username",
        what="the IdP username",
        default=default or None,
        hint="set username with `samljit configure`, or SAMLJIT_USERNAME",
    )


def ask_password(terminal: Terminal, username: str, *, to_store: bool = False) -> str:
    """The IdP password of ``username``, asked on the terminal. ``to_store``: asked only to
    keep it in the keyring (``configure``), so an empty answer skips it."""
    if to_store:
        return terminal.ask_secret(
            f"Password for {username} (stored in the OS keyring; Enter to skip)",
            what="the IdP password",
            allow_empty=True,
        )
    return terminal.ask_secret(
        f"Password for {username}",
        what="the IdP password",
        hint="set SAMLJIT_PASSWORD, or run `samljit login` once in a terminal to store it "
        "in the keyring",
    )
