"""Start-up benchmark: median wall time of samljit's light paths next to a bare interpreter.

    python bench/startup.py [--runs 30]

Paths measured: ``--version``, ``--help``, and ``login``, ``credential-process`` and ``exec``
answered from still-valid credentials (a temp HOME with a config, a credentials profile and a
cache entry; nothing is contacted). Wall and CPU medians of interleaved runs, each as a ratio
to the same interpreter's bare start, then what each path imports beyond that start
(``python -X importtime``). Measure a regular ``pip install .`` (``--samljit``): an editable
install adds an import hook. The result is reported in issue notes; tests never assert times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SAMLJIT = str(Path(sys.executable).parent / "samljit")  # --samljit to measure another install


def once_ms(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run. CPU time suffers far less from
    a busy machine than wall time: report both."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read() if child.stderr else b""
    if child.returncode != 0:
        raise SystemExit(f"{argv} failed: {err.decode()}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def cached_home(root: Path) -> dict[str, str]:
    from samljit.common.paths import entry_key

    (root / ".aws").mkdir()
    (root / ".samljit").write_text(
        "[production]\nprovider = JumpCloud\nurl = https://sso.jumpcloud.com/saml2/acme\n"
        "role_arn = arn:aws:iam::012345678987:role/AcmeRO\n"
    )
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (root / ".aws" / "credentials").write_text(
        "[production]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = s\n"
        "aws_session_token = t\naws_security_token = t\n"
        f"x_security_token_expires = {expires}\n"
        "x_principal_arn = arn:aws:sts::012345678987:assumed-role/AcmeRO/ops\n"
    )
    cache = root / ".cache" / "samljit" / "credentials"
    cache.mkdir(parents=True, mode=0o700)
    entry = cache / f"{entry_key('production', 'arn:aws:iam::012345678987:role/AcmeRO')}.json"
    entry.write_text(
        json.dumps(
            {
                "format": 1,
                "Account": "production",
                "RoleRef": "arn:aws:iam::012345678987:role/AcmeRO",
                "RoleArn": "arn:aws:iam::012345678987:role/AcmeRO",
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": expires,
                "AssumedRoleArn": "arn:aws:sts::012345678987:assumed-role/AcmeRO/ops",
                "Region": None,
                "Url": "https://sso.jumpcloud.com/saml2/acme",
                "Username": "",
            }
        )
    )
    entry.chmod(0o600)
    for directory in (root / ".cache", root / ".cache" / "samljit"):
        directory.chmod(0o700)
    return {"HOME": str(root), "PATH": os.environ.get("PATH", "")}


def _imports(argv: list[str], env: dict[str, str]) -> set[str]:
    ran = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return {
        line.rsplit("|", 1)[1].strip()
        for line in ran.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    } - {"module"}


def _python_of(executable: str) -> str:
    """The interpreter of an installed console script (its shebang), to compare like with
    like."""
    with open(executable, "rb") as handle:
        first = handle.readline().decode().strip()
    return first[2:].split()[0] if first.startswith("#!") else sys.executable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--samljit",
        default=SAMLJIT,
        help="the executable to measure (an editable install adds an import hook: measure a "
        "regular `pip install .` for users' figures)",
    )
    options = parser.parse_args()
    runs, samljit = options.runs, options.samljit
    with tempfile.TemporaryDirectory() as tmp:
        env = cached_home(Path(tmp))
        rows = [
            ("python -c pass (same python)", [_python_of(samljit), "-c", "pass"]),
            ("samljit --version", [samljit, "--version"]),
            ("samljit --help", [samljit, "--help"]),
            ("samljit login (cached)", [samljit, "login", "-a", "production"]),
            ("credential-process (cached)", [samljit, "credential-process", "-a", "production"]),
            ("exec -- true (cached)", [samljit, "exec", "-a", "production", "--", "true"]),
        ]
        wall: dict[str, list[float]] = {label: [] for label, _ in rows}
        cpu: dict[str, list[float]] = {label: [] for label, _ in rows}
        for _ in range(runs):  # interleaved, so that machine load drifts hit every row alike
            for label, argv in rows:
                w, c = once_ms(argv, env)
                wall[label].append(w)
                cpu[label].append(c)
        base_wall = statistics.median(wall[rows[0][0]])
        base_cpu = statistics.median(cpu[rows[0][0]])
        title = f"medians of {runs} runs"
        print(f"{title:28s} {'wall':>9s} {'ratio':>6s} {'cpu':>9s} {'ratio':>6s}")
        for label, _ in rows:
            w, c = statistics.median(wall[label]), statistics.median(cpu[label])
            print(f"{label:28s} {w:6.1f} ms {w / base_wall:5.2f}x {c:6.1f} ms {c / base_cpu:5.2f}x")
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        bare = _imports([rows[0][1][0], "-X", "importtime", "-c", "pass"], env)
        print(f"python -X importtime: the bare interpreter imports {len(bare)} modules; beyond")
        for label, argv in rows[1:]:
            python = _python_of(samljit)
            extra = _imports([python, "-X", "importtime", *argv], env) - bare
            print(f"  {label:26s} {len(extra):3d} more: {' '.join(sorted(extra)) or '-'}")


if __name__ == "__main__":
    main()
