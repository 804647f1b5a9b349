"""Just-in-time credentials: credential_process (with botocore itself), the cache and its
single flight, the assertion cache, exec without writing, console, script, status, logout
and the audit log — through the installed executable."""

from __future__ import annotations

import html
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from samljit.common import fsutil
from samljit.common.paths import cache_dir, entry_key
from samljit.common.terminal import Terminal
from samljit.jit.cache import Cache
from tests.emulators.jumpcloud import App, JumpCloudEmulator
from tests.support.accounts import (
    DEV_ARN,
    FULL_ARN,
    PROD_GRANTS,
    RO_ARN,
    SLUG,
    account_config,
    fresh_code,
    grants,
    log_in_once,
    make_user,
    process_json,
)
from tests.support.cli import Cli
from tests.support.moto_sts import StsView
from tests.support.paths import SAMLJIT
from tests.support.procfs import wait_for_openers
from tests.support.tools import requires_tool


def code(cli: Cli) -> str:
    return fresh_code(cli)


def cache_files(cli: Cli, kind: str) -> list[Path]:
    return sorted((cli.home / ".cache" / "samljit" / kind).glob("*.json"))


def test_credential_process_prints_one_json_line_and_caches(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    cli.write_config(account_config(jumpcloud))
    first = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    assert list(first) == [
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ]
    assert first["Version"] == 1 and first["Expiration"].endswith("Z")
    assert not cli.credentials.exists()  # credential_process writes no profile
    requests, calls = len(jumpcloud.requests), len(sts.calls)
    again = process_json(cli)
    assert again == first
    assert (len(jumpcloud.requests), len(sts.calls)) == (requests, calls)
    for path in cache_files(cli, "credentials"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cli.secrets.update([first["SecretAccessKey"], first["SessionToken"]])


def test_role_switch_within_the_assertion_window_needs_no_idp(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    cli.write_config(account_config(jumpcloud))
    process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    requests = len(jumpcloud.requests)
    full = process_json(cli, "--role", "full")
    dev = process_json(cli, "--role", DEV_ARN)
    assert len(jumpcloud.requests) == requests
    assert [c.role_arn for c in sts.calls[-2:]] == [FULL_ARN, DEV_ARN]
    assert full["AccessKeyId"] != dev["AccessKeyId"]
    forced = cli.run(
        "credential-process",
        "-a",
        "production",
        "--role",
        "full",
        "--no-cache",
        stdout_has_secrets=True,
    )
    assert forced.returncode == 0, forced.stderr  # a real login: the IdP session, no MFA
    assert jumpcloud.requests[requests:] == [("GET", f"/saml2/{SLUG}")]
    cli.run("logout", "-a", "production")  # forgets the IdP session too
    forced = cli.run("credential-process", "-a", "production", "--role", "full", "--no-cache")
    assert forced.returncode == 2  # now a full login, which needs the MFA code
    assert "MFA code is needed" in forced.stderr


def test_a_credential_process_refresh_reuses_the_idp_session(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    log_in_once(cli, jumpcloud)
    for kind in ("credentials", "assertions"):  # an hour later: both have expired
        for path in cache_files(cli, kind):
            path.unlink()
    requests = len(jumpcloud.requests)
    fresh = process_json(cli, "--role", "full", SAMLJIT_PASSWORD="")
    assert fresh["AccessKeyId"]
    assert jumpcloud.requests[requests:] == [("GET", f"/saml2/{SLUG}")]
    cli.secrets.update([fresh["SecretAccessKey"], fresh["SessionToken"]])


def test_twenty_concurrent_calls_log_in_once(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    cli.write_config(account_config(jumpcloud))
    token = code(cli)

    def one(_: int) -> str:
        ran = cli.run(
            "credential-process",
            "-a",
            "production",
            env={"SAMLJIT_MFA_TOKEN": token},
            stdout_has_secrets=True,
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    calls = len(sts.calls)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20)))
    assert len(set(answers)) == 1
    assert jumpcloud.count("GET", "/userconsole/xsrf") == 1
    assert jumpcloud.count("POST", "/userconsole/auth") == 2  # password, then password + code
    assert len(sts.calls) - calls == 1
    data = json.loads(answers[0])
    cli.secrets.update([data["SecretAccessKey"], data["SessionToken"]])


def flight_lock(cli: Cli, account: str, role_arn: str) -> Path:
    """The lock file of the single flight for ``account``'s role ``role_arn`` (the key the
    role's alias resolves to), its folder made."""
    cache = Cache(Path(cache_dir(cli.env)), Terminal(interactive=False))
    path = cache.lock_path(entry_key(account, role_arn))
    fsutil.private_dir(path.parent)
    return path


def test_a_failed_login_is_shared_not_retried_by_each_waiter(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    wrong = {"SAMLJIT_PASSWORD": "wrong-password-1", "SAMLJIT_MFA_TOKEN": "123456"}

    def one(_: int) -> subprocess.CompletedProcess[str]:
        return cli.run("credential-process", "-a", "production", env=wrong)

    # The test holds the flight's lock until all eight wait on it: each has then taken the
    # moment it started, before the one login fails (a run that starts after it tries again).
    lock = flight_lock(cli, "production", RO_ARN)  # the account's role "readonly"
    with ThreadPoolExecutor(max_workers=8) as pool:
        with fsutil.locked(lock, timeout=30):
            runs = [pool.submit(one, n) for n in range(8)]
            wait_for_openers(lock, 8)
        results = [run.result() for run in runs]
    assert {r.returncode for r in results} == {3}
    assert len({r.stderr for r in results}) == 1
    assert jumpcloud.count("POST", "/userconsole/auth") == 1
    later = one(0)  # a later call is not answered by an old failure: it tries again
    assert later.returncode == 3
    assert jumpcloud.count("POST", "/userconsole/auth") == 2


def test_no_terminal_and_mfa_needed_fails_at_once(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("credential-process", "-a", "production", timeout=20)
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert ran.stderr.startswith("samljit: error: a one-time MFA code is needed, but there is no")


def test_botocore_runs_samljit_as_credential_process_and_refreshes(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session

    short = [App(roles=PROD_GRANTS, session_duration=900)]
    jumpcloud.add_user(make_user(apps={SLUG: short[0]}))
    # refresh_margin 900 > what is left of a 900 s session: every call counts as stale
    cli.write_config(account_config(jumpcloud, extra="refresh_margin = 900\n"))
    aws_config = cli.home / ".aws" / "config"
    aws_config.parent.mkdir()
    aws_config.write_text(
        f"[profile production]\ncredential_process = {SAMLJIT} credential-process -a production\n"
    )
    for key, value in cli.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SAMLJIT_MFA_TOKEN", code(cli))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)

    session = botocore.session.Session(profile="production")
    credentials = session.get_credentials()
    assert credentials is not None and credentials.method == "custom-process"
    first = credentials.get_frozen_credentials()
    calls = len(sts.calls)
    second = credentials.get_frozen_credentials()  # within botocore's refresh window
    assert second.access_key != first.access_key
    assert len(sts.calls) == calls + 1
    assert jumpcloud.count("GET", "/userconsole/xsrf") == 1  # the assertion was reused
    cli.secrets.update([first.secret_key, first.token, second.secret_key, second.token])


def test_botocore_is_answered_from_the_cache(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session

    cli.write_config(account_config(jumpcloud))
    cached = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    aws_config = cli.home / ".aws" / "config"
    aws_config.parent.mkdir(exist_ok=True)
    aws_config.write_text(
        f"[profile p]\ncredential_process = {SAMLJIT} credential-process -a production\n"
    )
    for key, value in cli.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    calls = len(sts.calls)
    frozen = botocore.session.Session(profile="p").get_credentials().get_frozen_credentials()
    # botocore holds the very grant the first call cached, and STS was not asked again
    assert frozen.access_key.startswith("ASIA")
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        cached["AccessKeyId"],
        cached["SecretAccessKey"],
        cached["SessionToken"],
    )
    assert len(sts.calls) == calls


def documented_aws_config() -> str:
    """The `~/.aws/config` block of docs/credential-process.md."""
    text = (Path(__file__).parents[2] / "docs" / "credential-process.md").read_text()
    return text.split("```ini\n", 1)[1].split("```", 1)[0]


def test_the_documented_profiles_are_not_shadowed_by_what_login_writes(
    cli: Cli, jumpcloud: JumpCloudEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore reads ~/.aws/credentials before it runs credential_process: after `login`
    wrote the account's profile, the documented credential_process profiles must still be
    served by samljit; a colliding one is warned about by login and exec."""
    import botocore.session

    cli.write_config(account_config(jumpcloud))
    aws_config = cli.home / ".aws" / "config"
    aws_config.parent.mkdir()
    documented = documented_aws_config().replace("= samljit ", f"= {SAMLJIT} ")
    aws_config.write_text(documented)
    profiles = [line[len("[profile ") : -1] for line in documented.splitlines() if "[" in line]
    assert len(profiles) == 2
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert "shadows" not in ran.stderr
    assert "[production]" in cli.credentials.read_text()
    for key, value in cli.env.items():
        monkeypatch.setenv(key, value)
    for profile in profiles:
        credentials = botocore.session.Session(profile=profile).get_credentials()
        assert credentials is not None and credentials.method == "custom-process", profile
        frozen = credentials.get_frozen_credentials()
        cli.secrets.update([frozen.secret_key, frozen.token])
    remembered = cli.run("login", "-a", "production")  # remembered: replayed when unchanged
    assert remembered.returncode == 0 and "shadows" not in remembered.stderr
    # the setup the docs used to show: [profile production] runs samljit ... in vain
    aws_config.write_text(
        f"{documented}\n[profile production]\n"
        f"credential_process = {SAMLJIT} credential-process -a production\n"
    )
    shadowed = botocore.session.Session(profile="production").get_credentials()
    assert shadowed is not None and shadowed.method == "shared-credentials-file"
    warning = (
        f"samljit: warning: profile [production], which samljit writes to {cli.credentials}, "
        f"shadows [profile production] of {aws_config}: the AWS SDKs and CLI read the "
        "credentials file first and skip its credential_process until the written keys expire"
    )
    again = cli.run("login", "-a", "production")
    assert again.returncode == 0 and warning in again.stderr, again.stderr
    for _ in range(2):  # said every time: such a run is not answered from memory
        ran_exec = cli.run("exec", "-a", "production", "--", "true")
        assert ran_exec.returncode == 0 and warning in ran_exec.stderr, ran_exec.stderr
    no_write = cli.run("exec", "-a", "production", "--no-write", "--", "true")
    assert no_write.returncode == 0 and "shadows" not in no_write.stderr
    elsewhere = cli.run("login", "-a", "production", "--profile", "production-keys")
    assert elsewhere.returncode == 0 and "shadows" not in elsewhere.stderr
    # AWS_CONFIG_FILE is the config file the SDKs read instead
    moved = cli.home / "aws-config"
    aws_config.rename(moved)
    via_env = cli.run("exec", "-a", "production", "--", "true", env={"AWS_CONFIG_FILE": str(moved)})
    assert f"[profile production] of {moved}" in via_env.stderr, via_env.stderr


@pytest.mark.parametrize("damage", ["garbage", "foreign-format", "loose-mode", "expired"])
def test_a_bad_cache_entry_is_ignored_and_replaced(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView, damage: str
) -> None:
    cli.write_config(account_config(jumpcloud))
    first = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    [entry] = cache_files(cli, "credentials")
    data = json.loads(entry.read_text())
    if damage == "garbage":
        entry.write_bytes(b"\x00\xffnot json")
    elif damage == "foreign-format":
        entry.write_text(json.dumps({**data, "format": 99}))
    elif damage == "loose-mode":
        entry.chmod(0o644)
    else:
        entry.write_text(json.dumps({**data, "Expiration": "2001-01-01T00:00:00Z"}))
    calls = len(sts.calls)
    second = process_json(cli)  # the cached assertion still makes a new grant without MFA
    assert len(sts.calls) == calls + 1
    assert second["AccessKeyId"] != first["AccessKeyId"]
    fixed = json.loads(entry.read_text())
    assert fixed["AccessKeyId"] == second["AccessKeyId"]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_a_too_open_cache_directory_is_tightened(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    root = cli.home / ".cache" / "samljit"
    root.mkdir(parents=True)
    root.chmod(0o777)
    cli.write_config(account_config(jumpcloud))
    process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_an_unusable_cache_directory_warns_and_still_works(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    (cli.home / ".cache").mkdir()
    (cli.home / ".cache" / "samljit").write_text("a file where the directory should be")
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.count("working without a cache") == 1


def test_exec_no_write_keeps_credentials_out_of_the_file(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run(
        "exec",
        "-a",
        "production",
        "--no-write",
        "--mfa-token",
        code(cli),
        "--",
        sys.executable,
        "-c",
        "import os; print(os.environ['AWS_ACCESS_KEY_ID'])",
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip()
    assert not cli.credentials.exists()
    cli.write_config(account_config(jumpcloud, extra="write_credentials = false\n"))
    again = cli.run("exec", "-a", "production", "--", "true")
    assert again.returncode == 0, again.stderr  # from the cache, still no file
    assert not cli.credentials.exists()


def test_login_all_roles_writes_one_profile_per_role(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    ran = cli.run("login", "-a", "production", "--all-roles", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert sorted(cli.profiles()) == [
        "acme-dev-AcmeJumpCloudAdminRO",
        "acme-production-AcmeJumpCloudAdmin",
        "acme-production-AcmeJumpCloudAdminRO",
    ]
    templated = account_config(jumpcloud, extra="profile_template = {account_id}-{role_name}\n")
    cli.write_config(templated)
    again = cli.run("login", "-a", "production", "--all-roles")  # the cached assertion
    assert again.returncode == 0, again.stderr
    assert "012345678987-AcmeJumpCloudAdmin" in cli.profiles()
    cli.write_config(account_config(jumpcloud, extra="profile_template = same\n"))
    clash = cli.run("login", "-a", "production", "--all-roles")
    assert clash.returncode == 2 and "same profile name" in clash.stderr


def test_status_logout_and_audit(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud) + account_config(jumpcloud, name="staging"))
    cli.credentials.parent.mkdir()
    cli.credentials.write_text("# keep me\n[default]\nregion = us-east-1\n")
    assert cli.run("login", "-a", "production", "--mfa-token", code(cli)).returncode == 0
    status = cli.run("status")
    lines = status.stdout.splitlines()
    assert any(x.startswith("production  [production]  AcmeJumpCloudAdminRO  ") for x in lines)
    assert "staging  [staging]  no credentials" in lines
    rows = json.loads(cli.run("status", "--json").stdout)
    production = [r for r in rows if r["account"] == "production"]
    assert [r["state"] for r in production] == ["valid"]  # profile and cache: one grant

    out = cli.run("logout", "-a", "production")
    assert out.returncode == 0, out.stderr
    # everything else stays; only the blank line that separated the section may remain
    assert cli.credentials.read_text().rstrip("\n") == "# keep me\n[default]\nregion = us-east-1"
    assert cache_files(cli, "credentials") == [] and cache_files(cli, "assertions") == []
    after = cli.run("status").stdout
    assert "production  [production]  no credentials" in after

    audit = cli.run("audit", "--json")
    events = [json.loads(line)["event"] for line in audit.stdout.splitlines()]
    assert events == ["login.started", "mfa.challenged", "grant.issued", "logout"]
    listed = cli.run("audit", "--since", "1h").stdout
    assert "grant.issued" in listed and RO_ARN in listed
    assert cli.run("audit", "--since", "yesterday-ish").returncode == 2


def test_reused_grants_are_audited(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    process_json(cli)
    events = [json.loads(x)["event"] for x in cli.run("audit", "--json").stdout.splitlines()]
    assert events[-1] == "grant.reused"
    audit_log = cli.home / ".local" / "state" / "samljit" / "audit.log"
    assert stat.S_IMODE(audit_log.stat().st_mode) == 0o600


# -- script -----------------------------------------------------------------------------
SHELL_READERS = {
    "bash": [
        "bash",
        "-c",
        'eval "$(cat "$1")"; printf "%s|%s|%s" "$AWS_ACCESS_KEY_ID" '
        '"$AWS_SESSION_TOKEN" "${AWS_PROFILE-unset}"',
        "-",
    ],
    "zsh": [
        "zsh",
        "-c",
        'eval "$(cat "$1")"; printf "%s|%s|%s" "$AWS_ACCESS_KEY_ID" '
        '"$AWS_SESSION_TOKEN" "${AWS_PROFILE-unset}"',
        "-",
    ],
    "fish": [
        "fish",
        "-c",
        "source $argv[1]; set -q AWS_PROFILE; or set AWS_PROFILE unset; "
        'printf "%s|%s|%s" $AWS_ACCESS_KEY_ID $AWS_SESSION_TOKEN $AWS_PROFILE',
    ],
    "powershell": [
        "pwsh",
        "-NoProfile",
        "-Command",
        '. $args[0]; Write-Host -NoNewline "$Env:AWS_ACCESS_KEY_ID|'
        '$Env:AWS_SESSION_TOKEN|$(if ($Env:AWS_PROFILE) {$Env:AWS_PROFILE} else {"unset"})"',
    ],
}


@pytest.mark.parametrize(
    "shell",
    [
        pytest.param(shell, marks=requires_tool(SHELL_READERS[shell][0]))
        for shell in sorted(SHELL_READERS)
    ],
)
def test_script_output_sourced_by_the_real_shell(
    cli: Cli, jumpcloud: JumpCloudEmulator, shell: str
) -> None:
    reader = SHELL_READERS[shell]
    cli.write_config(account_config(jumpcloud))
    expected = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    ran = cli.run("script", "-a", "production", "--shell", shell, record=False)
    assert ran.returncode == 0, ran.stderr
    script = cli.home / f"creds.{'ps1' if shell == 'powershell' else shell}"
    script.write_text(ran.stdout)
    env = {**cli.env, "AWS_PROFILE": "other"}
    result = subprocess.run(
        [*reader, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    script.unlink()
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected['AccessKeyId']}|{expected['SessionToken']}|unset"


#: How each shell's users evaluate `samljit script` (the shell's own idioms, and saml2aws's
#: unquoted `eval $(...)`), then what the test reads back.
SCRIPT = 'samljit script -a "$ACCOUNT"'
SHOW_POSIX = (
    '; s=$?; printf "%s|%s|%s|%s|%s|%s" "$s" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" '
    '"$SAMLJIT_IDP_ACCOUNT" "${AWS_PROFILE-unset}" "$AWS_REGION"'
)
SHOW_FISH = (
    "; set s $status; set -q AWS_PROFILE; or set AWS_PROFILE unset; "
    'printf "%s|%s|%s|%s|%s|%s" $s "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" '
    '"$SAMLJIT_IDP_ACCOUNT" $AWS_PROFILE "$AWS_REGION"'
)
SCRIPT_IDIOMS = [
    ("bash", f'eval "$({SCRIPT} --shell bash)"'),
    ("bash", f"eval $({SCRIPT} --shell bash)"),
    ("bash", f"source <({SCRIPT} --shell bash)"),
    ("zsh", f'eval "$({SCRIPT} --shell zsh)"'),
    ("zsh", f"eval $({SCRIPT} --shell zsh)"),
    ("zsh", f"source <({SCRIPT} --shell zsh)"),
    ("fish", f"{SCRIPT} --shell fish | source"),
    ("fish", f"eval ({SCRIPT} --shell fish)"),
    ("fish", f"source ({SCRIPT} --shell fish | psub)"),
]


@pytest.mark.parametrize(
    ("shell", "idiom"),
    [pytest.param(*x, marks=requires_tool(x[0]), id=f"{x[0]}: {x[1]}") for x in SCRIPT_IDIOMS],
)
def test_script_works_with_each_shells_idioms_quoted_or_not(
    cli: Cli, jumpcloud: JumpCloudEmulator, shell: str, idiom: str
) -> None:
    """Set or not set AWS_PROFILE, quoted or not, with an account name holding blanks and
    glob characters: the shell sets every variable, returns 0 and prints nothing."""
    account = "prod  team*"  # two blanks: a split and re-joined word would lose one
    config = account_config(jumpcloud, name=account).replace(
        f"aws_profile = {account}", "aws_profile = prod-team"
    )
    cli.write_config(config)
    ran = cli.run(
        "credential-process", "-a", account, env={"SAMLJIT_MFA_TOKEN": code(cli)},
        stdout_has_secrets=True,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    expected = json.loads(ran.stdout)
    cli.secrets.update([expected["SecretAccessKey"], expected["SessionToken"]])
    (cli.home / "prod  team-glob-bait").write_text("")  # what `prod  team*` would glob to
    show = SHOW_FISH if shell == "fish" else SHOW_POSIX
    path = f"{SAMLJIT.parent}{os.pathsep}{cli.env['PATH']}"
    for profile in ("other", None):
        env = {**cli.env, "PATH": path, "ACCOUNT": account}
        if profile is not None:
            env["AWS_PROFILE"] = profile
        result = subprocess.run(
            [shell, "-c", idiom + show],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cli.home,
            stdin=subprocess.DEVNULL,
        )
        cli.outputs.append(result.stderr)  # a failing line must not show a secret
        assert result.stderr == "", result.stderr
        assert result.stdout == "|".join(
            ["0", expected["SecretAccessKey"], expected["SessionToken"], account, "unset",
             "us-east-2"]
        )  # fmt: skip


def test_script_env_and_json(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    expected = process_json(cli, SAMLJIT_MFA_TOKEN=code(cli))
    as_json = json.loads(
        cli.run("script", "-a", "production", "--shell", "json", record=False).stdout
    )
    assert as_json["AWS_SECRET_ACCESS_KEY"] == expected["SecretAccessKey"]
    assert as_json["AWS_REGION"] == "us-east-2"
    env_lines = cli.run("script", "-a", "production", "--shell", "env", record=False).stdout
    assert f"AWS_SESSION_TOKEN={expected['SessionToken']}" in env_lines.splitlines()


# -- console ----------------------------------------------------------------------------
class SigninStandIn:
    """A loopback stand-in for the AWS federation endpoint that checks the request shape."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/federation"

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        query = parse_qs(request.query_string.decode())
        self.requests.append(query)
        ok = (
            request.method == "GET"
            and request.path == "/federation"
            and query.get("Action") == ["getSigninToken"]
            and set(json.loads(query.get("Session", ["{}"])[0]))
            == {"sessionId", "sessionKey", "sessionToken"}
        )
        if not ok:
            return Response("bad request", status=400)(environ, start_response)
        return Response(json.dumps({"SigninToken": "tok-123"}), mimetype="application/json")(
            environ, start_response
        )


@pytest.fixture
def signin() -> Iterator[SigninStandIn]:
    stand_in = SigninStandIn()
    stand_in.thread.start()
    yield stand_in
    stand_in.server.shutdown()


PARTITIONS = {
    "aws": (
        "arn:aws:iam::012345678987",
        "https://console.aws.amazon.com/console/home?region=us-east-2",
    ),
    "aws-cn": (
        "arn:aws-cn:iam::012345678987",
        "https://console.amazonaws.cn/console/home?region=us-east-2",
    ),
    "aws-us-gov": (
        "arn:aws-us-gov:iam::012345678987",
        "https://console.amazonaws-us-gov.com/console/home?region=us-east-2",
    ),
}


@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_console_link_in_every_partition(
    cli: Cli, jumpcloud: JumpCloudEmulator, signin: SigninStandIn, partition: str
) -> None:
    prefix, destination = PARTITIONS[partition]
    role = f"{prefix}:role/Ops"
    jumpcloud.add_user(
        make_user(apps={SLUG: App(roles=grants((role, f"{prefix}:saml-provider/JumpCloud")))})
    )
    cli.write_config(account_config(jumpcloud, role=None))
    env = {"SAMLJIT_FEDERATION_URL": signin.url, "SAMLJIT_MFA_TOKEN": code(cli)}
    ran = cli.run(
        "console",
        "-a",
        "production",
        "--json",
        "--duration",
        "3600",
        env=env,
        stdout_has_secrets=True,
    )
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    link = urlsplit(data["ConsoleUrl"])
    query = parse_qs(link.query)
    assert query["Action"] == ["login"] and query["Issuer"] == ["samljit"]
    assert query["SigninToken"] == ["tok-123"]
    assert query["Destination"] == [destination]
    assert signin.requests[-1]["SessionDuration"] == ["3600"]
    assert data["Expiration"].endswith("Z")
    printed = cli.run(
        "console",
        "-a",
        "production",
        "--print",
        "--destination",
        "https://console.aws.amazon.com/s3/",
        env=env,
    )
    assert printed.stdout.startswith(signin.url + "?Action=login")
    assert "s3%2F" in printed.stdout


def test_console_opens_the_browser(
    cli: Cli, jumpcloud: JumpCloudEmulator, signin: SigninStandIn
) -> None:
    opened = cli.home / "opened.txt"
    browser = cli.home / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    cli.write_config(account_config(jumpcloud))
    env = {
        "SAMLJIT_FEDERATION_URL": signin.url,
        "SAMLJIT_MFA_TOKEN": code(cli),
        "BROWSER": str(browser),
    }
    ran = cli.run("console", "-a", "production", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "Opened the AWS console" in ran.stderr
    assert "tok-123" not in ran.stdout + ran.stderr
    # the browser's command line (readable by every local user in ps) holds no SigninToken:
    # it gets a 0600 page in a private directory that forwards to the link
    argument = opened.read_text()
    assert "tok-123" not in argument and "SigninToken" not in argument
    assert argument.startswith("file://")
    page = Path(urlsplit(argument).path)
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(page.parent.stat().st_mode) == 0o700
    forwarded = html.unescape(page.read_text())
    assert f"url={signin.url}?Action=login" in forwarded
    assert "SigninToken=tok-123" in forwarded


def test_console_default_signin_hosts() -> None:
    from samljit.aws.federation import federation_endpoint

    assert federation_endpoint("aws", {}) == "https://signin.aws.amazon.com/federation"
    assert federation_endpoint("aws-cn", {}) == "https://signin.amazonaws.cn/federation"
    assert federation_endpoint("aws-us-gov", {}) == "https://signin.amazonaws-us-gov.com/federation"


def test_audit_log_rotates_by_size(tmp_path: Path) -> None:
    from samljit.jit.audit import AuditLog

    log = AuditLog(tmp_path, "login", max_bytes=300)
    secret = "hunter2-Audit-Secret-77"
    for i in range(20):  # a caller passing a secret along: only the known fields are written
        log.record("grant.issued", account=f"a{i}", password=secret, token=secret)
    assert (tmp_path / "audit.log.1").exists()
    assert os.path.getsize(tmp_path / "audit.log") < 600
    entries = list(log.read())
    assert entries[-1]["account"] == "a19"
    assert all("password" not in e for e in entries)
    assert all(set(e) == {"time", "event", "command", "account"} for e in entries)
    written = (tmp_path / "audit.log.1").read_text() + (tmp_path / "audit.log").read_text()
    assert secret not in written


def test_script_uses_the_role_the_profile_holds_like_exec(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    """An account with several roles and no default: after `login --role full`, `script`
    (like `exec`) answers from the profile instead of asking which role."""
    cli.write_config(account_config(jumpcloud, role=None))
    logged_in = cli.run("login", "-a", "production", "--role", "full", "--mfa-token", code(cli))
    assert logged_in.returncode == 0, logged_in.stderr
    ran = cli.run("script", "-a", "production", "--shell", "json", record=False)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["SAMLJIT_ROLE_ARN"].endswith("/AcmeJumpCloudAdmin")
    assert cli.run("exec", "-a", "production", "--", "true").returncode == 0
