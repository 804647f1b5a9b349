"""A JumpCloud user-console and SSO emulator for samljit's tests.

It speaks the protocol in shared/protocols/jumpcloud.md on 127.0.0.1 (ephemeral port by
default). One server serves both hosts' paths: ``api_url`` for ``/userconsole/...`` and
``sso_url(slug)`` for ``/saml2/<slug>``; by default they share host and port, so one cookie jar
carries the session cookie from login to the SSO page.

With ``api_host`` and ``sso_host`` (names a private network namespace's hosts file maps to
127.0.0.1, say ``console.jumpcloud.test`` and ``sso.jumpcloud.test``) the two are apart, as
JumpCloud's real hosts are: each name answers only its own paths (404 for the others), and
the session cookie crosses from one to the other only when it is set with
``Domain=<cookie_domain>`` (the parent domain), as JumpCloud's is. ``tls`` (a server context
holding a certificate for those names) and ``port=443`` make the URLs ``https://<name>``.

    with JumpCloudEmulator([User("ana@example.com", "pw", apps={"aws": [grant]})]) as emu:
        emu.api_url, emu.sso_url("aws")

Security keys (protocol section 3, WebAuthn): a user with ``webauthn`` credentials (id, COSE
public key, sign count: see tests/support/softkey.py ``enroll``) is offered the ``webauthn``
factor; ``GET /userconsole/auth/webauthn`` answers the request options and a token, and the
assertion POSTed back is verified with the ``webauthn`` library (signature, challenge, origin =
``api_url``, RP ID hash, user presence and verification, a counter that must go up).

Run by hand from the repo root: ``python -m tests.emulators.jumpcloud --port 8700``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import Failure
from samljit.tools.sandbox.response import (
    AWS_ACS_URL,
    RoleGrant,
    RoleOrder,
    SignTarget,
    build_encrypted_placeholder,
    encode,
)
from tests.emulators.common import Demo, SigningIdp, SpentCodes, host_name

if TYPE_CHECKING:
    from ssl import SSLContext

    from tests.emulators.duo import DuoEmulator

# Texts the emulator answers with; tests assert that they reach the user.
BAD_CREDENTIALS_MESSAGE = "Authentication failed: invalid email or password."
MFA_REQUIRED_MESSAGE = "MFA required."
INVALID_OTP_MESSAGE = "Invalid one-time password."
XSRF_MESSAGE = "Forbidden: missing or invalid XSRF token."
CONTENT_TYPE_MESSAGE = "Content-Type must be application/json."
BAD_BODY_MESSAGE = "Malformed request body."
#: A sign-in that is not for an SSO app (``context`` other than ``sso``) or whose ``redirectTo``
#: is not the app's SSO path (``saml2/<slug>``, relative: never another host).
SSO_REQUEST_MESSAGE = "Bad request: context must be sso and redirectTo an app's saml2 path."
PUSH_UNAVAILABLE_MESSAGE = "Push authentication is not available for this login."
PUSH_NOT_FOUND_MESSAGE = "Push request not found."
PUSH_NOT_ACCEPTED_MESSAGE = "Push authentication has not been accepted."
NO_ACCESS_MESSAGE = "You do not have access to this application."
WEBAUTHN_UNAVAILABLE_MESSAGE = "Security key authentication is not available for this login."
WEBAUTHN_UNKNOWN_MESSAGE = "This security key is not registered for your account."
WEBAUTHN_REFUSED_MESSAGE = "Security key verification failed"
WEBAUTHN_COUNTER_MESSAGE = "Security key counter went backwards: the key may be cloned."
LOGIN_PAGE_TEXT = "Sign in to the JumpCloud User Portal to continue."

XSRF_COOKIE = "_xsrf"
SESSION_COOKIE = "jcsso_session"
REDACTED = "***"

PushBehaviour = Literal["accept", "deny", "expire", "never"]


@dataclass
class App:
    """An AWS app as the emulator serves it (a plain list of grants means the defaults)."""

    roles: Sequence[RoleGrant]
    session_duration: int | None = 3600
    relay_state: str = ""
    encrypted: bool = False  # answer with an EncryptedAssertion stub instead


@dataclass
class KeyCredential:
    """A security key credential as the IdP keeps it after registration."""

    id: bytes
    public_key: Mapping[int, Any]  # COSE
    sign_count: int = 0


@dataclass
class User:
    email: str
    password: str = field(repr=False)
    totp_secret: str | None = field(default=None, repr=False)
    push: PushBehaviour | None = None
    push_accept_after: int = 2  # the poll that reports accepted/denied; earlier polls: pending
    push_expires_in: float = 60.0
    factors_override: list[dict[str, str]] | None = None  # answered verbatim if given
    webauthn: list[KeyCredential] = field(default_factory=list)
    webauthn_rp_id: str | None = None  # default: api_url's host
    webauthn_user_verification: str = "preferred"
    webauthn_timeout_ms: int = 60000
    webauthn_advertise: Sequence[bytes] | None = None  # allowCredentials ids (default: all)
    duo: bool = False
    apps: Mapping[str, Sequence[RoleGrant] | App] = field(default_factory=dict)
    role_order: RoleOrder = "mixed"

    def factors(self) -> list[dict[str, str]]:
        if self.factors_override is not None:
            return [dict(f) for f in self.factors_override]
        found = [{"type": "totp", "status": "available"}] if self.totp_secret else []
        if self.push:
            found.append({"type": "push", "status": "available"})
        if self.webauthn:
            found.append({"type": "webauthn", "status": "available"})
        if self.duo:
            found.append({"type": "duo", "status": "available"})
        return found

    def can_use(self, kind: str) -> bool:
        return any(f.get("type") == kind and f.get("status") == "available" for f in self.factors())

    def app(self, slug: str) -> App | None:
        app = self.apps.get(slug)
        return app if app is None or isinstance(app, App) else App(roles=list(app))

    @property
    def user_id(self) -> str:
        return hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]


@dataclass
class _Console:
    token: str
    pending: str | None = None  # email whose password is verified and who owes a factor
    redirect_to: str = ""


@dataclass
class _Push:
    id: str
    email: str
    console: str
    initiated: float
    expires: float
    polls: int = 0
    status: str = "pending"
    used: bool = False


@dataclass
class _KeyChallenge:
    console: str
    email: str
    challenge: bytes
    rp_id: str
    user_verification: str
    used: bool = False


def _instant(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n{body}\n</html>\n"
    )
    return Response(text, status=status, mimetype="text/html")


SSO_PATH = re.compile(r"saml2/[A-Za-z0-9._~-]+")


def _field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name, body.get(name[0].upper() + name[1:], ""))
    return value if isinstance(value, str) else ""


DUO_CALLBACK_PATH = "/userconsole/auth/duo/callback"
DUO_NOT_ENABLED_MESSAGE = "Duo is not enabled for this user."  # (unverified)
DUO_FAILED_MESSAGE = "Duo authentication failed."  # (unverified)


class JumpCloudEmulator(SigningIdp):
    def __init__(
        self,
        users: Iterable[User] = (),
        *,
        port: int = 0,
        issuer: str = "JumpCloud",
        sign_target: SignTarget = "assertion",
        clock: Callable[[], float] = time.time,
        duo: DuoEmulator | None = None,
        api_host: str | None = None,
        sso_host: str | None = None,
        cookie_domain: str | None = None,
        tls: SSLContext | None = None,
    ) -> None:
        self.users = {u.email.lower(): u for u in users}
        #: The API and SSO hosts' names when they are apart (both given), else None.
        self.hosts = (api_host, sso_host) if api_host and sso_host else None
        self.cookie_domain = cookie_domain  # the session cookie's Domain (None: host-only)
        self._tls = tls
        #: The Duo tenant a ``duo`` user is sent to (Duo's Universal Prompt; the hand-off's
        #: shape at JumpCloud is unverified: a 302 from ``GET /userconsole/auth/duo`` to
        #: Duo's authorize URL, back to ``/userconsole/auth/duo/callback?state&duo_code``).
        self.duo = duo
        self._duo_pending: dict[str, str] = {}  # state -> console key
        self.issuer = issuer
        self.clock = clock  # push timing only (tests may pass a fake); TOTP uses real time
        super().__init__(port, sign_target)
        self._submitted: list[tuple[str, dict[str, Any]]] = []
        self._consoles: dict[str, _Console] = {}
        self._sessions: dict[str, str] = {}  # SSO session cookie -> email
        self._pushes: dict[str, _Push] = {}
        self._key_challenges: dict[str, _KeyChallenge] = {}
        self._spent_codes = SpentCodes()

    def _origin(self, which: int) -> str:
        """The origin of the API host (0) or the SSO host (1)."""
        if self.hosts is None:
            return self.base_url
        scheme = "https" if self._tls is not None else "http"
        port = "" if self.port == (443 if self._tls is not None else 80) else f":{self.port}"
        return f"{scheme}://{self.hosts[which]}{port}"

    @property
    def api_url(self) -> str:
        return self._origin(0)

    def sso_url(self, slug: str) -> str:
        return f"{self._origin(1)}/saml2/{slug}"

    # -- test hooks --------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._lock:
            self.users[user.email.lower()] = user

    @property
    def submitted(self) -> list[tuple[str, dict[str, Any]]]:
        """JSON bodies POSTed, as ``(path, body)``; password and otp values are redacted."""
        return self._snapshot((p, dict(b)) for p, b in self._submitted)

    def end_sessions(self) -> None:
        """End every SSO session (the session cookies no longer open the SSO page)."""
        with self._lock:
            self._sessions.clear()

    # -- WSGI --------------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path
        self._record(method, path)
        failure = self._next_failure(path)
        if failure is not None:
            return self._failure_response(failure)
        if self.hosts is not None:  # apart: each host answers its own paths only
            on_sso = path.startswith("/saml2/")
            if host_name(request) != self.hosts[int(on_sso)]:
                return _json({"message": "Not Found"}, 404)
        if path == "/userconsole/xsrf" and method == "GET":
            return self._xsrf(request)
        if path == "/userconsole/auth/webauthn" and method == "GET":
            return self._webauthn_start(request)  # session cookies only, no XSRF header
        if path == DUO_CALLBACK_PATH and method == "GET":
            return self._duo_callback(request)
        if path.startswith("/userconsole/"):
            return self._console_call(request)
        if path.startswith("/saml2/") and method == "GET":
            return self._sso(request, path[len("/saml2/") :].strip("/"))
        if path == "/login" and method == "GET":
            return _page("JumpCloud User Portal", f"<body><p>{LOGIN_PAGE_TEXT}</p></body>")
        return _json({"message": "Not Found"}, 404)

    @staticmethod
    def _failure_response(failure: Failure) -> Response:
        """:meth:`fail_next`'s answer: a dict body as JSON, a str as HTML, None as
        ``{"message": ...}``."""
        if isinstance(failure.body, str):
            response = Response(failure.body, status=failure.status, mimetype="text/html")
        else:
            default = {"message": HTTP_STATUS_CODES.get(failure.status, "Error")}
            response = _json(dict(failure.body or default), failure.status)
        response.headers.update(dict(failure.headers))
        return response

    def _xsrf(self, request: Request) -> Response:
        key = request.cookies.get(XSRF_COOKIE, "")
        token = self._note_secret(secrets.token_urlsafe(32))  # the XSRF token
        if key in self._consoles:
            self._consoles[key].token = token  # a new token makes the old one stale
        else:
            key = secrets.token_urlsafe(24)
            self._consoles[key] = _Console(token=token)
        response = _json({"xsrf": token})
        response.set_cookie(XSRF_COOKIE, key, httponly=True, path="/")
        return response

    def _console_call(self, request: Request) -> Response:
        key = request.cookies.get(XSRF_COOKIE, "")
        console = self._consoles.get(key)
        sent = request.headers.get("X-Xsrftoken", "")
        if console is None or not hmac.compare_digest(sent.encode(), console.token.encode()):
            return _json({"message": XSRF_MESSAGE}, 403)
        method, parts = request.method, request.path.strip("/").split("/")[1:]
        body: dict[str, Any] = {}
        if method == "POST":
            if request.mimetype != "application/json":
                return _json({"message": CONTENT_TYPE_MESSAGE}, 415)
            parsed = request.get_json(silent=True)
            if not isinstance(parsed, dict):
                return _json({"message": BAD_BODY_MESSAGE}, 400)
            body = parsed
            self._submitted.append((request.path, self._redact(body)))
        if method == "POST" and parts == ["auth"]:
            return self._auth(console, body)
        if method == "POST" and parts == ["auth", "webauthn"]:
            return self._webauthn_finish(key, console, body)
        if method == "POST" and parts == ["auth", "push"]:
            return self._push_start(key, console)
        if method == "GET" and parts == ["auth", "duo"]:
            return self._duo_start(key, console)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["auth", "push"]:
            return self._push_status(key, parts[2])
        if (
            method == "POST"
            and len(parts) == 4
            and parts[:2] + parts[3:] == ["auth", "push", "login"]
        ):
            return self._push_login(key, console, parts[2])
        return _json({"message": "Not Found"}, 404)

    @staticmethod
    def _redact(body: Mapping[str, Any]) -> dict[str, Any]:
        secret_keys = {"password", "Password", "otp", "Otp"}
        return {k: (REDACTED if k in secret_keys and v else v) for k, v in body.items()}

    def _auth(self, console: _Console, body: Mapping[str, Any]) -> Response:
        user = self.users.get(_field(body, "email").lower())
        password, otp = _field(body, "password"), _field(body, "otp")
        if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
            console.pending = None
            return _json({"message": BAD_CREDENTIALS_MESSAGE}, 401)
        redirect_to = _field(body, "redirectTo")
        if _field(body, "context") != "sso" or not SSO_PATH.fullmatch(redirect_to):
            console.pending = None
            return _json({"message": SSO_REQUEST_MESSAGE}, 400)
        console.redirect_to = redirect_to
        factors = user.factors()
        console.pending = user.email.lower() if factors else None
        if factors and not otp:
            return _json({"message": MFA_REQUIRED_MESSAGE, "factors": factors}, 401)
        if factors:
            secret = user.totp_secret
            if not (secret and user.can_use("totp")):
                return _json({"message": INVALID_OTP_MESSAGE}, 401)
            # a used code is refused as a wrong one is (the protocol's 401)
            if self._spent_codes.check(user.email.lower(), secret, otp, time.time()) != "ok":
                return _json({"message": INVALID_OTP_MESSAGE}, 401)
        return self._logged_in(console, user)

    def _logged_in(self, console: _Console, user: User) -> Response:
        console.pending = None
        target = console.redirect_to.lstrip("/") or "userconsole/"
        session = secrets.token_urlsafe(32)
        self._sessions[session] = user.email.lower()
        self._note_cookie(session)
        origin = self._origin(1) if SSO_PATH.fullmatch(target) else self.api_url
        response = _json({"redirectTo": f"{origin}/{target}"})
        response.set_cookie(
            SESSION_COOKIE,
            session,
            httponly=True,
            path="/",
            domain=self.cookie_domain,
            secure=self._tls is not None,
        )
        return response

    # -- Duo (Universal Prompt) -------------------------------------------------------------
    @property
    def duo_callback_url(self) -> str:
        return f"{self.api_url}{DUO_CALLBACK_PATH}"

    def _duo_start(self, key: str, console: _Console) -> Response:
        user = self.users.get(console.pending or "")
        if user is None or self.duo is None or not user.can_use("duo"):
            return _json({"message": DUO_NOT_ENABLED_MESSAGE}, 400)
        state = self._note_secret(secrets.token_urlsafe(27))
        self._duo_pending[state] = key
        location = self.duo.authorize_url(user.email, self.duo_callback_url, state)
        self._note_secret(location.rpartition("request=")[2].partition("&")[0])
        return Response(status=302, headers={"Location": location})

    def _duo_callback(self, request: Request) -> Response:
        key = request.cookies.get(XSRF_COOKIE, "")
        console = self._consoles.get(key)
        sent_for = self._duo_pending.pop(request.args.get("state", ""), None)
        user = self.users.get(console.pending or "") if console is not None else None
        if console is None or user is None or sent_for != key or self.duo is None:
            return _json({"message": DUO_FAILED_MESSAGE}, 401)
        if not self.duo.redeem(request.args.get("duo_code", ""), self.duo_callback_url, user.email):
            return _json({"message": DUO_FAILED_MESSAGE}, 401)
        return self._logged_in(console, user)

    def _push_json(self, push: _Push) -> Response:
        return _json(
            {
                "id": push.id,
                "status": push.status,
                "initiatedAt": _instant(push.initiated),
                "expiresAt": _instant(push.expires),
                "userId": self.users[push.email].user_id,
            }
        )

    def _push_start(self, key: str, console: _Console) -> Response:
        user = self.users.get(console.pending or "")
        if user is None or user.push is None or not user.can_use("push"):
            return _json({"message": PUSH_UNAVAILABLE_MESSAGE}, 401)
        now = self.clock()
        push = _Push(
            secrets.token_hex(12), user.email.lower(), key, now, now + user.push_expires_in
        )
        self._pushes[push.id] = push
        return self._push_json(push)

    def _push_status(self, key: str, push_id: str) -> Response:
        push = self._pushes.get(push_id)
        if push is None or push.console != key:
            return _json({"message": PUSH_NOT_FOUND_MESSAGE}, 404)
        user = self.users[push.email]
        if push.status == "pending":
            push.polls += 1
            if user.push == "never":
                pass  # pending even past expiresAt: the client must give up on its own clock
            elif self.clock() >= push.expires:
                push.status = "expired"
            elif user.push in ("accept", "deny") and push.polls >= user.push_accept_after:
                push.status = "accepted" if user.push == "accept" else "denied"
        response = self._push_json(push)
        if push.status == "denied":
            response.status_code = 401  # as JumpCloud answers it: HTTP 401, the status in the body
        return response

    def _push_login(self, key: str, console: _Console, push_id: str) -> Response:
        push = self._pushes.get(push_id)
        if push is None or push.console != key or push.status != "accepted" or push.used:
            return _json({"message": PUSH_NOT_ACCEPTED_MESSAGE}, 401)
        push.used = True
        return self._logged_in(console, self.users[push.email])

    def _webauthn_start(self, request: Request) -> Response:
        key = request.cookies.get(XSRF_COOKIE, "")
        console = self._consoles.get(key)
        user = self.users.get(console.pending or "") if console is not None else None
        if user is None or not user.can_use("webauthn"):
            return _json({"message": WEBAUTHN_UNAVAILABLE_MESSAGE}, 401)
        challenge = secrets.token_bytes(32)
        token = self._note_secret(secrets.token_urlsafe(24))
        rp_id = user.webauthn_rp_id or (urlsplit(self.api_url).hostname or "")
        self._key_challenges[token] = _KeyChallenge(
            key, user.email.lower(), challenge, rp_id, user.webauthn_user_verification
        )
        ids = (
            user.webauthn_advertise
            if user.webauthn_advertise is not None
            else [c.id for c in user.webauthn]
        )
        public_key = {
            "challenge": _b64url(challenge),
            "rpId": rp_id,
            "timeout": user.webauthn_timeout_ms,
            "allowCredentials": [
                {"type": "public-key", "id": _b64url(i), "transports": ["usb", "nfc"]} for i in ids
            ],
            "userVerification": user.webauthn_user_verification,
        }
        return _json({"publicKey": public_key, "token": token})

    def _webauthn_finish(self, key: str, console: _Console, body: Mapping[str, Any]) -> Response:
        from webauthn import verify_authentication_response
        from webauthn.helpers.exceptions import InvalidAuthenticationResponse

        started = self._key_challenges.get(str(body.get("token", "")))
        if started is None or started.console != key or started.used:
            return _json({"message": WEBAUTHN_UNAVAILABLE_MESSAGE}, 401)
        started.used = True  # one assertion per challenge
        user = self.users[started.email]
        credential = body.get("publicKeyCredential")
        raw_id = credential.get("rawId") if isinstance(credential, dict) else None
        stored = next(
            (c for c in user.webauthn if isinstance(raw_id, str) and _b64url(c.id) == raw_id),
            None,
        )
        if stored is None or not isinstance(credential, dict):
            return _json({"message": WEBAUTHN_UNKNOWN_MESSAGE}, 401)
        try:
            verified = verify_authentication_response(
                credential=dict(credential),
                expected_challenge=started.challenge,
                expected_rp_id=started.rp_id,
                expected_origin=self.api_url,
                credential_public_key=_cbor(stored.public_key),
                credential_current_sign_count=stored.sign_count,
                require_user_verification=started.user_verification == "required",
            )
        except InvalidAuthenticationResponse as exc:
            if "sign count" in str(exc):
                return _json({"message": WEBAUTHN_COUNTER_MESSAGE}, 401)
            return _json({"message": f"{WEBAUTHN_REFUSED_MESSAGE}: {exc}"}, 401)
        except Exception:  # malformed parts
            return _json({"message": f"{WEBAUTHN_REFUSED_MESSAGE}: malformed"}, 401)
        stored.sign_count = verified.new_sign_count
        return self._logged_in(console, user)

    def _sso(self, request: Request, slug: str) -> Response:
        email = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        user = self.users.get(email or "")
        if user is None:
            response = Response(status=302)  # to the console's login page
            login = f"{self.api_url}/login" if self.hosts is not None else "/login"
            response.headers["Location"] = f"{login}?redirectTo={quote('saml2/' + slug)}"
            return response
        app = user.app(slug)
        if app is None:
            body = (
                '<body><div class="error-page"><h1>Access denied</h1>'
                f'<p class="error-message">{NO_ACCESS_MESSAGE}</p></div></body>'
            )
            return _page("JumpCloud", body)
        if app.encrypted:
            encoded = self._note_issued(encode(build_encrypted_placeholder(issuer=self.issuer)))
        else:
            encoded = self._signed_response(
                self.issuer, user.email, app.roles, app.session_duration, role_order=user.role_order
            )
        return _page("Redirecting...", saml_post_body(encoded, app.relay_state))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _cbor(value: Mapping[int, Any]) -> bytes:
    from fido2 import cbor

    return cbor.encode(dict(value))


def saml_post_body(saml_response: str, relay_state: str = "") -> str:
    """JumpCloud's auto-submit page body; like real ones, it has an input without a name."""
    return (
        '<body onload="document.forms[0].submit()">\n'
        "<noscript><p>JavaScript is disabled: press Continue to go on.</p></noscript>\n"
        f'<form method="post" action="{AWS_ACS_URL}">\n'
        f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}"/>\n'
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}"/>\n'
        '<input type="submit" value="Continue"/>\n'
        "</form>\n</body>"
    )


Emulator = JumpCloudEmulator


def main(argv: Sequence[str] | None = None) -> None:
    demo = Demo("Run the JumpCloud emulator with a demo user.", port=8700, provider="JumpCloud")
    args = demo.parse(argv)
    user = User(
        "demo@example.com",
        "demo-password",
        totp_secret=demo.secret,
        push="accept",
        apps={"aws-demo": demo.roles},
    )
    with JumpCloudEmulator([user], port=args.port) as emu:
        demo.serve(
            f"api_url:  {emu.api_url}\nsso url:  {emu.sso_url('aws-demo')}\nslug:     aws-demo",
            f"email:    {user.email}\npassword: {user.password}\nTOTP secret: {demo.secret}",
            "push:     accepted on the 2nd poll",
        )


if __name__ == "__main__":
    main()
