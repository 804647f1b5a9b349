"""``provider = GoogleApps``: Google's defaults over the Browser provider (Chrome first, the
provider's own sign-in host), ``configure``'s URL from the IdP id and SP id, the saml2aws
import, and the conformance kit against the Google-shaped IdP on Debian's chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from samljit.providers.browser.catch import fill_policy
from samljit.providers.browser.launch import find_preferred
from samljit.providers.googleapps import GoogleAppsProvider, initsso_url

from samljit.cli.commands.configure import _provider_lookup
from samljit.config.accounts import Account
from samljit.config.saml2aws import convert_section
from samljit.idp.api import ConfigError, LoginSecrets
from samljit.testing.conformance import ProviderConformance
from samljit.testing.fakes import fake_services
from tests.emulators.formidp import FormUser
from tests.emulators.google import IDPID, SPID, GoogleIdp
from tests.support.accounts import EMAIL, PASSWORD, PROVIDER_ARN, RO_ARN, grants
from tests.support.tools import requires_tool


def programs(tmp_path: Path, *names: str) -> dict[str, str]:
    for name in names:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return {"PATH": str(tmp_path)}


def test_chrome_is_preferred_over_chromium_when_both_are_installed(tmp_path: Path) -> None:
    both = programs(tmp_path, "chromium", "google-chrome-stable")
    assert find_preferred("chrome-first", both) == str(tmp_path / "google-chrome-stable")
    assert find_preferred("chromium", both) == str(tmp_path / "chromium")  # the Browser's order


def test_chromium_when_chrome_is_not_installed(tmp_path: Path) -> None:
    assert find_preferred("chrome-first", programs(tmp_path, "chromium")) == str(
        tmp_path / "chromium"
    )


def provider(options: dict[str, str] | None = None) -> GoogleAppsProvider:
    from samljit.common.http import HttpClient

    services, _, _ = fake_services({"HOME": "/nonexistent"})
    account = Account(
        name="google",
        provider="GoogleApps",
        url=initsso_url(IDPID, SPID),
        options=options or {},
        section_provider="GoogleApps",
    )
    return GoogleAppsProvider(account, HttpClient(env=services.env), services)


def test_googles_defaults_and_the_browser_type_still_picks() -> None:
    browser_type, headless, autofill, timeout, _ = provider()._settings()
    assert (browser_type, headless, autofill, timeout) == ("chrome-first", False, False, 300.0)
    assert provider({"browser_type": "chromium"})._settings()[0] == "chromium"


def test_accounts_google_com_is_the_providers_own_sign_in_host() -> None:
    policy = fill_policy(provider().account, None)
    assert policy.refusal("https://accounts.google.com/v3/signin/identifier") is None
    assert policy.refusal("https://accounts.google.com.evil.example/") is not None


def test_configure_builds_the_url_from_the_idp_id_and_the_sp_id() -> None:
    answers = iter([IDPID, SPID])
    url = GoogleAppsProvider.ask_url(lambda question, default: next(answers), None)
    assert url == (
        f"https://accounts.google.com/o/saml2/initsso?idpid={IDPID}&spid={SPID}&forceauthn=false"
    )


def test_configure_takes_the_whole_url_on_any_host() -> None:
    given = f"http://127.0.0.1:8080/o/saml2/initsso?idpid={IDPID}&spid={SPID}"
    assert GoogleAppsProvider.ask_url(lambda question, default: given, None) == given


def test_an_id_that_is_not_googles_is_refused() -> None:
    with pytest.raises(ConfigError, match="Google's SP id"):
        initsso_url(IDPID, "123&forceauthn=true")


def test_saml2aws_googleapps_section_is_imported() -> None:
    info = _provider_lookup("GoogleApps")
    assert info is not None
    section = {
        "provider": "GoogleApps",
        "url": initsso_url(IDPID, SPID),
        "username": EMAIL,
        "mfa": "Auto",
        "timeout": "0",
        "headless": "false",
        "browser_type": "chrome",
    }
    converted = convert_section("google", section, provider_lookup=_provider_lookup)
    assert converted.skipped is None
    assert converted.values["provider"] == "GoogleApps"
    assert converted.values["url"] == section["url"]
    assert converted.values["browser_type"] == "chrome"
    assert "timeout" not in converted.values  # saml2aws's 0: no limit of its own
    assert "timeout" in converted.defaults
    later = convert_section(
        "google", {**section, "timeout": "30"}, provider_lookup=_provider_lookup
    )
    assert "timeout" not in later.values  # its HTTP timeout, not the browser's wait
    assert any(n.startswith("not imported: timeout = 30") for n in later.notes)


@requires_tool("chromium")
class TestConformance(ProviderConformance):
    provider = GoogleAppsProvider
    good = LoginSecrets(EMAIL, PASSWORD)
    bad = LoginSecrets(EMAIL, "not-the-password")
    no_mfa_because = "the person completes the second factor in Google's window (no code taken)"

    @pytest.fixture
    def idp(self) -> Iterator[GoogleIdp]:
        idp = GoogleIdp([FormUser(EMAIL, PASSWORD, roles=grants((RO_ARN, PROVIDER_ARN)))])
        idp.start()
        yield idp
        idp.stop()

    def account(self, idp: GoogleIdp, tmp_path: Path) -> Account:
        return Account(
            name="google",
            provider="GoogleApps",
            url=idp.start_url,
            username=EMAIL,
            options={
                "headless": "true",
                "browser_autofill": "true",
                "browser_executable_path": "/usr/bin/chromium",
                "timeout": "120",
            },
            section_provider="GoogleApps",
        )
