"""A third-party provider (docs/examples/samljit-example-provider) with a config key of its
own: configured through its flag and logged in with, end to end through the installed CLI."""

from __future__ import annotations

import configparser
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import PASSWORD, PROVIDER_ARN, RO_ARN
from tests.support.cli import Cli
from tests.support.tools import requires_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "samljit-example-provider"
_spec = importlib.util.spec_from_file_location("example_emulator", EXAMPLE / "tests/emulator.py")
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
ExampleCorpEmulator = _module.ExampleCorpEmulator
pytestmark = [pytest.mark.e2e, requires_tool("samljit-example-provider")]
USER = "ana@example.com"


@pytest.fixture
def example(tmp_path: Path) -> Iterator[Any]:
    emulator = ExampleCorpEmulator(
        tmp_path, username=USER, password=PASSWORD, tenant="acme", roles=[(RO_ARN, PROVIDER_ARN)]
    )
    with emulator as running:
        yield running


def test_configure_takes_the_plugins_own_key_and_login_uses_it(cli: Cli, example: Any) -> None:
    made = cli.run(
        "configure", "-a", "ex", "--skip-prompt", "--provider", "examplecorp",
        "--url", example.base_url, "--username", USER, "--tenant", "acme",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    section = configparser.ConfigParser()
    section.read(cli.config)
    assert section["ex"]["provider"] == "ExampleCorp"
    assert section["ex"]["tenant"] == "acme"

    ran = cli.run("login", "-a", "ex")
    assert ran.returncode == 0, ran.stderr
    assert "Logged in: AcmeJumpCloudAdminRO" in ran.stderr
    assert example.requests == ["POST /api/login"]
    profile = configparser.ConfigParser()
    profile.read(cli.credentials)
    assert profile["ex"]["x_principal_arn"].endswith("/AcmeJumpCloudAdminRO/" + USER)


def test_the_plugins_key_is_refused_for_another_provider(cli: Cli) -> None:
    made = cli.run(
        "configure", "-a", "jc", "--skip-prompt", "--provider", "JumpCloud",
        "--url", "https://sso.jumpcloud.com/saml2/x", "--tenant", "acme",
    )  # fmt: skip
    assert made.returncode == 2
    assert "--tenant is not a setting of provider JumpCloud" in made.stderr
    assert not cli.config.exists()


def test_a_missing_required_key_names_its_flag(cli: Cli, example: Any) -> None:
    cli.write_config(f"[ex]\nprovider = ExampleCorp\nurl = {example.base_url}\nusername = {USER}\n")
    ran = cli.run("login", "-a", "ex")
    assert ran.returncode == 2
    assert "IdP account 'ex' (ExampleCorp) has no tenant" in ran.stderr
    assert "--tenant" in ran.stderr
    assert example.requests == []


def test_a_wrong_tenant_is_the_idps_refusal(cli: Cli, example: Any) -> None:
    cli.write_config(
        f"[ex]\nprovider = ExampleCorp\nurl = {example.base_url}\nusername = {USER}\n"
        "tenant = other\n"
    )
    ran = cli.run("login", "-a", "ex")
    assert ran.returncode == 3, ran.stderr
    assert "ExampleCorp refused the sign-in: invalid credentials" in ran.stderr


def test_the_saml2aws_import_maps_the_plugins_key(cli: Cli, example: Any) -> None:
    (cli.home / ".saml2aws").write_text(
        f"[ex]\nname = ex\nprovider = ExampleCorp\nurl = {example.base_url}\n"
        f"username = {USER}\ntenant = acme\nmfa = Auto\naws_profile = ex\n"
    )
    ran = cli.run("configure", "--import-saml2aws")
    assert ran.returncode == 0, ran.stderr
    assert "not imported: tenant" not in ran.stdout
    section = configparser.ConfigParser()
    section.read(cli.config)
    assert section["ex"]["tenant"] == "acme"
    assert cli.run("login", "-a", "ex").returncode == 0
