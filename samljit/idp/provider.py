"""The IdP adapter interface and its registry (entry-point group ``samljit.providers``).

A provider turns a username, password and MFA into a base64 SAMLResponse. Everything it needs
is injected: the resolved :class:`~samljit.config.accounts.Account`, one
:class:`~samljit.idp.http.HttpClient` (one cookie jar), the
:class:`~samljit.cli.terminal.Terminal` and the run's
:class:`~samljit.redact.Redactor` (register every secret learned on the way). Built-in and
third-party providers register the same way::

    [project.entry-points."samljit.providers"]
    jumpcloud = "samljit.providers.jumpcloud:JumpCloudProvider"
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from samljit.cli.terminal import Terminal
from samljit.config.accounts import Account
from samljit.errors import ConfigError
from samljit.redact import Redactor

if TYPE_CHECKING:
    from samljit.idp.http import HttpClient

ENTRY_POINT_GROUP = "samljit.providers"


class LoginSecrets(NamedTuple):
    """What the user supplies to log in. ``password`` is ``None`` for providers that need none."""

    username: str
    password: str | None
    mfa_token: str | None = None


class Provider(ABC):
    """Base class of every IdP adapter."""

    #: Display name, as users write it in ``provider =`` (matched case-insensitively).
    name: ClassVar[str]
    #: MFA settings this provider understands (``Auto`` first).
    mfa_options: ClassVar[tuple[str, ...]] = ("Auto",)
    #: Whether the provider needs a username and password at all.
    needs_password: ClassVar[bool] = True
    #: Config keys an account of this provider must set (``configure`` asks for them).
    required_keys: ClassVar[tuple[str, ...]] = ("url",)

    def __init__(
        self,
        account: Account,
        http: HttpClient,
        terminal: Terminal,
        redactor: Redactor,
        *,
        events: Callable[..., None] | None = None,
    ) -> None:
        self.account = account
        self.http = http
        self.terminal = terminal
        self.redactor = redactor
        self._events = events

    def notify(self, event: str, **fields: str | None) -> None:
        """Report an audit event (``mfa.challenged`` with ``factor=``); never a secret."""
        if self._events is not None:
            self._events(event, **fields)

    @abstractmethod
    def login(self, secrets: LoginSecrets) -> str:
        """Authenticate and return the base64 SAMLResponse. Raise samljit errors only."""


def _entry_points() -> list[tuple[str, object]]:
    from importlib.metadata import entry_points

    return [(ep.name, ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]


def provider_names() -> list[str]:
    """Display names of every installed provider, sorted."""
    names = []
    for _, ep in _entry_points():
        try:
            names.append(_load(ep).name)
        except ConfigError:
            continue
    return sorted(set(names), key=str.lower)


def _load(ep: object) -> type[Provider]:
    try:
        cls = ep.load()  # type: ignore[attr-defined]
    except Exception as exc:  # a broken third-party plugin must not break samljit
        raise ConfigError(
            f"provider plugin {ep.name!r} failed to load: {exc}"  # type: ignore[attr-defined]
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"provider plugin {ep.name!r} is not a samljit Provider")  # type: ignore[attr-defined]
    return cls


def load_provider(name: str) -> type[Provider]:
    """The provider class for ``name`` (entry-point name or display name, any case)."""
    wanted = name.strip().lower()
    for ep_name, ep in _entry_points():
        if ep_name.lower() == wanted:
            return _load(ep)
    for _, ep in _entry_points():
        try:
            cls = _load(ep)
        except ConfigError:
            continue
        if cls.name.lower() == wanted:
            return cls
    known = ", ".join(provider_names()) or "none installed"
    raise ConfigError(f"unknown provider {name!r} (known: {known})")
