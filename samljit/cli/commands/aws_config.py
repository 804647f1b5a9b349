"""``samljit aws-config``: ``[profile NAME]`` sections whose ``credential_process`` runs
samljit, printed or (``--write``) written into the AWS config file.

IDEs and GUI programs do not share the shell's ``PATH``, so the command names samljit by its
absolute path. Without ``--all-roles`` the account's configured role is written; with none
configured the assertion's roles decide (one: that one; several: exit 4 listing them).
"""

from __future__ import annotations

import argparse
import os
import sys

from samljit.aws import roles
from samljit.cli.args import mfa_options
from samljit.cli.commands import Context
from samljit.common.errors import RoleError
from samljit.config.accounts import Account
from samljit.jit.flow import profile_names
from samljit.sinks.awsconfig import (
    config_file,
    process_profile,
    write_process_profiles,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all-roles",
        action="store_true",
        help="one profile per role the account grants (names from profile_template)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write the profiles into ~/.aws/config (or AWS_CONFIG_FILE) instead of printing",
    )
    mfa_options(parser)


def samljit_command() -> list[str]:
    """How another program runs this samljit: the console script by its absolute path, or
    this Python with ``-m samljit``."""
    script = os.path.abspath(sys.argv[0])
    if os.path.basename(script).startswith("samljit") and os.access(script, os.X_OK):
        return [script]
    return [os.path.abspath(sys.executable), "-m", "samljit"]


def run(ctx: Context) -> int:
    account = ctx.account()
    command = samljit_command()
    granted = _roles(ctx, account)
    names = profile_names(account.profile_template, account, granted)
    profiles = [
        process_profile(
            name,
            account=account.name,
            role_arn=role.role_arn,
            region=account.region,
            command=command,
        )
        for name, role in zip(names, granted, strict=True)
    ]
    if not ctx.args.write:
        ctx.out("\n".join(p.block() for p in profiles).rstrip("\n"))
        return 0
    path = config_file(ctx.env)
    write_process_profiles(path, profiles)
    ctx.terminal.info(f"Wrote {len(profiles)} profile(s) into {path}: " + ", ".join(names))
    return 0


def _roles(ctx: Context, account: Account) -> list[roles.Role]:
    """The roles to write: the configured role's ARN needs no login; anything else is
    read from the assertion (cached while valid)."""
    reference = account.role_arn
    if not ctx.args.all_roles and reference:
        arn = roles.reference(reference, account.role_aliases).arn
        if arn is not None and arn.is_role:
            return [roles.Role(arn)]
    assertion = ctx.assertion(account)
    granted = assertion.roles
    if ctx.args.all_roles:
        if not granted:
            raise RoleError("the assertion grants no AWS role")
        return list(granted)
    if not reference and len(granted) > 1:
        raise RoleError(
            f"no role is configured and the assertion grants {len(granted)}: "
            + "; ".join(r.role_arn for r in granted),
            hint="set role_arn with `samljit configure`, or pass --all-roles",
        )
    return [
        roles.select(
            granted,
            reference,
            aliases=account.role_aliases,
            account_names=account.account_names,
            terminal=ctx.services.terminal,
        )
    ]
