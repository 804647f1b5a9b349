"""A Microsoft Entra ID (Azure AD) emulator for samljit's tests.

It follows shared/protocols/azuread.md: the My Apps start URL, the OpenID Connect round trip
that signs the user in to My Apps, the ESTS sign-in pages (``$Config`` JSON, no forms),
GetCredentialType, the password POST, the second factor (BeginAuth / EndAuth / ProcessAuth),
KMSI and the ESTS session cookies, the interrupts a terminal client cannot finish, the AADSTS
error pages, the ``RedirectToApplicationPage`` and the final auto-post form holding a signed
SAMLResponse. Federated domains send the user to a minimal AD FS forms page served by the same
emulator (``/adfs/ls/``, :attr:`federation_url`) that posts a WS-Federation token back
(``/login.srf``).

Three loopback names: the "My Apps" host is ``localhost:port`` (:attr:`url`),
``login.microsoftonline.com`` is ``127.0.0.1:port`` (:attr:`base_url`), and the federated AD FS
is ``127.0.0.4`` on a port of its own (:attr:`adfs_url`; no other emulator uses that name).
Each name serves only its own paths (404 for the others) and sets its own cookies (AD FS its
``MSISAuth`` session, host-only with ``Path=/adfs`` as AD FS does), so a client keeps and sends
each host's cookies apart, as with Microsoft's hosts and a company's STS. Every absolute URL
the emulator puts in a page or a redirect points back to one of the three. A client is told
only ``url`` and the ``app_id``.

    with AzureAdEmulator([User("ops@northwind.example", "pw", apps={APP_ID: [grant]})]) as emu:
        emu.url, emu.start_url(APP_ID)

The clock is injected (push timing, TOTP codes, flow-token lifetime, cookie expiry): tests move
it instead of sleeping. Values the protocol page marks unverified, and the emulator's own
choices where the page is silent, are noted where they are made.

Run by hand from the repo root: ``python -m tests.emulators.azuread --port 8710``.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import re
import secrets
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote, urlencode

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import ISSUED, STOP_POLL
from samljit.tools.sandbox.response import AWS_ACS_URL, RoleGrant, RoleOrder, SignTarget
from samljit.tools.sandbox.server import LoopbackServer
from tests.emulators.common import Demo, SigningIdp, SpentCodes, host_name

DEFAULT_URL = "https://account.activedirectory.windowsazure.com"
MY_APPS_CLIENT_ID = "0000000c-0000-0000-c000-000000000000"
DEFAULT_TENANT_ID = "4f1e2d3c-5b6a-4798-8a7b-6c5d4e3f2a1b"
START_PATH = "/applications/redirecttofederatedapplication.aspx"
#: The My Apps host's loopback name; the login host answers on 127.0.0.1.
MY_APPS_HOST = "localhost"
#: The federated AD FS's loopback name (its own listener, its own port).
ADFS_HOST = "127.0.0.4"
#: AD FS's sign-in session cookie (host-only, ``Path=/adfs``, as AD FS sets it).
ADFS_COOKIE = "MSISAuth"
FLOW_TOKEN_NAME = "flowToken"
ESTSAUTH = "ESTSAUTH"
ESTSAUTHPERSISTENT = "ESTSAUTHPERSISTENT"
MY_APPS_COOKIE = ".AspNet.Cookies"  # My Apps' own session (an OWIN cookie)
REDACTED = "***"
WTREALM = "urn:federation:MicrosoftOnline"

# hpgid values: 1104, 1114 and 1115 are on the protocol page; the others are the emulator's.
HPGID = {
    "ConvergedSignIn": 1104,
    "ConvergedTFA": 1114,
    "KmsiInterrupt": 1115,
    "ConvergedProofUpRedirect": 1117,
    "ConvergedChangePassword": 1119,
    "ConvergedError": 1170,
}
HPGACT = 1800

# The words of each AADSTS code (sErrTxt / strServiceExceptionMessage after "AADSTSnnnnn: ").
ERROR_TEXTS: dict[str, str] = {
    "50058": "A silent sign-in request was sent but no user is signed in.",
    "50126": (
        "Your account or password is incorrect. If you don't remember your password, reset it now."
    ),
    "50034": (
        "We couldn't find an account with that username. Make sure you typed it correctly, "
        "or contact your admin."
    ),
    "50053": "Your account is locked. Contact your support person to unlock it, then try again.",
    "50057": "Your account has been disabled. Contact your administrator.",
    "50055": "Your password is expired. You need to update your password.",
    "50144": "Your Active Directory password has expired. Update your password.",
    "50076": (
        "Due to a configuration change made by your administrator, or because you moved to a "
        "new location, you must use multi-factor authentication to access this resource."
    ),
    "50072": "More information required: you need to enroll for multi-factor authentication.",
    "50079": "More information required: your organization needs more information to keep "
    "your account secure.",
    "50074": "Strong Authentication is required.",
    "500121": "Authentication failed during strong authentication request.",
    "50158": "External security challenge not satisfied.",
    "53000": "Device is not in required device state: compliant.",
    "53001": "Device is not in required device state: domain_joined.",
    "53003": "Access has been blocked by Conditional Access policies. The access policy does "
    "not allow token issuance.",
    "50105": "Your administrator has configured the application to block users unless they are "
    "specifically granted ('assigned') access to the application.",
    "700016": "Application with identifier '{app}' was not found in the directory '{tenant}'.",
    "50089": "Authentication failed due to flow token expired.",
    "90100": "The {name} parameter is empty or not valid.",
    "90002": "Tenant '{tenant}' not found.",
    "750054": "SAMLRequest or SAMLResponse must be present as query string parameters in HTTP "
    "request for SAML Redirect binding.",
}

# EndAuth/BeginAuth result values, with the page's words and the ErrCode the emulator sends.
RESULTS: dict[str, tuple[str, int]] = {
    "Success": ("", 0),
    "AuthenticationPending": ("", 0),
    "PhoneAppDenied": ("You've denied the sign-in request.", 500121),
    "PhoneAppNoResponse": ("We didn't receive a response. Please try again.", 500121),
    "PhoneAppFraudReported": ("Your sign-in was blocked because fraud was reported.", 500121),
    "OathCodeIncorrect": (
        "You didn't enter the expected verification code. Please try again.",
        0,
    ),
    "SMSAuthFailedWrongCodeEntered": ("You entered the wrong code. Please try again.", 0),
    "OathCodeFailedMaxAllowedRetryReached": (
        "You've tried too many times. Please try again later.",
        500121,
    ),
    "SMSAuthFailedMaxAllowedCodeRetryReached": (
        "You've tried too many times. Please try again later.",
        500121,
    ),
    "InvalidSession": ("Your session has timed out. Please sign in again.", 0),
    "AuthMethodNotOffered": ("This verification method isn't available for you.", 0),
    "AuthMethodNotSupported": ("This verification method can't be used here.", 0),
    "SMSAuthFailedProviderCouldntSendSMS": ("We couldn't send a text message.", 0),
}

INCORRECT_ADFS = (
    "Incorrect user ID or password. Type the correct user ID and password, and try again."
)

# EndAuth results after which the same SessionId may be polled or tried again
RETRYABLE = frozenset(
    {"AuthenticationPending", "OathCodeIncorrect", "SMSAuthFailedWrongCodeEntered"}
)
PUSH_METHODS = frozenset({"PhoneAppNotification", "TwoWayVoiceMobile", "TwoWayVoiceOffice"})
CODE_METHODS = frozenset({"PhoneAppOTP", "OneWaySMS"})
PushBehaviour = Literal["approve", "deny", "timeout", "fraud", "never"]
FlowKind = Literal["authorize", "saml2"]


def _proof_display(method_id: str) -> str:
    if method_id in ("PhoneAppNotification", "PhoneAppOTP"):
        return "Authenticator"
    if method_id in ("OneWaySMS", "TwoWayVoiceMobile", "TwoWayVoiceOffice"):
        return "+X XXXXXXXX42"
    return ""


@dataclass
class Method:
    """One entry of ``arrUserProofs`` and how the emulator answers it.

    Push-like methods (``PhoneAppNotification``, the voice calls) report ``push`` on the
    ``respond_after``-th EndAuth poll (earlier polls: pending); ``never`` stays pending, and any
    other is ``PhoneAppNoResponse`` once the clock passes ``iPollingTimeout``. ``PhoneAppOTP``
    checks a TOTP of ``totp_secret`` at the emulator's clock; ``OneWaySMS`` sends a fresh code at
    BeginAuth (see :meth:`AzureAdEmulator.sms_codes`). Other ids (``FidoKey``,
    ``CertificateBasedAuthentication``...) are listed but cannot be used (BeginAuth refuses).
    ``begin_error`` makes BeginAuth answer ``Success:false`` with that ResultValue.
    """

    id: str
    display: str = ""
    default: bool = False
    push: PushBehaviour = "approve"
    respond_after: int = 2
    totp_secret: str | None = field(default=None, repr=False)
    begin_error: str | None = None

    def proof(self, is_default: bool) -> dict[str, Any]:
        return {
            "authMethodId": self.id,
            "data": self.id,
            "display": self.display or _proof_display(self.id),
            "isDefault": is_default,
            "isLocationAware": False,
        }


@dataclass
class App:
    """An AWS enterprise app (a plain list of grants means the defaults).

    ``identifier`` is the SAML Issuer an AuthnRequest names it by (the app id when empty).
    """

    roles: Sequence[RoleGrant]
    session_duration: int | None = 3600
    relay_state: str = ""
    identifier: str = ""


@dataclass(frozen=True)
class Interrupt:
    """A page after the password (``stage="password"``) or after the second factor
    (``"final"``) that a terminal client cannot finish."""

    pgid: str
    code: str
    stage: Literal["password", "final"]
    skippable: bool = False


INTERRUPTS: dict[str, Interrupt] = {
    "mfa_registration": Interrupt("ConvergedProofUpRedirect", "50079", "password"),
    "mfa_registration_interrupt": Interrupt("ConvergedProofUpRedirect", "50072", "password"),
    "mfa_registration_skippable": Interrupt(
        "ConvergedProofUpRedirect", "50079", "password", skippable=True
    ),
    "password_expired": Interrupt("ConvergedChangePassword", "50055", "password"),
    "ad_password_expired": Interrupt("ConvergedChangePassword", "50144", "password"),
    "external_challenge": Interrupt("ConvergedError", "50158", "password"),
    "device_compliance": Interrupt("ConvergedError", "53000", "final"),
    "hybrid_join": Interrupt("ConvergedError", "53001", "final"),
    "conditional_access": Interrupt("ConvergedError", "53003", "final"),
    "cmsi": Interrupt("CmsiInterrupt", "", "final"),
    "bsso": Interrupt("BssoInterrupt", "", "final"),
}


@dataclass
class User:
    """A directory user. ``interrupt`` is a key of :data:`INTERRUPTS` or, for anything else,
    the ``pgid`` of an unknown page shown after the second factor.

    ``mfa_at="sign-in"`` asks for the second factor at sign-in (when ``methods`` is not empty);
    ``"app"`` signs in to My Apps with the password only and asks for it when the AWS app is
    reached (the TFA page then follows the app redirect).
    """

    upn: str
    password: str = field(repr=False)
    methods: Sequence[Method] = ()
    apps: Mapping[str, Sequence[RoleGrant] | App] = field(default_factory=dict)
    locked: bool = False
    disabled: bool = False
    interrupt: str | None = None
    mfa_at: Literal["sign-in", "app"] = "sign-in"
    role_order: RoleOrder = "role-first"

    def app(self, app_id: str) -> App | None:
        app = self.apps.get(app_id)
        return app if app is None or isinstance(app, App) else App(roles=list(app))

    def default_method(self) -> Method | None:
        flagged = [m for m in self.methods if m.default]
        return flagged[0] if flagged else (self.methods[0] if self.methods else None)

    def proofs(self) -> list[dict[str, Any]]:
        default = self.default_method()
        return [m.proof(m is default) for m in self.methods]

    def method(self, method_id: str) -> Method | None:
        return next((m for m in self.methods if m.id.lower() == method_id.lower()), None)

    def interrupt_at(self, stage: str) -> Interrupt | None:
        if self.interrupt is None:
            return None
        known = INTERRUPTS.get(self.interrupt)
        found = known or Interrupt(self.interrupt, "", "final")
        return found if found.stage == stage else None


@dataclass
class _Mfa:
    session_id: str
    method: Method
    started: float
    entropy: int = 0
    sms_code: str = ""
    polls: int = 0
    attempts: int = 0
    closed: bool = False


@dataclass
class _Flow:
    key: str
    kind: FlowKind
    ctx: str
    api_canary: str
    correlation_id: str
    canary: str = ""
    tokens: list[str] = field(default_factory=list)
    upn: str = ""
    stage: str = "username"  # username, mfa, kmsi, proofup, blocked, done, dead
    steps: deque[str] = field(default_factory=deque)
    mfa: _Mfa | None = None
    mfa_done: bool = False
    session: str | None = None  # the ESTS session a step-up flow belongs to
    state: str = ""  # authorize: the OIDC state, to hand back
    nonce: str = ""
    app_id: str = ""  # saml2: the app the AuthnRequest named
    relay_state: str = ""


@dataclass
class _Session:
    upn: str
    mfa_done: bool
    persistent: bool


def _new_token() -> str:
    """A flow token (recorded for the leak check, like every secret handed out here)."""
    return ISSUED.secret("AQABAAEAAA" + secrets.token_urlsafe(60))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def config_json(config: Mapping[str, Any]) -> str:
    """``$Config`` as the pages write it: one line, ``&``/``<``/``>`` as ``\\u`` escapes."""
    text = json.dumps(config, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _field(body: Mapping[str, Any], name: str) -> str:
    """A JSON or form value by name, whatever the key's case (clients differ)."""
    if name in body:
        value = body[name]
    else:
        value = next((v for k, v in body.items() if k.lower() == name.lower()), "")
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _hidden_form(action: str, fields: Mapping[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}" />'
        for name, value in fields.items()
    )
    return (
        "<html><head><title>Working...</title></head><body>"
        f'<form method="POST" name="hiddenform" action="{html.escape(action)}">{inputs}'
        "<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit" /></noscript></form>'
        "<script>document.forms[0].submit();</script></body></html>"
    )


def _html(text: str | bytes, status: int = 200) -> Response:
    """An HTML page; bytes (a forced answer's body) are served as they are, as JSON."""
    if isinstance(text, bytes):
        return Response(text, status=status, mimetype="application/json")
    return Response(text, status=status, mimetype="text/html")


def _redirect(location: str) -> Response:
    response = Response(status=302)
    response.headers["Location"] = location
    return response


def deflate_request(xml: str) -> str:
    """A SAMLRequest for the Redirect binding: raw DEFLATE, then base64."""
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(xml.encode()) + compressor.flush()
    return base64.b64encode(data).decode("ascii")


def authn_request(issuer: str, request_id: str | None = None) -> str:
    """The AuthnRequest My Apps (or an SP-initiated client) builds for the AWS app."""
    instant = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="{request_id or "_" + secrets.token_hex(16)}" Version="2.0" '
        f'IssueInstant="{instant}" AssertionConsumerServiceURL="{AWS_ACS_URL}">'
        f"<saml:Issuer>{html.escape(issuer)}</saml:Issuer></samlp:AuthnRequest>"
    )


def _request_issuer(saml_request: str) -> str | None:
    try:
        xml = zlib.decompress(base64.b64decode(saml_request, validate=True), wbits=-15)
    except (ValueError, zlib.error):
        return None
    match = re.search(rb"<(?:\w+:)?Issuer[^>]*>([^<]*)</(?:\w+:)?Issuer>", xml)
    return html.unescape(match.group(1).decode("utf-8", "replace")).strip() if match else None


class AzureAdEmulator(SigningIdp):
    #: Microsoft's paths are matched without case (``fail_next``, ``count``); a forced
    #: answer's ``body`` is HTML (bytes: served as they are, as JSON).
    paths_ignore_case = True

    def __init__(
        self,
        users: Iterable[User] = (),
        *,
        port: int = 0,
        tenant_id: str = DEFAULT_TENANT_ID,
        apps: Iterable[str] = (),
        federated_domains: Iterable[str] = (),
        federation_url: str | None = None,
        kmsi: bool = True,
        check_canary: bool = True,
        sign_target: SignTarget = "assertion",
        poll_interval: float = 1.0,
        max_poll_attempts: int = 60,
        polling_timeout_ms: int = 60_000,
        max_code_attempts: int = 3,
        flow_token_lifetime: float = 3600.0,
        skip_registration_days: int = 14,
        clock: Callable[[], float] = time.time,
        on_sms: Callable[[str, str], None] | None = None,
    ) -> None:
        """``apps``: app ids registered in the tenant besides those users are assigned to
        (a user reaching one of these without an assignment gets 50105; an app id nowhere
        gets 700016). ``federated_domains``: UPN domains whose GetCredentialType answer is a
        federation redirect, to ``federation_url`` (default: this emulator's AD FS,
        ``/adfs/ls/`` on :attr:`adfs_url`).
        ``kmsi=False``: the tenant turned the "Stay signed in?" page off. ``check_canary``:
        refuse form POSTs without the page's ``canary`` and JSON calls without the ``canary``
        header (AADSTS90100). ``on_sms(upn, code)`` is called when a text is "sent"."""
        self.users = {u.upn.lower(): u for u in users}
        self.tenant_id = tenant_id
        self.extra_apps = set(apps)
        self.federated_domains = {d.lower() for d in federated_domains}
        self._federation_url = federation_url
        self.kmsi = kmsi
        self.check_canary = check_canary
        self.poll_interval = poll_interval
        self.max_poll_attempts = max_poll_attempts
        self.polling_timeout_ms = polling_timeout_ms
        self.max_code_attempts = max_code_attempts
        self.flow_token_lifetime = flow_token_lifetime
        self.skip_registration_days = skip_registration_days
        self.clock = clock
        self.on_sms = on_sms
        super().__init__(port, sign_target)
        self._entropies: list[int] = []
        self._spent_codes = SpentCodes()
        self._flows: dict[str, _Flow] = {}
        self._tokens: dict[str, tuple[str, float]] = {}  # flow token -> (flow key, issued)
        self._spent: set[str] = set()
        self._sessions: dict[str, _Session] = {}  # ESTS cookie value -> session
        self._my_apps: dict[str, str] = {}  # My Apps cookie value -> upn
        self._oidc_states: dict[str, str] = {}  # state key -> start URL to come back to
        self._codes: dict[str, str] = {}  # authorization code -> upn
        self._wsfed: dict[str, str] = {}  # WS-Fed token id -> upn
        self._adfs_sessions: dict[str, str] = {}  # MSISAuth cookie value -> upn
        self._adfs_server: LoopbackServer | None = None
        self._skips: dict[str, str] = {}  # skip-registration key -> flow key

    # -- URLs --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """What a client is configured with as ``url``: the "My Apps" host, another loopback
        name than the login host of :attr:`base_url` (their cookies are apart, as at
        Microsoft's two hosts)."""
        return self.origin(MY_APPS_HOST)

    def start_url(self, app_id: str) -> str:
        query = urlencode({"Operation": "LinkedSignIn", "applicationId": app_id})
        return f"{self.url}{START_PATH}?{query}"

    def saml2_url(self, identifier: str, relay_state: str = "") -> str:
        """An SP-initiated start (as aws-azure-login builds it) for the app ``identifier``."""
        query = {"SAMLRequest": deflate_request(authn_request(identifier))}
        if relay_state:
            query["RelayState"] = relay_state
        return f"{self.base_url}/{self.tenant_id}/saml2?{urlencode(query)}"

    @property
    def adfs_url(self) -> str:
        """The federated AD FS's origin: a third loopback name, on its own port."""
        if self._adfs_server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{ADFS_HOST}:{self._adfs_server.port}"

    @property
    def federation_url(self) -> str:
        return self._federation_url or f"{self.adfs_url}/adfs/ls/"

    # -- the second listener (AD FS) ---------------------------------------------------------
    def start(self) -> AzureAdEmulator:
        super().start()
        adfs = LoopbackServer(0, ADFS_HOST, poll_interval=STOP_POLL)
        adfs.set_app(self._served())
        self._adfs_server = adfs.start()
        return self

    def stop(self) -> None:
        if self._adfs_server is not None:
            self._adfs_server.stop()
        self._adfs_server = None
        super().stop()

    # -- test hooks --------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._lock:
            self.users[user.upn.lower()] = user

    def expire_sessions(self, *, my_apps: bool = True, adfs: bool = False) -> None:
        """End every ESTS sign-in session (and My Apps' own, unless ``my_apps=False``; AD FS's
        with ``adfs=True``): the cookies a client kept now lead to the sign-in page again."""
        with self._lock:
            self._sessions.clear()
            if my_apps:
                self._my_apps.clear()
            if adfs:
                self._adfs_sessions.clear()

    def sms_codes(self, upn: str) -> list[str]:
        """The codes "texted" to ``upn``, oldest first."""
        return [code for who, code in self.sent_codes if who == upn.lower()]

    @property
    def entropies(self) -> list[int]:
        """The number-matching numbers shown for each push, oldest first."""
        return self._snapshot(self._entropies)

    @property
    def issued_tokens(self) -> list[str]:
        """Every flow token and canary handed out (the leak check looks for them: a flow
        token carries the sign-in's state, a canary guards it)."""
        with self._lock:
            found = [*self._tokens, *self._spent]
            for flow in self._flows.values():
                found += [flow.canary, flow.api_canary]
            return [token for token in found if token]

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # -- WSGI --------------------------------------------------------------------------------
    def _log_request(self, request: Request) -> dict[str, Any]:
        """Log the request (the form, the JSON object or, for a GET, the query, with passwords,
        codes and tokens as :data:`REDACTED`); return its body unredacted."""
        body: dict[str, Any] = {}
        if request.method == "POST":
            if request.mimetype == "application/json":
                parsed = request.get_json(silent=True)
                body = dict(parsed) if isinstance(parsed, dict) else {}
            else:
                body = dict(request.form.items())
        else:
            body = dict(request.args.items())
        secret = {
            "passwd",
            "password",
            "otc",
            "additionalauthdata",
            "code",
            "id_token",
            "wresult",
        }
        redacted = {k: (REDACTED if k.lower() in secret and v else v) for k, v in body.items()}
        self._record(request.method, request.path, redacted)
        return body

    def _dispatch(self, request: Request) -> Response:
        body = self._log_request(request)
        method, path = request.method, request.path.lower().rstrip("/") or "/"
        failure = self._next_failure(path)
        if failure is not None:
            text = failure.body or HTTP_STATUS_CODES.get(failure.status, "Error")
            forced = _html(text, failure.status)
            forced.headers.update(failure.headers)  # a Location, say
            return forced
        parts = path.strip("/").split("/")
        host = host_name(request)
        my_apps = host == MY_APPS_HOST
        if host == ADFS_HOST:  # AD FS serves its own pages only
            if path == "/adfs/ls" and method in ("GET", "POST"):
                return self._adfs(request, body)
            return _html("<html><body><h1>404 Not Found</h1></body></html>", 404)
        if my_apps and path == START_PATH:
            return self._start(request) if method == "GET" else self._postback()
        if my_apps and path == "/" and method == "POST":
            return self._my_apps_callback(request, body)
        if my_apps:  # My Apps serves nothing of the login host
            return _html("<html><body><h1>404 Not Found</h1></body></html>", 404)
        if len(parts) == 3 and parts[1:] == ["oauth2", "authorize"] and method == "GET":
            return self._authorize(request)
        if len(parts) == 2 and parts[1] == "saml2" and method == "GET":
            return self._saml2(request, parts[0])
        if path == "/common/getcredentialtype" and method == "POST":
            return self._credential_type(request, body)
        if len(parts) == 2 and parts[1] == "login" and method == "POST":
            return self._password(body)
        if path == "/kmsi" and method == "POST":
            return self._kmsi(body)
        if path == "/common/sas/beginauth" and method == "POST":
            return self._begin_auth(request, body)
        if path == "/common/sas/endauth" and method in ("POST", "GET"):
            return self._end_auth(request, body)
        if path == "/common/sas/processauth" and method == "POST":
            return self._process_auth(body)
        if path == "/common/sas/skipmfaregistration" and method == "GET":
            return self._skip_registration(request)
        if path == "/login.srf" and method == "POST":
            return self._wsfed_return(body)
        return _html("<html><body><h1>404 Not Found</h1></body></html>", 404)

    # -- flows and tokens --------------------------------------------------------------------
    def _new_flow(self, kind: FlowKind) -> _Flow:
        flow = _Flow(
            key=secrets.token_hex(12),
            kind=kind,
            ctx=ISSUED.secret("rQQIARAA" + secrets.token_urlsafe(48)),
            api_canary=ISSUED.secret("PAQABAQIAAA" + secrets.token_urlsafe(40)),
            correlation_id=str(uuid.uuid4()),
        )
        self._flows[flow.key] = flow
        return flow

    def _issue(self, flow: _Flow, *, keep: bool = False) -> str:
        """A new flow token for ``flow``; unless ``keep``, the earlier ones are spent."""
        if not keep:
            self._spend(flow)
        token = _new_token()
        flow.tokens.append(token)
        self._tokens[token] = (flow.key, self.clock())
        return token

    def _spend(self, flow: _Flow) -> None:
        for token in flow.tokens:
            self._tokens.pop(token, None)
            self._spent.add(token)
        flow.tokens = []

    def _flow_of(self, token: str) -> _Flow | None:
        """The flow whose live token this is (None: spent, foreign or expired: 50089)."""
        found = self._tokens.get(token)
        if found is None:
            return None
        key, issued = found
        if self.clock() - issued > self.flow_token_lifetime:
            return None
        flow = self._flows.get(key)
        return flow if flow is not None and flow.stage != "dead" else None

    def _kill(self, flow: _Flow) -> None:
        self._spend(flow)
        flow.stage = "dead"

    def _canary_ok(self, flow: _Flow, sent: str) -> bool:
        return not self.check_canary or hmac.compare_digest(sent.encode(), flow.canary.encode())

    def _api_canary_ok(self, flow: _Flow, request: Request) -> bool:
        sent = request.headers.get("canary", "")
        return not self.check_canary or hmac.compare_digest(sent.encode(), flow.api_canary.encode())

    # -- pages -------------------------------------------------------------------------------
    def _ests_page(
        self,
        flow: _Flow | None,
        pgid: str,
        title: str = "Sign in to your account",
        *,
        error: str = "",
        status: int = 200,
        **extra: Any,
    ) -> Response:
        request_id = str(uuid.uuid4())
        config: dict[str, Any] = {
            "pgid": pgid,
            "hpgid": HPGID.get(pgid, 1170),
            "hpgact": HPGACT,
            "sessionId": request_id,
            "correlationId": flow.correlation_id if flow else str(uuid.uuid4()),
            "iMaxStackForKnockoutAsyncComponents": 10000,
            "sErrorCode": error,
            "sErrTxt": "",
            "arrValErrs": [error] if error else [],
        }
        if flow is not None and flow.stage != "dead":
            flow.canary = self._note_secret(secrets.token_urlsafe(180))
            config.update(
                sFT=self._issue(flow),
                sFTName=FLOW_TOKEN_NAME,
                sCtx=flow.ctx,
                canary=flow.canary,
                apiCanary=flow.api_canary,
                sPOST_Username=flow.upn,
                urlPost="",
            )
        config.update(extra)
        cfg = config_json(config)
        text = (
            "<!-- Copyright (C) Microsoft Corporation. All rights reserved. -->\n"
            '<!DOCTYPE html>\n<html dir="ltr" class="" lang="en">\n<head>\n'
            f"<title>{html.escape(title)}</title>\n"
            '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n'
            f'<meta name="PageID" content="{html.escape(pgid)}" />\n'
            '<meta name="SiteID" content="" />\n<meta name="ReqLC" content="1033" />\n'
            '<meta name="LocLC" content="en-US" />\n'
            f'<script type="text/javascript" nonce="{secrets.token_urlsafe(16)}">//<![CDATA[\n'
            f"$Config={cfg};var ServerData=$Config;"
            'if(!ServerData.fHasBackgroundColor){ServerData.oAppCobranding={"bg":"#fff"};}\n'
            "//]]></script>\n"
            '<script type="text/javascript">//<![CDATA[\n'
            "!function(){var e=window,r=e.$Debug=e.$Debug||{};r.appendLog=function(){};}();\n"
            "//]]></script>\n</head>\n"
            '<body data-bind="defineGlobals: ServerData, bodyCssClass" class="cb" '
            'style="display: none"></body>\n</html>\n'
        )
        response = _html(text, status)
        response.headers["x-ms-request-id"] = request_id
        return response

    def _error_page(self, flow: _Flow | None, code: str, status: int = 200, **fmt: str) -> Response:
        if flow is not None:
            self._kill(flow)
        text = ERROR_TEXTS.get(code, "").format(
            app=fmt.get("app", ""),
            tenant=fmt.get("tenant", self.tenant_id),
            name=fmt.get("name", ""),
        )
        return self._ests_page(
            flow,
            "ConvergedError",
            error=code,
            status=status,
            strServiceExceptionMessage=f"AADSTS{code}: {text}",
        )

    def _sign_in_page(self, flow: _Flow, error: str = "") -> Response:
        tenant = "common" if flow.kind == "authorize" else self.tenant_id
        extra: dict[str, Any] = {
            "urlPost": f"{self.base_url}/{tenant}/login",
            "urlGetCredentialType": f"{self.base_url}/common/GetCredentialType?mkt=en-US",
            "sErrTxt": ERROR_TEXTS[error] if error else "",
        }
        return self._ests_page(flow, "ConvergedSignIn", error=error or "50058", **extra)

    def _tfa_page(self, flow: _Flow) -> Response:
        user = self.users[flow.upn]
        flow.stage = "mfa"
        intervals = {m.id: self.poll_interval for m in user.methods if m.id in PUSH_METHODS}
        return self._ests_page(
            flow,
            "ConvergedTFA",
            error="50076",
            arrUserProofs=user.proofs(),
            urlBeginAuth=f"{self.base_url}/common/SAS/BeginAuth",
            urlEndAuth=f"{self.base_url}/common/SAS/EndAuth",
            urlPost=f"{self.base_url}/common/SAS/ProcessAuth",
            oPerAuthPollingInterval=intervals,
            iMaxPollAttempts=self.max_poll_attempts,
            iPollingTimeout=self.polling_timeout_ms,
            urlSkipMfaRegistration="",
        )

    def _kmsi_page(self, flow: _Flow) -> Response:
        flow.stage = "kmsi"
        return self._ests_page(
            flow, "KmsiInterrupt", "Stay signed in?", urlPost=f"{self.base_url}/kmsi"
        )

    def _interrupt_page(self, flow: _Flow, interrupt: Interrupt) -> Response:
        if interrupt.pgid == "ConvergedError":
            return self._error_page(flow, interrupt.code)
        flow.stage = "blocked"
        extra: dict[str, Any] = {}
        if interrupt.code:
            extra["sErrTxt"] = ERROR_TEXTS.get(interrupt.code, "")
        if interrupt.pgid == "ConvergedProofUpRedirect":
            skip = ""
            if interrupt.skippable:
                key = self._note_secret(secrets.token_urlsafe(24))
                self._skips[key] = flow.key
                flow.stage = "proofup"
                query = urlencode({"skip": key, "ctx": flow.ctx, "mkt": "en-US"})
                skip = f"{self.base_url}/common/SAS/SkipMfaRegistration?{query}"
            extra["urlSkipMfaRegistration"] = skip
            extra["iRemainingDaysToSkipMfaRegistration"] = (
                self.skip_registration_days if skip else 0
            )
        return self._ests_page(flow, interrupt.pgid, error=interrupt.code, **extra)

    # -- the steps after the password --------------------------------------------------------
    def _signed_in(self, flow: _Flow, user: User) -> Response:
        """The password (or the federated IdP) proved the user: plan the rest and go on."""
        flow.upn = user.upn.lower()
        steps: list[str] = []
        if user.interrupt_at("password") is not None:
            steps.append("interrupt:password")
        if user.methods and (user.mfa_at == "sign-in" or flow.kind == "saml2"):
            steps.append("mfa")
        if user.interrupt_at("final") is not None:
            steps.append("interrupt:final")
        if self.kmsi:
            steps.append("kmsi")
        steps.append("done")
        flow.steps = deque(steps)
        return self._advance(flow)

    def _advance(self, flow: _Flow, persistent: bool | None = None) -> Response:
        step = flow.steps.popleft() if flow.steps else "done"
        user = self.users[flow.upn]
        if step.startswith("interrupt:"):
            interrupt = user.interrupt_at(step.partition(":")[2])
            assert interrupt is not None
            return self._interrupt_page(flow, interrupt)
        if step == "mfa":
            return self._tfa_page(flow)
        if step == "kmsi":
            return self._kmsi_page(flow)
        return self._complete(flow, user, persistent)

    def _complete(self, flow: _Flow, user: User, persistent: bool | None) -> Response:
        new_cookies: list[tuple[str, str, bool]] = []
        session = self._sessions.get(flow.session or "")
        if session is not None:
            session.mfa_done = session.mfa_done or flow.mfa_done
        else:
            session = _Session(flow.upn, flow.mfa_done, bool(persistent))
            value = secrets.token_urlsafe(48)
            self._sessions[value] = session
            new_cookies.append((ESTSAUTH, value, False))
            if persistent:
                new_cookies.append((ESTSAUTHPERSISTENT, value, True))
        self._kill(flow)
        flow.stage = "done"
        if flow.kind == "authorize":
            response = self._working_form(flow, user)
        else:
            response = self._final_page(flow, user)
        for name, value, keep in new_cookies:
            expires = int(self.clock() + 90 * 86400) if keep else None
            response.set_cookie(name, value, expires=expires, path="/", httponly=True)
        return response

    def _working_form(self, flow: _Flow, user: User) -> Response:
        code = self._note_secret(secrets.token_urlsafe(64))
        self._codes[code] = user.upn.lower()
        header = _b64url(json.dumps({"typ": "JWT", "alg": "RS256"}).encode())
        claims = {
            "aud": MY_APPS_CLIENT_ID,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "upn": user.upn,
            "nonce": flow.nonce,
            "tid": self.tenant_id,
        }
        id_token = self._note_secret(
            f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(secrets.token_bytes(32))}"
        )
        fields = {
            "code": code,
            "id_token": id_token,
            "state": flow.state,
            "session_state": str(uuid.uuid4()),
        }
        return _html(_hidden_form(f"{self.url}/", fields))

    def _final_page(self, flow: _Flow, user: User) -> Response:
        app = user.app(flow.app_id)
        if app is None:
            return self._error_page(None, "50105")
        issuer = f"https://sts.windows.net/{self.tenant_id}/"
        encoded = self._signed_response(
            issuer, user.upn, app.roles, app.session_duration, role_order=user.role_order
        )
        fields = {"SAMLResponse": encoded}
        relay_state = flow.relay_state or app.relay_state
        if relay_state:
            fields["RelayState"] = relay_state
        return _html(_hidden_form(AWS_ACS_URL, fields))

    # -- My Apps -----------------------------------------------------------------------------
    def _start(self, request: Request) -> Response:
        app_id = request.args.get("applicationId", "")
        upn = self._my_apps.get(request.cookies.get(MY_APPS_COOKIE, ""))
        if upn is None:
            key = self._note_secret(secrets.token_urlsafe(32))
            self._oidc_states[key] = self.start_url(app_id)
            query = urlencode(
                {
                    "client_id": MY_APPS_CLIENT_ID,
                    "redirect_uri": f"{self.url}/",
                    "response_mode": "form_post",
                    "response_type": "code id_token",
                    "scope": "openid profile",
                    "state": f"OpenIdConnect.AuthenticationProperties={key}",
                    "nonce": secrets.token_urlsafe(32),
                }
            )
            return _redirect(f"{self.base_url}/common/oauth2/authorize?{query}")
        issuer = app_id
        for user in self.users.values():
            app = user.app(app_id)
            if app is not None and app.identifier:
                issuer = app.identifier
        saml_request = quote(deflate_request(authn_request(issuer)), safe="")
        target = f"{self.base_url}/{self.tenant_id}/saml2?SAMLRequest={saml_request}"
        action = html.escape(
            f"./redirecttofederatedapplication.aspx?{request.query_string.decode()}"
        )
        viewstate = base64.b64encode(secrets.token_bytes(96)).decode()
        text = (
            '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">\n'
            "<head><title>Redirecting...</title></head>\n"
            '<body id="RedirectToApplicationPage">\n'
            f'<form method="post" action="{action}" id="form1">\n'
            '<div class="aspNetHidden"><input type="hidden" name="__VIEWSTATE" '
            f'id="__VIEWSTATE" value="{viewstate}" /></div>\n'
            '<div class="aspNetHidden"><input type="hidden" name="__VIEWSTATEGENERATOR" '
            'id="__VIEWSTATEGENERATOR" value="D6B8FBE7" /></div>\n</form>\n'
            '<script type="text/javascript">\n//<![CDATA[\n'
            f"window.location = '{target}';//]]>\n</script>\n</body>\n</html>\n"
        )
        return _html(text)

    @staticmethod
    def _postback() -> Response:
        body = (
            "<html><body><h1>Server Error in '/' Application.</h1>"
            "<h2><i>Invalid postback or callback argument.</i></h2></body></html>"
        )
        return _html(body, 500)

    def _my_apps_callback(self, request: Request, body: Mapping[str, Any]) -> Response:
        upn = self._codes.pop(_field(body, "code"), None)
        state = _field(body, "state").partition("=")[2]
        back = self._oidc_states.pop(state, None)
        if upn is None or back is None:
            return _html("<html><body><h1>My Apps: sign-in failed</h1></body></html>", 400)
        value = secrets.token_urlsafe(48)
        self._my_apps[value] = upn
        response = _redirect(back)
        response.set_cookie(MY_APPS_COOKIE, value, path="/", httponly=True)
        return response

    # -- ESTS entry points -------------------------------------------------------------------
    def _session_of(self, request: Request) -> tuple[str, _Session] | None:
        for name in (ESTSAUTHPERSISTENT, ESTSAUTH):
            value = request.cookies.get(name, "")
            session = self._sessions.get(value)
            if session is not None and session.upn in self.users:
                return value, session
        return None

    def _authorize(self, request: Request) -> Response:
        if request.args.get("client_id") != MY_APPS_CLIENT_ID:
            return self._error_page(None, "700016", app=request.args.get("client_id", ""))
        flow = self._new_flow("authorize")
        flow.state = request.args.get("state", "")
        flow.nonce = request.args.get("nonce", "")
        found = self._session_of(request)
        if found is not None:
            flow.upn, flow.session = found[1].upn, found[0]
            return self._complete(flow, self.users[flow.upn], None)
        return self._sign_in_page(flow)

    def _app_id_of(self, issuer: str) -> str | None:
        for user in self.users.values():
            for app_id in user.apps:
                app = user.app(app_id)
                if issuer == app_id or (app is not None and issuer == app.identifier):
                    return app_id
        return issuer if issuer in self.extra_apps else None

    def _saml2(self, request: Request, tenant: str) -> Response:
        if tenant != self.tenant_id.lower():
            return self._error_page(None, "90002", tenant=tenant)
        issuer = _request_issuer(request.args.get("SAMLRequest", ""))
        if issuer is None:
            return self._error_page(None, "750054", 400)
        app_id = self._app_id_of(issuer)
        if app_id is None:
            return self._error_page(None, "700016", app=issuer)
        flow = self._new_flow("saml2")
        flow.app_id = app_id
        flow.relay_state = request.args.get("RelayState", "")
        found = self._session_of(request)
        if found is None:
            return self._sign_in_page(flow)
        value, session = found
        flow.upn, flow.session, flow.mfa_done = session.upn, value, session.mfa_done
        user = self.users[session.upn]
        if user.methods and not session.mfa_done:
            flow.steps = deque(["mfa", "done"])  # the app's policy asks for the second factor
            return self._advance(flow)
        return self._complete(flow, user, None)

    def _credential_type(self, request: Request, body: Mapping[str, Any]) -> Response:
        username = _field(body, "username")
        flow = self._flow_of(_field(body, "flowToken"))
        if flow is None:  # a spent, foreign or missing flow token
            return self._json_error("flowToken", "50089")
        if not self._api_canary_ok(flow, request):
            return self._json_error("canary")
        if _field(body, "originalRequest") != flow.ctx:
            return self._json_error("originalRequest")
        user = self.users.get(username.lower())
        domain = username.rpartition("@")[2].lower()
        credentials: dict[str, Any] = {
            "PrefCredential": 1,
            "HasPassword": True,
            "RemoteNgcParams": None,
            "FidoParams": None,
            "SasParams": None,
            "CertAuthParams": None,
            "GoogleParams": None,
            "FacebookParams": None,
        }
        domain_type = 3
        if domain in self.federated_domains:
            domain_type = 4
            credentials["PrefCredential"] = 4
            credentials["FederationRedirectUrl"] = self._federation_redirect(username, flow)
        answer = {
            "Username": username,
            "Display": username,
            "IfExistsResult": 0 if user is not None or domain_type == 4 else 1,
            "IsUnmanaged": False,
            "ThrottleStatus": 0,
            "Credentials": credentials,
            "EstsProperties": {"UserTenantBranding": None, "DomainType": domain_type},
            "FlowToken": self._issue(flow, keep=True),
            "IsSignupDisallowed": True,
            "apiCanary": flow.api_canary,
        }
        return _json(answer)

    def _federation_redirect(self, username: str, flow: _Flow | None) -> str:
        wctx = f"LoginOptions=3&estsredirect=2&estsrequest={flow.ctx if flow else ''}"
        query = urlencode(
            {"username": username, "wa": "wsignin1.0", "wtrealm": WTREALM, "wctx": wctx}
        )
        return f"{self.federation_url}?{query}"

    @staticmethod
    def _json_error(name: str, code: str = "90100") -> Response:
        text = ERROR_TEXTS[code].format(name=name)
        answer = {"Success": False, "ErrCode": int(code), "Message": f"AADSTS{code}: {text}"}
        return _json(answer, 400)

    def _posted_flow(self, body: Mapping[str, Any], stage: str) -> _Flow | Response:
        """The flow a form POST continues, at ``stage`` and with the page's canary; else the
        error page."""
        flow = self._flow_of(_field(body, FLOW_TOKEN_NAME))
        if flow is None:
            return self._error_page(None, "50089")
        if flow.stage == "mfa":
            return self._error_page(flow, "50074")
        if flow.stage != stage:
            return self._error_page(flow, "50089")
        if not self._canary_ok(flow, _field(body, "canary")):
            return self._error_page(flow, "90100", 400, name="canary")
        return flow

    def _password(self, body: Mapping[str, Any]) -> Response:
        flow = self._posted_flow(body, "username")
        if isinstance(flow, Response):
            return flow
        if _field(body, "ctx") != flow.ctx:
            return self._error_page(flow, "90100", 400, name="ctx")
        username = (_field(body, "loginfmt") or _field(body, "login")).strip()
        flow.upn = username.lower()
        if username.rpartition("@")[2].lower() in self.federated_domains:
            return _redirect(self._federation_redirect(username, flow))  # not Entra's password
        user = self.users.get(username.lower())
        if user is None:
            return self._sign_in_page(flow, "50034")
        if user.locked:
            return self._sign_in_page(flow, "50053")
        if not hmac.compare_digest(_field(body, "passwd").encode(), user.password.encode()):
            return self._sign_in_page(flow, "50126")
        if user.disabled:
            return self._sign_in_page(flow, "50057")
        return self._signed_in(flow, user)

    def _kmsi(self, body: Mapping[str, Any]) -> Response:
        flow = self._posted_flow(body, "kmsi")
        if isinstance(flow, Response):
            return flow
        return self._advance(flow, persistent=_field(body, "LoginOptions") == "1")

    # -- second factor -----------------------------------------------------------------------
    def _sas_answer(
        self, flow: _Flow | None, result: str, *, method: str = "", mfa: _Mfa | None = None
    ) -> Response:
        message, err_code = RESULTS.get(result, ("", 0))
        success = result == "Success"
        answer = {
            "Success": success,
            "ResultValue": result,
            "Message": message or None,
            "AuthMethodId": method,
            "ErrCode": err_code,
            "Retry": result == "AuthenticationPending",
            "FlowToken": self._issue(flow) if flow is not None else None,
            "Ctx": flow.ctx if flow is not None else None,
            "SessionId": mfa.session_id if mfa is not None else None,
            "CorrelationId": flow.correlation_id if flow is not None else str(uuid.uuid4()),
            "Timestamp": datetime.fromtimestamp(self.clock(), tz=timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "Entropy": mfa.entropy if mfa is not None else 0,
        }
        return _json(answer)

    def _sas_flow(self, request: Request, body: Mapping[str, Any]) -> _Flow | Response:
        flow = self._flow_of(_field(body, "FlowToken"))
        if flow is None or flow.stage != "mfa":
            message = "AADSTS50089: " + ERROR_TEXTS["50089"]
            answer = {"Success": False, "ResultValue": "InvalidSession", "Message": message}
            answer.update(ErrCode=50089, Retry=False, FlowToken=None)
            return _json(answer)
        if not self._api_canary_ok(flow, request):
            return self._json_error("canary")
        if _field(body, "Ctx") != flow.ctx:  # the page's sCtx, then each answer's Ctx
            return self._json_error("Ctx")
        return flow

    def _begin_auth(self, request: Request, body: Mapping[str, Any]) -> Response:
        flow = self._sas_flow(request, body)
        if isinstance(flow, Response):
            return flow
        wanted = _field(body, "AuthMethodId")
        method = self.users[flow.upn].method(wanted)
        if method is None:
            return self._sas_answer(flow, "AuthMethodNotOffered", method=wanted)
        if method.begin_error:
            return self._sas_answer(flow, method.begin_error, method=method.id)
        if method.id not in PUSH_METHODS | CODE_METHODS:
            return self._sas_answer(flow, "AuthMethodNotSupported", method=method.id)
        mfa = _Mfa(str(uuid.uuid4()), method, self.clock())
        if method.id == "PhoneAppNotification":
            mfa.entropy = 10 + secrets.randbelow(90)  # number matching: always on
            self._entropies.append(mfa.entropy)
        if method.id == "OneWaySMS":
            mfa.sms_code = self._note_code(f"{secrets.randbelow(10**6):06d}", to=flow.upn)
            if self.on_sms is not None:
                self.on_sms(flow.upn, mfa.sms_code)
        flow.mfa = mfa
        return self._sas_answer(flow, "Success", method=method.id, mfa=mfa)

    def _end_auth(self, request: Request, body: Mapping[str, Any]) -> Response:
        flow = self._sas_flow(request, body)
        if isinstance(flow, Response):
            return flow
        mfa = flow.mfa
        if mfa is None or mfa.closed or _field(body, "SessionId") != mfa.session_id:
            return self._sas_answer(flow, "InvalidSession", method=_field(body, "AuthMethodId"))
        result = self._factor_result(flow.upn, mfa, _field(body, "AdditionalAuthData").strip())
        if result == "Success":
            flow.mfa_done = True
            flow.ctx = self._note_secret("rQQIARAA" + secrets.token_urlsafe(48))
        mfa.closed = result not in RETRYABLE
        return self._sas_answer(flow, result, method=mfa.method.id, mfa=mfa)

    def _factor_result(self, upn: str, mfa: _Mfa, code: str) -> str:
        method = mfa.method
        if method.id in PUSH_METHODS:
            mfa.polls += 1
            if method.push == "never":
                return "AuthenticationPending"
            if (self.clock() - mfa.started) * 1000 >= self.polling_timeout_ms:
                return "PhoneAppNoResponse"
            if mfa.polls >= method.respond_after:
                return {
                    "approve": "Success",
                    "deny": "PhoneAppDenied",
                    "timeout": "PhoneAppNoResponse",
                    "fraud": "PhoneAppFraudReported",
                }[method.push]
            return "AuthenticationPending"
        sms = method.id == "OneWaySMS"
        if sms:
            right = bool(code) and hmac.compare_digest(code.encode(), mfa.sms_code.encode())
        else:
            # a used code is refused as a wrong one is (OathCodeIncorrect)
            secret = method.totp_secret
            right = (
                bool(secret)
                and self._spent_codes.check(upn, secret or "", code, self.clock()) == "ok"
            )
        if right:
            return "Success"
        mfa.attempts += 1
        if mfa.attempts >= self.max_code_attempts:
            if sms:
                return "SMSAuthFailedMaxAllowedCodeRetryReached"
            return "OathCodeFailedMaxAllowedRetryReached"
        return "SMSAuthFailedWrongCodeEntered" if sms else "OathCodeIncorrect"

    def _process_auth(self, body: Mapping[str, Any]) -> Response:
        flow = self._flow_of(_field(body, FLOW_TOKEN_NAME))
        if flow is None or flow.stage != "mfa":
            return self._error_page(flow, "50089")
        if not self._canary_ok(flow, _field(body, "canary")):
            return self._error_page(flow, "90100", 400, name="canary")
        if _field(body, "request") != flow.ctx:
            return self._error_page(flow, "90100", 400, name="request")
        if _field(body, "login").strip().lower() != flow.upn:  # the page's sPOST_Username
            return self._error_page(flow, "90100", 400, name="login")
        proven = flow.mfa.method.id if flow.mfa is not None else ""
        if flow.mfa_done and _field(body, "mfaAuthMethod") != proven:
            return self._error_page(flow, "90100", 400, name="mfaAuthMethod")
        if not flow.mfa_done:
            return self._error_page(flow, "500121")
        return self._advance(flow)

    def _skip_registration(self, request: Request) -> Response:
        flow = self._flows.get(self._skips.pop(request.args.get("skip", ""), ""))
        if flow is None or flow.stage != "proofup":
            return self._error_page(None, "50089")
        return self._advance(flow)

    # -- the federated IdP (a minimal AD FS forms page) --------------------------------------
    def _adfs(self, request: Request, body: Mapping[str, Any]) -> Response:
        """AD FS's forms sign-in; its ``MSISAuth`` session (the user it signed in, the one
        asked for) answers a GET with the token straight away, as AD FS's single sign-on."""
        wctx = request.args.get("wctx", "")
        username = request.args.get("username", "")
        if request.method == "GET":
            upn = self._adfs_sessions.get(request.cookies.get(ADFS_COOKIE, ""))
            if upn is not None and upn == username.lower():
                return self._adfs_token(upn, wctx)
            return self._adfs_page(request, username)
        username = _field(body, "UserName")
        user = self.users.get(username.lower())
        federated = username.rpartition("@")[2].lower() in self.federated_domains
        right = user is not None and hmac.compare_digest(
            _field(body, "Password").encode(), user.password.encode()
        )
        if (
            _field(body, "AuthMethod") != "FormsAuthentication"
            or not federated
            or user is None
            or not right
        ):
            return self._adfs_page(request, username, INCORRECT_ADFS)
        session = self._note_cookie(secrets.token_urlsafe(32))
        self._adfs_sessions[session] = user.upn.lower()
        response = self._adfs_token(user.upn.lower(), wctx)
        # as AD FS sets it: on its own host only (no Domain), under /adfs, a session cookie
        response.set_cookie(ADFS_COOKIE, session, path="/adfs", httponly=True)
        return response

    def _adfs_token(self, upn: str, wctx: str) -> Response:
        """The auto-post form carrying a WS-Federation token for ``upn`` back to Entra ID."""
        token_id = self._note_secret("_" + secrets.token_hex(16))
        self._wsfed[token_id] = upn
        wresult = (
            '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/'
            f'trust"><t:RequestedSecurityToken><saml:Assertion AssertionID="{token_id}" '
            'xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" /></t:RequestedSecurityToken>'
            "</t:RequestSecurityTokenResponse>"
        )
        fields = {"wa": "wsignin1.0", "wresult": wresult, "wctx": wctx}
        return _html(_hidden_form(f"{self.base_url}/login.srf", fields))

    @staticmethod
    def _adfs_page(request: Request, username: str, error: str = "") -> Response:
        action = html.escape(f"{request.path}?{request.query_string.decode()}")
        text = (
            "<!DOCTYPE html><html><head><title>Sign In</title></head><body>"
            '<div id="loginArea"><form method="post" id="loginForm" autocomplete="off" '
            f'novalidate="novalidate" action="{action}">'
            f'<div id="error" class="fieldMargin error smallText"><label id="errorText" for="">'
            f"{html.escape(error)}</label></div>"
            '<input id="userNameInput" name="UserName" type="email" '
            f'value="{html.escape(username)}" autocomplete="off" />'
            '<input id="passwordInput" name="Password" type="password" autocomplete="off" />'
            '<input id="kmsiInput" type="checkbox" name="Kmsi" value="true" />'
            '<input id="optionForms" type="hidden" name="AuthMethod" '
            'value="FormsAuthentication"/>'
            '<span id="submitButton" class="submit" tabindex="4" role="button">Sign in</span>'
            "</form></div></body></html>"
        )
        return _html(text)

    def _wsfed_return(self, body: Mapping[str, Any]) -> Response:
        match = re.search(r'AssertionID="([^"]+)"', _field(body, "wresult"))
        upn = self._wsfed.pop(match.group(1), None) if match else None
        ctx = _field(body, "wctx").rpartition("estsrequest=")[2].partition("&")[0]
        flow = next((f for f in self._flows.values() if ctx and f.ctx == ctx), None)
        if upn is None or flow is None or flow.stage != "username":
            return self._error_page(flow, "50089")
        return self._signed_in(flow, self.users[upn])


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


Emulator = AzureAdEmulator

DEMO_APP_ID = "8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f"


def main(argv: Sequence[str] | None = None) -> None:
    demo = Demo("Run the Entra ID emulator with demo users.", port=8710, provider="AzureAD")
    args = demo.parse(argv)
    apps = {DEMO_APP_ID: demo.roles}
    users = [
        User("push@northwind.example", "demo-password", [Method("PhoneAppNotification")], apps),
        User(
            "otp@northwind.example",
            "demo-password",
            [Method("PhoneAppOTP", totp_secret=demo.secret), Method("OneWaySMS", default=True)],
            apps,
        ),
        User("plain@northwind.example", "demo-password", apps=apps),
    ]

    def texted(upn: str, code: str) -> None:
        print(f"SMS to {upn}: {code}", flush=True)

    with AzureAdEmulator(users, port=args.port, on_sms=texted) as emu:
        demo.serve(
            f"url:      {emu.url}\napp_id:   {DEMO_APP_ID}\npassword: demo-password",
            "users:    push@ (Authenticator push, approved on the 2nd poll),",
            "          otp@ (SMS by default, or TOTP), plain@ (no MFA)",
            f"TOTP secret of otp@: {demo.secret}",
        )


if __name__ == "__main__":
    main()
