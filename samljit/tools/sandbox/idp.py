"""The sandbox IdP: a WSGI application speaking IdP-initiated SAML 2.0 SSO.

Endpoints (under the base URL, e.g. ``http://127.0.0.1:8765``):

==============  ==========================================================================
``/``           what this is, with the two URLs below
``/sso``        IdP-initiated sign-in: ``?spentityid=urn:amazon:webservices`` (SimpleSAMLphp's
                parameter; ``providerId`` works too; ``RelayState`` or ``target`` is passed on)
``/login``      the username/password form (``GET``), its check (``POST``)
``/otp``        the one-time-code form for users with a TOTP secret
``/passkey``    the passkey step for users with ``"passkey": true`` (registration the first
                time, then a WebAuthn assertion the IdP verifies; see :mod:`.passkey`)
``/metadata``   the IdP metadata XML, for IAM's "Add SAML provider"
==============  ==========================================================================

A login keeps its progress server-side under a random ``AuthState`` carried in the forms (no
cookies), for :data:`STATE_LIFETIME` seconds. A wrong password or code shows the form again
with an error message; after :data:`MAX_ATTEMPTS` failures the login must start over. The
final page posts a signed SAMLResponse (the assertion signed, RSA-SHA256) to the service
provider's ACS URL, as a browser would.

Codes are accepted more than once within their time window (real IdPs refuse a reused code;
the sandbox lets a script log in twice in a row). Passwords and codes are never logged.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from hmac import compare_digest
from typing import Any
from urllib.parse import parse_qs, urlencode

from samljit.tools.sandbox import pages, passkey, totp
from samljit.tools.sandbox.metadata import idp_metadata
from samljit.tools.sandbox.response import AWS_ACS_URL, AWS_AUDIENCE, build_response, encode, sign
from samljit.tools.sandbox.users import SandboxUser, find

SSO_PATH = "/sso"
LOGIN_PATH = "/login"
OTP_PATH = "/otp"
PASSKEY_PATH = "/passkey"
METADATA_PATH = "/metadata"
STATE_LIFETIME = 600.0
MAX_ATTEMPTS = 5
MAX_BODY = 64 * 1024
BAD_PASSWORD = "Incorrect username or password."  # noqa: S105 (a message)
BAD_CODE = "Incorrect one-time code."
BAD_PASSKEY = "The passkey was not accepted."

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


@dataclass
class _Login:
    """One sign-in in progress."""

    sp_entity_id: str
    relay_state: str | None
    started: float
    user: SandboxUser | None = None  #: set once the password was right
    failures: int = 0
    challenge: bytes | None = None  #: of the passkey page last served
    creating: bool = False  #: that page registers a passkey


@dataclass(frozen=True)
class Issued:
    """A response the IdP handed out (never the response itself)."""

    username: str
    sp_entity_id: str
    role_arns: tuple[str, ...]
    at: float
    how: str = "password"  #: the factors: "password", "password and passkey", …


@dataclass
class _Reply:
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class SandboxIdp:
    """The IdP. ``base_url`` is where it is served (``http://127.0.0.1:PORT``); ``on_secret``,
    if given, is told every secret the IdP hands out (each ``AuthState`` and SAMLResponse:
    tests look for them where they must not be)."""

    def __init__(
        self,
        users: Sequence[SandboxUser],
        key_pem: bytes,
        cert_pem: bytes,
        base_url: str,
        *,
        sp_entity_ids: Sequence[str] = (AWS_AUDIENCE,),
        acs_url: str = AWS_ACS_URL,
        log: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        on_secret: Callable[[str], None] | None = None,
        encrypt_for: bytes | None = None,
    ) -> None:
        self.users = list(users)
        #: A certificate (PEM) to encrypt every assertion for, as an IdP does when IAM's SAML
        #: encryption is on; the Response is then signed as well as the assertion.
        self.encrypt_for = encrypt_for
        self.key_pem = key_pem
        self.cert_pem = cert_pem
        self.base_url = base_url.rstrip("/")
        self.sp_entity_ids = tuple(sp_entity_ids)
        self.acs_url = acs_url
        self.issued: list[Issued] = []
        self._log = log
        self._clock = clock
        self._on_secret = on_secret
        self._logins: dict[str, _Login] = {}
        #: registered passkeys by username (in memory), and assertions verified
        self.passkeys: dict[str, list[passkey.Passkey]] = {}
        self.passkey_assertions: list[str] = []
        self._lock = threading.Lock()

    # -- URLs ------------------------------------------------------------------------------
    @property
    def entity_id(self) -> str:
        return self.base_url + METADATA_PATH

    @property
    def metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    def sso_url(self, sp_entity_id: str = AWS_AUDIENCE) -> str:
        return f"{self.base_url}{SSO_PATH}?{urlencode({'spentityid': sp_entity_id}, safe=':')}"

    def metadata(self) -> str:
        return idp_metadata(
            entity_id=self.entity_id, sso_url=self.base_url + SSO_PATH, cert_pem=self.cert_pem
        )

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            reply = self._route(environ)
        except Exception as exc:  # a bug in the sandbox: say so, keep serving
            self._note(f"internal error: {type(exc).__name__}: {exc}")
            reply = _Reply(500, pages.message_page("Internal error", f"{type(exc).__name__}"))
        body = reply.body.encode("utf-8")
        headers = [
            ("Content-Type", reply.content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            *reply.headers,
        ]
        start_response(f"{reply.status} {_REASONS.get(reply.status, 'OK')}", headers)
        return [body]

    def _route(self, environ: Environ) -> _Reply:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO") or "/")
        query = _single(parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        routes: dict[str, dict[str, Callable[[dict[str, str]], _Reply]]] = {
            "/": {"GET": self._index},
            METADATA_PATH: {"GET": self._metadata},
            SSO_PATH: {"GET": self._sso},
            LOGIN_PATH: {"GET": self._login_form, "POST": self._login_post},
            OTP_PATH: {"GET": self._otp_form, "POST": self._otp_post},
            PASSKEY_PATH: {"GET": self._passkey_form, "POST": self._passkey_post},
        }
        handlers = routes.get(path)
        if handlers is None:
            return _Reply(404, pages.message_page("Not found", f"Nothing is served at {path}."))
        if method == "HEAD" and "GET" in handlers:
            method = "GET"
        handler = handlers.get(method)
        if handler is None:
            allowed = ", ".join(handlers)
            return _Reply(
                405,
                pages.message_page("Method not allowed", f"{path} takes {allowed}."),
                headers=[("Allow", allowed)],
            )
        if method == "POST":
            form = self._form(environ)
            if form is None:
                return _Reply(413, pages.message_page("Too large", "The form data is too large."))
            query = {**query, **form}
        return handler(query)

    @staticmethod
    def _form(environ: Environ) -> dict[str, str] | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return None
        stream = environ.get("wsgi.input")
        raw = stream.read(length) if stream is not None and length > 0 else b""
        return _single(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))

    # -- pages -----------------------------------------------------------------------------
    def _index(self, query: dict[str, str]) -> _Reply:
        return _Reply(
            200,
            pages.index_page(
                sso_url=self.sso_url(),
                metadata_url=self.metadata_url,
                sp_entity_ids=self.sp_entity_ids,
            ),
        )

    def _metadata(self, query: dict[str, str]) -> _Reply:
        return _Reply(200, self.metadata(), content_type="application/samlmetadata+xml")

    def _sso(self, query: dict[str, str]) -> _Reply:
        if "SAMLRequest" in query:
            return _Reply(
                400,
                pages.message_page(
                    "Not supported",
                    f"The sandbox does IdP-initiated sign-in only: open {self.sso_url()} instead.",
                ),
            )
        sp = query.get("spentityid") or query.get("providerId") or AWS_AUDIENCE
        if sp not in self.sp_entity_ids:
            known = ", ".join(self.sp_entity_ids)
            return _Reply(
                400,
                pages.message_page(
                    "Unknown service provider", f"{sp!r} is not known here (known: {known})."
                ),
            )
        relay = query.get("RelayState") or query.get("target") or None
        token = self._secret(secrets.token_urlsafe(24))
        with self._lock:
            self._expire()
            self._logins[token] = _Login(sp, relay, self._clock())
        return self._see_other(LOGIN_PATH, token)

    def _login_form(self, query: dict[str, str]) -> _Reply:
        token, login = self._find(query)
        if login is None:
            return self._lost()
        return self._login_page(token, login)

    def _login_page(
        self, token: str, login: _Login, *, username: str = "", error: str | None = None
    ) -> _Reply:
        page = pages.login_page(
            action=self.base_url + LOGIN_PATH,
            auth_state=token,
            sp_entity_id=login.sp_entity_id,
            username=username,
            error=error,
        )
        return _Reply(200, page)

    def _login_post(self, query: dict[str, str]) -> _Reply:
        token, login = self._find(query)
        if login is None:
            return self._lost()
        username = query.get("username", "").strip()
        user = find(self.users, username)
        typed = query.get("password", "").encode("utf-8")
        if user is None or not compare_digest(typed, user.password.encode("utf-8")):
            self._note(f"wrong username or password for {username!r}")
            if self._failed(token, login):
                return self._too_many()
            return self._login_page(token, login, username=username, error=BAD_PASSWORD)
        if user.passkey or user.totp_secret:  # a passkey takes the place of the code
            with self._lock:
                login.user = user
            return self._see_other(PASSKEY_PATH if user.passkey else OTP_PATH, token)
        return self._finish(token, login, user, "password")

    def _otp_form(self, query: dict[str, str]) -> _Reply:
        token, login = self._find(query)
        if login is None or login.user is None:
            return self._lost()
        return self._otp_page(token, login.user)

    def _otp_page(self, token: str, user: SandboxUser, error: str | None = None) -> _Reply:
        page = pages.otp_page(
            action=self.base_url + OTP_PATH, auth_state=token, username=user.username, error=error
        )
        return _Reply(200, page)

    def _otp_post(self, query: dict[str, str]) -> _Reply:
        token, login = self._find(query)
        if login is None or login.user is None:
            return self._lost()
        user = login.user
        if not totp.check(user.totp_secret or "", query.get("otp", ""), self._clock()):
            self._note(f"wrong one-time code for {user.username!r}")
            if self._failed(token, login):
                return self._too_many()
            return self._otp_page(token, user, BAD_CODE)
        return self._finish(token, login, user, "password and one-time code")

    def add_passkey(self, username: str, credential_id: bytes, public_key: bytes) -> None:
        """Register a passkey for ``username`` (a COSE public key), as its registration page
        would."""
        with self._lock:
            self.passkeys.setdefault(username, []).append(
                passkey.Passkey(credential_id, public_key)
            )

    def _passkey_form(self, query: dict[str, str]) -> _Reply:
        token, login = self._find(query)
        if login is None or login.user is None or not login.user.passkey:
            return self._lost()
        return self._passkey_page(token, login, login.user)

    def _passkey_page(
        self, token: str, login: _Login, user: SandboxUser, error: str | None = None
    ) -> _Reply:
        with self._lock:
            registered = list(self.passkeys.get(user.username, ()))
        create = not registered
        if create:
            options, challenge = passkey.registration_options(
                self.base_url, user.username, registered
            )
        else:
            options, challenge = passkey.authentication_options(self.base_url, registered)
        with self._lock:
            login.challenge = challenge
            login.creating = create
        page = pages.passkey_page(
            action=self.base_url + PASSKEY_PATH,
            auth_state=token,
            username=user.username,
            options_json=options,
            create=create,
            error=error,
        )
        return _Reply(200, page)

    def _passkey_post(self, query: dict[str, str]) -> _Reply:
        token, login = self._find(query)
        if login is None or login.user is None or not login.user.passkey:
            return self._lost()
        user = login.user
        with self._lock:
            challenge, creating = login.challenge, login.creating
            login.challenge = None  # one answer per challenge
            registered = self.passkeys.setdefault(user.username, [])
        try:
            if challenge is None:
                raise passkey.PasskeyRefused("no passkey challenge is open")
            answer = query.get("credential", "")
            if creating:
                made = passkey.verify_registration(self.base_url, answer, challenge)
                with self._lock:
                    registered.append(made)
                self._note(f"passkey registered for {user.username!r}")
                return self._see_other(PASSKEY_PATH, token)
            passkey.verify_assertion(self.base_url, answer, challenge, registered)
        except passkey.PasskeyRefused as exc:
            self._note(f"passkey refused for {user.username!r}: {_one_line(str(exc))}")
            if self._failed(token, login):
                return self._too_many()
            return self._passkey_page(token, login, user, BAD_PASSKEY)
        with self._lock:
            self.passkey_assertions.append(user.username)
        return self._finish(token, login, user, "password and passkey")

    def _finish(self, token: str, login: _Login, user: SandboxUser, how: str) -> _Reply:
        with self._lock:
            self._logins.pop(token, None)
        root = build_response(
            issuer=self.entity_id,
            name_id=user.username,
            roles=list(user.roles),
            session_name=user.session_name,
            session_duration=user.session_duration,
            audience=login.sp_entity_id,
            destination=self.acs_url,
        )
        signed = sign(root, self.key_pem, self.cert_pem)
        if self.encrypt_for is not None:
            from samljit.tools.sandbox.encrypt import encrypt_assertion

            hidden = encrypt_assertion(signed, self.encrypt_for)
            signed = sign(hidden, self.key_pem, self.cert_pem, target="response")
        saml_response = self._secret(encode(signed))
        roles = tuple(grant.role_arn for grant in user.roles)
        with self._lock:
            self.issued.append(Issued(user.username, login.sp_entity_id, roles, self._clock(), how))
        self._note(
            f"{user.username!r} signed in ({how}); signed assertion for {login.sp_entity_id} "
            f"with {len(roles)} role{'s' if len(roles) != 1 else ''}"
        )
        page = pages.post_page(
            acs_url=self.acs_url, saml_response=saml_response, relay_state=login.relay_state
        )
        return _Reply(200, page)

    # -- state -----------------------------------------------------------------------------
    def _find(self, query: dict[str, str]) -> tuple[str, _Login | None]:
        token = query.get("AuthState", "")
        with self._lock:
            self._expire()
            return token, self._logins.get(token)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._logins.items() if now - s.started > STATE_LIFETIME]:
            del self._logins[token]

    def _failed(self, token: str, login: _Login) -> bool:
        """Count a failure; True when the login is over (too many)."""
        with self._lock:
            login.failures += 1
            if login.failures < MAX_ATTEMPTS:
                return False
            self._logins.pop(token, None)
            return True

    def _see_other(self, path: str, token: str) -> _Reply:
        location = f"{self.base_url}{path}?{urlencode({'AuthState': token})}"
        return _Reply(
            303, pages.message_page("Redirect", location), headers=[("Location", location)]
        )

    def _lost(self) -> _Reply:
        return _Reply(
            400,
            pages.message_page(
                "State information lost",
                f"This sign-in is unknown or expired; start again at {self.sso_url()}.",
            ),
        )

    def _too_many(self) -> _Reply:
        return _Reply(
            400,
            pages.message_page(
                "Too many attempts",
                f"{MAX_ATTEMPTS} failed attempts; start again at {self.sso_url()}.",
            ),
        )

    def _secret(self, value: str) -> str:
        """A secret handed out (an AuthState, a SAMLResponse): told to ``on_secret``."""
        if self._on_secret is not None:
            self._on_secret(value)
        return value

    def _note(self, text: str) -> None:
        if self._log is not None:
            self._log(text)


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    return {key: items[0] for key, items in values.items() if items}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
