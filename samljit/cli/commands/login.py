"""``samljit login``: log in and write the credentials profile (or one per role)."""

from __future__ import annotations

import argparse

from samljit.cli.args import login_options, reason_option
from samljit.cli.commands import Context, describe_grant, expiry_text
from samljit.config.accounts import Overrides
from samljit.jit.flow import login_all_roles


def add_arguments(parser: argparse.ArgumentParser) -> None:
    login_options(parser, full=True)
    reason_option(parser)
    parser.add_argument(
        "--all-roles",
        action="store_true",
        help="write one profile per role in the assertion (names from profile_template)",
    )


def run(ctx: Context) -> int:
    args = ctx.args
    account = ctx.account(
        Overrides(role=args.role, profile=args.profile, session_duration=args.session_duration)
    )
    services = ctx.services
    reason = ctx.reason()
    if args.all_roles:
        grants = login_all_roles(
            account,
            services,
            template=account.profile_template,
            mfa_token=ctx.mfa_token(),
            force=args.force,
            reason=reason,
        )
        ctx.warn_shadowing(account, [grant.profile for grant in grants])
        now = services.now()
        for grant in grants:
            expiry = expiry_text(grant.credentials.expiration, now)
            ctx.terminal.info(f"[{grant.profile}] {grant.role_arn} {expiry}")
        ctx.terminal.info(f"Wrote {len(grants)} profiles.")
        return 0
    ctx.warn_shadowing(account, [account.aws_profile])
    grant = ctx.login(account, force=args.force, reason=reason)
    now = services.now()
    ctx.terminal.success(describe_grant(grant, account, now))
    if not args.force:
        reused = grant._replace(reused=True)
        ctx.remember(
            account,
            grant,
            stderr=describe_grant(reused, account, now, expiry="{expiry}") + "\n",
            reason=reason,
        )
    return 0
