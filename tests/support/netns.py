"""A private network namespace for tests that need a non-loopback address whose traffic never
leaves the machine: ``unshare -n`` (root), loopback brought up, and :data:`ADDRESS` added to
it. Inside, ``10.99.0.2`` is "another host" to samljit (not loopback), yet only the namespace
can reach it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The namespace's non-loopback address (on its own ``lo``).
ADDRESS = "10.99.0.2"
REPO = Path(__file__).resolve().parents[2]
_SETUP = f"ip link set lo up && ip addr add {ADDRESS}/32 dev lo"


def missing() -> str | None:
    """Why a namespace cannot be made here, or None."""
    for program in ("unshare", "ip"):
        if shutil.which(program) is None:
            return f"{program} not on PATH"
    try:
        done = subprocess.run(
            ["unshare", "-n", "sh", "-c", _SETUP],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["unshare -n failed"])[-1]
    return None


def run_python(
    module: str, args: Sequence[str], *, env: Mapping[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module args…`` (from the repository root) in a new namespace."""
    inside = [sys.executable, "-m", module, *args]
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", f'{_SETUP} && exec "$@"', "sh", *inside],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
