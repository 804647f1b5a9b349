"""A test CA and a server certificate it signed, for https servers on loopback."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path


@dataclass(frozen=True)
class TlsPair:
    ca: Path  # the CA's certificate (PEM): what a client must trust
    cert: Path  # the server's certificate, signed by the CA
    key: Path  # the server's private key

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def tls_pair(where: Path, name: str, host: str = "127.0.0.1", *also: str) -> TlsPair:
    """A new CA "<name> test CA" and a certificate for ``host`` (an IP address or a DNS name)
    and the names in ``also`` it signed, written under ``where``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from samljit.tools.cert.generation import certificate_builder

    def alt_name(host: str) -> x509.GeneralName:
        try:
            return x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            return x509.DNSName(host)

    now = datetime.now(timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    valid = (now - timedelta(days=1), now + timedelta(days=1))
    ca = (
        certificate_builder(ca_name, ca_name, ca_key.public_key(), *valid)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        certificate_builder(leaf_name, ca_name, key.public_key(), *valid)
        .add_extension(
            x509.SubjectAlternativeName([alt_name(h) for h in (host, *also)]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pair = TlsPair(where / f"{name}-ca.pem", where / f"{name}.crt", where / f"{name}.key")
    pair.ca.write_bytes(ca.public_bytes(pem))
    pair.cert.write_bytes(leaf.public_bytes(pem))
    pair.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pair
