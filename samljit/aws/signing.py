"""Signed AWS calls, through botocore (the optional extra ``samljit[aws]``).

samljit's own STS call needs no signature (the SAML assertion is the proof). The commands that
act *with* credentials — ``revoke`` (IAM ``PutRolePolicy``) and ``eks-token`` (a presigned STS
``GetCallerIdentity``) — sign with botocore, AWS's maintained SigV4 implementation, never a
home-made one. botocore is imported only here and only by those commands, so ``--help`` and
the cached paths never load it.
"""

from __future__ import annotations

from typing import Any

from samljit.aws.arn import PARTITIONS
from samljit.common.errors import ConfigError, NetworkError, SamljitError, UsageError
from samljit.common.text import printable

AWS_EXTRA_HINT = "install it with: pip install 'samljit[aws]'"


def require_botocore(command: str) -> None:
    """A :class:`UsageError` (exit 2) saying how to install botocore when it is missing."""
    try:
        import botocore  # noqa: F401
    except ImportError:
        raise UsageError(
            f"`samljit {command}` signs its AWS request with botocore, which is not installed",
            hint=AWS_EXTRA_HINT,
        ) from None


def global_region(partition: str) -> str:
    """The region a global service (IAM) of ``partition`` is signed for."""
    known = PARTITIONS.get(partition)
    if known is None or known.dns_suffix is None:
        raise ConfigError(
            f"samljit does not know the IAM endpoint of AWS partition {partition!r}",
            hint="set AWS_ENDPOINT_URL_IAM to your partition's IAM endpoint",
        )
    return known.sts_region or "us-east-1"


def session(*, profile: str | None, credentials_file: str | None) -> Any:
    """A botocore session for AWS profile ``profile`` (``None``: botocore's own chain, from
    the environment), reading profiles from ``credentials_file``."""
    import botocore.session

    made = botocore.session.Session(profile=profile)
    if credentials_file:
        made.set_config_variable("credentials_file", credentials_file)
    return made


def client_config() -> Any:
    """Timeouts and retries of samljit's own requests (a few, bounded)."""
    from botocore.config import Config

    return Config(
        connect_timeout=10,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 3},
        user_agent_extra="samljit",
    )


def translate(exc: Exception, *, step: str, endpoint: str, who: str) -> SamljitError | None:
    """The samljit error for a botocore exception raised by ``step`` (``None``: not botocore's).
    AWS's own refusals (``ClientError``) are left to the caller, which knows their hints."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ProfileNotFound):
        return ConfigError(
            f"AWS profile {getattr(exc, 'kwargs', {}).get('profile', '?')!r} is not in the AWS "
            "credentials or config file",
            hint="pass --aws-profile with a profile of ~/.aws/credentials or ~/.aws/config",
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return ConfigError(
            f"{step}: no AWS credentials to sign with ({who})",
            hint="pass --aws-profile P (e.g. a profile `samljit login` wrote), or set "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
        )
    if isinstance(
        exc,
        bx.EndpointConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.SSLError
        | bx.ProxyConnectionError,
    ):
        return NetworkError(
            f"{step}: cannot reach {endpoint} ({printable(str(exc))})",
            hint="check the network, HTTPS_PROXY and AWS_CA_BUNDLE (`samljit doctor`)",
        )
    if isinstance(exc, bx.BotoCoreError):
        return NetworkError(f"{step} failed: {printable(str(exc))}")
    return None


def client_error(exc: Exception) -> tuple[str, str] | None:
    """AWS's code and message of a botocore ``ClientError`` (``None``: not one)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    message = " ".join(str(error.get("Message") or "(no message)").split())
    return code, message
