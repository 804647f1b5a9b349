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

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from samljit.idp.api import (
    CA_BUNDLE_VARIABLES,
    Account,
    ConfigError,
    DoctorFinding,
    KeyKind,
    LoginSecrets,
    PasswordNeed,
    ProviderKey,
    current_platform,
    nssdb,
    option_of,
)

from .catch import fill_policy, signin_host_names, signin_host_rules
from .launch import (
    BROWSER_ARGS,
    DEFAULT_TIMEOUT,
    INSTALL_PLAYWRIGHT,
    BrowserLaunch,
    _flag,
    profile_dir,
    profile_path,
    proxy_settings,
    quiet_preferences,
)
from .session import _first_line, _quiet_on_interrupt, _Session

__all__ = ["BrowserProvider", "profile_path"]


class BrowserProvider(BrowserLaunch):
    name: ClassVar[str] = "Browser"
    password_need: ClassVar[PasswordNeed] = PasswordNeed.WHEN_ASKED  # for browser_autofill
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

    #: Pages of the IdP that want a person at the window (``(path regex, what it does)``):
    #: headless, they end the login at once (GoogleApps declares Google's).
    dead_ends: ClassVar[tuple[tuple[str, str], ...]] = ()

    @classmethod
    def doctor_checks(
        cls, accounts: Sequence[Account], env: Mapping[str, str]
    ) -> list[DoctorFinding]:
        """On Linux a CA bundle (``AWS_CA_BUNDLE``, …) reaches the browser through NSS's
        ``certutil``: say whether it is there."""
        if not current_platform().browser_trust_via_nss or not any(
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
                    f"{nssdb.INSTALL_CERTUTIL} (Fedora: nss-tools)",
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
