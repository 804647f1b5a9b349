"""A Google-shaped IdP for the GoogleApps provider's tests (Google itself cannot be reached).

Google's SAML sign-in for an app, trimmed to what a browser sees:

* ``GET /o/saml2/initsso?idpid=…&spid=…&forceauthn=false``: with a live session cookie
  (``SID``), the SAMLResponse form at once; else a redirect to the identifier page.
* ``/v3/signin/identifier``: the e-mail input (``identifierId``, ``type=email``) and *Next*;
  an unknown account comes back with Google's words in its ``aria-live`` region.
* ``/v3/signin/challenge/pwd``: the password input (``Passwd``) and *Next*; a wrong password
  comes back as the same form with "Wrong password…" in the ``aria-live`` region.
* ``/v3/signin/challenge/totp``: 2-Step Verification for a user with a ``totp_secret``, after
  the right password: the code input (``totpPin``) and *Next*; the right code signs in.
* ``/v3/signin/rejected``: "Couldn't sign you in — This browser or app may not be secure",
  where the identifier step sends a browser when :attr:`GoogleIdp.not_secure` is set.
* The SAMLResponse form, posted by script to AWS sign-in (``acs_url``).
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable

from werkzeug.wrappers import Request, Response

from tests.emulators.formidp import FormIdp, FormUser

ACS_URL = "https://signin.aws.amazon.com/saml"
IDPID = "C01abcd2e"
SPID = "123456789012"

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Sign in - Google Accounts</title></head><body>
<div class="google-box"><h1 id="headingText">{heading}</h1>
<form method="post" action="{action}" novalidate>
{fields}
<div aria-live="assertive" jsname="B34EJ">{error}</div>
<button type="submit" jsname="LgbsSe">Next</button>
</form></div></body></html>"""
_ERROR = '<div class="o6cuMc"><span>{}</span></div>'
_REJECTED = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Sign in - Google Accounts</title></head><body>
<h1>Couldn't sign you in</h1>
<p>This browser or app may not be secure. <a href="#">Learn more</a></p>
<p>Try using a different browser.</p></body></html>"""
_SAML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Redirecting</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{acs}"><input type="hidden" name="SAMLResponse" value="{value}">
<input type="hidden" name="RelayState" value=""><noscript><button>Continue</button></noscript>
</form></body></html>"""
WRONG_PASSWORD = "Wrong password. Try again or click Forgot password to reset it."
NO_ACCOUNT = "Couldn't find your Google Account"
WRONG_CODE = "Wrong code. Try again."


class GoogleIdp(FormIdp):
    product = "Google"

    def __init__(self, users: Iterable[FormUser] = (), *, port: int = 0) -> None:
        super().__init__(users, port=port)
        #: Send every identifier to the "browser may not be secure" page.
        self.not_secure = False
        self.acs_url = ACS_URL
        self._sessions: dict[str, FormUser] = {}
        self._pending: dict[str, FormUser] = {}

    @property
    def start_url(self) -> str:
        return f"{self.base_url}/o/saml2/initsso?idpid={IDPID}&spid={SPID}&forceauthn=false"

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/o/saml2/initsso":
            if request.args.get("idpid") != IDPID or request.args.get("spid") != SPID:
                return self.page("<h1>Error 400: invalid_request</h1>", status=400)
            user = self._sessions.get(request.cookies.get("SID", ""))
            if user is not None:
                return self._saml(user)
            return self.redirect("/v3/signin/identifier?flowName=GlifWebSignIn")
        if path == "/v3/signin/identifier":
            if request.method == "GET":
                return self._identifier()
            if self.not_secure:
                return self.redirect("/v3/signin/rejected?rhlk=js")
            user = self.find(request.form.get("identifier", ""))
            if user is None:
                return self._identifier(NO_ACCOUNT)
            token = secrets.token_urlsafe(16)
            self._pending[token] = user
            response = self.redirect("/v3/signin/challenge/pwd?TL=" + token)
            return response
        if path == "/v3/signin/challenge/pwd":
            user = self._pending.get(request.args.get("TL", ""))
            if user is None:
                return self.redirect("/v3/signin/identifier")
            if request.method == "GET":
                return self._password(request.args["TL"])
            if request.form.get("Passwd", "") != user.password:
                return self._password(request.args["TL"], WRONG_PASSWORD)
            if user.totp_secret:
                return self.redirect("/v3/signin/challenge/totp?TL=" + request.args["TL"])
            return self._signed_in(user)
        if path == "/v3/signin/challenge/totp":
            user = self._pending.get(request.args.get("TL", ""))
            if user is None or not user.totp_secret:
                return self.redirect("/v3/signin/identifier")
            if request.method == "POST" and user.code_ok(request.form.get("totpPin", "")):
                return self._signed_in(user)
            return self._code(request.args["TL"], WRONG_CODE if request.method == "POST" else "")
        if path == "/v3/signin/rejected":
            return self.page(_REJECTED)
        return self.page("<h1>404</h1>", status=404)

    def _identifier(self, error: str = "") -> Response:
        fields = (
            '<input type="email" name="identifier" id="identifierId" autocomplete="username" '
            'aria-label="Email or phone">'
        )
        return self._form("Sign in", "/v3/signin/identifier", fields, error)

    def _password(self, token: str, error: str = "") -> Response:
        fields = (
            '<input type="password" name="Passwd" autocomplete="current-password" '
            'aria-label="Enter your password">'
        )
        return self._form("Welcome", f"/v3/signin/challenge/pwd?TL={token}", fields, error)

    def _code(self, token: str, error: str = "") -> Response:
        fields = (
            '<input type="tel" name="totpPin" id="totpPin" autocomplete="one-time-code" '
            'aria-label="Enter code">'
        )
        action = f"/v3/signin/challenge/totp?TL={token}"
        return self._form("2-Step Verification", action, fields, error)

    def _form(self, heading: str, action: str, fields: str, error: str) -> Response:
        """One of Google's sign-in steps: a heading, the step's inputs, *Next*, and Google's
        words in the ``aria-live`` region when the last answer was refused."""
        return self.page(
            _PAGE.format(
                heading=heading,
                action=html.escape(action),
                fields=fields,
                error=_ERROR.format(html.escape(error)) if error else "",
            )
        )

    def _signed_in(self, user: FormUser) -> Response:
        sid = secrets.token_urlsafe(24)
        self._sessions[sid] = user
        response = self._saml(user)
        self.cookie(response, "SID", sid, path="/")
        return response

    def _saml(self, user: FormUser) -> Response:
        value = self.assertion(user)
        return self.page(_SAML.format(acs=html.escape(self.acs_url), value=value))
