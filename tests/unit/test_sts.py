"""samljit.aws.sts: AssumeRoleWithSAML against moto on loopback, and STS refusals via responses."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import responses

from samljit.aws.roles import Role
from samljit.aws.sts import (
    AwsCredentials,
    StsResult,
    assume_role_with_saml,
    parse_expiration,
    partition_of,
    sts_endpoint,
)
from samljit.common.errors import (
    AwsError,
    ConfigError,
    IdpServiceError,
    NetworkError,
    SamljitError,
)
from samljit.common.http import HttpClient
from samljit.tools.sandbox.response import RoleGrant, build_response, encode
from tests.support.moto_sts import StsView

ACCOUNT = "123456789012"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/acme-idp"
ROLE_RO = f"arn:aws:iam::{ACCOUNT}:role/AcmeReadOnly"
ROLE_ADMIN = f"arn:aws:iam::{ACCOUNT}:role/AcmeAdmin"
ROLE_DEV = f"arn:aws:iam::{ACCOUNT}:role/teams/AcmeDeveloper"
CN_ROLE = f"arn:aws-cn:iam::{ACCOUNT}:role/AcmeReadOnly"
CN_PROVIDER = f"arn:aws-cn:iam::{ACCOUNT}:saml-provider/acme-idp"

GLOBAL = "https://sts.amazonaws.com/"
NO_ENV: Mapping[str, str] = {}


def saml_response(
    roles: list[tuple[str, str]] | None = None,
    *,
    session_duration: int | None = 3600,
    role_order: str = "role-first",
) -> str:
    grants = [RoleGrant(role, principal) for role, principal in (roles or [(ROLE_RO, PROVIDER)])]
    root = build_response(
        issuer="https://idp.acme.example/saml",
        name_id="ana@acme.example",
        roles=grants,
        session_name="ana@acme.example",
        session_duration=session_duration,
        role_order=role_order,  # type: ignore[arg-type]
    )
    return encode(root)


ASSERTION = saml_response()


def client(**kwargs: object) -> HttpClient:
    return HttpClient(backoff=0, env={}, **kwargs)  # type: ignore[arg-type]


def call(
    http: HttpClient,
    *,
    role_arn: str = ROLE_RO,
    principal_arn: str = PROVIDER,
    assertion: str = ASSERTION,
    duration: int | None = None,
    region: str | None = None,
    env: Mapping[str, str] = NO_ENV,
    **more: str,
) -> StsResult:
    return assume_role_with_saml(
        http,
        role=Role.parse(role_arn, principal_arn),
        saml_response_b64=assertion,
        duration=duration,
        region=region,
        env=env,
        **more,  # type: ignore[arg-type]
    )


def assert_no_assertion(exc: BaseException, assertion: str = ASSERTION) -> None:
    shown = [str(exc), repr(exc.args)]
    if isinstance(exc, SamljitError):
        shown.append(exc.hint or "")
    for text in shown:
        assert assertion not in text
        assert assertion[:40] not in text
        assert assertion[-40:] not in text


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- real AWS shapes

STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


def success_xml(
    *,
    expiration: str = "2031-04-02T09:30:00Z",
    assumed_arn: str | None = f"arn:aws:sts::{ACCOUNT}:assumed-role/AcmeReadOnly/ana",
) -> str:
    user = (
        f"<AssumedRoleUser><Arn>{assumed_arn}</Arn>"
        "<AssumedRoleId>AROAEXAMPLEROLEID123:ana</AssumedRoleId></AssumedRoleUser>"
        if assumed_arn
        else ""
    )
    return f"""<AssumeRoleWithSAMLResponse xmlns="{STS_XMLNS}">
  <AssumeRoleWithSAMLResult>
    <Issuer>https://idp.acme.example/saml</Issuer>
    {user}
    <Credentials>
      <AccessKeyId>ASIAEXAMPLEACCESSKEY</AccessKeyId>
      <SecretAccessKey>wJalrEXAMPLESECRETxxxxxxxxxxxxxxxxxxxxx</SecretAccessKey>
      <SessionToken>IQoJEXAMPLESESSIONTOKEN//////////wEaCXVzLWVhc3QtMSJH</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <Audience>https://signin.aws.amazon.com/saml</Audience>
    <SubjectType>persistent</SubjectType>
    <PackedPolicySize>6</PackedPolicySize>
    <NameQualifier>EXAMPLEqualifierHash=</NameQualifier>
    <Subject>ana@acme.example</Subject>
  </AssumeRoleWithSAMLResult>
  <ResponseMetadata>
    <RequestId>0a1b2c3d-1111-2222-3333-444455556666</RequestId>
  </ResponseMetadata>
</AssumeRoleWithSAMLResponse>
"""


def error_xml(code: str, message: str, kind: str = "Sender") -> str:
    return f"""<ErrorResponse xmlns="{STS_XMLNS}">
  <Error>
    <Type>{kind}</Type>
    <Code>{code}</Code>
    <Message>{message}</Message>
  </Error>
  <RequestId>9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff</RequestId>
</ErrorResponse>
"""


CAP_MESSAGE = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
RANGE_MESSAGE = (
    "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy "
    "constraint: Member must have value less than or equal to 43200"
)


def add_xml(url: str, body: str, status: int = 200) -> None:
    responses.add(responses.POST, url, body=body, status=status, content_type="text/xml")


def sent_form(index: int = -1) -> dict[str, list[str]]:
    body = responses.calls[index].request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return parse_qs(text, keep_blank_values=True)


# --------------------------------------------------------------------------- against moto


@pytest.fixture
def moto_sts(sts: StsView) -> StsView:
    """The test session's moto STS (tests/conftest.py), calls counted from the test's start."""
    return sts


def test_moto_success_returns_credentials_and_expiry(moto_sts: StsView) -> None:
    before = datetime.now(timezone.utc)
    result = call(HttpClient(), region="us-east-2", env={"AWS_ENDPOINT_URL_STS": moto_sts.url})

    creds = result.credentials
    assert isinstance(creds, AwsCredentials)
    assert creds.access_key_id.startswith("ASIA")
    assert creds.secret_access_key
    assert creds.session_token
    assert creds.expiration.tzinfo is not None
    assert creds.expiration.utcoffset() == timedelta(0)
    # moto derives the expiry from the SessionDuration attribute (3600 here).
    assert before + timedelta(minutes=59) < creds.expiration < before + timedelta(minutes=61)
    assert (
        creds.assumed_role_arn
        == f"arn:aws:sts::{ACCOUNT}:assumed-role/AcmeReadOnly/ana@acme.example"
    )
    assert creds.region == "us-east-2"
    assert result.duration_used is None
    assert result.notes == []
    assert creds.session_token not in repr(creds)
    assert creds.secret_access_key not in repr(creds)

    last = moto_sts.calls[-1]
    assert (last.action, last.role_arn, last.principal_arn) == (
        "AssumeRoleWithSAML",
        ROLE_RO,
        PROVIDER,
    )
    assert last.duration_seconds is None
    assert last.status == 200


def test_moto_multi_role_assertion_in_mixed_order(moto_sts: StsView) -> None:
    roles = [(ROLE_RO, PROVIDER), (ROLE_ADMIN, PROVIDER), (ROLE_DEV, PROVIDER)]
    assertion = saml_response(roles, role_order="mixed", session_duration=7200)
    env = {"AWS_ENDPOINT_URL_STS": moto_sts.url}

    # mixed order writes the second grant principal-first: "provider,role"
    result = call(HttpClient(), role_arn=ROLE_ADMIN, assertion=assertion, duration=7200, env=env)

    assert result.credentials.assumed_role_arn is not None
    assert "/AcmeAdmin/" in result.credentials.assumed_role_arn
    assert result.duration_used == 7200
    last = moto_sts.calls[-1]
    assert last.role_arn == ROLE_ADMIN
    assert last.duration_seconds == 7200
    assert last.role_values == 3
    assert last.reduced
    assert assertion not in repr(moto_sts.calls)

    # The role with a path, role-first again.
    result = call(HttpClient(), role_arn=ROLE_DEV, assertion=assertion, env=env)
    assert result.credentials.assumed_role_arn is not None
    assert "/AcmeDeveloper/" in result.credentials.assumed_role_arn


def test_endpoint_url_sts_beats_endpoint_url(moto_sts: StsView) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    before = len(moto_sts.calls)

    result = call(
        HttpClient(retries=0),
        env={"AWS_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_STS": moto_sts.url},
    )
    assert result.credentials.access_key_id
    assert len(moto_sts.calls) == before + 1

    # The generic variable alone is honoured too.
    call(HttpClient(), env={"AWS_ENDPOINT_URL": moto_sts.url})
    assert len(moto_sts.calls) == before + 2


def test_debug_log_never_shows_the_assertion(
    moto_sts: StsView, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="samljit")
    call(HttpClient(), env={"AWS_ENDPOINT_URL_STS": moto_sts.url})
    assert "STS AssumeRoleWithSAML" in caplog.text
    assert ASSERTION not in caplog.text
    assert ASSERTION[:40] not in caplog.text


@responses.activate
def test_debug_log_never_shows_the_session_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="samljit")
    add_xml(GLOBAL, success_xml())
    result = call(client())
    assert result.credentials.session_token not in caplog.text
    assert result.credentials.secret_access_key not in caplog.text


# --------------------------------------------------------------------------- endpoints


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        (ROLE_RO, "aws"),
        (PROVIDER, "aws"),
        (CN_ROLE, "aws-cn"),
        (f"arn:aws-us-gov:iam::{ACCOUNT}:role/Ops", "aws-us-gov"),
    ],
)
def test_partition_of(arn: str, partition: str) -> None:
    assert partition_of(arn) == partition


@pytest.mark.parametrize("bad", ["AcmeReadOnly", "arn:aws:iam", "", "arn:aws-iso:iam::1:role/x"])
def test_partition_of_refuses_what_it_cannot_place(bad: str) -> None:
    with pytest.raises(ConfigError):
        partition_of(bad)


@pytest.mark.parametrize(
    ("partition", "region", "url"),
    [
        ("aws", None, "https://sts.amazonaws.com"),
        ("aws", "", "https://sts.amazonaws.com"),
        ("aws", "us-east-2", "https://sts.us-east-2.amazonaws.com"),
        ("aws", "eu-central-1", "https://sts.eu-central-1.amazonaws.com"),
        ("aws-cn", None, "https://sts.cn-north-1.amazonaws.com.cn"),
        ("aws-cn", "cn-northwest-1", "https://sts.cn-northwest-1.amazonaws.com.cn"),
        ("aws-us-gov", None, "https://sts.us-gov-west-1.amazonaws.com"),
        ("aws-us-gov", "us-gov-east-1", "https://sts.us-gov-east-1.amazonaws.com"),
    ],
)
def test_endpoint_by_partition_and_region(partition: str, region: str | None, url: str) -> None:
    assert sts_endpoint(partition, region, NO_ENV) == (url, [])


@pytest.mark.parametrize(
    ("partition", "region", "url"),
    [
        ("aws-cn", "us-east-1", "https://sts.cn-north-1.amazonaws.com.cn"),
        ("aws-us-gov", "eu-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
        ("aws", "cn-north-1", "https://sts.amazonaws.com"),
        ("aws", "us-gov-west-1", "https://sts.amazonaws.com"),
    ],
)
def test_region_of_another_partition_falls_back_with_a_note(
    partition: str, region: str, url: str
) -> None:
    got, notes = sts_endpoint(partition, region, NO_ENV)
    assert got == url
    assert len(notes) == 1
    assert region in notes[0]
    assert partition in notes[0]
    assert url in notes[0]


def test_endpoint_overrides() -> None:
    sts_url = "https://sts.vpce.example.internal"
    generic = "https://aws.proxy.example.internal"
    both = {"AWS_ENDPOINT_URL_STS": sts_url, "AWS_ENDPOINT_URL": generic}
    assert sts_endpoint("aws", "us-east-1", both) == (sts_url, [])
    assert sts_endpoint("aws-cn", "us-east-1", {"AWS_ENDPOINT_URL": generic}) == (generic, [])
    assert sts_endpoint("aws", None, {"AWS_ENDPOINT_URL_STS": "  "}) == (GLOBAL.rstrip("/"), [])
    ignored = {**both, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "True"}
    assert sts_endpoint("aws", "us-west-2", ignored) == ("https://sts.us-west-2.amazonaws.com", [])


def test_endpoint_override_must_be_https_or_loopback() -> None:
    with pytest.raises(ConfigError):
        sts_endpoint("aws", None, {"AWS_ENDPOINT_URL_STS": "http://sts.example.com"})
    with pytest.raises(ConfigError):
        sts_endpoint("aws", None, {"AWS_ENDPOINT_URL_STS": "sts.example.com"})
    assert sts_endpoint("aws", None, {"AWS_ENDPOINT_URL_STS": "http://localhost:4566"})[0] == (
        "http://localhost:4566"
    )


@pytest.mark.parametrize(
    ("partition", "destination", "url"),
    [
        (
            "aws",
            "https://us-east-2.signin.aws.amazon.com/saml",
            "https://sts.us-east-2.amazonaws.com",
        ),
        (
            "aws",
            "https://us-east-1.signin.aws.amazon.com/saml",
            "https://sts.us-east-1.amazonaws.com",
        ),
        ("aws", "https://signin.aws.amazon.com/saml", "https://sts.amazonaws.com"),
        (
            "aws-us-gov",
            "https://us-gov-west-1.signin.amazonaws-us-gov.com/saml",
            "https://sts.us-gov-west-1.amazonaws.com",
        ),
        (
            "aws-us-gov",
            "https://us-gov-east-1.signin.amazonaws-us-gov.com/saml",
            "https://sts.us-gov-east-1.amazonaws.com",
        ),
        (
            "aws-us-gov",
            "https://signin.amazonaws-us-gov.com/saml",
            "https://sts.us-gov-west-1.amazonaws.com",
        ),
        ("aws-cn", "https://signin.amazonaws.cn/saml", "https://sts.cn-north-1.amazonaws.com.cn"),
        (
            "aws-cn",
            "https://cn-northwest-1.signin.amazonaws.cn/saml",
            "https://sts.cn-northwest-1.amazonaws.com.cn",
        ),
    ],
)
def test_regional_signin_destination_picks_that_regions_sts(
    partition: str, destination: str, url: str
) -> None:
    assert sts_endpoint(partition, None, NO_ENV, destination=destination) == (url, [])


def test_regional_destination_beats_region_and_loses_to_an_override() -> None:
    destination = "https://eu-west-2.signin.aws.amazon.com/saml"
    regional = ("https://sts.eu-west-2.amazonaws.com", [])
    assert sts_endpoint("aws", "us-west-2", NO_ENV, destination=destination) == regional
    # a region of another partition gets no note: it is not used either way
    assert sts_endpoint("aws", "cn-north-1", NO_ENV, destination=destination) == regional
    moto = {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:4566"}
    assert sts_endpoint("aws", None, moto, destination=destination) == (
        moto["AWS_ENDPOINT_URL_STS"],
        [],
    )
    generic = {"AWS_ENDPOINT_URL": "https://aws.proxy.example.internal"}
    assert (
        sts_endpoint("aws", None, generic, destination=destination)[0]
        == generic["AWS_ENDPOINT_URL"]
    )
    ignored = {**moto, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert sts_endpoint("aws", None, ignored, destination=destination) == regional
    # the SDKs' AWS_STS_REGIONAL_ENDPOINTS is not samljit's switch: the Destination still decides
    legacy = {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}
    assert sts_endpoint("aws", None, legacy, destination=destination) == regional
    with pytest.raises(ConfigError):  # a malformed region stays a config error
        sts_endpoint("aws", "US EAST", NO_ENV, destination=destination)


@pytest.mark.parametrize(
    "destination",
    [
        "https://us-east-1.signin.aws.amazon.com.evil.example/saml",
        "https://eu-west-2.signin.aws.amazon.com:8443/saml",
        "http://eu-west-2.signin.aws.amazon.com/saml",
        "https://eu-west-2.signin.aws.amazon.com/saml/../evil",
        "https://evil.example/saml",
        "https://cn-north-1.signin.amazonaws.cn/saml",  # another partition than the role's
        "https://us-gov-west-1.signin.amazonaws-us-gov.com/saml",
        "",
    ],
)
def test_no_regional_sts_from_a_look_alike_or_another_partitions_destination(
    destination: str,
) -> None:
    assert sts_endpoint("aws", None, NO_ENV, destination=destination) == (GLOBAL.rstrip("/"), [])
    assert sts_endpoint("aws", "ap-south-1", NO_ENV, destination=destination) == (
        "https://sts.ap-south-1.amazonaws.com",
        [],
    )


def test_without_a_destination_the_recipient_says_where_the_response_was_addressed() -> None:
    from samljit.saml.assertion import parse

    regional = "https://ap-northeast-3.signin.aws.amazon.com/saml"
    root = build_response(
        issuer="https://idp.acme.example/saml",
        name_id="ana@acme.example",
        roles=[RoleGrant(ROLE_RO, PROVIDER)],
        session_name="ana@acme.example",
        destination=regional,
    )
    assert parse(encode(root)).addressed_to == regional
    del root.attrib["Destination"]
    parsed = parse(encode(root))
    assert (parsed.destination, parsed.addressed_to) == (None, regional)


@responses.activate
def test_the_call_goes_to_the_destinations_region_and_hints_its_saml_aud() -> None:
    url = "https://sts.ap-southeast-2.amazonaws.com/"
    add_xml(url, error_xml("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"), 403)
    destination = "https://ap-southeast-2.signin.aws.amazon.com/saml"
    with pytest.raises(AwsError) as caught:
        call(client(), region="eu-west-1", destination=destination)
    assert [c.request.url for c in responses.calls] == [url]
    assert f'"SAML:aud": "{destination}"' in (caught.value.hint or "")


@responses.activate
def test_region_disabled_hint_names_the_destinations_region() -> None:
    url = "https://sts.ap-east-1.amazonaws.com/"
    add_xml(url, error_xml("RegionDisabledException", "STS is not activated in this region"), 403)
    with pytest.raises(AwsError) as caught:
        call(
            client(), region="eu-west-1", destination="https://ap-east-1.signin.aws.amazon.com/saml"
        )
    assert "STS is not activated in ap-east-1" in (caught.value.hint or "")


@pytest.mark.parametrize("region", ["us-east-1.evil.example/", "US EAST", "x", "us_east_1"])
def test_malformed_region_is_a_config_error(region: str) -> None:
    with pytest.raises(ConfigError):
        sts_endpoint("aws", region, NO_ENV)


# --------------------------------------------------------------------------- the request


@responses.activate
def test_request_shape_and_partition_endpoint_with_mismatch_note() -> None:
    url = "https://sts.cn-north-1.amazonaws.com.cn/"
    add_xml(
        url, success_xml(assumed_arn=f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/AcmeReadOnly/ana")
    )

    result = call(
        client(), role_arn=CN_ROLE, principal_arn=CN_PROVIDER, duration=1800, region="us-east-1"
    )

    assert len(responses.calls) == 1
    request = responses.calls[0].request
    assert request.url == url
    assert request.method == "POST"
    assert request.headers["Accept"] == "application/xml"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in request.headers
    assert sent_form() == {
        "Action": ["AssumeRoleWithSAML"],
        "Version": ["2011-06-15"],
        "RoleArn": [CN_ROLE],
        "PrincipalArn": [CN_PROVIDER],
        "SAMLAssertion": [ASSERTION],
        "DurationSeconds": ["1800"],
    }
    assert result.duration_used == 1800
    assert len(result.notes) == 1
    assert "us-east-1" in result.notes[0]
    assert "cn-north-1" in result.notes[0]
    creds = result.credentials
    assert creds.access_key_id == "ASIAEXAMPLEACCESSKEY"
    assert creds.secret_access_key == "wJalrEXAMPLESECRETxxxxxxxxxxxxxxxxxxxxx"
    assert creds.session_token == "IQoJEXAMPLESESSIONTOKEN//////////wEaCXVzLWVhc3QtMSJH"
    assert creds.expiration == datetime(2031, 4, 2, 9, 30, tzinfo=timezone.utc)
    assert creds.assumed_role_arn == f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/AcmeReadOnly/ana"
    assert creds.region == "us-east-1"


@responses.activate
def test_no_duration_is_sent_when_none_given_and_missing_user_is_none() -> None:
    add_xml("https://sts.eu-west-1.amazonaws.com/", success_xml(assumed_arn=None))
    result = call(client(), region="eu-west-1")
    assert "DurationSeconds" not in sent_form()
    assert result.duration_used is None
    assert result.credentials.assumed_role_arn is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2031-04-02T09:30:00Z", datetime(2031, 4, 2, 9, 30, tzinfo=timezone.utc)),
        (
            "2026-11-22T07:16:58.236374Z",
            datetime(2026, 11, 22, 7, 16, 58, 236374, tzinfo=timezone.utc),
        ),
        ("2031-04-02T09:30:00.5Z", datetime(2031, 4, 2, 9, 30, 0, 500000, tzinfo=timezone.utc)),
        ("2031-04-02T11:30:00+02:00", datetime(2031, 4, 2, 9, 30, tzinfo=timezone.utc)),
        ("2031-04-02T09:30:00", datetime(2031, 4, 2, 9, 30, tzinfo=timezone.utc)),
    ],
)
def test_parse_expiration(text: str, expected: datetime) -> None:
    got = parse_expiration(text)
    assert got == expected
    assert got.tzinfo == timezone.utc


# --------------------------------------------------------------------------- duration cap


@responses.activate
def test_duration_above_role_maximum_retries_once_at_3600_with_a_note() -> None:
    add_xml(GLOBAL, error_xml("ValidationError", CAP_MESSAGE), status=400)
    add_xml(GLOBAL, success_xml())

    result = call(client(), duration=43200)

    assert len(responses.calls) == 2
    assert sent_form(0)["DurationSeconds"] == ["43200"]
    assert sent_form(1)["DurationSeconds"] == ["3600"]
    assert result.duration_used == 3600
    assert len(result.notes) == 1
    note = result.notes[0]
    assert "MaxSessionDuration" in note
    assert "43200" in note
    assert "3600" in note
    assert ROLE_RO in note
    assert "IAM" in note
    assert "SessionDuration" in note


@responses.activate
def test_duration_cap_retry_failing_again_raises_the_second_error() -> None:
    add_xml(GLOBAL, error_xml("ValidationError", CAP_MESSAGE), status=400)
    add_xml(
        GLOBAL, error_xml("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"), 403
    )
    with pytest.raises(AwsError) as caught:
        call(client(), duration=7200)
    assert caught.value.code == "AccessDenied"
    assert len(responses.calls) == 2


def refused_once(message: str, duration: int) -> AwsError:
    """STS's ValidationError ``message`` for ``duration``: asked once, not retried."""
    add_xml(GLOBAL, error_xml("ValidationError", message), status=400)
    with pytest.raises(AwsError) as caught:
        call(client(), duration=duration)
    assert len(responses.calls) == 1
    err = caught.value
    assert err.code == "ValidationError"
    assert err.aws_message == message
    return err


@responses.activate
def test_duration_cap_at_3600_is_not_retried() -> None:
    err = refused_once(CAP_MESSAGE, 3600)
    assert err.hint is not None
    assert "maximum session duration" in err.hint


@responses.activate
def test_duration_out_of_range_is_an_aws_error_without_retry() -> None:
    err = refused_once(RANGE_MESSAGE, 43201)
    assert "43201" in str(err)
    assert err.hint is not None
    assert "900" in err.hint
    assert "43200" in err.hint
    assert_no_assertion(err)


# --------------------------------------------------------------------------- STS refusals


@pytest.mark.parametrize(
    ("status", "code", "message", "hint_words"),
    [
        (
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithSAML",
            ["trust policy", ROLE_RO, PROVIDER, "SAML:aud"],
        ),
        (
            400,
            "InvalidIdentityToken",
            "Specified provider doesn't exist.",
            ["SAML provider", PROVIDER, "metadata"],
        ),
        (400, "InvalidIdentityToken", "Response signature invalid", [PROVIDER, "certificate"]),
        (400, "ExpiredTokenException", "Response has expired", ["NotOnOrAfter", "clock"]),
        (
            400,
            "ExpiredTokenException",
            "Token must be redeemed within 5 minutes of issuance",
            ["log in again"],
        ),
        (
            403,
            "RegionDisabledException",
            "STS is not activated in this region for account:123456789012. Your account "
            "administrator can activate STS in this region using the IAM Console.",
            ["ap-east-1", "activate"],
        ),
        (
            403,
            "IDPRejectedClaim",
            "The identity provider (IdP) reported that authentication failed.",
            ["Role", "RoleSessionName"],
        ),
    ],
)
@responses.activate
def test_sts_refusals_become_aws_errors_with_hints(
    status: int, code: str, message: str, hint_words: list[str]
) -> None:
    add_xml("https://sts.ap-east-1.amazonaws.com/", error_xml(code, message), status=status)
    with pytest.raises(AwsError) as caught:
        call(client(), duration=7200, region="ap-east-1")
    err = caught.value
    assert len(responses.calls) == 1
    assert err.code == code
    assert err.aws_message == message
    assert code in str(err)
    assert message in str(err)
    assert err.hint is not None
    for word in hint_words:
        assert word in err.hint
    assert_no_assertion(err)


@responses.activate
def test_access_denied_hint_names_the_saml_aud_of_the_roles_partition() -> None:
    add_xml(
        "https://sts.cn-north-1.amazonaws.com.cn/",
        error_xml("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"),
        status=403,
    )
    with pytest.raises(AwsError) as caught:
        call(client(), role_arn=CN_ROLE, principal_arn=CN_PROVIDER)
    assert caught.value.hint is not None
    assert '"SAML:aud": "https://signin.amazonaws.cn/saml"' in caught.value.hint


@responses.activate
def test_error_echoing_the_assertion_is_scrubbed() -> None:
    echoed = f"Invalid SAMLAssertion {ASSERTION[:600]}... rejected"
    add_xml(GLOBAL, error_xml("InvalidIdentityToken", echoed), status=400)
    with pytest.raises(AwsError) as caught:
        call(client())
    assert_no_assertion(caught.value)
    assert "rejected" in str(caught.value)


@responses.activate
def test_html_error_page_is_an_http_status_error() -> None:
    page = (
        "<!doctype html><html><head><title>403 Forbidden</title></head><body>"
        "<h1>Request blocked</h1><p>The corporate proxy refused this request. "
        + "Reference #18.4f2a1b2c " * 30
        + f"<!-- {ASSERTION} --></p></body></html>"
    )
    responses.add(responses.POST, GLOBAL, body=page, status=403, content_type="text/html")
    with pytest.raises(AwsError) as caught:
        call(client())
    err = caught.value
    assert err.code == "HTTP403"
    assert "Request blocked" in err.aws_message
    assert len(err.aws_message) <= 200
    assert_no_assertion(err)


@responses.activate
def test_plain_text_error_is_an_http_status_error() -> None:
    responses.add(
        responses.POST, GLOBAL, body="Bad Request\n", status=400, content_type="text/plain"
    )
    with pytest.raises(AwsError) as caught:
        call(client())
    assert caught.value.code == "HTTP400"
    assert caught.value.aws_message == "Bad Request"


XXE_SUCCESS = f"""<?xml version="1.0"?>
<!DOCTYPE AssumeRoleWithSAMLResponse [ <!ENTITY key "ENTITY-WAS-EXPANDED"> ]>
<AssumeRoleWithSAMLResponse xmlns="{STS_XMLNS}"><AssumeRoleWithSAMLResult><Credentials>
<AccessKeyId>&key;</AccessKeyId><SecretAccessKey>s</SecretAccessKey>
<SessionToken>t</SessionToken><Expiration>2031-04-02T09:30:00Z</Expiration>
</Credentials></AssumeRoleWithSAMLResult></AssumeRoleWithSAMLResponse>"""

XXE_ERROR = f"""<?xml version="1.0"?>
<!DOCTYPE ErrorResponse [ <!ENTITY msg SYSTEM "file:///etc/hostname"> ]>
<ErrorResponse xmlns="{STS_XMLNS}"><Error><Type>Sender</Type><Code>AccessDenied</Code>
<Message>&msg;</Message></Error><RequestId>1</RequestId></ErrorResponse>"""


@responses.activate
def test_success_with_a_doctype_is_refused() -> None:
    add_xml(GLOBAL, XXE_SUCCESS)
    with pytest.raises(NetworkError) as caught:
        call(client())
    assert "DOCTYPE" in str(caught.value)
    assert "ENTITY-WAS-EXPANDED" not in str(caught.value)


@responses.activate
def test_error_with_a_doctype_is_not_parsed() -> None:
    add_xml(GLOBAL, XXE_ERROR, status=403)
    with pytest.raises(AwsError) as caught:
        call(client())
    assert caught.value.code == "HTTP403"


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Welcome to the hotel Wi-Fi</body></html>",
        "not xml at all",
        f'<AssumeRoleWithSAMLResponse xmlns="{STS_XMLNS}"><AssumeRoleWithSAMLResult/>'
        "</AssumeRoleWithSAMLResponse>",
        "<GetCallerIdentityResponse/>",
    ],
)
@responses.activate
def test_success_status_without_sts_credentials_is_refused(body: str) -> None:
    add_xml(GLOBAL, body)
    with pytest.raises(NetworkError, match="not an STS response"):
        call(client())


@responses.activate
def test_redirect_is_not_followed() -> None:
    responses.add(
        responses.POST, GLOBAL, status=307, headers={"Location": "https://elsewhere.example/"}
    )
    with pytest.raises(NetworkError, match="redirected") as caught:
        call(client())
    assert len(responses.calls) == 1
    assert_no_assertion(caught.value)


# --------------------------------------------------------------------------- transport


@responses.activate
def test_503_after_retries_is_a_service_error() -> None:
    add_xml(GLOBAL, error_xml("ServiceUnavailable", "Service is unavailable", "Receiver"), 503)
    with pytest.raises(IdpServiceError) as caught:
        call(client())
    assert len(responses.calls) == 4  # the first try and HttpClient's 3 retries
    assert "503" in str(caught.value)
    assert_no_assertion(caught.value)


@responses.activate
def test_throttling_429_is_a_service_error() -> None:
    responses.add(responses.POST, GLOBAL, body="Rate exceeded", status=429)
    with pytest.raises(IdpServiceError):
        call(client(retries=1))


def test_connection_refused_is_a_network_error() -> None:
    env = {"AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{closed_port()}"}
    with pytest.raises(NetworkError) as caught:
        call(client(retries=1), env=env)
    assert not isinstance(caught.value, IdpServiceError)
    assert "127.0.0.1" in str(caught.value)
    assert_no_assertion(caught.value)
