"""samljit/idp/fido.py on a fake clock with the software authenticator: the countdowns, the
PIN on the terminal, the RP ID rule, the test-only device seam, and each failure's line."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from samljit.common.errors import AuthenticationError, MissingInputError
from samljit.common.terminal import Terminal
from samljit.idp.fido import KeyRequest, SecurityKey, find_devices, rp_id_allowed
from samljit.testing.fakes import FakeClock, fake_services
from tests.support.paths import FORMER_SWITCHES
from tests.support.softkey import PRODUCT, SoftKey, SoftKeyStore, enroll

ORIGIN = "http://127.0.0.1:8700"


class PinTerminal(Terminal):
    """An interactive terminal whose secret answers are scripted."""

    def __init__(self, stream: io.StringIO, answers: list[str]) -> None:
        super().__init__(interactive=True, stream=stream, colour=False)
        self.answers = answers
        self.asked: list[str] = []

    def ask_secret(self, question: str, *, what: str, **kw: Any) -> str:
        self.asked.append(question)
        return self.answers.pop(0)


@pytest.fixture
def store(tmp_path: Path) -> SoftKeyStore:
    return SoftKeyStore(tmp_path / "key.json")


def request(cred: bytes, **extra: Any) -> KeyRequest:
    values: dict[str, Any] = {
        "idp": "JumpCloud",
        "origin": ORIGIN,
        "rp_id": "127.0.0.1",
        "challenge": b"c" * 32,
        "credential_ids": (cred,),
        "timeout": 10.0,
    }
    values.update(extra)
    return KeyRequest(**values)


def make(tmp_path: Path, store: SoftKeyStore | None, terminal: Terminal | None = None) -> Any:
    overrides = {"terminal": terminal} if terminal is not None else {}
    services, clock, shown = fake_services({"HOME": str(tmp_path)}, **overrides)
    key = SecurityKey(services, devices=lambda: [SoftKey(store)] if store else [])
    return key, clock, (terminal.stream if terminal is not None else shown)


def test_signs_and_the_counter_goes_up(tmp_path: Path, store: SoftKeyStore) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    key, _, shown = make(tmp_path, store)
    first = key.sign(request(cred.id))
    second = key.sign(request(cred.id))
    assert first.credential_id == cred.id
    assert b'"origin":"http://127.0.0.1:8700"' in first.client_data
    assert first.authenticator_data[33:37] < second.authenticator_data[33:37]  # counter
    assert f"Touch your security key ({PRODUCT})… 10 s left" in shown.getvalue()


def test_no_device_counts_down_then_fails(tmp_path: Path) -> None:
    key, clock, shown = make(tmp_path, None)
    with pytest.raises(AuthenticationError, match=r"no security key was plugged in within 10 s"):
        key.sign(request(b"x"))
    assert "Insert your security key… 10 s left" in shown.getvalue()
    assert sum(clock.sleeps) == pytest.approx(10.0)


def test_never_touched_times_out_on_the_fake_clock(tmp_path: Path, store: SoftKeyStore) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    store.configure(touch="never")
    key, clock, _ = make(tmp_path, store)
    with pytest.raises(AuthenticationError, match=r"was not touched within 10 s") as caught:
        key.sign(request(cred.id))
    assert caught.value.hint == "run samljit again and touch the key when it blinks"
    assert sum(clock.sleeps) == pytest.approx(10.0)


def test_pin_is_asked_on_the_terminal_and_a_wrong_one_is_one_line(
    tmp_path: Path, store: SoftKeyStore
) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    store.configure(pin="4711")
    terminal = PinTerminal(io.StringIO(), ["4711", "1234"])
    key, _, _ = make(tmp_path, store, terminal)
    signed = key.sign(request(cred.id, user_verification="required"))
    assert signed.authenticator_data[32] & 0x04  # UV flag
    assert terminal.asked == [f"PIN of your security key ({PRODUCT})"]
    with pytest.raises(AuthenticationError, match=r"refused the PIN"):
        key.sign(request(cred.id, user_verification="required"))


def test_a_blocked_pin_says_how_to_unblock_the_key(tmp_path: Path, store: SoftKeyStore) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    store.configure(pin="4711", pin_retries=0)
    terminal = PinTerminal(io.StringIO(), ["4711"])
    key, _, _ = make(tmp_path, store, terminal)
    with pytest.raises(AuthenticationError) as caught:
        key.sign(request(cred.id, user_verification="required"))
    assert str(caught.value) == (
        f"the security key ({PRODUCT}) blocks its PIN after too many wrong ones"
    )
    assert "unplug and plug the key in again" in (caught.value.hint or "")
    assert "4711" not in terminal.stream.getvalue()


def test_a_key_declining_to_sign_is_one_line(tmp_path: Path, store: SoftKeyStore) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    store.configure(touch="deny")
    key, _, _ = make(tmp_path, store)
    with pytest.raises(AuthenticationError) as caught:
        key.sign(request(cred.id))
    assert str(caught.value) == f"the security key ({PRODUCT}) declined to sign"


def test_pin_without_a_terminal_is_a_missing_input(tmp_path: Path, store: SoftKeyStore) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    store.configure(pin="4711")
    key, _, _ = make(tmp_path, store)
    with pytest.raises(MissingInputError, match=r"the security key's PIN is needed"):
        key.sign(request(cred.id, user_verification="required"))


def test_ctrl_c_cancels_the_key(tmp_path: Path, store: SoftKeyStore) -> None:
    cred = enroll(store, rp_id="127.0.0.1", origin=ORIGIN)
    store.configure(touch="never")
    counter = store.counter

    class Interrupting(FakeClock):
        def sleep(self, seconds: float) -> None:
            raise KeyboardInterrupt  # Ctrl-C during the countdown

    services, _, _ = fake_services({"HOME": str(tmp_path)}, clock=Interrupting())
    with pytest.raises(KeyboardInterrupt):
        SecurityKey(services, devices=lambda: [SoftKey(store)]).sign(request(cred.id))
    assert store.counter == counter  # nothing signed


@pytest.mark.parametrize(
    ("rp_id", "origin", "allowed"),
    [
        ("acme.okta.com", "https://acme.okta.com", True),
        ("jumpcloud.com", "https://console.jumpcloud.com", True),
        ("evil.example", "https://console.jumpcloud.com", False),
        ("com", "https://console.jumpcloud.com", False),  # a public suffix
        ("console.jumpcloud.com", "http://console.jumpcloud.com", False),  # plain http
        ("127.0.0.1", "http://127.0.0.1:8700", True),  # loopback emulator
        ("localhost", "http://127.0.0.1:8700", False),
        ("", "https://acme.okta.com", False),
    ],
)
def test_rp_id_rule(rp_id: str, origin: str, allowed: bool) -> None:
    assert rp_id_allowed(rp_id, origin) is allowed


def test_a_foreign_rp_id_is_refused_before_any_key_is_looked_for(tmp_path: Path) -> None:
    looked: list[int] = []
    services, _, _ = fake_services({"HOME": str(tmp_path)})
    key = SecurityKey(services, devices=lambda: looked.append(1) or [])
    with pytest.raises(AuthenticationError, match=r"sign for 'google.com'.*nothing was signed"):
        key.sign(request(b"x", rp_id="google.com"))
    assert looked == []


def test_without_fido2_the_line_names_pip_and_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fido2.client", None)
    key, _, _ = make(tmp_path, None)
    with pytest.raises(AuthenticationError) as caught:
        key.sign(request(b"x"))
    assert "pip install 'samljit[fido2]'" in caught.value.message
    assert caught.value.message.endswith("log in with `samljit login --browser`")


def test_the_devices_are_the_usb_ones_whatever_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in FORMER_SWITCHES.items():
        monkeypatch.setenv(name, value)
    listed: list[int] = []

    class Hid:
        @staticmethod
        def list_devices() -> list[Any]:
            listed.append(1)
            return []

    monkeypatch.setattr("fido2.hid.CtapHidDevice", Hid)
    assert find_devices() == []
    assert listed == [1]
