"""Temporary AWS credentials, the value every sink (file, environment, JSON) writes."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class AwsCredentials(NamedTuple):
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime  # timezone-aware, UTC
    assumed_role_arn: str | None
    region: str | None

    def __repr__(self) -> str:  # keep secrets out of tracebacks and debug output
        return (
            f"AwsCredentials(access_key_id={self.access_key_id!r}, "
            f"expiration={self.expiration.isoformat()!r}, "
            f"assumed_role_arn={self.assumed_role_arn!r}, region={self.region!r})"
        )
