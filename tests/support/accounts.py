"""The test company's accounts: the JumpCloud user, the AWS roles it may assume, and the
``~/.samljit`` section that points samljit at the JumpCloud emulator."""

from __future__ import annotations

import json
import time
from typing import Any

from samljit.tools.sandbox.response import RoleGrant
from tests.emulators.common import totp_at
from tests.emulators.jumpcloud import App, JumpCloudEmulator, User
from tests.support.cli import Cli

SLUG = "acme-prod-aws-admin"
ACCOUNT_ID = "012345678987"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/JumpCloud"
RO_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/AcmeJumpCloudAdminRO"
FULL_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/AcmeJumpCloudAdmin"
DEV_ACCOUNT = "111122223333"
DEV_ARN = f"arn:aws:iam::{DEV_ACCOUNT}:role/AcmeJumpCloudAdminRO"
DEV_PROVIDER = f"arn:aws:iam::{DEV_ACCOUNT}:saml-provider/JumpCloud"
#: ``configure`` options for the read-only role, in us-east-2.
READONLY_IN_US_EAST_2 = ("--role", RO_ARN, "--region", "us-east-2")
EMAIL = "ops@acme.example"
PASSWORD = "correct-Horse-battery-staple-42"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def fresh_code(cli: Cli, secret: str = TOTP_SECRET) -> str:
    """A TOTP code of ``secret`` this test has not used yet (the emulators take each code
    once, as the IdPs do): the current step's, else the next step's (still inside the IdPs'
    one-step window). Kept for the leak check."""
    now = time.time()
    for offset in (0, 30):
        value = totp_at(secret, now + offset)
        if value not in cli.secrets:
            cli.secrets.add(value)
            return value
    raise AssertionError("a third TOTP code within one step: the IdP would refuse it")


def log_in_once(cli: Cli, emulator: JumpCloudEmulator) -> None:
    """The production account (:func:`account_config`) configured and logged in, with a
    fresh code."""
    cli.write_config(account_config(emulator))
    ran = cli.run("login", "-a", "production", "--mfa-token", fresh_code(cli))
    assert ran.returncode == 0, ran.stderr


def process_json(cli: Cli, *args: str, **env: str) -> dict[str, Any]:
    """``samljit credential-process -a production ARGS`` (``env`` on top of the test's) ended
    well: its one line of credentials JSON, whose secrets the leak check then knows."""
    ran = cli.run(
        "credential-process", "-a", "production", *args, env=env or None, stdout_has_secrets=True
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert len(lines) == 1, ran.stdout
    data: dict[str, Any] = json.loads(lines[0])
    cli.secrets.update([data["SecretAccessKey"], data["SessionToken"]])
    return data


def grants(*arns: tuple[str, str]) -> list[RoleGrant]:
    return [RoleGrant(role_arn=r, principal_arn=p) for r, p in arns]


PROD_GRANTS = grants((RO_ARN, PROVIDER_ARN), (FULL_ARN, PROVIDER_ARN), (DEV_ARN, DEV_PROVIDER))


def make_user(**overrides: object) -> User:
    values: dict[str, object] = {
        "email": EMAIL,
        "password": PASSWORD,
        "totp_secret": TOTP_SECRET,
        "push": "accept",
        "push_accept_after": 2,
        "apps": {SLUG: App(roles=PROD_GRANTS)},
        "role_order": "mixed",
    }
    values.update(overrides)
    return User(**values)  # type: ignore[arg-type]


def account_config(
    emulator: JumpCloudEmulator,
    *,
    name: str = "production",
    mfa: str = "TOTP",
    role: str | None = "readonly",
    extra: str = "",
) -> str:
    role_line = f"role_arn = {role}\n" if role else ""
    return (
        "# samljit accounts (edited by hand)\n"
        f"[{name}]\n"
        "provider = JumpCloud\n"
        f"url = {emulator.sso_url(SLUG)}\n"
        f"api_url = {emulator.api_url}\n"
        f"username = {EMAIL}\n"
        f"mfa = {mfa}\n"
        f"aws_profile = {name}\n"
        f"{role_line}"
        "region = us-east-2\n"
        f"{extra}"
        "  [[roles]]\n"
        f"  readonly = {RO_ARN}\n"
        f"  full = {FULL_ARN}\n"
        "  [[accounts]]\n"
        f"  {ACCOUNT_ID} = acme-production\n"
        f"  {DEV_ACCOUNT} = acme-dev\n"
    )
