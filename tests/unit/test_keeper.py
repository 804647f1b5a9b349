"""The credential endpoint's renewals under an injected clock (issue 28, item 1): keys are
served until the account's refresh margin, then renewed through the flow; a renewal that
fails keeps serving valid keys with one line on stderr, and answers HTTP 500 JSON once
nothing valid is left. The real flow against the JumpCloud emulator and moto's STS; the
endpoint asked over HTTP as the SDKs ask it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from samljit.config.accounts import Account, load_text, resolve_account
from samljit.jit.keeper import RETRY_AFTER, Keeper
from samljit.sinks.endpoint import Endpoint
from samljit.testing.fakes import FakeClock, fake_services
from tests.emulators.common import totp_now
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import PASSWORD, SLUG, TOTP_SECRET, account_config
from tests.support.moto_sts import MotoSts

HOUR = 3600


def ask(endpoint: Endpoint) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(endpoint.url, headers={"Authorization": endpoint.token})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


@pytest.fixture
def setup(
    tmp_path: Path, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> Iterator[tuple[Keeper, Endpoint, FakeClock, Any]]:
    env = {
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL_STS": sts.url,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    path = tmp_path / ".samljit"
    account: Account = resolve_account(
        load_text(account_config(jumpcloud), path), "production", path=path, env=env
    )
    clock = FakeClock(datetime.now(timezone.utc))
    services, clock, shown = fake_services(env | {"SAMLJIT_PASSWORD": PASSWORD}, clock=clock)
    keeper = Keeper(account, services, role_ref=account.role_arn)
    keeper.start(mfa_token=totp_now(TOTP_SECRET))
    # later logins have no password and no terminal: only the kept IdP session can answer
    later, _, shown = fake_services(env, clock=clock)
    keeper.services = later
    with Endpoint(keeper.credentials) as endpoint:
        yield keeper, endpoint, clock, shown


def test_keys_are_served_until_the_margin_then_renewed_through_the_idp_session(
    setup: tuple[Keeper, Endpoint, FakeClock, Any], jumpcloud: JumpCloudEmulator
) -> None:
    keeper, endpoint, clock, shown = setup
    status, first = ask(endpoint)
    assert status == 200
    requests = len(jumpcloud.requests)
    clock.advance(HOUR - keeper.account.refresh_margin - 60)  # a minute before the margin
    assert ask(endpoint)[1]["AccessKeyId"] == first["AccessKeyId"]
    assert len(jumpcloud.requests) == requests
    clock.advance(120)  # inside the margin: the cached assertion has long expired too
    status, renewed = ask(endpoint)
    assert status == 200 and renewed["AccessKeyId"] != first["AccessKeyId"]
    assert jumpcloud.requests[requests:] == [("GET", f"/saml2/{SLUG}")]
    assert shown.getvalue() == ""


def test_a_failed_renewal_serves_valid_keys_then_answers_500_json(
    setup: tuple[Keeper, Endpoint, FakeClock, Any], jumpcloud: JumpCloudEmulator
) -> None:
    keeper, endpoint, clock, shown = setup
    first = ask(endpoint)[1]
    jumpcloud.end_sessions()  # the IdP asks for the password again; there is no terminal
    clock.advance(HOUR - keeper.account.refresh_margin + 60)
    for _ in range(2):
        status, body = ask(endpoint)
        assert status == 200 and body["AccessKeyId"] == first["AccessKeyId"]
        clock.advance(RETRY_AFTER.total_seconds() + 1)  # tried again, not said again
    lines = [x for x in shown.getvalue().splitlines() if "keyring" not in x]
    assert len(lines) == 1 and "renewing the credentials failed" in lines[0], lines
    assert first["Expiration"] in lines[0]
    clock.advance(keeper.account.refresh_margin)  # the keys have expired
    status, body = ask(endpoint)
    assert status == 500
    assert sorted(body) == ["code", "message"] and body["code"] == "MissingInputError"
    assert "AccessKeyId" not in body and PASSWORD not in json.dumps(body)


def test_the_refresh_loop_is_due_at_the_margin_and_after_a_failure_at_the_retry(
    setup: tuple[Keeper, Endpoint, FakeClock, Any], jumpcloud: JumpCloudEmulator
) -> None:
    keeper, endpoint, clock, _ = setup
    expires = datetime.fromisoformat(ask(endpoint)[1]["Expiration"].replace("Z", "+00:00"))
    due = (expires - clock.now()).total_seconds() - keeper.account.refresh_margin
    assert abs(keeper.next_renewal() - due) < 1
    jumpcloud.end_sessions()
    clock.advance(due + 1)
    assert keeper.next_renewal() == 0
    ask(endpoint)  # the renewal fails; the held keys are served
    assert keeper.next_renewal() == RETRY_AFTER.total_seconds()
