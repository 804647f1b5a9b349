"""A browser login contacts the IdP and nothing else: the installed samljit logs in
(GoogleApps, headless, autofill, Debian's chromium) inside a private network namespace whose
only DNS server and only other host are a recording sink (:mod:`tests.support.quiet_scene`);
the sink sees no lookup and no connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import netns
from tests.support.cli import Cli
from tests.support.tools import requires_tool

pytestmark = [
    requires_tool("chromium"),
    pytest.mark.skipif(netns.missing() is not None, reason=f"no namespace: {netns.missing()}"),
]


def test_a_login_looks_up_and_contacts_no_other_host(cli: Cli, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {netns.ADDRESS}\n")
    ran = netns.run_python(
        "tests.support.quiet_scene",
        [str(cli.home)],
        env=cli.env,
        hosts=hosts,
        resolv=resolv,
        timeout=150,
    )
    assert ran.returncode == 0, ran.stderr
    scene = json.loads(ran.stdout)
    cli.outputs += [scene["stdout"], scene["stderr"]]
    assert scene["returncode"] == 0, scene["stderr"]
    assert "Logged in: AcmeJumpCloudAdminRO" in scene["stderr"]
    assert scene["names"] == []  # no DNS lookup of any host (update.googleapis.com before)
    assert scene["connections"] == []  # and no connection to one
