"""Microsoft Entra ID (Azure AD): the My Apps start URL of the AWS enterprise app, Entra's
sign-in pages (password, number-matching push, Authenticator codes, text codes, "Stay signed
in?"), then the app's SAMLResponse. Follows shared/protocols/azuread.md.

Entra's pages hold no forms: each step's state is the ``$Config`` JSON object in a script.
The login is a loop over the pages (bounded), dispatching on ``$Config.pgid``; every URL
after the start comes from the pages. ``url`` (default: the My Apps host) and ``app_id`` (the
enterprise application's Application ID) come from the config.

With Entra's session cookies already in the HTTP client (after "Stay signed in?"), the start
URL leads straight to the SAMLResponse: no page asks for the password, and none is sent.

A user whose domain is federated to AD FS signs in there through samljit's form engine (the
ADFS flavor), then comes back to Entra as the pages say. A step that needs a browser (MFA
registration, a password change, a passkey, a device or Conditional Access check) ends the
login with a line naming ``samljit login --browser``.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urlencode

from samljit.idp.api import ConfigError, LoginSecrets, ProviderKey

from .errors import _said
from .factors import EntraFactors
from .pages import DEFAULT_URL, _State

__all__ = ["DEFAULT_URL", "AzureAdProvider"]

START_PATH = "/applications/redirecttofederatedapplication.aspx"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


class AzureAdProvider(EntraFactors):
    name: ClassVar[str] = "AzureAD"
    aliases: ClassVar[tuple[str, ...]] = ("EntraID",)
    signin_hosts: ClassVar[tuple[str, ...]] = ("login.microsoftonline.com",)
    mfa_options: ClassVar[tuple[str, ...]] = (
        "Auto",
        "PhoneAppNotification",
        "PhoneAppOTP",
        "OneWaySMS",
    )
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "Entra ID My Apps URL (the default suits most tenants)",
            DEFAULT_URL,
            question="Entra ID My Apps URL",
        ),
        ProviderKey(
            "app_id",
            "Application ID of the AWS enterprise application in Entra ID (a GUID)",
            required=True,
            question="Application ID of the AWS app",
        ),
    )

    # -- the login ---------------------------------------------------------------------------
    def start_url(self) -> str:
        app_id = (self.option("app_id") or "").strip()
        if not _GUID.match(app_id):
            raise ConfigError(
                f"app_id {_said(app_id)!r} of account {self.account.name!r} is not an "
                "application id (a GUID like 8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f)",
                hint="copy the Application ID of the AWS enterprise app from the Entra admin "
                "center: samljit configure --app-id …",
            )
        base = (self.account.url or DEFAULT_URL).rstrip("/")
        query = urlencode({"Operation": "LinkedSignIn", "applicationId": app_id})
        return f"{base}{START_PATH}?{query}"

    def session_hosts(self) -> list[str]:
        """Entra's sign-in cookies live on its login hosts (login.microsoftonline.com, …),
        not on the My Apps host of ``url``: keep those of every host the sign-in visited."""
        hosts = super().session_hosts()
        visited: set[str] = getattr(self, "_visited", set())
        return hosts + sorted(visited - set(hosts) - {""})

    def login(self, secrets: LoginSecrets) -> str:
        # the password is read (and so asked for) only when Entra asks for it: kept sign-in
        # cookies may answer without it; the flow registers it with the redactor
        self._visited = set[str]()
        state = _State(secrets)
        page = self.fetch(state, "GET", self.start_url(), step="Entra ID start (My Apps)")
        while True:
            found = page.page.saml_response
            if found is not None:
                return self._done(page, found)
            page = self.advance(state, page)
