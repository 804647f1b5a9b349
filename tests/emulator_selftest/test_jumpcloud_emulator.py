"""The JumpCloud emulator follows shared/protocols/jumpcloud.md; driven with plain requests."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from lxml import etree
from signxml.verifier import XMLVerifier

from samljit.tools.sandbox.response import ROLE_ATTRIBUTE, SESSION_DURATION_ATTRIBUTE, RoleGrant
from tests.emulator_selftest import CERT, SAML, SECRET, EmulatorClock
from tests.emulators.common import totp_at, totp_now
from tests.emulators.jumpcloud import (
    BAD_CREDENTIALS_MESSAGE,
    CONTENT_TYPE_MESSAGE,
    INVALID_OTP_MESSAGE,
    LOGIN_PAGE_TEXT,
    MFA_REQUIRED_MESSAGE,
    NO_ACCESS_MESSAGE,
    PUSH_NOT_ACCEPTED_MESSAGE,
    PUSH_UNAVAILABLE_MESSAGE,
    REDACTED,
    SSO_REQUEST_MESSAGE,
    XSRF_MESSAGE,
    App,
    JumpCloudEmulator,
    User,
)

DEV = RoleGrant("arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/Jc")
OPS = RoleGrant("arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/Jc")


USERS = [
    User("plain@example.com", "plain-pw", apps={"aws": [DEV, OPS]}),
    User("totp@example.com", "totp-pw", totp_secret=SECRET, apps={"aws": [DEV]}),
    User("accept@example.com", "pw", push="accept", apps={"aws": [DEV]}),
    User("deny@example.com", "pw", push="deny", push_accept_after=1),
    User("expire@example.com", "pw", push="expire", push_expires_in=2.0),
    User("never@example.com", "pw", push="never", push_expires_in=2.0),
    User(
        "mixed@example.com",
        "pw",
        totp_secret=SECRET,
        push="accept",
        factors_override=[
            {"type": "totp", "status": "available"},
            {"type": "push", "status": "unavailable"},
            {"type": "webauthn", "status": "available"},
        ],
    ),
    User(
        "apps@example.com",
        "pw",
        apps={
            "short": App(roles=[DEV], session_duration=None, relay_state="state-1"),
            "sealed": App(roles=[DEV], encrypted=True),
        },
        role_order="principal-first",
    ),
]


@pytest.fixture
def emulator(clock: EmulatorClock) -> Iterator[JumpCloudEmulator]:
    with JumpCloudEmulator(USERS, clock=clock) as emu:
        yield emu


class Console:
    """A client session: one cookie jar, the XSRF token, JSON headers."""

    def __init__(self, emu: JumpCloudEmulator) -> None:
        self.emu = emu
        self.http = requests.Session()
        reply = self.http.get(f"{emu.api_url}/userconsole/xsrf", timeout=5)
        assert reply.status_code == 200
        self.token = reply.json()["xsrf"]

    def headers(self) -> dict[str, str]:
        return {"X-Xsrftoken": self.token, "Accept": "application/json"}

    def post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        url = f"{self.emu.api_url}{path}"
        return self.http.post(url, json=body or {}, headers=self.headers(), timeout=5)

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.emu.api_url}{path}", headers=self.headers(), timeout=5)

    def login(self, email: str, password: str, otp: str = "", slug: str = "aws") -> Any:
        body = {"context": "sso", "redirectTo": f"saml2/{slug}", "email": email}
        return self.post("/userconsole/auth", {**body, "password": password, "otp": otp})


class Inputs(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.inputs.append(dict(attrs))


def saml_page(console: Console, slug: str = "aws") -> tuple[list[dict[str, str | None]], str]:
    page = console.http.get(console.emu.sso_url(slug), timeout=5)
    return Inputs(page.text).inputs, page.text


def assertion_of(inputs: list[dict[str, str | None]]) -> Any:
    value = next(i["value"] for i in inputs if i.get("name") == "SAMLResponse")
    assert value is not None
    return etree.fromstring(base64.b64decode(value))


def roles_of(root: Any, name: str = ROLE_ATTRIBUTE) -> list[str]:
    path = f".//{{{SAML}}}Attribute[@Name='{name}']/{{{SAML}}}AttributeValue"
    return [v.text for v in root.iterfind(path)]


def test_totp_matches_rfc_6238_vectors() -> None:
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_at(rfc_secret, 59) == "287082"
    assert totp_at(rfc_secret, 1111111109) == "081804"
    assert totp_at(rfc_secret, 2000000000) == "279037"
    assert len(totp_now(SECRET)) == 6


def test_xsrf_is_required(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    url = f"{emulator.api_url}/userconsole/auth"
    body = {"email": "plain@example.com", "password": "plain-pw"}
    no_header = console.http.post(url, json=body, timeout=5)
    assert no_header.status_code == 403
    assert no_header.json() == {"message": XSRF_MESSAGE}
    wrong = console.http.post(url, json=body, headers={"X-Xsrftoken": "nope"}, timeout=5)
    assert wrong.status_code == 403
    no_cookie = requests.post(url, json=body, headers=console.headers(), timeout=5)
    assert no_cookie.status_code == 403
    stale = console.token
    fresh = console.http.get(f"{emulator.api_url}/userconsole/xsrf", timeout=5)
    console.token = fresh.json()["xsrf"]
    stale_reply = console.http.post(url, json=body, headers={"X-Xsrftoken": stale}, timeout=5)
    assert stale_reply.status_code == 403
    assert console.login("plain@example.com", "plain-pw").status_code == 200


def test_json_content_type_is_required(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    reply = console.http.post(
        f"{emulator.api_url}/userconsole/auth",
        data="email=plain@example.com&password=plain-pw",
        headers={**console.headers(), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert reply.status_code == 415
    assert reply.json()["message"] == CONTENT_TYPE_MESSAGE


@pytest.mark.parametrize(
    ("email", "password"),
    [("plain@example.com", "wrong"), ("nobody@example.com", "plain-pw"), ("", "")],
)
def test_bad_credentials(emulator: JumpCloudEmulator, email: str, password: str) -> None:
    reply = Console(emulator).login(email, password)
    assert reply.status_code == 401
    assert reply.json() == {"message": BAD_CREDENTIALS_MESSAGE}


def test_login_without_mfa_gives_signed_assertion(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    reply = console.login("plain@example.com", "plain-pw")
    assert reply.status_code == 200
    assert reply.json() == {"redirectTo": emulator.sso_url("aws")}
    inputs, page = saml_page(console)
    assert 'action="https://signin.aws.amazon.com/saml"' in page
    names = [i.get("name") for i in inputs]
    assert "SAMLResponse" in names
    assert "RelayState" in names
    assert None in names  # an input without a name, as on real pages
    root = assertion_of(inputs)
    XMLVerifier().verify(etree.tostring(root), x509_cert=CERT)
    assert roles_of(root) == [  # mixed order by default
        f"{DEV.role_arn},{DEV.principal_arn}",
        f"{OPS.principal_arn},{OPS.role_arn}",
    ]
    assert roles_of(root, SESSION_DURATION_ATTRIBUTE) == ["3600"]
    assert root.findtext(f".//{{{SAML}}}NameID") == "plain@example.com"


def test_capitalised_keys(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    body = {
        "Context": "sso",
        "RedirectTo": "saml2/aws",
        "Email": "plain@example.com",
        "Password": "plain-pw",
        "Otp": "",
    }
    reply = console.post("/userconsole/auth", body)
    assert reply.status_code == 200
    assert reply.json()["redirectTo"] == emulator.sso_url("aws")


def test_totp_flow(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    first = console.login("totp@example.com", "totp-pw")
    assert first.status_code == 401
    assert first.json() == {
        "message": MFA_REQUIRED_MESSAGE,
        "factors": [{"type": "totp", "status": "available"}],
    }
    code = totp_now(SECRET)
    wrong = f"{(int(code) + 500000) % 1000000:06d}"
    bad = console.login("totp@example.com", "totp-pw", otp=wrong)
    assert bad.status_code == 401
    assert bad.json() == {"message": INVALID_OTP_MESSAGE}
    wrong_password = console.login("totp@example.com", "nope", otp=code)
    assert wrong_password.json() == {"message": BAD_CREDENTIALS_MESSAGE}
    good = console.login("totp@example.com", "totp-pw", otp=code)
    assert good.status_code == 200
    assert good.json() == {"redirectTo": emulator.sso_url("aws")}
    assert assertion_of(saml_page(console)[0]) is not None


def test_a_used_code_is_refused(emulator: JumpCloudEmulator) -> None:
    """A TOTP code logs in once (RFC 6238 §5.2); again, it is refused as a wrong one is."""
    emulator.add_user(User("replay@example.com", "pw", totp_secret=SECRET, apps={"aws": [DEV]}))
    code = totp_now(SECRET)
    assert Console(emulator).login("replay@example.com", "pw", otp=code).status_code == 200
    again = Console(emulator).login("replay@example.com", "pw", otp=code)
    assert again.status_code == 401
    assert again.json() == {"message": INVALID_OTP_MESSAGE}
    fresh = totp_at(SECRET, time.time() + 30)  # the next step's code, within the window
    assert Console(emulator).login("replay@example.com", "pw", otp=fresh).status_code == 200


@pytest.mark.parametrize(
    "changed",
    [
        {"context": None},
        {"context": "user"},
        {"redirectTo": None},
        {"redirectTo": "/saml2/aws"},
        {"redirectTo": "https://evil.example/saml2/aws"},
        {"redirectTo": "userconsole/"},
    ],
    ids=["no-context", "user-context", "no-redirect", "slash", "other-host", "not-saml2"],
)
def test_the_sign_in_must_name_the_sso_app(
    emulator: JumpCloudEmulator, changed: dict[str, str | None]
) -> None:
    """``context`` must be ``sso`` and ``redirectTo`` the app's SSO path without the slash."""
    body = {"context": "sso", "redirectTo": "saml2/aws", "email": "plain@example.com"}
    body = {**body, "password": "plain-pw", "otp": "", **changed}
    reply = Console(emulator).post(
        "/userconsole/auth", {k: v for k, v in body.items() if v is not None}
    )
    assert reply.status_code == 400
    assert reply.json() == {"message": SSO_REQUEST_MESSAGE}


def test_factor_statuses_are_reported(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    reply = console.login("mixed@example.com", "pw")
    assert reply.status_code == 401
    assert reply.json()["factors"] == [
        {"type": "totp", "status": "available"},
        {"type": "push", "status": "unavailable"},
        {"type": "webauthn", "status": "available"},
    ]
    refused = console.post("/userconsole/auth/push")
    assert refused.status_code == 401
    assert refused.json() == {"message": PUSH_UNAVAILABLE_MESSAGE}


def start_push(emulator: JumpCloudEmulator, email: str) -> tuple[Console, dict[str, Any]]:
    console = Console(emulator)
    assert console.login(email, "pw").json()["message"] == MFA_REQUIRED_MESSAGE
    reply = console.post("/userconsole/auth/push")
    assert reply.status_code == 200
    push: dict[str, Any] = reply.json()
    assert set(push) == {"id", "status", "initiatedAt", "expiresAt", "userId"}
    assert push["status"] == "pending"
    return console, push


def test_push_accept(emulator: JumpCloudEmulator) -> None:
    console, push = start_push(emulator, "accept@example.com")
    path = f"/userconsole/auth/push/{push['id']}"
    early = console.post(f"{path}/login")
    assert early.status_code == 401
    assert early.json() == {"message": PUSH_NOT_ACCEPTED_MESSAGE}
    assert console.get(path).json()["status"] == "pending"
    assert console.get(path).json()["status"] == "accepted"
    assert console.get(path).json()["status"] == "accepted"
    other = Console(emulator)
    assert other.get(path).status_code == 404  # push ids belong to their session
    assert other.post(f"{path}/login").status_code == 401
    login = console.post(f"{path}/login")
    assert login.status_code == 200
    assert login.json() == {"redirectTo": emulator.sso_url("aws")}
    assert assertion_of(saml_page(console)[0]) is not None
    assert console.post(f"{path}/login").status_code == 401  # one login per push


def test_push_deny(emulator: JumpCloudEmulator) -> None:
    console, push = start_push(emulator, "deny@example.com")
    path = f"/userconsole/auth/push/{push['id']}"
    denied = console.get(path)
    assert (denied.status_code, denied.json()["status"]) == (401, "denied")
    assert console.post(f"{path}/login").status_code == 401


def test_push_expire(emulator: JumpCloudEmulator, clock: EmulatorClock) -> None:
    console, push = start_push(emulator, "expire@example.com")
    assert push["expiresAt"] == "2033-05-18T03:33:22.000Z"
    assert push["initiatedAt"] == "2033-05-18T03:33:20.000Z"
    path = f"/userconsole/auth/push/{push['id']}"
    assert console.get(path).json()["status"] == "pending"
    assert console.get(path).json()["status"] == "pending"
    clock.now += 2.5
    try:
        assert console.get(path).json()["status"] == "expired"
    finally:
        clock.now -= 2.5
    assert console.post(f"{path}/login").status_code == 401


def test_push_never_stays_pending(emulator: JumpCloudEmulator, clock: EmulatorClock) -> None:
    console, push = start_push(emulator, "never@example.com")
    path = f"/userconsole/auth/push/{push['id']}"
    clock.now += 60
    try:
        for _ in range(3):
            assert console.get(path).json()["status"] == "pending"
    finally:
        clock.now -= 60


def test_push_needs_password_first(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    assert console.post("/userconsole/auth/push").status_code == 401
    assert console.login("accept@example.com", "wrong").status_code == 401
    assert console.post("/userconsole/auth/push").status_code == 401


def test_sso_page_without_session_is_not_an_assertion(emulator: JumpCloudEmulator) -> None:
    inputs, page = saml_page(Console(emulator))
    assert LOGIN_PAGE_TEXT in page
    assert not any(i.get("name") == "SAMLResponse" for i in inputs)


def test_api_and_sso_hosts_apart(clock: EmulatorClock) -> None:
    """With two host names each answers its own paths only; the login names the SSO host,
    and a session cookie without ``Domain`` stays on the API host: the SSO host sends the
    browser to the console's login page."""
    with JumpCloudEmulator(USERS, clock=clock, api_host="localhost", sso_host="127.0.0.1") as emu:
        assert emu.api_url == f"http://localhost:{emu.port}"
        assert emu.sso_url("aws") == f"http://127.0.0.1:{emu.port}/saml2/aws"
        sso = emu.sso_url("aws").removesuffix("/saml2/aws")
        assert requests.get(f"{emu.api_url}/saml2/aws", timeout=5).status_code == 404
        for path in ("/userconsole/xsrf", "/login"):
            assert requests.get(f"{sso}{path}", timeout=5).status_code == 404, path
        assert requests.get(f"{emu.api_url}/login", timeout=5).status_code == 200
        console = Console(emu)
        reply = console.login("plain@example.com", "plain-pw")
        assert reply.json() == {"redirectTo": emu.sso_url("aws")}
        assert "Domain=" not in reply.headers["Set-Cookie"]
        page = console.http.get(emu.sso_url("aws"), timeout=5)
        assert page.url.startswith(f"{emu.api_url}/login?redirectTo=saml2/aws")
        assert LOGIN_PAGE_TEXT in page.text
        assert not emu.issued
    with JumpCloudEmulator(
        USERS, api_host="localhost", sso_host="127.0.0.1", cookie_domain="jumpcloud.test"
    ) as emu:
        reply = Console(emu).login("plain@example.com", "plain-pw")
        assert "Domain=jumpcloud.test" in reply.headers["Set-Cookie"]


def test_unassigned_app(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    assert console.login("plain@example.com", "plain-pw", slug="other").status_code == 200
    _inputs, page = saml_page(console, "other")
    assert NO_ACCESS_MESSAGE in page
    assert "SAMLResponse" not in page


def test_app_options(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    assert console.login("apps@example.com", "pw", slug="short").status_code == 200
    inputs, _ = saml_page(console, "short")
    relay = next(i for i in inputs if i.get("name") == "RelayState")
    assert relay["value"] == "state-1"
    root = assertion_of(inputs)
    assert roles_of(root) == [f"{DEV.principal_arn},{DEV.role_arn}"]
    assert roles_of(root, SESSION_DURATION_ATTRIBUTE) == []
    sealed = assertion_of(saml_page(console, "sealed")[0])
    assert sealed.find(f"{{{SAML}}}EncryptedAssertion") is not None
    assert sealed.find(f"{{{SAML}}}Assertion") is None


def test_fail_next_and_request_log(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    before = emulator.count("POST", "/userconsole/auth")
    emulator.fail_next("/userconsole/auth", 429, count=2, headers={"Retry-After": "1"})
    first = console.login("plain@example.com", "plain-pw")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert first.json() == {"message": "Too Many Requests"}
    assert console.login("plain@example.com", "plain-pw").status_code == 429
    assert console.login("plain@example.com", "plain-pw").status_code == 200
    emulator.fail_next("/saml2/", 503, body="<html><body>Service Unavailable</body></html>")
    down = console.http.get(emulator.sso_url("aws"), timeout=5)
    assert down.status_code == 503
    assert "Service Unavailable" in down.text
    assert assertion_of(saml_page(console)[0]) is not None
    emulator.fail_next("/userconsole/xsrf", 500, body={"message": "boom"})
    broken = console.http.get(f"{emulator.api_url}/userconsole/xsrf", timeout=5)
    assert (broken.status_code, broken.json()) == (500, {"message": "boom"})
    assert emulator.count("POST", "/userconsole/auth") == before + 3
    assert ("GET", "/saml2/aws") in emulator.requests


def test_submitted_bodies_are_redacted(emulator: JumpCloudEmulator) -> None:
    console = Console(emulator)
    console.login("totp@example.com", "totp-pw")
    console.login("totp@example.com", "totp-pw", otp="123456")
    recent = [body for path, body in emulator.submitted[-2:] if path == "/userconsole/auth"]
    assert recent[0]["password"] == REDACTED
    assert recent[0]["otp"] == ""
    assert recent[1]["otp"] == REDACTED
    assert "totp-pw" not in repr(emulator.submitted)
