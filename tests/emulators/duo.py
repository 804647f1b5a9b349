"""A Duo Universal Prompt (frameless v4) emulator for samljit's tests.

It speaks the protocol in shared/protocols/duo.md, on its own loopback origin (``127.0.0.2``
by default: a host of its own, so Duo's cookies and the IdP's never mix in a cookie jar, as
with the real ``api-XXXXXXXX.duosecurity.com``):

* the OIDC side the IdP uses: ``GET /oauth/v1/authorize`` (a ``request`` JWT, HS512 with the
  client secret, checked), ``POST /oauth/v1/token`` (the server-to-server code exchange with a
  client-assertion JWT; single-use, short-lived codes) and ``POST /oauth/v1/health_check``;
* the prompt the browser (or samljit) drives: the ``plugin_form`` page with ``_xsrf``, the
  2025 health-check round trip (``/frame/v4/preauth/healthcheck``, ``…/data``,
  ``/frame/v4/return``), the ``trc|<akey>|<ukey>`` cookie, the prompt data (phones and
  ``auth_method_order``), ``POST /frame/v4/prompt`` (push, Verified Duo Push, phone call,
  passcode, SMS, WebAuthn), ``POST /frame/v4/status`` and ``POST /frame/v4/oidc/exit``, which
  303s back to the IdP's ``redirect_uri`` with ``state`` and ``duo_code`` (or ``code``);
* the variants of the page's section 8: ``variant="legacy"`` (before 2025-06: no health
  check), ``variant="pwl"`` (the 2026 single-page prompt under ``/prompt/<akey>/…``; the v4
  calls answer 405 there), and a health check Duo requires or that fails (``health_check``).

    phone = Phone("iPhone 15", "1234", push="approve")
    with DuoEmulator([DuoUser("ada", phones=[phone])], clock=clock) as duo:
        duo.authorize_url(...)   # what an IdP redirects the browser to (tests/emulators/duo_idp.py)

Time comes from ``clock`` (read once per request): session, push, call and code lifetimes. The
user's answer to a push or a call comes after ``answer_after`` polls; a user who never answers
gets Duo's ``timeout`` once the clock passes ``push_lifetime``. Nothing sleeps.

Every secret handed out (``sid``, ``tx``, ``_xsrf``, ``txid``, ``duo_code``/``code``,
``state``, the ``trc`` cookie, tokens, the pwl ``authkey``) is recorded with ``_note_secret``
(:attr:`secrets_issued`, and the process-wide leak registry); cookies also through
``_note_cookie``. One-time codes sent to the user (SMS passcodes) go to ``_note_code``, to the
phone's index (:attr:`sent_codes`). The Verified Duo Push code is not a secret: samljit must
show it.

Wording the page marks "(unverified)" is marked so here too; the structure is the page's.

Run by hand from the repo root: ``python -m tests.emulators.duo_idp --port 8720`` (the IdP in
front of it).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from samljit.idp.fido import b64url, unb64url
from samljit.testing.emulator import Failure, RecordingEmulator
from tests.emulators import scripted

DUO_HOST = "127.0.0.2"
REDACTED = "***"

AUTHORIZE_PATH = "/oauth/v1/authorize"
TOKEN_PATH = "/oauth/v1/token"
OIDC_HEALTH_PATH = "/oauth/v1/health_check"
AUTH_PATH = "/frame/frameless/v4/auth"
HEALTHCHECK_PATH = "/frame/v4/preauth/healthcheck"
HEALTHCHECK_DATA_PATH = "/frame/v4/preauth/healthcheck/data"
RETURN_PATH = "/frame/v4/return"
PROMPT_PAGE_PATH = "/frame/v4/auth/prompt"
PROMPT_DATA_PATH = "/frame/v4/auth/prompt/data"
PROMPT_PATH = "/frame/v4/prompt"
STATUS_PATH = "/frame/v4/status"
EXIT_PATH = "/frame/v4/oidc/exit"
ENROLL_PATH = "/frame/v4/enroll"  # (unverified)
PWL_PREFIX = "/prompt/"
V4_CALLS = (PROMPT_PAGE_PATH, PROMPT_DATA_PATH, PROMPT_PATH, STATUS_PATH, EXIT_PATH)

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# -- Duo's words (section 4, 5, 8) ---------------------------------------------------------
PUSHED = "Pushed a login request to your device..."
CALLING = "Calling your phone..."
ANSWERED = "Answered. Press any key on your phone to log in."
SUCCESS = "Success. Logging you in..."
DENIED = "Login request denied."
WRONG_PASSCODE = "Incorrect passcode. Please try again."
TIMED_OUT = "Login timed out."
SMS_SENT = "New SMS passcodes sent."  # (unverified)
INVALID_DEVICE = "Invalid device"
INVALID_FACTOR = "Invalid factor"
NO_PASSCODE = "Please enter a passcode."
EXPIRED = "Your session has expired. Please try again."
NOT_ALLOWED_YET = "The authentication has not been completed."  # (unverified)
XSRF_PAGE = "403: Forbidden"  # the 403 page's text (unverified)
HEALTH_FAILED = "Duo could not check your device's health."  # (unverified)
ENROLL_TEXT = "Your organization requires you to enroll in Duo."  # (unverified)

ENUM_BAD_DEVICE_OR_FACTOR = 7
ENUM_NO_TRC = 57
ENUM_EXPIRED = 35  # (unverified)
ENUM_NOT_ALLOWED = 40  # (unverified)

Variant = Literal["v4", "legacy", "pwl"]
HealthCheck = Literal["passed", "required", "broken"]
Answer = Literal["approve", "deny", "timeout"]

# The factor labels of ``auth_method_order`` and what a client sends to start each.
PUSH = "Duo Push"
CALL = "Phone Call"
MOBILE_PASSCODE = "Duo Mobile Passcode"
SMS = "SMS Passcode"
WEBAUTHN = "WebAuthn Security Key"
PASSCODE = "Passcode"
FACTORS_SENT = (PUSH, CALL, PASSCODE, SMS, WEBAUTHN)


# -- JWTs (HS512/HS256, the OIDC side) ------------------------------------------------------
_HASHES = {"HS512": hashlib.sha512, "HS256": hashlib.sha256}


def jwt_encode(claims: Mapping[str, Any], secret: str, alg: str = "HS512") -> str:
    """A compact JWS over ``claims`` signed with ``secret`` (what Duo's SDKs make)."""
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), _HASHES[alg]).digest()
    return f"{head}.{body}.{b64url(mac)}"


def jwt_decode(token: str, secret: str, alg: str = "HS512") -> dict[str, Any] | None:
    """The claims of ``token`` when it is signed with ``secret`` under ``alg``, else None."""
    try:
        head, body, mac = token.split(".")
        header = json.loads(unb64url(head))
        if not isinstance(header, dict) or header.get("alg") != alg:
            return None
        want = hmac.new(secret.encode(), f"{head}.{body}".encode(), _HASHES[alg]).digest()
        if not hmac.compare_digest(want, unb64url(mac)):
            return None
        claims = json.loads(unb64url(body))
    except (ValueError, TypeError, KeyError):
        return None
    return claims if isinstance(claims, dict) else None


class SteppingClock:
    """A clock for tests that share no clock with the client (a subprocess): each reading
    moves it on by ``step`` seconds. The emulator reads its clock once per request."""

    def __init__(self, step: float, start: float = 2_000_000_000.0) -> None:
        self.step = step
        self.now = start

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


# -- users and devices as data (section 3) --------------------------------------------------
def _device_key() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "DP" + "".join(secrets.choice(alphabet) for _ in range(18))


@dataclass
class Phone:
    """A phone enrolled in Duo. ``push``/``call``: what the user does with a push or a call
    (one answer, or one per attempt: the n-th push gets the n-th, the last repeats), at the
    ``answer_after``-th status poll (a call: ``calling`` until then, ``answered`` one poll
    more; ``timeout``: nobody answers, Duo's ``timeout`` once the clock passes its limit).
    ``passcodes``: Duo Mobile codes the phone shows (each verifies once). ``landline``: calls
    only."""

    name: str = "iPhone 15"
    end_of_number: str = "1234"
    push: Answer | Sequence[Answer] = "approve"
    call: Answer | Sequence[Answer] = "approve"
    answer_after: int = 2
    passcodes: Sequence[str] = field(default=(), repr=False)
    landline: bool = False
    sms: bool = True
    key: str = field(default_factory=_device_key)

    def answer(self, kind: Literal["push", "call"], attempt: int) -> Answer:
        return scripted(self.push if kind == "push" else self.call, attempt, "approve")

    @property
    def factors(self) -> list[str]:
        if self.landline:
            return [CALL]
        return [PUSH, CALL, MOBILE_PASSCODE] + ([SMS] if self.sms else [])


@dataclass
class DuoUser:
    """A Duo user, named as the IdP names it in the ``request`` JWT (``duo_uname``).
    ``phones`` in Duo's order (``phone1`` is the first); ``webauthn``: a security key is
    enrolled; ``passcodes``: bypass or hardware-token codes (each verifies once);
    ``default_device``: the phone Duo offers first (an index; default the first phone);
    ``bypass``: Duo lets the user through without a second factor (unverified shape: the
    plugin POST goes straight back to the IdP)."""

    username: str
    phones: Sequence[Phone] = ()
    webauthn: bool = False
    passcodes: Sequence[str] = field(default=(), repr=False)
    default_device: str | None = None
    bypass: bool = False

    def indexed(self) -> list[tuple[str, Phone]]:
        return [(f"phone{n}", phone) for n, phone in enumerate(self.phones, start=1)]

    def phone(self, index: str) -> Phone | None:
        return dict(self.indexed()).get(index)

    def method_order(self) -> list[dict[str, str]]:
        """``auth_method_order``: Duo's order of preference, the default device first."""
        phones = self.indexed()
        if self.default_device:
            phones.sort(key=lambda item: item[0] != self.default_device)
        order = [
            {"factor": label, "deviceKey": phone.key}
            for label in (PUSH, CALL, MOBILE_PASSCODE, SMS)
            for _, phone in phones
            if label in phone.factors
        ]
        if self.webauthn:
            order.append({"factor": WEBAUTHN})
        return order


def three_phone_user(username: str) -> DuoUser:
    """A user with every phone shape: a smartphone that approves (its passcode ``123456``),
    one that denies push and call, and a landline; bypass code ``999000111``."""
    return DuoUser(
        username,
        phones=[
            Phone("iPhone 15", "1234", passcodes=["123456"]),
            Phone("Work Pixel 8", "5678", push="deny", call="deny"),
            Phone("Desk phone", "9012", landline=True),
        ],
        passcodes=["999000111"],
    )


@dataclass
class Client:
    """An OIDC client (a Duo "Web SDK" application): the IdP's ``client_id``/secret."""

    client_id: str = "DIABCDEFGHIJKLMNOPQR"
    client_secret: str = field(default="duo-test-client-secret-0123456789abcdef", repr=False)


# -- state --------------------------------------------------------------------------------
@dataclass
class _Transaction:
    txid: str
    factor: str
    device: str
    started: float
    attempt: int = 0
    answer: Answer = "approve"
    answer_after: int = 0
    polls: int = 0
    final: dict[str, Any] | None = None
    step_up_code: str | None = None
    kind: str = "push"  # push | call | passcode | sms | webauthn
    poll_times: list[float] = field(default_factory=list)


@dataclass
class _Session:
    sid: str
    tx: str
    xsrf: str
    user: DuoUser | None
    username: str
    client_id: str
    redirect_uri: str
    state: str
    use_duo_code: bool
    created: float
    health_checked: bool = False
    trc_name: str = ""
    trc_value: str = ""
    transactions: dict[str, _Transaction] = field(default_factory=dict)
    allowed: _Transaction | None = None
    finished: bool = False
    authkey: str = ""
    pwl_initialized: bool = False


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    username: str
    factor: str
    expires: float
    used: bool = False


class DuoEmulator(RecordingEmulator):
    """Duo's Universal Prompt and its OIDC endpoints; see the module's docstring."""

    def __init__(
        self,
        users: Iterable[DuoUser] = (),
        *,
        clients: Iterable[Client] = (Client(),),
        clock: Callable[[], float] = time.time,
        variant: Variant = "v4",
        health_check: HealthCheck = "passed",
        verified_push: bool = False,
        step_up_digits: int = 3,
        push_lifetime: float = 60.0,
        session_lifetime: float = 600.0,
        code_lifetime: float = 60.0,
        akey: str = "DAKABCDEFGHIJKLMNOPQ",
        host: str = DUO_HOST,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.users = {u.username.lower(): u for u in users}
        self.clients = {c.client_id: c for c in clients}
        self.clock = clock
        self.variant: Variant = variant
        self.health_check: HealthCheck = health_check
        self.verified_push = verified_push
        self.step_up_digits = step_up_digits
        self.push_lifetime = push_lifetime
        self.session_lifetime = session_lifetime
        self.code_lifetime = code_lifetime
        self.akey = akey
        self.host = host
        self._now = 0.0
        self._tx_key = secrets.token_hex(32)
        self._sessions: dict[str, _Session] = {}
        self._codes: dict[str, _Code] = {}
        self._jtis: set[str] = set()
        self._used_passcodes: set[tuple[str, str]] = set()
        self._pushes: list[tuple[str, str]] = []
        self._calls: list[tuple[str, str]] = []
        self._step_up_codes: list[str] = []
        self._exchanges: list[dict[str, Any]] = []

    # -- Duo's own host (self.host) ------------------------------------------------------
    @property
    def token_url(self) -> str:
        return f"{self.base_url}{TOKEN_PATH}"

    # -- what tests look at and steer ------------------------------------------------------
    @property
    def pushes(self) -> list[tuple[str, str]]:
        """Every push sent, as ``(username, device index)``."""
        return self._snapshot(self._pushes)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """Every phone call placed, as ``(username, device index)``."""
        return self._snapshot(self._calls)

    @property
    def step_up_codes(self) -> list[str]:
        """Every Verified Duo Push code shown (samljit must print it)."""
        return self._snapshot(self._step_up_codes)

    @property
    def exchanges(self) -> list[dict[str, Any]]:
        """Every successful code exchange: ``username``, ``factor``, ``client_id``."""
        return self._snapshot(dict(e) for e in self._exchanges)

    @property
    def poll_times(self) -> list[float]:
        """The clock's reading at every status poll, in order (Duo's pace: about 1 s)."""
        with self._lock:
            times = [
                t
                for s in self._sessions.values()
                for tx in s.transactions.values()
                for t in tx.poll_times
            ]
        return sorted(times)

    def add_user(self, user: DuoUser) -> None:
        with self._lock:
            self.users[user.username.lower()] = user

    def authorize_url(
        self,
        username: str,
        redirect_uri: str,
        state: str,
        *,
        client: Client | None = None,
        use_duo_code_attribute: bool = True,
        lifetime: float = 300.0,
        now: float | None = None,
    ) -> str:
        """The URL an IdP redirects the browser to, as Duo's SDKs build it (section 0)."""
        client = client or next(iter(self.clients.values()))
        issued_at = self.clock() if now is None else now
        claims = {
            "scope": "openid",
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "iss": client.client_id,
            "aud": self.base_url,
            "exp": int(issued_at + lifetime),
            "state": state,
            "response_type": "code",
            "duo_uname": username,
            "use_duo_code_attribute": use_duo_code_attribute,
        }
        query = {
            "response_type": "code",
            "client_id": client.client_id,
            "request": jwt_encode(claims, client.client_secret),
            "redirect_uri": redirect_uri,
            "scope": "openid",
        }
        return f"{self.base_url}{AUTHORIZE_PATH}?{urlencode(query)}"

    def client_assertion(
        self, client: Client | None = None, *, audience: str = "", now: float | None = None
    ) -> str:
        """The client-assertion JWT an IdP sends to the token endpoint (or ``audience``)."""
        client = client or next(iter(self.clients.values()))
        issued_at = self.clock() if now is None else now
        claims = {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": audience or self.token_url,
            "exp": int(issued_at + 300),
            "jti": secrets.token_hex(18),
            "iat": int(issued_at),
        }
        return jwt_encode(claims, client.client_secret)

    def redeem(self, code: str, redirect_uri: str, username: str) -> bool:
        """What an IdP does with Duo's way back, server to server: exchange ``code`` at the
        token endpoint (a client assertion of the first client) and check the id_token says
        ``allow`` for ``username``."""
        import requests

        client = next(iter(self.clients.values()))
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(client),
        }
        try:
            reply = requests.post(self.token_url, data=form, timeout=5)
            body = reply.json() if reply.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            return False
        claims = jwt_decode(str(body.get("id_token", "")), client.client_secret) or {}
        return (claims.get("auth_result") or {}).get("result") == "allow" and str(
            claims.get("preferred_username", "")
        ).lower() == username.lower()

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            self._now = self.clock()
            self._record(request.method, request.path, self._redacted(request))
            failure = self._next_failure(request.path)
            response = self._forced(failure) if failure else self._dispatch(request)
        return response(environ, start_response)

    @staticmethod
    def _redacted(request: Request) -> dict[str, Any]:
        if request.method != "POST":
            return {}
        keep = {"factor", "device", "postAuthDestination", "grant_type", "dampen_choice"}
        body = request.get_json(silent=True) if request.is_json else None
        pairs: dict[str, Any] = dict(body) if isinstance(body, dict) else dict(request.form.items())
        return {k: (v if k in keep else REDACTED) for k, v in pairs.items()}

    @staticmethod
    def _forced(failure: Failure) -> Response:
        body = failure.body
        if isinstance(body, (dict, list)):
            response = _json(body, failure.status)
        else:
            text = body if isinstance(body, (bytes, str)) else b""
            response = Response(text, status=failure.status, mimetype="text/html")
        for name, value in failure.headers.items():
            response.headers[name] = value
        return response

    def _dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path.startswith(PWL_PREFIX):
            return self._pwl(request)
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", AUTHORIZE_PATH): self._authorize,
            ("POST", TOKEN_PATH): self._token,
            ("POST", OIDC_HEALTH_PATH): self._oidc_health,
            ("GET", AUTH_PATH): self._plugin_page,
            ("POST", AUTH_PATH): self._plugin_post,
            ("GET", HEALTHCHECK_PATH): self._healthcheck_page,
            ("GET", HEALTHCHECK_DATA_PATH): self._healthcheck_data,
            ("GET", RETURN_PATH): self._return,
            ("GET", PROMPT_PAGE_PATH): self._prompt_page,
            ("GET", PROMPT_DATA_PATH): self._prompt_data,
            ("POST", PROMPT_PATH): self._prompt,
            ("POST", STATUS_PATH): self._status,
            ("POST", EXIT_PATH): self._exit,
            ("GET", ENROLL_PATH): self._enroll_page,
        }
        handler = routes.get((method, path))
        if handler is None:
            known = {p for _, p in routes}
            return _page("Method Not Allowed", 405) if path in known else _page("Not Found", 404)
        return handler(request)

    # -- helpers -----------------------------------------------------------------------------
    def _session(self, sid: str | None) -> _Session | None:
        session = self._sessions.get(sid or "")
        if session is None or session.finished:
            return None
        if self._now >= session.created + self.session_lifetime:
            return None
        return session

    def _has_trc(self, request: Request, session: _Session) -> bool:
        sent = request.cookies.get(session.trc_name, "")
        return bool(session.trc_value) and hmac.compare_digest(
            sent.encode(), session.trc_value.encode()
        )

    def _v4_session(self, request: Request, sid: str | None) -> _Session | Response:
        """The session a v4 JSON call names, or the FAIL answer (or 405 on a pwl tenant)."""
        session = self._session(sid)
        if session is None:
            return _fail(EXPIRED, ENUM_EXPIRED)
        if self.variant == "pwl":
            return _page("405: Method Not Allowed", 405)
        if not self._has_trc(request, session):
            return _json({"stat": "FAIL", "message_enum": ENUM_NO_TRC, "data": {}})
        return session

    def _back_to_idp(self, session: _Session, factor: str) -> str:
        """The Location back to the IdP: ``state`` and ``duo_code`` (or ``code``)."""
        code = self._note_secret(secrets.token_urlsafe(24))
        self._codes[code] = _Code(
            code,
            session.client_id,
            session.redirect_uri,
            session.username,
            factor,
            self._now + self.code_lifetime,
        )
        session.finished = True
        name = "duo_code" if session.use_duo_code else "code"
        glue = "&" if urlsplit(session.redirect_uri).query else "?"
        return f"{session.redirect_uri}{glue}{urlencode({'state': session.state, name: code})}"

    # -- OIDC: authorize (section 0) --------------------------------------------------------
    def _authorize(self, request: Request) -> Response:
        args = request.args
        client = self.clients.get(args.get("client_id", ""))
        if client is None:
            return _oauth_error("invalid_client", "Unknown client_id")
        if args.get("response_type") != "code":
            return _oauth_error("unsupported_response_type", "response_type must be code")
        claims = jwt_decode(args.get("request", ""), client.client_secret)
        if claims is None:
            return _oauth_error("invalid_request_object", "The request JWT is not valid")
        problem = self._request_problem(claims, client, args)
        if problem:
            return _oauth_error("invalid_request", problem)
        username = str(claims["duo_uname"])
        sid = self._note_secret(f"frameless-{uuid.uuid4()}")
        tx = self._note_secret(jwt_encode({"sid": sid, "akey": self.akey}, self._tx_key, "HS256"))
        session = _Session(
            sid=sid,
            tx=tx,
            xsrf=self._note_secret(secrets.token_hex(16)),
            user=self.users.get(username.lower()),
            username=username,
            client_id=client.client_id,
            redirect_uri=str(claims["redirect_uri"]),
            state=self._note_secret(str(claims["state"])),
            use_duo_code=bool(claims.get("use_duo_code_attribute", False)),
            created=self._now,
        )
        self._sessions[sid] = session
        return _redirect(f"{AUTH_PATH}?{urlencode({'sid': sid, 'tx': tx})}", 303)

    def _request_problem(
        self, claims: Mapping[str, Any], client: Client, args: Mapping[str, str]
    ) -> str:
        if claims.get("client_id") != client.client_id:
            return "client_id does not match the request JWT"
        if claims.get("response_type") != "code":
            return "response_type must be code"
        if "openid" not in str(claims.get("scope", "")).split():
            return "scope must include openid"
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or self._now >= exp:
            return "The request JWT has expired"
        redirect_uri = claims.get("redirect_uri")
        if not isinstance(redirect_uri, str) or urlsplit(redirect_uri).scheme not in (
            "http",
            "https",
        ):
            return "redirect_uri is not valid"
        if args.get("redirect_uri") not in (None, redirect_uri):
            return "redirect_uri does not match the request JWT"
        state = claims.get("state")
        if not isinstance(state, str) or not state:
            return "state is required"
        uname = claims.get("duo_uname")
        if not isinstance(uname, str) or not uname:
            return "duo_uname is required"
        return ""

    # -- OIDC: the token exchange and the health check the IdP makes -----------------------
    def _client_from_assertion(self, form: Mapping[str, str], audience: str) -> Client | None:
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            return None
        assertion = form.get("client_assertion", "")
        try:
            unverified = json.loads(unb64url(assertion.split(".")[1]))
        except (ValueError, IndexError):
            return None
        client = (
            self.clients.get(str(unverified.get("iss", "")))
            if isinstance(unverified, dict)
            else None
        )
        if client is None:
            return None
        claims = jwt_decode(assertion, client.client_secret)
        if (
            claims is None
            or claims.get("sub") != client.client_id
            or claims.get("aud") != audience
            or not isinstance(claims.get("exp"), (int, float))
            or self._now >= claims["exp"]
        ):
            return None
        jti = str(claims.get("jti", ""))
        if not jti or jti in self._jtis:
            return None
        self._jtis.add(jti)
        return client

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "grant_type must be authorization_code")
        client = self._client_from_assertion(form, self.token_url)
        if client is None:
            return _oauth_error("invalid_client", "The client assertion is not valid", 401)
        code = self._codes.get(form.get("code", ""))
        if (
            code is None
            or code.used
            or self._now >= code.expires
            or code.client_id != client.client_id
            or code.redirect_uri != form.get("redirect_uri")
        ):
            if code is not None:
                code.used = True
            return _oauth_error("invalid_grant", "The authorization code is invalid or expired")
        code.used = True
        claims = {
            "iss": self.token_url,
            "aud": client.client_id,
            "sub": code.username,
            "preferred_username": code.username,
            "iat": int(self._now),
            "exp": int(self._now) + 300,
            "auth_time": int(self._now),
            "auth_result": {"result": "allow", "status": "allow", "status_msg": "Login Successful"},
            "auth_context": {"factor": code.factor, "result": "success"},
        }
        self._exchanges.append(
            {"username": code.username, "factor": code.factor, "client_id": client.client_id}
        )
        return _json(
            {
                "id_token": self._note_secret(jwt_encode(claims, client.client_secret)),
                "access_token": self._note_secret(secrets.token_urlsafe(32)),
                "expires_in": 300,
                "token_type": "Bearer",
            }
        )

    def _oidc_health(self, request: Request) -> Response:
        client = self._client_from_assertion(request.form, f"{self.base_url}{OIDC_HEALTH_PATH}")
        if client is None or request.form.get("client_id") != client.client_id:
            return _json({"stat": "FAIL", "code": 40002, "message": "invalid_client"}, 400)
        return _json({"stat": "OK", "response": {"timestamp": int(self._now)}})

    # -- the plugin form (section 1) --------------------------------------------------------
    def _auth_session(self, request: Request) -> _Session | Response:
        session = self._session(request.args.get("sid"))
        if session is None or request.args.get("tx") != session.tx:
            return _page(EXPIRED, 400)
        return session

    def _plugin_page(self, request: Request) -> Response:
        found = self._auth_session(request)
        if isinstance(found, Response):
            return found
        return _page(_plugin_form(found, self.akey))

    def _plugin_post(self, request: Request) -> Response:
        found = self._auth_session(request)
        if isinstance(found, Response):
            return found
        session = found
        xsrf = request.form.get("_xsrf", "")
        if not hmac.compare_digest(xsrf.encode(), session.xsrf.encode()):
            return _page(XSRF_PAGE, 403)
        if request.form.get("tx") != session.tx:
            return _page(EXPIRED, 400)
        sid = urlencode({"sid": session.sid})
        if self.variant == "v4" and not self._health_ok(session):
            return _redirect(f"{HEALTHCHECK_PATH}?{sid}", 303)
        if session.user is None:
            return _redirect(f"{ENROLL_PATH}?{sid}", 302)
        if session.user.bypass:
            return _redirect(self._back_to_idp(session, "bypass"), 303)
        if self.variant == "pwl":
            session.authkey = self._note_secret(secrets.token_hex(10).upper())
            query = urlencode({"authkey": session.authkey, "req_trace_group": uuid.uuid4().hex})
            return _redirect(f"{PWL_PREFIX}{self.akey}?{query}", 302)
        response = _redirect(f"{PROMPT_PAGE_PATH}?{sid}", 302)
        if not session.trc_value:
            ukey = "DU" + secrets.token_hex(9).upper()
            session.trc_name = f"trc|{self.akey}|{ukey}"
            session.trc_value = self._note_secret(secrets.token_hex(20))
            self._note_cookie(session.trc_value)
        response.set_cookie(session.trc_name, session.trc_value, path="/", httponly=True)
        return response

    def _health_ok(self, session: _Session) -> bool:
        return session.health_checked and self.health_check == "passed"

    # -- the health check (section 2) -------------------------------------------------------
    def _healthcheck_page(self, request: Request) -> Response:
        session = self._session(request.args.get("sid"))
        if session is None:
            return _page(EXPIRED, 400)
        return _page(_shell("healthcheck", session.xsrf))

    def _healthcheck_data(self, request: Request) -> Response:
        session = self._session(request.args.get("sid"))
        if session is None:
            return _fail(EXPIRED, ENUM_EXPIRED)
        if self.health_check == "broken":
            return _fail(HEALTH_FAILED, 0)  # (unverified: message and enum)
        required = self.health_check == "required"
        return _json(
            {
                "stat": "OK",
                "response": {
                    "health_check_enabled": required,
                    "health_check_required": required,
                    # (unverified) where Duo Desktop would answer on the user's machine
                    "health_check_endpoints": ["https://127.0.0.1:53100/report"]
                    if required
                    else [],
                    "sid": session.sid,
                },
            }
        )

    def _return(self, request: Request) -> Response:
        session = self._session(request.args.get("sid"))
        if session is None:
            return _page(EXPIRED, 400)
        session.health_checked = True
        return _redirect(f"{AUTH_PATH}?{urlencode({'sid': session.sid, 'tx': session.tx})}", 303)

    def _enroll_page(self, request: Request) -> Response:
        return _page(f"<h1>{html.escape(ENROLL_TEXT)}</h1>")

    # -- the prompt (sections 3-6) -----------------------------------------------------------
    def _prompt_page(self, request: Request) -> Response:
        session = self._session(request.args.get("sid"))
        if session is None:
            return _page(EXPIRED, 400)
        if self.variant == "pwl":
            return _page("405: Method Not Allowed", 405)
        return _page(_shell("prompt", session.xsrf))  # the shell loads; its calls need trc

    def _prompt_data(self, request: Request) -> Response:
        found = self._v4_session(request, request.args.get("sid"))
        if isinstance(found, Response):
            return found
        assert found.user is not None
        user = found.user
        phones = [
            {
                "key": phone.key,
                "index": index,
                "name": phone.name,
                "end_of_number": phone.end_of_number,
                "mobile_otpable": not phone.landline,
                "sms_batch_size": 0,
                "next_passcode": None,
                "keypress_confirm": "",
                "requires_compliance_text": False,
            }
            for index, phone in user.indexed()
        ]
        return _json(
            {
                "stat": "OK",
                "response": {
                    "phones": phones,
                    "auth_method_order": user.method_order(),
                    "post_auth_action": request.args.get("post_auth_action", "OIDC_EXIT"),
                    "remember_me_enabled": False,
                },
            }
        )

    def _prompt(self, request: Request) -> Response:
        form = request.form
        found = self._v4_session(request, form.get("sid"))
        if isinstance(found, Response):
            return found
        session, user = found, found.user
        assert user is not None
        factor = form.get("factor", "")
        if factor not in FACTORS_SENT:
            return _fail(INVALID_FACTOR, ENUM_BAD_DEVICE_OR_FACTOR)
        txid = self._note_secret(str(uuid.uuid4()))
        if factor == PASSCODE:
            passcode = form.get("passcode", "").strip()
            if not passcode:
                return _fail(NO_PASSCODE, ENUM_BAD_DEVICE_OR_FACTOR)
            tx = _Transaction(txid, factor, "", self._now, kind="passcode")
            right = self._spend_passcode(user, passcode)
            tx.final = (
                _final(True, SUCCESS)
                if right
                else _final(False, WRONG_PASSCODE, "invalid_passcode")
            )
        elif factor == WEBAUTHN:
            if not user.webauthn:
                return _fail(INVALID_FACTOR, ENUM_BAD_DEVICE_OR_FACTOR)
            tx = _Transaction(txid, factor, "", self._now, kind="webauthn")
        else:
            index = form.get("device", "")
            phone = user.phone(index)
            if phone is None or factor not in phone.factors:
                return _fail(INVALID_DEVICE, ENUM_BAD_DEVICE_OR_FACTOR)
            tx = self._start_phone(user, index, phone, factor, txid)
        session.transactions[txid] = tx
        answer: dict[str, Any] = {"txid": txid}
        return _json({"stat": "OK", "response": answer})

    def _start_phone(
        self, user: DuoUser, index: str, phone: Phone, factor: str, txid: str
    ) -> _Transaction:
        if factor == SMS:
            code = f"{secrets.randbelow(10**7):07d}"
            self._note_code(code, to=index)
            phone.passcodes = [*phone.passcodes, code]
            tx = _Transaction(txid, factor, index, self._now, kind="sms")
            tx.final = {"status_code": "sent", "status": SMS_SENT}  # (unverified)
            return tx
        kind: Literal["push", "call"] = "push" if factor == PUSH else "call"
        sent = self._pushes if kind == "push" else self._calls
        attempt = sum(1 for u, d in sent if u == user.username and d == index)
        sent.append((user.username, index))
        tx = _Transaction(
            txid,
            factor,
            index,
            self._now,
            attempt=attempt,
            answer=phone.answer(kind, attempt),
            answer_after=phone.answer_after,
            kind=kind,
        )
        if kind == "push" and self.verified_push:
            digits = self.step_up_digits
            tx.step_up_code = f"{secrets.randbelow(10**digits):0{digits}d}"
            self._step_up_codes.append(tx.step_up_code)
        return tx

    def _spend_passcode(self, user: DuoUser, passcode: str) -> bool:
        valid = set(user.passcodes)
        for phone in user.phones:
            valid.update(phone.passcodes)
        if passcode in valid and (user.username, passcode) not in self._used_passcodes:
            self._used_passcodes.add((user.username, passcode))
            return True
        return False

    def _status(self, request: Request) -> Response:
        form = request.form
        found = self._v4_session(request, form.get("sid"))
        if isinstance(found, Response):
            return found
        return self._poll(found, form.get("txid", ""))

    def _poll(self, session: _Session, txid: str) -> Response:
        """A poll of the session's transaction ``txid``: where it stands (``allow`` lets the
        session go back to the IdP with that factor)."""
        tx = session.transactions.get(txid)
        if tx is None:
            return _fail(EXPIRED, ENUM_EXPIRED)
        tx.poll_times.append(self._now)
        answer = self._advance(tx)
        if answer.get("status_code") == "allow":
            session.allowed = tx
        return _json({"stat": "OK", "response": answer})

    def _advance(self, tx: _Transaction) -> dict[str, Any]:
        """One poll of ``tx``: its final answer, or where it stands now."""
        if tx.final is not None:
            return tx.final
        if tx.kind == "webauthn":
            return {
                "status_code": "webauthn_sent",
                "status": "",
                "webauthn_credential_request_options": {
                    "challenge": b64url(secrets.token_bytes(32)),
                    "allowCredentials": [
                        {"type": "public-key", "id": b64url(secrets.token_bytes(32))}
                    ],
                    "rpId": self.host,
                    "extensions": {"appid": f"{self.base_url}/frame/u2f/appid"},
                    "sessionId": secrets.token_hex(16),
                    "timeout": 60000,
                },
            }
        tx.polls += 1
        # a call rings (``calling``) first and is picked up (``answered``) a poll later
        answered_at = tx.answer_after + (1 if tx.kind == "call" else 0)
        if (
            tx.answer != "timeout"
            and tx.polls >= answered_at
            and self._now < tx.started + self.push_lifetime
        ):
            tx.final = (
                _final(True, SUCCESS)
                if tx.answer == "approve"
                else _final(False, DENIED, "user_cancelled" if tx.kind == "push" else "user_denied")
            )
            return tx.final
        if self._now >= tx.started + self.push_lifetime:
            tx.final = _final(False, TIMED_OUT, "no_response", status_code="timeout")
            return tx.final
        if tx.kind == "call":
            if tx.polls < answered_at - 1 or tx.answer == "timeout":  # nobody picks up
                return {"status_code": "calling", "status": CALLING}
            return {"status_code": "answered", "status": ANSWERED}
        waiting: dict[str, Any] = {"status_code": "pushed", "status": PUSHED}
        if tx.step_up_code is not None:
            waiting["risk_based_factor_selection_data"] = {
                "step_up_code": tx.step_up_code,
                "step_up_code_autofilled": False,
            }
        return waiting

    def _exit(self, request: Request) -> Response:
        form = request.form
        session = self._session(form.get("sid"))
        if session is None:
            return _fail(EXPIRED, ENUM_EXPIRED)
        if self.variant == "pwl":
            return _page("405: Method Not Allowed", 405)
        if not hmac.compare_digest(form.get("_xsrf", "").encode(), session.xsrf.encode()):
            return _page(XSRF_PAGE, 403)
        if not self._has_trc(request, session):
            return _json({"stat": "FAIL", "message_enum": ENUM_NO_TRC, "data": {}})
        tx = session.transactions.get(form.get("txid", ""))
        if tx is None or session.allowed is not tx or form.get("factor") != tx.factor:
            return _fail(NOT_ALLOWED_YET, ENUM_NOT_ALLOWED)
        return _redirect(self._back_to_idp(session, tx.factor), 303)

    # -- the 2026 single-page prompt (section 8, "pwl") ------------------------------------
    def _pwl_session(self, request: Request) -> _Session | None:
        authkey = request.args.get("authkey", "")
        if not authkey and request.is_json:
            body = request.get_json(silent=True)
            authkey = str(body.get("authkey", "")) if isinstance(body, dict) else ""
        for session in self._sessions.values():
            if session.authkey and hmac.compare_digest(session.authkey.encode(), authkey.encode()):
                return self._session(session.sid)
        return None

    def _pwl(self, request: Request) -> Response:
        rest = request.path[len(PWL_PREFIX) :]
        akey, _, call = rest.partition("/")
        if akey != self.akey or self.variant != "pwl":
            return _page("Not Found", 404)
        session = self._pwl_session(request)
        if not call:
            if request.method != "GET":
                return _page("405: Method Not Allowed", 405)
            if session is None:
                return _page(EXPIRED, 400)
            return _page(_pwl_page(self.akey, session.authkey))
        if session is None:
            return _fail(EXPIRED, ENUM_EXPIRED)
        user = session.user
        assert user is not None
        method = request.method
        if (method, call) == ("GET", "pre_authn/initialization"):
            session.pwl_initialized = True
            return _json({"stat": "OK", "response": {}})
        if not session.pwl_initialized:
            return _fail(EXPIRED, ENUM_EXPIRED)  # (unverified) initialization comes first
        body = request.get_json(silent=True) if request.is_json else None
        body = body if isinstance(body, dict) else {}
        if (method, call) == ("GET", "pre_authn/evaluation"):
            return _json({"stat": "OK", "response": {}})
        if (method, call) == ("GET", "auth/payload"):
            return _json({"stat": "OK", "response": _pwl_payload(user)})
        if (method, call) in (
            ("POST", "auth/factors/push/auth"),
            ("POST", "auth/factors/phone_call"),
        ):
            factor = PUSH if call.endswith("push/auth") else CALL
            found = [(i, p) for i, p in user.indexed() if p.key == body.get("pkey")]
            if not found or factor not in found[0][1].factors:
                return _fail(INVALID_DEVICE, ENUM_BAD_DEVICE_OR_FACTOR)
            index, phone = found[0]
            txid = self._note_secret(str(uuid.uuid4()))
            tx = self._start_phone(user, index, phone, factor, txid)
            session.transactions[txid] = tx
            answer: dict[str, Any] = {"push_txid": txid}
            if tx.step_up_code is not None:
                answer["step_up_code"] = tx.step_up_code
            return _json({"stat": "OK", "response": answer})
        if (method, call) == ("GET", "auth/factors/push/status"):
            return self._poll(session, request.args.get("push_txid", ""))
        if (method, call) == ("POST", "auth/factors/mobile_otp"):
            code = str(body.get("mobile_otp", "")).strip()
            if not code:
                return _fail(NO_PASSCODE, ENUM_BAD_DEVICE_OR_FACTOR)
            txid = self._note_secret(str(uuid.uuid4()))
            tx = _Transaction(txid, PASSCODE, "", self._now, kind="passcode")
            if self._spend_passcode(user, code):
                tx.final = _final(True, SUCCESS)
                session.transactions[txid] = tx
                session.allowed = tx
                return _json({"stat": "OK", "response": {"result": "SUCCESS"}})
            return _fail(WRONG_PASSCODE, 0)  # (unverified enum)
        if (method, call) == ("GET", "auth/finalize_auth"):
            if session.allowed is None:
                return _fail(NOT_ALLOWED_YET, ENUM_NOT_ALLOWED)
            return _json(
                {
                    "stat": "OK",
                    "response": {"url": self._back_to_idp(session, session.allowed.factor)},
                }
            )
        return _page("405: Method Not Allowed", 405)


# -- answers --------------------------------------------------------------------------------
def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _fail(message: str, enum: int) -> Response:
    return _json({"stat": "FAIL", "message": message, "message_enum": enum})


def _final(
    allowed: bool, status: str, reason: str = "", *, status_code: str | None = None
) -> dict[str, Any]:
    code = status_code or ("allow" if allowed else "deny")
    answer: dict[str, Any] = {
        "status_code": code,
        "status": status,
        "result": "SUCCESS" if allowed else "FAILURE",
    }
    if allowed:
        answer["post_auth_action"] = "OIDC_EXIT"
    else:
        answer["reason"] = reason
    return answer


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    """An OAuth error (structure of RFC 6749 §5.2; Duo's wording unverified)."""
    return _json({"error": error, "error_description": description}, status)


def _redirect(location: str, status: int) -> Response:
    response = Response("", status=status)
    response.headers["Location"] = location
    return response


def _page(text: str, status: int = 200) -> Response:
    body = (
        text
        if text.lstrip().startswith("<")
        else f"<html><body><p>{html.escape(text)}</p></body></html>"
    )
    return Response(body, status=status, mimetype="text/html")


BROWSER_FIELDS = (
    "java_version",
    "flash_version",
    "screen_resolution_width",
    "screen_resolution_height",
    "color_depth",
    "ch_ua_error",
    "client_hints",
    "is_cef_browser",
    "is_ipad_os",
    "is_ie_compatibility_mode",
    "is_user_verifying_platform_authenticator_available",
    "user_verifying_platform_authenticator_available_error",
    "acting_ie_version",
    "react_support",
    "react_support_error_message",
)


def _plugin_form(session: _Session, akey: str) -> str:
    fields = [
        ("tx", session.tx),
        ("parent", "None"),
        ("_xsrf", session.xsrf),
        ("version", "v4"),
        ("akey", akey),
        ("has_session_trust_analysis_feature", "False"),
        *((name, "") for name in BROWSER_FIELDS),
    ]
    inputs = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}" />'
        for name, value in fields
    )
    return (
        "<!DOCTYPE html>\n<html><head><title>Duo Security</title></head><body>\n"
        f'<form method="post" id="plugin_form">\n{inputs}\n</form>\n'
        '<script>document.getElementById("plugin_form").submit();</script>\n'
        "</body></html>"
    )


def _shell(name: str, xsrf: str) -> str:
    """A JavaScript shell page (no form) with its ``base-data``."""
    data = json.dumps({"xsrf_token": xsrf, "page": name}).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html><head><title>Duo Security</title></head><body>\n"
        f'<div id="app"></div>\n<script type="application/json" id="base-data">{data}</script>\n'
        f'<script src="/frame/static/{name}.js"></script>\n</body></html>'
    )


def _pwl_page(akey: str, authkey: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>Duo Security</title></head><body>\n"
        f'<div id="root" data-akey="{html.escape(akey, quote=True)}" '
        f'data-authkey="{html.escape(authkey, quote=True)}"></div>\n'
        '<script src="/prompt/static/main.js"></script>\n</body></html>'
    )


def _pwl_payload(user: DuoUser) -> dict[str, Any]:
    """``auth/payload``: factors under ``auth_factors_context`` (field names of the page;
    ``factor_type`` values unverified)."""
    types = {PUSH: "push", CALL: "phone_call", MOBILE_PASSCODE: "mobile_otp"}
    factors: list[dict[str, Any]] = [
        {
            "factor_type": types[label],
            "device_info": {
                "pkey": phone.key,
                "name": phone.name,
                "end_of_number": phone.end_of_number,
            },
        }
        for label in (PUSH, CALL, MOBILE_PASSCODE)
        for _, phone in user.indexed()
        if label in phone.factors
    ]
    if user.webauthn:
        factors.append({"factor_type": "webauthn", "device_info": {}})
    return {"auth_factors_context": {"available_unified_auth_factors": {"factors": factors}}}


Emulator = DuoEmulator
