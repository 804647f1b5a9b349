"""``samljit sandbox serve`` through the installed CLI: the real login path (GenericForm and
SimpleSAMLphp providers) against it, with moto's STS; wrong password and code; metadata;
``--users``, ``--key``/``--cert``; stopping cleanly."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from lxml import etree

from samljit.tools.sandbox import totp
from samljit.tools.sandbox.users import READONLY_ROLE, SANDBOX_PROVIDER
from tests.support.cli import Cli
from tests.support.paths import FIXTURES, SAMLJIT

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # not the JumpCloud tests' secret
ADMIN = "arn:aws:iam::210987654321:role/Ops"
ADMIN_PROVIDER = "arn:aws:iam::210987654321:saml-provider/sandbox"


@dataclass
class Served:
    process: subprocess.Popen[str]
    banner: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        match = re.match(r"samljit sandbox IdP on (http://127\.0\.0\.1:\d+)/$", self.banner[0])
        assert match, self.banner
        return match.group(1)

    @property
    def sso_url(self) -> str:
        return f"{self.base}/sso?spentityid=urn:amazon:webservices"

    def user_line(self) -> str:
        return next(line for line in self.banner if line.startswith("  user "))

    def stop(self) -> str:
        """SIGTERM, as a service manager would; returns stderr."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, err
        return err


def serve(cli: Cli, *args: str) -> Served:
    process = cli.popen("sandbox", "serve", "--port", "0", "--sts-port", "0", *args)
    served = Served(process)
    assert process.stdout is not None
    for line in process.stdout:  # the banner ends with this line; then it serves
        served.banner.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C stops it."):
            break
    assert served.banner and served.banner[-1] == "Ctrl-C stops it.", served.banner
    return served


def serving(cli: Cli, users: Path) -> Iterator[Served]:
    """``sandbox serve`` of ``users`` signing with the test key pair, for a fixture to yield;
    stopped at the end unless the test stopped it."""
    keys = FIXTURES / "keys"
    served = serve(
        cli, "--users", str(users), "--key", str(keys / "idp-test.key"), "--cert",
        str(keys / "idp-test.crt"),
    )  # fmt: skip
    yield served
    if served.process.poll() is None:
        served.stop()


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "username": "ana@example.org",
                        "password": "ana-Password-1",
                        "totp_secret": SECRET,
                        "roles": [
                            f"{READONLY_ROLE},{SANDBOX_PROVIDER}",
                            f"{ADMIN_PROVIDER},{ADMIN}",
                        ],
                    },
                    {
                        "username": "bo",
                        "password": "bo-Password-2",
                        "session_duration": 7200,
                        "roles": [f"{READONLY_ROLE},{SANDBOX_PROVIDER}"],
                    },
                ]
            }
        )
    )
    return path


@pytest.fixture
def sandbox(cli: Cli, users_file: Path) -> Iterator[Served]:
    yield from serving(cli, users_file)


def configure(
    cli: Cli,
    served: Served,
    provider: str,
    username: str,
    mfa: str,
    certificate: str = str(FIXTURES / "keys" / "idp-test.crt"),
) -> None:
    """Account ``sandbox`` of ``username`` at ``served``, pinned to the IdP's ``certificate``."""
    cli.configure(
        "sandbox", "--provider", provider, "--url", served.sso_url, "--username", username,
        "--mfa", mfa, "--idp-certificate", certificate,
    )  # fmt: skip


@pytest.mark.parametrize("provider", ["GenericForm", "SimpleSAMLphp"])
def test_form_providers_log_in_with_password_and_totp(
    cli: Cli, sandbox: Served, provider: str
) -> None:
    assert "  user ana@example.org: password from the users file, TOTP secret" in "\n".join(
        sandbox.banner
    )
    assert "ana-Password-1" not in "\n".join(sandbox.banner)
    configure(cli, sandbox, provider, "ana@example.org", "TOTP")
    env = {"SAMLJIT_PASSWORD": "ana-Password-1"}
    cli.secrets.add("ana-Password-1")
    listed = cli.run(
        "list-roles", "-a", "sandbox", "--json", "--mfa-token", totp.code_now(SECRET), env=env
    )
    assert listed.returncode == 0, listed.stderr
    assert [r["role_arn"] for r in json.loads(listed.stdout)] == [READONLY_ROLE, ADMIN]
    ran = cli.run(
        "login", "-a", "sandbox", "--role", "Ops", "--mfa-token", totp.code_now(SECRET), env=env
    )
    assert ran.returncode == 0, ran.stderr
    assert "Logged in: Ops in 210987654321; profile [sandbox]" in ran.stderr
    text = cli.credentials.read_text()
    assert "assumed-role/Ops/ana@example.org" in text
    err = sandbox.stop()
    assert "sandbox: 'ana@example.org' signed in (password and one-time code)" in err
    assert "sandbox: stopped" in err
    assert "ana-Password-1" not in err


def test_wrong_password_and_wrong_code_are_refusals(cli: Cli, sandbox: Served) -> None:
    configure(cli, sandbox, "SimpleSAMLphp", "ana@example.org", "TOTP")
    ran = cli.run("login", "-a", "sandbox", "--mfa-token", "123456", env={"SAMLJIT_PASSWORD": "no"})
    assert ran.returncode == 3
    assert ran.stderr.splitlines()[0] == (
        "samljit: error: SimpleSAMLphp refused the login: Incorrect username or password."
    )
    wrong = next(c for c in ("111111", "222222", "333333") if not totp.check(SECRET, c))
    ran = cli.run(
        "login", "-a", "sandbox", "--mfa-token", wrong, env={"SAMLJIT_PASSWORD": "ana-Password-1"}
    )
    cli.secrets.add("ana-Password-1")
    assert ran.returncode == 3
    assert "refused the one-time code: Incorrect one-time code." in ran.stderr
    err = sandbox.stop()
    assert "wrong username or password for 'ana@example.org'" in err
    assert "wrong one-time code for 'ana@example.org'" in err


def test_user_without_mfa_and_metadata(cli: Cli, sandbox: Served) -> None:
    configure(cli, sandbox, "GenericForm", "bo", "Auto")
    ran = cli.run("login", "-a", "sandbox", env={"SAMLJIT_PASSWORD": "bo-Password-2"})
    cli.secrets.add("bo-Password-2")
    assert ran.returncode == 0, ran.stderr
    assert "SandboxReadOnly" in ran.stderr
    metadata = requests.get(f"{sandbox.base}/metadata", timeout=10)
    assert metadata.headers["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(metadata.content)
    assert root.tag == "{urn:oasis:names:tc:SAML:2.0:metadata}EntityDescriptor"
    pem = (FIXTURES / "keys" / "idp-test.crt").read_text()
    body = "".join(pem.split("-----")[2].split())
    assert body in metadata.text


def test_default_user_printed_in_the_banner(cli: Cli) -> None:
    served = serve(cli)
    try:
        line = served.user_line()
        match = re.match(r"  user demo: password (\S+), TOTP secret ([A-Z2-7]+)$", line)
        assert match, line
        password, secret = match.groups()
        assert "made for this run" in "\n".join(served.banner)
        configure_line = next(x for x in served.banner if "samljit configure" in x)
        assert "--provider GenericForm" in configure_line
        cert = re.search(r"--idp-certificate (\S+)", configure_line)
        assert cert is not None
        configure(cli, served, "GenericForm", "demo", "TOTP", cert.group(1))
        code = cli.run("sandbox", "totp", secret, record=False)  # a code, shown on purpose
        assert code.returncode == 0 and re.fullmatch(r"\d{6}\n", code.stdout)
        ran = cli.run(
            "login", "-a", "sandbox", "--role", "SandboxReadOnly",
            "--mfa-token", code.stdout.strip(), env={"SAMLJIT_PASSWORD": password},
        )  # fmt: skip
        cli.secrets.add(password)
        assert ran.returncode == 0, ran.stderr
        # the certificate made for the run goes with it
        served.stop()
        assert not Path(cert.group(1)).exists()
    finally:
        if served.process.poll() is None:
            served.stop()


def test_usage_errors(cli: Cli, tmp_path: Path) -> None:
    ran = cli.run("sandbox", "serve", "--key", "x.key")
    assert ran.returncode == 2
    assert ran.stderr.startswith("samljit: error: --key and --cert go together")
    bad = tmp_path / "users.json"
    bad.write_text('{"users": [{"username": "a"}]}')
    ran = cli.run("sandbox", "serve", "--users", str(bad), "--port", "0")
    assert ran.returncode == 2
    assert "has no password" in ran.stderr
    ran = cli.run("sandbox", "totp", "not base32!")
    assert ran.returncode == 2 and "base32" in ran.stderr
    ran = cli.run("sandbox")
    assert ran.returncode == 2


def test_the_printed_commands_run_as_printed(cli: Cli) -> None:
    """`sandbox serve` serves its own local STS (moto is installed with the test extra) and
    prints the lines to run: they work pasted into a shell, multi-role user and all."""
    cli.env.pop("AWS_ENDPOINT_URL_STS", None)  # the banner's own STS, not the suite's
    served = serve(cli)
    try:
        start = served.banner.index("Try it from another shell:")
        printed = served.banner[start + 1 : -1]
        assert printed[0].startswith("  export AWS_ENDPOINT_URL_STS=http://127.0.0.1:")
        assert len(printed) == 3, served.banner
        script = "set -e\n" + "\n".join(line.strip() for line in printed) + "\n"
        password = served.user_line().split("password ", 1)[1].split(",", 1)[0]
        cli.secrets.add(password)
        ran = subprocess.run(
            ["bash", "-c", script],
            env={
                **cli.env,
                "PATH": f"{SAMLJIT.parent}:{cli.env.get('PATH', '')}",
                "SAMLJIT_PASSWORD": password,  # the terminal's password prompt, scripted
            },
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cli.home,
        )
    finally:
        served.stop()
    cli.outputs += [ran.stdout, ran.stderr]
    assert ran.returncode == 0, ran.stderr
    assert "Logged in: SandboxReadOnly" in ran.stderr


def test_the_printed_configure_line_works_from_another_directory(cli: Cli, tmp_path: Path) -> None:
    """--key/--cert given relative to where the sandbox runs: the banner names the
    certificate by its absolute path, so its `configure` line works in any shell's cwd."""
    keys = cli.home / "keys"
    keys.mkdir()
    for name in ("idp-test.key", "idp-test.crt"):
        shutil.copy(FIXTURES / "keys" / name, keys / name)
    served = serve(cli, "--key", "keys/idp-test.key", "--cert", "keys/idp-test.crt")
    try:
        configure_line = next(x for x in served.banner if "samljit configure" in x).strip()
        assert f"--idp-certificate {keys / 'idp-test.crt'} " in configure_line
        assert f"  signing cert:       {keys / 'idp-test.crt'} (from --cert)" in served.banner
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {**cli.env, "PATH": f"{SAMLJIT.parent}{os.pathsep}{cli.env['PATH']}"}
        ran = subprocess.run(
            ["bash", "-c", configure_line], env=env, cwd=elsewhere, capture_output=True,
            text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        cli.outputs.extend([ran.stdout, ran.stderr])
        assert ran.returncode == 0, ran.stderr
        assert f"idp_certificate = {keys / 'idp-test.crt'}" in cli.config.read_text()
    finally:
        served.stop()
