"""Remembered answers (samljit.jit.answers): the second identical cached run is answered
before anything else loads, says exactly what the full path says, and steps aside whenever
anything it came from changed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.e2e.test_startup import valid_profile
from tests.emulators.common import totp_now
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import TOTP_SECRET, account_config
from tests.support.cli import COVERAGE_ENV, Cli

pytestmark = pytest.mark.e2e
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
#: What a replayed run may import beyond the bare interpreter: samljit's entry, the command
#: line reader, the replay (the CLI's), the answers module and where it looks (paths).
REPLAY_MODULES = {
    "samljit",
    "samljit.__main__",
    "samljit.cli",
    "samljit.cli.main",
    "samljit.cli.replay",
    "samljit.cli.words",
    "samljit.common",
    "samljit.common.errors",
    "samljit.common.paths",
    "samljit.common.platform",
    "samljit.common.platform.posix",
    "samljit.jit",
    "samljit.jit.answers",
    "marshal",
    "runpy",  # python -m
}


def modules_of(
    cli: Cli, *args: str, env: dict[str, str] | None = None
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules a run imports beyond a bare interpreter's."""
    names, ran = cli.importtime(*args, env=env)
    bare = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        env={k: v for k, v in os.environ.items() if k not in COVERAGE_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    base = {x.rsplit("|", 1)[1].strip() for x in bare.stderr.splitlines() if "|" in x}
    return set(names) - base, ran


def audit_lines(cli: Cli) -> list[dict[str, str]]:
    path = cli.home / ".local" / "state" / "samljit" / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def cached(cli: Cli, jumpcloud: JumpCloudEmulator) -> Cli:
    cli.write_config(account_config(jumpcloud))
    valid_profile(cli)
    return cli


def test_a_second_cached_login_is_replayed_with_the_same_words(cached: Cli) -> None:
    first = cached.run("login", "-a", "production")
    assert first.returncode == 0, first.stderr
    modules, second = modules_of(cached, "login", "-a", "production")
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip() == first.stderr.strip()
    assert "already holds valid credentials" in second.stderr
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)
    reused = [e for e in audit_lines(cached) if e["event"] == "grant.reused"]
    assert len(reused) == 2 and reused[0].keys() == reused[1].keys()
    assert reused[1]["command"] == "login" and reused[1]["account"] == "production"


def test_a_replayed_run_is_in_the_audit_log_with_its_time(cached: Cli) -> None:
    """The remembered audit line gets the run's time: `samljit audit` shows every run."""
    reason = ("--reason", "INC-1: replayed")
    assert cached.run("login", "-a", "production", *reason).returncode == 0
    modules, second = modules_of(cached, "login", "-a", "production", *reason)
    assert second.returncode == 0, second.stderr
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)  # it was replayed
    times = [e["time"] for e in audit_lines(cached) if e["event"] == "grant.reused"]
    assert len(times) == 2 and all(re.fullmatch(TIME, t) for t in times), times
    shown = cached.run("audit", "--json")
    assert shown.returncode == 0 and shown.stderr == ""
    printed = [json.loads(x) for x in shown.stdout.splitlines()]
    reused = [e for e in printed if e["event"] == "grant.reused"]
    assert [(e["time"], e["reason"]) for e in reused] == [(t, "INC-1: replayed") for t in times]
    assert len(cached.run("audit", "--since", "1h").stdout.splitlines()) == len(printed)


def test_audit_counts_the_lines_it_cannot_read(cached: Cli) -> None:
    assert cached.run("login", "-a", "production").returncode == 0
    log = cached.home / ".local" / "state" / "samljit" / "audit.log"
    good = log.read_text()
    lost = '{"time": "\\u0000time\\u0000", "event": "grant.reused", "command": "login"}\n'
    log.write_text(good + lost + "not json\n" + "[1, 2]\n" + good)
    shown = cached.run("audit")
    assert shown.returncode == 0, shown.stderr
    assert len(shown.stdout.splitlines()) == 2 * len(good.splitlines())
    assert shown.stderr == (
        f"samljit: warning: 3 lines of the audit log {log} could not be read (not a JSON "
        "object with an RFC 3339 time) and are not shown\n"
    )


def test_credential_process_is_replayed_byte_for_byte(
    cached: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    code = totp_now(TOTP_SECRET)
    logged_in = cached.run("login", "-a", "production", "--force", "--mfa-token", code)
    assert logged_in.returncode == 0, logged_in.stderr
    first = cached.run("credential-process", "-a", "production", stdout_has_secrets=True)
    assert first.returncode == 0, first.stderr
    modules, second = modules_of(cached, "credential-process", "-a", "production")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)
    answers = cached.home / ".cache" / "samljit" / "answers"
    assert answers.stat().st_mode & 0o777 == 0o600


def test_exec_is_replayed_into_the_child(cached: Cli) -> None:
    script = 'echo "$AWS_ACCESS_KEY_ID ${AWS_PROFILE-unset} ${AWS_DEFAULT_PROFILE-unset}"; exit 7'
    show = ["exec", "-a", "production", "--", "sh", "-c", script]
    other = {"AWS_PROFILE": "other", "AWS_DEFAULT_PROFILE": "other"}
    first = cached.run(*show, env=other)
    assert first.returncode == 7 and first.stdout.strip() == "ASIAEXAMPLEEXAMPLE01 unset unset"
    modules, second = modules_of(cached, *show, env=other)  # the replay drops them too
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)
    missing = cached.run("exec", "-a", "production", "--", "no-such-command-samljit")
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_a_changed_config_takes_the_full_path(cached: Cli) -> None:
    assert cached.run("login", "-a", "production").returncode == 0
    with cached.config.open("a") as handle:
        handle.write("# edited\n")
    modules, again = modules_of(cached, "login", "-a", "production")
    assert again.returncode == 0, again.stderr
    assert "samljit.cli.args" in modules, "a changed config was answered from memory"


def test_logout_ends_the_replay(cached: Cli) -> None:
    assert cached.run("login", "-a", "production").returncode == 0
    assert cached.run("logout", "-a", "production").returncode == 0
    modules, after = modules_of(cached, "login", "-a", "production", "--skip-prompt")
    assert "samljit.cli.args" in modules
    assert "already holds valid credentials" not in after.stderr


def test_other_words_and_one_time_codes_are_not_remembered(cached: Cli) -> None:
    assert cached.run("login", "-a", "production", "--mfa-token", "123456").returncode == 0
    answers = cached.home / ".cache" / "samljit" / "answers"
    assert not answers.exists() or b"123456" not in answers.read_bytes()
    assert cached.run("login", "-a", "production").returncode == 0
    modules, quiet = modules_of(cached, "login", "-a", "production", "-q")
    assert "samljit.cli.args" in modules, "-q is other words: the full path answers first"
    assert quiet.stderr == ""


def test_an_answers_file_others_can_read_is_ignored(cached: Cli) -> None:
    assert cached.run("login", "-a", "production").returncode == 0
    answers = cached.home / ".cache" / "samljit" / "answers"
    os.chmod(answers, 0o644)
    modules, again = modules_of(cached, "login", "-a", "production")
    assert again.returncode == 0
    assert "samljit.cli.args" in modules


def test_help_is_remembered_per_width_and_version_needs_no_parser(cli: Cli) -> None:
    first = cli.run("--help", env={"COLUMNS": "100"})
    assert first.returncode == 0 and first.stdout.startswith("usage: samljit")
    modules, _ = modules_of(cli, "--help")
    assert "samljit.cli.args" in modules, "another width: argparse formats it again"
    cli.env["COLUMNS"] = "100"
    modules, again = modules_of(cli, "--help")
    assert again.stdout == first.stdout
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)
    modules, version = modules_of(cli, "--version")
    assert version.stdout.startswith("samljit ")
    assert "argparse" not in modules


BOTO3_REGION = "import boto3; print(boto3.session.Session().region_name)"


def test_exec_and_script_keep_the_users_region(cached: Cli) -> None:
    """Environment beats config: a user's AWS_REGION / AWS_DEFAULT_REGION reach the child
    (boto3 there picks it), also when the run is replayed; without one, the account's."""
    # -E: the child ignores PYTHONPROFILEIMPORTTIME, so only samljit's own imports are counted
    run_boto3 = ["exec", "-a", "production", "--", sys.executable, "-E", "-c", BOTO3_REGION]
    plain = cached.run(*run_boto3)
    assert (plain.returncode, plain.stdout) == (0, "us-east-2\n"), plain.stderr
    for _ in range(2):  # the second run is answered by the remembered answer
        modules, ran = modules_of_env(cached, {"AWS_DEFAULT_REGION": "eu-west-1"}, *run_boto3)
        assert (ran.returncode, ran.stdout) == (0, "eu-west-1\n"), ran.stderr
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)
    show = ["sh", "-c", 'printf "%s|%s" "$AWS_REGION" "${AWS_DEFAULT_REGION-unset}"']
    mine = cached.run("exec", "-a", "production", "--", *show, env={"AWS_REGION": "ap-south-1"})
    assert (mine.returncode, mine.stdout) == (0, "ap-south-1|unset"), mine.stderr
    script = cached.run(
        "script", "-a", "production", "--shell", "bash", env={"AWS_REGION": "ap-south-1"},
        stdout_has_secrets=True,
    )  # fmt: skip
    assert script.returncode == 0 and "REGION" not in script.stdout
    own = cached.run("script", "-a", "production", "--shell", "env", stdout_has_secrets=True)
    assert "AWS_REGION=us-east-2" in own.stdout.splitlines()


def modules_of_env(
    cli: Cli, env: dict[str, str], *args: str
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    saved = dict(cli.env)
    cli.env.update(env)
    try:
        return modules_of(cli, *args)
    finally:
        cli.env.clear()
        cli.env.update(saved)
