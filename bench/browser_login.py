"""Browser-provider benchmark: wall time of a headless ``samljit login`` on the real browser.

    python bench/browser_login.py [--runs 5] [--executable /usr/bin/chromium]

Serves the sandbox IdP (https on localhost, its certificate from a throwaway CA that
``AWS_CA_BUNDLE`` names) and moto's STS on loopback, in this process, and runs the installed
``samljit login --force`` on a Browser account with ``headless = true`` and
``browser_autofill = true`` in a temp HOME. Three cases, medians of ``--runs``:

* ``first``: a new profile each time (the browser's first start in it, the NSS database for
  the bundle built, the password typed by autofill);
* ``kept``: the same profile again (the IdP session kept by samljit answers; no password);
* ``password``: the same profile, the IdP session dropped (``logout``) before each run.

Needs the ``browser``, ``demo`` and ``test`` extras, chromium and certutil. The result is
reported in issue notes; tests never assert times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samljit.tools.sandbox.idp import SandboxIdp  # noqa: E402
from samljit.tools.sandbox.keys import load_signing_key  # noqa: E402
from samljit.tools.sandbox.response import RoleGrant  # noqa: E402
from samljit.tools.sandbox.server import LoopbackServer  # noqa: E402
from samljit.tools.sandbox.sts import MotoSts  # noqa: E402
from samljit.tools.sandbox.users import READONLY_ROLE, SANDBOX_PROVIDER, SandboxUser  # noqa: E402
from tests.support.tls import tls_pair  # noqa: E402

SAMLJIT = str(Path(sys.executable).parent / "samljit")
KEYS = ROOT / "fixtures" / "keys"
USER, PASSWORD = "bench@example.org", "bench-Password-1"


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--executable", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="samljit-bench-"))
    pair = tls_pair(work, "bench", host="localhost")
    key = load_signing_key(KEYS / "idp-test.key", KEYS / "idp-test.crt")
    server = LoopbackServer(url_host="localhost", tls=pair.server_context())
    grant = RoleGrant(role_arn=READONLY_ROLE, principal_arn=SANDBOX_PROVIDER)
    user = SandboxUser(username=USER, password=PASSWORD, roles=(grant,))
    idp = SandboxIdp([user], key.key_pem, key.cert_pem, server.url)
    server.set_app(idp)
    server.start()
    results: dict[str, list[float]] = {"first": [], "kept": [], "password": []}
    try:
        with MotoSts() as sts:
            for run in range(args.runs):
                home = work / f"home{run}"
                home.mkdir()
                (home / ".samljit").write_text(
                    f"[web]\nprovider = Browser\nurl = {idp.sso_url()}\nusername = {USER}\n"
                    f"idp_certificate = {KEYS / 'idp-test.crt'}\nheadless = true\n"
                    f"browser_autofill = true\nbrowser_executable_path = {args.executable}\n"
                )
                env = {
                    "HOME": str(home),
                    "PATH": os.environ.get("PATH", ""),
                    "AWS_ENDPOINT_URL_STS": sts.url,
                    "AWS_CA_BUNDLE": str(pair.ca),
                    "SAMLJIT_PASSWORD": PASSWORD,
                    "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                }
                login = [SAMLJIT, "login", "-a", "web", "--force", "--quiet"]
                results["first"].append(timed(login, env))
                results["kept"].append(timed(login, env))
                timed([SAMLJIT, "logout", "-a", "web", "--quiet"], env)
                results["password"].append(timed(login, env))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    for name, walls in results.items():
        print(
            f"{name:9} median {statistics.median(walls):.2f} s  (runs: "
            + ", ".join(f"{w:.2f}" for w in walls)
            + ")"
        )


if __name__ == "__main__":
    main()
