"""Signed SAMLResponses for provider tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from samljit.tools.sandbox.response import RoleGrant, build_response, encode, sign

if TYPE_CHECKING:
    from lxml import etree


class SigningPair(NamedTuple):
    key_pem: bytes
    cert_pem: bytes
    cert_path: Path


def signing_pair(directory: Path, name: str = "idp") -> SigningPair:
    """A new RSA signing key and self-signed certificate, written into ``directory``."""
    from samljit.tools.sandbox.keys import generate_signing_key

    made = generate_signing_key(directory, name)
    return SigningPair(made.key_pem, made.cert_pem, made.cert_path)


def signed_response(
    *,
    issuer: str,
    user: str,
    roles: Sequence[tuple[str, str]],
    pair: SigningPair,
    session_duration: int | None = 3600,
) -> str:
    """A base64 SAMLResponse granting ``roles`` (``(role_arn, principal_arn)`` pairs) to
    ``user``, its assertion signed with ``pair``."""
    root = role_response(issuer, user, roles, session_duration=session_duration)
    return encode(sign(root, pair.key_pem, pair.cert_pem))


def role_response(
    issuer: str, user: str, roles: Sequence[tuple[str, str]], **options: Any
) -> etree._Element:
    """An unsigned Response from ``issuer`` granting ``roles`` (``(role_arn, principal_arn)``
    pairs) to ``user`` (also the session name); ``options``: more of ``build_response``'s."""
    return build_response(
        issuer=issuer,
        name_id=user,
        roles=[RoleGrant(role_arn=r, principal_arn=p) for r, p in roles],
        session_name=user,
        **options,
    )
