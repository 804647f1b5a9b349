"""ShibbolethECP against a real ECP IdP: SimpleSAMLphp (Debian's package) with ``saml20.ecp``
on and a PAOS ACS for ``urn:amazon:webservices`` (tests/support/simplesamlphp_ecp.py), moto's
STS, the installed executable; and the tampering proxy (tests/support/ecp_tamper.py) in
between for the profile's ACS check.

Without php/SimpleSAMLphp they skip with the line that says how to install it."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest

from tests.support.cli import Cli
from tests.support.ecp_tamper import EcpTamperProxy
from tests.support.moto_sts import StsView
from tests.support.simplesamlphp_ecp import ACCOUNT, EcpSimpleSamlPhp, ecp_user
from tests.support.tools import requires_tool

pytestmark = requires_tool("SimpleSAMLphp")

DANA = ecp_user("dana", "dana-Ecp-7730")


@pytest.fixture(scope="module")
def ecp_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcpSimpleSamlPhp]:
    with EcpSimpleSamlPhp(tmp_path_factory.mktemp("ssp-ecp"), [DANA]) as idp:
        yield idp


def configure(cli: Cli, url: str, *extra: str, provider: str = "ShibbolethECP") -> None:
    cli.configure("uni", "--provider", provider, "--url", url, "--username", DANA.username, *extra)
    cli.env["SAMLJIT_PASSWORD"] = DANA.password
    cli.secrets.add(DANA.password)
    basic = base64.b64encode(f"{DANA.username}:{DANA.password}".encode()).decode()
    cli.secrets.add(basic)  # the Authorization header's credential


def test_login_over_ecp_pinned_then_again_on_the_idps_session_without_the_password(
    cli: Cli, ecp_idp: EcpSimpleSamlPhp
) -> None:
    configure(
        cli,
        ecp_idp.ecp_url,
        "--idp-certificate",
        str(ecp_idp.certificate),
        "--role",
        "EcpAdmin",
        provider="ECP",  # the alias
    )
    assert re.search(r"provider = (ShibbolethECP|ECP)", cli.config.read_text())
    first = cli.run("login", "-a", "uni")
    assert first.returncode == 0, f"{first.stderr}\n--- php -S log ---\n{ecp_idp.log[-2000:]}"
    assert f"Logged in: EcpAdmin in {ACCOUNT}" in first.stderr
    assert cli.principal("uni") == f"arn:aws:sts::{ACCOUNT}:assumed-role/EcpAdmin/dana"

    # no password anywhere, no prompt: only SimpleSAMLphp's session cookies can log in
    again = cli.run(
        "login",
        "-a",
        "uni",
        "--role",
        "EcpReadOnly",
        "--force",
        "--skip-prompt",
        env={"SAMLJIT_PASSWORD": None},
    )
    assert again.returncode == 0, again.stderr
    assert f"Logged in: EcpReadOnly in {ACCOUNT}" in again.stderr


def test_a_wrong_password_is_exit_3_with_the_idps_status_on_one_line(
    cli: Cli, ecp_idp: EcpSimpleSamlPhp
) -> None:
    configure(cli, ecp_idp.ecp_url, "--role", "EcpAdmin")
    ran = cli.run("login", "-a", "uni", env={"SAMLJIT_PASSWORD": "not-danas-password"})
    cli.secrets.add("not-danas-password")
    assert ran.returncode == 3, ran.stderr
    first = ran.stderr.splitlines()[0]
    assert first.startswith("samljit: error: the IdP refused the ECP login: Responder")
    assert "WRONGUSERPASS" in first
    assert not cli.credentials.exists()


def test_an_answer_redirected_on_the_path_never_reaches_sts(
    cli: Cli, ecp_idp: EcpSimpleSamlPhp, sts: StsView
) -> None:
    """The ecp:Response header is not signed: a proxy changes it and the Response still
    verifies against the pinned certificate. Only the comparison with the ACS asked for
    catches it, before anything is sent to AWS."""
    with EcpTamperProxy(ecp_idp.ecp_url, rewrite_acs="https://evil.example/saml") as proxy:
        configure(
            cli, proxy.url, "--idp-certificate", str(ecp_idp.certificate), "--role", "EcpAdmin"
        )
        ran = cli.run("login", "-a", "uni")
    assert proxy.tampered == 1
    assert ran.returncode == 3, ran.stderr
    first = ran.stderr.splitlines()[0]
    assert first.startswith("samljit: error: ECP check failed: the answer is for ")
    assert "https://evil.example/saml" in first
    assert "https://signin.aws.amazon.com/saml" in first
    assert sts.calls == []
    assert not cli.credentials.exists()


def test_a_missing_ecp_header_is_refused_too(cli: Cli, ecp_idp: EcpSimpleSamlPhp) -> None:
    with EcpTamperProxy(ecp_idp.ecp_url, drop_header=True) as proxy:
        configure(cli, proxy.url, "--role", "EcpAdmin")
        ran = cli.run("login", "-a", "uni")
    assert ran.returncode == 3, ran.stderr
    assert "no ecp:Response header" in ran.stderr.splitlines()[0]
    assert not cli.credentials.exists()


def test_debug_shows_neither_the_basic_credential_nor_the_idps_signature(
    cli: Cli, ecp_idp: EcpSimpleSamlPhp
) -> None:
    configure(cli, ecp_idp.ecp_url, "--role", "EcpAdmin")
    ran = cli.run("--debug", "login", "-a", "uni")
    assert ran.returncode == 0, ran.stderr
    assert "ECP login: POST" in ran.stderr  # the exchange is logged ...
    assert "SignatureValue" in ran.stderr  # ... and so is the answer's start
    assert not re.search(r"SignatureValue>[A-Za-z0-9+/=\s]{20,}<", ran.stderr)
    assert "Basic " not in ran.stderr
