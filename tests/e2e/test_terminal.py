"""Interactive use in a real pseudo-terminal: password and MFA prompts, the role picker,
the keyring (a real backend, a plain-file one samljit refuses, and none at all), and
``configure``'s questions."""

from __future__ import annotations

import configparser
import json
import subprocess

import pexpect
import pytest

from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import (
    EMAIL,
    PASSWORD,
    SLUG,
    account_config,
    fresh_code,
    make_user,
)
from tests.support.cli import Cli, answer, finish, finish_sdk
from tests.support.keyring_backend import vault_env

PLAINTEXT_KEYRING = "keyrings.alt.file.PlaintextKeyring"
OKTA_URL = "https://acme.okta.com/home/amazon_aws/0oa1b2c3d4/272"


def spawn(cli: Cli, *args: str, **env: str) -> pexpect.spawn:
    """``samljit ARGS`` on a wide terminal, with no password in the environment."""
    return cli.spawn(*args, env={**env, "SAMLJIT_PASSWORD": None}, dimensions=(40, 160))


def answer_password_and_code(cli: Cli, child: pexpect.spawn) -> None:
    """Type the password and a fresh TOTP code at the login's two prompts."""
    child.expect(f"Password for {EMAIL}:")
    child.sendline(PASSWORD)
    child.expect("JumpCloud TOTP code:")
    child.sendline(fresh_code(cli))


def login_with_the_keyring(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    """``samljit login -a production ARGS`` with the password only in the test's keyring."""
    return cli.run(
        "login",
        "-a",
        "production",
        *args,
        env={"SAMLJIT_PASSWORD": None, **vault_env(cli.home)},  # type: ignore[dict-item]
    )


def role_of(cli: Cli) -> str:
    return cli.principal("production").split("/")[1]


def test_prompts_picker_and_keyring(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud, role=None))
    child = spawn(cli, "login", "-a", "production", **vault_env(cli.home))
    answer_password_and_code(cli, child)
    child.expect("The assertion grants these roles:")
    child.expect("acme-production \\(012345678987\\)  AcmeJumpCloudAdmin\r?\n")
    child.expect("Choose \\(number, or type to filter\\):")
    child.send("Admin  \x7f\x7f\x7f\x7f\x7f\x7f\x7f")  # typing and erasing is fine
    child.send("dmin\r")  # "dmin" matches three roles: asked again
    child.expect("3 choices match 'dmin'")
    child.send("AdminRO\r")  # two roles named so: asked again
    child.expect("2 choices match 'AdminRO'")
    child.send("acme-production (012345678987)  AcmeJumpCloudAdmin\r")  # the exact text
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert "Password saved in the OS keyring." in transcript
    assert PASSWORD not in transcript
    assert role_of(cli) == "AcmeJumpCloudAdmin"
    cli.secrets.add(PASSWORD)

    # the IdP session went to the keyring too (the cache holds only its index)
    [index] = (cli.home / ".cache" / "samljit" / "sessions").glob("*.json")
    assert json.loads(index.read_text())["Store"] == "keyring"
    requests = len(jumpcloud.requests)
    kept = cli.run(
        "login",
        "-a",
        "production",
        "--force",
        "--role",
        "readonly",
        "--skip-prompt",
        env={"SAMLJIT_PASSWORD": "", **vault_env(cli.home)},
    )
    assert kept.returncode == 0, kept.stderr
    assert jumpcloud.requests[requests:] == [("GET", f"/saml2/{SLUG}")]

    # no terminal now, no SAMLJIT_PASSWORD, no IdP session: the keyring's password answers
    jumpcloud.end_sessions()
    again = login_with_the_keyring(
        cli, "--force", "--role", "readonly", "--mfa-token", fresh_code(cli)
    )
    assert again.returncode == 0, again.stderr
    assert role_of(cli) == "AcmeJumpCloudAdminRO"

    # the password changed at the IdP: the error says where the stale one came from
    jumpcloud.end_sessions()
    jumpcloud.add_user(make_user(password="a-new-password-2026"))
    # the code is never looked at: the password is refused first
    stale = login_with_the_keyring(cli, "--force", "--mfa-token", "000000")
    assert stale.returncode == 3
    assert "the password came from the OS keyring" in stale.stderr


def test_no_keyring_warns_once_and_still_logs_in(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    child = spawn(
        cli, "login", "-a", "production", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"
    )
    answer_password_and_code(cli, child)
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert transcript.count("no OS keyring is available") == 1
    assert "Logged in: AcmeJumpCloudAdminRO" in transcript
    assert PASSWORD not in transcript


def test_plaintext_keyring_is_never_used(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    """With keyrings.alt installed, keyring picks its PlaintextKeyring: samljit stores no
    password there (a plain file), says so once and why, and still logs in."""
    cli.write_config(account_config(jumpcloud))
    child = spawn(cli, "login", "-a", "production", PYTHON_KEYRING_BACKEND=PLAINTEXT_KEYRING)
    answer_password_and_code(cli, child)
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert "Logged in: AcmeJumpCloudAdminRO" in transcript
    assert transcript.count("keeps passwords in a plain file") == 1
    assert "samljit does not store the password there" in transcript
    assert "Password saved" not in transcript
    stored = list(cli.home.rglob("keyring_pass.cfg"))
    assert all(PASSWORD not in path.read_text() for path in stored), stored
    cli.secrets.add(PASSWORD)


def test_configure_with_a_keyring_that_stores_nothing_says_so(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    """The null backend stores nothing: configure says so, and why, instead of asking for the
    password and then warning that it was not stored."""
    cli.write_config(account_config(jumpcloud))
    child = spawn(
        cli, "configure", "-a", "production", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )
    questions = (
        "IdP provider",
        "IdP sign-in URL of the AWS app",
        "Username",
        "MFA",
        "AWS profile to write",
        "Default role",
    )
    for question in questions:  # each keeps its current answer
        child.expect(question + ".*: ?")
        child.send("\r")
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert (
        "samljit: warning: the password is not asked for: the keyring is turned off "
        "(keyring.backends.null.Keyring), so it could not be kept" in transcript
    )
    assert "Password for" not in transcript
    assert "Password saved" not in transcript


def test_a_new_okta_user_configures_an_account(cli: Cli) -> None:
    """The issue's walk-through: short questions, the common ones first, ``?`` for help, a
    yes/no answered ``y``; the provider's own questions come after the role."""
    child = spawn(cli, "configure", "-a", "acme", **vault_env(cli.home))
    child.expect("Type \\? at a question for help")
    answer(
        child,
        ("IdP provider:", "okta"),
        ("Okta embed link of the AWS app:", "?"),  # the whole help, then the question again
    )
    child.expect("https://ORG.okta.com/home/amazon_aws/APP_ID/272")
    answer(
        child,
        ("Okta embed link of the AWS app:", OKTA_URL),
        ("Username:", EMAIL),
        ("MFA \\(Auto, .*\\) \\[Auto\\]:", "push"),
        ("AWS profile to write \\[acme\\]:", ""),
        ("Default role .*:", ""),
        ("OIDC client id \\(Identity Engine orgs only; Enter to skip\\):", ""),
        ("Keep Okta from remembering this device after MFA\\? \\[y/N\\]:", "y"),
        ("Password for .* \\(stored in the OS keyring; Enter to skip\\):", ""),
    )
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(cli.config)
    assert dict(parser["acme"]) == {
        "provider": "Okta",
        "url": OKTA_URL,
        "username": EMAIL,
        "mfa": "PUSH",
        "aws_profile": "acme",
        "disable_remember_device": "true",
    }
    asked = transcript.index
    assert asked("Username:") < asked("Default role") < asked("OIDC client id")
    assert "true: do not ask" not in transcript  # booleans are asked as yes/no, not as text


def test_password_needed_without_terminal_is_a_clear_error(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", env={"SAMLJIT_PASSWORD": None})  # type: ignore[dict-item]
    assert ran.returncode == 2
    assert ran.stderr.splitlines()[0] == (
        "samljit: error: the IdP password is needed, but there is no terminal to ask on"
    )
    assert "SAMLJIT_PASSWORD" in ran.stderr


def test_configure_interactively(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    child = spawn(cli, "configure", "-a", "production", **vault_env(cli.home))
    child.expect("IdP provider:")
    child.send("jump")
    child.expect("JumpCloud")  # the completion menu offers it
    child.send("Cloud\r")
    child.expect("IdP sign-in URL of the AWS app:")
    child.send(jumpcloud.sso_url(SLUG) + "\r")
    child.expect("Username:")
    child.send(EMAIL + "\r")
    child.expect("MFA \\(Auto, TOTP, PUSH, WEBAUTHN, DUO\\) \\[Auto\\]:")
    child.send("totp\r")
    child.expect("AWS profile to write \\[production\\]:")
    child.send("\r")
    child.expect("Default role .*:")
    child.send("arn:aws:iam::012345678987:role/AcmeJumpCloudAdminRO\r")
    child.expect("Password for .* \\(stored in the OS keyring; Enter to skip\\):")
    child.sendline(PASSWORD)
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert "Password saved in the OS keyring." in transcript
    text = cli.config.read_text()
    assert PASSWORD not in text
    assert "mfa = TOTP" in text and "provider = JumpCloud" in text
    cli.secrets.add(PASSWORD)
    # api_url is not asked for (the public JumpCloud host is the default): point it here
    cli.run("configure", "-a", "production", "--skip-prompt", "--api-url", jumpcloud.api_url)
    ran = login_with_the_keyring(cli, "--mfa-token", fresh_code(cli))
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("signal_key", ["\x03"])
def test_ctrl_c_at_a_prompt(cli: Cli, jumpcloud: JumpCloudEmulator, signal_key: str) -> None:
    cli.write_config(account_config(jumpcloud))
    child = spawn(cli, "login", "-a", "production")
    child.expect(f"Password for {EMAIL}:")
    child.send(signal_key)
    transcript = finish(child)
    cli.interrupted(child.exitstatus, transcript)


def test_credential_process_asks_on_the_controlling_terminal(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    """As an SDK runs it: stdout and stderr captured, the user at the terminal."""
    cli.write_config(account_config(jumpcloud, mfa="Auto"))
    child, out, err = cli.spawn_sdk("credential-process", "-a", "production")
    child.expect("Choose a second factor:")
    child.expect("Choose \\(number, or type to filter\\):")
    child.send("push\r")
    child.expect("push sent")
    finish_sdk(cli, child, out, err)


def test_a_typed_totp_code_jumpcloud_refuses_is_asked_again(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    """JumpCloud's 401 after a typed TOTP code: its words, and the code asked for again in the
    same login (the password typed once)."""
    from tests.emulators.jumpcloud import INVALID_OTP_MESSAGE

    cli.write_config(account_config(jumpcloud))
    child = spawn(cli, "login", "-a", "production", **vault_env(cli.home))
    child.expect(f"Password for {EMAIL}:")
    child.sendline(PASSWORD)
    child.expect("JumpCloud TOTP code:")
    child.sendline("000000")
    child.expect(f"{INVALID_OTP_MESSAGE}; try again")
    child.expect("JumpCloud TOTP code:")
    child.sendline(fresh_code(cli))
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert f"Password for {EMAIL}:" not in transcript.split("; try again", 1)[1]
    assert "Logged in: AcmeJumpCloudAdminRO" in transcript
