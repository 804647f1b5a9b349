"""Self-tests of the IdP emulators: what every emulator's test module shares."""

from __future__ import annotations

from pathlib import Path

from tests.support.starting import starter

__all__ = ["CERT", "SAML", "SECRET", "EmulatorClock", "starter"]

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
