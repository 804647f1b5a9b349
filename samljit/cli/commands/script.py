"""``samljit script``: shell lines exporting the credentials (``eval "$(samljit script)"``)."""

from __future__ import annotations

import argparse

from samljit.cli.args import login_options
from samljit.cli.commands import Context
from samljit.common.errors import UsageError
from samljit.config.accounts import Overrides
from samljit.sinks.env import REMOVED
from samljit.sinks.shells import SHELLS, default_shell, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    login_options(parser, full=False)
    parser.add_argument("--shell", choices=SHELLS, help="default: from $SHELL, else bash")


def run(ctx: Context) -> int:
    args = ctx.args
    account = ctx.account(Overrides(role=args.role, profile=args.profile))
    # like exec: valid credentials in the profile answer (and their role)
    grant = ctx.login(account, write=False, read_profile=True)
    full = ctx.credential_env(account, grant)
    shell = args.shell or default_shell(ctx.env)
    removed = tuple(name for name in REMOVED if name.startswith("AWS_"))
    try:
        text = render(shell, full, removed if shell not in ("env", "json") else ())
    except ValueError as exc:
        raise UsageError(str(exc), hint="use another --shell") from None
    ctx.stdout.write(text)
    ctx.stdout.flush()
    return 0
