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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from samljit.testing.saml import SigningPair, role_response, signing_pair
from samljit.tools.sandbox.encrypt import (
    AES128_CBC,
    AES128_GCM,
    AES256_CBC,
    AES256_GCM,
    CBC_BLOCK,
    DATA_METHODS,
    ELEMENT_TYPE,
    ENCRYPTED_KEY_TYPE,
    GCM_IV,
    GCM_TAG,
    MGF1_SHA1,
    MGF1_SHA256,
    NS,
    RSA_OAEP,
    RSA_OAEP_MGF1P,
    SHA1,
    SHA256,
    XENC11_NS,
    KeyPlacement,
    UnknownAlgorithm,
    encrypt_assertion,
    rsa_padding,
)
from samljit.tools.sandbox.response import (
    AWS_ACS_URL,
    SAML_NS,
    encode,
    sign,
)

if TYPE_CHECKING:
    from lxml import etree

#: Re-exported from the sandbox, where the encryption lives (samljit/tools/sandbox/encrypt.py).
__all__ = [
    "AES128_CBC",
    "AES128_GCM",
    "AES256_CBC",
    "AES256_GCM",
    "CBC_BLOCK",
    "DATA_METHODS",
    "ELEMENT_TYPE",
    "ENCRYPTED_KEY_TYPE",
    "GCM_IV",
    "GCM_TAG",
    "MGF1_SHA1",
    "MGF1_SHA256",
    "NS",
    "RSA_OAEP",
    "RSA_OAEP_MGF1P",
    "SHA1",
    "SHA256",
    "XENC11_NS",
    "encrypt_assertion",
]


class DecryptionError(ValueError):
    """The EncryptedAssertion cannot be decrypted with this key (wrong key, bad shape)."""


#: The test stand-in for the key pair of an IAM SAML provider's encryption: an RSA key and
#: a self-signed certificate, as an IdP's signing pair.
IamKey = SigningPair


def iam_key(directory: Path) -> IamKey:
    """A new RSA key and self-signed certificate (as IAM gives one to download), in
    ``directory``."""
    return signing_pair(directory, "iam-saml-encryption")


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


def _padding_for(key_method: str, digest: str, mgf: str) -> object:
    try:
        return rsa_padding(key_method, digest, mgf)
    except UnknownAlgorithm as exc:
        raise DecryptionError(str(exc)) from None


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
    padding = _padding_for(
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
