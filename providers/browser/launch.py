"""Finding and preparing the browser: the program (``browser_type``,
``browser_executable_path``), the account's own profile (0700) with its quiet preferences, the
proxy, the CA bundle handed to the browser's NSS store, and the account's settings."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from samljit.idp.api import (
    Account,
    ConfigError,
    PasswordNeed,
    Provider,
    atomic_write,
    current_platform,
    entry_key,
    nssdb,
    private_dir,
    state_dir,
)

INSTALL_PLAYWRIGHT = "pip install 'samljit[browser]'"
INSTALL_BROWSER = "apt-get install chromium"
#: The values of ``browser_type`` (where each is looked for: :mod:`samljit.common.platform`).
BROWSER_TYPES = ("chromium", "chrome", "msedge")
#: Chromium switches: no first-run pages, and no traffic of its own beside the sign-in.
BROWSER_ARGS = (
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DEFAULT_TIMEOUT = 300
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*\Z")


def _flag(value: str | None, key: str, account: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{key} of account {account!r} must be true or false, not {value!r}")


def find_browser(browser_type: str, env: Mapping[str, str]) -> str | None:
    """The program of ``browser_type``: on ``PATH`` (Linux), in its app bundle (macOS), in
    its install folder (Windows); see :mod:`samljit.common.platform`. ``None``: none found."""
    return current_platform().find_browser(browser_type, env)


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
    name = account.name if _SAFE_NAME.match(account.name) else entry_key(account.name)
    return Path(state_dir(env)) / "browser" / name


#: GoogleApps's default: Google Chrome when it is installed (Google refuses some
#: automation-controlled Chromium builds), else what ``chromium`` finds.
CHROME_FIRST = "chrome-first"


def find_preferred(browser_type: str, env: Mapping[str, str]) -> str | None:
    """:func:`find_browser`, with :data:`CHROME_FIRST` for Chrome, then Chromium (or Edge)."""
    if browser_type == CHROME_FIRST:
        return find_browser("chrome", env) or find_browser("chromium", env)
    return find_browser(browser_type, env)


def profile_dir(account: Account, env: Mapping[str, str]) -> Path:
    """The account's browser profile, made 0700 (and its parents) when missing."""
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
    # no browser sign-in: Chrome's account check (accounts.google.com/ListAccounts) stays off
    "signin": {"allowed": False},
}


def quiet_preferences(profile: Path) -> None:
    """Set :data:`QUIET_PREFERENCES` in the profile's ``Default/Preferences`` (the browser's
    own JSON file, kept and rewritten by it), leaving the rest as it is."""
    import json

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


class BrowserLaunch(Provider):
    """The Browser provider's settings and what it prepares before the browser starts."""

    password_need: ClassVar[PasswordNeed] = PasswordNeed.WHEN_ASKED  # for browser_autofill
    #: The hint when the browser refuses a host's certificate (what samljit did with the CA
    #: bundle, see :meth:`_trusting_environment`).
    tls_hint: str = (
        "if a proxy re-signs TLS, set AWS_CA_BUNDLE to your CA bundle (samljit hands it to the "
        "browser)"
        if current_platform().browser_trust_via_nss
        else "add your CA to the system's certificate store"
    )

    # -- settings ------------------------------------------------------------------------
    #: The ``browser_type`` when the account sets none (GoogleApps: :data:`CHROME_FIRST`).
    default_programs: ClassVar[str] = "chromium"

    def _settings(self) -> tuple[str, bool, bool, float, str | None]:
        name = self.account.name
        browser_type = (self.option("browser_type") or self.default_programs).strip().lower()
        if browser_type not in BROWSER_TYPES and browser_type != self.default_programs:
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
        found = find_preferred(browser_type, env)
        if found is None:
            looked = current_platform().browser_looked_for(
                "chromium" if browser_type == CHROME_FIRST else browser_type
            )
            raise ConfigError(
                f"no browser found for the Browser provider ({looked})",
                hint=f"install one (`{INSTALL_BROWSER}`) or set browser_executable_path "
                f"(`samljit configure -a {self.account.name} --browser-executable-path PATH`)",
            )
        return found

    def _check_display(self, headless: bool) -> None:
        env = self.services.env
        if headless or current_platform().has_display(env):
            return
        raise ConfigError(
            "the Browser provider needs a display to show its window (DISPLAY and "
            "WAYLAND_DISPLAY are unset)",
            hint=f"run it where there is a display, or set `headless = true` and "
            f"`browser_autofill = true` in account {self.account.name!r} to sign in without one",
        )

    def _trusting_environment(self, profile: Path) -> dict[str, str] | None:
        """The browser's environment when it must trust the CA bundle samljit honours
        (Linux: an NSS database of samljit's, see :mod:`samljit.idp.nssdb`), else None."""
        env = self.services.env
        found = nssdb.configured_bundle(env)
        trusts = current_platform().browser_trust_via_nss
        if found is None or self.account.skip_verify or not trusts:
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
