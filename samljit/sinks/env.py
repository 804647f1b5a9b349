"""Credentials as environment variables (the ``exec`` sink)."""

from __future__ import annotations

from collections.abc import Mapping

from samljit.aws.arn import Arn
from samljit.aws.credentials import AwsCredentials
from samljit.common.text import rfc3339

#: Removed from the child's environment: another profile must not win over the credentials,
#: and the child never needs samljit's own secrets.
REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "SAMLJIT_PASSWORD", "SAMLJIT_MFA_TOKEN")


def role_arn_of(credentials: AwsCredentials) -> str:
    """``arn:P:iam::A:role/N`` from the assumed-role ARN ``arn:P:sts::A:assumed-role/N/S``."""
    arn = Arn.try_parse(credentials.assumed_role_arn)
    role = arn.assumed_role_to_role() if arn is not None else None
    return str(role) if role is not None else ""


#: The region variables: the SDKs' and the AWS CLI's (``AWS_REGION`` first).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def credential_updates(
    credentials: AwsCredentials,
    *,
    region: str | None,
    account_name: str,
    role_arn: str | None,
    env: Mapping[str, str],
) -> dict[str, str]:
    """The variables ``exec`` sets in the child's environment (and ``script`` prints).

    ``region`` (the account's) fills ``AWS_REGION`` and ``AWS_DEFAULT_REGION`` only when the
    user's environment ``env`` sets neither: a region in the environment beats one from a
    config, as in every AWS SDK, and stays as the user set it."""
    updates = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_SECURITY_TOKEN": credentials.session_token,
        "AWS_CREDENTIAL_EXPIRATION": rfc3339(credentials.expiration),
        "SAMLJIT_IDP_ACCOUNT": account_name,
        "SAMLJIT_ROLE_ARN": role_arn or role_arn_of(credentials),
    }
    if region and not any(env.get(name) for name in REGION_VARIABLES):
        updates.update(dict.fromkeys(REGION_VARIABLES, region))
    return updates
