"""The Ping emulators (PingFederate, PingID, PingOne) follow shared/protocols/ping.md; driven
with plain requests the way the page says a client must."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from lxml import etree, html
from signxml.verifier import XMLVerifier

from samljit.testing.fakes import FakeClock
from samljit.tools.sandbox.response import ROLE_ATTRIBUTE, RoleGrant
from tests.emulator_selftest import CERT, SAML, SECRET
from tests.emulators.common import totp_at
from tests.emulators.ping import (
    ACCOUNT_LOCKED,
    AUTHN_FAILED,
    AWS_SIGNIN,
    BAD_CREDENTIALS,
    CLAIM_TIMEOUT,
    CSRF_COOKIE,
    DENIED,
    OK,
    PASSCODE_LOCKED,
    PASSCODE_WRONG,
    PF_COOKIE,
    PINGID_EXPIRED,
    PINGID_INVALID,
    PINGONE_COOKIE,
    PUSH_DENIED,
    PUSH_TIMED_OUT,
    SESSION_COOKIE,
    TIMEOUT,
    WAIT,
    Device,
    PingEmulators,
    PingUser,
    yubikey_otp,
)

DESK_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
OPS = RoleGrant(
    "arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/Ping"
)
KEYS = [yubikey_otp(), yubikey_otp()]


def users() -> list[PingUser]:
    return [
        PingUser("plain@acme.example", "plain-pw", roles=[OPS]),
        PingUser("locked@acme.example", "pw", roles=[OPS], locked=True),
        PingUser(
            "push@acme.example",
            "pw",
            roles=[OPS],
            devices=[Device("iPhone", totp_secret=SECRET, number=42)],
        ),
        PingUser(
            "many@acme.example",
            "pw",
            roles=[OPS],
            choose_device=True,
            default="iPhone",
            devices=[
                Device("Work laptop", "desktop", totp_secret=DESK_SECRET),
                Device("iPhone", totp_secret=SECRET),
                Device("YubiKey", "yubikey", yubikey_codes=KEYS),
                Device("Mobile", "sms"),
            ],
        ),
    ]


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str]


@dataclass
class Page:
    url: str
    status: int
    text: str
    doc: Any

    def form(self, css: str = "form") -> Form:
        [node] = self.doc.cssselect(css)
        fields = {i.get("name"): i.get("value") or "" for i in node.cssselect("input[name]")}
        return Form((node.get("method") or "GET").upper(), node.get("action"), fields)

    def has(self, css: str) -> bool:
        return bool(self.doc.cssselect(css))

    def text_of(self, css: str) -> str:
        return " ".join(n.text_content().strip() for n in self.doc.cssselect(css)).strip()

    @property
    def title(self) -> str:
        return self.text_of("title")


class Client:
    """A browser without JavaScript: cookies per host, forms submitted with every field."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def _page(self, response: requests.Response) -> Page:
        doc = html.fromstring(response.text or "<html/>")
        doc.make_links_absolute(response.url, resolve_base_href=True)
        return Page(response.url, response.status_code, response.text, doc)

    def get(self, url: str, **params: str) -> Page:
        return self._page(self.http.get(url, params=params, timeout=10))

    def submit(self, form: Form, **changes: str) -> Page:
        data = {**form.fields, **changes}
        if form.method == "GET":
            return self._page(self.http.get(form.action, params=data, timeout=10))
        return self._page(self.http.post(form.action, data=data, timeout=10))

    def status(self, page: Page) -> str:
        form = page.form("form#form1")
        answer = self.http.get(form.action, params=form.fields, timeout=10)
        status: str = answer.json()["status"]
        return status

    def login(self, page: Page, username: str, password: str) -> Page:
        return self.submit(
            page.form(), **{"pf.username": username, "pf.pass": password, "pf.ok": "clicked"}
        )

    def cookie_hosts(self, name: str) -> set[str]:
        return {c.domain for c in self.http.cookies if c.name == name}


def saml_of(page: Page) -> tuple[str, etree._Element]:
    form = page.form()
    value = form.fields["SAMLResponse"]
    root = etree.fromstring(base64.b64decode(value))
    return form.action, root


def roles_in(root: etree._Element) -> list[str]:
    return [
        v.text or ""
        for a in root.iter(f"{{{SAML}}}Attribute")
        if a.get("Name") == ROLE_ATTRIBUTE
        for v in a.iter(f"{{{SAML}}}AttributeValue")
    ]


def now_of(clock: FakeClock) -> Callable[[], float]:
    return lambda: clock.now().timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ping(clock: FakeClock) -> Iterator[PingEmulators]:
    with PingEmulators(users(), clock=now_of(clock)) as emulators:
        yield emulators


@pytest.fixture
def client() -> Client:
    return Client()


def to_pingid(ping: PingEmulators, client: Client, user: str = "push@acme.example") -> Page:
    """Through PF's password page and the ppm_request auto-post: PingID's first page."""
    autopost = client.login(client.get(ping.ping_url), user, "pw")
    form = autopost.form()
    assert form.action == f"{ping.pingid.base_url}/pingid/ppm/auth"
    assert set(form.fields) == {"idp_account_id", "ppm_request"}
    assert autopost.title == "Submit Form"
    return client.submit(form)


def back_to_aws(client: Client, page: Page) -> Page:
    """Post PingID's ppm_response page to PF: the SAMLResponse page."""
    form = page.form("form#form1")
    assert set(form.fields) == {"ppm_response"} and not page.has("form#reponseView")
    return client.submit(form)


# -- PingFederate -----------------------------------------------------------------------------
def test_login_page_has_a_per_login_action_under_base_href(
    ping: PingEmulators, client: Client
) -> None:
    first = client.get(ping.ping_url)
    assert first.status == 200 and first.title == "Sign On"
    assert f'<base href="{ping.pf.base_url}/"/>' in first.text
    raw_action = re.search(r'<form method="POST" action="([^"]+)"', first.text)
    assert raw_action and re.fullmatch(
        r"/idp/\w{5}/resumeSAML20/idp/startSSO\.ping", raw_action.group(1)
    )
    form = first.form()
    assert form.method == "POST" and form.action.startswith(ping.pf.base_url + "/idp/")
    assert form.fields == {
        "pf.username": "",
        "pf.pass": "",
        "pf.ok": "",
        "pf.cancel": "",
        "pf.adapterId": "HTMLFormAdapter",
    }
    assert client.get(ping.ping_url).form().action != form.action


def test_user_without_mfa_gets_a_signed_response_for_aws_and_a_session_cookie(
    ping: PingEmulators, client: Client
) -> None:
    page = client.login(client.get(ping.ping_url), "plain@acme.example", "plain-pw")
    action, root = saml_of(page)
    assert action == AWS_SIGNIN and page.title == "Submit Form"
    assert roles_in(root) == [f"{OPS.role_arn},{OPS.principal_arn}"]
    assert page.form().fields["RelayState"] == ""
    XMLVerifier().verify(etree.tostring(root), x509_cert=CERT)  # the Response's signature
    assert (
        root.find(f"{{{SAML}}}Assertion/{{http://www.w3.org/2000/09/xmldsig#}}Signature")
        is not None
    )
    [cookie] = [c for c in client.http.cookies if c.name == PF_COOKIE]
    assert cookie.expires is None and cookie.domain == "127.0.0.1"
    assert cookie.value in ping.issued_cookies and page.form().fields["SAMLResponse"] in ping.issued


def test_post_without_the_click_shows_the_page_again(ping: PingEmulators, client: Client) -> None:
    page = client.get(ping.ping_url)
    again = client.submit(
        page.form(), **{"pf.username": "plain@acme.example", "pf.pass": "plain-pw"}
    )
    assert again.title == "Sign On" and again.form().action == page.form().action
    assert ping.password_posts == 0


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("plain@acme.example", "wrong", BAD_CREDENTIALS),
        ("nobody@acme.example", "plain-pw", BAD_CREDENTIALS),
        ("locked@acme.example", "pw", ACCOUNT_LOCKED),
    ],
)
def test_refusals_are_the_login_page_with_a_ping_error(
    ping: PingEmulators, client: Client, username: str, password: str, message: str
) -> None:
    page = client.get(ping.ping_url)
    refused = client.login(page, username, password)
    assert refused.status == 200 and refused.title == "Sign On"
    assert refused.text_of(".ping-messages .ping-error") == message
    assert refused.form().action == page.form().action
    assert ping.password_posts == 1 and PF_COOKIE not in client.http.cookies


def test_lock_after_locks_the_account(clock: FakeClock, client: Client) -> None:
    with PingEmulators(users(), clock=now_of(clock), pf_options={"lock_after": 2}) as ping:
        page = client.get(ping.ping_url)
        assert (
            client.login(page, "plain@acme.example", "x").text_of(".ping-error") == BAD_CREDENTIALS
        )
        assert (
            client.login(page, "plain@acme.example", "y").text_of(".ping-error") == BAD_CREDENTIALS
        )
        locked = client.login(page, "plain@acme.example", "plain-pw")
        assert locked.text_of(".ping-error") == ACCOUNT_LOCKED


def test_identifier_first_and_renamed_fields(clock: FakeClock, client: Client) -> None:
    options = {"identifier_first": True, "user_field": "USER", "password_field": "PASSWORD"}
    with PingEmulators(users(), clock=now_of(clock), pf_options=options) as ping:
        first = client.get(ping.ping_url)
        assert set(first.form().fields) == {"USER", "pf.ok", "pf.cancel", "pf.adapterId"}
        second = client.submit(first.form(), USER="plain@acme.example", **{"pf.ok": "clicked"})
        assert "PASSWORD" in second.form().fields
        done = client.submit(second.form(), PASSWORD="plain-pw", **{"pf.ok": "clicked"})
        assert saml_of(done)[0] == AWS_SIGNIN


def test_session_cookie_makes_the_second_login_ask_nothing(
    ping: PingEmulators, client: Client
) -> None:
    page = to_pingid(ping, client)
    approved = client.get(
        page.form("form#reponseView").action, csrfToken=page.form("form#form1").fields["csrfToken"]
    )
    assert approved.text_of(".error-message") == PINGID_INVALID  # no status asked yet: no answer
    client.status(page)
    assert client.status(page) == OK
    back_to_aws(client, client.submit(page.form("form#reponseView"), status=OK))
    posts, pushes = ping.password_posts, ping.pushes
    again = client.get(ping.ping_url)
    assert saml_of(again)[0] == AWS_SIGNIN
    assert (ping.password_posts, ping.pushes) == (posts, pushes)
    ping.end_sessions()  # a cookie PF no longer honours: the login page, silently
    assert client.get(ping.ping_url).title == "Sign On"


def test_bare_host_is_no_login_page(ping: PingEmulators, client: Client) -> None:
    page = client.get(f"{ping.pf.base_url}/")
    assert page.status == 404 and page.title == "Sign On Error"
    wrong = client.get(f"{ping.pf.base_url}/idp/startSSO.ping", PartnerSpId="urn:other")
    assert wrong.title == "Sign On Error" and wrong.has(".ping-error")


def test_forced_failure(ping: PingEmulators, client: Client) -> None:
    ping.pf.fail_next("/idp/startSSO.ping", 503, body="<html><title>Down</title></html>")
    assert client.get(ping.ping_url).status == 503
    assert client.get(ping.ping_url).status == 200


# -- PingID: push ---------------------------------------------------------------------------
def test_push_approved_with_number_matching(ping: PingEmulators, client: Client) -> None:
    page = to_pingid(ping, client)
    assert page.text_of("div.numbermatching") == "42"
    assert page.has("form#form1") and page.has("form#reponseView")
    csrf = page.form("form#form1").fields["csrfToken"]
    assert client.http.cookies.get(CSRF_COOKIE, domain="127.0.0.2") == csrf
    assert client.cookie_hosts(SESSION_COOKIE) == {"127.0.0.2"}
    assert ping.pushes == 0  # the push goes out with the first status request
    assert client.status(page) == WAIT
    assert ping.pushes == 1
    assert client.status(page) == OK
    result = client.submit(page.form("form#reponseView"), status=OK)
    done = back_to_aws(client, result)
    assert saml_of(done)[0] == AWS_SIGNIN
    assert ping.pushes == 1 and len(ping.poll_times) == 2
    assert client.cookie_hosts(PF_COOKIE) == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("behaviour", "status", "message"),
    [
        ("deny", DENIED, PUSH_DENIED),
        ("wrong-number", DENIED, PUSH_DENIED),
        ("timeout", TIMEOUT, PUSH_TIMED_OUT),
        ("claim-timeout", CLAIM_TIMEOUT, PUSH_TIMED_OUT),
    ],
)
def test_push_refused_ends_on_an_error_page(
    ping: PingEmulators, client: Client, behaviour: Any, status: str, message: str
) -> None:
    ping.shared.users["push@acme.example"].devices[0].push = behaviour
    page = to_pingid(ping, client)
    assert client.status(page) == WAIT
    assert client.status(page) == status
    result = client.submit(page.form("form#reponseView"), status=status)
    assert result.text_of("div.error-message") == message
    assert not result.has("form")
    assert client.get(page.form("form#form1").action).text_of(".error-message") == PINGID_EXPIRED
    assert ping.pushes == 1 and PF_COOKIE not in client.http.cookies


def test_unanswered_push_times_out_by_the_clock(
    ping: PingEmulators, client: Client, clock: FakeClock
) -> None:
    ping.shared.users["push@acme.example"].devices[0].push = "never"
    page = to_pingid(ping, client)
    for _ in range(5):
        clock.advance(3)
        assert client.status(page) == WAIT
    clock.advance(60)
    assert client.status(page) == TIMEOUT
    assert ping.poll_times[1] - ping.poll_times[0] == 3
    result = client.submit(page.form("form#reponseView"), status=TIMEOUT)
    assert result.text_of("div.error-message") == PUSH_TIMED_OUT and ping.pushes == 1


# -- PingID: passcodes ------------------------------------------------------------------------
def test_use_code_instead_of_push_sends_no_push(
    ping: PingEmulators, client: Client, clock: FakeClock
) -> None:
    page = to_pingid(ping, client)
    use_code = page.doc.get_element_by_id("useCodeUrl").get("value")
    assert use_code == "/pingid/ppm/auth/usecode"
    otp_page = client.submit(
        Form(
            "POST",
            f"{ping.pingid.base_url}{use_code}",
            {"csrfToken": page.form("form#form1").fields["csrfToken"]},
        )
    )
    form = otp_page.form("form#otp-form")
    assert set(form.fields) == {"otp", "csrfToken"}
    code = totp_at(SECRET, clock.now().timestamp())
    done = back_to_aws(client, client.submit(form, otp=code))
    assert saml_of(done)[0] == AWS_SIGNIN and ping.pushes == 0 and ping.poll_times == []
    assert ("otp", "***") in dict(ping.pingid.posts)["/pingid/ppm/auth/otp"]

    other = Client()  # the same code on a new login is refused: used once
    page = to_pingid(ping, other)
    otp_page = other.submit(
        Form(
            "POST",
            f"{ping.pingid.base_url}{use_code}",
            {"csrfToken": page.form("form#form1").fields["csrfToken"]},
        )
    )
    replay = other.submit(otp_page.form("form#otp-form"), otp=code)
    assert replay.text_of("div.error-message") == PASSCODE_WRONG


def test_wrong_passcodes_then_the_authentication_ends(
    ping: PingEmulators, client: Client, clock: FakeClock
) -> None:
    page = to_pingid(ping, client)
    csrf = page.form("form#form1").fields["csrfToken"]
    otp_page = client.submit(
        Form("POST", f"{ping.pingid.base_url}/pingid/ppm/auth/usecode", {"csrfToken": csrf})
    )
    wrong = client.submit(otp_page.form("form#otp-form"), otp="000000")
    assert wrong.text_of("div.error-message") == PASSCODE_WRONG and wrong.has("form#otp-form")
    wrong = client.submit(wrong.form("form#otp-form"), otp="000001")
    ended = client.submit(wrong.form("form#otp-form"), otp="000002")
    assert ended.text_of("div.error-message") == PASSCODE_LOCKED and not ended.has("form")
    late = client.submit(wrong.form("form#otp-form"), otp=totp_at(SECRET, clock.now().timestamp()))
    assert late.text_of("div.error-message") == PINGID_EXPIRED


def test_usecode_after_a_push_was_sent_is_refused(ping: PingEmulators, client: Client) -> None:
    page = to_pingid(ping, client)
    client.status(page)
    csrf = page.form("form#form1").fields["csrfToken"]
    late = client.submit(
        Form("POST", f"{ping.pingid.base_url}/pingid/ppm/auth/usecode", {"csrfToken": csrf})
    )
    assert late.text_of(".error-message") == PINGID_INVALID


# -- PingID: devices --------------------------------------------------------------------------
def device_list(page: Page) -> dict[str, tuple[str, str]]:
    """name -> (data-id, class) of each device on a device list."""
    return {
        li.cssselect(".device-name")[0].text_content(): (li.get("data-id"), li.get("class"))
        for li in page.doc.cssselect("ul.device-list li.device")
    }


def test_device_list_and_choices(ping: PingEmulators, client: Client, clock: FakeClock) -> None:
    page = to_pingid(ping, client, "many@acme.example")
    assert page.has('form[name="device-form"]')
    devices = device_list(page)
    assert devices["iPhone"][1] == "device mobile-phone selected"
    assert (
        devices["Work laptop"][1] == "device desktop" and devices["YubiKey"][1] == "device yubikey"
    )
    form = page.form('form[name="device-form"]')
    assert form.action == f"{ping.pingid.base_url}/pingid/ppm/devices"
    assert form.fields["deviceId"] == devices["iPhone"][0]

    key_page = client.submit(form, deviceId=devices["YubiKey"][0])
    assert key_page.has("div.window.yubikey") and key_page.has("form#otp-form")
    assert ping.pushes == 0
    done = back_to_aws(client, client.submit(key_page.form("form#otp-form"), otp=KEYS[0]))
    assert saml_of(done)[0] == AWS_SIGNIN

    again = Client()  # a YubiKey OTP is good once
    page = to_pingid(ping, again, "many@acme.example")
    key_page = again.submit(page.form('form[name="device-form"]'), deviceId=devices["YubiKey"][0])
    replay = again.submit(key_page.form("form#otp-form"), otp=KEYS[0])
    assert replay.text_of("div.error-message") == PASSCODE_WRONG
    done = back_to_aws(again, again.submit(replay.form("form#otp-form"), otp=KEYS[1]))
    assert saml_of(done)[0] == AWS_SIGNIN


def test_sms_device_gets_a_code_sent(ping: PingEmulators, client: Client) -> None:
    page = to_pingid(ping, client, "many@acme.example")
    sms_id = device_list(page)["Mobile"][0]
    assert ping.sent_codes == []
    code_page = client.submit(page.form('form[name="device-form"]'), deviceId=sms_id)
    assert code_page.has("div.window.sms") and len(ping.sent_codes) == 1
    done = back_to_aws(
        client, client.submit(code_page.form("form#otp-form"), otp=ping.sent_codes[0])
    )
    assert saml_of(done)[0] == AWS_SIGNIN and ping.sent_codes[0] not in ping.issued


def test_change_device_link_from_the_push_page(
    ping: PingEmulators, client: Client, clock: FakeClock
) -> None:
    ping.shared.users["many@acme.example"].choose_device = False
    page = to_pingid(ping, client, "many@acme.example")
    assert page.has("form#reponseView")  # the default device, the phone
    link = page.doc.cssselect("a.change-device")[0].get("href")
    assert link == f"{ping.pingid.base_url}/pingid/ppm/devices"
    listing = client.get(link)  # the link carries no csrfToken: the cookies do
    desktop = device_list(listing)["Work laptop"][0]
    code_page = client.submit(listing.form('form[name="device-form"]'), deviceId=desktop)
    assert code_page.has("div.window.desktop")
    assert Client().get(link).text_of(".error-message") == PINGID_EXPIRED  # no cookie, no list
    done = back_to_aws(
        client,
        client.submit(
            code_page.form("form#otp-form"), otp=totp_at(DESK_SECRET, clock.now().timestamp())
        ),
    )
    assert saml_of(done)[0] == AWS_SIGNIN and ping.pushes == 0


# -- one-time tokens ----------------------------------------------------------------------------
def test_ppm_request_and_ppm_response_are_good_once(ping: PingEmulators, client: Client) -> None:
    autopost = client.login(client.get(ping.ping_url), "push@acme.example", "pw")
    page = client.submit(autopost.form())
    assert client.submit(autopost.form()).text_of(".error-message") == PINGID_INVALID
    client.status(page)
    client.status(page)
    result = client.submit(page.form("form#reponseView"), status=OK)
    back_to_aws(client, result)
    replay = client.submit(result.form("form#form1"))
    assert replay.title == "Sign On Error" and replay.text_of(".ping-error") == AUTHN_FAILED
    posts = [p for p in ping.pingid.posts if p[0] == "/pingid/ppm/auth"]
    assert posts[0][1][1] == ("ppm_request", "***")
    assert autopost.form().fields["ppm_request"] in ping.issued
    assert result.form("form#form1").fields["ppm_response"] in ping.issued


def test_pingid_needs_its_csrf_token(ping: PingEmulators, client: Client) -> None:
    page = to_pingid(ping, client)
    form = page.form("form#form1")
    answer = client.http.post(form.action, data={"csrfToken": "not-it"}, timeout=10)
    assert "error-message" in answer.text and ping.pushes == 0
    assert form.fields["csrfToken"] in ping.issued


def test_the_password_is_masked_in_the_record(ping: PingEmulators, client: Client) -> None:
    client.login(client.get(ping.ping_url), "plain@acme.example", "plain-pw")
    [(_, pairs)] = ping.pf.posts
    assert ("pf.pass", "***") in pairs and ("pf.username", "plain@acme.example") in pairs


# -- PingOne ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["initsso", "startsso"])
def test_pingone_hands_off_to_pf_and_the_second_response_is_for_aws(
    ping: PingEmulators, client: Client, shape: str
) -> None:
    url = ping.pingone.initsso_url if shape == "initsso" else ping.pingone.startsso_url
    first = client.get(url)
    form = first.form()
    assert form.action == f"{ping.pf.base_url}/idp/SSO.saml2"
    assert set(form.fields) == {"SAMLRequest", "RelayState"}
    login = client.submit(form)
    assert re.search(r"/idp/\w{5}/resumeSAML20/idp/SSO\.ping$", login.form().action)
    page = client.submit(client.login(login, "push@acme.example", "pw").form())
    client.status(page)
    client.status(page)
    hop = back_to_aws(client, client.submit(page.form("form#reponseView"), status=OK))
    action, root = saml_of(hop)
    assert action == f"{ping.pingone.base_url}/sso/sp/ACS.saml2"  # not AWS: no roles in it
    assert roles_in(root) == []
    assert hop.form().fields["RelayState"] == form.fields["RelayState"]
    final = client.submit(hop.form())
    action, root = saml_of(final)
    assert action == AWS_SIGNIN and roles_in(root) == [f"{OPS.role_arn},{OPS.principal_arn}"]
    assert client.submit(hop.form()).status == 400  # PF's Response is taken once
    assert client.cookie_hosts(PINGONE_COOKIE) == {"127.0.0.3"}

    again = client.get(url)  # PingOne's session: AWS at once
    assert saml_of(again)[0] == AWS_SIGNIN
    client.http.cookies.clear(domain="127.0.0.3")  # PF's session alone: both hops, no login
    hop = client.submit(client.get(url).form())
    assert saml_of(hop)[0] == f"{ping.pingone.base_url}/sso/sp/ACS.saml2"
    assert saml_of(client.submit(hop.form()))[0] == AWS_SIGNIN
    assert ping.password_posts == 1 and ping.pushes == 1


def test_pingone_page_that_needs_javascript(clock: FakeClock, client: Client) -> None:
    with PingEmulators(
        users(), clock=now_of(clock), pingone_options={"needs_javascript": True}
    ) as ping:
        page = client.get(ping.pingone.initsso_url)
        assert page.status == 200 and not page.has("form") and page.has("noscript")


def test_pingone_refuses_unknown_apps_and_foreign_responses(
    ping: PingEmulators, client: Client
) -> None:
    assert (
        client.get(f"{ping.pingone.base_url}/sso/sp/initsso", saasid="x", idpid="y").status == 400
    )
    forged = client.http.post(
        f"{ping.pingone.base_url}/sso/sp/ACS.saml2",
        data={"SAMLResponse": "PHg+", "RelayState": ""},
        timeout=10,
    )
    assert forged.status_code == 400 and "error-message" in forged.text
    bad = client.http.post(
        f"{ping.pf.base_url}/idp/SSO.saml2", data={"SAMLRequest": "bm90IHhtbA=="}, timeout=10
    )
    assert "Sign On Error" in bad.text


def test_device_list_with_buttons(clock: FakeClock, client: Client) -> None:
    with PingEmulators(
        users(), clock=now_of(clock), pingid_options={"device_tag": "button"}
    ) as ping:
        page = to_pingid(ping, client, "many@acme.example")
        assert len(page.doc.cssselect("li.device > button > div.device-name")) == 4
        assert set(device_list(page)) == {"Work laptop", "iPhone", "YubiKey", "Mobile"}


def test_every_secret_goes_to_the_process_registry(ping: PingEmulators, client: Client) -> None:
    """Where RecordingEmulator keeps the process's registry of issued secrets (``ISSUED``)."""
    import samljit.testing.emulator as base

    registry = getattr(base, "ISSUED", None)
    if registry is None:
        pytest.skip("this RecordingEmulator keeps no process registry")
    registry.clear()
    page = to_pingid(ping, client, "many@acme.example")
    sms = device_list(page)["Mobile"][0]
    code_page = client.submit(page.form('form[name="device-form"]'), deviceId=sms)
    result = client.submit(code_page.form("form#otp-form"), otp=ping.sent_codes[0])
    done = back_to_aws(client, result)
    kept = registry.secrets
    assert result.form("form#form1").fields["ppm_response"] in kept
    assert done.form().fields["SAMLResponse"] in kept
    assert all(secret in kept for secret in ping.issued)
    assert all(cookie.value in kept for cookie in client.http.cookies)
    assert registry.codes == ping.sent_codes
