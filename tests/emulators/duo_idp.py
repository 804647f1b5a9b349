"""A Shibboleth IdP with Duo's OIDC plugin in front of the Duo emulator: what a form-engine
login meets when the IdP's second factor is Duo's Universal Prompt (shared/protocols/duo.md
section 0).

The :class:`~tests.emulators.shibboleth.ShibbolethEmulator` flow, with one step added after a
good password: no IdP session yet, the plugin's health check of Duo (server to server, a
client assertion), then a 302 to Duo's ``/oauth/v1/authorize`` with a ``request`` JWT (HS512,
the client secret) naming the user, a fresh ``state`` and the callback
``/idp/profile/Authn/Duo/2FA/duo-callback``. The callback needs the flow's ``JSESSIONID``
and the ``state`` it sent, exchanges ``code`` (Shibboleth's plugin leaves
``use_duo_code_attribute`` false; ``duo_code`` when it is set) at Duo's token endpoint,
checks the ``id_token`` (signature, issuer, audience, user), sets the IdP session cookie and
redirects to ``…/SSO?execution=e1s<n>&_eventId_proceed=1``; from there the usual flow goes on
to the page that auto-posts the signed SAMLResponse to AWS.

Shibboleth's wording for Duo failures is unverified (the error page's structure is
Shibboleth's).

Run by hand from the repo root: ``python -m tests.emulators.duo_idp --port 8720``.
"""

from __future__ import annotations

import argparse
import secrets
import signal
from collections.abc import Iterable, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.emulators.common import demo_roles
from tests.emulators.duo import (
    CLIENT_ASSERTION_TYPE,
    OIDC_HEALTH_PATH,
    Client,
    DuoEmulator,
    DuoUser,
    Phone,
    jwt_decode,
)
from tests.emulators.formidp import FormUser
from tests.emulators.shibboleth import SSO_PATH, STALE, ShibbolethEmulator, Version, _Conversation

CALLBACK_PATH = "/idp/profile/Authn/Duo/2FA/duo-callback"
DUO_FAILED = "Duo authentication failed."  # (unverified)
DUO_UNAVAILABLE = "Duo is unavailable; authentication cannot continue."  # (unverified)


class DuoShibbolethEmulator(ShibbolethEmulator):
    """Shibboleth + Duo: ``duo`` is the running :class:`DuoEmulator` (its users named as
    here), ``client`` the IdP's Duo application (default: Duo's first client)."""

    def __init__(
        self,
        users: Iterable[FormUser],
        duo: DuoEmulator,
        *,
        client: Client | None = None,
        use_duo_code_attribute: bool = False,
        version: Version = 5,
        local_storage: bool = True,
        port: int = 0,
    ) -> None:
        super().__init__(users, version=version, local_storage=local_storage, port=port)
        self.duo = duo
        self.client = client or next(iter(duo.clients.values()))
        self.use_duo_code_attribute = use_duo_code_attribute
        self._pending: dict[str, str] = {}  # state -> JSESSIONID
        self._duo_results: list[dict[str, Any]] = []
        self._idp_sessions: dict[str, FormUser] = {}  # IdP session cookie -> user

    @property
    def callback_url(self) -> str:
        return f"{self.base_url}{CALLBACK_PATH}"

    @property
    def duo_results(self) -> list[dict[str, Any]]:
        """The ``id_token`` claims of every code exchanged with Duo."""
        return self._snapshot(dict(r) for r in self._duo_results)

    # -- flow --------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path == CALLBACK_PATH and request.method == "GET":
            return self._duo_callback(request)
        return super().dispatch(request)

    @property
    def session_cookie(self) -> str:
        return "__Host-shib_idp_session" if self.version == 5 else "shib_idp_session"

    def _start(self, request: Request) -> Response:
        """A new flow; with a live IdP session cookie it answers with the SAMLResponse at
        once (no password, no Duo), as section 7 of the page says."""
        response = super()._start(request)
        user = self._idp_sessions.get(request.cookies.get(self.session_cookie, ""))
        if user is not None and response.status_code == 302 and self._conversations:
            conversation = list(self._conversations.values())[-1]
            conversation.user, conversation.view = user, "done"
        return response

    def _view(self, conversation: _Conversation) -> Response:
        if conversation.view == "duo":  # the flow waits for Duo's callback
            return self._error("Stale Request", STALE)
        return super()._view(conversation)

    def _login(self, conversation: _Conversation, request: Request) -> Response:
        user = self.check(request.form.get("j_username", ""), request.form.get("j_password", ""))
        if user is None:
            return super()._login(conversation, request)  # Shibboleth's own error pages
        if not self._duo_healthy():
            return self._error("Login Failed", DUO_UNAVAILABLE)
        conversation.username, conversation.error = user.username, ""
        conversation.user, conversation.view = user, "duo"
        state = self._note_secret(secrets.token_urlsafe(27))
        self._pending[state] = request.cookies.get("JSESSIONID", "")
        location = self.duo.authorize_url(
            user.username,
            self.callback_url,
            state,
            client=self.client,
            use_duo_code_attribute=self.use_duo_code_attribute,
        )
        self._note_secret(location.rpartition("request=")[2].partition("&")[0])
        return self.redirect(location)

    def _duo_callback(self, request: Request) -> Response:
        session_id = request.cookies.get("JSESSIONID", "")
        conversation = self._conversations.get(session_id)
        sent_for = self._pending.pop(request.args.get("state", ""), None)
        if conversation is None or sent_for != session_id or conversation.view != "duo":
            return self._error("Stale Request", STALE)
        user = conversation.user
        assert user is not None
        name = "duo_code" if self.use_duo_code_attribute else "code"
        claims = self._exchange(request.args.get(name, ""))
        if claims is None or str(claims.get("preferred_username", "")).lower() != (
            user.username.lower()
        ):
            conversation.view, conversation.user = "login", None
            return self._error("Login Failed", DUO_FAILED)
        self._duo_results.append(claims)
        conversation.view = "ls-write" if self.local_storage else "done"
        conversation.step += 1
        response = self.redirect(f"{SSO_PATH}?execution=e1s{conversation.step}&_eventId_proceed=1")
        value = secrets.token_hex(32)
        self._idp_sessions[value] = user
        if self.version == 5:  # Secure: a client never returns it over plain http
            self.cookie(response, self.session_cookie, value, path="/", secure=True)
        else:
            self.cookie(response, self.session_cookie, value, path="/idp")
        return response

    # -- server to server --------------------------------------------------------------------
    def _duo_healthy(self) -> bool:
        import requests

        url = f"{self.duo.base_url}{OIDC_HEALTH_PATH}"
        form = {
            "client_id": self.client.client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.duo.client_assertion(self.client, audience=url),
        }
        try:
            reply = requests.post(url, data=form, timeout=5)
            return reply.status_code == 200 and reply.json().get("stat") == "OK"
        except (requests.RequestException, ValueError, AttributeError):
            return False

    def _exchange(self, code: str) -> dict[str, Any] | None:
        """The ``id_token`` claims Duo gives for ``code``, checked, or None."""
        import requests

        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.callback_url,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.duo.client_assertion(self.client),
        }
        try:
            reply = requests.post(self.duo.token_url, data=form, timeout=5)
            body = reply.json()
        except (requests.RequestException, ValueError):
            return None
        if reply.status_code != 200 or not isinstance(body, dict):
            return None
        claims = jwt_decode(str(body.get("id_token", "")), self.client.client_secret)
        if (
            claims is None
            or claims.get("iss") != self.duo.token_url
            or claims.get("aud") != self.client.client_id
            or (claims.get("auth_result") or {}).get("result") != "allow"
        ):
            return None
        return claims


# -- demo -----------------------------------------------------------------------------------
DEMO_ROLES = demo_roles("Shibboleth")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Shibboleth + Duo with a demo user.")
    parser.add_argument("--port", type=int, default=8720, help="the IdP's port")
    parser.add_argument("--duo-port", type=int, default=8721)
    parser.add_argument("--verified-push", action="store_true")
    args = parser.parse_args(argv)
    phones = [
        Phone("iPhone 15", "1234", passcodes=["123456"]),
        Phone("Work Pixel 8", "5678", push="deny"),
        Phone("Desk phone", "9012", landline=True),
    ]
    duo = DuoEmulator(
        [DuoUser("demo", phones=phones, passcodes=["999000111"])],
        verified_push=args.verified_push,
        port=args.duo_port,
    )
    with (
        duo,
        DuoShibbolethEmulator(
            [FormUser("demo", "demo-password", roles=DEMO_ROLES)], duo, port=args.port
        ) as idp,
    ):
        print(f"IdP url:   {idp.start_url}\nDuo:       {duo.base_url}")
        print("login:     demo\npassword:  demo-password")
        print("phone1:    push approved on the 2nd poll, passcode 123456")
        print("phone2:    push denied\nphone3:    landline, call answered")
        print("bypass:    999000111\nCtrl-C to stop.", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            print("\nstopped")


if __name__ == "__main__":
    main()
