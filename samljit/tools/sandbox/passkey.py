"""The sandbox IdP's passkeys (WebAuthn), made and checked with py_webauthn.

A user with ``"passkey": true`` signs in with the password, then with a passkey: the first
time (no passkey registered yet) the IdP's page calls ``navigator.credentials.create()`` and
registers the one the browser makes; every time, a page calls ``navigator.credentials.get()``
and the IdP verifies the assertion (challenge, origin, RP ID, signature, user verification,
signature counter) before it issues the SAMLResponse.

The RP ID is the host the IdP is served on, which browsers accept only as a domain name:
serve on ``localhost`` (``samljit sandbox serve --passkey`` does), not ``127.0.0.1``.
Passkeys live in memory: they are gone when the sandbox stops.

``webauthn`` (py_webauthn) is imported only when a passkey page is made or checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from samljit.common.errors import UsageError

INSTALL = "pip install webauthn"
TIMEOUT_MS = 60000


@dataclass
class Passkey:
    """A registered credential: its ID, COSE public key and last signature counter."""

    credential_id: bytes
    public_key: bytes
    sign_count: int = 0


class PasskeyRefused(Exception):
    """The browser's answer did not verify (the message says why)."""


def require_webauthn() -> None:
    try:
        import webauthn  # noqa: F401
    except ImportError:
        raise UsageError(
            "the sandbox's passkeys need py_webauthn, which is not installed",
            hint=f"run `{INSTALL}` (or `pip install 'samljit[demo]'`)",
        ) from None


def rp_id_of(base_url: str) -> str:
    return (urlsplit(base_url).hostname or "").lower()


def origin_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def registration_options(
    base_url: str, username: str, registered: list[Passkey]
) -> tuple[str, bytes]:
    """``navigator.credentials.create()`` options as JSON, and their challenge."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp_id_of(base_url),
        rp_name="samljit sandbox IdP",
        user_name=username,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=k.credential_id) for k in registered],
    )
    return options_to_json(options), options.challenge


def verify_registration(base_url: str, credential: str, challenge: bytes) -> Passkey:
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = verify_registration_response(
            credential=_json(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id_of(base_url),
            expected_origin=origin_of(base_url),
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(str(exc) or type(exc).__name__) from None
    return Passkey(verified.credential_id, verified.credential_public_key, verified.sign_count)


def authentication_options(base_url: str, registered: list[Passkey]) -> tuple[str, bytes]:
    """``navigator.credentials.get()`` options as JSON (the user's passkeys allowed), and
    their challenge."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import (
        PublicKeyCredentialDescriptor,
        UserVerificationRequirement,
    )

    options = generate_authentication_options(
        rp_id=rp_id_of(base_url),
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=k.credential_id) for k in registered],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def verify_assertion(
    base_url: str, credential: str, challenge: bytes, registered: list[Passkey]
) -> Passkey:
    """Check the browser's assertion against the user's passkeys; the counter is updated."""
    from webauthn import base64url_to_bytes, verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    data = _json(credential)
    try:
        raw_id = base64url_to_bytes(str(data.get("rawId") or data.get("id") or ""))
    except ValueError:
        raw_id = b""
    passkey = next((k for k in registered if k.credential_id == raw_id), None)
    if passkey is None:
        raise PasskeyRefused("not a passkey registered for this user")
    try:
        verified = verify_authentication_response(
            credential=data,
            expected_challenge=challenge,
            expected_rp_id=rp_id_of(base_url),
            expected_origin=origin_of(base_url),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(str(exc) or type(exc).__name__) from None
    passkey.sign_count = verified.new_sign_count
    return passkey


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise PasskeyRefused("the browser's answer is not JSON") from None
    if not isinstance(data, dict):
        raise PasskeyRefused("the browser's answer is not a JSON object")
    return data
