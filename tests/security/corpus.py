"""Building blocks of the attack corpus: genuinely signed responses and the ways attackers
rework them.

Every attack starts from a response signed with the test IdP key (fixtures/keys/idp-test.key),
exactly what the JumpCloud emulator hands out, and then edits the document the way the attack
describes. The XML Signature Wrapping variants follow Somorovsky et al., "On Breaking SAML:
Be Whoever You Want to Be" (USENIX Security 2012); each one tries to make a reader take the
roles of an *evil* copy (granting the full-admin role) while the signature still verifies over
the original (granting read-only).
"""

from __future__ import annotations

import base64
import copy
import io
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from lxml import etree

from samljit.common.terminal import Terminal
from samljit.config.accounts import Account
from samljit.saml import verify
from samljit.saml.assertion import SamlAssertion
from samljit.tools.sandbox.response import (
    DS_NS,
    ROLE_ATTRIBUTE,
    SAML_NS,
    SAMLP_NS,
    RoleGrant,
    RoleOrder,
    SignTarget,
    build_response,
    encode,
    sign,
    sign_in_place,
)

REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / "fixtures" / "keys"
IDP_CERT_PATH = KEYS / "idp-test.crt"
ATTACKER_CERT_PATH = KEYS / "attacker.crt"
IDP_KEY = (KEYS / "idp-test.key").read_bytes()
IDP_CERT = IDP_CERT_PATH.read_bytes()
ATTACKER_KEY = (KEYS / "attacker.key").read_bytes()
ATTACKER_CERT = ATTACKER_CERT_PATH.read_bytes()

NS = {"samlp": SAMLP_NS, "saml": SAML_NS, "ds": DS_NS}
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ACCOUNT_ID = "012345678987"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/JumpCloud"
READONLY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/AcmeJumpCloudAdminRO"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/AcmeJumpCloudAdmin"
READONLY = RoleGrant(READONLY_ARN, PROVIDER_ARN)
EVIL_ROLE_VALUE = f"{ADMIN_ARN},{PROVIDER_ARN}"


def genuine(
    target: SignTarget = "assertion",
    *,
    key: bytes = IDP_KEY,
    cert: bytes = IDP_CERT,
    now: datetime = NOW,
    lifetime: timedelta = timedelta(minutes=5),
    role_order: RoleOrder = "role-first",
    audience: str = "urn:amazon:webservices",
    destination: str = "https://signin.aws.amazon.com/saml",
    roles: list[RoleGrant] | None = None,
    edit: Callable[[Any], None] | None = None,
) -> Any:
    """A Response granting read-only, signed as the IdP signs (``edit`` runs before signing)."""
    root = build_response(
        issuer="https://sso.jumpcloud.com/saml2/acme-prod-aws-admin",
        name_id="ops@acme.example",
        roles=roles if roles is not None else [READONLY],
        session_name="ops@acme.example",
        now=now,
        lifetime=lifetime,
        role_order=role_order,
        audience=audience,
        destination=destination,
    )
    if edit is not None:
        edit(root)
    return sign(root, key, cert, target=target)


def to_b64(root: Any) -> str:
    return encode(root)


def raw_b64(xml: bytes) -> str:
    return base64.b64encode(xml).decode("ascii")


def account(pinned: Path | None = IDP_CERT_PATH, **overrides: Any) -> Account:
    values: dict[str, Any] = {
        "name": "production",
        "provider": "JumpCloud",
        "url": "https://sso.jumpcloud.com/saml2/acme-prod-aws-admin",
        "idp_certificate": pinned,
    }
    values.update(overrides)
    return Account(**values)


def check(
    document: Any, *, pinned: Path | None = IDP_CERT_PATH, now: datetime = NOW
) -> tuple[SamlAssertion, str]:
    """Run samljit's entry point on a document (element or base64); returns what it read and
    what it told the user."""
    encoded = document if isinstance(document, str) else to_b64(document)
    stream = io.StringIO()
    terminal = Terminal(interactive=False, stream=stream)
    parsed = verify.check(encoded, account(pinned), now=now, terminal=terminal)
    return parsed, stream.getvalue()


# -- finding parts ------------------------------------------------------------------------
def the_assertion(root: Any) -> Any:
    found = root.find("saml:Assertion", NS)
    assert found is not None
    return found


def signature_of(element: Any) -> Any:
    found = element.find("ds:Signature", NS)
    assert found is not None
    return found


def role_values(element: Any) -> list[Any]:
    path = f".//saml:Attribute[@Name='{ROLE_ATTRIBUTE}']/saml:AttributeValue"
    return list(element.iterfind(path, NS))


def escalate(element: Any) -> None:
    """The attacker's edit: every Role value now grants the full-admin role."""
    values = role_values(element)
    assert values
    for value in values:
        value.text = EVIL_ROLE_VALUE


def without_signature(element: Any) -> Any:
    clone = copy.deepcopy(element)
    clone.remove(signature_of(clone))
    return clone


def evil_copy(element: Any, new_id: str | None = None) -> Any:
    """An unsigned, escalated copy of the signed ``element`` (under ``new_id``, if given)."""
    evil = without_signature(element)
    escalate(evil)
    if new_id is not None:
        evil.set("ID", new_id)
    return evil


def escalate_in_place(element: Any, new_id: str | None = None) -> Any:
    """Escalate the signed ``element`` where it stands (Signature kept; under ``new_id``, if
    given) and return an unsigned copy of it as it was, for the signature to find."""
    original = without_signature(element)
    escalate(element)
    if new_id is not None:
        element.set("ID", new_id)
    return original


# -- XML Signature Wrapping (Somorovsky et al. 2012) ---------------------------------------
# XSW1 and XSW2 attack a signed Response; XSW3-XSW8 a signed Assertion.


def xsw1(doc: Any) -> Any:
    """The signed Response moves inside its own Signature; the outer (evil) Response, with a
    new ID, carries the evil assertion."""
    original = escalate_in_place(doc, "_evil_response")
    signature_of(doc).append(original)
    return doc


def xsw2(doc: Any) -> Any:
    """Like XSW1, but the signed Response sits next to the Signature (a detached signature)."""
    original = escalate_in_place(doc, "_evil_response")
    signature_of(doc).addprevious(original)
    return doc


def xsw3(doc: Any) -> Any:
    """An unsigned evil Assertion (new ID) is inserted before the signed one."""
    assertion = the_assertion(doc)
    assertion.addprevious(evil_copy(assertion, "_evil_assertion"))
    return doc


def xsw4(doc: Any) -> Any:
    """The evil Assertion wraps the signed one: the original becomes its child."""
    assertion = the_assertion(doc)
    evil = evil_copy(assertion, "_evil_assertion")
    doc.append(evil)
    evil.append(assertion)
    return doc


def xsw5(doc: Any) -> Any:
    """The assertion in place is edited (keeping the Signature, new ID); an unsigned copy of the
    original is appended to the Response for the signature to find."""
    doc.append(escalate_in_place(the_assertion(doc), "_evil_assertion"))
    return doc


def xsw6(doc: Any) -> Any:
    """Like XSW5, but the copy of the original hides inside the evil assertion's Signature."""
    evil = the_assertion(doc)
    signature_of(evil).append(escalate_in_place(evil, "_evil_assertion"))
    return doc


def xsw7(doc: Any) -> Any:
    """An ``Extensions`` element (schema-lax) before the signed Assertion carries an evil copy
    with the same ID."""
    assertion = the_assertion(doc)
    extensions = etree.Element(f"{{{SAMLP_NS}}}Extensions")
    extensions.append(evil_copy(assertion))
    assertion.addprevious(extensions)
    return doc


def xsw8(doc: Any) -> Any:
    """The assertion in place is edited (same ID, Signature kept); the original, unsigned,
    hides in a ``ds:Object`` inside that Signature."""
    evil = the_assertion(doc)
    original = escalate_in_place(evil)
    etree.SubElement(signature_of(evil), f"{{{DS_NS}}}Object").append(original)
    return doc


XSW: dict[str, tuple[SignTarget, Callable[[Any], Any]]] = {
    "XSW1": ("response", xsw1),
    "XSW2": ("response", xsw2),
    "XSW3": ("assertion", xsw3),
    "XSW4": ("assertion", xsw4),
    "XSW5": ("assertion", xsw5),
    "XSW6": ("assertion", xsw6),
    "XSW7": ("assertion", xsw7),
    "XSW8": ("assertion", xsw8),
}


# -- hand-made signatures -----------------------------------------------------------------
def sign_reference(root: Any, holder: Any, reference_uri: str | None, key: bytes = IDP_KEY) -> Any:
    """Sign with the IdP key, the Signature placed in ``holder`` after its Issuer (or first),
    the Reference pointing at ``reference_uri`` (``None``: signxml's default, ``""`` when the
    signed root has no ID). Returns the new document root."""
    return sign_in_place(root, holder, key, IDP_CERT, reference_uri=reference_uri)
