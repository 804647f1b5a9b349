"""Against a real IdP: SimpleSAMLphp (Debian's package) served on loopback by ``php -S``, with
a signing key and certificate made by ``samljit cert``; moto's STS; the installed executable.

Without php/SimpleSAMLphp they skip with the line that says how to install it
(``bash tests/support/install-simplesamlphp.sh``); CI installs it and sets
``SAMLJIT_REQUIRE_TOOLS=1``, under which they fail instead (``tests/support/tools.py``).
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from samljit.testing.emulator import ISSUED
from tests.support.cli import Cli, kept_cookies
from tests.support.paths import FIXTURES
from tests.support.simplesamlphp import (
    LOGIN_PATH,
    WRONG_PASSWORD_TEXT,
    SimpleSamlPhp,
    SspUser,
)
from tests.support.tools import requires_tool

pytestmark = requires_tool("SimpleSAMLphp")  # skips, with how to install it, where missing

PROD, DEV = "012345678987", "111122223333"
PROD_IDP = f"arn:aws:iam::{PROD}:saml-provider/SimpleSAMLphp"
DEV_IDP = f"arn:aws:iam::{DEV}:saml-provider/SimpleSAMLphp"
PROD_RO = f"arn:aws:iam::{PROD}:role/SspReadOnly"
PROD_ADMIN = f"arn:aws:iam::{PROD}:role/SspAdmin"
DEV_RO = f"arn:aws:iam::{DEV}:role/SspReadOnly"
ALICE = SspUser("alice", "alice-Pass-2931", [(PROD_RO, PROD_IDP), (PROD_ADMIN, PROD_IDP)])
BOB = SspUser("bob", "bob-Pass-8812", [(PROD_RO, PROD_IDP), (DEV_RO, DEV_IDP)])
PRINT_ENV = (
    "import json, os; print(json.dumps({k: v for k, v in os.environ.items() "
    "if k.startswith(('AWS_', 'SAMLJIT_'))}))"
)


@pytest.fixture(scope="session")
def ssp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlPhp]:
    idp = SimpleSamlPhp(tmp_path_factory.mktemp("simplesamlphp"), [ALICE, BOB]).start()
    try:
        yield idp
    finally:
        idp.stop()


def configure(cli: Cli, idp: SimpleSamlPhp, user: SspUser, *extra: str) -> None:
    cli.configure(
        "ssp", "--provider", "SimpleSAMLphp", "--url", idp.sso_url, "--username", user.username,
        "--region", "eu-west-1", *extra,
    )  # fmt: skip
    cli.env["SAMLJIT_PASSWORD"] = user.password
    cli.secrets.add(user.password)


def test_login_pinned_to_the_certificate_samljit_made_then_exec(
    cli: Cli, ssp: SimpleSamlPhp
) -> None:
    configure(cli, ssp, ALICE, "--idp-certificate", str(ssp.certificate), "--role", "SspAdmin")
    assert "idp_certificate" in cli.config.read_text()
    login = cli.run("login", "-a", "ssp")
    assert login.returncode == 0, f"{login.stderr}\n--- php -S log ---\n{ssp.log[-2000:]}"
    assert f"Logged in: SspAdmin in {PROD}" in login.stderr
    values = cli.profile("ssp")
    assert values["x_principal_arn"] == f"arn:aws:sts::{PROD}:assumed-role/SspAdmin/alice"
    assert values["region"] == "eu-west-1"

    ran = cli.run("exec", "-a", "ssp", "--", sys.executable, "-c", PRINT_ENV, record=False)
    assert ran.returncode == 0, ran.stderr
    child = json.loads(ran.stdout)
    assert child["AWS_ACCESS_KEY_ID"] == values["aws_access_key_id"]
    assert child["AWS_SESSION_TOKEN"] == values["aws_session_token"]
    assert child["SAMLJIT_ROLE_ARN"] == PROD_ADMIN
    assert child["AWS_REGION"] == "eu-west-1"
    cli.outputs.append(ran.stderr)


def test_exec_logs_in_by_itself(cli: Cli, ssp: SimpleSamlPhp) -> None:
    configure(cli, ssp, ALICE, "--role", "SspReadOnly")
    ran = cli.run("exec", "-a", "ssp", "--", sys.executable, "-c", PRINT_ENV, record=False)
    assert ran.returncode == 0, ran.stderr
    child = json.loads(ran.stdout)
    assert child["SAMLJIT_ROLE_ARN"] == PROD_RO
    assert cli.profile("ssp")["aws_access_key_id"] == child["AWS_ACCESS_KEY_ID"]
    cli.outputs.append(ran.stderr)


def test_wrong_password_is_exit_3_with_simplesamlphps_message(cli: Cli, ssp: SimpleSamlPhp) -> None:
    configure(cli, ssp, ALICE, "--role", "SspAdmin")
    ran = cli.run("login", "-a", "ssp", env={"SAMLJIT_PASSWORD": "not-alices-password"})
    assert ran.returncode == 3, ran.stderr
    assert ran.stderr.startswith("samljit: error: SimpleSAMLphp refused the login: ")
    assert WRONG_PASSWORD_TEXT in ran.stderr
    assert not cli.credentials.exists()
    cli.secrets.add("not-alices-password")


def test_two_roles_in_one_account_and_no_terminal_is_exit_4(cli: Cli, ssp: SimpleSamlPhp) -> None:
    configure(cli, ssp, ALICE)
    ran = cli.run("login", "-a", "ssp")
    assert ran.returncode == 4, ran.stderr
    assert PROD_RO in ran.stderr and PROD_ADMIN in ran.stderr
    assert not cli.credentials.exists()


def test_roles_in_two_accounts(cli: Cli, ssp: SimpleSamlPhp) -> None:
    configure(cli, ssp, BOB)
    listed = cli.run("list-roles", "-a", "ssp", "--json")
    assert listed.returncode == 0, listed.stderr
    arns = {entry["role_arn"] for entry in json.loads(listed.stdout)}
    assert arns == {PROD_RO, DEV_RO}
    ambiguous = cli.run("login", "-a", "ssp", "--role", "SspReadOnly")
    assert ambiguous.returncode == 4 and "ambiguous" in ambiguous.stderr
    ran = cli.run("login", "-a", "ssp", "--role", f"{DEV}/SspReadOnly")
    assert ran.returncode == 0, ran.stderr
    assert cli.principal("ssp") == f"arn:aws:sts::{DEV}:assumed-role/SspReadOnly/bob"


def test_a_response_not_signed_by_the_pinned_certificate_is_refused(
    cli: Cli, ssp: SimpleSamlPhp
) -> None:
    other = FIXTURES / "keys" / "attacker.crt"
    configure(cli, ssp, ALICE, "--idp-certificate", str(Path(other)), "--role", "SspAdmin")
    ran = cli.run("login", "-a", "ssp")
    assert ran.returncode == 3, ran.stderr
    assert ran.stderr.startswith("samljit: error: signature check failed")
    assert not cli.credentials.exists()


def kept_cookie_values(cli: Cli) -> list[str]:
    """The cookie values samljit keeps as the IdP session (its 0600 file store)."""
    return [cookie["value"] for cookie in kept_cookies(cli.home)]


def test_a_forced_login_rides_simplesamlphps_own_session(cli: Cli, ssp: SimpleSamlPhp) -> None:
    configure(cli, ssp, ALICE, "--role", "SspAdmin")
    mark, posts = len(ssp.settle(0)), ssp.password_posts()
    first = cli.run("login", "-a", "ssp")
    assert first.returncode == 0, f"{first.stderr}\n--- php -S log ---\n{ssp.log[-2000:]}"
    first_requests = ssp.settle(mark + 3)[mark:]
    assert ssp.password_posts() == posts + 1, first_requests
    cookies = kept_cookie_values(cli)
    assert cookies, "no IdP session was kept"
    # the leak check (cli's teardown) looks for them everywhere: SimpleSAMLphp is watched
    assert set(cookies) <= set(ISSUED.secrets), "the leak check does not know the session"

    mark = len(first_requests) + mark
    again = cli.run(
        "--debug",
        "login",
        "-a",
        "ssp",
        "--role",
        "SspReadOnly",
        "--force",
        "--skip-prompt",
        env={"SAMLJIT_PASSWORD": None},
    )
    assert again.returncode == 0, f"{again.stderr}\n--- php -S log ---\n{ssp.log[-2000:]}"
    assert "Logged in: SspReadOnly in" in again.stderr
    second = ssp.settle(mark + 1)[mark:]
    assert second == [("GET", "/simplesaml/saml2/idp/SSOService.php")], second
    assert ssp.password_posts() == posts + 1, "SimpleSAMLphp saw the password again"
    status = json.loads(cli.run("status", "--json").stdout)
    assert {row["idp_session"] for row in status} == {True}

    ssp.end_sessions()  # SimpleSAMLphp forgets every session: samljit falls back, silently
    mark += len(second)
    third = cli.run("login", "-a", "ssp", "--force")
    assert third.returncode == 0, third.stderr
    assert "error" not in third.stderr.lower() and "warning" not in third.stderr.lower()
    fallback = ssp.settle(mark + len(first_requests))[mark:]
    assert fallback == first_requests
    assert ssp.password_posts() == posts + 2
    assert ("POST", LOGIN_PATH) in fallback
    assert set(kept_cookie_values(cli)) <= set(ISSUED.secrets)


def test_settle_says_when_php_never_logged_the_requests(ssp: SimpleSamlPhp) -> None:
    """A wait that ends without the requests is an error, not an answer the test goes on with
    (``timeout=0``: the condition is checked once, no clock decides)."""
    seen = len(ssp.settle(0))
    with pytest.raises(TimeoutError, match=f"wanted {seen + 1}"):
        ssp.settle(seen + 1, timeout=0)


def test_the_port_is_held_until_php_listens() -> None:
    """The port is reserved (bound, SO_REUSEADDR, as php -S binds it) until php listens on
    it: in between it is in use (and the kernel hands it to no port-0 bind, which is how every
    other test server gets its port)."""
    from tests.support.simplesamlphp import _reserve_port

    reserved = _reserve_port()
    try:
        port = reserved.getsockname()[1]
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", port))
    finally:
        reserved.close()
