"""The flow core (samljit.jit.flow) in-process, on fakes for the clock, the sleeper, the
HTTP client and the terminal: reuse, role switches, the ExpiredTokenException retry, and
waits that happen on the injected sleeper, never in real time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

from samljit.config.accounts import Account
from samljit.errors import AuthenticationError, AwsError
from samljit.idp.provider import LoginSecrets, Provider
from samljit.jit import flow
from samljit.testing.fakes import FakeClock, fake_services
from samljit.testing.saml import SigningPair, signed_response, signing_pair

ACCOUNT_ID = "123456789012"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/idp"
READ = f"arn:aws:iam::{ACCOUNT_ID}:role/ReadOnly"
FULL = f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


@dataclass
class FakeResponse:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.content.decode()


def assumed(role_arn: str) -> str:
    return role_arn.replace(":iam:", ":sts:").replace(":role/", ":assumed-role/")


def sts_ok(role_arn: str, key: str, expires: datetime) -> FakeResponse:
    body = (
        f'<AssumeRoleWithSAMLResponse xmlns="{STS_NS}"><AssumeRoleWithSAMLResult>'
        f"<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>s-{key}</SecretAccessKey>"
        f"<SessionToken>t-{key}</SessionToken>"
        f"<Expiration>{expires:%Y-%m-%dT%H:%M:%SZ}</Expiration></Credentials>"
        f"<AssumedRoleUser><Arn>{assumed(role_arn)}/ana</Arn>"
        "</AssumedRoleUser></AssumeRoleWithSAMLResult></AssumeRoleWithSAMLResponse>"
    )
    return FakeResponse(200, body.encode())


def sts_error(code: str, message: str) -> FakeResponse:
    body = (
        f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
    return FakeResponse(400, body.encode())


class FakeHttp:
    """Answers STS posts from a queue; records what was asked."""

    def __init__(self) -> None:
        self.answers: list[FakeResponse] = []
        self.posts: list[dict[str, str]] = []

    def post(self, url: str, *, step: str, data: list[tuple[str, str]], **_: Any) -> FakeResponse:
        self.posts.append(dict(data))
        return self.answers.pop(0)

    def raise_for_service_trouble(self, response: Any, *, step: str) -> None:
        raise AssertionError(f"unexpected HTTP {response.status_code}")

    def close(self) -> None:
        pass


class FakeIdp:
    """A provider whose logins hand out freshly signed assertions, counted."""

    def __init__(self, pair: SigningPair) -> None:
        self.pair = pair
        self.logins = 0
        self.refuse = False

    def provider(self) -> type[Provider]:
        idp = self

        class FakeProvider(Provider):
            name: ClassVar[str] = "Fake"

            def login(self, secrets: LoginSecrets) -> str:
                idp.logins += 1
                if idp.refuse:
                    raise AuthenticationError("the fake IdP refused the password")
                return signed_response(
                    issuer="https://idp.example",
                    user="ana",
                    roles=[(READ, PRINCIPAL), (FULL, PRINCIPAL)],
                    pair=idp.pair,
                )

        return FakeProvider


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> SigningPair:
    return signing_pair(tmp_path_factory.mktemp("keys"))


@dataclass
class World:
    idp: FakeIdp
    http: FakeHttp
    clock: FakeClock
    services: Any
    account: Account
    shown: Any


@pytest.fixture
def world(pair: SigningPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    idp = FakeIdp(pair)
    monkeypatch.setattr(flow, "load_provider", lambda name: idp.provider())
    http = FakeHttp()
    clock = FakeClock(datetime.now(timezone.utc).replace(microsecond=0))
    env = {"HOME": str(tmp_path), "SAMLJIT_PASSWORD": "pw"}
    services, _, shown = fake_services(env, clock=clock, http_factory=lambda account: http)
    account = Account(
        name="prod",
        provider="Fake",
        url="https://idp.example/sso",
        username="ana",
        aws_profile="prod",
        credentials_file=tmp_path / ".aws" / "credentials",
        role_aliases={"read": READ, "full": FULL},
    )
    yield World(idp, http, clock, services, account, shown)


def later(clock: FakeClock, minutes: int = 60) -> datetime:
    return clock.now() + timedelta(minutes=minutes)


def test_a_login_writes_the_profile_and_a_second_one_reuses_it(world: World) -> None:
    world.http.answers.append(sts_ok(READ, "AKIAONE", later(world.clock)))
    grant = flow.login(world.account, world.services, role_ref="read")
    assert (grant.reused, grant.credentials.access_key_id) == (False, "AKIAONE")
    assert "aws_access_key_id = AKIAONE" in world.account.credentials_file.read_text()

    again = flow.login(world.account, world.services, role_ref="read")
    assert again.reused and again.credentials.access_key_id == "AKIAONE"
    assert (world.idp.logins, len(world.http.posts)) == (1, 1)


def test_a_role_switch_uses_the_cached_assertion(world: World) -> None:
    world.http.answers += [
        sts_ok(READ, "AKIAREAD", later(world.clock)),
        sts_ok(FULL, "AKIAFULL", later(world.clock)),
    ]
    flow.login(world.account, world.services, role_ref="read")
    full = flow.login(world.account, world.services, role_ref="full")
    assert full.credentials.access_key_id == "AKIAFULL"
    assert world.idp.logins == 1, "the role switch went back to the IdP"
    assert [p["RoleArn"] for p in world.http.posts] == [READ, FULL]
    assert world.http.posts[0]["SAMLAssertion"] == world.http.posts[1]["SAMLAssertion"]


def test_credentials_within_the_refresh_margin_are_renewed(world: World) -> None:
    world.http.answers += [
        sts_ok(READ, "AKIAOLD", later(world.clock, 60)),
        sts_ok(READ, "AKIANEW", later(world.clock, 120)),
    ]
    flow.login(world.account, world.services, role_ref="read")
    world.clock.advance(55 * 60)  # 5 minutes left: inside the 10-minute margin
    renewed = flow.login(world.account, world.services, role_ref="read")
    assert renewed.credentials.access_key_id == "AKIANEW"
    assert world.idp.logins == 2, "the cached assertion had expired: a new IdP login is due"


def test_expired_token_for_a_cached_assertion_logs_in_again(world: World) -> None:
    world.http.answers += [
        sts_ok(READ, "AKIAREAD", later(world.clock)),
        sts_error("ExpiredTokenException", "Token must be redeemed within 5 minutes"),
        sts_ok(FULL, "AKIAFULL", later(world.clock)),
    ]
    flow.login(world.account, world.services, role_ref="read")
    full = flow.login(world.account, world.services, role_ref="full")
    assert full.credentials.access_key_id == "AKIAFULL"
    assert world.idp.logins == 2
    assert "AWS refused the cached assertion as expired; logging in again." in (
        world.shown.getvalue()
    )
    first, retried = world.http.posts[1]["SAMLAssertion"], world.http.posts[2]["SAMLAssertion"]
    assert first != retried, "the retry must carry the new assertion"


def test_expired_token_for_a_fresh_assertion_is_not_retried(world: World) -> None:
    world.http.answers.append(sts_error("ExpiredTokenException", "Response has expired"))
    with pytest.raises(AwsError) as caught:
        flow.login(world.account, world.services, role_ref="read")
    assert caught.value.code == "ExpiredTokenException"
    assert (world.idp.logins, len(world.http.posts)) == (1, 1)
    assert not world.account.credentials_file.exists()


def test_a_refused_login_is_cached_for_the_processes_waiting_on_it(world: World) -> None:
    world.idp.refuse = True
    with pytest.raises(AuthenticationError):
        flow.login(world.account, world.services, role_ref="read")
    cached = world.services.cache.get_error(flow.grant_key(world.account, "read"))
    assert cached is not None and cached.message == "the fake IdP refused the password"
    assert world.http.posts == []


def test_the_audit_log_is_stamped_with_the_injected_clock(world: World) -> None:
    world.http.answers.append(sts_ok(READ, "AKIAONE", later(world.clock)))
    flow.login(world.account, world.services, role_ref="read")
    entries = list(world.services.audit.read(None))
    assert entries and {e["time"] for e in entries} == {
        world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    }
