"""What the Ping emulators (:mod:`tests.emulators.ping`) share: users and their PingID
devices, the words the products answer with, the state of each login across the three hosts,
and the base of the three servers (own loopback address each, redacted request log, forced
failures, secrets recorded).

Words marked *(assumed)* are not in the protocol page's sources
(shared/protocols/ping.md): a client must match those pages by structure, not wording.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import Failure
from samljit.tools.sandbox.response import RoleGrant
from tests.emulators.common import totp_at
from tests.emulators.formidp import MASK, FormIdp, FormUser, render
from tests.emulators.pingid_form import WRONG_PASSCODE

AWS_SIGNIN = "https://signin.aws.amazon.com/saml"

# PingFederate (pingfederate-messages.properties, via the protocol page)
BAD_CREDENTIALS = "We didn't recognize the username or password you entered. Please try again."
ACCOUNT_LOCKED = "Your account is locked. Please contact your system administrator."
AUTHN_FAILED = "Authentication Failed"  # the "Sign On Error" page
NO_CONNECTION = "Please contact your system administrator for assistance."  # (assumed) pairing
# PingID (the passcode text is the protocol page's example; the others are *(assumed)*)
PASSCODE_WRONG = WRONG_PASSCODE
PASSCODE_LOCKED = "Too many failed attempts. Authentication has been cancelled."
PUSH_DENIED = "Authentication was denied."
PUSH_TIMED_OUT = "Authentication timed out. Please try again."
PINGID_INVALID = "The request is not valid. Please try again."
PINGID_EXPIRED = "Your session has expired. Please try again."
# PingOne *(assumed)*
PINGONE_ERROR = "The request could not be completed."

# PingID's push statuses (``TIMEOUT``, ``DEVICE_CLAIM_TIMEOUT``, ``OK``, ``ASYNC_AUTH_WAIT``
# are saml2aws's; ``AUTH_DENIED`` is *(assumed)*)
WAIT, OK, TIMEOUT, CLAIM_TIMEOUT, DENIED = (
    "ASYNC_AUTH_WAIT",
    "OK",
    "TIMEOUT",
    "DEVICE_CLAIM_TIMEOUT",
    "AUTH_DENIED",
)

DeviceKind = Literal["mobile-phone", "desktop", "sms", "email", "voice", "yubikey"]
#: What the user does when a push reaches the phone: ``approve``; ``deny``; ``wrong-number``
#: (picks another number than the page's: PingID denies); ``timeout`` / ``claim-timeout``
#: (PingID gives up: ``TIMEOUT`` / ``DEVICE_CLAIM_TIMEOUT``) after ``push_after`` polls;
#: ``never`` (nothing happens until ``push_timeout`` seconds of the clock have passed).
PushBehaviour = Literal["approve", "deny", "wrong-number", "timeout", "claim-timeout", "never"]
MODHEX = "cbdefghijklnrtuv"
SECRET_FIELDS = frozenset(
    {
        "pf.pass",
        "password",
        "otp",
        "ppm_request",
        "ppm_response",
        "csrftoken",
        "samlresponse",
        "samlrequest",
        "relaystate",
    }
)


def _device_id() -> str:
    return str(secrets.randbelow(9 * 10**18) + 10**18)


def yubikey_otp(public_id: str = "ccccccbtrhvu") -> str:
    """A fresh 44-character YubiKey OTP (modhex): the key's 12-character public id, then 32
    characters that change on every touch."""
    return public_id + "".join(secrets.choice(MODHEX) for _ in range(32))


@dataclass
class Device:
    """A PingID device. ``mobile-phone``: the PingID app (push, or its passcode from
    ``totp_secret``); ``desktop``: the PingID desktop app's passcode (``totp_secret``);
    ``sms``/``email``/``voice``: PingID sends a code when the device's page is shown
    (:attr:`PingEmulators.sent_codes`); ``yubikey``: one of ``yubikey_codes``, each once.
    ``number``: the number to match shown on the push page."""

    name: str
    kind: DeviceKind = "mobile-phone"
    totp_secret: str | None = field(default=None, repr=False)
    yubikey_codes: Sequence[str] = field(default=(), repr=False)
    push: PushBehaviour = "approve"
    push_after: int = 2
    number: int | None = None
    id: str = field(default_factory=_device_id)


@dataclass
class PingUser(FormUser):
    """A PingFederate user; PingID is asked for when ``devices`` is not empty. ``default``
    names the default device (else the first); ``choose_device``: PingID shows the device
    list first (when there are several devices); ``locked``: PingFederate refuses the
    account."""

    devices: Sequence[Device] = ()
    default: str | None = None
    choose_device: bool = False
    locked: bool = False

    def default_device(self) -> Device:
        named = [d for d in self.devices if d.name == self.default]
        return (named or list(self.devices))[0]

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)


@dataclass
class AuthnRequest:
    """PingOne's SAMLRequest to PingFederate, as PF keeps it for its answer."""

    request_id: str
    acs: str
    relay_state: str


@dataclass
class Login:
    """One PingFederate transaction: its resume id (the form action's ``/idp/<id>/…``) and
    how far it got."""

    id: str
    kind: Literal["startSSO", "SSO"]
    authn: AuthnRequest | None = None
    username: str = ""  # identifier-first: the name posted on the first page
    user: PingUser | None = None
    ppm_request: str = ""
    ppm_response: str = ""
    done: bool = False


@dataclass
class PingIdAuth:
    """One PingID authentication (from ``ppm_request`` to ``ppm_response``)."""

    login: Login
    session: str
    csrf: str
    device: Device
    page: Literal["devices", "push", "passcode"] = "push"
    push_sent_at: float | None = None
    polls: int = 0
    status: str = WAIT
    sent_code: str | None = None
    failures: int = 0
    finished: bool = False


@dataclass
class Shared:
    """The state the three servers share (held under :attr:`lock`)."""

    clock: Callable[[], float]
    users: dict[str, PingUser]
    lock: threading.RLock = field(default_factory=threading.RLock)
    pf_url: str = ""
    pingid_url: str = ""
    pingone_url: str = ""
    account_id: str = "4e1f6f36-8c2b-4a9e-9f55-0c9d1b6a7e21"
    logins: dict[str, Login] = field(default_factory=dict)
    auths: list[PingIdAuth] = field(default_factory=list)
    pf_sessions: dict[str, str] = field(default_factory=dict)
    pingone_sessions: dict[str, str] = field(default_factory=dict)
    # PF's Responses to PingOne not yet consumed: value -> (user, relay state)
    to_pingone: dict[str, tuple[PingUser, str]] = field(default_factory=dict)
    used_codes: set[tuple[str, str]] = field(default_factory=set)
    secrets: list[str] = field(default_factory=list)
    sent_codes: list[tuple[str, str]] = field(default_factory=list)
    pushes: list[tuple[str, float]] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)

    def find(self, username: str) -> PingUser | None:
        return self.users.get(username.strip().lower())

    def code_ok(self, device: Device, code: str) -> bool:
        """A passcode right for ``device`` now and never used before (then spent)."""
        code = code.strip()
        if not code or (device.id, code) in self.used_codes:
            return False
        if device.kind == "yubikey":
            good = code in device.yubikey_codes
        elif device.kind in ("sms", "email", "voice"):
            good = any(d == device.id and c == code for d, c in self.sent_codes)
        else:
            now = self.clock()
            secret = device.totp_secret or ""
            good = bool(secret) and code in {totp_at(secret, now + 30 * s) for s in (-1, 0, 1)}
        if good:
            self.used_codes.add((device.id, code))
        return good


def jwt_like() -> str:
    """An opaque signed-JWT-looking bearer token (``eyJhbGciOi…``) as PingFederate and
    PingID exchange them."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"jti": secrets.token_hex(16), "iat": int(time.time())}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(64)}"


def resume_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(5))


class PingServer(FormIdp):
    """One Ping host on its own loopback address (``127.0.0.N``: cookies are per host, as
    between the real hosts). Subclasses implement :meth:`dispatch`; it runs under the shared
    lock. ``fail_next(prefix, status, body=text)`` answers ``text`` (HTML) with ``status``."""

    host = "127.0.0.1"

    def __init__(self, shared: Shared, *, port: int = 0) -> None:
        super().__init__((), port=port)
        self.users = shared.users  # type: ignore[assignment]
        self.shared = shared

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        with self.shared.lock, self._lock:
            self._record(request.method, request.path)
            if request.method == "POST":
                pairs = list(request.form.items(multi=True))
                masked = [(k, MASK if k.lower() in SECRET_FIELDS and v else v) for k, v in pairs]
                self._posts.append((request.path, masked))
            failure = self._next_failure(request.path)
            response = self._forced(failure) if failure else self.dispatch(request)
        return response(environ, start_response)

    def _forced(self, failure: Failure) -> Response:
        body = (
            failure.body
            if failure.body is not None
            else f"<html><body>{failure.status}</body></html>"
        )
        text = body.decode() if isinstance(body, bytes) else str(body)
        return self.page(text, failure.status, failure.headers)

    # -- secrets -----------------------------------------------------------------------------
    def secret(self, value: str) -> str:
        """Record a secret handed out other than a cookie or SAMLResponse: in
        :attr:`Shared.secrets`, and in the process registry (``_note_secret``)."""
        self.shared.secrets.append(value)
        return self._note_secret(value)

    def code(self, device: Device, value: str) -> str:
        """Record a one-time code sent to the user (in :attr:`Shared.sent_codes` too)."""
        self.shared.sent_codes.append((device.id, value))
        return self._note_code(value)

    def signed_response(
        self,
        user: PingUser,
        *,
        issuer: str,
        roles: Sequence[RoleGrant],
        audience: str = "urn:amazon:webservices",
        destination: str = AWS_SIGNIN,
    ) -> str:
        """A SAMLResponse, Response and Assertion signed (RSA-SHA256), noted as issued."""
        duration = user.session_duration if roles else None
        return self._signed_response(
            issuer,
            user.username,
            roles,
            duration,
            audience=audience,
            destination=destination,
            target="both",
        )

    def post_page(
        self, action: str, *, saml_response: str = "", saml_request: str = "", relay: str = ""
    ) -> Response:
        """PingFederate's auto-post template (``form.autopost.template.html``)."""
        return self.page(
            render(
                "pingfed-post.html",
                action=action,
                saml_response=saml_response,
                saml_request=saml_request,
                relay_state=relay,
            )
        )
