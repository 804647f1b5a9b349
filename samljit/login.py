"""The login flow: account → provider (HTTP, MFA) → assertion → role → STS → profile.

Everything the flow needs from the outside is injected through :class:`Runtime`; it talks to
the user only through ``runtime.terminal`` and reports failure only by raising samljit errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from samljit import assertion as saml
from samljit import credfile, roles
from samljit.config import Account
from samljit.http import HttpClient
from samljit.passwords import PasswordStore, resolve_password
from samljit.profile import credentials_from_profile, grants_role, is_fresh, profile_values
from samljit.provider import LoginSecrets, load_provider
from samljit.redact import Redactor
from samljit.sts import AwsCredentials
from samljit.terminal import Terminal


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    """The services one samljit run injects into the flow (tests swap any of them)."""

    env: Mapping[str, str]
    terminal: Terminal
    redactor: Redactor = field(default_factory=Redactor)
    passwords: PasswordStore | None = None
    http_factory: Callable[[Account], HttpClient] | None = None
    now: Callable[[], datetime] = _utcnow

    def http_for(self, account: Account) -> HttpClient:
        if self.http_factory is not None:
            return self.http_factory(account)
        if account.skip_verify:
            self.terminal.warn(
                f"TLS verification is off for account {account.name!r} (skip_verify = true)"
            )
        return HttpClient(verify=not account.skip_verify, env=self.env)

    def password_store(self) -> PasswordStore:
        if self.passwords is None:
            self.passwords = PasswordStore(self.terminal)
        return self.passwords


@dataclass(frozen=True)
class Grant:
    """Credentials for one role, fresh from STS or reused from the profile."""

    credentials: AwsCredentials
    profile: str
    role_arn: str | None
    reused: bool


def reusable(account: Account, role_ref: str | None, runtime: Runtime) -> Grant | None:
    """Still-valid credentials for the requested role in the account's profile, if any."""
    values = credfile.read_profile(account.credentials_file, account.aws_profile)
    credentials = credentials_from_profile(values) if values else None
    if credentials is None or not is_fresh(credentials, account.refresh_margin, runtime.now()):
        return None
    if not grants_role(credentials, role_ref, account):
        return None
    return Grant(credentials, account.aws_profile, None, reused=True)


def authenticate(
    account: Account, runtime: Runtime, *, mfa_token: str | None, http: HttpClient
) -> saml.SamlAssertion:
    """Log in at the IdP and return the parsed (and, when pinned, verified) assertion."""
    provider_cls = load_provider(account.provider)
    terminal = runtime.terminal
    username = account.username or ""
    password: str | None = None
    source = ""
    if provider_cls.needs_password:
        if not username:
            username = terminal.ask(
                "Username",
                what="the IdP username",
                hint="set username with `samljit configure`, or SAMLJIT_USERNAME",
            )
        password, source = resolve_password(
            account, username, env=runtime.env, store=runtime.password_store(), terminal=terminal
        )
        runtime.redactor.add(password)
    runtime.redactor.add(mfa_token)
    provider = provider_cls(account, http, terminal, runtime.redactor)
    encoded = provider.login(LoginSecrets(username, password, mfa_token))
    runtime.redactor.add(encoded)
    parsed = saml.parse(encoded)
    if (
        source == "prompt"
        and password
        and runtime.password_store().set(account, username, password)
    ):
        terminal.info("Password saved in the OS keyring.")
    return parsed


def login(
    account: Account,
    runtime: Runtime,
    *,
    role_ref: str | None,
    mfa_token: str | None = None,
    force: bool = False,
    write: bool = True,
) -> Grant:
    """Credentials for the role: reused from the profile when still valid, else a new login."""
    from samljit.sts import assume_role_with_saml

    if not force:
        cached = reusable(account, role_ref, runtime)
        if cached is not None:
            return cached
    http = runtime.http_for(account)
    try:
        assertion = authenticate(account, runtime, mfa_token=mfa_token, http=http)
        role = roles.select(
            assertion.roles,
            role_ref,
            aliases=account.role_aliases,
            account_names=account.account_names,
            terminal=runtime.terminal,
        )
        duration = account.session_duration or assertion.session_duration
        result = assume_role_with_saml(
            http,
            role_arn=role.role_arn,
            principal_arn=role.principal_arn,
            saml_response_b64=assertion.encoded,
            duration=duration,
            region=account.region,
            env=runtime.env,
        )
    finally:
        http.close()
    for note in result.notes:
        runtime.terminal.warn(note)
    credentials = result.credentials
    runtime.redactor.add(credentials.secret_access_key, credentials.session_token)
    if write:
        credfile.write_profile(
            account.credentials_file,
            account.aws_profile,
            profile_values(credentials, account.region),
        )
    return Grant(credentials, account.aws_profile, role.role_arn, reused=False)
