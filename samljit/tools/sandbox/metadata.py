"""The IdP's SAML 2.0 metadata: what IAM's "Add SAML provider" asks to upload.

One ``EntityDescriptor`` with an ``IDPSSODescriptor``: the signing certificate and the
HTTP-Redirect single sign-on endpoint. Plain text assembly, no XML library needed.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from samljit.common.errors import ConfigError

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_FORMATS = (
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
)
_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"


def certificate_base64(cert_pem: bytes) -> str:
    """The base64 DER body of the first certificate in ``cert_pem``, on one line."""
    text = cert_pem.decode("ascii", "replace")
    start = text.find(_BEGIN)
    end = text.find(_END, start + 1)
    if start < 0 or end < 0:
        raise ConfigError("the signing certificate is not a PEM certificate")
    return "".join(text[start + len(_BEGIN) : end].split())


def idp_metadata(*, entity_id: str, sso_url: str, cert_pem: bytes) -> str:
    formats = "".join(f"    <md:NameIDFormat>{f}</md:NameIDFormat>\n" for f in NAMEID_FORMATS)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<md:EntityDescriptor xmlns:md="{MD_NS}" xmlns:ds="{DS_NS}" '
        f"entityID={quoteattr(entity_id)}>\n"
        f'  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
        f'protocolSupportEnumeration="{PROTOCOL}">\n'
        '    <md:KeyDescriptor use="signing">\n'
        "      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>"
        f"{certificate_base64(cert_pem)}"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n"
        "    </md:KeyDescriptor>\n"
        f"{formats}"
        f'    <md:SingleSignOnService Binding="{REDIRECT_BINDING}" '
        f"Location={quoteattr(sso_url)}/>\n"
        "  </md:IDPSSODescriptor>\n"
        "</md:EntityDescriptor>\n"
    )
