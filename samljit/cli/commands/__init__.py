"""The CLI's commands: one module each, with ``run(ctx) -> int``.

A :class:`Context` carries what every command needs: the parsed arguments, the environment,
the run's redactor, and lazily the terminal, the config file and the resolved account.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from samljit.common.errors import UsageError
from samljit.common.redact import Redactor
from samljit.common.services import Services
from samljit.common.terminal import Terminal
from samljit.common.text import printable
from samljit.config import accounts as config
from samljit.jit import answers, flow
from samljit.jit.flow import Grant, assertion_for
from samljit.sinks.env import credential_updates

if TYPE_CHECKING:
    from samljit.saml.assertion import SamlAssertion

#: The provider ``--browser`` logs in through (``providers/browser/``).
BROWSER_PROVIDER = "Browser"
#: Commands that never ask in a dialog (``prompt``), only on a terminal.
NO_DIALOG_COMMANDS = frozenset({"configure"})
#: The longest ``--reason`` kept (one audit line, not a report).
MAX_REASON = 500


class Context:
    """What every command gets: arguments, environment, the run's redactor, stdout, and the
    run's :class:`~samljit.common.services.Services`."""

    def __init__(
        self,
        args: argparse.Namespace,
        env: dict[str, str],
        *,
        redactor: Redactor | None = None,
        stdout: IO[str] | None = None,
        terminal: Terminal | None = None,
        services: Services | None = None,
        words: Sequence[str] = (),
    ) -> None:
        self.words = list(words)
        self.args = args
        self.env = env
        self.redactor = redactor if redactor is not None else Redactor()
        self.stdout: IO[str] = stdout if stdout is not None else sys.stdout
        self._terminal = terminal
        self._given_terminal = terminal
        self._services = services
        #: This run warned that the profile it writes shadows a credential_process profile:
        #: its answer is not remembered, so that every run warns.
        self._shadowing = False
        #: The resolved account's ``prompt``, once an account is resolved.
        self._prompt: str | None = None

    @property
    def terminal(self) -> Terminal:
        """The terminal every message and question goes through: without one, a dialog per
        the account's ``prompt`` (or ``SAMLJIT_PROMPT`` before an account is known)."""
        if self._terminal is None:
            from samljit.cli.wiring import open_prompt_terminal
            from samljit.common.dialog import env_prompt

            self._terminal = open_prompt_terminal(
                skip_prompt=bool(getattr(self.args, "skip_prompt", False)),
                quiet=bool(self.args.quiet),
                prompt=(
                    "terminal"  # a wizard of dialogs nobody asked for: flags do without
                    if getattr(self.args, "command", None) in NO_DIALOG_COMMANDS
                    else self._prompt or env_prompt(self.env) or "auto"
                ),
                env=self.env,
                scrub=self.redactor,
            )
        return self._terminal

    @property
    def config_path(self) -> Path:
        return config.config_path(self.args.config, self.env)

    @property
    def account_name(self) -> str:
        return config.account_name(self.args.idp_account, self.env)

    def load_config(self) -> Any:
        return config.load(self.config_path)

    def account(self, overrides: config.Overrides | None = None) -> config.Account:
        if getattr(self.args, "browser", False):  # --browser: this login goes through a browser
            overrides = (overrides or config.Overrides())._replace(provider=BROWSER_PROVIDER)
        account = config.resolve_account(
            self.load_config(),
            self.account_name,
            path=self.config_path,
            env=self.env,
            overrides=overrides,
        )
        if account.prompt != self._prompt:
            self._prompt = account.prompt
            built = self._terminal is not None and self._terminal is not self._given_terminal
            if built and self._services is None and not self.terminal.interactive:
                self._terminal = None  # chosen before the account said how to ask
        return account

    @property
    def services(self) -> Services:
        """The run's services, built on first use (a cached answer may need none)."""
        if self._services is None:
            from samljit.cli.wiring import build_services

            self._services = build_services(
                self.env, self.terminal, redactor=self.redactor, command=self.args.command
            )
        return self._services

    def warn_shadowing(self, account: config.Account, profiles: Sequence[str]) -> None:
        """Warn when writing one of ``profiles`` into the account's credentials file would
        shadow a ``credential_process`` profile of the AWS config file of that name."""
        from samljit.sinks.awsconfig import shadowed_process

        for profile in profiles:
            found = shadowed_process(profile, account.credentials_file, self.env)
            if found is not None:
                self._shadowing = True
                self.terminal.warn(
                    f"profile [{profile}], which samljit writes to {account.credentials_file}, "
                    f"shadows [profile {profile}] of {found}: the AWS SDKs and CLI read the "
                    "credentials file first and skip its credential_process until the written "
                    "keys expire; give one of the two another name (aws_profile or --profile "
                    "for samljit's)"
                )

    def remember(
        self,
        account: config.Account,
        grant: Grant,
        *,
        stdout: str = "",
        stderr: str = "",
        exec_env: Mapping[str, str] | None = None,
        unset: Sequence[str] = (),
        reason: str | None = None,
    ) -> None:
        """Remember this run's answer for the next identical one (:mod:`samljit.jit.answers`):
        replayed while the config, the cache entry and the credentials file are unchanged and
        the credentials are outside the refresh margin. ``reason`` goes into the remembered
        audit line (the key holds ``--reason`` and ``SAMLJIT_REASON``, so it stays true)."""
        from samljit.jit.flow import grant_key, reuse_event

        if self.mfa_token() or self._shadowing:
            return  # a one-time code is never written down; a warning is said every time
        from samljit.sinks.awsconfig import config_file

        services = self.services
        expires = grant.credentials.expiration.timestamp()
        reused = grant._replace(reused=True)
        answers.remember(
            self.env,
            self.words,
            watch=[
                str(self.config_path),
                str(services.cache.grant_path(grant_key(account, account.role_arn))),
                str(account.credentials_file),
                str(config_file(self.env)),  # a credential_process profile added: warn
            ],
            until=expires - account.refresh_margin,
            expires=expires,
            stdout=stdout,
            stderr=stderr,
            exec_env=exec_env,
            unset=unset,
            audit=services.audit.line(
                "grant.reused", reuse_event(account, reused, reason), time=answers.TIME_MARK
            ),
        )

    def reason(self) -> str | None:
        """``--reason``, else ``SAMLJIT_REASON``: why access is taken (``None``: not given)."""
        text = getattr(self.args, "reason", None)
        if text is None:
            text = self.env.get("SAMLJIT_REASON")
        text = (text or "").strip()
        if len(text) > MAX_REASON:
            raise UsageError(
                f"--reason (or SAMLJIT_REASON) is {len(text)} characters long; at most "
                f"{MAX_REASON} are kept",
                hint="say it in a sentence, and point at the ticket for the rest",
            )
        return text or None

    def assertion(self, account: config.Account) -> SamlAssertion:
        """The account's SAML assertion: a cached one that is still valid, else the IdP's."""
        services = self.services
        http = services.http_for(account)
        try:
            assertion, _ = assertion_for(
                account, services, http, mfa_token=self.mfa_token(), fresh=False
            )
        finally:
            http.close()
        return assertion

    def credential_env(self, account: config.Account, grant: Grant) -> dict[str, str]:
        """The variables that hand ``grant`` to a command (``exec``) or a shell (``script``)."""
        return credential_updates(
            grant.credentials,
            region=account.region or grant.credentials.region,
            account_name=account.name,
            role_arn=grant.role_arn,
            env=self.env,
        )

    def mfa_token(self) -> str | None:
        return getattr(self.args, "mfa_token", None) or self.env.get("SAMLJIT_MFA_TOKEN") or None

    def login(self, account: config.Account, **options: Any) -> Grant:
        """Credentials for the account's role: :func:`samljit.jit.flow.login` with this run's
        one-time MFA code, and its other ``options`` (``force``, ``write``, ``reason``…)."""
        return flow.login(  # not ``login``: the name of the login command's module here
            account, self.services, role_ref=account.role_arn, mfa_token=self.mfa_token(), **options
        )

    def out(self, line: str) -> None:
        """A result line on stdout (control characters escaped; tab and line feed kept)."""
        self.stdout.write(printable(line, newlines=True) + "\n")
        self.stdout.flush()

    def error(self, message: str) -> None:
        """An error line for failures a command reports with its own exit status."""
        sys.stderr.write(f"samljit: error: {printable(self.redactor(message), newlines=True)}\n")
        sys.stderr.flush()


def expiry_text(expiration: datetime, now: datetime) -> str:
    """``until 14:05 CET (59 min left)``; the date too when it is not today."""
    return answers.expiry_text(expiration.timestamp(), now.timestamp())


def describe_grant(
    grant: Grant, account: config.Account, now: datetime, *, expiry: str | None = None
) -> str:
    """The one success line after ``login`` (``expiry``: instead of the expiry text)."""
    arn = grant.role
    account_id = arn.account_id if arn is not None else "?"
    account_name = account.account_names.get(account_id)
    where = f"{account_name} ({account_id})" if account_name else account_id
    role_name = arn.name if arn is not None else ""
    expiry = expiry or expiry_text(grant.credentials.expiration, now)
    if grant.reused:
        return (
            f"Profile [{grant.profile}] already holds valid credentials for {role_name} in "
            f"{where}, {expiry}; nothing to do (--force logs in again)."
        )
    return f"Logged in: {role_name} in {where}; profile [{grant.profile}] valid {expiry}."
