"""The revocation policy, its time, and the botocore extra (the IAM call itself: e2e)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import pytest

from samljit.aws.arn import Arn
from samljit.aws.iam import parse_before, policy_text, revoke_policy, revoke_time
from samljit.aws.signing import require_botocore
from samljit.common.errors import AwsError, UsageError

NOW = datetime(2024, 5, 1, 12, 0, 0, 400_000, tzinfo=timezone.utc)


def test_the_policy_is_the_one_the_console_writes() -> None:
    assert policy_text(revoke_policy("2024-05-01T12:00:01Z")) == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],'
        '"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-05-01T12:00:01Z"}}}]}'
    )


@pytest.mark.parametrize(
    ("text", "policy_time"),
    [
        ("now", "2024-05-01T12:00:01Z"),  # rounded up: a session issued at 12:00:00.3 is cut
        ("NOW", "2024-05-01T12:00:01Z"),
        ("2024-04-30T08:00:00Z", "2024-04-30T08:00:00Z"),
        ("2024-04-30t08:00:00z", "2024-04-30T08:00:00Z"),
        ("2024-04-30T10:00:00+02:00", "2024-04-30T08:00:00Z"),
        ("2024-04-30T08:00:00.000001Z", "2024-04-30T08:00:01Z"),
    ],
)
def test_before(text: str, policy_time: str) -> None:
    assert revoke_time(parse_before(text, NOW)) == policy_time


@pytest.mark.parametrize(
    "text", ["", "soon", "2024-04-30", "2024-04-30T08:00:00", "1714464000", "2024-13-01T00:00:00Z"]
)
def test_a_before_that_is_no_zoned_time_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="is not an RFC 3339 time with a zone"):
        parse_before(text, NOW)


def test_without_botocore_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(UsageError) as caught:
        require_botocore("revoke")
    assert "`samljit revoke` signs its AWS request with botocore" in caught.value.message
    assert caught.value.hint == "install it with: pip install 'samljit[aws]'"


def test_the_same_account_id_in_another_partition_is_refused() -> None:
    from samljit.aws.iam import _check_account

    role = Arn.parse("arn:aws-us-gov:iam::012345678987:role/Admin")
    with pytest.raises(UsageError) as raised:
        _check_account(
            "arn:aws:sts::012345678987:assumed-role/Sec/me",
            role,
            "the credentials of AWS profile 'p'",
        )
    assert str(raised.value).startswith(
        "the credentials of AWS profile 'p' belong to account 012345678987 (partition aws), "
        "but role arn:aws-us-gov:iam::012345678987:role/Admin is in account 012345678987 "
        "(partition aws-us-gov)"
    )
    _check_account("arn:aws-us-gov:sts::012345678987:assumed-role/Sec/me", role, "x")
    with pytest.raises(AwsError):
        _check_account("", role, "x")
