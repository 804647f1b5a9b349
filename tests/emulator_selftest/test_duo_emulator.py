"""The Duo Universal Prompt emulator driven with plain ``requests``, the way
shared/protocols/duo.md says a client must: the OIDC entry, the plugin form, the 2025 health
check, the prompt data, every factor and outcome, the exit, the token exchange; and the
Shibboleth IdP in front of it, end to end. Time is the emulator's injected clock."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
import pytest
import requests

from samljit.idp.fido import unb64url
from samljit.tools.sandbox.response import RoleGrant
from tests.emulators import duo as d
from tests.emulators.duo import (
    Client,
    DuoEmulator,
    DuoUser,
    Phone,
    jwt_decode,
    jwt_encode,
    three_phone_user,
)
from tests.emulators.duo_idp import (
    CALLBACK_PATH,
    DUO_FAILED,
    DUO_UNAVAILABLE,
    DuoShibbolethEmulator,
)
from tests.emulators.formidp import FormUser
from tests.emulators.shibboleth import SSO_PATH, STALE

IDP_CALLBACK = "https://idp.example.edu/idp/profile/Authn/Duo/2FA/duo-callback"
DEV = RoleGrant("arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/S")


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def users() -> list[DuoUser]:
    return [
        three_phone_user("ada"),
        DuoUser("slow", phones=[Phone(push="timeout", call="timeout")]),
        DuoUser("twice", phones=[Phone(push=["deny", "approve"], answer_after=1)]),
        DuoUser("keyonly", webauthn=True),
        DuoUser("second", phones=[Phone("A", "1111"), Phone("B", "2222")], default_device="phone2"),
        DuoUser("waved", bypass=True),
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def duo(clock: Clock) -> Iterator[DuoEmulator]:
    with DuoEmulator(users(), clock=clock) as emu:
        yield emu


# -- a client as the page describes it --------------------------------------------------------
def inputs(page: str, form_id: str | None = None) -> list[tuple[str, str]]:
    root = lxml.html.fromstring(page)
    forms = root.xpath(f'//form[@id="{form_id}"]' if form_id else "//form")
    assert forms, page[:300]
    return [(i.get("name"), i.get("value") or "") for i in forms[0].iter("input") if i.get("name")]


def base_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="base-data">(.*?)</script>', page)
    assert match, page[:300]
    data: dict[str, Any] = json.loads(match.group(1))
    return data


class Prompt:
    """One login through Duo: one cookie jar, ``sid``, ``_xsrf`` and the redirects followed
    one at a time (303/302 → GET), as section 7 says."""

    def __init__(self, duo: DuoEmulator, http: requests.Session | None = None) -> None:
        self.duo = duo
        self.http = http or requests.Session()
        self.url = ""
        self.sid = ""
        self.xsrf = ""
        self.txid = ""
        self.back: requests.Response | None = None

    def get(self, url: str, **kw: Any) -> requests.Response:
        self.url = urljoin(self.url or self.duo.base_url, url)
        return self.http.get(self.url, allow_redirects=False, timeout=5, **kw)

    def post(self, url: str, data: Any, **kw: Any) -> requests.Response:
        target = urljoin(self.url or self.duo.base_url, url)
        return self.http.post(target, data=data, allow_redirects=False, timeout=5, **kw)

    def enter(
        self, username: str, *, state: str = "st-" + "x" * 30, duo_code: bool = True
    ) -> requests.Response:
        """The IdP's redirect followed to the plugin form; its page returned."""
        reply = self.get(
            self.duo.authorize_url(username, IDP_CALLBACK, state, use_duo_code_attribute=duo_code)
        )
        assert reply.status_code == 303, reply.text
        location = reply.headers["Location"]
        assert urlsplit(location).path == d.AUTH_PATH
        self.sid = parse_qs(urlsplit(location).query)["sid"][0]
        page = self.get(location)
        assert page.status_code == 200
        return page

    def plugin_post(self, page: requests.Response) -> requests.Response:
        fields = inputs(page.text, "plugin_form")
        self.xsrf = dict(fields)["_xsrf"]
        return self.post(self.url, fields)  # no action: the page's own URL

    def health_check(self, after_post: requests.Response) -> dict[str, Any]:
        assert after_post.status_code == 303
        assert urlsplit(after_post.headers["Location"]).path == d.HEALTHCHECK_PATH
        shell = self.get(after_post.headers["Location"])
        assert base_data(shell.text)["xsrf_token"] == self.xsrf
        data: dict[str, Any] = self.get(f"{d.HEALTHCHECK_DATA_PATH}?sid={self.sid}").json()
        back = self.get(f"{d.RETURN_PATH}?sid={self.sid}")
        assert back.status_code == 303
        assert urlsplit(back.headers["Location"]).path == d.AUTH_PATH
        self.back = back
        return data

    def to_prompt(self, username: str, **kw: Any) -> requests.Response:
        """Sections 1-2 up to the prompt's shell page."""
        first = self.plugin_post(self.enter(username, **kw))
        data = self.health_check(first)
        assert data["stat"] == "OK" and data["response"]["health_check_required"] is False
        second = self.plugin_post(self.get(back_of(self).headers["Location"]))
        assert second.status_code == 302, second.text
        assert urlsplit(second.headers["Location"]).path == d.PROMPT_PAGE_PATH
        return self.get(second.headers["Location"])

    def data(self) -> Any:
        query = {"post_auth_action": "OIDC_EXIT", "browser_features": "{}", "sid": self.sid}
        return self.get(d.PROMPT_DATA_PATH, params=query).json()

    def start(self, factor: str, device: str | None, **extra: str) -> Any:
        form = {
            "device": device if device is not None else "null",
            "factor": factor,
            "postAuthDestination": "OIDC_EXIT",
            "browser_features": "{}",
            "sid": self.sid,
            **extra,
        }
        return self.post(d.PROMPT_PATH, form, headers={"X-Xsrftoken": self.xsrf}).json()

    def status(self, txid: str) -> Any:
        return self.post(d.STATUS_PATH, {"sid": self.sid, "txid": txid}).json()

    def poll(self, txid: str, clock: Clock, limit: int = 100) -> list[Any]:
        """Poll about once a second until a final status; every answer returned."""
        seen = []
        for _ in range(limit):
            answer = self.status(txid)
            seen.append(answer)
            if answer["stat"] != "OK" or answer["response"]["status_code"] in (
                "allow",
                "deny",
                "timeout",
            ):
                return seen
            clock.advance(1.0)
        raise AssertionError("no final status")

    def exit(self, txid: str, factor: str, xsrf: str | None = None) -> requests.Response:
        form = {
            "sid": self.sid,
            "txid": txid,
            "factor": factor,
            "device_key": "",
            "_xsrf": self.xsrf if xsrf is None else xsrf,
            "dampen_choice": "false",
        }
        return self.post(d.EXIT_PATH, form)


def back_of(prompt: Prompt) -> requests.Response:
    assert prompt.back is not None
    return prompt.back


def cookies(http: requests.Session) -> list[Cookie]:
    return list(CookieJar.__iter__(http.cookies))


def statuses(answers: list[Any]) -> list[str]:
    return [a["response"]["status_code"] for a in answers]


def back_query(reply: requests.Response) -> dict[str, str]:
    assert reply.status_code == 303, reply.text
    location = reply.headers["Location"]
    assert location.startswith(IDP_CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(duo: DuoEmulator, code: str, **override: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": IDP_CALLBACK,
        "client_assertion_type": d.CLIENT_ASSERTION_TYPE,
        "client_assertion": duo.client_assertion(),
        **override,
    }
    return requests.post(duo.token_url, data=form, timeout=5)


def pushed_and_allowed(duo: DuoEmulator, clock: Clock, username: str = "ada") -> Prompt:
    prompt = Prompt(duo)
    prompt.to_prompt(username)
    txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    assert statuses(prompt.poll(txid, clock))[-1] == "allow"
    prompt.txid = txid
    return prompt


# -- the OIDC entry (section 0) -------------------------------------------------------------
def test_duo_has_an_origin_of_its_own(duo: DuoEmulator) -> None:
    assert urlsplit(duo.base_url).hostname == d.DUO_HOST != "127.0.0.1"


def test_authorize_answers_303_to_the_frameless_prompt_with_sid_and_tx(duo: DuoEmulator) -> None:
    reply = requests.get(
        duo.authorize_url("ada", IDP_CALLBACK, "s" * 30), allow_redirects=False, timeout=5
    )
    assert reply.status_code == 303
    parts = urlsplit(reply.headers["Location"])
    query = parse_qs(parts.query)
    assert parts.path == "/frame/frameless/v4/auth"
    assert query["sid"][0].startswith("frameless-") and query["tx"][0].startswith("eyJ")


@pytest.mark.parametrize(
    "change",
    ["wrong secret", "expired", "unknown client", "other redirect_uri", "no state", "no openid"],
)
def test_authorize_refuses_a_bad_request(duo: DuoEmulator, clock: Clock, change: str) -> None:
    client = next(iter(duo.clients.values()))
    claims = {
        "scope": "openid",
        "redirect_uri": IDP_CALLBACK,
        "client_id": client.client_id,
        "exp": int(clock.now + 300),
        "state": "s" * 30,
        "response_type": "code",
        "duo_uname": "ada",
    }
    secret, query_extra = client.client_secret, {}
    client_id = client.client_id
    if change == "wrong secret":
        secret = "not-the-secret"
    elif change == "expired":
        claims["exp"] = int(clock.now - 1)
    elif change == "unknown client":
        client_id = "DIUNKNOWN"
    elif change == "other redirect_uri":
        query_extra = {"redirect_uri": "https://evil.example/cb"}
    elif change == "no state":
        claims["state"] = ""
    else:
        claims["scope"] = "profile"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "request": jwt_encode(claims, secret),
        **query_extra,
    }
    reply = requests.get(
        f"{duo.base_url}{d.AUTHORIZE_PATH}", params=query, allow_redirects=False, timeout=5
    )
    assert reply.status_code in (400, 401)
    assert "error" in reply.json()


# -- the plugin form and the health check (sections 1-2) ----------------------------------
def test_the_plugin_form_has_every_field_and_no_action(duo: DuoEmulator) -> None:
    page = Prompt(duo).enter("ada")
    form = lxml.html.fromstring(page.text).xpath('//form[@id="plugin_form"]')[0]
    assert form.get("action") is None and form.get("method") == "post"
    names = [n for n, _ in inputs(page.text, "plugin_form")]
    for name in ("tx", "parent", "_xsrf", "version", "akey", *d.BROWSER_FIELDS):
        assert name in names
    assert dict(inputs(page.text, "plugin_form"))["version"] == "v4"


@pytest.mark.parametrize("xsrf", [None, "", "0" * 32])
def test_a_plugin_post_without_the_right_xsrf_is_403(duo: DuoEmulator, xsrf: str | None) -> None:
    prompt = Prompt(duo)
    fields = [(k, v) for k, v in inputs(prompt.enter("ada").text) if k != "_xsrf"]
    if xsrf is not None:
        fields.append(("_xsrf", xsrf))
    assert prompt.post(prompt.url, fields).status_code == 403


def test_the_health_check_round_trip_leads_to_the_prompt_and_sets_trc(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    shell = prompt.to_prompt("ada")
    assert "plugin_form" not in shell.text and base_data(shell.text)["xsrf_token"] == prompt.xsrf
    trc = [c for c in cookies(prompt.http) if c.name.startswith("trc|")]
    assert len(trc) == 1 and trc[0].name.startswith(f"trc|{duo.akey}|")
    assert trc[0].domain.strip(".") == d.DUO_HOST or trc[0].domain == ""
    assert duo.count("GET", d.HEALTHCHECK_DATA_PATH) == 1
    assert duo.count("POST", d.AUTH_PATH) == 2


def test_skipping_the_health_check_leaves_no_trc_and_the_prompt_fails_57(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    first = prompt.plugin_post(prompt.enter("ada"))
    assert first.status_code == 303  # to the health check, not the prompt
    answer = prompt.data()
    assert answer == {"stat": "FAIL", "message_enum": 57, "data": {}}
    assert prompt.start(d.PUSH, "phone1")["message_enum"] == 57
    assert duo.pushes == []


def test_a_pre_2025_tenant_answers_the_first_post_with_the_prompt(clock: Clock) -> None:
    with DuoEmulator(users(), clock=clock, variant="legacy") as duo:
        prompt = Prompt(duo)
        reply = prompt.plugin_post(prompt.enter("ada"))
        assert reply.status_code == 302
        assert urlsplit(reply.headers["Location"]).path == d.PROMPT_PAGE_PATH
        assert prompt.data()["stat"] == "OK"
        assert duo.count("GET", d.HEALTHCHECK_PATH) == 0


def test_a_required_health_check_never_reaches_the_prompt(clock: Clock) -> None:
    with DuoEmulator(users(), clock=clock, health_check="required") as duo:
        prompt = Prompt(duo)
        data = prompt.health_check(prompt.plugin_post(prompt.enter("ada")))
        assert data["stat"] == "OK"
        assert data["response"]["health_check_required"] is True
        assert data["response"]["health_check_endpoints"]
        again = prompt.plugin_post(prompt.get(back_of(prompt).headers["Location"]))
        assert again.status_code == 303
        assert urlsplit(again.headers["Location"]).path == d.HEALTHCHECK_PATH
        assert not any(c.name.startswith("trc|") for c in cookies(prompt.http))


def test_a_broken_health_check_answers_fail(clock: Clock) -> None:
    with DuoEmulator(users(), clock=clock, health_check="broken") as duo:
        prompt = Prompt(duo)
        data = prompt.health_check(prompt.plugin_post(prompt.enter("ada")))
        assert data["stat"] == "FAIL" and data["message"]
        again = prompt.plugin_post(prompt.get(back_of(prompt).headers["Location"]))
        assert urlsplit(again.headers["Location"]).path == d.HEALTHCHECK_PATH


# -- devices and factors (section 3) --------------------------------------------------------
def test_the_prompt_data_lists_phones_and_duos_order(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    answer = prompt.data()
    assert answer["stat"] == "OK"
    phones = answer["response"]["phones"]
    assert [(p["index"], p["name"], p["end_of_number"]) for p in phones] == [
        ("phone1", "iPhone 15", "1234"),
        ("phone2", "Work Pixel 8", "5678"),
        ("phone3", "Desk phone", "9012"),
    ]
    key = {p["key"]: p["index"] for p in phones}
    order = [
        (m["factor"], key.get(m.get("deviceKey", "")))
        for m in answer["response"]["auth_method_order"]
    ]
    assert order[:4] == [
        ("Duo Push", "phone1"),
        ("Duo Push", "phone2"),
        ("Phone Call", "phone1"),
        ("Phone Call", "phone2"),
    ]
    assert ("Phone Call", "phone3") in order and ("Duo Push", "phone3") not in order
    assert answer["response"]["post_auth_action"] == "OIDC_EXIT"


def test_the_default_device_comes_first(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("second")
    answer = prompt.data()["response"]
    key = {p["key"]: p["index"] for p in answer["phones"]}
    first = answer["auth_method_order"][0]
    assert (first["factor"], key[first["deviceKey"]]) == ("Duo Push", "phone2")


def test_a_webauthn_only_user_has_no_phones_and_gets_a_browser_ceremony(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("keyonly")
    answer = prompt.data()["response"]
    assert answer["phones"] == [] and answer["auth_method_order"] == [{"factor": d.WEBAUTHN}]
    assert prompt.start(d.PUSH, "phone1")["message"] == d.INVALID_DEVICE
    txid = prompt.start(d.WEBAUTHN, None)["response"]["txid"]
    status = prompt.status(txid)["response"]
    assert status["status_code"] == "webauthn_sent"
    options = status["webauthn_credential_request_options"]
    assert {"challenge", "allowCredentials", "rpId", "extensions", "sessionId"} <= set(options)
    assert prompt.exit(txid, d.WEBAUTHN).json()["stat"] == "FAIL"


@pytest.mark.parametrize(
    ("factor", "device", "message"),
    [
        ("Duo Push", "phone9", d.INVALID_DEVICE),
        ("Duo Push", "phone3", d.INVALID_DEVICE),  # a landline takes calls only
        ("Duo Mobile Passcode", "phone1", d.INVALID_FACTOR),  # the label, not the factor sent
        ("Carrier Pigeon", "phone1", d.INVALID_FACTOR),
    ],
)
def test_a_bad_device_or_factor_is_refused_with_enum_7(
    duo: DuoEmulator, factor: str, device: str, message: str
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    answer = prompt.start(factor, device)
    assert answer == {"stat": "FAIL", "message": message, "message_enum": 7}


# -- the factors, polled (sections 4-5) ------------------------------------------------------
@pytest.mark.parametrize(
    ("device", "final", "text"),
    [("phone1", "allow", d.SUCCESS), ("phone2", "deny", d.DENIED)],
)
def test_a_push_is_answered_after_polls(
    duo: DuoEmulator, clock: Clock, device: str, final: str, text: str
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    txid = prompt.start(d.PUSH, device)["response"]["txid"]
    answers = prompt.poll(txid, clock)
    assert statuses(answers) == ["pushed", final]
    assert answers[0]["response"]["status"] == d.PUSHED
    last = answers[-1]["response"]
    assert last["status"] == text
    assert last["result"] == ("SUCCESS" if final == "allow" else "FAILURE")
    assert duo.pushes == [("ada", device)]
    assert duo.poll_times == [clock.now - 1.0, clock.now]


def test_an_unanswered_push_times_out_at_duos_limit_by_the_clock(
    duo: DuoEmulator, clock: Clock
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("slow")
    started = clock.now
    txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    answers = prompt.poll(txid, clock)
    assert set(statuses(answers)[:-1]) == {"pushed"}
    assert statuses(answers)[-1] == "timeout"
    assert answers[-1]["response"]["status"] == d.TIMED_OUT
    assert clock.now - started == pytest.approx(duo.push_lifetime)
    assert len(duo.pushes) == 1
    assert prompt.status(txid)["response"]["status_code"] == "timeout"  # final stays final


def test_a_stepping_clock_times_a_push_out_without_a_shared_clock() -> None:
    with DuoEmulator(users(), clock=d.SteppingClock(10.0)) as duo:
        prompt = Prompt(duo)
        prompt.to_prompt("slow")
        txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
        seen = [prompt.status(txid)["response"]["status_code"] for _ in range(6)]
        assert seen == ["pushed"] * 5 + ["timeout"]
        times = duo.poll_times
        assert [b - a for a, b in itertools.pairwise(times)] == [10.0] * 5


def test_a_second_push_is_a_new_attempt_with_its_own_answer(duo: DuoEmulator, clock: Clock) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("twice")
    first = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    assert statuses(prompt.poll(first, clock)) == ["deny"]
    second = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    assert statuses(prompt.poll(second, clock)) == ["allow"]
    assert duo.pushes == [("twice", "phone1")] * 2


def test_verified_duo_push_shows_its_code_while_pushed(clock: Clock) -> None:
    with DuoEmulator(users(), clock=clock, verified_push=True, step_up_digits=6) as duo:
        prompt = Prompt(duo)
        prompt.to_prompt("ada")
        txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
        answers = prompt.poll(txid, clock)
        risk = answers[0]["response"]["risk_based_factor_selection_data"]
        assert risk["step_up_code"] == duo.step_up_codes[0]
        assert re.fullmatch(r"\d{6}", risk["step_up_code"])
        assert risk["step_up_code_autofilled"] is False
        assert "risk_based_factor_selection_data" not in answers[-1]["response"]


@pytest.mark.parametrize(
    ("username", "device", "expected"),
    [
        ("ada", "phone1", ["calling", "answered", "allow"]),
        ("ada", "phone2", ["calling", "answered", "deny"]),
        ("ada", "phone3", ["calling", "answered", "allow"]),
    ],
)
def test_a_phone_call(
    duo: DuoEmulator, clock: Clock, username: str, device: str, expected: list[str]
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt(username)
    txid = prompt.start(d.CALL, device)["response"]["txid"]
    answers = prompt.poll(txid, clock)
    assert statuses(answers) == expected
    assert answers[0]["response"]["status"] == d.CALLING
    assert duo.calls == [(username, device)] and duo.pushes == []


def test_a_call_nobody_picks_up_rings_until_it_times_out(duo: DuoEmulator, clock: Clock) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("slow")
    started = clock.now
    txid = prompt.start(d.CALL, "phone1")["response"]["txid"]
    seen = statuses(prompt.poll(txid, clock))
    assert set(seen[:-1]) == {"calling"} and seen[-1] == "timeout"
    assert clock.now - started == pytest.approx(duo.push_lifetime)


@pytest.mark.parametrize(
    ("code", "final"),
    [("123456", "allow"), ("999000111", "allow"), ("000000", "deny")],
)
def test_a_passcode_answers_at_the_first_poll(
    duo: DuoEmulator, clock: Clock, code: str, final: str
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    txid = prompt.start(d.PASSCODE, None, passcode=code)["response"]["txid"]
    answers = prompt.poll(txid, clock)
    assert statuses(answers) == [final]
    if final == "deny":
        assert answers[0]["response"]["status"] == d.WRONG_PASSCODE
    assert duo.pushes == []


def test_a_passcode_verifies_once_and_an_empty_one_is_refused(
    duo: DuoEmulator, clock: Clock
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    assert prompt.start(d.PASSCODE, None, passcode="")["message"] == d.NO_PASSCODE
    first = prompt.start(d.PASSCODE, None, passcode="123456")["response"]["txid"]
    again = prompt.start(d.PASSCODE, None, passcode="123456")["response"]["txid"]
    assert statuses(prompt.poll(first, clock)) == ["allow"]
    assert statuses(prompt.poll(again, clock)) == ["deny"]


def test_an_sms_passcode_is_sent_then_entered(duo: DuoEmulator, clock: Clock) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    sent = prompt.start(d.SMS, "phone1")
    assert sent["stat"] == "OK"
    assert prompt.status(sent["response"]["txid"])["response"]["status_code"] == "sent"
    [(device, code)] = duo.sent_codes
    assert device == "phone1"
    txid = prompt.start(d.PASSCODE, None, passcode=code)["response"]["txid"]
    assert statuses(prompt.poll(txid, clock)) == ["allow"]


# -- leaving the prompt (section 6) and the token exchange -----------------------------------
@pytest.mark.parametrize("duo_code", [True, False])
def test_the_exit_303s_back_with_state_and_the_code(
    duo: DuoEmulator, clock: Clock, duo_code: bool
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada", state="the-state-" + "z" * 20, duo_code=duo_code)
    txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    prompt.poll(txid, clock)
    query = back_query(prompt.exit(txid, d.PUSH))
    name = "duo_code" if duo_code else "code"
    assert set(query) == {"state", name}
    assert query["state"] == "the-state-" + "z" * 20
    reply = exchange(duo, query[name])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    client = next(iter(duo.clients.values()))
    claims = jwt_decode(body["id_token"], client.client_secret)
    assert claims is not None
    assert claims["preferred_username"] == "ada" and claims["aud"] == client.client_id
    assert claims["iss"] == duo.token_url and claims["auth_result"]["result"] == "allow"
    assert body["token_type"] == "Bearer"
    assert duo.exchanges == [{"username": "ada", "factor": d.PUSH, "client_id": client.client_id}]


@pytest.mark.parametrize("xsrf", ["", "f" * 32])
def test_an_exit_without_the_right_xsrf_is_403(duo: DuoEmulator, clock: Clock, xsrf: str) -> None:
    prompt = pushed_and_allowed(duo, clock)
    assert prompt.exit(prompt.txid, d.PUSH, xsrf=xsrf).status_code == 403


def test_an_exit_before_the_push_is_allowed_fails(duo: DuoEmulator, clock: Clock) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    assert prompt.exit(txid, d.PUSH).json()["stat"] == "FAIL"
    denied = prompt.start(d.PUSH, "phone2")["response"]["txid"]
    prompt.poll(denied, clock)
    assert prompt.exit(denied, d.PUSH).json()["stat"] == "FAIL"


def test_an_exit_without_trc_fails_57(duo: DuoEmulator, clock: Clock) -> None:
    prompt = pushed_and_allowed(duo, clock)
    for cookie in list(cookies(prompt.http)):
        if cookie.name.startswith("trc|"):
            prompt.http.cookies.clear(cookie.domain, cookie.path, cookie.name)
    assert prompt.exit(prompt.txid, d.PUSH).json()["message_enum"] == 57


def test_a_replayed_exit_and_a_used_sid_are_refused(duo: DuoEmulator, clock: Clock) -> None:
    prompt = pushed_and_allowed(duo, clock)
    txid = prompt.txid
    back_query(prompt.exit(txid, d.PUSH))
    again = prompt.exit(txid, d.PUSH).json()
    assert again == {"stat": "FAIL", "message": d.EXPIRED, "message_enum": d.ENUM_EXPIRED}
    assert prompt.data()["message"] == d.EXPIRED


def test_a_session_expires_by_the_clock(duo: DuoEmulator, clock: Clock) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    clock.advance(duo.session_lifetime)
    assert prompt.start(d.PUSH, "phone1")["message"] == d.EXPIRED


@pytest.mark.parametrize(
    "problem", ["replayed", "late", "other redirect_uri", "bad assertion", "replayed assertion"]
)
def test_the_token_endpoint_refuses(duo: DuoEmulator, clock: Clock, problem: str) -> None:
    prompt = pushed_and_allowed(duo, clock)
    code = back_query(prompt.exit(prompt.txid, d.PUSH))["duo_code"]
    override: dict[str, str] = {}
    if problem == "replayed":
        assert exchange(duo, code).status_code == 200
    elif problem == "late":
        clock.advance(duo.code_lifetime)
    elif problem == "other redirect_uri":
        override["redirect_uri"] = "https://idp.example.edu/elsewhere"
    elif problem == "bad assertion":
        client = next(iter(duo.clients.values()))
        fake = Client(client.client_id, "not-the-secret")
        override["client_assertion"] = duo.client_assertion(fake)
    else:
        assertion = duo.client_assertion()
        override["client_assertion"] = assertion
        bad = exchange(duo, "not-a-code", client_assertion=assertion)
        assert bad.json()["error"] == "invalid_grant"
    reply = exchange(duo, code, **override)
    assert reply.status_code in (400, 401)
    assert reply.json()["error"] in ("invalid_grant", "invalid_client")
    if problem == "other redirect_uri":  # a code tried wrongly is spent
        assert exchange(duo, code).status_code == 400


def test_a_bypass_user_goes_straight_back(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    first = prompt.plugin_post(prompt.enter("waved"))
    prompt.health_check(first)
    reply = prompt.plugin_post(prompt.get(back_of(prompt).headers["Location"]))
    assert "duo_code" in back_query(reply)


def test_an_unknown_user_lands_on_enrollment(duo: DuoEmulator) -> None:
    prompt = Prompt(duo)
    first = prompt.plugin_post(prompt.enter("nobody"))
    prompt.health_check(first)
    reply = prompt.plugin_post(prompt.get(back_of(prompt).headers["Location"]))
    assert reply.status_code == 302
    assert urlsplit(reply.headers["Location"]).path == d.ENROLL_PATH
    assert d.ENROLL_TEXT in prompt.get(reply.headers["Location"]).text


def test_fail_next_forces_an_answer(duo: DuoEmulator) -> None:
    duo.fail_next(d.PROMPT_PATH, 200, body={"stat": "FAIL", "message": "Nope", "message_enum": 99})
    prompt = Prompt(duo)
    prompt.to_prompt("ada")
    assert prompt.start(d.PUSH, "phone1")["message"] == "Nope"
    assert prompt.start(d.PUSH, "phone1")["stat"] == "OK"


# -- the 2026 single-page prompt (section 8) ------------------------------------------------
def test_the_pwl_prompt_and_its_json_calls(clock: Clock) -> None:
    with DuoEmulator(users(), clock=clock, variant="pwl") as duo:
        prompt = Prompt(duo)
        reply = prompt.plugin_post(prompt.enter("ada"))
        assert reply.status_code == 302
        location = reply.headers["Location"]
        assert urlsplit(location).path == f"/prompt/{duo.akey}"
        assert "sid" not in parse_qs(urlsplit(location).query)
        page = prompt.get(location)
        root = lxml.html.fromstring(page.text).xpath('//*[@id="root"]')[0]
        akey, authkey = root.get("data-akey"), root.get("data-authkey")
        assert akey == duo.akey and authkey
        # the v4 calls answer 405 on such a tenant
        assert prompt.post(location, {"sid": prompt.sid}).status_code == 405
        assert prompt.post(d.PROMPT_PATH, {"sid": prompt.sid, "factor": d.PUSH}).status_code == 405
        base = f"{duo.base_url}/prompt/{akey}"
        headers = {"X-Requested-With": "XMLHttpRequest", "X-Duo-Req-Trace-Group": "t"}
        q = {"authkey": authkey}

        def get(call: str, **params: str) -> Any:
            return prompt.http.get(
                f"{base}/{call}", params={**q, **params}, headers=headers, timeout=5
            ).json()

        def post(call: str, body: dict[str, Any]) -> Any:
            url = f"{base}/{call}"
            return prompt.http.post(url, params=q, json=body, headers=headers, timeout=5).json()

        assert get("auth/payload")["stat"] == "FAIL"  # initialization comes first
        assert get("pre_authn/initialization")["stat"] == "OK"
        assert get("pre_authn/evaluation")["stat"] == "OK"
        factors = get("auth/payload")["response"]["auth_factors_context"][
            "available_unified_auth_factors"
        ]["factors"]
        push = next(f for f in factors if f["factor_type"] == "push")
        assert push["device_info"]["name"] == "iPhone 15"
        assert get("auth/finalize_auth")["stat"] == "FAIL"
        started = post(
            "auth/factors/push/auth", {"authkey": authkey, "pkey": push["device_info"]["pkey"]}
        )
        push_txid = started["response"]["push_txid"]
        seen = []
        for _ in range(5):
            answer = get("auth/factors/push/status", push_txid=push_txid, saw_good_news="false")
            seen.append(answer["response"]["status_code"])
            if seen[-1] == "allow":
                break
            clock.advance(1.0)
        assert seen == ["pushed", "allow"]
        url = get("auth/finalize_auth")["response"]["url"]
        assert url.startswith(IDP_CALLBACK + "?") and "duo_code=" in url
        assert push_txid in duo.secrets_issued and authkey in duo.secrets_issued


def test_the_pwl_passcode(clock: Clock) -> None:
    with DuoEmulator(users(), clock=clock, variant="pwl") as duo:
        prompt = Prompt(duo)
        location = prompt.plugin_post(prompt.enter("ada")).headers["Location"]
        authkey = parse_qs(urlsplit(location).query)["authkey"][0]
        base = f"{duo.base_url}/prompt/{duo.akey}"
        prompt.http.get(f"{base}/pre_authn/initialization", params={"authkey": authkey}, timeout=5)
        url = f"{base}/auth/factors/mobile_otp"
        wrong = prompt.http.post(
            url, params={"authkey": authkey}, json={"mobile_otp": "1"}, timeout=5
        )
        assert wrong.json()["message"] == d.WRONG_PASSCODE
        right = prompt.http.post(
            url, params={"authkey": authkey}, json={"mobile_otp": "123456"}, timeout=5
        )
        assert right.json()["stat"] == "OK"


# -- what the emulator records ---------------------------------------------------------------
def test_every_secret_handed_out_is_recorded_and_no_body_is_logged(
    duo: DuoEmulator, clock: Clock
) -> None:
    prompt = Prompt(duo)
    prompt.to_prompt("ada", state="state-" + "q" * 24)
    tx = parse_qs(urlsplit(back_of(prompt).headers["Location"]).query)["tx"][0]
    txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
    prompt.poll(txid, clock)
    code = back_query(prompt.exit(txid, d.PUSH))["duo_code"]
    trc = next(c.value for c in cookies(prompt.http) if c.name.startswith("trc|"))
    body = exchange(duo, code).json()
    recorded = duo.secrets_issued
    for value in (prompt.sid, tx, prompt.xsrf, txid, code, "state-" + "q" * 24, trc):
        assert value in recorded
    assert body["id_token"] in recorded and body["access_token"] in recorded
    assert trc in duo.issued_cookies
    logged = json.dumps([r.body for r in duo.log])
    for value in (prompt.sid, prompt.xsrf, txid, code, tx):
        assert value not in logged
    assert all(value not in path for value in (prompt.sid, txid) for _, path in duo.requests)


# -- behind Shibboleth ----------------------------------------------------------------------
class IdpBrowser:
    """A cookie jar across the IdP and Duo; redirects followed one at a time."""

    def __init__(self, idp: DuoShibbolethEmulator) -> None:
        self.idp = idp
        self.http = requests.Session()
        self.url = ""

    def go(self, url: str, data: Any = None) -> requests.Response:
        self.url = urljoin(self.url, url) if self.url else url
        if data is None:
            return self.http.get(self.url, allow_redirects=False, timeout=10)
        return self.http.post(self.url, data=data, allow_redirects=False, timeout=10)

    def follow(self, reply: requests.Response) -> requests.Response:
        while reply.status_code in (302, 303):
            reply = self.go(reply.headers["Location"])
        return reply

    def submit(self, page: requests.Response, **values: str) -> requests.Response:
        form = lxml.html.fromstring(page.text).xpath("//form")[0]
        fields = {i.get("name"): i.get("value") or "" for i in form.iter("input") if i.get("name")}
        for button in form.iter("button"):
            if button.get("name"):
                fields[button.get("name")] = button.get("value") or ""
        fields.update(values)
        return self.go(form.get("action") or self.url, data=fields)

    def to_duo(self) -> requests.Response:
        """Password in; the IdP's 302 into Duo returned."""
        page = self.follow(self.go(self.idp.start_url))
        if "j_username" not in page.text:
            page = self.follow(self.submit(page))  # the client-storage read page
        return self.submit(page, j_username="ada", j_password="pw")


@pytest.fixture
def idp(duo: DuoEmulator) -> Iterator[DuoShibbolethEmulator]:
    with DuoShibbolethEmulator([FormUser("ada", "pw", roles=[DEV])], duo) as emu:
        yield emu


@pytest.mark.parametrize("use_duo_code", [False, True])
def test_shibboleth_with_duo_end_to_end(duo: DuoEmulator, clock: Clock, use_duo_code: bool) -> None:
    with DuoShibbolethEmulator(
        [FormUser("ada", "pw", roles=[DEV])], duo, use_duo_code_attribute=use_duo_code
    ) as idp:
        browser = IdpBrowser(idp)
        into_duo = browser.to_duo()
        assert into_duo.status_code == 302
        assert into_duo.headers["Location"].startswith(f"{duo.base_url}{d.AUTHORIZE_PATH}?")
        assert not any("shib_idp_session" in c.name for c in cookies(browser.http))
        prompt = Prompt(duo, browser.http)
        reply = prompt.get(into_duo.headers["Location"])
        prompt.sid = parse_qs(urlsplit(reply.headers["Location"]).query)["sid"][0]
        first = prompt.plugin_post(prompt.get(reply.headers["Location"]))
        prompt.health_check(first)
        prompt.get(
            prompt.plugin_post(prompt.get(back_of(prompt).headers["Location"])).headers["Location"]
        )
        txid = prompt.start(d.PUSH, "phone1")["response"]["txid"]
        prompt.poll(txid, clock)
        back = prompt.exit(txid, d.PUSH)
        location = back.headers["Location"]
        assert urlsplit(location).path == CALLBACK_PATH
        assert ("duo_code=" in location) is use_duo_code and (
            "&code=" in location
        ) is not use_duo_code
        browser.url = prompt.url
        proceed = browser.go(location)
        assert proceed.status_code == 302
        assert proceed.headers["Location"].startswith(f"{SSO_PATH}?execution=e1s")
        assert proceed.headers["Location"].endswith("&_eventId_proceed=1")
        page = browser.follow(proceed)
        if "SAMLResponse" not in page.text:
            page = browser.follow(browser.submit(page))  # the client-storage write page
        saml = dict(inputs(page.text))["SAMLResponse"]
        assert saml in idp.issued
        assert [r["preferred_username"] for r in idp.duo_results] == ["ada"]
        assert len(duo.exchanges) == 1
        # the Duo cookie never went to the IdP's host, nor the IdP's to Duo's
        duo_host = urlsplit(duo.base_url).hostname
        assert all(
            c.domain.strip(".") != duo_host for c in cookies(browser.http) if c.name == "JSESSIONID"
        )
        # a replayed callback is stale
        again = browser.go(location)
        assert STALE in again.text


def test_shibboleths_own_session_skips_password_and_duo(duo: DuoEmulator, clock: Clock) -> None:
    with DuoShibbolethEmulator([FormUser("ada", "pw", roles=[DEV])], duo, version=4) as idp:
        browser = IdpBrowser(idp)
        prompt = Prompt(duo, browser.http)
        reply = prompt.get(browser.to_duo().headers["Location"])
        prompt.sid = parse_qs(urlsplit(reply.headers["Location"]).query)["sid"][0]
        prompt.health_check(prompt.plugin_post(prompt.get(reply.headers["Location"])))
        prompt.plugin_post(prompt.get(back_of(prompt).headers["Location"]))
        txid = prompt.start(d.PASSCODE, None, passcode="123456")["response"]["txid"]
        prompt.poll(txid, clock)
        browser.url = prompt.url
        page = browser.follow(browser.go(prompt.exit(txid, d.PASSCODE).headers["Location"]))
        if "SAMLResponse" not in page.text:
            page = browser.follow(browser.submit(page))
        assert "SAMLResponse" in page.text
        browser.url = ""
        again = browser.follow(browser.go(idp.start_url))
        if "SAMLResponse" not in again.text:
            again = browser.follow(browser.submit(again))  # the client-storage read page
        assert "SAMLResponse" in again.text and "j_password" not in again.text
        assert duo.count("GET", d.AUTHORIZE_PATH) == 1
        assert len(idp.issued) == 2


def test_shibboleth_refuses_a_callback_without_its_flow_cookie_or_state(
    duo: DuoEmulator, idp: DuoShibbolethEmulator, clock: Clock
) -> None:
    browser = IdpBrowser(idp)
    into_duo = browser.to_duo()
    state = jwt_payload(parse_qs(urlsplit(into_duo.headers["Location"]).query)["request"][0])[
        "state"
    ]
    stranger = requests.get(
        f"{idp.callback_url}?state={state}&code=x", allow_redirects=False, timeout=5
    )
    assert STALE in stranger.text
    wrong_state = browser.go(f"{idp.callback_url}?state=other&code=x")
    assert STALE in wrong_state.text


def test_shibboleth_fails_on_a_code_duo_refuses(
    duo: DuoEmulator, idp: DuoShibbolethEmulator
) -> None:
    browser = IdpBrowser(idp)
    into_duo = browser.to_duo()
    state = jwt_payload(parse_qs(urlsplit(into_duo.headers["Location"]).query)["request"][0])[
        "state"
    ]
    assert state in idp.secrets_issued
    page = browser.go(f"{idp.callback_url}?state={state}&code=forged")
    assert DUO_FAILED in page.text
    assert idp.issued == []


def test_shibboleth_stops_when_duo_is_unavailable(
    duo: DuoEmulator, idp: DuoShibbolethEmulator
) -> None:
    duo.fail_next(d.OIDC_HEALTH_PATH, 503)
    page = IdpBrowser(idp).to_duo()
    assert page.status_code == 200 and DUO_UNAVAILABLE in page.text


def jwt_payload(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(unb64url(token.split(".")[1]))
    return value
