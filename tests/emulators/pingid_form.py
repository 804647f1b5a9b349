"""A form IdP whose second factor is PingID, as a PingFederate-style IdP hands it over: the
password form, then an auto-post page carrying ``ppm_request`` to PingID, PingID's push page
(``form#form1`` to poll the status, ``form#reponseView`` for the result, ``useCodeUrl`` to
switch to the app's passcode, and with ``number`` set the number to match), the passcode
page, and the auto-post page carrying ``ppm_response`` back to the IdP, which answers the
SAMLResponse page. Pages are ``fixtures/forms/pingid-*.html``.

The push is sent to the phone when the first status request arrives, so a client that will
not answer a push must not poll: :attr:`status_polls` counts them.

Two loopback names on one port, as PingFederate and PingID are two hosts: the IdP's pages
(``/login``, ``/resume``) on ``127.0.0.1`` (:attr:`start_url`), PingID's (``/pingid/...``) on
``localhost`` (:attr:`pingid_url`); each name answers only its own paths (404 for the others).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.emulators.common import host_name
from tests.emulators.formidp import FormIdp, FormUser, render

WRONG_PASSCODE = "Invalid passcode. Please try again."
#: PingID's loopback name (the IdP's is 127.0.0.1, the same port).
PINGID_HOST = "localhost"
DEVICE = "iPhone"
LOGIN_PAGE = (
    '<html><head><title>Sign On</title></head><body><div class="ping-messages"></div>'
    '<form method="post" action="/login"><input name="username">'
    '<input type="password" name="password"><button>Sign On</button></form></body></html>'
)
FINAL_PAGE = (
    '<html><body onload="document.forms[0].submit()">'
    '<form method="post" action="https://signin.aws.amazon.com/saml">'
    '<input type="hidden" name="SAMLResponse" value="$saml_response"></form></body></html>'
)


@dataclass
class _Transaction:
    user: FormUser
    ppm_request: str
    csrf: str = ""
    ppm_response: str = ""


class PingIdFormIdp(FormIdp):
    product = "PingFederate"

    def __init__(
        self, users: Iterable[FormUser] = (), *, number: int | None = 42, port: int = 0
    ) -> None:
        super().__init__(users, port=port)
        self.number = number
        self.status_polls = 0
        self._transactions: list[_Transaction] = []

    @property
    def start_url(self) -> str:
        return f"{self.base_url}/login"

    @property
    def pingid_url(self) -> str:
        """PingID's origin: another loopback name than the IdP's, the same port."""
        return self.origin(PINGID_HOST)

    def _secret(self) -> str:
        return self._note_issued(secrets.token_urlsafe(24))

    def _by(self, name: str, value: Any) -> _Transaction | None:
        return next((t for t in self._transactions if value and getattr(t, name) == value), None)

    def dispatch(self, request: Request) -> Response:
        path, form = request.path, request.form
        on_pingid = host_name(request) == PINGID_HOST
        if on_pingid != path.startswith("/pingid/"):  # each host serves its own pages only
            return self.page("<html><body><h1>404 Not Found</h1></body></html>", 404)
        if path == "/login" and request.method == "GET":
            return self.page(LOGIN_PAGE)
        if path == "/login":
            user = self.check(form.get("username", ""), form.get("password", ""))
            if user is None:
                return self.page(
                    LOGIN_PAGE.replace(
                        '<div class="ping-messages"></div>',
                        '<div class="ping-messages"><div class="ping-error">We didn\'t recognize '
                        "the username or password you entered. Please try again.</div></div>",
                    )
                )
            transaction = _Transaction(user, self._secret())
            self._transactions.append(transaction)
            return self.page(
                render(
                    "pingid-autopost.html",
                    action=f"{self.pingid_url}/pingid/ppm/auth",
                    account_id="9d5c1f4e-0b7a-4c1e-8f3a-2b6d7e8f9a0b",
                    ppm_request=transaction.ppm_request,
                )
            )
        if path == "/pingid/ppm/auth":
            transaction = self._by("ppm_request", form.get("ppm_request"))
            if transaction is None:
                return self._error("The request is not valid.")
            transaction.csrf = self._secret()
            return self.page(
                render(
                    "pingid-swipe.html",
                    device=DEVICE,
                    number=self.number,
                    csrf=transaction.csrf,
                    status_action=f"{self.pingid_url}/pingid/ppm/auth/status",
                    response_action=f"{self.pingid_url}/pingid/ppm/auth/response",
                )
            )
        if path == "/resume":
            return self.resume(request)
        csrf = form.get("csrfToken") or request.args.get("csrfToken")
        transaction = self._by("csrf", csrf)
        if transaction is None:
            return self._error("Your session has expired. Please try again.")
        if path == "/pingid/ppm/auth/status":
            self.status_polls += 1  # the push goes to the phone now
            return Response('{"status": "ASYNC_AUTH_WAIT"}', mimetype="application/json")
        if path in ("/pingid/ppm/auth/usecode", "/pingid/ppm/auth/otp"):
            code = form.get("otp")
            if code is not None and transaction.user.code_ok(code):
                transaction.ppm_response = self._secret()
                return self.page(
                    render(
                        "pingid-resume.html",
                        action=f"{self.base_url}/resume",
                        ppm_response=transaction.ppm_response,
                    )
                )
            return self.page(
                render(
                    "pingid-otp.html",
                    action=f"{self.pingid_url}/pingid/ppm/auth/otp",
                    csrf=transaction.csrf,
                    device=DEVICE,
                    error=WRONG_PASSCODE if code is not None else "",
                )
            )
        return self._error("The request is not valid.")

    def _error(self, message: str) -> Response:
        return self.page(f'<html><body><div class="error-message">{message}</div></body></html>')

    def resume(self, request: Request) -> Response:
        transaction = self._by("ppm_response", request.form.get("ppm_response"))
        if transaction is None:
            return self._error("The request is not valid.")
        return self.page(render_final(self.assertion(transaction.user)))


def render_final(saml_response: str) -> str:
    return FINAL_PAGE.replace("$saml_response", saml_response)
