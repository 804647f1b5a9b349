"""The services one samljit run hands down: built once in the CLI, frozen, and passed to the
flow and to providers, which use nothing global (tests swap any of them).

Everything the layers below the CLI need from the outside world is here: the environment,
the terminal, the run's redactor, the clocks and the sleeper, the HTTP client factory, the
password store, the caches, the store of IdP sessions and the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from samljit.redact import Redactor

if TYPE_CHECKING:
    from samljit.cli.terminal import Terminal
    from samljit.config.accounts import Account
    from samljit.config.passwords import PasswordStore
    from samljit.idp.http import HttpClient
    from samljit.jit.audit import AuditLog
    from samljit.jit.cache import Cache
    from samljit.jit.sessions import SessionStore

#: How long a process waits for another one logging in for the same (account, role).
FLIGHT_TIMEOUT = 300.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Services:
    """Frozen after ``__init__``: ``services.x = …`` raises ``AttributeError``."""

    __slots__ = (
        "audit",
        "cache",
        "command",
        "env",
        "flight_timeout",
        "http_factory",
        "monotonic",
        "now",
        "passwords",
        "redactor",
        "sessions",
        "sleep",
        "terminal",
    )
    env: Mapping[str, str]
    terminal: Terminal
    redactor: Redactor
    now: Callable[[], datetime]
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    http_factory: Callable[[Account], HttpClient] | None
    passwords: PasswordStore
    cache: Cache
    audit: AuditLog
    sessions: SessionStore
    command: str
    flight_timeout: float

    def __init__(
        self,
        env: Mapping[str, str],
        terminal: Terminal,
        *,
        redactor: Redactor | None = None,
        now: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        http_factory: Callable[[Account], HttpClient] | None = None,
        passwords: PasswordStore | None = None,
        cache: Cache | None = None,
        audit: AuditLog | None = None,
        sessions: SessionStore | None = None,
        command: str = "login",
        flight_timeout: float = FLIGHT_TIMEOUT,
    ) -> None:
        from samljit.config.passwords import PasswordStore
        from samljit.jit.audit import AuditLog
        from samljit.jit.cache import Cache, cache_root, state_root
        from samljit.jit.sessions import SessionStore

        values: dict[str, Any] = {
            "env": env,
            "terminal": terminal,
            "redactor": redactor if redactor is not None else Redactor(),
            "now": now,
            "monotonic": monotonic,
            "sleep": sleep,
            "http_factory": http_factory,
            "passwords": passwords if passwords is not None else PasswordStore(terminal),
            "cache": cache if cache is not None else Cache(cache_root(env), terminal),
            "audit": audit
            if audit is not None
            else AuditLog(state_root(env), command, now=now, warn_once=terminal.warn_once),
            "sessions": (
                sessions
                if sessions is not None
                else SessionStore(cache_root(env), terminal, now=now)
            ),
            "command": command,
            "flight_timeout": flight_timeout,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Services is frozen: cannot set {name}")

    def http_for(self, account: Account) -> HttpClient:
        """A new HTTP client (one cookie jar) for one login at ``account``'s IdP."""
        if self.http_factory is not None:
            return self.http_factory(account)
        if account.skip_verify:
            self.terminal.warn(
                f"TLS verification is off for account {account.name!r} (skip_verify = true)"
            )
        from samljit.idp.http import HttpClient

        return HttpClient(
            verify=not account.skip_verify,
            env=self.env,
            sleep=self.sleep,
            clock=lambda: self.now().timestamp(),
            monotonic=self.monotonic,
        )

    def event(self, name: str, **fields: str | None) -> None:
        """Record an audit event (never a secret)."""
        self.audit.record(name, **fields)
