"""Trust nothing on the wire, through the installed samljit: no password (or code, or XSRF
token) follows a redirect to plain http on another host, and an endless page is cut at the
size cap (exit 6), not read until memory runs out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from samljit.idp.http import MAX_BODY_BYTES
from samljit.tools.sandbox.server import LoopbackServer
from tests.support import netns
from tests.support.cli import Cli
from tests.support.tools import requires_tool


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
