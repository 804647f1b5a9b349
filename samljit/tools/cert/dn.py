"""Distinguished names (certificate subjects) in OpenSSL's one-line form.

``parse_subject`` reads ``/C=US/O=Acme Corporation/CN=production`` as ``openssl req -subj``
does (refusing where OpenSSL only warns); ``format_subject`` writes it back. The attribute
table and the value checks are shared with the OpenSSL config reader and with generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from samljit.common.errors import SamljitError, UsageError

__all__ = ["format_subject", "parse_subject"]


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
