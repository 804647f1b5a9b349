"""``samljit exec -- CMD ARGS…``: run a command with valid credentials in its environment."""

from __future__ import annotations

import argparse
import os
import sys

from samljit.cli.args import login_options, reason_option
from samljit.cli.commands import Context
from samljit.common.errors import UsageError
from samljit.common.platform import current
from samljit.config.accounts import Overrides
from samljit.sinks.env import REMOVED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    login_options(parser, full=False)
    reason_option(parser)
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="keep the credentials in the command's environment only (no profile written)",
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="give the command a credential endpoint on 127.0.0.1 that renews the keys "
        "(for work that outlives them; exec_server = true makes it the default)",
    )
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="command")


COMMAND_NOT_FOUND = 127
NOT_EXECUTABLE = 126


def run(ctx: Context) -> int:
    args = ctx.args
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError(
            "exec needs a command after --",
            hint="samljit exec -a production -- aws sts get-caller-identity",
        )
    account = ctx.account(Overrides(role=args.role, profile=args.profile))
    if args.server or account.exec_server:
        from samljit.cli.commands.serve import exec_served

        return exec_served(ctx, account, argv, ctx.reason())
    write = account.write_credentials and not args.no_write
    reason = ctx.reason()
    if write:
        ctx.warn_shadowing(account, [account.aws_profile])
    grant = ctx.login(account, write=write, reason=reason)
    updates = ctx.credential_env(account, grant)
    if reason is not None:
        updates["SAMLJIT_REASON"] = reason  # the child knows why it runs (and may log it)
    env = {k: v for k, v in ctx.env.items() if k not in REMOVED} | updates
    ctx.remember(account, grant, exec_env=updates, unset=REMOVED, reason=reason)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if not current().exec_replaces_process:
            return run_child(argv, env)
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        ctx.error(f"command not found: {argv[0]}")
        return COMMAND_NOT_FOUND
    except PermissionError:
        ctx.error(f"command is not executable: {argv[0]}")
        return NOT_EXECUTABLE
    return 0  # not reached: execvpe replaces this process


def run_child(argv: list[str], env: dict[str, str]) -> int:
    """Where ``os.execvpe`` cannot replace samljit (Windows starts a new process and ends
    this one at once, losing the status): run ``argv`` as a child and return its exit status
    (Windows' 32-bit status as it is; 128 + N when signal N ended it on POSIX)."""
    import subprocess

    from samljit.cli.commands.serve import wait_child

    return wait_child(subprocess.Popen(argv, env=env))
