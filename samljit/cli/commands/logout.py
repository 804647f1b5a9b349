"""``samljit logout``: remove the account's profile section(s), cached credentials and
assertion, and forget the IdP session kept for it; everything else in the credentials file
stays as it was."""

from __future__ import annotations

import argparse
from pathlib import Path

from samljit.cli.commands import Context
from samljit.common.errors import ConfigError
from samljit.common.paths import entry_key
from samljit.config import accounts as config
from samljit.jit.flow import assertion_key
from samljit.sinks import credfile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="every configured account")
    parser.add_argument(
        "--browser-profile",
        action="store_true",
        help="also delete the account's browser profile (Browser provider, `--browser`): the "
        "IdP's remembered devices and stay-signed-in state go with it",
    )


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
                dropped += cache.remove_grant(entry_key(account.name, grant.role_ref))
        cache.remove_assertion(assertion_key(account))
        forgot = services.sessions.forget(account, sweep=True)
        services.event("logout", account=account.name, profile=account.aws_profile)
        profile = f"profile [{account.aws_profile}] removed" if removed else "no profile"
        session = ", IdP session forgotten" if forgot else ""
        if ctx.args.browser_profile and _drop_browser_profile(account, ctx.env):
            session += ", browser profile deleted"
        ctx.terminal.info(
            f"Logged out of {name!r}: {profile}, {dropped} cached credentials{session}."
        )
    return 0


def _drop_browser_profile(account: config.Account, env: dict[str, str]) -> bool:
    import importlib
    import shutil

    # the Browser provider owns where its profiles live (providers/ is installed as
    # samljit.providers, a directory mypy checks apart)
    browser = importlib.import_module("samljit.providers.browser")
    path: Path = browser.profile_path(account, env)
    if not path.is_dir() or path.is_symlink():
        return False
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot delete the browser profile {path}: {exc.strerror or exc}",
            hint="close the browser that uses it, then run logout again",
        ) from None
    return True
