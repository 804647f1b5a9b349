"""Regional AWS sign-in endpoints, through the installed CLI: a SAMLResponse the IdP addresses
to ``https://REGION.signin.aws.amazon.com/saml`` is exchanged at STS in that region
(``sts.REGION.amazonaws.com``), whatever the provider and the account's ``region``, unless an
endpoint override (``AWS_ENDPOINT_URL_STS``) names another STS. The STS host name is real: a
private network and mount namespace resolves it to moto on loopback (with a test CA's
certificate for it), and nothing else resolves there."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import netns
from tests.support.cli import Cli
from tests.support.regional_scene import PROFILE_REGION, STS_HOST
from tests.support.tools import requires_tool


@requires_tool("netns")
def test_a_regional_destination_sends_the_assertion_to_that_regions_sts(
    cli: Cli, tmp_path: Path
) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n127.0.0.1 {STS_HOST}\n")
    ran = netns.run_python(
        "tests.support.regional_scene", [str(cli.home)], env=cli.env, hosts=hosts
    )
    assert ran.returncode == 0, ran.stderr
    scene = json.loads(ran.stdout)
    regional, override = scene["regional"], scene["override"]
    cli.outputs += [regional["stdout"], regional["stderr"], override["stdout"], override["stderr"]]
    # no override: the call went to https://sts.eu-west-2.amazonaws.com, not the account's
    # region (us-west-2) nor the global endpoint, and the login succeeded
    assert regional["returncode"] == 0, regional["stderr"]
    assert [(c["action"], c["host"], c["status"]) for c in regional["calls"]] == [
        ("AssumeRoleWithSAML", STS_HOST, 200)
    ]
    credentials = cli.credentials.read_text()
    assert "[regional]" in credentials
    assert f"region = {PROFILE_REGION}" in credentials  # the profile keeps the account's region

    # with AWS_ENDPOINT_URL_STS (how tests reach moto) the override wins over the Destination
    assert override["returncode"] == 0, override["stderr"]
    host = override["url"].removeprefix("http://")
    assert [(c["action"], c["host"]) for c in override["calls"]] == [("AssumeRoleWithSAML", host)]
    assert len(override["regional_calls"]) == 1  # the regional STS saw nothing more
    assert scene["issued"] == 2
