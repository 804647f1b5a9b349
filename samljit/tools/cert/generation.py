"""Key and self-signed certificate generation, and writing the pair (never half of it).

``generate`` writes ``NAME.key`` (unencrypted PKCS#8 PEM, mode 0600) and ``NAME.crt`` (a
self-signed X.509 v3 certificate signed with SHA-256) and returns what the CLI prints.

The certificate carries the extensions ``openssl req -x509`` adds with a stock openssl.cnf
(``x509_extensions = v3_ca``): subjectKeyIdentifier, authorityKeyIdentifier (key id) and a
critical basicConstraints ``CA:TRUE``.

``cryptography`` is imported inside the functions that need it, so that importing this module
stays cheap for the callers that only want the constants (see the
package docstring for who imports it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from samljit.common.errors import ConfigError, UsageError
from samljit.common.fingerprint import sha256_fingerprint
from samljit.common.platform import current
from samljit.tools.cert.dn import _BY_SHORT, _check_value, format_subject, parse_subject
from samljit.tools.cert.opensslconf import OpenSslReqConfig, _check_days, read_openssl_config

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
    from cryptography.x509 import ObjectIdentifier

KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "ec-p256")
DEFAULT_KEY_TYPE = "rsa2048"
DEFAULT_DAYS = 1095
#: What ``openssl req -x509`` issues when ``-days`` is not given (it never reads default_days).
OPENSSL_REQ_DAYS = 30

_KEY_MODE = 0o600
_CERT_MODE = 0o644

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_KEY_TYPE",
    "KEY_TYPES",
    "OPENSSL_REQ_DAYS",
    "CertRequest",
    "CertResult",
    "generate",
]


@dataclass
class CertRequest:
    """What ``samljit cert`` was asked for; ``None`` means "not given on the command line"."""

    name: str
    subject: str | None = None
    days: int | None = None
    key_type: str | None = None
    openssl_config: Path | None = None
    out_dir: Path = field(default_factory=lambda: Path("."))
    force: bool = False


@dataclass
class CertResult:
    """What was written, for the CLI to print."""

    key_path: Path
    cert_path: Path
    subject: str
    not_before: datetime
    not_after: datetime
    sha256_fingerprint: str
    key_type: str
    notes: list[str] = field(default_factory=list)


def _check_name(name: str) -> str:
    bad = (
        not name
        or name in (".", "..")
        or "/" in name
        or (os.altsep is not None and os.altsep in name)
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name)
    )
    if bad:
        raise UsageError(
            f"--name must be a plain file name, got {name!r}",
            hint="for example --name production; choose the directory with --out",
        )
    return name


def _check_key_type(key_type: str) -> str:
    normal = key_type.strip().lower()
    if normal not in KEY_TYPES:
        raise UsageError(
            f"unknown key type {key_type!r}", hint=f"choose one of {', '.join(KEY_TYPES)}"
        )
    return normal


def _key_type_from_bits(config: OpenSslReqConfig) -> str:
    key_type = f"rsa{config.default_bits}"
    if key_type not in KEY_TYPES:
        raise ConfigError(
            f"{config.path.name}: default_bits = {config.default_bits} is not a key size "
            "samljit makes (2048, 3072 or 4096)",
            hint=f"pass --key-type, one of {', '.join(KEY_TYPES)}",
        )
    return key_type


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is not a directory")
    if not out_dir.exists():
        try:
            out_dir.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise UsageError(
                f"cannot create --out directory {out_dir}: {exc.strerror or exc}"
            ) from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(
            f"cannot write to {out_dir}: permission denied",
            hint="choose a writable directory with --out",
        )


def _refuse_existing(paths: tuple[Path, ...]) -> None:
    for path in paths:
        if os.path.lexists(path):
            raise UsageError(f"{path} already exists", hint="use --force to overwrite it")


def certificate_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    """A certificate's fields every certificate has: its names, its key, a random serial
    number and when it is valid (the caller adds extensions and signs it)."""
    from cryptography import x509

    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def _key_and_certificate(
    key_type: str, fields: list[tuple[str, str]], days: int
) -> tuple[bytes, bytes, datetime, datetime, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_type == "ec-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))

    attributes = []
    for short, value in fields:
        oid: ObjectIdentifier = getattr(NameOID, _BY_SHORT[short].oid_name)
        attributes.append(x509.NameAttribute(oid, value))
    name = x509.Name(attributes)

    not_before = datetime.now(timezone.utc).replace(microsecond=0)
    not_after = not_before + timedelta(days=days)
    key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        certificate_builder(name, name, key.public_key(), not_before, not_after)
        .add_extension(key_id, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_id),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    fingerprint = sha256_fingerprint(certificate)
    return (
        key_pem,
        cert_pem,
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
        fingerprint,
    )


# --- writing: never a half pair ------------------------------------------------------------

_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}


def _write_new(path: Path, data: bytes, mode: int, *, exact_mode: bool) -> None:
    """Create ``path`` (it must not exist), write and sync ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= current().open_flags
    fd = os.open(path, flags, mode)
    try:
        if exact_mode:
            current().set_mode(fd, mode)  # the umask may only have narrowed it; make it exact
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _install(
    temp: Path, final: Path, data: bytes, mode: int, *, exact_mode: bool, force: bool
) -> None:
    """Put the finished ``temp`` file at ``final``, whole or not at all.

    With ``force`` a rename replaces what is there. Without it a hard link is made, which
    fails if ``final`` exists (so a file that appeared since the check is never replaced);
    where the file system has no hard links the file is created with ``O_EXCL`` instead.
    """
    if force:
        os.replace(temp, final)
        return
    try:
        os.link(temp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        _write_new(final, data, mode, exact_mode=exact_mode)


def _sync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_pair(
    key_path: Path, key_pem: bytes, cert_path: Path, cert_pem: bytes, force: bool
) -> None:
    """Write key then certificate; on any failure leave no new key behind."""
    directory = key_path.parent
    tag = secrets.token_hex(6)
    key_temp = directory / f".{key_path.name}.{tag}.tmp"
    cert_temp = directory / f".{cert_path.name}.{tag}.tmp"
    key_installed = False
    current = key_path  # the file named in an error: the final name, not the temporary one
    try:
        _write_new(key_temp, key_pem, _KEY_MODE, exact_mode=True)
        current = cert_path
        _write_new(cert_temp, cert_pem, _CERT_MODE, exact_mode=False)
        current = key_path
        _install(key_temp, key_path, key_pem, _KEY_MODE, exact_mode=True, force=force)
        key_installed = True
        current = cert_path
        _install(cert_temp, cert_path, cert_pem, _CERT_MODE, exact_mode=False, force=force)
    except BaseException as exc:
        if key_installed:
            _unlink_quietly(key_path)
        if isinstance(exc, FileExistsError):
            raise UsageError(
                f"{current} already exists", hint="use --force to overwrite it"
            ) from exc
        if isinstance(exc, OSError):
            removed = f"; the new {key_path.name} was removed" if key_installed else ""
            raise UsageError(
                f"cannot write {current}: {exc.strerror or exc}{removed}",
                hint="check that the --out directory is writable and has space",
            ) from exc
        raise
    finally:
        _unlink_quietly(key_temp)
        _unlink_quietly(cert_temp)
    _sync_directory(directory)


def generate(request: CertRequest, *, env: Mapping[str, str] | None = None) -> CertResult:
    """Make a key pair and self-signed certificate and write ``NAME.key`` and ``NAME.crt``.

    Precedence: explicit request fields, then the OpenSSL config, then the defaults
    (RSA 2048, 1095 days, subject ``/CN=NAME``). A subject without a CN gets ``CN=NAME``.

    ``env`` is the environment ``$ENV::NAME`` in the OpenSSL config reads (see
    :func:`~samljit.tools.cert.opensslconf.read_openssl_config`); the CLI passes its own.

    Raises ``UsageError`` (bad flags, existing files without ``force``, unwritable
    directory) or ``ConfigError`` (the OpenSSL config).
    """
    name = _check_name(request.name)
    key_type = _check_key_type(request.key_type) if request.key_type is not None else None
    if request.days is not None:
        _check_days(request.days, "--days", UsageError)
    explicit_subject = parse_subject(request.subject) if request.subject is not None else None

    config = (
        read_openssl_config(request.openssl_config, env=env) if request.openssl_config else None
    )
    notes: list[str] = []

    if key_type is None:
        if config is not None and config.default_bits is not None:
            key_type = _key_type_from_bits(config)
        else:
            key_type = DEFAULT_KEY_TYPE

    if request.days is not None:
        days = request.days
        if config is not None and config.days is not None and config.days != days:
            notes.append(
                f"--days {days} overrides default_days = {config.days} in {config.path.name}"
            )
    elif config is not None and config.days is not None:
        days = config.days
        notes.append(
            f"valid for {days} days: default_days = {days} from [ {config.days_section} ] "
            f"in {config.path.name}; `openssl req -x509` ignores default_days and would "
            f"have issued a {OPENSSL_REQ_DAYS}-day certificate"
        )
    else:
        days = DEFAULT_DAYS

    if explicit_subject is not None:
        fields = explicit_subject
    elif config is not None and config.subject is not None:
        fields = list(config.subject)
        if config.subject_from_defaults:
            notes.append(
                f"{config.path.name} does not set prompt = no; samljit used its "
                "*_default values without asking"
            )
    else:
        _check_value(_BY_SHORT["CN"], name, UsageError, "--name as CN")
        fields = [("CN", name)]
    if not any(short == "CN" for short, _ in fields):
        _check_value(_BY_SHORT["CN"], name, UsageError, "--name as CN")
        fields = [*fields, ("CN", name)]
        notes.append(f"the subject had no CN; samljit added CN={name}")

    if config is not None:
        notes.extend(config.notes)

    out_dir = request.out_dir
    key_path = out_dir / f"{name}.key"
    cert_path = out_dir / f"{name}.crt"
    _prepare_out_dir(out_dir)
    if not request.force:
        _refuse_existing((key_path, cert_path))

    key_pem, cert_pem, not_before, not_after, fingerprint = _key_and_certificate(
        key_type, fields, days
    )
    _write_pair(key_path, key_pem, cert_path, cert_pem, request.force)
    return CertResult(
        key_path=key_path,
        cert_path=cert_path,
        subject=format_subject(fields),
        not_before=not_before,
        not_after=not_after,
        sha256_fingerprint=fingerprint,
        key_type=key_type,
        notes=notes,
    )
