"""``samljit logout``: remove the account's profile section(s), cached credentials and
assertion, and forget the IdP session kept for it; everything else in the credentials file
stays as it was."""

from __future__ import annotations

import argparse

from samljit.cli.commands import Context
from samljit.config import accounts as config
from samljit.jit.flow import assertion_key, grant_key
from samljit.sinks import credfile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="every configured account")


def run(ctx: Context) -> int:
    cfg = ctx.load_config()
    names = list(cfg.sections) if ctx.args.all else [ctx.account_name]
    services = ctx.services
    cache = services.cache
    grants = cache.grants()
    for name in names:
        account = config.resolve_account(cfg, name, path=ctx.config_path, env=ctx.env)
        removed = credfile.remove_profile(account.credentials_file, account.aws_profile)
        dropped = 0
        for grant in grants:
            if grant.account == account.name:
                dropped += cache.remove_grant(grant_key(account, grant.role_ref or None))
        cache.remove_assertion(assertion_key(account))
        forgot = services.sessions.forget(account)
        services.event("logout", account=account.name, profile=account.aws_profile)
        profile = f"profile [{account.aws_profile}] removed" if removed else "no profile"
        session = ", IdP session forgotten" if forgot else ""
        ctx.terminal.info(
            f"Logged out of {name!r}: {profile}, {dropped} cached credentials{session}."
        )
    return 0
