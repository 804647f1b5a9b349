"""``samljit doctor`` through the installed CLI: each check's good and bad case, its FIX line
and the exit status (0 when all is well, 2 when something needs fixing)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.cli import Cli

GOOD_CREDENTIALS = "[production]\naws_access_key_id = ASIAEXAMPLE\n"


class IdpClock:
    """A loopback web server whose ``Date`` header is ``offset`` seconds off."""

    def __init__(self) -> None:
        self.offset = 0.0
        clock = self

        class Handler(BaseHTTPRequestHandler):
            def date_time_string(self, timestamp: float | None = None) -> str:
                import time

                return formatdate(time.time() + clock.offset, usegmt=True)

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/saml2/aws"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> IdpClock:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp() -> Iterator[IdpClock]:
    with IdpClock() as server:
        yield server


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(cli: Cli, idp: IdpClock) -> None:
    cli.write_config(
        f"[production]\nprovider = JumpCloud\nurl = {idp.url}\naws_profile = production\n"
    )
    cli.config.chmod(0o600)
    cli.credentials.parent.mkdir()
    cli.credentials.write_text(GOOD_CREDENTIALS)
    cli.credentials.chmod(0o600)


def test_all_is_well(cli: Cli, idp: IdpClock) -> None:
    healthy(cli, idp)
    ran = cli.run("doctor")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"ok    config file {cli.config}: 1 account (production)"
    host = idp.url.split("/")[2]
    assert f"ok    account production: JumpCloud at {host}, profile [production]" in lines
    assert "note  keyring: turned off (keyring.backends.null.Keyring); passwords are not " in (
        ran.stdout
    )
    assert f"ok    credentials file {cli.credentials}: mode 0600, 1 profile" in lines
    assert any(line.startswith(f"ok    clock vs {host}: within ") for line in lines)
    assert "ok    proxy: none set (direct connections)" in lines
    assert lines[-1] == "All is well."
    assert ran.stderr == ""


def test_every_problem_has_a_fix_line(cli: Cli, idp: IdpClock, tmp_path: Path) -> None:
    healthy(cli, idp)
    idp.offset = -3600  # the IdP's clock an hour behind ours
    cli.credentials.chmod(0o644)
    dead = f"http://127.0.0.1:{closed_port()}/sso"
    with cli.config.open("a") as config:
        config.write(f"[dead]\nprovider = GenericForm\nurl = {dead}\n")
        config.write("[broken]\nprovider = NoSuchIdP\nurl = https://idp.example/x\n")
    env = {
        "AWS_CA_BUNDLE": str(tmp_path / "missing.pem"),
        "HTTPS_PROXY": "proxy.example:3128",
        "HTTP_PROXY": "ftp://nope",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    ran = cli.run("doctor", env=env)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    out = ran.stdout
    host = idp.url.split("/")[2]
    expected = [
        "FIX   account broken: unknown provider 'NoSuchIdP' (known: ",
        f"FIX   credentials file {cli.credentials}: mode 0644: other users can read your AWS keys",
        f"      fix: chmod 600 {cli.credentials}",
        f"FIX   clock vs {host}: this machine's clock is 3600 s ahead of the IdP's",
        "      fix: synchronise the clock",
        f"skip  clock vs {dead.split('/')[2]}: doctor clock check: cannot reach",
        "ok    HTTPS_PROXY: proxy.example:3128",
        "FIX   HTTP_PROXY: 'ftp://nope' is not a proxy URL",
        "ok    NO_PROXY: 127.0.0.1,localhost",
        f"FIX   AWS_CA_BUNDLE: {tmp_path / 'missing.pem'} does not exist",
    ]
    for line in expected:
        assert line in out, line
    assert ran.stderr == "samljit: error: 5 things to fix (the FIX lines above)\n"


def test_config_and_credentials_that_do_not_parse(cli: Cli, tmp_path: Path) -> None:
    ran = cli.run("doctor")
    assert ran.returncode == 2
    assert f"FIX   config file {cli.config}: does not exist" in ran.stdout
    assert "      fix: run `samljit configure -a NAME`" in ran.stdout

    cli.write_config("[production\nprovider = JumpCloud\n")
    cli.credentials.parent.mkdir()
    cli.credentials.write_text("[production]\nthis is not a key value line\n")
    cli.credentials.chmod(0o600)
    ran = cli.run("doctor")
    assert ran.returncode == 2
    assert f"FIX   config file {cli.config}: config file {cli.config} is not valid INI" in (
        ran.stdout
    )
    assert f"FIX   credentials file {cli.credentials}: corrupt credentials file" in ran.stdout

    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate\n")
    ran = cli.run("doctor", env={"AWS_CA_BUNDLE": str(bundle)})
    assert f"FIX   AWS_CA_BUNDLE: {bundle} holds no PEM certificate" in ran.stdout


def test_world_writable_config_and_skip_verify(cli: Cli, idp: IdpClock) -> None:
    healthy(cli, idp)
    with cli.config.open("a") as config:
        config.write("skip_verify = true\n")
    os.chmod(cli.config, 0o666)  # noqa: S103 (the problem under test)
    ran = cli.run("doctor")
    assert ran.returncode == 2
    assert f"FIX   config file {cli.config}: mode 0666: other users can change it" in ran.stdout
    assert "FIX   account production: skip_verify = true turns TLS verification off" in ran.stdout


def test_a_plaintext_keyring_is_a_fix(cli: Cli, idp: IdpClock) -> None:
    """keyrings.alt's PlaintextKeyring (keyring's pick once that package is installed) keeps
    passwords in a plain file: doctor does not call it "ok", it says samljit stores nothing
    there and how to fix it."""
    healthy(cli, idp)
    ran = cli.run("doctor", env={"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"})
    assert ran.returncode == 2, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert (
        "FIX   keyring: keyrings.alt.file.PlaintextKeyring keeps passwords in a plain file; "
        "samljit stores no password there and asks every time"
    ) in lines
    assert any(
        line.startswith("      fix: use an OS keyring or an encrypted backend") for line in lines
    )
    assert not any(line.startswith("ok    keyring") for line in lines)


def test_a_browser_account_with_a_ca_bundle_needs_certutil(cli: Cli, tmp_path: Path) -> None:
    """On Linux the Browser provider hands the bundle to the browser through certutil."""
    from tests.support.tls import tls_pair

    bundle = tls_pair(tmp_path, "corp").ca
    cli.write_config(
        f"[web]\nprovider = Browser\nurl = http://127.0.0.1:{closed_port()}/sso\nheadless = true\n"
    )
    no_certutil = tmp_path / "bin"
    no_certutil.mkdir()
    ran = cli.run("doctor", env={"AWS_CA_BUNDLE": str(bundle), "PATH": str(no_certutil)})
    assert (
        "FIX   CA bundle in the browser (account web): certutil is not installed: the browser "
        "would not trust the bundle's CAs"
    ) in ran.stdout
    assert "      fix: apt-get install libnss3-tools (Fedora: nss-tools)" in ran.stdout
    fake = no_certutil / "certutil"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    ran = cli.run("doctor", env={"AWS_CA_BUNDLE": str(bundle), "PATH": str(no_certutil)})
    assert (
        "ok    CA bundle in the browser (account web): certutil adds the bundle's CAs to the "
        "browser's store"
    ) in ran.stdout
    ran = cli.run("doctor", env={"PATH": str(no_certutil)})  # no bundle: nothing to hand over
    assert "CA bundle in the browser" not in ran.stdout
