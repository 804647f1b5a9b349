"""``samljit cert`` through the installed executable; the files checked with openssl."""

from __future__ import annotations

import shutil
import stat
import subprocess

from tests.support.cli import Cli
from tests.support.paths import FIXTURES
from tests.support.tools import requires_tool

pytestmark = requires_tool("openssl")


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


def test_cert_from_the_jumpcloud_guide_config(cli: Cli) -> None:
    config = cli.home / "production.cnf"
    shutil.copy(FIXTURES / "production.cnf", config)
    ran = cli.run("cert", "--name", "production", "--from-openssl-config", str(config))
    assert ran.returncode == 0, ran.stderr
    key, crt = cli.home / "production.key", cli.home / "production.crt"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    text = openssl("x509", "-noout", "-text", "-in", str(crt))
    assert "Signature Algorithm: sha256WithRSAEncryption" in text
    subject = openssl("x509", "-noout", "-subject", "-nameopt", "compat", "-in", str(crt))
    assert subject.strip() == (
        "subject=/C=US/ST=New Jersey/L=Fairfield/O=Acme Corporation/"
        "OU=Acme Rocket-Powered Products, Inc./CN=production"
    )
    openssl("pkey", "-in", str(key), "-noout")
    # key and certificate belong together
    assert openssl("pkey", "-in", str(key), "-pubout") == openssl(
        "x509", "-in", str(crt), "-noout", "-pubkey"
    )
    assert "(1095 days)" in ran.stdout
    assert "openssl req -x509` ignores default_days" in ran.stderr
    fingerprint = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", str(crt))
    assert fingerprint.strip().split("=", 1)[1] in ran.stdout


def test_cert_defaults_and_no_overwrite(cli: Cli) -> None:
    ran = cli.run("cert", "--name", "staging", "--key-type", "ec-p256", "--out", "keys")
    assert ran.returncode == 0, ran.stderr
    crt = cli.home / "keys" / "staging.crt"
    assert "subject=CN = staging" in openssl("x509", "-noout", "-subject", "-in", str(crt))
    assert "ecdsa-with-SHA256" in openssl("x509", "-noout", "-text", "-in", str(crt))
    before = crt.read_bytes()
    again = cli.run("cert", "--name", "staging", "--out", "keys")
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert crt.read_bytes() == before
    forced = cli.run("cert", "--name", "staging", "--out", "keys", "--force", "--days", "30")
    assert forced.returncode == 0 and crt.read_bytes() != before
    assert "(30 days)" in forced.stdout


def test_cert_config_reads_the_environment_samljit_runs_in(cli: Cli) -> None:
    config = cli.home / "env.cnf"
    config.write_text("[req]\nprompt=no\ndistinguished_name=dn\n[dn]\nCN=$ENV::CERT_CN\n")
    ran = cli.run(
        "cert", "--name", "env", "--from-openssl-config", str(config), env={"CERT_CN": "from-env"}
    )
    assert ran.returncode == 0, ran.stderr
    assert "subject:     /CN=from-env" in ran.stdout
