"""Okta's error answers as samljit's errors: the Authentication API's error codes (with a
hint for the ones a user can act on), OAuth errors of the device flow, and the ends of a
push or a device wait."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from samljit.idp.api import AuthenticationError, ConfigError, one_line, shorten

BROWSER_HINT = "log in with `samljit login --browser`"


class OktaError(AuthenticationError):
    """An error answer of Okta's Authentication API, in Okta's own words."""

    def __init__(self, status: int, data: Mapping[str, Any], step: str) -> None:
        self.code = str(data.get("errorCode") or "")
        summary = clean(str(data.get("errorSummary") or "")) or f"HTTP {status}"
        causes = data.get("errorCauses")
        details = [
            clean(str(c.get("errorSummary")))
            for c in (causes if isinstance(causes, list) else [])
            if isinstance(c, dict) and c.get("errorSummary")
        ]
        said = summary + (f" ({'; '.join(details)})" if details else "")
        hint = _HINTS.get(self.code)
        super().__init__(f"{step}: Okta refused: {shorten(said)}", hint=hint)


_HINTS = {
    "E0000004": "check username and password (`samljit configure`); a locked user sees this too",
    "E0000011": "the sign-in took too long; run samljit again",
    "E0000068": "use a fresh code (check the phone's clock for TOTP)",
    "E0000079": "run samljit again; Okta's sign-in state moved on",
}


def oauth_error(step: str, status: int, data: Mapping[str, Any]) -> AuthenticationError:
    error = clean(str(data.get("error") or f"HTTP {status}"))
    description = clean(str(data.get("error_description") or ""))
    said = f"{error}: {description}" if description else error
    if error in ("invalid_client", "unauthorized_client", "invalid_scope", "invalid_target"):
        return ConfigError(  # type: ignore[return-value]
            f"{step}: Okta refused the client_id: {shorten(said)}",
            hint="check client_id, and that the OIDC native app has the Device Authorization "
            "and Token Exchange grants and may sign in to the AWS app",
        )
    return AuthenticationError(f"{step}: Okta refused: {shorten(said)}")


def device_expired() -> AuthenticationError:
    return AuthenticationError(
        "the Okta sign-in was not approved before the code expired",
        hint="run again and approve in the browser sooner",
    )


def push_unanswered() -> AuthenticationError:
    return AuthenticationError(
        "Okta Verify push got no answer in time",
        hint="approve the push sooner, or use mfa = TOTP with --mfa-token",
    )


def push_failed(result: str, *, number_shown: bool) -> AuthenticationError:
    if result == "REJECTED":
        said = (
            "denied on the phone, or a wrong number was picked"
            if number_shown
            else ("denied on the phone")
        )
        return AuthenticationError(
            f"Okta Verify push was rejected ({said})",
            hint="run again and approve it (picking the number samljit shows)",
        )
    if result == "TIMEOUT":
        return AuthenticationError(
            "Okta Verify push timed out without an answer",
            hint="run again and approve sooner, or use mfa = TOTP with --mfa-token",
        )
    return AuthenticationError(
        f"Okta Verify push ended with {clean(result) or 'no result'}",
        hint="run again; with mfa = TOTP and --mfa-token no push is needed",
    )


def session_token(answer: Mapping[str, Any], step: str) -> str:
    """The ``sessionToken`` of a ``SUCCESS`` answer; an error when it holds none."""
    token = answer.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise AuthenticationError(
            f"{step}: Okta's SUCCESS answer holds no session token",
            hint=f"run again; if it persists, {BROWSER_HINT}",
        )
    return token


def clean(text: str) -> str:
    """Network text as it may be shown: one line, nothing that is not printable."""
    return one_line(text).strip()
