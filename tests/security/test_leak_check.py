"""The leak check run after every end-to-end test is not a no-op: plant a secret, it fails;
and it knows every secret an emulator handed out, however the emulator was started."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from lxml import etree

from samljit.testing.emulator import ISSUED
from tests.emulators.common import totp_now
from tests.security.corpus import genuine, to_b64
from tests.support.accounts import EMAIL, PASSWORD, TOTP_SECRET
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


def test_an_okta_session_from_an_emulator_started_in_the_test_is_caught(runner: Cli) -> None:
    """An Okta org started here, not as a fixture: a password login by hand, then the
    session cookie redirect. The ``sid`` it sets, and the session token, are in the registry
    the leak check reads; planted in an output, the check fails."""
    import requests

    from tests.emulators.okta import OktaEmulator, User

    with OktaEmulator([User("plain@acme.example", PASSWORD)]) as okta:
        authn = requests.post(
            f"{okta.base_url}/api/v1/authn",
            json={"username": "plain@acme.example", "password": PASSWORD},
            timeout=10,
        ).json()
        token = authn["sessionToken"]
        redirect = requests.get(
            f"{okta.base_url}/login/sessionCookieRedirect",
            params={"token": token, "redirectUrl": f"{okta.base_url}/app/UserHome"},
            allow_redirects=False,
            timeout=10,
        )
    sid = redirect.cookies["sid"]
    assert {token, sid} <= set(ISSUED.secrets)
    assert_no_leaks(runner, ISSUED.secrets)  # nothing planted yet
    for planted in (f"Cookie: sid={sid}", f'{{"sessionToken": "{token}"}}'):
        runner.outputs[:] = [f"samljit: debug: {planted}\n"]
        with pytest.raises(AssertionError, match="leaked into output #0"):
            assert_no_leaks(runner, ISSUED.secrets)


def test_the_sandbox_reports_what_it_hands_out(runner: Cli) -> None:
    """The Browser tests' sandbox IdP reports each AuthState and SAMLResponse to the
    registry (``issued`` of the Browser tests' sandbox used to be an empty list)."""
    import requests

    from tests.e2e.test_browser import Sandbox

    served = Sandbox()
    try:
        start = requests.get(served.idp.sso_url(), allow_redirects=False, timeout=10)
        auth_state = start.headers["Location"].split("AuthState=")[1]
        final = requests.post(
            f"{served.idp.base_url}/login",
            data={"AuthState": auth_state, "username": EMAIL, "password": PASSWORD},
            timeout=10,
        )
    finally:
        served.server.stop()
    assert final.status_code == 200 and "SAMLResponse" in final.text
    # among what the process's emulators handed out (a worker's other servers may add more)
    issued = ISSUED.secrets
    assert any(quote_plus(state) == auth_state for state in issued), issued
    assert any(len(value) > 200 and value in final.text for value in issued), "no SAMLResponse"
    runner.outputs.append(f"samljit: debug: GET /login?AuthState={auth_state}\n")
    with pytest.raises(AssertionError, match="leaked into output #0"):
        assert_no_leaks(runner, ISSUED.secrets)


def test_codes_sent_out_of_band_are_looked_for_as_numbers(runner: Cli) -> None:
    ISSUED.code("482913")
    runner.outputs.append("account 104829131234 is no leak\n")
    assert_no_leaks(runner, [], codes=ISSUED.codes)
    runner.outputs.append("samljit: debug: POST passcode=482913\n")
    with pytest.raises(AssertionError, match="one-time code leaked"):
        assert_no_leaks(runner, [], codes=ISSUED.codes)


def test_browser_profiles_are_exempt_only_while_private(runner: Cli) -> None:
    """Chromium's history in a Browser account's profile holds the IdP's URLs (a sign-in's
    state in them): a private file there is the profile's business, a readable one is a leak."""
    profile = runner.home / ".local" / "state" / "samljit" / "browser" / "corp" / "Default"
    profile.mkdir(parents=True)
    history = profile / "History"
    history.write_text("http://idp/login?AuthState=a-sign-in-state-token\n")
    os.chmod(history, 0o600)
    assert_no_leaks(runner, ["a-sign-in-state-token"])
    os.chmod(history, 0o644)
    with pytest.raises(AssertionError, match="History"):
        assert_no_leaks(runner, ["a-sign-in-state-token"])


def test_a_watched_idp_is_asked_for_its_secrets_until_unwatched(runner: Cli) -> None:
    """A real IdP in a test (SimpleSAMLphp) knows its sessions only itself: the registry asks
    it at each read, across clear(), until it is unwatched."""
    sessions = ["a-php-session-id-0001"]

    def source() -> list[str]:
        return sessions

    ISSUED.watch(source)
    try:
        ISSUED.clear()
        runner.outputs.append("Cookie: SimpleSAMLSessionID=a-php-session-id-0001\n")
        with pytest.raises(AssertionError, match="leaked into output #0"):
            assert_no_leaks(runner, ISSUED.secrets)
    finally:
        ISSUED.unwatch(source)
    assert "a-php-session-id-0001" not in ISSUED.secrets
