"""An EKS bearer token, made as ``aws eks get-token`` makes it.

The token is ``k8s-aws-v1.`` + base64url (no padding) of a presigned STS
``GetCallerIdentity`` URL: GET, signed with SigV4 in the query string (botocore's presigner),
valid 60 seconds, with the header ``x-k8s-aws-id: CLUSTER`` among the signed headers. The
cluster's authenticator calls that URL (adding the header) and learns who the caller is;
nothing of the credentials themselves is in the token, but anyone holding it can present it
for as long as it is valid, so it is a secret.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from samljit.aws.arn import PARTITIONS
from samljit.aws.credentials import AwsCredentials
from samljit.aws.signing import require_botocore
from samljit.aws.sts import STS_API_VERSION, sts_endpoint
from samljit.common.errors import UsageError
from samljit.common.text import printable, rfc3339

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (the token format's version tag)
CLUSTER_HEADER = "x-k8s-aws-id"
#: X-Amz-Expires of the presigned URL (what ``aws eks get-token`` signs).
URL_EXPIRES = 60
#: How long kubectl may keep the token (``aws eks get-token``: 14 minutes; EKS accepts a
#: token for 15), never past the credentials' own expiry.
TOKEN_LIFETIME = timedelta(minutes=14)
API_VERSION = "client.authentication.k8s.io/v1beta1"
#: The ExecCredential versions kubectl may ask for (in ``KUBERNETES_EXEC_INFO``).
API_VERSIONS = ("client.authentication.k8s.io/v1", API_VERSION)
#: EKS cluster names: 1-100 letters, digits, hyphens and underscores, starting alphanumeric.
_CLUSTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


def check_cluster(name: str) -> str:
    if not _CLUSTER.fullmatch(name):
        raise UsageError(
            f"--cluster {name!r} is not an EKS cluster name",
            hint="1-100 letters, digits, hyphens and underscores, starting with a letter or digit",
        )
    return name


def presigned_url(
    credentials: AwsCredentials,
    *,
    cluster: str,
    partition: str,
    region: str | None,
    env: Mapping[str, str],
) -> tuple[str, list[str]]:
    """The presigned ``GetCallerIdentity`` URL for ``cluster`` (STS of ``region``, or the
    partition's default one; ``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL`` win), and notes
    for the user."""
    require_botocore("eks-token")
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    endpoint, notes = sts_endpoint(partition, region, env)
    known = PARTITIONS.get(partition)
    default_region = (known.sts_region if known else None) or "us-east-1"
    # a region of another partition is not used (sts_endpoint's note says so)
    signing_region = region if region and not notes else default_region
    request = AWSRequest(
        method="GET",
        url=endpoint.rstrip("/") + "/",
        params={"Action": "GetCallerIdentity", "Version": STS_API_VERSION},
        headers={CLUSTER_HEADER: cluster},
    )
    signer = SigV4QueryAuth(
        Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        "sts",
        signing_region,
        expires=URL_EXPIRES,
    )
    signer.add_auth(request)
    url: str = request.prepare().url
    return url, notes


def token_of(url: str) -> str:
    """``k8s-aws-v1.`` + base64url of ``url``, without padding."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def api_version(env: Mapping[str, str]) -> str:
    """The ExecCredential version kubectl asks for in ``KUBERNETES_EXEC_INFO`` (the plugin's
    ``ExecCredential`` input, JSON), as ``aws eks get-token`` reads it; v1beta1 when the
    variable is unset or names none."""
    text = env.get("KUBERNETES_EXEC_INFO", "").strip()
    if not text:
        return API_VERSION
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise UsageError(
            "KUBERNETES_EXEC_INFO is not a JSON object",
            hint="it is kubectl's to set; unset it to get a v1beta1 ExecCredential",
        )
    asked = info.get("apiVersion")
    if asked is None or asked == "":
        return API_VERSION
    if asked not in API_VERSIONS:
        raise UsageError(
            f"kubectl asks for an ExecCredential of {printable(str(asked))[:80]!r}, which "
            "samljit does not make",
            hint="set apiVersion: client.authentication.k8s.io/v1 (or v1beta1) in the "
            "kubeconfig's exec section",
        )
    return str(asked)


def exec_credential(
    token: str, *, now: datetime, credentials_expire: datetime, version: str = API_VERSION
) -> dict[str, Any]:
    """The ``ExecCredential`` (of API ``version``) kubectl reads from an exec plugin."""
    expires = min(now + TOKEN_LIFETIME, credentials_expire)
    return {
        "kind": "ExecCredential",
        "apiVersion": version,
        "spec": {},
        "status": {"expirationTimestamp": rfc3339(expires), "token": token},
    }
