"""AWS roles granted by an assertion, and choosing one of them.

Order (the contract): ``--role`` flag, then ``role_arn`` from the config, then the only role if
there is one, then an interactive picker. A reference matches, in this order: an exact role
ARN; a ``[[roles]]`` alias; a role name (last path segment); ``ACCOUNT_ID/ROLE_NAME`` or
``ACCOUNT_NAME/ROLE_NAME``. Ambiguity is an error listing the matches, never a silent pick.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from samljit.aws.arn import Arn
from samljit.common.errors import RoleError
from samljit.common.terminal import Terminal


class Role(NamedTuple):
    role_arn: str
    principal_arn: str

    @property
    def arn(self) -> Arn:
        return Arn.parse(self.role_arn)

    @property
    def partition(self) -> str:
        return self.arn.partition

    @property
    def account_id(self) -> str:
        return self.arn.account_id

    @property
    def role_name(self) -> str:
        return self.arn.name


#: What IAM allows in a role's resource (``role/`` + optional path of printable ASCII + name of
#: letters, digits and ``+=,.@_-``) and in a SAML provider's (``saml-provider/`` + name).
_IAM_ROLE = re.compile(r"role/(?:[\x21-\x7e]*/)?[\w+=,.@-]+", re.ASCII)
_IAM_SAML_PROVIDER = re.compile(r"saml-provider/[\w.-]+", re.ASCII)


def iam_clean(role: Role) -> bool:
    """Whether both ARNs of ``role`` hold only characters IAM allows in them (a role ARN with
    an escape sequence or a line break in it came from a broken or hostile IdP)."""
    return (
        _IAM_ROLE.fullmatch(role.arn.resource) is not None
        and _IAM_SAML_PROVIDER.fullmatch(Arn.parse(role.principal_arn).resource) is not None
    )


def parse_role_value(value: str) -> Role | None:
    """A Role attribute value ``role_arn,principal_arn`` in either order; ``None`` if unusable."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2:
        return None
    arns = [(part, Arn.try_parse(part)) for part in parts]
    roles = [part for part, arn in arns if arn is not None and arn.is_role]
    principals = [part for part, arn in arns if arn is not None and arn.is_saml_provider]
    if len(roles) != 1 or len(principals) != 1:
        return None
    return Role(role_arn=roles[0], principal_arn=principals[0])


def account_label(role: Role, account_names: Mapping[str, str]) -> str:
    return account_names.get(role.account_id, "-")


def describe(role: Role, account_names: Mapping[str, str]) -> str:
    """``ACCOUNT_ID  ACCOUNT_NAME  ROLE_NAME  ROLE_ARN`` (the ``list-roles`` line)."""
    account = account_label(role, account_names)
    return f"{role.account_id}  {account}  {role.role_name}  {role.role_arn}"


def match(
    reference: str,
    roles: Sequence[Role],
    *,
    aliases: Mapping[str, str],
    account_names: Mapping[str, str],
) -> list[Role]:
    """Every role ``reference`` designates, trying each rule in the contract's order."""
    ref = reference.strip()
    exact = [r for r in roles if r.role_arn == ref]
    if exact:
        return exact
    if ref in aliases:
        return match(aliases[ref], roles, aliases={}, account_names=account_names)
    by_name = [r for r in roles if r.role_name == ref]
    if by_name:
        return by_name
    if "/" in ref and not ref.startswith("arn:"):
        account, name = ref.split("/", 1)
        return [
            r
            for r in roles
            if r.role_name == name
            and (r.account_id == account or account_names.get(r.account_id) == account)
        ]
    return []


def select(
    roles: Sequence[Role],
    reference: str | None,
    *,
    aliases: Mapping[str, str],
    account_names: Mapping[str, str],
    terminal: Terminal,
) -> Role:
    """Choose the role to assume (see the module docstring for the rules)."""
    if not roles:
        raise RoleError("the assertion grants no AWS role")
    listing = "; ".join(r.role_arn for r in roles)
    if reference:
        found = match(reference, roles, aliases=aliases, account_names=account_names)
        if len(found) == 1:
            return found[0]
        if not found:
            raise RoleError(
                f"role {reference!r} is not in the assertion; it grants: {listing}",
                hint="pass --role with one of these, or fix role_arn / [[roles]] in the config",
            )
        raise RoleError(
            f"role {reference!r} is ambiguous; it matches: " + "; ".join(r.role_arn for r in found),
            hint="use the full role ARN or ACCOUNT_ID/ROLE_NAME",
        )
    if len(roles) == 1:
        return roles[0]
    if not terminal.interactive:
        raise RoleError(
            f"{len(roles)} roles to choose from, but {terminal.no_prompt_reason}: {listing}",
            hint="pass --role (ARN, alias, role name or ACCOUNT/ROLE) or set role_arn",
        )
    options = [_picker_label(r, account_names) for r in roles]
    index = terminal.choose("The assertion grants these roles:", options, what="choosing a role")
    return roles[index]


def _picker_label(role: Role, account_names: Mapping[str, str]) -> str:
    name = account_names.get(role.account_id)
    account = f"{name} ({role.account_id})" if name else role.account_id
    return f"{account}  {role.role_name}"


def assumed_role_matches(principal_arn: str, role_arn: str) -> bool:
    """Does the assumed-role ARN ``arn:…:sts::ACCT:assumed-role/NAME/SESSION`` come from role?"""
    principal, role = Arn.try_parse(principal_arn), Arn.try_parse(role_arn)
    return principal is not None and role is not None and principal.is_session_of(role)
