"""A software CTAP2 authenticator for tests: fido2's ``CtapDevice`` interface, real ES256 keys.

It answers ``authenticatorGetInfo``, ``authenticatorMakeCredential``,
``authenticatorGetAssertion`` (with ``getNextAssertion`` for several discoverable
credentials) and the ``clientPin`` sub-commands a client needs to get a PIN token (PIN/UV
protocol 1). Every credential is discoverable; keys are P-256 from ``cryptography``; the
signature counter goes up by one per assertion.

State lives in a JSON file the test owns (:class:`SoftKeyStore`), so the installed samljit in a
subprocess signs with the keys the test provisioned and the test sees the counter move:

    store = SoftKeyStore(tmp_path / "key.json")
    credential = enroll(store, rp_id="127.0.0.1", origin=emu.base_url, user=b"ops")
    env = softkey_env(store)  # SAMLJIT_TEST_CTAP_DEVICE, the store's path, PYTHONPATH

Modes (``store.configure(...)``): ``pin`` (a PIN is set: UV is by PIN), ``uv`` (built-in user
verification, like a fingerprint: no PIN asked), ``pin_retries`` (the PIN tries left; 0: the
PIN is blocked), ``touch`` ("now"; "never": the key waits until the client cancels; "deny":
the user declines on the key), ``present`` (False: no key plugged in), ``bad_signature`` (the
signature is over other bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.ctap2.pin import PinProtocolV1
from fido2.hid import CAPABILITY, CTAPHID
from fido2.utils import sha256

from tests.support.paths import seams_env

ENV_STORE = "SAMLJIT_TEST_SOFTKEY"
AAGUID = bytes.fromhex("5a4d4c4a49542d534f46544b45593031")  # "ZMLJIT-SOFTKEY01"
PRODUCT = "samljit SoftKey"
ERR = CtapError.ERR

# authenticator data flags
UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Credential:
    """A credential as the IdP stores it after registration."""

    id: bytes
    rp_id: str
    public_key: Mapping[int, Any]  # COSE
    sign_count: int

    @property
    def id_b64(self) -> str:
        return b64(self.id)

    @property
    def public_key_cbor(self) -> bytes:
        return cbor.encode(dict(self.public_key))


class SoftKeyStore:
    """The key's state in a file: credentials, counter, PIN and modes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self._save({"credentials": [], "counter": 0, "modes": {}})

    def _load(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.path.read_text())
        return data

    def _save(self, data: Mapping[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)

    def configure(self, **modes: Any) -> None:
        data = self._load()
        data["modes"].update(modes)
        self._save(data)

    @property
    def modes(self) -> dict[str, Any]:
        return dict(self._load()["modes"])

    @property
    def counter(self) -> int:
        return int(self._load()["counter"])

    def add(self, rp_id: str, user_id: bytes) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cred_id = os.urandom(32)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        data = self._load()
        data["credentials"].append(
            {"id": b64(cred_id), "rp_id": rp_id, "user": b64(user_id), "key": pem}
        )
        self._save(data)
        return cred_id, key

    def credentials(self, rp_id_hash: bytes) -> list[dict[str, Any]]:
        return [c for c in self._load()["credentials"] if sha256(c["rp_id"].encode()) == rp_id_hash]

    def bump(self) -> int:
        data = self._load()
        data["counter"] += 1
        self._save(data)
        return int(data["counter"])


def softkey_env(store: SoftKeyStore) -> dict[str, str]:
    """What the installed samljit needs to use this key (the test seam of ``SEAMS``)."""
    seam = seams_env(SAMLJIT_TEST_CTAP_DEVICE="tests.support.softkey:devices")
    return {**seam, ENV_STORE: str(store.path)}


def devices(env: Mapping[str, str]) -> list[SoftKey]:
    """The factory ``SAMLJIT_TEST_CTAP_DEVICE`` names (``tests/support/seams``): the key of
    ``SAMLJIT_TEST_SOFTKEY``, or none when the store says it is not plugged in."""
    store = SoftKeyStore(Path(env[ENV_STORE]))
    return [SoftKey(store)] if store.modes.get("present", True) else []


def _cose(key: ec.EllipticCurvePrivateKey) -> dict[int, Any]:
    numbers = key.public_key().public_numbers()
    return {
        1: 2,
        3: ES256.ALGORITHM,
        -1: 1,
        -2: numbers.x.to_bytes(32, "big"),
        -3: numbers.y.to_bytes(32, "big"),
    }


class SoftKey(CtapDevice):
    """The authenticator. ``call`` speaks CTAPHID_CBOR only (no CTAP1/U2F)."""

    def __init__(self, store: SoftKeyStore) -> None:
        self.store = store
        self.product_name = PRODUCT
        self._pin_key = ec.generate_private_key(ec.SECP256R1())
        self._pin_token: bytes | None = None
        self._pending: list[bytes] = []  # getNextAssertion answers
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> int:
        return CAPABILITY.CBOR | CAPABILITY.NMSG

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        return iter(())

    def call(
        self,
        cmd: int,
        data: bytes = b"",
        event: threading.Event | None = None,
        on_keepalive: Callable[[STATUS], None] | None = None,
    ) -> bytes:
        if cmd != CTAPHID.CBOR:
            raise CtapError(ERR.INVALID_COMMAND)
        command, request = data[0], (cbor.decode(data[1:]) if len(data) > 1 else {})
        with self._lock:
            try:
                handler = {
                    0x01: self._make_credential,
                    0x02: self._get_assertion,
                    0x04: self._get_info,
                    0x06: self._client_pin,
                    0x08: self._next_assertion,
                }.get(command)
                if handler is None:
                    raise CtapError(ERR.INVALID_COMMAND)
                answer = handler(request, event, on_keepalive)
            except CtapError as exc:
                return bytes([exc.code])
        return b"\x00" + (cbor.encode(answer) if answer else b"")

    # -- commands -----------------------------------------------------------------------
    def _get_info(self, request: Any, event: Any, on_keepalive: Any) -> dict[int, Any]:
        modes = self.store.modes
        options: dict[str, bool] = {"rk": True, "up": True, "plat": False}
        if modes.get("pin"):
            options["clientPin"] = True
        if modes.get("uv"):
            options["uv"] = True
        return {
            1: ["FIDO_2_0"],
            3: AAGUID,
            4: options,
            5: 1200,
            6: [1],
        }

    def _wait_for_touch(self, event: threading.Event | None, on_keepalive: Any) -> None:
        if on_keepalive is not None:
            on_keepalive(STATUS.UPNEEDED)
        if self.store.modes.get("touch", "now") == "never":
            (event or threading.Event()).wait()
            raise CtapError(ERR.KEEPALIVE_CANCEL)
        if self.store.modes.get("touch") == "deny":
            raise CtapError(ERR.OPERATION_DENIED)

    def _verified(self, options: Any, param: Any, client_data_hash: bytes) -> bool:
        """Whether the request proves user verification (a PIN token's MAC, or uv)."""
        modes = self.store.modes
        if param is not None:
            if self._pin_token is None or not modes.get("pin"):
                raise CtapError(ERR.PIN_AUTH_INVALID)
            expected = PinProtocolV1().authenticate(self._pin_token, client_data_hash)
            if not hmac.compare_digest(expected, bytes(param)):
                raise CtapError(ERR.PIN_AUTH_INVALID)
            return True
        if isinstance(options, dict) and options.get("uv"):
            if not modes.get("uv"):
                raise CtapError(ERR.UNSUPPORTED_OPTION)
            return True
        return False

    def _make_credential(self, request: Any, event: Any, on_keepalive: Any) -> dict[int, Any]:
        client_data_hash, rp, user = request[1], request[2], request[3]
        verified = self._verified(request.get(7), request.get(8), client_data_hash)
        self._wait_for_touch(event, on_keepalive)
        cred_id, key = self.store.add(rp["id"], user["id"])
        counter = self.store.bump()
        attested = AAGUID + struct.pack(">H", len(cred_id)) + cred_id + cbor.encode(_cose(key))
        flags = UP | AT | (UV if verified else 0)
        auth_data = sha256(rp["id"].encode()) + bytes([flags]) + struct.pack(">I", counter)
        return {1: "none", 2: auth_data + attested, 3: {}}

    def _get_assertion(self, request: Any, event: Any, on_keepalive: Any) -> dict[int, Any]:
        rp_id, client_data_hash = request[1], request[2]
        allow = request.get(3)
        options = request.get(5) or {}
        verified = self._verified(options, request.get(6), client_data_hash)
        if self.store.modes.get("pin") and not verified and options.get("uv"):
            raise CtapError(ERR.PIN_REQUIRED)
        rp_id_hash = sha256(rp_id.encode())
        found = self.store.credentials(rp_id_hash)
        if allow:
            wanted = {bytes(c["id"]) for c in allow}
            found = [c for c in found if unb64(c["id"]) in wanted]
        presence = options.get("up", True)
        if presence:
            self._wait_for_touch(event, on_keepalive)
        if not found:
            raise CtapError(ERR.NO_CREDENTIALS)
        answers = [self._sign(c, rp_id_hash, client_data_hash, presence, verified) for c in found]
        self._pending = [cbor.encode(a) for a in answers[1:]]
        first = answers[0]
        if len(answers) > 1:
            first[5] = len(answers)
        return first

    def _next_assertion(self, request: Any, event: Any, on_keepalive: Any) -> dict[int, Any]:
        if not self._pending:
            raise CtapError(ERR.NOT_ALLOWED)
        answer: dict[int, Any] = cbor.decode(self._pending.pop(0))
        return answer

    def _sign(
        self,
        credential: Mapping[str, Any],
        rp_id_hash: bytes,
        client_data_hash: bytes,
        presence: bool,
        verified: bool,
    ) -> dict[int, Any]:
        key = serialization.load_pem_private_key(credential["key"].encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        counter = self.store.bump() if presence else self.store.counter
        flags = (UP if presence else 0) | (UV if verified else 0)
        auth_data = rp_id_hash + bytes([flags]) + struct.pack(">I", counter)
        signed = auth_data + client_data_hash
        if self.store.modes.get("bad_signature"):
            signed = b"not " + signed
        signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            1: {"type": "public-key", "id": unb64(credential["id"])},
            2: auth_data,
            3: signature,
            4: {"id": unb64(credential["user"])},
        }

    # -- clientPin (protocol 1) ---------------------------------------------------------
    def _client_pin(self, request: Any, event: Any, on_keepalive: Any) -> dict[int, Any]:
        pin = self.store.modes.get("pin")
        if not pin:
            raise CtapError(ERR.PIN_NOT_SET)
        if request.get(1) != 1:
            raise CtapError(ERR.INVALID_PARAMETER)
        sub = request[2]
        retries = int(self.store.modes.get("pin_retries", 8))
        if sub == 0x01:  # getPINRetries
            return {3: retries}
        if sub == 0x02:  # getKeyAgreement
            numbers = self._pin_key.public_key().public_numbers()
            cose = {
                1: 2,
                3: -25,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
            return {1: cose}
        if sub in (0x05, 0x09):  # getPinToken / getPinUvAuthTokenUsingPinWithPermissions
            if retries == 0:
                raise CtapError(ERR.PIN_BLOCKED)
            peer = request[3]
            public = ec.EllipticCurvePublicNumbers(
                int.from_bytes(peer[-2], "big"), int.from_bytes(peer[-3], "big"), ec.SECP256R1()
            ).public_key()
            protocol = PinProtocolV1()
            shared = protocol.kdf(self._pin_key.exchange(ec.ECDH(), public))
            pin_hash = protocol.decrypt(shared, request[6])
            if not hmac.compare_digest(pin_hash, hashlib.sha256(pin.encode()).digest()[:16]):
                raise CtapError(ERR.PIN_INVALID)
            self._pin_token = os.urandom(32)
            return {2: protocol.encrypt(shared, self._pin_token)}
        raise CtapError(ERR.INVALID_SUBCOMMAND)


def enroll(store: SoftKeyStore, *, rp_id: str, origin: str, user: bytes = b"ops") -> Credential:
    """Register a credential on the key the way an IdP's enrolment page does: fido2's client
    makes it (makeCredential), fido2's server checks and parses it."""
    from fido2.client import DefaultClientDataCollector, Fido2Client
    from fido2.server import Fido2Server
    from fido2.webauthn import PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity

    from samljit.idp.fido import rp_id_allowed

    server = Fido2Server(
        PublicKeyCredentialRpEntity(id=rp_id, name="test IdP"),
        verify_origin=lambda o: o == origin,
    )
    options, state = server.register_begin(
        PublicKeyCredentialUserEntity(id=user, name=user.decode(), display_name="Ops"),
        user_verification="discouraged",
    )
    modes = store.modes
    store.configure(touch="now", pin=None, uv=None)  # enrolment itself needs no PIN here
    try:
        client = Fido2Client(
            SoftKey(store), DefaultClientDataCollector(origin, verify=rp_id_allowed)
        )
        response = client.make_credential(options.public_key)
    finally:
        store.configure(**modes)
    auth_data = server.register_complete(state, response)
    credential = auth_data.credential_data
    assert credential is not None
    return Credential(
        id=bytes(credential.credential_id),
        rp_id=rp_id,
        public_key=dict(credential.public_key),
        sign_count=auth_data.counter,
    )
