"""samljit.tools.sandbox.response: building, signing and encoding SAML Responses."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from signxml.exceptions import InvalidSignature
from signxml.verifier import XMLVerifier

from samljit.tools.sandbox.response import (
    DS_NS,
    ROLE_ATTRIBUTE,
    ROLE_SESSION_NAME_ATTRIBUTE,
    SAML_NS,
    SAMLP_NS,
    SESSION_DURATION_ATTRIBUTE,
    XENC_NS,
    RoleGrant,
    build_encrypted_placeholder,
    build_response,
    encode,
    sign,
)

REPO = Path(__file__).resolve().parents[2]
KEY = (REPO / "fixtures/keys/idp-test.key").read_bytes()
CERT = (REPO / "fixtures/keys/idp-test.crt").read_bytes()
ATTACKER_CERT = (REPO / "fixtures/keys/attacker.crt").read_bytes()
NS = {"samlp": SAMLP_NS, "saml": SAML_NS, "ds": DS_NS, "xenc": XENC_NS}

DEV = RoleGrant("arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/Jc")
OPS = RoleGrant("arn:aws:iam::222222222222:role/Ops", "arn:aws:iam::222222222222:saml-provider/Jc")
RO = RoleGrant("arn:aws:iam::333333333333:role/RO", "arn:aws:iam::333333333333:saml-provider/Jc")
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _build(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "issuer": "https://idp.example/saml",
        "name_id": "ana@example.com",
        "roles": [DEV, OPS],
        "session_name": "ana@example.com",
        "now": NOW,
    }
    args.update(overrides)
    return build_response(**args)


def _attr(root: Any, name: str) -> list[str]:
    path = f".//saml:Attribute[@Name='{name}']/saml:AttributeValue"
    return [v.text for v in root.findall(path, NS)]


def _verify(root: Any, cert: bytes = CERT) -> Any:
    xml = etree.tostring(root)
    return XMLVerifier().verify(xml, x509_cert=cert.decode())


def test_response_structure() -> None:
    root = _build()
    assertion = root.find("saml:Assertion", NS)
    assert root.tag == f"{{{SAMLP_NS}}}Response"
    assert root.get("Destination") == "https://signin.aws.amazon.com/saml"
    assert root.get("IssueInstant") == "2030-01-02T03:04:05Z"
    assert root.get("Version") == "2.0"
    assert root.findtext("saml:Issuer", namespaces=NS) == "https://idp.example/saml"
    status = root.find("samlp:Status/samlp:StatusCode", NS)
    assert status.get("Value") == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert assertion.findtext("saml:Issuer", namespaces=NS) == "https://idp.example/saml"
    assert assertion.findtext("saml:Subject/saml:NameID", namespaces=NS) == "ana@example.com"
    data = assertion.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    assert data.get("Recipient") == "https://signin.aws.amazon.com/saml"
    assert data.get("NotOnOrAfter") == "2030-01-02T03:09:05Z"
    conditions = assertion.find("saml:Conditions", NS)
    assert conditions.get("NotBefore") == "2030-01-02T03:04:05Z"
    assert conditions.get("NotOnOrAfter") == "2030-01-02T03:09:05Z"
    audience = "saml:AudienceRestriction/saml:Audience"
    assert conditions.findtext(audience, namespaces=NS) == "urn:amazon:webservices"
    assert assertion.find("saml:AuthnStatement", NS).get("AuthnInstant") == "2030-01-02T03:04:05Z"
    assert _attr(root, ROLE_ATTRIBUTE) == [
        f"{DEV.role_arn},{DEV.principal_arn}",
        f"{OPS.role_arn},{OPS.principal_arn}",
    ]
    assert _attr(root, ROLE_SESSION_NAME_ATTRIBUTE) == ["ana@example.com"]
    assert _attr(root, SESSION_DURATION_ATTRIBUTE) == ["3600"]


def test_ids_are_random_ncnames() -> None:
    first, second = _build(), _build()
    ids = [
        el.get("ID") for root in (first, second) for el in (root, root.find("saml:Assertion", NS))
    ]
    assert all(i.startswith("_") and len(i) > 20 for i in ids)
    assert len(set(ids)) == 4


def test_options() -> None:
    root = _build(
        audience="urn:example:sp",
        destination="https://sp.example/acs",
        lifetime=timedelta(hours=1),
        session_duration=None,
        extra_attributes={"https://example/groups": ["a", "b"]},
    )
    assert root.get("Destination") == "https://sp.example/acs"
    assert root.findtext(".//saml:Audience", namespaces=NS) == "urn:example:sp"
    data = root.find(".//saml:SubjectConfirmationData", NS)
    assert data.get("Recipient") == "https://sp.example/acs"
    assert root.find(".//saml:Conditions", NS).get("NotOnOrAfter") == "2030-01-02T04:04:05Z"
    assert _attr(root, SESSION_DURATION_ATTRIBUTE) == []
    assert root.find(f".//saml:Attribute[@Name='{SESSION_DURATION_ATTRIBUTE}']", NS) is None
    assert _attr(root, "https://example/groups") == ["a", "b"]


def test_naive_now_is_utc() -> None:
    root = _build(now=datetime(2030, 1, 2, 3, 4, 5))
    assert root.get("IssueInstant") == "2030-01-02T03:04:05Z"


def test_role_order() -> None:
    grants = [DEV, OPS, RO]
    reversed_values = [f"{g.principal_arn},{g.role_arn}" for g in grants]
    assert _attr(_build(roles=grants, role_order="principal-first"), ROLE_ATTRIBUTE) == (
        reversed_values
    )
    assert _attr(_build(roles=grants, role_order="mixed"), ROLE_ATTRIBUTE) == [
        f"{DEV.role_arn},{DEV.principal_arn}",
        f"{OPS.principal_arn},{OPS.role_arn}",
        f"{RO.role_arn},{RO.principal_arn}",
    ]


def test_no_roles_means_no_role_attribute() -> None:
    root = _build(roles=[])
    assert root.find(f".//saml:Attribute[@Name='{ROLE_ATTRIBUTE}']", NS) is None
    assert _attr(root, ROLE_SESSION_NAME_ATTRIBUTE) == ["ana@example.com"]


def test_pad_whitespace() -> None:
    root = _build(pad_whitespace=True)
    values = _attr(root, ROLE_ATTRIBUTE)
    assert values[0] != values[0].strip()
    assert values[0].strip() == f"{DEV.role_arn}, {DEV.principal_arn}"
    assert "\n" in etree.tostring(root).decode()
    _verify(sign(root, KEY, CERT))


@pytest.mark.parametrize("target", ["assertion", "response", "both"])
def test_signature_placement_and_verification(target: str) -> None:
    unsigned = _build()
    signed = sign(unsigned, KEY, CERT, target=target)  # type: ignore[arg-type]
    assert unsigned.find(".//ds:Signature", NS) is None  # the input is left alone
    assertion = signed.find("saml:Assertion", NS)
    signed_elements = {"assertion": [assertion], "response": [signed], "both": [signed, assertion]}
    for element in signed_elements[target]:
        signature = element[1]
        assert element[0].tag == f"{{{SAML_NS}}}Issuer"
        assert signature.tag == f"{{{DS_NS}}}Signature"
        uri = signature.find("ds:SignedInfo/ds:Reference", NS).get("URI")
        assert uri == "#" + element.get("ID")
        method = signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm")
        assert method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert len(signed.findall(".//ds:Signature", NS)) == len(signed_elements[target])
    assert b"InclusiveNamespaces" not in etree.tostring(signed)
    result = _verify(signed)
    assert result.signed_xml.get("ID") == signed_elements[target][0].get("ID")
    if target == "both":
        _verify(assertion)


@pytest.mark.parametrize("target", ["assertion", "response", "both"])
def test_edited_role_fails_verification(target: str) -> None:
    signed = sign(_build(), KEY, CERT, target=target)  # type: ignore[arg-type]
    value = signed.find(f".//saml:Attribute[@Name='{ROLE_ATTRIBUTE}']/saml:AttributeValue", NS)
    value.text = "arn:aws:iam::999999999999:role/Admin,arn:aws:iam::999999999999:saml-provider/X"
    with pytest.raises(InvalidSignature):
        _verify(signed)


def test_other_cert_fails_verification() -> None:
    signed = sign(_build(), KEY, CERT)
    with pytest.raises(InvalidSignature):
        _verify(signed, ATTACKER_CERT)


def test_encode_round_trip() -> None:
    signed = sign(_build(), KEY, CERT)
    xml = base64.b64decode(encode(signed), validate=True)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    _verify(etree.fromstring(xml))


def test_encrypted_placeholder() -> None:
    root = build_encrypted_placeholder(issuer="https://idp.example/saml", now=NOW)
    assert root.find("saml:Assertion", NS) is None
    data = root.find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    assert data is not None
    assert data.find("xenc:CipherData/xenc:CipherValue", NS).text
    assert root.findtext("saml:Issuer", namespaces=NS) == "https://idp.example/saml"
    assert base64.b64decode(encode(root)).startswith(b"<?xml")
    with pytest.raises(ValueError, match="no saml:Assertion"):
        sign(root, KEY, CERT)


def test_import_is_light() -> None:
    code = (
        "import sys, samljit.tools.sandbox.response; "
        "print(sorted(m for m in ('lxml', 'signxml', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
