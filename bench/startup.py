"""Start-up benchmark: median wall time of samljit's light paths next to a bare interpreter.

    python bench/startup.py [--runs 30]

Paths measured: ``--version``, ``--help`` and ``login`` answered from a still-valid profile
(a temp HOME with a config and a credentials profile; nothing is contacted). The result is
reported in issue notes; tests never assert times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SAMLJIT = str(Path(sys.executable).parent / "samljit")


def median_ms(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def cached_home(root: Path) -> dict[str, str]:
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
    return {"HOME": str(root), "PATH": os.environ.get("PATH", "")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        env = cached_home(Path(tmp))
        rows = [
            ("python3 -c pass", [sys.executable, "-c", "pass"]),
            ("samljit --version", [SAMLJIT, "--version"]),
            ("samljit --help", [SAMLJIT, "--help"]),
            ("samljit login (cached)", [SAMLJIT, "login", "-a", "production"]),
        ]
        base = None
        for label, argv in rows:
            ms = median_ms(argv, env, runs)
            base = base or ms
            print(f"{label:28s} {ms:7.1f} ms  ({ms / base:4.1f}x bare interpreter)")


if __name__ == "__main__":
    main()
