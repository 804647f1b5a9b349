"""The credential endpoint of `exec --server` and `serve` (issue 28, item 1), through the
installed executable and real AWS clients: botocore, the AWS CLI and the AWS SDK for
JavaScript v3 each make STS GetCallerIdentity through it against moto's STS; a renewal goes
through the kept IdP session while the child keeps running; only this run's token opens it;
it listens on loopback only."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.jumpcloud import App, JumpCloudEmulator
from tests.support.accounts import (
    ACCOUNT_ID,
    PROD_GRANTS,
    RO_ARN,
    SLUG,
    account_config,
    fresh_code,
    make_user,
)
from tests.support.cli import Cli
from tests.support.moto_sts import MotoSts
from tests.support.paths import SAMLJIT
from tests.support.tools import requires_tool

NODE_DIR = Path(__file__).parents[1] / "support" / "node"

#: moto answers GetCallerIdentity with the account of the keys it issued (its assumed-role ARN
#: only for its default account), so the tests check the account.

#: The child of the refresh test: botocore's own container provider, two STS calls with a
#: line from the test in between; prints what it signed with each time.
BOTOCORE_CHILD = """
import sys, boto3
sts = boto3.client("sts")
credentials = sts._request_signer._credentials
for _ in range(2):
    who = sts.get_caller_identity()
    key = credentials.get_frozen_credentials().access_key
    print(credentials.method, key, who["Account"], flush=True)
    sys.stdin.readline()
"""


def code(cli: Cli) -> str:
    return fresh_code(cli)


def cache_files(cli: Cli, kind: str) -> list[Path]:
    return sorted((cli.home / ".cache" / "samljit" / kind).glob("*"))


def exec_server(cli: Cli, *command: str) -> list[str]:
    """The words of ``samljit exec --server`` for the production account (with a fresh code)
    running ``command``."""
    return ["exec", "-a", "production", "--server", "--mfa-token", code(cli), "--", *command]


def start(cli: Cli, *args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SAMLJIT), *args],
        env=cli.env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=cli.home,
    )


def exported(process: subprocess.Popen[str]) -> dict[str, str]:
    """The two `export NAME=value` lines `serve` prints before it waits."""
    assert process.stdout is not None
    found: dict[str, str] = {}
    for _ in range(2):
        line = process.stdout.readline()
        assert line.startswith("export "), line
        name, value = line[len("export ") :].strip().split("=", 1)
        found[name] = value
    return found


@pytest.fixture
def serving(cli: Cli, jumpcloud: JumpCloudEmulator) -> Iterator[tuple[dict[str, str], int]]:
    """`samljit serve` running; its exported variables and its process id."""
    cli.write_config(account_config(jumpcloud))
    process = start(cli, "serve", "-a", "production", "--mfa-token", code(cli))
    try:
        variables = exported(process)
        cli.secrets.add(variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        yield variables, process.pid
    finally:
        _, err = cli.interrupt_at(process, "Serving credentials")
        assert process.returncode == 130, err
        assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in err


def fetch(url: str, token: str | None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_serve_answers_only_its_token_and_listens_on_loopback_only(
    cli: Cli, serving: tuple[dict[str, str], int]
) -> None:
    variables, _ = serving
    url, token = (
        variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    )
    assert url.startswith("http://127.0.0.1:")
    assert fetch(url, None)[0] == 401
    status, body = fetch(url, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert status == 403 and "AccessKeyId" not in body
    assert fetch(url, "Bearer " + token)[0] == 403  # the token is the header's whole value
    status, body = fetch(url, token)
    assert status == 200, body
    assert list(body) == ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
    cli.secrets.update([body["SecretAccessKey"], body["Token"]])
    port = int(url.split(":")[2].split("/")[0])
    assert listening_addresses(port) == ["127.0.0.1"]


def listening_addresses(port: int) -> list[str]:
    """Every local address a socket listens on at ``port`` (IPv4 and IPv6)."""
    found: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.append(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


@requires_tool("aws")
def test_the_aws_cli_uses_the_served_credentials(
    cli: Cli, serving: tuple[dict[str, str], int], sts: MotoSts
) -> None:
    variables, _ = serving
    env = {**cli.env, **variables, "AWS_DEFAULT_REGION": "us-east-2"}
    ran = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    cli.outputs.extend([ran.stdout, ran.stderr])
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["Account"] == ACCOUNT_ID  # moto knew the keys STS issued
    assert sts.calls[-1].action == "GetCallerIdentity"


def test_serve_on_a_port_in_use_is_exit_2_naming_it(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = cli.run("serve", "-a", "production", "--port", str(port))
    assert ran.returncode == 2, ran.stderr
    assert f"port {port} on 127.0.0.1 is in use" in ran.stderr
    assert ran.stdout == "" and jumpcloud.requests == []  # no login before the port is had


def test_exec_server_renews_through_the_idp_session_while_the_child_runs(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: MotoSts
) -> None:
    """900 s sessions and a 900 s refresh margin: every answer of the endpoint renews, so
    botocore's own refresh (it asks again within 15 minutes of expiry) gets new keys."""
    jumpcloud.add_user(make_user(apps={SLUG: App(roles=PROD_GRANTS, session_duration=900)}))
    cli.write_config(account_config(jumpcloud, extra="refresh_margin = 900\n"))
    cli.env["AWS_PROFILE"] = "someone-else"  # dropped from the child's environment
    cli.env["AWS_ACCESS_KEY_ID"] = "AKIAINHERITED"
    process = start(
        cli, *exec_server(cli, sys.executable, "-c", BOTOCORE_CHILD), stdin=subprocess.PIPE
    )
    assert process.stdout is not None and process.stdin is not None
    method, first, account = process.stdout.readline().split()
    assert method == "container-role" and account == ACCOUNT_ID
    for path in cache_files(cli, "assertions"):  # the assertion has expired by now
        path.unlink()
    requests, calls = len(jumpcloud.requests), len(sts.calls)
    process.stdin.write("go on\n")
    process.stdin.flush()
    _, second, _ = process.stdout.readline().split()
    process.stdin.write("done\n")
    out, err = process.communicate(timeout=60)
    cli.outputs.extend([out, err])
    assert process.returncode == 0, err
    assert second != first  # botocore got new keys; the same child ran on
    assert jumpcloud.requests[requests:] == [("GET", f"/saml2/{SLUG}")]  # session, no password
    renewals = [c for c in sts.calls[calls:] if c.action == "AssumeRoleWithSAML"]
    assert renewals and {c.role_arn for c in renewals} == {RO_ARN}
    assert not cli.credentials.exists()  # nothing written beyond the cache


def test_exec_server_exits_with_the_childs_status_and_the_endpoint_ends(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud, extra="exec_server = true\n"))
    show = "import os; print(os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']); raise SystemExit(7)"
    ran = cli.run(
        "exec", "-a", "production", "--mfa-token", code(cli), "--", sys.executable, "-c", show
    )
    assert ran.returncode == 7, ran.stderr
    url = ran.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)  # the endpoint ended with the child


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    """The AWS SDK for JavaScript v3 of package-lock.json, installed by `npm ci` once."""
    if not (NODE_DIR / "node_modules" / "@aws-sdk" / "credential-providers").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600
        )
    return NODE_DIR / "sts.mjs"


@requires_tool("node")
def test_the_javascript_sdk_uses_the_endpoint_of_exec_server(
    cli: Cli, jumpcloud: JumpCloudEmulator, node_sdk: Path
) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run(*exec_server(cli, "node", str(node_sdk)))
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["Account"] == ACCOUNT_ID
    assert answer["AccessKeyId"].startswith("ASIA")


def test_exec_server_passes_sigterm_on_and_serves_until_the_child_ends(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    child = (
        "import signal, sys\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(9))\n"
        "print('ready', flush=True)\n"
        "signal.pause()\n"
    )
    process = start(cli, *exec_server(cli, sys.executable, "-c", child))
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    process.terminate()  # SIGTERM to samljit, as a supervisor or `kill` sends it
    out, err = process.communicate(timeout=60)
    cli.outputs.extend([out, err])
    assert process.returncode == 9, err  # the child got it, ended, and samljit with it
