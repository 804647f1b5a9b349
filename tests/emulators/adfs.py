"""An AD FS (2016/2019) emulator: IdP-initiated sign-on for AWS with forms authentication,
then, for users with MFA, the Azure MFA adapter page (``VerificationCode``, or the
approve-on-the-phone page with number matching).

Kept from AD FS: ``IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices``;
``form#loginForm`` with a relative action carrying ``client-request-id``, ``UserName``
(``type=email``), ``Password``, the ``Kmsi`` checkbox, hidden ``AuthMethod=FormsAuthentication``
and a JavaScript ``span#submitButton`` instead of a submit input; the second ``form#options``
(absolute action, hidden ``AuthMethod`` and ``UserName``) whose fields must not be merged in
("Duplicate post parameter" / HTTP 500 for two ``Kmsi``); ``label#errorText``; the adapter
form without an action (it posts to ``form#options``' action) with ``AuthMethod`` and the
opaque ``Context``; the ``MSISAuth`` cookie between the two steps (MSIS7001 without it);
``MSISAuthenticated`` and the ``hiddenform`` final page.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from tests.emulators.formidp import AWS_URN, FormIdp, FormUser, render

INCORRECT = "Incorrect user ID or password. Type the correct user ID and password, and try again."
MFA_DENIED = "Authentication denied.  Please try again."
NO_CONTEXT = (
    "MSIS7001: The passive protocol context was not found or not valid. If the context was "
    "stored in cookies, the cookies that were presented by the client were not valid. Ensure "
    "that the client browser is configured to accept cookies from this website and retry this "
    "request."
)
SIGN_ON_PATH = "/adfs/ls/idpinitiatedsignon.aspx"


class AdfsEmulator(FormIdp):
    product = "ADFS"

    def __init__(self, users: Iterable[FormUser] = (), *, port: int = 0) -> None:
        super().__init__(users, port=port)
        self._pending: dict[str, tuple[str, FormUser]] = {}  # MSISAuth cookie -> (Context, user)

    @property
    def start_url(self) -> str:
        """The URL users configure; samljit adds ``loginToRp`` itself."""
        return f"{self.base_url}/adfs/ls/IdpInitiatedSignOn.aspx"

    def dispatch(self, request: Request) -> Response:
        if request.path.lower() != SIGN_ON_PATH:
            return self.page("<html><body><h1>404 - Not Found</h1></body></html>", 404)
        if request.args.get("loginToRp") != AWS_URN:
            return self._chooser()
        if request.method == "GET":
            return self._login_page(request)
        pairs = list(request.form.items(multi=True))
        names = [name for name, _ in pairs]
        if names.count("Kmsi") > 1:
            return self.page("<html><body><h1>500 - Internal server error.</h1></body></html>", 500)
        for name in ("UserName", "Password", "AuthMethod", "Context"):
            if names.count(name) > 1:
                return self._error(f'Duplicate post parameter "{name}"', 400)
        if "Context" in request.form:
            return self._mfa(request)
        return self._forms_login(request)

    # -- pages -------------------------------------------------------------------------------
    def _actions(self, request: Request) -> tuple[str, str]:
        request_id = request.args.get("client-request-id") or str(uuid.uuid4())
        query = f"loginToRp={quote(AWS_URN, safe='')}&client-request-id={request_id}"
        relative = f"/adfs/ls/IdpInitiatedSignOn.aspx?{query}"
        return relative, f"{self.base_url}{relative}"

    def _login_page(self, request: Request, error: str = "", username: str = "") -> Response:
        action, options = self._actions(request)
        text = render(
            "adfs-login.html", action=action, options_action=options, error=error, username=username
        )
        return self.page(text)

    def _mfa_page(self, request: Request, user: FormUser, cookie: str, error: str = "") -> Response:
        context = self._note_secret(secrets.token_urlsafe(48))
        self._pending[cookie] = (context, user)
        _, options = self._actions(request)
        text = render(
            "adfs-mfa.html",
            options_action=options,
            username=user.username,
            context=context,
            error=error,
            code="yes" if user.mfa == "code" else "",
            push="yes" if user.mfa == "push" else "",
            number=str(10 + secrets.randbelow(90)),
        )
        response = self.page(text)
        response.set_cookie("MSISAuth", cookie, path="/adfs", httponly=True)
        return response

    def _error(self, message: str, status: int = 200) -> Response:
        body = (
            '<html><head><title>Sign In</title></head><body><div id="errorArea">'
            '<div id="openingMessage" class="groupMargin">An error occurred</div>'
            f'<div id="errorMessage" class="groupMargin">{message}</div></div></body></html>'
        )
        return self.page(body, status)

    def _chooser(self) -> Response:
        body = (
            '<html><head><title>Sign In</title></head><body><form method="post" id="idpForm">'
            '<input type="radio" name="SignInOtherSite" id="idp_SignInToOtherRpRadioButton" '
            'value="SignInOtherSite" checked="checked"/>'
            '<select name="RelyingParty" id="idp_RelyingPartyDropDownList">'
            f'<option value="{AWS_URN}">Amazon Web Services</option></select>'
            '<input type="submit" name="SignInSubmit" id="idp_SignInButton" value="Sign in"/>'
            "</form></body></html>"
        )
        return self.page(body)

    def _final(self, user: FormUser) -> Response:
        response = self.page(render("adfs-hiddenform.html", saml_response=self.assertion(user)))
        response.set_cookie(
            "MSISAuthenticated", secrets.token_urlsafe(24), path="/adfs", httponly=True
        )
        response.set_cookie("MSISSignOut", secrets.token_urlsafe(24), path="/adfs", httponly=True)
        return response

    # -- flow --------------------------------------------------------------------------------
    def _forms_login(self, request: Request) -> Response:
        form = request.form
        username = form.get("UserName", "")
        if form.get("AuthMethod") != "FormsAuthentication":
            return self._login_page(request, username=username)
        user = self.check(username, form.get("Password", ""))
        if user is None:
            return self._login_page(request, INCORRECT, username)
        if user.totp_secret or user.mfa == "push":
            return self._mfa_page(request, user, secrets.token_urlsafe(32))
        return self._final(user)

    def _mfa(self, request: Request) -> Response:
        cookie = request.cookies.get("MSISAuth", "")
        pending = self._pending.get(cookie)
        if pending is None:
            return self._error(NO_CONTEXT)
        context, user = pending
        form = request.form
        if form.get("Context") != context or form.get("AuthMethod") != "AzureMfaAuthentication":
            return self._error(NO_CONTEXT)
        if user.mfa == "push":
            return self._mfa_page(request, user, cookie)  # still waiting for the phone
        if not user.code_ok(form.get("VerificationCode", "")):
            return self._mfa_page(request, user, cookie, MFA_DENIED)
        del self._pending[cookie]
        return self._final(user)
