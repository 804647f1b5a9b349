"""SimpleSAMLphp with SAML ECP switched on, and the SOAP AuthnRequest an ECP client posts to it
(shared protocols page ``ecp.md``).

:class:`EcpSimpleSamlPhp` is :class:`~tests.support.simplesamlphp.SimpleSamlPhp` with two
additions to the metadata it writes, appended as PHP statements after the stock entries (so
everything else, users and roles included, stays as for the browser tests):

* the IdP hosted metadata gets ``'saml20.ecp' => true``;
* the ``urn:amazon:webservices`` SP entry gets a second AssertionConsumerService, same
  ``Location``, binding PAOS (SimpleSAMLphp picks the ACS matching URL *and* binding; without
  a PAOS one it cannot answer ECP).

    with EcpSimpleSamlPhp(tmp_dir, [SspUser("alice", "pw", [(role, principal)])]) as idp:
        answer = post_ecp(idp.ecp_url, authn_request(), ("alice", "pw"))
        parsed = EcpAnswer.parse(answer.content)

:func:`authn_request` builds the request exactly as the page's §2 says (SOAP 1.1 Body only,
``xs:ID``-valid ID, UTC IssueInstant, PAOS ProtocolBinding, Issuer = the AWS URN).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from providers.ecp import authn_request_envelope
from tests.support.simplesamlphp import AWS_ACS, AWS_URN, SimpleSamlPhp, SspUser, _php

if TYPE_CHECKING:
    import requests

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ECP_NS = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
PAOS_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
#: SimpleSAMLphp 1.19's StatusMessage for a wrong or missing password over ECP (SSP, seen).
WRONG_PASSWORD_STATUS = "SimpleSAML\\Error\\Error: WRONGUSERPASS"
#: The content type SimpleSAMLphp 1.19 recognises as the SOAP binding (``application/vnd.paos+xml``
#: earns a 405).
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
NS = {"S": SOAP_NS, "ecp": ECP_NS, "samlp": SAMLP_NS, "saml": SAML_NS, "ds": DS_NS}

#: The AWS account whose two roles the ECP tests' users may take, through the IdP's provider.
ACCOUNT = "012345678987"
IDP_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/SimpleSAMLphp"
RO = f"arn:aws:iam::{ACCOUNT}:role/EcpReadOnly"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/EcpAdmin"


def ecp_user(name: str, password: str) -> SspUser:
    """A user of the ECP IdP granted both roles (read-only first)."""
    return SspUser(name, password, [(RO, IDP_ARN), (ADMIN, IDP_ARN)])


class EcpSimpleSamlPhp(SimpleSamlPhp):
    """A :class:`SimpleSamlPhp` that also answers SAML ECP at :attr:`ecp_url`."""

    @property
    def ecp_url(self) -> str:
        """SimpleSAMLphp's ECP endpoint: its SSO endpoint itself (no query)."""
        return f"{self.base_url}/saml2/idp/SSOService.php"

    def _write_config(self) -> None:
        super()._write_config()
        metadata = self.config_dir / "metadata"
        with (metadata / "saml20-idp-hosted.php").open("a", encoding="utf-8") as idp:
            idp.write("$metadata['__DYNAMIC:1__']['saml20.ecp'] = true;\n")
        endpoints = [
            {"index": 0, "Binding": POST_BINDING, "Location": AWS_ACS},
            {"index": 1, "Binding": PAOS_BINDING, "Location": AWS_ACS},
        ]
        with (metadata / "saml20-sp-remote.php").open("a", encoding="utf-8") as sp:
            sp.write(
                f"$metadata[{_php(AWS_URN)}]['AssertionConsumerService'] = {_php(endpoints)};\n"
            )


def new_request_id() -> str:
    """An ``xs:ID``: starts with ``_`` (a bare hex or UUID may start with a digit)."""
    return "_" + secrets.token_hex(20)


def authn_request(
    *,
    request_id: str | None = None,
    issuer: str = AWS_URN,
    acs_url: str = AWS_ACS,
    now: datetime | None = None,
) -> tuple[str, bytes]:
    """``(ID, SOAP envelope)`` of an ECP AuthnRequest, built as the protocol page's §2 shows
    (by the ShibbolethECP provider's own builder: one way to write it)."""
    request_id = request_id or new_request_id()
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return request_id, authn_request_envelope(request_id, acs_url, issuer, moment)


def post_ecp(
    url: str,
    envelope: bytes,
    auth: tuple[str, str] | None,
    *,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST ``envelope`` as an ECP client does: ``text/xml``, Basic auth sent pre-emptively
    (none when ``auth`` is None), no redirects followed."""
    import requests

    poster: Any = session or requests
    response: requests.Response = poster.post(
        url,
        data=envelope,
        auth=auth,
        headers={"Content-Type": SOAP_CONTENT_TYPE},
        allow_redirects=False,
        timeout=30,
    )
    return response


@dataclass(frozen=True)
class EcpAnswer:
    """The parts of a SOAP answer an ECP client checks (protocol page §4)."""

    #: ``ecp:Response/@AssertionConsumerServiceURL`` (None: no such header block).
    acs_url: str | None
    status: str | None
    status_message: str | None
    destination: str | None
    in_response_to: str | None
    #: The ``samlp:Response`` element as received (None: the Body holds none).
    response: Any
    fault: str | None

    @classmethod
    def parse(cls, content: bytes) -> EcpAnswer:
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(content, parser)
        header = root.find("S:Header/ecp:Response", NS)
        responses = root.findall("S:Body/samlp:Response", NS)
        if len(responses) > 1:
            raise ValueError("more than one samlp:Response in the SOAP Body")
        response = responses[0] if responses else None
        fault = root.find("S:Body/S:Fault", NS)
        return cls(
            acs_url=None if header is None else header.get("AssertionConsumerServiceURL"),
            status=None
            if response is None
            else response.find("samlp:Status/samlp:StatusCode", NS).get("Value"),
            status_message=None
            if response is None
            else response.findtext("samlp:Status/samlp:StatusMessage", None, NS),
            destination=None if response is None else response.get("Destination"),
            in_response_to=None if response is None else response.get("InResponseTo"),
            response=response,
            fault=None if fault is None else fault.findtext("faultstring"),
        )

    def saml_response(self) -> str:
        """The ``SAMLAssertion`` STS takes: base64 of the Response element alone, as received
        (protocol page §7)."""
        import base64

        from lxml import etree

        if self.response is None:
            raise ValueError("the answer holds no samlp:Response")
        return base64.b64encode(etree.tostring(self.response)).decode("ascii")
