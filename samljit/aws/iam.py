"""Revoking a role's active sessions: the inline policy the AWS console writes for "Revoke
active sessions", put on the role with IAM ``PutRolePolicy`` (signed by botocore).

The policy denies every action on every resource to any session of the role whose
credentials were issued before a given time (``aws:TokenIssueTime``). Sessions issued later
are not affected; AWS evaluates the condition, samljit only writes it. Putting a policy of the
same name replaces the previous one: the newest time wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from samljit.aws.arn import Arn
from samljit.aws.signing import (
    client_config,
    client_error,
    global_region,
    require_botocore,
    session,
    translate,
)
from samljit.aws.sts import endpoint_override
from samljit.common.errors import AwsError, UsageError
from samljit.common.text import printable

POLICY_NAME = "AWSRevokeOlderSessions"
STEP = "IAM PutRolePolicy"
IDENTITY_STEP = "STS GetCallerIdentity"


def revoke_time(moment: datetime) -> str:
    """``moment`` as the policy's RFC 3339 UTC time, rounded *up* to the whole second (so
    that nothing issued before ``moment`` escapes the condition)."""
    utc = moment.astimezone(timezone.utc)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_before(text: str, now: datetime) -> datetime:
    """``--before``: ``now`` or an RFC 3339 time with a zone (``Z`` or an offset)."""
    value = text.strip()
    if value.lower() == "now":
        return now
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or "T" not in value.upper() or moment.tzinfo is None:
        raise UsageError(
            f"--before {text!r} is not an RFC 3339 time with a zone, nor 'now'",
            hint="e.g. --before 2024-05-01T12:00:00Z, or --before now",
        )
    return moment


def revoke_policy(before: str) -> dict[str, Any]:
    """The console's policy: deny everything to sessions issued before ``before``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": before}},
            }
        ],
    }


def policy_text(document: Mapping[str, Any]) -> str:
    """The document as IAM gets it (compact, as the console sends it)."""
    return json.dumps(document, separators=(",", ":"))


def put_role_policy(
    arn: Arn,
    document: str,
    *,
    profile: str | None,
    credentials_file: str | None,
    env: Mapping[str, str],
    confirm: Callable[[str], bool] = lambda caller: True,
) -> bool:
    """Put ``document`` as the inline policy :data:`POLICY_NAME` of the role ``arn``,
    with the credentials of AWS profile ``profile`` or else from the environment.

    IAM's ``PutRolePolicy`` names the role by its name only: it acts on the role of that name
    in the account the credentials belong to, whatever account ``arn`` names. So STS
    ``GetCallerIdentity`` is asked first, with the same credentials, and nothing is written
    unless their account and partition are the role's (:class:`UsageError` naming both
    otherwise). Then ``confirm(caller_arn)`` decides; ``False``: nothing is written.
    Returns whether the policy was written."""
    require_botocore("revoke")
    who = f"AWS profile {profile!r}" if profile else "the environment's AWS credentials"
    region = global_region(arn.partition)
    sts_endpoint = endpoint_override(env, "STS")
    with _aws_call(IDENTITY_STEP, sts_endpoint or f"STS of partition {arn.partition}", arn, who):
        made, keys = _signer(profile, credentials_file, env)
        sts = made.create_client(
            "sts", region_name=region, endpoint_url=sts_endpoint, config=client_config(), **keys
        )
        caller = str(sts.get_caller_identity().get("Arn") or "")
    _check_account(caller, arn, f"the credentials of {who}" if profile else who)
    if not confirm(caller):
        return False
    iam_endpoint = endpoint_override(env, "IAM")
    with _aws_call(STEP, iam_endpoint or f"IAM of partition {arn.partition}", arn, who):
        client = made.create_client(
            "iam", region_name=region, endpoint_url=iam_endpoint, config=client_config(), **keys
        )
        client.put_role_policy(RoleName=arn.name, PolicyName=POLICY_NAME, PolicyDocument=document)
    return True


@contextmanager
def _aws_call(step: str, endpoint: str, role: Arn, who: str) -> Iterator[None]:
    """botocore's exceptions of ``step`` as samljit's errors."""
    try:
        yield
    except Exception as exc:
        refused = client_error(exc)
        if refused is not None:
            code, message = refused
            raise AwsError(code, message, hint=_hint(code, role, who)) from None
        translated = translate(exc, step=step, endpoint=endpoint, who=who)
        if translated is None:
            raise
        raise translated from None


def _signer(
    profile: str | None, credentials_file: str | None, env: Mapping[str, str]
) -> tuple[Any, dict[str, str | None]]:
    """A botocore session and, for keys taken from ``env``, the keys to pass each client."""
    made = session(profile=profile, credentials_file=credentials_file)
    if profile is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return made, {
            "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": env.get("AWS_SESSION_TOKEN") or None,
        }
    if made.get_credentials() is None:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()
    return made, {}


def _check_account(caller: str, role: Arn, whose: str) -> None:
    """Refuse unless the caller ``caller`` (an ARN from GetCallerIdentity) is in the role's
    account and partition; ``whose``: the credentials, as the message names them."""
    parsed = Arn.try_parse(caller)
    if parsed is None:
        raise AwsError(
            "InvalidIdentity",
            f"STS GetCallerIdentity answered no readable ARN ({printable(caller[:80])!r})",
        )
    if (parsed.account_id, parsed.partition) == (role.account_id, role.partition):
        return
    theirs = f"account {parsed.account_id}"
    ours = f"account {role.account_id}"
    if parsed.partition != role.partition:
        theirs += f" (partition {parsed.partition})"
        ours += f" (partition {role.partition})"
    raise UsageError(
        f"{whose} belong to {theirs}, but role {role} is in {ours}: IAM would change the "
        f"role {role.name} of account {parsed.account_id}; nothing written",
        hint=f"pass --aws-profile with credentials of account {role.account_id}",
    )


def _hint(code: str, role: Arn, who: str) -> str | None:
    if code in ("AccessDenied", "AccessDeniedException"):
        return (
            f"{who} may not do this: the missing permission is iam:PutRolePolicy on {role} "
            "(run revoke with an administrator's profile: --aws-profile)"
        )
    if code == "NoSuchEntity":
        return (
            f"account {role.account_id} has no role named {role.name} (or {who} belong to "
            "another account): check --role and --aws-profile"
        )
    if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"):
        return f"{who} are expired or unknown to AWS: log in again, then retry"
    if code == "UnmodifiableEntity":
        return "this is a service-linked role; IAM does not let anyone change its policies"
    return None
