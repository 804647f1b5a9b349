"""The installed ``samljit`` driven the way users drive it: a subprocess with ``HOME`` in a
temp dir, its own session (no controlling terminal unless a test gives it a pty), and an
environment holding nothing from the developer's AWS setup."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.paths import SAMLJIT

if TYPE_CHECKING:
    import pexpect


def finish(child: pexpect.spawn) -> str:
    """Wait for the end of a :meth:`Cli.spawn` child: the whole transcript of what its
    terminal showed (with what was typed, which the terminal echoes)."""
    import pexpect

    child.expect(pexpect.EOF)
    child.close()
    return child.logfile_read.getvalue()  # type: ignore[union-attr]


def answer(child: pexpect.spawn, *exchanges: tuple[str, str]) -> None:
    """The user at a :meth:`Cli.spawn` child's terminal: at each question (a pattern) in
    turn, types its answer and Enter."""
    for question, reply in exchanges:
        child.expect(question)
        child.send(reply + "\r")


def finish_sdk(cli: Cli, child: pexpect.spawn, out: Path, err: Path) -> str:
    """Wait for a :meth:`Cli.spawn_sdk` child and check that it ended well: exit 0, nothing
    on stderr, credentials JSON (version 1) on stdout, whose secrets the leak check then
    knows. The terminal's transcript."""
    import json

    transcript = finish(child)
    assert child.exitstatus == 0, transcript + err.read_text()
    assert err.read_text() == ""
    data = json.loads(out.read_text())
    assert data["Version"] == 1
    cli.secrets.update([data["SecretAccessKey"], data["SessionToken"]])
    out.unlink()
    return transcript


def run_samljit(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    input: str | None = None,
    timeout: float = 60,
    command: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``samljit ARGS`` (or ``command ARGS``) with no controlling terminal,
    as a script would, its output captured."""
    return subprocess.run(
        [*(command or [str(SAMLJIT)]), *args],
        env=env,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
        cwd=cwd,
    )


def kept_cookies(home: Path) -> list[dict[str, Any]]:
    """The cookies samljit keeps as IdP sessions under ``home`` (its 0600 file store, what
    it uses when no keyring works, as in the tests)."""
    return [
        cookie
        for path in (home / ".cache" / "samljit" / "sessions").glob("*.json")
        for cookie in json.loads(path.read_text())["Cookies"]
    ]


def error_line(ran: subprocess.CompletedProcess[str]) -> str:
    """The one ``samljit: error:`` line of a run's stderr (asserted to be just one)."""
    lines = [line for line in ran.stderr.splitlines() if line.startswith("samljit: error:")]
    assert len(lines) == 1, ran.stderr
    return lines[0]


@dataclass
class Cli:
    """Runs the installed samljit with HOME in a temp dir; remembers every output."""

    home: Path
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    @property
    def config(self) -> Path:
        return self.home / ".samljit"

    @property
    def credentials(self) -> Path:
        return self.home / ".aws" / "credentials"

    def profiles(self) -> dict[str, dict[str, str]]:
        """The credentials file as samljit wrote it: each profile's keys and values (none
        where there is no file)."""
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.credentials)
        return {name: dict(parser[name]) for name in parser.sections()}

    def profile(self, name: str) -> dict[str, str]:
        """Profile ``name`` of the credentials file (a KeyError where it has none)."""
        return self.profiles()[name]

    def principal(self, profile: str) -> str:
        """Whose credentials ``profile`` holds: its ``x_principal_arn``, the role session."""
        return self.profile(profile)["x_principal_arn"]

    def logged_in(self, profile: str) -> bool:
        """Whether the credentials file holds ``profile`` as the test accounts' read-only role
        (``RO_ARN`` in tests.support.accounts) assumed."""
        return (
            self.profiles()
            .get(profile, {})
            .get("x_principal_arn", "")
            .startswith("arn:aws:sts::012345678987:assumed-role/AcmeJumpCloudAdminRO/")
        )

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
        record: bool = True,
        stdout_has_secrets: bool = False,
        python_m: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run samljit. Outputs are kept for the leak check, except with ``record=False``;
        ``stdout_has_secrets`` keeps only stderr (the command's result *is* credentials);
        ``python_m`` runs ``python -m samljit`` (the current directory on ``sys.path``)."""
        merged = {**self.env, **(env or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        command = [sys.executable, "-m", "samljit"] if python_m else [str(SAMLJIT)]
        result = run_samljit(
            *args, env=merged, cwd=self.home, input=input, timeout=timeout, command=command
        )
        if record:
            self.outputs.append(result.stderr)
            if not stdout_has_secrets:
                self.outputs.append(result.stdout)
        return result

    def importtime(
        self, *args: str, env: dict[str, str] | None = None
    ) -> tuple[list[str], subprocess.CompletedProcess[str]]:
        """Run the installed ``samljit ARGS`` as :meth:`run` does, with Python's import-time
        report on (``PYTHONPROFILEIMPORTTIME``, what ``-X importtime`` sets): every module it
        imported (full names, in order), and the run with the import-time lines taken out of
        its stderr. The console script users run, not ``python -m samljit``: its own entry
        point is what is measured."""
        ran = subprocess.run(
            [str(SAMLJIT), *args],
            env={
                **{k: v for k, v in self.env.items() if k not in COVERAGE_ENV},  # its imports
                **(env or {}),
                "PYTHONPROFILEIMPORTTIME": "1",
            },
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
            cwd=self.home,
        )
        lines = ran.stderr.splitlines()
        timed = [x for x in lines if x.startswith("import time:")]
        names = [x.rsplit("|", 1)[1].strip() for x in timed if "|" in x]
        rest = "".join(x + "\n" for x in lines if not x.startswith("import time:"))
        return names, subprocess.CompletedProcess(ran.args, ran.returncode, ran.stdout, rest)

    def spawn(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 30,
        dimensions: tuple[int, int] = (24, 80),
    ) -> pexpect.spawn:
        """``samljit ARGS`` on a pseudo-terminal (so it can ask); ``env`` on top of the test's
        (``None``: unset). :func:`finish` waits for it and gives the transcript."""
        import pexpect

        merged = {k: v for k, v in {**self.env, **(env or {})}.items() if v is not None}
        child = pexpect.spawn(
            str(SAMLJIT),
            list(args),
            env=merged,
            cwd=str(self.home),
            encoding="utf-8",
            timeout=timeout,
            dimensions=dimensions,
        )
        child.logfile_read = io.StringIO()
        return child

    def spawn_sdk(self, *args: str, timeout: float = 30) -> tuple[pexpect.spawn, Path, Path]:
        """``samljit ARGS`` as an AWS SDK runs ``credential_process``: stdout and stderr go to
        files (returned with the child), the user is at the controlling terminal
        (``/dev/tty``), which is the child's pseudo-terminal."""
        import pexpect

        out, err = self.home / "out.json", self.home / "err.txt"
        child = pexpect.spawn(
            "/bin/sh",
            ["-c", f"'{SAMLJIT}' {' '.join(args)} >'{out}' 2>'{err}'"],
            env={**self.env},
            cwd=str(self.home),
            encoding="utf-8",
            timeout=timeout,
        )
        child.logfile_read = io.StringIO()
        return child, out, err

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SAMLJIT), *args],
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            cwd=self.home,
        )

    def interrupt_at(self, process: subprocess.Popen[str], shown: str) -> tuple[str, str]:
        """Ctrl-C (SIGINT) to ``process`` once its stderr has shown ``shown`` (synchronised on
        what the user sees, not on time); its stdout and stderr, kept for the leak check."""
        import signal

        assert process.stderr is not None
        seen = ""
        while shown not in seen:
            line = process.stderr.readline()
            assert line, f"samljit ended before showing {shown!r}: {seen}"
            seen += line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)  # a bound for a loaded machine
        self.outputs.extend([out, seen + err])
        return out, seen + err

    def interrupted(self, status: int | None, said: str) -> None:
        """A run the user interrupted (exit ``status``, having ``said``) ended as it should:
        exit 130, saying so, no credentials written."""
        assert status == 130, said
        assert "interrupted" in said
        assert not self.credentials.exists()

    def configure(self, account: str, *options: str) -> str:
        """``samljit configure -a ACCOUNT --skip-prompt OPTIONS``, which must succeed: the
        config file it wrote."""
        ran = self.run("configure", "-a", account, "--skip-prompt", *options)
        assert ran.returncode == 0, ran.stderr
        return self.config.read_text()

    def write_config(self, text: str) -> None:
        self.config.write_text(text)


#: What a coverage run sets, passed on to samljit (not to the import-time measurements).
COVERAGE_ENV = ("COVERAGE_PROCESS_START", "COVERAGE_FILE")


def clean_env(home: Path) -> dict[str, str]:
    """A user's environment: nothing from the developer's AWS or samljit setup."""
    # COVERAGE_*: a coverage run (pyproject.toml) measures the samljit processes too
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", *COVERAGE_ENV)
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PROMPT_TOOLKIT_NO_CPR="1",
        NO_COLOR="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env
