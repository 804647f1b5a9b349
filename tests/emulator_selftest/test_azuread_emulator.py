"""The Entra ID emulator follows shared/protocols/azuread.md; driven with plain requests.

``Browser`` below is the client the protocol page describes (one cookie jar, redirects
followed, ``$Config`` parsed as one JSON value): each test walks one flow through it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from lxml import etree
from signxml.verifier import XMLVerifier

from providers.azuread.signin import credential_type_body
from samljit.tools.sandbox.response import ROLE_ATTRIBUTE, RoleGrant
from tests.emulator_selftest import CERT, SAML, SECRET, EmulatorClock
from tests.emulators.azuread import (
    ADFS_COOKIE,
    ADFS_HOST,
    ESTSAUTH,
    ESTSAUTHPERSISTENT,
    MY_APPS_CLIENT_ID,
    MY_APPS_COOKIE,
    REDACTED,
    START_PATH,
    App,
    AzureAdEmulator,
    Method,
    User,
    config_json,
)
from tests.emulators.common import totp_at

TENANT = "4f1e2d3c-5b6a-4798-8a7b-6c5d4e3f2a1b"
APP = "11111111-2222-4333-8444-555555555555"
OTHER_APP = "99999999-2222-4333-8444-555555555555"  # in the tenant, assigned to nobody
PW = "Correct-Horse-42"
DEV = RoleGrant("arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/Az")
OPS = RoleGrant("arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/Az")
APPS: dict[str, list[RoleGrant] | App] = {APP: [DEV, OPS]}


def push(**kw: Any) -> Method:
    return Method("PhoneAppNotification", **kw)


USERS = [
    User("plain@northwind.example", PW, apps=APPS),
    User("push@northwind.example", PW, [push()], APPS),
    User("deny@northwind.example", PW, [push(push="deny", respond_after=1)], APPS),
    User("timeout@northwind.example", PW, [push(push="timeout", respond_after=3)], APPS),
    User("fraud@northwind.example", PW, [push(push="fraud", respond_after=1)], APPS),
    User("never@northwind.example", PW, [push(push="never")], APPS),
    User(
        "multi@northwind.example",
        PW,
        [
            push(),
            Method("PhoneAppOTP", totp_secret=SECRET),
            Method("OneWaySMS", default=True),
            Method("TwoWayVoiceMobile", display="+X XXXXXXXX17", respond_after=1),
        ],
        APPS,
    ),
    User(
        "later@northwind.example",
        PW,
        [Method("PhoneAppOTP", totp_secret=SECRET)],
        APPS,
        mfa_at="app",
    ),
    User("passkey@northwind.example", PW, [Method("FidoKey")], APPS),
    User("cert@northwind.example", PW, [Method("CertificateBasedAuthentication")], APPS),
    User(
        "nosms@northwind.example",
        PW,
        [Method("OneWaySMS", begin_error="SMSAuthFailedProviderCouldntSendSMS")],
        APPS,
    ),
    User("locked@northwind.example", PW, apps=APPS, locked=True),
    User("disabled@northwind.example", PW, apps=APPS, disabled=True),
    User("unassigned@northwind.example", PW, apps={}),
    User("ops@fabrikam.example", "adfs-pw", apps=APPS),
    *[
        User(f"{name}@northwind.example", PW, apps=APPS, interrupt=name)
        for name in (
            "mfa_registration",
            "mfa_registration_interrupt",
            "mfa_registration_skippable",
            "password_expired",
            "ad_password_expired",
            "external_challenge",
            "device_compliance",
            "hybrid_join",
            "conditional_access",
            "cmsi",
            "bsso",
            "SomethingNewInterrupt",
        )
    ],
    User(
        "ca-mfa@northwind.example",
        PW,
        [push(respond_after=1)],
        APPS,
        interrupt="conditional_access",
    ),
]


@pytest.fixture
def emu(clock: EmulatorClock) -> Iterator[AzureAdEmulator]:
    with AzureAdEmulator(
        USERS,
        tenant_id=TENANT,
        apps=[OTHER_APP],
        federated_domains=["fabrikam.example"],
        clock=clock,
    ) as emulator:
        yield emulator


class Inputs(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, str | None], list[dict[str, str | None]]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append((dict(attrs), []))
        elif tag == "input" and self.forms:
            self.forms[-1][1].append(dict(attrs))


def hidden_form(page: str) -> tuple[str, dict[str, str]]:
    attrs, inputs = Inputs(page).forms[0]
    fields = {str(i["name"]): str(i.get("value") or "") for i in inputs if i.get("name")}
    return str(attrs["action"]), fields


def parse_config(page: str) -> dict[str, Any]:
    """``$Config`` as the page says to read it: one JSON value right after ``$Config=``."""
    start = page.index("$Config=") + len("$Config=")
    value, _end = json.JSONDecoder().raw_decode(page, start)
    assert isinstance(value, dict)
    return value


class Browser:
    """A client as the protocol page describes it."""

    def __init__(self, emu: AzureAdEmulator) -> None:
        self.emu = emu
        self.http = requests.Session()
        self.page: requests.Response | None = None
        self.cfg: dict[str, Any] = {}
        self.flow_token = ""
        self.last: dict[str, Any] = {}

    # pages
    def _took(self, response: requests.Response) -> requests.Response:
        self.page = response
        self.cfg = parse_config(response.text) if "$Config=" in response.text else {}
        self.flow_token = self.cfg.get("sFT", "")
        return response

    def get(self, url: str) -> requests.Response:
        return self._took(self.http.get(url, timeout=5))

    def post_form(self, url: str, fields: dict[str, str]) -> requests.Response:
        return self._took(self.http.post(url, data=fields, timeout=5))

    @property
    def pgid(self) -> str:
        return str(self.cfg.get("pgid", ""))

    def headers(self) -> dict[str, str]:
        return {
            "canary": self.cfg["apiCanary"],
            "hpgrequestid": self.cfg["sessionId"],
            "hpgid": str(self.cfg["hpgid"]),
            "hpgact": str(self.cfg["hpgact"]),
            "client-request-id": self.cfg["correlationId"],
        }

    # steps
    def start(self, app_id: str = APP) -> requests.Response:
        return self.get(self.emu.start_url(app_id))

    def credential_type(self, username: str) -> dict[str, Any]:
        body = credential_type_body(username, self.cfg["sCtx"], self.flow_token)
        reply = self.http.post(
            self.cfg["urlGetCredentialType"], json=body, headers=self.headers(), timeout=5
        )
        assert reply.status_code == 200
        answer: dict[str, Any] = reply.json()
        if answer.get("FlowToken"):
            self.flow_token = answer["FlowToken"]
        return answer

    def password(self, username: str, password: str = PW, **extra: str) -> requests.Response:
        fields = {
            "login": username,
            "loginfmt": username,
            "passwd": password,
            "ctx": self.cfg["sCtx"],
            self.cfg["sFTName"]: self.flow_token,
            "canary": self.cfg["canary"],
            "hpgrequestid": self.cfg["sessionId"],
            "type": "11",
            "LoginOptions": "3",
            "i13": "0",
            **extra,
        }
        return self.post_form(self.cfg["urlPost"], fields)

    def sign_in(self, username: str, password: str = PW, app_id: str = APP) -> requests.Response:
        self.start(app_id)
        assert self.pgid == "ConvergedSignIn"
        assert self.credential_type(username)["IfExistsResult"] == 0
        return self.password(username, password)

    def sas(self, which: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.cfg["urlBeginAuth" if which == "BeginAuth" else "urlEndAuth"]
        reply = self.http.post(url, json=body, headers=self.headers(), timeout=5)
        assert reply.status_code == 200
        answer: dict[str, Any] = reply.json()
        if answer.get("FlowToken"):
            self.flow_token = answer["FlowToken"]
        self.last = answer
        return answer

    def begin(self, method: str) -> dict[str, Any]:
        body = {
            "AuthMethodId": method,
            "Method": "BeginAuth",
            "Ctx": self.cfg["sCtx"],
            "FlowToken": self.flow_token,
        }
        return self.sas("BeginAuth", body)

    def end(self, code: str = "", poll: int = 1) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Method": "EndAuth",
            "SessionId": self.last["SessionId"],
            "FlowToken": self.flow_token,
            "Ctx": self.last["Ctx"],
            "AuthMethodId": self.last["AuthMethodId"],
            "PollCount": poll,
        }
        if code:
            body["AdditionalAuthData"] = code
        return self.sas("EndAuth", body)

    def process(self, method: str, **extra: str) -> requests.Response:
        fields = {
            self.cfg["sFTName"]: self.flow_token,
            "request": self.last["Ctx"],
            "login": self.cfg["sPOST_Username"],
            "mfaAuthMethod": method,
            "canary": self.cfg["canary"],
            "hpgrequestid": self.cfg["sessionId"],
            "rememberMFA": "false",
            **extra,
        }
        return self.post_form(self.cfg["urlPost"], fields)

    def kmsi(self, stay: bool) -> requests.Response:
        assert self.pgid == "KmsiInterrupt"
        fields = {
            "LoginOptions": "1" if stay else "3",
            self.cfg["sFTName"]: self.flow_token,
            "ctx": self.cfg["sCtx"],
            "type": "28",
            "canary": self.cfg["canary"],
        }
        return self.post_form(self.cfg["urlPost"], fields)

    def working(self) -> requests.Response:
        """Post the "Working..." form to My Apps: back at the start URL, signed in."""
        assert self.page is not None
        action, fields = hidden_form(self.page.text)
        assert set(fields) == {"code", "id_token", "state", "session_state"}
        return self.post_form(action, fields)

    def to_app(self) -> requests.Response:
        assert self.page is not None
        match = re.search(r"window\.location = '([^']+)'", self.page.text)
        assert match is not None, self.page.text
        return self.get(match.group(1))

    def finish(self) -> dict[str, str]:
        """Working form → My Apps → RedirectToApplicationPage → the SAMLResponse form."""
        self.working()
        self.to_app()
        return self.saml_fields()

    def saml_fields(self) -> dict[str, str]:
        assert self.page is not None
        action, fields = hidden_form(self.page.text)
        assert action == "https://signin.aws.amazon.com/saml"
        return fields


def signed_in(
    emu: AzureAdEmulator,
    username: str = "plain@northwind.example",
    *,
    app_id: str = APP,
    stay: bool = True,
) -> Browser:
    """A browser past the password and the "stay signed in?" question (``stay``)."""
    browser = Browser(emu)
    browser.sign_in(username, app_id=app_id)
    browser.kmsi(stay=stay)
    return browser


def roles_of(encoded: str) -> list[str]:
    root = etree.fromstring(base64.b64decode(encoded))
    XMLVerifier().verify(etree.tostring(root), x509_cert=CERT)
    path = f".//{{{SAML}}}Attribute[@Name='{ROLE_ATTRIBUTE}']/{{{SAML}}}AttributeValue"
    assert root.findtext(f"{{{SAML}}}Issuer") == f"https://sts.windows.net/{TENANT}/"
    return [v.text for v in root.iterfind(path)]


def push_to_done(b: Browser, method: str = "PhoneAppNotification") -> dict[str, Any]:
    assert b.pgid == "ConvergedTFA"
    assert b.begin(method)["Success"] is True
    for poll in range(1, 10):
        answer = b.end(poll=poll)
        if not answer["Retry"]:
            return answer
    raise AssertionError("still pending")


# -- the pages -------------------------------------------------------------------------------
def test_start_redirects_to_authorize_and_the_sign_in_page(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    first = b.http.get(emu.start_url(APP), allow_redirects=False, timeout=5)
    assert first.status_code == 302
    target = urlsplit(first.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == emu.base_url
    assert target.path == "/common/oauth2/authorize"
    query = parse_qs(target.query)
    assert query["client_id"] == [MY_APPS_CLIENT_ID]
    assert query["redirect_uri"] == [f"{emu.url}/"]
    assert query["response_mode"] == ["form_post"]
    assert query["response_type"] == ["code id_token"]
    assert query["state"][0].startswith("OpenIdConnect.AuthenticationProperties=")
    assert query["nonce"][0]
    page = b.start()
    assert page.status_code == 200
    assert '<meta name="PageID" content="ConvergedSignIn" />' in page.text
    assert "<form" not in page.text  # rendered by script
    cfg = b.cfg
    assert (cfg["pgid"], cfg["hpgid"], cfg["sErrorCode"]) == ("ConvergedSignIn", 1104, "50058")
    assert cfg["sFTName"] == "flowToken"
    assert cfg["sPOST_Username"] == ""
    assert page.headers["x-ms-request-id"] == cfg["sessionId"]
    for key in ("sFT", "sCtx", "canary", "apiCanary", "correlationId", "hpgact"):
        assert cfg[key]
    assert cfg["urlPost"] == f"{emu.base_url}/common/login"
    assert cfg["urlGetCredentialType"] == f"{emu.base_url}/common/GetCredentialType?mkt=en-US"


def test_my_apps_and_the_login_host_are_apart(emu: AzureAdEmulator) -> None:
    """My Apps (``url``) and the login host (``base_url``) are two loopback names: each
    serves only its own paths, and each one's cookies stay on it."""
    assert urlsplit(emu.url).hostname != urlsplit(emu.base_url).hostname
    wrong_start = emu.start_url(APP).replace(emu.url, emu.base_url)
    assert requests.get(wrong_start, allow_redirects=False, timeout=5).status_code == 404
    authorize = f"{emu.url}/common/oauth2/authorize?client_id={MY_APPS_CLIENT_ID}"
    assert requests.get(authorize, timeout=5).status_code == 404
    b = signed_in(emu)
    b.working()
    hosts = {c.name: c.domain for c in b.http.cookies}
    assert hosts[MY_APPS_COOKIE].split(".")[0] == urlsplit(emu.url).hostname
    assert hosts[ESTSAUTHPERSISTENT] == urlsplit(emu.base_url).hostname


def test_config_is_one_line_json_with_escapes_and_script_after_it(emu: AzureAdEmulator) -> None:
    text = Browser(emu).start().text
    line = next(x for x in text.splitlines() if x.startswith("$Config="))
    assert not line.rstrip().endswith("};")  # more script follows on the same line
    with pytest.raises(json.JSONDecodeError):
        json.loads(re.search(r"\$Config=(.*);", line).group(1))  # type: ignore[union-attr]
    assert config_json({"u": "a&b<c>"}) == '{"u":"a\\u0026b\\u003cc\\u003e"}'


def test_absolute_urls_point_to_the_emulator(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    urls = re.findall(r"https?://[^\"'\\ ]+", b.page.text if b.page else "")
    assert urls
    assert all(u.startswith(emu.base_url) for u in urls), urls


# -- home realm discovery --------------------------------------------------------------------
def test_credential_type_known_unknown_and_flow_token(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.start()
    page_token = b.flow_token
    known = b.credential_type("plain@northwind.example")
    assert known["IfExistsResult"] == 0
    assert known["Credentials"]["PrefCredential"] == 1
    assert known["Credentials"]["HasPassword"] is True
    assert known["EstsProperties"]["DomainType"] == 3
    assert "FederationRedirectUrl" not in known["Credentials"]
    assert known["FlowToken"] != page_token
    assert known["apiCanary"] == b.cfg["apiCanary"]
    assert b.credential_type("nobody@northwind.example")["IfExistsResult"] == 1


def test_page_flow_token_also_works_for_the_password(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.start()
    page_token = b.flow_token
    b.credential_type("plain@northwind.example")
    b.flow_token = page_token
    b.password("plain@northwind.example")
    assert b.pgid == "KmsiInterrupt"


def test_api_canary_header_is_required(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.start()
    body = {"username": "plain@northwind.example", "flowToken": b.flow_token}
    reply = b.http.post(b.cfg["urlGetCredentialType"], json=body, timeout=5)
    assert reply.status_code == 400
    assert reply.json()["ErrCode"] == 90100


@pytest.mark.parametrize(
    ("changed", "code", "name"),
    [
        ({"flowToken": None}, 50089, "flowToken"),
        ({"flowToken": "AQABAAEAAAforeign"}, 50089, "flowToken"),
        ({"originalRequest": None}, 90100, "originalRequest"),
        ({"originalRequest": "rQQIARAAother"}, 90100, "originalRequest"),
    ],
    ids=["no-flow-token", "foreign-flow-token", "no-original-request", "other-request"],
)
def test_credential_type_needs_the_flow_token_and_the_request(
    emu: AzureAdEmulator, changed: dict[str, str | None], code: int, name: str
) -> None:
    b = Browser(emu)
    b.start()
    body = {"username": "plain@northwind.example", "isOtherIdpSupported": True}
    body = {**body, "originalRequest": b.cfg["sCtx"], "flowToken": b.flow_token, **changed}
    sent = {k: v for k, v in body.items() if v is not None}
    reply = b.http.post(b.cfg["urlGetCredentialType"], json=sent, headers=b.headers(), timeout=5)
    assert reply.status_code == 400
    answer = reply.json()
    assert (answer["Success"], answer["ErrCode"]) == (False, code)
    assert "IfExistsResult" not in answer  # nothing said about the user
    if code == 90100:
        assert f"The {name} parameter" in answer["Message"]


# -- password --------------------------------------------------------------------------------
def test_no_mfa_kmsi_yes_then_session_reuse(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("plain@northwind.example")
    assert (b.pgid, b.cfg["hpgid"]) == ("KmsiInterrupt", 1115)
    assert b.cfg["urlPost"] == f"{emu.base_url}/kmsi"
    b.kmsi(stay=True)
    assert b.page is not None and "<title>Working...</title>" in b.page.text
    jar = {c.name: c for c in b.http.cookies}
    assert jar[ESTSAUTHPERSISTENT].expires is not None
    assert jar[ESTSAUTH].expires is None
    page = b.working()
    assert 'id="RedirectToApplicationPage"' in page.text
    assert 'name="__VIEWSTATE"' in page.text
    assert MY_APPS_COOKIE in b.http.cookies
    b.to_app()
    fields = b.saml_fields()
    assert roles_of(fields["SAMLResponse"]) == [
        f"{DEV.role_arn},{DEV.principal_arn}",
        f"{OPS.role_arn},{OPS.principal_arn}",
    ]
    assert "RelayState" not in fields
    # a new run with only the ESTS cookies: no sign-in page, no password
    again = requests.Session()
    again.cookies.set(ESTSAUTHPERSISTENT, str(jar[ESTSAUTHPERSISTENT].value))
    c = Browser(emu)
    c.http = again
    posts = emu.count("POST", "/common/login")
    c.start()
    assert c.pgid == ""  # the Working form at once
    assert "SAMLResponse" in c.finish()
    assert emu.count("POST", "/common/login") == posts


def test_kmsi_no_keeps_a_session_cookie_only(emu: AzureAdEmulator) -> None:
    b = signed_in(emu, stay=False)
    names = {c.name for c in b.http.cookies}
    assert ESTSAUTH in names
    assert ESTSAUTHPERSISTENT not in names
    assert "SAMLResponse" in b.finish()


def test_expired_session_shows_the_sign_in_page_again(emu: AzureAdEmulator) -> None:
    b = signed_in(emu)
    b.finish()
    b.start()  # signed in to My Apps and ESTS: straight to the app
    assert "RedirectToApplicationPage" in (b.page.text if b.page else "")
    b.to_app()
    assert "SAMLResponse" in b.saml_fields()
    emu.expire_sessions(my_apps=False)
    b.start()  # My Apps still knows us: on to the app, where ESTS asks again
    b.to_app()
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedSignIn", "50058")
    assert b.cfg["urlPost"] == f"{emu.base_url}/{TENANT}/login"
    b.password("plain@northwind.example")
    b.kmsi(stay=True)
    assert "SAMLResponse" in b.saml_fields()  # the saml2 flow ends at the assertion
    emu.expire_sessions()
    b.start()
    assert b.pgid == "ConvergedSignIn"


def test_kmsi_off(clock: EmulatorClock) -> None:
    with AzureAdEmulator(USERS[:1], tenant_id=TENANT, kmsi=False, clock=clock) as emu:
        b = Browser(emu)
        b.sign_in("plain@northwind.example")
        assert b.page is not None and "<title>Working...</title>" in b.page.text
        assert {c.name for c in b.http.cookies} >= {ESTSAUTH}
        assert "SAMLResponse" in b.finish()


@pytest.mark.parametrize(
    ("username", "password", "code", "words"),
    [
        ("plain@northwind.example", "wrong", "50126", "Your account or password is incorrect"),
        ("nobody@northwind.example", PW, "50034", "couldn't find an account"),
        ("locked@northwind.example", PW, "50053", "locked"),
        ("disabled@northwind.example", PW, "50057", "disabled"),
    ],
)
def test_password_errors(
    emu: AzureAdEmulator, username: str, password: str, code: str, words: str
) -> None:
    b = Browser(emu)
    b.start()
    b.credential_type(username)
    b.password(username, password)
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedSignIn", code)
    assert words in b.cfg["sErrTxt"]
    assert b.cfg["sPOST_Username"] == username


def test_canary_and_ctx_are_required(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.start()
    reply = b.password("plain@northwind.example", canary="")
    assert reply.status_code == 400
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "90100")
    assert b.cfg["strServiceExceptionMessage"].startswith("AADSTS90100: ")
    b.start()
    b.password("plain@northwind.example", ctx="other")
    assert b.cfg["sErrorCode"] == "90100"


def test_spent_foreign_and_expired_flow_tokens(emu: AzureAdEmulator, clock: EmulatorClock) -> None:
    b = Browser(emu)
    b.start()
    spent = b.flow_token
    b.password("plain@northwind.example", "wrong")
    old_cfg = dict(b.cfg)
    b.flow_token = spent
    b.password("plain@northwind.example")
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "50089")
    b.cfg = old_cfg
    b.flow_token = "AQABAAEAAAforeign"
    b.password("plain@northwind.example")
    assert b.cfg["sErrorCode"] == "50089"
    b.start()
    clock.now += 3601
    try:
        b.password("plain@northwind.example")
        assert b.cfg["sErrorCode"] == "50089"
    finally:
        clock.now -= 3601


# -- second factor ---------------------------------------------------------------------------
def test_tfa_page(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    cfg = b.cfg
    assert (cfg["pgid"], cfg["hpgid"]) == ("ConvergedTFA", 1114)
    assert [p["authMethodId"] for p in cfg["arrUserProofs"]] == [
        "PhoneAppNotification",
        "PhoneAppOTP",
        "OneWaySMS",
        "TwoWayVoiceMobile",
    ]
    assert [p["isDefault"] for p in cfg["arrUserProofs"]] == [False, False, True, False]
    assert cfg["arrUserProofs"][3] == {
        "authMethodId": "TwoWayVoiceMobile",
        "data": "TwoWayVoiceMobile",
        "display": "+X XXXXXXXX17",
        "isDefault": False,
        "isLocationAware": False,
    }
    assert cfg["urlBeginAuth"] == f"{emu.base_url}/common/SAS/BeginAuth"
    assert cfg["urlEndAuth"] == f"{emu.base_url}/common/SAS/EndAuth"
    assert cfg["urlPost"] == f"{emu.base_url}/common/SAS/ProcessAuth"
    assert cfg["oPerAuthPollingInterval"] == {"PhoneAppNotification": 1.0, "TwoWayVoiceMobile": 1.0}
    assert (cfg["iMaxPollAttempts"], cfg["iPollingTimeout"]) == (60, 60000)
    assert cfg["sPOST_Username"] == "multi@northwind.example"
    assert cfg["urlSkipMfaRegistration"] == ""


def test_push_with_number_matching_approved(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    begun = b.begin("PhoneAppNotification")
    assert begun["Success"] is True and begun["ResultValue"] == "Success"
    assert 10 <= begun["Entropy"] <= 99
    assert emu.entropies[-1] == begun["Entropy"]
    pending = b.end(poll=1)
    assert (pending["Success"], pending["ResultValue"], pending["Retry"]) == (
        False,
        "AuthenticationPending",
        True,
    )
    approved = b.end(poll=2)
    assert (approved["Success"], approved["ResultValue"]) == (True, "Success")
    assert approved["Ctx"] != b.cfg["sCtx"]  # a new Ctx for ProcessAuth
    b.process("PhoneAppNotification")
    assert b.pgid == "KmsiInterrupt"
    b.kmsi(stay=True)
    assert "SAMLResponse" in b.finish()


def test_push_approval_counts_polls(clock: EmulatorClock) -> None:
    user = User("p@northwind.example", PW, [push(respond_after=5)], APPS)
    with AzureAdEmulator([user], tenant_id=TENANT, clock=clock) as emu:
        b = Browser(emu)
        b.sign_in(user.upn)
        b.begin("PhoneAppNotification")
        results = [b.end(poll=n)["ResultValue"] for n in range(1, 6)]
        assert results == ["AuthenticationPending"] * 4 + ["Success"]
        assert emu.count("POST", "/common/SAS/EndAuth") == 5


@pytest.mark.parametrize(
    ("user", "result", "polls"),
    [
        ("deny", "PhoneAppDenied", 1),
        ("timeout", "PhoneAppNoResponse", 3),
        ("fraud", "PhoneAppFraudReported", 1),
    ],
)
def test_push_refused(emu: AzureAdEmulator, user: str, result: str, polls: int) -> None:
    b = Browser(emu)
    b.sign_in(f"{user}@northwind.example")
    answer = push_to_done(b)
    assert (answer["Success"], answer["ResultValue"], answer["Retry"]) == (False, result, False)
    assert answer["ErrCode"] == 500121
    assert answer["Message"]
    assert emu.log[-1].body["PollCount"] == polls
    again = b.end(poll=polls + 1)
    assert again["ResultValue"] == "InvalidSession"
    b.process("PhoneAppNotification")
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "500121")


def test_push_times_out_on_the_clock(emu: AzureAdEmulator, clock: EmulatorClock) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    b.begin("PhoneAppNotification")
    clock.now += 61
    try:
        assert b.end()["ResultValue"] == "PhoneAppNoResponse"
    finally:
        clock.now -= 61


def test_push_never_answered_stays_pending(emu: AzureAdEmulator, clock: EmulatorClock) -> None:
    b = Browser(emu)
    b.sign_in("never@northwind.example")
    b.begin("PhoneAppNotification")
    clock.now += 600
    try:
        for poll in range(1, 5):
            assert b.end(poll=poll)["ResultValue"] == "AuthenticationPending"
    finally:
        clock.now -= 600


def test_voice_call_is_polled_like_a_push(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    begun = b.begin("TwoWayVoiceMobile")
    assert (begun["Success"], begun["Entropy"]) == (True, 0)
    assert b.end()["Success"] is True


def test_totp(emu: AzureAdEmulator, clock: EmulatorClock) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    begun = b.begin("PhoneAppOTP")
    assert (begun["Success"], begun["Entropy"]) == (True, 0)
    code = totp_at(SECRET, clock.now)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    bad = b.end(wrong)
    assert (bad["Success"], bad["ResultValue"], bad["Retry"]) == (False, "OathCodeIncorrect", False)
    good = b.end(code)
    assert (good["Success"], good["ResultValue"]) == (True, "Success")
    b.process("PhoneAppOTP")
    assert b.pgid == "KmsiInterrupt"
    body = next(r.body for r in reversed(emu.log) if r.path == "/common/SAS/EndAuth")
    assert body["AdditionalAuthData"] == REDACTED


def test_a_used_code_is_refused(clock: EmulatorClock) -> None:
    """A code proves the factor once: a later sign-in with it is OathCodeIncorrect."""
    user = User("otp@northwind.example", PW, [Method("PhoneAppOTP", totp_secret=SECRET)], APPS)
    with AzureAdEmulator([user], tenant_id=TENANT, clock=clock) as own:
        code = totp_at(SECRET, clock.now)
        first = Browser(own)
        first.sign_in(user.upn)
        first.begin("PhoneAppOTP")
        assert first.end(code)["Success"] is True
        again = Browser(own)
        again.sign_in(user.upn)
        again.begin("PhoneAppOTP")
        replayed = again.end(code)
        assert (replayed["Success"], replayed["ResultValue"]) == (False, "OathCodeIncorrect")
        assert again.end(totp_at(SECRET, clock.now + 30))["Success"] is True  # a fresh one


def test_sas_calls_need_the_ctx(emu: AzureAdEmulator) -> None:
    """BeginAuth takes the page's sCtx, EndAuth the last answer's Ctx; another is refused."""
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    body = {"AuthMethodId": "PhoneAppNotification", "Method": "BeginAuth"}
    for ctx in ("", "rQQIARAAother"):
        sent = {**body, "FlowToken": b.flow_token, **({"Ctx": ctx} if ctx else {})}
        reply = b.http.post(b.cfg["urlBeginAuth"], json=sent, headers=b.headers(), timeout=5)
        assert reply.status_code == 400
        assert reply.json()["ErrCode"] == 90100
        assert "The Ctx parameter" in reply.json()["Message"]
    b.begin("PhoneAppNotification")
    sent = {"Method": "EndAuth", "SessionId": b.last["SessionId"], "FlowToken": b.flow_token}
    sent.update(Ctx="rQQIARAAother", AuthMethodId="PhoneAppNotification", PollCount=1)
    reply = b.http.post(b.cfg["urlEndAuth"], json=sent, headers=b.headers(), timeout=5)
    assert reply.status_code == 400
    assert reply.json()["ErrCode"] == 90100


@pytest.mark.parametrize(
    ("changed", "name"),
    [
        ({"login": "plain@northwind.example"}, "login"),
        ({"login": ""}, "login"),
        ({"mfaAuthMethod": "PhoneAppOTP"}, "mfaAuthMethod"),
        ({"mfaAuthMethod": ""}, "mfaAuthMethod"),
    ],
    ids=["other-login", "no-login", "other-method", "no-method"],
)
def test_process_auth_checks_login_and_method(
    emu: AzureAdEmulator, changed: dict[str, str], name: str
) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    assert push_to_done(b)["Success"] is True
    reply = b.process("PhoneAppNotification", **changed)
    assert reply.status_code == 400
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "90100")
    assert f"The {name} parameter" in b.cfg["strServiceExceptionMessage"]


def test_totp_max_attempts(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    b.begin("PhoneAppOTP")
    assert b.end("000000")["ResultValue"] == "OathCodeIncorrect"
    assert b.end("000001")["ResultValue"] == "OathCodeIncorrect"
    last = b.end("000002")
    assert (last["ResultValue"], last["ErrCode"]) == (
        "OathCodeFailedMaxAllowedRetryReached",
        500121,
    )
    assert b.end("000003")["ResultValue"] == "InvalidSession"


def test_sms(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    assert b.begin("OneWaySMS")["Success"] is True
    code = emu.sms_codes("multi@northwind.example")[-1]
    assert len(code) == 6
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert b.end(wrong)["ResultValue"] == "SMSAuthFailedWrongCodeEntered"
    assert b.end(code)["Success"] is True
    b.process("OneWaySMS")
    b.kmsi(stay=False)
    assert "SAMLResponse" in b.finish()


def test_sms_max_attempts(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("multi@northwind.example")
    b.begin("OneWaySMS")
    results = [b.end(f"99999{n}")["ResultValue"] for n in range(3)]
    assert results[-1] == "SMSAuthFailedMaxAllowedCodeRetryReached"


def test_begin_auth_refusals(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("nosms@northwind.example")
    failed = b.begin("OneWaySMS")
    assert (failed["Success"], failed["ResultValue"]) == (
        False,
        "SMSAuthFailedProviderCouldntSendSMS",
    )
    assert b.begin("PhoneAppOTP")["ResultValue"] == "AuthMethodNotOffered"


def test_key_case_is_accepted_either_way(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    body = {
        "authMethodId": "PhoneAppNotification",
        "method": "BeginAuth",
        "ctx": b.cfg["sCtx"],
        "flowToken": b.flow_token,
    }
    assert b.sas("BeginAuth", body)["Success"] is True


def test_sas_calls_need_the_newest_token_and_the_canary(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    page_token = b.flow_token
    b.begin("PhoneAppNotification")
    b.flow_token = page_token  # spent by BeginAuth
    stale = b.end()
    assert (stale["Success"], stale["ErrCode"]) == (False, 50089)
    c = Browser(emu)
    c.sign_in("push@northwind.example")
    body = {"AuthMethodId": "PhoneAppNotification", "FlowToken": c.flow_token, "Ctx": "x"}
    reply = c.http.post(c.cfg["urlBeginAuth"], json=body, timeout=5)
    assert reply.status_code == 400


def test_end_auth_by_get(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    b.begin("PhoneAppNotification")
    query = {"SessionId": b.last["SessionId"], "FlowToken": b.flow_token, "Ctx": b.last["Ctx"]}
    reply = b.http.get(b.cfg["urlEndAuth"], params=query, headers=b.headers(), timeout=5)
    assert reply.json()["ResultValue"] == "AuthenticationPending"


def test_skipping_the_factor(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("push@northwind.example")
    tfa = dict(b.cfg)
    b.post_form(
        f"{emu.base_url}/kmsi",
        {"LoginOptions": "1", "flowToken": b.flow_token, "canary": tfa["canary"]},
    )
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "50074")
    c = Browser(emu)
    c.sign_in("push@northwind.example")
    c.begin("PhoneAppNotification")
    c.process("PhoneAppNotification")  # before the phone said yes
    assert c.cfg["sErrorCode"] == "500121"


def test_mfa_after_the_app_redirect(emu: AzureAdEmulator, clock: EmulatorClock) -> None:
    b = signed_in(emu, "later@northwind.example")
    b.working()
    b.to_app()
    assert b.pgid == "ConvergedTFA"
    b.begin("PhoneAppOTP")
    b.end(totp_at(SECRET, clock.now))
    b.process("PhoneAppOTP")
    assert "SAMLResponse" in b.saml_fields()
    b.start()
    b.to_app()
    assert "SAMLResponse" in b.saml_fields()  # the session now has the factor


# -- federation ------------------------------------------------------------------------------
def test_federated_domain(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.start()
    answer = b.credential_type("ops@fabrikam.example")
    assert answer["EstsProperties"]["DomainType"] == 4
    assert answer["Credentials"]["PrefCredential"] == 4
    url = answer["Credentials"]["FederationRedirectUrl"]
    assert url.startswith(f"{emu.adfs_url}/adfs/ls/?")
    query = parse_qs(urlsplit(url).query)
    assert query["username"] == ["ops@fabrikam.example"]
    assert query["wa"] == ["wsignin1.0"]
    assert query["wtrealm"] == ["urn:federation:MicrosoftOnline"]
    login = b.http.get(url, timeout=5)
    action, fields = hidden_form(login.text)
    assert fields["AuthMethod"] == "FormsAuthentication"
    target = f"{emu.adfs_url}{action}".replace("&amp;", "&")
    wrong = b.http.post(target, data={**fields, "Password": "nope"}, timeout=5)
    assert "Incorrect user ID or password" in wrong.text
    assert ADFS_COOKIE not in b.http.cookies  # no session for a wrong password
    posted = b.http.post(target, data={**fields, "Password": "adfs-pw"}, timeout=5)
    action, wsfed = hidden_form(posted.text)
    assert action == f"{emu.base_url}/login.srf"
    assert set(wsfed) == {"wa", "wresult", "wctx"}
    # AD FS's session: on its own host only (no Domain), under /adfs, without an expiry
    (session,) = [c for c in b.http.cookies if c.name == ADFS_COOKIE]
    assert (session.domain, session.path, session.expires) == (ADFS_HOST, "/adfs", None)
    assert not session.domain_specified
    b.post_form(action, wsfed)
    assert b.pgid == "KmsiInterrupt"
    b.kmsi(stay=True)
    assert "SAMLResponse" in b.finish()
    assert not any(
        r.body.get("login") == "ops@fabrikam.example" for r in emu.log if r.path == "/common/login"
    )


def test_adfs_is_a_host_of_its_own(emu: AzureAdEmulator) -> None:
    """AD FS answers on a third loopback name, its own port: the login host has no
    ``/adfs/ls``, AD FS nothing but it."""
    assert urlsplit(emu.adfs_url).hostname == ADFS_HOST
    assert ADFS_HOST not in {urlsplit(emu.url).hostname, urlsplit(emu.base_url).hostname}
    assert requests.get(f"{emu.adfs_url}/adfs/ls/", timeout=5).status_code == 200
    assert requests.get(f"{emu.base_url}/adfs/ls/", timeout=5).status_code == 404
    assert requests.get(f"{emu.url}/adfs/ls/", timeout=5).status_code == 404
    for path in ("/common/oauth2/authorize", "/login.srf", "/kmsi", START_PATH, "/"):
        assert requests.get(f"{emu.adfs_url}{path}", timeout=5).status_code == 404, path
        assert requests.post(f"{emu.adfs_url}{path}", timeout=5).status_code == 404, path


def test_adfs_session_signs_the_user_in_again_without_the_form(emu: AzureAdEmulator) -> None:
    """With its ``MSISAuth`` cookie AD FS answers the next federation redirect for the same
    user with the token at once; for another user, or once AD FS ended its sessions, with
    the sign-in form."""
    b = Browser(emu)
    b.start()
    url = b.credential_type("ops@fabrikam.example")["Credentials"]["FederationRedirectUrl"]
    action, fields = hidden_form(b.http.get(url, timeout=5).text)
    target = f"{emu.adfs_url}{action}".replace("&amp;", "&")
    b.http.post(target, data={**fields, "Password": "adfs-pw"}, timeout=5)
    again = b.http.get(url, timeout=5)
    action, wsfed = hidden_form(again.text)
    assert (action, set(wsfed)) == (f"{emu.base_url}/login.srf", {"wa", "wresult", "wctx"})
    other = url.replace("username=ops%40fabrikam.example", "username=dev%40fabrikam.example")
    assert other != url
    assert "passwordInput" in b.http.get(other, timeout=5).text
    emu.expire_sessions(adfs=True)
    assert "passwordInput" in b.http.get(url, timeout=5).text


def test_password_post_for_a_federated_user_goes_to_the_federated_idp(
    emu: AzureAdEmulator,
) -> None:
    b = Browser(emu)
    b.start()
    reply = b.http.post(
        b.cfg["urlPost"],
        data={
            "login": "ops@fabrikam.example",
            "passwd": "x",
            "ctx": b.cfg["sCtx"],
            "flowToken": b.flow_token,
            "canary": b.cfg["canary"],
        },
        allow_redirects=False,
        timeout=5,
    )
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith(f"{emu.adfs_url}/adfs/ls/?")


# -- interrupts and errors -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "pgid", "code"),
    [
        ("mfa_registration", "ConvergedProofUpRedirect", "50079"),
        ("mfa_registration_interrupt", "ConvergedProofUpRedirect", "50072"),
        ("password_expired", "ConvergedChangePassword", "50055"),
        ("ad_password_expired", "ConvergedChangePassword", "50144"),
        ("external_challenge", "ConvergedError", "50158"),
        ("device_compliance", "ConvergedError", "53000"),
        ("hybrid_join", "ConvergedError", "53001"),
        ("conditional_access", "ConvergedError", "53003"),
        ("cmsi", "CmsiInterrupt", ""),
        ("bsso", "BssoInterrupt", ""),
        ("SomethingNewInterrupt", "SomethingNewInterrupt", ""),
    ],
)
def test_interrupts(emu: AzureAdEmulator, name: str, pgid: str, code: str) -> None:
    b = Browser(emu)
    b.sign_in(f"{name}@northwind.example")
    assert (b.pgid, b.cfg["sErrorCode"]) == (pgid, code)
    if pgid == "ConvergedError":
        assert b.cfg["strServiceExceptionMessage"].startswith(f"AADSTS{code}: ")
    if pgid == "ConvergedProofUpRedirect":
        assert (b.cfg["urlSkipMfaRegistration"], b.cfg["iRemainingDaysToSkipMfaRegistration"]) == (
            "",
            0,
        )


def test_skippable_mfa_registration(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("mfa_registration_skippable@northwind.example")
    assert b.pgid == "ConvergedProofUpRedirect"
    assert b.cfg["iRemainingDaysToSkipMfaRegistration"] == 14
    skip = b.cfg["urlSkipMfaRegistration"]
    assert skip.startswith(emu.base_url)
    b.get(skip)
    assert b.pgid == "KmsiInterrupt"
    b.kmsi(stay=True)
    assert "SAMLResponse" in b.finish()


def test_conditional_access_after_the_factor(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.sign_in("ca-mfa@northwind.example")
    assert push_to_done(b)["Success"] is True
    b.process("PhoneAppNotification")
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "53003")


@pytest.mark.parametrize("user", ["passkey", "cert"])
def test_methods_a_terminal_cannot_use(emu: AzureAdEmulator, user: str) -> None:
    b = Browser(emu)
    b.sign_in(f"{user}@northwind.example")
    assert b.pgid == "ConvergedTFA"
    (only,) = b.cfg["arrUserProofs"]
    assert only["isDefault"] is True
    assert b.begin(only["authMethodId"])["ResultValue"] == "AuthMethodNotSupported"


def test_unassigned_user_gets_50105(emu: AzureAdEmulator) -> None:
    b = signed_in(emu, app_id=OTHER_APP)
    b.working()
    b.to_app()
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "50105")
    c = signed_in(emu, "unassigned@northwind.example", stay=False)
    c.working()
    c.to_app()
    assert c.cfg["sErrorCode"] == "50105"


def test_unknown_app_gets_700016(emu: AzureAdEmulator) -> None:
    b = signed_in(emu, app_id="00000000-dead-beef-0000-000000000000")
    b.working()
    b.to_app()
    assert (b.pgid, b.cfg["sErrorCode"]) == ("ConvergedError", "700016")
    assert "00000000-dead-beef" in b.cfg["strServiceExceptionMessage"]


def test_redirect_page_must_not_be_posted(emu: AzureAdEmulator) -> None:
    reply = requests.post(emu.start_url(APP), data={"__VIEWSTATE": "x"}, timeout=5)
    assert reply.status_code == 500


def test_sp_initiated_start(emu: AzureAdEmulator) -> None:
    b = Browser(emu)
    b.get(emu.saml2_url(APP, relay_state="https://console.aws.amazon.com/"))
    assert b.pgid == "ConvergedSignIn"
    b.credential_type("plain@northwind.example")
    b.password("plain@northwind.example")
    b.kmsi(stay=True)
    fields = b.saml_fields()
    assert fields["RelayState"] == "https://console.aws.amazon.com/"
    bad_tenant = b.get(emu.saml2_url(APP).replace(TENANT, "contoso.example"))
    assert bad_tenant.status_code == 200 and b.cfg["sErrorCode"] == "90002"
    b.get(f"{emu.base_url}/{TENANT}/saml2")
    assert b.cfg["sErrorCode"] == "750054"


def test_app_identifier_and_options(clock: EmulatorClock) -> None:
    app = App(roles=[DEV], relay_state="rs-1", identifier="https://signin.aws.amazon.com/saml#2")
    user = User("a@northwind.example", PW, apps={APP: app}, role_order="principal-first")
    with AzureAdEmulator([user], tenant_id=TENANT, sign_target="both", clock=clock) as emu:
        b = Browser(emu)
        b.sign_in(user.upn)
        b.kmsi(stay=True)
        b.working()
        assert "SAMLRequest=" in (b.page.text if b.page else "")
        b.to_app()
        fields = b.saml_fields()
        assert fields["RelayState"] == "rs-1"
        assert roles_of(fields["SAMLResponse"]) == [f"{DEV.principal_arn},{DEV.role_arn}"]
        b.get(emu.saml2_url("https://signin.aws.amazon.com/saml#2"))
        assert "SAMLResponse" in b.saml_fields()


# -- hooks -----------------------------------------------------------------------------------
def test_log_is_redacted(emu: AzureAdEmulator) -> None:
    b = signed_in(emu)
    b.finish()
    assert PW not in repr(emu.log)
    login = next(r for r in reversed(emu.log) if r.path == "/common/login")
    assert login.body["passwd"] == REDACTED
    assert login.body["login"] == "plain@northwind.example"
    callback = next(r for r in reversed(emu.log) if r.path == "/" and r.method == "POST")
    assert callback.body["code"] == REDACTED
    assert emu.issued[-1] not in repr(emu.log)


def test_fail_next(emu: AzureAdEmulator) -> None:
    emu.fail_next("/common/oauth2/authorize", 503, body="<html>down</html>")
    b = Browser(emu)
    down = b.start()
    assert (down.status_code, down.text) == (503, "<html>down</html>")
    assert b.start().status_code == 200


def test_runs_as_a_module() -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "tests.emulators.azuread", "--help"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert "--port" in done.stdout
