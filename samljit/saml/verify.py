"""Trust checks on the IdP side: the pinned certificate (``idp_certificate``) and what it signs.

:func:`check` is the one entry point. It always decodes the SAMLResponse with the size cap
and parses it safely (see :mod:`samljit.saml.assertion`: documents that are not UTF-8 are refused
first, since in other encodings a DTD could hide from the byte check). Without a pinned
certificate that is all, and the signature is left to AWS STS. With one, the response is
refused before anything is sent to AWS unless all of these hold:

* **shape**: exactly one ``Response`` (the root) and at most one ``Assertion`` (its child);
  every ``Signature`` sits directly in one of those two. Any other arrangement is a signature
  wrapping attempt (XSW) or a document no IdP produces.
* **signature**: every signature present verifies against the pinned certificate (the key the
  document carries in its own ``KeyInfo`` is never used), and it references, by ``ID``, the
  element it sits in. At least one signature covers the assertion.
* **what is read** comes from the bytes the signature covers (what signxml returns as signed),
  never from the document around them: roles, session name, duration, audience, validity
  window and recipient are read from the signed copy of the ``Assertion``.
* **validity window**: ``NotBefore`` / ``NotOnOrAfter`` hold at ``now``, give or take
  :data:`CLOCK_SKEW`.
* **audience**: every ``AudienceRestriction`` names the account's ``aws_urn``.
* **destination**: the Response's ``Destination`` (when present) and the assertion's
  ``Recipient`` are an AWS sign-in SAML endpoint of the partition of the assertion's roles.

Every failure is a :class:`~samljit.common.errors.VerificationError` (exit 3) whose message starts
with the name of the check. lxml, signxml and cryptography are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samljit.aws.arn import signin_endpoint
from samljit.common.errors import ConfigError, VerificationError
from samljit.common.xmlsafe import load_nothing as load_nothing
from samljit.common.xmlsafe import safe_parser
from samljit.saml import assertion as saml

if TYPE_CHECKING:
    from cryptography import x509

    from samljit.common.terminal import Terminal
    from samljit.config.accounts import Account

#: How far the local clock may be off from the IdP's when checking the validity window.
CLOCK_SKEW = timedelta(minutes=3)

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {**saml.NS, "ds": DS_NS}


_SHAPE_HINT = (
    "no IdP sends a response shaped like this: someone may be tampering with the login; "
    "do not retry from this network or page, and tell your security team"
)
_SIGNATURE_HINT = (
    "the response was not signed by the pinned idp_certificate; if the IdP's signing "
    "certificate was replaced, pin the new one (samljit configure --idp-certificate), "
    "otherwise someone may be tampering with the login"
)


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


def _load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in the PEM file: during an IdP key rollover it holds the old and the
    new signing certificate, and a response signed by either verifies."""
    from cryptography import x509

    data = load_certificate_pem(path)
    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise ConfigError(f"idp_certificate {path} does not hold a valid certificate") from None


def _describe(cert: x509.Certificate) -> CertificateInfo:
    from samljit.common.fingerprint import sha256_fingerprint

    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc.astimezone(timezone.utc),
        sha256_fingerprint=sha256_fingerprint(cert),
    )


def describe_certificate(path: Path) -> CertificateInfo:
    """Read and describe a pinned certificate (the first of the file); :class:`ConfigError`
    when it is unusable."""
    return _describe(_load_certificates(path)[0])


def describe_certificates(path: Path) -> list[CertificateInfo]:
    """Read and describe every certificate pinned in ``path``."""
    return [_describe(cert) for cert in _load_certificates(path)]


# -- the entry point ------------------------------------------------------------------------
def check(
    encoded: str, account: Account, *, now: datetime, terminal: Terminal
) -> saml.SamlAssertion:
    """Parse ``encoded`` and, when ``account`` pins an IdP certificate, verify it.

    Returns what samljit uses from the assertion, read from the signed element when pinned.
    Raises :class:`VerificationError` naming the failed check, or another samljit error for
    documents that are not usable SAML responses at all.
    """
    certs: list[x509.Certificate] = []
    if account.idp_certificate is not None:
        certs = _pinned_certificates(account.idp_certificate, now, terminal)
    xml = saml.decode(encoded)
    response = saml.parse_xml(xml)
    if not certs:
        if saml.holds_encrypted(response):
            return saml.read_encrypted(encoded, response)
        return saml.read(encoded, response, saml.find_assertion(response))
    check_shape(response)
    if saml.holds_encrypted(response):
        return _check_encrypted(xml, response, certs, encoded, now=now)
    saml.find_assertion(response)  # IdP error status, encrypted or missing assertion
    signed = _verify_with_any(xml, response, certs, now=now)
    envelope = signed.response if signed.response is not None else response
    check_validity(signed.assertion, now)
    check_audience(signed.assertion, account.aws_urn)
    partition = check_destination(envelope, signed.assertion)
    parsed = saml.read(encoded, envelope, signed.assertion)
    check_role_partitions(parsed, partition)
    return parsed


def _check_encrypted(
    xml: bytes, response: Any, certs: list[x509.Certificate], encoded: str, *, now: datetime
) -> saml.SamlAssertion:
    """A Response whose assertion is encrypted for AWS: only the Response's own signature can
    be checked here, so it must carry one by a pinned certificate, and its Destination must be
    an AWS sign-in endpoint (``…/saml`` or the per-provider ``…/saml/acs/ID``)."""
    if response.find("ds:Signature", _NS) is None:
        raise _signature_failed(
            "the assertion is encrypted and the Response around it is not signed: samljit "
            "cannot check who sent it"
        )
    refusals: list[VerificationError] = []
    signed = None
    for cert in certs:
        try:
            when = _verification_time(cert, now)
            signed = _verify_one(xml, "./", response, "Response", cert, when)
            break
        except VerificationError as exc:
            refusals.append(exc)
    if signed is None:
        raise refusals[0]
    destination = signed.get("Destination")
    if destination is None or encrypted_destination_partition(destination) is None:
        raise _failed(
            "destination",
            f"the Response's Destination {destination!r} is not an AWS sign-in SAML endpoint",
            "the IdP's AWS app must post to https://signin.aws.amazon.com/saml (or the sign-in "
            "endpoint of your AWS partition or region)",
        )
    return saml.read_encrypted(encoded, signed)


def encrypted_destination_partition(url: str) -> str | None:
    """The partition of an AWS sign-in endpoint an encrypted Response may be addressed to:
    ``https://[REGION.]signin…/saml`` or ``…/saml/acs/ID`` (IAM's per-provider ACS)."""
    import re

    match = re.fullmatch(r"(https://[^/?#]+/saml)(?:/acs/[A-Za-z0-9_-]+)?", url.strip())
    return signin_partition(match.group(1)) if match else None


def _pinned_certificates(path: Path, now: datetime, terminal: Terminal) -> list[x509.Certificate]:
    certs = _load_certificates(path)
    for cert in certs:
        info = _describe(cert)
        if now > info.not_after:
            terminal.warn(
                f"the pinned IdP certificate {path} ({info.subject}) expired "
                f"{info.days_expired(now)} days ago ({info.not_after:%Y-%m-%d}); samljit "
                "still checks signatures against it"
            )
    return certs


def _verify_with_any(
    xml: bytes, response: Any, certs: list[x509.Certificate], *, now: datetime
) -> SignedParts:
    """The signatures verified by one of the pinned certificates (all checks apply to each);
    when none does, the first certificate's refusal (they are alike) is raised."""
    refusals: list[VerificationError] = []
    for cert in certs:
        try:
            return verify_signatures(xml, response, cert, now=now)
        except VerificationError as exc:
            refusals.append(exc)
    raise refusals[0]


def _failed(check_name: str, detail: str, hint: str | None = None) -> VerificationError:
    return VerificationError(f"{check_name} check failed: {detail}", hint=hint)


def _signature_failed(detail: str) -> VerificationError:
    return _failed("signature", detail, _SIGNATURE_HINT)


def _shape_failed(detail: str) -> VerificationError:
    return _failed("signature", detail, _SHAPE_HINT)


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# -- shape ----------------------------------------------------------------------------------
def check_shape(response: Any) -> None:
    """One Response (the root), at most one Assertion (its child), Signatures only in those.

    Elements are matched by local name whatever their namespace, so a look-alike in another
    namespace cannot hide a second assertion from this count.
    """
    if response.tag != f"{{{saml.NS['samlp']}}}Response":
        saml.find_assertion(response)  # raises: "not a SAML 2.0 Response (root element …)"
    responses = response.xpath("//*[local-name()='Response']")
    if len(responses) > 1:
        raise _shape_failed(
            f"the document holds {len(responses)} Response elements where an IdP sends one "
            "(a signature wrapping attempt)"
        )
    assertions = response.xpath("//*[local-name()='Assertion']")
    if len(assertions) > 1:
        raise _shape_failed(
            f"the document holds {len(assertions)} Assertion elements where an IdP sends one "
            "(a signature wrapping attempt)"
        )
    if assertions and assertions[0].getparent() is not response:
        raise _shape_failed(
            f"the Assertion is inside {_local(assertions[0].getparent())}, not directly in the "
            "Response (a signature wrapping attempt)"
        )
    for signature in response.xpath("//*[local-name()='Signature']"):
        parent = signature.getparent()
        if parent is not response and not (assertions and parent is assertions[0]):
            raise _shape_failed(
                f"a Signature sits inside {_local(signature.getparent())}; signatures belong "
                "directly in the Response or the Assertion"
            )


# -- signatures -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedParts:
    """Signed copies (as signxml returned them) of the Response, when it is signed, and of the
    Assertion, signed directly or as part of the signed Response."""

    response: Any | None
    assertion: Any


def verify_signatures(
    xml: bytes, response: Any, cert: x509.Certificate, *, now: datetime
) -> SignedParts:
    """Verify every signature in the (shape-checked) document against ``cert``."""
    assertion = saml.find_assertion(response)
    on_response = response.findall("ds:Signature", _NS)
    on_assertion = assertion.findall("ds:Signature", _NS)
    if not on_response and not on_assertion:
        raise _signature_failed(
            "the response is not signed (neither the Response nor the Assertion has a Signature)"
        )
    for what, found in (("Response", on_response), ("Assertion", on_assertion)):
        if len(found) > 1:
            raise _signature_failed(f"the {what} has {len(found)} signatures; an IdP signs once")
    when = _verification_time(cert, now)
    signed_response = None
    signed_assertion = None
    if on_response:
        signed_response = _verify_one(xml, "./", response, "Response", cert, when)
    if on_assertion:
        location = f"./{{{saml.NS['saml']}}}Assertion/"
        signed_assertion = _verify_one(xml, location, assertion, "Assertion", cert, when)
    if signed_assertion is None:
        inside = (
            signed_response.findall("saml:Assertion", _NS) if signed_response is not None else []
        )
        if len(inside) != 1:
            raise _signature_failed("the signed Response does not hold exactly one Assertion")
        signed_assertion = inside[0]
    return SignedParts(response=signed_response, assertion=signed_assertion)


def _verification_time(cert: x509.Certificate, now: datetime) -> datetime:
    """``now``, moved inside the pinned certificate's validity: an expired pinned certificate
    is the user's decision (warned about), not a reason to refuse."""
    earliest = cert.not_valid_before_utc
    latest = cert.not_valid_after_utc
    return min(max(now, earliest), latest)


def _parser() -> Any:
    # Must not alter content (comments, PIs, whitespace): signxml digests what it parses.
    return safe_parser()


def _verify_one(
    xml: bytes,
    location: str,
    holder: Any,
    what: str,
    cert: x509.Certificate,
    when: datetime,
) -> Any:
    """Verify the Signature directly inside ``holder``; return the signed copy of ``holder``."""
    from lxml import etree
    from signxml.exceptions import SignXMLException
    from signxml.verifier import SignatureConfiguration, XMLVerifier

    holder_id = holder.get("ID") or ""
    config = SignatureConfiguration(location=location, expect_references=1, verification_time=when)
    try:
        result = XMLVerifier().verify(
            xml, x509_cert=cert, parser=_parser(), id_attribute="ID", expect_config=config
        )
    except SignXMLException as exc:
        raise _signature_failed(_explain(what, exc)) from None
    except etree.DocumentInvalid as exc:
        raise _signature_failed(
            f"the {what}'s Signature does not follow the XML Signature schema ({_first_line(exc)})"
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError, etree.LxmlError) as exc:
        # Malformed signature parts (bad base64, unknown algorithm, missing text) end up here.
        raise _signature_failed(
            f"the {what}'s signature cannot be processed ({type(exc).__name__}: {_first_line(exc)})"
        ) from None
    if isinstance(result, list):  # cannot happen with expect_references=1
        raise _signature_failed(f"the {what}'s signature has more than one reference")
    references = result.signature_xml.findall("ds:SignedInfo/ds:Reference", _NS)
    uri = references[0].get("URI") if len(references) == 1 else None
    if not holder_id or uri != f"#{holder_id}":
        named = f"('#{holder_id}')" if holder_id else "(which has no ID)"
        raise _signature_failed(
            f"the {what}'s signature references {uri!r}, not the {what} it is in {named}"
        )
    signed = result.signed_xml
    if signed is None or signed.tag != holder.tag or signed.get("ID") != holder_id:
        raise _signature_failed(f"the {what}'s signature does not cover the {what}")
    return signed


def _explain(what: str, exc: BaseException) -> str:
    from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature

    detail = _first_line(exc)
    if isinstance(exc, InvalidDigest):
        return f"the {what} was changed after it was signed (digest mismatch)"
    if isinstance(exc, InvalidCertificate):
        return f"the pinned certificate cannot verify the {what}'s signature ({detail})"
    if isinstance(exc, InvalidSignature) and detail.startswith("Signature verification failed"):
        return f"the {what}'s signature was not made with the pinned certificate's key"
    return f"the {what}'s signature is not acceptable ({detail})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0]
    return line if len(line) <= 300 else line[:300] + "…"


# -- conditions -----------------------------------------------------------------------------
def _instant(element: Any, attribute: str) -> datetime | None:
    value = element.get(attribute) if element is not None else None
    return saml.parse_instant(value) if value else None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _confirmation_data(assertion: Any) -> list[Any]:
    path = "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData"
    return list(assertion.findall(path, _NS))


def check_validity(assertion: Any, now: datetime, skew: timedelta = CLOCK_SKEW) -> None:
    """``NotBefore`` <= now < ``NotOnOrAfter`` (Conditions and every SubjectConfirmationData),
    within ``skew``; an assertion that never expires is refused."""
    conditions = assertion.find("saml:Conditions", _NS)
    not_before = _instant(conditions, "NotBefore")
    limits = [_instant(conditions, "NotOnOrAfter")]
    limits += [_instant(data, "NotOnOrAfter") for data in _confirmation_data(assertion)]
    ends = [limit for limit in limits if limit is not None]
    clock_hint = "check this computer's clock; then log in again for a fresh assertion"
    if not ends:
        raise _failed(
            "validity",
            "the assertion has no NotOnOrAfter, so it would never expire",
            "configure the IdP to limit the assertion's lifetime",
        )
    if not_before is not None and now + skew < not_before:
        raise _failed(
            "validity",
            f"the assertion is not valid before {_stamp(not_before)} (it is {_stamp(now)} here)",
            clock_hint,
        )
    expiry = min(ends)
    if now - skew >= expiry:
        raise _failed(
            "validity",
            f"the assertion expired at {_stamp(expiry)} (it is {_stamp(now)} here)",
            clock_hint,
        )


def check_audience(assertion: Any, expected: str) -> None:
    """Every ``AudienceRestriction`` must name ``expected`` (the account's ``aws_urn``)."""
    restrictions = assertion.findall("saml:Conditions/saml:AudienceRestriction", _NS)
    hint = (
        "the IdP's AWS app must use the SP entity id "
        f"{expected}; set aws_urn if your AWS app uses another one"
    )
    if not restrictions:
        raise _failed("audience", f"the assertion names no Audience; expected {expected}", hint)
    for restriction in restrictions:
        audiences = [saml.text_of(a) for a in restriction.findall("saml:Audience", _NS)]
        if expected not in audiences:
            named = ", ".join(repr(a) for a in audiences) or "no one"
            raise _failed("audience", f"the assertion is for {named}, not {expected!r}", hint=hint)


def signin_partition(url: str) -> str | None:
    """The partition whose AWS sign-in SAML endpoint ``url`` is, or ``None``.

    Accepted: ``https://HOST/saml`` and ``https://REGION.HOST/saml`` for the sign-in hosts of
    :data:`samljit.aws.arn.PARTITIONS`, the region belonging to the host's partition
    (:func:`samljit.aws.arn.signin_endpoint`).
    """
    found = signin_endpoint(url)
    return found[0] if found is not None else None


def check_destination(envelope: Any, assertion: Any) -> str:
    """``Destination`` (when present) and every ``Recipient`` are AWS sign-in SAML endpoints
    of one partition; returns that partition."""
    hint = (
        "the IdP's AWS app must post to https://signin.aws.amazon.com/saml (or the sign-in "
        "endpoint of your AWS partition or region)"
    )
    found: list[tuple[str, str]] = []
    destination = envelope.get("Destination")
    if destination is not None:
        found.append(("the Response's Destination", destination))
    recipients = [data.get("Recipient") for data in _confirmation_data(assertion)]
    if not any(recipients):
        raise _failed("destination", "the assertion names no Recipient", hint)
    found += [("the assertion's Recipient", r) for r in recipients if r is not None]
    partitions: set[str] = set()
    for what, url in found:
        partition = signin_partition(url)
        if partition is None:
            raise _failed(
                "destination", f"{what} {url!r} is not an AWS sign-in SAML endpoint", hint
            )
        partitions.add(partition)
    if len(partitions) > 1:
        raise _failed(
            "destination",
            "the Destination and Recipient name sign-in endpoints of different AWS "
            f"partitions ({', '.join(sorted(partitions))})",
            hint,
        )
    return partitions.pop()


def check_role_partitions(parsed: saml.SamlAssertion, partition: str) -> None:
    """Every role must live in the partition whose sign-in endpoint the assertion is for."""
    strangers = [role.role_arn for role in parsed.roles if role.partition != partition]
    if strangers:
        raise _failed(
            "destination",
            f"the assertion is addressed to the sign-in endpoint of partition {partition!r} "
            f"but grants roles of another partition ({', '.join(strangers)})",
            "the IdP's AWS app must post to the sign-in endpoint of the roles' partition",
        )
