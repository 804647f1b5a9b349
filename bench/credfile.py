"""Credentials-file benchmark: median wall time of writing one profile into a big file.

    python bench/credfile.py [--runs 21] [--profiles 5000]

A temp dir holds a generated credentials file of ``--profiles`` samljit-style profiles (six
keys each, a comment every hundred). Each run restores that file, then times one
``write_profile`` call (lock, read, edit, check, atomic write with fsync) that replaces a
profile in the middle of the file, and one that appends a new profile. Wall time and this
process's CPU time are printed (on a loaded machine CPU time is the steadier figure). The
result is reported in issue notes; tests never assert times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from samljit.sinks.credfile import write_profile


def generated(profiles: int) -> str:
    parts = []
    for i in range(profiles):
        if i % 100 == 0:
            parts.append(f"# accounts {i} to {i + 99}\n")
        parts.append(
            f"[profile-{i}]\n"
            f"aws_access_key_id = ASIA{i:016d}\n"
            f"aws_secret_access_key = {'s' * 40}\n"
            f"aws_session_token = {'t' * 400}\n"
            f"aws_security_token = {'t' * 400}\n"
            "x_security_token_expires = 2030-01-01T00:00:00Z\n"
            f"x_principal_arn = arn:aws:sts::012345678987:assumed-role/Role{i}/ops\n"
            "\n"
        )
    return "".join(parts)


def values(run: int) -> dict[str, str]:
    return {
        "aws_access_key_id": f"ASIANEW{run:013d}",
        "aws_secret_access_key": "n" * 40,
        "aws_session_token": "u" * 400,
        "aws_security_token": "u" * 400,
        "x_security_token_expires": "2031-01-01T00:00:00Z",
        "x_principal_arn": "arn:aws:sts::012345678987:assumed-role/New/ops",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--profiles", type=int, default=5000)
    options = parser.parse_args()
    original = generated(options.profiles).encode()
    cases = [
        (f"replace [profile-{options.profiles // 2}]", f"profile-{options.profiles // 2}"),
        ("append a new profile", "brand-new"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "credentials"
        samples: dict[str, list[float]] = {label: [] for label, _ in cases}
        cpu: dict[str, list[float]] = {label: [] for label, _ in cases}
        for run in range(options.runs):  # interleaved, so that load drifts hit both alike
            for label, profile in cases:
                path.write_bytes(original)
                path.chmod(0o600)
                start, start_cpu = time.perf_counter(), time.process_time()
                write_profile(path, profile, values(run))
                samples[label].append((time.perf_counter() - start) * 1000)
                cpu[label].append((time.process_time() - start_cpu) * 1000)
        size = len(original) / 1e6
        print(f"{options.profiles} profiles, {size:.1f} MB, median of {options.runs} runs:")
        for label, _ in cases:
            wall, used = statistics.median(samples[label]), statistics.median(cpu[label])
            print(f"  {label:24s} {wall:7.1f} ms wall {used:7.1f} ms CPU")


if __name__ == "__main__":
    main()
