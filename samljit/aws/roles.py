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
    """A role an assertion grants, its two ARNs parsed once (where it was read)."""

    arn: Arn
    #: The SAML provider's ARN; ``None`` for a role named without an assertion (the
    #: configured ``role_arn`` of ``aws-config``).
    principal: Arn | None = None

    @classmethod
    def parse(cls, role_arn: str, principal_arn: str | None = None) -> Role:
        """A role from its ARN texts (:class:`ArnError` when one is no ARN)."""
        return cls(Arn.parse(role_arn), Arn.parse(principal_arn) if principal_arn else None)

    @property
    def role_arn(self) -> str:
        return str(self.arn)

    @property
    def principal_arn(self) -> str:
        return str(self.principal) if self.principal is not None else ""

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
        and role.principal is not None
        and _IAM_SAML_PROVIDER.fullmatch(role.principal.resource) is not None
    )


def parse_role_value(value: str) -> Role | None:
    """A Role attribute value ``role_arn,principal_arn`` in either order; ``None`` if unusable."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2:
        return None
    arns = [Arn.try_parse(part) for part in parts]
    roles = [arn for arn in arns if arn is not None and arn.is_role]
    principals = [arn for arn in arns if arn is not None and arn.is_saml_provider]
    if len(roles) != 1 or len(principals) != 1:
        return None
    return Role(roles[0], principals[0])


def account_label(role: Role, account_names: Mapping[str, str]) -> str:
    return account_names.get(role.account_id, "-")


def describe(role: Role, account_names: Mapping[str, str]) -> str:
    """``ACCOUNT_ID  ACCOUNT_NAME  ROLE_NAME  ROLE_ARN`` (the ``list-roles`` line)."""
    account = account_label(role, account_names)
    return f"{role.account_id}  {account}  {role.role_name}  {role.role_arn}"


class RoleRef(NamedTuple):
    """A role reference as the user wrote it (``--role``, ``role_arn``), its ``[[roles]]``
    alias followed: a role ARN, a role name, or ``ACCOUNT/ROLE_NAME`` (account id or name)."""

    #: What the user wrote.
    text: str
    #: The reference once a ``[[roles]]`` alias is followed (``text`` when it is none).
    target: str
    #: ``target`` parsed, when it is an ARN.
    arn: Arn | None

    @property
    def key(self) -> str:
        """The same text for references that name a role the same way (an alias and the
        ARN it stands for): the credentials cache's key."""
        return str(self.arn) if self.arn is not None else self.target

    def designates(self, role: Arn, account_names: Mapping[str, str]) -> bool:
        """Does this reference name ``role`` (a role ARN, or the role an assumed-role session
        ARN is of: its path unknown, so an ARN reference is compared without its path)?"""
        session = role.is_assumed_role
        if session:
            of = role.assumed_role_to_role()
            if of is None:
                return False
            if self.arn is not None:
                return role.is_session_of(self.arn)
            role = of
        if self.arn is not None:
            return self.arn == role
        if self.target == role.name:
            return True
        if "/" not in self.target:
            return False
        account, name = self.target.split("/", 1)
        return role.name == name and account in (
            role.account_id,
            account_names.get(role.account_id),
        )


def reference(text: str, aliases: Mapping[str, str]) -> RoleRef:
    """The one reader of role references (login, the profile check, revoke, the cache key):
    ``text`` with its ``[[roles]]`` alias followed (an exact role ARN is never an alias)."""
    ref = text.strip()
    arn = Arn.try_parse(ref)
    if arn is None and ref in aliases:
        ref = aliases[ref].strip()
        arn = Arn.try_parse(ref)
    return RoleRef(text, ref, arn)


def match(
    reference_text: str,
    roles: Sequence[Role],
    *,
    aliases: Mapping[str, str],
    account_names: Mapping[str, str],
) -> list[Role]:
    """Every role ``reference_text`` designates (see :func:`reference`)."""
    ref = reference(reference_text, aliases)
    return [r for r in roles if ref.designates(r.arn, account_names)]


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
