"""Entra ID's words: the AADSTS error codes of its pages and JSON answers, the pages and
codes a terminal cannot finish, and the second factor's results, each with what it means in a
few words and a hint; the errors built from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from samljit.idp.api import AuthenticationError, ConfigError, one_line, shorten

if TYPE_CHECKING:
    from .pages import EstsPage

BROWSER = "finish it with `samljit login --browser`"

#: AADSTS code → (what it means, in a few words; hint). Exit 3 unless listed in CONFIG_CODES.
CODES: dict[str, tuple[str, str]] = {
    "50126": ("wrong username or password", "check username and password (samljit configure)"),
    "50034": ("Entra ID has no such user", "check the username (samljit configure)"),
    "50053": (
        "the account is locked",
        "wait for the lock to end, or ask your Entra ID admins to unlock it",
    ),
    "50057": ("the account is disabled", "ask your Entra ID admins"),
    "50074": (
        "the second factor (MFA) is required but was not passed",
        "run the login again and complete the second factor",
    ),
    "50076": (
        "the second factor (MFA) is required",
        "run the login again and complete the second factor",
    ),
    "500121": (
        "the second factor failed (denied, not answered or a wrong code)",
        "run the login again and complete the second factor",
    ),
    "50105": (
        "you are not assigned to the AWS app",
        "ask your Entra ID admins to assign you (or your group) to the AWS enterprise app",
    ),
    "50089": ("the sign-in flow expired", "run the login again"),
    "50058": ("Entra ID says you are not signed in", "run the login again"),
    "53003": (
        "your organization's Conditional Access policy blocks this sign-in",
        "a browser on a managed device may pass it: `samljit login --browser`; "
        "otherwise ask your Entra ID admins",
    ),
}
#: Codes that mean a page a terminal cannot finish: (what it asks for).
BROWSER_CODES: dict[str, str] = {
    "50055": "a new password (yours has expired)",
    "50144": "a new password (your Active Directory password has expired)",
    "50072": "MFA registration (set up a second factor)",
    "50079": "MFA registration (set up a second factor)",
    "50158": "an external security challenge (a third-party MFA)",
    "53000": "a compliant device (device compliance)",
    "53001": "a domain-joined device (hybrid join)",
}
#: Pages a terminal cannot finish, by pgid: (what they ask for).
BROWSER_PAGES: dict[str, str] = {
    "ConvergedProofUpRedirect": "MFA registration (set up a second factor)",
    "ConvergedChangePassword": "a new password (yours has expired)",
    "CmsiInterrupt": "confirming the sign-in on this device (CmsiInterrupt)",
    "BssoInterrupt": "browser single sign-on with a device proof (BssoInterrupt)",
}
#: Second-factor results (EndAuth/BeginAuth ``ResultValue``) → (what they mean, hint).
_AGAIN = "run the login again"
_CODE_HINT = "use the current code (--mfa-token, or type it when asked)"
RESULTS: dict[str, tuple[str, str]] = {
    "PhoneAppDenied": (
        "the sign-in was denied in Authenticator",
        "run the login again and approve it, or use mfa = PhoneAppOTP",
    ),
    "PhoneAppNoResponse": (
        "Authenticator got no answer in time",
        "run the login again and approve sooner, or use mfa = PhoneAppOTP",
    ),
    "PhoneAppFraudReported": (
        "the sign-in was reported as fraud in Authenticator",
        "if it was not you, tell your Entra ID admins; they may have to unblock you",
    ),
    "OathCodeIncorrect": ("wrong Authenticator code", _CODE_HINT),
    "SMSAuthFailedWrongCodeEntered": ("wrong code from the text message", _CODE_HINT),
    "OathCodeFailedMaxAllowedRetryReached": (
        "too many wrong codes",
        "wait a few minutes, then log in again with the current code",
    ),
    "SMSAuthFailedMaxAllowedCodeRetryReached": (
        "too many wrong codes",
        "wait a few minutes, then log in again with a new text code",
    ),
    "InvalidSession": ("the second-factor session expired", _AGAIN),
    "AuthMethodNotOffered": ("that second factor is not offered to you", _AGAIN),
    "SMSAuthFailedProviderCouldntSendSMS": (
        "the text message could not be sent",
        "run the login again, or use mfa = PhoneAppNotification or PhoneAppOTP",
    ),
}
WRONG_CODE = frozenset({"OathCodeIncorrect", "SMSAuthFailedWrongCodeEntered"})


def _said(text: object) -> str:
    """Network text for a message: printable, one line, shortened."""
    raw = text if isinstance(text, str) else ""
    return shorten(one_line(raw))


def _str(config: dict[str, Any], key: str) -> str:
    value = config.get(key)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def page_error(page: EstsPage, app_id: str | None, *, again: bool = False) -> Exception:
    """The error for an Entra page that ends the login (an error code or an interrupt);
    ``again``: the sign-in page came back after the password."""
    pgid, code, said = page.pgid, page.code, page.said()
    words = f" ({said})" if said else ""
    if code == "700016":
        return ConfigError(
            f"Entra ID does not know app_id {app_id}{words}",
            hint="check app_id: the Application ID of the AWS enterprise app in the Entra "
            "admin center (samljit configure --app-id …)",
        )
    what = BROWSER_CODES.get(code) or BROWSER_PAGES.get(pgid)
    if what is not None:
        return AuthenticationError(
            f"Entra ID asks for {what}, which samljit cannot do in a terminal{words}: "
            "finish it with `samljit login --browser`"
        )
    known = CODES.get(code)
    if known is not None and not (code == "50058" and again):
        meaning, hint = known
        return AuthenticationError(f"Entra ID: {meaning}{words}", hint=hint)
    if pgid == "ConvergedSignIn" and again:
        return AuthenticationError(
            "Entra ID showed the sign-in page again after the password" + words,
            hint="check username and password (samljit configure); --debug shows each step",
        )
    if pgid in ("ConvergedError", "ConvergedSignIn", "ConvergedTFA", "KmsiInterrupt"):
        return AuthenticationError(
            f"Entra ID refused the sign-in{words or ' without saying why'}",
            hint="look the AADSTS code up in Microsoft's list of Entra error codes; "
            "--debug shows each step",
        )
    shown = f"pgid {_said(pgid)}" + (f", AADSTS{_said(code)}" if code else "")
    return AuthenticationError(
        f"Entra ID shows a page samljit does not know ({shown}){words}: "
        "finish it with `samljit login --browser`"
    )


def _refusal(method: str, answer: dict[str, Any]) -> AuthenticationError:
    result = _said(_str(answer, "ResultValue")) or "no result"
    message = _said(_str(answer, "Message"))
    meaning, hint = RESULTS.get(result, (f"{method} was refused", "run the login again"))
    said = f"{result}: {message}" if message else result
    return AuthenticationError(f"Entra ID: {meaning} ({said})", hint=hint)
