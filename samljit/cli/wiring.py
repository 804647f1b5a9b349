"""The default wiring of :class:`~samljit.common.services.Services`: the real terminal's
stores (keyring, caches, IdP sessions, audit log) and HTTP clients, built by the CLI layer,
the one layer that knows them all."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from samljit.common.redact import Redactor
from samljit.common.services import (
    FLIGHT_TIMEOUT,
    AuditTrail,
    CredentialCache,
    PasswordKeeper,
    Services,
    SessionKeeper,
    utcnow,
)
from samljit.common.terminal import Terminal, open_terminal

if TYPE_CHECKING:
    from samljit.common.http import HttpClient


def open_prompt_terminal(
    *,
    skip_prompt: bool,
    quiet: bool,
    prompt: str,
    env: Mapping[str, str],
    scrub: Callable[[str], str] | None = None,
) -> Terminal:
    """The run's terminal: the real one when there is one (or questions are forbidden), else
    per ``prompt`` a dialog program (:mod:`samljit.common.dialog`), else one that cannot ask
    and says why."""
    terminal = open_terminal(skip_prompt=skip_prompt, quiet=quiet, scrub=scrub)
    if skip_prompt or terminal.interactive:
        return terminal
    from samljit.common.dialog import choose_prompt, dialog_terminal

    choice = choose_prompt(prompt, has_terminal=False, env=env)
    if choice.program is not None:
        return dialog_terminal(choice.program, quiet=quiet, scrub=scrub)
    if choice.problem is not None:
        return Terminal(
            interactive=False, quiet=quiet, scrub=scrub, no_prompt_reason=choice.problem
        )
    return terminal


def build_services(
    env: Mapping[str, str],
    terminal: Terminal,
    *,
    redactor: Redactor | None = None,
    now: Callable[[], datetime] = utcnow,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    http_factory: Callable[[Any], HttpClient] | None = None,
    passwords: PasswordKeeper | None = None,
    cache: CredentialCache | None = None,
    audit: AuditTrail | None = None,
    sessions: SessionKeeper | None = None,
    command: str = "login",
    flight_timeout: float = FLIGHT_TIMEOUT,
) -> Services:
    """The run's services: each one given, or the real one (built here, imported lazily)."""
    from samljit.config.passwords import PasswordStore
    from samljit.jit.audit import AuditLog
    from samljit.jit.cache import Cache, cache_root, state_root
    from samljit.jit.sessions import SessionStore

    def default_http(account: Any) -> HttpClient:
        if account.skip_verify:
            terminal.warn(
                f"TLS verification is off for account {account.name!r} (skip_verify = true)"
            )
        from samljit.common.http import HttpClient

        return HttpClient(
            verify=not account.skip_verify,
            env=env,
            sleep=sleep,
            clock=lambda: now().timestamp(),
            monotonic=monotonic,
        )

    return Services(
        env=env,
        terminal=terminal,
        redactor=redactor if redactor is not None else Redactor(),
        now=now,
        monotonic=monotonic,
        sleep=sleep,
        http_factory=http_factory if http_factory is not None else default_http,
        passwords=passwords if passwords is not None else PasswordStore(terminal),
        cache=cache if cache is not None else Cache(cache_root(env), terminal),
        audit=(
            audit
            if audit is not None
            else AuditLog(state_root(env), command, now=now, warn_once=terminal.warn_once)
        ),
        sessions=(
            sessions if sessions is not None else SessionStore(cache_root(env), terminal, now=now)
        ),
        command=command,
        flight_timeout=flight_timeout,
    )
