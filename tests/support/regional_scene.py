"""The scene of the regional sign-in test, run inside a private network and mount namespace
(:func:`tests.support.netns.run_python` with a hosts file naming ``STS_HOST`` 127.0.0.1):
moto's STS on ``https://STS_HOST`` (port 443, a certificate for that name from a test CA the
run trusts through ``AWS_CA_BUNDLE``), the sandbox IdP on loopback posting its SAMLResponse to
``DESTINATION``, and the installed samljit logging in with GenericForm and no endpoint
override. Then once more with ``AWS_ENDPOINT_URL_STS`` naming a second, plain loopback STS: the
override wins over the Destination. Prints one JSON object: each run's exit code and output,
and the calls each STS saw (with the Host they were made to).

    python -m tests.support.regional_scene HOME
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from samljit.tools.sandbox.idp import SandboxIdp
from samljit.tools.sandbox.keys import load_signing_key
from samljit.tools.sandbox.response import RoleGrant
from samljit.tools.sandbox.server import LoopbackServer
from samljit.tools.sandbox.users import READONLY_ROLE, SANDBOX_PROVIDER, SandboxUser
from tests.support.accounts import EMAIL, PASSWORD
from tests.support.cli import run_samljit
from tests.support.moto_sts import MotoSts
from tests.support.paths import FIXTURES
from tests.support.tls import tls_pair

REGION = "eu-west-2"
STS_HOST = f"sts.{REGION}.amazonaws.com"
DESTINATION = f"https://{REGION}.signin.aws.amazon.com/saml"
#: The account's own region (written into the profile): not where STS is called.
PROFILE_REGION = "us-west-2"
KEYS = FIXTURES / "keys"


def login(home: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_samljit("login", "-a", "regional", *extra, env=env, cwd=home)


def calls(sts: MotoSts) -> list[dict[str, Any]]:
    return [dataclasses.asdict(call) for call in sts.calls]


def main(home_arg: str) -> None:
    home = Path(home_arg)
    pair = tls_pair(home, "regional-sts", host=STS_HOST)
    key = load_signing_key(KEYS / "idp-test.key", KEYS / "idp-test.crt")
    user = SandboxUser(
        username=EMAIL,
        password=PASSWORD,
        roles=(RoleGrant(role_arn=READONLY_ROLE, principal_arn=SANDBOX_PROVIDER),),
    )
    server = LoopbackServer()
    idp = SandboxIdp([user], key.key_pem, key.cert_pem, server.url, acs_url=DESTINATION)
    server.set_app(idp)
    server.start()
    (home / ".samljit").write_text(
        f"[regional]\nprovider = GenericForm\nurl = {idp.sso_url()}\nusername = {EMAIL}\n"
        f"idp_certificate = {KEYS / 'idp-test.crt'}\nregion = {PROFILE_REGION}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["AWS_CA_BUNDLE"] = str(pair.ca)
    result: dict[str, Any] = {}
    try:
        with MotoSts(port=443, tls=pair.server_context()) as regional, MotoSts() as override:
            ran = login(home, env)
            result["regional"] = {
                "returncode": ran.returncode,
                "stdout": ran.stdout,
                "stderr": ran.stderr,
                "calls": calls(regional),
            }
            ran = login(home, {**env, "AWS_ENDPOINT_URL_STS": override.url}, "--force")
            result["override"] = {
                "returncode": ran.returncode,
                "stdout": ran.stdout,
                "stderr": ran.stderr,
                "url": override.url,
                "calls": calls(override),
                "regional_calls": calls(regional),
            }
            result["issued"] = len(idp.issued)
    finally:
        server.stop()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
