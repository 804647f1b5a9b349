"""A real IdP speaking SAML ECP: SimpleSAMLphp (Debian's package) with ``saml20.ecp`` on and a
PAOS ACS for ``urn:amazon:webservices`` (tests/support/simplesamlphp_ecp.py), driven with
plain ``requests`` exactly as shared/protocols/ecp.md §2 says; and the tampering proxy
(tests/support/ecp_tamper.py) the ShibbolethECP provider's ACS check will be tested with.

Without php/SimpleSAMLphp they skip with the one line that says how to install it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from cryptography import x509

from samljit.saml import assertion as saml
from samljit.saml.verify import verify_signatures
from tests.support.ecp_tamper import EcpTamperProxy
from tests.support.simplesamlphp import AWS_ACS, LOGIN_PATH, SimpleSamlPhp
from tests.support.simplesamlphp_ecp import (
    ADMIN,
    IDP_ARN,
    NS,
    RO,
    STATUS_RESPONDER,
    STATUS_SUCCESS,
    WRONG_PASSWORD_STATUS,
    EcpAnswer,
    EcpSimpleSamlPhp,
    authn_request,
    ecp_user,
    post_ecp,
)
from tests.support.tools import requires_tool

pytestmark = requires_tool("SimpleSAMLphp")

CAROL = ecp_user("carol", "carol-Ecp-5521")
EVIL_ACS = "https://evil.example/saml"


@pytest.fixture(scope="module")
def ecp_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcpSimpleSamlPhp]:
    with EcpSimpleSamlPhp(tmp_path_factory.mktemp("ssp-ecp"), [CAROL]) as idp:
        yield idp


def login(url: str, auth: tuple[str, str] | None) -> tuple[str, requests.Response, EcpAnswer]:
    request_id, envelope = authn_request()
    answer = post_ecp(url, envelope, auth)
    return request_id, answer, EcpAnswer.parse(answer.content)


def test_a_soap_authn_request_with_basic_auth_gets_the_signed_response(
    ecp_idp: EcpSimpleSamlPhp,
) -> None:
    request_id, answer, parsed = login(ecp_idp.ecp_url, (CAROL.username, CAROL.password))

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/xml")
    assert parsed.fault is None
    assert parsed.acs_url == AWS_ACS  # ecp:Response names the ACS the request asked for
    assert parsed.status == STATUS_SUCCESS
    assert parsed.destination == AWS_ACS
    assert parsed.in_response_to == request_id
    # The Response element alone, as received, verifies against the IdP's certificate and
    # carries the AWS roles (protocol page §7).
    encoded = parsed.saml_response()
    xml = saml.decode(encoded)
    cert = x509.load_pem_x509_certificate(ecp_idp.certificate.read_bytes())
    signed = verify_signatures(xml, saml.parse_xml(xml), cert, now=datetime.now(timezone.utc))
    assert signed.response is not None  # SimpleSAMLphp signs the Response and the Assertion
    read = saml.read(encoded, signed.response, signed.assertion)
    assert {(r.role_arn, r.principal_arn) for r in read.roles} == {(RO, IDP_ARN), (ADMIN, IDP_ARN)}
    assert read.audiences == ("urn:amazon:webservices",)
    assert read.session_name == CAROL.username


def test_a_wrong_password_is_a_signed_responder_status_without_assertion(
    ecp_idp: EcpSimpleSamlPhp,
) -> None:
    request_id, answer, parsed = login(ecp_idp.ecp_url, (CAROL.username, "not-the-password"))

    assert answer.status_code == 200  # SimpleSAMLphp 1.19 never answers 401 (protocol §5)
    assert parsed.status == STATUS_RESPONDER
    assert parsed.status_message == WRONG_PASSWORD_STATUS
    assert parsed.in_response_to == request_id
    assert parsed.acs_url == AWS_ACS  # the header is there all the same
    assert parsed.response.find("saml:Assertion", NS) is None
    assert parsed.response.find("ds:Signature", NS) is not None


def test_no_basic_auth_gets_the_same_refusal_not_a_401(ecp_idp: EcpSimpleSamlPhp) -> None:
    _, answer, parsed = login(ecp_idp.ecp_url, None)

    assert answer.status_code == 200
    assert "WWW-Authenticate" not in answer.headers
    assert parsed.status == STATUS_RESPONDER
    assert parsed.status_message == WRONG_PASSWORD_STATUS


def test_the_paos_content_type_is_refused(ecp_idp: EcpSimpleSamlPhp) -> None:
    _, envelope = authn_request()
    answer = requests.post(
        ecp_idp.ecp_url,
        data=envelope,
        auth=(CAROL.username, CAROL.password),
        headers={"Content-Type": "application/vnd.paos+xml"},
        allow_redirects=False,
        timeout=30,
    )

    assert answer.status_code == 405  # why the client must send text/xml (protocol §2)


def test_a_session_cookie_answers_without_a_password(ecp_idp: EcpSimpleSamlPhp) -> None:
    with requests.Session() as session:
        _, envelope = authn_request()
        first = EcpAnswer.parse(
            post_ecp(
                ecp_idp.ecp_url, envelope, (CAROL.username, CAROL.password), session=session
            ).content
        )
        assert first.status == STATUS_SUCCESS
        request_id, envelope = authn_request()
        again = EcpAnswer.parse(post_ecp(ecp_idp.ecp_url, envelope, None, session=session).content)

    assert again.status == STATUS_SUCCESS
    assert again.in_response_to == request_id


def test_an_acs_the_sp_entry_lacks_is_answered_with_a_redirect_to_the_login_form(
    ecp_idp: EcpSimpleSamlPhp,
) -> None:
    # SimpleSAMLphp falls back to the SP's default (HTTP-POST) ACS and starts a browser login:
    # no SOAP at all. A client must not follow it (its Authorization header would go along).
    _, envelope = authn_request(acs_url="https://signin.amazonaws.cn/saml")
    answer = post_ecp(ecp_idp.ecp_url, envelope, (CAROL.username, CAROL.password))

    assert answer.status_code == 303
    assert LOGIN_PATH in answer.headers["Location"]
    assert answer.headers["Content-Type"].startswith("text/html")


def test_an_unknown_sp_is_an_html_error_page(ecp_idp: EcpSimpleSamlPhp) -> None:
    _, envelope = authn_request(issuer="urn:example:not-aws")
    answer = post_ecp(ecp_idp.ecp_url, envelope, (CAROL.username, CAROL.password))

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert b"ecp:Response" not in answer.content


def test_without_ecp_switched_on_the_same_request_gets_no_soap_answer(
    tmp_path: Path,
) -> None:
    with SimpleSamlPhp(tmp_path, [CAROL]) as plain:
        _, envelope = authn_request()
        answer = post_ecp(
            f"{plain.base_url}/saml2/idp/SSOService.php",
            envelope,
            (CAROL.username, CAROL.password),
        )

    assert answer.status_code == 303  # the browser login form: ECP needs both switches
    assert LOGIN_PATH in answer.headers["Location"]


def test_the_proxy_rewrites_the_unsigned_acs_header_and_leaves_the_response_signed(
    ecp_idp: EcpSimpleSamlPhp,
) -> None:
    with EcpTamperProxy(ecp_idp.ecp_url, rewrite_acs=EVIL_ACS) as proxy:
        _, answer, parsed = login(proxy.url, (CAROL.username, CAROL.password))
        assert proxy.forwarded == 1 and proxy.tampered == 1

    assert answer.status_code == 200
    assert parsed.acs_url == EVIL_ACS  # differs from the AuthnRequest's ACS: the client aborts
    assert parsed.status == STATUS_SUCCESS
    assert parsed.destination == AWS_ACS
    xml = saml.decode(parsed.saml_response())
    cert = x509.load_pem_x509_certificate(ecp_idp.certificate.read_bytes())
    verify_signatures(xml, saml.parse_xml(xml), cert, now=datetime.now(timezone.utc))


def test_the_proxy_can_rewrite_the_destination_or_drop_the_header(
    ecp_idp: EcpSimpleSamlPhp,
) -> None:
    with EcpTamperProxy(ecp_idp.ecp_url, rewrite_destination=EVIL_ACS) as proxy:
        _, _, moved = login(proxy.url, (CAROL.username, CAROL.password))
    with EcpTamperProxy(ecp_idp.ecp_url, drop_header=True) as proxy:
        _, _, headless = login(proxy.url, (CAROL.username, CAROL.password))

    assert moved.acs_url == AWS_ACS and moved.destination == EVIL_ACS
    assert headless.acs_url is None and headless.status == STATUS_SUCCESS


def test_the_proxy_passes_a_refusal_through_untouched_when_told_nothing(
    ecp_idp: EcpSimpleSamlPhp,
) -> None:
    with EcpTamperProxy(ecp_idp.ecp_url) as proxy:
        _, answer, parsed = login(proxy.url, (CAROL.username, "wrong"))
        assert proxy.forwarded == 1 and proxy.tampered == 0

    assert answer.status_code == 200
    assert parsed.status == STATUS_RESPONDER
