"""``samljit audit``: what samljit did, from the audit log (no secrets in it)."""

from __future__ import annotations

import argparse
import json

from samljit.cli.commands import Context
from samljit.common.errors import UsageError
from samljit.common.text import printable
from samljit.jit.audit import parse_since


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", metavar="WHEN", help="e.g. 30m, 12h, 1d, 2w, or an RFC 3339 time"
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines")


def run(ctx: Context) -> int:
    services = ctx.services
    since = None
    if ctx.args.since:
        try:
            since = parse_since(ctx.args.since, services.now())
        except ValueError:
            raise UsageError(
                f"--since {ctx.args.since!r} is not a duration or a time",
                hint="use 30m, 12h, 1d, 2w or an RFC 3339 time",
            ) from None
    scan = services.audit.scan(since)
    for logged in scan.entries:
        # a line written before values were escaped, or by hand, is escaped when shown
        entry = {k: printable(v) for k, v in logged.items()}
        if ctx.args.json:
            ctx.out(json.dumps(entry))
            continue
        extra = "  ".join(
            f"{k}={entry[k]}"
            for k in ("account", "role_arn", "profile", "expires", "before", "reason", "error")
            if k in entry
        )
        ctx.out(f"{entry['time']}  {entry['event']:<15} {entry.get('command', ''):<18} {extra}")
    if scan.unreadable:
        lines = "line" if scan.unreadable == 1 else "lines"
        ctx.terminal.warn(
            f"{scan.unreadable} {lines} of the audit log {services.audit.path} could not be "
            "read (not a JSON object with an RFC 3339 time) and are not shown"
        )
    return 0
