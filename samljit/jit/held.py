"""What an account holds now, for commands that act on a role without logging in (``revoke``):
the role its profile's session is for, and the roles its cached assertion grants."""

from __future__ import annotations

from samljit.aws import roles
from samljit.aws.arn import Arn
from samljit.common.errors import RoleError, SamljitError, UsageError
from samljit.common.services import Services
from samljit.config.accounts import Account
from samljit.sinks.env import role_arn_of
from samljit.sinks.profile import held_credentials


def resolve_role(account: Account, services: Services, reference: str | None) -> Arn:
    """The role ``reference`` names (an ARN, a ``[[roles]]`` alias, or a role name in the
    account's cached assertion), else the role the account's profile holds."""
    if reference:
        ref = roles.reference(reference, account.role_aliases)
        if ref.arn is not None:
            if not ref.arn.is_role:
                raise UsageError(
                    f"--role {reference!r} is not a role ARN ({ref.target})",
                    hint="a role ARN looks like arn:aws:iam::123456789012:role/NAME",
                )
            return ref.arn
        known = assertion_roles(account, services)
        found = [r for r in known if ref.designates(r.arn, account.account_names)]
        if len(found) == 1:
            return found[0].arn
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
    credentials = held_credentials(account)
    held = Arn.try_parse(role_arn_of(credentials)) if credentials is not None else None
    if held is None:
        raise RoleError(
            f"no --role given, and profile [{account.aws_profile}] holds no role session "
            "to take the role from",
            hint="pass --role ARN (or a [[roles]] alias)",
        )
    return held


def assertion_roles(account: Account, services: Services) -> list[roles.Role]:
    """The roles of the account's cached assertion (expired or not: only names are read)."""
    from samljit.jit.flow import assertion_key
    from samljit.saml import assertion as saml

    cached = services.cache.get_assertion(assertion_key(account))
    if cached is None:
        return []
    services.redactor.add(cached.encoded)
    try:
        return list(saml.parse(cached.encoded).roles)
    except SamljitError:
        return []
