"""The sandbox IdP's signing key and certificate: given (``--key``/``--cert``, e.g. from
``samljit cert``), or made for one run with :func:`samljit.tools.cert.generate`.

The sandbox signs with RSA-SHA256, so the key must be RSA, and the certificate must carry
the key's public half (IAM and samljit's ``idp_certificate`` check signatures against it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from samljit.common.errors import ConfigError


@dataclass(frozen=True)
class SigningKey:
    key_pem: bytes
    cert_pem: bytes
    cert_path: Path
    sha256_fingerprint: str
    generated: bool


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}") from None


def load_signing_key(key_path: Path, cert_path: Path) -> SigningKey:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key_pem = _read(key_path, "signing key")
    cert_pem = _read(cert_path, "certificate")
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{key_path} is not an unencrypted PEM private key ({exc})",
            hint="make one with `samljit cert --name sandbox`",
        ) from None
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise ConfigError(f"{cert_path} is not a PEM certificate ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"{key_path} is not an RSA key; the sandbox signs with RSA-SHA256",
            hint="make one with `samljit cert --name sandbox --key-type rsa2048`",
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != cert.public_key().public_bytes(der, public):
        raise ConfigError(f"the certificate {cert_path} does not belong to the key {key_path}")
    from samljit.common.fingerprint import sha256_fingerprint

    return SigningKey(key_pem, cert_pem, cert_path, sha256_fingerprint(cert), generated=False)


def generate_signing_key(directory: Path, name: str = "sandbox") -> SigningKey:
    """A new RSA key and self-signed certificate in ``directory`` (for this run)."""
    from samljit.tools.cert import CertRequest, generate

    result = generate(CertRequest(name=name, out_dir=directory, days=30))
    key = load_signing_key(result.key_path, result.cert_path)
    return SigningKey(key.key_pem, key.cert_pem, key.cert_path, key.sha256_fingerprint, True)
