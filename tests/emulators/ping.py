"""Emulators of PingFederate, PingID and PingOne for samljit's tests, following
shared/protocols/ping.md: three servers, each on its own loopback host (PingFederate on
127.0.0.1, PingID on 127.0.0.2, PingOne on 127.0.0.3), so each keeps its own cookies as the
real hosts do. Every URL after the first comes from the pages.

    phone = Device("iPhone", totp_secret=SECRET, number=42)
    user = PingUser("ops@acme.example", "pw", roles=[grant], devices=[phone])
    with PingEmulators([user], clock=clock) as ping:
        ping.ping_url                 # PF's startSSO URL of the AWS connection
        ping.pf.base_url              # the bare host (saml2aws's Ping ``url``)
        ping.pingone.initsso_url, ping.pingone.startsso_url   # PingOne's two shapes

PingFederate (:class:`~tests.emulators.ping_federate.PingFederate`): the HTML Form Adapter
page under ``<base href>`` with a per-login resume action, wrong-password and locked-account
refusals in ``div.ping-error``, the auto-post of ``ppm_request`` to PingID, the
``ppm_response`` coming back (once), the SAMLResponse page, and its ``PF`` session cookie (no
expiry): a second login with it gets the SAMLResponse at once.

PingID (:class:`~tests.emulators.ping_id.PingId`): device list, push (number matching,
status polls, response view), passcode (PingID app / desktop TOTP from the clock, codes sent
to SMS/email/voice, YubiKey OTPs), wrong-code page, used codes refused, error pages.

PingOne (:class:`~tests.emulators.ping_federate.PingOne`): both URL shapes; a SAMLRequest
handed to PF, PF's Response to PingOne's ACS (no AWS roles), then PingOne's own Response for
AWS and its session cookie; ``needs_javascript`` serves a sign-on page that is all script.

Knobs: the users and their devices (:class:`PingUser`, :class:`Device`: what the user does on
a push, passcodes, YubiKey OTPs, number to match, default device, device list first, a locked
account); PingFederate's ``identifier_first``, renamed fields and ``lock_after``; PingID's
``push_timeout`` and ``otp_attempts``; ``fail_next`` on each server; :meth:`end_sessions`.
Time comes from ``clock`` (passcodes, push timeout): no test sleeps. Words not in the
protocol page's sources are marked *(assumed)* in :mod:`tests.emulators.ping_model`.

Every secret handed out is recorded: SAMLResponses and cookies with RecordingEmulator's
``_note_issued``/``_note_cookie``; ``ppm_request``, ``ppm_response``, ``csrfToken``,
RelayState and session ids with ``_note_secret``, codes sent with ``_note_code`` when
RecordingEmulator has them (the process registry); :attr:`PingEmulators.issued` and
``issued_cookies`` list them all but the codes (:attr:`PingEmulators.sent_codes`).

Run by hand from the repo root: ``python -m tests.emulators.ping``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tests.emulators.ping_federate import PF_COOKIE, PINGONE_COOKIE, PingFederate, PingOne
from tests.emulators.ping_id import CSRF_COOKIE, SESSION_COOKIE, PingId
from tests.emulators.ping_model import (
    ACCOUNT_LOCKED,
    AUTHN_FAILED,
    AWS_SIGNIN,
    BAD_CREDENTIALS,
    CLAIM_TIMEOUT,
    DENIED,
    OK,
    PASSCODE_LOCKED,
    PASSCODE_WRONG,
    PINGID_EXPIRED,
    PINGID_INVALID,
    PINGONE_ERROR,
    PUSH_DENIED,
    PUSH_TIMED_OUT,
    TIMEOUT,
    WAIT,
    Device,
    PingServer,
    PingUser,
    Shared,
    yubikey_otp,
)

__all__ = [
    "ACCOUNT_LOCKED",
    "AUTHN_FAILED",
    "AWS_SIGNIN",
    "BAD_CREDENTIALS",
    "CLAIM_TIMEOUT",
    "CSRF_COOKIE",
    "DENIED",
    "OK",
    "PASSCODE_LOCKED",
    "PASSCODE_WRONG",
    "PF_COOKIE",
    "PINGID_EXPIRED",
    "PINGID_INVALID",
    "PINGONE_COOKIE",
    "PINGONE_ERROR",
    "PUSH_DENIED",
    "PUSH_TIMED_OUT",
    "SESSION_COOKIE",
    "TIMEOUT",
    "WAIT",
    "Device",
    "PingEmulators",
    "PingUser",
    "yubikey_otp",
]


class PingEmulators:
    """PingFederate (:attr:`pf`), PingID (:attr:`pingid`) and PingOne (:attr:`pingone`),
    started and stopped together; ``pf_options``/``pingid_options``/``pingone_options`` are
    the servers' knobs."""

    def __init__(
        self,
        users: Iterable[PingUser] = (),
        *,
        clock: Callable[[], float] = time.time,
        pf_options: dict[str, Any] | None = None,
        pingid_options: dict[str, Any] | None = None,
        pingone_options: dict[str, Any] | None = None,
    ) -> None:
        self.shared = Shared(clock, {u.username.lower(): u for u in users})
        self.pf = PingFederate(self.shared, **(pf_options or {}))
        self.pingid = PingId(self.shared, **(pingid_options or {}))
        self.pingone = PingOne(self.shared, **(pingone_options or {}))

    @property
    def servers(self) -> Sequence[PingServer]:
        return (self.pf, self.pingid, self.pingone)

    def start(self) -> PingEmulators:
        try:
            for server in self.servers:
                server.start()
        except BaseException:
            self.stop()
            raise
        self.shared.pf_url = self.pf.base_url
        self.shared.pingid_url = self.pingid.base_url
        self.shared.pingone_url = self.pingone.base_url
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> PingEmulators:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- what tests steer -------------------------------------------------------------------
    def add_user(self, user: PingUser) -> None:
        with self.shared.lock:
            self.shared.users[user.username.lower()] = user

    def end_sessions(self) -> None:
        """PingFederate and PingOne forget every session (their cookies stop working)."""
        with self.shared.lock:
            self.shared.pf_sessions.clear()
            self.shared.pingone_sessions.clear()

    # -- what tests look at -----------------------------------------------------------------
    @property
    def ping_url(self) -> str:
        """The ``Ping`` provider's ``url``: PF's IdP-initiated SSO URL for AWS."""
        return self.pf.start_url

    @property
    def saml_responses(self) -> list[str]:
        """Every SAMLResponse handed out (PF's to PingOne included), oldest first."""
        return [s for server in self.servers for s in server.issued]

    @property
    def issued(self) -> list[str]:
        """Every secret handed out but cookies and codes (for the leak check): SAMLResponses,
        ``ppm_request``/``ppm_response``, ``csrfToken``, RelayStates, session ids. Codes sent
        (:attr:`sent_codes`) are left out: a leak check looks for them as numbers on their
        own, not inside other text."""
        with self.shared.lock:
            return [*self.saml_responses, *self.shared.secrets]

    @property
    def issued_cookies(self) -> list[str]:
        return [c for server in self.servers for c in server.issued_cookies]

    @property
    def sent_codes(self) -> list[str]:
        """Codes PingID sent by SMS, email or voice, oldest first."""
        with self.shared.lock:
            return [code for _, code in self.shared.sent_codes]

    @property
    def pushes(self) -> int:
        """Pushes sent to a phone."""
        return self.pingid.pushes

    @property
    def poll_times(self) -> list[float]:
        """The clock at each push status request."""
        with self.shared.lock:
            return list(self.shared.polls)

    @property
    def password_posts(self) -> int:
        """Password forms posted to PingFederate."""
        return self.pf.password_posts


def main(argv: Sequence[str] | None = None) -> None:
    from samljit.tools.sandbox.response import RoleGrant
    from tests.emulators.common import Demo

    demo = Demo(__doc__.splitlines()[0])
    demo.parser.add_argument("--user", default="ops@acme.example")
    demo.parser.add_argument("--password", default="ping-demo")
    args = demo.parse(argv)
    grant = RoleGrant(
        "arn:aws:iam::123456789012:role/Ops", "arn:aws:iam::123456789012:saml-provider/Ping"
    )
    phone = Device("iPhone", totp_secret=demo.secret, number=42)
    user = PingUser(args.user, args.password, roles=[grant], devices=[phone])
    with PingEmulators([user]) as ping:
        demo.serve(
            f"Ping url:     {ping.ping_url}",
            f"PingOne url:  {ping.pingone.initsso_url}",
            f"user {args.user} / {args.password}; the phone approves pushes",
        )


if __name__ == "__main__":
    main()
