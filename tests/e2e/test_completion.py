"""``samljit completion bash|zsh|fish``: valid scripts, generated from the parser, that
complete commands and account names read from the config file (driven in the real shells)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Cli
from tests.support.tools import requires_tool

CONFIG = """\
# accounts
[production]
provider = JumpCloud
url = https://sso.jumpcloud.com/saml2/acme
  [[roles]]
  readonly = arn:aws:iam::012345678987:role/RO
  [[accounts]]
  012345678987 = acme
[dev]   # the dev account
provider = KeyCloak
url = https://kc.example/realms/dev
[ staging ]
provider = Shibboleth
url = https://idp.example/idp
"""
ACCOUNTS = ["production", "dev", "staging"]


#: How each shell checks a script's syntax without running it.
SYNTAX_CHECK = {"bash": "-n", "zsh": "-n", "fish": "--no-execute"}


def script(cli: Cli, shell: str) -> Path:
    """``samljit completion SHELL`` written to a file, which the shell finds well-formed
    (PowerShell, never installed here, is checked by its text alone)."""
    ran = cli.run("completion", shell)
    assert ran.returncode == 0, ran.stderr
    path = cli.home / f"samljit.{shell}"
    path.write_text(ran.stdout)
    if shell in SYNTAX_CHECK:
        syntax = run_shell(shell, SYNTAX_CHECK[shell], str(path), env=cli.env)
        assert syntax.returncode == 0, syntax.stderr
    return path


def run_shell(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


BASH_DRIVER = """
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_shtab_samljit samljit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "${COMPREPLY[@]}"
"""


def bash_complete(
    cli: Cli, path: Path, *words: str, env: dict[str, str] | None = None
) -> list[str]:
    ran = run_shell(
        "bash", "--norc", "-c", BASH_DRIVER, "-", str(path), "samljit", *words,
        env={**cli.env, **(env or {})},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return [line for line in ran.stdout.splitlines() if line]


@requires_tool("bash")
def test_bash_script_is_valid_and_completes_accounts(cli: Cli) -> None:
    path = script(cli, "bash")
    assert "complete -o bashdefault -F _shtab_samljit samljit" in path.read_text()

    cli.write_config(CONFIG)
    assert bash_complete(cli, path, "login", "-a", "") == ACCOUNTS
    assert bash_complete(cli, path, "login", "--idp-account", "d") == ["dev"]
    assert bash_complete(cli, path, "-a", "pro") == ["production"]  # before the command too
    # --config on the line, then $SAMLJIT_CONFIG, name the file
    other = cli.home / "other.ini"
    other.write_text("[alpha]\n[beta]\n")
    assert bash_complete(cli, path, "--config", str(other), "exec", "-a", "") == ["alpha", "beta"]
    assert bash_complete(cli, path, "status", "-a", "", env={"SAMLJIT_CONFIG": str(other)}) == [
        "alpha",
        "beta",
    ]
    # commands and options come from the parser
    assert bash_complete(cli, path, "lo") == ["login", "logout"]
    assert "--import-saml2aws" in bash_complete(cli, path, "configure", "--im")
    assert bash_complete(cli, path, "completion", "") == ["bash", "zsh", "fish", "powershell"]
    # no config file: nothing to offer, no error
    cli.config.unlink()
    assert bash_complete(cli, path, "login", "-a", "") == []


@requires_tool("zsh")
def test_zsh_script_is_valid_and_lists_accounts(cli: Cli) -> None:
    path = script(cli, "zsh")
    cli.write_config(CONFIG)
    driver = (
        'compdef() { :; }; eval "$(cat "$1")"; '
        "compadd() { [[ $1 == -a ]] && print -l -- ${(P)2}; }; "
        'words=(samljit login -a ""); _samljit_accounts'
    )
    ran = run_shell("zsh", "-f", "-c", driver, "zsh", str(path), env=cli.env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ACCOUNTS


@requires_tool("fish")
def test_fish_script_is_valid_and_completes_accounts(cli: Cli) -> None:
    path = script(cli, "fish")
    cli.write_config(CONFIG)
    ran = run_shell(
        "fish", "--no-config", "-c", f"source {path}; complete -C 'samljit login -a '",
        env=cli.env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert [line.split("\t")[0] for line in ran.stdout.splitlines()] == ACCOUNTS


@pytest.mark.parametrize("shell", ["tcsh", ""])
def test_other_shells_are_usage_errors(cli: Cli, shell: str) -> None:
    ran = cli.run("completion", *([shell] if shell else []))
    assert ran.returncode == 2
    assert ran.stderr.startswith("samljit: error:")


def test_powershell_script_registers_a_completer(cli: Cli) -> None:
    """No PowerShell here: the script's text, and its section pattern (a .NET regex of
    constructs Python's ``re`` reads the same) run over the config file."""
    text = script(cli, "powershell").read_text()
    assert "Register-ArgumentCompleter -Native -CommandName samljit, samljit.exe" in text
    assert "  'completion' = @(" in text and "'powershell')" in text
    pattern = re.search(r"\$_ -match '([^']+)'", text)
    assert pattern is not None
    found = [m.group(1) for line in CONFIG.splitlines() if (m := re.match(pattern.group(1), line))]
    assert found == ACCOUNTS
