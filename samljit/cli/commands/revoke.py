"""``samljit revoke``: deny everything to a role's sessions issued before a time.

Writes the inline policy ``AWSRevokeOlderSessions`` (:mod:`samljit.aws.iam`) on the role, with
the credentials of ``--aws-profile`` (or the environment's), once STS has said that they
belong to the role's account, after showing it and asking — unless ``--yes``. Every session
of the role, anyone's, issued before the time is cut off.
"""

from __future__ import annotations

import argparse

from samljit.cli.commands import Context
from samljit.jit.held import resolve_role


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role",
        metavar="ROLE",
        help="role ARN, [[roles]] alias, or a role name of the cached assertion "
        "(default: the role the account's profile holds)",
    )
    parser.add_argument(
        "--before",
        metavar="TIME",
        default="now",
        help="revoke sessions issued before this RFC 3339 time (default: now)",
    )
    parser.add_argument(
        "--aws-profile",
        metavar="PROFILE",
        help="AWS profile whose credentials call IAM (default: the environment's)",
    )
    parser.add_argument("--yes", action="store_true", help="write the policy without asking")


def run(ctx: Context) -> int:
    from samljit.aws.iam import (
        POLICY_NAME,
        parse_before,
        policy_text,
        put_role_policy,
        revoke_policy,
        revoke_time,
    )
    from samljit.aws.signing import require_botocore

    args = ctx.args
    require_botocore("revoke")
    account = ctx.account()
    services = ctx.services
    now = services.now()
    before = revoke_time(parse_before(args.before, now))
    arn = resolve_role(account, services, args.role)
    role_arn = str(arn)
    document = revoke_policy(before)
    terminal = ctx.terminal
    if not args.yes:
        terminal.require(CONFIRMATION, hint=YES_HINT)

    def confirm(caller: str) -> bool:
        terminal.notice(
            f"Revoke every session of role {arn.name} in account {arn.account_id} issued "
            f"before {before}: anyone's, not only yours."
        )
        terminal.notice(f"Inline policy {POLICY_NAME} for {role_arn} (replaces one of that name):")
        terminal.notice(policy_text(document))
        terminal.notice(f"Written as {caller}.")
        if before > revoke_time(now):
            terminal.warn(
                f"{before} is in the future: sessions issued from now until then are denied too"
            )
        if args.yes:
            return True
        answer = terminal.ask(
            "Write this policy? (yes/no)",
            what=CONFIRMATION,
            hint=YES_HINT,
            validate=lambda text: None if text.lower() in YES | NO else "answer yes or no",
        )
        return answer.lower() not in NO

    written = put_role_policy(
        arn,
        policy_text(document),
        profile=args.aws_profile,
        credentials_file=str(account.credentials_file),
        env=ctx.env,
        confirm=confirm,
    )
    if not written:
        terminal.info("Nothing written.")
        return 0
    services.event("role.revoked", account=account.name, role_arn=role_arn, before=before)
    terminal.success(
        f"Revoked: sessions of {role_arn} issued before {before} are denied every action "
        f"(policy {POLICY_NAME}; new logins are not affected)."
    )
    return 0


CONFIRMATION = "a confirmation to write the policy"
YES_HINT = "pass --yes to write it without asking"
YES = frozenset({"y", "yes"})
NO = frozenset({"n", "no"})
