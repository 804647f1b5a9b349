"""Ping (PingFederate + PingID) and PingOne through the installed CLI, against the Ping
emulators and moto's STS: every PingID factor and outcome, PingFederate's refusals, the
bare-host url, the kept PF/PingOne session, PingOne's double hand-off and its script-only
page. The emulators run on the real clock; pushes are decided by polls (``push_after=1``:
the first status request answers), so no test waits for a push but the "never answered" one.

Request counts are asserted per case (password posts, pushes, status polls, passcode posts):
the factor-by-outcome matrix of the Note."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from samljit.testing.emulator import LoopbackEmulator
from tests.emulators.common import totp_at
from tests.emulators.ping import (
    ACCOUNT_LOCKED,
    BAD_CREDENTIALS,
    PASSCODE_WRONG,
    PUSH_DENIED,
    PUSH_TIMED_OUT,
    Device,
    PingEmulators,
    PingUser,
    yubikey_otp,
)
from tests.support.accounts import PASSWORD, PROD_GRANTS, RO_ARN, TOTP_SECRET, fresh_code
from tests.support.cli import Cli, error_line
from tests.support.starting import starter

DOMAIN = "acme.example"
DESK_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
KEYS = [yubikey_otp(), yubikey_otp()]


def phone(push: str = "approve", **kw: Any) -> Device:
    return Device("iPhone", totp_secret=TOTP_SECRET, push=push, push_after=1, **kw)  # type: ignore[arg-type]


def users() -> list[PingUser]:
    def make(name: str, *devices: Device, **kw: Any) -> PingUser:
        return PingUser(f"{name}@{DOMAIN}", PASSWORD, roles=PROD_GRANTS, devices=devices, **kw)

    desk = Device("Work laptop", kind="desktop", totp_secret=DESK_SECRET)
    key = Device("YubiKey 5", kind="yubikey", yubikey_codes=KEYS)
    return [
        make("plain"),
        make("locked", locked=True),
        make("push", phone()),
        make("number", phone(number=42)),
        make("deny", phone("deny")),
        make("wrongnumber", phone("wrong-number")),
        make("timeout", phone("timeout")),
        make("claim", phone("claim-timeout")),
        make("never", phone("never")),
        make("desk", desk),
        make("key", key),
        make("mixed", phone(), desk, key),
        make("chooser", phone(), desk, key, choose_device=True),
    ]


@pytest.fixture
def ping() -> Iterator[PingEmulators]:
    with PingEmulators(users(), clock=time.time) as emu:
        yield emu


@pytest.fixture
def make_ping(stopped_after_test: list[LoopbackEmulator]) -> Callable[..., PingEmulators]:
    return starter(PingEmulators, users, stopped_after_test, clock=time.time)


def config(url: str, user: str, *, mfa: str = "Auto", provider: str = "Ping") -> str:
    return (
        "[ping]\n"
        f"provider = {provider}\n"
        f"url = {url}\n"
        f"username = {user}@{DOMAIN}\n"
        f"mfa = {mfa}\n"
        "aws_profile = ping\n"
        f"role_arn = {RO_ARN}\n"
    )


def login(cli: Cli, *extra: str, env: dict[str, str] | None = None) -> Any:
    return cli.run("login", "-a", "ping", "--skip-prompt", *extra, env=env)


def otp_posts(ping: PingEmulators) -> int:
    return ping.pingid.posts_with("otp")


def counts(ping: PingEmulators) -> tuple[int, int, int, int]:
    """(password posts, pushes, status polls, passcode posts)."""
    return ping.password_posts, ping.pushes, len(ping.poll_times), otp_posts(ping)


def code(cli: Cli, value: str) -> str:
    cli.secrets.add(value)
    return value


# -- PingFederate ------------------------------------------------------------------------------
def test_no_mfa_user_logs_in_with_one_password_post(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.ping_url, "plain"))
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ping")
    assert counts(ping) == (1, 0, 0, 0)


def test_bare_host_url_is_expanded_as_saml2aws_does(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.pf.base_url, "plain"))
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ping")


@pytest.mark.parametrize(
    ("user", "said"),
    [("plain", BAD_CREDENTIALS), ("nobody", BAD_CREDENTIALS), ("locked", ACCOUNT_LOCKED)],
)
def test_refusals_in_pingfederate_words(
    cli: Cli, ping: PingEmulators, user: str, said: str
) -> None:
    cli.write_config(config(ping.ping_url, user))
    env = {"SAMLJIT_PASSWORD": "wrong-password"} if user == "plain" else None
    cli.secrets.add("wrong-password")
    ran = login(cli, env=env)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == f"samljit: error: PingFederate refused the login: {said}"
    assert counts(ping) == (1, 0, 0, 0)


def test_second_login_within_the_pf_session_asks_nothing(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.ping_url, "push"))
    assert login(cli).returncode == 0
    assert counts(ping) == (1, 1, 1, 0)
    ran = login(cli, "--force", env={"SAMLJIT_PASSWORD": ""})
    assert ran.returncode == 0, ran.stderr
    assert counts(ping) == (1, 1, 1, 0)  # no password, no push
    ping.end_sessions()
    ran = login(cli, "--force")
    assert ran.returncode == 0, ran.stderr
    assert counts(ping) == (2, 2, 2, 0)  # the ended session: a full login, silently


# -- PingID push ---------------------------------------------------------------------------------
def test_push_approved_with_the_number_to_match(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.ping_url, "number", mfa="PUSH"))
    ran = login(cli, "--debug")  # the leak check reads it: no ppm_request, csrfToken, cookie
    assert ran.returncode == 0, ran.stderr
    assert "PingID push sent to iPhone: approve it in the PingID app." in ran.stderr
    assert "Select 42 in your PingID app." in ran.stderr
    assert cli.logged_in("ping")
    assert counts(ping) == (1, 1, 1, 0)


@pytest.mark.parametrize(
    ("user", "said"),
    [
        ("deny", f"PingID push was not approved: {PUSH_DENIED}"),
        ("wrongnumber", f"PingID push was not approved: {PUSH_DENIED}"),
        ("timeout", f"PingID push timed out: {PUSH_TIMED_OUT}"),
        ("claim", f"PingID push timed out: {PUSH_TIMED_OUT}"),
    ],
)
def test_push_refused_or_expired_is_one_line(
    cli: Cli, ping: PingEmulators, user: str, said: str
) -> None:
    cli.write_config(config(ping.ping_url, user))
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == f"samljit: error: {said}"
    assert counts(ping) == (1, 1, 1, 0)  # one push, never re-sent


def test_push_never_answered_ends_when_pingid_says_so(
    cli: Cli, make_ping: Callable[..., PingEmulators]
) -> None:
    ping = make_ping(pingid_options={"push_timeout": 3})
    cli.write_config(config(ping.ping_url, "never"))
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == f"samljit: error: PingID push timed out: {PUSH_TIMED_OUT}"
    assert ping.pushes == 1
    polls = ping.poll_times
    assert len(polls) >= 2
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(polls))  # a sane interval


# -- PingID passcodes ----------------------------------------------------------------------------
@pytest.mark.parametrize("mfa", ["OTP", "Auto"])
def test_a_code_goes_through_use_code_and_sends_no_push(
    cli: Cli, ping: PingEmulators, mfa: str
) -> None:
    cli.write_config(config(ping.ping_url, "push", mfa=mfa))
    ran = login(cli, "--mfa-token", fresh_code(cli))
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ping")
    assert counts(ping) == (1, 0, 0, 1)


def test_wrong_passcode_in_pingid_words_posted_once(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.ping_url, "push", mfa="OTP"))
    ran = login(cli, "--mfa-token", code(cli, "000000"))
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == f"samljit: error: PingID refused the passcode: {PASSCODE_WRONG}"
    assert counts(ping) == (1, 0, 0, 1)


def test_otp_without_a_code_under_skip_prompt_sends_no_push(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.ping_url, "push", mfa="OTP"))
    ran = login(cli)
    assert ran.returncode == 2, ran.stderr
    assert "one-time MFA code is needed" in error_line(ran)
    assert ping.pushes == 0 and not ping.poll_times


@pytest.mark.parametrize(
    ("user", "mfa", "passcode"),
    [
        pytest.param(
            "desk", "Auto", lambda: totp_at(DESK_SECRET, time.time()), id="desktop-as-default"
        ),
        pytest.param("mixed", "YUBIKEY", lambda: KEYS[0], id="yubikey-through-the-device-list"),
    ],
)
def test_a_passcode_of_another_device_than_the_phone(
    cli: Cli, ping: PingEmulators, user: str, mfa: str, passcode: Callable[[], str]
) -> None:
    """The desktop app's passcode, the user's default device; a YubiKey's, from the push
    page through PingID's device list."""
    cli.write_config(config(ping.ping_url, user, mfa=mfa))
    ran = login(cli, "--mfa-token", code(cli, passcode()))
    assert ran.returncode == 0, ran.stderr
    assert counts(ping) == (1, 0, 0, 1)


def test_yubikey_asked_of_a_user_without_one_names_the_devices(
    cli: Cli, ping: PingEmulators
) -> None:
    cli.write_config(config(ping.ping_url, "push", mfa="YUBIKEY"))
    ran = login(cli, "--mfa-token", code(cli, KEYS[0]))
    assert ran.returncode == 2, ran.stderr
    assert error_line(ran) == (
        "samljit: error: mfa is set to 'YUBIKEY', but PingID lists no such device: "
        "iPhone (mobile-phone)"
    )
    assert ping.pushes == 0


# -- PingID's device list ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mfa", "token"),
    [("YUBIKEY", "key"), ("OTP", "desk"), ("Auto", None), ("PUSH", None)],
)
def test_device_list_picks_by_mfa_else_the_default(
    cli: Cli, ping: PingEmulators, mfa: str, token: str | None
) -> None:
    cli.write_config(config(ping.ping_url, "chooser", mfa=mfa))
    given = {"desk": totp_at(DESK_SECRET, time.time()), "key": KEYS[1]}.get(token or "")
    ran = login(cli, *(["--mfa-token", code(cli, given)] if given else []))
    assert ran.returncode == 0, ran.stderr
    pushed = token is None  # Auto: the default device (the phone), a push
    assert counts(ping) == (1, int(pushed), int(pushed), int(not pushed))


# -- PingOne -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["initsso_url", "startsso_url"])
def test_pingone_takes_the_second_response(cli: Cli, ping: PingEmulators, shape: str) -> None:
    cli.write_config(config(getattr(ping.pingone, shape), "push", provider="PingOne"))
    ran = login(cli, "--debug")  # the leak check reads it: RelayState, both Responses
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ping")
    assert len(ping.saml_responses) == 2  # PF's to PingOne, PingOne's to AWS
    assert counts(ping) == (1, 1, 1, 0)
    ran = login(cli, "--force", env={"SAMLJIT_PASSWORD": ""})
    assert ran.returncode == 0, ran.stderr
    assert counts(ping) == (1, 1, 1, 0)  # PingOne's session: nothing asked


def test_pingone_with_only_the_pf_session_asks_nothing(cli: Cli, ping: PingEmulators) -> None:
    cli.write_config(config(ping.pingone.initsso_url, "plain", provider="PingOne"))
    assert login(cli).returncode == 0
    ping.shared.pingone_sessions.clear()
    ran = login(cli, "--force", env={"SAMLJIT_PASSWORD": ""})
    assert ran.returncode == 0, ran.stderr
    assert ping.password_posts == 1
    assert len(ping.saml_responses) == 4


def test_pingone_page_needing_javascript_names_browser(
    cli: Cli, make_ping: Callable[..., PingEmulators]
) -> None:
    ping = make_ping(pingone_options={"needs_javascript": True})
    cli.write_config(config(ping.pingone.initsso_url, "plain", provider="PingOne"))
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert "needs JavaScript" in error_line(ran)
    assert "samljit login --browser" in ran.stderr
    assert ping.password_posts == 0


# -- saml2aws import -----------------------------------------------------------------------------
def test_saml2aws_ping_sections_import_and_log_in(
    cli: Cli, ping: PingEmulators, tmp_path: Any
) -> None:
    saml2aws = tmp_path / "saml2aws.ini"
    saml2aws.write_text(
        "[ping]\n"
        "name = ping\n"
        "app_id =\n"
        "url = " + ping.pf.base_url + "\n"
        f"username = push@{DOMAIN}\n"
        "provider = Ping\n"
        "mfa = Auto\n"
        "aws_urn = urn:amazon:webservices\n"
        "aws_profile = ping\n"
        f"role_arn = {RO_ARN}\n"
        "\n"
        "[one]\n"
        "url = " + ping.pingone.initsso_url + "\n"
        f"username = push@{DOMAIN}\n"
        "provider = PingOne\n"
        "mfa = Auto\n"
    )
    ran = cli.run("configure", "--import-saml2aws", str(saml2aws))
    assert ran.returncode == 0, ran.stderr
    assert "not imported" not in ran.stdout
    text = cli.config.read_text()
    assert f"url = {ping.ping_url}\n" in text  # the bare host, as saml2aws expands it
    assert "provider = PingOne\n" in text
    ran = login(cli, "--mfa-token", fresh_code(cli))
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ping")
    assert counts(ping) == (1, 0, 0, 1)


def test_configure_takes_the_alias_and_ping_mfa_values(cli: Cli, ping: PingEmulators) -> None:
    text = cli.configure(
        "ping", "--provider", "PingFederate", "--url", ping.pf.base_url,
        "--username", f"key@{DOMAIN}", "--mfa", "yubikey", "--role", RO_ARN, "--profile", "ping",
    )  # fmt: skip
    assert "provider = Ping\n" in text and "mfa = YUBIKEY\n" in text
    refused = cli.run("configure", "-a", "other", "--provider", "Ping", "--url",
                      ping.pf.base_url, "--mfa", "SMS", "--skip-prompt")  # fmt: skip
    assert refused.returncode == 2
    assert error_line(refused) == "samljit: error: Ping does not know MFA 'SMS'"
    ran = login(cli, "--mfa-token", code(cli, KEYS[0]))
    assert ran.returncode == 0, ran.stderr
    assert counts(ping) == (1, 0, 0, 1)


def test_unknown_connection_is_pingfederate_sign_on_error(cli: Cli, ping: PingEmulators) -> None:
    # the bare host takes the account's aws_urn as PartnerSpId: PF has no such connection
    cli.write_config(
        config(ping.pf.base_url, "plain") + "aws_urn = urn:amazon:webservices:govcloud\n"
    )
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == (
        "samljit: error: PingFederate refused the sign-on: "
        "Please contact your system administrator for assistance."
    )
    assert ping.password_posts == 0
