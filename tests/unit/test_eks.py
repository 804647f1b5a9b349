"""The EKS token: the same presigned URL ``aws eks get-token`` makes (botocore's client
presigner with the cluster header injected), wrapped as kubectl's ExecCredential."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest

from samljit.aws.credentials import AwsCredentials
from samljit.aws.eks import check_cluster, exec_credential, presigned_url, token_of
from samljit.common.errors import UsageError

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
CREDENTIALS = AwsCredentials(
    access_key_id="ASIAEXAMPLEEXAMPLE01",
    secret_access_key="secret-secret-secret",
    session_token="session-token",
    expiration=NOW + timedelta(hours=1),
    assumed_role_arn="arn:aws:sts::012345678987:assumed-role/Dev/ops@acme.example",
    region=None,
)


def aws_cli_url(region: str, cluster: str) -> str:
    """What ``aws eks get-token`` does (awscli/customizations/eks/get_token.py)."""
    client = botocore.session.Session().create_client(
        "sts",
        region_name=region,
        endpoint_url=f"https://sts.{region}.amazonaws.com",
        aws_access_key_id=CREDENTIALS.access_key_id,
        aws_secret_access_key=CREDENTIALS.secret_access_key,
        aws_session_token=CREDENTIALS.session_token,
    )

    def inject(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = cluster

    client.meta.events.register("before-sign.sts.GetCallerIdentity", inject)
    url: str = client.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    return url


def test_the_url_is_the_one_aws_eks_get_token_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    url, notes = presigned_url(
        CREDENTIALS, cluster="prod-eks", partition="aws", region="eu-west-1", env={}
    )
    assert notes == []
    assert url == aws_cli_url("eu-west-1", "prod-eks")
    assert "X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&" in url


def test_token_is_base64url_without_padding() -> None:
    url = "https://sts.amazonaws.com/?Action=GetCallerIdentity&a=1"  # 55 bytes: padding needed
    token = token_of(url)
    assert token.startswith("k8s-aws-v1.") and not token.endswith("=")
    body = token.removeprefix("k8s-aws-v1.")
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode() == url


def test_the_credential_expires_with_the_token_or_the_credentials() -> None:
    full = exec_credential("t", now=NOW, credentials_expire=NOW + timedelta(hours=1))
    assert full["status"] == {"expirationTimestamp": "2024-05-01T12:14:00Z", "token": "t"}
    short = exec_credential("t", now=NOW, credentials_expire=NOW + timedelta(minutes=3))
    assert short["status"]["expirationTimestamp"] == "2024-05-01T12:03:00Z"


@pytest.mark.parametrize("name", ["", "-x", "a b", "a;b", "a" * 101, "ü"])
def test_cluster_names(name: str) -> None:
    with pytest.raises(UsageError, match="is not an EKS cluster name"):
        check_cluster(name)
    assert check_cluster("prod_eks-1") == "prod_eks-1"
