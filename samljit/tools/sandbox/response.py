"""Build, sign and encode SAML 2.0 Responses carrying AWS role grants.

Used by samljit's test emulators and by the sandbox IdP. Heavy libraries (lxml, signxml) are
imported inside the functions so that importing this module stays cheap.

Typical use::

    root = build_response(issuer="https://idp.example", name_id="ana@example.com",
                          roles=[RoleGrant(role_arn, principal_arn)], session_name="ana")
    saml_response = encode(sign(root, key_pem, cert_pem))
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lxml import etree

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
ROLE_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
AWS_AUDIENCE = "urn:amazon:webservices"
AWS_ACS_URL = "https://signin.aws.amazon.com/saml"

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
ATTRNAME_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
CM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
AUTHN_CLASS_PPT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

RoleOrder = Literal["role-first", "principal-first", "mixed"]
SignTarget = Literal["assertion", "response", "both"]

_NSMAP = {"samlp": SAMLP_NS, "saml": SAML_NS}
_ASSERTION_NSMAP = {"saml": SAML_NS, "xs": XS_NS, "xsi": XSI_NS}


@dataclass
class RoleGrant:
    """One AWS role the assertion grants, and the SAML provider (principal) that trusts the IdP."""

    role_arn: str
    principal_arn: str


def new_id() -> str:
    """A random SAML ID (an NCName: it starts with ``_``)."""
    return "_" + secrets.token_hex(20)


def format_instant(moment: datetime) -> str:
    """An ``xs:dateTime`` in UTC with a ``Z`` suffix; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def role_value(grant: RoleGrant, index: int, role_order: RoleOrder) -> str:
    """The Role AttributeValue text for ``grant`` at position ``index``.

    ``mixed`` writes even positions role-first and odd positions principal-first.
    """
    role_first = role_order == "role-first" or (role_order == "mixed" and index % 2 == 0)
    if role_first:
        return f"{grant.role_arn},{grant.principal_arn}"
    return f"{grant.principal_arn},{grant.role_arn}"


def _saml(tag: str) -> str:
    return f"{{{SAML_NS}}}{tag}"


def _response_root(issuer: str, destination: str, instant: str) -> etree._Element:
    from lxml import etree

    root = etree.Element(
        f"{{{SAMLP_NS}}}Response",
        nsmap=_NSMAP,
        ID=new_id(),
        Version="2.0",
        IssueInstant=instant,
        Destination=destination,
    )
    etree.SubElement(root, _saml("Issuer")).text = issuer
    status = etree.SubElement(root, f"{{{SAMLP_NS}}}Status")
    etree.SubElement(status, f"{{{SAMLP_NS}}}StatusCode", Value=STATUS_SUCCESS)
    return root


def _add_attribute(parent: etree._Element, name: str, values: Sequence[str]) -> None:
    from lxml import etree

    attribute = etree.SubElement(parent, _saml("Attribute"), Name=name, NameFormat=ATTRNAME_URI)
    for value in values:
        element = etree.SubElement(attribute, _saml("AttributeValue"))
        element.set(f"{{{XSI_NS}}}type", "xs:string")
        element.text = value


def build_response(
    *,
    issuer: str,
    name_id: str,
    roles: Sequence[RoleGrant],
    session_name: str,
    session_duration: int | None = 3600,
    audience: str = AWS_AUDIENCE,
    destination: str = AWS_ACS_URL,
    now: datetime | None = None,
    lifetime: timedelta = timedelta(minutes=5),
    role_order: RoleOrder = "role-first",
    pad_whitespace: bool = False,
    extra_attributes: Mapping[str, list[str]] | None = None,
) -> etree._Element:
    """Build an unsigned ``samlp:Response`` holding one ``saml:Assertion`` for AWS.

    The Role attribute has one value per grant (it is left out entirely when ``roles`` is
    empty, as when an app has no Role mapping); SessionDuration is left out when
    ``session_duration`` is None. ``pad_whitespace`` pretty-prints the document and wraps
    each Role value in newlines and spaces (with a space after the comma), as some IdPs do.
    """
    from lxml import etree

    moment = now if now is not None else datetime.now(timezone.utc)
    instant = format_instant(moment)
    expires = format_instant(moment + lifetime)

    root = _response_root(issuer, destination, instant)
    assertion_id = new_id()
    assertion = etree.SubElement(
        root,
        _saml("Assertion"),
        nsmap=_ASSERTION_NSMAP,
        ID=assertion_id,
        Version="2.0",
        IssueInstant=instant,
    )
    etree.SubElement(assertion, _saml("Issuer")).text = issuer

    subject = etree.SubElement(assertion, _saml("Subject"))
    name_format = NAMEID_EMAIL if "@" in name_id else NAMEID_UNSPECIFIED
    etree.SubElement(subject, _saml("NameID"), Format=name_format).text = name_id
    confirmation = etree.SubElement(subject, _saml("SubjectConfirmation"), Method=CM_BEARER)
    etree.SubElement(
        confirmation,
        _saml("SubjectConfirmationData"),
        NotOnOrAfter=expires,
        Recipient=destination,
    )

    conditions = etree.SubElement(
        assertion, _saml("Conditions"), NotBefore=instant, NotOnOrAfter=expires
    )
    restriction = etree.SubElement(conditions, _saml("AudienceRestriction"))
    etree.SubElement(restriction, _saml("Audience")).text = audience

    authn = etree.SubElement(
        assertion, _saml("AuthnStatement"), AuthnInstant=instant, SessionIndex=assertion_id
    )
    context = etree.SubElement(authn, _saml("AuthnContext"))
    etree.SubElement(context, _saml("AuthnContextClassRef")).text = AUTHN_CLASS_PPT

    statement = etree.SubElement(assertion, _saml("AttributeStatement"))
    if roles:
        values = [role_value(grant, i, role_order) for i, grant in enumerate(roles)]
        if pad_whitespace:
            values = ["\n      " + v.replace(",", ", ") + "\n    " for v in values]
        _add_attribute(statement, ROLE_ATTRIBUTE, values)
    _add_attribute(statement, ROLE_SESSION_NAME_ATTRIBUTE, [session_name])
    if session_duration is not None:
        _add_attribute(statement, SESSION_DURATION_ATTRIBUTE, [str(session_duration)])
    for name, extra_values in (extra_attributes or {}).items():
        _add_attribute(statement, name, extra_values)

    if pad_whitespace:
        etree.indent(root, space="  ")
    return root


def build_encrypted_placeholder(
    *,
    issuer: str,
    destination: str = AWS_ACS_URL,
    now: datetime | None = None,
) -> etree._Element:
    """A Response whose assertion is a ``saml:EncryptedAssertion`` stub (nothing decryptable).

    Only the shape matters: a client must recognise it and report that encrypted assertions
    are not supported.
    """
    from lxml import etree

    moment = now if now is not None else datetime.now(timezone.utc)
    root = _response_root(issuer, destination, format_instant(moment))
    encrypted = etree.SubElement(root, _saml("EncryptedAssertion"))
    data = etree.SubElement(
        encrypted,
        f"{{{XENC_NS}}}EncryptedData",
        nsmap={"xenc": XENC_NS, "ds": DS_NS},
        Id=new_id(),
        Type="http://www.w3.org/2001/04/xmlenc#Element",
    )
    etree.SubElement(
        data,
        f"{{{XENC_NS}}}EncryptionMethod",
        Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    )
    key_info = etree.SubElement(data, f"{{{DS_NS}}}KeyInfo")
    encrypted_key = etree.SubElement(key_info, f"{{{XENC_NS}}}EncryptedKey")
    etree.SubElement(
        encrypted_key,
        f"{{{XENC_NS}}}EncryptionMethod",
        Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    )
    key_data = etree.SubElement(encrypted_key, f"{{{XENC_NS}}}CipherData")
    etree.SubElement(key_data, f"{{{XENC_NS}}}CipherValue").text = _random_b64(256)
    cipher_data = etree.SubElement(data, f"{{{XENC_NS}}}CipherData")
    etree.SubElement(cipher_data, f"{{{XENC_NS}}}CipherValue").text = _random_b64(512)
    return root


def _random_b64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def _sign_element(
    root: etree._Element, target: etree._Element, key_pem: bytes, cert_pem: bytes
) -> etree._Element:
    """Sign ``target`` (inside ``root``) by its ID; returns the new document root."""
    element_id = target.get("ID")
    if not element_id:
        raise ValueError("the element to sign has no ID attribute")
    return sign_in_place(root, target, key_pem, cert_pem, reference_uri=f"#{element_id}")


def sign_in_place(
    root: etree._Element,
    holder: etree._Element,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    reference_uri: str | None,
) -> etree._Element:
    """Put an enveloped Signature in ``holder`` right after its Issuer (or first) and sign
    ``root`` with the Reference pointing at ``reference_uri`` (``None``: signxml's default).

    signxml works on a copy and returns the new document root. (The attack corpus uses the
    free ``reference_uri`` to build signatures that point elsewhere.)
    """
    from lxml import etree
    from signxml.algorithms import (
        CanonicalizationMethod,
        DigestAlgorithm,
        SignatureConstructionMethod,
        SignatureMethod,
    )
    from signxml.signer import XMLSigner

    issuer = holder.find(_saml("Issuer"))
    placeholder = etree.Element(f"{{{DS_NS}}}Signature", nsmap={"ds": DS_NS}, Id="placeholder")
    if issuer is not None:
        issuer.addnext(placeholder)
    else:
        holder.insert(0, placeholder)
    # No InclusiveNamespaces prefix list: signxml 5.2 digests with it but does not write it,
    # so its own output would fail verification.
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed: etree._Element = signer.sign(
        root, key=key_pem, cert=cert_pem.decode("ascii"), reference_uri=reference_uri
    )
    return signed


def sign(
    element: etree._Element,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    target: SignTarget = "assertion",
) -> etree._Element:
    """Return a signed copy of the Response ``element`` (the input is left unsigned).

    ``target`` picks what is signed: the Assertion, the Response, or both (assertion first,
    then the Response over it). Each Signature follows the signed element's Issuer and
    references ``#<ID>``; enveloped, RSA-SHA256, SHA-256 digest, exclusive c14n.
    """
    from lxml import etree

    root: etree._Element = etree.fromstring(etree.tostring(element))
    if target in ("assertion", "both"):
        assertion = root.find(_saml("Assertion"))
        if assertion is None:
            raise ValueError("the Response holds no saml:Assertion to sign")
        root = _sign_element(root, assertion, key_pem, cert_pem)
    if target in ("response", "both"):
        root = _sign_element(root, root, key_pem, cert_pem)
    return root


def encode(element: etree._Element) -> str:
    """Base64 of the serialized document (UTF-8, with an XML declaration)."""
    from lxml import etree

    xml: bytes = etree.tostring(element, xml_declaration=True, encoding="UTF-8")
    return base64.b64encode(xml).decode("ascii")
