"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps).

What an authenticator app computes from the secret the sandbox prints; the sandbox IdP checks
codes with it, and ``samljit demo`` shows the code it uses.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from urllib.parse import quote, urlencode

STEP = 30
DIGITS = 6


def new_secret() -> str:
    """A random base32 secret (160 bits, as most IdPs issue)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def normalize(secret: str) -> str:
    """The secret as base32 without spaces or padding, upper case."""
    return "".join(secret.split()).rstrip("=").upper()


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret; ``ValueError`` when it is not base32."""
    text = normalize(secret)
    padded = text + "=" * (-len(text) % 8)
    try:
        key = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        raise ValueError("a TOTP secret must be base32 (letters A-Z and digits 2-7)") from None
    if not key:
        raise ValueError("a TOTP secret must not be empty")
    return key


def code_at(secret: str, moment: float) -> str:
    """The code for the 30-second step holding ``moment`` (seconds since the epoch)."""
    counter = int(moment // STEP)
    digest = hmac.new(decode_secret(secret), counter.to_bytes(8, "big"), "sha1").digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def code_now(secret: str) -> str:
    return code_at(secret, time.time())


def seconds_left(moment: float | None = None) -> int:
    """Seconds until the code of ``moment`` (default now) changes."""
    now = time.time() if moment is None else moment
    return STEP - int(now % STEP)


def check(secret: str, code: str, moment: float | None = None, *, window: int = 1) -> bool:
    """Is ``code`` the code of the current step, or of ``window`` steps either side (clock
    drift between the phone and the IdP)?"""
    now = time.time() if moment is None else moment
    typed = "".join(code.split())
    if not (typed.isdigit() and len(typed) == DIGITS):
        return False
    return any(
        hmac.compare_digest(code_at(secret, now + STEP * step), typed)
        for step in range(-window, window + 1)
    )


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode({"secret": normalize(secret), "issuer": issuer})
    return f"otpauth://totp/{label}?{query}"
