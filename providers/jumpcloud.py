"""JumpCloud: user-console login (XSRF, password, TOTP, JumpCloud Protect push or a security
key), then the AWS app's SSO page, which holds the SAMLResponse.

Two hosts, both configurable: ``api_url`` (default https://console.jumpcloud.com) for the JSON
login calls and ``url`` (``https://sso.jumpcloud.com/saml2/<app-slug>``) for the assertion.
One cookie jar (the injected :class:`~samljit.common.http.HttpClient`) is kept across every step.
"""

from __future__ import annotations

from binascii import Error as Base64Error
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from samljit.idp.api import (
    ACCEPT_JSON,
    DUO_KEYS,
    AuthenticationError,
    Factor,
    LoginSecrets,
    Provider,
    ProviderKey,
    Waiting,
    WrongCodeError,
    choose,
    code_until_accepted,
    duo_prompt,
    fido,
    parse_page,
    printable,
    saml_response,
    seconds_until,
    wait_until,
)

DEFAULT_API_URL = "https://console.jumpcloud.com"
MFA_REQUIRED = "MFA required."
PUSH_POLL_SECONDS = 0.5
PUSH_FALLBACK_SECONDS = 120.0


@dataclass
class _Login:
    """The state of one login: API base, XSRF token and the password request body."""

    api: str
    body: dict[str, str]
    xsrf: str = ""
    offered: list[Any] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


class JumpCloudProvider(Provider):
    name: ClassVar[str] = "JumpCloud"
    mfa_options: ClassVar[tuple[str, ...]] = ("Auto", "TOTP", "PUSH", "WEBAUTHN", "DUO")
    keys: ClassVar[tuple[ProviderKey, ...]] = (*Provider.keys, *DUO_KEYS)

    def session_hosts(self) -> list[str]:
        hosts = super().session_hosts()
        if not self.account.api_url:
            hosts.append(urlsplit(DEFAULT_API_URL).hostname or "")
        return hosts

    def login(self, secrets: LoginSecrets) -> str:
        if self.session_loaded:
            kept = self._sso_with_session()
            if kept is not None:
                return kept
        api = (self.account.api_url or DEFAULT_API_URL).rstrip("/")
        slug_path = urlsplit(self.account.url).path.lstrip("/")
        state = _Login(
            api=api,
            body={
                "context": "sso",
                "redirectTo": slug_path,
                "email": secrets.username,
                "password": secrets.password or "",
                "otp": "",
            },
        )
        self.redactor.add(secrets.password, secrets.mfa_token)
        self._fetch_xsrf(state)
        answer = self.call(state, "POST", "/userconsole/auth", state.body, "JumpCloud password")
        if answer is None:
            factors = self._factors(state)
            factor = choose(
                factors,
                self.account.mfa,
                self.terminal,
                have_code=bool(secrets.mfa_token),
                unsupported=state.unsupported,
            )
            self.notify("mfa.challenged", factor=factor.kind)
            factor.verify(secrets.mfa_token)
        page = self.http.get(self.account.url, step="JumpCloud SSO page")
        self.http.raise_for_service_trouble(page, step="JumpCloud SSO page")
        return saml_response(page.text, url=page.url, step="JumpCloud SSO page")

    # -- steps --------------------------------------------------------------------------
    def _sso_with_session(self) -> str | None:
        """The SSO page asked with the kept session cookie: its SAMLResponse, or None when
        JumpCloud sends the browser to its login page instead (the session has ended)."""
        step = "JumpCloud SSO page"
        page = self.http.get(self.account.url, step=step)
        self.http.raise_for_service_trouble(page, step=step)
        found = parse_page(page.text, url=page.url).saml_response if page.ok else None
        if found:
            self.redactor.add(found)
            return found
        self.http.drop_cookies()  # the ended session's cookies: start clean
        return None

    def _fetch_xsrf(self, state: _Login) -> None:
        step = "JumpCloud XSRF token"
        response = self.http.get(
            f"{state.api}/userconsole/xsrf", step=step, headers={"Accept": ACCEPT_JSON}
        )
        self.http.raise_for_service_trouble(response, step=step)
        token = _json(response, step).get("xsrf") if response.status_code == 200 else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError(
                f"{step}: JumpCloud answered HTTP {response.status_code} without a token",
                hint="check api_url (the JumpCloud console host)",
            )
        self.redactor.add(token)
        state.xsrf = token

    def call(
        self,
        state: _Login,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        step: str,
        *,
        refused_hint: str = "check username and password (samljit configure), or the MFA code",
        refused: type[AuthenticationError] = AuthenticationError,
        status_answer: bool = False,
    ) -> dict[str, Any] | None:
        """One JSON call. Returns the 200 body, or ``None`` when JumpCloud asks for MFA
        (its factors are then in ``state``); raises on every other answer. With
        ``status_answer`` (a push poll), a 401 whose body carries a ``status`` is returned
        too: JumpCloud answers a denied push that way, and the body says so. ``refused``: the
        error a 401 raises (after a TOTP code, :class:`WrongCodeError`: the code was wrong)."""
        for attempt in (1, 2):
            response = self.http.request(
                method,
                f"{state.api}{path}",
                step=step,
                json=body,
                headers={
                    "X-Xsrftoken": state.xsrf,
                    "Accept": ACCEPT_JSON,
                    "Content-Type": "application/json",
                },
            )
            self.http.raise_for_service_trouble(response, step=step)
            if response.status_code == 403 and attempt == 1:
                self._fetch_xsrf(state)  # stale XSRF token: fetch a new one, try once more
                continue
            break
        data = _json(response, step) if response.content else {}
        if response.status_code == 200:
            return data
        if status_answer and response.status_code == 401 and isinstance(data.get("status"), str):
            return data  # the body first: a denied push, not a refused password
        message = printable(str(data.get("message") or "").strip())  # shown to the user
        if response.status_code == 401 and message == MFA_REQUIRED:
            factors = data.get("factors")
            state.offered = factors if isinstance(factors, list) else []
            return None
        if response.status_code == 401:
            raise refused(
                f"JumpCloud refused the login: {message or 'HTTP 401'}", hint=refused_hint
            )
        raise AuthenticationError(
            f"{step}: JumpCloud answered HTTP {response.status_code}"
            + (f": {message}" if message else "")
        )

    def _factors(self, state: _Login) -> list[Factor[None]]:
        factors: list[Factor[None]] = []
        for entry in state.offered:
            if not isinstance(entry, dict) or entry.get("status") != "available":
                continue
            kind = str(entry.get("type", "")).lower()
            if kind == "totp":
                factors.append(_Totp(self, state))
            elif kind == "push":
                factors.append(_Push(self, state))
            elif kind == "webauthn":
                factors.append(_WebAuthn(self, state))
            elif kind == "duo":
                factors.append(_Duo(self, state))
            elif kind:
                state.unsupported.append(kind)
        wanted = (self.account.mfa or "Auto").strip().upper()
        if wanted == "AUTO" and any(f.kind != "WEBAUTHN" for f in factors):
            # a security key only when asked for (mfa = WEBAUTHN) or when it is all there is
            factors = [f for f in factors if f.kind != "WEBAUTHN"]
        return factors


class _Factor(Factor[None]):
    """A JumpCloud factor: the provider and the login it completes."""

    #: What the factor is, shown after its kind when samljit lists the factors.
    what: ClassVar[str] = ""

    def __init__(self, provider: JumpCloudProvider, state: _Login) -> None:
        self.provider = provider
        self.state = state

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.what})" if self.what else self.kind

    def finish(
        self, path: str, body: dict[str, Any], step: str, *, after: str, **options: Any
    ) -> None:
        """The call that completes the factor (``options``: :meth:`JumpCloudProvider.call`'s);
        JumpCloud asking for MFA again then is an error, ``after`` says after what."""
        if self.provider.call(self.state, "POST", path, body, step, **options) is None:
            raise AuthenticationError(f"JumpCloud asked for MFA again after {after}")


class _Totp(_Factor):
    kind: ClassVar[str] = "TOTP"
    takes_code: ClassVar[bool] = True

    def verify(self, code: str | None) -> None:
        code_until_accepted(self.provider.terminal, code, self._send, what="JumpCloud TOTP code")

    def _send(self, otp: str) -> None:
        """Step 2 again with the code; JumpCloud's 401 then means a wrong code (its words),
        which a typed code may be typed again after."""
        self.provider.redactor.add(otp)
        body = {**self.state.body, "otp": otp}
        self.finish(
            "/userconsole/auth",
            body,
            "JumpCloud TOTP",
            after="the TOTP code",
            refused=WrongCodeError,
        )


class _Push(_Factor):
    kind: ClassVar[str] = "PUSH"
    what: ClassVar[str] = "JumpCloud Protect"

    def verify(self, code: str | None) -> None:
        call = self.provider.call
        started = call(self.state, "POST", "/userconsole/auth/push", {}, "JumpCloud push")
        push_id = str((started or {}).get("id") or "")
        if not push_id:
            raise AuthenticationError("JumpCloud push: the answer holds no push id")
        path = f"/userconsole/auth/push/{quote(push_id, safe='')}"
        services = self.provider.services
        expires_at = (started or {}).get("expiresAt")
        terminal = self.provider.terminal
        terminal.info("JumpCloud Protect push sent: approve the sign-in on your phone.")

        def expired() -> AuthenticationError:
            return AuthenticationError(
                "JumpCloud Protect push expired without an answer",
                hint="approve the push sooner, or use mfa = TOTP",
            )

        def poll(_: Waiting) -> bool | None:
            answer = (
                call(self.state, "GET", path, None, "JumpCloud push status", status_answer=True)
                or {}
            )
            status = str(answer.get("status", "")).lower()
            if status == "accepted":
                return True
            if status == "denied":
                said = printable(str(answer.get("message") or "").strip())
                raise AuthenticationError(
                    "JumpCloud Protect push was denied on the phone"
                    + (f": {said}" if said else ""),
                    hint="run again and approve the push, or use mfa = TOTP",
                )
            if status == "expired":
                raise expired()
            if status != "pending":
                raise AuthenticationError(f"JumpCloud push: unexpected status {status!r}")
            return None

        wait_until(
            poll,
            services=services,
            seconds=seconds_until(expires_at, services.now(), PUSH_FALLBACK_SECONDS),
            every=PUSH_POLL_SECONDS,
            waiting="Waiting for approval…",
            expired=expired,
        )
        self.finish(f"{path}/login", {}, "JumpCloud push login", after="the push")


class _WebAuthn(_Factor):
    """A security key (protocol section 3): JumpCloud's challenge, the key's assertion."""

    kind: ClassVar[str] = "WEBAUTHN"
    what: ClassVar[str] = "security key"

    def verify(self, code: str | None) -> None:
        provider, state = self.provider, self.state
        if not fido.fido2_installed():
            raise fido.fido2_missing("JumpCloud")
        step = "JumpCloud WebAuthn challenge"
        # the session cookies only: no XSRF or JSON headers on this GET
        response = provider.http.get(f"{state.api}/userconsole/auth/webauthn", step=step)
        provider.http.raise_for_service_trouble(response, step=step)
        data = _json(response, step)
        if response.status_code != 200:
            message = printable(str(data.get("message") or "").strip())
            raise AuthenticationError(
                f"{step}: JumpCloud answered HTTP {response.status_code}"
                + (f": {message}" if message else "")
            )
        request, token = _key_request(data, fido.origin_of(state.api), step)
        assertion = fido.SecurityKey(provider.services).sign(request)
        body = {
            "publicKeyCredential": {
                "id": fido.b64url(assertion.credential_id),
                "rawId": fido.b64url(assertion.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": fido.b64url(assertion.client_data),
                    "authenticatorData": fido.b64url(assertion.authenticator_data),
                    "signature": fido.b64url(assertion.signature),
                    "userHandle": None,
                },
            },
            "token": token,
        }
        self.finish(
            "/userconsole/auth/webauthn",
            body,
            "JumpCloud WebAuthn",
            after="the security key",
            refused_hint="use the security key enrolled for this user, or log in with "
            "`samljit login --browser`",
        )


class _Duo(_Factor):
    """Duo: JumpCloud sends the browser to Duo's Universal Prompt (``GET
    {api}/userconsole/auth/duo`` redirects there), which samljit's Duo driver completes; Duo
    sends it back to JumpCloud's callback, which logs the console in."""

    kind: ClassVar[str] = "DUO"
    what: ClassVar[str] = "Duo Universal Prompt"
    takes_code: ClassVar[bool] = True  # a Duo passcode

    def verify(self, code: str | None) -> None:
        provider, http = self.provider, self.provider.http
        duo = duo_prompt(provider, code, notify=False)
        headers = {"X-Xsrftoken": self.state.xsrf, "Accept": ACCEPT_JSON}
        url = duo.reach(f"{self.state.api}/userconsole/auth/duo", "JumpCloud Duo", headers=headers)
        back = duo.complete(url)
        step = "JumpCloud Duo callback"
        response = http.request("GET", back, step=step, headers={"Accept": ACCEPT_JSON})
        http.raise_for_service_trouble(response, step=step)
        if response.status_code != 200:
            message = printable(str(_json(response, step).get("message") or "").strip())
            raise AuthenticationError(
                f"JumpCloud refused the Duo login: {message or f'HTTP {response.status_code}'}",
                hint="run again; --debug shows each step",
            )


def _key_request(data: dict[str, Any], origin: str, step: str) -> tuple[fido.KeyRequest, str]:
    """JumpCloud's challenge as a :class:`fido.KeyRequest` (origin: the API host's), and the
    token to send back."""
    public = data.get("publicKey")
    token = data.get("token")
    if not isinstance(public, dict) or not isinstance(token, str) or not token:
        raise AuthenticationError(f"{step}: JumpCloud's answer holds no WebAuthn challenge")
    try:
        challenge = fido.unb64url(public.get("challenge"))
        allowed = tuple(
            fido.unb64url(entry.get("id"))
            for entry in public.get("allowCredentials") or []
            if isinstance(entry, dict)
        )
    except (TypeError, ValueError, Base64Error):
        raise AuthenticationError(
            f"{step}: JumpCloud's WebAuthn challenge is not base64url"
        ) from None
    rp_id = public.get("rpId")
    if not isinstance(rp_id, str) or not rp_id:
        rp_id = urlsplit(origin).hostname or ""  # WebAuthn's default: the origin's host
    timeout = public.get("timeout")
    seconds = (
        float(timeout) / 1000
        if isinstance(timeout, int | float) and not isinstance(timeout, bool)
        else None
    )
    verification = public.get("userVerification")
    request = fido.KeyRequest(
        idp="JumpCloud",
        origin=origin,
        rp_id=printable(rp_id),
        challenge=challenge,
        credential_ids=allowed,
        user_verification=verification if isinstance(verification, str) else "preferred",
        timeout=seconds,
    )
    return request, token


def _json(response: Any, step: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise AuthenticationError(
            f"{step}: JumpCloud answered HTTP {response.status_code} with something that is "
            "not JSON",
            hint="check api_url (the JumpCloud console host)",
        ) from None
    return data if isinstance(data, dict) else {}
