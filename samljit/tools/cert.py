"""IdP signing key and self-signed certificate: the library behind ``samljit cert``.

``generate`` writes ``NAME.key`` (unencrypted PKCS#8 PEM, mode 0600) and ``NAME.crt`` (a
self-signed X.509 v3 certificate signed with SHA-256) and returns what the CLI prints.

The certificate carries the extensions ``openssl req -x509`` adds with a stock openssl.cnf
(``x509_extensions = v3_ca``): subjectKeyIdentifier, authorityKeyIdentifier (key id) and a
critical basicConstraints ``CA:TRUE``.

``cryptography`` is imported inside the functions that need it, so that importing this module
(which the CLI does on every start) stays cheap.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from samljit.errors import ConfigError, SamljitError, UsageError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate, ObjectIdentifier

KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "ec-p256")
DEFAULT_KEY_TYPE = "rsa2048"
DEFAULT_DAYS = 1095
MAX_DAYS = 36500
#: What ``openssl req -x509`` issues when ``-days`` is not given (it never reads default_days).
OPENSSL_REQ_DAYS = 30

_KEY_MODE = 0o600
_CERT_MODE = 0o644

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_KEY_TYPE",
    "KEY_TYPES",
    "MAX_DAYS",
    "CertRequest",
    "CertResult",
    "OpenSslReqConfig",
    "format_subject",
    "generate",
    "parse_subject",
    "read_openssl_config",
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


@dataclass
class OpenSslReqConfig:
    """The parts of an OpenSSL ``req`` config that ``samljit cert`` uses.

    ``subject`` is ``None`` when the file names no distinguished name (or it is empty).
    ``days_section`` names the section ``default_days`` came from. ``notes`` hold what is
    worth telling the user whatever flags are given; notes that depend on the flags (days,
    subject) are added by ``generate``.
    """

    path: Path
    subject: list[tuple[str, str]] | None = None
    subject_from_defaults: bool = False
    days: int | None = None
    days_section: str | None = None
    digest: str | None = None
    default_bits: int | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Distinguished names


@dataclass(frozen=True)
class _Attribute:
    short: str  # OpenSSL short name, used in the one-line form
    long: str  # OpenSSL long name
    oid_name: str  # attribute of cryptography's NameOID
    max_len: int | None  # upper bound OpenSSL enforces (RFC 5280 ub-*)
    charset: str  # "utf8", "printable" or "ascii" (IA5String)


_ATTRIBUTES = (
    _Attribute("C", "countryName", "COUNTRY_NAME", 2, "printable"),
    _Attribute("ST", "stateOrProvinceName", "STATE_OR_PROVINCE_NAME", 128, "utf8"),
    _Attribute("L", "localityName", "LOCALITY_NAME", 128, "utf8"),
    _Attribute("street", "streetAddress", "STREET_ADDRESS", 128, "utf8"),
    _Attribute("postalCode", "postalCode", "POSTAL_CODE", 40, "utf8"),
    _Attribute("O", "organizationName", "ORGANIZATION_NAME", 64, "utf8"),
    _Attribute("OU", "organizationalUnitName", "ORGANIZATIONAL_UNIT_NAME", 64, "utf8"),
    _Attribute("CN", "commonName", "COMMON_NAME", 64, "utf8"),
    _Attribute("emailAddress", "emailAddress", "EMAIL_ADDRESS", 128, "ascii"),
    _Attribute("serialNumber", "serialNumber", "SERIAL_NUMBER", 64, "printable"),
    _Attribute("title", "title", "TITLE", 64, "utf8"),
    _Attribute("GN", "givenName", "GIVEN_NAME", None, "utf8"),
    _Attribute("SN", "surname", "SURNAME", None, "utf8"),
    _Attribute("initials", "initials", "INITIALS", None, "utf8"),
    _Attribute("pseudonym", "pseudonym", "PSEUDONYM", 128, "utf8"),
    _Attribute("businessCategory", "businessCategory", "BUSINESS_CATEGORY", 128, "utf8"),
    _Attribute("dnQualifier", "dnQualifier", "DN_QUALIFIER", None, "printable"),
    _Attribute("DC", "domainComponent", "DOMAIN_COMPONENT", None, "ascii"),
    _Attribute("UID", "userId", "USER_ID", None, "utf8"),
)
_BY_NAME = {alias.lower(): attr for attr in _ATTRIBUTES for alias in (attr.short, attr.long)}
_BY_SHORT = {attr.short: attr for attr in _ATTRIBUTES}

_FIELD_HINT = (
    "use C, ST, L, O, OU, CN or emailAddress (or a long name such as countryName or commonName)"
)
_SUBJECT_HINT = (
    'write it like "/C=US/O=Acme Corporation/CN=production"; '
    "escape a literal '/' or '+' inside a value as '\\/' or '\\+'"
)
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_CN_MAX_BYTES = 64


def _attribute(field_name: str) -> _Attribute | None:
    return _BY_NAME.get(field_name.strip().lower())


def _check_value(attr: _Attribute, value: str, error: type[SamljitError], where: str) -> None:
    """Refuse values OpenSSL would refuse (or encode into something broken)."""
    label = f"{where}: {attr.short}"
    if not value.strip():
        raise error(f"{label} has no value", hint=_SUBJECT_HINT if error is UsageError else None)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise error(f"{label} contains a control character")
    if attr.short == "C":
        if not _COUNTRY.fullmatch(value):
            raise error(
                f"{label}={value!r} is not a two-letter country code",
                hint="use an ISO 3166 code such as US or DE",
            )
        return
    if attr.max_len is not None and len(value) > attr.max_len:
        raise error(f"{label} is {len(value)} characters long; at most {attr.max_len} are allowed")
    if attr.short == "CN" and len(value.encode()) > _CN_MAX_BYTES:
        # cryptography limits a CN to 64 bytes of UTF-8, OpenSSL to 64 characters
        raise error(f"{label} is longer than {_CN_MAX_BYTES} bytes in UTF-8")
    if attr.charset == "printable" and not _PRINTABLE.fullmatch(value):
        raise error(f"{label}={value!r} may only hold letters, digits, spaces and '()+,-./:=?")
    if attr.charset == "ascii" and not value.isascii():
        raise error(f"{label}={value!r} must be plain ASCII")


def parse_subject(text: str) -> list[tuple[str, str]]:
    """Parse a subject in ``openssl req -subj`` form into ``[(short_name, value), ...]``.

    ``/type=value/type=value...``: a backslash escapes the next character (``\\/`` for a
    slash inside a value); ``=`` and ``,`` inside a value need no escape. Field names may be
    short or long (``CN``/``commonName``), in any case; they come back as short names.

    OpenSSL 3 reads an unescaped ``+`` as the start of a multi-valued RDN member. samljit
    makes no multi-valued RDNs, so it refuses an unescaped ``+`` rather than reading the
    string differently from OpenSSL; ``\\+`` is a literal plus. Where OpenSSL only warns
    and skips (an unknown field name, an empty value), samljit refuses.

    Raises ``UsageError``.
    """
    where = "--subject"
    if not text.startswith("/"):
        raise UsageError(f"{where} must start with '/', got {text!r}", hint=_SUBJECT_HINT)
    fields: list[tuple[str, str]] = []
    pos, end = 1, len(text)
    while pos < end:
        equals = text.find("=", pos)
        slash = text.find("/", pos)
        if equals == -1 or (slash != -1 and slash < equals):
            piece = text[pos : slash if slash != -1 else end]
            if not piece:
                raise UsageError(f"{where} has an empty field ('//')", hint=_SUBJECT_HINT)
            raise UsageError(f"{where} field {piece!r} has no '='", hint=_SUBJECT_HINT)
        field_name = text[pos:equals]
        attr = _attribute(field_name)
        if attr is None:
            raise UsageError(f"{where} has an unknown field {field_name!r}", hint=_FIELD_HINT)
        pos = equals + 1
        value: list[str] = []
        while pos < end and text[pos] != "/":
            char = text[pos]
            if char == "\\":
                pos += 1
                if pos == end:
                    raise UsageError(f"{where} ends with a lone backslash", hint=_SUBJECT_HINT)
                char = text[pos]
            elif char == "+":
                raise UsageError(
                    f"{where} has an unescaped '+' in {attr.short}: OpenSSL reads that as a "
                    "multi-valued RDN, which samljit does not make",
                    hint="write '\\+' for a literal plus sign",
                )
            value.append(char)
            pos += 1
        pos += 1  # the '/' that ended the value, if any
        joined = "".join(value)
        _check_value(attr, joined, UsageError, where)
        fields.append((attr.short, joined))
    if not fields:
        raise UsageError(f"{where} names no fields", hint=_SUBJECT_HINT)
    return fields


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")


def format_subject(fields: list[tuple[str, str]]) -> str:
    """The OpenSSL one-line form ``/C=US/.../CN=x``; ``parse_subject`` reads it back."""
    return "".join(f"/{name}={_escape(value)}" for name, value in fields)


# --------------------------------------------------------------------------------------------
# OpenSSL config files (the NCONF format ``openssl req -config`` reads)

_Sections = dict[str, dict[str, str]]
_VARIABLE = re.compile(r"\$([{(]?)(?:([A-Za-z0-9_]*)::)?([A-Za-z0-9_]*)")
_ESCAPES = {"r": "\r", "n": "\n", "b": "\b", "t": "\t"}


def _lookup(sections: _Sections, section: str, key: str) -> str | None:
    """OpenSSL's lookup: the section, then the environment for ``ENV``, then ``default``."""
    value = sections.get(section, {}).get(key)
    if value is None and section == "ENV":
        value = os.environ.get(key)
    if value is None:
        value = sections["default"].get(key)
    return value


def _strip_comment(line: str) -> str:
    """Cut an unquoted, unescaped ``#`` and what follows it."""
    quote = ""
    pos = 0
    while pos < len(line):
        char = line[pos]
        if char == "\\":
            pos += 2
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char == "#":
            return line[:pos]
        elif char in "\"'":
            quote = char
        pos += 1
    return line


def _value(raw: str, section: str, sections: _Sections, where: str) -> str:
    """Remove quotes and escapes and expand ``$var``, ``${var}``, ``$sect::var``."""
    out: list[str] = []
    pos, end = 0, len(raw)
    while pos < end:
        char = raw[pos]
        if char in "\"'":
            pos += 1
            while pos < end and raw[pos] != char:
                if raw[pos] == "\\":
                    pos += 1
                    if pos == end:
                        break
                out.append(raw[pos])
                pos += 1
            pos += 1  # closing quote
        elif char == "\\":
            pos += 1
            if pos < end:
                out.append(_ESCAPES.get(raw[pos], raw[pos]))
                pos += 1
        elif char == "$":
            match = _VARIABLE.match(raw, pos)
            assert match is not None  # the pattern matches any '$'
            opening, var_section, var_name = match.groups()
            pos = match.end()
            if opening:
                closing = "}" if opening == "{" else ")"
                if raw[pos : pos + 1] != closing:
                    raise ConfigError(f"{where}: '${opening}' without a closing '{closing}'")
                pos += 1
            found = _lookup(sections, var_section or section, var_name)
            if found is None:
                shown = f"{var_section}::{var_name}" if var_section else var_name
                raise ConfigError(
                    f"{where}: variable ${shown or ''} has no value",
                    hint="write '\\$' for a literal dollar sign",
                )
            out.append(found)
        else:
            out.append(char)
            pos += 1
    return "".join(out)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join lines ending in a single backslash with the next, as OpenSSL does."""
    lines: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        lines.append((start, pending + line))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


def _parse_conf(text: str, source: str) -> _Sections:
    sections: _Sections = {"default": {}}
    current = "default"
    for number, raw_line in _logical_lines(text):
        where = f"{source} line {number}"
        line = _strip_comment(raw_line).strip()
        if not line:
            continue
        if line.startswith("["):
            close = line.find("]")
            if close == -1:
                raise ConfigError(f"{where}: section header without ']'")
            current = line[1:close].strip()
            if not current:
                raise ConfigError(f"{where}: empty section name")
            sections.setdefault(current, {})
            continue
        if line.startswith(".pragma"):
            continue
        if line.startswith(".include"):
            raise ConfigError(
                f"{where}: .include is not supported",
                hint="copy the included [req] sections into this file",
            )
        equals = line.find("=")
        if equals == -1:
            raise ConfigError(f"{where}: expected 'name = value', got {line!r}")
        key = line[:equals].strip()
        section = current
        if "::" in key:
            section, key = (part.strip() for part in key.split("::", 1))
        if not key or not section:
            raise ConfigError(f"{where}: missing name before '='")
        value = _value(line[equals + 1 :].strip(), section, sections, where)
        target = sections.setdefault(section, {})
        target.pop(key, None)  # a repeated name replaces the earlier one, at the new place
        target[key] = value
    return sections


def _field_name(key: str) -> str:
    """``0.organizationName`` -> ``organizationName`` (OpenSSL's "several of one field")."""
    for pos, char in enumerate(key):
        if char in ".:,":
            return key[pos + 1 :] or key
    return key


def _dn_fields(
    sections: _Sections, dn_section: str, prompt: bool, where: str
) -> list[tuple[str, str]]:
    items = sections[dn_section]
    fields: list[tuple[str, str]] = []
    for key, text in items.items():
        if prompt and key.endswith(("_min", "_max", "_default", "_value")):
            continue
        name = _field_name(key)
        if name.startswith("+"):
            raise ConfigError(
                f"{where}: {key} asks for a multi-valued RDN, which samljit does not make",
                hint="drop the leading '+' to make it a field of its own",
            )
        if prompt:
            # What `openssl req -batch` does: NAME_value, else NAME_default, "." skips.
            value = _lookup(sections, dn_section, f"{key}_value")
            if value == ".":
                continue
            if not value:
                value = _lookup(sections, dn_section, f"{key}_default")
            if not value:
                continue
        else:
            value = text
        attr = _attribute(name)
        if attr is None:
            raise ConfigError(f"{where}: unknown field {name!r}", hint=_FIELD_HINT)
        _check_value(attr, value, ConfigError, where)
        fields.append((attr.short, value))
    return fields


def _config_int(value: str, what: str, where: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text):
        raise ConfigError(f"{where}: {what} = {value!r} is not a whole number")
    return int(text)


def read_openssl_config(path: Path) -> OpenSslReqConfig:
    """Read the parts of an OpenSSL ``req`` config that ``samljit cert`` uses.

    * the distinguished name: ``[req] distinguished_name`` names the section; with
      ``prompt = no`` its entries are the fields, otherwise the ``NAME_value`` /
      ``NAME_default`` entries are used as ``openssl req -batch`` would;
    * ``default_days`` from ``[req]`` or else from the CA section (``[ca] default_ca``),
      which ``openssl req`` itself never reads;
    * ``default_md`` (samljit always signs with SHA-256; anything else gets a note);
    * ``default_bits`` (a key size when ``--key-type`` is not given).

    Raises ``ConfigError``.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot read OpenSSL config {path}: {reason}",
            hint="--from-openssl-config takes the path of an OpenSSL req config file",
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"OpenSSL config {path} is not UTF-8 text") from exc
    sections = _parse_conf(text, name)
    if "req" not in sections:
        raise ConfigError(
            f"OpenSSL config {path} has no [ req ] section",
            hint="--from-openssl-config expects a req config such as the one in "
            "JumpCloud's setup guide",
        )
    config = OpenSslReqConfig(path=path)

    def req(key: str) -> str | None:
        return _lookup(sections, "req", key)

    prompt = (req("prompt") or "").strip().lower() != "no"
    dn_section = req("distinguished_name")
    if dn_section:
        dn_section = dn_section.strip()
        if dn_section not in sections:
            raise ConfigError(
                f"{name}: distinguished_name = {dn_section} but there is no "
                f"[ {dn_section} ] section"
            )
        fields = _dn_fields(sections, dn_section, prompt, f"{name} [ {dn_section} ]")
        if fields:
            config.subject = fields
            config.subject_from_defaults = prompt

    days_sources: list[tuple[str, str | None]] = [
        ("req", sections["req"].get("default_days")),
        ("default", sections["default"].get("default_days")),
    ]
    ca_section = _lookup(sections, "ca", "default_ca")
    if ca_section and ca_section.strip() in sections:
        ca_section = ca_section.strip()
        days_sources.append((ca_section, sections[ca_section].get("default_days")))
    for section, value in days_sources:
        if value is None:
            continue
        where = f"{name} [ {section} ]"
        days = _config_int(value, "default_days", where)
        _check_days(days, f"{where}: default_days", ConfigError)
        config.days, config.days_section = days, section
        break

    digest = req("default_md")
    if digest is not None:
        config.digest = digest.strip()
        normal = config.digest.lower().replace("-", "")
        if normal not in ("sha256", "default", ""):
            config.notes.append(
                f"{name} asks for default_md = {config.digest}; samljit always signs with SHA-256"
            )

    bits = req("default_bits")
    if bits is not None:
        config.default_bits = _config_int(bits, "default_bits", f"{name} [ req ]")

    encrypt = req("encrypt_key")
    if encrypt is not None and encrypt.strip().lower() != "no":
        config.notes.append(
            f"{name} has encrypt_key = {encrypt.strip()}; samljit writes the key "
            "unencrypted, readable by its owner only (mode 0600)"
        )
    if req("x509_extensions"):
        config.notes.append(
            f"{name} names x509_extensions; samljit ignores them and adds "
            "subjectKeyIdentifier, authorityKeyIdentifier and basicConstraints CA:TRUE"
        )
    return config


# --------------------------------------------------------------------------------------------
# Generation


def _check_days(days: int, what: str, error: type[SamljitError]) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise error(f"{what} must be between 1 and {MAX_DAYS}, got {days}")
    return days


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
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
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
    flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, mode)
    try:
        if exact_mode:
            os.fchmod(fd, mode)  # the umask may only have narrowed it; make it exact
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


def sha256_fingerprint(certificate: Certificate) -> str:
    """``AB:CD:…``, the SHA-256 fingerprint as ``openssl x509 -fingerprint -sha256`` shows it."""
    from cryptography.hazmat.primitives import hashes

    return ":".join(f"{byte:02X}" for byte in certificate.fingerprint(hashes.SHA256()))


def generate(request: CertRequest) -> CertResult:
    """Make a key pair and self-signed certificate and write ``NAME.key`` and ``NAME.crt``.

    Precedence: explicit request fields, then the OpenSSL config, then the defaults
    (RSA 2048, 1095 days, subject ``/CN=NAME``). A subject without a CN gets ``CN=NAME``.

    Raises ``UsageError`` (bad flags, existing files without ``force``, unwritable
    directory) or ``ConfigError`` (the OpenSSL config).
    """
    name = _check_name(request.name)
    key_type = _check_key_type(request.key_type) if request.key_type is not None else None
    if request.days is not None:
        _check_days(request.days, "--days", UsageError)
    explicit_subject = parse_subject(request.subject) if request.subject is not None else None

    config = read_openssl_config(request.openssl_config) if request.openssl_config else None
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
