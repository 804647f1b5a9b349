"""The OneLogin emulator follows shared/protocols/onelogin.md; driven with plain requests the
way the page says a client must (token, saml_assertion, verify_factor; v2 and v1)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import requests
from lxml import etree
from signxml.verifier import XMLVerifier

from samljit.tools.sandbox.response import AWS_AUDIENCE, ROLE_ATTRIBUTE, RoleGrant
from tests.emulator_selftest import CERT, SAML, SECRET, EmulatorClock, starter
from tests.emulators.common import totp_at
from tests.emulators.onelogin import (
    APP_NOT_FOUND,
    BAD_CREDENTIALS,
    DUO,
    FACTOR_FAILED,
    GOOGLE_AUTHENTICATOR,
    GRANT_TYPE_MESSAGE,
    INVALID_SUBDOMAIN,
    LOCKED,
    MFA_REQUIRED,
    OLP,
    ONELOGIN_SMS,
    PUSH_DENIED,
    PUSH_PENDING,
    REDACTED,
    STATE_INVALID,
    SUCCESS,
    TOKEN_REFUSED,
    WEBAUTHN,
    YUBIKEY,
    ApiClient,
    OneLoginEmulator,
    User,
    authenticator,
    protect,
    sms,
    undrivable,
    yubikey,
    yubikey_otp,
)

APP = "123456"
CLIENT_ID = "0a1b2c3d4e5f"
CLIENT_SECRET = "f5e4d3c2b1a0-client-secret"
KEY_ID = "cccccclbjhte"
DEV = RoleGrant(
    "arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/OneLogin"
)
OPS = RoleGrant(
    "arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/OneLogin"
)
START = 1_748_772_000.0
PW = "pw"  # every user's password but plain's
V2_ERROR_KEYS = {"statusCode", "name", "message"}
ENVELOPE_KEYS = {"type", "message", "code", "error"}


def users() -> list[User]:
    """Fresh users per emulator (devices carry state such as spent OTPs)."""
    aws = {APP: [DEV, OPS]}
    return [
        User("plain", "plain-pw", apps=aws),
        User("push", "pw", devices=[protect()], apps=aws),
        User("slow", "pw", devices=[protect(after=3)], apps=aws),
        User("denied", "pw", devices=[protect("deny")], apps=aws),
        User("never", "pw", devices=[protect("never")], apps=aws),
        User("twice", "pw", devices=[protect(["deny", "accept"], after=1)], apps=aws),
        User("olpcode", "pw", devices=[protect(totp_secret=SECRET)], apps=aws),
        User("totp", "pw", devices=[authenticator(SECRET)], apps=aws),
        User("sms", "pw", devices=[sms(["654321", "123789"])], apps=aws),
        User("yubi", "pw", devices=[yubikey(KEY_ID)], apps=aws),
        User("webauthn", "pw", devices=[undrivable(WEBAUTHN)], apps=aws),
        User("duo", "pw", devices=[undrivable(DUO)], apps=aws),
        User(
            "many",
            "pw",
            email="ana@acme.example",
            devices=[protect(), authenticator(SECRET), sms(), yubikey(KEY_ID)],
            apps=aws,
        ),
        User("office", "pw", devices=[protect()], mfa_bypass_ips=["203.0.113.9"], apps=aws),
        User("locked", "pw", locked=True, apps=aws),
        User("noapp", "pw", apps={"999999": [DEV]}),
    ]


@pytest.fixture
def clock() -> EmulatorClock:
    return EmulatorClock(START)


@pytest.fixture
def make(clock: EmulatorClock, running: list[OneLoginEmulator]) -> Callable[..., OneLoginEmulator]:
    """A fresh emulator per call: its own users, one API credential, the test's clock."""
    clients = [ApiClient(CLIENT_ID, CLIENT_SECRET)]
    return starter(OneLoginEmulator, users, running, clock=clock, clients=clients)


@pytest.fixture
def emu(make: Callable[..., OneLoginEmulator]) -> OneLoginEmulator:
    return make()


class Client:
    """A client as the protocol page has it: a token first, then bearer JSON calls."""

    def __init__(self, emu: OneLoginEmulator, version: int = 2) -> None:
        self.emu = emu
        self.version = version
        self.http = requests.Session()
        self._token: str | None = None

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.emu.base_url}{path}"

    def get_token(
        self, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET, path: str = ""
    ) -> requests.Response:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return self.http.post(
            self.url(path or "/auth/oauth2/v2/token"),
            json={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
            timeout=5,
        )

    @property
    def token(self) -> str:
        if self._token is None:
            answer = self.get_token()
            assert answer.status_code == 200, answer.text
            self._token = answer.json()["access_token"]
        return self._token

    def post(self, path: str, body: dict[str, Any], auth: str | None = None) -> requests.Response:
        headers = {"Authorization": auth if auth is not None else f"bearer:{self.token}"}
        return self.http.post(self.url(path), json=body, headers=headers, timeout=5)

    def assertion(self, login: str, password: str = PW, **extra: Any) -> requests.Response:
        body = {
            "username_or_email": login,
            "password": password,
            "app_id": APP,
            "subdomain": "acme",
            **extra,
        }
        return self.post(f"/api/{self.version}/saml_assertion", body)

    def verify(self, state: str, device_id: Any, **extra: Any) -> requests.Response:
        body = {"app_id": APP, "device_id": str(device_id), "state_token": state, **extra}
        return self.post(f"/api/{self.version}/saml_assertion/verify_factor", body)

    def mfa(self, login: str) -> tuple[str, list[dict[str, Any]]]:
        """The state_token and devices of a login that needs MFA."""
        answer = self.assertion(login)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        data = body if self.version == 2 else body["data"][0]
        return data["state_token"], data["devices"]


def saml_of(encoded: str) -> Any:
    """The decoded SAMLResponse, checked to be signed with the app's certificate."""
    root = etree.fromstring(base64.b64decode(encoded))
    XMLVerifier().verify(etree.tostring(root), x509_cert=CERT)
    return root


def roles_of(root: Any) -> list[str]:
    path = f".//{{{SAML}}}Attribute[@Name='{ROLE_ATTRIBUTE}']/{{{SAML}}}AttributeValue"
    return [v.text for v in root.iterfind(path)]


def assert_v2_error(answer: requests.Response, status: int, message: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == V2_ERROR_KEYS
    assert body["statusCode"] == status
    assert body["message"] == message


def assert_success(emu: OneLoginEmulator, answer: requests.Response) -> Any:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["message"] == SUCCESS
    assert body["data"] in emu.issued
    return saml_of(body["data"])


# -- 1. the access token ----------------------------------------------------------------------
def test_token_answer_is_flat_and_reused_until_it_expires(
    emu: OneLoginEmulator, clock: EmulatorClock
) -> None:
    client = Client(emu)
    first = client.get_token()
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {
        "access_token",
        "created_at",
        "expires_in",
        "refresh_token",
        "token_type",
        "account_id",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 36000
    clock.now += 600
    again = client.get_token().json()
    assert again["access_token"] == body["access_token"]  # the same token back
    assert again["expires_in"] == 36000 - 600
    assert emu.stats["token_calls"] == 2
    assert emu.stats["tokens_issued"] == 1
    assert body["access_token"] in emu.secrets_issued
    assert body["refresh_token"] in emu.secrets_issued


def test_expired_token_is_refused_and_a_new_one_issued(
    emu: OneLoginEmulator, clock: EmulatorClock
) -> None:
    client = Client(emu)
    old = client.token
    assert client.assertion("plain", "plain-pw").status_code == 200
    clock.now += 36000
    assert_v2_error(client.assertion("plain", "plain-pw"), 401, "Authentication Failure")
    fresh = client.get_token().json()["access_token"]
    assert fresh != old
    assert emu.stats["tokens_issued"] == 2


@pytest.mark.parametrize(
    "auth",
    ["bearer:{t}", "bearer: {t}", "Bearer {t}", "", "bearer:not-a-token", "Basic {t}"],
)
def test_bearer_forms(emu: OneLoginEmulator, auth: str) -> None:
    client = Client(emu)
    answer = client.post(
        "/api/2/saml_assertion",
        {"username_or_email": "plain", "password": "plain-pw", "app_id": APP, "subdomain": "acme"},
        auth=auth.format(t=client.token),
    )
    accepted = auth.lower().startswith("bearer") and "{t}" in auth
    assert answer.status_code == (200 if accepted else 401)


def test_revoked_tokens_are_unknown(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    _ = client.token
    emu.revoke_tokens()
    assert client.assertion("plain", "plain-pw").status_code == 401


@pytest.mark.parametrize(
    ("headers", "form"),
    [
        ({"Authorization": f"client_id:{CLIENT_ID}, client_secret:{CLIENT_SECRET}"}, None),
        ({}, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    ],
    ids=["onelogin-header", "form-fields"],
)
def test_other_ways_to_send_the_credential(
    emu: OneLoginEmulator, headers: dict[str, str], form: dict[str, str] | None
) -> None:
    url = f"{emu.base_url}/auth/oauth2/v2/token"
    if form is None:
        answer = requests.post(
            url, json={"grant_type": "client_credentials"}, headers=headers, timeout=5
        )
    else:
        answer = requests.post(url, data={"grant_type": "client_credentials", **form}, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"] in emu.secrets_issued


@pytest.mark.parametrize(
    ("client_id", "secret"), [(CLIENT_ID, "wrong"), ("unknown", CLIENT_SECRET), ("", "")]
)
def test_refused_credential(emu: OneLoginEmulator, client_id: str, secret: str) -> None:
    answer = Client(emu).get_token(client_id, secret)
    assert answer.status_code == 401
    assert answer.json() == {
        "status": {"error": True, "code": 401, "type": "Unauthorized", "message": TOKEN_REFUSED}
    }
    assert emu.stats["token_refused"] == 1
    assert emu.stats["saml_assertion_calls"] == 0


def test_wrong_grant_type(emu: OneLoginEmulator) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    answer = requests.post(
        f"{emu.base_url}/auth/oauth2/v2/token",
        json={"grant_type": "password"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["status"]["message"] == GRANT_TYPE_MESSAGE


def test_old_token_endpoint_wraps_the_same_token(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    new = client.get_token().json()
    old = client.get_token(path="/auth/oauth2/token").json()
    assert old["status"] == {"type": "success", "message": SUCCESS, "code": 200, "error": False}
    assert old["data"][0]["access_token"] == new["access_token"]


# -- 2. the password --------------------------------------------------------------------------
def test_no_mfa_answers_a_signed_saml_response(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    root = assert_success(emu, client.assertion("plain", "plain-pw"))
    issuer = root.find(f"{{{SAML}}}Issuer")
    issuer = issuer if issuer is not None else root.find(f".//{{{SAML}}}Issuer")
    assert issuer.text == f"https://app.onelogin.com/saml/metadata/{APP}"
    assert root.find(f".//{{{SAML}}}Audience").text == AWS_AUDIENCE
    assert roles_of(root) == [f"{g.role_arn},{g.principal_arn}" for g in (DEV, OPS)]


def test_role_pairs_in_either_order(emu: OneLoginEmulator) -> None:
    emu.add_user(User("swapped", "pw", apps={APP: [DEV]}, role_order="principal-first"))
    root = assert_success(emu, Client(emu).assertion("swapped"))
    assert roles_of(root) == [f"{DEV.principal_arn},{DEV.role_arn}"]


@pytest.mark.parametrize(("login", "password"), [("plain", "nope"), ("nobody", "pw")])
def test_wrong_username_or_password(emu: OneLoginEmulator, login: str, password: str) -> None:
    assert_v2_error(Client(emu).assertion(login, password), 401, BAD_CREDENTIALS)


def test_locked_user_is_refused_with_the_v2_shape(emu: OneLoginEmulator) -> None:
    assert_v2_error(Client(emu).assertion("locked"), 401, LOCKED)


def test_lockout_after_wrong_passwords(make: Callable[..., OneLoginEmulator]) -> None:
    emu = make(lockout_after=2)
    client = Client(emu)
    for _ in range(2):
        assert_v2_error(client.assertion("plain", "nope"), 401, BAD_CREDENTIALS)
    assert_v2_error(client.assertion("plain", "plain-pw"), 401, LOCKED)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subdomain": "other"}, INVALID_SUBDOMAIN),
        ({"app_id": "424242"}, APP_NOT_FOUND),
        ({"subdomain": ""}, "subdomain is required"),
        ({"username_or_email": ""}, "username_or_email is required"),
    ],
)
def test_bad_requests(emu: OneLoginEmulator, change: dict[str, str], message: str) -> None:
    assert_v2_error(Client(emu).assertion("plain", "plain-pw", **change), 400, message)


def test_an_app_the_user_is_not_assigned_is_not_found(emu: OneLoginEmulator) -> None:
    assert_v2_error(Client(emu).assertion("noapp"), 400, APP_NOT_FOUND)


def test_mfa_required_lists_the_devices(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    answer = client.assertion("ana@acme.example")  # the email signs in as well
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == MFA_REQUIRED
    assert [d["device_type"] for d in body["devices"]] == [
        OLP,
        GOOGLE_AUTHENTICATOR,
        ONELOGIN_SMS,
        YUBIKEY,
    ]
    assert all(isinstance(d["device_id"], int) for d in body["devices"])
    assert body["callback_url"] == f"{emu.base_url}/api/2/saml_assertion/verify_factor"
    assert body["user"]["username"] == "many"
    assert body["user"]["email"] == "ana@acme.example"
    assert body["state_token"] in emu.secrets_issued
    assert "data" not in body


def test_ip_address_on_the_allow_list_skips_mfa(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    assert_success(emu, client.assertion("office", ip_address="203.0.113.9"))
    assert client.assertion("office", ip_address="198.51.100.1").json()["message"] == MFA_REQUIRED


# -- 3. the second factor: OneLogin Protect ---------------------------------------------------
@pytest.mark.parametrize("login", ["push", "slow"])
def test_push_accepted_after_polls(emu: OneLoginEmulator, login: str) -> None:
    client = Client(emu)
    state, devices = client.mfa(login)
    device = devices[0]["device_id"]
    first = client.verify(state, device, do_not_notify=False)
    assert first.status_code == 200
    assert first.json() == {"message": PUSH_PENDING, "state_token": state}
    polls_needed = 2 if login == "push" else 3
    for _ in range(polls_needed - 1):
        assert client.verify(state, device, do_not_notify=True).json()["message"] == PUSH_PENDING
    assert_success(emu, client.verify(state, device, do_not_notify=True))
    assert emu.stats["pushes_sent"] == 1
    assert emu.stats["polls"] == polls_needed
    assert_v2_error(client.verify(state, device, do_not_notify=True), 401, STATE_INVALID)


def test_push_denied_ends_the_login(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("denied")
    device = devices[0]["device_id"]
    client.verify(state, device)  # do_not_notify absent: sends the push
    assert client.verify(state, device, do_not_notify=True).status_code == 200
    assert_v2_error(client.verify(state, device, do_not_notify=True), 401, PUSH_DENIED)
    assert "denied" in PUSH_DENIED
    assert_v2_error(client.verify(state, device, do_not_notify=True), 401, STATE_INVALID)


def test_push_nobody_answers_ends_with_the_state_token(
    emu: OneLoginEmulator, clock: EmulatorClock
) -> None:
    client = Client(emu)
    state, devices = client.mfa("never")
    device = devices[0]["device_id"]
    client.verify(state, device, do_not_notify=False)
    for _ in range(119):
        clock.now += 1
        answer = client.verify(state, device, do_not_notify=True)
        assert answer.json()["message"] == PUSH_PENDING
    clock.now += 1
    assert_v2_error(client.verify(state, device, do_not_notify=True), 401, STATE_INVALID)
    assert emu.stats["pushes_sent"] == 1
    assert emu.stats["polls"] == 119  # polls answered; the refused one is a call only
    assert emu.stats["verify_factor_calls"] == 121


def test_polling_without_do_not_notify_sends_a_push_each_time(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("twice")  # first push denied, the second accepted (after 1)
    device = devices[0]["device_id"]
    for _ in range(3):
        assert client.verify(state, device).json()["message"] == PUSH_PENDING
    assert emu.stats["pushes_sent"] == 3
    assert emu.stats["polls"] == 0
    assert_success(emu, client.verify(state, device, do_not_notify=True))


def test_each_push_gets_its_own_outcome(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("twice")
    device = devices[0]["device_id"]
    client.verify(state, device)
    assert_v2_error(client.verify(state, device, do_not_notify=True), 401, PUSH_DENIED)
    state, _ = client.mfa("twice")  # a new login: its first push is denied again
    client.verify(state, device)
    assert client.verify(state, device, do_not_notify=True).status_code == 401


def test_polling_before_any_push_stays_pending(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("push")
    device = devices[0]["device_id"]
    for _ in range(5):
        assert client.verify(state, device, do_not_notify=True).json()["message"] == PUSH_PENDING
    assert emu.stats["pushes_sent"] == 0
    clock.now += 120
    assert_v2_error(client.verify(state, device, do_not_notify=True), 401, STATE_INVALID)


def test_protect_code_is_accepted_as_otp_token(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("olpcode")
    answer = client.verify(state, devices[0]["device_id"], otp_token=totp_at(SECRET, clock()))
    assert_success(emu, answer)
    assert emu.stats["pushes_sent"] == 0


# -- TOTP, SMS, YubiKey, the rest -------------------------------------------------------------
def test_totp(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("totp")
    device = devices[0]["device_id"]
    assert_v2_error(client.verify(state, device, otp_token="000000"), 401, FACTOR_FAILED)
    code = totp_at(SECRET, clock())
    assert_success(emu, client.verify(state, device, otp_token=code))  # the state survived
    assert code in emu.codes_issued


def test_totp_code_is_not_accepted_twice(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    code = totp_at(SECRET, clock())
    state, devices = client.mfa("totp")
    assert_success(emu, client.verify(state, devices[0]["device_id"], otp_token=code))
    state, devices = client.mfa("totp")
    assert_v2_error(
        client.verify(state, devices[0]["device_id"], otp_token=code), 401, FACTOR_FAILED
    )


def test_totp_window_follows_the_clock(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("totp")
    device = devices[0]["device_id"]
    stale = totp_at(SECRET, clock() - 90)
    assert_v2_error(client.verify(state, device, otp_token=stale), 401, FACTOR_FAILED)
    assert_success(emu, client.verify(state, device, otp_token=totp_at(SECRET, clock() - 30)))


def test_totp_without_a_code_is_refused(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("totp")
    assert_v2_error(client.verify(state, devices[0]["device_id"]), 401, FACTOR_FAILED)


def test_sms_request_then_verify(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("sms")
    device = devices[0]["device_id"]
    assert_v2_error(client.verify(state, device, otp_token="654321"), 401, FACTOR_FAILED)
    sent = client.verify(state, device)
    assert sent.status_code == 200
    assert "pending" in sent.json()["message"]
    assert emu.sent_codes == [(device, "654321")]
    assert emu.stats["sms_sent"] == 1
    assert_v2_error(client.verify(state, device, otp_token="111111"), 401, FACTOR_FAILED)
    assert_success(emu, client.verify(state, device, otp_token=emu.last_code(device)))
    assert "654321" in emu.codes_issued


def test_sms_code_is_not_accepted_twice(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("sms")
    device = devices[0]["device_id"]
    client.verify(state, device)
    assert_success(emu, client.verify(state, device, otp_token="654321"))
    state, _ = client.mfa("sms")
    assert_v2_error(client.verify(state, device, otp_token="654321"), 401, FACTOR_FAILED)
    client.verify(state, device)  # a new SMS: the next code
    assert emu.last_code(device) == "123789"
    assert_success(emu, client.verify(state, device, otp_token="123789"))


def test_yubikey(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    otp = yubikey_otp(KEY_ID, 1)
    state, devices = client.mfa("yubi")
    device = devices[0]["device_id"]
    for bad in (yubikey_otp("ccccccvvvvvv", 1), otp[:-1], otp[:-1] + "x", None):
        extra = {} if bad is None else {"otp_token": bad}
        assert_v2_error(client.verify(state, device, **extra), 401, FACTOR_FAILED)
    assert_success(emu, client.verify(state, device, otp_token=otp))
    assert otp in emu.secrets_issued
    state, _ = client.mfa("yubi")  # the replayed OTP is refused, a new one verifies
    assert_v2_error(client.verify(state, device, otp_token=otp), 401, FACTOR_FAILED)
    assert_success(emu, client.verify(state, device, otp_token=yubikey_otp(KEY_ID, 2)))


@pytest.mark.parametrize(("login", "device_type"), [("webauthn", WEBAUTHN), ("duo", DUO)])
def test_devices_a_terminal_cannot_drive_never_complete(
    emu: OneLoginEmulator, login: str, device_type: str
) -> None:
    client = Client(emu)
    state, devices = client.mfa(login)
    assert devices[0]["device_type"] == device_type
    device = devices[0]["device_id"]
    assert_v2_error(client.verify(state, device), 401, FACTOR_FAILED)
    assert_v2_error(client.verify(state, device, otp_token="123456"), 401, FACTOR_FAILED)
    assert emu.issued == []


# -- the state_token --------------------------------------------------------------------------
def test_state_token_lives_120_seconds(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("totp")
    clock.now += 120
    answer = client.verify(state, devices[0]["device_id"], otp_token=totp_at(SECRET, clock()))
    assert_v2_error(answer, 401, STATE_INVALID)
    assert_v2_error(client.verify("0" * 40, devices[0]["device_id"]), 401, STATE_INVALID)


def test_state_token_is_spent_by_success(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("many")
    device = devices[1]["device_id"]
    assert_success(emu, client.verify(state, device, otp_token=totp_at(SECRET, clock())))
    answer = client.verify(state, device, otp_token=totp_at(SECRET, clock() + 30))
    assert_v2_error(answer, 401, STATE_INVALID)


def test_device_and_app_must_match_the_login(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    state, devices = client.mfa("totp")
    _, others = client.mfa("sms")
    assert client.verify(state, others[0]["device_id"], otp_token="1").status_code == 400
    body = {"app_id": "999999", "device_id": str(devices[0]["device_id"]), "state_token": state}
    answer = client.post("/api/2/saml_assertion/verify_factor", body)
    assert answer.status_code == 400
    assert set(answer.json()) == V2_ERROR_KEYS


# -- v1 and the envelope ----------------------------------------------------------------------
def test_v1_paths_answer_in_the_envelope(emu: OneLoginEmulator) -> None:
    client = Client(emu, version=1)
    ok = client.assertion("plain", "plain-pw")
    assert ok.json()["status"] == {
        "type": "success",
        "message": SUCCESS,
        "code": 200,
        "error": False,
    }
    saml_of(ok.json()["data"])
    mfa = client.assertion("push").json()
    assert mfa["status"]["message"] == MFA_REQUIRED
    (data,) = mfa["data"]
    assert data["callback_url"] == f"{emu.base_url}/api/1/saml_assertion/verify_factor"
    device = data["devices"][0]["device_id"]
    pending = client.verify(data["state_token"], device, do_not_notify=False).json()
    assert pending == {
        "status": {"type": "pending", "message": PUSH_PENDING, "code": 200, "error": False},
        "data": None,
    }
    client.verify(data["state_token"], device, do_not_notify=True)
    done = client.verify(data["state_token"], device, do_not_notify=True)
    assert done.json()["data"] in emu.issued
    wrong = client.assertion("plain", "nope")
    assert wrong.status_code == 401
    assert wrong.json() == {
        "status": {"type": "Unauthorized", "message": BAD_CREDENTIALS, "code": 401, "error": True}
    }


def test_v2_paths_may_answer_the_envelope(make: Callable[..., OneLoginEmulator]) -> None:
    emu = make(v2_answers="envelope")
    client = Client(emu)
    answer = client.assertion("plain", "plain-pw").json()
    assert set(answer) == {"status", "data"}
    assert answer["data"] in emu.issued
    mfa = client.assertion("totp").json()
    assert mfa["data"][0]["state_token"] in emu.secrets_issued
    bad = client.assertion("plain", "nope").json()
    assert set(bad["status"]) == ENVELOPE_KEYS


def test_v2_paths_may_be_absent(make: Callable[..., OneLoginEmulator]) -> None:
    emu = make(v2_answers="absent")
    assert Client(emu).assertion("plain", "plain-pw").status_code == 404
    assert Client(emu, version=1).assertion("plain", "plain-pw").status_code == 200


# -- rate limits ------------------------------------------------------------------------------
def test_throttled_calls_get_429_with_seconds_to_wait(
    emu: OneLoginEmulator, clock: EmulatorClock
) -> None:
    client = Client(emu)
    _ = client.token
    emu.throttle(5)
    answer = client.assertion("plain", "plain-pw")
    assert answer.status_code == 429
    assert answer.headers["X-RateLimit-Reset"] == "5"  # seconds, not an epoch time
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Limit" in answer.headers
    assert "Retry-After" not in answer.headers
    assert set(answer.json()) == V2_ERROR_KEYS
    clock.now += 3
    again = client.assertion("plain", "plain-pw")
    assert again.status_code == 429
    assert again.headers["X-RateLimit-Reset"] == "2"
    clock.now += 2
    assert_success(emu, client.assertion("plain", "plain-pw"))
    assert emu.stats["rate_limited"] == 2


def test_rate_limit_counts_calls_per_window(
    make: Callable[..., OneLoginEmulator], clock: EmulatorClock
) -> None:
    emu = make(rate_limit=3, rate_window=60)
    client = Client(emu)
    _ = client.token  # call 1
    first = client.assertion("plain", "plain-pw")  # call 2
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert client.assertion("plain", "plain-pw").status_code == 200  # call 3
    clock.now += 20
    limited = client.assertion("plain", "plain-pw")
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Reset"] == "40"
    clock.now += 40
    assert client.assertion("plain", "plain-pw").status_code == 200
    info = client.http.get(
        f"{emu.base_url}/auth/rate_limit",
        headers={"Authorization": f"bearer:{client.token}"},
        timeout=5,
    ).json()
    assert info["data"] == {
        "X-RateLimit-Limit": 3,
        "X-RateLimit-Remaining": 1,
        "X-RateLimit-Reset": 60,
    }


def test_fail_next_answers_in_the_paths_shape(emu: OneLoginEmulator) -> None:
    client = Client(emu)
    _ = client.token
    emu.fail_next("/api/2/saml_assertion", 429, headers={"X-RateLimit-Reset": "3"})
    answer = client.assertion("plain", "plain-pw")
    assert answer.status_code == 429
    assert answer.headers["X-RateLimit-Reset"] == "3"
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert set(answer.json()) == V2_ERROR_KEYS
    emu.fail_next("/api/2/saml_assertion", 429)  # OneLogin's 429 without its reset header
    assert "X-RateLimit-Reset" not in client.assertion("plain", "plain-pw").headers
    emu.fail_next("/auth/oauth2/v2/token", 500)
    failed = client.get_token()
    assert failed.status_code == 500
    assert set(failed.json()["status"]) == ENVELOPE_KEYS


# -- what the emulator records ----------------------------------------------------------------
def test_log_redacts_the_secrets(emu: OneLoginEmulator, clock: EmulatorClock) -> None:
    client = Client(emu)
    state, devices = client.mfa("totp")
    client.verify(state, devices[0]["device_id"], otp_token=totp_at(SECRET, clock()))
    bodies = [r.body for r in emu.log if r.path.startswith("/api/2/")]
    assert bodies[0]["password"] == REDACTED
    assert bodies[0]["username_or_email"] == "totp"
    assert bodies[1]["state_token"] == REDACTED
    assert bodies[1]["otp_token"] == REDACTED
    assert CLIENT_SECRET in emu.secrets_issued
    assert emu.count("POST", "/api/2/saml_assertion/verify_factor") == 1


def test_secrets_reach_the_process_registry_when_there_is_one(emu: OneLoginEmulator) -> None:
    from samljit.testing import emulator as base

    registry = getattr(base, "ISSUED", None)
    if registry is None:
        pytest.skip("samljit.testing.emulator has no ISSUED registry yet")
    client = Client(emu)
    _ = client.token
    state, _ = client.mfa("sms")
    assert client.token in registry.secrets
    assert state in registry.secrets
