"""``samljit console``: open (or print) an AWS console link signed in as the role."""

from __future__ import annotations

import argparse
import json

from samljit.aws.arn import Arn
from samljit.cli.args import login_options, seconds
from samljit.cli.commands import Context
from samljit.config.accounts import Overrides
from samljit.jit.flow import login
from samljit.sinks.env import role_arn_of
from samljit.sinks.profile import rfc3339


def add_arguments(parser: argparse.ArgumentParser) -> None:
    login_options(parser, full=False)
    parser.add_argument("--print", action="store_true", help="print the link, open nothing")
    parser.add_argument("--json", action="store_true", help='print {"ConsoleUrl", "Expiration"}')
    parser.add_argument("--destination", metavar="URL", help="console page to open")
    parser.add_argument(
        "--duration", metavar="SECONDS", type=seconds, help="console session length"
    )


def run(ctx: Context) -> int:
    from samljit.aws.federation import console_url

    args = ctx.args
    account = ctx.account(Overrides(role=args.role, profile=args.profile))
    services = ctx.services
    grant = login(
        account, services, role_ref=account.role_arn, mfa_token=ctx.mfa_token(), write=False
    )
    arn = Arn.try_parse(grant.role_arn or role_arn_of(grant.credentials))
    partition = arn.partition if arn is not None else "aws"
    http = services.http_for(account)
    try:
        url = console_url(
            http,
            grant.credentials,
            partition=partition,
            destination=args.destination,
            duration=args.duration,
            region=account.region,
            env=ctx.env,
        )
    finally:
        http.close()
    ctx.redactor.add(url)
    if args.json:
        payload = {"ConsoleUrl": url, "Expiration": rfc3339(grant.credentials.expiration)}
        ctx.out(json.dumps(payload))
    elif args.print:
        ctx.out(url)
    else:
        import webbrowser

        if webbrowser.open(url):
            ctx.terminal.info("Opened the AWS console in your browser.")
        else:
            ctx.terminal.info("No browser could be opened; here is the link:")
            ctx.out(url)
    return 0
