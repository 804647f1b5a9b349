"""Where ``browser_autofill`` types the username and password, through the installed CLI on
Debian's chromium: only into an https (or loopback http) page on the account's url host, a
sign-in host the IdP's provider declares, or a host of ``browser_autofill_hosts``. The login
form of any other page is left alone: headless, the login ends (exit 3) naming its host, and
that host receives nothing. A password typed at the prompt goes to the keyring as every
other provider's does.

Loopback names stand for two hosts (``127.0.0.1`` and ``localhost`` are different hosts to
the browser); a made-up name is served to the browser by the test seam
(:mod:`tests.support.browser_hosts`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pexpect
import pytest

from samljit.tools.sandbox.server import LoopbackServer
from tests.e2e.test_browser import Sandbox
from tests.e2e.test_browser_network import Hop
from tests.e2e.test_terminal import finish, spawn
from tests.support.accounts import EMAIL, PASSWORD
from tests.support.browser_hosts import hosts_env
from tests.support.cli import Cli, error_line
from tests.support.keyring_backend import vault_env
from tests.support.tls import tls_pair
from tests.support.tools import requires_tool

pytestmark = requires_tool("chromium")

LOGIN_PAGE = b"""<!DOCTYPE html><html><head><title>Sign in</title></head><body>
<form method="post" action="/login">
<input type="text" name="username"> <input type="password" name="password">
<button type="submit">Sign in</button>
</form></body></html>"""


class LookAlike:
    """A login page on another host: ``/start`` sends the browser to ``to`` (a 302, or a
    script when ``by_script``), any other GET shows a login form; every request is recorded,
    bodies too."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []
        self.to = ""
        self.by_script = False
        self.server = LoopbackServer()
        self.server.set_app(self)
        self.server.start()
        self.port = self.server.port

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size).decode("utf-8", "replace") if size else ""
        self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], body))
        if environ["PATH_INFO"] == "/start" and self.by_script:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [f"<script>location.href = {self.to!r};</script>".encode()]
        if environ["PATH_INFO"] == "/start":
            start_response("302 Found", [("Location", self.to)])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [LOGIN_PAGE]

    def received(self) -> str:
        return json.dumps(self.requests)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The sandbox IdP on 127.0.0.1 (its url's host)."""
    served = Sandbox()
    yield served
    served.server.stop()


@pytest.fixture
def look_alike() -> Any:
    served = LookAlike()
    yield served
    served.server.stop()


def browser_config(url: str, extra: str = "") -> str:
    return (
        "[browser]\nprovider = Browser\n"
        f"url = {url}\nusername = {EMAIL}\n"
        "headless = true\nbrowser_autofill = true\ntimeout = 20\n"
        f"{extra}"
    )


def test_a_login_form_on_another_host_is_not_filled(cli: Cli, look_alike: LookAlike) -> None:
    """The account's url (on 127.0.0.1) redirects to a login form on localhost: headless,
    samljit stops there naming the host, and the look-alike receives no POST, no password and
    no username."""
    look_alike.to = f"http://localhost:{look_alike.port}/login"
    cli.write_config(browser_config(f"http://127.0.0.1:{look_alike.port}/start"))
    ran = cli.run("login", "-a", "browser")
    assert PASSWORD not in look_alike.received()
    assert EMAIL not in look_alike.received()
    assert [r[:2] for r in look_alike.requests] == [("GET", "/start"), ("GET", "/login")]
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == (
        f"samljit: error: browser_autofill does not fill the sign-in form on "
        f"localhost:{look_alike.port}: not https on the account's url host nor a host of "
        "browser_autofill_hosts"
    )
    assert "add it to browser_autofill_hosts" in ran.stderr
    assert not cli.credentials.exists()


def test_http_on_a_host_that_is_not_loopback_is_never_filled(
    cli: Cli, look_alike: LookAlike
) -> None:
    """A login form on plain http at a host that is not loopback: not filled, even when
    browser_autofill_hosts names that host."""
    look_alike.to = "http://idp.samljit.test/login"
    look_alike.by_script = True  # a new navigation: the test seam's route serves it
    cli.write_config(
        browser_config(
            f"http://127.0.0.1:{look_alike.port}/start",
            "browser_autofill_hosts = idp.samljit.test, idp.samljit.test:80\n",
        )
    )
    env = hosts_env({"idp.samljit.test": f"127.0.0.1:{look_alike.port}"})
    ran = cli.run("login", "-a", "browser", env=env)
    assert PASSWORD not in look_alike.received()
    assert [r[:2] for r in look_alike.requests] == [("GET", "/start"), ("GET", "/login")]
    assert ran.returncode == 3, ran.stderr
    assert error_line(ran) == (
        "samljit: error: browser_autofill does not fill the sign-in form on "
        "http://idp.samljit.test: not https on the account's url host nor a host of "
        "browser_autofill_hosts"
    )


def test_a_host_of_browser_autofill_hosts_is_filled(cli: Cli, sandbox: Sandbox) -> None:
    """The url is a hop on localhost that sends the browser to the IdP on 127.0.0.1: filled
    once browser_autofill_hosts names that host and port, not before."""
    hop = Hop(sandbox.idp.sso_url(), "302")
    try:
        url = hop.server.url.replace("127.0.0.1", "localhost")
        idp = f"127.0.0.1:{sandbox.server.port}"
        cli.write_config(browser_config(url))
        refused = cli.run("login", "-a", "browser")
        assert refused.returncode == 3, refused.stderr
        assert f"does not fill the sign-in form on {idp}:" in refused.stderr
        assert not sandbox.idp.issued
        cli.write_config(browser_config(url, f"browser_autofill_hosts = other.example, {idp}\n"))
        ran = cli.run("login", "-a", "browser")
        assert ran.returncode == 0, ran.stderr
        assert "Logged in: SandboxReadOnly in 123456789012; profile [browser]" in ran.stderr
        assert [i.username for i in sandbox.idp.issued] == [EMAIL]
    finally:
        hop.server.stop()


ENTRA = "login.microsoftonline.com"


@pytest.mark.parametrize("provider", ["AzureAD", "Browser"])
def test_entra_sign_in_host_for_an_azuread_account(cli: Cli, tmp_path: Any, provider: str) -> None:
    """``login --browser`` on an AzureAD account: the url (a hop on loopback) sends the browser
    on to Entra's sign-in host (the sandbox, served there by the test seam over https), which
    the AzureAD provider declares: filled. The same url in a Browser account: not filled."""
    served = Sandbox(tls=tls_pair(tmp_path, "corp", host="localhost"))
    local = f"localhost:{served.server.port}"
    served.idp.base_url = f"https://{ENTRA}"  # its pages and forms name Entra's host
    hop = Hop(served.idp.sso_url(), "script")
    try:
        cli.write_config(
            f"[entra]\nprovider = {provider}\napp_id = 8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f\n"
            + browser_config(hop.server.url, "skip_verify = true\n").split("\n", 2)[2]
        )
        ran = cli.run("login", "-a", "entra", "--browser", env=hosts_env({ENTRA: local}))
        if provider == "AzureAD":
            assert ran.returncode == 0, ran.stderr
            assert [i.username for i in served.idp.issued] == [EMAIL]
        else:
            assert ran.returncode == 3, ran.stderr
            assert f"does not fill the sign-in form on {ENTRA}:" in ran.stderr
            assert not served.idp.issued
    finally:
        hop.server.stop()
        served.server.stop()


def test_browser_autofill_hosts_must_be_host_names(cli: Cli, sandbox: Sandbox) -> None:
    cli.write_config(sandbox.config(extra="browser_autofill_hosts = https://idp.example/x\n"))
    ran = cli.run("login", "-a", "browser")
    assert ran.returncode == 2, ran.stderr
    assert ran.stderr.splitlines()[0] == (
        "samljit: error: browser_autofill_hosts of account 'browser': 'https://idp.example/x' "
        "is not a host name (host or host:port, comma-separated)"
    )


def test_a_password_typed_at_the_prompt_goes_to_the_keyring(cli: Cli, sandbox: Sandbox) -> None:
    """The same path as every provider's prompt: asked when the IdP shows its password form,
    kept in the keyring after the login, read from there the next time."""
    cli.write_config(sandbox.config())
    env = vault_env(cli.home)
    child = spawn(cli, "login", "-a", "browser", **env)
    try:
        child.expect(f"Password for {EMAIL}:")
    except pexpect.EOF:
        raise AssertionError(child.logfile_read.getvalue()) from None  # type: ignore[union-attr]
    child.sendline(PASSWORD)
    transcript = finish(child)
    assert child.exitstatus == 0, transcript
    assert "Password saved in the OS keyring." in transcript
    assert PASSWORD not in transcript
    vault = json.loads((cli.home.parent / "os-keyring.json").read_text())
    assert list(vault.values()) == [PASSWORD]
    again = cli.run("login", "-a", "browser", "--force", env={**env, "SAMLJIT_PASSWORD": None})  # type: ignore[dict-item]
    assert again.returncode == 0, again.stderr
    assert [i.username for i in sandbox.idp.issued] == [EMAIL, EMAIL]
