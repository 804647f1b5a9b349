"""The HTTP client against small loopback servers: redirects (no body to another host, no
secret header to another host), the per-request deadline and the per-login budget on the
injected clock, the size cap, redaction before the ``--debug`` cut, and the CA bundle order.

The refusal of plain http to another host is in tests/e2e/test_wire.py (it needs a private
network namespace); the endless page through the CLI too."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from samljit.common.errors import AuthenticationError, NetworkError
from samljit.common.http import HttpClient
from samljit.common.redact import MASK, redact_body
from samljit.config.accounts import Account
from samljit.testing.fakes import FakeClock, fake_services
from samljit.tools.sandbox.server import LoopbackServer
from tests.support.tls import tls_pair

App = Callable[[dict[str, Any], Any], Iterable[bytes]]
PASSWORD = "pw-Secret-4242"
XSRF = "xsrf-token-0123456789"


class Recorder:
    """A WSGI app from a routing table of path → (status, headers, body); records what came."""

    def __init__(self, routes: dict[str, tuple[str, list[tuple[str, str]], Any]]) -> None:
        self.routes = routes
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k[:5] == "HTTP_"
        }
        with self._lock:
            self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], headers, body))
        status, extra, answer = self.routes[environ["PATH_INFO"]]
        start_response(status, extra)
        return answer() if callable(answer) else [answer]

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _, path, _, _ in self.seen]


@pytest.fixture
def serve() -> Iterator[Callable[[App], LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(app: App) -> LoopbackServer:
        server = LoopbackServer(0)
        server.set_app(app)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def client(**kwargs: Any) -> HttpClient:
    return HttpClient(retries=0, backoff=0, env=kwargs.pop("env", {}), **kwargs)


# -- 1. redirects ------------------------------------------------------------------------
def test_a_307_does_not_carry_the_password_to_another_host(serve: Any) -> None:
    app = Recorder({})
    server = serve(app)
    other = f"http://localhost:{server.port}/elsewhere"  # loopback, but another host
    app.routes["/login"] = ("307 Temporary Redirect", [("Location", other)], b"")
    app.routes["/elsewhere"] = ("200 OK", [], b"got it")
    with pytest.raises(AuthenticationError) as caught:
        client().post(f"{server.url}/login", step="IdP sign-in", data={"password": PASSWORD})
    assert str(caught.value) == (
        f"IdP sign-in: refusing to follow a redirect to {other} (HTTP 307 would re-send the "
        "request body to another host)"
    )
    assert app.paths() == ["/login"]


def test_a_redirect_to_another_host_drops_secret_headers(serve: Any) -> None:
    app = Recorder({})
    server = serve(app)
    app.routes["/auth"] = ("302 Found", [("Location", f"http://localhost:{server.port}/b")], b"")
    app.routes["/b"] = ("200 OK", [("Content-Type", "application/json")], b"{}")
    headers = {"X-Xsrftoken": XSRF, "Accept": "application/json"}
    answer = client().get(f"{server.url}/auth", step="JumpCloud", headers=headers)
    assert answer.status_code == 200 and answer.url == f"http://localhost:{server.port}/b"
    assert [h.get("x-xsrftoken") for _, _, h, _ in app.seen] == [XSRF, None]
    assert app.seen[1][2]["accept"] == "application/json"
    assert [hop.status_code for hop in answer.history] == [302]


def test_a_307_to_another_port_of_the_host_keeps_the_body(serve: Any) -> None:
    app, other = Recorder({}), Recorder({"/elsewhere": ("200 OK", [], b"got it")})
    server, elsewhere = serve(app), serve(other)
    target = f"{elsewhere.url}/elsewhere"  # 127.0.0.1 too: the same host, another origin
    app.routes["/login"] = ("307 Temporary Redirect", [("Location", target)], b"")
    with pytest.raises(AuthenticationError) as caught:
        client().post(f"{server.url}/login", step="IdP sign-in", data={"password": PASSWORD})
    assert str(caught.value) == (
        f"IdP sign-in: refusing to follow a redirect to {target} (HTTP 307 would re-send the "
        "request body to another port or scheme of the host)"
    )
    assert other.seen == []


@pytest.mark.parametrize("status", [307, 308])
def test_a_providers_own_redirect_loop_passes_the_same_check(serve: Any, status: int) -> None:
    # A provider that follows redirects itself (allow_redirects=False, then a request to the
    # Location with the body again, as Entra ID's loop did) is held to the same rule.
    app, other = Recorder({}), Recorder({"/steal": ("200 OK", [], b"thanks")})
    server, elsewhere = serve(app), serve(other)
    target = f"http://localhost:{elsewhere.port}/steal"
    app.routes["/login"] = (f"{status} Redirect", [("Location", target)], b"")
    http = client()
    answer = http.post(
        f"{server.url}/login",
        step="Entra ID password",
        data=f"passwd={PASSWORD}",
        allow_redirects=False,
    )
    assert answer.status_code == status
    with pytest.raises(AuthenticationError, match=f"redirect to {target} .HTTP {status} would"):
        http.post(target, step="Entra ID redirect", data=f"passwd={PASSWORD}")
    with pytest.raises(AuthenticationError, match="re-send the request body to another host"):
        http.hop(f"{server.url}/login", answer, "POST", f"passwd={PASSWORD}", step="Entra ID")
    assert other.seen == []
    # without a body the hop is an ordinary redirect; 303 turns a POST into a GET
    assert http.hop(f"{server.url}/login", answer, "GET", None, step="x") == ("GET", target, None)
    app.routes["/see"] = ("303 See Other", [("Location", "/next")], b"")
    seen = http.post(f"{server.url}/see", step="x", data="a=1", allow_redirects=False)
    assert http.hop(f"{server.url}/see", seen, "POST", "a=1", step="x") == (
        "GET",
        f"{server.url}/next",
        None,
    )


def test_a_location_that_does_not_parse_is_refused_not_a_crash(serve: Any) -> None:
    app = Recorder({"/go": ("302 Found", [("Location", "http://[::1/x")], b"")})
    server = serve(app)
    http = client()
    with pytest.raises(AuthenticationError, match=r"redirect to http://\[::1/x \(not a web URL\)"):
        http.get(f"{server.url}/go", step="IdP")
    answer = http.get(f"{server.url}/go", step="IdP", allow_redirects=False)
    with pytest.raises(AuthenticationError, match="not a web URL"):
        http.hop(f"{server.url}/go", answer, "GET", None, step="IdP")


# -- 3. size and time --------------------------------------------------------------------
class TickingApp:
    """Sends ``size`` bytes one at a time; each byte takes ``per_byte`` seconds on the fake
    clock (the clock moves as the bytes go out: nothing really waits)."""

    def __init__(self, clock: FakeClock, size: int, per_byte: float) -> None:
        self.clock, self.size, self.per_byte = clock, size, per_byte

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])

        def body() -> Iterator[bytes]:
            for _ in range(self.size):
                self.clock.advance(self.per_byte)
                yield b"x"

        return body()


def test_a_slow_drip_is_cut_at_the_request_deadline(serve: Any, tmp_path: Path) -> None:
    # One byte every 5 s: the read timeout never fires, but the request's deadline does.
    services, clock, _ = fake_services({"HOME": str(tmp_path)})
    server = serve(TickingApp(clock, size=2000, per_byte=5.0))
    http = services.http_for(Account(name="wire", provider="GenericForm", url=server.url))
    with pytest.raises(NetworkError) as caught:
        http.get(f"{server.url}/start", step="IdP start page")
    assert str(caught.value) == (
        f"IdP start page: {server.url}/start did not finish its answer in time (samljit "
        "allows 60 s a request, 300 s a login)"
    )


def test_a_login_has_a_network_time_budget(serve: Any) -> None:
    clock = FakeClock()
    server = serve(TickingApp(clock, size=1, per_byte=50.0))  # each answer: 50 s
    http = client(monotonic=clock.monotonic)
    for _ in range(6):
        assert http.get(f"{server.url}/page", step="IdP page").content == b"x"
    with pytest.raises(NetworkError, match="this login already spent 300 s on the network"):
        http.get(f"{server.url}/page", step="IdP page")


def test_an_answer_over_the_cap_is_cut(serve: Any) -> None:
    app = Recorder({"/big": ("200 OK", [], lambda: (b"A" * 65536 for _ in range(40)))})
    server = serve(app)
    with pytest.raises(NetworkError, match=r"/big sent more than 1 MB; samljit stopped reading"):
        client(max_bytes=1024 * 1024).get(f"{server.url}/big", step="IdP start page")


# -- 4. redaction before the cut ---------------------------------------------------------
def test_debug_log_of_a_long_session_token_shows_none_of_it(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = "T0k" + "abcdefghij" * 800  # 8 KB: the 4096-character cut falls inside it
    body = f"<Response><Credentials><SessionToken>{token}</SessionToken></Credentials></Response>"
    assert body.index(token) < 4096 < body.index(token) + len(token)
    server = serve(Recorder({"/sts": ("200 OK", [("Content-Type", "text/xml")], body.encode())}))
    with caplog.at_level(logging.DEBUG, logger="samljit.common.http"):
        client().get(f"{server.url}/sts", step="STS")
    assert "abcdefghij" not in caplog.text
    assert f"<SessionToken>{MASK}</SessionToken>" in caplog.text


@pytest.mark.parametrize("tail", ["", "</Sess", "<Other>more</Other>"])
def test_an_unterminated_secret_element_is_masked_to_the_end(tail: str) -> None:
    shown = redact_body(f"<R><a>keep</a><SessionToken>abcdefghij{tail}", "text/xml")
    assert shown == f"<R><a>keep</a><SessionToken>{MASK}"


# -- 6. CA bundles -----------------------------------------------------------------------
@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """An https server on 127.0.0.1: (its URL, the CA that signed it, an unrelated CA)."""
    pair = tls_pair(tmp_path, "idp")
    other = tls_pair(tmp_path, "other").ca
    server = LoopbackServer(0, tls=pair.server_context())
    server.set_app(Recorder({"/": ("200 OK", [], b"hello")}))
    with server.start():
        yield f"{server.url}/", pair.ca, other


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_ca_bundles_combine_as_documented(
    tls_server: tuple[str, Path, Path], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, other = tls_server
    monkeypatch.setenv(variable, str(other))  # requests itself reads os.environ
    env = {"AWS_CA_BUNDLE": str(ca), variable: str(other)}
    # AWS_CA_BUNDLE first …
    assert client(env=env).get(url, step="IdP").content == b"hello"
    # … then REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE …
    with pytest.raises(NetworkError, match="TLS verification failed"):
        client(env={variable: str(other)}).get(url, step="IdP")
    assert client(env={variable: str(ca)}).get(url, step="IdP").content == b"hello"
    # … and skip_verify turns verification off, whatever the environment says.
    assert client(env=env, verify=False).get(url, step="IdP").content == b"hello"


def test_the_page_cap_holds_the_largest_saml_response_samljit_accepts() -> None:
    from samljit.common.http import MAX_BODY_BYTES
    from samljit.saml.assertion import MAX_ENCODED_CHARS

    assert MAX_BODY_BYTES > MAX_ENCODED_CHARS + 256 * 1024  # the page around it too


def test_a_ca_bundle_under_home_may_be_named_with_a_tilde(
    tls_server: tuple[str, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, _ = tls_server
    monkeypatch.setenv("HOME", str(ca.parent))
    shown = f"~/{ca.name}"
    assert client(env={"AWS_CA_BUNDLE": shown}).get(url, step="IdP").content == b"hello"
