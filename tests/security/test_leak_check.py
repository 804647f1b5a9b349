"""The leak check run after every end-to-end test is not a no-op: plant a secret, it fails."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from lxml import etree

from tests.emulators.jumpcloud import totp_now
from tests.security.corpus import genuine, to_b64
from tests.support.accounts import PASSWORD, TOTP_SECRET
from tests.support.cli import Cli
from tests.support.leaks import assert_no_leaks, recent_totp_codes

ASSERTION = to_b64(genuine())


def signature_part(encoded: str, size: int = 300) -> str:
    """``size`` characters of the base64 text from the middle of the part encoding the
    SignatureValue: what a partial dump of the SAMLResponse could show."""
    xml = base64.b64decode(encoded)
    start = xml.index(b"SignatureValue>") + len(b"SignatureValue>")
    middle = (start + 100) // 3 * 4
    return encoded[middle : middle + size]


@pytest.fixture
def runner(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    return Cli(home=home, env={})


def test_a_clean_run_passes(runner: Cli) -> None:
    runner.outputs.append("Logged in: AcmeJumpCloudAdminRO\n")
    (runner.home / ".samljit").write_text("[production]\nprovider = JumpCloud\n")
    assert_no_leaks(runner, [PASSWORD, ASSERTION], codes=recent_totp_codes())


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param(PASSWORD, id="password"),
        pytest.param(ASSERTION, id="assertion"),
        pytest.param(quote_plus(ASSERTION), id="assertion-url-encoded"),
        pytest.param(html.escape(quote_plus(ASSERTION)), id="assertion-url-encoded-in-html"),
        pytest.param(ASSERTION[:3000], id="assertion-truncated"),
        pytest.param(signature_part(ASSERTION), id="assertion-fragment"),
    ],
)
@pytest.mark.parametrize("where", ["stdout", "file"])
def test_a_planted_secret_fails_the_check(runner: Cli, planted: str, where: str) -> None:
    if where == "stdout":
        runner.outputs.append(f"samljit: debug: body {planted} end\n")
    else:
        (runner.home / ".local" / "state").mkdir(parents=True)
        (runner.home / ".local" / "state" / "samljit.log").write_text(f"x {planted} y\n")
    with pytest.raises(AssertionError, match="leaked into"):
        assert_no_leaks(runner, [PASSWORD, ASSERTION])


def test_a_dump_of_the_decoded_xml_fails_the_check(runner: Cli) -> None:
    xml = base64.b64decode(ASSERTION).decode()
    runner.outputs.append(xml)
    with pytest.raises(AssertionError, match="leaked into output #0"):
        assert_no_leaks(runner, [ASSERTION])


def test_an_otp_code_fails_the_check(runner: Cli) -> None:
    runner.outputs.append(f"samljit: debug: JumpCloud MFA: POST otp={totp_now(TOTP_SECRET)}\n")
    with pytest.raises(AssertionError, match="one-time code leaked"):
        assert_no_leaks(runner, [], codes=recent_totp_codes())


def test_numbers_inside_other_tokens_are_not_codes(runner: Cli) -> None:
    code = totp_now(TOTP_SECRET)
    runner.outputs.append(f"AKIA{code}XYZ 1{code} {code}9\n")
    assert_no_leaks(runner, [], codes=[code])


def test_the_session_token_in_the_credentials_file_is_watched_elsewhere(runner: Cli) -> None:
    token = "FQoGZXIvYXdzEJr//////////wEaDExampleSessionToken"
    runner.credentials.write_text(f"[production]\naws_session_token = {token}\n")
    assert_no_leaks(runner, [])  # the credentials file itself is where it belongs
    runner.outputs.append(f"token={token}")
    with pytest.raises(AssertionError, match="leaked into"):
        assert_no_leaks(runner, [])


def test_0600_caches_are_exempt_but_other_files_are_not(runner: Cli) -> None:
    cache = runner.home / ".cache" / "samljit"
    cache.mkdir(parents=True)
    (cache / "assertion.json").write_text(ASSERTION)
    os.chmod(cache / "assertion.json", 0o600)
    assert_no_leaks(runner, [ASSERTION])
    os.chmod(cache / "assertion.json", 0o644)
    with pytest.raises(AssertionError, match=r"assertion\.json"):
        assert_no_leaks(runner, [ASSERTION])


def test_the_document_used_here_is_a_signed_response() -> None:
    root = etree.fromstring(base64.b64decode(ASSERTION))
    assert root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue") is not None
