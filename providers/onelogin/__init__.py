"""OneLogin through its API (``provider = OneLogin``): the API credential's token, the
user's password (``saml_assertion``), the chosen device (``verify_factor``), then the
SAMLResponse. No page is read: OneLogin documents this API for exactly this job.

Modules: :mod:`.api` (the token and the calls, v2 and the v1 envelope) and :mod:`.factors`
(one object per device type).
"""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import (
    AuthenticationError,
    ConfigError,
    KeyKind,
    LoginSecrets,
    Provider,
    ProviderKey,
    choose,
)

from .api import CREDENTIAL_HINT, SECRET_VARIABLE, Answer, OneLoginApi
from .factors import Challenge, factors_for

DEFAULT_URL = "https://api.us.onelogin.com"


class OneLoginProvider(Provider):
    name: ClassVar[str] = "OneLogin"
    mfa_options: ClassVar[tuple[str, ...]] = ("Auto", "OLP", "TOTP", "SMS", "YUBIKEY")
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "OneLogin API host (https://api.us.onelogin.com or https://api.eu.onelogin.com)",
            DEFAULT_URL,
            question="OneLogin API host",
        ),
        ProviderKey(
            "subdomain",
            "OneLogin subdomain (acme for acme.onelogin.com)",
            required=True,
            question="OneLogin subdomain",
        ),
        ProviderKey(
            "app_id",
            "OneLogin app id of the AWS app (digits)",
            required=True,
            question="App id of the AWS app",
        ),
        ProviderKey(
            "client_id",
            "OneLogin API credential's client id",
            required=True,
            question="API client id",
        ),
        ProviderKey(
            "client_secret",
            "OneLogin API credential's secret",
            required=True,
            secret=True,
            env=SECRET_VARIABLE,
            question="API client secret",
            kind=KeyKind.SECRET,
        ),
    )

    def login(self, secrets: LoginSecrets) -> str:
        client_secret = self.option("client_secret")
        if not client_secret:
            raise ConfigError(
                f"IdP account {self.account.name!r} (OneLogin) has no API secret: set "
                f"{SECRET_VARIABLE}, or store it with `samljit configure -a "
                f"{self.account.name} --client-secret …`",
                hint=CREDENTIAL_HINT,
            )
        api = OneLoginApi(
            self.http, self.services, self.account.url, self.option("client_id") or ""
        )
        api.token(client_secret)  # a refused API credential stops here, before the password
        app_id = self.option("app_id") or ""
        body = {
            "username_or_email": secrets.username,
            "password": secrets.password or "",
            "app_id": app_id,
            "subdomain": self.option("subdomain") or "",
        }
        self.redactor.add(secrets.password, secrets.mfa_token)
        answer = api.saml_assertion(body, client_secret)
        if answer.saml:
            return answer.saml
        self._refusal(answer)
        state_token = answer.fields.get("state_token")
        if not isinstance(state_token, str) or not state_token:
            raise AuthenticationError(
                "OneLogin sign-in: OneLogin answered neither a SAMLResponse nor an MFA "
                f"challenge: {answer.message or 'HTTP ' + str(answer.status)}"
            )
        callback = api.callback(answer.fields.get("callback_url"))
        challenge = Challenge(
            verify=lambda call, step: api.post(callback, call, step, client_secret),
            callback=callback,
            app_id=app_id,
            state_token=state_token,
        )
        wanted = (self.account.mfa or "Auto").strip().upper()
        factors, unsupported = factors_for(
            answer.fields.get("devices"),
            challenge,
            self,
            want_code=bool(secrets.mfa_token) or wanted == "TOTP",
        )
        if not factors:
            raise AuthenticationError(
                "OneLogin asks for "
                + (", ".join(unsupported) or "a second factor it names no device for")
                + ", which samljit cannot complete in a terminal: log in with "
                "`samljit login --browser`",
            )
        factor = choose(
            factors,
            self.account.mfa,
            self.terminal,
            have_code=bool(secrets.mfa_token),
            unsupported=unsupported,
        )
        self.notify("mfa.challenged", factor=factor.kind)
        return factor.verify(secrets.mfa_token)

    def _refusal(self, answer: Answer) -> None:
        """A refused password step, in OneLogin's words (no retry of a password)."""
        if answer.status == 200:
            return
        said = answer.message or f"HTTP {answer.status}"
        if answer.status == 401:
            raise AuthenticationError(
                f"OneLogin refused the sign-in: {said}", hint="check username and password"
            )
        if answer.status == 400:
            raise ConfigError(
                f"OneLogin refused the sign-in request: {said}",
                hint=f"check subdomain ({self.option('subdomain')}) and app_id "
                f"({self.option('app_id')}) with `samljit configure -a {self.account.name}`",
            )
        raise AuthenticationError(f"OneLogin sign-in: OneLogin answered {said}")
