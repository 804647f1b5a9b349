"""The AWS console sign-in link for temporary credentials (the federation endpoint).

``getSigninToken`` on the partition's sign-in host turns credentials into a sign-in token;
the ``login`` URL with that token opens the console. ``SAMLJIT_FEDERATION_URL`` replaces the
endpoint (a private deployment, or a test stand-in).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

from samljit.aws.arn import PARTITIONS
from samljit.aws.credentials import AwsCredentials
from samljit.common.errors import AwsError
from samljit.common.http import HttpClient
from samljit.common.urls import check_url

ISSUER = "samljit"


def federation_endpoint(partition: str, env: Mapping[str, str]) -> str:
    override = env.get("SAMLJIT_FEDERATION_URL")
    if override:
        return check_url(override, "SAMLJIT_FEDERATION_URL")
    return _hosts(partition)[0]


def default_destination(partition: str, region: str | None) -> str:
    home = f"{_hosts(partition)[1]}/console/home"
    return f"{home}?region={region}" if region else home


def _hosts(partition: str) -> tuple[str, str]:
    """The partition's federation endpoint and console URL (:data:`PARTITIONS`)."""
    known = PARTITIONS.get(partition)
    federation = known.federation_url() if known else None
    console = known.console_url() if known else None
    if federation is None or console is None:
        raise AwsError("UnsupportedPartition", f"no console sign-in for partition {partition}")
    return federation, console


def console_url(
    http: HttpClient,
    credentials: AwsCredentials,
    *,
    partition: str,
    destination: str | None,
    duration: int | None,
    region: str | None,
    env: Mapping[str, str],
) -> str:
    """Ask for a sign-in token and build the console login link."""
    _hosts(partition)  # refused even with SAMLJIT_FEDERATION_URL: no console to land on
    endpoint = federation_endpoint(partition, env)
    session = json.dumps(
        {
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }
    )
    params = {"Action": "getSigninToken", "Session": session}
    if duration:
        params["SessionDuration"] = str(duration)
    step = "AWS console sign-in token"
    response = http.without_cookies().get(endpoint, step=step, params=params, allow_redirects=False)
    http.raise_for_service_trouble(response, step=step)
    token = None
    if response.status_code == 200:
        try:
            token = response.json().get("SigninToken")
        except (ValueError, AttributeError):
            token = None
    if not isinstance(token, str) or not token:
        raise AwsError(
            f"HTTP{response.status_code}",
            f"the sign-in endpoint gave no token ({response.text.strip()[:120] or 'empty answer'})",
            hint="console sign-in needs credentials from a role session; check --duration",
        )
    query = urlencode(
        {
            "Action": "login",
            "Issuer": ISSUER,
            "Destination": destination or default_destination(partition, region),
            "SigninToken": token,
        }
    )
    return f"{endpoint}?{query}"
