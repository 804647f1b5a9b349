"""Start-up benchmark: median wall time of samljit's light paths next to a bare interpreter.

    python bench/startup.py [--runs 30]

Paths measured: ``--version``, ``--help``, and ``login``, ``credential-process`` and ``exec``
answered from still-valid credentials (a temp HOME with a config, a credentials profile and a
cache entry; nothing is contacted). The result is
reported in issue notes; tests never assert times.
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


def once_ms(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.decode()}")
    return (time.perf_counter() - start) * 1000


def cached_home(root: Path) -> dict[str, str]:
    from samljit.jit.cache import entry_key

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
            }
        )
    )
    entry.chmod(0o600)
    for directory in (root / ".cache", root / ".cache" / "samljit"):
        directory.chmod(0o700)
    return {"HOME": str(root), "PATH": os.environ.get("PATH", "")}


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
            ("python3 -c pass", [sys.executable, "-c", "pass"]),
            ("samljit --version", [samljit, "--version"]),
            ("samljit --help", [samljit, "--help"]),
            ("samljit login (cached)", [samljit, "login", "-a", "production"]),
            ("credential-process (cached)", [samljit, "credential-process", "-a", "production"]),
            ("exec -- true (cached)", [samljit, "exec", "-a", "production", "--", "true"]),
        ]
        samples: dict[str, list[float]] = {label: [] for label, _ in rows}
        for _ in range(runs):  # interleaved, so that machine load drifts hit every row alike
            for label, argv in rows:
                samples[label].append(once_ms(argv, env))
        base = statistics.median(samples[rows[0][0]])
        for label, _ in rows:
            ms = statistics.median(samples[label])
            print(f"{label:28s} {ms:7.1f} ms  ({ms / base:4.1f}x bare interpreter)")


if __name__ == "__main__":
    main()
