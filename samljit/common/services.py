"""The services one samljit run hands down: a frozen record built once by the CLI
(:func:`samljit.cli.wiring.build_services`) and passed to the flow and to providers, which use
nothing global (tests swap any of them).

Everything the layers below the CLI need from the outside world is here: the environment,
the terminal, the run's redactor, the clocks and the sleeper, the HTTP client factory, the
password store, the caches, the store of IdP sessions and the audit log. The stores are typed
by the Protocols below (the ground floor names what a stage may ask of them; the stage that
owns one, ``config`` or ``jit``, implements it), so nothing here imports a stage above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the record is on the start-up path; these are not
    from samljit.common.http import HttpClient
    from samljit.common.redact import Redactor
    from samljit.common.terminal import Terminal

#: How long a process waits for another one logging in for the same (account, role).
FLIGHT_TIMEOUT = 300.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AccountRef(Protocol):
    """What the ground floor knows of an account (``samljit.config.accounts.Account``)."""

    @property
    def name(self) -> str: ...


class PasswordKeeper(Protocol):
    """The OS keyring behind the account's password (``samljit.config.passwords``)."""

    def get(self, account: Any, username: str) -> str | None: ...

    def set(self, account: Any, username: str, password: str) -> bool: ...


class CredentialCache(Protocol):
    """samljit's private caches (``samljit.jit.cache.Cache``); the entries are the jit
    stage's records."""

    def flight(self, key: str, *, timeout: float) -> Any: ...

    def grant_path(self, key: str) -> Path: ...

    def get_grant(self, key: str) -> Any: ...

    def put_grant(self, key: str, grant: Any) -> None: ...

    def grants(self) -> list[Any]: ...

    def remove_grant(self, key: str) -> bool: ...

    def get_assertion(self, key: str) -> Any: ...

    def put_assertion(self, key: str, *args: Any, **kwargs: Any) -> None: ...

    def remove_assertion(self, key: str) -> bool: ...

    def get_error(self, key: str) -> Any: ...

    def put_error(self, key: str, error: Any, moment: datetime) -> None: ...

    def remove_error(self, key: str) -> bool: ...


class SessionKeeper(Protocol):
    """The IdP sessions kept between logins (``samljit.jit.sessions.SessionStore``)."""

    def describe(self, account: Any) -> Any: ...

    def load(self, account: Any) -> Any: ...

    def save(self, account: Any, cookies: Iterable[Mapping[str, Any]]) -> None: ...

    def forget(self, account: Any, *, sweep: bool = False) -> bool: ...


class AuditTrail(Protocol):
    """The audit log (``samljit.jit.audit.AuditLog``)."""

    @property
    def path(self) -> Path: ...

    def line(self, event: str, fields: Mapping[str, str | None], *, time: str) -> str: ...

    def record(self, event: str, **fields: str | None) -> None: ...

    def scan(self, since: datetime | None = None) -> Any: ...


@dataclass(frozen=True)
class Services:
    """Frozen: ``services.x = …`` raises ``AttributeError``."""

    env: Mapping[str, str]
    terminal: Terminal
    redactor: Redactor
    now: Callable[[], datetime]
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    http_factory: Callable[[Any], HttpClient]
    passwords: PasswordKeeper
    cache: CredentialCache
    audit: AuditTrail
    sessions: SessionKeeper
    command: str = "login"
    flight_timeout: float = FLIGHT_TIMEOUT

    def http_for(self, account: AccountRef) -> HttpClient:
        """A new HTTP client (one cookie jar) for one login at ``account``'s IdP."""
        return self.http_factory(account)

    def state_dir(self, account: AccountRef) -> Path:
        """A private (0700) directory of the account's own, for what a provider keeps
        between logins (``<state dir>/accounts/<account>``); made when missing. Raises
        ``ConfigError`` when it cannot be made private."""
        from samljit.common.errors import ConfigError
        from samljit.common.fsutil import private_dir
        from samljit.common.paths import safe_name, state_dir

        path = Path(state_dir(self.env)) / "accounts" / safe_name(account.name)
        try:
            return private_dir(path)
        except OSError as exc:
            raise ConfigError(f"cannot use the state directory {path}: {exc}") from None

    def event(self, name: str, **fields: str | None) -> None:
        """Record an audit event (never a secret)."""
        self.audit.record(name, **fields)
