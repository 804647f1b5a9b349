"""``samljit revoke``: deny everything to a role's sessions issued before a time.

Writes the inline policy ``AWSRevokeOlderSessions`` (:mod:`samljit.aws.iam`) on the role, with
the credentials of ``--aws-profile`` (or the environment's), after showing it and asking —
unless ``--yes``. Every session of the role, anyone's, issued before the time is cut off.
"""

from __future__ import annotations

import argparse

from samljit.aws import roles
from samljit.aws.arn import Arn
from samljit.cli.commands import Context
from samljit.config.accounts import Account
from samljit.errors import RoleError, SamljitError, UsageError
from samljit.sinks.env import role_arn_of


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
    role_arn = resolve_role(ctx, account, args.role)
    arn = Arn.parse(role_arn)
    document = revoke_policy(before)
    terminal = ctx.terminal
    if not args.yes:
        terminal.require(CONFIRMATION, hint=YES_HINT)
    terminal.notice(
        f"Revoke every session of role {arn.name} in account {arn.account_id} issued before "
        f"{before}: anyone's, not only yours."
    )
    terminal.notice(f"Inline policy {POLICY_NAME} for {role_arn} (replaces one of that name):")
    terminal.notice(policy_text(document))
    if before > revoke_time(now):
        terminal.warn(
            f"{before} is in the future: sessions issued from now until then are denied too"
        )
    if not args.yes:
        answer = terminal.ask(
            "Write this policy? (yes/no)",
            what=CONFIRMATION,
            hint=YES_HINT,
            validate=lambda text: None if text.lower() in YES | NO else "answer yes or no",
        )
        if answer.lower() in NO:
            terminal.info("Nothing written.")
            return 0
    put_role_policy(
        role_arn,
        policy_text(document),
        profile=args.aws_profile,
        credentials_file=str(account.credentials_file),
        env=ctx.env,
    )
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


def resolve_role(ctx: Context, account: Account, reference: str | None) -> str:
    """The role ARN to revoke: ``--role`` (an ARN, a ``[[roles]]`` alias, or a role name in the
    account's cached assertion), else the role the account's profile holds."""
    if reference:
        target = account.role_aliases.get(reference.strip(), reference).strip()
        arn = Arn.try_parse(target)
        if arn is not None:
            if not arn.is_role:
                raise UsageError(
                    f"--role {reference!r} is not a role ARN ({target})",
                    hint="a role ARN looks like arn:aws:iam::123456789012:role/NAME",
                )
            return str(arn)
        known = _assertion_roles(ctx, account)
        found = roles.match(
            target, known, aliases=account.role_aliases, account_names=account.account_names
        )
        if len(found) == 1:
            return found[0].role_arn
        if found:
            raise RoleError(
                f"role {reference!r} is ambiguous; it matches: "
                + "; ".join(r.role_arn for r in found),
                hint="use the full role ARN or ACCOUNT_ID/ROLE_NAME",
            )
        where = (
            "; the account's cached assertion grants: " + "; ".join(r.role_arn for r in known)
            if known
            else " (no assertion of the account is cached)"
        )
        raise RoleError(
            f"role {reference!r} is not a role ARN, nor a [[roles]] alias, nor a role name of "
            f"the account's cached assertion{where}",
            hint="pass the role ARN, or `samljit login` first so that role names are known",
        )
    from samljit.sinks import credfile
    from samljit.sinks.profile import credentials_from_profile

    values = credfile.read_profile(account.credentials_file, account.aws_profile)
    credentials = credentials_from_profile(values) if values else None
    held = role_arn_of(credentials) if credentials is not None else ""
    if not held:
        raise RoleError(
            f"no --role given, and profile [{account.aws_profile}] holds no role session "
            "to take the role from",
            hint="pass --role ARN (or a [[roles]] alias)",
        )
    return held


def _assertion_roles(ctx: Context, account: Account) -> list[roles.Role]:
    """The roles of the account's cached assertion (expired or not: only names are read)."""
    from samljit.jit.flow import assertion_key
    from samljit.saml import assertion as saml

    cached = ctx.services.cache.get_assertion(assertion_key(account))
    if cached is None:
        return []
    ctx.redactor.add(cached.encoded)
    try:
        return list(saml.parse(cached.encoded).roles)
    except SamljitError:
        return []
