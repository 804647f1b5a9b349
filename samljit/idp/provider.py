"""The provider API (version 2): the IdP adapter base class, declared config keys, the
password need, and the registry (entry-point group ``samljit.providers``). A provider imports
all it uses from :mod:`samljit.idp.api`, which re-exports these.

A provider turns a username, password and MFA into a base64 SAMLResponse. Everything it needs
is injected: the resolved :class:`~samljit.config.accounts.Account`, one
:class:`~samljit.common.http.HttpClient` (one cookie jar) and the run's
:class:`~samljit.common.services.Services` (terminal, redactor, clocks, sleeper, environment). It
uses nothing global: no ``time.sleep``, no ``os.environ``, no printing, no ``requests``
objects (the HTTP client has cookie methods). Built-in and
third-party providers register the same way::

    [project.entry-points."samljit.providers"]
    jumpcloud = "samljit.providers.jumpcloud:JumpCloudProvider"

The entry-point name is the provider's name in lower case (one entry per alias), so logging in
imports only the provider the account names.
"""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from samljit.common.errors import ConfigError
from samljit.config.accounts import KEY_NAMES, Account

if TYPE_CHECKING:
    from samljit.common.http import HttpClient
    from samljit.common.redact import Redactor
    from samljit.common.services import Services
    from samljit.common.terminal import Terminal

ENTRY_POINT_GROUP = "samljit.providers"
#: The provider API this samljit speaks. A plugin declares the version it was written for in
#: ``Provider.api_version``; another version is refused with one clear line.
API_VERSION = 2
_KEY_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class KeyKind(enum.Enum):
    """How ``configure`` asks for a provider's key."""

    #: A line of text (a URL, an id, a number).
    TEXT = "text"
    #: Yes or no, asked ``Question? [y/N]:`` and kept as ``true``/``false``.
    YES_NO = "yes/no"
    #: One of the key's ``choices`` (completed as typed).
    CHOICE = "choice"
    #: A secret: never asked nor written to the file (``SAMLJIT_<NAME>`` in the environment).
    SECRET = "secret"  # noqa: S105 (the name of a kind, not a password)


class ProviderKey(NamedTuple):
    """A config key a provider declares: ``configure`` asks for it and takes it as a flag
    (``app_id`` → ``--app-id``), the config file keeps it, the saml2aws import maps it, and
    :meth:`Provider.option` reads it. A declared key named like a core key (``url``) gives
    that key the provider's default and required-ness.

    ``help`` is the whole explanation (``--help``, and ``configure`` shows it when the user
    answers ``?``); ``question`` is the short question ``configure`` asks, ``kind`` how."""

    name: str
    help: str
    default: str | None = None
    required: bool = False
    #: A secret (a client secret, say) is never written to the config file: it is read from
    #: the environment variable :attr:`variable`, else from the OS keyring (where
    #: ``configure --<name>`` puts it), and redacted everywhere.
    secret: bool = False
    #: The saml2aws config key this one comes from, when it has another name there.
    saml2aws: str | None = None
    #: The environment variable of a secret key, when not ``SAMLJIT_<NAME>``
    #: (``SAMLJIT_ONELOGIN_CLIENT_SECRET``).
    env: str | None = None
    #: Whether interactive ``configure`` asks for it (``False``: a setting few accounts need,
    #: such as Duo's ``duo_device``: a flag and the file only).
    ask: bool = True
    #: The short question ``configure`` asks (default: ``help``).
    question: str | None = None
    #: How it is asked (default: :attr:`KeyKind.SECRET` for a secret, else text).
    kind: KeyKind | None = None
    #: The answers a :attr:`KeyKind.CHOICE` key takes.
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_secret(self) -> bool:
        return self.secret or self.kind is KeyKind.SECRET

    @property
    def asked_as(self) -> KeyKind:
        return KeyKind.SECRET if self.is_secret else self.kind or KeyKind.TEXT

    @property
    def prompt(self) -> str:
        return self.question or self.help

    @property
    def variable(self) -> str:
        """The environment variable a secret key is read from."""
        return self.env or f"SAMLJIT_{self.name.upper()}"


def secret_entry(account_name: str, key: str) -> str:
    """The keyring entry (the "username" under the account's service) of a secret key."""
    return f"[{account_name}] {key}"


class PasswordNeed(enum.Enum):
    """When a provider needs the username and password."""

    #: Every sign-in at this IdP takes them (a kept IdP session may still skip asking).
    ALWAYS = "always"
    #: Only when the IdP asks for them (a browser sign-in that autofills the form).
    WHEN_ASKED = "when asked"
    #: Never (the provider signs in some other way).
    NEVER = "never"


class DoctorFinding(NamedTuple):
    """One line of ``samljit doctor`` that a provider adds for its accounts:
    ``level`` is ``ok``, ``note``, ``skip`` or ``fix`` (then ``fix`` says how)."""

    level: str
    subject: str
    text: str
    fix: str | None = None


class LoginSecrets:
    """What the user supplies to log in. ``password`` is ``None`` for providers that need none.

    The flow passes ``ask_username``/``ask_password`` instead of values: the username (when
    not configured) and the password are then resolved (environment, keyring, prompt) the
    first time the provider reads them, so a login the IdP answers from its own session asks
    for nothing. A provider should therefore read them only when the IdP asks for them.
    """

    __slots__ = ("_ask_password", "_ask_username", "_password", "_username", "mfa_token")

    def __init__(
        self,
        username: str = "",
        password: str | None = None,
        mfa_token: str | None = None,
        *,
        ask_username: Callable[[], str] | None = None,
        ask_password: Callable[[], str | None] | None = None,
    ) -> None:
        self._username = username
        self._password = password
        self.mfa_token = mfa_token
        self._ask_username = ask_username
        self._ask_password = ask_password

    @property
    def username(self) -> str:
        if self._ask_username is not None:
            ask, self._ask_username = self._ask_username, None
            self._username = ask()
        return self._username

    @property
    def password(self) -> str | None:
        if self._ask_password is not None:
            ask, self._ask_password = self._ask_password, None
            self._password = ask()
        return self._password

    @property
    def given_password(self) -> str | None:
        """The password when it is known already (never asks for it)."""
        return self._password if self._ask_password is None else None

    def __repr__(self) -> str:
        return f"LoginSecrets(username={self._username!r}, password=<hidden>)"


class Provider(ABC):
    """Base class of every IdP adapter."""

    #: Display name, as users write it in ``provider =`` (matched case-insensitively).
    name: ClassVar[str]
    #: Other names ``provider =`` may use (each also an entry-point name).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: The provider API version this class was written for.
    api_version: ClassVar[int] = API_VERSION
    #: MFA settings this provider understands (``Auto`` first).
    mfa_options: ClassVar[tuple[str, ...]] = ("Auto",)
    #: When the provider needs the username and password (the flow resolves them lazily:
    #: environment, keyring, prompt, the first time the provider reads them).
    password_need: ClassVar[PasswordNeed] = PasswordNeed.ALWAYS
    #: Hosts of this provider's IdP, besides ``url``'s, where it shows its sign-in form (Entra
    #: ID's ``login.microsoftonline.com``): ``login --browser`` with ``browser_autofill`` fills
    #: the form there too (https only).
    signin_hosts: ClassVar[tuple[str, ...]] = ()
    #: The config keys of this provider's own (and core keys it gives a default or requires).
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "the IdP's sign-in URL of the AWS app (where a browser would start the sign-in)",
            required=True,
            question="IdP sign-in URL of the AWS app",
        ),
    )

    def __init__(
        self,
        account: Account,
        http: HttpClient,
        services: Services,
        *,
        events: Callable[..., None] | None = None,
    ) -> None:
        self.account = account
        self.http = http
        self.services = services
        self._events = events
        #: True when the flow loaded the IdP session samljit kept for this account into
        #: ``http`` (see :mod:`samljit.jit.sessions`): start where a browser would, at the
        #: sign-in or SSO page, before anything that needs the password.
        self.session_loaded = False

    @property
    def terminal(self) -> Terminal:
        return self.services.terminal

    @property
    def redactor(self) -> Redactor:
        return self.services.redactor

    def notify(self, event: str, **fields: str | None) -> None:
        """Report an audit event (``mfa.challenged`` with ``factor=``); never a secret."""
        if self._events is not None:
            self._events(event, **fields)

    def option(self, key: str) -> str | None:
        """The account's value of a key this provider declares, else the declared default
        (a secret key: from its environment variable, else the OS keyring; never the file)."""
        declared = self.key(key)
        if declared is not None and declared.is_secret:
            value = self.services.env.get(declared.variable) or None
            if value is None:
                value = self.services.passwords.get(
                    self.account, secret_entry(self.account.name, key)
                )
            self.redactor.add(value)
            return value
        return option_of(type(self), self.account, key)

    @classmethod
    def mfa_setting(cls, value: str) -> str | None:
        """``value`` as this provider's ``mfa`` setting is written, or ``None`` when the
        provider does not know it (default: one of :attr:`mfa_options`, any case)."""
        wanted = value.strip().lower()
        return next((m for m in cls.mfa_options if m.lower() == wanted), None)

    @classmethod
    def asks_password(cls, account: Account) -> bool:
        """Whether a login of ``account`` may need the username and password; the flow then
        hands them over lazily (:class:`LoginSecrets`), and keeps a prompted password in the
        keyring. Default: unless :attr:`password_need` is ``NEVER`` (a ``WHEN_ASKED`` provider
        may say per account, as Browser does for ``browser_autofill``)."""
        return cls.password_need is not PasswordNeed.NEVER

    @classmethod
    def ask_url(cls, ask: Callable[[str, str], str], current: str | None) -> str | None:
        """``configure``'s question for ``url`` when the provider builds it from parts (Google:
        the IdP id and the SP id): ``ask(question, default)`` asks one; returns the URL (checked
        by ``configure`` as any ``url``), or ``None`` for no answer. The default, ``NotImplemented``
        here, means "ask for the URL itself"."""
        return NotImplemented  # type: ignore[no-any-return]

    @classmethod
    def key(cls, name: str) -> ProviderKey | None:
        return next((k for k in cls.keys if k.name == name), None)

    @classmethod
    def check_account(cls, account: Account) -> Account:
        """The account as this provider sees it: declared defaults of core keys applied,
        required keys present. Raises :class:`ConfigError` naming what is missing."""
        url = account.url or (cls.key("url") or ProviderKey("url", "")).default or ""
        if url != account.url:
            account = account._replace(url=url)
        for key in cls.keys:
            if key.required and not option_of(cls, account, key.name):
                if key.is_secret:
                    continue  # from the environment, checked when the provider reads it
                raise ConfigError(
                    f"IdP account {account.name!r} ({cls.name}) has no {key.name}",
                    hint=f"run `samljit configure -a {account.name} {key.flag} …`",
                )
        return account

    def session_hosts(self) -> list[str]:
        """The IdP's own hosts: their cookies are the IdP session samljit keeps after a
        successful login (those of every other host are not). Default: the hosts of ``url``
        and ``api_url``; a provider whose sign-in spans another host of its own adds it."""
        hosts: list[str] = []
        for url in (self.account.url, self.account.api_url):
            host = urlsplit(url).hostname if url else None
            if host and host.lower() not in hosts:
                hosts.append(host.lower())
        return hosts

    @classmethod
    def doctor_checks(
        cls, accounts: Sequence[Account], env: Mapping[str, str]
    ) -> list[DoctorFinding]:
        """What ``samljit doctor`` should also check for ``accounts`` (this provider's),
        e.g. a program the provider runs. Default: nothing. Must be quick and touch no
        network."""
        return []

    @abstractmethod
    def login(self, secrets: LoginSecrets) -> str:
        """Authenticate and return the base64 SAMLResponse. Raise samljit errors only."""


def option_of(cls: type[Provider], account: Account, key: str) -> str | None:
    declared = cls.key(key)
    if key in KEY_NAMES:
        value = getattr(account, key, None)
        value = str(value) if value not in (None, "") else None
    else:
        value = account.options.get(key)
    if value is None and declared is not None:
        return declared.default
    return value


# -- the registry ------------------------------------------------------------------------
class Plugins:
    """The installed providers, found through entry points and loaded only on demand."""

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        self._warn = warn
        self._warned: set[str] = set()

    @staticmethod
    def _entry_points() -> list[Any]:
        from importlib.metadata import entry_points

        return list(entry_points(group=ENTRY_POINT_GROUP))

    def load(self, name: str) -> type[Provider]:
        """The provider class for ``name`` (its name or an alias, any case). Imports only
        that provider's module."""
        wanted = name.strip().lower()
        for ep in self._entry_points():
            if ep.name.lower() == wanted:
                return _load(ep)
        for cls in self.all():  # a plugin registered under another entry-point name
            if wanted in {n.lower() for n in (cls.name, *cls.aliases)}:
                return cls
        known = ", ".join(c.name for c in self.all()) or "none installed"
        raise ConfigError(f"unknown provider {name!r} (known: {known})")

    def all(self) -> list[type[Provider]]:
        """Every provider that loads, each once, sorted by name; a plugin that fails to load
        is reported once through ``warn`` instead of vanishing."""
        found: dict[str, type[Provider]] = {}
        for ep in self._entry_points():
            try:
                cls = _load(ep)
            except ConfigError as exc:
                if self._warn is not None and ep.name not in self._warned:
                    self._warned.add(ep.name)
                    self._warn(exc.message)
                continue
            found.setdefault(cls.name, cls)
        return sorted(found.values(), key=lambda c: c.name.lower())

    def secret_keys(self) -> Iterator[tuple[ProviderKey, list[str]]]:
        """Every provider-declared secret key, with the providers declaring it (``configure``
        takes each as a flag whose value goes to the OS keyring only)."""
        owners: dict[str, tuple[ProviderKey, list[str]]] = {}
        for cls in self.all():
            for key in cls.keys:
                if key.is_secret:
                    owners.setdefault(key.name, (key, []))[1].append(cls.name)
        yield from owners.values()

    def declared_keys(self) -> Iterator[tuple[ProviderKey, list[str]]]:
        """Every provider-declared key that is not a core key, with the providers declaring
        it (for ``configure``'s flags)."""
        owners: dict[str, tuple[ProviderKey, list[str]]] = {}
        for cls in self.all():
            for key in cls.keys:
                if key.name not in KEY_NAMES and not key.is_secret:
                    owners.setdefault(key.name, (key, []))[1].append(cls.name)
        yield from owners.values()


def _api_mismatch(ep: Any, version: object) -> ConfigError:
    return ConfigError(
        f"provider plugin {ep.name!r} ({ep.value}) was written for provider API "
        f"{version}; this samljit speaks API {API_VERSION}",
        hint="upgrade the plugin (API 2 imports everything from samljit.idp.api; see "
        "docs/providers.md), or use a samljit that speaks its API",
    )


#: Modules provider API 1 had plugins import, which API 2 moved or re-exports from
#: :mod:`samljit.idp.api`: a plugin failing on one of them was written for API 1.
_API_1_MODULES = frozenset(
    {
        "samljit.errors",
        "samljit.text",
        "samljit.redact",
        "samljit.services",
        "samljit.idp.http",
    }
)


def _load(ep: Any) -> type[Provider]:
    try:
        cls = ep.load()
    except ModuleNotFoundError as exc:
        if exc.name in _API_1_MODULES:
            raise _api_mismatch(ep, 1) from exc
        raise ConfigError(
            f"provider plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:  # a broken third-party plugin must not break samljit
        raise ConfigError(
            f"provider plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"provider plugin {ep.name!r} ({ep.value}) is not a samljit Provider")
    if cls.api_version != API_VERSION:
        raise _api_mismatch(ep, cls.api_version)
    for key in cls.keys:
        if not _KEY_NAME.match(key.name):
            raise ConfigError(f"provider plugin {ep.name!r} declares a bad key name {key.name!r}")
    return cls


def load_provider(name: str) -> type[Provider]:
    """The provider class for ``name`` (entry-point name, display name or alias, any case)."""
    return Plugins().load(name)


def provider_names(warn: Callable[[str], None] | None = None) -> list[str]:
    """Display names of every installed provider, sorted."""
    return [cls.name for cls in Plugins(warn).all()]
