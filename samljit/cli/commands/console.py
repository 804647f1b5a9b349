"""``samljit console``: open (or print) an AWS console link signed in as the role.

The link holds a SigninToken (a console session for whoever has it). A browser's command line
is readable by every local user (``ps``), so the link is never passed there: samljit writes a
page that forwards to it, mode 0600 in a private directory of the cache, and opens that page.
Pages older than the token's life are removed on the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from samljit.cli.args import login_options, seconds
from samljit.cli.commands import Context
from samljit.common.platform import current
from samljit.common.text import rfc3339
from samljit.config.accounts import Overrides


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
    grant = ctx.login(account, write=False)
    http = services.http_for(account)
    try:
        url = console_url(
            http,
            grant.credentials,
            partition=grant.partition,
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
        from samljit.jit.cache import cache_root

        page = forwarding_page(url, cache_root(ctx.env) / "console")
        if page is not None and current().open_url(page.as_uri()):
            ctx.terminal.info("Opened the AWS console in your browser.")
        else:
            ctx.terminal.info("No browser could be opened; here is the link:")
            ctx.out(url)
    return 0


#: How long a forwarding page is kept: a SigninToken is good for 15 minutes.
PAGE_LIFETIME = 15 * 60


def forwarding_page(url: str, directory: Path) -> Path | None:
    """A new page in ``directory`` (private) that forwards the browser to ``url``, mode 0600
    from its creation; ``None`` when it cannot be written. Stale pages are removed."""
    import html
    import secrets

    from samljit.common import fsutil

    try:
        fsutil.private_dir(directory.parent)
        fsutil.private_dir(directory)
    except OSError:
        return None
    _remove_stale(directory)
    target = html.escape(url, quote=True)
    script = json.dumps(url).replace("</", "<\\/")
    text = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f'<meta http-equiv="refresh" content="0;url={target}">'
        "<title>AWS console (samljit)</title></head>\n"
        f"<body><script>location.replace({script});</script>"
        f'<p><a href="{target}">Open the AWS console</a></p></body></html>\n'
    )
    path = directory / f"console-{secrets.token_hex(8)}.html"
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | current().open_flags
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        return None
    return path


def _remove_stale(directory: Path) -> None:
    cutoff = time.time() - PAGE_LIFETIME
    for old in directory.glob("console-*.html"):
        try:
            if old.lstat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue
