"""samljit.aws.arn: the Arn type, the partitions table and the region recognisers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from samljit.aws.arn import (
    PARTITIONS,
    Arn,
    is_region,
    region_partition,
    signin_endpoint,
    signin_host_partition,
)
from samljit.common.errors import ArnError, ConfigError

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/teams/AcmeDeveloper"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/acme-idp"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/AcmeDeveloper/ops@acme.example"

ALL_PARTITIONS = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
]


# --------------------------------------------------------------------------- parsing


def test_parse_reads_every_field() -> None:
    arn = Arn.parse(ROLE)
    assert arn == Arn("aws", "iam", "", ACCOUNT, "role/teams/AcmeDeveloper")
    assert (arn.partition, arn.service, arn.region, arn.account_id) == ("aws", "iam", "", ACCOUNT)
    assert arn.resource == "role/teams/AcmeDeveloper"
    assert arn.resource_type == "role"
    assert arn.name == arn.role_name == "AcmeDeveloper"
    assert str(arn) == ROLE


@pytest.mark.parametrize(
    "text",
    [
        ROLE,
        "arn:aws:s3:::my-bucket/key/with:colon",
        "arn:aws-cn:sts::123456789012:assumed-role/R/s",
        "arn:aws:logs:us-east-1:123456789012:log-group:name",
    ],
)
def test_str_gives_back_what_was_parsed(text: str) -> None:
    assert str(Arn.parse(text)) == text


def test_surrounding_blanks_are_ignored() -> None:
    assert Arn.parse(f"  {ROLE}\n") == Arn.parse(ROLE)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "AcmeReadOnly",
        "arn:aws:iam",
        "arn:aws:iam::123456789012",
        "arn:aws:iam::123456789012:",
        "ARN:aws:iam::123456789012:role/x",
        "arn:AWS:iam::123456789012:role/x",
        "arn::iam::123456789012:role/x",
        "arn:aws::us-east-1:123456789012:role/x",
        "arn:aws:iam::12345678901a:role/x",
        "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x",
        "arn:aws:iam::123456789012:role/x\nrole/y",
    ],
)
def test_parse_refuses_what_is_no_arn(bad: str) -> None:
    assert Arn.try_parse(bad) is None
    with pytest.raises(ArnError) as caught:
        Arn.parse(bad)
    assert isinstance(caught.value, ConfigError)  # exit 2, like every config mistake
    assert caught.value.message == f"not an AWS ARN: {bad!r}"
    assert caught.value.hint is not None


def test_try_parse_takes_none() -> None:
    assert Arn.try_parse(None) is None


def test_arn_is_immutable() -> None:
    arn = Arn.parse(ROLE)
    with pytest.raises(AttributeError):
        arn.partition = "aws-cn"  # type: ignore[misc]


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize("partition", ALL_PARTITIONS)
def test_roles_and_providers_of_every_partition(partition: str) -> None:
    role = Arn.parse(f"arn:{partition}:iam::{ACCOUNT}:role/Ops")
    provider = Arn.parse(f"arn:{partition}:iam::{ACCOUNT}:saml-provider/JC")
    assert role.is_role and not role.is_saml_provider
    assert provider.is_saml_provider and not provider.is_role
    assert role.partition_info is PARTITIONS[partition]


@pytest.mark.parametrize(
    "text",
    [
        f"arn:aws-moon:iam::{ACCOUNT}:role/Ops",  # unknown partition
        f"arn:aws:sts::{ACCOUNT}:role/Ops",  # not IAM
        "arn:aws:iam::12345:role/Ops",  # not a 12-digit account
        "arn:aws:iam:::role/Ops",
        f"arn:aws:iam::{ACCOUNT}:role/",  # no name
        f"arn:aws:iam::{ACCOUNT}:user/Ops",
        f"arn:aws:iam::{ACCOUNT}:roles/Ops",
    ],
)
def test_what_is_not_a_role(text: str) -> None:
    assert not Arn.parse(text).is_role


def test_unknown_partition_has_no_row() -> None:
    assert Arn.parse(f"arn:aws-moon:iam::{ACCOUNT}:role/Ops").partition_info is None


def test_assumed_role_to_role() -> None:
    session = Arn.parse(SESSION)
    assert session.is_assumed_role
    assert session.role_name == "AcmeDeveloper"
    assert session.name == "ops@acme.example"
    role = session.assumed_role_to_role()
    assert role is not None
    # the session ARN does not carry the role's path
    assert str(role) == f"arn:aws:iam::{ACCOUNT}:role/AcmeDeveloper"
    assert role.is_role
    cn = Arn.parse(f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/R/s").assumed_role_to_role()
    assert str(cn) == f"arn:aws-cn:iam::{ACCOUNT}:role/R"


@pytest.mark.parametrize("text", [ROLE, PROVIDER, f"arn:aws:sts::{ACCOUNT}:assumed-role/"])
def test_only_sessions_convert_to_roles(text: str) -> None:
    arn = Arn.parse(text)
    assert not arn.is_assumed_role
    assert arn.assumed_role_to_role() is None


def test_is_session_of() -> None:
    session = Arn.parse(SESSION)
    assert session.is_session_of(Arn.parse(ROLE))  # the path does not matter
    assert session.is_session_of(Arn.parse(f"arn:aws:iam::{ACCOUNT}:role/AcmeDeveloper"))
    assert not session.is_session_of(Arn.parse(f"arn:aws:iam::{ACCOUNT}:role/Other"))
    assert not session.is_session_of(Arn.parse("arn:aws:iam::210987654321:role/AcmeDeveloper"))
    assert not session.is_session_of(Arn.parse(f"arn:aws-cn:iam::{ACCOUNT}:role/AcmeDeveloper"))
    assert not Arn.parse(ROLE).is_session_of(Arn.parse(ROLE))


# --------------------------------------------------------------------------- the table


def test_the_table_knows_every_partition() -> None:
    assert sorted(PARTITIONS) == sorted(ALL_PARTITIONS)
    for name, partition in PARTITIONS.items():
        assert partition.name == name


@pytest.mark.parametrize(
    ("partition", "signin", "console", "urn"),
    [
        (
            "aws",
            "https://signin.aws.amazon.com",
            "https://console.aws.amazon.com",
            "urn:amazon:webservices",
        ),
        (
            "aws-cn",
            "https://signin.amazonaws.cn",
            "https://console.amazonaws.cn",
            "urn:amazon:webservices:cn-north-1",
        ),
        (
            "aws-us-gov",
            "https://signin.amazonaws-us-gov.com",
            "https://console.amazonaws-us-gov.com",
            "urn:amazon:webservices:govcloud",
        ),
    ],
)
def test_hosts_of_each_partition(partition: str, signin: str, console: str, urn: str) -> None:
    row = PARTITIONS[partition]
    assert row.signin_url() == signin
    assert row.federation_url() == f"{signin}/federation"
    assert row.acs_url() == f"{signin}/saml"
    assert row.console_url() == console
    assert row.saml_urn == urn


@pytest.mark.parametrize(
    ("partition", "region", "signin"),
    [
        ("aws", "us-east-2", "https://us-east-2.signin.aws.amazon.com"),
        ("aws-cn", "cn-north-1", "https://cn-north-1.signin.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "https://us-gov-west-1.signin.amazonaws-us-gov.com"),
    ],
)
def test_regional_signin(partition: str, region: str, signin: str) -> None:
    row = PARTITIONS[partition]
    assert row.signin_url(region) == signin
    assert row.acs_url(region) == f"{signin}/saml"
    host = signin.removeprefix("https://")
    assert signin_host_partition(host) == partition
    assert signin_host_partition(host.upper()) == partition
    assert signin_host_partition(row.signin_host or "") == partition


@pytest.mark.parametrize(
    "host",
    [
        "cn-north-1.signin.aws.amazon.com",  # a region of another partition
        "us-east-1.signin.amazonaws.cn",
        "evil.signin.aws.amazon.com",
        "a.b.signin.aws.amazon.com",
        "signin.aws.amazon.com.evil.example",
        "us-east-١.signin.aws.amazon.com",
        "",
    ],
)
def test_what_is_no_signin_host(host: str) -> None:
    assert signin_host_partition(host) is None


@pytest.mark.parametrize(
    ("partition", "region", "url"),
    [
        ("aws", None, "https://sts.amazonaws.com"),
        ("aws", "eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
        ("aws-cn", None, "https://sts.cn-north-1.amazonaws.com.cn"),
        ("aws-cn", "cn-northwest-1", "https://sts.cn-northwest-1.amazonaws.com.cn"),
        ("aws-us-gov", None, "https://sts.us-gov-west-1.amazonaws.com"),
        ("aws-us-gov", "us-gov-east-1", "https://sts.us-gov-east-1.amazonaws.com"),
    ],
)
def test_sts_endpoints(partition: str, region: str | None, url: str) -> None:
    assert PARTITIONS[partition].sts_url(region) == url


@pytest.mark.parametrize(
    "partition", ["aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"]
)
def test_isolated_partitions_have_no_endpoints(partition: str) -> None:
    """Recognised, but samljit knows none of their endpoints (AWS_ENDPOINT_URL_STS reaches them)."""
    row = PARTITIONS[partition]
    assert row.region_prefixes
    assert row.sts_url() is None
    assert row.signin_url() is None
    assert row.federation_url() is None
    assert row.acs_url("us-iso-east-1") is None
    assert row.console_url() is None


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-central-2", "aws"),
        ("ap-southeast-4", "aws"),
        ("il-central-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("us-isof-south-1", "aws-iso-f"),
        ("eusc-de-east-1", "aws-eusc"),
    ],
)
def test_region_recognition(region: str, partition: str) -> None:
    assert is_region(region)
    assert region_partition(region) == partition


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "us",
        "us-east",
        "US-EAST-1",
        "us_east_1",
        "US EAST",
        "us-east-1.evil.example/",
        "us-east-1\n",
        "us-east-١",
        "us-east-1234",
    ],
)
def test_what_is_no_region(text: str) -> None:
    assert not is_region(text)


def test_stays_light() -> None:
    """On the cached start-up path: no dataclasses, nothing heavy."""
    # Only what the import adds: under CI's coverage every process has loaded dataclasses
    # before samljit is touched (coverage's start-up hook uses them).
    code = (
        "import sys; before = set(sys.modules); import samljit.aws.arn; "
        "print(sorted(m for m in ('dataclasses', 'requests', 'lxml') "
        "if m in sys.modules and m not in before))"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("https://signin.aws.amazon.com/saml", ("aws", None)),
        ("https://us-east-1.signin.aws.amazon.com/saml", ("aws", "us-east-1")),
        ("https://eu-west-2.signin.aws.amazon.com/saml", ("aws", "eu-west-2")),
        ("https://AP-Southeast-4.Signin.AWS.Amazon.com/saml", ("aws", "ap-southeast-4")),
        ("https://signin.amazonaws.cn/saml", ("aws-cn", None)),
        ("https://cn-northwest-1.signin.amazonaws.cn/saml", ("aws-cn", "cn-northwest-1")),
        ("https://signin.amazonaws-us-gov.com/saml", ("aws-us-gov", None)),
        ("https://us-gov-west-1.signin.amazonaws-us-gov.com/saml", ("aws-us-gov", "us-gov-west-1")),
        ("https://us-gov-east-1.signin.amazonaws-us-gov.com/saml", ("aws-us-gov", "us-gov-east-1")),
    ],
)
def test_signin_endpoint_of_every_partition(url: str, found: tuple[str, str | None]) -> None:
    assert signin_endpoint(url) == found


@pytest.mark.parametrize(
    "url",
    [
        "https://us-east-1.signin.aws.amazon.com.evil.example/saml",
        "https://us-east-1.signin.aws.amazon.com.evil.example/saml?x=https://signin.aws.amazon.com",
        "https://evil.example/us-east-1.signin.aws.amazon.com/saml",
        "https://evil.example/saml#https://us-east-1.signin.aws.amazon.com/saml",
        "https://us-east-1.signin.aws.amazon.com@evil.example/saml",
        "https://evil.example@us-east-1.signin.aws.amazon.com/saml",
        "https://us-east-1-signin.aws.amazon.com/saml",
        "https://us-east-1.evil.signin.aws.amazon.com/saml",
        "https://evilus-east-1.signin.aws.amazon.com.example/saml",
        "https://us-east-1.signin.aws.amazon.com./saml",
        "https://us-east-1.signin.aws.amazon.com:444/saml",
        "http://us-east-1.signin.aws.amazon.com/saml",
        "https://us-east-1.signin.aws.amazon.com/saml/",
        "https://us-east-1.signin.aws.amazon.com/federation",
        "https://cn-north-1.signin.aws.amazon.com/saml",  # a region of another partition
        "https://us-gov-west-1.signin.aws.amazon.com/saml",
        "https://us-east-1.signin.amazonaws.cn/saml",
        "https://eu-west-1.signin.amazonaws-us-gov.com/saml",
        "https://us-east-1.signin.amazonaws.com/saml",  # not a sign-in host at all
        "https://sts.us-east-1.amazonaws.com/saml",
        "https://us-east-\u0661.signin.aws.amazon.com/saml",
        "https://[::1]:x/saml",
        "",
    ],
)
def test_signin_endpoint_refuses_look_alikes(url: str) -> None:
    assert signin_endpoint(url) is None
