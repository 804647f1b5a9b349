"""The attack corpus against a pinned IdP certificate: every case is a genuinely signed
response reworked by an attacker, and every test asserts which check refused it."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.verifier import XMLVerifier

from samljit.common.errors import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    SamljitError,
    VerificationError,
)
from samljit.common.terminal import Terminal
from samljit.saml import assertion as saml
from samljit.saml import verify
from samljit.tools.cert.generation import certificate_builder
from samljit.tools.sandbox.response import STATUS_SUCCESS, RoleGrant, build_response, encode
from tests.security import corpus
from tests.security.corpus import (
    ADMIN_ARN,
    ATTACKER_CERT,
    ATTACKER_KEY,
    IDP_CERT,
    NOW,
    READONLY_ARN,
    XSW,
    check,
    genuine,
)


def refused(document: Any, **kwargs: Any) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        check(document, **kwargs)
    return caught.value


def roles_of(parsed: saml.SamlAssertion) -> list[str]:
    return [role.role_arn for role in parsed.roles]


# -- the genuine article ------------------------------------------------------------------
@pytest.mark.parametrize("target", ["assertion", "response", "both"])
def test_a_genuine_response_passes_every_check(target: Any) -> None:
    parsed, said = check(genuine(target))
    assert roles_of(parsed) == [READONLY_ARN]
    assert parsed.audiences == ("urn:amazon:webservices",)
    assert parsed.recipient == "https://signin.aws.amazon.com/saml"
    assert parsed.session_name == "ops@acme.example"
    assert said == ""


def test_without_a_pinned_certificate_nothing_is_verified() -> None:
    # Today's behaviour without idp_certificate: parse only, STS checks the signature.
    forged = genuine(key=ATTACKER_KEY, cert=ATTACKER_CERT)
    parsed, _ = check(forged, pinned=None)
    assert roles_of(parsed) == [READONLY_ARN]


# -- signature wrapping -------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(XSW))
def test_signature_wrapping_is_refused(name: str) -> None:
    target, attack = XSW[name]
    document = attack(genuine(target))
    # The attack is real: the evil (full-admin) role is in the document.
    assert ADMIN_ARN in etree.tostring(document).decode()
    error = refused(document)
    assert str(error).startswith("signature check failed: ")
    assert "signature wrapping" in str(error)
    expected = "2 Response elements" if target == "response" else "2 Assertion elements"
    assert expected in str(error)
    assert error.hint and "someone may be tampering with the login" in error.hint


# With the shape checks switched off (the pinned one and the one every response gets), the
# signature checks alone still refuse every variant:
# the reference must name the element the signature sits in, IDs must be unambiguous, and the
# document's one Assertion must carry (or be covered by) the signature.
SECOND_LINE = {
    "XSW1": "does not follow the XML Signature schema",
    "XSW2": "signature references '#_",
    "XSW3": "more than one Assertion",
    "XSW4": "the response is not signed",
    "XSW5": "more than one Assertion",
    "XSW6": "does not follow the XML Signature schema",
    "XSW7": "Ambiguous reference URI",
    "XSW8": "Ambiguous reference URI",
}


@pytest.mark.parametrize("name", sorted(XSW))
def test_signature_wrapping_is_refused_even_without_the_shape_check(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify, "check_shape", lambda response: None)
    monkeypatch.setattr(saml, "check_assertion_shape", lambda response: None)
    target, attack = XSW[name]
    with pytest.raises(AuthenticationError) as caught:
        check(attack(genuine(target)))
    assert SECOND_LINE[name] in str(caught.value)
    if not isinstance(caught.value, AssertionFormatError):
        assert str(caught.value).startswith("signature check failed: ")


def test_roles_are_read_from_the_signed_copy_not_the_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Even if every structural defence were gone, what samljit reads is what was signed.
    document = genuine("response")
    monkeypatch.setattr(verify, "check_shape", lambda response: None)
    xml = etree.tostring(document)
    signed = verify.verify_signatures(
        xml, saml.parse_xml(xml), x509.load_pem_x509_certificate(IDP_CERT), now=NOW
    )
    assert [saml.text_of(v) for v in corpus.role_values(signed.assertion)] == [
        f"{READONLY_ARN},{corpus.PROVIDER_ARN}"
    ]


# -- keys and certificates ----------------------------------------------------------------
def test_signed_by_another_key_is_refused() -> None:
    # The attacker signs with their key but copies the IdP's real certificate into KeyInfo.
    forged = genuine(key=ATTACKER_KEY, cert=IDP_CERT)
    error = refused(forged)
    assert str(error) == (
        "signature check failed: the Assertion's signature was not made with the pinned "
        "certificate's key"
    )


@pytest.mark.parametrize("target", ["assertion", "response"])
def test_a_valid_looking_certificate_in_keyinfo_is_not_trusted(target: Any) -> None:
    # attacker.crt has the same subject as the real one and matches the signing key, so a
    # verifier that trusts KeyInfo would accept this document.
    forged = genuine(target, key=ATTACKER_KEY, cert=ATTACKER_CERT)
    XMLVerifier().verify(etree.tostring(forged), x509_cert=ATTACKER_CERT.decode())
    assert x509.load_pem_x509_certificate(ATTACKER_CERT).subject == (
        x509.load_pem_x509_certificate(IDP_CERT).subject
    )
    error = refused(forged)
    assert "signature check failed: " in str(error)
    assert "was not made with the pinned certificate's key" in str(error)


def unsigned() -> Any:
    """A Response granting read-only, not signed yet: for signatures made by hand."""
    return build_response(
        issuer="idp",
        name_id="ops@acme.example",
        roles=[corpus.READONLY],
        session_name="ops",
        now=NOW,
    )


def test_signature_removed_is_refused() -> None:
    document = genuine()
    assertion = corpus.the_assertion(document)
    assertion.remove(corpus.signature_of(assertion))
    error = refused(document)
    assert str(error) == (
        "signature check failed: the response is not signed (neither the Response nor the "
        "Assertion has a Signature)"
    )


def test_signature_over_an_empty_reference_is_refused() -> None:
    # A genuine signature with Reference URI="" (the whole document, not an element by ID).
    root = unsigned()
    del root.attrib["ID"]
    document = corpus.sign_reference(root, root, None)
    assert document.find("ds:Signature/ds:SignedInfo/ds:Reference", corpus.NS).get("URI") == ""
    error = refused(document)
    assert str(error) == (
        "signature check failed: the Response's signature references '', not the Response it "
        "is in (which has no ID)"
    )


def test_signature_over_an_empty_element_is_refused() -> None:
    # A genuine signature in the Assertion, but its Reference names an empty element.
    root = unsigned()
    empty = etree.Element(f"{{{corpus.SAMLP_NS}}}Extensions", ID="_empty")
    root.find("samlp:Status", corpus.NS).addprevious(empty)
    document = corpus.sign_reference(root, corpus.the_assertion(root), "#_empty")
    error = refused(document)
    assert "signature check failed: the Assertion's signature references '#_empty'" in str(error)


def test_reference_to_nothing_is_refused() -> None:
    document = genuine()
    reference = document.find(".//ds:Reference", corpus.NS)
    reference.set("URI", "#_nowhere")
    error = refused(document)
    assert str(error).startswith("signature check failed: ")


def test_editing_a_signed_role_value_breaks_the_digest() -> None:
    document = genuine()
    corpus.escalate(corpus.the_assertion(document))
    error = refused(document)
    assert str(error) == (
        "signature check failed: the Assertion was changed after it was signed (digest mismatch)"
    )


def test_editing_the_signed_response_breaks_the_digest() -> None:
    document = genuine("response")
    document.set("Destination", "https://eu-west-1.signin.aws.amazon.com/saml")
    error = refused(document)
    assert "the Response was changed after it was signed" in str(error)


def test_sha1_signatures_are_refused() -> None:
    from signxml.algorithms import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
    from signxml.signer import XMLSigner

    root = unsigned()
    assertion = corpus.the_assertion(root)
    placeholder = etree.Element(
        f"{{{corpus.DS_NS}}}Signature", nsmap={"ds": corpus.DS_NS}, Id="placeholder"
    )
    assertion.find("saml:Issuer", corpus.NS).addnext(placeholder)

    class Sha1Signer(XMLSigner):  # signxml refuses to make SHA-1 signatures by default
        def check_deprecated_methods(self) -> None:
            return None

    signer = Sha1Signer(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA1,
        digest_algorithm=DigestAlgorithm.SHA1,
    )
    document = signer.sign(
        root, key=corpus.IDP_KEY, cert=IDP_CERT.decode(), reference_uri=f"#{assertion.get('ID')}"
    )
    error = refused(document)
    assert str(error).startswith("signature check failed: the Assertion's signature is not ")
    assert "SHA1" in str(error)


def test_a_malformed_signature_value_is_refused_cleanly() -> None:
    document = genuine()
    document.find(".//ds:SignatureValue", corpus.NS).text = "%%% not base64 %%%"
    error = refused(document)
    assert str(error).startswith("signature check failed: ")


# -- comment injection (CVE-2017-11427 class) ---------------------------------------------
def comment_injected() -> Any:
    """Signed value 'PROVIDER,...:role/AcmeJumpCloudAdminRO', then split by a comment after
    '...AdminRO' minus 'RO': a reader that stops at the comment sees the full-admin role."""
    document = genuine(role_order="principal-first")
    value = corpus.role_values(document)[0]
    text = value.text
    assert text == f"{corpus.PROVIDER_ARN},{READONLY_ARN}"
    value.text = text[:-2]
    comment = etree.Comment("")
    comment.tail = text[-2:]
    value.append(comment)
    return document


def test_comment_injection_premise() -> None:
    value = corpus.role_values(comment_injected())[0]
    assert value.text == f"{corpus.PROVIDER_ARN},{ADMIN_ARN}"  # what a naive reader gets


@pytest.mark.parametrize("pinned", [corpus.IDP_CERT_PATH, None])
def test_comment_injection_reads_the_full_signed_value(pinned: Path | None) -> None:
    parsed, _ = check(comment_injected(), pinned=pinned)
    assert roles_of(parsed) == [READONLY_ARN]


# -- validity window ----------------------------------------------------------------------
def test_expired_assertion_is_refused() -> None:
    document = genuine(now=NOW - timedelta(hours=1))
    error = refused(document)
    assert str(error) == (
        "validity check failed: the assertion expired at 2030-01-02T02:09:05Z "
        "(it is 2030-01-02T03:04:05Z here)"
    )
    assert error.hint and "clock" in error.hint


def test_not_yet_valid_assertion_is_refused() -> None:
    error = refused(genuine(now=NOW + timedelta(hours=1)))
    assert str(error).startswith("validity check failed: the assertion is not valid before ")


def test_clock_skew_is_tolerated() -> None:
    skew = verify.CLOCK_SKEW - timedelta(seconds=1)
    check(genuine(now=NOW + skew))  # NotBefore slightly in the future
    check(genuine(now=NOW - timedelta(minutes=5) - skew + timedelta(seconds=2)))
    error = refused(genuine(now=NOW - timedelta(minutes=5) - verify.CLOCK_SKEW))
    assert str(error).startswith("validity check failed: the assertion expired at ")


def test_subject_confirmation_expiry_counts_too() -> None:
    def shorten(root: Any) -> None:
        data = root.find(".//saml:SubjectConfirmationData", corpus.NS)
        data.set("NotOnOrAfter", "2030-01-02T02:00:00Z")

    error = refused(genuine(edit=shorten))
    assert "validity check failed: the assertion expired at 2030-01-02T02:00:00Z" in str(error)


def test_an_assertion_that_never_expires_is_refused() -> None:
    def timeless(root: Any) -> None:
        for element in root.iterfind(".//*[@NotOnOrAfter]"):
            del element.attrib["NotOnOrAfter"]

    error = refused(genuine(edit=timeless))
    assert str(error) == (
        "validity check failed: the assertion has no NotOnOrAfter, so it would never expire"
    )


# -- audience -----------------------------------------------------------------------------
def test_wrong_audience_is_refused() -> None:
    error = refused(genuine(audience="https://evil.example/sp"))
    assert str(error) == (
        "audience check failed: the assertion is for 'https://evil.example/sp', not "
        "'urn:amazon:webservices'"
    )
    assert error.hint and "aws_urn" in error.hint


def test_missing_audience_is_refused() -> None:
    def drop(root: Any) -> None:
        conditions = root.find(".//saml:Conditions", corpus.NS)
        for restriction in conditions.findall("saml:AudienceRestriction", corpus.NS):
            conditions.remove(restriction)

    error = refused(genuine(edit=drop))
    assert str(error).startswith("audience check failed: the assertion names no Audience")


def test_the_audience_is_the_accounts_aws_urn() -> None:
    document = corpus.to_b64(genuine(audience="urn:example:custom-sp"))
    account = corpus.account(aws_urn="urn:example:custom-sp")
    terminal = Terminal(interactive=False, stream=io.StringIO())
    parsed = verify.check(document, account, now=NOW, terminal=terminal)
    assert parsed.audiences == ("urn:example:custom-sp",)


# -- destination --------------------------------------------------------------------------
def test_wrong_destination_is_refused() -> None:
    error = refused(genuine(destination="https://evil.example/saml"))
    assert str(error) == (
        "destination check failed: the Response's Destination 'https://evil.example/saml' is "
        "not an AWS sign-in SAML endpoint"
    )


def test_wrong_recipient_is_refused() -> None:
    def redirect(root: Any) -> None:
        data = root.find(".//saml:SubjectConfirmationData", corpus.NS)
        data.set("Recipient", "https://signin.aws.amazon.com.evil.example/saml")

    error = refused(genuine(edit=redirect))
    assert str(error) == (
        "destination check failed: the assertion's Recipient "
        "'https://signin.aws.amazon.com.evil.example/saml' is not an AWS sign-in SAML endpoint"
    )


def test_missing_recipient_is_refused() -> None:
    def drop(root: Any) -> None:
        del root.find(".//saml:SubjectConfirmationData", corpus.NS).attrib["Recipient"]

    error = refused(genuine(edit=drop))
    assert str(error) == "destination check failed: the assertion names no Recipient"


def test_regional_look_alike_destination_is_refused() -> None:
    error = refused(
        genuine(destination="https://us-east-1.signin.aws.amazon.com.evil.example/saml")
    )
    assert str(error) == (
        "destination check failed: the Response's Destination "
        "'https://us-east-1.signin.aws.amazon.com.evil.example/saml' is not an AWS sign-in SAML "
        "endpoint"
    )


def test_regional_endpoint_is_accepted() -> None:
    parsed, _ = check(genuine(destination="https://eu-central-1.signin.aws.amazon.com/saml"))
    assert parsed.destination == "https://eu-central-1.signin.aws.amazon.com/saml"


def test_endpoint_of_another_partition_than_the_roles_is_refused() -> None:
    error = refused(genuine(destination="https://signin.amazonaws.cn/saml"))
    assert str(error).startswith(
        "destination check failed: the assertion is addressed to the sign-in endpoint of "
        "partition 'aws-cn' but grants roles of another partition"
    )


def test_china_roles_at_the_china_endpoint_pass() -> None:
    grant = RoleGrant(
        "arn:aws-cn:iam::012345678987:role/Ops", "arn:aws-cn:iam::012345678987:saml-provider/JC"
    )
    parsed, _ = check(genuine(destination="https://signin.amazonaws.cn/saml", roles=[grant]))
    assert roles_of(parsed) == ["arn:aws-cn:iam::012345678987:role/Ops"]


@pytest.mark.parametrize(
    ("url", "partition"),
    [
        ("https://signin.aws.amazon.com/saml", "aws"),
        ("https://SIGNIN.aws.amazon.com/saml", "aws"),
        ("https://us-east-2.signin.aws.amazon.com/saml", "aws"),
        ("https://signin.amazonaws.cn/saml", "aws-cn"),
        ("https://cn-north-1.signin.amazonaws.cn/saml", "aws-cn"),
        ("https://signin.amazonaws-us-gov.com/saml", "aws-us-gov"),
        ("https://us-gov-west-1.signin.amazonaws-us-gov.com/saml", "aws-us-gov"),
        ("http://signin.aws.amazon.com/saml", None),
        ("https://signin.aws.amazon.com:8443/saml", None),
        ("https://signin.aws.amazon.com/saml/", None),
        ("https://signin.aws.amazon.com/saml?x=1", None),
        ("https://signin.aws.amazon.com/saml#x", None),
        ("https://user@signin.aws.amazon.com/saml", None),
        ("https://evil.signin.aws.amazon.com/saml", None),
        ("https://cn-north-1.signin.aws.amazon.com/saml", None),
        ("https://us-east-1.signin.amazonaws.cn/saml", None),
        ("https://signin.aws.amazon.com.evil.example/saml", None),
        ("https://us-east-1.signin.aws.amazon.com.evil.example/saml", None),
        ("https://us-east-1.signin.aws.amazon.com@evil.example/saml", None),
        ("https://cn-northwest-1.signin.amazonaws.cn/saml", "aws-cn"),
        ("https://us-gov-east-1.signin.amazonaws-us-gov.com/saml", "aws-us-gov"),
        ("https://us-gov-west-1.signin.aws.amazon.com/saml", None),
        ("https://[::1]:x/saml", None),
        ("", None),
    ],
)
def test_signin_endpoints(url: str, partition: str | None) -> None:
    assert verify.signin_partition(url) == partition


# -- the pinned certificate itself --------------------------------------------------------
def expired_pair(tmp_path: Path) -> tuple[bytes, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old IdP key")])
    cert = certificate_builder(
        name, name, key.public_key(), NOW - timedelta(days=400), NOW - timedelta(days=12, hours=1)
    ).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "old.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_pem, path


def test_an_expired_pinned_certificate_warns_but_still_verifies(tmp_path: Path) -> None:
    key_pem, cert_path = expired_pair(tmp_path)
    cert_pem = cert_path.read_bytes()
    parsed, said = check(genuine(key=key_pem, cert=cert_pem), pinned=cert_path)
    assert roles_of(parsed) == [READONLY_ARN]
    assert said == (
        f"samljit: warning: the pinned IdP certificate {cert_path} (CN=old IdP key) "
        "expired 12 days ago "
        f"({(NOW - timedelta(days=12, hours=1)):%Y-%m-%d}); samljit still checks signatures "
        "against it\n"
    )
    with pytest.raises(VerificationError, match="signature check failed"):
        check(genuine(), pinned=cert_path)


def test_a_missing_pinned_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read idp_certificate"):
        check(genuine(), pinned=tmp_path / "nowhere.crt")


def test_a_pinned_file_that_is_not_a_certificate_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="is not a PEM certificate"):
        check(genuine(), pinned=corpus.KEYS / "idp-test.key")


# -- what is not a verification problem ---------------------------------------------------
def test_an_idp_error_response_shows_the_idps_message_when_pinned() -> None:
    root = unsigned()
    root.remove(corpus.the_assertion(root))
    status = root.find("samlp:Status/samlp:StatusCode", corpus.NS)
    status.set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
    message = etree.SubElement(
        root.find("samlp:Status", corpus.NS), f"{{{corpus.SAMLP_NS}}}StatusMessage"
    )
    message.text = "User is not assigned to this application"
    with pytest.raises(AuthenticationError) as caught:
        check(encode(root))
    assert not isinstance(caught.value, VerificationError)
    assert "User is not assigned to this application" in str(caught.value)
    assert status.get("Value") != STATUS_SUCCESS


def test_a_document_that_is_not_a_response_is_a_format_error() -> None:
    assertion = corpus.the_assertion(genuine())
    with pytest.raises(AssertionFormatError, match=r"not a SAML 2\.0 Response"):
        check(corpus.raw_b64(etree.tostring(assertion)))


def test_every_refusal_is_a_samljit_error_with_exit_status_3() -> None:
    from samljit.cli.main import exit_code

    error = refused(genuine(audience="x"))
    assert isinstance(error, SamljitError)
    assert exit_code(error) == 3


def test_checks_use_the_injected_clock() -> None:
    document = genuine(now=datetime(2031, 5, 6, tzinfo=timezone.utc))
    check(document, now=datetime(2031, 5, 6, 0, 1, tzinfo=timezone.utc))
    with pytest.raises(VerificationError, match="validity check failed"):
        check(document, now=NOW)
