"""IdP signing key and self-signed certificate: the library behind ``samljit cert``.

* :mod:`~samljit.tools.cert.dn`: the subject grammar (``/C=US/O=Acme/CN=production``);
* :mod:`~samljit.tools.cert.opensslconf`: the parts of an OpenSSL ``req`` config it uses;
* :mod:`~samljit.tools.cert.generation`: the key, the certificate, and writing the pair.

This package re-exports what its users need. The CLI does not import it on start: it is
imported by ``samljit cert`` (:mod:`samljit.cli.commands.cert`, loaded only for that command),
by the sandbox (:mod:`samljit.tools.sandbox.keys`) and by the tests. (The fingerprint a
pinned ``idp_certificate`` is described by lives on the ground floor,
:mod:`samljit.common.fingerprint`.) None of it imports ``cryptography``
until a function needs it, nor reads ``os.environ``: the environment an OpenSSL config's
``$ENV::NAME`` reads is passed in (``generate(request, env=...)``).
"""

from __future__ import annotations

from samljit.tools.cert.dn import format_subject, parse_subject
from samljit.tools.cert.generation import (
    DEFAULT_DAYS,
    DEFAULT_KEY_TYPE,
    KEY_TYPES,
    OPENSSL_REQ_DAYS,
    CertRequest,
    CertResult,
    generate,
)
from samljit.tools.cert.opensslconf import MAX_DAYS, OpenSslReqConfig, read_openssl_config

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_KEY_TYPE",
    "KEY_TYPES",
    "MAX_DAYS",
    "OPENSSL_REQ_DAYS",
    "CertRequest",
    "CertResult",
    "OpenSslReqConfig",
    "format_subject",
    "generate",
    "parse_subject",
    "read_openssl_config",
]
