"""The common paths of samljit on a Python without the POSIX-only modules (issue 29): the
installed CLI runs ``configure --skip-prompt``, a sandbox login, a cached
``credential-process``, ``exec``, ``status`` and ``logout`` with ``fcntl``, ``termios``,
``pwd``, ``grp`` and ``resource`` unimportable (tests/support/noposix), as on Windows, save
for samljit's POSIX platform implementation (``samljit.common.platform.posix``: Windows has
its own), the one place samljit may reach them.
``--version`` and ``--help`` alone would prove nothing: they never lock or write a file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from samljit.common.platform import posix
from samljit.tools.sandbox.users import READONLY_ROLE, SANDBOX_PROVIDER
from tests.e2e.test_sandbox import Served, configure, serving
from tests.support.cli import Cli
from tests.support.paths import REPO

NOPOSIX = REPO / "tests" / "support" / "noposix"
PASSWORD = "bo-Password-2"


@pytest.fixture
def sandbox(cli: Cli, tmp_path: Path) -> Iterator[Served]:
    users = tmp_path / "users.json"
    user = {
        "username": "bo",
        "password": PASSWORD,
        "roles": [f"{READONLY_ROLE},{SANDBOX_PROVIDER}"],
    }
    users.write_text(json.dumps({"users": [user]}))
    yield from serving(cli, users)


def test_common_paths_reach_nothing_posix_only(cli: Cli, sandbox: Served, tmp_path: Path) -> None:
    log = tmp_path / "posix-imports.log"
    cli.secrets.add(PASSWORD)
    # the password only where a login needs it: the cached commands must not ask
    noposix = {
        "PYTHONPATH": str(NOPOSIX),
        "SAMLJIT_TEST_NOPOSIX_LOG": str(log),
        "SAMLJIT_TEST_NOPOSIX_ALLOW": posix.__file__,
    }
    cli.env = {k: v for k, v in {**cli.env, **noposix}.items() if k != "SAMLJIT_PASSWORD"}

    def ok(*args: str, **kwargs: object) -> str:
        ran = cli.run(*args, **kwargs)  # type: ignore[arg-type]
        assert ran.returncode == 0, f"{args[0]}: {ran.stderr}"
        return ran.stdout

    configure(cli, sandbox, "GenericForm", "bo", "Auto")
    ok("login", "-a", "sandbox", env={"SAMLJIT_PASSWORD": PASSWORD})
    assert "[sandbox]" in cli.credentials.read_text()
    given = json.loads(ok("credential-process", "-a", "sandbox", stdout_has_secrets=True))
    assert given["Version"] == 1 and given["AccessKeyId"]
    child = "import os, sys; print(os.environ['AWS_ACCESS_KEY_ID'][:4]); sys.exit(7)"
    ran = cli.run("exec", "-a", "sandbox", "--", sys.executable, "-c", child)
    assert (ran.returncode, ran.stdout) == (7, given["AccessKeyId"][:4] + "\n"), ran.stderr
    assert "sandbox" in ok("status")
    ok("logout", "-a", "sandbox")
    assert "[sandbox]" not in cli.credentials.read_text()

    tried = log.read_text().splitlines()
    assert any(line.startswith("allowed fcntl ") for line in tried)  # the locks: the seam works
    refused = [line for line in tried if line.startswith("refused ")]
    ours = [line for line in refused if f"{REPO}/samljit/" in line or f"{REPO}/providers/" in line]
    assert ours == [], "samljit reached a POSIX-only module outside its platform layer"
