"""The login flow: account → provider (HTTP, MFA) → assertion → role → STS → sinks.

Reuse comes first, in this order: credentials cached for the (account, role), then the
profile in the credentials file (for commands that write it), then — inside a single flight
per (account, role) — the assertion cached for the account until its ``NotOnOrAfter`` (a role
switch needs no IdP round trip and no MFA), and only then a login at the IdP — which first
tries the IdP's own session kept for the account (:mod:`samljit.jit.sessions`), asking for
the password and MFA only when the IdP asks for them.

Everything the flow needs from the outside is injected through
:class:`~samljit.common.services.Services`; it talks to the user only through ``services.terminal``
and reports failure only by raising samljit errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from samljit.aws import roles
from samljit.aws.arn import Arn
from samljit.aws.credentials import AwsCredentials
from samljit.common import errors
from samljit.common.errors import AssertionFormatError, AuthenticationError, AwsError, SamljitError
from samljit.common.paths import entry_key
from samljit.common.services import Services
from samljit.config.accounts import Account, check_profile_name
from samljit.config.passwords import ask_username, resolve_password
from samljit.idp.provider import LoginSecrets, Provider, load_provider
from samljit.jit.cache import CachedError, CachedGrant
from samljit.jit.sessions import idp_user
from samljit.saml import assertion as saml
from samljit.sinks.profile import grants_role, held_credentials, is_fresh, profile_values

if TYPE_CHECKING:
    from samljit.aws.sts import StsResult
    from samljit.common.http import HttpClient

#: A cached assertion is used only while at least this much of its lifetime is left.
ASSERTION_MARGIN = timedelta(seconds=30)
DEFAULT_PROFILE_TEMPLATE = "{account_name}-{role_name}"


class Grant(NamedTuple):
    """Credentials for one role, fresh from STS or reused."""

    credentials: AwsCredentials
    profile: str
    #: The role the login chose (``None``: credentials reused from the profile).
    arn: Arn | None
    reused: bool

    @property
    def role_arn(self) -> str | None:
        return str(self.arn) if self.arn is not None else None

    @property
    def role(self) -> Arn | None:
        """The role: the one the login chose, else the one the session is of (``None`` when
        neither is known)."""
        if self.arn is not None:
            return self.arn
        session = Arn.try_parse(self.credentials.assumed_role_arn)
        return session.assumed_role_to_role() if session is not None else None

    @property
    def partition(self) -> str:
        """The AWS partition of the role (``aws`` when it is not known)."""
        return self.role.partition if self.role is not None else "aws"


def role_key(account: Account, role_ref: str | None) -> str:
    """The role part of the credentials cache's key (kept in the entry as ``RoleRef``): the
    reference, its alias followed (``--role ALIAS`` and ``--role ARN`` of the same role share
    their credentials); "" without one."""
    return roles.reference(role_ref, account.role_aliases).key if role_ref else ""


def grant_key(account: Account, role_ref: str | None) -> str:
    return entry_key(account.name, role_key(account, role_ref))


def assertion_key(account: Account) -> str:
    return entry_key(account.name, account.url)


def _expires(credentials: AwsCredentials) -> str:
    return credentials.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- reuse ------------------------------------------------------------------------------
def reusable(
    account: Account, role_ref: str | None, services: Services, *, profile_too: bool = True
) -> Grant | None:
    """Still-valid credentials for the requested role: from the cache, else the profile."""
    now = services.now()
    cached = services.cache.get_grant(grant_key(account, role_ref))
    if (
        cached is not None
        and is_fresh(cached.credentials, account.refresh_margin, now)
        and _made_for(cached, account, role_ref)
    ):
        return Grant(
            cached.credentials, account.aws_profile, Arn.try_parse(cached.role_arn), reused=True
        )
    if not profile_too:
        return None
    credentials = held_credentials(account)
    if credentials is None or not is_fresh(credentials, account.refresh_margin, now):
        return None
    if not grants_role(credentials, role_ref, account):
        return None
    if (
        cached is not None
        and cached.credentials.access_key_id == credentials.access_key_id
        and not _made_for(cached, account, role_ref)
    ):
        return None  # the profile holds what the cache says another IdP or user obtained
    return Grant(credentials, account.aws_profile, None, reused=True)


def _made_for(cached: CachedGrant, account: Account, role_ref: str | None) -> bool:
    """Whether cached credentials answer this request: obtained from the account's IdP url
    by its username, for the role ``role_ref`` resolves to now (an alias pointed elsewhere,
    or an account of the same name in another config file, is not answered by them)."""
    return (
        cached.url == account.url
        and cached.username == idp_user(account)
        and grants_role(cached.credentials, role_ref, account)
    )


def _into_profile(account: Account, grant: Grant) -> Grant:
    """``grant`` written into the account's profile unless the profile holds it already
    (credentials cached by ``credential-process`` or ``exec`` answer a ``login`` too)."""
    held = held_credentials(account)
    if held is not None and held.access_key_id == grant.credentials.access_key_id:
        return grant
    _write_profile(account, account.aws_profile, grant.credentials)
    return grant._replace(reused=False)


def _write_profile(account: Account, profile: str, credentials: AwsCredentials) -> None:
    from samljit.sinks import credfile  # not on the credential-process path

    credfile.write_profile(
        account.credentials_file, profile, profile_values(credentials, account.region)
    )


# -- the IdP ----------------------------------------------------------------------------
def read_assertion(account: Account, services: Services, encoded: str) -> saml.SamlAssertion:
    """Parse (and, when a certificate is pinned, verify) a SAMLResponse."""
    from samljit.saml import verify

    return verify.check(encoded, account, now=services.now(), terminal=services.terminal)


class _Asked:
    """What the lazy secrets resolved: where the password came from, and whether the IdP
    asked for anything at all (with a kept session: it no longer honours it)."""

    def __init__(self) -> None:
        self.source = ""
        self.password: str | None = None
        self.credentials = False


def _login_secrets(
    account: Account,
    services: Services,
    *,
    needs_password: bool,
    mfa_token: str | None,
    asked: _Asked,
    on_ask: Callable[[], object],
) -> LoginSecrets:
    """Secrets resolved only when the provider reads them (see :class:`LoginSecrets`)."""
    terminal = services.terminal
    if not needs_password:
        return LoginSecrets(account.username or "", None, mfa_token)
    known: dict[str, str] = {}

    def username() -> str:
        if "username" not in known:
            if not asked.credentials:
                asked.credentials = True
                on_ask()
            known["username"] = account.username or ask_username(terminal)
        return known["username"]

    def password() -> str | None:
        name = username()
        value, asked.source = resolve_password(
            account, name, env=services.env, store=services.passwords, terminal=terminal
        )
        services.redactor.add(value)
        asked.password = value
        return value

    if account.username:
        return LoginSecrets(account.username, None, mfa_token, ask_password=password)
    return LoginSecrets("", None, mfa_token, ask_username=username, ask_password=password)


def authenticate(
    account: Account, services: Services, *, mfa_token: str | None, http: HttpClient
) -> saml.SamlAssertion:
    """Log in at the IdP and return the parsed (and, when pinned, verified) assertion.

    The IdP session kept for the account (:mod:`samljit.jit.sessions`) is tried first: its
    cookies go into ``http`` and the password and MFA are asked for only when the IdP asks.
    A session the IdP no longer honours is forgotten and the normal login runs, silently."""
    provider_cls = load_provider(account.provider)
    account = provider_cls.check_account(account)
    store = services.sessions
    services.redactor.add(mfa_token)
    held = None
    if account.disable_sessions:
        store.forget(account)
    else:
        held = store.load(account)
    events = _provider_events(account, services)
    encoded: str | None = None
    asked = _Asked()

    def secrets_for(on_ask: Callable[[], object]) -> LoginSecrets:
        return _login_secrets(
            account,
            services,
            needs_password=provider_cls.asks_password(account),
            mfa_token=mfa_token,
            asked=asked,
            on_ask=on_ask,
        )

    if held is not None:
        services.redactor.add(*(c["value"] for c in held.cookies))
        http.load_cookies(held.cookies)
        provider = provider_cls(account, http, services, events=events)
        provider.session_loaded = True
        secrets = secrets_for(lambda: store.forget(account))
        try:
            encoded = _provider_login(provider, secrets, asked)
        except (AuthenticationError, AssertionFormatError):
            if asked.credentials:
                raise
            # the kept cookies led to an error page, not to a login form: start afresh
            store.forget(account)
            http.drop_cookies()
    if encoded is None:
        asked = _Asked()
        provider = provider_cls(account, http, services, events=events)
        secrets = secrets_for(lambda: None)
        encoded = _provider_login(provider, secrets, asked)
    services.redactor.add(encoded)
    parsed = read_assertion(account, services, encoded)
    if not account.disable_sessions:
        cookies = http.cookies_for(provider.session_hosts())
        services.redactor.add(*(c["value"] for c in cookies))
        store.save(account, cookies)
    password = asked.password
    if (
        asked.source == "prompt"
        and password
        and services.passwords.set(account, secrets.username, password)
    ):
        services.terminal.info("Password saved in the OS keyring.")
    return parsed


def _provider_login(provider: Provider, secrets: LoginSecrets, asked: _Asked) -> str:
    try:
        return provider.login(secrets)
    except AuthenticationError as exc:
        if asked.source == "keyring":
            exc.hint = (
                "the password came from the OS keyring; if it changed, run "
                f"`samljit configure -a {provider.account.name}` to store the new one"
            )
        raise


def _provider_events(account: Account, services: Services) -> Callable[..., None]:
    def notify(name: str, **fields: str | None) -> None:
        services.event(name, account=account.name, **fields)

    return notify


def assertion_for(
    account: Account,
    services: Services,
    http: HttpClient,
    *,
    mfa_token: str | None,
    fresh: bool,
    use_cache: bool = True,
) -> tuple[saml.SamlAssertion, bool]:
    """The assertion (cached for the account while valid, unless ``fresh``) and whether it
    came from the cache."""
    cache = services.cache
    key = assertion_key(account)
    if use_cache and not fresh:
        cached = cache.get_assertion(key)
        if (
            cached is not None
            and cached.username == idp_user(account)
            and cached.not_on_or_after - ASSERTION_MARGIN > services.now()
        ):
            services.redactor.add(cached.encoded)
            try:
                found = read_assertion(account, services, cached.encoded)
            except SamljitError:
                cache.remove_assertion(key)
            else:
                return encrypted_roles(account, services, http, found), True
    services.event("login.started", account=account.name)
    parsed = authenticate(account, services, mfa_token=mfa_token, http=http)
    if use_cache and parsed.not_on_or_after is not None:
        cache.put_assertion(key, parsed.encoded, parsed.not_on_or_after, username=idp_user(account))
    return encrypted_roles(account, services, http, parsed), False


def encrypted_roles(
    account: Account, services: Services, http: HttpClient, parsed: saml.SamlAssertion
) -> saml.SamlAssertion:
    """An assertion encrypted for AWS with its roles filled in: the full ARN ``role_arn``
    names, else those the AWS sign-in page lists for it; each with ``principal_arn`` (the
    IAM SAML provider, ``saml-provider/NAME`` completed with the role's account). A plain
    assertion is returned as it is."""
    if not parsed.encrypted:
        return parsed
    from samljit.aws import signin_page
    from samljit.aws.arn import acs_for_urn
    from samljit.saml.verify import encrypted_destination_partition

    principal = (account.options.get("principal_arn") or "").strip()
    if not principal:
        raise errors.ConfigError(
            f"IdP account {account.name!r}: the IdP encrypts the assertion for AWS, so no "
            "role's SAML provider can be read from it; principal_arn is needed",
            hint=f"add `principal_arn = arn:aws:iam::ACCOUNT:saml-provider/NAME` (or "
            f"`saml-provider/NAME`) to [{account.name}] in the config file",
        )
    wanted = (account.role_arn or "").strip()
    given = roles.reference(wanted, account.role_aliases).arn if wanted else None
    arns: list[Arn]
    if given is not None and given.is_role:
        arns = [given]
    else:
        destination = parsed.destination
        if destination and encrypted_destination_partition(destination) is None:
            destination = None
        url = signin_page.page_url(services.env, destination, acs_for_urn(account.aws_urn))
        listed = signin_page.roles_from_page(http, url, parsed.encoded)
        arns = [arn for arn in (Arn.try_parse(r.role_arn) for r in listed) if arn is not None]
        aliases = tuple(dict((r.account_id, r.alias) for r in listed if r.alias).items())
        parsed = parsed._replace(page_aliases=aliases)
    granted = tuple(roles.Role(arn, _principal_for(principal, arn)) for arn in arns)
    return parsed._replace(roles=granted)


def _principal_for(principal: str, role: Arn) -> Arn:
    """``principal_arn`` as configured, ``saml-provider/NAME`` completed with the partition
    and account of ``role``."""
    if principal.startswith("arn:"):
        return Arn.parse(principal)
    return Arn(role.partition, "iam", "", role.account_id, principal.lstrip("/"))


# -- STS --------------------------------------------------------------------------------
def _assume(
    account: Account,
    services: Services,
    http: HttpClient,
    role: roles.Role,
    assertion: saml.SamlAssertion,
) -> StsResult:
    from samljit.aws.sts import assume_role_with_saml

    result = assume_role_with_saml(
        http,
        role=role,
        saml_response_b64=assertion.encoded,
        duration=account.session_duration or assertion.session_duration,
        region=account.region,
        env=services.env,
        destination=assertion.addressed_to,
    )
    for note in result.notes:
        services.terminal.warn(note)
    credentials = result.credentials
    services.redactor.add(credentials.secret_access_key, credentials.session_token)
    return result


def _select(
    account: Account, services: Services, parsed: saml.SamlAssertion, role_ref: str | None
) -> roles.Role:
    return roles.select(
        parsed.roles,
        role_ref,
        aliases=account.role_aliases,
        account_names=parsed.account_names(account.account_names),
        terminal=services.terminal,
    )


def _new_grant(
    account: Account,
    services: Services,
    *,
    role_ref: str | None,
    mfa_token: str | None,
    force: bool,
    use_cache: bool,
) -> tuple[roles.Role, AwsCredentials]:
    http = services.http_for(account)
    try:
        parsed, cached = assertion_for(
            account, services, http, mfa_token=mfa_token, fresh=force, use_cache=use_cache
        )
        role = _select(account, services, parsed, role_ref)
        try:
            result = _assume(account, services, http, role, parsed)
        except AwsError as exc:
            if not cached or exc.code != "ExpiredTokenException":
                raise
            services.terminal.info("AWS refused the cached assertion as expired; logging in again.")
            services.cache.remove_assertion(assertion_key(account))
            parsed, _ = assertion_for(
                account, services, http, mfa_token=mfa_token, fresh=True, use_cache=use_cache
            )
            role = _select(account, services, parsed, role_ref)
            result = _assume(account, services, http, role, parsed)
    finally:
        http.close()
    return role, result.credentials


def _replay(error: CachedError) -> SamljitError:
    """The error another process got, raised again here (same class, message and hint)."""
    cls = getattr(errors, error.kind, None)
    if not (isinstance(cls, type) and issubclass(cls, SamljitError)):
        cls = SamljitError
    replayed: SamljitError = Exception.__new__(cls)
    SamljitError.__init__(replayed, error.message, hint=error.hint)
    return replayed


def login(
    account: Account,
    services: Services,
    *,
    role_ref: str | None,
    mfa_token: str | None = None,
    force: bool = False,
    write: bool = True,
    use_cache: bool = True,
    read_profile: bool | None = None,
    reason: str | None = None,
) -> Grant:
    """Credentials for the role: reused while valid, else a new login (one per
    (account, role) at a time across processes). ``write`` also writes the profile;
    ``read_profile`` (default: ``write``) lets valid credentials in the profile answer.
    ``reason`` (``--reason``) is recorded with the grant in the audit log."""
    from samljit.common.fsutil import LockTimeout

    cache = services.cache
    key = grant_key(account, role_ref)
    if use_cache and not force:
        found = reusable(
            account, role_ref, services, profile_too=write if read_profile is None else read_profile
        )
        if found is not None:
            _reused(account, services, found, reason)
            return _into_profile(account, found) if write else found
    since = services.now()
    try:
        with cache.flight(key, timeout=services.flight_timeout) if use_cache else nullcontext():
            if use_cache and not force:
                found = reusable(account, role_ref, services, profile_too=False)
                if found is not None:  # another process logged in while this one waited
                    _reused(account, services, found, reason)
                    return _into_profile(account, found) if write else found
                failed = cache.get_error(key)
                if failed is not None and failed.time >= since:
                    raise _replay(failed)
            try:
                role, credentials = _new_grant(
                    account,
                    services,
                    role_ref=role_ref,
                    mfa_token=mfa_token,
                    force=force,
                    use_cache=use_cache,
                )
            except SamljitError as exc:
                if use_cache:
                    cache.put_error(key, exc, services.now())
                services.event("login.failed", account=account.name, error=exc.message)
                raise
            if use_cache:
                cache.remove_error(key)
                cache.put_grant(
                    key,
                    CachedGrant(
                        credentials,
                        role.role_arn,
                        account.name,
                        role_key(account, role_ref),
                        account.url,
                        idp_user(account),
                    ),
                )
    except LockTimeout:
        raise AuthenticationError(
            f"another samljit process has been logging in to {account.name!r} for "
            f"{int(services.flight_timeout)} s; gave up waiting",
            hint="finish or cancel the other login, then try again",
        ) from None
    grant = Grant(credentials, account.aws_profile, role.arn, reused=False)
    if write:
        _write_profile(account, account.aws_profile, credentials)
    services.event(
        "grant.issued",
        account=account.name,
        role_arn=role.role_arn,
        profile=account.aws_profile if write else None,
        expires=_expires(credentials),
        reason=reason,
    )
    return grant


def reuse_event(account: Account, grant: Grant, reason: str | None = None) -> dict[str, str | None]:
    """The fields of the ``grant.reused`` event for ``grant``."""
    return {
        "account": account.name,
        "role_arn": grant.role_arn,
        "profile": grant.profile,
        "expires": _expires(grant.credentials),
        "reason": reason,
    }


def _reused(account: Account, services: Services, grant: Grant, reason: str | None) -> None:
    services.event("grant.reused", **reuse_event(account, grant, reason))


def profile_name(template: str, account: Account, role: roles.Role) -> str:
    """A profile name from ``profile_template`` (``{account_name}``, ``{account_id}``,
    ``{role_name}``, ``{idp_account}``)."""
    try:
        name = template.format(
            account_name=account.account_names.get(role.account_id, role.account_id),
            account_id=role.account_id,
            role_name=role.role_name,
            idp_account=account.name,
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise errors.ConfigError(
            f"profile_template {template!r} is not usable ({exc})",
            hint="use {account_name}, {account_id}, {role_name} and {idp_account}",
        ) from None
    return check_profile_name(name, "profile_template gives the profile")


def profile_names(template: str, account: Account, granted: Sequence[roles.Role]) -> list[str]:
    """One profile name per role from ``profile_template``; two roles with one name is a
    :class:`~samljit.common.errors.ConfigError`."""
    names = [profile_name(template, account, role) for role in granted]
    if len(set(names)) != len(names):
        raise errors.ConfigError(
            f"profile_template {template!r} gives several roles the same profile name",
            hint="add {account_id} or {role_name} to the template",
        )
    return names


def login_all_roles(
    account: Account,
    services: Services,
    *,
    template: str,
    mfa_token: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> list[Grant]:
    """One profile per role in the assertion (one IdP login at most)."""
    cache = services.cache
    http = services.http_for(account)
    grants: list[Grant] = []
    try:
        parsed, _ = assertion_for(account, services, http, mfa_token=mfa_token, fresh=force)
        names = profile_names(template, account, parsed.roles)
        for role, name in zip(parsed.roles, names, strict=True):
            credentials = _assume(account, services, http, role, parsed).credentials
            _write_profile(account, name, credentials)
            cache.put_grant(
                grant_key(account, role.role_arn),
                CachedGrant(
                    credentials,
                    role.role_arn,
                    account.name,
                    role.role_arn,
                    account.url,
                    idp_user(account),
                ),
            )
            services.event(
                "grant.issued",
                account=account.name,
                role_arn=role.role_arn,
                profile=name,
                expires=_expires(credentials),
                reason=reason,
            )
            grants.append(Grant(credentials, name, role.arn, reused=False))
    finally:
        http.close()
    return grants
