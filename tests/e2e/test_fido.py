"""Security keys through the installed CLI: JumpCloud's and Okta's WebAuthn factors against
their emulators, which verify each assertion with a maintained server library (``webauthn``
for JumpCloud, ``fido2.server`` for Okta), signed by the software authenticator of
tests/support/softkey.py that the test provisions. Every failure ends in one clear line."""

from __future__ import annotations

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
from tests.support.cli import Cli, error_line, finish
from tests.support.paths import FORMER_SWITCHES, REPO, plant_tests_package
from tests.support.softkey import PRODUCT, Credential, SoftKeyStore, enroll, softkey_env

APP = "0oa1acme2aws3app4"


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
    assert cli.logged_in("production")
    assert store.counter > before
    assert jumpcloud.count("GET", "/userconsole/auth/webauthn") == 1
    assert jumpcloud.count("POST", "/userconsole/auth/webauthn") == 1


def test_jumpcloud_security_key_is_not_auto_picked_beside_totp(
    cli: Cli, jumpcloud: JumpCloudEmulator, store: SoftKeyStore
) -> None:
    credential = enroll(store, rp_id="127.0.0.1", origin=jumpcloud.api_url)
    jumpcloud.add_user(make_user(push=None, webauthn=[key_of(credential)]))
    cli.write_config(account_config(jumpcloud, mfa="Auto"))
    ran = cli.run("login", "-a", "production", "--skip-prompt", env=softkey_env(store))
    assert ran.returncode == 2  # TOTP is the only Auto candidate: it needs a code
    assert "one-time MFA code is needed" in error_line(ran)
    keyed = jc_login(cli, jumpcloud, store, mfa="WEBAUTHN")
    assert keyed.returncode == 0, keyed.stderr


@pytest.mark.parametrize(
    ("setup", "said", "code"),
    [
        pytest.param(
            {"webauthn_rp_id": "evil.example"},
            "JumpCloud asked the security key to sign for 'evil.example', which a page at "
            "http://127.0.0.1:",
            3,
            id="wrong-rp-id",
        ),
        pytest.param(
            {"advertise": "other"},
            f"JumpCloud refused the login: {WEBAUTHN_UNKNOWN_MESSAGE}",
            3,
            id="unknown-credential",
        ),
        pytest.param(
            {"mode": {"bad_signature": True}},
            f"JumpCloud refused the login: {WEBAUTHN_REFUSED_MESSAGE}: Could not verify "
            "authentication signature",
            3,
            id="bad-signature",
        ),
        pytest.param(
            {"sign_count": 10**6},
            f"JumpCloud refused the login: {WEBAUTHN_COUNTER_MESSAGE}",
            3,
            id="counter-backwards",
        ),
        pytest.param(
            {"webauthn_user_verification": "required"},
            "JumpCloud requires user verification, but the security key (samljit SoftKey) has "
            "no PIN or fingerprint set up",
            3,
            id="uv-required",
        ),
        pytest.param(
            {"mode": {"pin": "271828"}, "webauthn_user_verification": "required"},
            "the security key's PIN is needed, but --skip-prompt forbids asking",
            2,
            id="pin-without-terminal",
        ),
        pytest.param(
            {"no_credential": True},
            "this security key (samljit SoftKey) holds no credential for 127.0.0.1: it is not "
            "a key enrolled at JumpCloud",
            3,
            id="no-credential-on-key",
        ),
        pytest.param(
            {"mode": {"present": False}, "webauthn_timeout_ms": 1000},
            "no security key was plugged in within 1 s",
            3,
            id="no-device",
        ),
        pytest.param(
            {"mode": {"touch": "never"}, "webauthn_timeout_ms": 1000},
            "the security key (samljit SoftKey) was not touched within 1 s",
            3,
            id="timeout",
        ),
    ],
)
def test_jumpcloud_security_key_failures(
    cli: Cli,
    jumpcloud: JumpCloudEmulator,
    store: SoftKeyStore,
    setup: dict[str, Any],
    said: str,
    code: int,
) -> None:
    setup = dict(setup)
    mode = setup.pop("mode", {})
    sign_count = setup.pop("sign_count", None)
    other = setup.pop("advertise", None)
    no_credential = setup.pop("no_credential", False)
    if no_credential:  # the IdP knows a credential of another key
        elsewhere = SoftKeyStore(store.path.with_name("other-key.json"))
        credential = enroll(elsewhere, rp_id="127.0.0.1", origin=jumpcloud.api_url)
    else:
        credential = enroll(store, rp_id="127.0.0.1", origin=jumpcloud.api_url)
    if other:  # the key holds a second credential the IdP never registered
        setup["webauthn_advertise"] = [
            enroll(store, rp_id="127.0.0.1", origin=jumpcloud.api_url).id
        ]
    user = make_user(
        totp_secret=None, push=None, webauthn=[key_of(credential, sign_count)], **setup
    )
    jumpcloud.add_user(user)
    store.configure(**mode)
    before = store.counter
    ran = jc_login(cli, jumpcloud, store)
    assert ran.returncode == code, ran.stderr
    assert said in error_line(ran)
    assert not cli.credentials.exists()
    if code == 2 or "touched" in said or "plugged" in said or "sign for" in said:
        assert store.counter == before  # nothing was signed


def test_jumpcloud_pin_through_a_terminal(
    cli: Cli, jumpcloud: JumpCloudEmulator, store: SoftKeyStore
) -> None:
    jc_user(jumpcloud, store, webauthn_user_verification="required")
    store.configure(pin="271828")
    cli.secrets.add("271828")
    cli.write_config(account_config(jumpcloud, mfa="WEBAUTHN"))
    child = cli.spawn("login", "-a", "production", env=softkey_env(store), timeout=60)
    child.expect("PIN of your security key")
    child.sendline("271828")
    finish(child)
    cli.outputs.append(child.before or "")
    assert child.exitstatus == 0, child.before
    assert cli.logged_in("production")


def test_jumpcloud_ctrl_c_while_waiting_for_the_touch_is_clean(
    cli: Cli, jumpcloud: JumpCloudEmulator, store: SoftKeyStore
) -> None:
    jc_user(jumpcloud, store, webauthn_timeout_ms=120000)
    store.configure(touch="never")
    cli.write_config(account_config(jumpcloud, mfa="WEBAUTHN"))
    process = cli.popen("login", "-a", "production", "--skip-prompt", env=softkey_env(store))
    _, err = cli.interrupt_at(process, "Touch your security key")
    cli.interrupted(process.returncode, err)


def hide_fido2(tmp_path: Path) -> dict[str, str]:
    """A PYTHONPATH entry that makes ``import fido2`` fail as on a machine without the
    extra (the installed samljit is run, nothing in it is patched)."""
    shim = tmp_path / "no-fido2"
    (shim / "fido2").mkdir(parents=True)
    (shim / "fido2" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'fido2'\", name='fido2')\n"
    )
    return {"PYTHONPATH": str(shim)}


def test_without_the_extra_the_line_names_pip_and_browser(
    cli: Cli, jumpcloud: JumpCloudEmulator, store: SoftKeyStore, tmp_path: Path
) -> None:
    jc_user(jumpcloud, store)
    cli.write_config(account_config(jumpcloud, mfa="WEBAUTHN"))
    ran = cli.run("login", "-a", "production", "--skip-prompt", env=hide_fido2(tmp_path))
    assert ran.returncode == 3
    assert error_line(ran).endswith(
        "JumpCloud asks for a security key, which needs samljit's fido2 extra: "
        "pip install 'samljit[fido2]', or log in with `samljit login --browser`"
    )


def test_the_former_test_switches_mean_nothing_to_samljit(
    cli: Cli, jumpcloud: JumpCloudEmulator, store: SoftKeyStore
) -> None:
    """A user's run with the test switches samljit once read set, aimed at a ``tests`` package
    in the current directory (importable under ``python -m``) or at the checkout's own software
    key: nothing of either is imported or used, the run is the run without them."""
    jc_user(jumpcloud, store, webauthn_timeout_ms=1000)
    cli.write_config(account_config(jumpcloud, mfa="WEBAUTHN"))
    mark = plant_tests_package(cli.home)
    before = store.counter
    login = ("login", "-a", "production", "--skip-prompt")
    plain = cli.run(*login)
    assert plain.returncode == 3
    assert "no security key was plugged in" in error_line(plain)  # the USB lookup found none
    checkout = {
        **FORMER_SWITCHES,
        "SAMLJIT_TEST_CTAP_DEVICE": "tests.support.softkey:devices",
        "SAMLJIT_TEST_SOFTKEY": str(store.path),
        "PYTHONPATH": str(REPO),
    }
    for switches, python_m in (
        (FORMER_SWITCHES, False),
        (FORMER_SWITCHES, True),
        (checkout, False),
    ):
        ran = cli.run(*login, env=switches, python_m=python_m)
        assert (ran.returncode, ran.stdout, ran.stderr) == (plain.returncode, "", plain.stderr)
    assert not mark.exists(), mark.read_text()
    assert store.counter == before and not cli.logged_in("production")


# -- Okta -------------------------------------------------------------------------------------
@pytest.fixture
def okta() -> Iterator[OktaEmulator]:
    with OktaEmulator([]) as emulator:
        yield emulator


def okta_config(emu: OktaEmulator, user: str, mfa: str = "Auto", extra: str = "") -> str:
    return (
        "[okta]\n"
        "provider = Okta\n"
        f"url = {emu.app_url(APP)}\n"
        f"username = {user}\n"
        f"mfa = {mfa}\n"
        "aws_profile = okta\n"
        f"role_arn = {RO_ARN}\n"
        f"{extra}"
    )


def okta_user(emu: OktaEmulator, store: SoftKeyStore, name: str, *factors: Any, **key: Any) -> str:
    credential = enroll(store, rp_id="127.0.0.1", origin=emu.base_url)
    advertised = key.pop("advertise", None)
    factor = webauthn_factor(
        advertised or credential.id_b64,
        public_key=credential.public_key,
        registered_id=credential.id,
        **key,
    )
    login = f"{name}@acme.example"
    emu.add_user(User(login, PASSWORD, factors=[factor, *factors], apps={APP: PROD_GRANTS}))
    return login


def okta_login(
    cli: Cli, emu: OktaEmulator, store: SoftKeyStore, login: str, *extra: str, **kw: Any
) -> Any:
    cli.write_config(okta_config(emu, login, **kw))
    return cli.run("login", "-a", "okta", "--skip-prompt", *extra, env=softkey_env(store))


def test_okta_security_key_end_to_end(cli: Cli, okta: OktaEmulator, store: SoftKeyStore) -> None:
    login = okta_user(okta, store, "key")
    ran = okta_login(cli, okta, store, login)
    assert ran.returncode == 0, ran.stderr
    assert f"Touch your security key ({PRODUCT})" in ran.stderr
    assert cli.logged_in("okta")


def test_okta_auto_keeps_push_and_webauthn_picks_the_key(
    cli: Cli, okta: OktaEmulator, store: SoftKeyStore
) -> None:
    login = okta_user(okta, store, "both", push_factor(after=1))
    once = "disable_sessions = true\ndisable_remember_device = true\n"
    pushed = okta_login(cli, okta, store, login, extra=once)
    assert pushed.returncode == 0, pushed.stderr
    assert "Okta Verify push sent" in pushed.stderr and "security key" not in pushed.stderr
    keyed = okta_login(cli, okta, store, login, "--force", mfa="WEBAUTHN", extra=once)
    assert keyed.returncode == 0, keyed.stderr
    assert "Touch your security key" in keyed.stderr


@pytest.mark.parametrize(
    ("key", "said"),
    [
        pytest.param(
            {"advertise": "other"},
            "Okta security key: Okta refused: Invalid Passcode/Answer (The security key "
            "assertion was refused. (Unknown credential ID.))",
            id="unknown-credential",
        ),
        pytest.param(
            {"mode": {"bad_signature": True}},
            "(The security key assertion was refused. (Invalid signature.))",
            id="bad-signature",
        ),
        pytest.param(
            {"sign_count": 10**6},
            "(The security key's counter went backwards: the key may be cloned.)",
            id="counter-backwards",
        ),
        pytest.param(
            {"require_uv": True},
            "(The security key assertion was refused. (User verification required, but user "
            "verified flag not set.))",
            id="uv-required-at-the-idp",
        ),
    ],
)
def test_okta_security_key_refused_in_oktas_words(
    cli: Cli, okta: OktaEmulator, store: SoftKeyStore, key: dict[str, Any], said: str
) -> None:
    key = dict(key)
    mode = key.pop("mode", {})
    if key.get("advertise"):  # the key also holds a credential Okta never registered
        okta_user(okta, store, "decoy")
        key["advertise"] = enroll(store, rp_id="127.0.0.1", origin=okta.base_url).id_b64
    login = okta_user(okta, store, "refused", **key)
    store.configure(**mode)
    ran = okta_login(cli, okta, store, login)
    assert ran.returncode == 3, ran.stderr
    assert said in error_line(ran)
    assert not cli.credentials.exists()


def test_okta_key_enrolled_as_u2f_under_an_appid_is_said_up_front(
    cli: Cli, okta: OktaEmulator, store: SoftKeyStore
) -> None:
    """Okta names an ``appid`` for a key enrolled as U2F: the key would sign for the appid,
    which samljit does not do. One line naming the browser; the key is never asked."""
    login = okta_user(okta, store, "u2f", u2f=True, app_id_extension=okta.base_url)
    before = store.counter
    ran = okta_login(cli, okta, store, login)
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == (
        "samljit: error: Okta security key: this key was enrolled at Okta as a U2F key (appid "
        f"'{okta.base_url}'), which samljit cannot sign for; nothing was asked of the key: log "
        "in with `samljit login --browser`"
    )
    assert "Touch your security key" not in ran.stderr
    assert store.counter == before and not cli.credentials.exists()


def test_okta_without_the_extra_keeps_the_browser_line(
    cli: Cli, okta: OktaEmulator, store: SoftKeyStore, tmp_path: Path
) -> None:
    login = okta_user(okta, store, "nofido")
    cli.write_config(okta_config(okta, login, mfa="WEBAUTHN"))
    ran = cli.run("login", "-a", "okta", "--skip-prompt", env=hide_fido2(tmp_path))
    assert ran.returncode == 3
    line = error_line(ran)
    assert "Okta asks for a security key (WebAuthn)" in line
    assert "pip install 'samljit[fido2]'" in line
    assert line.endswith("log in with `samljit login --browser`")
