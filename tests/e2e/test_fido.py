"""Security keys through the installed CLI: JumpCloud's and Okta's WebAuthn factors against
their emulators, which verify each assertion with a maintained server library (``webauthn``
for JumpCloud, ``fido2.server`` for Okta), signed by the software authenticator of
tests/support/softkey.py that the test provisions. Every failure ends in one clear line."""

from __future__ import annotations

import configparser
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.jumpcloud import (
    WEBAUTHN_COUNTER_MESSAGE,
    WEBAUTHN_REFUSED_MESSAGE,
    WEBAUTHN_UNKNOWN_MESSAGE,
    JumpCloudEmulator,
    KeyCredential,
)
from tests.emulators.okta import OktaEmulator, User, push_factor, webauthn_factor
from tests.support.accounts import PASSWORD, PROD_GRANTS, RO_ARN, account_config, make_user
from tests.support.cli import Cli
from tests.support.softkey import PRODUCT, Credential, SoftKeyStore, enroll, softkey_env

APP = "0oa1acme2aws3app4"


def error_line(ran: Any) -> str:
    lines = [line for line in ran.stderr.splitlines() if line.startswith("samljit: error:")]
    assert len(lines) == 1, ran.stderr
    return lines[0]


def logged_in(cli: Cli, profile: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(cli.credentials)
    return parser.has_section(profile) and "/AcmeJumpCloudAdminRO/" in parser[profile].get(
        "x_principal_arn", ""
    )


@pytest.fixture
def store(tmp_path: Path) -> SoftKeyStore:
    return SoftKeyStore(tmp_path / "softkey.json")


def key_of(credential: Credential, sign_count: int | None = None) -> KeyCredential:
    count = credential.sign_count if sign_count is None else sign_count
    return KeyCredential(credential.id, credential.public_key, count)


# -- JumpCloud --------------------------------------------------------------------------------
@pytest.fixture
def jumpcloud() -> Iterator[JumpCloudEmulator]:
    with JumpCloudEmulator([make_user()]) as emulator:
        yield emulator


def jc_user(emu: JumpCloudEmulator, store: SoftKeyStore, **extra: Any) -> Credential:
    credential = enroll(store, rp_id="127.0.0.1", origin=emu.api_url)
    user = make_user(totp_secret=None, push=None, webauthn=[key_of(credential)], **extra)
    emu.add_user(user)
    return credential


def jc_login(cli: Cli, emu: JumpCloudEmulator, store: SoftKeyStore, mfa: str = "Auto") -> Any:
    cli.write_config(account_config(emu, mfa=mfa))
    return cli.run("login", "-a", "production", "--skip-prompt", env=softkey_env(store))


def test_jumpcloud_security_key_end_to_end(
    cli: Cli, jumpcloud: JumpCloudEmulator, store: SoftKeyStore
) -> None:
    jc_user(jumpcloud, store)
    before = store.counter
    ran = jc_login(cli, jumpcloud, store)
    assert ran.returncode == 0, ran.stderr
    assert f"Touch your security key ({PRODUCT})" in ran.stderr
    assert logged_in(cli, "production")
    assert store.counter > before
    assert jumpcloud.count("GET", "/userconsole/auth/webauthn") == 1
    assert jumpcloud.count("POST", "/userconsole/auth/webauthn") == 1
