"""Okta Classic Engine: the Authentication API's state machine (``/api/v1/authn`` to
``SUCCESS``, MFA through :mod:`.factors`), the session token spent on
``/login/sessionCookieRedirect``, a kept session (``sid``/``idx``) reused, and the app page
with app-level MFA (step-up)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from samljit.idp.api import (
    ACCEPT_HTML,
    ACCEPT_JSON,
    AuthenticationError,
    ConfigError,
    LoginSecrets,
    MissingInputError,
    Provider,
    choose,
    js_unescape,
    json_object,
    parse_page,
    saml_response,
)

from .errors import BROWSER_HINT, OktaError, clean, session_token
from .factors import OktaFactor, make_factor
from .links import Org, link

if TYPE_CHECKING:
    import requests

SID_COOKIES = ("sid", "idx")
DT_COOKIE = "DT"
_STATE_TOKEN = re.compile(r"""var\s+stateToken\s*=\s*(['"])(?P<token>(?:\\.|(?!\1).)*)\1""")
_STEP_UP_LINK = re.compile(r"""href=(['"])(?P<href>[^'"]*/login/step-up/[^'"]*)\1""")


class Classic(Provider):
    """The Classic Engine login of :class:`~samljit.providers.okta.OktaProvider`."""

    def _with_kept_session(self, org: Org, secrets: LoginSecrets) -> str | None:
        """The SAMLResponse through a session the jar already holds, else ``None`` (and the
        stale cookies gone, so that Okta takes the new session token)."""
        if not any(self._cookie(org, name) for name in SID_COOKIES):
            return None
        step = "Okta session check"
        answer = self._get(org, org.base + "/api/v1/sessions/me", step, json=True)
        data = json_object(answer) or {}
        if answer.status_code == 200 and data.get("status") == "ACTIVE":
            page = self._get(org, self.account.url, "Okta app page (kept session)")
            encoded = self._saml_or_step_up(org, page, secrets, quiet=True)
            if encoded is not None:
                return encoded
        for name in SID_COOKIES:
            self._drop_cookie(org, name)
        return None

    # -- Classic ------------------------------------------------------------------------
    def _classic(self, org: Org, secrets: LoginSecrets) -> str:
        # the flow's password source (environment, keyring, its one prompt) is the only one:
        # asking again here would ask twice in one login, and skip the keyring
        password = secrets.password
        if not password:
            raise MissingInputError(
                "the Okta password is needed, but none was given",
                hint="set SAMLJIT_PASSWORD or store it with `samljit configure`",
            )
        if self._remember_device():
            self._ensure_device_token(org)
        body = {
            "username": secrets.username,
            "password": password,
            "options": {"multiOptionalFactorEnroll": False, "warnBeforePasswordExpired": True},
        }
        answer = self.api(org, org.base + "/api/v1/authn", body, "Okta sign-in")
        done = self.until_success(org, answer, secrets)
        if "sessionToken" not in done and self._cookie(org, "sid"):
            # a factor that ends in the browser's way (Duo's prompt) leaves a session cookie
            page = self._get(org, self.account.url, "Okta app page")
        else:
            token = session_token(done, "Okta sign-in")
            self.redactor.add(token)
            query = urlencode({"token": token, "redirectUrl": self.account.url})
            page = self._get(
                org, f"{org.base}/login/sessionCookieRedirect?{query}", "Okta app page"
            )
        encoded = self._saml_or_step_up(org, page, secrets, quiet=False)
        assert encoded is not None  # not quiet: raises instead
        return encoded

    def api(self, org: Org, url: str, body: Mapping[str, Any], step: str) -> dict[str, Any]:
        """One Authentication API call to ``url`` (a link of Okta's, on the org only); the 200
        answer, or Okta's own words as an error."""
        response = self.http.post(
            org.resolve(url, step),
            step=step,
            json=dict(body),
            headers={"Accept": ACCEPT_JSON, "Content-Type": "application/json"},
        )
        self.http.raise_for_service_trouble(response, step=step)
        data = json_object(response)
        if response.status_code == 200 and data is not None:
            for key in ("stateToken", "sessionToken"):
                self.redactor.add(data.get(key) if isinstance(data.get(key), str) else None)
            return data
        if data is None:
            raise AuthenticationError(
                f"{step}: Okta answered HTTP {response.status_code} with something that is not "
                "a JSON object",
                hint="--debug shows the exchange",
            )
        raise OktaError(response.status_code, data, step)

    def until_success(
        self, org: Org, answer: dict[str, Any], secrets: LoginSecrets
    ) -> dict[str, Any]:
        """Walk the authn state machine to ``SUCCESS`` (MFA, password warning)."""
        for _ in range(10):
            status = str(answer.get("status") or "")
            if status == "SUCCESS":
                return answer
            if status == "MFA_REQUIRED":
                answer = self._mfa(org, answer, secrets)
            elif status == "PASSWORD_WARN":
                self.terminal.warn(
                    f"your Okta password expires soon{_expiry_days(answer)}: change it at "
                    f"{org.base}"
                )
                skip = link(answer, "skip") or org.base + "/api/v1/authn/skip"
                answer = self.api(org, skip, _state(answer), "Okta password warning")
            elif status == "MFA_ENROLL":
                raise AuthenticationError(
                    "Okta wants you to set up an MFA factor before signing in",
                    hint=f"enrol a factor at {org.base} in a browser, then run samljit again",
                )
            elif status == "LOCKED_OUT":
                raise AuthenticationError(
                    "your Okta account is locked out",
                    hint=f"unlock it at {org.base} (Unlock account) or ask your Okta admin",
                )
            elif status == "PASSWORD_EXPIRED":
                raise AuthenticationError(
                    "your Okta password has expired",
                    hint=f"change it at {org.base} in a browser, then run samljit again "
                    "(and `samljit configure` to store the new one)",
                )
            else:
                raise AuthenticationError(
                    f"Okta answered the sign-in with status {clean(status) or '(none)'}, "
                    "which samljit does not know",
                    hint=BROWSER_HINT,
                )
        raise AuthenticationError("Okta's sign-in did not finish", hint=BROWSER_HINT)

    # -- MFA ----------------------------------------------------------------------------
    def _mfa(self, org: Org, answer: dict[str, Any], secrets: LoginSecrets) -> dict[str, Any]:
        embedded = answer.get("_embedded")
        offered = embedded.get("factors") if isinstance(embedded, dict) else None
        factors = [
            f
            for entry in (offered if isinstance(offered, list) else [])
            if isinstance(entry, dict) and (f := make_factor(self, org, answer, entry))
        ]
        factor = self._choose(factors, secrets)
        self.notify("mfa.challenged", factor=factor.kind)
        return factor.verify(secrets.mfa_token)

    def _choose(self, factors: list[OktaFactor], secrets: LoginSecrets) -> OktaFactor:
        preference = " ".join((self.account.mfa or "Auto").split()).upper()
        usable = [f for f in factors if f.supported]
        if preference == "AUTO":
            # a security key only when asked for (mfa = WEBAUTHN) or when it is all there is
            others = [f for f in usable if f.kind != "WEBAUTHN"]
            candidates = others or usable or factors
            if secrets.mfa_token:
                for kinds in (("TOTP",), ("YUBICO", "TOKEN"), ("SMS", "EMAIL", "CALL")):
                    coded = [f for f in usable if f.kind in kinds]
                    if coded:
                        candidates = coded
                        break
        else:
            candidates = [f for f in factors if f.matches(preference)]
            if not candidates:
                offered = ", ".join(f.label for f in factors) or "none"
                raise ConfigError(
                    f"mfa is set to {self.account.mfa!r}, but Okta offers: {offered}",
                    hint="set mfa = Auto, or one of those, with `samljit configure`",
                )
        chosen: OktaFactor = choose(
            candidates, "Auto", self.terminal, have_code=bool(secrets.mfa_token)
        )  # type: ignore[assignment]
        return chosen

    def remember_params(self) -> dict[str, str]:
        return {"rememberDevice": "true" if self._remember_device() else "false"}

    def _remember_device(self) -> bool:
        value = (self.option("disable_remember_device") or "false").strip().lower()
        return value not in ("true", "1", "yes", "on")

    # -- the app page -------------------------------------------------------------------
    def _saml_or_step_up(
        self, org: Org, page: requests.Response, secrets: LoginSecrets, *, quiet: bool
    ) -> str | None:
        """The SAMLResponse of the app page; app-level MFA (step-up) done first when the page
        asks for it. ``quiet``: ``None`` instead of an error when the page has none."""
        step = "Okta app page"
        for _ in range(2):
            self.http.raise_for_service_trouble(page, step=step)
            parsed = parse_page(page.content, url=page.url, status=page.status_code)
            if parsed.saml_response:
                return parsed.saml_response
            state_token = self._step_up_token(org, page.text)
            if state_token is None:
                break
            self.redactor.add(state_token)
            answer = self.api(org, org.base + "/api/v1/authn", {"stateToken": state_token}, step)
            done = self.until_success(org, answer, secrets)
            follow = link(done, "next")
            if follow:
                page = self._get(org, follow, step)
            else:
                token = session_token(done, step)
                self.redactor.add(token)
                page = self._get(org, f"{self.account.url}?sessionToken={quote(token)}", step)
        if quiet:
            return None
        return saml_response(page.content, url=page.url, step=step)

    def _step_up_token(self, org: Org, text: str) -> str | None:
        """The state token of a step-up page (``var stateToken = '…'``), following a
        ``/login/step-up/`` link when the page has one. IDX handles (``02.…``) are not."""
        found = _STATE_TOKEN.search(text)
        if found is None:
            link = _STEP_UP_LINK.search(text)
            if link is None:
                return None
            href = link.group("href").replace("&amp;", "&")
            follow = self._get(org, href, "Okta step-up page")
            found = _STATE_TOKEN.search(follow.text)
            if found is None:
                return None
        token = js_unescape(found.group("token"))
        return token if token.startswith("00") else None

    # -- HTTP and cookies ---------------------------------------------------------------
    def _get(self, org: Org, url: str, step: str, *, json: bool = False) -> requests.Response:
        """GET ``url`` (a link, on the org only)."""
        accept = ACCEPT_JSON if json else ACCEPT_HTML
        response = self.http.get(org.resolve(url, step), step=step, headers={"Accept": accept})
        self.http.raise_for_service_trouble(response, step=step)
        return response

    def _cookie(self, org: Org, name: str) -> str | None:
        return self.http.cookie(name, org.host)

    def _drop_cookie(self, org: Org, name: str) -> None:
        self.http.drop_cookies(name, org.host)

    def _ensure_device_token(self, org: Org) -> None:
        """A ``DT`` cookie for the org (a random one unless Okta set one before): the device
        Okta remembers after MFA. It stays in the jar, which the session store keeps."""
        if self._cookie(org, DT_COOKIE) is None:
            import secrets

            self.http.set_cookie(DT_COOKIE, secrets.token_urlsafe(24), host=org.host)


def _state(answer: Mapping[str, Any]) -> dict[str, str]:
    return {"stateToken": str(answer.get("stateToken") or "")}


def _expiry_days(answer: Mapping[str, Any]) -> str:
    embedded = answer.get("_embedded")
    policy = embedded.get("policy") if isinstance(embedded, dict) else None
    expiration = policy.get("expiration") if isinstance(policy, dict) else None
    days = expiration.get("passwordExpireDays") if isinstance(expiration, dict) else None
    return f" (in {days} days)" if isinstance(days, int) else ""
