"""ShibbolethECP (providers/ecp.py): the provider conformance kit against the real SimpleSAMLphp
with ECP on, and narrow tests of the answers SimpleSAMLphp does not give (Shibboleth's and
Keycloak's 401, Keycloak's SOAP fault, a redirect, an HTML page, tampered answers) and of
the request itself (shared/protocols/ecp.md §2), with ``responses``."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from lxml import etree
from samljit.providers.ecp import ShibbolethEcpProvider

from samljit.aws.arn import acs_for_urn
from samljit.common.errors import (
    AuthenticationError,
    ConfigError,
    IdpServiceError,
    MissingInputError,
)
from samljit.common.http import HttpClient
from samljit.config.accounts import Account
from samljit.config.saml2aws import convert_section
from samljit.idp.provider import LoginSecrets, Plugins
from samljit.testing.conformance import ProviderConformance
from samljit.testing.fakes import fake_services
from tests.support.ecp_tamper import ShibbolethDuoGate
from tests.support.simplesamlphp import SspUser
from tests.support.simplesamlphp_ecp import EcpSimpleSamlPhp
from tests.support.tools import requires_tool

URL = "https://idp.example.edu/idp/profile/SAML2/SOAP/ECP"
ACS = "https://signin.aws.amazon.com/saml"
ROLE = "arn:aws:iam::012345678987:role/Ecp"
PRINCIPAL = "arn:aws:iam::012345678987:saml-provider/Uni"
NS = {
    "S": "http://schemas.xmlsoap.org/soap/envelope/",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


#: Frank's Shibboleth login asks Duo for a passcode (tests.support.ecp_tamper.ShibbolethDuoGate).
DUO_PASSCODE = "402913"


@pytest.fixture(scope="module")
def kit_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcpSimpleSamlPhp]:
    users = [
        SspUser("erin", "erin-Ecp-1185", [(ROLE, PRINCIPAL)]),
        SspUser("frank", "frank-Duo-2207", [(ROLE, PRINCIPAL)]),
    ]
    with EcpSimpleSamlPhp(tmp_path_factory.mktemp("ssp-ecp-kit"), users) as idp:
        yield idp


@requires_tool("SimpleSAMLphp")
class TestConformance(ProviderConformance):
    provider = ShibbolethEcpProvider
    good = LoginSecrets("erin", "erin-Ecp-1185")
    bad = LoginSecrets("erin", "not erin's")
    mfa = LoginSecrets("frank", "frank-Duo-2207", mfa_token=DUO_PASSCODE)

    @pytest.fixture
    def idp(self, kit_idp: EcpSimpleSamlPhp) -> Iterator[ShibbolethDuoGate]:
        with ShibbolethDuoGate(kit_idp.ecp_url, {"frank": DUO_PASSCODE}) as gate:
            yield gate

    def account(self, idp: ShibbolethDuoGate, tmp_path: Path) -> Account:
        return Account(name="uni", provider="ShibbolethECP", url=idp.url)


# -- narrow tests -----------------------------------------------------------------------------
def soap_answer(
    request: Any,
    *,
    status: str = SUCCESS,
    message: str | None = None,
    acs: str | None = ACS,
    destination: str = ACS,
    in_response_to: str | None = None,
    responses_in_body: int = 1,
) -> bytes:
    """A SOAP answer shaped as SimpleSAMLphp's (unsigned: the provider leaves signatures to
    the flow's verification), answering ``request``."""
    sent = etree.fromstring(request.body)
    authn = sent.find("S:Body/samlp:AuthnRequest", NS)
    header = (
        f'<ecp:Response xmlns:ecp="urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp" '
        f'SOAP-ENV:mustUnderstand="1" AssertionConsumerServiceURL="{acs}"/>'
        if acs is not None
        else ""
    )
    replied = in_response_to if in_response_to is not None else authn.get("ID")
    status_xml = f'<samlp:StatusCode Value="{status}"/>' + (
        f"<samlp:StatusMessage>{message}</samlp:StatusMessage>" if message else ""
    )
    one = (
        f'<samlp:Response xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" ID="_r1" '
        f'Version="2.0" Destination="{destination}" InResponseTo="{replied}">'
        f"<samlp:Status>{status_xml}</samlp:Status></samlp:Response>"
    )
    return (
        f'<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{NS["S"]}">'
        f"<SOAP-ENV:Header>{header}</SOAP-ENV:Header>"
        f"<SOAP-ENV:Body>{one * responses_in_body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def login(
    tmp_path: Path,
    answer: Callable[[Any], tuple[int, dict[str, str], bytes]],
    *,
    secrets: LoginSecrets | None = None,
    **options: str,
) -> tuple[str, list[Any]]:
    services, _, _ = fake_services({"HOME": str(tmp_path)})
    urn = options.pop("aws_urn", "urn:amazon:webservices")
    account = Account(
        name="uni", provider="ShibbolethECP", url=URL, aws_urn=urn, options=dict(options)
    )
    http = HttpClient(env=services.env, sleep=services.sleep, monotonic=services.monotonic)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, URL, callback=answer)
        try:
            encoded = ShibbolethEcpProvider(account, http, services).login(
                secrets or LoginSecrets("dana", "pw-Ecp-1")
            )
        finally:
            calls = [call.request for call in mock.calls]
    return encoded, calls


def ok(request: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/xml;charset=UTF-8"}, soap_answer(request)


def test_the_request_is_a_soap_authn_request_for_aws_with_basic_auth(tmp_path: Path) -> None:
    encoded, calls = login(tmp_path, ok)
    (sent,) = calls
    assert sent.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"dana:pw-Ecp-1").decode()
    assert not any(name.lower().startswith("x-shibboleth-duo") for name in sent.headers)
    authn = etree.fromstring(sent.body).find("S:Body/samlp:AuthnRequest", NS)
    assert authn.get("ID")[0] == "_" and len(authn.get("ID")) > 30  # an xs:ID
    assert authn.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
    assert authn.get("AssertionConsumerServiceURL") == ACS
    assert authn.get("IssueInstant").endswith("Z")
    assert authn.findtext("saml:Issuer", None, NS) == "urn:amazon:webservices"
    response = etree.fromstring(base64.b64decode(encoded))
    assert response.tag == f"{{{NS['samlp']}}}Response"


@pytest.mark.parametrize(
    ("urn", "acs"),
    [
        ("urn:amazon:webservices", "https://signin.aws.amazon.com/saml"),
        ("urn:amazon:webservices:govcloud", "https://signin.amazonaws-us-gov.com/saml"),
        ("urn:amazon:webservices:cn", "https://signin.amazonaws.cn/saml"),
        ("urn:amazon:webservices:cn-north-1", "https://signin.amazonaws.cn/saml"),
    ],
)
def test_issuer_and_acs_follow_the_urns_partition(tmp_path: Path, urn: str, acs: str) -> None:
    assert acs_for_urn(urn) == acs

    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "text/xml"}, soap_answer(request, acs=acs, destination=acs)

    _, (sent,) = login(tmp_path, answer, aws_urn=urn)
    authn = etree.fromstring(sent.body).find("S:Body/samlp:AuthnRequest", NS)
    assert authn.findtext("saml:Issuer", None, NS) == urn
    assert authn.get("AssertionConsumerServiceURL") == acs


def test_a_401_is_exit_3_in_one_line(tmp_path: Path) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return (
            401,
            {"WWW-Authenticate": 'Basic realm="uni"', "Content-Type": "text/plain"},
            (b"Bad credentials\r\n\x1b[31mgo away"),
        )

    with pytest.raises(AuthenticationError) as caught:
        login(tmp_path, answer)
    assert caught.value.message.startswith("the IdP refused the ECP login (HTTP 401): Bad cred")
    assert "\n" not in caught.value.message and "\x1b" not in caught.value.message


def test_keycloaks_soap_fault_is_exit_3_with_its_words(tmp_path: Path) -> None:
    fault = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Some error occurred while "
        b"processing the AuthnRequest.</faultstring><detail>Client is not allowed to use ECP "
        b"profile.</detail></soap:Fault></soap:Body></soap:Envelope>"
    )

    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return 500, {"Content-Type": "text/xml"}, fault

    with pytest.raises(AuthenticationError) as caught:
        login(tmp_path, answer)
    assert caught.value.message == (
        "the IdP answered with a SOAP fault: Some error occurred while processing the "
        "AuthnRequest.: Client is not allowed to use ECP profile."
    )


def test_a_wrong_password_status_is_exit_3_with_code_and_message(tmp_path: Path) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        refused = soap_answer(
            request,
            status="urn:oasis:names:tc:SAML:2.0:status:Responder",
            message="SimpleSAML\\Error\\Error: WRONGUSERPASS",
        )
        return 200, {"Content-Type": "text/xml"}, refused

    with pytest.raises(AuthenticationError) as caught:
        login(tmp_path, answer)
    assert caught.value.message == (
        "the IdP refused the ECP login: Responder: SimpleSAML\\Error\\Error: WRONGUSERPASS"
    )


def test_a_redirect_is_not_followed_with_the_credential(tmp_path: Path) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return 303, {"Location": "https://idp.example.edu/login?AuthState=x"}, b""

    with pytest.raises(ConfigError) as caught:
        _, _ = login(tmp_path, answer)
    assert "did not answer ECP" in caught.value.message


def test_an_html_page_is_not_an_ecp_answer(tmp_path: Path) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "text/html"}, b"<html><body>Unknown SP</body></html>"

    with pytest.raises(ConfigError) as caught:
        login(tmp_path, answer)
    assert "no SOAP message" in caught.value.message


def test_a_server_error_without_a_fault_is_the_idps_trouble(tmp_path: Path) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return 503, {"Content-Type": "text/plain"}, b"down"

    with pytest.raises(IdpServiceError):
        login(tmp_path, answer)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"acs": "https://evil.example/saml"}, "the answer is for 'https://evil.example/saml'"),
        ({"acs": None}, "no ecp:Response header"),
        ({"in_response_to": "_someone_elses"}, "answers another request"),
        ({"destination": "https://evil.example/saml"}, "addressed to"),
        ({"responses_in_body": 2}, "2 SAML Responses"),
    ],
)
def test_an_answer_the_profile_refuses_stops_the_login(
    tmp_path: Path, change: dict[str, Any], said: str
) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "text/xml"}, soap_answer(request, **change)

    with pytest.raises(AuthenticationError) as caught:
        login(tmp_path, answer)
    assert said in caught.value.message


@pytest.mark.parametrize(
    ("options", "token", "headers"),
    [
        ({"duo_factor": "Push"}, None, {"X-Shibboleth-Duo-Factor": "push"}),
        ({"duo_factor": "Phone Call"}, None, {"X-Shibboleth-Duo-Factor": "phone"}),
        (
            {"duo_device": "DPXXXXXX"},
            None,
            {"X-Shibboleth-Duo-Factor": "auto", "X-Shibboleth-Duo-Device": "DPXXXXXX"},
        ),
        (
            {},
            "123456",
            {"X-Shibboleth-Duo-Factor": "passcode", "X-Shibboleth-Duo-Passcode": "123456"},
        ),
        (
            {"duo_factor": "Passcode"},
            "654321",
            {"X-Shibboleth-Duo-Factor": "passcode", "X-Shibboleth-Duo-Passcode": "654321"},
        ),
    ],
)
def test_duo_headers_only_when_asked_for(
    tmp_path: Path, options: dict[str, str], token: str | None, headers: dict[str, str]
) -> None:
    _, (sent,) = login(tmp_path, ok, secrets=LoginSecrets("dana", "pw", token), **options)
    duo = {k: v for k, v in sent.headers.items() if k.lower().startswith("x-shibboleth-duo")}
    assert duo == headers


def test_a_duo_passcode_without_a_code_or_terminal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MissingInputError):
        login(tmp_path, ok, duo_factor="passcode")


def test_an_unknown_duo_factor_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duo_factor is set to 'yubikey'"):
        login(tmp_path, ok, duo_factor="yubikey")


def test_registered_under_both_names() -> None:
    assert Plugins().load("ecp") is Plugins().load("ShibbolethECP") is ShibbolethEcpProvider


def test_saml2aws_shibbolethecp_sections_keep_their_ecp_endpoint_and_duo_factor() -> None:
    from samljit.cli.commands.configure import _provider_lookup

    converted = convert_section(
        "uni",
        {
            "provider": "ShibbolethECP",
            "url": URL,
            "username": "dana",
            "mfa": "push",
            "aws_profile": "uni",
        },
        provider_lookup=_provider_lookup,
    )
    assert converted.skipped is None
    assert converted.values["provider"] == "ShibbolethECP"
    assert converted.values["url"] == URL
    assert converted.values["duo_factor"] == "push"
    assert converted.values.get("mfa") in (None, "Auto")
