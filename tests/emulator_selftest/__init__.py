"""Self-tests of the IdP emulators: what every emulator's test module shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from samljit.testing.emulator import LoopbackEmulator

E = TypeVar("E", bound=LoopbackEmulator)

#: The certificate every emulator signs its SAML with (fixtures/keys/idp-test.key).
CERT = (Path(__file__).resolve().parents[2] / "fixtures/keys/idp-test.crt").read_text()
#: The TOTP seed the tests' users are enrolled with.
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


class EmulatorClock:
    """The emulators' clock: a callable giving epoch seconds, which a test moves by setting
    ``now``."""

    def __init__(self, start: float = 2_000_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def starter(
    emulator: Callable[..., E],
    users: Callable[[], Sequence[Any]],
    running: list[LoopbackEmulator],
    **defaults: Any,
) -> Callable[..., E]:
    """``make(**options)``: a fresh, started emulator per call, with its own ``users()`` (or
    ``users=``) and ``defaults`` under ``options``; ``running`` stops it at the end."""

    def make(**options: Any) -> E:
        emu = emulator(options.pop("users", users()), **(defaults | options)).start()
        running.append(emu)
        return emu

    return make
