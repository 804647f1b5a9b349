"""An Okta emulator for samljit's tests: Classic Authentication API and Identity Engine.

It speaks the protocol in shared/protocols/okta.md on 127.0.0.1 (ephemeral port by default).
Everything lives on one host:port, the org URL (``base_url``); the AWS app's embed link is
``emu.app_url(app_id)`` = ``{base_url}/home/amazon_aws/{app_id}/272``.

    user = User("ops@acme.example", "pw", factors=[push_factor(number=47)], apps={"0oaAws": [g]})
    with OktaEmulator([user]) as emu:
        emu.base_url, emu.app_url("0oaAws")

Classic (``pipeline="v1"``): ``POST /api/v1/authn`` and its state machine (factors, push polls,
passwords, lockout), ``sessionToken`` spent on the embed link (``onetimetoken``/``sessionToken``),
``/login/sessionCookieRedirect`` or ``POST /api/v1/sessions``; ``/api/v1/sessions/me``; the
``appForm`` page; app-level step-up; remembered devices (``DT`` cookie).

Identity Engine (``pipeline="idx"``): ``/.well-known/okta-organization``, the OAuth device
grant (``/oauth2/v1/device/authorize``, ``/oauth2/v1/token``), the token exchange for a web SSO
token and ``/login/token/sso``. A Classic ``sid`` does not open the app there.

Time comes from ``clock`` (state-token, session and device-code lifetimes, TOTP, rate-limit
windows); push and device approvals are counted in polls, so tests never sleep. The signed
SAML assertion itself is stamped with the real time (AWS and samljit check it against it).

Security keys (``webauthn``/``u2f`` factors) are verified for real with ``fido2.server``:
signature over the factor's registered public key (``webauthn_factor(public_key=…)``, see
tests/support/softkey.py ``enroll``), challenge, origin = the org, RP ID hash = the org's
host, user presence (and verification when ``require_uv``), and a counter that must go up.

Shapes real orgs (or a hostile network) send, off by default (test knobs):
``link_origins`` puts the hrefs of one kind (``"verify"``: the factors' verify links,
``"next"``: challenge and poll links, ``"skip"``, ``"original"``: the step-up link of a
``SUCCESS``, ``"activate"``: the device flow's verification URIs) on another origin;
``verify_query`` gives the factors' verify links a query of their own
(``…/verify?rememberDevice=false``); ``success_token=False`` leaves the ``sessionToken`` out
of a ``SUCCESS``; a ``clock`` behind the client's makes every ``expiresAt`` past by the
client's clock; ``fail_next(..., body=b"…")`` answers those bytes as JSON (e.g.
:func:`tests.emulators.deep_json`). :class:`Elsewhere` is a server on another origin that
records whatever reaches it.

Not emulated (marked where they are): a factor with ``app_id_extension`` announces the U2F
``appid`` extension but refuses every assertion posted for it, saying the emulator cannot check
it (samljit does not sign for an appid: a key enrolled as U2F needs the browser); Duo
(``web``/``DUO``) answers the challenge shape and then waits forever; enrolment, password
change and unlock are links only.

Run by hand from the repo root: ``python -m tests.emulators.okta --port 8710``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import ISSUED, Failure, RecordingEmulator
from tests.emulators import scripted

if TYPE_CHECKING:
    from tests.emulators.duo import DuoEmulator
from samljit.tools.sandbox.response import RoleGrant, RoleOrder, SignTarget
from tests.emulators.common import Demo, SigningIdp, SpentCodes

REDACTED = "***"
SID_COOKIE = "sid"
IDX_COOKIE = "idx"
DT_COOKIE = "DT"
APP_PATH = "/home/amazon_aws/{app_id}/272"
ALT_APP_PATH = "/app/amazon_aws/{app_id}/sso/saml"
ORG_ID = "00o1acme2example3org4"

# Texts on the HTML pages; tests assert on them.
LOGIN_PAGE_TEXT = "Sign in to Okta to continue."
NOT_ASSIGNED_TEXT = "You are not allowed to access this app."
APP_LOCKED_TEXT = "App Access Locked"
STEP_UP_TEXT = "Verify your identity to access this app."
INVALID_SSO_TOKEN_TEXT = "The token is invalid or has expired."
BAD_REDIRECT_TEXT = "The redirect URL is not on this org."

GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
TYPE_WEB_SSO = "urn:okta:oauth:token-type:web_sso_token"

# -- errors (section 5) -----------------------------------------------------------------------
ERRORS: dict[str, tuple[int, str]] = {
    "E0000003": (400, "The request body was not well-formed."),  # not on the page
    "E0000004": (401, "Authentication failed"),
    "E0000007": (404, "Not found: Resource not found: {0}"),
    "E0000009": (500, "Internal Server Error"),  # not on the page
    "E0000011": (401, "Invalid token provided"),
    "E0000047": (429, "API call exceeded rate limit due to too many requests."),
    "E0000068": (403, "Invalid Passcode/Answer"),
    "E0000079": (403, "This operation is not allowed in the current authentication state."),
}
PASSCODE_CAUSE = "Your passcode doesn't match our records. Please try again."
ANSWER_CAUSE = "Your answer doesn't match our records. Please try again."
#: The emulator's own words for an assertion of a factor announcing a U2F ``appid``.
APPID_UNSUPPORTED_CAUSE = "Not emulated: assertions for a U2F appid are not checked here."
#: A passcode already used (Okta's PASSCODE_REPLAYED), refused as a wrong one is (E0000068).
REPLAYED_CAUSE = "Each code can only be used once. Please wait for a new code and try again."
ASSERTION_CAUSE = "The security key assertion was refused."
COUNTER_CAUSE = "The security key's counter went backwards: the key may be cloned."
SESSION_ME_SUMMARY = "Not found: Resource not found: me (Session)"


def error_body(code: str, summary: str | None = None, causes: Sequence[str] = ()) -> dict[str, Any]:
    """An Okta error object: ``errorCode``, ``errorSummary``, ``errorLink``, ``errorId``,
    ``errorCauses`` (each with an ``errorSummary``)."""
    text = summary if summary is not None else ERRORS.get(code, (500, "Error"))[1]
    return {
        "errorCode": code,
        "errorSummary": text,
        "errorLink": code,
        "errorId": "oae" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y"),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }


# -- factors as data (section 2) --------------------------------------------------------------
VerifyMode = Literal[
    "passcode", "challenge", "push", "question", "webauthn", "duo", "duo_universal"
]


@dataclass(frozen=True)
class FactorKind:
    factor_type: str
    provider: str
    vendor_name: str
    mode: VerifyMode
    id_prefix: str
    supported: bool = True  # False: the emulator answers the shape but never completes


_KINDS = (
    FactorKind("push", "OKTA", "OKTA", "push", "opf"),
    FactorKind("token:software:totp", "OKTA", "OKTA", "passcode", "ost"),
    FactorKind("token:software:totp", "GOOGLE", "GOOGLE", "passcode", "uft"),
    FactorKind("sms", "OKTA", "OKTA", "challenge", "sms"),
    FactorKind("call", "OKTA", "OKTA", "challenge", "clf"),
    FactorKind("email", "OKTA", "OKTA", "challenge", "emf"),
    FactorKind("question", "OKTA", "OKTA", "question", "ufs"),
    FactorKind("token", "RSA", "RSA", "passcode", "rsa"),
    FactorKind("token", "SYMANTEC", "SYMANTEC", "passcode", "vip"),
    FactorKind("token:hardware", "YUBICO", "YUBICO", "passcode", "ykf"),
    FactorKind("web", "DUO", "DUO", "duo", "dsf", supported=False),
    # Duo's Universal Prompt as Okta's claims provider (gimme-aws-creds' duo_universal.py)
    FactorKind("claims_provider", "CUSTOM", "Duo Security", "duo_universal", "cpf"),
    FactorKind("u2f", "FIDO", "FIDO", "webauthn", "fuf"),
    FactorKind("webauthn", "FIDO", "FIDO", "webauthn", "fwf"),
)
FACTOR_KINDS: dict[tuple[str, str], FactorKind] = {(k.factor_type, k.provider): k for k in _KINDS}

PushBehaviour = Literal[
    "accept", "deny", "expire", "never", "wrong-number", "cancel", "error", "time-window"
]
# The factorResult a finished push reports; "accept" ends in status SUCCESS instead.
PUSH_RESULTS: dict[str, str] = {
    "deny": "REJECTED",
    "wrong-number": "REJECTED",  # the user tapped a wrong number: Okta rejects
    "expire": "TIMEOUT",
    "cancel": "CANCELLED",
    "error": "ERROR",
    "time-window": "TIME_WINDOW_EXCEEDED",
}
DEFAULT_NUMBER = 47


@dataclass
class Factor:
    """One enrolled factor. Build with the ``*_factor`` helpers below.

    ``push``: one behaviour per push sent (the last one repeats), decided on poll
    ``push_after`` (earlier polls answer WAITING); ``number``: the ``correctAnswer`` the polls
    carry while WAITING. ``totp_secret``/``codes``: what passcodes verify, each once (``codes``
    also is the SMS/call/email code sent, else a random one). ``public_key``/``sign_count``: the
    security key credential registered for a ``webauthn``/``u2f`` factor (its id is
    ``registered_id``, by default the advertised ``credentialId``); ``require_uv``: the
    assertion must carry user verification.
    """

    factor_type: str
    provider: str = "OKTA"
    profile: dict[str, Any] = field(default_factory=dict)
    id: str = ""  # derived from the user and position when empty
    status: Literal["ACTIVE", "NOT_SETUP"] = "ACTIVE"
    totp_secret: str | None = field(default=None, repr=False)
    codes: Sequence[str] = field(default=(), repr=False)
    used_codes: list[str] = field(default_factory=list, repr=False)  # passcodes spent
    answer: str | None = field(default=None, repr=False)
    push: PushBehaviour | Sequence[PushBehaviour] = "accept"
    push_after: int = 2
    number: int | None = None
    public_key: Mapping[int, Any] | None = field(default=None, repr=False)  # COSE
    sign_count: int = 0
    registered_id: bytes | None = None
    require_uv: bool = False
    app_id_extension: str | None = None  # U2F-enrolled keys: challenge extensions.appid

    @property
    def kind(self) -> FactorKind:
        return FACTOR_KINDS[(self.factor_type, self.provider)]

    @property
    def label(self) -> str:
        """saml2aws's name for it: ``"<PROVIDER> <FACTORTYPE>"`` upper-case."""
        return f"{self.provider} {self.factor_type}".upper()


def push_factor(
    behaviour: PushBehaviour | Sequence[PushBehaviour] = "accept",
    *,
    after: int = 2,
    number: int | None = None,
    name: str = "Ada's phone",
    login: str = "",
) -> Factor:
    profile = {
        "credentialId": login,
        "deviceType": "SmartPhone_IPhone",
        "name": name,
        "platform": "IOS",
        "version": "17.4",
    }
    return Factor("push", profile=profile, push=behaviour, push_after=after, number=number)


def totp_factor(secret: str, provider: Literal["OKTA", "GOOGLE"] = "OKTA") -> Factor:
    return Factor("token:software:totp", provider, {"credentialId": ""}, totp_secret=secret)


def sms_factor(phone: str = "+1 XXX-XXX-4242", code: str | None = None) -> Factor:
    return Factor("sms", profile={"phoneNumber": phone}, codes=[code] if code else [])


def call_factor(phone: str = "+1 XXX-XXX-4343", code: str | None = None) -> Factor:
    return Factor("call", profile={"phoneNumber": phone}, codes=[code] if code else [])


def email_factor(email: str = "o***@acme.example", code: str | None = None) -> Factor:
    return Factor("email", profile={"email": email}, codes=[code] if code else [])


def question_factor(answer: str, text: str = "What is your favourite colour?") -> Factor:
    profile = {"question": "favorite_color", "questionText": text}
    return Factor("question", profile=profile, answer=answer)


def token_factor(codes: Sequence[str], provider: Literal["RSA", "SYMANTEC"] = "RSA") -> Factor:
    return Factor("token", provider, {"credentialId": ""}, codes=codes)


def yubikey_factor(codes: Sequence[str]) -> Factor:
    """``token:hardware``/``YUBICO``: each OTP in ``codes`` verifies once."""
    return Factor("token:hardware", "YUBICO", {"credentialId": "cccccceukngd"}, codes=codes)


def webauthn_factor(
    credential_id: str | None = None,
    *,
    public_key: Mapping[int, Any] | None = None,
    sign_count: int = 0,
    registered_id: bytes | None = None,
    require_uv: bool = False,
    u2f: bool = False,
    app_id_extension: str | None = None,
    name: str = "YubiKey 5 NFC",
) -> Factor:
    """A security key factor. ``credential_id`` (base64url) is what Okta advertises; the key
    registered under ``registered_id`` (default: the same id) has ``public_key``; without a
    public key every assertion is refused (nothing registered)."""
    cred = credential_id or base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    profile: dict[str, Any] = {"credentialId": cred, "authenticatorName": name}
    if u2f:
        profile = {"credentialId": cred, "version": "U2F_V2"}
    return Factor(
        "u2f" if u2f else "webauthn",
        "FIDO",
        profile,
        public_key=public_key,
        sign_count=sign_count,
        registered_id=registered_id,
        require_uv=require_uv,
        app_id_extension=app_id_extension,
    )


def duo_factor() -> Factor:
    """``web``/``DUO``: unsupported by any loopback client (Duo's iframe API)."""
    return Factor("web", "DUO", {"credentialId": ""})


def duo_universal_factor() -> Factor:
    """``claims_provider``/``CUSTOM`` (vendor "Duo Security"): verify answers
    ``_links.next`` to ``/sso/idps/<id>``, which redirects to the emulator's ``duo`` tenant;
    Duo's way back to ``DUO_CALLBACK_PATH`` starts an Okta session (``sid`` cookie). Okta's
    side of that hand-off is unverified beyond what gimme-aws-creds drives."""
    return Factor("claims_provider", "CUSTOM", {"name": "Duo Security"})


DUO_CALLBACK_PATH = "/oauth2/v1/authorize/callback"
DUO_IDP_PATH = "/sso/idps/0oaduo"


# -- users, apps, clients ---------------------------------------------------------------------
@dataclass
class App:
    """An AWS Account Federation app instance (a plain list of grants means the defaults)."""

    roles: Sequence[RoleGrant]
    session_duration: int | None = 3600
    relay_state: str = ""
    step_up: bool = False  # app-level MFA: the page is the step-up form once per session
    step_up_page: Literal["script", "link"] = "script"
    access_locked: bool = False  # "App Access Locked" page


@dataclass
class User:
    login: str
    password: str = field(repr=False)
    factors: Sequence[Factor] = ()
    apps: Mapping[str, Sequence[RoleGrant] | App] = field(default_factory=dict)
    locked_out: bool = False
    password_expired: bool = False  # PASSWORD_EXPIRED (after MFA when the user has factors)
    password_warn: bool = False  # PASSWORD_WARN when the client asks warnBeforePasswordExpired
    mfa_enroll: bool = False  # MFA_ENROLL: factors NOT_SETUP (enrol in a browser)
    first_name: str = "Ada"
    last_name: str = "Ops"
    role_order: RoleOrder = "mixed"
    id: str = ""

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.login.lower().encode()).hexdigest()
        if not self.id:
            self.id = "00u" + digest[:17]
        for index, factor in enumerate(self.factors):
            if not factor.id:
                seed = f"{self.login}|{index}|{factor.factor_type}".encode()
                factor.id = factor.kind.id_prefix + hashlib.sha256(seed).hexdigest()[:17]
            if factor.profile.get("credentialId") == "":
                factor.profile["credentialId"] = self.login

    def active_factors(self) -> list[Factor]:
        return [f for f in self.factors if f.status == "ACTIVE"]

    def factor(self, factor_id: str) -> Factor | None:
        return next((f for f in self.active_factors() if f.id == factor_id), None)

    def app(self, app_id: str) -> App | None:
        app = self.apps.get(app_id)
        return app if app is None or isinstance(app, App) else App(roles=list(app))


@dataclass
class OidcClient:
    """The OIDC native app of the OIE prerequisite (no secret)."""

    client_id: str
    scopes: frozenset[str] = frozenset(
        {"openid", "profile", "okta.apps.sso", "okta.apps.read", "okta.users.read.self"}
    )
    device_grant: bool = True
    token_exchange: bool = True
    web_sso_apps: frozenset[str] | None = None  # None: every app; else the allowed app ids


@dataclass
class RateLimit:
    limit: int
    window: float = 60.0


# -- internal state ---------------------------------------------------------------------------
@dataclass
class _Challenge:
    factor_id: str
    sent_at: float | None = None
    code: str | None = None  # SMS/call/email code sent
    attempt: int = 0  # pushes sent so far for this factor in this transaction
    behaviour: PushBehaviour = "accept"
    polls: int = 0
    last_poll: float | None = None
    result: str = "WAITING"
    nonce: str = ""


@dataclass
class _Transaction:
    token: str
    user: User
    status: str
    expires: float
    warn: bool = False
    device_token: str | None = None
    remember: bool = False
    mfa_done: bool = False
    challenges: dict[str, _Challenge] = field(default_factory=dict)
    step_up_session: str | None = None
    step_up_app: str | None = None


@dataclass
class _SessionToken:
    user: User
    expires: float
    amr: list[str]
    step_up_session: str | None = None
    step_up_app: str | None = None


@dataclass
class _Session:
    id: str
    user: User
    cookie: str  # "sid" or "idx"
    created: float
    expires: float
    amr: list[str]
    last_factor: float | None
    stepped_up: set[str] = field(default_factory=set)


@dataclass
class _DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    expires: float
    interval: int
    polls: int = 0
    last_poll: float | None = None
    approved_by: str | None = None
    denied: bool = False
    used: bool = False


@dataclass
class _OAuthToken:
    kind: str  # "access" | "id" | "web_sso"
    user: User
    client_id: str
    scopes: list[str]
    expires: float
    app_id: str = ""
    used: bool = False


@dataclass
class _Window:
    start: float
    count: int = 0


SECRET_FIELDS = frozenset(
    {
        "password",
        "passCode",
        "nextPassCode",
        "answer",
        "newPassword",
        "oldPassword",
        "clientData",
        "authenticatorData",
        "signatureData",
        "stateToken",
        "sessionToken",
        "device_code",
        "subject_token",
        "actor_token",
        "token",
    }
)


def _instant(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _error(code: str, summary: str | None = None, causes: Sequence[str] = ()) -> Response:
    return _json(error_body(code, summary, causes), ERRORS.get(code, (500, ""))[0])


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return _json({"error": error, "error_description": description}, status)


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n{body}\n</html>\n"
    )
    return Response(text, status=status, mimetype="text/html")


def okta_html_attr(value: str) -> str:
    """Okta's attribute encoding: letters, digits and ``,.-_`` stay, the rest is ``&#xHH;``
    (so ``+`` is ``&#x2b;``, ``=`` is ``&#x3d;``)."""
    keep = set(",.-_")
    return "".join(c if c.isalnum() or c in keep else f"&#x{ord(c):x};" for c in value)


def okta_js_string(value: str) -> str:
    """Okta's JavaScript string encoding: letters and digits stay, the rest is ``\\xHH``."""
    return "".join(c if c.isalnum() else f"\\x{ord(c):02X}" for c in value)


def _token(prefix: str, size: int = 30) -> str:
    """A secret handed out (session token, session id, state handle), recorded for the leak
    check."""
    return ISSUED.secret(prefix + secrets.token_urlsafe(size))


def _state_token() -> str:
    """Like Okta's: ``00`` and 40 URL-safe characters, at least one of them a ``-``."""
    raw = secrets.token_urlsafe(30)
    return ISSUED.secret(f"00{raw[:19]}-{raw[20:]}")


def _jwt(claims: Mapping[str, Any]) -> str:
    """A JWT-shaped string (``eyJ…``); the signature is random: nothing verifies it."""

    def part(data: Mapping[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return ISSUED.secret(f"{part({'alg': 'RS256', 'kid': 'emulator'})}.{part(claims)}.{signature}")


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))


class OktaEmulator(SigningIdp):
    def __init__(
        self,
        users: Iterable[User] = (),
        *,
        port: int = 0,
        pipeline: Literal["v1", "idx"] = "v1",
        clock: Callable[[], float] = time.time,
        issuer: str = "http://www.okta.com/exk1acme2example3aws",
        sign_target: SignTarget = "response",
        state_token_lifetime: float = 300.0,
        session_token_lifetime: float = 300.0,
        session_lifetime: float = 7200.0,
        show_lockout: bool = False,
        lockout_after: int | None = None,
        remember_device_lifetime: float = 7 * 86400.0,
        set_device_token: bool = True,
        resend_interval: float = 30.0,
        push_min_interval: float = 0.0,
        rate_limits: Mapping[str, RateLimit] | None = None,
        clients: Iterable[OidcClient] = (),
        device_user: str | None = None,
        device_outcome: Literal["accept", "deny", "never", "expire"] = "accept",
        device_after: int = 2,
        device_expires_in: int = 600,
        device_interval: int = 5,
        enforce_interval: bool = True,
        web_sso_lifetime: float = 300.0,
        link_origins: Mapping[str, str] | None = None,
        verify_query: str = "",
        success_token: bool = True,
        duo: DuoEmulator | None = None,
    ) -> None:
        self.users = {u.login.lower(): u for u in users}
        #: The Duo tenant a ``duo_universal_factor`` sends the user to.
        self.duo = duo
        self._duo_pending: dict[str, _Transaction] = {}  # state -> transaction
        super().__init__(port, sign_target)
        self.pipeline = pipeline
        self.clock = clock
        self.issuer = issuer
        self.state_token_lifetime = state_token_lifetime
        self.session_token_lifetime = session_token_lifetime
        self.session_lifetime = session_lifetime
        self.show_lockout = show_lockout
        self.lockout_after = lockout_after
        self.remember_device_lifetime = remember_device_lifetime
        self.set_device_token = set_device_token
        self.resend_interval = resend_interval
        self.push_min_interval = push_min_interval
        self.rate_limits = dict(rate_limits or {})
        self.clients = {c.client_id: c for c in clients}
        self.device_user = device_user
        self.device_outcome = device_outcome
        self.device_after = device_after
        self.device_expires_in = device_expires_in
        self.device_interval = device_interval
        self.enforce_interval = enforce_interval
        self.web_sso_lifetime = web_sso_lifetime
        self.link_origins = dict(link_origins or {})
        self.verify_query = verify_query
        self.success_token = success_token
        self._spent_codes = SpentCodes()
        self._windows: dict[str, _Window] = {}
        self._bad_passwords: dict[str, int] = {}
        self._transactions: dict[str, _Transaction] = {}
        self._session_tokens: dict[str, _SessionToken] = {}
        self._sessions: dict[str, _Session] = {}
        self._remembered: dict[tuple[str, str], float] = {}
        self._devices: dict[str, _DeviceCode] = {}
        self._oauth_tokens: dict[str, _OAuthToken] = {}

    def _href(self, kind: str, base: str, path: str) -> str:
        """A link of ``kind`` in an answer: on the org, unless ``link_origins`` moves it."""
        return self.link_origins.get(kind, base) + path

    def app_url(self, app_id: str) -> str:
        """The AWS app's embed link, the ``url`` a client is configured with."""
        return self.base_url + APP_PATH.format(app_id=app_id)

    # -- test hooks --------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._lock:
            self.users[user.login.lower()] = user

    def add_client(self, client: OidcClient) -> None:
        with self._lock:
            self.clients[client.client_id] = client

    def approve_device(self, user_code: str, login: str) -> None:
        """The user signs in at ``verification_uri_complete`` and approves."""
        with self._lock:
            device = self._device_by_user_code(user_code)
            device.approved_by = login.lower()

    def deny_device(self, user_code: str) -> None:
        with self._lock:
            self._device_by_user_code(user_code).denied = True

    def end_session(self, session_id: str) -> None:
        """Revoke a session (an admin or the user signing out elsewhere)."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def _device_by_user_code(self, user_code: str) -> _DeviceCode:
        return next(d for d in self._devices.values() if d.user_code == user_code)

    @property
    def sessions(self) -> list[str]:
        """The ids of the live sessions (``sid``/``idx`` cookie values)."""
        return self._snapshot(self._sessions)

    # -- WSGI --------------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path
        body = self._body(request)
        self._record(method, path, self._redact(body or {}))
        failure = self._next_failure(path)
        if failure is not None:
            return self._failure_response(failure)
        return self._within_rate_limit(path, lambda: self._route(request, method, path, body))

    def _route(
        self, request: Request, method: str, path: str, body: dict[str, Any] | None
    ) -> Response:
        base = request.host_url.rstrip("/")
        json_call = path.startswith("/api/v1/") and method == "POST"
        if json_call and (request.mimetype != "application/json" or body is None):
            return _error("E0000003")
        data = body or {}
        if path == "/api/v1/authn" and method == "POST":
            return self._authn(request, base, data)
        if path.startswith("/api/v1/authn/factors/") and method == "POST":
            parts = path.split("/")[5:]
            if len(parts) == 2 and parts[1] == "verify":
                return self._verify(request, base, parts[0], data, resend=False)
            if len(parts) == 3 and parts[1:] == ["verify", "resend"]:
                return self._verify(request, base, parts[0], data, resend=True)
        transitions = ("/api/v1/authn/cancel", "/api/v1/authn/previous", "/api/v1/authn/skip")
        if path in transitions and method == "POST":
            return self._transition(request, base, path.rsplit("/", 1)[1], data)
        if path == "/api/v1/sessions" and method == "POST":
            return self._create_session(data)
        if path == "/api/v1/sessions/me" and method in ("GET", "DELETE"):
            return self._session_me(request, method)
        if path == "/login/sessionCookieRedirect" and method == "GET":
            return self._cookie_redirect(request, base)
        if path == "/login/step-up/redirect" and method == "GET":
            return self._step_up_redirect(request, base)
        if path == "/login/step-up/" and method == "GET":
            return self._step_up_form(request)
        if path in ("/login/login.htm", "/login/default", "/activate") and method == "GET":
            return _page("Sign In", f"<body><p>{LOGIN_PAGE_TEXT}</p></body>")
        if path == "/.well-known/okta-organization" and method == "GET":
            links = {"organization": {"href": base}}
            return _json({"id": ORG_ID, "pipeline": self.pipeline, "_links": links})
        if path == "/oauth2/v1/device/authorize" and method == "POST":
            return self._device_authorize(request, base)
        if path == "/oauth2/v1/token" and method == "POST":
            return self._token(request)
        if path == "/login/token/sso" and method == "GET":
            return self._token_sso(request)
        if path == DUO_IDP_PATH and method == "GET":
            return self._duo_idp(request, base)
        if path == DUO_CALLBACK_PATH and method == "GET":
            return self._duo_callback(request, base)
        app_id = self._app_id(path)
        if app_id is not None and method == "GET":
            return self._app(request, base, app_id)
        return _error("E0000007", ERRORS["E0000007"][1].format(path))

    @staticmethod
    def _app_id(path: str) -> str | None:
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["home", "amazon_aws"] and parts[3] == "272":
            return parts[2]
        if len(parts) == 5 and parts[:2] == ["app", "amazon_aws"] and parts[3:] == ["sso", "saml"]:
            return parts[2]
        return None

    @staticmethod
    def _body(request: Request) -> dict[str, Any] | None:
        if request.method not in ("POST", "PUT"):
            return {}
        if request.mimetype == "application/x-www-form-urlencoded":
            return dict(request.form.items())
        parsed = request.get_json(silent=True)
        return parsed if isinstance(parsed, dict) else None

    @staticmethod
    def _redact(body: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key in SECRET_FIELDS and value:
                out[key] = REDACTED
            elif isinstance(value, Mapping):
                out[key] = OktaEmulator._redact(value)
            else:
                out[key] = value
        return out

    @staticmethod
    def _failure_response(failure: Failure) -> Response:
        """:meth:`fail_next`'s answer: a dict body as JSON, a str as HTML, bytes as they are
        (as JSON), None as an Okta error object for the status (401 E0000011, 403 E0000079,
        404 E0000007, 429 E0000047, else E0000009)."""
        if isinstance(failure.body, str):
            response = Response(failure.body, status=failure.status, mimetype="text/html")
        elif isinstance(failure.body, bytes):
            response = Response(failure.body, status=failure.status, mimetype="application/json")
        elif failure.body is not None:
            response = _json(dict(failure.body), failure.status)
        else:
            codes = {401: "E0000011", 403: "E0000079", 404: "E0000007", 429: "E0000047"}
            code = codes.get(failure.status, "E0000009")
            summary = ERRORS[code][1].format("resource")
            response = _json(error_body(code, summary), failure.status)
        response.headers.update(dict(failure.headers))
        return response

    # -- rate limits (sections 5, 6c) --------------------------------------------------------
    def _rate_limit(self, path: str) -> tuple[Response | None, dict[str, str]]:
        prefixes = [p for p in self.rate_limits if path.startswith(p)]
        if not prefixes:
            return None, {}
        prefix = max(prefixes, key=len)
        limit = self.rate_limits[prefix]
        now = self.clock()
        window = self._windows.get(prefix)
        if window is None or now >= window.start + limit.window:
            window = self._windows[prefix] = _Window(now)
        window.count += 1  # refused requests count too
        reset = math.ceil(window.start + limit.window)
        headers = {
            "X-Rate-Limit-Limit": str(limit.limit),
            "X-Rate-Limit-Remaining": str(max(0, limit.limit - window.count)),
            "X-Rate-Limit-Reset": str(reset),
        }
        if window.count > limit.limit:
            response = _error("E0000047")
            response.headers.update(headers)
            return response, headers
        return None, headers

    @staticmethod
    def _too_many(reset: float, limit: int = 1) -> Response:
        response = _error("E0000047")
        response.headers["X-Rate-Limit-Limit"] = str(limit)
        response.headers["X-Rate-Limit-Remaining"] = "0"
        response.headers["X-Rate-Limit-Reset"] = str(math.ceil(reset))
        return response

    # -- Classic: primary authentication (section 1) -----------------------------------------
    def _authn(self, request: Request, base: str, body: Mapping[str, Any]) -> Response:
        state_token = body.get("stateToken")
        if isinstance(state_token, str) and "username" not in body:
            tx = self._live_transaction(state_token)
            if tx is None:
                return _error("E0000011")
            if tx.status in ("MFA_REQUIRED", "MFA_CHALLENGE"):
                tx.status = "MFA_REQUIRED"
                return _json(self._state_answer(base, tx))
            if tx.status in ("PASSWORD_EXPIRED", "PASSWORD_WARN", "MFA_ENROLL"):
                return _json(self._state_answer(base, tx))
            return _error("E0000079")
        username = body.get("username")
        password = body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return _error("E0000004")
        user = self.users.get(username.lower())
        if user is None:
            return _error("E0000004")
        if user.locked_out:
            return self._locked(base)
        if not hmac.compare_digest(password.encode(), user.password.encode()):
            misses = self._bad_passwords.get(user.login.lower(), 0) + 1
            self._bad_passwords[user.login.lower()] = misses
            if self.lockout_after is not None and misses >= self.lockout_after:
                user.locked_out = True
            return _error("E0000004")
        self._bad_passwords.pop(user.login.lower(), None)
        options = body.get("options")
        warn = isinstance(options, Mapping) and options.get("warnBeforePasswordExpired") is True
        device_token = request.cookies.get(DT_COOKIE)
        new_dt = None
        if device_token is None and self.set_device_token:
            device_token = new_dt = secrets.token_urlsafe(24)
        tx = _Transaction(
            token=_state_token(),
            user=user,
            status="",
            expires=self.clock() + self.state_token_lifetime,
            warn=warn,
            device_token=device_token,
        )
        self._transactions[tx.token] = tx
        remembered = self._remembered.get((user.id, device_token or ""), 0.0) > self.clock()
        if user.mfa_enroll:
            tx.status = "MFA_ENROLL"
            response = _json(self._state_answer(base, tx))
        elif user.active_factors() and not remembered:
            tx.status = "MFA_REQUIRED"
            response = _json(self._state_answer(base, tx))
        else:
            response = self._after_mfa(base, tx)
        if new_dt is not None:
            response.set_cookie(DT_COOKIE, new_dt, httponly=True, path="/")
        return response

    def _locked(self, base: str) -> Response:
        if not self.show_lockout:
            return _error("E0000004")
        unlock = f"{base}/api/v1/authn/recovery/unlock"
        links = {"next": {"name": "unlock", "href": unlock, "hints": {"allow": ["POST"]}}}
        return _json({"status": "LOCKED_OUT", "_links": links})

    def _live_transaction(self, token: str) -> _Transaction | None:
        tx = self._transactions.get(token)
        if tx is None or self.clock() >= tx.expires or tx.status == "CANCELLED":
            return None
        return tx

    def _after_mfa(self, base: str, tx: _Transaction) -> Response:
        """The password states come after MFA; then SUCCESS."""
        if tx.user.password_expired:
            tx.status = "PASSWORD_EXPIRED"
            return _json(self._state_answer(base, tx))
        if tx.user.password_warn and tx.warn:
            tx.status = "PASSWORD_WARN"
            return _json(self._state_answer(base, tx))
        return _json(self._success(base, tx))

    def _success(self, base: str, tx: _Transaction) -> dict[str, Any]:
        tx.status = "SUCCESS"
        now = self.clock()
        token = _token("20111", 24)
        amr = ["pwd", "mfa"] if tx.mfa_done else ["pwd"]
        self._session_tokens[token] = _SessionToken(
            tx.user, now + self.session_token_lifetime, amr, tx.step_up_session, tx.step_up_app
        )
        if tx.remember and tx.mfa_done and tx.device_token:
            key = (tx.user.id, tx.device_token)
            self._remembered[key] = now + self.remember_device_lifetime
        answer: dict[str, Any] = {
            "expiresAt": _instant(now + self.session_token_lifetime),
            "status": "SUCCESS",
            "sessionToken": token,
            "_embedded": {"user": self._user_json(tx.user)},
        }
        if not self.success_token:
            del answer["sessionToken"]
        if tx.step_up_session is not None:
            path = f"/login/step-up/redirect?stateToken={quote(tx.token)}"
            href = self._href("original", base, path)
            answer["_links"] = {
                "next": {"name": "original", "href": href, "hints": {"allow": ["GET"]}}
            }
        return answer

    @staticmethod
    def _user_json(user: User, short: bool = False) -> dict[str, Any]:
        if short:
            return {"id": user.id, "profile": {"login": user.login}}
        return {
            "id": user.id,
            "passwordChanged": "2025-01-02T03:04:05.000Z",
            "profile": {
                "login": user.login,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "locale": "en_US",
                "timeZone": "UTC",
            },
        }

    @staticmethod
    def _verify_href(base: str, factor: Factor) -> str:
        return f"{base}/api/v1/authn/factors/{factor.id}/verify"

    def _factor_json(self, base: str, factor: Factor) -> dict[str, Any]:
        href = self._href("verify", base, urlsplit(self._verify_href(base, factor)).path)
        if self.verify_query:
            href += "?" + self.verify_query
        return {
            "id": factor.id,
            "factorType": factor.factor_type,
            "provider": factor.provider,
            "vendorName": factor.kind.vendor_name,
            "profile": dict(factor.profile),
            "_links": {"verify": {"href": href, "hints": {"allow": ["POST"]}}},
        }

    def _state_answer(self, base: str, tx: _Transaction) -> dict[str, Any]:
        cancel = {"href": f"{base}/api/v1/authn/cancel", "hints": {"allow": ["POST"]}}
        answer: dict[str, Any] = {
            "stateToken": tx.token,
            "expiresAt": _instant(tx.expires),
            "status": tx.status,
            "_embedded": {"user": self._user_json(tx.user)},
            "_links": {"cancel": cancel},
        }
        if tx.status == "MFA_REQUIRED":
            factors = [self._factor_json(base, f) for f in tx.user.active_factors()]
            answer["_embedded"]["factors"] = factors
        elif tx.status == "MFA_ENROLL":
            enroll = {"href": f"{base}/api/v1/authn/factors", "hints": {"allow": ["POST"]}}
            pending = [f for f in tx.user.factors if f.status == "NOT_SETUP"] or [
                push_factor(),
                totp_factor(""),
                sms_factor(),
            ]
            answer["_embedded"]["factors"] = [
                {
                    "factorType": f.factor_type,
                    "provider": f.provider,
                    "vendorName": f.kind.vendor_name,
                    "status": "NOT_SETUP",
                    "enrollment": "REQUIRED",
                    "_links": {"enroll": enroll},
                }
                for f in pending
            ]
        elif tx.status in ("PASSWORD_EXPIRED", "PASSWORD_WARN"):
            change = {
                "name": "changePassword",
                "href": f"{base}/api/v1/authn/credentials/change_password",
                "hints": {"allow": ["POST"]},
            }
            answer["_links"]["next"] = change
            policy: dict[str, Any] = {"complexity": {"minLength": 12}}
            if tx.status == "PASSWORD_WARN":
                policy["expiration"] = {"passwordExpireDays": 5}
                skip = {"name": "skip", "href": self._href("skip", base, "/api/v1/authn/skip")}
                answer["_links"]["skip"] = {**skip, "hints": {"allow": ["POST"]}}
            answer["_embedded"]["policy"] = policy
        return answer

    def _transition(
        self, request: Request, base: str, action: str, body: Mapping[str, Any]
    ) -> Response:
        tx = self._live_transaction(str(body.get("stateToken", "")))
        if tx is None:
            return _error("E0000011")
        if action == "cancel":
            tx.status = "CANCELLED"
            return _json({"status": "UNAUTHENTICATED"})
        if action == "previous" and tx.status in ("MFA_REQUIRED", "MFA_CHALLENGE"):
            tx.status = "MFA_REQUIRED"
            return _json(self._state_answer(base, tx))
        if action == "skip" and tx.status == "PASSWORD_WARN":
            return _json(self._success(base, tx))
        return _error("E0000079")

    # -- Classic: factor verification (sections 2, 3, 6a) ------------------------------------
    def _verify(
        self, request: Request, base: str, factor_id: str, body: Mapping[str, Any], resend: bool
    ) -> Response:
        tx = self._live_transaction(str(body.get("stateToken", "")))
        if tx is None:
            return _error("E0000011")
        if tx.status not in ("MFA_REQUIRED", "MFA_CHALLENGE"):
            return _error("E0000079")
        factor = tx.user.factor(factor_id)
        if factor is None:
            return _error("E0000007", f"Not found: Resource not found: {factor_id} (UserFactor)")
        if "rememberDevice" in request.args:
            tx.remember = _truthy(request.args["rememberDevice"])
        elif "rememberDevice" in body:
            tx.remember = _truthy(body["rememberDevice"])
        mode = factor.kind.mode
        if mode == "passcode":
            return self._verify_passcode(base, tx, factor, body)
        if mode == "question":
            return self._verify_answer(base, tx, factor, body)
        if mode == "challenge":
            return self._verify_challenge(base, tx, factor, body, resend)
        if mode == "push":
            return self._verify_push(base, tx, factor, resend)
        if mode == "webauthn":
            return self._verify_webauthn(request, base, tx, factor, body)
        if mode == "duo_universal":
            return self._verify_duo_universal(base, tx)
        return self._verify_duo(base, tx, factor)

    def _factor_verified(self, base: str, tx: _Transaction) -> Response:
        tx.mfa_done = True
        tx.challenges.clear()
        return self._after_mfa(base, tx)

    def _verify_passcode(
        self, base: str, tx: _Transaction, factor: Factor, body: Mapping[str, Any]
    ) -> Response:
        code = str(body.get("passCode", ""))
        verdict = "wrong"
        if code and factor.totp_secret:
            verdict = self._spent_codes.check(factor.id, factor.totp_secret, code, self.clock())
        elif code and code in factor.used_codes:
            verdict = "replayed"
        elif code and code in factor.codes:
            verdict = "ok"  # a YubiKey OTP or an RSA/Symantec code is single-use too
            factor.codes = [c for c in factor.codes if c != code]
            factor.used_codes.append(code)
        if verdict == "replayed":
            return _error("E0000068", causes=[REPLAYED_CAUSE])
        if verdict != "ok":
            return _error("E0000068", causes=[PASSCODE_CAUSE])
        return self._factor_verified(base, tx)

    def _verify_answer(
        self, base: str, tx: _Transaction, factor: Factor, body: Mapping[str, Any]
    ) -> Response:
        answer = str(body.get("answer", ""))
        expected = (factor.answer or "").strip().lower()
        if not expected or answer.strip().lower() != expected:
            return _error("E0000068", causes=[ANSWER_CAUSE])
        return self._factor_verified(base, tx)

    def _challenge_answer(
        self,
        base: str,
        tx: _Transaction,
        factor: Factor,
        *,
        factor_result: str | None = None,
        embedded: Mapping[str, Any] | None = None,
        resend: str | None = None,
        prev: bool = False,
        full_factor: bool = False,
    ) -> Response:
        """The ``MFA_CHALLENGE`` answer for ``factor``: its next link polls while the result
        is ``WAITING``, and verifies otherwise."""
        next_name = "poll" if factor_result == "WAITING" else "verify"
        href = self._verify_href(base, factor)
        next_href = self._href("next", base, urlsplit(href).path)
        profile = dict(factor.profile)
        if factor.factor_type == "push":
            profile.pop("credentialId", None)
        factor_json: dict[str, Any] = {
            "id": factor.id,
            "factorType": factor.factor_type,
            "provider": factor.provider,
            "profile": profile,
        }
        if full_factor:
            factor_json["vendorName"] = factor.kind.vendor_name
        if embedded:
            factor_json["_embedded"] = dict(embedded)
        links: dict[str, Any] = {
            "next": {"name": next_name, "href": next_href, "hints": {"allow": ["POST"]}},
        }
        if resend:
            links["resend"] = [
                {"name": resend, "href": f"{href}/resend", "hints": {"allow": ["POST"]}}
            ]
        if prev:
            links["prev"] = {"href": f"{base}/api/v1/authn/previous"}
        links["cancel"] = {"href": f"{base}/api/v1/authn/cancel"}
        answer: dict[str, Any] = {
            "stateToken": tx.token,
            "expiresAt": _instant(tx.expires),
            "status": "MFA_CHALLENGE",
        }
        if factor_result is not None:
            answer["factorResult"] = factor_result
        answer["_embedded"] = {"user": self._user_json(tx.user, short=True), "factor": factor_json}
        answer["_links"] = links
        return _json(answer)

    def _verify_challenge(
        self,
        base: str,
        tx: _Transaction,
        factor: Factor,
        body: Mapping[str, Any],
        resend: bool,
    ) -> Response:
        challenge = tx.challenges.get(factor.id)
        code = str(body.get("passCode", ""))
        if code and not resend:
            sent = challenge.code if challenge else None
            if sent is None or not hmac.compare_digest(code.encode(), sent.encode()):
                return _error("E0000068", causes=[ANSWER_CAUSE])
            return self._factor_verified(base, tx)
        now = self.clock()
        if challenge is not None and challenge.sent_at is not None:
            ready = challenge.sent_at + self.resend_interval
            if now < ready:
                return self._too_many(ready)
        sent_code = factor.codes[0] if factor.codes else f"{secrets.randbelow(10**6):06d}"
        self._note_code(sent_code, to=factor.id)
        tx.challenges[factor.id] = _Challenge(factor.id, sent_at=now, code=sent_code)
        tx.status = "MFA_CHALLENGE"
        return self._challenge_answer(base, tx, factor, resend=factor.factor_type, prev=True)

    def _verify_push(self, base: str, tx: _Transaction, factor: Factor, resend: bool) -> Response:
        now = self.clock()
        challenge = tx.challenges.get(factor.id)
        if resend or challenge is None or challenge.result != "WAITING":
            attempt = challenge.attempt + 1 if challenge is not None else 0
            challenge = _Challenge(
                factor.id,
                attempt=attempt,
                behaviour=scripted(factor.push, attempt, "accept"),
                last_poll=now,
            )
            tx.challenges[factor.id] = challenge
            tx.status = "MFA_CHALLENGE"
            return self._challenge_answer(base, tx, factor, factor_result="WAITING", resend="push")
        if (
            self.push_min_interval > 0
            and challenge.last_poll is not None
            and now - challenge.last_poll < self.push_min_interval
        ):
            challenge.last_poll = now
            return self._too_many(now + self.push_min_interval)
        challenge.last_poll = now
        challenge.polls += 1
        behaviour = challenge.behaviour
        if behaviour != "never" and challenge.polls >= factor.push_after:
            if behaviour == "accept":
                return self._factor_verified(base, tx)
            challenge.result = PUSH_RESULTS[behaviour]
            return self._challenge_answer(
                base, tx, factor, factor_result=challenge.result, resend="push"
            )
        number = factor.number
        if number is None and behaviour == "wrong-number":
            number = DEFAULT_NUMBER
        embedded = {"challenge": {"correctAnswer": number}} if number is not None else None
        return self._challenge_answer(
            base, tx, factor, factor_result="WAITING", embedded=embedded, resend="push"
        )

    def _verify_webauthn(
        self,
        request: Request,
        base: str,
        tx: _Transaction,
        factor: Factor,
        body: Mapping[str, Any],
    ) -> Response:
        challenge = tx.challenges.get(factor.id)
        if "clientData" not in body:
            nonce = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            tx.challenges[factor.id] = _Challenge(factor.id, nonce=nonce)
            tx.status = "MFA_CHALLENGE"
            data: dict[str, Any] = {"challenge": nonce}
            if factor.app_id_extension:
                data["extensions"] = {"appid": factor.app_id_extension}
            return self._challenge_answer(
                base, tx, factor, embedded={"challenge": data}, full_factor=True
            )
        refused = _error("E0000068", causes=[ASSERTION_CAUSE])
        if challenge is None or not challenge.nonce:
            return refused
        if factor.app_id_extension:
            # UNSUPPORTED: an assertion for the appid (rpIdHash = SHA-256 of the appid) is not
            # checked here; refusing it says so instead of checking it against the org's host
            tx.challenges.pop(factor.id, None)
            return _error("E0000068", causes=[APPID_UNSUPPORTED_CAUSE])
        tx.challenges.pop(factor.id, None)  # one assertion per nonce
        verdict = self._check_assertion(base, factor, challenge.nonce, body)
        if verdict == "counter":
            return _error("E0000068", causes=[COUNTER_CAUSE])
        if verdict is not None:
            return _error("E0000068", causes=[f"{ASSERTION_CAUSE} ({verdict})"])
        return self._factor_verified(base, tx)

    @staticmethod
    def _check_assertion(
        base: str, factor: Factor, nonce: str, body: Mapping[str, Any]
    ) -> str | None:
        """``None`` when fido2's server accepts the assertion for the factor's registered
        credential and the counter went up; else why not (``"counter"`` for the counter)."""
        from fido2.server import Fido2Server
        from fido2.webauthn import (
            Aaguid,
            AttestedCredentialData,
            AuthenticatorData,
            PublicKeyCredentialRpEntity,
            UserVerificationRequirement,
        )

        if factor.public_key is None:
            return "no key registered"
        advertised = _b64decode(str(factor.profile.get("credentialId", "")))
        registered = AttestedCredentialData.create(
            Aaguid.NONE, factor.registered_id or advertised, dict(factor.public_key)
        )
        server = Fido2Server(
            PublicKeyCredentialRpEntity(id=urlsplit(base).hostname or "", name="Okta"),
            verify_origin=lambda origin: origin == base,
        )
        required = UserVerificationRequirement.REQUIRED if factor.require_uv else None
        state = {"challenge": nonce, "user_verification": required}
        try:
            client_data = _b64decode(str(body.get("clientData", "")))
            auth_data = _b64decode(str(body.get("authenticatorData", "")))
            signature = _b64decode(str(body.get("signatureData", "")))
            response = {
                "id": _b64url(advertised),
                "rawId": _b64url(advertised),
                "type": "public-key",
                "response": {
                    "clientDataJSON": _b64url(client_data),
                    "authenticatorData": _b64url(auth_data),
                    "signature": _b64url(signature),
                },
            }
            server.authenticate_complete(state, [registered], response)
            counter = AuthenticatorData(auth_data).counter
        except (ValueError, TypeError, KeyError, binascii.Error) as exc:
            return str(exc) or type(exc).__name__
        if (counter or factor.sign_count) and counter <= factor.sign_count:
            return "counter"
        factor.sign_count = counter
        return None

    def _verify_duo(self, base: str, tx: _Transaction, factor: Factor) -> Response:
        # UNSUPPORTED: the Duo iframe step cannot happen on loopback; polls wait forever.
        tx.status = "MFA_CHALLENGE"
        verification = {
            "host": "api-1234abcd.duosecurity.com",
            "signature": "TX|" + secrets.token_hex(20) + ":APP|" + secrets.token_hex(20),
            "_links": {
                "complete": {
                    "href": f"{base}/api/v1/authn/factors/{factor.id}/lifecycle/duoCallback",
                    "hints": {"allow": ["POST"]},
                },
                "script": {"href": f"{base}/js/sdk/duo.js", "type": "text/javascript"},
            },
        }
        return self._challenge_answer(
            base, tx, factor, factor_result="WAITING", embedded={"verification": verification}
        )

    def _verify_duo_universal(self, base: str, tx: _Transaction) -> Response:
        answer = self._state_answer(base, tx)
        link = f"{base}{DUO_IDP_PATH}?stateToken={quote(tx.token, safe='')}"
        answer["_links"]["next"] = {"name": "redirect", "href": link, "hints": {"allow": ["GET"]}}
        return _json(answer)

    def _duo_idp(self, request: Request, base: str) -> Response:
        tx = self._live_transaction(request.args.get("stateToken", ""))
        if tx is None or self.duo is None or tx.status != "MFA_REQUIRED":
            return _error("E0000011")
        state = self._note_secret(secrets.token_urlsafe(27))
        self._duo_pending[state] = tx
        location = self.duo.authorize_url(tx.user.login, f"{base}{DUO_CALLBACK_PATH}", state)
        self._note_secret(location.rpartition("request=")[2].partition("&")[0])
        return Response(status=302, headers={"Location": location})

    def _duo_callback(self, request: Request, base: str) -> Response:
        tx = self._duo_pending.pop(request.args.get("state", ""), None)
        if tx is None or self.duo is None:
            return _error("E0000011")
        callback = f"{base}{DUO_CALLBACK_PATH}"
        if not self.duo.redeem(request.args.get("duo_code", ""), callback, tx.user.login):
            return _error("E0000011")
        tx.mfa_done = True
        success = self._success(base, tx)
        grant = self._take_session_token(str(success["sessionToken"]))
        assert grant is not None
        session = self._new_session(grant)
        self._note_cookie(session.id)
        response = _page("Signed in", "<body><p>Signed in.</p></body>")
        response.set_cookie(SID_COOKIE, session.id, httponly=True, path="/")
        return response

    # -- Classic: sessions (sections 4, 6b) --------------------------------------------------
    def _take_session_token(self, token: str) -> _SessionToken | None:
        found = self._session_tokens.pop(token, None)
        if found is None or self.clock() >= found.expires:
            return None
        return found

    def _new_session(self, grant: _SessionToken, cookie: str = SID_COOKIE) -> _Session:
        now = self.clock()
        session = _Session(
            id=_token("102", 18),
            user=grant.user,
            cookie=cookie,
            created=now,
            expires=now + self.session_lifetime,
            amr=list(grant.amr),
            last_factor=now if "mfa" in grant.amr else None,
        )
        self._sessions[session.id] = session
        return session

    def _session_from(self, request: Request, cookie: str) -> _Session | None:
        session = self._sessions.get(request.cookies.get(cookie, ""))
        if session is None or self.clock() >= session.expires:
            return None
        return session

    def _session_json(self, session: _Session) -> dict[str, Any]:
        created = _instant(session.created)
        return {
            "id": session.id,
            "userId": session.user.id,
            "login": session.user.login,
            "createdAt": created,
            "expiresAt": _instant(session.expires),
            "status": "ACTIVE",
            "lastPasswordVerification": created,
            "lastFactorVerification": (
                _instant(session.last_factor) if session.last_factor is not None else None
            ),
            "amr": list(session.amr),
            "idp": {"id": ORG_ID, "type": "OKTA"},
            "mfaActive": "mfa" in session.amr,
        }

    def _create_session(self, body: Mapping[str, Any]) -> Response:
        grant = self._take_session_token(str(body.get("sessionToken", "")))
        if grant is None or grant.step_up_session is not None:
            return _error("E0000011")
        return _json(self._session_json(self._new_session(grant)))

    def _session_me(self, request: Request, method: str) -> Response:
        session = self._session_from(request, SID_COOKIE) or self._session_from(request, IDX_COOKIE)
        if session is None:
            return _error("E0000007", SESSION_ME_SUMMARY)
        if method == "DELETE":
            self._sessions.pop(session.id, None)
            response = Response(status=204)
            response.delete_cookie(session.cookie, path="/")
            return response
        return _json(self._session_json(session))

    def _on_org(self, base: str, url: str) -> bool:
        parts, org = urlsplit(url), urlsplit(base)
        return (parts.scheme, parts.netloc) == (org.scheme, org.netloc) or (
            not parts.scheme and not parts.netloc and url.startswith("/")
        )

    def _cookie_redirect(self, request: Request, base: str) -> Response:
        target = request.args.get("redirectUrl", "")
        if not self._on_org(base, target):
            return _page("Error", f"<body><p>{BAD_REDIRECT_TEXT}</p></body>", 400)
        response = Response(status=302)
        response.headers["Location"] = target
        if self._session_from(request, SID_COOKIE) is not None:
            return response  # a Classic org ignores the token while a sid is present
        grant = self._take_session_token(request.args.get("token", ""))
        if grant is None or grant.step_up_session is not None:
            response.headers["Location"] = f"/login/login.htm?fromURI={quote(target, safe='')}"
            return response
        session = self._new_session(grant)
        response.set_cookie(SID_COOKIE, session.id, httponly=True, path="/")
        return response

    # -- the app (sections 4, 6b) ------------------------------------------------------------
    def _app(self, request: Request, base: str, app_id: str) -> Response:
        if self.pipeline == "idx":
            session = self._session_from(request, IDX_COOKIE)
            if session is None:
                return self._idx_sign_in_page()
            return self._app_page(base, session, app_id)
        session = self._session_from(request, SID_COOKIE)
        token = request.args.get("onetimetoken") or request.args.get("sessionToken")
        new_cookie: str | None = None
        if token:
            grant = self._session_tokens.get(token)
            if grant is not None and grant.step_up_session is not None:
                grant = self._take_session_token(token)
                stepped = self._sessions.get(grant.step_up_session or "") if grant else None
                if stepped is not None and grant is not None and grant.step_up_app:
                    stepped.stepped_up.add(grant.step_up_app)
                    stepped.last_factor = self.clock()
            elif session is None:  # with a sid present the token is ignored (not spent)
                grant = self._take_session_token(token)
                if grant is not None:
                    session = self._new_session(grant)
                    new_cookie = session.id
        if session is None:
            response = Response(status=302)
            from_uri = quote(request.path, safe="")
            response.headers["Location"] = f"/login/login.htm?fromURI={from_uri}"
            return response
        response = self._app_page(base, session, app_id)
        if new_cookie is not None:
            response.set_cookie(SID_COOKIE, new_cookie, httponly=True, path="/")
        return response

    def _idx_sign_in_page(self) -> Response:
        handle = _token("02.id.", 30)
        script = f"<script>var stateToken = '{okta_js_string(handle)}';</script>"
        return _page("Sign In", f"<body><p>{LOGIN_PAGE_TEXT}</p>\n{script}</body>")

    def _app_page(self, base: str, session: _Session, app_id: str) -> Response:
        user = session.user
        app = user.app(app_id)
        if app is None:
            body = f'<body><div class="error"><h1>403</h1><p>{NOT_ASSIGNED_TEXT}</p></div></body>'
            return _page("Error", body, 403)
        if app.access_locked:
            body = f"<body><h1>{APP_LOCKED_TEXT}</h1><p>Contact your administrator.</p></body>"
            return _page(APP_LOCKED_TEXT, body, 403)
        if app.step_up and app_id not in session.stepped_up:
            return self._step_up_page(base, session, app_id, app)
        return self._saml_page(user, app)

    def _step_up_page(self, base: str, session: _Session, app_id: str, app: App) -> Response:
        tx = _Transaction(
            token=_state_token(),
            user=session.user,
            status="MFA_REQUIRED",
            expires=self.clock() + self.state_token_lifetime,
            step_up_session=session.id,
            step_up_app=app_id,
        )
        self._transactions[tx.token] = tx
        if app.step_up_page == "script":
            return self._step_up_script(tx.token)
        href = f"/login/step-up/?stateToken={quote(tx.token)}"
        inner = f'<a href="{html.escape(href)}">Continue</a>'
        return _page("Sign In", f"<body><p>{STEP_UP_TEXT}</p>\n{inner}</body>")

    @staticmethod
    def _step_up_script(state_token: str) -> Response:
        inner = f"<script>var stateToken = '{okta_js_string(state_token)}';</script>"
        return _page("Sign In", f"<body><p>{STEP_UP_TEXT}</p>\n{inner}</body>")

    def _step_up_form(self, request: Request) -> Response:
        """Where the step-up link leads: the sign-in widget page holding the state token."""
        tx = self._live_transaction(request.args.get("stateToken", ""))
        if tx is None or tx.step_up_session is None:
            return _page("Error", f"<body><p>{INVALID_SSO_TOKEN_TEXT}</p></body>", 403)
        return self._step_up_script(tx.token)

    def _step_up_redirect(self, request: Request, base: str) -> Response:
        tx = self._transactions.get(request.args.get("stateToken", ""))
        if tx is None or tx.status != "SUCCESS" or tx.step_up_session is None:
            return _page("Error", f"<body><p>{INVALID_SSO_TOKEN_TEXT}</p></body>", 403)
        session = self._sessions.get(tx.step_up_session)
        if session is not None and tx.step_up_app:
            session.stepped_up.add(tx.step_up_app)
            session.last_factor = self.clock()
        response = Response(status=302)
        response.headers["Location"] = APP_PATH.format(app_id=tx.step_up_app)
        return response

    def _saml_page(self, user: User, app: App) -> Response:
        encoded = self._signed_response(
            self.issuer, user.login, app.roles, app.session_duration, role_order=user.role_order
        )
        return _page("Amazon Web Services", saml_post_body(encoded, app.relay_state))

    # -- Identity Engine (section 6) ---------------------------------------------------------
    def _client_form(self, request: Request) -> tuple[OidcClient, dict[str, str]] | Response:
        """The OAuth client a form names and the form, or the error an OAuth endpoint answers."""
        if request.mimetype != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request", "The request must be form-encoded.")
        form = dict(request.form.items())
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            return _oauth_error("invalid_client", "Invalid value for 'client_id' parameter.", 401)
        return client, form

    def _device_authorize(self, request: Request, base: str) -> Response:
        sent = self._client_form(request)
        if isinstance(sent, Response):
            return sent
        client, form = sent
        if not client.device_grant:
            text = "The client is not authorized to use the provided grant type."
            return _oauth_error("unauthorized_client", text)
        scopes = form.get("scope", "").split()
        if not scopes or not set(scopes) <= client.scopes:
            bad = " ".join(sorted(set(scopes) - client.scopes)) or "(none)"
            text = f"One or more scopes are not configured for the client: {bad}"
            return _oauth_error("invalid_scope", text)
        user_code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        device = _DeviceCode(
            device_code=ISSUED.secret(secrets.token_hex(16)),
            user_code=user_code,
            client_id=client.client_id,
            scopes=scopes,
            expires=self.clock() + self.device_expires_in,
            interval=self.device_interval,
        )
        self._devices[device.device_code] = device
        return _json(
            {
                "device_code": device.device_code,
                "user_code": user_code,
                "verification_uri": self._href("activate", base, "/activate"),
                "verification_uri_complete": self._href(
                    "activate", base, f"/activate?user_code={user_code}"
                ),
                "expires_in": self.device_expires_in,
                "interval": self.device_interval,
            }
        )

    def _token(self, request: Request) -> Response:
        sent = self._client_form(request)
        if isinstance(sent, Response):
            return sent
        client, form = sent
        grant_type = form.get("grant_type", "")
        if grant_type == GRANT_DEVICE:
            return self._device_token(client, form)
        if grant_type == GRANT_EXCHANGE:
            return self._exchange(client, form)
        return _oauth_error("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")

    def _device_token(self, client: OidcClient, form: Mapping[str, str]) -> Response:
        device = self._devices.get(form.get("device_code", ""))
        if device is None or device.used or device.client_id != client.client_id:
            return _oauth_error("invalid_grant", "The device code is invalid or has been used.")
        now = self.clock()
        if now >= device.expires:
            return _oauth_error("expired_token", "The device code has expired.")
        if (
            self.enforce_interval
            and device.last_poll is not None
            and now - device.last_poll < device.interval
        ):
            device.last_poll = now
            device.interval += 5
            return _oauth_error("slow_down", "The client is polling too frequently.")
        device.last_poll = now
        device.polls += 1
        if (
            self.device_user is not None
            and device.approved_by is None
            and not device.denied
            and self.device_outcome != "never"
            and device.polls >= self.device_after
        ):
            if self.device_outcome == "accept":
                device.approved_by = self.device_user.lower()
            elif self.device_outcome == "deny":
                device.denied = True
            else:
                device.expires = now
                return _oauth_error("expired_token", "The device code has expired.")
        if device.denied:
            device.used = True
            return _oauth_error("access_denied", "The resource owner denied the request.")
        user = self.users.get(device.approved_by or "")
        if user is None:
            return _oauth_error("authorization_pending", "The device authorization is pending.")
        device.used = True
        return _json(self._issue_tokens(user, client, device.scopes))

    def _issue_tokens(self, user: User, client: OidcClient, scopes: list[str]) -> dict[str, Any]:
        now = self.clock()
        claims = {
            "sub": user.id,
            "iss": self.base_url,
            "aud": client.client_id,
            "iat": int(now),
            "exp": int(now) + 3600,
            "preferred_username": user.login,
        }
        access, id_token = _jwt({**claims, "scp": scopes}), _jwt(claims)
        self._oauth_tokens[access] = _OAuthToken(
            "access", user, client.client_id, scopes, now + 3600
        )
        self._oauth_tokens[id_token] = _OAuthToken("id", user, client.client_id, scopes, now + 3600)
        return {
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": access,
            "scope": " ".join(scopes),
            "id_token": id_token,
        }

    def _exchange(self, client: OidcClient, form: Mapping[str, str]) -> Response:
        if not client.token_exchange:
            text = "The client is not authorized to use the provided grant type."
            return _oauth_error("unauthorized_client", text)
        expected = {
            "subject_token_type": TYPE_ID_TOKEN,
            "actor_token_type": TYPE_ACCESS_TOKEN,
            "requested_token_type": TYPE_WEB_SSO,
        }
        for name in ("subject_token", "actor_token", "audience", *expected):
            if not form.get(name):
                return _oauth_error("invalid_request", f"The '{name}' parameter is required.")
        for name, value in expected.items():
            if form[name] != value:
                return _oauth_error("invalid_request", f"Unsupported '{name}': {form[name]}")
        now = self.clock()
        subject = self._oauth_tokens.get(form["subject_token"])
        actor = self._oauth_tokens.get(form["actor_token"])
        if (
            subject is None
            or actor is None
            or subject.kind != "id"
            or actor.kind != "access"
            or now >= subject.expires
            or now >= actor.expires
            or subject.user is not actor.user
            or client.client_id not in (subject.client_id, actor.client_id)
            or subject.client_id != actor.client_id
        ):
            return _oauth_error("invalid_grant", "The subject or actor token is invalid.")
        if "okta.apps.sso" not in actor.scopes:
            return _oauth_error("invalid_grant", "The actor token lacks the okta.apps.sso scope.")
        audience = form["audience"]
        app_id = audience.removeprefix("urn:okta:apps:")
        allowed = client.web_sso_apps is None or app_id in client.web_sso_apps
        if (
            not audience.startswith("urn:okta:apps:")
            or not allowed
            or subject.user.app(app_id) is None
        ):
            return _oauth_error("invalid_target", f"The audience is not valid: {audience}")
        token = self._note_secret(secrets.token_urlsafe(40))
        self._oauth_tokens[token] = _OAuthToken(
            "web_sso", subject.user, client.client_id, [], now + self.web_sso_lifetime, app_id
        )
        return _json(
            {
                "access_token": token,
                "issued_token_type": TYPE_WEB_SSO,
                "token_type": "N_A",
                "expires_in": int(self.web_sso_lifetime),
            }
        )

    def _token_sso(self, request: Request) -> Response:
        grant = self._oauth_tokens.get(request.args.get("token", ""))
        if grant is None or grant.kind != "web_sso" or grant.used or self.clock() >= grant.expires:
            return _page("Error", f"<body><p>{INVALID_SSO_TOKEN_TEXT}</p></body>", 400)
        grant.used = True
        cookie = IDX_COOKIE if self.pipeline == "idx" else SID_COOKIE
        session = self._new_session(_SessionToken(grant.user, 0.0, ["pwd", "mfa"]), cookie)
        session.stepped_up.add(grant.app_id)
        base = request.host_url.rstrip("/")
        response = self._app_page(base, session, grant.app_id)
        response.set_cookie(cookie, session.id, httponly=True, path="/")
        return response


class Elsewhere(RecordingEmulator):
    """A server on another origin (another loopback port) that records every request and
    answers each like an approving Okta would (``SUCCESS`` with a session token): whatever a
    client sends it shows in :attr:`requests`."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            self._record(request.method, request.path)
        answer = {"status": "SUCCESS", "sessionToken": "20111elsewhere", "factorResult": "SUCCESS"}
        return _json(answer)(environ, start_response)


def saml_post_body(saml_response: str, relay_state: str = "") -> str:
    """Okta's ``appForm`` auto-post page, attribute values entity-encoded as Okta does."""
    action = okta_html_attr("https://signin.aws.amazon.com/saml")
    return (
        '<body onload="document.forms[0].submit()">\n'
        f'<form id="appForm" action="{action}" method="POST">\n'
        f'<input name="SAMLResponse" type="hidden" value="{okta_html_attr(saml_response)}"/>\n'
        f'<input name="RelayState" type="hidden" value="{okta_html_attr(relay_state)}"/>\n'
        "</form>\n</body>"
    )


Emulator = OktaEmulator

DEMO_APP = "0oa1demo2aws3app4"
DEMO_CLIENT = "0oa1demo2cli3native4"


def main(argv: Sequence[str] | None = None) -> None:
    demo = Demo("Run the Okta emulator with a demo user.", port=8710, provider="Okta")
    demo.parser.add_argument("--pipeline", choices=["v1", "idx"], default="v1")
    args = demo.parse(argv)
    user = User(
        "demo@example.com",
        "demo-password",
        factors=[
            push_factor(number=DEFAULT_NUMBER),
            totp_factor(demo.secret),
            sms_factor(code="123456"),
        ],
        apps={DEMO_APP: demo.roles},
    )
    emu = OktaEmulator(
        [user],
        port=args.port,
        pipeline=args.pipeline,
        clients=[OidcClient(DEMO_CLIENT)],
        device_user=user.login,
        device_interval=1,
    )
    with emu:
        demo.serve(
            f"org url:   {emu.base_url}  (pipeline {args.pipeline})",
            f"app url:   {emu.app_url(DEMO_APP)}\nclient_id: {DEMO_CLIENT}",
            f"login:     {user.login}\npassword:  {user.password}\nTOTP secret: {demo.secret}",
            "push:      number 47, accepted on the 2nd poll\nsms code:  123456",
            "device:    approved on the 2nd token poll",
        )


if __name__ == "__main__":
    main()
