"""Duo's Universal Prompt behind a Shibboleth IdP (tests/emulators/duo_idp.py in front of
tests/emulators/duo.py), driven through the installed CLI with moto's STS: every factor and
outcome, device choice, the Verified Duo Push code on a pty, what a terminal cannot do
(exit 3 naming ``--browser``), and Duo's bearer values kept out of every output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from samljit.tools.sandbox.response import RoleGrant
from tests.emulators import duo as d
from tests.emulators.duo import DuoEmulator, DuoUser, Phone, three_phone_user
from tests.emulators.duo_idp import DuoShibbolethEmulator
from tests.emulators.formidp import FormUser
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.emulators.okta import OktaEmulator, duo_universal_factor
from tests.emulators.okta import User as OktaUser
from tests.support.accounts import (
    EMAIL,
    FULL_ARN,
    PASSWORD,
    PROD_GRANTS,
    PROVIDER_ARN,
    RO_ARN,
    account_config,
    make_user,
)
from tests.support.cli import Cli, finish

ROLES = [RoleGrant(RO_ARN, PROVIDER_ARN), RoleGrant(FULL_ARN, PROVIDER_ARN)]
DENIED_EMAIL = "denied@acme.example"
NAMES = ("ada", "denied", "slow", "desk", "keyonly", "second", "waved", "caller")


def duo_users() -> list[DuoUser]:
    return [
        three_phone_user("ada"),
        DuoUser("denied", phones=[Phone(push="deny")]),
        DuoUser("slow", phones=[Phone(push="timeout", call="timeout")]),
        DuoUser("desk", phones=[Phone("Desk phone", "9012", landline=True)]),
        DuoUser("keyonly", webauthn=True),
        DuoUser("second", phones=[Phone("A", "1111"), Phone("B", "2222")], default_device="phone2"),
        DuoUser("waved", bypass=True),
    ]


class Stack:
    """Duo and the IdP in front of it, both running."""

    def __init__(self, duo: DuoEmulator, idp: DuoShibbolethEmulator) -> None:
        self.duo = duo
        self.idp = idp


def stack_of(cli: Cli, **duo_args: object) -> Iterator[Stack]:
    with DuoEmulator(duo_users(), **duo_args) as duo:  # type: ignore[arg-type]
        users = [FormUser(name, PASSWORD, roles=ROLES) for name in NAMES]
        with DuoShibbolethEmulator(users, duo) as idp:
            yield Stack(duo, idp)
            cli.secrets.update(duo.secrets_issued)
            cli.secrets.update(idp.issued)


@pytest.fixture
def stack(cli: Cli) -> Iterator[Stack]:
    yield from stack_of(cli)


def configure(
    cli: Cli, stack: Stack, user: str = "ada", provider: str = "Shibboleth", **keys: str
) -> None:
    extra = "".join(f"{k} = {v}\n" for k, v in keys.items())
    cli.write_config(
        f"[duo]\nprovider = {provider}\nurl = {stack.idp.start_url}\nusername = {user}\n"
        f"role_arn = AcmeJumpCloudAdminRO\nregion = us-east-2\n{extra}"
    )


def counts(duo: DuoEmulator) -> tuple[int, int, int]:
    """Factors started, status polls, exits: what the Note's factor-by-outcome matrix holds."""
    return (
        duo.count("POST", "/frame/v4/prompt"),
        duo.count("POST", "/frame/v4/status"),
        duo.count("POST", "/frame/v4/oidc/exit"),
    )


def login(cli: Cli, *args: str, ends: int = 0) -> str:
    """``samljit login -a duo ARGS``, which must end with exit ``ends``: its stderr."""
    ran = cli.run("login", "-a", "duo", *args)
    assert ran.returncode == ends, ran.stderr
    return ran.stderr


# -- push ----------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["Shibboleth", "GenericForm"])
def test_push_approved_logs_in(cli: Cli, stack: Stack, provider: str) -> None:
    configure(cli, stack, provider=provider)
    err = login(cli)
    assert stack.duo.pushes == [("ada", "phone1")]  # one push, to Duo's default device
    assert counts(stack.duo) == (1, 2, 1)  # approved at the 2nd poll, one exit
    assert "approve it in Duo Mobile" in err
    assert len(stack.duo.exchanges) == 1  # the IdP redeemed the code once
    assert mfa_events(cli) == ["DUO"]


def mfa_events(cli: Cli) -> list[str]:
    """The factors of the audit log's ``mfa.challenged`` lines (the leak check reads the
    whole file)."""
    path = cli.home / ".local" / "state" / "samljit" / "audit.log"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [e.get("factor", "") for e in lines if e.get("event") == "mfa.challenged"]


def test_push_denied_is_exit_3_in_duos_words_and_never_pushed_again(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, user="denied")
    err = login(cli, ends=3)
    assert "Login request denied." in err
    assert stack.duo.pushes == [("denied", "phone1")]
    assert counts(stack.duo) == (1, 2, 0)
    assert not cli.credentials.exists()


def test_push_nobody_answers_ends_at_duos_timeout(cli: Cli) -> None:
    for stack in stack_of(cli, clock=d.SteppingClock(10.0)):
        configure(cli, stack, user="slow")
        err = login(cli, ends=3)
        assert "Login timed out." in err
        assert stack.duo.pushes == [("slow", "phone1")]
        assert counts(stack.duo) == (1, 6, 0)  # Duo's clock moves 10 s a request
        times = stack.duo.poll_times
        assert times[-1] - times[0] >= 50  # polled until Duo itself said timeout


def test_verified_push_code_is_shown_on_the_terminal(cli: Cli) -> None:
    for stack in stack_of(cli, verified_push=True):
        configure(cli, stack)
        child = cli.spawn("login", "-a", "duo", dimensions=(40, 160))
        shown = finish(child)
        cli.outputs.append(shown)
        [step_up] = stack.duo.step_up_codes
        assert f"Verified Duo Push: enter {step_up} in Duo Mobile." in shown
        assert shown.count(step_up) == 1  # shown once, though every poll carries it
        assert child.exitstatus == 0, shown
        assert len(stack.duo.pushes) == 1
        assert counts(stack.duo) == (1, 2, 1)


# -- device choice -------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["phone2", "Work Pixel 8", "5678"])
def test_duo_device_by_index_name_or_digits(cli: Cli, stack: Stack, device: str) -> None:
    configure(cli, stack, duo_device=device)
    login(cli, ends=3)  # that phone denies: proof the push went there
    assert stack.duo.pushes == [("ada", "phone2")]


def test_duos_default_device_is_used(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, user="second")
    login(cli)
    assert stack.duo.pushes == [("second", "phone2")]


def test_unknown_duo_device_is_exit_2_listing_the_devices(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, duo_device="phone9")
    err = login(cli, ends=2)
    assert "phone1 = iPhone 15 (…1234)" in err
    assert stack.duo.pushes == []


# -- phone call ----------------------------------------------------------------------------
def test_phone_call_approved(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, duo_factor="Phone")
    login(cli)
    assert stack.duo.calls == [("ada", "phone1")] and stack.duo.pushes == []
    assert counts(stack.duo) == (1, 3, 1)  # calling, answered, allow


def test_phone_call_denied(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, duo_factor="Phone Call", duo_device="phone2")
    err = login(cli, ends=3)
    assert "Login request denied." in err
    assert stack.duo.calls == [("ada", "phone2")]
    assert counts(stack.duo) == (1, 3, 0)


def test_landline_auto_is_a_call(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, user="desk")
    login(cli)
    assert stack.duo.calls == [("desk", "phone1")] and stack.duo.pushes == []


# -- passcode ------------------------------------------------------------------------------
@pytest.mark.parametrize("passcode", ["123456", "999000111"])
def test_passcode_from_mfa_token(cli: Cli, stack: Stack, passcode: str) -> None:
    configure(cli, stack)
    login(cli, "--mfa-token", passcode)
    assert stack.duo.pushes == [] and stack.duo.calls == []
    assert counts(stack.duo) == (1, 1, 1)  # answered at the first poll


def test_wrong_passcode_is_exit_3_in_duos_words(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, duo_factor="Passcode")
    err = login(cli, "--mfa-token", "000000", ends=3)
    assert "Incorrect passcode. Please try again." in err
    assert stack.duo.pushes == []
    assert counts(stack.duo) == (1, 1, 0)


def test_passcode_needed_under_skip_prompt_is_exit_2_before_anything_is_sent(
    cli: Cli, stack: Stack
) -> None:
    configure(cli, stack, duo_factor="Passcode")
    err = login(cli, "--skip-prompt", ends=2)
    assert "Duo passcode" in err or "one-time MFA code" in err
    assert stack.duo.pushes == [] and stack.duo.count("POST", "/frame/v4/prompt") == 0


# -- what a terminal cannot do -------------------------------------------------------------
def test_webauthn_only_user_is_exit_3_naming_browser(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, user="keyonly")
    err = login(cli, ends=3)
    assert "WebAuthn" in err and "--browser" in err


@pytest.mark.parametrize("health", ["required", "broken"])
def test_failed_health_check_is_exit_3_naming_browser(cli: Cli, health: str) -> None:
    for stack in stack_of(cli, health_check=health):
        configure(cli, stack)
        err = login(cli, ends=3)
        assert "health check" in err and "--browser" in err
        assert stack.duo.pushes == []


def test_single_page_prompt_is_exit_3_naming_browser(cli: Cli) -> None:
    for stack in stack_of(cli, variant="pwl"):
        configure(cli, stack)
        err = login(cli, ends=3)
        assert "single-page prompt" in err and "--browser" in err


def test_pre_2025_prompt_without_health_check(cli: Cli) -> None:
    for stack in stack_of(cli, variant="legacy"):
        configure(cli, stack)
        login(cli)
        assert stack.duo.pushes == [("ada", "phone1")]


def test_bypass_user_goes_straight_back(cli: Cli, stack: Stack) -> None:
    configure(cli, stack, user="waved")
    login(cli)
    assert stack.duo.pushes == []


# -- secrets -------------------------------------------------------------------------------
def test_debug_shows_no_duo_secret(cli: Cli, stack: Stack) -> None:
    configure(cli, stack)
    ran = cli.run("login", "-a", "duo", "--debug")
    assert ran.returncode == 0, ran.stderr
    assert "/frame/v4/status" in ran.stderr  # the steps are there, their values not
    # the leak check (cli's teardown) looks for every sid, tx, _xsrf, txid, code and state


# -- Duo behind JumpCloud and behind Okta -----------------------------------------------------
OKTA_APP = "0oa1duoapp"
OKTA_USER = "ada@acme.example"


@dataclass
class DuoFront:
    """An IdP that hands the second factor to Duo: ``config(user, mfa)`` is the account for it,
    named ``profile``; ``user`` approves every push; ``mfa`` is what its account says by
    default."""

    duo: DuoEmulator
    profile: str
    user: str
    mfa: str
    config: Callable[[str, str], str]


@pytest.fixture(params=["jumpcloud", "okta"])
def duo_front(request: pytest.FixtureRequest, cli: Cli) -> Iterator[DuoFront]:
    user = EMAIL if request.param == "jumpcloud" else OKTA_USER
    users = [
        DuoUser(user, phones=[Phone("iPhone 15", "1234", passcodes=["123456"])]),
        DuoUser(DENIED_EMAIL, phones=[Phone(push="deny")]),
    ]
    with DuoEmulator(users) as duo:
        if request.param == "jumpcloud":
            people = [
                make_user(totp_secret=None, push=None, duo=True),
                make_user(email=DENIED_EMAIL, totp_secret=None, push=None, duo=True),
            ]
            with JumpCloudEmulator(people, duo=duo) as jumpcloud:
                yield DuoFront(
                    duo,
                    "production",
                    user,
                    "DUO",
                    lambda who, mfa: account_config(jumpcloud, mfa=mfa).replace(EMAIL, who, 1),
                )
        else:
            okta_users = [
                OktaUser(
                    email, PASSWORD, factors=[duo_universal_factor()], apps={OKTA_APP: PROD_GRANTS}
                )
                for email in (OKTA_USER, DENIED_EMAIL)
            ]
            with OktaEmulator(okta_users, duo=duo) as okta:
                yield DuoFront(
                    duo, "okta", user, "Auto", lambda who, mfa: okta_config(okta, who, mfa)
                )
        cli.secrets.update(duo.secrets_issued)


def okta_config(okta: OktaEmulator, user: str, mfa: str) -> str:
    return (
        f"[okta]\nprovider = Okta\nurl = {okta.app_url(OKTA_APP)}\nusername = {user}\n"
        f"mfa = {mfa}\naws_profile = okta\nrole_arn = {RO_ARN}\n"
    )


@pytest.mark.parametrize("mfa", ["Auto", "DUO"])
def test_duo_push_logs_in(cli: Cli, duo_front: DuoFront, mfa: str) -> None:
    cli.write_config(duo_front.config(duo_front.user, mfa))
    ran = cli.run("login", "-a", duo_front.profile)
    assert ran.returncode == 0, ran.stderr
    assert duo_front.duo.pushes == [(duo_front.user, "phone1")]
    assert len(duo_front.duo.exchanges) == 1
    assert mfa_events(cli) == ["DUO"]


def test_duo_passcode(cli: Cli, duo_front: DuoFront) -> None:
    cli.write_config(duo_front.config(duo_front.user, duo_front.mfa))
    ran = cli.run("login", "-a", duo_front.profile, "--mfa-token", "123456")
    assert ran.returncode == 0, ran.stderr
    assert duo_front.duo.pushes == []


def test_duo_push_denied(cli: Cli, duo_front: DuoFront) -> None:
    cli.write_config(duo_front.config(DENIED_EMAIL, duo_front.mfa))
    ran = cli.run("login", "-a", duo_front.profile)
    assert ran.returncode == 3, ran.stderr
    assert "Login request denied." in ran.stderr
    assert duo_front.duo.pushes == [(DENIED_EMAIL, "phone1")]


def test_duo_settings_are_configure_flags_not_questions(cli: Cli, stack: Stack) -> None:
    url = stack.idp.start_url
    ran = cli.run(
        "configure", "-a", "duo", "--skip-prompt", "--provider", "Shibboleth", "--url", url,
        "--username", "ada", "--duo-factor", "Phone", "--duo-device", "Desk phone",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    text = cli.config.read_text()
    assert "duo_factor = Phone" in text and "duo_device = Desk phone" in text
    login(cli, "--role", "AcmeJumpCloudAdminRO")
    assert stack.duo.calls == [("ada", "phone3")]
