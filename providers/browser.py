"""Browser: sign in with the user's own Chromium, Chrome or Edge, whatever the IdP and its MFA.

samljit opens the account's ``url`` in a real browser (Playwright drives it; samljit never
downloads one) and waits for the IdP to POST the SAMLResponse to AWS sign-in. That POST is
caught inside the browser and answered with a local "you can close this window" page, so it
never leaves the machine; the flow then goes on as for any provider (role, STS, sinks).

* Headed by default: the user signs in, MFA and all, in the window. ``headless = true`` with
  ``browser_autofill = true`` fills the username and password samljit knows into the IdP's
  form (the visible password input and the text or e-mail input before it) and submits it,
  only on an https (or loopback http) page of the ``url``'s host and port, of a sign-in host
  the section's provider declares, or of ``browser_autofill_hosts`` (:class:`FillPolicy`).
* Nothing of the sign-in reaches an AWS sign-in host: requests there are caught by parsed
  URL (:func:`caught`), and redirects there (which Playwright does not route) resolve nowhere
  in the browser and are caught as failed requests (:func:`signin_host_rules`).
* Each account has its own browser profile (a 0700 directory under samljit's state
  directory), so the IdP's persistent cookies carry over between logins.
* ``timeout`` bounds the wait, with a countdown on the terminal; a closed browser, a timeout
  or Ctrl-C end the login with nothing written.

No setting or environment variable reaches into the browser: samljit's own tests attach
Chromium's virtual WebAuthn authenticator from outside the product (a ``sitecustomize`` that
only the test tree puts on ``PYTHONPATH``, see ``tests/support/seams``).

Playwright is an optional extra (``pip install 'samljit[browser]'``), imported only in
:meth:`BrowserProvider.login`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from samljit.aws.arn import PARTITIONS
from samljit.common.urls import is_loopback_host
from samljit.idp.api import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    DoctorFinding,
    KeyKind,
    LoginSecrets,
    NetworkError,
    PasswordNeed,
    Provider,
    ProviderKey,
    Waiting,
    printable,
    wait_until,
)
from samljit.idp.provider import option_of

if TYPE_CHECKING:
    from samljit.config.accounts import Account

INSTALL_PLAYWRIGHT = "pip install 'samljit[browser]'"
INSTALL_BROWSER = "apt-get install chromium"
#: The programs each ``browser_type`` looks for on ``PATH``, first found first.
PROGRAMS: dict[str, tuple[str, ...]] = {
    "chromium": (
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "microsoft-edge",
    ),
    "chrome": ("google-chrome", "google-chrome-stable"),
    "msedge": ("microsoft-edge", "microsoft-edge-stable"),
}
#: Where macOS keeps them (no ``PATH`` entry there).
MAC_APPS: dict[str, tuple[str, ...]] = {
    "chromium": (
        "/Applications/Chromium.app/Contents/MacOS/Chromium",
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    ),
    "chrome": ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",),
    "msedge": ("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",),
}
#: Chromium switches: no first-run pages, and no traffic of its own beside the sign-in.
BROWSER_ARGS = (
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DEFAULT_TIMEOUT = 300
TICK_MS = 250
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*\Z")

# The pages samljit answers caught requests with, shown at the caught URL: with an icon of
# their own, so the browser asks that host for no /favicon.ico either.
DONE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>samljit: signed in</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>Signed in</h1>
<p>samljit has the sign-in response and goes on in the terminal.
You can close this window.</p>
</body></html>
"""
WAITING_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>samljit</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>Waiting for the sign-in</h1>
<p>samljit is waiting for your IdP to send the sign-in response; nothing was sent to AWS.</p>
</body></html>
"""

# Finds the form to fill, without IdP-specific selectors: the first visible password input
# and the visible text or e-mail input before it (or, on a username-only step, the one visible
# input that looks like a login name). Marks them with data-samljit-fill for Playwright's
# fill/click, and reports what it found. ``window.__samljitFilled`` tells a page samljit
# filled from a new one.
_FIND_FORM = r"""
([doUsername]) => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const s = window.getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"
      && !el.disabled && !el.readOnly;
  };
  const inputs = Array.from(document.querySelectorAll("input")).filter(shown);
  const isText = (el) => el.type === "text" || el.type === "email";
  const mark = (el, what) => { if (el) el.setAttribute("data-samljit-fill", what); };
  const submitOf = (el) => {
    const form = el.form;
    if (!form) return null;
    return Array.from(form.querySelectorAll(
      "button[type=submit], button:not([type]), input[type=submit]")).find(shown) || null;
  };
  document.querySelectorAll("[data-samljit-fill]").forEach(
    (el) => el.removeAttribute("data-samljit-fill"));
  const again = !window.__samljitFilled;
  const password = inputs.find((el) => el.type === "password");
  if (password) {
    const user = inputs.slice(0, inputs.indexOf(password)).reverse().find(isText);
    mark(password, "password");
    mark(user, "username");
    mark(submitOf(password), "submit");
    window.__samljitFilled = true;
    return {form: "password", username: !!user, again: again};
  }
  if (!doUsername) return {form: ""};
  const named = /user|mail|login|logon|account|identifier/i;
  const users = inputs.filter((el) => isText(el) && (el.type === "email"
    || /username|email/.test(el.autocomplete || "") || named.test(el.name + " " + el.id)));
  if (users.length !== 1) return {form: ""};
  mark(users[0], "username");
  mark(submitOf(users[0]), "submit");
  window.__samljitFilled = true;
  return {form: "username", username: true, again: again};
}
"""

# Puts a value into the input it is called on, as typing would (the native setter, then the
# input and change events frameworks listen for). Called on the element handle found, so it
# runs in the document that element is in, or not at all.
_SET_VALUE = r"""
(el, value) => {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  el.focus();
  setter.call(el, value);
  el.dispatchEvent(new Event("input", {bubbles: true}));
  el.dispatchEvent(new Event("change", {bubbles: true}));
}
"""


def _flag(value: str | None, key: str, account: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{key} of account {account!r} must be true or false, not {value!r}")


#: Sign-in hosts of IdPs samljit has no provider for (a provider declares its own in
#: :attr:`Provider.signin_hosts`), by the section's ``provider`` name in lower case.
OTHER_IDPS: dict[str, tuple[str, ...]] = {"googleapps": ("accounts.google.com",)}
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


def signin_host_names() -> list[str]:
    """Chromium host patterns for every AWS sign-in host name, with a region before it or
    anything (a trailing dot) after it."""
    return [n for h in signin_hosts() for n in (f"{h}*", f"*.{h}*")]


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
    from samljit.idp.provider import load_provider

    declared: tuple[str, ...] = ()
    section = (account.section_provider or "").strip().lower()
    if section and section != BrowserProvider.name.lower():
        try:
            declared = load_provider(section).signin_hosts
        except ConfigError:  # not a provider of samljit's (nor an installed plugin)
            declared = OTHER_IDPS.get(section, ())
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


def find_browser(browser_type: str, env: Mapping[str, str]) -> str | None:
    """The first program of ``browser_type`` on the ``PATH`` of ``env`` (then, on macOS, in
    /Applications), or ``None``."""
    for name in PROGRAMS[browser_type]:
        found = shutil.which(name, path=env.get("PATH", os.defpath))
        if found:
            return found
    if sys.platform == "darwin":
        return next((app for app in MAC_APPS[browser_type] if os.access(app, os.X_OK)), None)
    return None


def proxy_settings(env: Mapping[str, str]) -> dict[str, str] | None:
    """Playwright's ``proxy`` from ``HTTPS_PROXY``/``HTTP_PROXY`` and ``NO_PROXY``, the way
    samljit's own HTTP client reads them."""

    def get(name: str) -> str:
        return (env.get(name) or env.get(name.lower()) or "").strip()

    raw = get("HTTPS_PROXY") or get("HTTP_PROXY")
    if not raw:
        return None
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    server = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    settings = {"server": server}
    if parts.username:
        settings["username"] = unquote(parts.username)
        settings["password"] = unquote(parts.password or "")
    bypass = get("NO_PROXY")
    if bypass:
        settings["bypass"] = ",".join(h.strip() for h in bypass.split(",") if h.strip())
    return settings


def profile_path(account: Account, env: Mapping[str, str]) -> Path:
    """Where the account's browser profile lives (``<state dir>/browser/<account>``)."""
    from samljit.common.paths import entry_key, state_dir

    name = account.name if _SAFE_NAME.match(account.name) else entry_key(account.name)
    return Path(state_dir(env)) / "browser" / name


def profile_dir(account: Account, env: Mapping[str, str]) -> Path:
    """The account's browser profile, made 0700 (and its parents) when missing."""
    from samljit.common.fsutil import private_dir

    path = profile_path(account, env)
    root, name = path.parent.parent, path.name
    try:
        private_dir(root)
        private_dir(root / "browser")
        return private_dir(root / "browser" / name)
    except OSError as exc:
        raise ConfigError(
            f"cannot use the browser profile directory {root / 'browser' / name}: {exc}"
        ) from None


#: Browser preferences that keep the sign-in to itself: no password manager (its leak check
#: sends a hash of the IdP username and password to Google; samljit keeps the password in
#: the OS keyring) and no autofill server queries about the IdP's forms; no preconnects (a
#: form posting to AWS sign-in would open a connection there while samljit catches the POST).
QUIET_PREFERENCES: dict[str, Any] = {
    "credentials_enable_service": False,
    "profile": {"password_manager_enabled": False, "password_manager_leak_detection": False},
    "autofill": {"enabled": False, "profile_enabled": False, "credit_card_enabled": False},
    "net": {"network_prediction_options": 2},
}


def quiet_preferences(profile: Path) -> None:
    """Set :data:`QUIET_PREFERENCES` in the profile's ``Default/Preferences`` (the browser's
    own JSON file, kept and rewritten by it), leaving the rest as it is."""
    import json

    from samljit.common.fsutil import atomic_write

    path = profile / "Default" / "Preferences"
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = {}
    if not isinstance(current, dict):
        current = {}

    def merge(into: dict[str, Any], wanted: Mapping[str, Any]) -> bool:
        changed = False
        for key, value in wanted.items():
            if isinstance(value, Mapping):
                if not isinstance(into.get(key), dict):
                    into[key] = {}
                changed = merge(into[key], value) or changed
            elif into.get(key) != value:
                into[key] = value
                changed = True
        return changed

    if merge(current, QUIET_PREFERENCES):
        path.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(path, json.dumps(current).encode(), mode=0o600)


# -- the IdP session (cookies): the flow keeps them in samljit's IdP-session store ----------
def browser_cookies(kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The IdP-session store's cookies (as the login's HTTP jar holds them: the flow loads the
    kept session there) as Playwright cookie dicts, session cookies included."""
    found: list[dict[str, Any]] = []
    for c in kept:
        domain = str(c["domain"])
        if c.get("host_only"):
            domain = domain.lstrip(".").removesuffix(".local")
        expires = c.get("expires")
        found.append(
            {
                "name": str(c["name"]),
                "value": str(c["value"]),
                "domain": domain,
                "path": str(c.get("path") or "/"),
                "expires": float(expires) if expires is not None else -1,
                "secure": bool(c.get("secure")),
            }
        )
    return found


def kept_cookies(cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Playwright's cookies in the store's form (``expires`` None for session cookies:
    they die with the browser process, so they are exactly what must be kept)."""
    return [
        {
            "name": c["name"],
            "value": c["value"],
            "domain": c["domain"],
            "path": c.get("path") or "/",
            "secure": bool(c.get("secure")),
            "expires": int(c["expires"]) if c.get("expires", -1) not in (-1, None) else None,
            "host_only": not str(c["domain"]).startswith("."),
        }
        for c in cookies
    ]


class BrowserProvider(Provider):
    name: ClassVar[str] = "Browser"
    password_need: ClassVar[PasswordNeed] = PasswordNeed.WHEN_ASKED  # for browser_autofill
    #: The hint when the browser refuses a host's certificate (what samljit did with the CA
    #: bundle, see :meth:`_trusting_environment`).
    tls_hint: str = (
        "if a proxy re-signs TLS, set AWS_CA_BUNDLE to your CA bundle (samljit hands it to the "
        "browser)"
        if sys.platform.startswith("linux")
        else "add your CA to the system's certificate store"
    )
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "IdP sign-in URL of the AWS app (opened in the browser)",
            required=True,
            question="IdP sign-in URL of the AWS app",
        ),
        ProviderKey(
            "browser_type",
            "chromium, chrome or msedge",
            default="chromium",
            question="Browser",
            kind=KeyKind.CHOICE,
            choices=("chromium", "chrome", "msedge"),
        ),
        ProviderKey(
            "browser_executable_path",
            "the browser program (default: the first of chromium, chromium-browser, "
            "google-chrome, google-chrome-stable, microsoft-edge on PATH)",
            question="Browser program (Enter: the first one on PATH)",
        ),
        ProviderKey(
            "headless",
            "true: run the browser without a window",
            default="false",
            question="Run the browser without a window?",
            kind=KeyKind.YES_NO,
        ),
        ProviderKey(
            "browser_autofill",
            "true: fill in the username and password samljit knows",
            default="false",
            question="Fill in the username and password samljit knows?",
            kind=KeyKind.YES_NO,
        ),
        ProviderKey(
            "timeout",
            "seconds to wait for the sign-in response",
            default=str(DEFAULT_TIMEOUT),
            question="Seconds to wait for the sign-in",
        ),
        ProviderKey(
            "target_url",
            "one more ACS URL to catch (besides AWS sign-in)",
            question="One more ACS URL to catch (Enter to skip)",
        ),
        ProviderKey(
            "browser_autofill_hosts",
            "more hosts (host or host:port, comma-separated) whose sign-in form "
            "browser_autofill may fill, besides the url's",
            question="More hosts whose sign-in form may be filled (Enter to skip)",
        ),
    )

    @classmethod
    def doctor_checks(
        cls, accounts: Sequence[Account], env: Mapping[str, str]
    ) -> list[DoctorFinding]:
        """On Linux a CA bundle (``AWS_CA_BUNDLE``, …) reaches the browser through NSS's
        ``certutil``: say whether it is there."""
        from samljit.common.http import CA_BUNDLE_VARIABLES
        from samljit.idp.nssdb import INSTALL_CERTUTIL

        if not sys.platform.startswith("linux") or not any(
            env.get(name) for name in CA_BUNDLE_VARIABLES
        ):
            return []
        names = [a.name for a in accounts]
        plural = "s" if len(names) > 1 else ""
        subject = f"CA bundle in the browser (account{plural} {', '.join(names)})"
        if shutil.which("certutil", path=env.get("PATH")) is None:
            return [
                DoctorFinding(
                    "fix",
                    subject,
                    "certutil is not installed: the browser would not trust the bundle's CAs",
                    f"{INSTALL_CERTUTIL} (Fedora: nss-tools)",
                )
            ]
        return [
            DoctorFinding("ok", subject, "certutil adds the bundle's CAs to the browser's store")
        ]

    @classmethod
    def asks_password(cls, account: Account) -> bool:
        """Only ``browser_autofill`` types the username and password (the flow's, which keeps a
        prompted password in the keyring); otherwise the user signs in in the window."""
        value = option_of(cls, account, "browser_autofill")
        return _flag(value, "browser_autofill", account.name)

    # -- settings ------------------------------------------------------------------------
    def _settings(self) -> tuple[str, bool, bool, float, str | None]:
        name = self.account.name
        browser_type = (self.option("browser_type") or "chromium").strip().lower()
        if browser_type not in PROGRAMS:
            raise ConfigError(
                f"browser_type of account {name!r} must be chromium, chrome or msedge, "
                f"not {browser_type!r}"
            )
        headless = _flag(self.option("headless"), "headless", name)
        autofill = _flag(self.option("browser_autofill"), "browser_autofill", name)
        raw = (self.option("timeout") or str(DEFAULT_TIMEOUT)).strip()
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 24 * 3600:
            raise ConfigError(
                f"timeout of account {name!r} must be a number of seconds above 0, not {raw!r}"
            )
        target = (self.option("target_url") or "").strip() or None
        if target is not None and urlsplit(target).scheme not in ("http", "https"):
            raise ConfigError(f"target_url of account {name!r} must be an http(s) URL: {target!r}")
        return browser_type, headless, autofill, timeout, target

    def _executable(self, browser_type: str) -> str:
        env = self.services.env
        configured = (self.option("browser_executable_path") or "").strip()
        if configured:
            path = os.path.expanduser(configured)
            found = path if os.sep in path else shutil.which(path, path=env.get("PATH"))
            if not found or not os.access(found, os.X_OK) or os.path.isdir(found):
                raise ConfigError(
                    f"browser_executable_path of account {self.account.name!r} is not a "
                    f"program: {configured}",
                    hint="give the full path of Chromium, Chrome or Edge",
                )
            return found
        found = find_browser(browser_type, env)
        if found is None:
            names = ", ".join(PROGRAMS[browser_type])
            raise ConfigError(
                f"no browser found for the Browser provider (looked for {names} on PATH)",
                hint=f"install one (`{INSTALL_BROWSER}`) or set browser_executable_path "
                f"(`samljit configure -a {self.account.name} --browser-executable-path PATH`)",
            )
        return found

    def _check_display(self, headless: bool) -> None:
        env = self.services.env
        if headless or not sys.platform.startswith("linux"):
            return
        if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
            return
        raise ConfigError(
            "the Browser provider needs a display to show its window (DISPLAY and "
            "WAYLAND_DISPLAY are unset)",
            hint=f"run it where there is a display, or set `headless = true` and "
            f"`browser_autofill = true` in account {self.account.name!r} to sign in without one",
        )

    # -- the login -------------------------------------------------------------------------
    def login(self, secrets: LoginSecrets) -> str:
        browser_type, headless, autofill, timeout, target = self._settings()
        self._check_display(headless)
        executable = self._executable(browser_type)
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise ConfigError(
                "the Browser provider needs Playwright, which is not installed",
                hint=f"run `{INSTALL_PLAYWRIGHT}` (with pipx: `pipx inject samljit playwright`)",
            ) from None
        policy = fill_policy(self.account, self.option("browser_autofill_hosts"))
        if not autofill and headless:
            self.terminal.info(
                "The browser runs headless without browser_autofill: only an IdP session it "
                "still holds can sign in."
            )
        profile = profile_dir(self.account, self.services.env)
        quiet_preferences(profile)
        proxy = proxy_settings(self.services.env)
        if proxy is not None:
            self.redactor.add(proxy.get("password"))
        if proxy is not None:  # the sign-in hosts resolve nowhere: not through the proxy either
            bypass = [b for b in proxy.get("bypass", "").split(",") if b]
            proxy["bypass"] = ",".join([*bypass, *signin_host_names()])
        launch: dict[str, Any] = {
            "executable_path": executable,
            "headless": headless,
            "args": [*BROWSER_ARGS, signin_host_rules()],
            "proxy": proxy,
            "ignore_https_errors": self.account.skip_verify,
        }
        environment = self._trusting_environment(profile)
        if environment is not None:
            launch["env"] = environment
        session = _Session(
            self,
            timeout=timeout,
            secrets=secrets if autofill else None,
            policy=policy,
            headless=headless,
        )
        with _quiet_on_interrupt():
            return self._drive(sync_playwright, session, profile, launch, target)

    def _trusting_environment(self, profile: Path) -> dict[str, str] | None:
        """The browser's environment when it must trust the CA bundle samljit honours
        (Linux: an NSS database of samljit's, see :mod:`samljit.idp.nssdb`), else None."""
        from samljit.idp import nssdb

        env = self.services.env
        found = nssdb.configured_bundle(env)
        if found is None or self.account.skip_verify or not sys.platform.startswith("linux"):
            return None
        variable, bundle = found
        try:
            home = nssdb.browser_home(variable, bundle, profile, env)
        except nssdb.TrustStoreError as exc:
            self.tls_hint = exc.hint or exc.message
            self.terminal.warn(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
            return None
        self.tls_hint = f"{variable} ({bundle}) does not hold the CA that signed it"
        return nssdb.browser_environment(home, env)

    def _drive(
        self,
        sync_playwright: Any,
        session: _Session,
        profile: Path,
        launch: dict[str, Any],
        target: str | None,
    ) -> str:
        executable = launch["executable_path"]
        with sync_playwright() as playwright:
            try:
                context = playwright.chromium.launch_persistent_context(str(profile), **launch)
            except Exception as exc:  # Playwright's Error: the browser did not start
                raise ConfigError(
                    f"the browser {executable} did not start: {_first_line(exc)}",
                    hint="set browser_executable_path to a working Chromium, Chrome or Edge",
                ) from None
            try:
                return session.run(context, target)
            finally:
                session.close(context)


class _Session:
    """One browser sign-in: routes, autofill, the countdown; the SAMLResponse caught."""

    def __init__(
        self,
        provider: BrowserProvider,
        *,
        timeout: float,
        secrets: LoginSecrets | None,
        policy: FillPolicy,
        headless: bool,
    ) -> None:
        self.provider = provider
        self.services = provider.services
        self.timeout = timeout
        #: The flow's secrets, read only when a form asks (``None``: no browser_autofill).
        self.secrets = secrets
        self.policy = policy
        self.headless = headless
        self.target: str | None = None
        self.response: str | None = None
        self.bad_post: str | None = None
        self.closed = False
        self.password_sent = False
        self.username_sent = False
        self.form_again = False
        self.untrusted: tuple[str, str] | None = None
        self.not_filled: set[str] = set()

    # -- the catch -------------------------------------------------------------------------
    def _is_caught(self, url: str) -> bool:
        return caught(url, self.target)

    def _caught(self, route: Any, request: Any) -> None:
        if request.method != "POST":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=WAITING_PAGE)
            return
        self._take(request)
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=DONE_PAGE)

    def _take(self, request: Any) -> None:
        """Keep the SAMLResponse a POST to a caught URL holds."""
        try:
            body = request.post_data or ""
        except (UnicodeDecodeError, ValueError):
            body = ""
        fields = parse_qs(body, keep_blank_values=True)
        value = "".join((fields.get("SAMLResponse") or [""])[0].split())
        if value:
            self.provider.redactor.add(value)
            self.response = value
        else:
            self.bad_post = str(origin(request.url) or "")

    def _on_close(self, *_: Any) -> None:
        self.closed = True

    def _on_request_failed(self, request: Any) -> None:
        if self._is_caught(request.url):  # a redirect to AWS sign-in: it resolved nowhere
            if request.method == "POST" and self.response is None:
                self._take(request)
            return
        failure = request.failure or ""
        if failure.startswith("net::ERR_CERT_") and request.is_navigation_request():
            self.untrusted = (urlsplit(request.url).netloc, failure.split()[0])

    def _untrusted(self, host: str, failure: str) -> NetworkError:
        return NetworkError(
            f"the browser does not trust the certificate of {printable(host)} "
            f"({printable(failure[:80])})",
            hint=self.provider.tls_hint,
        )

    # -- the wait --------------------------------------------------------------------------
    def run(self, context: Any, target: str | None) -> str:
        from playwright.sync_api import Error as PlaywrightError

        services = self.services
        account = self.provider.account
        self.target = target
        context.route(self._is_caught, self._caught)
        context.on("close", self._on_close)
        context.on("requestfailed", self._on_request_failed)
        http = self.provider.http  # the flow loaded the kept IdP session into this jar
        held = http.cookies_for(self.provider.session_hosts())
        if held:
            context.add_cookies(browser_cookies(held))
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.goto(account.url, wait_until="commit")
        except PlaywrightError as exc:
            failure = _first_line(exc)
            if self.untrusted is not None:  # at the url, or where it redirected
                raise self._untrusted(*self.untrusted) from None
            if "net::ERR_CERT_" in failure and not self.closed:
                code = failure[failure.index("net::ERR_CERT_") :].split()[0]
                raise self._untrusted(urlsplit(account.url).netloc, code) from None
            if self.response is None and self.bad_post is None and not self.closed:
                raise NetworkError(
                    f"the browser could not open {account.url}: {failure}",
                    hint="check the account's url, your network and HTTPS_PROXY/NO_PROXY",
                ) from None
        terminal = self.provider.terminal

        def ended() -> None:
            """Raise when the sign-in cannot finish any more (checked around each wait)."""
            if self.response is not None:
                return
            if self.bad_post is not None:
                raise AssertionFormatError(
                    f"the IdP posted to {self.bad_post} without a SAMLResponse"
                )
            if self.untrusted is not None:
                raise self._untrusted(*self.untrusted)
            if self.closed or not context.pages:
                raise AuthenticationError(
                    "the browser was closed before sign-in finished",
                    hint="run the command again and finish the sign-in in the browser",
                )

        def poll(_: Waiting) -> str | None:
            ended()
            if self.response is None:
                if self.secrets is not None:
                    self._autofill(context)
                try:
                    context.pages[0].wait_for_timeout(TICK_MS)  # Playwright delivers events
                except PlaywrightError:
                    if not context.pages:
                        self.closed = True
                ended()
            return self.response

        ended()
        response = self.response
        if response is None:
            response = wait_until(
                poll,
                services=services,
                seconds=self.timeout,
                every=0,
                waiting="Waiting for the sign-in in the browser:",
                expired=self._timed_out,
                note="(Ctrl-C cancels)",
            )
        terminal.info("Signed in through the browser.")
        with contextlib.suppress(PlaywrightError):  # the flow keeps the IdP hosts' ones
            http.load_cookies(kept_cookies(list(context.cookies())))
        return response

    def _timed_out(self) -> AuthenticationError:
        seconds = f"{self.timeout:g}"
        if self.form_again:
            hint = (
                "the IdP showed its sign-in form again after samljit filled it in: check the "
                "password (SAMLJIT_PASSWORD or the keyring), or run with headless = false to see"
            )
        elif self.secrets is not None:
            hint = "run with headless = false to see where the sign-in stops"
        else:
            hint = f"finish the sign-in in the browser within {seconds} s, or raise timeout"
        return AuthenticationError(
            f"no sign-in response from the browser within {seconds} s (timeout = {seconds})",
            hint=hint,
        )

    # -- autofill ----------------------------------------------------------------------------
    def _may_fill(self, page: Any) -> bool:
        """Whether the page (the document it shows now) is one browser_autofill fills: asked
        right before each field and before the submit. Headless, another host ends the login;
        headed, its form is left to the user."""
        host = self.policy.refusal(page.url)
        if host is None:
            return True
        if self.headless:
            raise AuthenticationError(
                f"browser_autofill does not fill the sign-in form on {host}: not https on the "
                "account's url host nor a host of browser_autofill_hosts",
                hint=f"if {host} is where your IdP signs you in, add it to browser_autofill_hosts "
                f"of account {self.provider.account.name!r}, or run with headless = false",
            )
        if host not in self.not_filled:
            self.not_filled.add(host)
            self.provider.terminal.warn(
                f"browser_autofill does not fill the sign-in form on {host} (not the account's "
                "url host nor a host of browser_autofill_hosts): sign in in the window if it "
                "is your IdP's"
            )
        return False

    def _autofill(self, context: Any) -> None:
        """Fill the username and password into the first page's form, once each. Each value
        goes into the element found, in the document it was found in (a page that navigated
        meanwhile gets nothing), after :meth:`_may_fill` passed for the page."""
        from playwright.sync_api import Error as PlaywrightError

        if self.password_sent and self.form_again:
            return
        secrets = self.secrets
        assert secrets is not None
        page = context.pages[0]
        try:
            found = page.evaluate(_FIND_FORM, [not self.username_sent])
            kind = found.get("form") if isinstance(found, dict) else ""
            if not kind:
                return
            if self.password_sent:
                if kind == "password" and found.get("again"):
                    self.form_again = True
                return
            if not self._may_fill(page):
                return
            username = page.query_selector("[data-samljit-fill=username]")
            password = page.query_selector("[data-samljit-fill=password]")
            submit = page.query_selector("[data-samljit-fill=submit]")
            if username is not None and found.get("username"):
                name = _off_the_loop(lambda: secrets.username)
                if name and self._may_fill(page):
                    username.evaluate(_SET_VALUE, name)
            if kind == "password":
                if password is None:
                    return
                value = _off_the_loop(lambda: secrets.password or "")
                if not self._may_fill(page):
                    return
                password.evaluate(_SET_VALUE, value)
                self.password_sent = True
                last = password
            else:
                if username is None:
                    return
                self.username_sent = True
                last = username
            if not self._may_fill(page):
                return
            if submit is not None:
                submit.click(timeout=2000, no_wait_after=True)
            else:
                last.press("Enter", timeout=2000, no_wait_after=True)
        except PlaywrightError:
            return  # the page navigated meanwhile: look again at the next tick

    def close(self, context: Any) -> None:
        with contextlib.suppress(Exception):  # already gone: closed by the user, or Ctrl-C
            context.close()


@contextlib.contextmanager
def _quiet_on_interrupt() -> Iterator[None]:
    """Ctrl-C reaches Playwright's driver too (it runs in samljit's process group) and ends
    it; what Playwright then logs about the requests it left unanswered would bury samljit's
    own line. On SIGINT those loggers are silenced before the KeyboardInterrupt unwinds."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: Any) -> None:
        import logging

        for name in ("asyncio", "playwright"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _off_the_loop(read: Callable[[], str]) -> str:
    """``read()`` in a thread of its own: it may prompt, and the prompt runs an asyncio loop,
    which this thread cannot (Playwright's sync API keeps its loop marked running here)."""
    import threading

    done: list[str] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            done.append(read())
        except BaseException as exc:  # Ctrl-C at the prompt, --skip-prompt: raised below
            failed.append(exc)

    worker = threading.Thread(target=work, name="samljit-browser-secret", daemon=True)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return done[0]


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return printable(line[:300])
