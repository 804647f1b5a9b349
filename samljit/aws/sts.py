"""AWS STS ``AssumeRoleWithSAML`` as a plain, unsigned query-protocol call.

``AssumeRoleWithSAML`` needs no AWS credentials: the SAML assertion is the proof. So samljit
posts the form itself through the injected :class:`~samljit.common.http.HttpClient` (proxies, CA
bundle, retries and redacted debug logging come with it) instead of paying for boto3, with
no cookies (:meth:`~samljit.common.http.HttpClient.without_cookies`: the client of a login holds
the IdP's).

The answer is XML in the STS namespace. It is parsed with entity resolution and network
access off, and any document carrying a DOCTYPE is refused outright.

The SAML assertion is a bearer secret: it is never logged here and never placed in an error
message, even when an endpoint echoes it back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from samljit.aws.arn import PARTITIONS, Arn, is_region, region_partition, signin_endpoint
from samljit.aws.credentials import AwsCredentials
from samljit.aws.roles import Role
from samljit.common.errors import AwsError, ConfigError, NetworkError
from samljit.common.urls import RETRY_STATUSES, check_url

if TYPE_CHECKING:
    import requests

    from samljit.common.http import HttpClient

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_API_VERSION = "2011-06-15"
STEP = "STS AssumeRoleWithSAML"

#: The duration samljit falls back to when a role's MaxSessionDuration refuses the request.
FALLBACK_DURATION = 3600

_EXPIRATION = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?$"
)
_CAP_MESSAGE = re.compile(r"exceed.*MaxSessionDuration", re.IGNORECASE | re.DOTALL)
_SNIPPET_LEN = 200
_MASK = "<redacted>"


@dataclass(frozen=True)
class StsResult:
    credentials: AwsCredentials
    #: DurationSeconds of the request that succeeded (None: none was sent).
    duration_used: int | None
    #: Warnings for the user (endpoint region fixed up, session duration capped, ...).
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- endpoint


def partition_of(arn: Arn | str) -> str:
    """The partition (``aws``, ``aws-cn``, ``aws-us-gov``) of an ARN whose STS samljit knows."""
    partition = (arn if isinstance(arn, Arn) else Arn.parse(arn)).partition
    known = PARTITIONS.get(partition)
    if known is None or known.dns_suffix is None:
        raise ConfigError(
            f"samljit does not know the STS endpoint of AWS partition {partition!r} ({arn})",
            hint="set AWS_ENDPOINT_URL_STS to your partition's STS endpoint",
        )
    return partition


def endpoint_override(env: Mapping[str, str], service: str = "STS") -> str | None:
    """``AWS_ENDPOINT_URL_<SERVICE>``, then ``AWS_ENDPOINT_URL``, unless the SDK switch turns
    them off (``service``: ``STS``, ``IAM``)."""
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    for name in (f"AWS_ENDPOINT_URL_{service}", "AWS_ENDPOINT_URL"):
        value = env.get(name, "").strip()
        if value:
            return check_url(value, name)
    return None


def signin_region(destination: str | None, partition: str) -> str | None:
    """The region of ``destination`` when it is a regional AWS sign-in SAML endpoint of
    ``partition`` (``https://us-east-2.signin.aws.amazon.com/saml`` → ``us-east-2``); else
    ``None`` (the global endpoint, another partition's, or no sign-in endpoint at all)."""
    found = signin_endpoint(destination) if destination else None
    if found is None or found[0] != partition:
        return None
    return found[1]


def sts_endpoint(
    partition: str,
    region: str | None,
    env: Mapping[str, str],
    *,
    destination: str | None = None,
) -> tuple[str, list[str]]:
    """The STS URL to call for a role in ``partition``, and notes for the user.

    First an endpoint override (``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``); then, when the
    SAMLResponse was addressed (``destination``) to a regional sign-in endpoint of the
    partition, STS in that region, as AWS pairs regional SAML endpoints with regional STS;
    then ``region``; else the partition's default STS endpoint.
    """
    override = endpoint_override(env)
    if override is not None:
        return override, []
    known = PARTITIONS.get(partition)
    default = known.sts_url() if known else None
    if known is None or default is None:
        raise ConfigError(
            f"samljit does not know the STS endpoint of AWS partition {partition!r}",
            hint="set AWS_ENDPOINT_URL_STS to your partition's STS endpoint",
        )
    notes: list[str] = []
    chosen = (region or "").strip().lower() or None
    if chosen is not None and not is_region(chosen):
        raise ConfigError(
            f"region {region!r} is not an AWS region name",
            hint="use a region such as us-east-1, or leave region unset",
        )
    regional = signin_region(destination, partition)
    if regional is not None:
        return known.sts_url(regional) or default, notes
    if chosen is None:
        return default, notes
    belongs_to = region_partition(chosen)
    if belongs_to != partition:
        notes.append(
            f"region {region} is in the {belongs_to} partition but the role is in "
            f"{partition}; calling STS at {default} instead "
            f"(set region to a {partition} region to choose another)"
        )
        return default, notes
    return known.sts_url(chosen) or default, notes


# --------------------------------------------------------------------------- the call


def assume_role_with_saml(
    http: HttpClient,
    *,
    role: Role,
    saml_response_b64: str,
    duration: int | None,
    region: str | None,
    env: Mapping[str, str],
    destination: str | None = None,
) -> StsResult:
    """Exchange a base64 SAMLResponse for temporary credentials of ``role`` (its ARN and its
    SAML provider's).

    ``destination``: where the IdP addressed the SAMLResponse (its ``Destination``, else the
    assertion's ``Recipient``); a regional AWS sign-in endpoint there picks STS in that region
    (see :func:`sts_endpoint`).

    When STS refuses ``duration`` because it exceeds the role's MaxSessionDuration, the call
    is repeated once with 3600 seconds and a note says which setting caps the session.
    """
    notes: list[str] = []
    override = endpoint_override(env)
    if override is not None:
        url = override
    else:
        url, notes = sts_endpoint(partition_of(role.arn), region, env, destination=destination)
    context = _Context(role, url, region, saml_response_b64, destination)
    # The login's client holds the IdP's cookies: none of them goes to AWS (an IdP cookie for
    # ".corp.example" would reach an STS endpoint in that domain), and none comes back.
    http = http.without_cookies()

    answer = _exchange(http, context, duration)
    duration_used = duration
    if (
        isinstance(answer, _Fault)
        and duration is not None
        and duration > FALLBACK_DURATION
        and _is_duration_cap(answer)
    ):
        notes.append(_cap_note(role.role_arn, duration))
        duration_used = FALLBACK_DURATION
        answer = _exchange(http, context, FALLBACK_DURATION)
    if isinstance(answer, _Fault):
        raise _aws_error(answer, context)
    return StsResult(
        credentials=_credentials(answer, context),
        duration_used=duration_used,
        notes=notes,
    )


@dataclass(frozen=True)
class _Context:
    role: Role
    url: str
    region: str | None
    assertion: str = field(repr=False)
    destination: str | None = None


@dataclass(frozen=True)
class _Fault:
    """An STS ``<ErrorResponse>``: code and message as AWS sent them (already scrubbed)."""

    status: int
    code: str
    message: str


def _exchange(http: HttpClient, context: _Context, duration: int | None) -> Any | _Fault:
    """One request. Returns the parsed success document or the STS fault; raises otherwise."""
    # A list of pairs, not a dict: HttpClient's debug log renders only str/bytes/mapping
    # bodies, so the assertion in this form never reaches the log at all.
    form = [
        ("Action", "AssumeRoleWithSAML"),
        ("Version", STS_API_VERSION),
        ("RoleArn", context.role.role_arn),
        ("PrincipalArn", context.role.principal_arn),
        ("SAMLAssertion", context.assertion),
    ]
    if duration is not None:
        form.append(("DurationSeconds", str(duration)))
    response = http.post(
        context.url,
        step=STEP,
        data=form,
        headers={"Accept": "application/xml"},
        # A redirect would re-send the assertion (307/308) or silently drop it (301-303).
        allow_redirects=False,
    )
    status = response.status_code
    if status in RETRY_STATUSES:
        http.raise_for_service_trouble(response, step=STEP)
    if 300 <= status < 400:
        location = response.headers.get("Location", "?")
        raise NetworkError(
            f"{STEP}: {_host(context.url)} redirected (HTTP {status}) to {_host(location)}",
            hint="point AWS_ENDPOINT_URL_STS at the STS endpoint itself",
        )
    try:
        root = _parse_xml(response.content)
    except _NotXml as exc:
        if 200 <= status < 300:
            raise _not_sts(context, status, exc.reason) from None
        return _Fault(status, f"HTTP{status}", _snippet(response, context.assertion))
    if 200 <= status < 300:
        if root.tag != f"{{{STS_NS}}}AssumeRoleWithSAMLResponse":
            raise _not_sts(context, status, f"unexpected document <{_local(root.tag)}>")
        return root
    fault = _fault_of(root, status, context.assertion)
    if fault is None:
        return _Fault(status, f"HTTP{status}", _snippet(response, context.assertion))
    return fault


def _credentials(root: Any, context: _Context) -> AwsCredentials:
    ns = {"sts": STS_NS}
    result = root.find("sts:AssumeRoleWithSAMLResult", ns)
    creds = result.find("sts:Credentials", ns) if result is not None else None
    if creds is None:
        raise _not_sts(context, 200, "no Credentials in the answer")
    values: dict[str, str] = {}
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        text = (creds.findtext(f"sts:{name}", default="", namespaces=ns) or "").strip()
        if not text:
            raise _not_sts(context, 200, f"no {name} in the answer")
        values[name] = text
    try:
        expiration = parse_expiration(values["Expiration"])
    except ValueError:
        raise _not_sts(
            context, 200, f"unreadable Expiration {values['Expiration'][:40]!r}"
        ) from None
    arn = (result.findtext("sts:AssumedRoleUser/sts:Arn", default="", namespaces=ns) or "").strip()
    return AwsCredentials(
        access_key_id=values["AccessKeyId"],
        secret_access_key=values["SecretAccessKey"],
        session_token=values["SessionToken"],
        expiration=expiration,
        assumed_role_arn=arn or None,
        region=context.region,
    )


def parse_expiration(text: str) -> datetime:
    """An STS ``Expiration`` as an aware UTC datetime.

    AWS sends ``2024-05-01T12:00:00Z``; other peers add fractions of a second or an offset.
    A time without a zone is taken as UTC.
    """
    match = _EXPIRATION.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    moment = datetime.fromisoformat(f"{match['date']}T{match['time']}")
    if match["frac"]:
        moment += timedelta(microseconds=int(match["frac"][:6].ljust(6, "0")))
    tz = match["tz"]
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (moment - sign * offset).replace(tzinfo=timezone.utc)
    return moment.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- XML


class _NotXml(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_xml(content: bytes) -> Any:
    """Parse an STS answer safely: no DTD, no entities, no network; DOCTYPE refused."""
    from samljit.common.xmlsafe import UntrustedXmlError, parse_untrusted

    try:
        return parse_untrusted(content, remove_comments=True, remove_pis=True)
    except UntrustedXmlError as exc:
        if exc.kind == "empty":
            raise _NotXml("empty body") from None
        if exc.kind == "dtd":
            raise _NotXml("it carries a DOCTYPE, which STS never sends") from None
        raise _NotXml("not XML") from None


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _fault_of(root: Any, status: int, assertion: str) -> _Fault | None:
    """Read ``<ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>`` (any namespace)."""
    if _local(root.tag) != "ErrorResponse":
        return None
    error = root.find("{*}Error")
    if error is None:
        return None
    code = (error.findtext("{*}Code") or "").strip()
    if not code:
        return None
    message = " ".join((error.findtext("{*}Message") or "").split())
    return _Fault(status, _scrub(code, assertion)[:100], _scrub(message, assertion))


# --------------------------------------------------------------------------- errors


def _is_duration_cap(fault: _Fault) -> bool:
    return fault.code == "ValidationError" and bool(_CAP_MESSAGE.search(fault.message))


def _cap_note(role_arn: str, duration: int) -> str:
    return (
        f"STS refused a {duration}s session: it exceeds the MaxSessionDuration of {role_arn}, "
        f"so this session lasts {FALLBACK_DURATION}s. For longer sessions raise the role's "
        "maximum session duration in IAM (up to 43200s); otherwise lower aws_session_duration "
        "(or --session-duration, or the SessionDuration attribute your IdP sends) to at most "
        "the role's maximum to silence this."
    )


def _aws_error(fault: _Fault, context: _Context) -> AwsError:
    return AwsError(fault.code, fault.message or "(no message)", hint=_hint(fault, context))


def _hint(fault: _Fault, context: _Context) -> str | None:
    code, message = fault.code, fault.message.lower()
    role, provider = context.role.role_arn, context.role.principal_arn
    if code == "InvalidIdentityToken":
        if "provider" in message and ("exist" in message or "not found" in message):
            return (
                f"IAM has no SAML provider {provider}: create it in that account "
                "(IAM > Identity providers) from the IdP's metadata, or correct the provider "
                "ARN in the IdP's Role attribute"
            )
        return (
            f"AWS could not validate the assertion with the SAML provider {provider}: upload "
            "the IdP's current metadata (signing certificate) to that IAM provider"
        )
    if code == "AccessDenied":
        audience = _acs_url(context.role.arn, context.destination)
        return (
            f"the trust policy of {role} must allow sts:AssumeRoleWithSAML for the Federated "
            f'principal {provider} (condition "SAML:aud": "{audience}"); '
            "also check that the IdP grants this role with this provider"
        )
    if code in ("ExpiredTokenException", "ExpiredToken"):
        return (
            "the SAML assertion had expired (NotOnOrAfter) when AWS checked it: log in again, "
            "and make sure the clocks of this machine and of the IdP are right"
        )
    if code == "RegionDisabledException":
        from_signin = signin_region(context.destination, context.role.partition)
        where = from_signin or context.region or _host(context.url)
        return (
            f"STS is not activated in {where} for this account: activate it under IAM > "
            "Account settings, or configure another region"
        )
    if code == "IDPRejectedClaim":
        return (
            "AWS rejected a claim of the assertion: check the IdP's attribute mapping for the "
            "AWS app (Role = 'role ARN,provider ARN'; RoleSessionName 2-64 characters of "
            "letters, digits and +=,.@-)"
        )
    if code == "ValidationError":
        if _CAP_MESSAGE.search(fault.message):
            return (
                f"raise the maximum session duration of {role} in IAM, or lower "
                "aws_session_duration / --session-duration"
            )
        if "durationseconds" in message:
            return (
                "STS accepts session durations from 900 to 43200 seconds: fix "
                "aws_session_duration / --session-duration, or the IdP's SessionDuration attribute"
            )
        if "rolesessionname" in message:
            return "fix the RoleSessionName attribute the IdP sends (2-64 characters, [\\w+=,.@-])"
        return None
    if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded"):
        return "STS is throttling requests; try again in a minute"
    if code.startswith("HTTP"):
        return (
            f"the STS endpoint {_host(context.url)} did not answer like STS; "
            "check AWS_ENDPOINT_URL_STS and HTTPS_PROXY"
        )
    return None


def _acs_url(arn: Arn, destination: str | None) -> str:
    """The sign-in SAML endpoint of the role's partition (``SAML:aud`` in its trust policy):
    the regional one the SAMLResponse was addressed to, else the partition's global one."""
    known = arn.partition_info
    regional = signin_region(destination, arn.partition)
    return (known.acs_url(regional) if known else None) or "https://signin.aws.amazon.com/saml"


def _not_sts(context: _Context, status: int, reason: str) -> NetworkError:
    return NetworkError(
        f"{STEP}: {_host(context.url)} answered HTTP {status} with something that is not an "
        f"STS response ({reason})",
        hint="check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL and HTTPS_PROXY",
    )


def _snippet(response: requests.Response, assertion: str) -> str:
    text = " ".join(response.text.split())
    return _scrub(text, assertion)[:_SNIPPET_LEN] or "(empty body)"


_B64ISH = re.compile(r"[A-Za-z0-9+/=%_-]{32,}")
_WINDOW = 32


def _scrub(text: str, secret: str) -> str:
    """Mask the assertion, whole or in part, plain or URL-encoded, wherever it shows up.

    Any run of base64-like characters sharing 32 consecutive characters with the secret is
    masked whole, so a truncated or re-encoded echo of the assertion is caught too.
    """
    if not secret:
        return text
    for form in (secret, quote(secret, safe=""), quote(secret)):
        text = text.replace(form, _MASK)
    if len(secret) < _WINDOW:
        return text
    windows = {secret[i : i + _WINDOW] for i in range(len(secret) - _WINDOW + 1)}

    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        for candidate in {run, unquote(run), unquote_plus(run)}:
            for i in range(len(candidate) - _WINDOW + 1):
                if candidate[i : i + _WINDOW] in windows:
                    return _MASK
        return run

    return _B64ISH.sub(mask, text)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
