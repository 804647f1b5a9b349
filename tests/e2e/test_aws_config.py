"""`samljit aws-config` (issue 28, item 2): `[profile NAME]` sections that run samljit's
credential-process by its absolute path, written into a hand-written `~/.aws/config` with
every other byte kept, updated in place by a later run (also under a new profile_template),
and used by the real AWS CLI."""

from __future__ import annotations

import json
import subprocess

from tests.e2e.test_login import several_roles_no_choice
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import (
    ACCOUNT_ID,
    RO_ARN,
    account_config,
    fresh_code,
)
from tests.support.cli import Cli
from tests.support.moto_sts import MotoSts
from tests.support.paths import SAMLJIT
from tests.support.tools import requires_tool

#: A config file as people write it: comments, odd spacing, CRLF in one place, an SSO
#: session, no newline at the end.
HAND_WRITTEN = (
    "# my AWS config -- do not touch\n"
    "[default]\n"
    "region = eu-west-1\n"
    "output=json\n"
    "\n"
    "; the old keys\n"
    "[profile legacy]\r\n"
    "aws_access_key_id = AKIAEXAMPLE\r\n"
    "\n"
    "[sso-session corp]\n"
    "sso_start_url = https://corp.awsapps.com/start\n"
    "   # indented comment\n"
    "[profile tools]\n"
    "region = us-west-2"
)


def code(cli: Cli) -> str:
    return fresh_code(cli)


def aws(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(
        ["aws", *args],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=cli.home,
    )
    cli.outputs.extend([ran.stdout, ran.stderr])
    return ran


def sections(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("[")]


def test_aws_config_prints_the_configured_role_without_logging_in(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))  # role_arn = readonly, an alias of RO_ARN
    ran = cli.run("aws-config", "-a", "production")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == (
        "[profile acme-production-AcmeJumpCloudAdminRO]\n"
        f"# samljit aws-config: account production, role {RO_ARN}\n"
        f"credential_process = {SAMLJIT} credential-process -a production --role {RO_ARN}\n"
        "region = us-east-2\n"
    )
    assert jumpcloud.requests == [] and not (cli.home / ".aws").exists()


def test_no_role_configured_and_several_granted_is_exit_4_listing_them(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    several_roles_no_choice(cli, jumpcloud, "aws-config")


@requires_tool("aws")
def test_write_keeps_every_other_byte_updates_in_place_and_the_aws_cli_runs_it(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    cli.write_config(account_config(jumpcloud))
    path = cli.home / ".aws" / "config"
    path.parent.mkdir()
    path.write_bytes(HAND_WRITTEN.encode())
    ran = cli.run(
        "aws-config", "-a", "production", "--all-roles", "--write", "--mfa-token", code(cli)
    )
    assert ran.returncode == 0, ran.stderr
    first = path.read_bytes().decode()
    assert first.startswith(HAND_WRITTEN + "\n")  # appended: not one byte of it changed
    names = [
        "acme-production-AcmeJumpCloudAdminRO",
        "acme-production-AcmeJumpCloudAdmin",
        "acme-dev-AcmeJumpCloudAdminRO",
    ]
    assert sections(first)[-3:] == [f"[profile {name}]" for name in names]

    # a new profile_template renames samljit's sections in place, duplicating none
    cli.write_config(
        account_config(jumpcloud, extra="profile_template = sj-{role_name}-{account_id}\n")
    )
    ran = cli.run("aws-config", "-a", "production", "--all-roles", "--write")
    assert ran.returncode == 0, ran.stderr  # the cached assertion answered: no MFA code
    second = path.read_bytes().decode()
    assert second.startswith(HAND_WRITTEN + "\n")
    renamed = [
        f"sj-AcmeJumpCloudAdminRO-{ACCOUNT_ID}",
        f"sj-AcmeJumpCloudAdmin-{ACCOUNT_ID}",
        "sj-AcmeJumpCloudAdminRO-111122223333",
    ]
    assert sections(second)[-3:] == [f"[profile {name}]" for name in renamed]
    assert len(sections(second)) == len(sections(first))
    assert second[len(HAND_WRITTEN) :].replace("sj-", "").count("credential_process") == 3

    version = aws(cli, "--version")
    if "aws-cli/1." not in version.stdout + version.stderr:  # v2 has list-profiles
        listed = aws(cli, "configure", "list-profiles")
        assert listed.returncode == 0, listed.stderr
        assert set(renamed) | {"default", "legacy", "tools"} == set(listed.stdout.split())
    # v1 and v2: every profile reads as written, the hand-written ones as before
    regions = {name: "us-east-2" for name in renamed} | {
        "default": "eu-west-1",
        "tools": "us-west-2",
    }
    for name, region in regions.items():
        got = aws(cli, "configure", "get", "region", "--profile", name)
        assert got.stdout.strip() == region, (name, got.stderr)
    who = aws(cli, "sts", "get-caller-identity", "--profile", renamed[0], "--output", "json")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Account"] == ACCOUNT_ID
    assert [c.role_arn for c in sts.calls if c.action == "AssumeRoleWithSAML"][-1] == RO_ARN


def test_a_hand_written_profile_of_the_same_name_is_left_alone(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    path = cli.home / ".aws" / "config"
    path.parent.mkdir()
    mine = "[profile acme-production-AcmeJumpCloudAdminRO]\nregion = eu-central-1\n"
    path.write_text(mine)
    ran = cli.run("aws-config", "-a", "production", "--write")
    assert ran.returncode == 2, ran.stderr
    assert "was not written by samljit aws-config" in ran.stderr
    assert path.read_text() == mine
