"""A Shibboleth IdP v4/v5 emulator: unsolicited SAML 2 SSO for AWS through a Spring Web Flow
conversation (``?execution=e1s<n>``, a new step for every view).

Kept from Shibboleth: the 302 to ``?execution=e1s1``; the client-storage read page first
(``form1``, ``csrf_token``, ``shib_idp_ls_*``, hidden ``_eventId_proceed``) and its write twin
after a good login; the ``login.vm`` form (``j_username``/``j_password``, ``csrf_token``, the
``_eventId_proceed`` button every POST must carry, optional checkboxes); POST → 302 → GET of
the next step; the ``JSESSIONID`` cookie (path ``/idp``) holding the flow ("Stale Request"
without it); "CSRF token verification failed."; v4's ``form-element form-error`` and v5's
``output-message output--error`` error paragraphs; v5's ``__Host-shib_idp_session`` (Secure,
so never returned over http, as with a real v5 behind plain http) vs v4's ``shib_idp_session``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from werkzeug.wrappers import Request, Response

from tests.emulators.formidp import AWS_URN, FormIdp, FormUser, render

WRONG_PASSWORD = "The password you entered was incorrect."
UNKNOWN_USER = "The username you entered cannot be identified."
CSRF_FAILED = "CSRF token verification failed."
STALE = (
    "You may be seeing this page because you used the Back button while browsing a secure web "
    "site or application."
)
SSO_PATH = "/idp/profile/SAML2/Unsolicited/SSO"

Version = Literal[4, 5]


@dataclass
class _Conversation:
    csrf: str
    step: int = 1
    view: str = "ls-read"  # ls-read | login | ls-write | done
    error: str = ""
    username: str = ""
    user: FormUser | None = None


class ShibbolethEmulator(FormIdp):
    product = "Shibboleth"

    def __init__(
        self,
        users: Iterable[FormUser] = (),
        *,
        version: Version = 5,
        local_storage: bool = True,
        port: int = 0,
    ) -> None:
        super().__init__(users, port=port)
        self.version: Version = version
        self.local_storage = local_storage
        self._conversations: dict[str, _Conversation] = {}

    @property
    def start_url(self) -> str:
        return f"{self.base_url}{SSO_PATH}?providerId={AWS_URN}"

    def dispatch(self, request: Request) -> Response:
        if request.path != SSO_PATH:
            return self._error("Not Found", "The page you requested does not exist.", 404)
        execution = request.args.get("execution")
        if execution is None and request.method == "GET":
            return self._start(request)
        conversation = self._conversations.get(request.cookies.get("JSESSIONID", ""))
        if conversation is None or execution != f"e1s{conversation.step}":
            return self._error("Stale Request", STALE)
        if request.method == "GET":
            return self._view(conversation)
        return self._event(conversation, request)

    # -- pages -------------------------------------------------------------------------------
    def _error(self, title: str, message: str, status: int = 200) -> Response:
        return self.page(render("shibboleth-error.html", title=title, message=message), status)

    def _next(self, conversation: _Conversation) -> Response:
        conversation.step += 1
        return self.redirect(f"{SSO_PATH}?execution=e1s{conversation.step}")

    def _view(self, conversation: _Conversation) -> Response:
        here = f"e1s{conversation.step}"
        if conversation.view == "ls-read":
            text = render(
                "shibboleth-local-storage-read.html",
                action=f"?execution={here}",
                csrf_token=conversation.csrf,
            )
        elif conversation.view == "login":
            template = f"shibboleth-v{self.version}-login.html"
            text = render(
                template,
                action=f"{SSO_PATH}?execution={here}",
                csrf_token=conversation.csrf,
                username=conversation.username,
                error=conversation.error,
            )
        elif conversation.view == "ls-write":
            text = render(
                "shibboleth-local-storage-write.html",
                action=f"{SSO_PATH}?execution={here}",
                csrf_token=conversation.csrf,
                ls_value=secrets.token_hex(16),
            )
        else:
            assert conversation.user is not None
            saml = self.assertion(conversation.user)
            response = self.page(render("shibboleth-post-binding.html", saml_response=saml))
            if self.version == 5:
                response.headers["Content-Security-Policy"] = "default-src 'self'"
            return response
        return self.page(text)

    # -- flow --------------------------------------------------------------------------------
    def _start(self, request: Request) -> Response:
        if request.args.get("providerId") != AWS_URN:
            return self._error(
                "Unsupported Request",
                "The application you have accessed is not registered for use with this service.",
            )
        session = secrets.token_hex(16).upper()
        self._conversations[session] = _Conversation(
            csrf=self._note_secret("_" + secrets.token_hex(20)),
            view="ls-read" if self.local_storage else "login",
        )
        response = self.redirect(f"{SSO_PATH}?execution=e1s1")
        response.set_cookie("JSESSIONID", session, path="/idp", httponly=True)
        return response

    def _event(self, conversation: _Conversation, request: Request) -> Response:
        form = request.form
        if form.get("csrf_token") != conversation.csrf:
            return self._error("Error", CSRF_FAILED)
        if "_eventId_proceed" not in form:
            return self._next(conversation)  # no event: the same view again, one step on
        if conversation.view == "ls-read":
            conversation.view = "login"
            return self._next(conversation)
        if conversation.view == "login":
            return self._login(conversation, request)
        if conversation.view == "ls-write":
            conversation.view = "done"
            return self._next(conversation)
        return self._error("Stale Request", STALE)

    def _login(self, conversation: _Conversation, request: Request) -> Response:
        username = request.form.get("j_username", "")
        conversation.username = username
        user = self.find(username)
        if user is None:
            conversation.error = UNKNOWN_USER
            return self._next(conversation)
        if user.password != request.form.get("j_password", ""):
            conversation.error = WRONG_PASSWORD
            return self._next(conversation)
        conversation.error = ""
        conversation.user = user
        conversation.view = "ls-write" if self.local_storage else "done"
        response = self._next(conversation)
        if self.version == 5:
            response.set_cookie(
                "__Host-shib_idp_session",
                secrets.token_hex(32),
                path="/",
                secure=True,
                httponly=True,
            )
        else:
            response.set_cookie(
                "shib_idp_session", secrets.token_hex(32), path="/idp", httponly=True
            )
        return response
