"""Chromium's DevTools virtual WebAuthn authenticator, attached inside the browser the installed
samljit launches (through the test seam of ``tests/support/seams``).

    env = passkey_env()  # SAMLJIT_TEST_BROWSER_HOOK, PYTHONPATH

The authenticator is CTAP2 over USB with resident keys, user verification and automatic
presence: ``navigator.credentials.create()`` and ``.get()`` answer at once, headless. It
starts empty; the sandbox's registration page is what puts a passkey in it.
"""

from __future__ import annotations

from typing import Any

from tests.support.paths import seams_env

#: The CDP sessions stay referenced for the browser's lifetime (the authenticator is theirs).
_SESSIONS: list[Any] = []


def passkey_env() -> dict[str, str]:
    return seams_env(SAMLJIT_TEST_BROWSER_HOOK="tests.support.passkey:attach")


def attach(context: Any, page: Any) -> None:
    """The hook: a virtual authenticator for ``page``."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    _SESSIONS.append(cdp)
