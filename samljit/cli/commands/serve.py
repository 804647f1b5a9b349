"""``samljit serve``: the credential endpoint of ``exec --server``, on its own until Ctrl-C.

Both run a :class:`~samljit.sinks.endpoint.Endpoint` (the sink) answered by a
:class:`~samljit.jit.keeper.Keeper` (the credentials, renewed inside the refresh margin
through the usual flow) with the keeper's refresh loop beside it.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
from collections.abc import Sequence

from samljit.cli.args import mfa_options, port, reason_option, role_option
from samljit.cli.commands import Context
from samljit.config.accounts import Account, Overrides
from samljit.jit.keeper import Keeper
from samljit.sinks.endpoint import SHADOWING, TOKEN_VARIABLE, URI_VARIABLE, Endpoint
from samljit.sinks.env import REMOVED

#: What ``exec`` sets that the endpoint replaces: the keys themselves.
STATIC_KEYS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    role_option(parser)
    parser.add_argument(
        "--port",
        type=port,
        default=0,
        metavar="PORT",
        help="port on 127.0.0.1 (default: a free one)",
    )
    mfa_options(parser)
    reason_option(parser)


def run(ctx: Context) -> int:
    args = ctx.args
    account = ctx.account(Overrides(role=args.role))
    keeper = Keeper(account, ctx.services, role_ref=account.role_arn, reason=ctx.reason())
    endpoint = Endpoint(keeper.credentials, port=args.port)  # a port in use: exit 2, no login
    keeper.start(mfa_token=ctx.mfa_token())
    with endpoint, keeper.renewing():
        ctx.out(f"export {URI_VARIABLE}={endpoint.url}")
        ctx.out(f"export {TOKEN_VARIABLE}={endpoint.token}")
        ctx.services.terminal.info(
            f"Serving credentials for {account.name} on {endpoint.url} until Ctrl-C."
        )
        forever = threading.Event()
        while not forever.wait(3600):
            pass
    return 0  # not reached: Ctrl-C ends it (exit 130)


def exec_served(ctx: Context, account: Account, argv: Sequence[str], reason: str | None) -> int:
    """``exec --server``: run ``argv`` with the endpoint in its environment; the endpoint
    ends with it, and its status is the result."""
    keeper = Keeper(account, ctx.services, role_ref=account.role_arn, reason=reason)
    grant = keeper.start(mfa_token=ctx.mfa_token())
    updates = ctx.credential_env(account, grant)
    for name in STATIC_KEYS:
        updates.pop(name, None)
    if reason is not None:
        updates["SAMLJIT_REASON"] = reason
    dropped = set(REMOVED) | set(SHADOWING)
    env = {k: v for k, v in ctx.env.items() if k not in dropped} | updates
    with Endpoint(keeper.credentials) as endpoint, keeper.renewing():
        env |= endpoint.environment()
        try:
            child = subprocess.Popen(list(argv), env=env)
        except FileNotFoundError:
            ctx.error(f"command not found: {argv[0]}")
            return 127
        except PermissionError:
            ctx.error(f"command is not executable: {argv[0]}")
            return 126
        return wait_child(child)


#: Signals samljit passes on to the child (Ctrl-C reaches it from the terminal itself).
FORWARDED = ("SIGTERM", "SIGHUP")


def wait_child(child: subprocess.Popen[bytes]) -> int:
    """The child's exit status (128 + N when signal N ended it). samljit keeps serving until
    the child has ended: Ctrl-C is the child's to handle, SIGTERM and SIGHUP are passed on."""
    import signal

    def forward(number: int, _frame: object) -> None:
        child.send_signal(number)

    previous = {}
    for name in FORWARDED:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, forward)
    try:
        while True:
            try:
                status = child.wait()
            except KeyboardInterrupt:
                continue
            return 128 - status if status < 0 else status
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
