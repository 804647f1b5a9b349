"""Ping and PingOne providers in process, against the Ping emulators: the conformance kit,
names and keys, the bare-host url, the device choice on a terminal, and the push wait on the
fake clock (its interval and the client's cap). The CLI paths are in tests/e2e/test_ping.py."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from samljit.providers.ping import PingOneProvider, PingProvider
from samljit.providers.ping.federate import start_url

from samljit.common.errors import AuthenticationError
from samljit.common.http import HttpClient
from samljit.common.terminal import Terminal
from samljit.config.accounts import Account
from samljit.idp.provider import LoginSecrets, load_provider
from samljit.saml import assertion
from samljit.testing.conformance import ProviderConformance
from samljit.testing.fakes import FakeClock, fake_services
from samljit.tools.sandbox.response import RoleGrant
from tests.emulators.common import totp_at
from tests.emulators.ping import Device, PingEmulators, PingUser, yubikey_otp

PW = "pw-Ping-1"
OPS = RoleGrant("arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/P")
DESK = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
KEYS = [yubikey_otp() for _ in range(3)]


def users() -> list[PingUser]:
    phone = Device("iPhone", totp_secret=DESK, push="never")
    desk = Device("Work laptop", kind="desktop", totp_secret=DESK)
    key = Device("YubiKey", kind="yubikey", yubikey_codes=KEYS)
    return [
        PingUser("plain@acme.example", PW, roles=[OPS]),
        PingUser("key@acme.example", PW, roles=[OPS], devices=[key]),
        PingUser("never@acme.example", PW, roles=[OPS], devices=[phone]),
        PingUser(
            "chooser@acme.example", PW, roles=[OPS], devices=[phone, desk], choose_device=True
        ),
    ]


@pytest.fixture
def emu() -> Iterator[PingEmulators]:
    with PingEmulators(users()) as ping:
        yield ping


class TestConformance(ProviderConformance):
    provider = PingProvider
    good = LoginSecrets("plain@acme.example", PW)
    bad = LoginSecrets("plain@acme.example", "wrong-password")
    mfa = LoginSecrets("key@acme.example", PW, mfa_token=KEYS[0])

    @pytest.fixture
    def idp(self, emu: PingEmulators) -> PingEmulators:
        return emu

    def account(self, idp: PingEmulators, tmp_path: Path) -> Account:
        return Account(name="ping", provider="Ping", url=idp.ping_url)


class TestPingOneConformance(TestConformance):
    provider = PingOneProvider

    def account(self, idp: PingEmulators, tmp_path: Path) -> Account:
        return Account(name="ping1", provider="PingOne", url=idp.pingone.startsso_url)


def test_names_keys_and_mfa_values() -> None:
    assert load_provider("PingFederate") is load_provider("ping") is PingProvider
    assert load_provider("pingone") is PingOneProvider
    for cls in (PingProvider, PingOneProvider):
        assert cls.mfa_options == ("Auto", "PUSH", "OTP", "YUBIKEY")
        assert [k.name for k in cls.keys] == ["url"]


@pytest.mark.parametrize(
    ("url", "urn", "expected"),
    [
        (
            "https://sso.acme.example",
            "urn:amazon:webservices",
            "https://sso.acme.example/idp/startSSO.ping?PartnerSpId=urn:amazon:webservices",
        ),
        (
            "https://sso.acme.example:9031/",
            "urn:amazon:webservices:govcloud",
            "https://sso.acme.example:9031/idp/startSSO.ping"
            "?PartnerSpId=urn:amazon:webservices:govcloud",
        ),
        (
            "https://sso.acme.example/idp/startSSO.ping?PartnerSpId=aws",
            "urn:amazon:webservices",
            "https://sso.acme.example/idp/startSSO.ping?PartnerSpId=aws",
        ),
    ],
)
def test_a_bare_host_means_the_start_sso_path(url: str, urn: str, expected: str) -> None:
    assert start_url(url, urn) == expected
    account = Account(name="p", provider="Ping", url=url, aws_urn=urn)
    assert PingProvider.check_account(account).url == expected
    assert PingOneProvider.check_account(account._replace(provider="PingOne")).url == url


class Scripted(Terminal):
    """An interactive terminal: picks the option containing ``pick``, answers ``code``."""

    def __init__(self, stream: io.StringIO, pick: str, code: Callable[[], str]) -> None:
        super().__init__(interactive=True, stream=stream, colour=False)
        self.pick, self.code = pick, code
        self.offered: list[str] = []

    def choose(self, title: str, options: Any, *, what: str, hint: Any = None) -> int:
        self.offered = list(options)
        return next(i for i, o in enumerate(options) if self.pick in o)

    def _prompt(self, message: str, **kwargs: Any) -> str:
        return self.code()


def run(
    emu: PingEmulators,
    tmp_path: Path,
    user: str,
    *,
    mfa: str = "Auto",
    terminal: Terminal | None = None,
    clock: FakeClock | None = None,
) -> tuple[str, io.StringIO]:
    extra = {"terminal": terminal} if terminal is not None else {}
    services, _, shown = fake_services({"HOME": str(tmp_path)}, clock=clock, **extra)
    account = Account(name="ping", provider="Ping", url=emu.ping_url, mfa=mfa)
    http = HttpClient(env=services.env, sleep=services.sleep, monotonic=services.monotonic)
    try:
        provider = PingProvider(PingProvider.check_account(account), http, services)
        return provider.login(LoginSecrets(user, PW)), shown
    finally:
        http.close()


def test_auto_on_a_terminal_offers_pingid_devices(emu: PingEmulators, tmp_path: Path) -> None:
    shown = io.StringIO()
    terminal = Scripted(shown, "Work laptop", lambda: totp_at(DESK, time.time()))
    encoded, _ = run(emu, tmp_path, "chooser@acme.example", terminal=terminal)
    assert assertion.parse(encoded).roles
    assert terminal.offered == [
        "PUSH (PingID app on iPhone (default))",
        "OTP (PingID app on iPhone (default))",
        "OTP (Work laptop)",
    ]
    assert emu.pushes == 0


def test_push_wait_polls_every_two_seconds_and_gives_up_at_its_cap(tmp_path: Path) -> None:
    clock = FakeClock()
    with PingEmulators(
        users(), clock=clock.monotonic, pingid_options={"push_timeout": 10_000}
    ) as ping:
        with pytest.raises(AuthenticationError, match=r"not answered within 180 s"):
            run(ping, tmp_path, "never@acme.example", clock=clock)
        polls = ping.poll_times
        assert ping.pushes == 1
        assert len(polls) == 90
        assert {round(b - a, 3) for a, b in itertools.pairwise(polls)} == {2.0}


def test_sms_code_asked_on_the_terminal(tmp_path: Path) -> None:
    sms = Device("+1 555 0100", kind="sms")
    user = PingUser("sms@acme.example", PW, roles=[OPS], devices=[sms])
    with PingEmulators([user]) as ping:
        terminal = Scripted(io.StringIO(), "", lambda: ping.sent_codes[-1])
        encoded, _ = run(ping, tmp_path, "sms@acme.example", mfa="OTP", terminal=terminal)
        assert assertion.parse(encoded).roles
        assert len(ping.sent_codes) == 1 and ping.pushes == 0


def test_identifier_first_and_renamed_fields(tmp_path: Path) -> None:
    options = {"identifier_first": True, "user_field": "USER", "password_field": "PASSWORD"}
    with PingEmulators(users(), pf_options=options) as ping:
        encoded, _ = run(ping, tmp_path, "plain@acme.example")
        assert assertion.parse(encoded).roles
        assert ping.password_posts == 1


@pytest.mark.parametrize(
    ("shown", "masked"),
    [
        ('<input type="hidden" name="RelayState" value="{token}"/>', True),
        ("ACS.saml2?SAMLResponse=x&RelayState={token}", True),
        ('<input type="hidden" name="RelayState" value="https://console.aws.amazon.com/"/>', False),
        ('<input type="hidden" name="RelayState" value=""/>', False),
    ],
)
def test_pingone_relay_state_is_masked_in_debug_unless_a_url(shown: str, masked: bool) -> None:
    from samljit.common.redact import MASK, redact_body

    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"
    text = redact_body(shown.format(token=token), "text/html")
    assert token not in text
    assert (MASK in text) is masked


def test_a_wrong_code_typed_at_the_prompt_is_asked_again(tmp_path: Path) -> None:
    desk = Device("Work laptop", kind="desktop", totp_secret=DESK)
    user = PingUser("desk@acme.example", PW, roles=[OPS], devices=[desk])
    typed = iter(["000000", "111111"])
    with PingEmulators([user]) as ping:
        terminal = Scripted(io.StringIO(), "", lambda: next(typed, totp_at(DESK, time.time())))
        encoded, _ = run(ping, tmp_path, "desk@acme.example", terminal=terminal)
        assert assertion.parse(encoded).roles
        assert ping.pingid.posts_with("otp") == 3
        assert "PingID: Invalid passcode. Please try again." in terminal.stream.getvalue()


def test_pingid_ends_the_prompted_retries_in_its_words(tmp_path: Path) -> None:
    desk = Device("Work laptop", kind="desktop", totp_secret=DESK)
    user = PingUser("desk@acme.example", PW, roles=[OPS], devices=[desk])
    with PingEmulators([user]) as ping:
        terminal = Scripted(io.StringIO(), "", lambda: "000000")
        with pytest.raises(AuthenticationError, match=r"^PingID: Too many failed attempts"):
            run(ping, tmp_path, "desk@acme.example", terminal=terminal)
        assert ping.pingid.posts_with("otp") == 3  # PingID's otp_attempts
