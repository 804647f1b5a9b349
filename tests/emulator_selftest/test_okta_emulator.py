"""The Okta emulator follows shared/protocols/okta.md; driven with plain requests."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from fido2.client import DefaultClientDataCollector, Fido2Client
from fido2.webauthn import PublicKeyCredentialDescriptor, PublicKeyCredentialRequestOptions
from lxml import etree
from signxml.verifier import XMLVerifier

from samljit.idp.fido import rp_id_allowed
from samljit.tools.sandbox.response import ROLE_ATTRIBUTE, RoleGrant
from tests.emulator_selftest import CERT, SAML, SECRET, EmulatorClock, starter
from tests.emulators.common import totp_at
from tests.emulators.okta import (
    APP_LOCKED_TEXT,
    APPID_UNSUPPORTED_CAUSE,
    DT_COOKIE,
    GRANT_DEVICE,
    GRANT_EXCHANGE,
    IDX_COOKIE,
    INVALID_SSO_TOKEN_TEXT,
    LOGIN_PAGE_TEXT,
    NOT_ASSIGNED_TEXT,
    REDACTED,
    REPLAYED_CAUSE,
    SID_COOKIE,
    STEP_UP_TEXT,
    TYPE_ACCESS_TOKEN,
    TYPE_ID_TOKEN,
    TYPE_WEB_SSO,
    App,
    Factor,
    OidcClient,
    OktaEmulator,
    RateLimit,
    User,
    call_factor,
    duo_factor,
    email_factor,
    okta_html_attr,
    okta_js_string,
    push_factor,
    question_factor,
    sms_factor,
    token_factor,
    totp_factor,
    webauthn_factor,
    yubikey_factor,
)
from tests.support.softkey import SoftKey, SoftKeyStore, b64, enroll, unb64

APP = "0oa1aws2app3id4"
OTHER_APP = "0oa9other8app7"
CLIENT = "0oa1native2cli3"
DEV = RoleGrant(
    "arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/Okta"
)
OPS = RoleGrant(
    "arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/Okta"
)
ERROR_KEYS = {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
START = 1_748_772_000.0
PW = "pw"  # every user's password but plain@'s


def users() -> list[User]:
    """Fresh users per emulator (factors carry state such as spent YubiKey OTPs)."""
    aws = {APP: [DEV, OPS]}
    return [
        User("plain@acme.example", "plain-pw", apps=aws),
        User("totp@acme.example", "pw", factors=[totp_factor(SECRET)], apps=aws),
        User("google@acme.example", "pw", factors=[totp_factor(SECRET, "GOOGLE")], apps=aws),
        User("push@acme.example", "pw", factors=[push_factor()], apps=aws),
        User("number@acme.example", "pw", factors=[push_factor(number=47, after=3)], apps=aws),
        User("twice@acme.example", "pw", factors=[push_factor(["deny", "accept"], after=1)]),
        User("never@acme.example", "pw", factors=[push_factor("never")]),
        User("sms@acme.example", "pw", factors=[sms_factor(code="654321")], apps=aws),
        User("call@acme.example", "pw", factors=[call_factor(code="111222")]),
        User("email@acme.example", "pw", factors=[email_factor()]),
        User("question@acme.example", "pw", factors=[question_factor("Blue")]),
        User("rsa@acme.example", "pw", factors=[token_factor(["13572468"])]),
        User("yubi@acme.example", "pw", factors=[yubikey_factor(["cccccc-otp-1", "cccccc-otp-2"])]),
        User("refused@acme.example", "pw", factors=[webauthn_factor()]),  # no key registered
        User(
            "u2f@acme.example",
            "pw",
            factors=[webauthn_factor("dTJm", u2f=True, app_id_extension="https://acme.example")],
        ),
        User("duo@acme.example", "pw", factors=[duo_factor()]),
        User(
            "phones@acme.example",
            "pw",
            factors=[push_factor(name="Phone A"), push_factor(name="Phone B"), totp_factor(SECRET)],
        ),
        User("locked@acme.example", "pw", locked_out=True),
        User("expired@acme.example", "pw", password_expired=True),
        User(
            "expired-mfa@acme.example",
            "pw",
            password_expired=True,
            factors=[totp_factor(SECRET)],
        ),
        User("warn@acme.example", "pw", password_warn=True, apps=aws),
        User("enroll@acme.example", "pw", mfa_enroll=True),
        User(
            "apps@acme.example",
            "pw",
            factors=[totp_factor(SECRET)],
            apps={
                "0oaStepUp": App([DEV], step_up=True),
                "0oaStepLink": App([DEV], step_up=True, step_up_page="link"),
                "0oaLocked": App([DEV], access_locked=True),
                "0oaShort": App([DEV], session_duration=None, relay_state="rs-1"),
            },
        ),
    ]


@pytest.fixture
def clock() -> EmulatorClock:
    return EmulatorClock(START)


@pytest.fixture
def make(clock: EmulatorClock, running: list[OktaEmulator]) -> Callable[..., OktaEmulator]:
    """A fresh emulator per call: its own users and state, on the test's clock."""
    return starter(OktaEmulator, users, running, clock=clock)


@pytest.fixture
def emu(make: Callable[..., OktaEmulator]) -> OktaEmulator:
    return make()


class Client:
    """One cookie jar; JSON calls with the headers the page asks for."""

    def __init__(self, emu: OktaEmulator) -> None:
        self.emu = emu
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "okta-selftest/1.0"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.emu.base_url}{path}"

    def post(
        self, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> requests.Response:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        return self.http.post(
            self.url(path), data=json.dumps(body), params=params, headers=headers, timeout=5
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=5, **kwargs)

    def form(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.http.post(self.url(path), data=data, timeout=5)

    def authn(self, login: str, password: str = PW, **extra: Any) -> requests.Response:
        return self.post("/api/v1/authn", {"username": login, "password": password, **extra})

    def mfa(self, login: str) -> tuple[str, list[dict[str, Any]]]:
        reply = self.authn(login)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert answer["status"] == "MFA_REQUIRED"
        return answer["stateToken"], answer["_embedded"]["factors"]

    def verify(
        self, factor: dict[str, Any], state: str, params: dict[str, str] | None = None, **body: Any
    ) -> requests.Response:
        return self.post(factor["_links"]["verify"]["href"], {"stateToken": state, **body}, params)


def assert_error(reply: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    assert set(body) == ERROR_KEYS
    assert body["errorCode"] == code
    assert body["errorLink"] == code
    assert body["errorId"].startswith("oae")
    assert all(set(c) == {"errorSummary"} for c in body["errorCauses"])
    return body


class Inputs(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.forms: list[dict[str, str | None]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            found = dict(attrs)
            self.inputs[found.get("name") or ""] = found.get("value") or ""
        if tag == "form":
            self.forms.append(dict(attrs))


def saml_of(page: str) -> Any:
    """The page's SAMLResponse, checked to be the entity-encoded appForm and signed."""
    assert '<form id="appForm" action="https&#x3a;&#x2f;&#x2f;signin.aws.amazon.com&#x2f;saml"' in (
        page
    )
    raw = re.search(r'name="SAMLResponse" type="hidden" value="([^"]*)"', page)
    assert raw is not None
    assert "+" not in raw.group(1) and "=" not in raw.group(1)  # &#x2b; and &#x3d;
    parsed = Inputs(page)
    assert parsed.forms[0]["action"] == "https://signin.aws.amazon.com/saml"
    assert "RelayState" in parsed.inputs
    assert parsed.inputs["SAMLResponse"] == html.unescape(raw.group(1))
    root = etree.fromstring(base64.b64decode(parsed.inputs["SAMLResponse"]))
    XMLVerifier().verify(etree.tostring(root), x509_cert=CERT)
    return root


def roles_of(root: Any) -> list[str]:
    path = f".//{{{SAML}}}Attribute[@Name='{ROLE_ATTRIBUTE}']/{{{SAML}}}AttributeValue"
    return [v.text for v in root.iterfind(path)]


def js_unescape(text: str) -> str:
    return re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def script_state_token(page: str) -> str:
    found = re.search(r"var stateToken = '([^']*)';", page)
    assert found is not None, page
    return js_unescape(found.group(1))


def session_token(client: Client, login: str, password: str = PW) -> str:
    reply = client.authn(login, password)
    assert reply.json()["status"] == "SUCCESS", reply.text
    token: str = reply.json()["sessionToken"]
    return token


def by_type(factors: list[dict[str, Any]], factor_type: str) -> dict[str, Any]:
    return next(f for f in factors if f["factorType"] == factor_type)


# -- section 1: primary authentication --------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"username": "plain@acme.example", "password": "wrong"},
        {"username": "nobody@acme.example", "password": "plain-pw"},
        {"username": "plain@acme.example"},
        {},
    ],
)
def test_bad_credentials(emu: OktaEmulator, body: dict[str, Any]) -> None:
    reply = Client(emu).post("/api/v1/authn", body)
    error = assert_error(reply, 401, "E0000004")
    assert error["errorSummary"] == "Authentication failed"
    assert error["errorCauses"] == []


def test_json_body_is_required(emu: OktaEmulator) -> None:
    client = Client(emu)
    reply = client.http.post(
        f"{emu.base_url}/api/v1/authn",
        data={"username": "plain@acme.example", "password": "plain-pw"},
        timeout=5,
    )
    assert_error(reply, 400, "E0000003")


def test_success_without_mfa(emu: OktaEmulator) -> None:
    reply = Client(emu).authn("plain@acme.example", "plain-pw", options={})
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["status"] == "SUCCESS"
    assert answer["sessionToken"]
    assert answer["expiresAt"] == "2025-06-01T10:05:00.000Z"  # START + 300 s
    user = answer["_embedded"]["user"]
    assert user["profile"]["login"] == "plain@acme.example"
    assert user["id"].startswith("00u")
    assert "stateToken" not in answer


def test_mfa_required_lists_factors(emu: OktaEmulator) -> None:
    reply = Client(emu).authn("phones@acme.example")
    answer = reply.json()
    assert answer["status"] == "MFA_REQUIRED"
    assert answer["stateToken"].startswith("00")
    assert answer["expiresAt"] == "2025-06-01T10:05:00.000Z"
    assert answer["_links"]["cancel"]["href"] == f"{emu.base_url}/api/v1/authn/cancel"
    assert answer["_embedded"]["user"]["profile"]["login"] == "phones@acme.example"
    factors = answer["_embedded"]["factors"]
    assert [(f["factorType"], f["provider"], f["vendorName"]) for f in factors] == [
        ("push", "OKTA", "OKTA"),
        ("push", "OKTA", "OKTA"),
        ("token:software:totp", "OKTA", "OKTA"),
    ]
    assert [f["profile"].get("name") for f in factors[:2]] == ["Phone A", "Phone B"]
    assert factors[0]["id"] != factors[1]["id"]  # two phones, two factors
    assert factors[0]["id"].startswith("opf")
    assert factors[0]["profile"]["credentialId"] == "phones@acme.example"
    for factor in factors:
        verify = factor["_links"]["verify"]
        assert verify["href"] == f"{emu.base_url}/api/v1/authn/factors/{factor['id']}/verify"
        assert verify["hints"] == {"allow": ["POST"]}


def test_factor_labels_follow_saml2aws() -> None:
    assert push_factor().label == "OKTA PUSH"
    assert totp_factor(SECRET, "GOOGLE").label == "GOOGLE TOKEN:SOFTWARE:TOTP"
    assert sms_factor().label == "OKTA SMS"
    assert yubikey_factor([]).label == "YUBICO TOKEN:HARDWARE"


def test_locked_out_is_401_unless_the_policy_shows_it(make: Callable[..., OktaEmulator]) -> None:
    hidden = make()
    assert_error(Client(hidden).authn("locked@acme.example"), 401, "E0000004")
    shown = make(show_lockout=True)
    answer = Client(shown).authn("locked@acme.example").json()
    assert answer["status"] == "LOCKED_OUT"
    assert answer["_links"]["next"]["name"] == "unlock"
    assert "stateToken" not in answer


def test_lockout_after_failed_attempts(make: Callable[..., OktaEmulator]) -> None:
    emu = make(show_lockout=True, lockout_after=3)
    client = Client(emu)
    for _ in range(3):
        assert_error(client.authn("plain@acme.example", "wrong"), 401, "E0000004")
    assert client.authn("plain@acme.example", "plain-pw").json()["status"] == "LOCKED_OUT"


def test_password_expired_without_factors(emu: OktaEmulator) -> None:
    answer = Client(emu).authn("expired@acme.example").json()
    assert answer["status"] == "PASSWORD_EXPIRED"
    assert answer["stateToken"]
    assert answer["_links"]["next"]["name"] == "changePassword"
    assert "sessionToken" not in answer


def test_password_expired_comes_after_mfa(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("expired-mfa@acme.example")
    reply = client.verify(factors[0], state, passCode=totp_at(SECRET, clock()))
    answer = reply.json()
    assert answer["status"] == "PASSWORD_EXPIRED"
    assert answer["_links"]["next"]["name"] == "changePassword"
    again = client.verify(factors[0], state, passCode=totp_at(SECRET, clock()))
    assert_error(again, 403, "E0000079")


def test_password_warn_only_when_asked(emu: OktaEmulator) -> None:
    client = Client(emu)
    plain = client.authn("warn@acme.example")
    assert plain.json()["status"] == "SUCCESS"
    options = {"multiOptionalFactorEnroll": False, "warnBeforePasswordExpired": True}
    warned = client.authn("warn@acme.example", options=options).json()
    assert warned["status"] == "PASSWORD_WARN"
    skip = warned["_links"]["skip"]
    assert skip["href"] == f"{emu.base_url}/api/v1/authn/skip"
    done = client.post(skip["href"], {"stateToken": warned["stateToken"]}).json()
    assert done["status"] == "SUCCESS"
    assert done["sessionToken"]


def test_mfa_enroll(emu: OktaEmulator) -> None:
    answer = Client(emu).authn("enroll@acme.example").json()
    assert answer["status"] == "MFA_ENROLL"
    factors = answer["_embedded"]["factors"]
    assert factors
    assert {f["status"] for f in factors} == {"NOT_SETUP"}


def test_wrong_state_operations(emu: OktaEmulator) -> None:
    client = Client(emu)
    expired = client.authn("expired@acme.example").json()
    assert_error(
        client.post("/api/v1/authn/skip", {"stateToken": expired["stateToken"]}), 403, "E0000079"
    )
    state, factors = client.mfa("totp@acme.example")
    other = client.mfa("push@acme.example")[1][0]
    wrong_user = client.verify(other, state)
    assert_error(wrong_user, 404, "E0000007")
    enroll = client.authn("enroll@acme.example").json()["stateToken"]
    assert_error(client.verify(factors[0], enroll, passCode="000000"), 403, "E0000079")


# -- state tokens -----------------------------------------------------------------------------
def test_state_token_expires(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("totp@acme.example")
    clock.now += 299
    bad = client.verify(factors[0], state, passCode="000000")
    assert_error(bad, 403, "E0000068")
    clock.now += 1
    late = client.verify(factors[0], state, passCode=totp_at(SECRET, clock()))
    assert assert_error(late, 401, "E0000011")["errorSummary"] == "Invalid token provided"
    assert_error(client.post("/api/v1/authn", {"stateToken": state}), 401, "E0000011")


def test_unknown_state_token(emu: OktaEmulator) -> None:
    client = Client(emu)
    _, factors = client.mfa("totp@acme.example")
    assert_error(client.verify(factors[0], "00bogus", passCode="1"), 401, "E0000011")
    assert_error(client.post("/api/v1/authn", {"stateToken": "00bogus"}), 401, "E0000011")


def test_resume_cancel_previous(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("sms@acme.example")
    challenge = client.verify(factors[0], state).json()
    assert challenge["status"] == "MFA_CHALLENGE"
    back = client.post(challenge["_links"]["prev"]["href"], {"stateToken": state}).json()
    assert back["status"] == "MFA_REQUIRED"
    resumed = client.post("/api/v1/authn", {"stateToken": state}).json()
    assert resumed["status"] == "MFA_REQUIRED"
    assert resumed["_embedded"]["factors"][0]["id"] == factors[0]["id"]
    cancelled = client.post("/api/v1/authn/cancel", {"stateToken": state})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "UNAUTHENTICATED"
    assert_error(client.verify(factors[0], state), 401, "E0000011")


# -- section 3: passcode factors --------------------------------------------------------------
@pytest.mark.parametrize("login", ["totp@acme.example", "google@acme.example"])
def test_totp(emu: OktaEmulator, clock: EmulatorClock, login: str) -> None:
    client = Client(emu)
    state, factors = client.mfa(login)
    code = totp_at(SECRET, clock())
    wrong = f"{(int(code) + 500000) % 1000000:06d}"
    error = assert_error(client.verify(factors[0], state, passCode=wrong), 403, "E0000068")
    assert error["errorSummary"] == "Invalid Passcode/Answer"
    assert error["errorCauses"] == [
        {"errorSummary": "Your passcode doesn't match our records. Please try again."}
    ]
    assert_error(client.verify(factors[0], state), 403, "E0000068")  # no passCode
    good = client.verify(factors[0], state, passCode=code).json()  # still usable
    assert good["status"] == "SUCCESS"
    assert good["sessionToken"]
    assert "factorResult" not in good
    assert_error(client.verify(factors[0], state, passCode=code), 403, "E0000079")


def test_totp_window_follows_the_clock(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("totp@acme.example")
    stale = totp_at(SECRET, clock() - 90)
    assert_error(client.verify(factors[0], state, passCode=stale), 403, "E0000068")
    previous_step = totp_at(SECRET, clock() - 30)
    assert client.verify(factors[0], state, passCode=previous_step).json()["status"] == "SUCCESS"


@pytest.mark.parametrize("login", ["totp@acme.example", "rsa@acme.example"])
def test_a_used_passcode_is_refused(emu: OktaEmulator, clock: EmulatorClock, login: str) -> None:
    """A passcode signs in once (Okta's PASSCODE_REPLAYED): a later sign-in with it gets
    E0000068 with Okta's words, and the transaction stays usable for a fresh code."""
    codes = {"totp@acme.example": totp_at(SECRET, clock()), "rsa@acme.example": "13572468"}
    first = Client(emu)
    state, factors = first.mfa(login)
    assert first.verify(factors[0], state, passCode=codes[login]).json()["status"] == "SUCCESS"
    again = Client(emu)
    state, factors = again.mfa(login)
    error = assert_error(again.verify(factors[0], state, passCode=codes[login]), 403, "E0000068")
    assert error["errorCauses"] == [{"errorSummary": REPLAYED_CAUSE}]
    if login == "totp@acme.example":
        fresh = totp_at(SECRET, clock() + 30)
        assert again.verify(factors[0], state, passCode=fresh).json()["status"] == "SUCCESS"


def test_rsa_token(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("rsa@acme.example")
    assert (factors[0]["factorType"], factors[0]["provider"]) == ("token", "RSA")
    assert_error(client.verify(factors[0], state, passCode="00000000"), 403, "E0000068")
    assert client.verify(factors[0], state, passCode="13572468").json()["status"] == "SUCCESS"


def test_yubikey_otps_are_single_use(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("yubi@acme.example")
    assert (factors[0]["factorType"], factors[0]["provider"]) == ("token:hardware", "YUBICO")
    assert client.verify(factors[0], state, passCode="cccccc-otp-1").json()["status"] == "SUCCESS"
    state, factors = client.mfa("yubi@acme.example")
    assert_error(client.verify(factors[0], state, passCode="cccccc-otp-1"), 403, "E0000068")
    assert client.verify(factors[0], state, passCode="cccccc-otp-2").json()["status"] == "SUCCESS"


def test_security_question(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("question@acme.example")
    assert factors[0]["profile"]["questionText"]
    error = assert_error(client.verify(factors[0], state, answer="red"), 403, "E0000068")
    assert error["errorCauses"][0]["errorSummary"].startswith("Your answer doesn't match")
    assert client.verify(factors[0], state, answer="blue").json()["status"] == "SUCCESS"


# -- section 3: SMS, call, email --------------------------------------------------------------
@pytest.mark.parametrize(
    ("login", "factor_type", "profile_key"),
    [
        ("sms@acme.example", "sms", "phoneNumber"),
        ("call@acme.example", "call", "phoneNumber"),
        ("email@acme.example", "email", "email"),
    ],
)
def test_code_factors(
    emu: OktaEmulator, clock: EmulatorClock, login: str, factor_type: str, profile_key: str
) -> None:
    client = Client(emu)
    state, factors = client.mfa(login)
    factor = factors[0]
    assert factor["factorType"] == factor_type
    assert profile_key in factor["profile"]
    sent = client.verify(factor, state)
    assert sent.status_code == 200
    answer = sent.json()
    assert set(answer) == {"stateToken", "expiresAt", "status", "_embedded", "_links"}
    assert answer["status"] == "MFA_CHALLENGE"
    assert answer["stateToken"] == state
    assert answer["_embedded"]["factor"]["id"] == factor["id"]
    assert answer["_embedded"]["user"] == {
        "id": answer["_embedded"]["user"]["id"],
        "profile": {"login": login},
    }
    links = answer["_links"]
    verify_href = factor["_links"]["verify"]["href"]
    assert links["next"]["name"] == "verify"
    assert links["next"]["href"] == verify_href
    assert links["resend"] == [
        {"name": factor_type, "href": f"{verify_href}/resend", "hints": {"allow": ["POST"]}}
    ]
    assert {"prev", "cancel"} <= set(links)
    code = emu.last_code(factor["id"])
    too_soon = client.post(links["resend"][0]["href"], {"stateToken": state})
    assert_error(too_soon, 429, "E0000047")
    assert too_soon.headers["X-Rate-Limit-Reset"] == str(int(START) + 30)
    clock.now += 30
    resent = client.post(links["resend"][0]["href"], {"stateToken": state})
    assert resent.json()["status"] == "MFA_CHALLENGE"
    assert len([c for f, c in emu.sent_codes if f == factor["id"]]) == 2
    code = emu.last_code(factor["id"])
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    error = assert_error(
        client.post(links["next"]["href"], {"stateToken": state, "passCode": wrong}),
        403,
        "E0000068",
    )
    assert error["errorCauses"][0]["errorSummary"].startswith("Your answer doesn't match")
    done = client.post(links["next"]["href"], {"stateToken": state, "passCode": code})
    assert done.json()["status"] == "SUCCESS"


def test_fixed_sms_code(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("sms@acme.example")
    assert_error(client.verify(factors[0], state, passCode="654321"), 403, "E0000068")  # unsent
    client.verify(factors[0], state)
    assert emu.last_code(factors[0]["id"]) == "654321"
    assert client.verify(factors[0], state, passCode="654321").json()["status"] == "SUCCESS"


# -- sections 3 and 6a: push ------------------------------------------------------------------
def start_push(client: Client, login: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    state, factors = client.mfa(login)
    factor = by_type(factors, "push")
    reply = client.verify(factor, state)
    assert reply.status_code == 200
    start = reply.json()
    assert start["status"] == "MFA_CHALLENGE"
    assert start["factorResult"] == "WAITING"
    assert "_embedded" not in start["_embedded"]["factor"]  # no number on the start answer
    assert start["_links"]["next"]["name"] == "poll"
    assert start["_links"]["next"]["href"] == factor["_links"]["verify"]["href"]
    assert start["_links"]["resend"][0]["name"] == "push"
    return state, factor, start


def poll(client: Client, start: dict[str, Any], state: str) -> dict[str, Any]:
    reply = client.post(start["_links"]["next"]["href"], {"stateToken": state})
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_push_accept(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, _factor, start = start_push(client, "push@acme.example")
    assert start["_embedded"]["factor"]["profile"]["name"] == "Ada's phone"
    first = poll(client, start, state)
    assert first["factorResult"] == "WAITING"
    assert "_embedded" not in first["_embedded"]["factor"]  # no number challenge
    approved = poll(client, start, state)
    assert approved["status"] == "SUCCESS"
    assert approved["sessionToken"]
    assert "factorResult" not in approved


def test_push_number_challenge(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, _factor, start = start_push(client, "number@acme.example")
    for _ in range(2):
        waiting = poll(client, start, state)
        assert waiting["status"] == "MFA_CHALLENGE"
        assert waiting["factorResult"] == "WAITING"
        challenge = waiting["_embedded"]["factor"]["_embedded"]["challenge"]
        assert challenge == {"correctAnswer": 47}
        assert "factors" not in waiting["_embedded"]  # `factor`, as the clients read it
    assert poll(client, start, state)["status"] == "SUCCESS"


@pytest.mark.parametrize(
    ("behaviour", "result"),
    [
        ("deny", "REJECTED"),
        ("expire", "TIMEOUT"),
        ("wrong-number", "REJECTED"),
        ("cancel", "CANCELLED"),
        ("error", "ERROR"),
        ("time-window", "TIME_WINDOW_EXCEEDED"),
    ],
)
def test_push_outcomes(make: Callable[..., OktaEmulator], behaviour: Any, result: str) -> None:
    emu = make(users=[User("p@acme.example", "pw", factors=[push_factor(behaviour, after=2)])])
    client = Client(emu)
    state, factor, start = start_push(client, "p@acme.example")
    waiting = poll(client, start, state)
    assert waiting["factorResult"] == "WAITING"
    has_number = "_embedded" in waiting["_embedded"]["factor"]
    assert has_number == (behaviour == "wrong-number")
    if has_number:
        assert waiting["_embedded"]["factor"]["_embedded"]["challenge"]["correctAnswer"] == 47
    ended = poll(client, start, state)
    assert ended["status"] == "MFA_CHALLENGE"
    assert ended["factorResult"] == result
    assert ended["_links"]["next"]["name"] == "verify"
    assert ended["_links"]["next"]["href"] == factor["_links"]["verify"]["href"]
    again = client.verify(factor, state).json()  # a new POST sends a new push
    assert again["factorResult"] == "WAITING"
    assert again["_links"]["next"]["name"] == "poll"
    assert emu.count("POST", f"/api/v1/authn/factors/{factor['id']}/verify") == 4


def test_push_behaviour_per_push(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, _factor, start = start_push(client, "twice@acme.example")
    assert poll(client, start, state)["factorResult"] == "REJECTED"
    resent = client.post(start["_links"]["resend"][0]["href"], {"stateToken": state}).json()
    assert resent["factorResult"] == "WAITING"
    assert poll(client, resent, state)["status"] == "SUCCESS"


def test_push_never_waits(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, _factor, start = start_push(client, "never@acme.example")
    for _ in range(10):
        clock.now += 1
        assert poll(client, start, state)["factorResult"] == "WAITING"


def test_push_polls_too_fast(make: Callable[..., OktaEmulator], clock: EmulatorClock) -> None:
    emu = make(push_min_interval=1.0)
    client = Client(emu)
    state, _factor, start = start_push(client, "push@acme.example")
    fast = client.post(start["_links"]["next"]["href"], {"stateToken": state})
    assert_error(fast, 429, "E0000047")
    assert fast.headers["X-Rate-Limit-Remaining"] == "0"
    assert fast.headers["X-Rate-Limit-Reset"] == str(int(START) + 1)
    clock.now += 1
    assert poll(client, start, state)["factorResult"] == "WAITING"
    clock.now += 1
    assert poll(client, start, state)["status"] == "SUCCESS"


def test_push_after_success_is_wrong_state(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, _factor, start = start_push(client, "push@acme.example")
    poll(client, start, state)
    assert poll(client, start, state)["status"] == "SUCCESS"
    late = client.post(start["_links"]["next"]["href"], {"stateToken": state})
    assert_error(late, 403, "E0000079")


# -- section 3: WebAuthn / U2F (verified with fido2.server) and Duo (unsupported) -------------
def client_data(nonce: str, origin: str, kind: str = "webauthn.get") -> str:
    data = {"type": kind, "challenge": nonce, "origin": origin}
    return base64.b64encode(json.dumps(data).encode()).decode()


def sign(store: SoftKeyStore, origin: str, nonce: str, credential: bytes) -> dict[str, str]:
    """The software key's assertion over ``nonce``, made by fido2's client, in Okta's shape."""
    client = Fido2Client(SoftKey(store), DefaultClientDataCollector(origin, verify=rp_id_allowed))
    options = PublicKeyCredentialRequestOptions(
        challenge=unb64(nonce),
        rp_id="127.0.0.1",
        allow_credentials=[PublicKeyCredentialDescriptor(type="public-key", id=credential)],
        user_verification="discouraged",
    )
    answer = client.get_assertion(options).get_response(0).response
    return {
        "clientData": b64(bytes(answer.client_data)),
        "authenticatorData": b64(bytes(answer.authenticator_data)),
        "signatureData": b64(bytes(answer.signature)),
    }


def test_webauthn_verifies_real_assertions(emu: OktaEmulator, tmp_path: Path) -> None:
    store = SoftKeyStore(tmp_path / "key.json")
    cred = enroll(store, rp_id="127.0.0.1", origin=emu.base_url)
    factor_def = webauthn_factor(cred.id_b64, public_key=cred.public_key)
    emu.add_user(User("key@acme.example", "pw", factors=[factor_def], apps={"0oaAws": []}))
    client = Client(emu)
    state, factors = client.mfa("key@acme.example")
    factor = factors[0]
    assert (factor["factorType"], factor["provider"]) == ("webauthn", "FIDO")

    def challenge() -> str:
        answer = client.verify(factor, state).json()
        assert answer["status"] == "MFA_CHALLENGE"
        embedded = answer["_embedded"]["factor"]
        assert embedded["profile"]["credentialId"] == cred.id_b64
        assert "extensions" not in embedded["_embedded"]["challenge"]
        assert answer["_links"]["next"]["href"] == factor["_links"]["verify"]["href"]
        nonce: str = embedded["_embedded"]["challenge"]["challenge"]
        assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", nonce)
        return nonce

    nonce = challenge()
    other_nonce = sign(store, emu.base_url, b64(b"another nonce, 16+ bytes"), cred.id)
    assert_error(client.verify(factor, state, **other_nonce), 403, "E0000068")
    nonce = challenge()
    forged = dict(sign(store, emu.base_url, nonce, cred.id))
    forged["clientData"] = client_data(nonce, "https://evil.example")  # signed for another
    assert_error(client.verify(factor, state, **forged), 403, "E0000068")
    nonce = challenge()
    good = sign(store, emu.base_url, nonce, cred.id)
    assert client.verify(factor, state, **good).json()["status"] == "SUCCESS"
    replayed = client.verify(factor, state, **good)
    assert replayed.status_code == 403  # the transaction moved on; the nonce is spent


def test_webauthn_counter_must_go_up(emu: OktaEmulator, tmp_path: Path) -> None:
    store = SoftKeyStore(tmp_path / "key.json")
    cred = enroll(store, rp_id="127.0.0.1", origin=emu.base_url)
    factor_def = webauthn_factor(cred.id_b64, public_key=cred.public_key, sign_count=10**6)
    emu.add_user(User("cloned@acme.example", "pw", factors=[factor_def]))
    client = Client(emu)
    state, factors = client.mfa("cloned@acme.example")
    nonce = client.verify(factors[0], state).json()["_embedded"]["factor"]["_embedded"]
    signed = sign(store, emu.base_url, nonce["challenge"]["challenge"], cred.id)
    refused = assert_error(client.verify(factors[0], state, **signed), 403, "E0000068")
    assert "counter went backwards" in json.dumps(refused)


def test_webauthn_refused_and_u2f(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("refused@acme.example")
    nonce = client.verify(factors[0], state).json()["_embedded"]["factor"]["_embedded"]
    data = client_data(nonce["challenge"]["challenge"], emu.base_url)
    refused = client.verify(
        factors[0], state, clientData=data, authenticatorData="AA", signatureData="AA"
    )
    assert assert_error(refused, 403, "E0000068")["errorSummary"]
    state, factors = client.mfa("u2f@acme.example")
    assert (factors[0]["factorType"], factors[0]["provider"]) == ("u2f", "FIDO")
    challenge = client.verify(factors[0], state).json()["_embedded"]["factor"]["_embedded"]
    assert challenge["challenge"]["extensions"] == {"appid": "https://acme.example"}
    # an assertion for the appid is not checked: the emulator refuses it and says so
    data = client_data(challenge["challenge"]["challenge"], emu.base_url)
    posted = client.verify(
        factors[0], state, clientData=data, authenticatorData="AA", signatureData="AA"
    )
    cause = assert_error(posted, 403, "E0000068")["errorCauses"]
    assert cause == [{"errorSummary": APPID_UNSUPPORTED_CAUSE}]


def test_duo_is_shape_only(emu: OktaEmulator) -> None:
    client = Client(emu)
    state, factors = client.mfa("duo@acme.example")
    assert (factors[0]["factorType"], factors[0]["provider"]) == ("web", "DUO")
    answer = client.verify(factors[0], state).json()
    verification = answer["_embedded"]["factor"]["_embedded"]["verification"]
    assert verification["host"].endswith("duosecurity.com")
    assert re.fullmatch(r"TX\|[0-9a-f]+:APP\|[0-9a-f]+", verification["signature"])
    assert verification["_links"]["complete"]["href"].endswith("/lifecycle/duoCallback")
    for _ in range(3):
        assert poll(client, answer, state)["factorResult"] == "WAITING"


# -- sections 4 and 6b: sessionToken to SAMLResponse, sessions ---------------------------------
def test_session_cookie_redirect(emu: OktaEmulator) -> None:
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    url = emu.app_url(APP)
    params = {"token": token, "redirectUrl": url}
    reply = client.get("/login/sessionCookieRedirect", params=params, allow_redirects=False)
    assert reply.status_code == 302
    assert reply.headers["Location"] == url
    assert client.http.cookies.get(SID_COOKIE)
    page = client.get(url)
    root = saml_of(page.text)
    assert roles_of(root) == [
        f"{DEV.role_arn},{DEV.principal_arn}",
        f"{OPS.principal_arn},{OPS.role_arn}",
    ]
    assert root.findtext(f".//{{{SAML}}}NameID") == "plain@acme.example"
    fresh = Client(emu)  # the token is single-use
    spent = fresh.get("/login/sessionCookieRedirect", params=params, allow_redirects=False)
    assert spent.status_code == 302
    assert spent.headers["Location"].startswith("/login/login.htm")
    assert not fresh.http.cookies.get(SID_COOKIE)
    assert LOGIN_PAGE_TEXT in fresh.get("/login/sessionCookieRedirect", params=params).text


def test_redirect_url_must_be_on_the_org(emu: OktaEmulator) -> None:
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    params = {"token": token, "redirectUrl": "https://evil.example/home/amazon_aws/x/272"}
    assert client.get("/login/sessionCookieRedirect", params=params).status_code == 400


@pytest.mark.parametrize("param", ["onetimetoken", "sessionToken"])
@pytest.mark.parametrize("path", ["/home/amazon_aws/{}/272", "/app/amazon_aws/{}/sso/saml"])
def test_token_on_the_embed_link(emu: OktaEmulator, param: str, path: str) -> None:
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    page = client.get(path.format(APP), params={param: token})
    assert page.status_code == 200
    assert client.http.cookies.get(SID_COOKIE)
    saml_of(page.text)
    again = Client(emu).get(path.format(APP), params={param: token})  # single-use
    assert LOGIN_PAGE_TEXT in again.text


def test_sessions_api_and_reuse(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("totp@acme.example")
    token = client.verify(factors[0], state, passCode=totp_at(SECRET, clock())).json()[
        "sessionToken"
    ]
    created = client.post("/api/v1/sessions", {"sessionToken": token})
    assert created.status_code == 200
    session = created.json()
    assert session["status"] == "ACTIVE"
    assert session["login"] == "totp@acme.example"
    assert session["amr"] == ["pwd", "mfa"]
    assert session["mfaActive"] is True
    assert session["expiresAt"] == "2025-06-01T12:00:00.000Z"  # 2 h
    assert {"id", "userId", "createdAt", "lastPasswordVerification"} <= set(session)
    assert_error(client.post("/api/v1/sessions", {"sessionToken": token}), 401, "E0000011")
    kept = Client(emu)  # a later run with the cached sid
    kept.http.cookies.set(SID_COOKIE, session["id"])
    me = kept.get("/api/v1/sessions/me", headers={"Accept": "application/json"})
    assert me.status_code == 200
    assert me.json()["status"] == "ACTIVE"
    assert me.json()["id"] == session["id"]
    saml_of(kept.get(emu.app_url(APP)).text)  # no password, no MFA
    assert kept.http.delete(f"{emu.base_url}/api/v1/sessions/me", timeout=5).status_code == 204
    gone = Client(emu)
    gone.http.cookies.set(SID_COOKIE, session["id"])
    error = assert_error(gone.get("/api/v1/sessions/me"), 404, "E0000007")
    assert error["errorSummary"] == "Not found: Resource not found: me (Session)"
    assert LOGIN_PAGE_TEXT in gone.get(emu.app_url(APP)).text


def test_session_expiry_and_revocation(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    client.get(emu.app_url(APP), params={"onetimetoken": token})
    assert client.get("/api/v1/sessions/me").status_code == 200
    clock.now += 7200
    assert_error(client.get("/api/v1/sessions/me"), 404, "E0000007")
    clock.now -= 7200
    emu.end_session(client.http.cookies[SID_COOKIE])
    assert_error(client.get("/api/v1/sessions/me"), 404, "E0000007")


def test_session_token_lifetime(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    clock.now += 300
    assert_error(client.post("/api/v1/sessions", {"sessionToken": token}), 401, "E0000011")


def test_sid_present_ignores_the_new_token(emu: OktaEmulator) -> None:
    client = Client(emu)
    first = session_token(client, "plain@acme.example", "plain-pw")
    client.get(emu.app_url(APP), params={"onetimetoken": first})
    second = session_token(Client(emu), "warn@acme.example")
    page = client.get(emu.app_url(APP), params={"onetimetoken": second})
    assert saml_of(page.text).findtext(f".//{{{SAML}}}NameID") == "plain@acme.example"
    redirect = client.get(
        "/login/sessionCookieRedirect",
        params={"token": second, "redirectUrl": emu.app_url(APP)},
        allow_redirects=False,
    )
    assert redirect.status_code == 302
    assert "Set-Cookie" not in redirect.headers
    other = Client(emu)  # the ignored token was not spent
    page = other.get(emu.app_url(APP), params={"onetimetoken": second})
    assert saml_of(page.text).findtext(f".//{{{SAML}}}NameID") == "warn@acme.example"


def test_app_pages(emu: OktaEmulator) -> None:
    anonymous = Client(emu)
    page = anonymous.get(emu.app_url(APP))
    assert LOGIN_PAGE_TEXT in page.text
    assert "SAMLResponse" not in page.text
    client = Client(emu)
    state, factors = client.mfa("apps@acme.example")
    token = client.verify(factors[0], state, passCode=totp_at(SECRET, START)).json()["sessionToken"]
    client.get("/login/sessionCookieRedirect", params={"token": token, "redirectUrl": "/"})
    unassigned = client.get(emu.app_url(OTHER_APP))
    assert unassigned.status_code == 403
    assert NOT_ASSIGNED_TEXT in unassigned.text
    locked = client.get(emu.app_url("0oaLocked"))
    assert APP_LOCKED_TEXT in locked.text
    assert "SAMLResponse" not in locked.text
    short = Inputs(client.get(emu.app_url("0oaShort")).text).inputs
    assert short["RelayState"] == "rs-1"


def test_step_up_script_page(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    client.get(emu.app_url(APP), params={"onetimetoken": token})
    apps_client = Client(emu)
    state, factors = apps_client.mfa("apps@acme.example")
    token = apps_client.verify(factors[0], state, passCode=totp_at(SECRET, clock())).json()[
        "sessionToken"
    ]
    page = apps_client.get(emu.app_url("0oaStepUp"), params={"onetimetoken": token})
    assert STEP_UP_TEXT in page.text
    assert "SAMLResponse" not in page.text
    assert "\\x" in page.text  # JS-escaped
    step_state = script_state_token(page.text)
    answer = apps_client.post("/api/v1/authn", {"stateToken": step_state}).json()
    assert answer["status"] == "MFA_REQUIRED"
    fresh = totp_at(SECRET, clock() + 30)  # the next code: the first one is spent
    done = apps_client.verify(answer["_embedded"]["factors"][0], step_state, passCode=fresh).json()
    assert done["status"] == "SUCCESS"
    follow = done["_links"]["next"]["href"]
    assert "/login/step-up/redirect?stateToken=" in follow
    saml_of(apps_client.get(follow).text)
    saml_of(apps_client.get(emu.app_url("0oaStepUp")).text)  # once per session


def test_step_up_link_page_and_reload(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("apps@acme.example")
    token = client.verify(factors[0], state, passCode=totp_at(SECRET, clock())).json()[
        "sessionToken"
    ]
    page = client.get(emu.app_url("0oaStepLink"), params={"onetimetoken": token})
    link = re.search(r'href="(/login/step-up/\?stateToken=[^"]+)"', page.text)
    assert link is not None
    step_state = unquote(html.unescape(link.group(1)).split("stateToken=")[1])
    assert script_state_token(client.get(html.unescape(link.group(1))).text) == step_state
    assert client.get("/login/step-up/", params={"stateToken": "00nope"}).status_code == 403
    answer = client.post("/api/v1/authn", {"stateToken": step_state}).json()
    fresh = totp_at(SECRET, clock() + 30)  # the next code: the first one is spent
    done = client.verify(answer["_embedded"]["factors"][0], step_state, passCode=fresh).json()
    reload = client.get(emu.app_url("0oaStepLink"), params={"sessionToken": done["sessionToken"]})
    saml_of(reload.text)


def test_remember_device(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    client.http.cookies.set(DT_COOKIE, "okta_totp@acme.example_saml2aws")
    state, factors = client.mfa("totp@acme.example")
    code = totp_at(SECRET, clock())
    done = client.verify(factors[0], state, {"rememberDevice": "true"}, passCode=code).json()
    assert done["status"] == "SUCCESS"
    later = Client(emu)
    later.http.cookies.set(DT_COOKIE, "okta_totp@acme.example_saml2aws")
    assert later.authn("totp@acme.example").json()["status"] == "SUCCESS"
    stranger = Client(emu)
    stranger.http.cookies.set(DT_COOKIE, "another-device")
    assert stranger.authn("totp@acme.example").json()["status"] == "MFA_REQUIRED"
    clock.now += 7 * 86400
    assert later.authn("totp@acme.example").json()["status"] == "MFA_REQUIRED"


def test_remember_device_false_and_okta_set_dt(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("totp@acme.example")
    dt = client.http.cookies.get(DT_COOKIE)
    assert dt  # set by Okta on its answer
    client.verify(factors[0], state, passCode=totp_at(SECRET, clock()), rememberDevice="false")
    assert client.authn("totp@acme.example").json()["status"] == "MFA_REQUIRED"
    state, factors = client.mfa("totp@acme.example")
    body: dict[str, Any] = {
        "passCode": totp_at(SECRET, clock() + 30),  # the next code: the first one is spent
        "rememberDevice": "true",
    }  # saml2aws: in body
    client.verify(factors[0], state, **body)
    assert client.authn("totp@acme.example").json()["status"] == "SUCCESS"


# -- sections 5 and 6c: rate limits, injected failures, the request log ----------------------
def test_rate_limit_window(make: Callable[..., OktaEmulator], clock: EmulatorClock) -> None:
    emu = make(rate_limits={"/api/v1/authn": RateLimit(2, 60)})
    client = Client(emu)
    first = client.authn("plain@acme.example", "plain-pw")
    assert first.status_code == 200
    assert first.headers["X-Rate-Limit-Limit"] == "2"
    assert first.headers["X-Rate-Limit-Remaining"] == "1"
    assert first.headers["X-Rate-Limit-Reset"] == str(int(START) + 60)
    assert client.authn("plain@acme.example", "plain-pw").status_code == 200
    limited = client.authn("plain@acme.example", "plain-pw")
    error = assert_error(limited, 429, "E0000047")
    assert error["errorSummary"] == "API call exceeded rate limit due to too many requests."
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert limited.headers["X-Rate-Limit-Reset"] == str(int(START) + 60)
    assert "Retry-After" not in limited.headers
    clock.now += 59
    assert client.authn("plain@acme.example", "plain-pw").status_code == 429
    clock.now += 1
    assert client.authn("plain@acme.example", "plain-pw").status_code == 200
    assert client.get("/.well-known/okta-organization").status_code == 200  # other endpoint
    assert emu.count("POST", "/api/v1/authn") == 5


def test_rate_limit_per_endpoint(make: Callable[..., OktaEmulator]) -> None:
    emu = make(
        rate_limits={
            "/api/v1/authn": RateLimit(100),
            "/api/v1/authn/factors": RateLimit(1),
        }
    )
    client = Client(emu)
    state, _factor, start = start_push(client, "push@acme.example")
    assert_error(
        client.post(start["_links"]["next"]["href"], {"stateToken": state}), 429, "E0000047"
    )
    assert client.authn("plain@acme.example", "plain-pw").status_code == 200


def test_fail_next(emu: OktaEmulator) -> None:
    client = Client(emu)
    emu.fail_next("/api/v1/authn", 429, headers={"X-Rate-Limit-Reset": "1748772957"})
    limited = client.authn("plain@acme.example", "plain-pw")
    assert_error(limited, 429, "E0000047")
    assert limited.headers["X-Rate-Limit-Reset"] == "1748772957"
    emu.fail_next("/api/v1/authn", 401)
    assert_error(client.authn("plain@acme.example", "plain-pw"), 401, "E0000011")
    emu.fail_next("/api/v1/authn", 403)
    assert_error(client.authn("plain@acme.example", "plain-pw"), 403, "E0000079")
    emu.fail_next("/home/", 503, body="<html><body>Service Unavailable</body></html>")
    assert client.get(emu.app_url(APP)).status_code == 503
    emu.fail_next("/oauth2/", 500, body={"error": "server_error"})
    assert client.form("/oauth2/v1/token", {}).json() == {"error": "server_error"}
    assert client.authn("plain@acme.example", "plain-pw").status_code == 200


def test_request_log_is_redacted(emu: OktaEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, factors = client.mfa("totp@acme.example")
    client.verify(factors[0], state, passCode=totp_at(SECRET, clock()))
    client.get("/login/sessionCookieRedirect", params={"token": "20111secret", "redirectUrl": "/"})
    log = emu.log
    authn = next(r for r in log if r.path == "/api/v1/authn")
    assert authn.method == "POST"
    assert authn.body == {"username": "totp@acme.example", "password": REDACTED}
    verify = next(r for r in log if r.path.endswith("/verify"))
    assert verify.body == {"stateToken": REDACTED, "passCode": REDACTED}
    redirect = log[-2]  # then the sign-in page it redirects to
    assert redirect.path == "/login/sessionCookieRedirect"  # the query is not kept
    text = repr(log)
    assert "pw'" not in text
    assert state not in text
    assert "20111secret" not in text
    assert totp_at(SECRET, clock()) not in text
    assert emu.requests[0] == ("POST", "/api/v1/authn")


def test_okta_encodings() -> None:
    assert okta_html_attr("a+b=c/d:") == "a&#x2b;b&#x3d;c&#x2f;d&#x3a;"
    assert okta_html_attr("x.y-z_1,") == "x.y-z_1,"
    assert okta_js_string("00a-b_c.") == "00a\\x2Db\\x5Fc\\x2E"
    assert js_unescape(okta_js_string("02.id.Ab-_9")) == "02.id.Ab-_9"


# -- section 6: Identity Engine ---------------------------------------------------------------
def idx(make: Callable[..., OktaEmulator], **options: Any) -> OktaEmulator:
    options.setdefault("clients", [OidcClient(CLIENT)])
    options.setdefault("device_user", "plain@acme.example")
    return make(pipeline="idx", **options)


def authorize(client: Client, scope: str = "openid okta.apps.sso") -> requests.Response:
    return client.form("/oauth2/v1/device/authorize", {"client_id": CLIENT, "scope": scope})


def device_poll(client: Client, device_code: str, client_id: str = CLIENT) -> requests.Response:
    form = {"client_id": client_id, "device_code": device_code, "grant_type": GRANT_DEVICE}
    return client.form("/oauth2/v1/token", form)


def exchange_form(tokens: dict[str, Any], app_id: str = APP) -> dict[str, str]:
    return {
        "grant_type": GRANT_EXCHANGE,
        "client_id": CLIENT,
        "subject_token": tokens["id_token"],
        "subject_token_type": TYPE_ID_TOKEN,
        "actor_token": tokens["access_token"],
        "actor_token_type": TYPE_ACCESS_TOKEN,
        "requested_token_type": TYPE_WEB_SSO,
        "audience": f"urn:okta:apps:{app_id}",
    }


def device_tokens(client: Client, clock: EmulatorClock) -> dict[str, Any]:
    code = authorize(client).json()["device_code"]
    for _ in range(5):
        clock.now += 5
        reply = device_poll(client, code)
        if reply.status_code == 200:
            tokens: dict[str, Any] = reply.json()
            return tokens
    raise AssertionError("never approved")


@pytest.mark.parametrize("pipeline", ["v1", "idx"])
def test_pipeline_detection(make: Callable[..., OktaEmulator], pipeline: str) -> None:
    emu = make(pipeline=pipeline)
    answer = Client(emu).get("/.well-known/okta-organization").json()
    assert answer["pipeline"] == pipeline
    assert answer["id"].startswith("00o")


def test_device_flow(make: Callable[..., OktaEmulator], clock: EmulatorClock) -> None:
    emu = idx(make)
    client = Client(emu)
    reply = authorize(client, "openid okta.apps.sso okta.apps.read okta.users.read.self")
    assert reply.status_code == 200
    grant = reply.json()
    assert set(grant) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert re.fullmatch(r"[A-Z]{8}", grant["user_code"])
    assert grant["verification_uri"] == f"{emu.base_url}/activate"
    assert grant["verification_uri_complete"] == (
        f"{emu.base_url}/activate?user_code={grant['user_code']}"
    )
    assert (grant["expires_in"], grant["interval"]) == (600, 5)
    assert client.get(grant["verification_uri_complete"]).status_code == 200
    pending = device_poll(client, grant["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    assert pending.json()["error_description"]
    clock.now += 5
    tokens = device_poll(client, grant["device_code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid okta.apps.sso okta.apps.read okta.users.read.self"
    assert body["access_token"].startswith("eyJ")
    assert body["id_token"].startswith("eyJ")
    clock.now += 5
    assert device_poll(client, grant["device_code"]).json()["error"] == "invalid_grant"  # used
    exchanged = client.form("/oauth2/v1/token", exchange_form(body))
    assert exchanged.status_code == 200
    web_sso = exchanged.json()
    assert web_sso["issued_token_type"] == TYPE_WEB_SSO
    assert web_sso["token_type"] == "N_A"
    assert web_sso["expires_in"] == 300
    page = client.get(
        "/login/token/sso",
        params={"token": web_sso["access_token"]},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 200
    saml_of(page.text)
    assert client.http.cookies.get(IDX_COOKIE)
    assert not client.http.cookies.get(SID_COOKIE)
    saml_of(client.get(emu.app_url(APP)).text)  # the idx session opens the app
    spent = Client(emu).get("/login/token/sso", params={"token": web_sso["access_token"]})
    assert spent.status_code == 400
    assert INVALID_SSO_TOKEN_TEXT in spent.text


def test_web_sso_token_lifetime(make: Callable[..., OktaEmulator], clock: EmulatorClock) -> None:
    emu = idx(make)
    client = Client(emu)
    tokens = device_tokens(client, clock)
    web_sso = client.form("/oauth2/v1/token", exchange_form(tokens)).json()["access_token"]
    clock.now += 300
    assert client.get("/login/token/sso", params={"token": web_sso}).status_code == 400


def test_device_authorize_errors(make: Callable[..., OktaEmulator]) -> None:
    emu = idx(make, clients=[OidcClient(CLIENT), OidcClient("0oaNoDevice", device_grant=False)])
    client = Client(emu)
    unknown = client.form(
        "/oauth2/v1/device/authorize", {"client_id": "0oaNope", "scope": "openid"}
    )
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"
    scope = authorize(client, "openid okta.apps.sso okta.users.manage")
    assert scope.status_code == 400
    assert scope.json()["error"] == "invalid_scope"
    assert "okta.users.manage" in scope.json()["error_description"]
    disabled = client.form(
        "/oauth2/v1/device/authorize", {"client_id": "0oaNoDevice", "scope": "openid"}
    )
    assert disabled.json()["error"] == "unauthorized_client"
    assert_json = client.http.post(
        f"{emu.base_url}/oauth2/v1/device/authorize", json={"client_id": CLIENT}, timeout=5
    )
    assert assert_json.json()["error"] == "invalid_request"


def test_device_poll_errors(make: Callable[..., OktaEmulator], clock: EmulatorClock) -> None:
    emu = idx(make, device_user=None)
    client = Client(emu)
    grant = authorize(client).json()
    code = grant["device_code"]
    assert device_poll(client, code, "0oaNope").status_code == 401
    assert device_poll(client, "nope").json()["error"] == "invalid_grant"
    assert device_poll(client, code).json()["error"] == "authorization_pending"
    clock.now += 4
    assert device_poll(client, code).json()["error"] == "slow_down"
    clock.now += 9  # the interval is now 10 s
    assert device_poll(client, code).json()["error"] == "slow_down"
    clock.now += 15
    assert device_poll(client, code).json()["error"] == "authorization_pending"
    bad_grant = client.form("/oauth2/v1/token", {"client_id": CLIENT, "grant_type": "password"})
    assert bad_grant.json()["error"] == "unsupported_grant_type"
    emu.approve_device(grant["user_code"], "warn@acme.example")
    clock.now += 15
    assert device_poll(client, code).status_code == 200
    denied = authorize(client).json()
    emu.deny_device(denied["user_code"])
    assert device_poll(client, denied["device_code"]).json()["error"] == "access_denied"
    late = authorize(client).json()
    clock.now += 600
    assert device_poll(client, late["device_code"]).json()["error"] == "expired_token"


@pytest.mark.parametrize(
    ("outcome", "error"),
    [("deny", "access_denied"), ("expire", "expired_token"), ("never", "authorization_pending")],
)
def test_device_outcomes(
    make: Callable[..., OktaEmulator], clock: EmulatorClock, outcome: str, error: str
) -> None:
    emu = idx(make, device_outcome=outcome, device_after=2, enforce_interval=False)
    client = Client(emu)
    code = authorize(client).json()["device_code"]
    assert device_poll(client, code).json()["error"] == "authorization_pending"
    assert device_poll(client, code).json()["error"] == error


def test_exchange_errors(make: Callable[..., OktaEmulator], clock: EmulatorClock) -> None:
    restricted = OidcClient("0oaOther", web_sso_apps=frozenset({"0oaElsewhere"}))
    emu = idx(make, clients=[OidcClient(CLIENT), restricted])
    client = Client(emu)
    tokens = device_tokens(client, clock)
    good = exchange_form(tokens)
    for name in ("subject_token", "actor_token", "audience", "requested_token_type"):
        missing = {k: v for k, v in good.items() if k != name}
        reply = client.form("/oauth2/v1/token", missing)
        assert reply.status_code == 400
        assert reply.json()["error"] == "invalid_request", name
    wrong_type = {**good, "actor_token_type": "urn:x-oath:params:oauth:token-type:device-secret"}
    assert client.form("/oauth2/v1/token", wrong_type).json()["error"] == "invalid_request"
    swapped = {**good, "subject_token": good["actor_token"], "actor_token": good["subject_token"]}
    assert client.form("/oauth2/v1/token", swapped).json()["error"] == "invalid_grant"
    forged = {**good, "subject_token": "eyJforged"}
    assert client.form("/oauth2/v1/token", forged).json()["error"] == "invalid_grant"
    unassigned = exchange_form(tokens, OTHER_APP)
    assert client.form("/oauth2/v1/token", unassigned).json()["error"] == "invalid_target"
    bad_audience = {**good, "audience": APP}
    assert client.form("/oauth2/v1/token", bad_audience).json()["error"] == "invalid_target"
    other_client = {**good, "client_id": "0oaOther"}
    assert client.form("/oauth2/v1/token", other_client).json()["error"] == "invalid_grant"
    clock.now += 3600
    assert client.form("/oauth2/v1/token", good).json()["error"] == "invalid_grant"


def test_exchange_needs_apps_sso_scope(
    make: Callable[..., OktaEmulator], clock: EmulatorClock
) -> None:
    emu = idx(make)
    client = Client(emu)
    code = authorize(client, "openid").json()["device_code"]
    clock.now += 5
    device_poll(client, code)
    clock.now += 5
    tokens = device_poll(client, code).json()
    assert client.form("/oauth2/v1/token", exchange_form(tokens)).json()["error"] == (
        "invalid_grant"
    )


def test_classic_sid_does_not_open_the_app_on_idx(make: Callable[..., OktaEmulator]) -> None:
    emu = idx(make)
    client = Client(emu)
    token = session_token(client, "plain@acme.example", "plain-pw")
    url = emu.app_url(APP)
    client.get("/login/sessionCookieRedirect", params={"token": token, "redirectUrl": url})
    assert client.http.cookies.get(SID_COOKIE)
    page = client.get(url)
    assert "SAMLResponse" not in page.text
    handle = script_state_token(page.text)
    assert handle.startswith("02.id.")
    assert_error(client.post("/api/v1/authn", {"stateToken": handle}), 401, "E0000011")


def test_main_help() -> None:
    from tests.emulators import okta

    with pytest.raises(SystemExit) as exit_info:
        okta.main(["--help"])
    assert exit_info.value.code == 0


def test_factor_ids_are_stable() -> None:
    one = User("a@acme.example", "pw", factors=[push_factor(), sms_factor()])
    two = User("a@acme.example", "pw", factors=[push_factor(), sms_factor()])
    assert [f.id for f in one.factors] == [f.id for f in two.factors]
    assert one.factors[1].id.startswith("sms")
    assert Factor("push", id="opfFixed").id == "opfFixed"
