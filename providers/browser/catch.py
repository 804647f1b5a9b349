"""What the browser keeps to itself, and where autofill may type.

* Nothing of the sign-in reaches an AWS sign-in host: requests there are caught by parsed
  URL (:func:`caught`), and redirects there (which Playwright does not route) resolve nowhere
  in the browser and are caught as failed requests (:func:`signin_host_rules`); ``target_url``
  is caught too, compared as a parsed, normalised URL.
* ``browser_autofill`` fills a form only on an https (or loopback http) page of the ``url``'s
  host and port, of a sign-in host the section's provider declares, or of
  ``browser_autofill_hosts`` (:class:`FillPolicy`).
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from samljit.idp.api import (
    PARTITIONS,
    Account,
    ConfigError,
    is_loopback_host,
    load_provider,
    printable,
)

_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    """Where a URL points: scheme, host (lower case, without a trailing dot), port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _PORTS[self.scheme] else f"{host}:{self.port}"


def origin(url: str) -> Origin | None:
    """The :class:`Origin` of an http(s) URL (the browser's own pages have none)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _PORTS or not host:
        return None
    return Origin(scheme, host, _PORTS[scheme] if port is None else port)


def signin_hosts() -> tuple[str, ...]:
    """Every partition's AWS sign-in host."""
    return tuple(p.signin_host for p in PARTITIONS.values() if p.signin_host is not None)


def is_signin_host(host: str) -> bool:
    """Whether ``host`` is an AWS sign-in host or one under it (``us-east-1.signin…``)."""
    host = host.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in signin_hosts())


def _acs_key(url: str) -> tuple[Origin, str] | None:
    found = origin(url)
    if found is None:
        return None
    path = unquote(urlsplit(url.strip()).path).rstrip("/").lower()
    return found, path


def caught(url: str, target_url: str | None = None) -> bool:
    """Whether the browser keeps a request to ``url`` to itself: anything for an AWS sign-in
    host of any partition (global or regional; any scheme, port or path), and ``target_url``
    (any query), compared as parsed, normalised URLs (case, a trailing dot, the default port
    and a trailing ``/`` make no difference)."""
    found = origin(url)
    if found is None:
        return False
    if is_signin_host(found.host):
        return True
    if not target_url:
        return False
    return _acs_key(url) == _acs_key(target_url)


#: Hosts the browser contacts on its own during a sign-in whatever its switches say (seen in
#: a private network with a recording DNS server, Debian's Chromium 156, ``--disable-
#: component-update`` and ``--disable-background-networking`` given): the component updater's
#: ``update.googleapis.com`` and the extension updater's ``clients2.google.com``. They resolve
#: nowhere in the browser, as the AWS sign-in hosts do: no lookup, no connection.
QUIET_HOSTS = ("update.googleapis.com", "clients2.google.com")


def signin_host_names() -> list[str]:
    """Chromium host patterns for every AWS sign-in host name, with a region before it or
    anything (a trailing dot) after it; and :data:`QUIET_HOSTS`."""
    names = [n for h in signin_hosts() for n in (f"{h}*", f"*.{h}*")]
    return [*names, *(f"{h}*" for h in QUIET_HOSTS)]


def signin_host_rules() -> str:
    """The ``--host-resolver-rules`` switch that makes those names resolve nowhere: a request
    no route catches (a redirect: Playwright does not route those) fails in the browser instead
    of leaving the machine, and is caught there (``_Session._on_request_failed``). With a
    proxy, the names are in its bypass list too (the browser resolves them itself)."""
    rules = ", ".join(f"MAP {name} ~NOTFOUND" for name in signin_host_names())
    return f"--host-resolver-rules={rules}"


class FillPolicy(NamedTuple):
    """Where ``browser_autofill`` fills the sign-in form: https pages (http only on loopback)
    on the ``url``'s host and port, on the sign-in hosts the IdP's provider declares (port
    443), or on a host of ``browser_autofill_hosts`` (``host`` or ``host:port``)."""

    url: Origin | None
    declared: frozenset[str]
    listed: frozenset[tuple[str, int | None]]

    def refusal(self, url: str) -> str | None:
        """``None`` when a form on the page at ``url`` may be filled; else the page's host,
        to name in the refusal."""
        found = origin(url)
        if found is None:
            return printable(url.split(":", 1)[0][:40] or "a blank page")
        if found.scheme == "http" and not is_loopback_host(found.host):
            return printable(f"http://{found}")
        if self.url is not None and (found.host, found.port) == (self.url.host, self.url.port):
            return None
        if found.scheme == "https" and found.port == 443 and found.host in self.declared:
            return None
        default = _PORTS[found.scheme]
        for host, port in self.listed:
            if host == found.host and (port or default) == found.port:
                return None
        return printable(str(found))


def fill_policy(account: Account, listed: str | None) -> FillPolicy:
    """The :class:`FillPolicy` of ``account`` (``listed``: its ``browser_autofill_hosts``)."""
    from . import BrowserProvider

    declared: tuple[str, ...] = ()
    section = (account.section_provider or "").strip().lower()
    if section and section != BrowserProvider.name.lower():
        try:
            declared = load_provider(section).signin_hosts
        except ConfigError:  # not a provider of samljit's (nor an installed plugin)
            declared = ()
    hosts: set[tuple[str, int | None]] = set()
    for entry in (listed or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            parts = urlsplit("//" + entry)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or not parts.hostname or parts.path or parts.query or parts.username:
            raise ConfigError(
                f"browser_autofill_hosts of account {account.name!r}: {entry!r} is not a host "
                "name (host or host:port, comma-separated)"
            )
        hosts.add((parts.hostname.rstrip("."), port))
    return FillPolicy(
        origin(account.url), frozenset(h.lower().rstrip(".") for h in declared), frozenset(hosts)
    )
