"""The success line in a real terminal: coloured, unless NO_COLOR is set; never coloured when
stderr is not a terminal."""

from __future__ import annotations

from tests.emulators.common import totp_now
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import TOTP_SECRET, account_config
from tests.support.cli import Cli, finish

GREEN = "\x1b[1;32m"


def login_in_a_pty(cli: Cli, *, no_color: bool) -> str:
    child = cli.spawn(
        "login", "-a", "production", "--force", "--mfa-token", totp_now(TOTP_SECRET),
        env={} if no_color else {"NO_COLOR": None},
    )  # fmt: skip
    transcript = finish(child)
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
