"""A OneLogin API emulator for samljit's tests.

It speaks the protocol in shared/protocols/onelogin.md on 127.0.0.1 (ephemeral port by
default): the API credential's token (``POST /auth/oauth2/v2/token``, and the older
``/auth/oauth2/token``), ``POST /api/2/saml_assertion`` and ``…/verify_factor`` (flat v2
answers) and their deprecated ``/api/1/`` twins (the ``{"status": …, "data": …}`` envelope),
``GET /auth/rate_limit`` and HTTP 429 with ``X-RateLimit-Reset`` in seconds from now.

    user = User("ana", "pw", devices=[protect(), authenticator(SECRET)], apps={"123456": [g]})
    with OneLoginEmulator([user], clients=[ApiClient("cid", "csecret")]) as emu:
        emu.base_url  # the ``url`` a client is configured with; subdomain ``acme``

Devices (the protocol's ``device_type`` table): :func:`protect` (OneLogin Protect: push, and
the app's code through ``otp_token`` when given a TOTP secret), :func:`authenticator` (Google
Authenticator TOTP), :func:`sms` (the first call without ``otp_token`` sends a code, then the
code verifies), :func:`yubikey` (44-character modhex OTPs starting with the key's 12-character
id, each accepted once), :func:`undrivable` (WebAuthn, Duo, email, voice: listed, never
completed through this API).

Time comes from ``clock`` (token and ``state_token`` lifetimes, TOTP steps, rate-limit
windows, :meth:`OneLoginEmulator.throttle`); a push's outcome is counted in polls, so tests
never sleep. The signed SAML assertion itself is stamped with the real time (AWS and samljit
check it against it).

Knobs: ``v2_answers`` (``"flat"``: OneLogin's v2; ``"envelope"``: the v2 paths answer in the
v1 envelope, as an org still on the old shape may; ``"absent"``: the v2 paths answer 404),
``rate_limit``/``rate_window`` (calls per account per window) and :meth:`throttle` (every call
429 for that many seconds), ``lockout_after`` (wrong passwords before the user is locked),
``mfa_bypass_ips`` per user (``ip_address`` on an MFA policy's allow-list), ``fail_next`` (any
answer, rendered in the path's shape), :meth:`revoke_tokens`, :meth:`expire_state_tokens`.
What tests report: :attr:`stats` (token calls, tokens issued, saml_assertion calls, pushes
sent, polls, SMS sent, codes verified, 429s answered), ``count(method, path)``, ``log``
(bodies with secrets redacted), ``sent_codes``.

Every secret handed out is recorded, here and in the process-wide registry of
samljit.testing.emulator (``ISSUED``, read by the leak check): SAMLResponses (``issued``),
access and refresh tokens, ``state_token`` values, the API secrets and long OTPs received
(``secrets_issued``), SMS codes sent and short OTPs received (``codes_issued``).

Not on the protocol page, so only their structure follows it (the wording is the emulator's,
marked ``# unverified``): a locked user's message, a denied push's words, the answers to a
bad bearer token, to a 429, to a device that cannot be driven, to a TOTP without a code, and
the pending text of an SMS.

Run by hand from the repo root: ``python -m tests.emulators.onelogin --port 8720``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import Failure
from samljit.tools.sandbox.response import RoleGrant, RoleOrder, SignTarget
from tests.emulators import scripted
from tests.emulators.common import Demo, SigningIdp, totp_at

REDACTED = "***"
SUBDOMAIN = "acme"
ACCOUNT_ID = 555555

TOKEN_PATH = "/auth/oauth2/v2/token"
TOKEN_PATH_V1 = "/auth/oauth2/token"
RATE_LIMIT_PATH = "/auth/rate_limit"
ASSERTION_PATH = {1: "/api/1/saml_assertion", 2: "/api/2/saml_assertion"}
VERIFY_PATH = {v: p + "/verify_factor" for v, p in ASSERTION_PATH.items()}

# -- device types (the protocol's table) ------------------------------------------------------
OLP = "OneLogin Protect"
GOOGLE_AUTHENTICATOR = "Google Authenticator"
ONELOGIN_SMS = "OneLogin SMS"
YUBIKEY = "Yubico YubiKey"
WEBAUTHN = "WebAuthn"
DUO = "Duo Duo Security"
ONELOGIN_EMAIL = "OneLogin Email"
ONELOGIN_VOICE = "OneLogin Voice"

# -- texts (OneLogin's where the page gives them) ---------------------------------------------
SUCCESS = "Success"
TOKEN_REFUSED = "Authentication Failure"
GRANT_TYPE_MESSAGE = "grant_type is incorrect/absent"
MFA_REQUIRED = "MFA is required for this user"
BAD_CREDENTIALS = "Authentication Failed: Invalid user credentials"
FACTOR_FAILED = "Failed authentication with this factor"
PUSH_PENDING = "Authentication pending on OL Protect"
STATE_INVALID = "State token is invalid or expired"
APP_NOT_FOUND = "App not found"
INVALID_SUBDOMAIN = "Invalid subdomain"
REQUIRED = "{0} is required"
LOCKED = "Authentication Failed: User is locked"  # unverified
PUSH_DENIED = "Authentication denied on OL Protect"  # unverified: "a message saying denied"
SMS_PENDING = "Authentication pending on OneLogin SMS"  # unverified: "a message with pending"
BAD_TOKEN = "Authentication Failure"  # unverified: an API call with an unknown/expired bearer
RATE_LIMITED = "Rate limit exceeded"  # unverified
DEVICE_NOT_FOUND = "Device not found"  # unverified: a device_id not the user's (400)
APP_MISMATCH = "app_id does not match the state_token"  # unverified (400)
BAD_BODY = "Request body must be JSON"  # unverified (400)

PushOutcome = Literal["accept", "deny", "never"]
V2Answers = Literal["flat", "envelope", "absent"]
MODHEX = "cbdefghijklnrtuv"


# -- devices ----------------------------------------------------------------------------------
@dataclass
class Device:
    """One enrolled device. Build with the helpers below.

    ``push``: the outcome of each push sent in one login (the last one repeats), shown on the
    ``push_after``-th poll after the push (``do_not_notify: true`` calls); earlier polls are
    pending. ``"never"``: pending until the ``state_token`` expires. ``totp_secret``: the codes
    ``otp_token`` accepts (Google Authenticator; OneLogin Protect's own code). ``codes``: the
    SMS codes sent, in order (else random). ``key_id``: a YubiKey's 12-character modhex id.
    """

    device_type: str
    device_id: int = 0  # assigned by the emulator when 0
    totp_secret: str | None = field(default=None, repr=False)
    codes: Sequence[str] = field(default=(), repr=False)
    push: PushOutcome | Sequence[PushOutcome] = "accept"
    push_after: int = 2
    key_id: str = ""


def protect(
    push: PushOutcome | Sequence[PushOutcome] = "accept",
    *,
    after: int = 2,
    totp_secret: str | None = None,
    device_id: int = 0,
) -> Device:
    return Device(OLP, device_id, totp_secret=totp_secret, push=push, push_after=after)


def authenticator(secret: str, *, device_id: int = 0) -> Device:
    return Device(GOOGLE_AUTHENTICATOR, device_id, totp_secret=secret)


def sms(codes: Sequence[str] = (), *, device_id: int = 0) -> Device:
    return Device(ONELOGIN_SMS, device_id, codes=codes)


def yubikey(key_id: str = "cccccclbjhte", *, device_id: int = 0) -> Device:
    if len(key_id) != 12 or any(ch not in MODHEX for ch in key_id):
        raise ValueError("a YubiKey id is 12 modhex characters")
    return Device(YUBIKEY, device_id, key_id=key_id)


def undrivable(device_type: str = WEBAUTHN, *, device_id: int = 0) -> Device:
    """A device samljit cannot complete in a terminal (WebAuthn, Duo, email, voice)."""
    return Device(device_type, device_id)


def yubikey_otp(key_id: str, counter: int) -> str:
    """A well-formed OTP of the key ``key_id``: its id, then 32 modhex characters that differ
    per ``counter`` (the emulator checks the form, the id and that it is new, not the AES)."""
    body = secrets.token_bytes(12) + counter.to_bytes(4, "big")
    return key_id + "".join(MODHEX[b >> 4] + MODHEX[b & 15] for b in body)


# -- users, apps, API credentials -------------------------------------------------------------
@dataclass
class App:
    """The AWS app as the emulator serves it (a plain list of grants means the defaults)."""

    roles: Sequence[RoleGrant]
    session_duration: int | None = 3600


@dataclass
class User:
    username: str
    password: str = field(repr=False)
    email: str = ""  # default: ``username@acme.example`` (either signs in)
    devices: list[Device] = field(default_factory=list)
    apps: Mapping[str, Sequence[RoleGrant] | App] = field(default_factory=dict)
    locked: bool = False
    mfa_bypass_ips: Sequence[str] = ()  # an MFA policy's allow-list
    role_order: RoleOrder = "role-first"
    firstname: str = "Ana"
    lastname: str = "Lee"
    id: int = 0  # assigned by the emulator when 0

    def __post_init__(self) -> None:
        if not self.email:
            self.email = self.username if "@" in self.username else f"{self.username}@acme.example"

    def app(self, app_id: str) -> App | None:
        app = self.apps.get(app_id)
        return app if app is None or isinstance(app, App) else App(roles=list(app))

    def device(self, device_id: Any) -> Device | None:
        return next((d for d in self.devices if str(d.device_id) == str(device_id)), None)


@dataclass(frozen=True)
class ApiClient:
    """An API credential (Developers → API Credentials)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class _Token:
    value: str
    refresh: str
    client_id: str
    created: float
    expires: float


@dataclass
class _Login:
    """One ``state_token``: a user whose password is verified and who owes a factor."""

    token: str
    user: User
    app_id: str
    version: int
    expires: float
    spent: bool = False
    pushes: int = 0  # pushes sent in this login
    push_device: int | None = None
    push_outcome: PushOutcome = "accept"
    polls_since_push: int = 0
    sms_code: str | None = None


@dataclass
class _Window:
    start: float
    count: int = 0


def _instant(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _reason(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def status_envelope(status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    """The v1 ``status`` object: ``type``, ``message``, ``code``, ``error``."""
    error = status >= 400
    return {
        "type": kind or (_reason(status) if error else "success"),
        "message": message,
        "code": status,
        "error": error,
    }


def bearer_token(header: str) -> str | None:
    """The token of ``bearer:<t>``, ``bearer: <t>`` or ``Bearer <t>`` (any case)."""
    scheme, sep, rest = header.strip().partition(":")
    if not sep or scheme.strip().lower() != "bearer":
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
    token = rest.strip()
    return token or None


def client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str] | None:
    """The API credential of a token call: HTTP Basic, OneLogin's ``client_id:<id>,
    client_secret:<secret>`` header, or (form-encoded bodies) ``client_id``/``client_secret``."""
    header = request.headers.get("Authorization", "").strip()
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        cid, sep, secret = decoded.partition(":")
        return (cid, secret) if sep else None
    if header.lower().startswith("client_id:"):
        fields = dict(part.strip().partition(":")[::2] for part in header.split(",") if ":" in part)
        cid, secret = fields.get("client_id", ""), fields.get("client_secret", "")
        return (cid.strip(), secret.strip()) if cid and secret else None
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    return None


class OneLoginEmulator(SigningIdp):
    def __init__(
        self,
        users: Iterable[User] = (),
        *,
        clients: Iterable[ApiClient] = (),
        port: int = 0,
        subdomain: str = SUBDOMAIN,
        clock: Callable[[], float] = time.time,
        sign_target: SignTarget = "assertion",
        token_lifetime: int = 36000,
        state_token_lifetime: float = 120.0,
        v2_answers: V2Answers = "flat",
        lockout_after: int | None = None,
        rate_limit: int | None = None,
        rate_window: float = 3600.0,
    ) -> None:
        super().__init__(port, sign_target)
        self.subdomain = subdomain
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.state_token_lifetime = state_token_lifetime
        self.v2_answers: V2Answers = v2_answers
        self.lockout_after = lockout_after
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.users: list[User] = []
        self.clients: dict[str, ApiClient] = {}
        self._tokens: dict[str, _Token] = {}
        self._logins: dict[str, _Login] = {}
        self._used_otps: set[tuple[int, str]] = set()
        self._bad_passwords: dict[int, int] = {}
        self._window: _Window | None = None
        self._throttled_until = 0.0
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "token_calls",
                "tokens_issued",
                "token_refused",
                "saml_assertion_calls",
                "verify_factor_calls",
                "pushes_sent",
                "polls",
                "sms_sent",
                "codes_verified",
                "codes_refused",
                "rate_limited",
            ),
            0,
        )
        self._next_id = 666666
        for client in clients:
            self.add_client(client)
        for user in users:
            self.add_user(user)

    # -- test hooks --------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._lock:
            if not user.id:
                user.id = 88888888 + len(self.users)
            for device in user.devices:
                if not device.device_id:
                    device.device_id = self._next_id
                    self._next_id += 111111
            self.users.append(user)

    def add_client(self, client: ApiClient) -> None:
        with self._lock:
            self.clients[client.client_id] = client
            self._note_secret(client.client_secret)

    def user(self, login: str) -> User | None:
        wanted = login.strip().lower()
        return next(
            (u for u in self.users if wanted in (u.username.lower(), u.email.lower())), None
        )

    def throttle(self, seconds: float) -> None:
        """Answer every call 429 until ``seconds`` from now (by ``clock``)."""
        with self._lock:
            self._throttled_until = self.clock() + seconds

    def revoke_tokens(self) -> None:
        """Every access token issued so far becomes unknown (an admin revoked them)."""
        with self._lock:
            self._tokens.clear()

    def expire_state_tokens(self) -> None:
        with self._lock:
            for login in self._logins.values():
                login.expires = min(login.expires, self.clock())

    @property
    def stats(self) -> dict[str, int]:
        """Counts per endpoint and event (``pushes_sent``, ``polls``, ``token_calls``, …)."""
        with self._lock:
            return dict(self._stats)

    # -- WSGI --------------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path.rstrip("/") or "/"
        body = self._body(request)
        self._record(method, path, self._redact(body if isinstance(body, dict) else {}))
        failure = self._next_failure(path)
        if failure is not None:
            return self._failure_response(path, failure)
        return self._within_rate_limit(path, lambda: self._route(request, method, path, body))

    def _route(self, request: Request, method: str, path: str, body: Any) -> Response:
        if path in (TOKEN_PATH, TOKEN_PATH_V1) and method == "POST":
            return self._token(request, path, body)
        if path == RATE_LIMIT_PATH and method == "GET":
            return self._rate_limit_info(request)
        for version in (1, 2):
            if path not in (ASSERTION_PATH[version], VERIFY_PATH[version]) or method != "POST":
                continue
            if version == 2 and self.v2_answers == "absent":
                break
            shape = 1 if version == 1 or self.v2_answers == "envelope" else 2
            if self._bearer(request) is None:
                return self._error(shape, 401, BAD_TOKEN)
            if not isinstance(body, dict) or request.mimetype != "application/json":
                return self._error(shape, 400, BAD_BODY)
            if path == ASSERTION_PATH[version]:
                return self._saml_assertion(request, version, shape, body)
            return self._verify_factor(version, shape, body)
        return _json({"statusCode": 404, "name": "Not Found", "message": "Not Found"}, 404)

    @staticmethod
    def _body(request: Request) -> Any:
        if request.method not in ("POST", "PUT"):
            return {}
        if request.mimetype == "application/x-www-form-urlencoded":
            return dict(request.form.items())
        return request.get_json(silent=True, force=True)

    @staticmethod
    def _redact(body: Mapping[str, Any]) -> dict[str, Any]:
        hidden = {"password", "otp_token", "state_token", "client_secret"}
        return {k: (REDACTED if k in hidden and v else v) for k, v in body.items()}

    # -- answers in the two shapes -----------------------------------------------------------
    @staticmethod
    def _error(shape: int, status: int, message: str) -> Response:
        if shape == 1:
            return _json({"status": status_envelope(status, message)}, status)
        return _json({"statusCode": status, "name": _reason(status), "message": message}, status)

    @staticmethod
    def _token_error(status: int, message: str) -> Response:
        return _json({"status": status_envelope(status, message)}, status)

    def _failure_response(self, path: str, failure: Failure) -> Response:
        """:meth:`fail_next`'s answer: a dict body as JSON, bytes as they are (as JSON), a str
        as HTML, None as OneLogin's error for the path (v2 shape under ``/api/2/``, the status
        envelope elsewhere); a 429 carries ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining: 0``
        and only the ``X-RateLimit-Reset`` given in ``headers`` (none: a 429 without a reset)."""
        if isinstance(failure.body, str):
            response = Response(failure.body, status=failure.status, mimetype="text/html")
        elif isinstance(failure.body, bytes):
            response = Response(failure.body, status=failure.status, mimetype="application/json")
        elif failure.body is not None:
            response = _json(failure.body, failure.status)
        else:
            shape = 2 if path.startswith("/api/2/") and self.v2_answers == "flat" else 1
            text = RATE_LIMITED if failure.status == 429 else _reason(failure.status)
            response = self._error(shape, failure.status, text)
        if failure.status == 429:
            self._stats["rate_limited"] += 1
            response.headers["X-RateLimit-Limit"] = str(self.rate_limit or 5000)
            response.headers["X-RateLimit-Remaining"] = "0"
        response.headers.update(dict(failure.headers))
        return response

    @staticmethod
    def _answer(shape: int, message: str, data: str | dict[str, Any]) -> Response:
        """A 200: v2 flat (``data``/``message``; for MFA the fields at the top), or the v1
        envelope (``data`` the SAMLResponse, or a one-item list)."""
        if shape == 1:
            inner = [data] if isinstance(data, dict) else data
            return _json({"status": status_envelope(200, message), "data": inner})
        if isinstance(data, dict):
            return _json({"message": message, **data})
        return _json({"data": data, "message": message})

    def _pending(self, shape: int, message: str, login: _Login) -> Response:
        """200 "pending": v2 ``{"message", "state_token"}``, v1 ``data: null``."""
        if shape == 1:
            return _json({"status": status_envelope(200, message, "pending"), "data": None})
        return _json({"message": message, "state_token": login.token})

    # -- rate limits -------------------------------------------------------------------------
    def _rate_limit(self, path: str) -> tuple[Response | None, dict[str, str]]:
        now = self.clock()
        if now < self._throttled_until:
            return self._too_many(self._throttled_until - now, path, self.rate_limit or 5000), {}
        if self.rate_limit is None:
            return None, {}
        window = self._window
        if window is None or now >= window.start + self.rate_window:
            window = self._window = _Window(now)
        window.count += 1  # refused calls count too
        left = window.start + self.rate_window - now
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit - window.count)),
            "X-RateLimit-Reset": str(math.ceil(left)),
        }
        if window.count > self.rate_limit:
            return self._too_many(left, path, self.rate_limit), headers
        return None, headers

    def _too_many(self, left: float, path: str, limit: int) -> Response:
        self._stats["rate_limited"] += 1
        shape = 2 if path.startswith("/api/2/") and self.v2_answers == "flat" else 1
        response = self._error(shape, 429, RATE_LIMITED)
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(max(1, math.ceil(left)))  # seconds, not epoch
        return response

    def _rate_limit_info(self, request: Request) -> Response:
        if self._bearer(request) is None:
            return self._token_error(401, BAD_TOKEN)
        limit = self.rate_limit or 5000
        window = self._window
        used = window.count if window is not None else 0
        left = window.start + self.rate_window - self.clock() if window else self.rate_window
        data = {
            "X-RateLimit-Limit": limit,
            "X-RateLimit-Remaining": max(0, limit - used),
            "X-RateLimit-Reset": max(0, math.ceil(left)),
        }
        return _json({"status": status_envelope(200, SUCCESS), "data": data})

    # -- 1. access token ---------------------------------------------------------------------
    def _token(self, request: Request, path: str, body: Any) -> Response:
        self._stats["token_calls"] += 1
        form = body if isinstance(body, dict) else {}
        given = client_credentials(request, {k: str(v) for k, v in form.items()})
        client = self.clients.get(given[0]) if given else None
        if (
            given is None
            or client is None
            or not hmac.compare_digest(given[1].encode(), client.client_secret.encode())
        ):
            self._stats["token_refused"] += 1
            return self._token_error(401, TOKEN_REFUSED)
        if form.get("grant_type") != "client_credentials":
            return self._token_error(400, GRANT_TYPE_MESSAGE)
        now = self.clock()
        token = next(
            (t for t in self._tokens.values() if t.client_id == client.client_id),
            None,
        )
        if token is None or now >= token.expires:
            if token is not None:
                del self._tokens[token.value]
            token = _Token(
                self._note_secret(secrets.token_hex(32)),
                self._note_secret(secrets.token_hex(32)),
                client.client_id,
                now,
                now + self.token_lifetime,
            )
            self._tokens[token.value] = token
            self._stats["tokens_issued"] += 1
        answer = {
            "access_token": token.value,
            "created_at": _instant(token.created),
            "expires_in": math.ceil(token.expires - now),  # what is left of its 10 hours
            "refresh_token": token.refresh,
            "token_type": "bearer",
            "account_id": ACCOUNT_ID,
        }
        if path == TOKEN_PATH_V1:
            return _json({"status": status_envelope(200, SUCCESS), "data": [answer]})
        return _json(answer)

    def _bearer(self, request: Request) -> _Token | None:
        value = bearer_token(request.headers.get("Authorization", ""))
        token = self._tokens.get(value or "")
        if token is None or self.clock() >= token.expires:
            return None
        return token

    # -- 2. password -------------------------------------------------------------------------
    def _saml_assertion(
        self, request: Request, version: int, shape: int, body: Mapping[str, Any]
    ) -> Response:
        self._stats["saml_assertion_calls"] += 1
        for name in ("username_or_email", "password", "app_id", "subdomain"):
            if not isinstance(body.get(name), (str, int)) or str(body.get(name)) == "":
                return self._error(shape, 400, REQUIRED.format(name))
        if str(body["subdomain"]).lower() != self.subdomain.lower():
            return self._error(shape, 400, INVALID_SUBDOMAIN)
        app_id = str(body["app_id"])
        if not any(u.app(app_id) is not None for u in self.users):
            return self._error(shape, 400, APP_NOT_FOUND)
        user = self.user(str(body["username_or_email"]))
        password = str(body["password"])
        if user is not None and user.locked:
            return self._error(shape, 401, LOCKED)
        if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
            if user is not None and self.lockout_after is not None:
                self._bad_passwords[user.id] = self._bad_passwords.get(user.id, 0) + 1
                if self._bad_passwords[user.id] >= self.lockout_after:
                    user.locked = True
            return self._error(shape, 401, BAD_CREDENTIALS)
        self._bad_passwords.pop(user.id, None)
        if user.app(app_id) is None:
            return self._error(shape, 400, APP_NOT_FOUND)  # the user does not see the app
        if not user.devices or str(body.get("ip_address", "")) in user.mfa_bypass_ips:
            return self._answer(shape, SUCCESS, self._saml_response(user, app_id))
        login = _Login(
            self._note_secret(secrets.token_hex(20)),
            user,
            app_id,
            version,
            self.clock() + self.state_token_lifetime,
        )
        self._logins[login.token] = login
        base = request.host_url.rstrip("/")
        data = {
            "state_token": login.token,
            "devices": [
                {"device_id": d.device_id, "device_type": d.device_type} for d in user.devices
            ],
            "callback_url": base + VERIFY_PATH[version],
            "user": {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "firstname": user.firstname,
                "lastname": user.lastname,
            },
        }
        return self._answer(shape, MFA_REQUIRED, data)

    def _saml_response(self, user: User, app_id: str) -> str:
        app = user.app(app_id)
        assert app is not None
        issuer = f"https://app.onelogin.com/saml/metadata/{app_id}"
        return self._signed_response(
            issuer, user.email, app.roles, app.session_duration, role_order=user.role_order
        )

    # -- 3. second factor --------------------------------------------------------------------
    def _verify_factor(self, version: int, shape: int, body: Mapping[str, Any]) -> Response:
        self._stats["verify_factor_calls"] += 1
        for name in ("app_id", "device_id", "state_token"):
            if not isinstance(body.get(name), (str, int)) or str(body.get(name)) == "":
                return self._error(shape, 400, REQUIRED.format(name))
        login = self._logins.get(str(body["state_token"]))
        if login is None or login.spent or self.clock() >= login.expires:
            return self._error(shape, 401, STATE_INVALID)
        if str(body["app_id"]) != login.app_id:
            return self._error(shape, 400, APP_MISMATCH)
        device = login.user.device(body["device_id"])
        if device is None:
            return self._error(shape, 400, DEVICE_NOT_FOUND)
        otp = body.get("otp_token")
        otp = str(otp) if isinstance(otp, (str, int)) and str(otp) else None
        if otp is not None and len(otp) > 8:
            self._note_secret(otp)  # a YubiKey OTP: looked for in any form
        elif otp is not None:
            self._note_code(otp)  # a short code: looked for as a number on its own
        if device.device_type == OLP:
            if otp is not None:
                return self._check_totp(shape, login, device, otp)
            return self._push(shape, login, device, notify=not _truthy(body.get("do_not_notify")))
        if device.device_type == GOOGLE_AUTHENTICATOR:
            if otp is None:
                return self._refused(shape)  # unverified: a TOTP needs its code
            return self._check_totp(shape, login, device, otp)
        if device.device_type == ONELOGIN_SMS:
            if otp is None:
                return self._send_sms(shape, login, device)
            return self._check_sms(shape, login, otp)
        if device.device_type == YUBIKEY:
            return self._check_yubikey(shape, login, device, otp)
        return self._refused(shape)  # unverified: WebAuthn, Duo, email, voice

    def _refused(self, shape: int) -> Response:
        self._stats["codes_refused"] += 1
        return self._error(shape, 401, FACTOR_FAILED)

    def _verified(self, shape: int, login: _Login) -> Response:
        login.spent = True
        return self._answer(shape, SUCCESS, self._saml_response(login.user, login.app_id))

    def _check_totp(self, shape: int, login: _Login, device: Device, otp: str) -> Response:
        secret = device.totp_secret
        now = self.clock()
        if secret is None or (device.device_id, otp) in self._used_otps:
            return self._refused(shape)
        if not any(
            hmac.compare_digest(totp_at(secret, now + 30 * d).encode(), otp.encode())
            for d in (-1, 0, 1)
        ):
            return self._refused(shape)
        self._used_otps.add((device.device_id, otp))  # a code verifies once
        self._stats["codes_verified"] += 1
        return self._verified(shape, login)

    def _send_sms(self, shape: int, login: _Login, device: Device) -> Response:
        sent = len([1 for d, _ in self.sent_codes if d == device.device_id])
        code = device.codes[sent] if sent < len(device.codes) else f"{secrets.randbelow(10**6):06d}"
        login.sms_code = self._note_code(code, to=device.device_id)
        self._stats["sms_sent"] += 1
        return self._pending(shape, SMS_PENDING, login)

    def _check_sms(self, shape: int, login: _Login, otp: str) -> Response:
        code = login.sms_code
        if code is None or not hmac.compare_digest(code.encode(), otp.encode()):
            return self._refused(shape)
        login.sms_code = None  # a code verifies once
        self._stats["codes_verified"] += 1
        return self._verified(shape, login)

    def _check_yubikey(
        self, shape: int, login: _Login, device: Device, otp: str | None
    ) -> Response:
        well_formed = (
            otp is not None
            and len(otp) == 44
            and all(ch in MODHEX for ch in otp)
            and otp[:12] == device.key_id
        )
        if otp is None or not well_formed or (device.device_id, otp) in self._used_otps:
            return self._refused(shape)
        self._used_otps.add((device.device_id, otp))
        self._stats["codes_verified"] += 1
        return self._verified(shape, login)

    def _push(self, shape: int, login: _Login, device: Device, *, notify: bool) -> Response:
        if notify:  # a push goes to the phone each time, whether one is pending or not
            self._stats["pushes_sent"] += 1
            login.push_outcome = scripted(device.push, login.pushes, "accept")
            login.pushes += 1
            login.push_device = device.device_id
            login.polls_since_push = 0
        else:
            self._stats["polls"] += 1
            if login.push_device == device.device_id:
                login.polls_since_push += 1
                decided = login.polls_since_push >= device.push_after
                if decided and login.push_outcome == "accept":
                    return self._verified(shape, login)
                if decided and login.push_outcome == "deny":
                    login.spent = True
                    return self._error(shape, 401, PUSH_DENIED)
        # no push sent yet (a poll with do_not_notify first) stays pending: nothing to answer
        return self._pending(shape, PUSH_PENDING, login)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


Emulator = OneLoginEmulator

DEMO_APP = "123456"


def main(argv: Sequence[str] | None = None) -> None:
    demo = Demo("Run the OneLogin emulator with a demo user.", port=8720, provider="OneLogin")
    args = demo.parse(argv)
    client = ApiClient("demo-client-id", secrets.token_hex(16))
    user = User(
        "demo",
        "demo-password",
        devices=[protect(), authenticator(demo.secret), sms(), yubikey()],
        apps={DEMO_APP: demo.roles},
    )
    with OneLoginEmulator([user], clients=[client], port=args.port) as emu:
        demo.serve(
            f"url:       {emu.base_url}\nsubdomain: {emu.subdomain}\napp_id:    {DEMO_APP}",
            f"client_id: {client.client_id}\nclient_secret: {client.client_secret}",
            f"username:  {user.username}\npassword:  {user.password}\nTOTP secret: {demo.secret}",
            "push:      accepted on the 2nd poll",
        )


if __name__ == "__main__":
    main()
