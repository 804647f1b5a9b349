"""An F5 BIG-IP APM emulator: APM as the SAML IdP of the AWS app, with a logon page and an
MFA page whose ``mfamethod`` select defaults to a push and whose ``mfatoken`` input takes a
one-time passcode.

Kept from APM's pages as reported: every step posts ``form#auth_form`` to ``/my.policy``
within the ``MRHSession`` cookie's access session; the MFA page offers push (the default),
a one-time passcode and a text message; a push blocks the POST until the phone answers; a
finished session answers the IdP-initiated URL with the SAML auto-post page. Pages are
``fixtures/forms/f5-*.html``.

    with F5ApmEmulator([FormUser("ana", "pw", roles=[...], totp_secret=...)]) as f5:
        f5.start_url
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from werkzeug.wrappers import Request, Response

from tests.emulators.formidp import FormIdp, FormUser, render

WRONG_PASSWORD = "The username or password is not correct. Please try again."
WRONG_PASSCODE = "The one-time passcode is not correct. Please try again."
PUSH_DENIED = "Access was denied by the access policy: the sign-in was denied on the phone."
NO_SESSION = "<html><body><p>Your session could not be established.</p></body></html>"
SESSION_COOKIE = "MRHSession"
RESOURCE = "/Common/aws-idp"

PushAnswer = Literal["approve", "deny"]


@dataclass
class _Session:
    stage: str = "logon"  # logon | mfa | done
    user: FormUser | None = None


class F5ApmEmulator(FormIdp):
    product = "F5"

    def __init__(
        self, users: Iterable[FormUser] = (), *, push: PushAnswer = "approve", port: int = 0
    ) -> None:
        super().__init__(users, port=port)
        self.push: PushAnswer = push
        self._sessions: dict[str, _Session] = {}
        #: Every ``mfamethod`` posted, in order.
        self.methods: list[str] = []

    @property
    def start_url(self) -> str:
        return f"{self.base_url}/saml/idp/res?id={RESOURCE}"

    def dispatch(self, request: Request) -> Response:
        session = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if request.path == "/saml/idp/res" and request.method == "GET":
            if session is not None and session.stage == "done" and session.user is not None:
                return self.page(
                    render("f5-post-binding.html", saml_response=self.assertion(session.user))
                )
            response = self.redirect("/my.policy")
            key = secrets.token_hex(16)
            self._sessions[key] = _Session()
            self.cookie(response, SESSION_COOKIE, key, path="/")
            return response
        if request.path != "/my.policy" or session is None:
            return self.page(NO_SESSION, 403)
        if request.method == "GET":
            return self.page(render("f5-logon.html"))
        if session.stage == "logon":
            user = self.check(request.form.get("username", ""), request.form.get("password", ""))
            if user is None:
                return self.page(
                    render(
                        "f5-logon.html",
                        error=WRONG_PASSWORD,
                        username=request.form.get("username", ""),
                    )
                )
            session.user = user
            if not user.totp_secret:
                return self._done(session)
            session.stage = "mfa"
            return self.page(render("f5-mfa.html"))
        if session.stage == "mfa" and session.user is not None:
            method = request.form.get("mfamethod", "")
            self.methods.append(method)
            if method == "push":
                if self.push == "approve":
                    return self._done(session)
                del self._sessions[request.cookies[SESSION_COOKIE]]
                return self.page(
                    f'<html><body><p class="logout_page_error">{PUSH_DENIED}</p></body></html>'
                )
            if method == "otp" and session.user.code_ok(request.form.get("mfatoken", "")):
                return self._done(session)
            return self.page(render("f5-mfa.html", error=WRONG_PASSCODE))
        return self.page(NO_SESSION, 403)

    def _done(self, session: _Session) -> Response:
        session.stage = "done"
        return self.redirect(f"/saml/idp/res?id={RESOURCE}")
