"""Encrypting a SAML assertion for AWS (IAM's SAML encryption), as IdPs do with xmlsec /
xmlseclibs / OpenSAML: W3C XML Encryption, an ``xenc:EncryptedData`` (the assertion, AES-GCM
or AES-CBC) and an ``xenc:EncryptedKey`` (the AES key, RSA-OAEP with the public key of the
certificate IAM's SAML provider shows), inside ``saml:EncryptedAssertion``.

The sandbox IdP uses it for ``samljit sandbox serve --encrypt-for CERT``; samljit's tests
decrypt with the matching test key (tests/support/saml_encrypt.py), as only AWS can.

* AES-GCM (``xmlenc11#aes128-gcm`` / ``#aes256-gcm``): CipherValue = 12-byte IV || ciphertext
  || 16-byte tag;
* AES-CBC (``xmlenc#aes128-cbc`` / ``#aes256-cbc``): CipherValue = 16-byte IV || ciphertext,
  XML Encryption padding (random bytes, the last one the pad length);
* key transport ``xmlenc#rsa-oaep-mgf1p`` (MGF1 with SHA-1, digest from ``ds:DigestMethod``,
  SHA-1 by default) or ``xmlenc11#rsa-oaep`` (digest and ``xenc11:MGF`` named);
* the EncryptedKey either inside EncryptedData's ``ds:KeyInfo`` (xmlseclibs, SimpleSAMLphp) or
  beside EncryptedData, pointed at by a ``ds:RetrievalMethod`` (OpenSAML, Shibboleth).

cryptography and lxml are imported inside the functions.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import TYPE_CHECKING, Literal

from samljit.tools.sandbox.response import DS_NS, SAML_NS, XENC_NS, new_id

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


class UnknownAlgorithm(ValueError):
    """An encryption algorithm (or OAEP digest, or mask function) this module does not know."""


def rsa_padding(key_method: str, digest: str, mgf: str) -> object:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    # SHA-1 inside OAEP is what xmlenc#rsa-oaep-mgf1p names (and still what most IdPs send);
    # it is padding here, not a signature digest.
    sha1 = hashes.SHA1()  # noqa: S303
    algorithms = {SHA1: sha1, SHA256: hashes.SHA256()}
    mgfs = {MGF1_SHA1: sha1, MGF1_SHA256: hashes.SHA256()}
    if digest not in algorithms:
        raise UnknownAlgorithm(f"unknown OAEP digest {digest}")
    if key_method == RSA_OAEP_MGF1P:
        mgf_hash: object = sha1
    elif key_method == RSA_OAEP:
        if mgf not in mgfs:
            raise UnknownAlgorithm(f"unknown OAEP mask generation function {mgf}")
        mgf_hash = mgfs[mgf]
    else:
        raise UnknownAlgorithm(f"unknown key transport {key_method}")
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


def b64(data: bytes) -> str:
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
        rsa_padding(key_method, oaep_digest, mgf),  # type: ignore[arg-type]
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
    etree.SubElement(key_data, f"{{{XENC_NS}}}CipherValue").text = b64(wrapped)
    method.addnext(key_data)
    cipher_data = etree.SubElement(data, f"{{{XENC_NS}}}CipherData")
    etree.SubElement(cipher_data, f"{{{XENC_NS}}}CipherValue").text = b64(cipher)
    assertion.addprevious(holder)
    root.remove(assertion)
    return root
