"""The second factors OneLogin's API offers, one object per device type.

Each :class:`Device` is one of the user's enrolled devices (``device_id``, ``device_type``)
and completes ``verify_factor`` its own way; :func:`factors_for` turns OneLogin's ``devices``
list into the factors samljit can drive, and names the rest (a security key, Duo…).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from samljit.idp.api import (
    AuthenticationError,
    Factor,
    SamljitError,
    Waiting,
    WrongCodeError,
    code_until_accepted,
    one_line,
    wait_until,
)

from .api import Answer

#: How long a ``state_token`` lives at OneLogin; a push is awaited at most this long.
STATE_SECONDS = 120.0
#: The pause between two polls of a OneLogin Protect push.
PUSH_POLL_SECONDS = 2.0
STATE_INVALID = "state token is invalid or expired"
#: OneLogin's words for a wrong code (the login's state token stays good for another).
_WRONG_CODE = "Failed authentication with this factor"


@dataclass
class Challenge:
    """One login waiting for its second factor: what every ``verify_factor`` call sends."""

    verify: Callable[[dict[str, Any], str], Answer]  # (body, step) → answer
    callback: str
    app_id: str
    state_token: str


class Device(Factor[str]):
    """One enrolled device; ``verify`` returns the SAMLResponse."""

    device_type: ClassVar[str]

    def __init__(self, challenge: Challenge, device_id: str, provider: Any) -> None:
        self.challenge = challenge
        self.device_id = device_id
        self.provider = provider

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.device_type})"

    def call(self, step: str, **extra: Any) -> Answer:
        body = {
            "app_id": self.challenge.app_id,
            "device_id": self.device_id,
            "state_token": self.challenge.state_token,
            **extra,
        }
        answer = self.challenge.verify(body, step)
        if answer.status == 400:
            raise SamljitError(f"{step}: OneLogin refused the request (HTTP 400): {answer.message}")
        return answer

    def check(self, step: str, otp: str) -> str:
        """Send one code; the SAMLResponse, or OneLogin's refusal (a wrong code:
        :class:`WrongCodeError`, so that a typed one may be typed again)."""
        self.provider.redactor.add(otp)
        return self.done(self.call(step, otp_token=otp), step)

    def done(self, answer: Answer, step: str) -> str:
        """The SAMLResponse of a final answer; a refusal in OneLogin's words."""
        if answer.saml:
            return answer.saml
        if answer.status == 401:
            refused = WrongCodeError if _WRONG_CODE in answer.message else AuthenticationError
            raise refused(
                f"OneLogin refused the {self.device_type} code: {answer.message or 'HTTP 401'}",
                hint="check the code (each one works once), or choose another factor with mfa",
            )
        raise AuthenticationError(
            f"{step}: OneLogin answered HTTP {answer.status}"
            + (f": {answer.message}" if answer.message else " without a SAMLResponse")
        )


class CodeDevice(Device):
    """A device whose one-time code OneLogin checks (TOTP, a YubiKey OTP)."""

    takes_code: ClassVar[bool] = True
    what: ClassVar[str] = "code"
    digits: ClassVar[bool] = True

    def verify(self, code: str | None) -> str:
        step = f"OneLogin {self.device_type}"
        return code_until_accepted(
            self.provider.terminal,
            code,
            lambda otp: self.check(step, otp),
            what=f"{self.what} ({self.device_type})",
            digits=self.digits,
        )


class Authenticator(CodeDevice):
    kind: ClassVar[str] = "TOTP"
    device_type: ClassVar[str] = "Google Authenticator"
    what: ClassVar[str] = "TOTP code"


class ProtectCode(CodeDevice):
    """The code the OneLogin Protect app shows (no push sent)."""

    kind: ClassVar[str] = "TOTP"
    device_type: ClassVar[str] = "OneLogin Protect"
    what: ClassVar[str] = "OneLogin Protect code"


class YubiKey(CodeDevice):
    kind: ClassVar[str] = "YUBIKEY"
    device_type: ClassVar[str] = "Yubico YubiKey"
    what: ClassVar[str] = "YubiKey OTP (touch the key)"
    digits: ClassVar[bool] = False


class Sms(Device):
    """OneLogin SMS: the first call sends the code, then it is asked for (or the one given)."""

    kind: ClassVar[str] = "SMS"
    device_type: ClassVar[str] = "OneLogin SMS"
    takes_code: ClassVar[bool] = True

    def verify(self, code: str | None) -> str:
        step = "OneLogin SMS"
        sent = self.call(step)
        if sent.saml:
            return sent.saml
        if not sent.pending:
            raise AuthenticationError(
                f"{step}: OneLogin did not send the code: {sent.message or f'HTTP {sent.status}'}"
            )
        self.provider.terminal.info("OneLogin sent a code by SMS.")
        return code_until_accepted(
            self.provider.terminal, code, lambda otp: self.check(step, otp), what="SMS code"
        )


class Push(Device):
    """OneLogin Protect push: the first call sends it; every poll says ``do_not_notify``."""

    kind: ClassVar[str] = "OLP"
    device_type: ClassVar[str] = "OneLogin Protect"

    @property
    def label(self) -> str:
        return "OLP (OneLogin Protect push)"

    def verify(self, code: str | None) -> str:
        step = "OneLogin Protect push"
        first = self.call(step, do_not_notify=False)
        if first.saml:
            return first.saml
        if not first.pending:
            raise self.refused(first)
        self.provider.terminal.info(
            "OneLogin Protect push sent: approve the sign-in on your phone."
        )

        def expired() -> AuthenticationError:
            return AuthenticationError(
                "OneLogin Protect push was not answered in time",
                hint="run again and approve the push sooner, or use mfa = TOTP",
            )

        def poll(_: Waiting) -> str | None:
            answer = self.call("OneLogin Protect push status", do_not_notify=True)
            if answer.saml:
                return answer.saml
            if answer.pending:
                return None
            if answer.status == 401 and answer.message.lower().startswith(STATE_INVALID):
                raise expired()
            raise self.refused(answer)

        return wait_until(
            poll,
            services=self.provider.services,
            seconds=STATE_SECONDS,
            every=PUSH_POLL_SECONDS,
            waiting="Waiting for approval…",
            expired=expired,
            sleep_first=True,
            note="(Ctrl-C cancels)",
        )

    @staticmethod
    def refused(answer: Answer) -> AuthenticationError:
        return AuthenticationError(
            "OneLogin Protect push was denied: " + (answer.message or f"HTTP {answer.status}"),
            hint="run again and approve the push, or use mfa = TOTP",
        )


#: The device types samljit drives, by OneLogin's ``device_type``.
DRIVEN: dict[str, tuple[type[Device], ...]] = {
    "OneLogin Protect": (Push, ProtectCode),
    "Google Authenticator": (Authenticator,),
    "OneLogin SMS": (Sms,),
    "Yubico YubiKey": (YubiKey,),
}
#: The order in which ``Auto`` with a code tries code devices.
_CODE_ORDER = (Authenticator, ProtectCode, Sms, YubiKey)


def factors_for(
    devices: object, challenge: Challenge, provider: Any, *, want_code: bool
) -> tuple[list[Device], list[str]]:
    """The factors samljit can drive among OneLogin's ``devices``, and the device types it
    cannot. The Protect app's code is offered only when a code is wanted (``--mfa-token``
    or ``mfa = TOTP``): otherwise Protect means its push."""
    found: list[Device] = []
    unsupported: list[str] = []
    for entry in devices if isinstance(devices, list) else []:
        if not isinstance(entry, dict):
            continue
        device_type = str(entry.get("device_type") or "")
        device_id = entry.get("device_id")
        kinds = DRIVEN.get(device_type)
        if kinds is None or device_id is None:
            unsupported.append(one_line(device_type) or "an unnamed device")
            continue
        for cls in kinds:
            if cls is ProtectCode and not want_code:
                continue
            found.append(cls(challenge, str(device_id), provider))
    if want_code:  # a code device first: `choose` takes the first one that takes a code
        found.sort(key=lambda d: _CODE_ORDER.index(type(d)) if type(d) in _CODE_ORDER else 99)
    return found, unsupported
