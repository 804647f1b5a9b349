"""Security keys (FIDO2/WebAuthn, and U2F keys over CTAP1) in the terminal.

One helper, :class:`SecurityKey`, serves every provider whose IdP asks for a WebAuthn
assertion: the provider turns the IdP's challenge into a :class:`KeyRequest` (the origin and
RP ID always come from the IdP, never from a constant) and sends the :class:`KeyAssertion`
back in the IdP's own format.

``fido2`` is the optional extra ``samljit[fido2]``; it is imported only when a login needs a
key. Without it the login ends with one line naming ``pip install 'samljit[fido2]'`` and
``samljit login --browser``.

The key is found through :func:`find_devices`: the USB HID devices plugged in
(``fido2.hid.CtapHidDevice.list_devices()``). No setting or environment variable replaces
that lookup: samljit's own tests swap the function from outside the product (a
``sitecustomize`` that only the test tree puts on ``PYTHONPATH``, see
``tests/support/seams``).

Waiting: the key is asked in a worker thread; the calling thread shows the countdown
("Insert your security key…", "Touch your security key (<product>)…") with the injected
clocks and sleeper, asks for the key's PIN on the terminal when the key wants one, and
cancels the key's wait on a timeout or Ctrl-C (nothing is signed, nothing written).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from samljit.common.errors import AuthenticationError
from samljit.common.urls import is_loopback_host

if TYPE_CHECKING:
    from samljit.common.services import Services

INSTALL = "pip install 'samljit[fido2]'"
BROWSER = "`samljit login --browser`"
#: How long the user has to plug in and touch the key when the IdP names no timeout.
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 300.0
#: The countdown's step (seconds of the injected sleeper).
TICK = 0.25
#: Real seconds to wait for the key's thread to stop after it was cancelled.
STOP_WAIT = 5.0

#: A seam for tests: returns the CTAP devices present (fido2 ``CtapDevice`` objects).
DeviceFinder = Callable[[], Sequence[Any]]


@dataclass(frozen=True)
class KeyRequest:
    """What the IdP asked for, in WebAuthn's terms."""

    idp: str  # the IdP's name, for messages ("JumpCloud", "Okta")
    origin: str  # scheme://host[:port] of the IdP page that would run navigator.credentials.get
    rp_id: str
    challenge: bytes
    credential_ids: tuple[bytes, ...] = ()
    user_verification: str = "preferred"  # required | preferred | discouraged
    timeout: float | None = None  # seconds, as the IdP said


@dataclass(frozen=True)
class KeyAssertion:
    """The key's answer, as navigator.credentials.get() returns it."""

    credential_id: bytes
    client_data: bytes  # clientDataJSON
    authenticator_data: bytes
    signature: bytes
    user_handle: bytes | None


def b64url(data: bytes) -> str:
    """WebAuthn's base64url, unpadded, as IdPs' JSON carries challenges and credential IDs."""
    from base64 import urlsafe_b64encode

    return urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: object) -> bytes:
    """The bytes of an IdP's base64url text (padding optional); ``ValueError`` if it is not."""
    from base64 import urlsafe_b64decode

    if not isinstance(text, str) or not text:
        raise ValueError("not base64url")
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fido2_missing(idp: str) -> AuthenticationError:
    return AuthenticationError(
        f"{idp} asks for a security key, which needs samljit's fido2 extra: {INSTALL}, "
        f"or log in with {BROWSER}"
    )


def fido2_installed() -> bool:
    try:
        import fido2.client  # noqa: F401
    except ImportError:
        return False
    return True


def rp_id_allowed(rp_id: str, origin: str) -> bool:
    """Whether a page at ``origin`` may ask for assertions of ``rp_id``: the WebAuthn rule
    (``rp_id`` is the origin's host or a registrable suffix of it, https only; fido2's
    implementation with the public suffix list), plus plain http on a loopback host whose
    name is the RP ID exactly (a local emulator, as browsers treat loopback as secure)."""
    from fido2.rpid import verify_rp_id

    if not rp_id or not origin:
        return False
    if verify_rp_id(rp_id, origin):
        return True
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    return parts.scheme == "http" and is_loopback_host(host) and host == rp_id.lower()


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (the origin a browser page there would have)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def find_devices() -> list[Any]:
    """The CTAP devices plugged in (USB HID)."""
    from fido2.hid import CtapHidDevice

    try:
        return list(CtapHidDevice.list_devices())
    except OSError:
        return []


class _PinBox:
    """Hands the key's PIN request from the key's thread to the calling thread."""

    def __init__(self, activity: threading.Event) -> None:
        self.activity = activity
        self.asked = threading.Event()
        self.answered = threading.Event()
        self.pin: str | None = None

    def request(self) -> str | None:  # the key's thread
        self.asked.set()
        self.activity.set()
        self.answered.wait()
        pin, self.pin = self.pin, None
        return pin

    def answer(self, pin: str | None) -> None:  # the calling thread
        self.asked.clear()
        self.pin = pin
        self.answered.set()


class SecurityKey:
    """Gets one WebAuthn assertion from a security key, talking to the user on the terminal."""

    def __init__(self, services: Services, *, devices: DeviceFinder | None = None) -> None:
        self.services = services
        self._devices = devices

    @property
    def terminal(self) -> Any:
        return self.services.terminal

    def sign(self, request: KeyRequest) -> KeyAssertion:
        if not fido2_installed():
            raise fido2_missing(request.idp)
        if not rp_id_allowed(request.rp_id, request.origin):
            raise AuthenticationError(
                f"{request.idp} asked the security key to sign for {request.rp_id!r}, which a "
                f"page at {request.origin} may not ask for: nothing was signed",
                hint="a wrong url/api_url, or someone in between: check the account with "
                "`samljit configure`",
            )
        timeout = request.timeout if request.timeout and request.timeout > 0 else DEFAULT_TIMEOUT
        timeout = min(timeout, MAX_TIMEOUT)
        device = self._wait_for_device(timeout)
        try:
            return self._assert(device, request, timeout)
        finally:
            close = getattr(device, "close", None)
            if callable(close):
                close()

    # -- the device ---------------------------------------------------------------------
    def _find(self) -> list[Any]:
        if self._devices is not None:
            return list(self._devices())
        return find_devices()

    def _wait_for_device(self, timeout: float) -> Any:
        from samljit.idp.wait import wait_until

        def found(_: object = None) -> Any:
            devices = self._find()
            return devices[0] if devices else None

        device = found()
        if device is not None:
            return device
        return wait_until(
            found,
            services=self.services,
            seconds=timeout,
            every=TICK * 2,
            waiting="Insert your security key…",
            expired=lambda: AuthenticationError(
                f"no security key was plugged in within {_seconds(timeout)}",
                hint=f"plug in your key and run samljit again, or log in with {BROWSER}",
            ),
            sleep_first=True,
        )

    # -- the assertion ------------------------------------------------------------------
    def _assert(self, device: Any, request: KeyRequest, timeout: float) -> KeyAssertion:
        from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
        from fido2.webauthn import (
            PublicKeyCredentialDescriptor,
            PublicKeyCredentialRequestOptions,
            PublicKeyCredentialType,
            UserVerificationRequirement,
        )

        name = _product_name(device)
        activity = threading.Event()  # the key's thread did something the caller must see
        touch = threading.Event()  # the key waits for a touch
        done = threading.Event()
        cancel = threading.Event()
        pins = _PinBox(activity)

        class Interaction(UserInteraction):
            def prompt_up(self) -> None:
                touch.set()
                activity.set()

            def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
                return pins.request()

            def request_uv(self, permissions: Any, rp_id: str | None) -> bool:
                return True

        try:
            verification = UserVerificationRequirement(request.user_verification.lower())
        except ValueError:
            verification = UserVerificationRequirement.PREFERRED
        options = PublicKeyCredentialRequestOptions(
            challenge=request.challenge,
            rp_id=request.rp_id,
            allow_credentials=[
                PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=cid)
                for cid in request.credential_ids
            ]
            or None,
            user_verification=verification,
        )
        try:
            client = Fido2Client(
                device,
                DefaultClientDataCollector(request.origin, verify=rp_id_allowed),
                Interaction(),
            )
        except Exception as exc:  # the key did not answer getInfo
            raise _key_failed(name, exc) from None
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["response"] = client.get_assertion(options, event=cancel).get_response(0)
            except BaseException as exc:  # handed to the calling thread
                outcome["error"] = exc
            finally:
                done.set()
                activity.set()

        worker = threading.Thread(target=work, name="samljit-security-key", daemon=True)
        services, terminal = self.services, self.terminal
        deadline = services.monotonic() + timeout
        timed_out = False
        asked = False  # the touch line was shown
        worker.start()
        try:
            while not done.is_set():
                if pins.asked.is_set():
                    terminal.clear_status()
                    pin = terminal.ask_secret(
                        f"PIN of your security key ({name})",
                        what="the security key's PIN",
                        hint=f"run samljit in a terminal, or log in with {BROWSER}",
                    )
                    services.redactor.add(pin)
                    pins.answer(pin)
                    deadline = services.monotonic() + timeout  # the touch comes after the PIN
                    continue
                left = deadline - services.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                if not touch.is_set():
                    # the key is still talking (getInfo, PIN exchange): no touch asked yet
                    activity.wait(TICK)
                    activity.clear()
                    continue
                terminal.status(f"Touch your security key ({name})… {_seconds(left)} left")
                asked = True
                services.sleep(min(TICK, left))
            if touch.is_set() and not asked:  # a key quicker than this loop: still say it
                terminal.status(f"Touch your security key ({name})…")
        except BaseException:  # Ctrl-C, or no terminal for the PIN: stop the key, sign nothing
            cancel.set()
            pins.answer(None)
            done.wait(STOP_WAIT)
            raise
        finally:
            terminal.clear_status()
        if timed_out:
            cancel.set()
            pins.answer(None)
            done.wait(STOP_WAIT)
        if "response" in outcome:
            answer = outcome["response"]
            inner = answer.response
            return KeyAssertion(
                credential_id=bytes(answer.raw_id),
                client_data=bytes(inner.client_data),
                authenticator_data=bytes(inner.authenticator_data),
                signature=bytes(inner.signature),
                user_handle=bytes(inner.user_handle) if inner.user_handle else None,
            )
        error = outcome.get("error")
        if error is None or (timed_out and _stopped_by_us(error)):
            raise AuthenticationError(
                f"the security key ({name}) was not touched within {_seconds(timeout)}",
                hint="run samljit again and touch the key when it blinks",
            )
        raise _explain(error, request, name) from None


def _stopped_by_us(error: BaseException) -> bool:
    """Whether the key's answer is only the end of the wait samljit cancelled (a key that
    refused the PIN or declined as the time ran out said so: that answer is the news)."""
    from fido2.client import ClientError
    from fido2.ctap import CtapError

    if isinstance(error, ClientError):
        if error.code == ClientError.ERR.TIMEOUT:
            return True
        error = error.cause if isinstance(error.cause, BaseException) else error
    return not isinstance(error, CtapError) or error.code == CtapError.ERR.KEEPALIVE_CANCEL


def _product_name(device: Any) -> str:
    descriptor = getattr(device, "descriptor", None)
    name = getattr(descriptor, "product_name", None) or getattr(device, "product_name", None)
    return str(name).strip() if name else "security key"


def _seconds(value: float) -> str:
    return f"{max(0, math.ceil(value))} s"


def _key_failed(name: str, exc: BaseException) -> AuthenticationError:
    return AuthenticationError(
        f"the security key ({name}) stopped answering: {type(exc).__name__}",
        hint=f"plug it in again and run samljit again, or log in with {BROWSER}",
    )


def _explain(error: BaseException, request: KeyRequest, name: str) -> AuthenticationError:
    """One clear line for what fido2 or the key said."""
    from fido2.client import ClientError
    from fido2.ctap import CtapError

    if isinstance(error, ClientError):
        kind, cause = error.code, error.cause
    elif isinstance(error, CtapError):
        kind, cause = ClientError.ERR.OTHER_ERROR, error
    else:
        return _key_failed(name, error)
    code = cause.code if isinstance(cause, CtapError) else None
    if kind == ClientError.ERR.DEVICE_INELIGIBLE:
        return AuthenticationError(
            f"this security key ({name}) holds no credential for {request.rp_id}: it is not "
            f"a key enrolled at {request.idp}",
            hint=f"use the key you enrolled there, or log in with {BROWSER}",
        )
    if kind == ClientError.ERR.TIMEOUT:
        return AuthenticationError(
            f"the security key ({name}) was not touched in time",
            hint="run samljit again and touch the key when it blinks",
        )
    if kind == ClientError.ERR.CONFIGURATION_UNSUPPORTED:
        return AuthenticationError(
            f"{request.idp} requires user verification, but the security key ({name}) has no "
            "PIN or fingerprint set up",
            hint=f"set a PIN on the key with its maker's tool, or log in with {BROWSER}",
        )
    if code == CtapError.ERR.PIN_INVALID:
        return AuthenticationError(
            f"the security key ({name}) refused the PIN",
            hint="run samljit again with the right PIN (the key locks after too many wrong ones)",
        )
    if code in (CtapError.ERR.PIN_BLOCKED, CtapError.ERR.PIN_AUTH_BLOCKED):
        return AuthenticationError(
            f"the security key ({name}) blocks its PIN after too many wrong ones",
            hint="unplug and plug the key in again; if it stays blocked, reset it with its "
            f"maker's tool (its credentials are lost) or log in with {BROWSER}",
        )
    if code == CtapError.ERR.OPERATION_DENIED:
        return AuthenticationError(f"the security key ({name}) declined to sign")
    said = getattr(code, "name", None) or kind.name
    return AuthenticationError(
        f"the security key ({name}) could not sign: {said}",
        hint=f"plug it in again and run samljit again, or log in with {BROWSER}",
    )
