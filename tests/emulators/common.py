"""What the IdP emulators share: the test IdP's signing key and :class:`SigningIdp` (an
emulator that signs SAMLResponses for AWS with it, answers under its lock and within its
rate limits), :func:`host_name` for the emulators serving several names on one port, RFC 6238
TOTP with codes good once (:class:`SpentCodes`), and :class:`Demo`, what running an emulator
by hand shares (``python -m tests.emulators.<idp>``)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import RecordingEmulator
from samljit.tools.sandbox.response import RoleGrant, SignTarget, build_response, encode, sign

KEYS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
KEY_PATH = KEYS_DIR / "idp-test.key"
CERT_PATH = KEYS_DIR / "idp-test.crt"


class SigningIdp(RecordingEmulator):
    """A :class:`RecordingEmulator` that signs SAMLResponses (:meth:`_signed_response`) with
    the test IdP's key (fixtures/keys/idp-test.*), signing ``sign_target``. As a WSGI
    application it answers each request with :meth:`_dispatch`, called under its lock."""

    def __init__(self, port: int = 0, sign_target: SignTarget = "assertion") -> None:
        super().__init__(port)
        self.key_pem = KEY_PATH.read_bytes()
        self.cert_pem = CERT_PATH.read_bytes()
        self.sign_target: SignTarget = sign_target

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        raise NotImplementedError

    def _within_rate_limit(self, path: str, answer: Callable[[], Response]) -> Response:
        """``answer()`` with the rate-limit headers :meth:`_rate_limit` gives a call to
        ``path``, or the refusal it gives instead (then ``answer`` is not called)."""
        refused, headers = self._rate_limit(path)
        if refused is not None:
            return refused
        response = answer()
        response.headers.update(headers)
        return response

    def _rate_limit(self, path: str) -> tuple[Response | None, dict[str, str]]:
        """A refusal of a call to ``path`` (or None) and the headers an answer carries."""
        return None, {}

    def _signed_response(
        self,
        issuer: str,
        name_id: str,
        roles: Sequence[RoleGrant],
        session_duration: int | None,
        *,
        target: SignTarget | None = None,
        **shape: Any,
    ) -> str:
        """A SAMLResponse for AWS naming ``name_id`` (also the role session name), signed
        (``target``, default :attr:`sign_target`) and recorded as issued; ``shape``: more of
        ``build_response``'s arguments (``role_order``, ``audience``, ``destination``)."""
        root = build_response(
            issuer=issuer,
            name_id=name_id,
            roles=list(roles),
            session_name=name_id,
            session_duration=session_duration,
            **shape,
        )
        signed = sign(root, self.key_pem, self.cert_pem, target=target or self.sign_target)
        return self._note_issued(encode(signed))


def host_name(request: Request) -> str:
    """The name a request was sent to (its ``Host`` without the port), lower case: for an
    emulator that serves several hosts on one port, each answering its own paths."""
    return (request.host.rpartition(":")[0] or request.host).lower()


# -- TOTP (RFC 6238) ---------------------------------------------------------------------------
def _b32_key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp_at(secret_b32: str, moment: float, *, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 TOTP (HMAC-SHA-1) for the time step holding ``moment`` (Unix seconds)."""
    counter = struct.pack(">Q", int(moment // step))
    digest = hmac.new(_b32_key(secret_b32), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_now(secret_b32: str) -> str:
    """The current 6-digit code for ``secret_b32``."""
    return totp_at(secret_b32, time.time())


def totp_verify(secret_b32: str, code: str, *, window: int = 1) -> bool:
    """Whether ``code`` matches the current step or one within ``window`` steps of it."""
    now = time.time()
    return any(
        hmac.compare_digest(totp_at(secret_b32, now + 30 * delta).encode(), code.encode())
        for delta in range(-window, window + 1)
    )


class SpentCodes:
    """The TOTP time steps each user has spent: a code is good once (RFC 6238 §5.2), as at
    the IdPs, however many steps of clock drift they allow."""

    def __init__(self) -> None:
        self._spent: set[tuple[str, str, int]] = set()

    def check(
        self, who: str, secret: str, code: str, now: float, *, window: int = 1
    ) -> Literal["ok", "wrong", "replayed"]:
        """``ok`` (and the code is spent), ``wrong``, or ``replayed`` (right, but used)."""
        base = int(now // 30)
        step = next(
            (
                s
                for s in range(base - window, base + window + 1)
                if code and hmac.compare_digest(totp_at(secret, s * 30).encode(), code.encode())
            ),
            None,
        )
        if step is None:
            return "wrong"
        if (who, secret, step) in self._spent:
            return "replayed"
        self._spent.add((who, secret, step))
        return "ok"


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


# -- the demos (run by hand) ---------------------------------------------------------------------
def demo_roles(provider: str) -> list[RoleGrant]:
    """The two roles the emulators' demo users get, behind SAML provider ``provider``."""
    return [
        RoleGrant(
            f"arn:aws:iam::{account}:role/{role}",
            f"arn:aws:iam::{account}:saml-provider/{provider}",
        )
        for account, role in (("111111111111", "Developer"), ("222222222222", "ReadOnly"))
    ]


class Demo:
    """An emulator's demo, run by hand (``python -m tests.emulators.<idp>``): its command line
    (:attr:`parser`, with ``--port`` when given a default ``port``), a fresh TOTP secret for the
    demo user (:attr:`secret`), the demo roles behind SAML provider ``provider``
    (:attr:`roles`), and the foreground once the emulator serves (:meth:`serve`)."""

    def __init__(self, description: str, *, port: int | None = None, provider: str = "") -> None:
        self.parser = argparse.ArgumentParser(description=description)
        if port is not None:
            self.parser.add_argument("--port", type=int, default=port)
        self.secret = new_totp_secret()
        self.roles = demo_roles(provider) if provider else []

    def parse(self, argv: Sequence[str] | None) -> argparse.Namespace:
        return self.parser.parse_args(argv)

    def serve(self, *facts: str) -> None:
        """``facts`` (how to reach the emulator, who may sign in), then the current TOTP code
        at each 30 s step, until Ctrl-C."""
        for fact in facts:
            print(fact)
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                print(f"current TOTP code: {totp_now(self.secret)}", flush=True)
                time.sleep(30 - time.time() % 30 + 0.05)
        except KeyboardInterrupt:
            print("\nstopped")
