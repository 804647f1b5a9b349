"""JumpCloud's two hosts, through the installed CLI: the console API
(``console.jumpcloud.test``) and the SSO pages (``sso.jumpcloud.test``) are different hosts,
and only the session cookie JumpCloud sets for their parent domain carries the login from the
one to the other, then into the kept IdP session, without anything of an unrelated host the
sign-in passed through. The names are made up: a private network and mount namespace resolves
them to the emulator on loopback (https, a test CA's certificate for them), and nothing else
resolves there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.jumpcloud import SESSION_COOKIE, XSRF_COOKIE
from tests.support import netns
from tests.support.accounts import SLUG
from tests.support.cli import Cli
from tests.support.jumpcloud_hosts_scene import (
    API_HOST,
    OTHER_COOKIES,
    OTHER_HOST,
    PARENT,
    SSO_HOST,
)
from tests.support.tools import requires_tool

SSO_PATH = f"/saml2/{SLUG}"


def scene(cli: Cli, tmp_path: Path, mode: str) -> dict[str, Any]:
    """Run the scene in its namespace; its outputs and secrets go to the leak check."""
    hosts = tmp_path / "hosts"
    names = " ".join((API_HOST, SSO_HOST, OTHER_HOST))
    hosts.write_text(f"127.0.0.1 localhost\n127.0.0.1 {names}\n")
    ran = netns.run_python(
        "tests.support.jumpcloud_hosts_scene", [mode, str(cli.home)], env=cli.env, hosts=hosts
    )
    assert ran.returncode == 0, ran.stderr
    result: dict[str, Any] = json.loads(ran.stdout)
    cli.secrets.update(result["secrets"])
    for run in ("first", "second"):
        if run in result:
            cli.outputs += [result[run]["stdout"], result[run]["stderr"]]
    return result


def hosts_of(requests: list[list[str]], path_start: str) -> set[str]:
    return {host for _, host, path in requests if path.startswith(path_start)}


@requires_tool("netns")
def test_the_parent_domain_cookie_carries_the_session_across_hosts(
    cli: Cli, tmp_path: Path
) -> None:
    result = scene(cli, tmp_path, "domain")
    first, second = result["first"], result["second"]
    assert result["urls"] == {"api": f"https://{API_HOST}", "sso": f"https://{SSO_HOST}{SSO_PATH}"}

    # the login: the console calls on the API host, the SSO page on the SSO host (asked
    # twice: the first answer sent the browser through the unrelated host and back)
    assert first["returncode"] == 0, first["stderr"]
    requests = first["requests"]
    assert hosts_of(requests, "/userconsole/") == {API_HOST}
    assert ["POST", API_HOST, "/userconsole/auth"] in requests
    assert [r for r in requests if r[2] == SSO_PATH] == [["GET", SSO_HOST, SSO_PATH]] * 2
    assert ["GET", OTHER_HOST, "/bounce"] in requests
    assert cli.logged_in("production")

    # the kept session: JumpCloud's parent-domain cookie as a domain cookie, the console's
    # own as the API host's alone, nothing of the unrelated host (nor of its parent domain)
    kept = {cookie["name"]: cookie for cookie in result["kept"]}
    session, xsrf = kept[SESSION_COOKIE], kept[XSRF_COOKIE]
    assert (session["domain"], session["host_only"], session["secure"]) == (
        f".{PARENT}",
        False,
        True,
    )
    assert (xsrf["domain"], xsrf["host_only"]) == (API_HOST, True)
    assert not set(OTHER_COOKIES) & set(kept)
    assert {c["domain"] for c in kept.values()} <= {f".{PARENT}", API_HOST, SSO_HOST}

    # the next login rides it: the SSO page alone, no XSRF token, no password
    assert second["returncode"] == 0, second["stderr"]
    assert second["requests"] == [["GET", SSO_HOST, SSO_PATH]]
    assert result["issued"] == 2


@requires_tool("netns")
def test_a_session_cookie_of_the_api_host_alone_does_not_reach_the_sso_host(
    cli: Cli, tmp_path: Path
) -> None:
    # the same sign-in with the session cookie set without Domain: the password is right,
    # yet the SSO host never sees the session and sends the browser to the console's login
    result = scene(cli, tmp_path, "host")
    first = result["first"]
    assert ["POST", API_HOST, "/userconsole/auth"] in first["requests"]
    assert ["GET", API_HOST, "/login"] in first["requests"]
    assert first["returncode"] == 3, first["stderr"]
    assert (
        f"samljit: error: JumpCloud SSO page: the page at https://{API_HOST}/login?redirectTo="
        in first["stderr"]
    )
    assert "holds no SAMLResponse" in first["stderr"]
    assert result["issued"] == 0
    assert not cli.logged_in("production")


@requires_tool("netns")
@pytest.mark.parametrize(
    ("mode", "shown", "factor_calls"),
    [
        # the push, then its polls until approved, then the login it opens
        (
            "push",
            "push sent",
            [("POST", "/userconsole/auth/push"), ("GET", "/userconsole/auth/push/")],
        ),
        # the challenge, then the assertion the key signed for the console host
        (
            "key",
            "Touch your security key",
            [("GET", "/userconsole/auth/webauthn"), ("POST", "/userconsole/auth/webauthn")],
        ),
    ],
)
def test_the_second_factor_runs_on_the_api_host_and_the_login_goes_on_to_the_sso_host(
    cli: Cli, tmp_path: Path, mode: str, shown: str, factor_calls: list[tuple[str, str]]
) -> None:
    result = scene(cli, tmp_path, mode)
    first = result["first"]
    assert first["returncode"] == 0, first["stderr"]
    assert shown in first["stderr"]
    requests = first["requests"]
    for method, path in factor_calls:
        assert any(r[0] == method and r[1] == API_HOST and r[2].startswith(path) for r in requests)
    assert hosts_of(requests, "/userconsole/") == {API_HOST}
    assert [r for r in requests if r[2] == SSO_PATH] == [["GET", SSO_HOST, SSO_PATH]] * 2
    assert result["issued"] == 1
    assert cli.logged_in("production")
