"""A private network namespace for tests that need a non-loopback address whose traffic never
leaves the machine: ``unshare -n`` (root), loopback brought up, and :data:`ADDRESS` added to
it. Inside, ``10.99.0.2`` is "another host" to samljit (not loopback), yet only the namespace
can reach it."""

from __future__ import annotations

import shlex
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
    module: str,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float = 90,
    hosts: Path | None = None,
    resolv: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module args…`` (from the repository root) in a new namespace.

    ``hosts``: a file bind-mounted over ``/etc/hosts`` in a mount namespace of its own, so
    that real host names (``sts.eu-west-2.amazonaws.com``) resolve to the namespace's own
    addresses there and nowhere else (there is no DNS in the namespace). ``resolv``: the same
    for ``/etc/resolv.conf`` (a DNS server of the test's own inside the namespace)."""
    inside = [sys.executable, "-m", module, *args]
    setup, flags = _SETUP, ["-n"]
    for path, target in ((hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
        if path is not None:
            setup += f" && mount --bind {shlex.quote(str(path))} {target}"
            if "-m" not in flags:
                flags.append("-m")
    return subprocess.run(
        ["unshare", *flags, "sh", "-c", f'{setup} && exec "$@"', "sh", *inside],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
