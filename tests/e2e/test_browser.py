"""The Browser provider through the installed CLI, on Debian's chromium driven by Playwright:
a headless autofill login at the sandbox IdP (served in this process) end to end with moto's
STS; ``login --browser`` on a GenericForm account; a wrong password ending by the timeout; the
SAMLResponse POST caught in the browser and never sent; the profile directory's mode; and the
clear exits when no browser, no display or no Playwright is there, or on Ctrl-C; and a
passkey sign-in at the sandbox (served on localhost) with Chromium's virtual authenticator."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from samljit.testing.emulator import ISSUED
from samljit.tools.sandbox.idp import SandboxIdp
from samljit.tools.sandbox.keys import load_signing_key
from samljit.tools.sandbox.response import RoleGrant
from samljit.tools.sandbox.server import LoopbackServer
from samljit.tools.sandbox.users import READONLY_ROLE, SANDBOX_PROVIDER, SandboxUser
from tests.support.accounts import EMAIL, PASSWORD
from tests.support.cli import Cli
from tests.support.passkey import passkey_env
from tests.support.paths import FIXTURES, FORMER_SWITCHES, plant_tests_package
from tests.support.tls import TlsPair
from tests.support.tools import requires_tool

pytestmark = requires_tool("chromium")

KEYS = FIXTURES / "keys"
USER = SandboxUser(
    username=EMAIL,
    password=PASSWORD,
    roles=(RoleGrant(role_arn=READONLY_ROLE, principal_arn=SANDBOX_PROVIDER),),
)


class Sandbox:
    """The sandbox IdP on loopback, in this process; ``acs_url``: where its final page
    POSTs the SAMLResponse (AWS sign-in unless a test says otherwise)."""

    def __init__(
        self,
        acs_url: str | None = None,
        *,
        passkey: bool = False,
        tls: TlsPair | None = None,
        url_host: str | None = None,
    ) -> None:
        key = load_signing_key(KEYS / "idp-test.key", KEYS / "idp-test.crt")
        # WebAuthn wants a domain as the RP ID: a passkey sandbox is served as localhost, and
        # so is an https one (its certificate names localhost)
        self.server = LoopbackServer(
            url_host=url_host or ("localhost" if passkey or tls else None),
            tls=tls.server_context() if tls else None,
        )
        extra: dict[str, Any] = {"acs_url": acs_url} if acs_url else {}
        user = dataclasses.replace(USER, passkey=passkey)
        self.idp = SandboxIdp(
            [user], key.key_pem, key.cert_pem, self.server.url, on_secret=ISSUED.secret, **extra
        )
        self.server.set_app(self.idp)
        self.server.start()

    def config(self, name: str = "browser", *, provider: str = "Browser", extra: str = "") -> str:
        return (
            f"[{name}]\n"
            f"provider = {provider}\n"
            f"url = {self.idp.sso_url()}\n"
            f"username = {EMAIL}\n"
            f"idp_certificate = {KEYS / 'idp-test.crt'}\n"
            "headless = true\n"
            "browser_autofill = true\n"
            "timeout = 60\n"
            f"{extra}"
        )


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    served = Sandbox()
    yield served
    served.server.stop()


class Listener:
    """A stand-in for an ACS URL: records every request that reaches it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server = LoopbackServer()
        self.server.set_app(self)
        self.server.start()
        self.url = f"{self.server.url}/saml/acs"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.requests.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"reached the stand-in\n"]


def profile_of(cli: Cli, account: str) -> Path:
    return cli.home / ".local" / "state" / "samljit" / "browser" / account


def test_headless_autofill_login_end_to_end(cli: Cli, sandbox: Sandbox) -> None:
    cli.write_config(sandbox.config())
    ran = cli.run("login", "-a", "browser")
    assert ran.returncode == 0, ran.stderr
    assert "Signed in through the browser." in ran.stderr
    assert "Logged in: SandboxReadOnly in 123456789012; profile [browser]" in ran.stderr
    assert [i.username for i in sandbox.idp.issued] == [EMAIL]
    text = cli.credentials.read_text()
    assert f"assumed-role/SandboxReadOnly/{EMAIL}" in text
    # the browser profile: one per account, 0700 like the rest of samljit's state
    profile = profile_of(cli, "browser")
    for path in (profile.parent.parent, profile.parent, profile):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert any(profile.iterdir())  # chromium used it


def test_debug_never_shows_what_the_idp_handed_out(cli: Cli, sandbox: Sandbox) -> None:
    """``--debug`` on a browser login shows neither the sign-in's AuthState nor the
    SAMLResponse the page posted (the sandbox reports both to the leak check's registry; the
    leak check, cli's teardown, looks for them in every output and file under HOME)."""
    cli.write_config(sandbox.config())
    ran = cli.run("--debug", "login", "-a", "browser")
    assert ran.returncode == 0, ran.stderr
    assert "samljit: debug:" in ran.stderr
    handed_out = ISSUED.secrets
    assert [i.username for i in sandbox.idp.issued] == [EMAIL]
    assert len(handed_out) >= 2  # the sign-in's AuthState, the SAMLResponse
    assert not [value for value in handed_out if value in ran.stderr]


def test_login_browser_on_a_generic_form_account(cli: Cli, sandbox: Sandbox) -> None:
    cli.write_config(sandbox.config("corp", provider="GenericForm"))
    ran = cli.run("login", "-a", "corp", "--browser")
    assert ran.returncode == 0, ran.stderr
    assert "Signed in through the browser." in ran.stderr
    assert profile_of(cli, "corp").is_dir()
    assert "assumed-role/SandboxReadOnly" in cli.credentials.read_text()


@pytest.mark.parametrize(
    "command",
    [
        ("exec", "-a", "corp", "--browser", "--", "sh", "-c", 'printf "%s" "$AWS_ACCESS_KEY_ID"'),
        ("list-roles", "-a", "corp", "--browser"),
        ("credential-process", "-a", "corp", "--browser"),
    ],
    ids=["exec", "list-roles", "credential-process"],
)
def test_browser_on_every_command_that_may_log_in(
    cli: Cli, sandbox: Sandbox, command: tuple[str, ...]
) -> None:
    """``--browser`` on ``exec``, ``list-roles`` and ``credential-process`` signs in through
    the browser (its profile is made) on an account whose provider would post the form
    itself."""
    cli.write_config(sandbox.config("corp", provider="GenericForm"))
    sdk = command[0] == "credential-process"
    ran = cli.run(*command, record=not sdk)  # the credentials on stdout are the point
    assert ran.returncode == 0, ran.stderr
    assert profile_of(cli, "corp").is_dir()
    assert [i.username for i in sandbox.idp.issued] == [EMAIL]
    if command[0] == "exec":
        assert ran.stdout.startswith("ASIA")
    elif command[0] == "list-roles":
        assert READONLY_ROLE in ran.stdout
    else:
        data = json.loads(ran.stdout)
        assert data["Version"] == 1
        cli.secrets.update([data["SecretAccessKey"], data["SessionToken"]])


#: The timeout of the tests that end by it: the real clock runs in the samljit under test, so
#: it is generous (chromium on a loaded machine fills, posts and shows the form again well
#: within it) rather than short: how fast the machine is must not decide the outcome.
ENDS_BY_TIMEOUT = 15


def test_wrong_password_ends_at_once_with_the_idps_words(cli: Cli, sandbox: Sandbox) -> None:
    """The IdP shows its form again with its error: exit 3 with its words as soon as the page
    shows them, far within the timeout (before, the login waited the whole timeout; the CLI
    run's own 60 s limit then fails the test)."""
    cli.write_config(sandbox.config(extra="timeout = 600\n").replace("timeout = 60\n", ""))
    ran = cli.run("login", "-a", "browser", env={"SAMLJIT_PASSWORD": "not-the-password"})
    assert ran.returncode == 3, ran.stderr
    assert (
        "samljit: error: the IdP refused the sign-in: Incorrect username or password."
        in ran.stderr.splitlines()
    )
    assert "check the password of account 'browser'" in ran.stderr
    assert "no sign-in response" not in ran.stderr
    assert not sandbox.idp.issued
    assert not cli.credentials.exists()


def test_the_saml_post_never_leaves_the_machine(cli: Cli) -> None:
    """The IdP posts to ``target_url`` (a stand-in listening on loopback): the browser's
    route catches the POST and answers it itself; the stand-in gets nothing. (The response
    then fails samljit's destination check, which wants an AWS sign-in endpoint: proof that
    the caught response went on to the flow.)"""
    listener = Listener()
    served = Sandbox(acs_url=listener.url)
    try:
        cli.write_config(served.config(extra=f"target_url = {listener.url}\n"))
        ran = cli.run("list-roles", "-a", "browser")
        assert "Signed in through the browser." in ran.stderr
        assert [i.username for i in served.idp.issued] == [EMAIL]  # the IdP did post it...
        assert listener.requests == []  # ...and nothing reached the stand-in
        assert ran.returncode == 3
        assert f"the Response's Destination '{listener.url}' is not an AWS sign-in" in ran.stderr
    finally:
        served.server.stop()
        listener.server.stop()


def test_no_browser_found(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    cli.write_config(sandbox.config())
    empty = tmp_path / "bin"
    empty.mkdir()
    ran = cli.run("login", "-a", "browser", env={"PATH": str(empty)})
    assert ran.returncode == 2
    assert ran.stderr.splitlines()[0] == (
        "samljit: error: no browser found for the Browser provider (looked for chromium, "
        "chromium-browser, google-chrome, google-chrome-stable, microsoft-edge on PATH)"
    )
    assert "`apt-get install chromium`" in ran.stderr
    assert "browser_executable_path" in ran.stderr
    cli.write_config(sandbox.config(extra=f"browser_executable_path = {empty / 'nope'}\n"))
    ran = cli.run("login", "-a", "browser")
    assert ran.returncode == 2
    assert "browser_executable_path of account 'browser' is not a program" in ran.stderr


def test_headed_without_a_display(cli: Cli, sandbox: Sandbox) -> None:
    cli.write_config(sandbox.config().replace("headless = true", "headless = false"))
    env = {"DISPLAY": None, "WAYLAND_DISPLAY": None}
    ran = cli.run("login", "-a", "browser", env=env)  # type: ignore[arg-type]
    assert ran.returncode == 2
    assert ran.stderr.splitlines()[0].startswith(
        "samljit: error: the Browser provider needs a display to show its window"
    )
    assert "`headless = true` and `browser_autofill = true`" in ran.stderr


def test_playwright_not_installed(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    shim = tmp_path / "shim" / "playwright"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('no playwright here')\n")
    cli.write_config(sandbox.config())
    ran = cli.run("login", "-a", "browser", env={"PYTHONPATH": str(shim.parent)})
    assert ran.returncode == 2
    assert ran.stderr.splitlines()[0] == (
        "samljit: error: the Browser provider needs Playwright, which is not installed"
    )
    assert "pip install 'samljit[browser]'" in ran.stderr


def test_ctrl_c_closes_the_browser_and_writes_nothing(cli: Cli, sandbox: Sandbox) -> None:
    # no autofill: the browser waits at the sign-in form until Ctrl-C
    cli.write_config(
        sandbox.config().replace("browser_autofill = true", "browser_autofill = false")
    )
    process = cli.popen("login", "-a", "browser")
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("Waiting for the sign-in in the browser"):
            break
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(seen) + err
    assert err.strip() == "samljit: error: interrupted"
    assert not cli.credentials.exists()


def test_a_browser_closed_by_the_user(cli: Cli, sandbox: Sandbox) -> None:
    cli.write_config(
        sandbox.config().replace("browser_autofill = true", "browser_autofill = false")
    )
    process = cli.popen("login", "-a", "browser")
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("Waiting for the sign-in in the browser"):
            break
    profile = str(profile_of(cli, "browser"))
    for pid in _processes_using(profile):  # the browser this test started, and only it
        os.kill(pid, signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 3, err
    assert "samljit: error: the browser was closed before sign-in finished" in err
    assert not cli.credentials.exists()


def _processes_using(profile: str) -> list[int]:
    """The chromium processes whose command line names ``profile`` (their user data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"--user-data-dir={profile}".encode() in words:
            found.append(int(entry.name))
    assert found, f"no browser runs with {profile}"
    return found


SSP_ROLE = "arn:aws:iam::012345678987:role/SspReadOnly"


@pytest.fixture
def ssp(tmp_path: Path) -> Iterator[Any]:
    """The real SimpleSAMLphp with the user carol, and a Browser account ``ssp`` at it."""
    from tests.support.simplesamlphp import SimpleSamlPhp, SspUser

    user = SspUser("carol", PASSWORD, [(SSP_ROLE, "arn:aws:iam::012345678987:saml-provider/Ssp")])
    with SimpleSamlPhp(tmp_path / "ssp", [user]) as served:
        yield served


def ssp_config(ssp: Any, timeout: int) -> str:
    return (
        "[ssp]\nprovider = Browser\n"
        f"url = {ssp.sso_url}\nusername = carol\nidp_certificate = {ssp.certificate}\n"
        f"headless = true\nbrowser_autofill = true\ntimeout = {timeout}\n"
    )


@requires_tool("SimpleSAMLphp")
def test_headless_login_through_a_real_simplesamlphp(cli: Cli, ssp: Any) -> None:
    cli.write_config(ssp_config(ssp, 60))
    ran = cli.run("login", "-a", "ssp")
    assert ran.returncode == 0, f"{ran.stderr}\n--- php -S log ---\n{ssp.log[-2000:]}"
    assert "Logged in: SspReadOnly in 012345678987" in ran.stderr


@requires_tool("SimpleSAMLphp")
def test_the_second_login_of_the_day_rides_the_kept_session(cli: Cli, ssp: Any) -> None:
    """SimpleSAMLphp's session cookies have no expiry: they die with the browser, so samljit
    keeps them in the IdP-session store and sets them at the next launch. The second login
    opens and closes the browser with no password to fill (none is available) and SimpleSAMLphp
    sees no password POST."""
    cli.write_config(ssp_config(ssp, 30))
    first = cli.run("login", "-a", "ssp")
    assert first.returncode == 0, first.stderr
    seen = len(ssp.settle(1))
    posts = ssp.password_posts()
    assert posts == 1
    assert "IdP session held" in cli.run("status", "-a", "ssp").stdout
    again = cli.run("login", "-a", "ssp", "--force", env={"SAMLJIT_PASSWORD": ""})
    assert again.returncode == 0, again.stderr
    assert len(ssp.settle(seen + 1)) > seen, "the second login never reached the IdP"
    assert ssp.password_posts() == posts, "the kept session did not answer"


@pytest.fixture
def passkey_sandbox() -> Iterator[Sandbox]:
    served = Sandbox(passkey=True)
    yield served
    served.server.stop()


def test_a_passkey_registered_then_asserted_end_to_end(cli: Cli, passkey_sandbox: Sandbox) -> None:
    """Password, then the sandbox's registration page (``navigator.credentials.create()``) puts
    a passkey in Chromium's virtual authenticator, then its sign-in page
    (``navigator.credentials.get()``) asserts with it and the sandbox verifies the assertion
    before it issues the SAMLResponse."""
    idp = passkey_sandbox.idp
    assert idp.base_url.startswith("http://localhost:")
    cli.write_config(passkey_sandbox.config())
    ran = cli.run("login", "-a", "browser", env=passkey_env())
    assert ran.returncode == 0, ran.stderr
    assert "Signed in through the browser." in ran.stderr
    assert "Logged in: SandboxReadOnly in 123456789012; profile [browser]" in ran.stderr
    assert "SAMLJIT_TEST_BROWSER_HOOK" not in ran.stderr  # the seam was honoured, no warning
    assert [(i.username, i.how) for i in idp.issued] == [(EMAIL, "password and passkey")]
    assert idp.passkey_assertions == [EMAIL]
    [registered] = idp.passkeys[EMAIL]
    # the verified assertion's counter, stored (Chromium's authenticator counts the
    # registration as 1 and this assertion as 2): a key replaying an older count is refused
    assert registered.sign_count == 2
    assert f"assumed-role/SandboxReadOnly/{EMAIL}" in cli.credentials.read_text()


def test_an_authenticator_without_the_passkey_ends_by_the_timeout(
    cli: Cli, passkey_sandbox: Sandbox
) -> None:
    """The sandbox knows a passkey for the user (made here, never in the browser); the virtual
    authenticator holds none: ``get()`` finds nothing, no response comes, the login times out."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from fido2 import cbor
    from fido2.cose import ES256

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    idp = passkey_sandbox.idp
    idp.add_passkey(EMAIL, os.urandom(32), cbor.encode(ES256.from_cryptography_key(public)))
    timeout = f"timeout = {ENDS_BY_TIMEOUT}"
    cli.write_config(passkey_sandbox.config(extra=f"{timeout}\n").replace("timeout = 60\n", ""))
    ran = cli.run("login", "-a", "browser", env=passkey_env())
    assert ran.returncode == 3, ran.stderr
    lines = ran.stderr.splitlines()
    said = f"no sign-in response from the browser within {ENDS_BY_TIMEOUT} s ({timeout})"
    assert f"samljit: error: {said}" in lines
    assert not idp.issued
    [login] = idp._logins.values()  # it stopped at the passkey sign-in page:
    assert login.user is not None and login.challenge is not None and not login.creating
    assert idp.passkey_assertions == []
    assert len(idp.passkeys[EMAIL]) == 1  # no registration either
    assert not cli.credentials.exists()


def test_the_former_browser_hook_means_nothing_to_samljit(cli: Cli, sandbox: Sandbox) -> None:
    """A user's run with the test switches samljit once read set, aimed at a ``tests`` package
    in the current directory (``python -m`` puts it on ``sys.path``): nothing of it is
    imported, nothing reaches into the browser, the login goes on as without them."""
    cli.write_config(sandbox.config())
    mark = plant_tests_package(cli.home)
    ran = cli.run("login", "-a", "browser", env=FORMER_SWITCHES, python_m=True)
    assert ran.returncode == 0, ran.stderr
    assert "SAMLJIT_TEST" not in ran.stderr
    assert not mark.exists(), mark.read_text()


def test_logout_can_drop_the_browser_profile(cli: Cli, sandbox: Sandbox) -> None:
    cli.write_config(sandbox.config())
    assert cli.run("login", "-a", "browser").returncode == 0
    profile = profile_of(cli, "browser")
    assert profile.is_dir()
    kept = cli.run("logout", "-a", "browser")
    assert kept.returncode == 0 and profile.is_dir(), "a plain logout keeps the profile"
    dropped = cli.run("logout", "-a", "browser", "--browser-profile")
    assert dropped.returncode == 0, dropped.stderr
    assert "browser profile deleted" in dropped.stderr
    assert not profile.exists()
