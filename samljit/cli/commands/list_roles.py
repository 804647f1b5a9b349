"""``samljit list-roles``: authenticate and print every role the assertion grants."""

from __future__ import annotations

import argparse
import json

from samljit.aws import roles
from samljit.cli.args import mfa_options
from samljit.cli.commands import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mfa_options(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(ctx: Context) -> int:
    account = ctx.account()
    assertion = ctx.assertion(account)  # a cached one that is still valid: no IdP
    names = assertion.account_names(account.account_names)
    if ctx.args.json:
        ctx.out(
            json.dumps(
                [
                    {
                        "account_id": r.account_id,
                        "account_name": names.get(r.account_id),
                        "role_name": r.role_name,
                        "role_arn": r.role_arn,
                        "principal_arn": r.principal_arn,
                    }
                    for r in assertion.roles
                ],
                indent=2,
            )
        )
    else:
        for role in assertion.roles:
            ctx.out(roles.describe(role, names))
    return 0
