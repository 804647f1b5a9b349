"""OneLogin through the installed CLI, against the OneLogin API emulator and moto's STS: the
API credential (environment, keyring, refused), the password, every device and outcome, the v1
envelope, rate limits. Request counts come from the emulator's ``stats``. A push is polled
after the provider's real pause (2 s): the pushes here answer on the first poll."""

from __future__ import annotations

import configparser
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulators.onelogin import (
    DUO,
    WEBAUTHN,
    ApiClient,
    OneLoginEmulator,
    User,
    authenticator,
    protect,
    sms,
    undrivable,
    yubikey,
    yubikey_otp,
)
from tests.support.accounts import PASSWORD, PROD_GRANTS, RO_ARN, TOTP_SECRET, fresh_code
from tests.support.cli import Cli, answer, error_line
from tests.support.keyring_backend import vault_env

APP = "123456"
CLIENT_ID = "0a1b2c3d4e5f"
CLIENT_SECRET = "f5e4d3c2b1a0-onelogin-api-secret"
KEY_ID = "cccccclbjhte"
VARIABLE = "SAMLJIT_ONELOGIN_CLIENT_SECRET"
SECRET_ENV = {VARIABLE: CLIENT_SECRET, "SAMLJIT_PASSWORD": PASSWORD}


def users() -> list[User]:
    aws = {APP: PROD_GRANTS}

    def make(name: str, *devices: Any, **extra: Any) -> User:
        return User(name, PASSWORD, devices=list(devices), apps=aws, **extra)

    return [
        make("plain"),
        make("push", protect(after=1)),
        make("deny", protect("deny", after=1)),
        make("never", protect("never", after=1)),
        make("olpcode", protect(totp_secret=TOTP_SECRET)),
        make("totp", authenticator(TOTP_SECRET)),
        make("sms", sms(["654321"])),
        make("yubi", yubikey(KEY_ID)),
        make("webauthn", undrivable(WEBAUTHN), undrivable(DUO)),
        make("many", protect(after=1), authenticator(TOTP_SECRET), sms(["112233"])),
        make("locked", locked=True),
    ]


@pytest.fixture
def onelogin() -> Iterator[OneLoginEmulator]:
    with OneLoginEmulator(users(), clients=[ApiClient(CLIENT_ID, CLIENT_SECRET)]) as emu:
        yield emu


def config(emu: OneLoginEmulator, user: str, *, mfa: str = "Auto", client: str = CLIENT_ID) -> str:
    return (
        "[ol]\n"
        "provider = OneLogin\n"
        f"url = {emu.base_url}\n"
        "subdomain = acme\n"
        f"app_id = {APP}\n"
        f"client_id = {client}\n"
        f"username = {user}\n"
        f"mfa = {mfa}\n"
        "aws_profile = ol\n"
        f"role_arn = {RO_ARN}\n"
    )


def login(cli: Cli, *extra: str, env: dict[str, str] | None = None) -> Any:
    return cli.run("login", "-a", "ol", "--skip-prompt", *extra, env={**SECRET_ENV, **(env or {})})


# -- the API credential and the password ------------------------------------------------------
def test_no_mfa_one_token_one_assertion(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain"))
    ran = login(cli, "--debug")
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ol")
    stats = onelogin.stats
    assert (stats["token_calls"], stats["saml_assertion_calls"]) == (1, 1)
    assert stats["verify_factor_calls"] == 0
    assert '"data": "<redacted>"' in ran.stderr  # the SAMLResponse, by its name in --debug
    assert CLIENT_SECRET not in cli.config.read_text()


def test_refused_api_credential_is_exit_2_before_the_password(
    cli: Cli, onelogin: OneLoginEmulator
) -> None:
    cli.write_config(config(onelogin, "plain"))
    ran = cli.run(
        "login", "-a", "ol", "--skip-prompt", env={VARIABLE: "not-the-secret"}
    )  # no password anywhere: asking for it would be another error
    assert ran.returncode == 2, ran.stderr
    line = error_line(ran)
    assert "client_id '0a1b2c3d4e5f'" in line and VARIABLE in line
    assert "Authentication Failure" in line
    assert onelogin.stats["saml_assertion_calls"] == 0
    assert onelogin.stats["token_refused"] == 1


@pytest.mark.parametrize(
    ("user", "options", "said", "never"),
    [
        pytest.param(
            "plain",
            {"client": "nobody"},
            "client_id 'nobody'",
            "saml_assertion_calls",
            id="unknown-client-id",
        ),
        pytest.param(
            "totp",
            {"mfa": "OLP"},
            "mfa is set to 'OLP'",
            "verify_factor_calls",
            id="mfa-naming-a-device-the-user-lacks",
        ),
    ],
)
def test_an_api_client_or_device_onelogin_does_not_know_is_exit_2(
    cli: Cli, onelogin: OneLoginEmulator, user: str, options: Any, said: str, never: str
) -> None:
    """An unknown client_id: no assertion asked for; an mfa the user has no device of: no
    factor verified."""
    cli.write_config(config(onelogin, user, **options))
    ran = login(cli)
    assert ran.returncode == 2
    assert said in error_line(ran)
    assert onelogin.stats[never] == 0


def test_no_secret_anywhere_names_the_variable(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain"))
    ran = cli.run("login", "-a", "ol", "--skip-prompt", env={"SAMLJIT_PASSWORD": PASSWORD})
    assert ran.returncode == 2
    assert VARIABLE in error_line(ran) and "--client-secret" in error_line(ran)
    assert onelogin.stats["token_calls"] == 0


def test_configure_keeps_the_secret_in_the_keyring_only(
    cli: Cli, onelogin: OneLoginEmulator
) -> None:
    vault = vault_env(cli.home)
    ran = cli.run(
        "configure", "-a", "ol", "--skip-prompt", "--provider", "OneLogin",
        "--url", onelogin.base_url, "--subdomain", "acme", "--app-id", APP,
        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
        "--username", "plain", "--role", RO_ARN, "--profile", "ol",
        env=vault,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "client_secret saved in the OS keyring." in ran.stderr
    text = cli.config.read_text()
    assert "client_secret" not in text and CLIENT_SECRET not in text
    assert "subdomain = acme" in text and f"app_id = {APP}" in text
    ran = cli.run("login", "-a", "ol", "--skip-prompt", env={**vault, "SAMLJIT_PASSWORD": PASSWORD})
    assert ran.returncode == 0, ran.stderr
    assert cli.logged_in("ol")


def test_configure_without_a_secret_anywhere_is_exit_2(
    cli: Cli, onelogin: OneLoginEmulator
) -> None:
    args = ("configure", "-a", "ol", "--skip-prompt", "--provider", "OneLogin",
            "--subdomain", "acme", "--app-id", APP, "--client-id", CLIENT_ID)  # fmt: skip
    ran = cli.run(*args)
    assert ran.returncode == 2
    assert VARIABLE in error_line(ran) and "--client-secret" in error_line(ran)
    assert not cli.config.exists()
    ran = cli.run(*args, env={VARIABLE: CLIENT_SECRET})  # the variable is enough
    assert ran.returncode == 0, ran.stderr
    text = cli.config.read_text()
    assert "url = https://api.us.onelogin.com" not in text  # the declared default, not written
    assert "client_secret" not in text and CLIENT_SECRET not in text


def test_wrong_password_is_onelogins_words(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain"))
    ran = login(cli, env={"SAMLJIT_PASSWORD": "wrong-password"})
    assert ran.returncode == 3
    assert error_line(ran) == (
        "samljit: error: OneLogin refused the sign-in: "
        "Authentication Failed: Invalid user credentials"
    )
    assert onelogin.stats["saml_assertion_calls"] == 1  # never sent twice


def test_locked_user(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "locked"))
    ran = login(cli)
    assert ran.returncode == 3
    assert "OneLogin refused the sign-in: Authentication Failed:" in error_line(ran)


def test_unknown_app_names_app_id(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain").replace(f"app_id = {APP}", "app_id = 999"))
    ran = login(cli)
    assert ran.returncode == 2
    assert "App not found" in error_line(ran)
    assert "app_id (999)" in ran.stderr


# -- OneLogin Protect push -------------------------------------------------------------------
def test_push_approved_one_push_one_poll(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "push"))
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert "OneLogin Protect push sent: approve the sign-in on your phone." in ran.stderr
    assert cli.logged_in("ol")
    stats = onelogin.stats
    assert stats["pushes_sent"] == 1
    assert stats["polls"] == 1
    assert stats["verify_factor_calls"] == 2
    assert stats["token_calls"] == 1


def test_push_denied_is_one_line(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "deny", mfa="OLP"))
    ran = login(cli)
    assert ran.returncode == 3
    assert error_line(ran).startswith("samljit: error: OneLogin Protect push was denied: ")
    assert onelogin.stats["pushes_sent"] == 1
    assert not cli.credentials.exists()


def test_push_not_answered_in_time(cli: Cli) -> None:
    with OneLoginEmulator(
        users(), clients=[ApiClient(CLIENT_ID, CLIENT_SECRET)], state_token_lifetime=1
    ) as emu:  # the state_token runs out before the first poll
        cli.write_config(config(emu, "never"))
        ran = login(cli)
        assert ran.returncode == 3
        assert error_line(ran) == "samljit: error: OneLogin Protect push was not answered in time"
        assert emu.stats["pushes_sent"] == 1


# -- code devices ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "mfa", "stats"),
    [
        pytest.param("totp", "TOTP", {"codes_verified": 1}, id="totp"),
        pytest.param(
            "many",
            "Auto",
            {"pushes_sent": 0, "codes_verified": 1},
            id="auto with a code uses a code device, never a push",
        ),
        pytest.param("olpcode", "TOTP", {"pushes_sent": 0}, id="protect code with mfa TOTP"),
    ],
)
def test_a_code_logs_in(
    cli: Cli, onelogin: OneLoginEmulator, user: str, mfa: str, stats: dict[str, int]
) -> None:
    cli.write_config(config(onelogin, user, mfa=mfa))
    ran = login(cli, "--mfa-token", fresh_code(cli))
    assert ran.returncode == 0, ran.stderr
    assert {name: onelogin.stats[name] for name in stats} == stats


def test_totp_wrong_code(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "totp"))
    cli.secrets.add("000000")
    ran = login(cli, "--mfa-token", "000000")
    assert ran.returncode == 3
    assert error_line(ran) == (
        "samljit: error: OneLogin refused the Google Authenticator code: "
        "Failed authentication with this factor"
    )


def test_totp_without_a_code_or_terminal_is_exit_2(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "totp"))
    ran = login(cli)
    assert ran.returncode == 2
    assert onelogin.stats["codes_verified"] == 0


def test_sms_sends_then_takes_the_code(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "sms", mfa="SMS"))
    cli.secrets.add("654321")
    ran = login(cli, "--mfa-token", "654321")
    assert ran.returncode == 0, ran.stderr
    assert "OneLogin sent a code by SMS." in ran.stderr
    assert onelogin.stats["sms_sent"] == 1


def test_sms_wrong_code(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "sms"))
    cli.secrets.add("111111")
    ran = login(cli, "--mfa-token", "111111")
    assert ran.returncode == 3
    assert "OneLogin refused the OneLogin SMS code" in error_line(ran)


def test_yubikey(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "yubi", mfa="YUBIKEY"))
    otp = yubikey_otp(KEY_ID, 1)
    cli.secrets.add(otp)
    ran = login(cli, "--mfa-token", otp)
    assert ran.returncode == 0, ran.stderr


def test_yubikey_of_another_key_is_refused(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "yubi"))
    otp = yubikey_otp("cccccccccccc", 1)
    cli.secrets.add(otp)
    ran = login(cli, "--mfa-token", otp)
    assert ran.returncode == 3
    assert "OneLogin refused the Yubico YubiKey code" in error_line(ran)


def test_undrivable_devices_name_browser(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "webauthn"))
    ran = login(cli)
    assert ran.returncode == 3
    assert error_line(ran) == (
        "samljit: error: OneLogin asks for WebAuthn, Duo Duo Security, which samljit cannot "
        "complete in a terminal: log in with `samljit login --browser`"
    )
    assert onelogin.stats["verify_factor_calls"] == 0


# -- v1 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("v2", ["absent", "envelope"])
def test_v1_envelope_push_and_code(cli: Cli, v2: Any) -> None:
    with OneLoginEmulator(
        users(), clients=[ApiClient(CLIENT_ID, CLIENT_SECRET)], v2_answers=v2
    ) as emu:
        cli.write_config(config(emu, "push"))
        ran = login(cli)
        assert ran.returncode == 0, ran.stderr
        assert emu.stats["pushes_sent"] == 1 and emu.stats["polls"] == 1
        if v2 == "absent":
            assert emu.count("POST", "/api/1/saml_assertion") == 1
            assert emu.count("POST", "/api/1/saml_assertion/verify_factor") == 2
        cli.write_config(config(emu, "plain"))
        ran = login(cli, "--force")
        assert ran.returncode == 0, ran.stderr


# -- rate limits -------------------------------------------------------------------------------
def test_rate_limit_reset_now_is_retried_once(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain"))
    onelogin.fail_next("/api/2/saml_assertion", 429, headers={"X-RateLimit-Reset": "0"})
    ran = login(cli)
    assert ran.returncode == 0, ran.stderr
    assert onelogin.count("POST", "/api/2/saml_assertion") == 2


def test_rate_limit_far_says_when_to_retry(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain"))
    onelogin.throttle(600)
    ran = login(cli)
    assert ran.returncode == 6
    assert "throttled the request (HTTP 429); retry after " in error_line(ran)
    assert "(in 600 s)" in error_line(ran) or "(in 599 s)" in error_line(ran)
    assert onelogin.count("POST", "/auth/oauth2/v2/token") == 1  # throttled, not retried


def test_rate_limit_without_a_reset_is_exit_6(cli: Cli, onelogin: OneLoginEmulator) -> None:
    cli.write_config(config(onelogin, "plain"))
    onelogin.fail_next("/api/2/saml_assertion", 429)
    ran = login(cli)
    assert ran.returncode == 6
    assert "throttled the request (HTTP 429)" in error_line(ran)


# -- saml2aws ------------------------------------------------------------------------------------
def test_saml2aws_onelogin_section_is_imported(cli: Cli) -> None:
    source = cli.home / "saml2aws"
    source.write_text(
        "[ol]\nname = ol\nprovider = OneLogin\nurl = https://acme.onelogin.com/client/apps\n"
        "username = ana@acme.example\nmfa = OLP\nsubdomain = acme\napp_id = 123456\n"
        "client_id = abc\naws_profile = ol\n"
    )
    ran = cli.run("configure", "--import-saml2aws", str(source))
    assert ran.returncode == 0, ran.stderr
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(cli.config.read_text())
    section = parser["ol"]
    assert section["provider"] == "OneLogin" and section["mfa"] == "OLP"
    assert section["url"] == "https://acme.onelogin.com"
    assert "url https://acme.onelogin.com/client/apps became https://acme.onelogin.com" in (
        ran.stdout
    )
    assert (section["subdomain"], section["app_id"], section["client_id"]) == (
        "acme",
        "123456",
        "abc",
    )


def test_configure_asks_the_secret_on_a_terminal(cli: Cli, onelogin: OneLoginEmulator) -> None:
    from tests.e2e.test_terminal import finish, spawn

    child = spawn(cli, "configure", "-a", "ol", **vault_env(cli.home))
    answer(
        child,
        ("IdP provider:", "OneLogin"),
        ("OneLogin API host .*:", "\x15" + onelogin.base_url),  # Ctrl-U: the default's text away
        ("Username:", "plain"),
        ("MFA \\(Auto, OLP, TOTP, SMS, YUBIKEY\\) \\[Auto\\]:", ""),
        ("AWS profile to write \\[ol\\]:", ""),
        ("Default role .*:", RO_ARN),
        ("OneLogin subdomain:", "acme"),  # the provider's own questions come after the role
        ("App id of the AWS app:", APP),
        ("API client id:", CLIENT_ID),
    )
    child.expect("API client secret \\(stored in the OS keyring; Enter to skip\\):")
    child.sendline(CLIENT_SECRET)
    child.expect("Password for plain .*:")
    child.sendline(PASSWORD)
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert "client_secret saved in the OS keyring." in transcript
    assert CLIENT_SECRET not in transcript and CLIENT_SECRET not in cli.config.read_text()
    ran = cli.run("login", "-a", "ol", "--skip-prompt", env=vault_env(cli.home))
    assert ran.returncode == 0, ran.stderr  # the secret and the password from the keyring
    assert cli.logged_in("ol")


@pytest.mark.parametrize(
    ("user", "mfa", "prompt"),
    [
        ("totp", "TOTP", "TOTP code \\(Google Authenticator\\):"),
        ("sms", "SMS", "SMS code:"),
    ],
)
def test_a_typed_code_onelogin_refuses_is_asked_again(
    cli: Cli, onelogin: OneLoginEmulator, user: str, mfa: str, prompt: str
) -> None:
    """At a terminal, a code OneLogin calls wrong is typed again (its words shown), within the
    same login: one password check, one assertion."""
    from tests.support.cli import finish

    cli.write_config(config(onelogin, user, mfa=mfa))
    child = cli.spawn("login", "-a", "ol", env=SECRET_ENV, dimensions=(40, 160))
    child.expect(prompt)
    child.sendline("000000")
    child.expect("Failed authentication with this factor; try again")
    child.expect(prompt)
    child.sendline(fresh_code(cli) if user == "totp" else "654321")
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert onelogin.stats["codes_refused"] == 1
    assert onelogin.stats["codes_verified"] == 1
