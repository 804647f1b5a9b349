"""The Okta provider in-process against the Okta emulator, on a fake clock shared by both:
push polling, number challenges, device-grant waiting, rate limits and kept sessions without
any real waiting."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from samljit.providers.okta import OktaProvider
from samljit.providers.okta.links import Org, with_params

from samljit.common.errors import (
    AuthenticationError,
    ConfigError,
    IdpServiceError,
    MissingInputError,
)
from samljit.common.http import HttpClient, json_object, rate_limit_wait
from samljit.common.terminal import Terminal
from samljit.config.accounts import Account
from samljit.config.saml2aws import ProviderInfo, convert_section
from samljit.idp.mfa import CODE_ATTEMPTS
from samljit.idp.page import js_unescape
from samljit.idp.provider import LoginSecrets
from samljit.saml import assertion
from samljit.testing.fakes import FakeClock, fake_services
from samljit.tools.sandbox.response import RoleGrant
from tests.emulators import deep_json
from tests.emulators.common import totp_at
from tests.emulators.okta import (
    App,
    OidcClient,
    OktaEmulator,
    User,
    duo_factor,
    push_factor,
    question_factor,
    sms_factor,
    token_factor,
    totp_factor,
    webauthn_factor,
)

APP = "0oa1aws2app3id4"
CLIENT = "0oa1native2cli3"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PW = "pw-Okta-1"
DEV = RoleGrant(
    "arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/Okta"
)


class Choosing(Terminal):
    """A non-interactive terminal that answers ``choose`` with a fixed pick."""

    def __init__(self, stream: io.StringIO, pick: str) -> None:
        super().__init__(interactive=False, stream=stream, colour=False)
        self.pick = pick
        self.offered: list[str] = []

    def choose(self, title: str, options: Sequence[str], *, what: str, hint: Any = None) -> int:
        self.offered = list(options)
        return next(i for i, o in enumerate(options) if self.pick in o)


class Run:
    """One emulator and one fake clock (the emulator's clock too); ``login`` runs the
    provider with a shared HttpClient (one cookie jar, as the session store would load)."""

    def __init__(self, tmp_path: Path, clock: FakeClock, emu: OktaEmulator) -> None:
        self.tmp_path, self.clock, self.emu = tmp_path, clock, emu
        self.shown = io.StringIO()
        self.http: HttpClient | None = None

    def account(self, mfa: str = "Auto", **options: str) -> Account:
        return Account(
            name="okta",
            provider="Okta",
            url=self.emu.app_url(APP),
            username="ops@acme.example",
            mfa=mfa,
            options=options,
        )

    def login(
        self,
        user: str = "ops@acme.example",
        *,
        mfa: str = "Auto",
        code: str | None = None,
        password: str | None = PW,
        terminal: Terminal | None = None,
        secrets: LoginSecrets | None = None,
        **options: str,
    ) -> str:
        overrides = {"terminal": terminal} if terminal is not None else {}
        services, _, shown = fake_services(
            {"HOME": str(self.tmp_path)}, clock=self.clock, **overrides
        )
        self.shown = terminal.stream if terminal is not None else shown  # type: ignore[assignment]
        if self.http is None:
            self.http = HttpClient(
                env=services.env, sleep=services.sleep, clock=lambda: self.clock.now().timestamp()
            )
        account = self.account(mfa, **options)._replace(username=user)
        provider = OktaProvider(OktaProvider.check_account(account), self.http, services)
        return provider.login(secrets or LoginSecrets(user, password, code))

    @property
    def text(self) -> str:
        return self.shown.getvalue()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture
def make(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Run]]:
    started: list[OktaEmulator] = []

    def factory(users: Sequence[User], **options: Any) -> Run:
        options.setdefault("clock", lambda: clock.now().timestamp())
        emu = OktaEmulator(users, **options).start()
        started.append(emu)
        return Run(tmp_path, clock, emu)

    yield factory
    for emu in started:
        emu.stop()


def user(*factors: Any, login: str = "ops@acme.example", **extra: Any) -> User:
    return User(login, PW, factors=list(factors), apps={APP: [DEV]}, **extra)


def roles(encoded: str) -> list[str]:
    return [r.role_arn for r in assertion.parse(encoded).roles]


# -- push -------------------------------------------------------------------------------------
def test_push_with_a_number_shows_it_once_with_the_time_left(make: Callable[..., Run]) -> None:
    run = make([user(push_factor(number=42, after=4))])
    assert roles(run.login()) == [DEV.role_arn]
    assert run.text.count("Pick 42 in Okta Verify (") == 1
    assert " s left)." in run.text
    assert run.clock.sleeps and all(s >= 1.0 for s in run.clock.sleeps)


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("deny", "Okta Verify push was rejected (denied on the phone)"),
        ("wrong-number", "rejected (denied on the phone, or a wrong number was picked)"),
        ("expire", "Okta Verify push timed out without an answer"),
        ("cancel", "Okta Verify push ended with CANCELLED"),
    ],
)
def test_push_outcomes(make: Callable[..., Run], behaviour: str, said: str) -> None:
    run = make([user(push_factor(behaviour))])  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError) as caught:
        run.login()
    assert said in caught.value.message
    sent = run.emu.count("POST", f"/api/v1/authn/factors/{_factor_id(run)}/verify")
    assert sent == 3  # the push, two polls: a REJECTED/TIMEOUT push is not sent again


def test_unanswered_push_ends_at_the_state_token_expiry(make: Callable[..., Run]) -> None:
    run = make([user(push_factor("never"))], state_token_lifetime=120.0)
    with pytest.raises(AuthenticationError, match="got no answer in time"):
        run.login()
    assert 115 <= sum(run.clock.sleeps) <= 125  # fake time: no real waiting


def test_several_phones_pick_by_name(make: Callable[..., Run]) -> None:
    okta_user = user(push_factor(name="Phone A"), push_factor(name="Phone B"))
    run = make([okta_user])
    terminal = Choosing(io.StringIO(), "Phone B")
    terminal.interactive = True
    run.login(terminal=terminal, mfa="PUSH")
    assert terminal.offered == ["PUSH (Phone A)", "PUSH (Phone B)"]
    phone_b = okta_user.factors[1].id
    assert run.emu.count("POST", f"/api/v1/authn/factors/{phone_b}/verify") >= 2
    assert run.emu.count("POST", f"/api/v1/authn/factors/{okta_user.factors[0].id}/verify") == 0


# -- codes ------------------------------------------------------------------------------------
def test_auto_with_a_code_uses_totp_not_push(make: Callable[..., Run], clock: FakeClock) -> None:
    okta_user = user(push_factor(), sms_factor(code="111111"), totp_factor(SECRET))
    run = make([okta_user])
    run.login(code=totp_at(SECRET, clock.now().timestamp()))
    assert run.emu.count("POST", f"/api/v1/authn/factors/{okta_user.factors[0].id}/verify") == 0
    assert run.emu.sent_codes == []


def test_auto_with_a_code_and_no_totp_uses_sms(make: Callable[..., Run]) -> None:
    okta_user = user(push_factor(), sms_factor(code="246810"))
    run = make([okta_user])
    run.login(code="246810")
    assert run.emu.sent_codes == [(okta_user.factors[1].id, "246810")]
    assert "Okta sent a code by SMS to +1 XXX-XXX-4242." in run.text


@pytest.mark.parametrize(
    ("mfa", "vendor"), [("GOOGLE TOKEN:SOFTWARE:TOTP", "GOOGLE"), ("OKTA TOKEN", "OKTA")]
)
def test_saml2aws_spellings_pick_the_vendor(
    make: Callable[..., Run], clock: FakeClock, mfa: str, vendor: str
) -> None:
    okta_user = user(totp_factor(SECRET, "OKTA"), totp_factor(SECRET, "GOOGLE"))
    run = make([okta_user])
    run.login(mfa=mfa, code=totp_at(SECRET, clock.now().timestamp()))
    used = next(f for f in okta_user.factors if f.provider == vendor)
    assert run.emu.count("POST", f"/api/v1/authn/factors/{used.id}/verify") == 1


def test_mfa_setting_accepts_saml2aws_spellings() -> None:
    assert OktaProvider.mfa_setting("okta push") == "OKTA PUSH"
    assert OktaProvider.mfa_setting("Google  TOKEN:software:totp") == "GOOGLE TOKEN:SOFTWARE:TOTP"
    assert OktaProvider.mfa_setting("totp") == "TOTP"
    assert OktaProvider.mfa_setting("OKTA BOGUS") is None
    assert OktaProvider.mfa_setting("PHONE") is None


def test_mfa_not_offered_is_a_config_error(make: Callable[..., Run]) -> None:
    run = make([user(push_factor())])
    with pytest.raises(ConfigError, match=r"mfa is set to 'SMS', but Okta offers: PUSH \(Ada's"):
        run.login(mfa="SMS")


@pytest.mark.parametrize(
    ("factor", "said"),
    [
        (webauthn_factor(), "Okta asks for a security key (WebAuthn), which needs samljit's "),
        (webauthn_factor(u2f=True), "Okta asks for a security key (WebAuthn)"),
        (duo_factor(), "Okta asks for Duo"),
    ],
)
def test_browser_only_factors_name_login_browser(
    make: Callable[..., Run], factor: Any, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fido2.client", None)  # the fido2 extra is not installed
    run = make([user(factor)])
    with pytest.raises(AuthenticationError) as caught:
        run.login()
    assert said in caught.value.message
    assert caught.value.message.endswith("log in with `samljit login --browser`")


def test_browser_only_factors_are_not_auto_picked_beside_usable_ones(
    make: Callable[..., Run], clock: FakeClock
) -> None:
    run = make([user(webauthn_factor(), totp_factor(SECRET))])
    assert roles(run.login(code=totp_at(SECRET, clock.now().timestamp())))


# -- statuses ---------------------------------------------------------------------------------
def test_password_warn_is_one_warning_then_success(make: Callable[..., Run]) -> None:
    run = make([user(password_warn=True)])
    assert roles(run.login())
    assert "your Okta password expires soon (in 5 days)" in run.text
    assert run.emu.count("POST", "/api/v1/authn/skip") == 1


# -- sessions and remembered devices ----------------------------------------------------------
def test_a_kept_sid_logs_in_without_password_or_mfa(make: Callable[..., Run]) -> None:
    run = make([user(push_factor())])
    run.login()
    authn = run.emu.count("POST", "/api/v1/authn")
    assert roles(run.login(password=None))
    assert run.emu.count("POST", "/api/v1/authn") == authn
    assert run.emu.count("GET", "/api/v1/sessions/me") == 1


def test_a_revoked_sid_falls_back_to_the_password_silently(make: Callable[..., Run]) -> None:
    run = make([user(totp_factor(SECRET))])
    run.login(code=totp_at(SECRET, run.clock.now().timestamp()))
    for session in run.emu.sessions:
        run.emu.end_session(session)
    run.clock.advance(31)
    assert roles(run.login(code=totp_at(SECRET, run.clock.now().timestamp())))
    assert run.emu.count("GET", "/api/v1/sessions/me") == 1
    assert run.emu.count("POST", "/api/v1/authn") == 2
    verify = f"/api/v1/authn/factors/{_factor_id(run)}/verify"
    assert run.emu.count("POST", verify) == 1  # the device was remembered: no MFA again
    assert "warning" not in run.text


def test_remember_device_skips_mfa_next_time(make: Callable[..., Run]) -> None:
    run = make([user(push_factor())], set_device_token=False)
    run.login()
    assert run.http is not None
    run.http.session.cookies.clear(domain="127.0.0.1", path="/", name="sid")
    verifies = run.emu.count("POST", "/api/v1/authn/factors/" + _factor_id(run) + "/verify")
    run.login()
    assert run.emu.count("POST", "/api/v1/authn/factors/" + _factor_id(run) + "/verify") == verifies
    assert [r.path for r in run.emu.log].count("/api/v1/authn") == 2


def test_disable_remember_device_asks_mfa_every_time(make: Callable[..., Run]) -> None:
    run = make([user(push_factor())])
    run.login(disable_remember_device="true")
    assert run.http is not None
    run.http.session.cookies.clear(domain="127.0.0.1", path="/", name="sid")
    verifies = run.emu.count("POST", "/api/v1/authn/factors/" + _factor_id(run) + "/verify")
    run.login(disable_remember_device="true")
    assert run.emu.count("POST", "/api/v1/authn/factors/" + _factor_id(run) + "/verify") > verifies


def _factor_id(run: Run) -> str:
    return run.emu.users["ops@acme.example"].factors[0].id


@pytest.mark.parametrize("page", ["script", "link"])
def test_app_level_step_up(make: Callable[..., Run], page: str) -> None:
    okta_user = User(
        "ops@acme.example",
        PW,
        factors=[push_factor()],
        apps={APP: App([DEV], step_up=True, step_up_page=page)},  # type: ignore[arg-type]
    )
    run = make([okta_user])
    assert roles(run.login())
    assert run.emu.count("GET", "/login/step-up/redirect") == 1


# -- rate limits ------------------------------------------------------------------------------
def test_429_near_is_retried_once_after_the_reset(make: Callable[..., Run]) -> None:
    run = make([user()])
    reset = int(run.clock.now().timestamp()) + 7
    run.emu.fail_next("/api/v1/authn", 429, headers={"X-Rate-Limit-Reset": str(reset)})
    assert roles(run.login())
    assert run.clock.sleeps == [7.0]


def test_429_far_says_when_to_retry(make: Callable[..., Run]) -> None:
    run = make([user()])
    reset = int(run.clock.now().timestamp()) + 120
    run.emu.fail_next("/api/v1/authn", 429, headers={"X-Rate-Limit-Reset": str(reset)})
    with pytest.raises(IdpServiceError, match=r"throttled the request \(HTTP 429\); retry after"):
        run.login()
    assert run.clock.sleeps == []
    assert run.emu.count("POST", "/api/v1/authn") == 1


def test_rate_limit_wait_reads_both_headers() -> None:
    assert rate_limit_wait({"X-Rate-Limit-Reset": "1010"}, 1000.0) == 10.0
    assert rate_limit_wait({"Retry-After": "3"}, 0.0) == 3.0
    assert rate_limit_wait({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 1445412470.0) == 10.0
    assert rate_limit_wait({"Retry-After": "soon"}, 0.0) is None
    assert rate_limit_wait({}, 0.0) is None


# -- Identity Engine --------------------------------------------------------------------------
def idx(make: Callable[..., Run], **options: Any) -> Run:
    options.setdefault("device_user", "ops@acme.example")
    return make([user(push_factor())], pipeline="idx", clients=[OidcClient(CLIENT)], **options)


def test_device_flow_approved(make: Callable[..., Run]) -> None:
    run = idx(make)
    assert roles(run.login(client_id=CLIENT, password=None))
    assert "open http://127.0.0.1:" in run.text and "/activate?user_code=" in run.text
    assert run.clock.sleeps == [5.0, 5.0]  # the IdP's interval
    assert run.emu.count("POST", "/api/v1/authn") == 0


def test_device_flow_slows_down_when_told(make: Callable[..., Run]) -> None:
    run = idx(make, device_interval=5, device_after=3)
    run.emu.fail_next(
        "/oauth2/v1/token",
        400,
        body={"error": "slow_down", "error_description": "The client is polling too frequently."},
    )
    assert roles(run.login(client_id=CLIENT))
    assert run.clock.sleeps[:2] == [5.0, 10.0]


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        ("deny", "the Okta sign-in was denied in the browser"),
        ("expire", "the Okta sign-in was not approved before the code expired"),
        ("never", "the Okta sign-in was not approved before the code expired"),
    ],
)
def test_device_flow_failures(make: Callable[..., Run], outcome: str, said: str) -> None:
    run = idx(make, device_outcome=outcome, device_expires_in=60)
    with pytest.raises(AuthenticationError, match=said):
        run.login(client_id=CLIENT)
    assert sum(run.clock.sleeps) <= 65  # bounded by the IdP's expiry, in fake time


def test_device_flow_without_client_id(make: Callable[..., Run]) -> None:
    run = idx(make)
    with pytest.raises(ConfigError) as caught:
        run.login()
    assert "Okta Identity Engine org" in caught.value.message
    assert "needs client_id" in caught.value.message
    assert caught.value.hint and "--client-id" in caught.value.hint
    assert "Device Authorization" in caught.value.hint


def test_device_flow_unknown_client(make: Callable[..., Run]) -> None:
    run = idx(make)
    with pytest.raises(ConfigError, match="Okta refused the client_id: invalid_client"):
        run.login(client_id="0oaNope")


# -- small pieces -----------------------------------------------------------------------------
def test_url_must_be_the_embed_link(make: Callable[..., Run]) -> None:
    run = make([user()])
    services, _, _ = fake_services({"HOME": str(run.tmp_path)})
    account = run.account()._replace(url=run.emu.base_url + "/app/UserHome")
    provider = OktaProvider(account, HttpClient(env={}), services)
    with pytest.raises(ConfigError, match="Okta url is not an AWS app embed link"):
        provider.login(LoginSecrets("ops@acme.example", PW))


def testjs_unescape() -> None:
    assert js_unescape(r"00ab\x2Dcd\u002dx\'") == "00ab-cd-x'"


def test_saml2aws_import_keeps_okta_spellings_and_keys() -> None:
    info = ProviderInfo(
        "Okta",
        OktaProvider.mfa_options,
        {"client_id": "client_id", "disable_remember_device": "disable_remember_device"},
        OktaProvider.mfa_setting,
    )
    converted = convert_section(
        "work",
        {
            "provider": "Okta",
            "url": "https://acme.okta.com/home/amazon_aws/0oa1/272",
            "mfa": "OKTA PUSH",
            "aws_profile": "work",
            "disable_remember_device": "true",
            "client_id": "0oaCli",
        },
        provider_lookup=lambda name: info,
    )
    assert converted.values["mfa"] == "OKTA PUSH"
    assert converted.values["disable_remember_device"] == "true"
    assert converted.values["client_id"] == "0oaCli"
    assert not converted.notes


# -- links, odd answers, one password source --------------------------------------------------
ORG = "https://acme.okta.com"


@pytest.mark.parametrize(
    "href",
    [
        "/api/v1/authn/factors/ost1/verify",
        "https://acme.okta.com/api/v1/authn/factors/ost1/verify?rememberDevice=false",
        "https://ACME.okta.com:443/api/v1/authn/skip",
    ],
)
def test_links_on_the_org_are_followed(href: str) -> None:
    org = Org.parse(ORG + "/home/amazon_aws/0oa1/272")
    assert org.resolve(href, "Okta TOTP") == urljoin(ORG + "/", href)


@pytest.mark.parametrize(
    ("href", "named"),
    [
        ("http://acme.okta.com/api/v1/authn/factors/ost1/verify", "http://acme.okta.com"),
        ("https://acme.okta.com:8443/api/v1/authn/skip", "https://acme.okta.com:8443"),
        ("https://evil.example/api/v1/authn/factors/ost1/verify", "https://evil.example"),
        ("//evil.example/verify", "https://evil.example"),
        ("https://acme.okta.com.evil.example/verify", "https://acme.okta.com.evil.example"),
        ("https://acme.okta.com@evil.example/verify", "https://evil.example"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ],
)
def test_links_off_the_org_are_refused_naming_where_they_point(href: str, named: str) -> None:
    org = Org.parse(ORG + "/home/amazon_aws/0oa1/272")
    with pytest.raises(AuthenticationError) as caught:
        org.resolve(href, "Okta TOTP")
    assert caught.value.message.startswith(f"Okta TOTP: Okta's answer points to {named}, ")
    assert f"not to the org {ORG}" in caught.value.message


def test_verify_query_parameters_are_merged() -> None:
    link = ORG + "/api/v1/authn/factors/opf1/verify?rememberDevice=false&lang=en"
    merged = with_params(with_params(link, {"rememberDevice": "true"}), {"autoPush": "false"})
    assert merged == (
        ORG + "/api/v1/authn/factors/opf1/verify?lang=en&rememberDevice=true&autoPush=false"
    )


def test_verify_link_with_a_query_remembers_the_device(make: Callable[..., Run]) -> None:
    run = make([user(push_factor())], verify_query="rememberDevice=false", set_device_token=False)
    run.login()
    assert run.http is not None
    run.http.session.cookies.clear(domain="127.0.0.1", path="/", name="sid")
    verifies = run.emu.count("POST", f"/api/v1/authn/factors/{_factor_id(run)}/verify")
    run.login()  # the device was remembered: no push this time
    assert run.emu.count("POST", f"/api/v1/authn/factors/{_factor_id(run)}/verify") == verifies


def behind(clock: FakeClock, seconds: float) -> Callable[[], float]:
    """Okta's clock, ``seconds`` behind this machine's."""
    return lambda: clock.now().timestamp() - seconds


def test_push_past_its_expiry_by_the_local_clock_is_polled(
    make: Callable[..., Run], clock: FakeClock
) -> None:
    run = make([user(push_factor(after=2))], clock=behind(clock, 3600))
    assert roles(run.login())
    assert run.emu.count("POST", f"/api/v1/authn/factors/{_factor_id(run)}/verify") == 3


def test_push_past_its_expiry_by_the_local_clock_ends_when_okta_ends_it(
    make: Callable[..., Run], clock: FakeClock
) -> None:
    run = make([user(push_factor("never"))], clock=behind(clock, 3600), state_token_lifetime=120.0)
    with pytest.raises(AuthenticationError, match="got no answer in time"):
        run.login()
    assert 115 <= sum(run.clock.sleeps) <= 125  # Okta's state token ran out (E0000011)


def test_success_without_a_session_token_is_refused(make: Callable[..., Run]) -> None:
    run = make([user()], success_token=False)
    with pytest.raises(AuthenticationError, match="Okta's SUCCESS answer holds no session token"):
        run.login()
    assert run.emu.count("GET", "/login/sessionCookieRedirect") == 0


def test_json_nested_too_deep_is_not_a_json_object(make: Callable[..., Run]) -> None:
    run = make([user()])
    run.emu.fail_next("/api/v1/authn", 200, body=deep_json())
    with pytest.raises(AuthenticationError, match="with something that is not a JSON object"):
        run.login()
    assert run.http is not None
    answer = run.http.get(run.emu.base_url + "/api/v1/sessions/me", step="check")
    assert json_object(answer) is not None  # an ordinary error object still reads
    run.emu.fail_next("/api/v1/sessions/me", 200, body=deep_json())
    deep = run.http.get(run.emu.base_url + "/api/v1/sessions/me", step="check")
    with pytest.raises(ValueError):
        deep.json()
    assert json_object(deep) is None


class Asking(Terminal):
    """An interactive terminal that records each question and answers ``typed``."""

    def __init__(self, typed: str) -> None:
        super().__init__(interactive=True, stream=io.StringIO(), colour=False)
        self.typed = typed
        self.asked: list[str] = []

    def _prompt(self, message: str, **kwargs: Any) -> str:
        self.asked.append(message)
        return self.typed


@pytest.mark.parametrize("source", ["none", "empty"])
def test_the_password_has_one_source_and_is_never_asked_twice(
    make: Callable[..., Run], source: str
) -> None:
    """The flow's password source (environment, keyring, its one prompt) is the only one: the
    provider has no prompt of its own to ask again when that source gave nothing."""
    run = make([user()])
    calls: list[str] = []

    def from_the_flow() -> str:
        calls.append("asked")
        return ""

    given = (
        LoginSecrets("ops@acme.example")
        if source == "none"
        else LoginSecrets("ops@acme.example", ask_password=from_the_flow)
    )
    terminal = Asking(PW)
    with pytest.raises(MissingInputError, match="the Okta password is needed"):
        run.login(terminal=terminal, secrets=given)
    assert terminal.asked == []
    assert calls == ([] if source == "none" else ["asked"])
    assert run.emu.count("POST", "/api/v1/authn") == 0


# -- the security question, RSA/Symantec tokens, a code typed again --------------------------
class Typing(Terminal):
    """An interactive terminal answering each question with the next of ``typed``."""

    def __init__(self, *typed: str) -> None:
        super().__init__(interactive=True, stream=io.StringIO(), colour=False)
        self.typed = list(typed)
        self.asked: list[str] = []

    def _prompt(self, message: str, **kwargs: Any) -> str:
        self.asked.append(message)
        return self.typed.pop(0)


def test_the_security_question_is_asked_with_its_text(make: Callable[..., Run]) -> None:
    run = make([user(question_factor("Blue", "What is your favourite colour?"))])
    terminal = Typing("Blue")
    assert roles(run.login(terminal=terminal)) == [DEV.role_arn]
    (asked,) = terminal.asked
    assert "Okta security question: What is your favourite colour?" in asked
    assert "Blue" not in run.text


def test_a_wrong_answer_to_the_security_question_is_typed_again(make: Callable[..., Run]) -> None:
    run = make([user(question_factor("Blue"))])
    terminal = Typing("Red", "Blue")
    assert roles(run.login(mfa="OKTA QUESTION", terminal=terminal)) == [DEV.role_arn]
    assert len(terminal.asked) == 2
    assert "Invalid Passcode/Answer" in terminal.stream.getvalue()  # type: ignore[attr-defined]
    assert "Red" not in run.text and "Blue" not in run.text


def test_wrong_answers_to_the_security_question_end_the_login(make: Callable[..., Run]) -> None:
    run = make([user(question_factor("Blue"))])
    terminal = Typing("Red", "Green", "Yellow", "Blue")
    with pytest.raises(AuthenticationError, match="Okta security question"):
        run.login(mfa="OKTA QUESTION", terminal=terminal)
    assert len(terminal.asked) == CODE_ATTEMPTS


@pytest.mark.parametrize("vendor", ["RSA", "SYMANTEC"])
def test_a_token_code_given_up_front(make: Callable[..., Run], vendor: str) -> None:
    run = make([user(token_factor(["13572468"], provider=vendor))])  # type: ignore[arg-type]
    assert roles(run.login(mfa=f"{vendor} TOKEN", code="13572468")) == [DEV.role_arn]


@pytest.mark.parametrize("vendor", ["RSA", "SYMANTEC"])
def test_a_used_token_code_is_refused(make: Callable[..., Run], vendor: str) -> None:
    run = make([user(token_factor(["13572468"], provider=vendor))])  # type: ignore[arg-type]
    run.login(mfa=f"{vendor} TOKEN", code="13572468")
    run.http = None  # a new run: no kept session
    with pytest.raises(AuthenticationError):
        run.login(mfa=f"{vendor} TOKEN", code="13572468")


def test_a_wrong_typed_code_is_typed_again(make: Callable[..., Run]) -> None:
    run = make([user(token_factor(["13572468"]))])
    terminal = Typing("11111111", "22222222", "13572468")
    assert roles(run.login(mfa="RSA TOKEN", terminal=terminal)) == [DEV.role_arn]
    assert len(terminal.asked) == 3
    assert terminal.stream.getvalue().count("Invalid Passcode/Answer") == 2  # type: ignore[attr-defined]


def test_a_wrong_code_is_typed_at_most_code_attempts_times(make: Callable[..., Run]) -> None:
    run = make([user(token_factor(["13572468"]))])
    terminal = Typing("11111111", "22222222", "33333333", "13572468")
    with pytest.raises(AuthenticationError, match="Invalid Passcode/Answer"):
        run.login(mfa="RSA TOKEN", terminal=terminal)
    assert len(terminal.asked) == CODE_ATTEMPTS


def test_a_wrong_code_given_up_front_is_not_asked_again(make: Callable[..., Run]) -> None:
    run = make([user(token_factor(["13572468"]))])
    terminal = Typing("13572468")
    with pytest.raises(AuthenticationError, match="Invalid Passcode/Answer"):
        run.login(mfa="RSA TOKEN", code="11111111", terminal=terminal)
    assert terminal.asked == []
