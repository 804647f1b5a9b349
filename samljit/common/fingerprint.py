"""A certificate's fingerprint, as ``openssl x509 -fingerprint -sha256`` shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


def sha256_fingerprint(certificate: Certificate) -> str:
    """``AB:CD:…``, the SHA-256 fingerprint as ``openssl x509 -fingerprint -sha256`` shows it."""
    from cryptography.hazmat.primitives import hashes

    return ":".join(f"{byte:02X}" for byte in certificate.fingerprint(hashes.SHA256()))
