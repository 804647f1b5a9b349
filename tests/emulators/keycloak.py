"""A Keycloak emulator: IdP-initiated SAML login for the AWS client, with the classic
``keycloak`` or the ``keycloak.v2`` login theme, the OTP page, and optionally the Kerberos
"continue" page first (401 + ``WWW-Authenticate: Negotiate``).

Kept from Keycloak: ``form#kc-form-login`` posting to ``login-actions/authenticate?session_code=
…&execution=…&client_id=…&tab_id=…`` (a new ``session_code`` on every page), the
``AUTH_SESSION_ID`` cookie every POST needs ("Cookie not found…" without it), the
``tryAnotherWay`` form that must never be merged into the login POST (Keycloak then shows the
login page again, forever), "Invalid username or password." / "Invalid authenticator code."
in the theme's error markup, and the final auto-submit page.

    with KeycloakEmulator([FormUser("ana", "pw", roles=[...], totp_secret=...)]) as kc:
        kc.start_url
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from tests.emulators.formidp import AWS_URN, FormIdp, FormUser, render

INVALID_CREDENTIALS = "Invalid username or password."
INVALID_OTP = "Invalid authenticator code."
COOKIE_NOT_FOUND = "Cookie not found. Please make sure cookies are enabled in your browser."
TIMED_OUT = "Your login attempt timed out. Login will start from the beginning."
CLIENT = "amazon-aws"
#: Keycloak's default "SSO Session Max" (10 hours), the max-age of KEYCLOAK_SESSION.
SSO_SESSION_MAX = 36000

Theme = Literal["keycloak", "keycloak.v2"]


@dataclass
class _Flow:
    tab_id: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    session_code: str = ""
    execution: str = ""
    stage: str = "login"  # kerberos | login | otp | done
    user: FormUser | None = None
    device_one: str = field(default_factory=lambda: str(uuid.uuid4()))
    device_two: str = field(default_factory=lambda: str(uuid.uuid4()))


class KeycloakEmulator(FormIdp):
    product = "Keycloak"

    def __init__(
        self,
        users: Iterable[FormUser] = (),
        *,
        theme: Theme = "keycloak",
        kerberos: bool = False,
        two_devices: bool = False,
        realm: str = "acme",
        port: int = 0,
    ) -> None:
        super().__init__(users, port=port)
        self.theme: Theme = theme
        self.kerberos = kerberos
        self.two_devices = two_devices
        self.realm = realm
        self._prefix = f"/realms/{realm}"
        self._start_path = f"{self._prefix}/protocol/saml/clients/{CLIENT}"  # IdP-initiated
        self._flows: dict[str, _Flow] = {}
        self._identities: dict[str, FormUser] = {}  # KEYCLOAK_IDENTITY -> user (SSO session)

    def end_sessions(self) -> None:
        """End every SSO session, as an admin's "sign out all sessions" or their timeout does."""
        with self._lock:
            self._identities.clear()

    @property
    def start_url(self) -> str:
        return f"{self.base_url}{self._start_path}"

    def dispatch(self, request: Request) -> Response:
        if request.method == "GET" and request.path == self._start_path:
            return self._start(request)
        if (
            request.method == "POST"
            and request.path == f"{self._prefix}/login-actions/authenticate"
        ):
            return self._authenticate(request)
        return self.page(
            render("shibboleth-error.html", title="Not found", message="Page not found"), 404
        )

    # -- pages -------------------------------------------------------------------------------
    def _action(self, flow: _Flow) -> str:
        flow.session_code = self._note_secret(secrets.token_urlsafe(32))
        flow.execution = str(uuid.uuid4())
        return (
            f"{self.base_url}{self._prefix}/login-actions/authenticate?session_code="
            f"{flow.session_code}&execution={flow.execution}&client_id={quote(AWS_URN, safe='')}"
            f"&tab_id={flow.tab_id}"
        )

    def _stage_page(self, flow: _Flow, stage: str, **values: object) -> Response:
        """The theme's page for ``stage`` (``login``, ``otp``), posting to a fresh action."""
        flow.stage = stage
        theme = "keycloak" if self.theme == "keycloak" else "keycloak-v2"
        action = self._action(flow)  # a new session_code
        text = render(
            f"{theme}-{stage}.html",
            realm=self.realm,
            action=action,
            tab_id=flow.tab_id,
            session_code=flow.session_code,
            **values,
        )
        return self.page(text)

    def _login_page(self, flow: _Flow, error: str = "", username: str = "") -> Response:
        return self._stage_page(flow, "login", username=username, error=error)

    def _otp_page(self, flow: _Flow, error: str = "") -> Response:
        devices = "yes" if self.two_devices else ""
        return self._stage_page(
            flow,
            "otp",
            error=error,
            devices=devices,
            device_one=flow.device_one,
            device_two=flow.device_two,
        )

    def _error_page(self, message: str, status: int = 400) -> Response:
        body = (
            f"<!DOCTYPE html><html><head><title>Sign in to {self.realm}</title></head><body>"
            '<div id="kc-content"><div id="kc-error-message">'
            f'<p class="instruction">{message}</p></div></div></body></html>'
        )
        return self.page(body, status)

    # -- flow --------------------------------------------------------------------------------
    def _start(self, request: Request) -> Response:
        user = self._identities.get(request.cookies.get("KEYCLOAK_IDENTITY", ""))
        if user is not None:  # an SSO session: the assertion at once, no login page
            return self._final(_Flow(), user)
        session_id = secrets.token_hex(16)
        flow = _Flow()
        self._flows[session_id] = flow
        if self.kerberos:
            flow.stage = "kerberos"
            text = render("keycloak-kerberos.html", action=self._action(flow))
            response = self.page(text, 401, {"WWW-Authenticate": "Negotiate"})
        else:
            response = self._login_page(flow)
        cookie_path = f"{self._prefix}/"
        self.cookie(response, "AUTH_SESSION_ID", f"{session_id}.keycloak-0", path=cookie_path)
        self.cookie(response, "KC_RESTART", secrets.token_urlsafe(48), path=cookie_path)
        return response

    def _authenticate(self, request: Request) -> Response:
        cookie = request.cookies.get("AUTH_SESSION_ID", "")
        flow = self._flows.get(cookie.split(".", 1)[0])
        if flow is None:
            return self._error_page(COOKIE_NOT_FOUND)
        args, form = request.args, request.form
        if (
            args.get("tab_id") != flow.tab_id
            or args.get("session_code") != flow.session_code
            or args.get("execution") != flow.execution
            or args.get("client_id") != AWS_URN
        ):
            return self._login_page(flow, TIMED_OUT)
        if "tryAnotherWay" in form:
            return self._login_page(flow)  # what Keycloak does: the same page, forever
        if flow.stage == "kerberos":
            return self._login_page(flow)
        if flow.stage == "login":
            user = self.check(form.get("username", ""), form.get("password", ""))
            if user is None:
                return self._login_page(flow, INVALID_CREDENTIALS, form.get("username", ""))
            flow.user = user
            if user.totp_secret:
                return self._otp_page(flow)
            return self._final(flow, user)
        if flow.stage == "otp" and flow.user is not None:
            chosen = form.get("selectedCredentialId", flow.device_one)
            if chosen not in (flow.device_one, flow.device_two):
                return self._otp_page(flow, INVALID_OTP)
            if not flow.user.code_ok(form.get("otp", "")):
                return self._otp_page(flow, INVALID_OTP)
            return self._final(flow, flow.user)
        return self._error_page("Unexpected error when authenticating with identity provider")

    def _final(self, flow: _Flow, user: FormUser) -> Response:
        flow.stage = "done"
        template = (
            "keycloak-post-binding-legacy.html"
            if self.theme == "keycloak"
            else "keycloak-post-binding.html"
        )
        response = self.page(render(template, realm=self.realm, saml_response=self.assertion(user)))
        path = f"{self._prefix}/"
        identity = secrets.token_urlsafe(48)
        self._identities[identity] = user
        # like Keycloak: the identity is a session cookie; KEYCLOAK_SESSION carries the SSO
        # session's maximum lifetime
        self.cookie(response, "KEYCLOAK_IDENTITY", identity, path=path)
        self.cookie(
            response,
            "KEYCLOAK_SESSION",
            secrets.token_urlsafe(24),
            path=path,
            max_age=SSO_SESSION_MAX,
        )
        return response
