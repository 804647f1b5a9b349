"""``samljit demo`` through the installed CLI: without a terminal (picks the read-only
role, says so), in a pseudo-terminal (the role picker), with ``--keep``, and without moto.
Every run must leave nothing behind: not in the temp dir, not in HOME."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from tests.support.cli import Cli, finish

REAL_IDP_COMMANDS = (
    "samljit configure -a work",
    "samljit login -a work",
    "samljit exec -a work -- aws sts get-caller-identity",
)


def scratch(tmp_path: Path) -> dict[str, str]:
    """A TMPDIR of the test's own, to see what the demo leaves there."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {"TMPDIR": str(tmp)}


def test_demo_without_a_terminal(cli: Cli, tmp_path: Path) -> None:
    env = scratch(tmp_path)
    ran = cli.run("demo", env=env, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = ran.stdout
    assert "Demo succeeded" in out
    assert "No terminal to pick a role on: the demo picks the read-only role" in out
    assert re.search(r"^TOTP code \d{6}: what an authenticator app shows now", out, re.M)
    # the assertion's roles, as list-roles prints them
    assert (
        "123456789012  sandbox  SandboxReadOnly  arn:aws:iam::123456789012:role/SandboxReadOnly"
        in out
    )
    assert "123456789012  sandbox  SandboxAdmin  arn:aws:iam::123456789012:role/SandboxAdmin" in out
    # the real login path: the success line, then the child that got the credentials
    assert re.search(
        r"^Logged in: SandboxReadOnly in sandbox \(123456789012\); profile \[demo\] valid until "
        r".+ \(\d+ min left\)\.$",
        ran.stderr,
        re.M,
    )
    assert re.search(r"^    AWS_ACCESS_KEY_ID=ASIA\w+$", out, re.M)
    assert (
        "STS GetCallerIdentity: arn:aws:sts::123456789012:assumed-role/SandboxReadOnly/demo" in out
    )
    for command in REAL_IDP_COMMANDS:
        assert command in out
    removed = re.search(r"^Removed the temporary HOME (\S+)\.$", out, re.M)
    assert removed, out
    assert not Path(removed.group(1)).exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list(cli.home.iterdir()) == []  # the user's HOME is untouched


def test_demo_keep_leaves_a_usable_home(cli: Cli, tmp_path: Path) -> None:
    env = scratch(tmp_path)
    ran = cli.run("demo", "--keep", env=env, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    kept = re.search(r"^Kept the temporary HOME: (\S+)$", ran.stdout, re.M)
    assert kept, ran.stdout
    home = Path(kept.group(1))
    assert home.parent == tmp_path / "tmp"
    credentials = home / ".aws" / "credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert "[demo]" in credentials.read_text()
    assert "provider = GenericForm" in (home / ".samljit").read_text()
    assert list(cli.home.iterdir()) == []
    status = cli.run(
        "status", env={"HOME": str(home), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    )
    assert status.returncode == 0, status.stderr
    assert re.search(r"^demo  \[demo\]  SandboxReadOnly  \d+ min left$", status.stdout, re.M)


def test_demo_on_a_terminal_offers_the_role_picker(cli: Cli, tmp_path: Path) -> None:
    child = cli.spawn("demo", env=scratch(tmp_path), timeout=60, dimensions=(40, 160))
    child.expect("Now pick a role")
    child.expect("The assertion grants these roles:")
    child.expect("sandbox \\(123456789012\\)  SandboxAdmin")
    child.expect("Choose \\(number, or type to filter\\):")
    child.send("SandboxAdmin\r")
    child.expect("Logged in: SandboxAdmin in sandbox \\(123456789012\\)")
    child.expect("assumed-role/SandboxAdmin/demo")
    child.expect("Demo succeeded")
    transcript = finish(child)
    cli.outputs.append(transcript)
    assert child.exitstatus == 0, transcript
    assert "No terminal to pick a role on" not in transcript
    assert list((tmp_path / "tmp").iterdir()) == []


def test_demo_without_moto_says_what_to_install(cli: Cli, tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "moto"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'moto\'", name="moto")\n'
    )
    env = {**scratch(tmp_path), "PYTHONPATH": str(shadow.parent)}
    ran = cli.run("demo", env=env)
    assert ran.returncode == 2
    assert ran.stderr.splitlines() == [
        "samljit: error: the local STS needs moto's server (moto is not installed)",
        "hint: install it with: pip install 'samljit[demo]'",
    ]
    assert list((tmp_path / "tmp").iterdir()) == []
