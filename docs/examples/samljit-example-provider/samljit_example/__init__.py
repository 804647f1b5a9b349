"""ExampleCorp: a provider in one file, written against samljit's provider API v2.

ExampleCorp's IdP has a JSON sign-in API: ``POST {url}/api/login`` with the username,
password and the tenant answers ``{"SAMLResponse": "<base64>"}``, or 401 with
``{"error": "..."}``; a user with a second factor gets ``{"mfa": "totp"}`` until the request
also carries the one-time ``code``. The tenant is a setting of this provider's own: it
declares the key ``tenant``, so ``samljit configure --provider ExampleCorp --tenant acme``
takes it, the config file keeps it, and :meth:`Provider.option` reads it.

Everything comes from :mod:`samljit.idp.api`, the one module a provider imports.
"""

from __future__ import annotations

from typing import Any, ClassVar

from samljit.idp.api import (
    API_VERSION,
    AuthenticationError,
    KeyKind,
    LoginSecrets,
    PasswordNeed,
    Provider,
    ProviderKey,
    ask_code,
    json_object,
    printable,
)


class ExampleCorpProvider(Provider):
    name: ClassVar[str] = "ExampleCorp"
    api_version: ClassVar[int] = API_VERSION
    mfa_options: ClassVar[tuple[str, ...]] = ("Auto", "TOTP")
    password_need: ClassVar[PasswordNeed] = PasswordNeed.ALWAYS
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "the ExampleCorp sign-in base URL, https://HOST (without /api)",
            required=True,
            question="ExampleCorp sign-in URL",
        ),
        ProviderKey(
            "tenant",
            "the tenant name, as in the ExampleCorp admin console's top-left corner",
            required=True,
            question="ExampleCorp tenant",
            kind=KeyKind.TEXT,
        ),
    )

    def login(self, secrets: LoginSecrets) -> str:
        body = self._sign_in(secrets, code=None)
        if body.get("mfa"):
            self.notify("mfa.challenged", factor="TOTP")
            code = ask_code(self.terminal, secrets.mfa_token)
            self.redactor.add(code)
            body = self._sign_in(secrets, code=code)
        encoded = str(body.get("SAMLResponse") or "")
        if not encoded:
            raise AuthenticationError("ExampleCorp's answer holds no SAMLResponse")
        self.redactor.add(encoded)
        return encoded

    def _sign_in(self, secrets: LoginSecrets, *, code: str | None) -> dict[str, Any]:
        step = "ExampleCorp sign-in"
        form = {
            "username": secrets.username,
            "password": secrets.password,
            "tenant": self.option("tenant"),
        }
        if code is not None:
            form["code"] = code
        answer = self.http.post(f"{self.account.url.rstrip('/')}/api/login", step=step, json=form)
        self.http.raise_for_service_trouble(answer, step=step)
        body = json_object(answer) or {}
        if answer.status_code == 401 and not (code is None and body.get("mfa")):
            said = printable(str(body.get("error") or "no reason given"))
            raise AuthenticationError(f"ExampleCorp refused the sign-in: {said}")
        return body
