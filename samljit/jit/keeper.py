"""Credentials kept valid for as long as a program runs (``exec --server`` and ``serve``).

A :class:`Keeper` answers "the credentials now" for the credential endpoint
(:mod:`samljit.sinks.endpoint`). While the credentials it holds are outside the account's
refresh margin it answers with them; inside the margin it renews them through the usual
flow (:func:`samljit.jit.flow.login`: the cache, the cached assertion, the kept IdP session,
and the terminal only when the IdP asks), exactly as ``exec`` and ``credential-process``
decide, with the run's injected clock. Credentials never go anywhere but the existing cache.

A renewal that fails while the held credentials are still valid leaves them served and is
said once on stderr; it is tried again after :data:`RETRY_AFTER`. Once nothing valid is
left, the failure is the answer (the endpoint turns it into HTTP 500).

:meth:`Keeper.run_renewals` is the refresh loop: a thread that renews when the margin is
reached even if no program asks, so that a question the IdP asks comes while the user is
likely at the terminal rather than when an SDK is waiting.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from samljit.aws.credentials import AwsCredentials
from samljit.common.errors import SamljitError
from samljit.common.services import Services
from samljit.common.text import printable, rfc3339
from samljit.config.accounts import Account
from samljit.jit.flow import Grant, login
from samljit.sinks.profile import is_fresh

#: After a failed renewal, the held credentials are served this long before the next try.
RETRY_AFTER = timedelta(seconds=60)
#: The refresh loop looks again at least this often (a clock that jumped, a suspended laptop).
LOOK_EVERY = 300.0
#: ... and at most this often: keys that live no longer than the refresh margin are due at
#: once after each renewal, and are then renewed when asked for, not in a busy loop.
LOOK_AT_MOST_EVERY = 60.0


class Keeper:
    """The credentials of one (account, role), renewed inside the refresh margin."""

    def __init__(
        self,
        account: Account,
        services: Services,
        *,
        role_ref: str | None,
        reason: str | None = None,
    ) -> None:
        self.account = account
        self.services = services
        self.role_ref = role_ref
        self.reason = reason
        self._lock = threading.Lock()  # the held grant and the retry time
        self._renewing = threading.Lock()  # one renewal at a time
        self._grant: Grant | None = None
        self._retry_at: datetime | None = None
        self._said: str | None = None  # the access key whose failed renewal was said

    def start(self, *, mfa_token: str | None = None, write: bool = False) -> Grant:
        """The first credentials (errors are the command's: nothing is served yet)."""
        grant = self._login(mfa_token=mfa_token, write=write)
        with self._lock:
            self._grant = grant
        return grant

    def _login(self, *, mfa_token: str | None = None, write: bool = False) -> Grant:
        return login(
            self.account,
            self.services,
            role_ref=self.role_ref,
            mfa_token=mfa_token,
            write=write,
            read_profile=False,
            reason=self.reason,
        )

    def credentials(self) -> AwsCredentials:
        """Valid credentials now: the held ones, or renewed ones inside the refresh margin.
        Raises the renewal's error (message redacted) when nothing valid is left.

        One renewal at a time: while it runs (it may wait for the IdP or for the user at the
        terminal), other requests get the held credentials when they are still valid, and
        wait for the renewal only when nothing valid is held."""
        now = self.services.now()
        with self._lock:
            held, retry = self._grant, self._retry_at
        if held is not None:
            if is_fresh(held.credentials, self.account.refresh_margin, now):
                return held.credentials
            valid = held.credentials.expiration > now
            if valid and retry is not None and now < retry:
                return held.credentials
            if not self._renewing.acquire(blocking=not valid):
                return held.credentials  # another request is renewing; these still hold
        else:
            self._renewing.acquire()
        try:
            with self._lock:
                held = self._grant
            now = self.services.now()
            if held is not None and is_fresh(held.credentials, self.account.refresh_margin, now):
                return held.credentials  # renewed while this request waited
            try:
                grant = self._login()
            except SamljitError as exc:
                with self._lock:
                    return self._failed(held, exc, self.services.now())
            with self._lock:
                self._grant, self._retry_at = grant, None
            return grant.credentials
        finally:
            self._renewing.release()

    def _failed(self, held: Grant | None, exc: SamljitError, now: datetime) -> AwsCredentials:
        message = printable(self.services.redactor(exc.message))
        if held is None or held.credentials.expiration <= now:
            failed = SamljitError(f"no valid credentials: renewing them failed: {message}")
            failed.code = type(exc).__name__  # type: ignore[attr-defined]
            raise failed from None
        self._retry_at = now + RETRY_AFTER
        key = held.credentials.access_key_id
        if self._said != key:
            self._said = key
            self.services.terminal.warn(
                f"renewing the credentials failed ({message}); serving the current ones "
                f"until they expire at {rfc3339(held.credentials.expiration)}"
            )
        return held.credentials

    def next_renewal(self) -> float:
        """Seconds until the held credentials enter the refresh margin (0: now)."""
        with self._lock:
            held = self._grant
            retry = self._retry_at
        if held is None:
            return 0.0
        due = held.credentials.expiration - timedelta(seconds=self.account.refresh_margin)
        if retry is not None and retry > due:
            due = retry
        return max(0.0, (due - self.services.now()).total_seconds())

    def run_renewals(self, stop: threading.Event) -> None:
        """The refresh loop: renew when due, until ``stop`` is set."""
        while not stop.wait(max(LOOK_AT_MOST_EVERY, min(self.next_renewal(), LOOK_EVERY))):
            try:
                self.credentials()
            except SamljitError:
                stop.wait(RETRY_AFTER.total_seconds())  # said by the endpoint's answer

    def renewing(self) -> _Renewals:
        """The refresh loop in a daemon thread, as a context manager."""
        return _Renewals(self)


class _Renewals:
    def __init__(self, keeper: Keeper) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=keeper.run_renewals, args=(self._stop,), name="samljit-renewals", daemon=True
        )

    def __enter__(self) -> _Renewals:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
