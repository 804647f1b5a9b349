"""Okta through the installed CLI, against the Okta emulator and moto's STS: every factor and
outcome, every authn status, errors in Okta's words, rate limits, and the Identity Engine
device flow. The emulator runs on the real clock here (push and device polls wait the real
1 s the provider sleeps; the fake-clock versions of the long waits are in
tests/unit/test_okta.py)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from samljit.testing.emulator import LoopbackEmulator
from tests.emulators import deep_json
from tests.emulators.okta import (
    Elsewhere,
    OidcClient,
    OktaEmulator,
    User,
    call_factor,
    duo_factor,
    email_factor,
    push_factor,
    sms_factor,
    totp_factor,
    webauthn_factor,
    yubikey_factor,
)
from tests.support.accounts import PASSWORD, PROD_GRANTS, RO_ARN, TOTP_SECRET, fresh_code
from tests.support.cli import Cli, error_line, finish_sdk
from tests.support.starting import starter

APP = "0oa1acme2aws3app4"
CLIENT = "0oa1acme2native3cli4"
DOMAIN = "acme.example"


def users() -> list[User]:
    apps = {APP: PROD_GRANTS}

    def make(name: str, *factors: Any, **extra: Any) -> User:
        return User(f"{name}@{DOMAIN}", PASSWORD, factors=list(factors), apps=apps, **extra)

    return [
        make("plain"),
        make("push", push_factor(after=2)),
        make("number", push_factor(number=47, after=2)),
        make("deny", push_factor("deny", after=2)),
        make("timeout", push_factor("expire", after=2)),
        make("wrongnumber", push_factor("wrong-number", after=2)),
        make("totp", totp_factor(TOTP_SECRET)),
        make("google", totp_factor(TOTP_SECRET, "GOOGLE"), push_factor()),
        make("sms", sms_factor(code="654321")),
        make("email", email_factor(code="135791")),
        make("call", call_factor(code="864202")),
        make("yubi", yubikey_factor(["cccccckdvtbgjlf-otp-1"])),
        make("key", webauthn_factor()),
        make("duo", duo_factor()),
        make("mixed", push_factor(), totp_factor(TOTP_SECRET), sms_factor(code="112233")),
        make("locked", locked_out=True),
        make("expired", totp_factor(TOTP_SECRET), password_expired=True),
        make("enroll", mfa_enroll=True),
        make("warn", password_warn=True),
    ]


@pytest.fixture
def okta() -> Iterator[OktaEmulator]:
    """A fresh org for each test: no session, transaction or forced failure carries over."""
    with OktaEmulator(users(), show_lockout=True) as emu:
        yield emu


@pytest.fixture
def make_idx(stopped_after_test: list[LoopbackEmulator]) -> Callable[..., OktaEmulator]:
    return starter(
        OktaEmulator,
        users,
        stopped_after_test,
        device_user=f"push@{DOMAIN}",
        pipeline="idx",
        clients=[OidcClient(CLIENT)],
        device_interval=1,
        device_after=2,
    )


def config(emu: OktaEmulator, user: str, *, mfa: str = "Auto", extra: str = "") -> str:
    return (
        "[okta]\n"
        "provider = Okta\n"
        f"url = {emu.app_url(APP)}\n"
        f"username = {user}@{DOMAIN}\n"
        f"mfa = {mfa}\n"
        "aws_profile = okta\n"
        f"role_arn = {RO_ARN}\n"
        f"{extra}"
    )


def login(cli: Cli, *extra: str, env: dict[str, str] | None = None) -> Any:
    return cli.run("login", "-a", "okta", "--skip-prompt", *extra, env=env)


def code(cli: Cli, value: str | None = None) -> str:
    if value is None:
        return fresh_code(cli)
    cli.secrets.add(value)
    return value


# -- push -------------------------------------------------------------------------------------
def test_push_accepted(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "push"))
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert "Okta Verify push sent to Ada's phone: approve it there." in ran.stderr
    assert "Pick" not in ran.stderr
    assert cli.logged_in("okta")


def test_push_number_challenge_is_shown(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "number", mfa="PUSH"))
    ran = login(cli, "--quiet")  # the number is shown even with --quiet
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.count("Pick 47 in Okta Verify (") == 1
    assert cli.logged_in("okta")


@pytest.mark.parametrize(
    ("user", "said"),
    [
        ("deny", "Okta Verify push was rejected (denied on the phone)"),
        ("timeout", "Okta Verify push timed out without an answer"),
        ("wrongnumber", "Okta Verify push was rejected (denied on the phone, or a wrong number"),
    ],
)
def test_push_refused(cli: Cli, okta: OktaEmulator, user: str, said: str) -> None:
    cli.write_config(config(okta, user, mfa="OKTA PUSH"))
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert said in error_line(ran)
    if user == "wrongnumber":
        assert "Pick 47 in Okta Verify" in ran.stderr
    assert not cli.credentials.exists()


# -- codes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "mfa"), [("totp", "TOTP"), ("google", "GOOGLE TOKEN")])
def test_totp_good(cli: Cli, okta: OktaEmulator, user: str, mfa: str) -> None:
    cli.write_config(config(okta, user, mfa=mfa))
    ran = login(cli, "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("okta")


def test_totp_bad_shows_oktas_words(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "totp", mfa="TOTP"))
    ran = login(cli, "--mfa-token", code(cli, "000000"))
    assert ran.returncode == 3
    assert error_line(ran) == (
        "samljit: error: Okta TOTP: Okta refused: Invalid Passcode/Answer (Your passcode "
        "doesn't match our records. Please try again.)"
    )
    assert "hint: use a fresh code" in ran.stderr


def test_auto_with_a_code_takes_totp_over_push(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "mixed"))
    ran = login(cli, "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert "push" not in ran.stderr.lower()


@pytest.mark.parametrize(
    ("user", "mfa", "value", "said"),
    [
        ("sms", "SMS", "654321", "Okta sent a code by SMS to +1 XXX-XXX-4242."),
        ("email", "EMAIL", "135791", "Okta sent a code by email to o***@acme.example."),
        ("call", "OKTA CALL", "864202", "Okta sent a code by a call to +1 XXX-XXX-4343."),
    ],
)
def test_code_sent_by_okta(
    cli: Cli, okta: OktaEmulator, user: str, mfa: str, value: str, said: str
) -> None:
    cli.write_config(config(okta, user, mfa=mfa))
    ran = login(cli, "--mfa-token", code(cli, value))
    assert ran.returncode == 0, ran.stderr
    assert said in ran.stderr
    assert cli.logged_in("okta")


def test_sms_wrong_code(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "sms", mfa="SMS"))
    ran = login(cli, "--mfa-token", code(cli, "999999"))
    assert ran.returncode == 3
    assert "Okta SMS: Okta refused: Invalid Passcode/Answer (Your answer doesn't" in ran.stderr


def test_yubikey(cli: Cli, okta: OktaEmulator) -> None:
    # no kept session: the second login must spend the OTP again, not ride the sid
    cli.write_config(config(okta, "yubi", mfa="YUBICO", extra="disable_sessions = true\n"))
    ran = login(cli, "--mfa-token", code(cli, "cccccckdvtbgjlf-otp-1"))
    assert ran.returncode == 0, ran.stderr
    again = login(cli, "--force", "--mfa-token", "cccccckdvtbgjlf-otp-1")  # spent
    assert again.returncode == 3
    assert "Invalid Passcode/Answer" in error_line(again)


@pytest.mark.parametrize(
    ("user", "mfa", "said"),
    [
        ("duo", "Auto", "Okta asks for Duo"),
    ],
)
def test_browser_only_factors(cli: Cli, okta: OktaEmulator, user: str, mfa: str, said: str) -> None:
    cli.write_config(config(okta, user, mfa=mfa))
    ran = login(cli)
    assert ran.returncode == 3
    line = error_line(ran)
    assert said in line and line.endswith("log in with `samljit login --browser`")


def test_mfa_not_offered(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "push", mfa="SMS"))
    ran = login(cli)
    assert ran.returncode == 2
    assert "mfa is set to 'SMS', but Okta offers: PUSH (Ada's phone)" in error_line(ran)


# -- statuses and errors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "said", "hint"),
    [
        ("locked", "your Okta account is locked out", "unlock it at"),
        ("expired", "your Okta password has expired", "change it at"),
        ("enroll", "Okta wants you to set up an MFA factor before signing in", "enrol a factor at"),
    ],
)
def test_statuses_that_end_the_login(
    cli: Cli, okta: OktaEmulator, user: str, said: str, hint: str
) -> None:
    cli.write_config(config(okta, user))
    extra = ("--mfa-token", code(cli)) if user == "expired" else ()
    ran = login(cli, *extra)
    assert ran.returncode == 3
    assert error_line(ran) == f"samljit: error: {said}"
    assert f"hint: {hint} {okta.base_url}" in ran.stderr


def test_password_warning_is_one_line(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "warn"))
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.count("samljit: warning: your Okta password expires soon (in 5 days)") == 1
    assert cli.logged_in("okta")


def test_bad_password_is_oktas_error_summary(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "plain"))
    ran = login(cli, env={"SAMLJIT_PASSWORD": "wrong-password"})
    assert ran.returncode == 3
    assert error_line(ran) == "samljit: error: Okta sign-in: Okta refused: Authentication failed"
    assert "hint: check username and password" in ran.stderr


def test_rate_limit_near_waits_and_retries(cli: Cli, okta: OktaEmulator) -> None:
    """A reset a few seconds off: samljit waits (0 to 3 s, however slow its start) and
    retries, within its 10 s bound whatever the machine's speed (the wait itself is measured
    on a fake clock in tests/unit/test_okta.py)."""
    cli.write_config(config(okta, "plain"))
    reset = int(time.time()) + 3
    okta.fail_next("/api/v1/authn", 429, headers={"X-Rate-Limit-Reset": str(reset)})
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert okta.count("POST", "/api/v1/authn") == 2  # the throttled one, then the retry
    assert cli.logged_in("okta")


def test_rate_limit_far_says_when_to_retry(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "plain"))
    reset = int(time.time()) + 600
    okta.fail_next("/api/v1/authn", 429, headers={"X-Rate-Limit-Reset": str(reset)})
    before = okta.count("POST", "/api/v1/authn")
    ran = login(cli)
    assert ran.returncode == 6
    at = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
    assert f"throttled the request (HTTP 429); retry after {at} (in " in error_line(ran)
    assert okta.count("POST", "/api/v1/authn") == before + 1  # no retry


# -- Identity Engine --------------------------------------------------------------------------
def test_identity_engine_device_flow(cli: Cli, make_idx: Callable[..., OktaEmulator]) -> None:
    emu = make_idx()
    cli.write_config(config(emu, "push", extra=f"client_id = {CLIENT}\n"))
    ran = login(cli)  # --skip-prompt: showing the code is not a prompt
    assert ran.returncode == 0, ran.stderr
    assert f"open {emu.base_url}/activate?user_code=" in ran.stderr
    assert "(within 10 min 0 s)" in ran.stderr
    assert emu.count("POST", "/api/v1/authn") == 0
    assert cli.logged_in("okta")


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        ("deny", "the Okta sign-in was denied in the browser"),
        ("expire", "the Okta sign-in was not approved before the code expired"),
    ],
)
def test_identity_engine_refused(
    cli: Cli, make_idx: Callable[..., OktaEmulator], outcome: str, said: str
) -> None:
    emu = make_idx(device_outcome=outcome)
    cli.write_config(config(emu, "push", extra=f"client_id = {CLIENT}\n"))
    ran = login(cli)
    assert ran.returncode == 3
    assert error_line(ran) == f"samljit: error: {said}"


def test_identity_engine_needs_client_id(cli: Cli, make_idx: Callable[..., OktaEmulator]) -> None:
    emu = make_idx()
    cli.write_config(config(emu, "push"))
    ran = login(cli)
    assert ran.returncode == 2
    assert "is an Okta Identity Engine org: account 'okta' needs client_id" in error_line(ran)
    assert "Device Authorization and Token Exchange" in ran.stderr
    assert "samljit configure -a okta --client-id CLIENT_ID" in ran.stderr


def test_configure_takes_okta_keys(cli: Cli, okta: OktaEmulator) -> None:
    ran = cli.run(
        "configure", "-a", "okta", "--skip-prompt", "--provider", "Okta",
        "--url", okta.app_url(APP), "--username", f"push@{DOMAIN}", "--mfa", "okta push",
        "--client-id", CLIENT, "--disable-remember-device", "true",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    text = cli.config.read_text()
    assert "mfa = OKTA PUSH" in text and f"client_id = {CLIENT}" in text
    assert "disable_remember_device = true" in text


# -- the kept Okta session ------------------------------------------------------------------
def debug_login_twice(cli: Cli) -> tuple[subprocess.CompletedProcess[str], ...]:
    """Two ``--debug`` logins: a full one, then a forced one with no password (the kept
    session's)."""
    first = cli.run("--debug", "login", "-a", "okta", "--skip-prompt")
    assert first.returncode == 0, first.stderr
    again = cli.run(
        "--debug", "login", "-a", "okta", "--skip-prompt", "--force", env={"SAMLJIT_PASSWORD": ""}
    )
    assert again.returncode == 0, again.stderr
    return first, again


def test_debug_never_shows_the_okta_session_or_its_tokens(cli: Cli, okta: OktaEmulator) -> None:
    """``--debug`` on a full login and on one riding the kept ``sid``: neither shows the
    cookie (nor the state or session token: the leak check, cli's teardown, looks for every
    secret the emulator handed out, in every output and file under HOME)."""
    cli.write_config(config(okta, "plain"))
    first, again = debug_login_twice(cli)
    assert okta.count("POST", "/api/v1/authn") == 1, "the kept sid was not used"
    sids = [value for name, value in okta.cookies_set if name == "sid"]
    assert sids
    for output in (first.stderr, again.stderr):
        assert "samljit: debug:" in output
        assert not [sid for sid in sids if sid in output]


def test_debug_never_shows_the_identity_engine_session(
    cli: Cli, make_idx: Callable[..., OktaEmulator]
) -> None:
    emu = make_idx()
    cli.write_config(config(emu, "push", extra=f"client_id = {CLIENT}\n"))
    first, again = debug_login_twice(cli)
    assert emu.count("POST", "/oauth2/v1/device/authorize") == 1, "the kept idx was not used"
    idx = [value for name, value in emu.cookies_set if name == "idx"]
    assert idx
    for output in (first.stderr, again.stderr):
        assert not [value for value in idx if value in output]


def test_a_second_login_rides_the_okta_session_and_falls_back_when_it_ends(
    cli: Cli, make_idx: Callable[..., OktaEmulator]
) -> None:
    """A fresh org (its own request log): push login, then `login --force` with no password
    and no terminal asks for nothing and sends no password; after Okta ends the session, the
    normal login runs again without a word of error."""
    emu = OktaEmulator(users(), show_lockout=True).start()
    try:
        cli.write_config(config(emu, "push"))
        assert login(cli).returncode == 0
        assert emu.count("POST", "/api/v1/authn") == 1
        before = len(emu.requests)
        no_password = {"SAMLJIT_PASSWORD": ""}
        again = login(cli, "--force", env=no_password)
        assert again.returncode == 0, again.stderr
        assert emu.count("POST", "/api/v1/authn") == 1, "the kept sid was not used"
        assert "push sent" not in again.stderr
        assert len(emu.requests) - before <= 3  # sessions/me and the app link
        status = cli.run("status", "-a", "okta")
        assert "IdP session held" in status.stdout
        for sid in emu.sessions:
            emu.end_session(sid)
        fallback = login(cli, "--force")
        assert fallback.returncode == 0, fallback.stderr
        assert emu.count("POST", "/api/v1/authn") == 2
        assert "error" not in fallback.stderr
    finally:
        emu.stop()


# -- hostile and odd answers ------------------------------------------------------------------
@pytest.fixture
def make_classic(stopped_after_test: list[LoopbackEmulator]) -> Callable[..., OktaEmulator]:
    """A Classic org of its own, with the emulator's knobs given."""
    return starter(OktaEmulator, users, stopped_after_test, show_lockout=True)


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    """Another origin (another loopback port), recording whatever reaches it."""
    with Elsewhere() as server:
        yield server


@pytest.mark.parametrize(
    ("user", "kind", "mfa_code"),
    [
        ("totp", "verify", "totp"),  # the factor's verify link: state token and passcode
        ("sms", "next", "654321"),  # the link to post the texted code to
        ("push", "next", None),  # the push polls
        ("warn", "skip", None),  # the password warning's skip link
    ],
)
def test_links_off_the_org_are_refused(
    cli: Cli,
    make_classic: Callable[..., OktaEmulator],
    elsewhere: Elsewhere,
    user: str,
    kind: str,
    mfa_code: str | None,
) -> None:
    emu = make_classic(link_origins={kind: elsewhere.base_url})
    cli.write_config(config(emu, user))
    extra = ("--mfa-token", code(cli, None if mfa_code == "totp" else mfa_code)) if mfa_code else ()
    ran = login(cli, *extra)
    assert ran.returncode == 3, ran.stderr
    line = error_line(ran)
    assert f"http://127.0.0.1:{elsewhere.port}" in line and emu.base_url in line
    assert elsewhere.requests == []
    assert not cli.credentials.exists()


def test_identity_engine_verification_url_off_the_org_is_refused(
    cli: Cli, make_idx: Callable[..., OktaEmulator], elsewhere: Elsewhere
) -> None:
    emu = make_idx(link_origins={"activate": elsewhere.base_url})
    cli.write_config(config(emu, "push", extra=f"client_id = {CLIENT}\n"))
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert f"http://127.0.0.1:{elsewhere.port}" in error_line(ran)
    assert "/activate" not in ran.stderr  # not offered to the user to open either
    assert emu.count("POST", "/oauth2/v1/token") == 0
    assert elsewhere.requests == []


def test_verify_links_with_a_query_of_their_own(
    cli: Cli, make_classic: Callable[..., OktaEmulator]
) -> None:
    """Okta's link ``…/verify?rememberDevice=false`` gets samljit's parameters merged in (not
    a second ``?``): the device is remembered, so after the session ends no code is needed."""
    emu = make_classic(verify_query="rememberDevice=false")
    cli.write_config(config(emu, "totp", mfa="TOTP"))
    first = login(cli, "--mfa-token", code(cli))
    assert first.returncode == 0, first.stderr
    for sid in emu.sessions:
        emu.end_session(sid)
    again = login(cli, "--force")  # no code, no terminal
    assert again.returncode == 0, again.stderr
    factor = emu.users[f"totp@{DOMAIN}"].factors[0].id
    assert emu.count("POST", f"/api/v1/authn/factors/{factor}/verify") == 1


def test_push_whose_expiry_is_past_by_the_local_clock_is_still_polled(
    cli: Cli, make_classic: Callable[..., OktaEmulator]
) -> None:
    emu = make_classic(clock=lambda: time.time() - 3600)  # this machine's clock an hour fast
    cli.write_config(config(emu, "push"))
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("okta")


def test_success_without_a_session_token(
    cli: Cli, make_classic: Callable[..., OktaEmulator]
) -> None:
    emu = make_classic(success_token=False)
    cli.write_config(config(emu, "plain"))
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == (
        "samljit: error: Okta sign-in: Okta's SUCCESS answer holds no session token"
    )
    assert emu.count("GET", "/login/sessionCookieRedirect") == 0


def test_json_nested_too_deep_is_a_bad_answer(cli: Cli, okta: OktaEmulator) -> None:
    cli.write_config(config(okta, "plain"))
    okta.fail_next("/api/v1/authn", 200, body=deep_json())
    ran = login(cli)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == (
        "samljit: error: Okta sign-in: Okta answered HTTP 200 with something that is not a "
        "JSON object"
    )
    assert "Traceback" not in ran.stderr and "bug in samljit" not in ran.stderr


# -- credential-process: what the user must see goes to the controlling terminal -------------
def test_credential_process_shows_the_number_to_match_on_the_terminal(
    cli: Cli, okta: OktaEmulator
) -> None:
    cli.write_config(config(okta, "number", mfa="PUSH"))
    child, out, err = cli.spawn_sdk("credential-process", "-a", "okta")
    child.expect("Pick 47 in Okta Verify \\(")
    finish_sdk(cli, child, out, err)


def test_credential_process_shows_the_device_code_on_the_terminal(
    cli: Cli, make_idx: Callable[..., OktaEmulator]
) -> None:
    emu = make_idx()
    cli.write_config(config(emu, "push", extra=f"client_id = {CLIENT}\n"))
    child, out, err = cli.spawn_sdk("credential-process", "-a", "okta")
    child.expect(f"open {emu.base_url}/activate\\?user_code=")
    finish_sdk(cli, child, out, err)
