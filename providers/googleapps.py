"""Google Workspace (``provider = GoogleApps``): the Browser provider with Google's defaults.

Google signs SAML apps in only through its web sign-in, and answers scripted logins with
captchas and "this browser or app may not be secure"; the user's own browser with a kept
profile is the path that keeps working. So a GoogleApps login is a Browser login at the
account's ``url`` (Google's ``initsso`` URL of the AWS app, with its ``idpid`` and ``spid``):

* Google Chrome first when both Chrome and Chromium are installed (Google refuses some
  automation-controlled Chromium builds); ``browser_type`` still picks one.
* The kept per-account browser profile, headed by default (the Browser's own defaults).
* ``browser_autofill`` may fill Google's sign-in form on ``accounts.google.com``
  (:attr:`signin_hosts`).
* Headless, Google's pages that want a person (the "browser may not be secure" refusal, a
  captcha, passkey enrolment, a 2-Step Verification code or security key) end the login at
  once, saying to log in headed once: the kept profile then serves headless logins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

from samljit.idp.api import ConfigError, ProviderKey

from .browser import BrowserProvider
from .browser.launch import CHROME_FIRST

#: Google's SAML sign-in entry for an app (IdP-initiated).
INITSSO = "https://accounts.google.com/o/saml2/initsso"
_ID = re.compile(r"[A-Za-z0-9_-]{1,200}\Z")


def initsso_url(idpid: str, spid: str, base: str = INITSSO) -> str:
    """Google's ``initsso`` URL of the app ``spid`` of the IdP (Workspace) ``idpid``."""
    for what, value in (("IdP id", idpid), ("SP id", spid)):
        if not _ID.match(value):
            raise ConfigError(
                f"Google's {what} is letters, digits, - and _ (as in the app's initsso URL), "
                f"not {value!r}"
            )
    return f"{base}?{urlencode({'idpid': idpid, 'spid': spid, 'forceauthn': 'false'})}"


def _google(key: ProviderKey) -> ProviderKey:
    """A Browser key as GoogleApps declares it."""
    if key.name == "browser_type":
        return key._replace(
            help="chrome, chromium or msedge (default: Google Chrome when installed, else "
            "Chromium)",
            default=None,
        )
    if key.name == "timeout":  # saml2aws's `timeout` is its HTTP timeout, not this wait
        return key._replace(saml2aws="-")
    return key


class GoogleAppsProvider(BrowserProvider):
    name: ClassVar[str] = "GoogleApps"
    signin_hosts: ClassVar[tuple[str, ...]] = ("accounts.google.com",)
    default_programs: ClassVar[str] = CHROME_FIRST
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "Google's initsso URL of the AWS app "
            "(https://accounts.google.com/o/saml2/initsso?idpid=…&spid=…)",
            required=True,
            question="Google initsso URL of the AWS app",
        ),
        *(_google(k) for k in BrowserProvider.keys if k.name != "url"),
    )
    #: Google's pages that want a person at the window (paths on its sign-in hosts):
    #: "this browser or app may not be secure", a captcha, passkey enrolment, and the 2-Step
    #: Verification steps only someone at the window can answer (a code from an authenticator
    #: app, a text or a backup list; a security key). Google's phone prompt ("Check your
    #: phone", ``challenge/az``) is answered on the phone, so it is no dead end.
    dead_ends: ClassVar[tuple[tuple[str, str], ...]] = (
        (r"/signin/(v\d/)?rejected", "says this browser may not be secure"),
        (r"/signin/(v\d/)?challenge/(recaptcha|ca)\b", "asks for a captcha"),
        (r"/signin/(v\d/)?speedbump/passkey", "asks to enrol a passkey"),
        (r"/signin/(v\d/)?challenge/(totp|ipp|bc)\b", "asks for a 2-Step Verification code"),
        (r"/signin/(v\d/)?challenge/sk\b", "asks for a security key"),
    )

    @classmethod
    def ask_url(cls, ask: Callable[[str, str], str], current: str | None) -> str | None:
        """``configure``: the IdP id and the SP id (the build of the URL), or the whole URL."""
        first = ask(
            "Google IdP id (idpid of the AWS app's initsso URL), or the whole URL", current or ""
        ).strip()
        if not first or urlsplit(first).scheme:
            return first or None
        spid = ask("Google SP id (spid of the AWS app's initsso URL)", "").strip()
        return initsso_url(first, spid)
