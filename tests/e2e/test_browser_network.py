"""The Browser provider behind a corporate proxy and CA, through the installed CLI on Debian's
chromium.

The proxy: a forward proxy on loopback that wants a password and is the only way to the IdP's
made-up host name; NO_PROXY sends the browser past it. The CA: the sandbox IdP served over
https on localhost with a certificate from a test CA that no browser trusts. With
``AWS_CA_BUNDLE`` naming that CA samljit hands it to the browser (an NSS database of its own,
made with certutil) and the login goes through; without it, with the wrong CA, or without
certutil, the refusal is one line (exit 6) naming the host and what to do, at once rather than
at the timeout. The user's own NSS database keeps counting."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from samljit.tools.sandbox.server import LoopbackServer
from tests.e2e.test_browser import Sandbox, profile_of
from tests.support.accounts import EMAIL
from tests.support.cli import Cli
from tests.support.tls import TlsPair, tls_pair
from tests.support.tools import requires_tool

pytestmark = [requires_tool("chromium"), requires_tool("certutil")]


@pytest.fixture
def corp(tmp_path: Path) -> TlsPair:
    return tls_pair(tmp_path, "corp", host="localhost")


@pytest.fixture
def https_sandbox(corp: TlsPair) -> Iterator[Sandbox]:
    served = Sandbox(tls=corp)
    assert served.idp.sso_url().startswith("https://localhost:")
    yield served
    served.server.stop()


def host_of(sandbox: Sandbox) -> str:
    return f"localhost:{sandbox.server.port}"


def nss_certificates(database: Path) -> str:
    listed = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{database}"], capture_output=True, text=True, check=True
    )
    return listed.stdout


def test_the_ca_bundle_reaches_the_browser(cli: Cli, https_sandbox: Sandbox, corp: TlsPair) -> None:
    cli.write_config(https_sandbox.config())
    ran = cli.run("login", "-a", "browser", env={"AWS_CA_BUNDLE": str(corp.ca)})
    assert ran.returncode == 0, ran.stderr
    assert "Logged in: SandboxReadOnly in 123456789012; profile [browser]" in ran.stderr
    assert [i.username for i in https_sandbox.idp.issued] == [EMAIL]
    # samljit's own NSS database, in the account's 0700 profile; the user's is left alone
    trust = profile_of(cli, "browser") / "trust"
    [home] = list(trust.iterdir())
    database = home / ".pki" / "nssdb"
    for path in (trust, home, database.parent, database):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert sorted(p.name for p in database.iterdir()) == ["cert9.db", "key4.db", "pkcs11.txt"]
    [line] = [ln for ln in nss_certificates(database).splitlines() if ln.startswith("samljit-")]
    assert line.split()[-1] == "C,,"
    assert not (cli.home / ".pki").exists()
    # the next login reuses that database; another bundle replaces it
    https_sandbox.idp.issued.clear()
    again = cli.run("login", "-a", "browser", "--force", env={"AWS_CA_BUNDLE": str(corp.ca)})
    assert again.returncode == 0, again.stderr
    assert list(trust.iterdir()) == [home]
    both = corp.ca.parent / "both.pem"
    other = tls_pair(corp.ca.parent, "other", host="localhost")
    both.write_bytes(other.ca.read_bytes() + corp.ca.read_bytes())
    third = cli.run("login", "-a", "browser", "--force", env={"REQUESTS_CA_BUNDLE": str(both)})
    assert third.returncode == 0, third.stderr
    [new_home] = list(trust.iterdir())
    assert new_home != home
    listed = nss_certificates(new_home / ".pki" / "nssdb")
    assert len([ln for ln in listed.splitlines() if ln.startswith("samljit-")]) == 2


def test_an_untrusted_certificate_is_one_line_at_once(
    cli: Cli, https_sandbox: Sandbox, corp: TlsPair
) -> None:
    cli.write_config(https_sandbox.config())
    ran = cli.run("login", "-a", "browser")
    assert ran.returncode == 6, ran.stderr
    lines = ran.stderr.splitlines()
    assert lines[0] == (
        f"samljit: error: the browser does not trust the certificate of {host_of(https_sandbox)} "
        "(net::ERR_CERT_AUTHORITY_INVALID)"
    )
    assert "set AWS_CA_BUNDLE to your CA bundle (samljit hands it to the browser)" in lines[1]
    assert "no sign-in response" not in ran.stderr  # not the timeout
    assert not https_sandbox.idp.issued
    assert not cli.credentials.exists()
    # a bundle without the CA that signed it: the hint says so
    other = tls_pair(corp.ca.parent, "other", host="localhost")
    wrong = cli.run("login", "-a", "browser", env={"AWS_CA_BUNDLE": str(other.ca)})
    assert wrong.returncode == 6, wrong.stderr
    assert wrong.stderr.splitlines()[0] == lines[0]
    assert f"AWS_CA_BUNDLE ({other.ca}) does not hold the CA that signed it" in wrong.stderr


class Hop:
    """An http page on loopback that sends the browser on to ``to``: by a 302, or by a
    script once the page has loaded."""

    def __init__(self, to: str, how: str) -> None:
        self.to, self.how = to, how
        self.server = LoopbackServer()
        self.server.set_app(self)
        self.server.start()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if self.how == "302":
            start_response("302 Found", [("Location", self.to)])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/html")])
        return [f"<script>location.href = {self.to!r};</script>".encode()]


@pytest.mark.parametrize("how", ["302", "script"])
def test_an_untrusted_host_later_in_the_sign_in(cli: Cli, https_sandbox: Sandbox, how: str) -> None:
    """The account's url is fine; it sends the browser on to a host the browser does not trust
    (an IdP handing over to another): the same line, naming that host, not the timeout."""
    hop = Hop(https_sandbox.idp.sso_url(), how)
    try:
        config = https_sandbox.config().replace(https_sandbox.idp.sso_url(), hop.server.url)
        cli.write_config(config)
        ran = cli.run("login", "-a", "browser")
    finally:
        hop.server.stop()
    assert ran.returncode == 6, ran.stderr
    assert (
        f"samljit: error: the browser does not trust the certificate of {host_of(https_sandbox)} "
        "(net::ERR_CERT_AUTHORITY_INVALID)"
    ) in ran.stderr.splitlines()
    assert "no sign-in response" not in ran.stderr  # not the timeout


def test_the_users_own_nss_database_still_counts(
    cli: Cli, https_sandbox: Sandbox, corp: TlsPair
) -> None:
    """The corporate CA is in the user's ``~/.pki/nssdb``; ``AWS_CA_BUNDLE`` names another CA
    (for some other proxy): samljit's database starts from a copy of the user's."""
    user_db = cli.home / ".pki" / "nssdb"
    user_db.mkdir(parents=True)
    certutil = ["certutil", "-d", f"sql:{user_db}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True)
    subprocess.run([*certutil, "-A", "-n", "corp", "-t", "C,,", "-i", str(corp.ca)], check=True)
    before = {p.name: p.read_bytes() for p in user_db.iterdir()}
    other = tls_pair(corp.ca.parent, "other", host="localhost")
    cli.write_config(https_sandbox.config())
    ran = cli.run("login", "-a", "browser", env={"AWS_CA_BUNDLE": str(other.ca)})
    assert ran.returncode == 0, ran.stderr
    assert {p.name: p.read_bytes() for p in user_db.iterdir()} == before  # untouched


def test_without_certutil_a_warning_then_the_refusal(
    cli: Cli, https_sandbox: Sandbox, corp: TlsPair, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"  # every program on PATH but certutil
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = bin_dir / entry.name
            if entry.name != "certutil" and not target.exists():
                target.symlink_to(entry.path)
    assert shutil.which("certutil", path=str(bin_dir)) is None
    cli.write_config(https_sandbox.config())
    ran = cli.run(
        "login", "-a", "browser", env={"PATH": str(bin_dir), "AWS_CA_BUNDLE": str(corp.ca)}
    )
    assert ran.returncode == 6, ran.stderr
    lines = ran.stderr.splitlines()
    assert lines[0] == (
        "samljit: warning: the browser does not trust the CAs of AWS_CA_BUNDLE: certutil is not "
        "installed (install it (`apt-get install libnss3-tools`; Fedora: nss-tools) and run again)"
    )
    assert "samljit: error: the browser does not trust the certificate of" in ran.stderr
    assert "apt-get install libnss3-tools" in lines[-1]
    assert not (profile_of(cli, "browser") / "trust").exists()


def test_an_unreadable_bundle_is_a_configuration_error(
    cli: Cli, https_sandbox: Sandbox, tmp_path: Path
) -> None:
    cli.write_config(https_sandbox.config())
    missing = tmp_path / "nope.pem"
    ran = cli.run("login", "-a", "browser", env={"AWS_CA_BUNDLE": str(missing)})
    assert ran.returncode == 2, ran.stderr
    assert ran.stderr.splitlines()[0].startswith(
        f"samljit: error: AWS_CA_BUNDLE names {missing}, which cannot be read"
    )


def test_skip_verify_lets_the_browser_past_the_certificate(
    cli: Cli, https_sandbox: Sandbox
) -> None:
    cli.write_config(https_sandbox.config(extra="skip_verify = true\n"))
    ran = cli.run("login", "-a", "browser")
    assert ran.returncode == 0, ran.stderr
    assert [i.username for i in https_sandbox.idp.issued] == [EMAIL]


# -- the proxy -----------------------------------------------------------------------------
PROXY_USER, PROXY_PASSWORD = "proxy-user", "proxy-Secret-77"
IDP_HOST = "idp.samljit.test"  # resolves nowhere: only the proxy knows where it is


class ForwardProxy:
    """An https forward proxy (CONNECT) on loopback with Basic proxy authentication: it
    tunnels ``IDP_HOST`` to ``port`` on 127.0.0.1, refuses every other host, and records the
    hosts asked for. With ``others``, every other host is tunnelled to that port instead."""

    def __init__(self, port: int, others: int | None = None) -> None:
        self.hosts: list[str] = []
        self.refused = 0
        proxy = self
        expected = "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_CONNECT(self) -> None:
                if self.headers.get("Proxy-Authorization") != expected:
                    proxy.refused += 1
                    self.send_response(407)
                    self.send_header("Proxy-Authenticate", 'Basic realm="corp"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                host = self.path.rsplit(":", 1)[0]
                proxy.hosts.append(host)
                if host != IDP_HOST and others is None:
                    self.send_error(502)
                    return
                to = port if host == IDP_HOST else others
                upstream = socket.create_connection(("127.0.0.1", to), timeout=30)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                pipe = threading.Thread(target=_pump, args=(upstream, self.connection))
                pipe.start()
                _pump(self.connection, upstream)
                pipe.join()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_the_browser_goes_through_the_proxy_with_its_password(cli: Cli, tmp_path: Path) -> None:
    """The usual corporate set-up: a proxy with a password and a CA of the company's."""
    corp = tls_pair(tmp_path, "corp", host=IDP_HOST)
    served = Sandbox(tls=corp, url_host=IDP_HOST)
    proxy = ForwardProxy(served.server.port)
    try:
        assert served.idp.sso_url().startswith(f"https://{IDP_HOST}:")
        cli.write_config(served.config())
        cli.secrets.add(PROXY_PASSWORD)
        env = {
            "HTTPS_PROXY": proxy.url.replace("//", f"//{PROXY_USER}:{PROXY_PASSWORD}@"),
            "AWS_CA_BUNDLE": str(corp.ca),
        }
        ran = cli.run("login", "-a", "browser", "--debug", env=env)
        assert ran.returncode == 0, ran.stderr
        assert [i.username for i in served.idp.issued] == [EMAIL]
        assert proxy.refused >= 1  # Chromium was asked for the proxy's password and gave it
        # the POST to AWS sign-in went nowhere, not even a preconnect; nor did the password
        # (no leak check, no autofill query). Chromium's own sign-in status check
        # (accounts.google.com/ListAccounts, nothing of the sign-in in it) may come by.
        assert IDP_HOST in proxy.hosts
        assert set(proxy.hosts) - {IDP_HOST} <= {"accounts.google.com"}, proxy.hosts
        assert PROXY_PASSWORD not in ran.stderr + ran.stdout
        # NO_PROXY names the host: the browser goes direct, and finds no such host
        env["NO_PROXY"] = f"localhost,{IDP_HOST}"
        blocked = cli.run("login", "-a", "browser", "--force", env=env)
        assert blocked.returncode == 6, blocked.stderr
        assert f"samljit: error: the browser could not open https://{IDP_HOST}:" in blocked.stderr
        assert "net::ERR_NAME_NOT_RESOLVED" in blocked.stderr
    finally:
        proxy.stop()
        served.server.stop()


# -- the catch ------------------------------------------------------------------------------
class Relay:
    """The IdP's own ACS stand-in on loopback: it answers the SAMLResponse POST with a
    redirect (``status``, 307 or 308 keep the POST and its body) to ``to``."""

    def __init__(self, to: str, status: str) -> None:
        self.to, self.status = to, status
        self.server = LoopbackServer()
        self.server.set_app(self)
        self.server.start()
        self.url = f"{self.server.url}/saml/relay"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(self.status, [("Location", self.to), ("Content-Length", "0")])
        return [b""]


ACS_HOST = "sso.samljit.test"


@pytest.mark.parametrize(
    ("posted_to", "redirect", "target_url"),
    [
        ("relay", ("307 Temporary Redirect", "https://signin.aws.amazon.com/saml"), None),
        (
            "relay",
            ("308 Permanent Redirect", "https://us-east-1.signin.aws.amazon.com./saml"),
            None,
        ),
        ("https://signin.aws.amazon.com./saml", None, None),
        ("https://signin.aws.amazon.com/SAML", None, None),
        (f"https://{ACS_HOST}/saml/acs", None, f"https://{ACS_HOST}:443/saml/acs"),
        (f"https://{ACS_HOST}/saml/acs", None, f"https://{ACS_HOST}/saml/acs/"),
    ],
    ids=[
        "307",
        "308-regional-trailing-dot",
        "trailing-dot",
        "path-case",
        "target-443",
        "target-slash",
    ],
)
def test_the_saml_post_never_reaches_the_network(
    cli: Cli,
    tmp_path: Path,
    posted_to: str,
    redirect: tuple[str, str] | None,
    target_url: str | None,
) -> None:
    """The sandbox posts the SAMLResponse (to AWS sign-in as written oddly, to target_url, or to
    a relay that redirects it to AWS sign-in): the browser keeps it. The network is a proxy
    (the browser's only way out) that takes every host to one https server recording what it
    receives (the browser accepts its certificate: skip_verify); it receives nothing for those
    hosts and no SAMLResponse. The caught response goes on to the flow, whose destination check
    then wants a plain AWS sign-in URL: exit 3, proof it was caught rather than lost."""
    relay = Relay(redirect[1], redirect[0]) if redirect else None
    served = Sandbox(acs_url=relay.url if relay else posted_to)
    network = Recorder(tls_pair(tmp_path, "net", host="localhost"))
    proxy = ForwardProxy(served.server.port, others=network.server.port)
    try:
        extra = f"target_url = {target_url}\nskip_verify = true\n" if target_url else ""
        extra = extra or "skip_verify = true\n"
        cli.write_config(served.config(extra=extra).replace("timeout = 60", "timeout = 20"))
        env = {
            "HTTPS_PROXY": proxy.url.replace("//", f"//{PROXY_USER}:{PROXY_PASSWORD}@"),
            "NO_PROXY": "127.0.0.1",  # the sandbox and the relay; everything else: the proxy
        }
        cli.secrets.add(PROXY_PASSWORD)
        ran = cli.run("list-roles", "-a", "browser", env=env)
        ours = [r for r in network.requests if "SAMLResponse" in r or "google" not in r]
        assert ours == []  # only Chromium's own checks with Google, if anything
        assert [i.username for i in served.idp.issued] == [EMAIL]  # the IdP did post it...
        assert "Signed in through the browser." in ran.stderr, ran.stderr  # ...samljit has it
        assert ran.returncode == 3, ran.stderr
        assert "is not an AWS sign-in" in ran.stderr
    finally:
        proxy.stop()
        network.server.stop()
        served.server.stop()
        if relay is not None:
            relay.server.stop()


class Recorder:
    """An https server on loopback that records every request it receives (Host, method, path
    and body, one string each) and answers 404."""

    def __init__(self, tls: TlsPair) -> None:
        self.requests: list[str] = []
        self.server = LoopbackServer(url_host="localhost", tls=tls.server_context())
        self.server.set_app(self)
        self.server.start()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size).decode("utf-8", "replace") if size else ""
        self.requests.append(
            f"{environ.get('HTTP_HOST')} {environ['REQUEST_METHOD']} {environ['PATH_INFO']} {body}"
        )
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"recorded\n"]
