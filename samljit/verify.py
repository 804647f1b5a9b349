"""Trust checks on the IdP side: the pinned certificate (``idp_certificate``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from samljit.errors import ConfigError


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    not_after: datetime
    sha256_fingerprint: str

    def days_expired(self, now: datetime) -> int:
        return max(0, (now - self.not_after).days)


def load_certificate_pem(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read idp_certificate {path}: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ConfigError(
            f"idp_certificate {path} is not a PEM certificate",
            hint="download the IdP's signing certificate in PEM (BEGIN CERTIFICATE) form",
        )
    return data


def describe_certificate(path: Path) -> CertificateInfo:
    """Read and describe a pinned certificate; :class:`ConfigError` when it is unusable."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    data = load_certificate_pem(path)
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"idp_certificate {path} does not hold a valid certificate") from None
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc.astimezone(timezone.utc),
        sha256_fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
    )
