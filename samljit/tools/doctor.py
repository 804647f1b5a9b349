"""``samljit doctor``: check what a login depends on and say what to fix.

Checks, in order: the config file (it parses; each account resolves and names an installed
provider; a pinned certificate is readable and current; the file is not writable by others),
the OS keyring, each credentials file (mode 0600, it parses), the clock against each IdP's
``Date`` header (one HEAD request, 3-second timeout; an IdP that cannot be reached is
skipped with a line saying so), the proxy variables, and the CA bundle variables.

Each finding is ``ok``, ``note`` (fine, worth knowing), ``skip`` (could not check) or ``fix``
(with what to do), handed to the ``report`` callable as it is found; the ``doctor`` command
prints them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from samljit.common.errors import ConfigError, SamljitError
from samljit.common.platform import current
from samljit.config import accounts as config
from samljit.sinks import credfile

#: How far the local clock may be from the IdP's (samljit's own tolerance when checking an
#: assertion's validity window; AWS STS allows about as much).
CLOCK_TOLERANCE_SECONDS = 180
CLOCK_TIMEOUT = (3.0, 3.0)
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")


@dataclass(frozen=True)
class Finding:
    level: str  #: ok, note, skip or fix
    subject: str
    text: str
    fix: str | None = None


class Doctor:
    def __init__(
        self, env: Mapping[str, str], config_path: Path, report: Callable[[Finding], None]
    ) -> None:
        self.env = env
        self.config_path = config_path
        self.report = report
        self.findings: list[Finding] = []

    def add(self, level: str, subject: str, text: str, fix: str | None = None) -> None:
        finding = Finding(level, subject, text, fix)
        self.findings.append(finding)
        self.report(finding)

    def run(self) -> list[Finding]:
        """Every check, in order; the findings that need fixing."""
        accounts = self.accounts()
        self.keyring()
        self.credentials_files(accounts)
        self.clock(accounts)
        self.proxies()
        self.ca_bundles()
        self.provider_checks(accounts)
        return [f for f in self.findings if f.level == "fix"]

    # -- config ----------------------------------------------------------------------------
    def accounts(self) -> list[config.Account]:
        path = self.config_path
        subject = f"config file {path}"
        if not path.exists():
            self.add(
                "fix",
                subject,
                "does not exist",
                "run `samljit configure -a NAME` (or `samljit configure --import-saml2aws`); "
                "`samljit demo` shows the whole flow first",
            )
            return []
        try:
            cfg = config.load(path)
        except ConfigError as exc:
            self.add("fix", subject, exc.message, exc.hint)
            return []
        names = list(cfg.sections)
        if not names:
            self.add("fix", subject, "has no IdP account", "run `samljit configure -a NAME`")
            return []
        self.add("ok", subject, f"{len(names)} account{_s(names)} ({', '.join(names)})")
        self._config_mode(path)
        found = []
        for name in names:
            account = self._account(cfg, name, path)
            if account is not None:
                found.append(account)
        return found

    def _config_mode(self, path: Path) -> None:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o022 and current().has_modes:
            self.add(
                "fix",
                f"config file {path}",
                f"mode {mode:04o}: other users can change it (e.g. point url elsewhere)",
                f"chmod 600 {path}",
            )

    def _account(self, cfg: Any, name: str, path: Path) -> config.Account | None:
        from samljit.idp.provider import load_provider

        subject = f"account {name}"
        try:
            account = config.resolve_account(cfg, name, path=path, env=self.env)
            provider = load_provider(account.provider)
        except ConfigError as exc:
            self.add("fix", subject, exc.message, exc.hint or f"samljit configure -a {name}")
            return None
        where = urlsplit(account.url).netloc if account.url else "its command"
        self.add("ok", subject, f"{provider.name} at {where}, profile [{account.aws_profile}]")
        if account.skip_verify:
            self.add(
                "fix",
                subject,
                "skip_verify = true turns TLS verification off",
                "remove skip_verify; if a proxy re-signs TLS, set AWS_CA_BUNDLE instead",
            )
        if account.idp_certificate is not None:
            self._pinned(subject, account.idp_certificate)
        return account

    def _pinned(self, subject: str, path: Path) -> None:
        from samljit.saml.verify import describe_certificate

        try:
            info = describe_certificate(path)
        except ConfigError as exc:
            self.add("fix", subject, exc.message, exc.hint)
            return
        if info.not_after < datetime.now(timezone.utc):
            self.add(
                "note",
                subject,
                f"the pinned certificate {path} expired on {info.not_after:%Y-%m-%d}",
                None,
            )

    # -- keyring ---------------------------------------------------------------------------
    def keyring(self) -> None:
        try:
            import keyring
            from keyring.backends import fail, null

            from samljit.config.passwords import backend_name, is_plaintext, storing_backend

            backend = keyring.get_keyring()
            target = storing_backend(backend)
        except Exception as exc:  # a broken keyring installation
            self.add(
                "note",
                "keyring",
                f"could not be loaded ({type(exc).__name__}); passwords are asked every time",
                None,
            )
            return
        name = backend_name(target)
        if isinstance(target, null.Keyring):
            self.add("note", "keyring", f"turned off ({name}); passwords are not remembered")
        elif isinstance(target, fail.Keyring):
            self.add(
                "note",
                "keyring",
                "no OS keyring is available; passwords are asked every time "
                "(scripts: set SAMLJIT_PASSWORD, or install a keyring backend)",
            )
        elif is_plaintext(target):
            self.add(
                "fix",
                "keyring",
                f"{name} keeps passwords in a plain file; samljit stores no password there "
                "and asks every time",
                "use an OS keyring or an encrypted backend (PYTHON_KEYRING_BACKEND), or "
                "uninstall keyrings.alt; scripts: set SAMLJIT_PASSWORD",
            )
        else:
            self.add("ok", "keyring", name)

    # -- credentials files -----------------------------------------------------------------
    def credentials_files(self, accounts: list[config.Account]) -> None:
        paths = list(dict.fromkeys(a.credentials_file for a in accounts))
        if not paths:
            default = self.env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
            paths = [Path(os.path.expanduser(default))]
        for path in paths:
            self._credentials_file(path)

    def _credentials_file(self, path: Path) -> None:
        subject = f"credentials file {path}"
        real = Path(os.path.realpath(path))
        if not real.exists():
            self.add("ok", subject, "not there yet (the first login creates it, mode 0600)")
            return
        if not real.is_file():
            self.add("fix", subject, "is not a regular file", f"move {real} aside")
            return
        mode = stat.S_IMODE(real.stat().st_mode)
        try:
            profiles = credfile.list_profiles(path)
        except ConfigError as exc:
            self.add("fix", subject, exc.message, exc.hint or "fix that line")
            return
        if not current().has_modes:
            self.add("ok", subject, f"{len(profiles)} profile{_s(profiles)} (your profile's ACL)")
        elif mode & 0o077:
            self.add(
                "fix",
                subject,
                f"mode {mode:04o}: other users can read your AWS keys",
                f"chmod 600 {real}",
            )
        else:
            self.add("ok", subject, f"mode {mode:04o}, {len(profiles)} profile{_s(profiles)}")

    # -- clock -----------------------------------------------------------------------------
    def clock(self, accounts: list[config.Account]) -> None:
        seen: set[str] = set()
        for account in accounts:
            if not account.url:
                continue
            host = urlsplit(account.url).netloc
            if host in seen:
                continue
            seen.add(host)
            self._clock_of(account, host)

    def _clock_of(self, account: config.Account, host: str) -> None:
        from samljit.common.http import HttpClient

        subject = f"clock vs {host}"
        http = HttpClient(
            verify=not account.skip_verify, timeout=CLOCK_TIMEOUT, retries=0, env=self.env
        )
        try:
            response = http.request(
                "HEAD", account.url, step="doctor clock check", allow_redirects=False
            )
            sent = response.headers.get("Date")
            received = datetime.now(timezone.utc)
        except SamljitError as exc:
            self.add("skip", subject, f"{exc.message}; clock not checked")
            return
        finally:
            http.close()
        theirs = _http_date(sent)
        if theirs is None:
            self.add("skip", subject, "the IdP sent no usable Date header; clock not checked")
            return
        skew = int((received - theirs).total_seconds())
        if abs(skew) > CLOCK_TOLERANCE_SECONDS:
            direction = "ahead of" if skew > 0 else "behind"
            self.add(
                "fix",
                subject,
                f"this machine's clock is {abs(skew)} s {direction} the IdP's; assertions "
                "would look expired or not yet valid",
                "synchronise the clock (e.g. `timedatectl set-ntp true`, or your OS's "
                "date & time settings)",
            )
        else:
            self.add("ok", subject, f"within {abs(skew)} s")

    # -- network settings ------------------------------------------------------------------
    def proxies(self) -> None:
        values = {name: _env_either(self.env, name) for name in PROXY_VARIABLES}
        if not any(values.values()):
            self.add("ok", "proxy", "none set (direct connections)")
            return
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
            value = values[name]
            if value:
                self._proxy_url(name, value)
        if values["NO_PROXY"]:
            self.add("ok", "NO_PROXY", values["NO_PROXY"] or "")
        if values["HTTP_PROXY"] and not values["HTTPS_PROXY"] and not values["ALL_PROXY"]:
            self.add(
                "note",
                "proxy",
                "HTTP_PROXY is set but HTTPS_PROXY is not: https requests (all of samljit's) "
                "go direct",
            )

    def _proxy_url(self, name: str, value: str) -> None:
        from samljit.common.redact import redact_url

        parts = urlsplit(value if "://" in value else f"http://{value}")
        shown = redact_url(value) if "://" in value else value
        if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
            self.add(
                "fix",
                name,
                f"{shown!r} is not a proxy URL",
                f"set {name} to http://HOST:PORT (or unset it)",
            )
            return
        if parts.scheme.startswith("socks"):
            try:
                import socks  # type: ignore[import-untyped]  # noqa: F401  (PySocks)
            except ImportError:
                self.add(
                    "fix",
                    name,
                    f"{shown} is a SOCKS proxy, but PySocks is not installed",
                    "pip install 'requests[socks]' where samljit is installed",
                )
                return
        self.add("ok", name, shown)

    def ca_bundles(self) -> None:
        found = False
        from samljit.common.http import CA_BUNDLE_VARIABLES

        for name in CA_BUNDLE_VARIABLES:
            value = self.env.get(name)
            if not value:
                continue
            found = True
            self._ca_bundle(name, Path(os.path.expanduser(value)))
        if not found:
            self.add("ok", "CA bundle", "AWS_CA_BUNDLE not set (the default CA certificates)")

    def provider_checks(self, accounts: list[config.Account]) -> None:
        """What each provider in use declares for its accounts (``Provider.doctor_checks``:
        e.g. a program the provider runs)."""
        from samljit.idp.provider import load_provider

        by_provider: dict[Any, list[config.Account]] = {}
        for account in accounts:
            try:
                cls = load_provider(account.provider)
            except ConfigError:
                continue  # reported with the account
            by_provider.setdefault(cls, []).append(account)
        for cls, group in by_provider.items():
            for finding in cls.doctor_checks(group, self.env):
                self.add(finding.level, finding.subject, finding.text, finding.fix)

    def _ca_bundle(self, name: str, path: Path) -> None:
        if not path.exists():
            self.add(
                "fix", name, f"{path} does not exist", f"point {name} at a PEM file, or unset it"
            )
            return
        if path.is_dir():
            self.add("fix", name, f"{path} is a directory", f"point {name} at a PEM file")
            return
        try:
            text = path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            self.add("fix", name, f"{path} cannot be read ({exc.strerror})", f"chmod a+r {path}")
            return
        count = text.count("-----BEGIN CERTIFICATE-----")
        if count == 0:
            self.add(
                "fix",
                name,
                f"{path} holds no PEM certificate",
                "export your proxy's or company's CA certificate as PEM and point at it",
            )
            return
        self.add("ok", name, f"{path} ({count} certificate{'s' if count != 1 else ''})")


def _s(items: list[str]) -> str:
    return "" if len(items) == 1 else "s"


def _env_either(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or env.get(name.lower()) or None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
