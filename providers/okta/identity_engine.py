"""Okta Identity Engine: the OAuth device authorization grant with the account's
``client_id`` (the user approves in a browser), the ``web_sso_token`` exchange and
``/login/token/sso``, whose page holds the SAMLResponse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from samljit.idp.api import (
    ACCEPT_JSON,
    AuthenticationError,
    ConfigError,
    Provider,
    Waiting,
    json_object,
    number,
    saml_response,
    wait_until,
)

from .errors import clean, device_expired, oauth_error
from .links import Org

DEVICE_SCOPES = "openid okta.apps.sso"
GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


class IdentityEngine(Provider):
    """The Identity Engine login of :class:`~samljit.providers.okta.OktaProvider`."""

    def _identity_engine(self, org: Org) -> str:
        client_id = self.option("client_id")
        if not client_id:
            raise ConfigError(
                f"{org.host} is an Okta Identity Engine org: account {self.account.name!r} "
                "needs client_id (an Okta OIDC native app)",
                hint="an Okta admin creates an OIDC native app with the Device Authorization "
                "and Token Exchange grants, allowed to sign in to the AWS app (Okta's "
                "'Configure Okta as IdP for AWS CLI'); then "
                f"`samljit configure -a {self.account.name} --client-id CLIENT_ID`",
            )
        step = "Okta device authorization"
        started = self._form(
            org.base + "/oauth2/v1/device/authorize",
            {"client_id": client_id, "scope": DEVICE_SCOPES},
            step,
        )
        device_code = str(started.get("device_code") or "")
        user_code = clean(str(started.get("user_code") or ""))
        url = str(started.get("verification_uri_complete") or started.get("verification_uri") or "")
        if not device_code or not url:
            raise AuthenticationError(f"{step}: Okta's answer holds no device code")
        url = org.resolve(url, step)  # shown and opened only when it is the org's
        self.redactor.add(device_code)
        tokens = self._device_wait(org, client_id, device_code, user_code, url, started)
        exchanged = self._form(
            org.base + "/oauth2/v1/token",
            {
                "grant_type": GRANT_EXCHANGE,
                "client_id": client_id,
                "subject_token": tokens["id_token"],
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "actor_token": tokens["access_token"],
                "actor_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "requested_token_type": "urn:okta:oauth:token-type:web_sso_token",
                "audience": f"urn:okta:apps:{org.app_id}",
            },
            "Okta web SSO token",
        )
        web_sso = str(exchanged.get("access_token") or "")
        if not web_sso:
            raise AuthenticationError("Okta web SSO token: the answer holds no token")
        self.redactor.add(web_sso)
        page = self.http.get(
            f"{org.base}/login/token/sso?token={quote(web_sso)}",
            step="Okta app page",
            headers={"Accept": "text/html"},
        )
        self.http.raise_for_service_trouble(page, step="Okta app page")
        return saml_response(page.content, url=page.url, step="Okta app page")

    def _device_wait(
        self,
        org: Org,
        client_id: str,
        device_code: str,
        user_code: str,
        url: str,
        started: Mapping[str, Any],
    ) -> dict[str, str]:
        services = self.services
        expires_in = number(started.get("expires_in"), 600.0)
        interval = max(1.0, number(started.get("interval"), 5.0))
        terminal = self.terminal
        terminal.notice(
            f"Okta Identity Engine sign-in: open {clean(url)} and approve code {user_code} "
            f"(within {int(expires_in // 60)} min {int(expires_in % 60)} s)."
        )
        if url.startswith("https://") and terminal.open_browser(url):
            terminal.info("Opened the verification page in your browser.")
        step = "Okta device token"

        def poll(waiting: Waiting) -> dict[str, str] | None:
            response = self.http.post(
                org.base + "/oauth2/v1/token",
                step=step,
                data={
                    "client_id": client_id,
                    "device_code": device_code,
                    "grant_type": GRANT_DEVICE,
                },
                headers={"Accept": ACCEPT_JSON},
            )
            self.http.raise_for_service_trouble(response, step=step)
            data = json_object(response) or {}
            if response.status_code == 200:
                tokens = {k: str(data.get(k) or "") for k in ("access_token", "id_token")}
                if not all(tokens.values()):
                    raise AuthenticationError(f"{step}: Okta's answer lacks a token")
                self.redactor.add(*tokens.values())
                return tokens
            error = str(data.get("error") or "")
            if error == "authorization_pending":
                return None
            if error == "slow_down":
                waiting.every += 5.0
                return None
            if error == "expired_token":
                raise device_expired()
            if error == "access_denied":
                raise AuthenticationError(
                    "the Okta sign-in was denied in the browser",
                    hint="run again and approve the request",
                )
            raise oauth_error(step, response.status_code, data)

        return wait_until(
            poll,
            services=services,
            seconds=expires_in,
            every=interval,
            waiting="Waiting for approval in the browser…",
            expired=device_expired,
            sleep_first=True,
        )

    def _form(self, url: str, form: Mapping[str, str], step: str) -> dict[str, Any]:
        response = self.http.post(url, step=step, data=dict(form), headers={"Accept": ACCEPT_JSON})
        self.http.raise_for_service_trouble(response, step=step)
        data = json_object(response) or {}
        if response.status_code == 200:
            return data
        raise oauth_error(step, response.status_code, data)
