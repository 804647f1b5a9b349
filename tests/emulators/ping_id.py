"""PingID (authenticator.pingone.com), as :mod:`tests.emulators.ping` serves it (see there)."""

from __future__ import annotations

import html
import json
import secrets
from typing import Literal

from werkzeug.wrappers import Request, Response

from tests.emulators.formidp import render
from tests.emulators.ping_model import (
    CLAIM_TIMEOUT,
    DENIED,
    OK,
    PASSCODE_LOCKED,
    PASSCODE_WRONG,
    PINGID_EXPIRED,
    PINGID_INVALID,
    PUSH_DENIED,
    PUSH_TIMED_OUT,
    TIMEOUT,
    WAIT,
    PingIdAuth,
    PingServer,
    Shared,
    jwt_like,
)

SESSION_COOKIE = "JSESSIONID"  # (assumed) name of PingID's session cookie
CSRF_COOKIE = ".csrf"
PPM = "/pingid/ppm"
DEVICE_ITEM = (
    '<li class="device {kind}{selected}" data-id="{id}">'
    '<{tag}>{name} <div class="device-name">{name}</div></{tag}></li>'
)
REFUSED = {DENIED: PUSH_DENIED, TIMEOUT: PUSH_TIMED_OUT, CLAIM_TIMEOUT: PUSH_TIMED_OUT}


class PingId(PingServer):
    """PingID: ``POST /pingid/ppm/auth`` (``idp_account_id``, ``ppm_request``, once) starts
    an authentication, sets ``JSESSIONID`` and ``.csrf`` (= the pages' ``csrfToken``) and
    answers the device list (``choose_device`` users with several devices) or the default
    device's page. Later requests need the session cookie and the ``csrfToken`` (form field or
    query; ``GET /pingid/ppm/devices``, the "Change Device" link, the cookie alone).

    Push: the push goes to the phone on the first status request (:attr:`pushes`); the
    answer follows the device's ``push`` after ``push_after`` polls, or ``TIMEOUT`` once
    ``push_timeout`` seconds of the clock have passed. One push per authentication.
    Passcodes: ``otp_attempts`` wrong ones end the authentication; a used code is refused.
    ``device_tag``: the device list's entries as ``<a>`` or ``<button>`` (both are seen)."""

    product = "PingID"
    host = "127.0.0.2"

    def __init__(
        self,
        shared: Shared,
        *,
        port: int = 0,
        push_timeout: float = 60.0,
        otp_attempts: int = 3,
        device_tag: Literal["a", "button"] = "a",
    ) -> None:
        super().__init__(shared, port=port)
        self.device_tag = device_tag
        self.push_timeout = push_timeout
        self.otp_attempts = otp_attempts

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == f"{PPM}/auth" and request.method == "POST":
            return self._begin(request)
        auth = self._auth(
            request, need_csrf=not (path == f"{PPM}/devices" and request.method == "GET")
        )
        if auth is None:
            return self.error(PINGID_EXPIRED)
        if path == f"{PPM}/devices" and request.method == "GET":
            return self._devices(auth)
        if path == f"{PPM}/devices" and request.method == "POST":
            device = (
                auth.login.user.device(request.form.get("deviceId", ""))
                if auth.login.user
                else None
            )
            if device is None:
                return self.error(PINGID_INVALID)
            auth.device = device
            return self._device_page(auth)
        if path == f"{PPM}/auth/status" and request.method in ("GET", "POST"):
            return self._status(auth)
        if path == f"{PPM}/auth/response" and request.method == "GET":
            return self._result(auth)
        if path == f"{PPM}/auth/usecode" and request.method == "POST":
            if auth.push_sent_at is not None or auth.device.kind != "mobile-phone":
                return self.error(PINGID_INVALID)
            auth.page = "passcode"
            return self._passcode_page(auth)
        if path == f"{PPM}/auth/otp" and request.method == "POST":
            return self._passcode(auth, request.form.get("otp", ""))
        return self.error(PINGID_INVALID, 404)

    @property
    def pushes(self) -> int:
        """Pushes sent to a phone so far."""
        return len(self.shared.pushes)

    # -- pages -------------------------------------------------------------------------------
    def error(self, message: str, status: int = 200) -> Response:
        return self.page(render("pingid-error.html", error=message), status)

    def _devices(self, auth: PingIdAuth) -> Response:
        user = auth.login.user
        assert user is not None
        default = user.default_device()
        items = "\n".join(
            DEVICE_ITEM.format(
                tag=self.device_tag,
                kind=d.kind,
                selected=" selected" if d is default else "",
                id=d.id,
                name=html.escape(d.name),
            )
            for d in user.devices
        )
        auth.page = "devices"
        text = render("pingid-devices.html", csrf=auth.csrf, default_id=default.id)
        return self.page(text.replace("<!--devices-->", items))

    def _device_page(self, auth: PingIdAuth) -> Response:
        if auth.device.kind == "mobile-phone":
            auth.page = "push"
            return self.page(
                render(
                    "pingid-swipe.html",
                    device=auth.device.name,
                    number=auth.device.number,
                    csrf=auth.csrf,
                    status_action=f"{self.base_url}{PPM}/auth/status",
                    response_action=f"{self.base_url}{PPM}/auth/response",
                )
            )
        auth.page = "passcode"
        if auth.device.kind in ("sms", "email", "voice"):
            auth.sent_code = self.code(auth.device, f"{secrets.randbelow(10**6):06d}")
        return self._passcode_page(auth)

    def _passcode_page(self, auth: PingIdAuth, error: str = "") -> Response:
        text = render(
            "pingid-otp.html",
            action=f"{self.base_url}{PPM}/auth/otp",
            csrf=auth.csrf,
            device=auth.device.name,
            error=error,
        )
        if auth.device.kind != "mobile-phone":
            text = text.replace(
                'class="window settings"', f'class="window settings {auth.device.kind}"'
            )
        if auth.device.kind == "yubikey":
            text = text.replace('maxlength="6"', 'maxlength="44"')
        return self.page(text)

    def _back_to_pf(self, auth: PingIdAuth) -> Response:
        auth.finished = True
        login = auth.login
        login.ppm_response = self.secret(jwt_like())
        action = f"{self.shared.pf_url}/idp/{login.id}/resumeSAML20/idp/{login.kind}.ping"
        return self.page(
            render("pingid-resume.html", action=action, ppm_response=login.ppm_response)
        )

    # -- steps ------------------------------------------------------------------------------
    def _begin(self, request: Request) -> Response:
        token = request.form.get("ppm_request", "")
        login = next(
            (
                x
                for x in self.shared.logins.values()
                if token and x.ppm_request == token and x.user is not None
            ),
            None,
        )
        if login is None or request.form.get("idp_account_id") != self.shared.account_id:
            return self.error(PINGID_INVALID)
        if any(a.login is login for a in self.shared.auths):  # ppm_request is good once
            return self.error(PINGID_INVALID)
        user = login.user
        assert user is not None
        auth = PingIdAuth(
            login,
            session=self.secret(secrets.token_hex(16)),
            csrf=self.secret(
                f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
            ),
            device=user.default_device(),
        )
        self.shared.auths.append(auth)
        if user.choose_device and len(user.devices) > 1:
            response = self._devices(auth)
        else:
            response = self._device_page(auth)
        self.cookie(response, SESSION_COOKIE, auth.session, path="/")
        response.set_cookie(CSRF_COOKIE, auth.csrf, path="/")  # readable by the page's script
        self._note_cookie(auth.csrf)
        return response

    def _auth(self, request: Request, *, need_csrf: bool) -> PingIdAuth | None:
        session = request.cookies.get(SESSION_COOKIE, "")
        csrf = request.form.get("csrfToken") or request.args.get("csrfToken") or ""
        for auth in self.shared.auths:
            if session and auth.session == session and not auth.finished:
                return auth if (csrf == auth.csrf or (not need_csrf and not csrf)) else None
        return None

    def _status(self, auth: PingIdAuth) -> Response:
        now = self.shared.clock()
        self.shared.polls.append(now)
        if auth.device.kind != "mobile-phone" or auth.page != "push":
            return Response(json.dumps({"status": PINGID_INVALID}), mimetype="application/json")
        if auth.push_sent_at is None:
            auth.push_sent_at = now
            self.shared.pushes.append((auth.device.id, now))
        if auth.status == WAIT:
            auth.polls += 1
            behaviour = auth.device.push
            if behaviour != "never" and auth.polls >= auth.device.push_after:
                auth.status = {
                    "approve": OK,
                    "deny": DENIED,
                    "wrong-number": DENIED,
                    "timeout": TIMEOUT,
                    "claim-timeout": CLAIM_TIMEOUT,
                }[behaviour]
            elif now - auth.push_sent_at >= self.push_timeout:
                auth.status = TIMEOUT
        return Response(json.dumps({"status": auth.status}), mimetype="application/json")

    def _result(self, auth: PingIdAuth) -> Response:
        if auth.status == OK:
            return self._back_to_pf(auth)
        if auth.status == WAIT:
            return self.error(PINGID_INVALID)
        auth.finished = True
        return self.error(REFUSED.get(auth.status, PUSH_DENIED))

    def _passcode(self, auth: PingIdAuth, code: str) -> Response:
        if auth.page != "passcode":
            return self.error(PINGID_INVALID)
        if self.shared.code_ok(auth.device, code):
            return self._back_to_pf(auth)
        auth.failures += 1
        if auth.failures >= self.otp_attempts:
            auth.finished = True
            return self.error(PASSCODE_LOCKED)
        return self._passcode_page(auth, PASSCODE_WRONG)
