"""``provider = GoogleApps`` through the installed CLI, on Debian's chromium and a Google-shaped
IdP (:mod:`tests.emulators.google`), with moto's STS: the login, the fast end of a refused
password, and the headless stop on Google's pages that want a person ("browser may not be
secure", a 2-Step Verification code); headless and
headed (under a private Xvfb)."""

from __future__ import annotations

import configparser
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.test_terminal import finish, spawn
from tests.emulators.formidp import FormUser
from tests.emulators.google import IDPID, NO_ACCOUNT, SPID, WRONG_PASSWORD, GoogleIdp
from tests.support.accounts import EMAIL, PASSWORD, PROVIDER_ARN, RO_ARN, TOTP_SECRET, grants
from tests.support.cli import Cli, answer
from tests.support.display import xvfb
from tests.support.keyring_backend import vault_env
from tests.support.tools import requires_tool

pytestmark = requires_tool("chromium")


@pytest.fixture
def google() -> Iterator[GoogleIdp]:
    idp = GoogleIdp([FormUser(EMAIL, PASSWORD, roles=grants((RO_ARN, PROVIDER_ARN)))]).start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private X server for headed runs."""
    yield from xvfb("1280x800x24")


MODES = [
    pytest.param(True, id="headless"),
    pytest.param(False, id="headed", marks=requires_tool("Xvfb")),
]


def config(idp: GoogleIdp, headless: bool, username: str = EMAIL) -> str:
    return (
        "[google]\nprovider = GoogleApps\n"
        f"url = {idp.start_url}\nusername = {username}\n"
        f"headless = {'true' if headless else 'false'}\nbrowser_autofill = true\n"
        "timeout = 120\n"
    )


def run(
    cli: Cli, headless: bool, request: pytest.FixtureRequest
) -> subprocess.CompletedProcess[str]:
    env = None
    if not headless:
        env = {"DISPLAY": request.getfixturevalue("display")}
    return cli.run("login", "-a", "google", env=env)


@pytest.mark.parametrize("headless", MODES)
def test_googleapps_login(
    cli: Cli, google: GoogleIdp, headless: bool, request: pytest.FixtureRequest
) -> None:
    """The initsso URL, the identifier and the password pages filled by autofill (Google's
    sign-in host is the provider's own), the SAMLResponse caught, STS, the profile written."""
    cli.write_config(config(google, headless))
    ran = run(cli, headless, request)
    assert ran.returncode == 0, ran.stderr
    assert "AcmeJumpCloudAdminRO" in cli.credentials.read_text()
    assert google.posts_with("Passwd") == 1


@pytest.mark.parametrize("headless", MODES)
def test_a_refused_password_ends_the_login_with_the_idps_words(
    cli: Cli, google: GoogleIdp, headless: bool, request: pytest.FixtureRequest
) -> None:
    """A wrong password: exit 3 with Google's words as soon as its page shows them (before,
    the login waited the whole timeout and said no response came)."""
    cli.write_config(config(google, headless))
    env_password = "not-the-password-1"
    cli.secrets.add(env_password)
    env = {"SAMLJIT_PASSWORD": env_password}
    if not headless:
        env["DISPLAY"] = request.getfixturevalue("display")
    ran = cli.run("login", "-a", "google", env=env)
    assert ran.returncode == 3, ran.stderr
    assert f"samljit: error: the IdP refused the sign-in: {WRONG_PASSWORD}" in ran.stderr
    assert "no sign-in response" not in ran.stderr
    assert google.posts_with("Passwd") == 1
    assert not cli.credentials.exists()


def test_an_unknown_account_ends_the_login_with_the_idps_words(cli: Cli, google: GoogleIdp) -> None:
    cli.write_config(config(google, True, username="nobody@acme.example"))
    ran = cli.run("login", "-a", "google")
    assert ran.returncode == 3, ran.stderr
    assert f"samljit: error: the IdP refused the sign-in: {NO_ACCOUNT}" in ran.stderr


def dead_end(what: str) -> str:
    """The line a headless login ends with on a Google page that wants a person."""
    return (
        f"samljit: error: GoogleApps {what} in a headless browser: log in once with "
        "headless = false (the kept browser profile of account 'google' then serves headless "
        "logins)"
    )


def test_browser_not_secure_headless_says_to_log_in_headed_once(
    cli: Cli, google: GoogleIdp
) -> None:
    google.not_secure = True
    cli.write_config(config(google, True))
    ran = cli.run("login", "-a", "google")
    assert ran.returncode == 3, ran.stderr
    assert dead_end("says this browser may not be secure") in ran.stderr.splitlines()
    assert google.posts_with("Passwd") == 0


def test_a_2_step_code_headless_says_to_log_in_headed_once(cli: Cli) -> None:
    """Google's authenticator-code step wants a person: headless, the login ends at once
    (not after the whole timeout) and says how to get past it, once."""
    user = FormUser(EMAIL, PASSWORD, roles=grants((RO_ARN, PROVIDER_ARN)), totp_secret=TOTP_SECRET)
    with GoogleIdp([user]) as google:
        cli.write_config(config(google, True))
        ran = cli.run("login", "-a", "google")
        assert google.count("GET", "/v3/signin/challenge/totp") == 1
    assert ran.returncode == 3, ran.stderr
    assert dead_end("asks for a 2-Step Verification code") in ran.stderr.splitlines()
    assert not cli.credentials.exists()


def test_configure_asks_for_the_idp_id_and_the_sp_id_and_builds_the_url(cli: Cli) -> None:
    """In a terminal: the two ids of the app's initsso URL, then the Browser keys with
    Google's defaults; the section gets the URL built from them."""
    child = spawn(cli, "configure", "-a", "google", **vault_env(cli.home))
    answer(
        child,
        ("IdP provider.*: ?", "GoogleApps"),
        ("Google IdP id .*: ?", IDPID),
        ("Google SP id .*: ?", SPID),
        ("Username.*: ?", EMAIL),
    )
    # then the common questions and the Browser keys, each keeping Google's default; an empty
    # `target_url` is taken (it was refused as "not an http(s) URL" and asked forever)
    questions = [
        "MFA",
        "AWS profile to write",
        "Default role",
        "Browser program",
        "Browser",
        "Run the browser without a window",
        "Fill in the username and password",
        "Seconds to wait",
        "One more ACS URL",
        "More hosts",
        "Password for [^\r\n]*Enter to skip",
    ]
    # one question's drawing each: pexpect's `.` matches newlines, so a greedy `.*` would run
    # on over the next question when both arrive in one read
    patterns = [q + r"[^\r\n]*?: ?" for q in questions]
    asked: list[str] = []
    while questions[-1] not in asked:
        question = questions[child.expect(patterns)]
        if question in asked:
            continue  # the prompt drawn again with its answer
        asked.append(question)
        child.send("chrome\r" if question == "Browser" else "\r")
    assert {"Browser", "One more ACS URL", "More hosts"} <= set(asked), asked
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(cli.config.read_text())
    section = parser["google"]
    assert section["provider"] == "GoogleApps"
    assert section["url"] == (
        f"https://accounts.google.com/o/saml2/initsso?idpid={IDPID}&spid={SPID}&forceauthn=false"
    )
    assert section.get("browser_type", "chrome") == "chrome"  # Google's default: Chrome first
