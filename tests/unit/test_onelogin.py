"""The OneLogin provider driven in-process on the kit's fake clock: the conformance kit, the
push's polling (one push, ``do_not_notify`` on every poll, 2 s apart), its deadline, a 429's
``X-RateLimit-Reset`` wait, a revoked token, the redaction of OneLogin's names. The same
flows through the installed CLI are in tests/e2e/test_onelogin.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from samljit.providers.onelogin import OneLoginProvider

from samljit.common.errors import AuthenticationError
from samljit.common.http import HttpClient, rate_limit_wait
from samljit.common.redact import redact_json
from samljit.config.accounts import Account
from samljit.config.passwords import service_name
from samljit.idp.provider import LoginSecrets, secret_entry
from samljit.testing.conformance import ProviderConformance
from samljit.testing.fakes import FakeClock, fake_services
from samljit.tools.sandbox.response import RoleGrant
from tests.emulators.common import totp_at
from tests.emulators.onelogin import (
    ApiClient,
    OneLoginEmulator,
    User,
    authenticator,
    protect,
)
from tests.support.keyring_backend import MemoryKeyring, installed

APP = "123456"
CLIENT_ID = "0a1b2c3d4e5f"
CLIENT_SECRET = "f5e4d3c2b1a0-onelogin-api-secret"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PW = "pw-of-ana"
START = 1_900_000_000.0  # the emulator's fixed clock in the conformance tests
ROLES = [
    RoleGrant(
        "arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/OneLogin"
    )
]


def users() -> list[User]:
    aws = {APP: ROLES}
    return [
        User("plain", PW, apps=aws),
        User("totp", PW, devices=[authenticator(SECRET)], apps=aws),
        User("push", PW, devices=[protect(after=3)], apps=aws),
        User("never", PW, devices=[protect("never")], apps=aws),
    ]


def account_of(emu: OneLoginEmulator, mfa: str = "Auto") -> Account:
    return Account(
        name="ol",
        provider="OneLogin",
        url=emu.base_url,
        mfa=mfa,
        options={"subdomain": "acme", "app_id": APP, "client_id": CLIENT_ID},
    )


@pytest.fixture
def vault() -> Iterator[MemoryKeyring]:
    with installed(MemoryKeyring()) as memory:
        yield memory


class TestConformance(ProviderConformance):
    provider = OneLoginProvider
    good = LoginSecrets("plain", PW)
    bad = LoginSecrets("plain", "wrong-password")
    mfa = LoginSecrets("totp", PW, totp_at(SECRET, START))

    @pytest.fixture
    def idp(self, vault: MemoryKeyring) -> Iterator[OneLoginEmulator]:
        """The API secret in the (memory) OS keyring: the kit's services have no variable."""
        with OneLoginEmulator(
            users(), clients=[ApiClient(CLIENT_ID, CLIENT_SECRET)], clock=lambda: START
        ) as emu:
            account = account_of(emu)
            vault.set_password(
                service_name(account), secret_entry("ol", "client_secret"), CLIENT_SECRET
            )
            yield emu

    def account(self, idp: OneLoginEmulator, tmp_path: Path) -> Account:
        return account_of(idp)


# -- on the fake clock -------------------------------------------------------------------------
def login(
    emu: OneLoginEmulator, clock: FakeClock, tmp_path: Path, user: str, *, mfa: str = "Auto"
) -> str:
    env = {"HOME": str(tmp_path), "SAMLJIT_ONELOGIN_CLIENT_SECRET": CLIENT_SECRET}
    services, _, _ = fake_services(env, clock=clock)
    http = HttpClient(env=services.env, sleep=services.sleep, monotonic=services.monotonic)
    try:
        provider = OneLoginProvider(
            OneLoginProvider.check_account(account_of(emu, mfa)), http, services
        )
        return provider.login(LoginSecrets(user, PW))
    finally:
        http.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[OneLoginEmulator]:
    with OneLoginEmulator(
        users(),
        clients=[ApiClient(CLIENT_ID, CLIENT_SECRET)],
        clock=lambda: clock.now().timestamp(),
    ) as running:
        yield running


def verify_bodies(emu: OneLoginEmulator) -> list[dict[str, Any]]:
    return [e.body for e in emu.log if e.path.endswith("/verify_factor")]


def test_push_is_sent_once_and_polled_every_2_s(
    emu: OneLoginEmulator, clock: FakeClock, tmp_path: Path
) -> None:
    assert login(emu, clock, tmp_path, "push")
    stats = emu.stats
    assert (stats["pushes_sent"], stats["polls"], stats["token_calls"]) == (1, 3, 1)
    assert [b.get("do_not_notify") for b in verify_bodies(emu)] == [False, True, True, True]
    assert clock.sleeps == [2.0, 2.0, 2.0]  # a pause before each poll, none after the push


def test_push_nobody_answers_ends_when_the_state_token_does(
    emu: OneLoginEmulator, clock: FakeClock, tmp_path: Path
) -> None:
    with pytest.raises(AuthenticationError, match=r"^OneLogin Protect push was not answered"):
        login(emu, clock, tmp_path, "never")
    stats = emu.stats
    assert stats["pushes_sent"] == 1
    assert stats["polls"] <= 60  # 120 s at one poll per 2 s
    assert sum(clock.sleeps) <= 120.0


def test_rate_limit_reset_in_seconds_is_waited_on_the_injected_clock(
    emu: OneLoginEmulator, clock: FakeClock, tmp_path: Path
) -> None:
    emu.fail_next("/api/2/saml_assertion", 429, headers={"X-RateLimit-Reset": "3"})
    assert login(emu, clock, tmp_path, "plain")
    assert emu.count("POST", "/api/2/saml_assertion") == 2
    assert 3.0 in clock.sleeps


def test_rate_limit_wait_reads_onelogins_header_as_seconds_from_now() -> None:
    assert rate_limit_wait({"X-RateLimit-Reset": "7"}, 1_900_000_000.0) == 7.0
    assert rate_limit_wait({"X-Rate-Limit-Reset": "1010"}, 1000.0) == 10.0  # Okta's: epoch


def test_a_revoked_token_is_replaced_once(
    emu: OneLoginEmulator, clock: FakeClock, tmp_path: Path
) -> None:
    emu.fail_next(
        "/api/2/saml_assertion",
        401,
        body={"statusCode": 401, "name": "Unauthorized", "message": "Authentication Failure"},
    )
    assert login(emu, clock, tmp_path, "plain")
    assert emu.stats["token_calls"] == 2
    assert emu.count("POST", "/api/2/saml_assertion") == 2


def test_onelogins_secret_fields_are_redacted_by_name() -> None:
    shown = redact_json(
        {"state_token": "s", "otp_token": "123456", "data": "PHNhbWw+", "message": "Success"}
    )
    assert shown == {
        "state_token": "<redacted>",
        "otp_token": "<redacted>",
        "data": "<redacted>",
        "message": "Success",
    }


def test_verify_factor_link_off_the_api_host_is_refused(tmp_path: Path) -> None:
    from samljit.providers.onelogin.api import OneLoginApi

    services, _, _ = fake_services({"HOME": str(tmp_path)})
    http = HttpClient(env=services.env, sleep=services.sleep, monotonic=services.monotonic)
    api = OneLoginApi(http, services, "https://api.us.onelogin.com/ignored/path", CLIENT_ID)
    ours = "https://api.us.onelogin.com/api/2/saml_assertion/verify_factor"
    assert api.callback(ours) == ours
    assert api.callback(None) == ours  # none given: the v2 path on the API host
    with pytest.raises(AuthenticationError, match=r"leads to evil\.example, not to api\.us"):
        api.callback("https://evil.example/api/2/saml_assertion/verify_factor")
    with pytest.raises(AuthenticationError):
        api.callback("http://api.us.onelogin.com/api/2/saml_assertion/verify_factor")
    http.close()
