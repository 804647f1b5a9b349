"""``samljit credential-process``: AWS ``credential_process`` JSON on stdout, nothing else.

Answered from the cache while more than ``refresh_margin`` is left; otherwise one process per
(account, role) logs in (prompts go to the controlling terminal, since the SDK captures
stdout and stderr) and the others wait for its result.
"""

from __future__ import annotations

import argparse
import json

from samljit.cli.args import mfa_options, reason_option, role_option
from samljit.cli.commands import Context
from samljit.common.text import rfc3339
from samljit.config.accounts import Overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    role_option(parser)
    parser.add_argument("--no-cache", action="store_true", help="log in even if cached")
    mfa_options(parser)
    reason_option(parser)


def run(ctx: Context) -> int:
    args = ctx.args
    account = ctx.account(Overrides(role=args.role))
    reason = ctx.reason()
    grant = ctx.login(account, write=False, use_cache=not args.no_cache, reason=reason)
    c = grant.credentials
    line = json.dumps(
        {
            "Version": 1,
            "AccessKeyId": c.access_key_id,
            "SecretAccessKey": c.secret_access_key,
            "SessionToken": c.session_token,
            "Expiration": rfc3339(c.expiration),
        }
    )
    ctx.out(line)
    if not args.no_cache:
        ctx.remember(account, grant, stdout=line + "\n", reason=reason)
    return 0
