"""The success line in a real terminal: coloured, unless NO_COLOR is set; never coloured when
stderr is not a terminal."""

from __future__ import annotations

import io

import pexpect

from tests.emulators.jumpcloud import JumpCloudEmulator, totp_now
from tests.support.accounts import TOTP_SECRET, account_config
from tests.support.cli import Cli
from tests.support.paths import SAMLJIT

GREEN = "\x1b[1;32m"


def login_in_a_pty(cli: Cli, *, no_color: bool) -> str:
    env = dict(cli.env)
    if not no_color:
        env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        str(SAMLJIT),
        ["login", "-a", "production", "--force", "--mfa-token", totp_now(TOTP_SECRET)],
        env=env,
        cwd=str(cli.home),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = io.StringIO()
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.logfile_read.getvalue()
    cli.outputs.append(transcript)
    assert child.exitstatus == 0, transcript
    return transcript


def test_success_line_coloured_only_on_a_terminal_without_no_color(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    coloured = login_in_a_pty(cli, no_color=False)
    assert f"{GREEN}Logged in: AcmeJumpCloudAdminRO in acme-production (012345678987)" in coloured

    plain = login_in_a_pty(cli, no_color=True)
    assert "Logged in: AcmeJumpCloudAdminRO in acme-production (012345678987)" in plain
    assert "\x1b[" not in plain

    piped = cli.run(
        "login", "-a", "production", "--force", "--mfa-token", totp_now(TOTP_SECRET),
        env={"NO_COLOR": None},  # type: ignore[dict-item]
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr.startswith("Logged in: AcmeJumpCloudAdminRO")
    assert "\x1b[" not in piped.stderr
