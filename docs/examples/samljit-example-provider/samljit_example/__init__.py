"""ExampleCorp: a provider in one file, written against samljit's provider API v1.

ExampleCorp's IdP has a JSON sign-in API: ``POST {url}/api/login`` with the username,
password and the tenant answers ``{"SAMLResponse": "<base64>"}``, or 401 with
``{"error": "..."}``. The tenant is a setting of this provider's own: it declares the key
``tenant``, so ``samljit configure --provider ExampleCorp --tenant acme`` takes it, the config
file keeps it, and :meth:`Provider.option` reads it.
"""

from __future__ import annotations

from typing import ClassVar

from samljit.common.errors import AuthenticationError
from samljit.idp.provider import LoginSecrets, Provider, ProviderKey


class ExampleCorpProvider(Provider):
    name: ClassVar[str] = "ExampleCorp"
    api_version: ClassVar[int] = 1
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey("url", "ExampleCorp sign-in base URL", required=True),
        ProviderKey("tenant", "ExampleCorp tenant name", required=True),
    )

    def login(self, secrets: LoginSecrets) -> str:
        tenant = self.option("tenant")
        answer = self.http.request(
            "POST",
            f"{self.account.url.rstrip('/')}/api/login",
            step="ExampleCorp sign-in",
            json={"username": secrets.username, "password": secrets.password, "tenant": tenant},
        )
        self.http.raise_for_service_trouble(answer, step="ExampleCorp sign-in")
        body = answer.json() if answer.content else {}
        if answer.status_code == 401:
            raise AuthenticationError(f"ExampleCorp refused the sign-in: {body.get('error')}")
        encoded = str(body.get("SAMLResponse") or "")
        if not encoded:
            raise AuthenticationError("ExampleCorp's answer holds no SAMLResponse")
        self.redactor.add(encoded)
        return encoded
