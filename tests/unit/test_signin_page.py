"""The AWS sign-in page's role list (samljit/aws/signin_page.py), read from the stand-in's two
shapes (tests/support/aws_signin.py) and from what a page may look like otherwise."""

from __future__ import annotations

import json

import pytest

from samljit.aws.signin_page import PageRole, page_url, read_page
from samljit.common.errors import AuthenticationError, RoleError
from tests.support import aws_signin

PROD, DEV = "111122223333", "444455556666"
ADMIN = f"arn:aws:iam::{PROD}:role/Admin"
RO = f"arn:aws:iam::{DEV}:role/path/ReadOnly"
ROLES = [
    aws_signin.PageRole(PROD, ADMIN, f"arn:aws:iam::{PROD}:saml-provider/Corp"),
    aws_signin.PageRole(DEV, RO, f"arn:aws:iam::{DEV}:saml-provider/Corp"),
]
EXPECTED = [PageRole(ADMIN, PROD, "prod"), PageRole(RO, DEV, None)]


def test_the_classic_page_gives_roles_and_account_aliases() -> None:
    page = aws_signin.classic_page(ROLES, {PROD: "prod"}, "ENCODED", "/saml")
    assert read_page(page) == EXPECTED


def test_the_json_page_gives_the_same() -> None:
    assert read_page(aws_signin.json_page(ROLES, {PROD: "prod"})) == EXPECTED


def test_the_json_is_read_by_what_it_holds_not_by_its_key_names() -> None:
    data = {"props": {"x": [{"accountName": "prod", "things": [{"arn": ADMIN}]}, {"r": RO}]}}
    page = f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'
    assert read_page(page) == EXPECTED


def test_an_error_page_is_exit_3_in_its_words_on_one_line() -> None:
    with pytest.raises(AuthenticationError) as caught:
        read_page(aws_signin.error_page("Your request included\nan invalid SAML response."))
    assert caught.value.message == (
        "the AWS sign-in page refused the SAMLResponse: Your request included an invalid "
        "SAML response."
    )


@pytest.mark.parametrize("page", ["", "<html><body>Welcome</body></html>", "\x00not html"])
def test_a_page_without_roles_asks_for_role_arn(page: str) -> None:
    with pytest.raises(RoleError, match="lists no role"):
        read_page(page)


def test_where_the_response_is_posted() -> None:
    default = "https://signin.aws.amazon.com/saml"
    regional = "https://eu-west-1.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46"
    assert page_url({}, None, default) == default
    assert page_url({}, regional, default) == regional
    assert page_url({"SAMLJIT_SIGNIN_URL": "http://127.0.0.1:1/saml"}, regional, default) == (
        "http://127.0.0.1:1/saml"
    )


@pytest.mark.parametrize(
    ("url", "partition"),
    [
        ("https://signin.aws.amazon.com/saml", "aws"),
        ("https://eu-west-1.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46", "aws"),
        ("https://signin.amazonaws-us-gov.com/saml", "aws-us-gov"),
        ("https://signin.aws.amazon.com.evil.example/saml", None),
        ("https://signin.aws.amazon.com/saml/acs/x/../../evil", None),
        ("http://signin.aws.amazon.com/saml", None),
    ],
)
def test_an_encrypted_responses_destination_must_be_an_aws_signin_endpoint(
    url: str, partition: str | None
) -> None:
    from samljit.saml.verify import encrypted_destination_partition

    assert encrypted_destination_partition(url) == partition
