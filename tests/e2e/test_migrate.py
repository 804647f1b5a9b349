"""``samljit configure --import-saml2aws [PATH]`` through the installed CLI, on a realistic
``~/.saml2aws`` (fixtures/saml2aws/saml2aws.ini): every section converted or left out with
the reason, every key carried over or reported, existing sections kept unless ``--force``."""

from __future__ import annotations

import shutil
from pathlib import Path

from samljit.config import accounts as config
from tests.support.cli import Cli, finish
from tests.support.paths import FIXTURES

SAML2AWS = FIXTURES / "saml2aws" / "saml2aws.ini"


def imported(cli: Cli) -> dict[str, config.Account]:
    cfg = config.load(cli.config)
    return {
        name: config.resolve_account(cfg, name, path=cli.config, env={}) for name in cfg.sections
    }


def test_import_from_the_default_path(cli: Cli) -> None:
    shutil.copy(SAML2AWS, cli.home / ".saml2aws")
    ran = cli.run("configure", "--import-saml2aws")
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert out.startswith(f"Importing {cli.home / '.saml2aws'} into {cli.config}\n")
    accounts = imported(cli)
    assert sorted(accounts) == [
        "adfs-corp",
        "azure",
        "browser",
        "default",
        "govcloud",
        "keycloak-dev",
        "okta",
        "shib",
    ]

    default = accounts["default"]
    assert (default.provider, default.url, default.username, default.mfa) == (
        "JumpCloud",
        "https://sso.jumpcloud.com/saml2/acme-prod-aws-admin",
        "ops@acme.example",
        "TOTP",
    )
    assert default.aws_profile == "production"
    assert default.role_arn == "arn:aws:iam::012345678987:role/AcmeJumpCloudAdminRO"
    assert (default.region, default.session_duration) == ("us-east-2", 3600)

    adfs = accounts["adfs-corp"]
    assert adfs.provider == "ADFS"
    assert adfs.url == "https://adfs.acme.example/adfs/ls/IdpInitiatedSignOn.aspx"
    assert adfs.username == "ACME\\ops"
    assert adfs.credentials_file == Path.home() / ".aws" / "corp-credentials"
    assert adfs.session_duration == 28800

    shib = accounts["shib"]
    assert shib.provider == "Shibboleth"
    assert shib.url == (
        "https://idp.acme.example/idp/profile/SAML2/Unsolicited/SSO"
        "?providerId=urn:amazon:webservices"
    )
    gov = accounts["govcloud"]
    assert (gov.aws_urn, gov.region, gov.skip_verify, gov.mfa) == (
        "urn:amazon:webservices:govcloud",
        "us-gov-west-1",
        True,
        "Auto",
    )
    assert accounts["keycloak-dev"].session_duration == 43200
    okta = accounts["okta"]
    assert (okta.provider, okta.mfa) == ("Okta", "OKTA PUSH")  # saml2aws's spelling works
    assert okta.url == "https://acme.okta.com/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272"
    assert okta.options == {"disable_remember_device": "true"}
    assert okta.disable_sessions is True  # samljit keeps IdP sessions: the key carries over
    assert accounts["default"].disable_sessions is False

    browser = accounts["browser"]
    assert (browser.provider, browser.aws_profile) == ("Browser", "browser")
    assert browser.options == {
        "headless": "true",
        "browser_type": "chrome",
        "browser_autofill": "true",
    }

    azure = accounts["azure"]
    assert (azure.provider, azure.url, azure.username, azure.mfa) == (
        "AzureAD",
        "https://account.activedirectory.windowsazure.com",
        "ops@northwind.example",
        "PhoneAppNotification",
    )
    assert azure.options["app_id"] == "8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f"
    assert (azure.aws_profile, azure.region) == ("azure", "eu-central-1")

    # everything not carried over is said, with the reason
    for line in (
        "[default] imported: provider, url, mfa, username, role_arn, region, aws_profile, "
        "aws_session_duration",
        "    not imported: saml_cache = true; samljit always caches the assertion itself",
        "    not imported: saml_cache_file = ~/.aws/saml_cache_production.xml;",
        "    ignored (empty or saml2aws's default): name, app_id, mfa_ip_address, timeout, "
        "resource_id, subdomain, http_attempts_count, http_retry_delay, target_url, "
        "disable_remember_device, disable_sessions, download_browser_driver, headless, prompter",
        "    not imported: http_attempts_count = 5; samljit retries",
        "    not imported: kc_auth_error_element = span#input-error;",
        "    not imported: prompter = survey;",
        "    provider ADFS2 is samljit's ADFS",
        "    url https://adfs.acme.example became "
        "https://adfs.acme.example/adfs/ls/IdpInitiatedSignOn.aspx",
        "    not imported: timeout = 30;",
        "    not imported: target_url = https://console.aws.amazon.com/ec2;",
        "[okta] imported: provider, url, mfa, username, aws_profile, disable_sessions, "
        "disable_remember_device",
        "    mfa YubiKey is not one samljit's KeyCloak provider knows (Auto, TOTP): set to Auto",
        "    skip_verify = true: TLS verification stays off",
        "    not imported: favourite_colour = blue; not a key saml2aws documents",
        "[azure] imported: provider, url, mfa, username, role_arn, region, aws_profile, "
        "aws_session_duration, app_id",
        "[browser] imported: provider, url, mfa, username, aws_profile, headless, "
        "browser_type, browser_autofill",
        "    not imported: download_browser_driver = true; samljit starts the browser installed",
        "    ignored (empty or saml2aws's default): name, timeout, disable_sessions",
        "Imported 8 of 8 sections.",
        "Next: samljit login -a default",
    ):
        assert line in out, line
    assert "not yet" not in out and "drives no browser" not in out
    text = cli.config.read_text()
    assert "saml_cache" not in text and "favourite_colour" not in text


def test_existing_sections_are_kept_unless_forced(cli: Cli, tmp_path: Path) -> None:
    cli.write_config("# mine\n[default]\nprovider = KeyCloak\nurl = https://kc.example/x\n")
    ran = cli.run("configure", "--import-saml2aws", str(SAML2AWS))
    assert ran.returncode == 0, ran.stderr
    assert f"[default] not imported: it exists in {cli.config} already (--force updates it)" in (
        ran.stdout
    )
    assert imported(cli)["default"].provider == "KeyCloak"
    assert cli.config.read_text().startswith("# mine\n[default]\nprovider = KeyCloak\n")

    forced = cli.run("configure", "--import-saml2aws", str(SAML2AWS), "--force", "-a", "default")
    assert forced.returncode == 0, forced.stderr
    assert "[default] updated: provider, url" in forced.stdout
    assert "Imported 1 of 1 section." in forced.stdout
    assert imported(cli)["default"].provider == "JumpCloud"
    assert cli.config.read_text().startswith("# mine\n[default]\nprovider = JumpCloud\n")


def test_nothing_to_import_is_an_error(cli: Cli, tmp_path: Path) -> None:
    akamai = tmp_path / "akamai"
    akamai.write_text("[ak]\nprovider = Akamai\nurl = https://acme.login.go.akamai-access.com/x\n")
    ran = cli.run("configure", "--import-saml2aws", str(akamai))
    assert ran.returncode == 2
    assert "[ak] not imported: samljit has no Akamai provider yet" in ran.stdout
    assert ran.stderr.startswith(f"samljit: error: nothing imported from {akamai}\n")
    assert not cli.config.exists()

    ran = cli.run("configure", "--import-saml2aws", str(SAML2AWS), "-a", "missing")
    assert ran.returncode == 2
    assert ran.stderr.startswith(f"samljit: error: no section [missing] in {SAML2AWS}")

    ran = cli.run("configure", "--import-saml2aws", str(tmp_path / "none"))
    assert ran.returncode == 2
    assert f"no saml2aws config file at {tmp_path / 'none'}" in ran.stderr

    broken = tmp_path / "broken"
    broken.write_text("url = https://x.example\n[a]\n")
    ran = cli.run("configure", "--import-saml2aws", str(broken))
    assert ran.returncode == 2
    assert "is not valid INI" in ran.stderr

    plain_http = tmp_path / "http"
    plain_http.write_text("[a]\nprovider = KeyCloak\nurl = http://kc.example/realms/x\n")
    ran = cli.run("configure", "--import-saml2aws", str(plain_http))
    assert ran.returncode == 2
    assert "[a] not imported: url uses plain http:// on a non-loopback host" in ran.stdout


def test_asks_before_updating_on_a_terminal(cli: Cli) -> None:
    cli.write_config("[shib]\nprovider = KeyCloak\nurl = https://kc.example/x\n")
    child = cli.spawn("configure", "--import-saml2aws", str(SAML2AWS), "-a", "shib")
    child.expect("Account \\[shib\\] exists in .*; update it from saml2aws\\? \\(y/N\\)")
    child.sendline("y")
    transcript = finish(child)
    cli.outputs.append(transcript)
    assert child.exitstatus == 0, transcript
    assert "[shib] updated:" in transcript
    assert imported(cli)["shib"].provider == "Shibboleth"
