"""``samljit login``: log in and write the credentials profile."""

from __future__ import annotations

from samljit.commands import Context, describe_grant
from samljit.config import Overrides
from samljit.login import login


def run(ctx: Context) -> int:
    args = ctx.args
    account = ctx.account(
        Overrides(role=args.role, profile=args.profile, session_duration=args.session_duration)
    )
    runtime = ctx.runtime()
    grant = login(
        account,
        runtime,
        role_ref=account.role_arn,
        mfa_token=ctx.mfa_token(),
        force=args.force,
    )
    ctx.terminal.info(describe_grant(grant, account, runtime.now()))
    return 0
