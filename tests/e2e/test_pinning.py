"""Pinning the IdP certificate, through the installed executable: the right certificate logs
in, the wrong one is refused before anything reaches AWS and nothing is written."""

from __future__ import annotations

import pytest

from samljit.tools.sandbox.response import SignTarget
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import account_config, fresh_code, make_user
from tests.support.cli import Cli
from tests.support.moto_sts import StsView
from tests.support.paths import FIXTURES


def code(cli: Cli) -> str:
    return fresh_code(cli)


def pin(cli: Cli, jumpcloud: JumpCloudEmulator, *certificates: str) -> None:
    keys = cli.home / "keys"
    keys.mkdir(exist_ok=True)
    pem = "".join((FIXTURES / "keys" / name).read_text() for name in certificates)
    (keys / "production.crt").write_text(pem)
    extra = "idp_certificate = ~/keys/production.crt\n"
    cli.write_config(account_config(jumpcloud, extra=extra))


@pytest.mark.parametrize("target", ["assertion", "response", "both"])
def test_pinned_to_the_idps_certificate_login_works(
    cli: Cli, sts: StsView, target: SignTarget
) -> None:
    with JumpCloudEmulator([make_user()], sign_target=target) as jumpcloud:
        pin(cli, jumpcloud, "idp-test.crt")
        calls = len(sts.calls)
        ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
        cli.secrets.update(jumpcloud.issued)
    assert ran.returncode == 0, ran.stderr
    assert "Logged in: AcmeJumpCloudAdminRO" in ran.stderr
    assert "aws_session_token" in cli.credentials.read_text()
    assert len(sts.calls) == calls + 1


def test_pinned_to_another_certificate_login_is_refused(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    pin(cli, jumpcloud, "attacker.crt")
    calls = len(sts.calls)
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 3, ran.stderr
    lines = ran.stderr.splitlines()
    assert lines[0] == (
        "samljit: error: signature check failed: the Assertion's signature was not made with "
        "the pinned certificate's key"
    )
    assert lines[1].startswith("hint: the response was not signed by the pinned idp_certificate")
    assert ran.stdout == ""
    assert not cli.credentials.exists()
    assert len(sts.calls) == calls  # nothing was sent to AWS
    assert jumpcloud.issued  # the IdP did answer: the refusal is samljit's


def test_list_roles_refuses_a_forged_response_too(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    pin(cli, jumpcloud, "attacker.crt")
    ran = cli.run("list-roles", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 3
    assert "samljit: error: signature check failed: " in ran.stderr
    assert ran.stdout == ""
    assert not cli.credentials.exists()


def test_during_a_key_rollover_either_pinned_certificate_verifies(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    """A PEM file may pin the old and the new signing certificate at once."""
    pin(cli, jumpcloud, "attacker.crt", "idp-test.crt")
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    configured = cli.run(
        "configure",
        "-a",
        "production",
        "--skip-prompt",
        "--idp-certificate",
        str(cli.home / "keys" / "production.crt"),
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.stderr.count("Pinned IdP certificate CN=samljit test IdP") == 2
