"""SAML assertions encrypted for AWS (IAM's SAML encryption), the way IdPs write them with
xmlsec / xmlseclibs / OpenSAML: W3C XML Encryption, an ``xenc:EncryptedData`` (the assertion,
AES-GCM or AES-CBC) and an ``xenc:EncryptedKey`` (the AES key, RSA-OAEP with the public key of
the certificate IAM hands out), inside ``saml:EncryptedAssertion``.

A test "IAM" key pair stands for the private key only AWS holds: the loopback sign-in page and
STS stand-ins (tests/support/aws_signin.py) decrypt with it, a client never can.

    iam = iam_key(tmp_path)
    encoded = encrypted_response(issuer=..., user="ana", roles=[(role, principal)], idp=pair,
                                 iam_cert_pem=iam.cert_pem, data_method=AES256_GCM)
    plain = decrypt_response(encoded, iam.key_pem)      # what AWS reads

Written with ``cryptography`` and lxml (no xmlsec binding):

* AES-GCM (``xmlenc11#aes128-gcm`` / ``#aes256-gcm``): CipherValue = 12-byte IV || ciphertext
  || 16-byte tag;
* AES-CBC (``xmlenc#aes128-cbc`` / ``#aes256-cbc``): CipherValue = 16-byte IV || ciphertext,
  XML Encryption padding (random bytes, the last one the pad length);
* key transport ``xmlenc#rsa-oaep-mgf1p`` (MGF1 with SHA-1, digest from ``ds:DigestMethod``,
  SHA-1 by default) or ``xmlenc11#rsa-oaep`` (digest and ``xenc11:MGF`` named);
* the EncryptedKey either inside EncryptedData's ``ds:KeyInfo`` (xmlseclibs, SimpleSAMLphp) or
  beside EncryptedData, pointed at by a ``ds:RetrievalMethod`` (OpenSAML, Shibboleth).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from samljit.testing.saml import SigningPair, role_response
from samljit.tools.sandbox.response import (
    AWS_ACS_URL,
    DS_NS,
    SAML_NS,
    XENC_NS,
    encode,
    new_id,
    sign,
)

if TYPE_CHECKING:
    from lxml import etree

XENC11_NS = "http://www.w3.org/2009/xmlenc11#"
ELEMENT_TYPE = f"{XENC_NS}Element"
AES128_GCM = f"{XENC11_NS}aes128-gcm"
AES256_GCM = f"{XENC11_NS}aes256-gcm"
AES128_CBC = f"{XENC_NS}aes128-cbc"
AES256_CBC = f"{XENC_NS}aes256-cbc"
RSA_OAEP_MGF1P = f"{XENC_NS}rsa-oaep-mgf1p"
RSA_OAEP = f"{XENC11_NS}rsa-oaep"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = f"{XENC_NS}sha256"
MGF1_SHA1 = f"{XENC11_NS}mgf1sha1"
MGF1_SHA256 = f"{XENC11_NS}mgf1sha256"
ENCRYPTED_KEY_TYPE = f"{XENC_NS}EncryptedKey"

#: Key sizes (bytes) of the data-encryption algorithms this module writes and reads.
DATA_METHODS = {AES128_GCM: 16, AES256_GCM: 32, AES128_CBC: 16, AES256_CBC: 32}
GCM_IV = 12
GCM_TAG = 16
CBC_BLOCK = 16
KeyPlacement = Literal["inline", "sibling"]
NS = {"saml": SAML_NS, "xenc": XENC_NS, "xenc11": XENC11_NS, "ds": DS_NS}


class DecryptionError(ValueError):
    """The EncryptedAssertion cannot be decrypted with this key (wrong key, bad shape)."""


@dataclass(frozen=True)
class IamKey:
    """The test stand-in for the key pair of an IAM SAML provider's encryption."""

    key_pem: bytes
    cert_pem: bytes
    cert_path: Path


def iam_key(directory: Path) -> IamKey:
    """A new RSA key and self-signed certificate (as IAM gives one to download), in
    ``directory``."""
    from samljit.tools.sandbox.keys import generate_signing_key

    made = generate_signing_key(directory, "iam-saml-encryption")
    return IamKey(made.key_pem, made.cert_pem, made.cert_path)


# -- encryption -----------------------------------------------------------------------------
def _rsa_padding(key_method: str, digest: str, mgf: str) -> object:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    # SHA-1 inside OAEP is what xmlenc#rsa-oaep-mgf1p names (and still what most IdPs send);
    # it is padding here, not a signature digest.
    sha1 = hashes.SHA1()  # noqa: S303
    algorithms = {SHA1: sha1, SHA256: hashes.SHA256()}
    mgfs = {MGF1_SHA1: sha1, MGF1_SHA256: hashes.SHA256()}
    if digest not in algorithms:
        raise DecryptionError(f"unknown OAEP digest {digest}")
    if key_method == RSA_OAEP_MGF1P:
        mgf_hash: object = sha1
    elif key_method == RSA_OAEP:
        if mgf not in mgfs:
            raise DecryptionError(f"unknown OAEP mask generation function {mgf}")
        mgf_hash = mgfs[mgf]
    else:
        raise DecryptionError(f"unknown key transport {key_method}")
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=mgf_hash),  # type: ignore[arg-type]
        algorithm=algorithms[digest],
        label=None,
    )


def _encrypt_data(method: str, key: bytes, plaintext: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if method in (AES128_GCM, AES256_GCM):
        iv = os.urandom(GCM_IV)
        return iv + AESGCM(key).encrypt(iv, plaintext, None)
    iv = os.urandom(CBC_BLOCK)
    pad = CBC_BLOCK - len(plaintext) % CBC_BLOCK
    padded = plaintext + os.urandom(pad - 1) + bytes([pad])
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encrypt_assertion(
    response: etree._Element,
    cert_pem: bytes,
    *,
    data_method: str = AES256_GCM,
    key_method: str = RSA_OAEP_MGF1P,
    oaep_digest: str = SHA1,
    mgf: str = MGF1_SHA1,
    placement: KeyPlacement = "inline",
) -> etree._Element:
    """A copy of the Response ``response`` whose ``saml:Assertion`` is replaced by a
    ``saml:EncryptedAssertion`` for the RSA public key in ``cert_pem`` (signatures inside
    the assertion are kept, encrypted with it)."""
    from cryptography import x509
    from lxml import etree

    if data_method not in DATA_METHODS:
        raise ValueError(f"unknown data encryption {data_method}")
    root: etree._Element = etree.fromstring(etree.tostring(response))
    assertion = root.find("saml:Assertion", NS)
    if assertion is None:
        raise ValueError("the Response holds no saml:Assertion to encrypt")
    session_key = secrets.token_bytes(DATA_METHODS[data_method])
    cipher = _encrypt_data(data_method, session_key, etree.tostring(assertion))
    public_key = x509.load_pem_x509_certificate(cert_pem).public_key()
    wrapped = public_key.encrypt(  # type: ignore[union-attr, call-arg]
        session_key,
        _rsa_padding(key_method, oaep_digest, mgf),  # type: ignore[arg-type]
    )

    holder = etree.Element(f"{{{SAML_NS}}}EncryptedAssertion", nsmap={"saml": SAML_NS})
    data_id = new_id()
    data = etree.SubElement(
        holder,
        f"{{{XENC_NS}}}EncryptedData",
        nsmap={"xenc": XENC_NS, "ds": DS_NS},
        Id=data_id,
        Type=ELEMENT_TYPE,
    )
    etree.SubElement(data, f"{{{XENC_NS}}}EncryptionMethod", Algorithm=data_method)
    key_info = etree.SubElement(data, f"{{{DS_NS}}}KeyInfo")
    if placement == "inline":
        key_parent = key_info
    else:
        key_id = new_id()
        etree.SubElement(
            key_info, f"{{{DS_NS}}}RetrievalMethod", URI=f"#{key_id}", Type=ENCRYPTED_KEY_TYPE
        )
        key_parent = holder
    encrypted_key = etree.SubElement(
        key_parent, f"{{{XENC_NS}}}EncryptedKey", nsmap={"xenc": XENC_NS, "ds": DS_NS}
    )
    if placement == "sibling":
        encrypted_key.set("Id", key_id)
        etree.SubElement(encrypted_key, f"{{{XENC_NS}}}ReferenceList").append(
            etree.Element(f"{{{XENC_NS}}}DataReference", URI=f"#{data_id}")
        )
        encrypted_key.insert(0, etree.Element(f"{{{XENC_NS}}}EncryptionMethod"))
        method = encrypted_key[0]
    else:
        method = etree.SubElement(encrypted_key, f"{{{XENC_NS}}}EncryptionMethod")
    method.set("Algorithm", key_method)
    etree.SubElement(method, f"{{{DS_NS}}}DigestMethod", Algorithm=oaep_digest)
    if key_method == RSA_OAEP:
        etree.SubElement(method, f"{{{XENC11_NS}}}MGF", nsmap={"xenc11": XENC11_NS}, Algorithm=mgf)
    key_data = etree.Element(f"{{{XENC_NS}}}CipherData")
    etree.SubElement(key_data, f"{{{XENC_NS}}}CipherValue").text = _b64(wrapped)
    method.addnext(key_data)
    cipher_data = etree.SubElement(data, f"{{{XENC_NS}}}CipherData")
    etree.SubElement(cipher_data, f"{{{XENC_NS}}}CipherValue").text = _b64(cipher)
    assertion.addprevious(holder)
    root.remove(assertion)
    return root


def encrypted_response(
    *,
    issuer: str,
    user: str,
    roles: Sequence[tuple[str, str]],
    idp: SigningPair,
    iam_cert_pem: bytes,
    data_method: str = AES256_GCM,
    key_method: str = RSA_OAEP_MGF1P,
    placement: KeyPlacement = "inline",
    sign_response: bool = True,
    destination: str = AWS_ACS_URL,
    session_duration: int | None = 3600,
) -> str:
    """A base64 SAMLResponse as an IdP sends it to AWS with IAM's encryption on: the
    assertion signed by ``idp`` then encrypted for ``iam_cert_pem``, and (``sign_response``)
    the Response around it signed by ``idp`` (the only signature a client can check)."""
    root = role_response(
        issuer, user, roles, session_duration=session_duration, destination=destination
    )
    signed = sign(root, idp.key_pem, idp.cert_pem, target="assertion")
    encrypted = encrypt_assertion(
        signed, iam_cert_pem, data_method=data_method, key_method=key_method, placement=placement
    )
    if sign_response:
        encrypted = sign(encrypted, idp.key_pem, idp.cert_pem, target="response")
    return encode(encrypted)


# -- decryption (what only AWS can do) ------------------------------------------------------
def _decrypt_data(method: str, key: bytes, cipher: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if DATA_METHODS.get(method) != len(key):
        raise DecryptionError(f"the key does not fit {method}")
    if method in (AES128_GCM, AES256_GCM):
        try:
            return AESGCM(key).decrypt(cipher[:GCM_IV], cipher[GCM_IV:], None)
        except InvalidTag:
            raise DecryptionError("the AES-GCM tag does not match") from None
    body = cipher[CBC_BLOCK:]
    if not body or len(body) % CBC_BLOCK:
        raise DecryptionError("the AES-CBC ciphertext is not whole blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(cipher[:CBC_BLOCK])).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= CBC_BLOCK:
        raise DecryptionError("the AES-CBC padding is wrong")
    return padded[:-pad]


def _find_encrypted_key(holder: etree._Element, data: etree._Element) -> etree._Element:
    inline = data.find("ds:KeyInfo/xenc:EncryptedKey", NS)
    if inline is not None:
        return inline
    pointer = data.find("ds:KeyInfo/ds:RetrievalMethod", NS)
    for key in holder.findall("xenc:EncryptedKey", NS):
        if pointer is None or pointer.get("URI") == f"#{key.get('Id')}":
            return key
    raise DecryptionError("no xenc:EncryptedKey for the EncryptedData")


def _cipher_value(element: etree._Element) -> bytes:
    text = element.findtext("xenc:CipherData/xenc:CipherValue", None, NS)
    if not text:
        raise DecryptionError("no xenc:CipherValue")
    return base64.b64decode("".join(text.split()))


def decrypt_assertion(response: etree._Element, key_pem: bytes) -> etree._Element:
    """A copy of ``response`` with its ``saml:EncryptedAssertion`` decrypted in place (the
    plain ``saml:Assertion`` where the encrypted one was); raises :class:`DecryptionError`."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from lxml import etree

    root: etree._Element = etree.fromstring(etree.tostring(response))
    holder = root.find("saml:EncryptedAssertion", NS)
    if holder is None:
        raise DecryptionError("the Response holds no saml:EncryptedAssertion")
    data = holder.find("xenc:EncryptedData", NS)
    if data is None:
        raise DecryptionError("the EncryptedAssertion holds no xenc:EncryptedData")
    encrypted_key = _find_encrypted_key(holder, data)
    key_method = encrypted_key.find("xenc:EncryptionMethod", NS)
    data_method = data.find("xenc:EncryptionMethod", NS)
    if key_method is None or data_method is None:
        raise DecryptionError("an xenc:EncryptionMethod is missing")
    digest = key_method.find("ds:DigestMethod", NS)
    mgf = key_method.find("xenc11:MGF", NS)
    padding = _rsa_padding(
        key_method.get("Algorithm", ""),
        SHA1 if digest is None else digest.get("Algorithm", ""),
        MGF1_SHA1 if mgf is None else mgf.get("Algorithm", ""),
    )
    private_key = load_pem_private_key(key_pem, password=None)
    try:
        session_key = private_key.decrypt(  # type: ignore[union-attr, call-arg]
            _cipher_value(encrypted_key),
            padding,  # type: ignore[arg-type]
        )
    except ValueError:
        raise DecryptionError("the EncryptedKey is not for this key") from None
    plaintext = _decrypt_data(data_method.get("Algorithm", ""), session_key, _cipher_value(data))
    from samljit.common.xmlsafe import safe_parser

    try:
        assertion = etree.fromstring(plaintext, parser=safe_parser(remove_pis=True))
    except etree.XMLSyntaxError as exc:
        raise DecryptionError(f"the decrypted assertion is not XML ({exc.msg})") from None
    if assertion.tag != f"{{{SAML_NS}}}Assertion":
        raise DecryptionError("the decrypted element is not a saml:Assertion")
    holder.addprevious(assertion)
    root.remove(holder)
    return root


def decrypt_response(encoded: str, key_pem: bytes) -> str:
    """Base64 SAMLResponse with an EncryptedAssertion → base64 of the same Response with
    the plain Assertion (what the sign-in page and STS read)."""
    from samljit.saml import assertion as saml

    root = saml.parse_xml(saml.decode(encoded))
    return encode(decrypt_assertion(root, key_pem))


def is_encrypted(encoded: str) -> bool:
    """Whether the base64 SAMLResponse carries a ``saml:EncryptedAssertion``."""
    from samljit.saml import assertion as saml

    root = saml.parse_xml(saml.decode(encoded))
    return root.find("saml:EncryptedAssertion", NS) is not None
