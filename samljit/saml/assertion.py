"""Decode and read a SAMLResponse, safely.

The XML comes from the network and is hostile until proven otherwise: the decoded size is
capped, any DTD (internal or external) is refused before and after parsing, entities are never
resolved and the parser never touches the network. Text values are read as their full XPath
string-value, so a comment inside a value cannot truncate it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from samljit.aws.roles import Role, iam_clean, parse_role_value
from samljit.common.errors import AssertionFormatError, AuthenticationError, RoleError
from samljit.common.text import has_controls, printable

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
MAX_DECODED_BYTES = 1024 * 1024
MAX_ENCODED_CHARS = (MAX_DECODED_BYTES * 4) // 3 + 4096
MAX_DEPTH = 64
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}


class SamlAssertion(NamedTuple):
    """What samljit needs from a SAMLResponse. ``encoded`` is what goes to STS."""

    encoded: str
    roles: tuple[Role, ...]
    session_duration: int | None
    not_before: datetime | None
    not_on_or_after: datetime | None
    destination: str | None
    recipient: str | None
    audiences: tuple[str, ...]
    issuer: str | None
    session_name: str | None
    #: The assertion is encrypted for AWS (IAM's SAML encryption): samljit cannot read it;
    #: ``roles`` then come from the AWS sign-in page or ``role_arn`` (see samljit.jit.flow).
    encrypted: bool = False
    #: Account aliases the AWS sign-in page showed (account id, alias), for an encrypted one.
    page_aliases: tuple[tuple[str, str], ...] = ()

    def account_names(self, configured: Mapping[str, str]) -> dict[str, str]:
        """The names to show for accounts: the configured ``[[accounts]]`` first, then the
        aliases the sign-in page showed."""
        return {**dict(self.page_aliases), **configured}

    @property
    def addressed_to(self) -> str | None:
        """Where the IdP addressed the response: its ``Destination``, else the assertion's
        ``Recipient`` (a regional AWS sign-in endpoint there picks the STS region)."""
        return self.destination or self.recipient


def decode(encoded: str) -> bytes:
    """Base64 SAMLResponse → XML bytes, with the size cap."""
    text = "".join(encoded.split())
    if not text:
        raise AssertionFormatError("the SAMLResponse is empty")
    if len(text) > MAX_ENCODED_CHARS:
        raise AssertionFormatError(
            f"the SAMLResponse is too large ({len(text)} characters; the limit is "
            f"{MAX_ENCODED_CHARS})"
        )
    try:
        xml = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AssertionFormatError(
            "the SAMLResponse is not base64", hint="the IdP page was not a SAML POST form"
        ) from None
    if not xml.lstrip().startswith(b"<"):
        raise AssertionFormatError("the SAMLResponse does not decode to XML")
    return xml


def screen(xml: bytes) -> None:
    """Refuse documents that are not UTF-8, before any parser sees them.

    IdPs send SAML in UTF-8. In UTF-16, UTF-32 or a declared legacy encoding (UTF-7, EBCDIC)
    the markup is not plain bytes, so a byte search for ``<!DOCTYPE`` cannot see a DTD, and
    libxml2 would open an external DTD named in one (a local file read) before samljit's
    check after parsing refuses it. In UTF-8 the DTD check on the bytes is complete.
    """
    if b"\x00" in xml:
        raise AssertionFormatError(
            "the SAML document is not UTF-8 (it holds NUL bytes, as UTF-16 or UTF-32 text "
            "does); samljit reads UTF-8 SAML only"
        )
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        raise AssertionFormatError(
            "the SAML document is not valid UTF-8; samljit reads UTF-8 SAML only"
        ) from None
    declared = _DECLARED_ENCODING.match(xml)
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
        raise AssertionFormatError(
            f"the SAML document declares encoding {declared.group(1).decode('ascii')}; "
            "samljit reads UTF-8 SAML only"
        )


def parse_xml(xml: bytes) -> Any:
    """Parse hostile XML: no DTD, no entities, no network, bounded size and depth."""
    from samljit.common.xmlsafe import UntrustedXmlError, parse_untrusted

    if len(xml) > MAX_DECODED_BYTES:
        raise AssertionFormatError(f"the SAML document is too large ({len(xml)} bytes)")
    screen(xml)
    try:
        return parse_untrusted(xml, max_depth=MAX_DEPTH, remove_pis=True, collect_ids=False)
    except UntrustedXmlError as exc:
        if exc.kind == "dtd":
            raise AssertionFormatError(
                "the SAML document contains a DTD, which samljit refuses"
            ) from None
        if exc.kind == "depth":
            raise AssertionFormatError(
                f"the SAML document nests deeper than {MAX_DEPTH} elements"
            ) from None
        detail = exc.detail or "the document is empty"
        raise AssertionFormatError(f"the SAMLResponse is not well-formed XML ({detail})") from None


def text_of(element: Any) -> str:
    """Full string-value of an element (comments inside cannot cut it short)."""
    return str(element.xpath("string(.)")).strip()


def find_assertion(response: Any) -> Any:
    """The Response's Assertion element; clear errors for status, encryption, absence."""
    if response.tag != f"{{{NS['samlp']}}}Response":
        raise AssertionFormatError(
            f"the SAML document is not a SAML 2.0 Response (root element {_local(response.tag)})"
        )
    status = response.find("samlp:Status/samlp:StatusCode", NS)
    if status is not None and status.get("Value") != SUCCESS:
        message = response.find("samlp:Status/samlp:StatusMessage", NS)
        detail = text_of(message) if message is not None else status.get("Value", "")
        raise AuthenticationError(f"the IdP answered with a SAML error: {printable(detail)}")
    check_assertion_shape(response)
    assertions = response.findall("saml:Assertion", NS)
    if not assertions:
        if response.find("saml:EncryptedAssertion", NS) is not None:
            raise AssertionFormatError(
                "the IdP encrypted the assertion; samljit cannot decrypt assertions yet",
                hint="turn off assertion encryption for the AWS app in the IdP",
            )
        raise AssertionFormatError("the SAMLResponse holds no Assertion")
    if len(assertions) > 1:
        raise AssertionFormatError("the SAMLResponse holds more than one Assertion")
    return assertions[0]


#: Local names (lower-cased) of elements that hold or look like an assertion.
_ASSERTION_LIKE = ("assertion", "encryptedassertion")
_SHAPE_HINT = (
    "no IdP sends a response shaped like this: someone may be tampering with the login; "
    "do not retry from this network or page, and tell your security team"
)


def check_assertion_shape(response: Any) -> None:
    """Refuse a Response whose assertion is not alone where SAML puts it, pinned or not.

    Only ``saml:Assertion`` or ``saml:EncryptedAssertion`` directly in the Response, and not
    both: an ``EncryptedAssertion`` beside the ``Assertion``, or an element named like an
    assertion in another namespace or another case (``saml2:assertion``, ``Assertion`` with
    no namespace) anywhere, is refused rather than forwarded to STS with the rest of the
    bytes (which could read it in a way samljit did not)."""
    allowed = {f"{{{NS['saml']}}}Assertion", f"{{{NS['saml']}}}EncryptedAssertion"}
    for element in response.iter():
        tag = element.tag
        if not isinstance(tag, str) or _local(tag).lower() not in _ASSERTION_LIKE:
            continue
        if tag in allowed and element.getparent() is response:
            continue
        namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else "no namespace"
        where = _local(element.getparent().tag) if element.getparent() is not None else "?"
        raise AssertionFormatError(
            f"the SAMLResponse holds an assertion-like element {_local(tag)} ({namespace}) "
            f"inside {where}, where SAML has none",
            hint=_SHAPE_HINT,
        )
    if response.find("saml:EncryptedAssertion", NS) is not None and (
        response.find("saml:Assertion", NS) is not None
    ):
        raise AssertionFormatError(
            "the SAMLResponse holds an EncryptedAssertion beside the Assertion; an IdP sends "
            "one or the other",
            hint=_SHAPE_HINT,
        )


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def read(encoded: str, response: Any, assertion: Any) -> SamlAssertion:
    """Read every field samljit uses from ``assertion`` (an element of ``response``)."""
    values = _attribute_values(assertion)
    role_values = values.get(ROLE_ATTRIBUTE, [])
    roles = _roles(role_values)
    duration_values = values.get(SESSION_DURATION_ATTRIBUTE, [])
    conditions = assertion.find("saml:Conditions", NS)
    confirmation = assertion.find(
        "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS
    )
    not_on_or_after = _time(conditions, "NotOnOrAfter")
    if not_on_or_after is None:
        not_on_or_after = _time(confirmation, "NotOnOrAfter")
    audiences = tuple(
        text_of(a)
        for a in assertion.findall("saml:Conditions/saml:AudienceRestriction/saml:Audience", NS)
    )
    issuer = assertion.find("saml:Issuer", NS)
    names = values.get(SESSION_NAME_ATTRIBUTE, [])
    return SamlAssertion(
        encoded="".join(encoded.split()),
        roles=roles,
        session_duration=_duration(duration_values),
        not_before=_time(conditions, "NotBefore"),
        not_on_or_after=not_on_or_after,
        destination=response.get("Destination"),
        recipient=confirmation.get("Recipient") if confirmation is not None else None,
        audiences=audiences,
        issuer=text_of(issuer) if issuer is not None else None,
        session_name=names[0] if names else None,
    )


def holds_encrypted(response: Any) -> bool:
    """Whether ``response`` (a Success Response of a sane shape) carries its assertion
    encrypted (``saml:EncryptedAssertion``, no ``saml:Assertion``). Raises as
    :func:`find_assertion` does for another root, an error status or a bad shape."""
    if response.tag != f"{{{NS['samlp']}}}Response" or (
        response.find("saml:Assertion", NS) is not None
    ):
        return False
    status = response.find("samlp:Status/samlp:StatusCode", NS)
    if status is not None and status.get("Value") != SUCCESS:
        return False  # find_assertion says what the IdP said
    check_assertion_shape(response)
    return len(response.findall("saml:EncryptedAssertion", NS)) == 1


#: How long samljit keeps an encrypted assertion after its Response's ``IssueInstant``: its
#: real ``NotOnOrAfter`` is inside the ciphertext. Five minutes is the usual assertion lifetime;
#: when AWS finds a cached one expired sooner, the flow logs in again.
ENCRYPTED_LIFETIME = timedelta(minutes=5)


def read_encrypted(encoded: str, response: Any) -> SamlAssertion:
    """What can be read of a Response whose assertion is encrypted for AWS: its
    ``Destination`` and ``Issuer``; no roles. ``not_on_or_after`` is assumed:
    ``IssueInstant`` + :data:`ENCRYPTED_LIFETIME` (for the assertion cache)."""
    issued = _time(response, "IssueInstant")
    issuer = response.find("saml:Issuer", NS)
    return SamlAssertion(
        encoded="".join(encoded.split()),
        roles=(),
        session_duration=None,
        not_before=None,
        not_on_or_after=issued + ENCRYPTED_LIFETIME if issued is not None else None,
        destination=response.get("Destination"),
        recipient=None,
        audiences=(),
        issuer=text_of(issuer) if issuer is not None else None,
        session_name=None,
        encrypted=True,
    )


def parse(encoded: str) -> SamlAssertion:
    """Decode, parse and read a SAMLResponse (no signature check; see ``samljit.saml.verify``)."""
    response = parse_xml(decode(encoded))
    if holds_encrypted(response):
        return read_encrypted(encoded, response)
    return read(encoded, response, find_assertion(response))


def _attribute_values(assertion: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        name = (attribute.get("Name") or "").strip()
        found = [text_of(v) for v in attribute.findall("saml:AttributeValue", NS)]
        values.setdefault(name, []).extend(found)
    return values


def _roles(role_values: Sequence[str]) -> tuple[Role, ...]:
    if not role_values:
        raise RoleError(
            f"the assertion has no {ROLE_ATTRIBUTE} attribute, so it grants no AWS role",
            hint=f"map the attribute {ROLE_ATTRIBUTE} (value 'ROLE_ARN,PROVIDER_ARN') "
            "in the IdP's AWS app",
        )
    roles: list[Role] = []
    for value in role_values:
        role = parse_role_value(value)
        parts = [part.strip() for part in value.split(",")]  # blanks around a part are layout
        odd = any(has_controls(part) or not part.isascii() for part in parts)
        if odd or (role is not None and not iam_clean(role)):
            raise RoleError(
                f"the assertion's {ROLE_ATTRIBUTE} value '{printable(value)}' has characters "
                "IAM does not allow in a role or SAML provider ARN",
                hint="the IdP's AWS app sends a malformed role (or the response was tampered "
                "with); tell your IdP admins",
            )
        if role is not None and role not in roles:
            roles.append(role)
    if not roles:
        raise RoleError(
            f"no value of {ROLE_ATTRIBUTE} is a 'ROLE_ARN,PROVIDER_ARN' pair",
            hint="each value must name an IAM role ARN and the IAM SAML provider ARN, "
            "separated by a comma",
        )
    return tuple(roles)


def _duration(values: Sequence[str]) -> int | None:
    for value in values:
        if value.isdigit():
            return int(value)
    return None


def _time(element: Any, attribute: str) -> datetime | None:
    if element is None:
        return None
    value = element.get(attribute)
    if not value:
        return None
    return parse_instant(value)


def parse_instant(value: str) -> datetime:
    """An xs:dateTime as SAML uses it (UTC, ``Z``, optional fraction) → aware datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", text)
    if match:  # Python 3.10 accepts only 3 or 6 fraction digits
        fraction = (match.group(2) or "")[:7].ljust(7, "0") if match.group(2) else ""
        text = match.group(1) + fraction + match.group(3)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)  # OverflowError at the edges of datetime
    except (ValueError, OverflowError):
        raise AssertionFormatError(f"the assertion holds an invalid time: {value!r}") from None
