"""What samljit keeps between runs belongs to what it was made for (issue 21): the kept IdP
session, the cached assertion and the cached credentials serve only the username, IdP url
and role they were made for; logout leaves nothing of the session behind in the keyring; a
login after `credential-process` writes its profile. Through the installed executable,
against the JumpCloud emulator (which keeps sessions) and moto's STS."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.common import totp_now
from tests.emulators.jumpcloud import App, JumpCloudEmulator
from tests.support.accounts import (
    ACCOUNT_ID,
    DEV_ACCOUNT,
    DEV_ARN,
    DEV_PROVIDER,
    EMAIL,
    PROVIDER_ARN,
    RO_ARN,
    SLUG,
    TOTP_SECRET,
    account_config,
    fresh_code,
    grants,
    log_in_once,
    make_user,
    process_json,
)
from tests.support.cli import Cli
from tests.support.keyring_backend import vault_env
from tests.support.moto_sts import MotoSts

BOB = "bob@acme.example"
BOB_PASSWORD = "bobs-own-Password-77"
DEV_SLUG = "acme-dev-aws"
PLAINTEXT_KEYRING = "keyrings.alt.file.PlaintextKeyring"
NO_PASSWORD: dict[str, str] = {"SAMLJIT_PASSWORD": None}  # type: ignore[dict-item]


def code(cli: Cli) -> str:
    return fresh_code(cli)


def emails_that_signed_in(jumpcloud: JumpCloudEmulator) -> list[str]:
    """Who logged in at JumpCloud's console, one entry per login (password, then code)."""
    emails: list[str] = []
    for path, body in jumpcloud.submitted:
        email = body.get("email") or body.get("Email")
        if path == "/userconsole/auth" and not (body.get("otp") or body.get("Otp")):
            emails.append(str(email))
    return emails


def add_bob(cli: Cli, jumpcloud: JumpCloudEmulator) -> dict[str, str]:
    jumpcloud.add_user(make_user(email=BOB, password=BOB_PASSWORD))
    cli.secrets.add(BOB_PASSWORD)
    return {"SAMLJIT_USERNAME": BOB, "SAMLJIT_PASSWORD": BOB_PASSWORD}


# -- 2: the kept IdP session, the assertion and the credentials are one user's ----------------
def test_alices_kept_session_does_not_log_bob_in(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    log_in_once(cli, jumpcloud)
    assert cli.principal("production").endswith(f"/{EMAIL}")
    bob = add_bob(cli, jumpcloud)
    ran = cli.run("login", "-a", "production", "--force", "--mfa-token", code(cli), env=bob)
    assert ran.returncode == 0, ran.stderr
    assert cli.principal("production").endswith(f"/{BOB}"), "bob got a role session of alice's"
    assert emails_that_signed_in(jumpcloud) == [EMAIL, BOB]


def test_alices_cached_assertion_and_credentials_do_not_answer_bob(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    cli.write_config(account_config(jumpcloud))
    alice = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    bob = add_bob(cli, jumpcloud)
    # the same role: alice's cached credentials are not bob's
    # bob's own code: the emulator remembers used codes per user (bob has alice's TOTP secret)
    same = process_json(cli, **bob, SAMLJIT_MFA_TOKEN=totp_now(TOTP_SECRET))
    assert same["AccessKeyId"] != alice["AccessKeyId"]
    assert emails_that_signed_in(jumpcloud) == [EMAIL, BOB]
    # another role, back as alice: bob's assertion (cached for him) is not alice's
    calls = len(sts.calls)
    process_json(cli, "--role", "full", SAMLJIT_MFA_TOKEN=code(cli))
    assert emails_that_signed_in(jumpcloud) == [EMAIL, BOB, EMAIL]
    assert len(sts.calls) == calls + 1


#: A role by its name: each of the two accounts below has one of that name.
ROLE = ("--role", "AcmeJumpCloudAdminRO")


def two_config_files(cli: Cli, jumpcloud: JumpCloudEmulator) -> Path:
    """The user's production app grants RO_ARN; a second app (DEV_SLUG) grants DEV_ARN,
    a role of the same name in another AWS account. Account 'production' (no role set) is
    the production app's in ~/.samljit, the second app's in the config file returned."""
    apps = {
        SLUG: App(roles=grants((RO_ARN, PROVIDER_ARN))),
        DEV_SLUG: App(roles=grants((DEV_ARN, DEV_PROVIDER))),
    }
    jumpcloud.add_user(make_user(apps=apps))
    cli.write_config(account_config(jumpcloud, role=None))
    other = cli.home / "dev.samljit"
    other.write_text(account_config(jumpcloud, role=None).replace(SLUG, DEV_SLUG))
    return other


def from_sts_for_dev(sts: MotoSts, cached: dict[str, Any], got: dict[str, Any], why: str) -> None:
    """``got`` are new keys of DEV_ARN from STS, not the ``cached`` ones (``why``: what serving
    those would have been)."""
    assert sts.calls[-1].role_arn == DEV_ARN, why
    assert got["AccessKeyId"] != cached["AccessKeyId"]


# -- 3: cached credentials follow what the role reference resolves to ---------------------
def test_an_alias_pointed_elsewhere_is_not_answered_from_the_cache(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    cli.write_config(account_config(jumpcloud))
    before = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))  # role_arn = readonly
    assert sts.calls[-1].role_arn == RO_ARN
    repointed = account_config(jumpcloud).replace(f"readonly = {RO_ARN}", f"readonly = {DEV_ARN}")
    cli.write_config(repointed)
    after = process_json(cli)  # the kept IdP session and the cached assertion still serve
    from_sts_for_dev(sts, before, after, "the old account's keys were served")


def test_an_account_of_the_same_name_in_another_config_file_has_its_own_cache(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    other = two_config_files(cli, jumpcloud)
    prod = process_json(cli, *ROLE, SAMLJIT_MFA_TOKEN=code(cli))
    assert sts.calls[-1].role_arn == RO_ARN
    dev = process_json(cli, *ROLE, SAMLJIT_CONFIG=str(other))
    from_sts_for_dev(sts, prod, dev, "the other config's account got cached keys")


def test_a_login_with_another_config_file_is_not_answered_by_the_profile_it_shares(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    other = two_config_files(cli, jumpcloud)
    assert cli.run("login", "-a", "production", *ROLE, "--mfa-token", code(cli)).returncode == 0
    assert cli.principal("production").startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/")
    ran = cli.run("login", "-a", "production", *ROLE, env={"SAMLJIT_CONFIG": str(other)})
    assert ran.returncode == 0, ran.stderr
    assert "nothing to do" not in ran.stderr, "the other config's account was answered"
    assert sts.calls[-1].role_arn == DEV_ARN
    assert cli.principal("production").startswith(f"arn:aws:sts::{DEV_ACCOUNT}:assumed-role/")


# -- 10: logout leaves no chunk of the session in the keyring ------------------------------
def session_entries(cli: Cli) -> list[str]:
    vault = Path(vault_env(cli.home)["SAMLJIT_TEST_VAULT"])
    entries = json.loads(vault.read_text()) if vault.exists() else {}
    return [key for key in entries if key.startswith("samljit-idp-session:")]


def login_into_the_keyring(cli: Cli, jumpcloud: JumpCloudEmulator) -> dict[str, str]:
    """Log in with an OS keyring (the test vault) that keeps the session; its environment."""
    keyring = vault_env(cli.home)
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli), env=keyring)
    assert ran.returncode == 0, ran.stderr
    assert session_entries(cli), "the session was not kept in the keyring"
    return keyring


def test_logout_after_the_url_host_changed_leaves_no_chunk_behind(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    keyring = login_into_the_keyring(cli, jumpcloud)
    moved = account_config(jumpcloud).replace("127.0.0.1", "localhost")
    assert moved != account_config(jumpcloud)
    cli.write_config(moved)
    assert cli.run("status", env=keyring).returncode == 0  # reads the index of another host
    assert cli.run("logout", "-a", "production", env=keyring).returncode == 0
    assert session_entries(cli) == []


def test_logout_with_a_corrupt_index_leaves_no_chunk_behind(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    keyring = login_into_the_keyring(cli, jumpcloud)
    [index] = (cli.home / ".cache" / "samljit" / "sessions").glob("*.json")
    index.write_text("{torn")
    cli.write_config(account_config(jumpcloud, extra="disable_sessions = true\n"))
    assert cli.run("logout", "-a", "production", env=keyring).returncode == 0
    assert session_entries(cli) == []


def test_a_session_an_earlier_version_left_in_a_plain_file_keyring_is_deleted(
    cli: Cli, jumpcloud: JumpCloudEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Earlier versions kept the session in whatever keyring there was, keyrings.alt's plain
    file too. Today none goes there; the next login (which logs in afresh) deletes what was
    left in that file."""
    from keyrings.alt.file import PlaintextKeyring

    keyring = login_into_the_keyring(cli, jumpcloud)
    vault = json.loads(Path(keyring["SAMLJIT_TEST_VAULT"]).read_text())
    monkeypatch.setenv("XDG_DATA_HOME", cli.env["XDG_DATA_HOME"])
    plain = PlaintextKeyring()
    chunks = [tuple(key.split("\n", 1)) for key in session_entries(cli)]
    for service, username in chunks:  # the same chunks, as the earlier version wrote them
        plain.set_password(service, username, vault[f"{service}\n{username}"])
    assert chunks and all(plain.get_password(*chunk) for chunk in chunks)

    again = ["login", "-a", "production", "--force", "--mfa-token", code(cli)]
    ran = cli.run(*again, env={"PYTHON_KEYRING_BACKEND": PLAINTEXT_KEYRING})
    assert ran.returncode == 0, ran.stderr
    assert not any(plain.get_password(*chunk) for chunk in chunks)
    assert jumpcloud.count("POST", "/userconsole/auth") == 4  # no session: password, code again


def age_the_session(cli: Cli, seconds: int) -> None:
    """Move the kept session's start (and save) back by ``seconds``, as that much time would."""
    [index] = (cli.home / ".cache" / "samljit" / "sessions").glob("*.json")
    data = json.loads(index.read_text())
    for key in ("Saved", "Started"):
        if key in data:
            moment = datetime.fromisoformat(data[key].replace("Z", "+00:00"))
            data[key] = (moment - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    index.write_text(json.dumps(data))


def test_a_session_without_cookie_expiry_is_not_used_after_session_max_age(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    log_in_once(cli, jumpcloud)
    age_the_session(cli, 11 * 3600)
    again = ["login", "-a", "production", "--force", "--skip-prompt"]
    held = cli.run(*again, env=NO_PASSWORD)
    assert held.returncode == 0, held.stderr  # 11 h: the session still answers
    age_the_session(cli, 3600)
    ran = cli.run(*again, env=NO_PASSWORD)
    assert ran.returncode == 2 and "password" in ran.stderr.lower(), ran.stderr
    assert [row["idp_session"] for row in json.loads(cli.run("status", "--json").stdout)] == [False]

    cli.write_config(account_config(jumpcloud, extra="session_max_age = 86400\n"))
    assert cli.run("login", "-a", "production", "--force", "--mfa-token", code(cli)).returncode == 0
    age_the_session(cli, 13 * 3600)
    longer = cli.run(*again, env=NO_PASSWORD)
    assert longer.returncode == 0, longer.stderr


# -- 13: a login after credential-process writes its profile -------------------------------
def test_login_after_credential_process_writes_the_profile(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    cli.write_config(account_config(jumpcloud))
    keys = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    assert not cli.credentials.exists()
    calls = len(sts.calls)
    ran = cli.run("login", "-a", "production")
    assert ran.returncode == 0, ran.stderr
    assert "nothing to do" not in ran.stderr
    assert cli.profile("production")["aws_access_key_id"] == keys["AccessKeyId"]
    assert len(sts.calls) == calls  # the cached credentials, not a new login
    again = cli.run("login", "-a", "production")
    assert again.returncode == 0 and "nothing to do" in again.stderr, again.stderr
