"""The flow core (samljit.jit.flow) in-process, on fakes for the clock, the sleeper, the
HTTP client and the terminal: reuse, role switches, the ExpiredTokenException retry, and
waits that happen on the injected sleeper, never in real time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from requests.cookies import RequestsCookieJar

from samljit.common.errors import AuthenticationError, AwsError, SamljitError
from samljit.common.http import HttpClient
from samljit.common.terminal import Terminal
from samljit.config.accounts import Account
from samljit.idp.provider import LoginSecrets, Provider
from samljit.jit import flow
from samljit.jit.sessions import SessionStore
from samljit.testing.fakes import FakeClock, fake_services
from samljit.testing.saml import SigningPair, signed_response, signing_pair

ACCOUNT_ID = "123456789012"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/idp"
READ = f"arn:aws:iam::{ACCOUNT_ID}:role/ReadOnly"
FULL = f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
NULL_TERMINAL = Terminal(interactive=False, colour=False)


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
    """Answers STS posts from a queue; records what was asked. Its cookie jar is a real
    one, emptied by ``close()`` as a new client's would be."""

    cookies_for = HttpClient.cookies_for
    load_cookies = HttpClient.load_cookies
    cookie = HttpClient.cookie
    set_cookie = HttpClient.set_cookie
    drop_cookies = HttpClient.drop_cookies
    _cookies_named = HttpClient._cookies_named

    def __init__(self) -> None:
        self.answers: list[FakeResponse] = []
        self.posts: list[dict[str, str]] = []
        self.session = SimpleNamespace(cookies=RequestsCookieJar())

    def post(self, url: str, *, step: str, data: list[tuple[str, str]], **_: Any) -> FakeResponse:
        self.posts.append(dict(data))
        return self.answers.pop(0)

    def raise_for_service_trouble(self, response: Any, *, step: str) -> None:
        raise AssertionError(f"unexpected HTTP {response.status_code}")

    def without_cookies(self) -> FakeHttp:
        return self

    def close(self) -> None:
        self.session.cookies = RequestsCookieJar()


class FakeIdp:
    """A provider whose logins hand out freshly signed assertions, counted. Like a real
    IdP it keeps sign-in sessions: a request carrying a live ``idp_sid`` cookie gets the
    assertion without the password; a password login sets a new one (and a cookie of
    another host, which samljit must not keep). ``broken_session``: a stale cookie leads to
    an error page instead of the login form."""

    def __init__(self, pair: SigningPair) -> None:
        self.pair = pair
        self.logins = 0
        self.passwords = 0
        self.reused = 0
        self.refuse = False
        self.broken_session = False
        self.sessions: set[str] = set()

    def provider(self) -> type[Provider]:
        idp = self

        class FakeProvider(Provider):
            name: ClassVar[str] = "Fake"

            def login(self, secrets: LoginSecrets) -> str:
                idp.logins += 1
                sid = self.http.cookie("idp_sid", "idp.example")
                if sid in idp.sessions:
                    idp.reused += 1
                    return self.assertion()
                if sid is not None and idp.broken_session:
                    raise AuthenticationError("the fake IdP shows an error page")
                if secrets.password != "pw" or idp.refuse:
                    raise AuthenticationError("the fake IdP refused the password")
                idp.passwords += 1
                sid = f"sid-{len(idp.sessions)}-{idp.logins}-secret"
                idp.sessions.add(sid)
                self.http.set_cookie("idp_sid", sid, host="idp.example")
                self.http.set_cookie("tracker", "other-host-cookie", host="tracker.example")
                return self.assertion()

            def assertion(self) -> str:
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
    sessions = SessionStore(
        tmp_path / "cache",
        NULL_TERMINAL,
        now=clock.now,
        keyring=lambda: None,
        leftovers=lambda: None,
    )
    services, _, shown = fake_services(
        env, clock=clock, http_factory=lambda account: http, sessions=sessions
    )
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


def first_login(world: World, *then: tuple[str, str]) -> flow.Grant:
    """The first login, to role ``read`` (STS answers ``AKIAONE``), with STS's answers for
    the logins ``then`` (role ARN, access key id) queued after it."""
    world.http.answers += [
        sts_ok(READ, "AKIAONE", later(world.clock)),
        *(sts_ok(role, key, later(world.clock)) for role, key in then),
    ]
    return flow.login(world.account, world.services, role_ref="read")


def test_a_login_writes_the_profile_and_a_second_one_reuses_it(world: World) -> None:
    grant = first_login(world)
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
    first_login(world)
    entries = list(world.services.audit.read(None))
    assert entries and {e["time"] for e in entries} == {
        world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    }


# -- the IdP's own session ----------------------------------------------------------------
def no_password(world: World) -> None:
    """No password anywhere: asking for one fails (no terminal)."""
    services = world.services
    object.__setattr__(
        services, "env", {k: v for k, v in services.env.items() if k != "SAMLJIT_PASSWORD"}
    )


def test_a_forced_login_reuses_the_idp_session_without_the_password(world: World) -> None:
    first_login(world, (FULL, "AKIATWO"))
    held = world.services.sessions.load(world.account)
    assert held is not None
    assert [c["name"] for c in held.cookies] == ["idp_sid"], "another host's cookie was kept"
    no_password(world)
    again = flow.login(world.account, world.services, role_ref="full", force=True)
    assert again.credentials.access_key_id == "AKIATWO"
    assert (world.idp.logins, world.idp.passwords, world.idp.reused) == (2, 1, 1)


def test_a_session_the_idp_ended_falls_back_to_the_password_silently(world: World) -> None:
    first_login(world, (READ, "AKIATWO"))
    first = world.services.sessions.load(world.account)
    world.idp.sessions.clear()  # the IdP ended every session
    flow.login(world.account, world.services, role_ref="read", force=True)
    assert (world.idp.logins, world.idp.passwords, world.idp.reused) == (2, 2, 0)
    assert world.shown.getvalue() == ""
    second = world.services.sessions.load(world.account)
    assert first is not None and second is not None and first.cookies != second.cookies


def test_a_stale_session_that_leads_to_an_error_page_is_dropped_and_the_login_runs(
    world: World,
) -> None:
    first_login(world, (READ, "AKIATWO"))
    world.idp.sessions.clear()
    world.idp.broken_session = True
    flow.login(world.account, world.services, role_ref="read", force=True)
    assert (world.idp.logins, world.idp.passwords) == (3, 2)


def test_without_a_password_a_dead_session_ends_in_the_usual_error(world: World) -> None:
    first_login(world)
    world.idp.sessions.clear()
    no_password(world)
    with pytest.raises(SamljitError, match="password"):
        flow.login(world.account, world.services, role_ref="read", force=True)
    assert world.services.sessions.load(world.account) is None, "the dead session was kept"


def test_disable_sessions_keeps_none_and_forgets_what_was_kept(world: World) -> None:
    first_login(world, (READ, "AKIATWO"))
    assert world.services.sessions.load(world.account) is not None
    off = world.account._replace(disable_sessions=True)
    flow.login(off, world.services, role_ref="read", force=True)
    assert (world.idp.passwords, world.idp.reused) == (2, 0)
    assert world.services.sessions.load(world.account) is None


def test_cookie_values_are_registered_with_the_redactor(world: World) -> None:
    first_login(world)
    held = world.services.sessions.load(world.account)
    assert held is not None
    value = held.cookies[0]["value"]
    assert world.services.redactor(f"Cookie: idp_sid={value}") == "Cookie: idp_sid=<redacted>"
