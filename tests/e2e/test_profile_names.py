"""One rule for profile names: a name that ``configure``, ``login`` or the credentials-file
writer refuses is refused by all of them, with one line and exit 2 (once it was an
"unexpected ValueError … this is a bug" after a whole login, or a config file samljit could
not read back)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import SLUG, account_config
from tests.support.cli import Cli

BAD_NAMES = [
    pytest.param("a]b", id="bracket"),
    pytest.param("a\x0bb", id="vertical-tab"),
    pytest.param("a\u2028b", id="line-separator"),
    pytest.param(os.fsdecode(b"a\x85b"), id="undecodable-byte"),
    pytest.param("DEFAULT", id="DEFAULT"),
    pytest.param(" prod", id="leading-space"),
]


def _refused(ran: subprocess.CompletedProcess[str], name: str) -> None:
    assert ran.returncode == 2, ran.stderr
    lines = ran.stderr.splitlines()
    assert lines[0] == f"samljit: error: {_shown(name)}", ran.stderr
    assert lines[1].startswith("hint: use letters, digits"), ran.stderr
    assert "unexpected" not in ran.stderr


def _shown(name: str) -> str:
    return f"the AWS profile {name!r} cannot be a credentials profile name"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_configure_refuses_a_bad_profile_name(cli: Cli, name: str) -> None:
    cli.write_config("# mine\n")
    ran = cli.run(
        "configure",
        "-a",
        "work",
        "--skip-prompt",
        "--provider",
        "jumpcloud",
        "--url",
        f"https://sso.jumpcloud.com/saml2/{SLUG}",
        "--profile",
        name,
    )
    _refused(ran, name)
    assert cli.config.read_text() == "# mine\n"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_login_refuses_a_bad_profile_name_before_contacting_anyone(
    cli: Cli, jumpcloud: JumpCloudEmulator, name: str
) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--profile", name)
    assert ran.returncode == 2, ran.stderr
    first = ran.stderr.splitlines()[0]
    assert first == (
        f"samljit: error: aws_profile of account 'production' {name!r} "
        "cannot be a credentials profile name"
    ), ran.stderr
    assert "unexpected" not in ran.stderr
    assert jumpcloud.count("POST", "/userconsole/auth") == 0
    assert not cli.credentials.exists()
