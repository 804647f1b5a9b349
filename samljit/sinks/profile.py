"""The credentials-file profile samljit writes, and reading it back for reuse."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from samljit.aws.arn import Arn
from samljit.aws.credentials import AwsCredentials
from samljit.aws.roles import reference as role_reference
from samljit.common.text import parse_rfc3339, rfc3339
from samljit.config.accounts import Account


def profile_values(credentials: AwsCredentials, region: str | None) -> dict[str, str]:
    """The keys of the contract's profile section, in order."""
    values = {
        "aws_access_key_id": credentials.access_key_id,
        "aws_secret_access_key": credentials.secret_access_key,
        "aws_session_token": credentials.session_token,
        "aws_security_token": credentials.session_token,
        "x_security_token_expires": rfc3339(credentials.expiration),
        "x_principal_arn": credentials.assumed_role_arn or "",
    }
    if region:
        values["region"] = region
    return values


def credentials_from_profile(values: Mapping[str, str]) -> AwsCredentials | None:
    """Credentials samljit wrote earlier, or ``None`` when the section is not complete."""
    try:
        key = values["aws_access_key_id"]
        secret = values["aws_secret_access_key"]
        token = values["aws_session_token"]
        expires = parse_rfc3339(values["x_security_token_expires"])
    except KeyError:
        return None
    if not (key and secret and token and expires):
        return None
    return AwsCredentials(
        access_key_id=key,
        secret_access_key=secret,
        session_token=token,
        expiration=expires,
        assumed_role_arn=values.get("x_principal_arn") or None,
        region=values.get("region") or None,
    )


def held_credentials(account: Account) -> AwsCredentials | None:
    """The credentials samljit wrote in the account's profile, or ``None`` (no file, no
    section, an incomplete one). Raises :class:`ConfigError` for a corrupt file."""
    from samljit.sinks import credfile  # not on the credential-process path

    values = credfile.read_profile(account.credentials_file, account.aws_profile)
    return credentials_from_profile(values) if values else None


def is_fresh(credentials: AwsCredentials, margin: int, now: datetime) -> bool:
    return credentials.expiration - timedelta(seconds=margin) > now


def grants_role(credentials: AwsCredentials, reference: str | None, account: Account) -> bool:
    """Are these (assumed-role) credentials for the role ``reference`` designates?"""
    if reference is None:
        return True
    session = Arn.try_parse(credentials.assumed_role_arn)
    if session is None or not session.is_assumed_role:
        return False
    return role_reference(reference, account.role_aliases).designates(
        session, account.account_names
    )
