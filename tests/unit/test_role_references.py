"""One reader of role references (``--role``, ``role_arn``): every form it takes — a
``[[roles]]`` alias, a full role ARN, a role name, ``ACCOUNT_ID/ROLE_NAME`` and
``ACCOUNT_NAME/ROLE_NAME`` — means the same role at login (the assertion's roles), in the
profile check (an assumed-role session), in ``revoke`` and in the credentials cache's key."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

import pytest

from samljit.aws import roles
from samljit.aws.arn import Arn
from samljit.aws.credentials import AwsCredentials
from samljit.common.errors import RoleError, UsageError
from samljit.config.accounts import Account
from samljit.jit import flow, held
from samljit.sinks.profile import grants_role

ADMIN_ARN = "arn:aws:iam::111122223333:role/team/Admin"
ADMIN = roles.Role.parse(ADMIN_ARN, "arn:aws:iam::111122223333:saml-provider/Corp")
READ = roles.Role.parse(
    "arn:aws:iam::444455556666:role/Read", "arn:aws:iam::444455556666:saml-provider/Corp"
)
GRANTED = [ADMIN, READ]
ACCOUNT = Account(
    name="corp",
    provider="JumpCloud",
    url="https://idp.example/saml",
    role_aliases={"admin": ADMIN_ARN, "reader": "Read"},
    account_names={"111122223333": "production", "444455556666": "dev"},
)
#: Every form of a reference to the Admin role.
ADMIN_REFERENCES = [
    "admin",  # a [[roles]] alias
    ADMIN_ARN,  # the full ARN
    f"  {ADMIN_ARN} ",  # blanks around it
    "Admin",  # the role name
    "111122223333/Admin",  # ACCOUNT_ID/ROLE_NAME
    "production/Admin",  # ACCOUNT_NAME/ROLE_NAME
]
ELSEWHERE = ["Read", "reader", "dev/Admin", "444455556666/Admin", "arn:aws:iam::1:role/Admin"]


def session_of(role: str, session: str = "alice@example.com") -> AwsCredentials:
    """Credentials of an assumed-role session of ``role`` (its path is not in the ARN)."""
    arn = Arn.parse(role)
    assumed = f"arn:{arn.partition}:sts::{arn.account_id}:assumed-role/{arn.name}/{session}"
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    return AwsCredentials("AKIA", "secret", "token", expires, assumed, None)


def test_roles_carry_parsed_arns() -> None:
    assert ADMIN.arn == Arn.parse(ADMIN_ARN)
    assert ADMIN.principal is not None and ADMIN.principal.is_saml_provider
    assert (ADMIN.role_arn, ADMIN.role_name, ADMIN.account_id) == (
        ADMIN_ARN,
        "Admin",
        "111122223333",
    )
    parsed = roles.parse_role_value(f"{ADMIN.principal_arn},{ADMIN_ARN}")
    assert parsed == ADMIN


@pytest.mark.parametrize("reference", ADMIN_REFERENCES)
def test_every_form_picks_the_role_at_login(reference: str) -> None:
    found = roles.match(
        reference, GRANTED, aliases=ACCOUNT.role_aliases, account_names=ACCOUNT.account_names
    )
    assert found == [ADMIN]


@pytest.mark.parametrize("reference", ELSEWHERE)
def test_other_references_do_not_pick_it(reference: str) -> None:
    found = roles.match(
        reference, [ADMIN], aliases=ACCOUNT.role_aliases, account_names=ACCOUNT.account_names
    )
    assert found == []


@pytest.mark.parametrize("reference", ADMIN_REFERENCES)
def test_every_form_recognises_the_profile_session(reference: str) -> None:
    assert grants_role(session_of(ADMIN_ARN), reference, ACCOUNT)
    assert not grants_role(session_of(READ.role_arn), reference, ACCOUNT)


@pytest.mark.parametrize("reference", ELSEWHERE)
def test_a_session_of_another_role_is_not_taken(reference: str) -> None:
    assert not grants_role(session_of(ADMIN_ARN), reference, ACCOUNT)


@pytest.mark.parametrize("reference", ADMIN_REFERENCES)
def test_every_form_names_the_role_to_revoke(
    reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(held, "assertion_roles", lambda account, services: GRANTED)
    assert held.resolve_role(ACCOUNT, cast(Any, None), reference) == ADMIN.arn


def test_revoke_refuses_an_arn_of_no_role(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="is not a role ARN"):
        held.resolve_role(ACCOUNT, cast(Any, None), "arn:aws:iam::111122223333:user/bob")


def test_revoke_names_what_the_cached_assertion_grants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(held, "assertion_roles", lambda account, services: GRANTED)
    with pytest.raises(RoleError, match=r"cached assertion grants: .*role/Read"):
        held.resolve_role(ACCOUNT, cast(Any, None), "Nobody")


def test_an_alias_and_its_arn_share_the_credentials_cache() -> None:
    assert flow.grant_key(ACCOUNT, "admin") == flow.grant_key(ACCOUNT, ADMIN_ARN)
    assert flow.grant_key(ACCOUNT, f" {ADMIN_ARN}") == flow.grant_key(ACCOUNT, ADMIN_ARN)
    assert flow.grant_key(ACCOUNT, "reader") == flow.grant_key(ACCOUNT, "Read")
    assert flow.grant_key(ACCOUNT, "admin") != flow.grant_key(ACCOUNT, "Read")
    assert flow.grant_key(ACCOUNT, None) != flow.grant_key(ACCOUNT, "admin")


def test_an_exact_arn_is_never_taken_for_an_alias() -> None:
    aliases = {ADMIN_ARN: READ.role_arn}
    found = roles.match(ADMIN_ARN, GRANTED, aliases=aliases, account_names={})
    assert found == [ADMIN]
