"""The start-up budget: --help, --version and every path answered from still-valid
credentials import none of the heavy libraries (proved with Python's import-time report on the
installed ``samljit`` users run)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import ACCOUNT_ID, account_config
from tests.support.cli import Cli

HEAVY = {
    "requests",
    "urllib3",
    "lxml",
    "cssselect",
    "signxml",
    "cryptography",
    "keyring",
    "prompt_toolkit",
    "botocore",
    "boto3",
    "fido2",
}


def imported(cli: Cli, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages a run imports."""
    names, ran = cli.importtime(*args)
    return {name.split(".")[0] for name in names}, ran


def valid_profile(cli: Cli, role: str = "AcmeJumpCloudAdminRO") -> None:
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cli.credentials.parent.mkdir(exist_ok=True)
    cli.credentials.write_text(
        "[production]\n"
        "aws_access_key_id = ASIAEXAMPLEEXAMPLE01\n"
        "aws_secret_access_key = cached-secret-cached-secret\n"
        "aws_session_token = cached-token-cached-token\n"
        "aws_security_token = cached-token-cached-token\n"
        f"x_security_token_expires = {expires}\n"
        f"x_principal_arn = arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/ops@acme.example\n"
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["login", "--help"]])
def test_help_and_version_stay_light(cli: Cli, args: list[str]) -> None:
    modules, ran = imported(cli, *args)
    assert ran.returncode == 0
    assert "samljit" in modules
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_cached_login_and_exec_stay_light(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    valid_profile(cli)
    modules, ran = imported(cli, "login", "-a", "production")
    assert ran.returncode == 0, ran.stderr
    assert "already holds valid credentials" in ran.stderr
    assert not modules & HEAVY, sorted(modules & HEAVY)
    modules, ran = imported(cli, "exec", "-a", "production", "--", "true")
    assert ran.returncode == 0, ran.stderr
    assert not modules & HEAVY, sorted(modules & HEAVY)
    assert jumpcloud.requests == []


def test_a_real_login_does_load_them(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    """The check above can fail: a path that logs in shows the heavy imports."""
    cli.write_config(account_config(jumpcloud))
    valid_profile(cli, role="SomeOtherRole")
    modules, ran = imported(cli, "login", "-a", "production", "--mfa-token", "000000")
    assert ran.returncode == 3
    assert "requests" in modules
