"""Okta: Classic Engine (Authentication API) and Identity Engine (OAuth device grant).

``url`` is the AWS app's embed link, ``https://ORG.okta.com/home/amazon_aws/APP_ID/272``;
every call goes to that URL's scheme, host and port, the org (shared/protocols/okta.md): links
in Okta's answers (factor verify links, ``next``, ``skip``, the device flow's verification
URI) are resolved against the org and refused when they lead anywhere else. One login:

1. an Okta session the injected :class:`~samljit.common.http.HttpClient` already holds (a ``sid``
   or ``idx`` cookie for the org host, e.g. loaded by the IdP-session store) is checked with
   ``GET /api/v1/sessions/me`` and, when alive, the app link is opened with it: no password,
   no MFA. Anything else drops those cookies and goes on, silently;
2. ``GET /.well-known/okta-organization`` tells the pipeline: ``v1`` (Classic) or ``idx``
   (Identity Engine);
3. Classic: ``POST /api/v1/authn`` and its state machine (factors as :class:`Factor`
   objects), the ``sessionToken`` spent on ``/login/sessionCookieRedirect`` (the ``sid``
   cookie stays in the jar), then the app page (with app-level step-up when it asks);
4. Identity Engine: the device authorization grant with the account's ``client_id``, the
   ``web_sso_token`` exchange and ``/login/token/sso``.

Remembered devices: verify calls send ``rememberDevice=true`` (unless
``disable_remember_device``) and the ``DT`` cookie stays in the jar, so a kept jar skips MFA
while Okta's policy allows. Waiting (push polls, device-grant polls) uses the injected
sleeper and clocks only.
"""

from __future__ import annotations

import re
from binascii import Error as Base64Error
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from samljit.idp.api import (
    ACCEPT_HTML,
    ACCEPT_JSON,
    AuthenticationError,
    ConfigError,
    Factor,
    KeyKind,
    LoginSecrets,
    MissingInputError,
    Provider,
    ProviderKey,
    Waiting,
    ask_code,
    choose,
    fido,
    js_unescape,
    json_object,
    number,
    one_line,
    parse_page,
    saml_response,
    seconds_left,
    seconds_until,
    shorten,
    wait_until,
)

if TYPE_CHECKING:
    import requests

SID_COOKIES = ("sid", "idx")
DT_COOKIE = "DT"
PUSH_POLL_SECONDS = 1.0
#: How long a push or an SMS code may take when Okta names no expiry (its state token's).
FALLBACK_SECONDS = 300.0
MAX_CODE_ATTEMPTS = 3
DEVICE_SCOPES = "openid okta.apps.sso"
GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
BROWSER_HINT = "log in with `samljit login --browser`"
_APP_PATH = re.compile(r"/(?:home|app)/amazon_aws/(?P<app>[A-Za-z0-9]+)(?:/|$)")
_STATE_TOKEN = re.compile(r"""var\s+stateToken\s*=\s*(['"])(?P<token>(?:\\.|(?!\1).)*)\1""")
_STEP_UP_LINK = re.compile(r"""href=(['"])(?P<href>[^'"]*/login/step-up/[^'"]*)\1""")


class OktaProvider(Provider):
    name: ClassVar[str] = "Okta"
    mfa_options: ClassVar[tuple[str, ...]] = (
        "Auto",
        "PUSH",
        "TOTP",
        "SMS",
        "EMAIL",
        "CALL",
        "YUBICO",
        "WEBAUTHN",
    )
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "the AWS app's embed link, https://ORG.okta.com/home/amazon_aws/APP_ID/272",
            required=True,
            question="Okta embed link of the AWS app",
        ),
        ProviderKey(
            "client_id",
            "client id of an Okta OIDC native app (Device Authorization and Token Exchange "
            "grants); needed only for Okta Identity Engine orgs",
            question="OIDC client id (Identity Engine orgs only; Enter to skip)",
        ),
        ProviderKey(
            "disable_remember_device",
            "true: do not ask Okta to remember this device after MFA",
            default="false",
            question="Keep Okta from remembering this device after MFA?",
            kind=KeyKind.YES_NO,
        ),
    )

    @classmethod
    def mfa_setting(cls, value: str) -> str | None:
        """Also saml2aws's spellings, ``<PROVIDER> <FACTORTYPE>`` (``OKTA PUSH``,
        ``GOOGLE TOKEN:SOFTWARE:TOTP``), kept as written (upper case)."""
        known = super().mfa_setting(value)
        if known is not None:
            return known
        wanted = " ".join(value.split()).upper()
        if any(label.startswith(wanted) for label in SAML2AWS_LABELS) and " " in wanted:
            return wanted
        return None

    # -- the login ----------------------------------------------------------------------
    def login(self, secrets: LoginSecrets) -> str:
        # the password is read (and so asked for) only when Okta asks for it: a kept session
        # (sid) may answer without it; the flow registers it with the redactor
        org = _Org.parse(self.account.url)
        kept = self._with_kept_session(org, secrets)
        if kept is not None:
            return kept
        if self._pipeline(org) == "idx":
            return self._identity_engine(org)
        return self._classic(org, secrets)

    def _with_kept_session(self, org: _Org, secrets: LoginSecrets) -> str | None:
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

    def _pipeline(self, org: _Org) -> str:
        step = "Okta org check"
        answer = self._get(org, org.base + "/.well-known/okta-organization", step, json=True)
        data = json_object(answer) if answer.status_code == 200 else None
        return "idx" if data is not None and data.get("pipeline") == "idx" else "v1"

    # -- Classic ------------------------------------------------------------------------
    def _classic(self, org: _Org, secrets: LoginSecrets) -> str:
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
        token = _session_token(done, "Okta sign-in")
        self.redactor.add(token)
        query = urlencode({"token": token, "redirectUrl": self.account.url})
        page = self._get(org, f"{org.base}/login/sessionCookieRedirect?{query}", "Okta app page")
        encoded = self._saml_or_step_up(org, page, secrets, quiet=False)
        assert encoded is not None  # not quiet: raises instead
        return encoded

    def api(self, org: _Org, url: str, body: Mapping[str, Any], step: str) -> dict[str, Any]:
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
        self, org: _Org, answer: dict[str, Any], secrets: LoginSecrets
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
                skip = _link(answer, "skip") or org.base + "/api/v1/authn/skip"
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
                    f"Okta answered the sign-in with status {_clean(status) or '(none)'}, "
                    "which samljit does not know",
                    hint=BROWSER_HINT,
                )
        raise AuthenticationError("Okta's sign-in did not finish", hint=BROWSER_HINT)

    # -- MFA ----------------------------------------------------------------------------
    def _mfa(self, org: _Org, answer: dict[str, Any], secrets: LoginSecrets) -> dict[str, Any]:
        embedded = answer.get("_embedded")
        offered = embedded.get("factors") if isinstance(embedded, dict) else None
        factors = [
            f
            for entry in (offered if isinstance(offered, list) else [])
            if isinstance(entry, dict) and (f := _make_factor(self, org, answer, entry))
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
        self, org: _Org, page: requests.Response, secrets: LoginSecrets, *, quiet: bool
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
            follow = _link(done, "next")
            if follow:
                page = self._get(org, follow, step)
            else:
                token = _session_token(done, step)
                self.redactor.add(token)
                page = self._get(org, f"{self.account.url}?sessionToken={quote(token)}", step)
        if quiet:
            return None
        return saml_response(page.content, url=page.url, step=step)

    def _step_up_token(self, org: _Org, text: str) -> str | None:
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

    # -- Identity Engine ----------------------------------------------------------------
    def _identity_engine(self, org: _Org) -> str:
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
        user_code = _clean(str(started.get("user_code") or ""))
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
        org: _Org,
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
            f"Okta Identity Engine sign-in: open {_clean(url)} and approve code {user_code} "
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
                raise _device_expired()
            if error == "access_denied":
                raise AuthenticationError(
                    "the Okta sign-in was denied in the browser",
                    hint="run again and approve the request",
                )
            raise _oauth_error(step, response.status_code, data)

        return wait_until(
            poll,
            services=services,
            seconds=expires_in,
            every=interval,
            waiting="Waiting for approval in the browser…",
            expired=_device_expired,
            sleep_first=True,
        )

    def _form(self, url: str, form: Mapping[str, str], step: str) -> dict[str, Any]:
        response = self.http.post(url, step=step, data=dict(form), headers={"Accept": ACCEPT_JSON})
        self.http.raise_for_service_trouble(response, step=step)
        data = json_object(response) or {}
        if response.status_code == 200:
            return data
        raise _oauth_error(step, response.status_code, data)

    # -- HTTP and cookies ---------------------------------------------------------------
    def _get(self, org: _Org, url: str, step: str, *, json: bool = False) -> requests.Response:
        """GET ``url`` (a link, on the org only)."""
        accept = ACCEPT_JSON if json else ACCEPT_HTML
        response = self.http.get(org.resolve(url, step), step=step, headers={"Accept": accept})
        self.http.raise_for_service_trouble(response, step=step)
        return response

    def _cookie(self, org: _Org, name: str) -> str | None:
        return self.http.cookie(name, org.host)

    def _drop_cookie(self, org: _Org, name: str) -> None:
        self.http.drop_cookies(name, org.host)

    def _ensure_device_token(self, org: _Org) -> None:
        """A ``DT`` cookie for the org (a random one unless Okta set one before): the device
        Okta remembers after MFA. It stays in the jar, which the session store keeps."""
        if self._cookie(org, DT_COOKIE) is None:
            import secrets

            self.http.set_cookie(DT_COOKIE, secrets.token_urlsafe(24), host=org.host)


# -- factors --------------------------------------------------------------------------------
#: saml2aws's names of the factors samljit knows, ``<PROVIDER> <FACTORTYPE>``.
SAML2AWS_LABELS = (
    "OKTA PUSH",
    "OKTA TOKEN:SOFTWARE:TOTP",
    "GOOGLE TOKEN:SOFTWARE:TOTP",
    "OKTA SMS",
    "OKTA CALL",
    "OKTA EMAIL",
    "OKTA QUESTION",
    "RSA TOKEN",
    "SYMANTEC TOKEN",
    "YUBICO TOKEN:HARDWARE",
    "FIDO WEBAUTHN",
    "FIDO U2F",
    "DUO WEB",
)


class OktaFactor(Factor[dict[str, Any]]):
    """One enrolled Okta factor; ``verify`` returns the authn answer after it."""

    supported: ClassVar[bool] = True

    def __init__(
        self,
        provider: OktaProvider,
        org: _Org,
        answer: Mapping[str, Any],
        entry: Mapping[str, Any],
        kind: str,
    ) -> None:
        self.provider = provider
        self.org = org
        self.state_token = str(answer.get("stateToken") or "")
        self.entry = entry
        self.kind = kind  # type: ignore[misc]  # per instance: one class serves several
        self.factor_type = str(entry.get("factorType") or "")
        self.vendor = str(entry.get("provider") or "")
        profile = entry.get("profile")
        self.profile: Mapping[str, Any] = profile if isinstance(profile, dict) else {}
        links = entry.get("_links")
        verify = links.get("verify") if isinstance(links, dict) else None
        href = verify.get("href") if isinstance(verify, dict) else None
        factor_id = quote(str(entry.get("id") or ""), safe="")
        self.href = str(href or f"{org.base}/api/v1/authn/factors/{factor_id}/verify")

    @property
    def saml2aws_label(self) -> str:
        return f"{self.vendor} {self.factor_type}".upper()

    @property
    def detail(self) -> str:
        names = ("name", "phoneNumber", "email", "authenticatorName", "questionText")
        for key in names:
            value = self.profile.get(key)
            if isinstance(value, str) and value:
                return _clean(value)
        return {"GOOGLE": "Google Authenticator", "OKTA": "Okta Verify"}.get(self.vendor, "")

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind

    def matches(self, preference: str) -> bool:
        if " " in preference:
            return self.saml2aws_label.startswith(preference)
        return self.kind == preference

    def post(self, url: str, body: Mapping[str, Any], step: str) -> dict[str, Any]:
        return self.provider.api(self.org, url, {"stateToken": self.state_token, **body}, step)

    @property
    def verify_url(self) -> str:
        return _with_params(self.href, self.provider.remember_params())

    def post_code(
        self, target: str, code: str | None, what: str, step: str, *, digits: bool = True
    ) -> dict[str, Any]:
        """Post the code given up front, or the one typed; a typed code Okta calls wrong
        (E0000068) may be typed again, up to :data:`MAX_CODE_ATTEMPTS` times."""
        terminal = self.provider.terminal
        for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
            otp = ask_code(terminal, code, what=what, digits=digits)
            self.provider.redactor.add(otp)
            try:
                return self.post(target, {"passCode": otp}, step)
            except OktaError as exc:
                if exc.code != "E0000068" or code or attempt == MAX_CODE_ATTEMPTS:
                    raise
                terminal.warn(exc.message)
        raise AssertionError("unreachable")


class _Passcode(OktaFactor):
    """TOTP (Okta Verify, Google Authenticator), a YubiKey OTP, an RSA/Symantec token."""

    takes_code: ClassVar[bool] = True

    def verify(self, code: str | None) -> dict[str, Any]:
        what = {"YUBICO": "YubiKey OTP (touch the key)"}.get(self.kind, f"{self.label} code")
        # no digits-only check: YubiKey OTPs are letters, RSA codes may carry a PIN
        return self.post_code(self.verify_url, code, what, f"Okta {self.kind}", digits=False)


class _Challenge(OktaFactor):
    """SMS, voice call, email: Okta sends a code, the user types it."""

    takes_code: ClassVar[bool] = True

    def verify(self, code: str | None) -> dict[str, Any]:
        step = f"Okta {self.kind}"
        sent = self.post(self.verify_url, {}, step)
        how = {"SMS": "by SMS to", "CALL": "by a call to", "EMAIL": "by email to"}[self.kind]
        terminal = self.provider.terminal
        terminal.info(f"Okta sent a code {how} {self.detail or 'you'}.")
        target = _link(sent, "next") or self.verify_url
        return self.post_code(target, code, f"Code from the {self.kind.lower()}", step)


class _Question(OktaFactor):
    def verify(self, code: str | None) -> dict[str, Any]:
        answer = self.provider.terminal.ask_secret(
            f"Okta security question: {self.detail or 'answer'}",
            what="the answer to the Okta security question",
        )
        self.provider.redactor.add(answer)
        return self.post(self.verify_url, {"answer": answer}, "Okta security question")


class _Push(OktaFactor):
    """Okta Verify push, with the number challenge shown when Okta sends one."""

    def verify(self, code: str | None) -> dict[str, Any]:
        provider = self.provider
        services, terminal = provider.services, provider.terminal
        step = "Okta Verify push"
        answer = self.post(_with_params(self.verify_url, {"autoPush": "false"}), {}, step)
        left = seconds_until(answer.get("expiresAt"), services.now(), FALLBACK_SECONDS)
        if left <= PUSH_POLL_SECONDS:
            # already (nearly) past by this machine's clock: the clocks disagree, so Okta's
            # own answer (TIMEOUT, or an expired state token) ends the wait
            left = FALLBACK_SECONDS
        seconds = min(left, FALLBACK_SECONDS)
        terminal.info(f"Okta Verify push sent to {self.detail or 'your phone'}: approve it there.")
        shown: list[int] = []  # the number challenge shown, once per number

        def read(answer: dict[str, Any], left: float) -> dict[str, Any] | None:
            status = str(answer.get("status") or "")
            if status == "SUCCESS":
                return answer
            result = str(answer.get("factorResult") or "")
            if status != "MFA_CHALLENGE" or result != "WAITING":
                raise _push_failed(result or status, number_shown=bool(shown))
            number = _correct_answer(answer)
            if number is not None and number not in shown[-1:]:
                shown.append(number)
                terminal.notice(f"Pick {number} in Okta Verify ({seconds_left(left)}).")
            return None

        current = answer

        def poll(waiting: Waiting) -> dict[str, Any] | None:
            nonlocal current
            target = _link(current, "next") or self.href
            try:
                current = self.post(target, {}, "Okta Verify push poll")
            except OktaError as exc:
                if exc.code == "E0000011":  # the sign-in's state token ran out
                    raise _push_unanswered() from None
                raise
            return read(current, waiting.left)

        done = read(answer, seconds)
        if done is not None:
            return done
        return wait_until(
            poll,
            services=services,
            seconds=seconds,
            every=PUSH_POLL_SECONDS,
            waiting="Waiting for approval…",
            expired=_push_unanswered,
            sleep_first=True,
            margin=PUSH_POLL_SECONDS,
        )


class _SecurityKey(OktaFactor):
    """A security key (``webauthn``/``FIDO``, older orgs ``u2f``/``FIDO``): Okta's nonce for
    the factor's credential, signed for RP ID = the org's host, origin = the org."""

    @property
    def supported(self) -> bool:  # type: ignore[override]
        return fido.fido2_installed()

    def verify(self, code: str | None) -> dict[str, Any]:
        if not fido.fido2_installed():
            raise AuthenticationError(
                "Okta asks for a security key (WebAuthn), which needs samljit's fido2 extra: "
                f"{fido.INSTALL}, or {BROWSER_HINT}"
            )
        step = "Okta security key"
        started = self.post(self.verify_url, {}, step)
        embedded = started.get("_embedded")
        factor = embedded.get("factor") if isinstance(embedded, dict) else None
        factor = factor if isinstance(factor, dict) else {}
        profile = factor.get("profile")
        inner = factor.get("_embedded")
        challenge = inner.get("challenge") if isinstance(inner, dict) else None
        credential = (profile if isinstance(profile, dict) else self.profile).get("credentialId")
        nonce = challenge.get("challenge") if isinstance(challenge, dict) else None
        extensions = challenge.get("extensions") if isinstance(challenge, dict) else None
        app_id = extensions.get("appid") if isinstance(extensions, dict) else None
        if app_id:  # a key enrolled as U2F: it signs for the appid, not for the org's host
            raise AuthenticationError(
                f"{step}: this key was enrolled at Okta as a U2F key (appid "
                f"{_clean(str(app_id))!r}), which samljit cannot sign for; nothing was asked "
                f"of the key: {BROWSER_HINT}",
                hint="or enrol the key again at Okta (as a security key, WebAuthn)",
            )
        try:
            nonce_bytes = fido.unb64url(nonce)
            credential_id = fido.unb64url(credential)
        except (TypeError, ValueError, Base64Error):
            raise AuthenticationError(
                f"{step}: Okta's challenge holds no usable nonce and credential id"
            ) from None
        services = self.provider.services
        left = seconds_until(started.get("expiresAt"), services.now(), FALLBACK_SECONDS)
        request = fido.KeyRequest(
            idp="Okta",
            origin=self.org.base,
            rp_id=self.org.host,
            challenge=nonce_bytes,
            credential_ids=(credential_id,),
            user_verification="preferred",
            timeout=min(left, fido.DEFAULT_TIMEOUT),
        )
        assertion = fido.SecurityKey(services).sign(request)
        target = _link(started, "next") or self.verify_url
        body = {
            "clientData": fido.b64url(assertion.client_data),
            "authenticatorData": fido.b64url(assertion.authenticator_data),
            "signatureData": fido.b64url(assertion.signature),
        }
        return self.post(target, body, step)


class _Browser(OktaFactor):
    """A factor samljit cannot do in a terminal (Duo, FastPass)."""

    supported: ClassVar[bool] = False
    NAMES: ClassVar[dict[str, str]] = {
        "DUO": "Duo",
        "FASTPASS": "Okta FastPass",
    }

    def verify(self, code: str | None) -> dict[str, Any]:
        raise AuthenticationError(
            f"Okta asks for {self.NAMES.get(self.kind, self.kind)}, which samljit cannot do "
            f"in a terminal: {BROWSER_HINT}"
        )


#: (factorType, provider or "") → (mfa kind, class).
_FACTORS: dict[tuple[str, str], tuple[str, type[OktaFactor]]] = {
    ("push", ""): ("PUSH", _Push),
    ("token:software:totp", ""): ("TOTP", _Passcode),
    ("token:hardware", ""): ("YUBICO", _Passcode),
    ("token", ""): ("TOKEN", _Passcode),
    ("sms", ""): ("SMS", _Challenge),
    ("call", ""): ("CALL", _Challenge),
    ("email", ""): ("EMAIL", _Challenge),
    ("question", ""): ("QUESTION", _Question),
    ("webauthn", ""): ("WEBAUTHN", _SecurityKey),
    ("u2f", ""): ("WEBAUTHN", _SecurityKey),
    ("web", "DUO"): ("DUO", _Browser),
    ("signed_nonce", ""): ("FASTPASS", _Browser),
}


def _make_factor(
    provider: OktaProvider, org: _Org, answer: Mapping[str, Any], entry: Mapping[str, Any]
) -> OktaFactor | None:
    factor_type = str(entry.get("factorType") or "").lower()
    vendor = str(entry.get("provider") or "").upper()
    found = _FACTORS.get((factor_type, vendor)) or _FACTORS.get((factor_type, ""))
    if found is None:
        return None
    kind, cls = found
    return cls(provider, org, answer, entry, kind)


# -- helpers --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Org:
    base: str  # scheme://host[:port]
    host: str
    app_id: str

    @classmethod
    def parse(cls, url: str) -> _Org:
        parts = urlsplit(url)
        found = _APP_PATH.search(parts.path)
        if _origin(url) is None or found is None:
            raise ConfigError(
                f"Okta url is not an AWS app embed link: {_clean(url)!r}",
                hint="copy the AWS app's embed link from Okta's admin console: "
                "https://ORG.okta.com/home/amazon_aws/APP_ID/272",
            )
        host = parts.hostname or ""
        return cls(f"{parts.scheme}://{parts.netloc}", host, found.group("app"))

    def resolve(self, href: str, step: str) -> str:
        """A link from Okta's answer (or page), resolved against the org; refused unless
        it stays on the org: the same scheme, host and port, no user info."""
        target = urljoin(self.base + "/", href)
        if _origin(target) != _origin(self.base):
            parts = urlsplit(target)
            where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else href
            raise AuthenticationError(
                f"{step}: Okta's answer points to {_clean(where)[:120]}, not to the org "
                f"{self.base}; samljit follows Okta's links only on the org",
                hint="check url (the AWS app's embed link); if it is right, something "
                "between you and Okta rewrites its answers: tell its admins",
            )
        return target


def _origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL without user info, ports made explicit;
    ``None`` for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` set in its query (replacing values of the same names, the
    link's other parameters kept): ``…/verify?rememberDevice=false`` stays one query."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params.items()])))


class OktaError(AuthenticationError):
    """An error answer of Okta's Authentication API, in Okta's own words."""

    def __init__(self, status: int, data: Mapping[str, Any], step: str) -> None:
        self.code = str(data.get("errorCode") or "")
        summary = _clean(str(data.get("errorSummary") or "")) or f"HTTP {status}"
        causes = data.get("errorCauses")
        details = [
            _clean(str(c.get("errorSummary")))
            for c in (causes if isinstance(causes, list) else [])
            if isinstance(c, dict) and c.get("errorSummary")
        ]
        said = summary + (f" ({'; '.join(details)})" if details else "")
        hint = _HINTS.get(self.code)
        super().__init__(f"{step}: Okta refused: {shorten(said)}", hint=hint)


_HINTS = {
    "E0000004": "check username and password (`samljit configure`); a locked user sees this too",
    "E0000011": "the sign-in took too long; run samljit again",
    "E0000068": "use a fresh code (check the phone's clock for TOTP)",
    "E0000079": "run samljit again; Okta's sign-in state moved on",
}


def _oauth_error(step: str, status: int, data: Mapping[str, Any]) -> AuthenticationError:
    error = _clean(str(data.get("error") or f"HTTP {status}"))
    description = _clean(str(data.get("error_description") or ""))
    said = f"{error}: {description}" if description else error
    if error in ("invalid_client", "unauthorized_client", "invalid_scope", "invalid_target"):
        return ConfigError(  # type: ignore[return-value]
            f"{step}: Okta refused the client_id: {shorten(said)}",
            hint="check client_id, and that the OIDC native app has the Device Authorization "
            "and Token Exchange grants and may sign in to the AWS app",
        )
    return AuthenticationError(f"{step}: Okta refused: {shorten(said)}")


def _device_expired() -> AuthenticationError:
    return AuthenticationError(
        "the Okta sign-in was not approved before the code expired",
        hint="run again and approve in the browser sooner",
    )


def _push_unanswered() -> AuthenticationError:
    return AuthenticationError(
        "Okta Verify push got no answer in time",
        hint="approve the push sooner, or use mfa = TOTP with --mfa-token",
    )


def _push_failed(result: str, *, number_shown: bool) -> AuthenticationError:
    if result == "REJECTED":
        said = (
            "denied on the phone, or a wrong number was picked"
            if number_shown
            else ("denied on the phone")
        )
        return AuthenticationError(
            f"Okta Verify push was rejected ({said})",
            hint="run again and approve it (picking the number samljit shows)",
        )
    if result == "TIMEOUT":
        return AuthenticationError(
            "Okta Verify push timed out without an answer",
            hint="run again and approve sooner, or use mfa = TOTP with --mfa-token",
        )
    return AuthenticationError(
        f"Okta Verify push ended with {_clean(result) or 'no result'}",
        hint="run again; with mfa = TOTP and --mfa-token no push is needed",
    )


def _correct_answer(answer: Mapping[str, Any]) -> int | None:
    embedded = answer.get("_embedded")
    if not isinstance(embedded, dict):
        return None
    for key in ("factor", "factors"):  # Okta's push examples say "factors" (an object)
        factor = embedded.get(key)
        inner = factor.get("_embedded") if isinstance(factor, dict) else None
        challenge = inner.get("challenge") if isinstance(inner, dict) else None
        number = challenge.get("correctAnswer") if isinstance(challenge, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            return number
    return None


def _link(answer: Mapping[str, Any], name: str) -> str | None:
    links = answer.get("_links")
    link = links.get(name) if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    return href if isinstance(href, str) and href else None


def _session_token(answer: Mapping[str, Any], step: str) -> str:
    """The ``sessionToken`` of a ``SUCCESS`` answer; an error when it holds none."""
    token = answer.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise AuthenticationError(
            f"{step}: Okta's SUCCESS answer holds no session token",
            hint=f"run again; if it persists, {BROWSER_HINT}",
        )
    return token


def _state(answer: Mapping[str, Any]) -> dict[str, str]:
    return {"stateToken": str(answer.get("stateToken") or "")}


def _expiry_days(answer: Mapping[str, Any]) -> str:
    embedded = answer.get("_embedded")
    policy = embedded.get("policy") if isinstance(embedded, dict) else None
    expiration = policy.get("expiration") if isinstance(policy, dict) else None
    days = expiration.get("passwordExpireDays") if isinstance(expiration, dict) else None
    return f" (in {days} days)" if isinstance(days, int) else ""


def _clean(text: str) -> str:
    """Network text as it may be shown: one line, nothing that is not printable."""
    return one_line(text).strip()
