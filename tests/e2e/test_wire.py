"""Trust nothing on the wire, through the installed samljit: no password (or code, or XSRF
token) follows a redirect to plain http on another host, nor a 307 to another host from a
provider that follows redirects itself (Entra ID); ``--debug`` shows no token, tracebacks
included; and an endless page is cut at the size cap (exit 6), not read until memory runs
out."""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from samljit.common.http import MAX_BODY_BYTES
from samljit.tools.sandbox.response import RoleGrant
from samljit.tools.sandbox.server import LoopbackServer
from tests.emulators.azuread import AzureAdEmulator, User
from tests.support import netns
from tests.support.accounts import ACCOUNT_ID, PASSWORD, PROVIDER_ARN, RO_ARN
from tests.support.cli import Cli
from tests.support.tools import requires_tool
from tests.support.wire_scene import Listener

ENTRA_APP = "8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f"
ENTRA_USER = "ops@northwind.example"


@requires_tool("netns")
@pytest.mark.parametrize("mode", ["form", "jumpcloud"])
def test_no_password_over_a_redirect_to_plain_http_on_another_host(cli: Cli, mode: str) -> None:
    # The IdP answers the password POST (form) or the JSON password call (JumpCloud) with
    # 307 to http://10.99.0.2/…, which only exists inside the test's own network namespace.
    ran = netns.run_python("tests.support.wire_scene", [mode, str(cli.home)], env=cli.env)
    assert ran.returncode == 0, ran.stderr
    scene = json.loads(ran.stdout)
    cli.outputs += [scene["stdout"], scene["stderr"]]  # the leak check covers them
    assert scene["received"] == []  # nothing at all reached the other host
    assert scene["returncode"] == 3, scene["stderr"]
    errors = [line for line in scene["stderr"].splitlines() if "error:" in line]
    assert len(errors) == 1, scene["stderr"]
    assert f"refusing to follow a redirect to http://{netns.ADDRESS}:" in errors[0]
    assert "(plain http outside loopback)" in errors[0]


@pytest.fixture
def entra(cli: Cli) -> Iterator[AzureAdEmulator]:
    """An Entra ID tenant with one password-only user, the account ``entra`` set up for it."""
    grants = {ENTRA_APP: [RoleGrant(RO_ARN, PROVIDER_ARN)]}
    with AzureAdEmulator([User(ENTRA_USER, PASSWORD, apps=grants)]) as emulator:
        cli.write_config(
            f"[entra]\nprovider = AzureAD\nurl = {emulator.url}\napp_id = {ENTRA_APP}\n"
            f"username = {ENTRA_USER}\nrole_arn = {RO_ARN}\nregion = us-east-2\n"
        )
        yield emulator


def test_entra_id_does_not_carry_the_password_over_a_307_to_another_host(
    cli: Cli, entra: AzureAdEmulator
) -> None:
    # Entra ID's provider follows redirects in its own loop; its password POST answered by
    # 307 to another (loopback) host must not be sent there again.
    listener = Listener("127.0.0.2")
    steal = f"http://127.0.0.2:{listener.port}/steal"
    entra.fail_next("/common/login", 307, headers={"Location": steal})  # the password POST
    try:
        ran = cli.run("login", "-a", "entra")
    finally:
        listener.close()
    assert listener.received == []  # nothing at all reached the other host
    assert ran.returncode == 3, ran.stderr
    errors = [line for line in ran.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"samljit: error: Entra ID password: refusing to follow a redirect to {steal} (HTTP 307 "
        "would re-send the request body to another host)"
    ]


def test_debug_shows_no_token_when_a_connection_drops_at_a_url_carrying_one(
    cli: Cli, entra: AzureAdEmulator
) -> None:
    # After the password, Entra ID's "Stay signed in?" answer sends samljit on to a URL with
    # a session token in its query, where the connection is refused. --debug shows the whole
    # exchange and the traceback: the token, Entra ID's flow tokens and canaries are masked.
    token = "20111" + secrets.token_urlsafe(24)
    cli.secrets.add(token)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    drop = f"http://127.0.0.1:{dead}/login/sessionCookieRedirect?token={token}&redirectUrl=%2F"
    entra.fail_next("/kmsi", 302, headers={"Location": drop})
    ran = cli.run("--debug", "login", "-a", "entra")
    assert ran.returncode == 6, ran.stderr
    assert "Traceback (most recent call last)" in ran.stderr
    assert "/login/sessionCookieRedirect?token=<redacted>&redirectUrl=%2F" in ran.stderr
    assert token not in ran.stderr
    assert "flowToken=<redacted>" in ran.stderr  # the password form, as logged
    tokens = entra.issued_tokens
    assert len(tokens) > 3
    assert not [t for t in tokens if t in ran.stderr]  # (the leak check looks again)


def test_a_given_code_is_masked_where_it_stands_not_inside_the_account_id(
    cli: Cli, entra: AzureAdEmulator
) -> None:
    # The code (registered as a secret as soon as it is given) is made of digits of the
    # account id; the success line names the account whole.
    assert "123456" in ACCOUNT_ID
    ran = cli.run("login", "-a", "entra", "--mfa-token", "123456")
    assert ran.returncode == 0, ran.stderr
    assert f"Logged in: AcmeJumpCloudAdminRO in {ACCOUNT_ID}; profile [entra]" in ran.stderr


@pytest.fixture
def endless() -> Iterator[tuple[str, threading.Event]]:
    """A start page that goes on and on (bounded at three caps, so that a samljit without
    a cap ends too, with a page it cannot use)."""
    stop = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        chunk = b"<p>" + b"A" * 65533

        def body() -> Iterator[bytes]:
            yield b"<html><body>"
            for _ in range(3 * MAX_BODY_BYTES // len(chunk)):
                if stop.is_set():
                    return
                yield chunk

        return body()

    server = LoopbackServer(0)
    server.set_app(app)
    with server.start():
        yield f"{server.url}/start", stop
        stop.set()


def test_an_endless_start_page_is_cut_at_the_cap(
    cli: Cli, endless: tuple[str, threading.Event]
) -> None:
    url, _ = endless
    cli.write_config(
        f"[wire]\nprovider = GenericForm\nurl = {url}\nusername = ops@acme.example\n"
        "region = us-east-2\n"
    )
    ran = cli.run("login", "-a", "wire")
    assert ran.returncode == 6, ran.stderr
    limit = MAX_BODY_BYTES // (1024 * 1024)
    assert f"IdP start page: {url} sent more than {limit} MB; samljit stopped reading" in ran.stderr
