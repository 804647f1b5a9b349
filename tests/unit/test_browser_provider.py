"""The Browser provider's pure parts: which URLs it catches (every sign-in endpoint samljit's
destination check accepts, anything else on an AWS sign-in host however written, nothing that
only looks like one), where browser_autofill may fill, the proxy it hands the browser,
the preferences it sets in the profile, and its settings' errors. The browser itself:
tests/e2e/test_browser.py and tests/e2e/test_browser_network.py."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from samljit.providers.browser.catch import caught, fill_policy, signin_host_rules
from samljit.providers.browser.launch import proxy_settings

from samljit.aws.arn import PARTITIONS
from samljit.common.errors import ConfigError
from samljit.config.accounts import Account
from samljit.saml.verify import signin_partition

CAUGHT = [
    "https://signin.aws.amazon.com/saml",
    "https://signin.aws.amazon.com/saml?SAMLart=1",
    "https://us-east-1.signin.aws.amazon.com/saml",
    "https://eu-central-1.signin.aws.amazon.com/saml",
    "https://signin.amazonaws-us-gov.com/saml",
    "https://us-gov-west-1.signin.amazonaws-us-gov.com/saml",
    "https://signin.amazonaws.cn/saml",
    # however written: nothing of the sign-in reaches an AWS sign-in host
    "https://signin.aws.amazon.com./saml",
    "https://us-east-1.signin.aws.amazon.com../saml",
    "https://SIGNIN.AWS.AMAZON.COM:443/saml/",
    "https://signin.aws.amazon.com:8443/saml",
    "http://signin.aws.amazon.com/saml",
    "https://signin.aws.amazon.com/%73aml",
    "https://signin.aws.amazon.com/SAML",
    "https://signin.aws.amazon.com/samlx",
    "https://signin.aws.amazon.com/federation",
]
NOT_CAUGHT = [
    "https://signin.aws.amazon.com.evil.example/saml",
    "https://evilsignin.aws.amazon.com/saml",
    "http://signin.aws.amazon.com.example/saml",
    "https://idp.example.org/saml",
    "about:blank",
    "data:text/html,signin.aws.amazon.com",
]


@pytest.mark.parametrize("url", CAUGHT)
def test_every_sign_in_endpoint_is_caught(url: str) -> None:
    assert caught(url)


@pytest.mark.parametrize("url", NOT_CAUGHT)
def test_lookalikes_are_not(url: str) -> None:
    assert not caught(url)


def test_every_endpoint_the_destination_check_accepts_is_caught() -> None:
    for partition in PARTITIONS.values():
        for region in (None, "us-east-1", "cn-north-1", "us-gov-west-1"):
            url = partition.acs_url(region)
            if url is not None and signin_partition(url) is not None:
                assert caught(url), url


def test_target_url_is_caught_with_any_query() -> None:
    target = "https://sso.example.org/saml/acs"
    assert caught(target + "?x=1", target)
    assert caught(target, target)
    assert not caught("https://sso.example.org/saml/acs2", target)
    assert not caught("https://sso.example.org:8443/saml/acs", target)
    assert not caught("http://sso.example.org/saml/acs", target)
    assert not caught(target)


@pytest.mark.parametrize(
    "written",
    [
        "https://sso.example.org:443/saml/acs",
        "https://sso.example.org/saml/acs/",
        "https://SSO.example.org./saml/acs",
        "HTTPS://sso.example.org:443/saml/acs/?from=config",
    ],
)
def test_target_url_is_matched_as_a_parsed_url(written: str) -> None:
    assert caught("https://sso.example.org/saml/acs", written)
    assert caught("https://sso.example.org./saml/acs/?RelayState=x", written)


def test_sign_in_host_names_resolve_nowhere_in_the_browser() -> None:
    rules = signin_host_rules()
    assert rules.startswith("--host-resolver-rules=MAP signin.aws.amazon.com* ~NOTFOUND, ")
    for partition in PARTITIONS.values():
        if partition.signin_host is not None:
            assert f"MAP *.{partition.signin_host}* ~NOTFOUND" in rules


def account(url: str, section_provider: str = "Browser") -> Account:
    return Account(name="corp", provider="Browser", url=url, section_provider=section_provider)


def test_autofill_fills_the_url_host_and_port_only() -> None:
    policy = fill_policy(account("https://idp.corp.example/sso/start"), None)
    assert policy.refusal("https://idp.corp.example/login") is None
    assert policy.refusal("https://IDP.corp.example.:443/login?x") is None
    assert policy.refusal("https://idp.corp.example:8443/login") == "idp.corp.example:8443"
    assert policy.refusal("http://idp.corp.example/login") == "http://idp.corp.example"
    assert policy.refusal("https://evil.example/login") == "evil.example"
    assert policy.refusal("https://idp.corp.example.evil.example/") == (
        "idp.corp.example.evil.example"
    )
    assert policy.refusal("https://login.microsoftonline.com/x") == "login.microsoftonline.com"
    assert policy.refusal("about:blank") == "about"
    assert policy.refusal("chrome-error://chromewebdata/") == "chrome-error"


def test_autofill_on_loopback_http() -> None:
    policy = fill_policy(account("http://127.0.0.1:8080/sso"), None)
    assert policy.refusal("http://127.0.0.1:8080/login") is None
    assert policy.refusal("http://127.0.0.1:8081/login") == "127.0.0.1:8081"
    assert policy.refusal("http://localhost:8080/login") == "localhost:8080"


@pytest.mark.parametrize(
    ("section", "host"),
    [
        ("AzureAD", "login.microsoftonline.com"),
        ("EntraID", "login.microsoftonline.com"),
        ("GoogleApps", "accounts.google.com"),
    ],
)
def test_autofill_on_the_sign_in_hosts_the_provider_declares(section: str, host: str) -> None:
    policy = fill_policy(account("https://myapps.example/start", section), None)
    assert policy.refusal(f"https://{host}/common/login") is None
    assert policy.refusal(f"https://{host}:8443/common/login") == f"{host}:8443"
    assert policy.refusal(f"http://{host}/common/login") == f"http://{host}"
    browser = fill_policy(account("https://myapps.example/start"), None)  # a Browser account
    assert browser.refusal(f"https://{host}/common/login") == host


def test_browser_autofill_hosts() -> None:
    listed = " idp2.corp.example , sso.corp.example:8443,[::1]:9000,localhost"
    policy = fill_policy(account("https://idp.corp.example/"), listed)
    assert policy.refusal("https://idp2.corp.example/login") is None
    assert policy.refusal("https://idp2.corp.example:8443/login") == "idp2.corp.example:8443"
    assert policy.refusal("https://sso.corp.example:8443/login") is None
    assert policy.refusal("https://sso.corp.example/login") == "sso.corp.example"
    assert policy.refusal("http://[::1]:9000/login") is None
    assert policy.refusal("http://localhost/login") is None
    assert policy.refusal("http://localhost:8080/login") == "localhost:8080"


@pytest.mark.parametrize(
    "listed", ["https://idp.example", "idp.example/login", "idp.example:http", "user@idp.example"]
)
def test_browser_autofill_hosts_are_host_names(listed: str) -> None:
    with pytest.raises(ConfigError, match="browser_autofill_hosts of account 'corp'"):
        fill_policy(account("https://idp.corp.example/"), f"ok.example, {listed}")


def test_proxy_from_the_environment() -> None:
    assert proxy_settings({}) is None
    assert proxy_settings({"https_proxy": "proxy.corp:3128", "NO_PROXY": "localhost, .corp"}) == {
        "server": "http://proxy.corp:3128",
        "bypass": "localhost,.corp",
    }
    assert proxy_settings({"HTTPS_PROXY": "http://u:p%40ss@proxy.corp:8080"}) == {
        "server": "http://proxy.corp:8080",
        "username": "u",
        "password": "p@ss",
    }


def test_quiet_preferences_join_what_the_profile_holds(tmp_path: Path) -> None:
    from samljit.providers.browser.launch import QUIET_PREFERENCES, quiet_preferences

    prefs = tmp_path / "Default" / "Preferences"
    quiet_preferences(tmp_path)  # a new profile: the file is made, 0600
    assert json.loads(prefs.read_text()) == QUIET_PREFERENCES
    assert stat.S_IMODE(prefs.stat().st_mode) == 0o600
    # the browser's own settings stay; ours are put back where the user changed them
    prefs.write_text(
        json.dumps(
            {
                "profile": {"exit_type": "Normal", "password_manager_enabled": True},
                "net": 3,
                "intl": {"accept_languages": "de"},
            }
        )
    )
    quiet_preferences(tmp_path)
    held = json.loads(prefs.read_text())
    assert held["intl"] == {"accept_languages": "de"}
    assert held["profile"] == {
        "exit_type": "Normal",
        "password_manager_enabled": False,
        "password_manager_leak_detection": False,
    }
    assert held["net"] == {"network_prediction_options": 2}
    before = prefs.stat().st_mtime_ns
    quiet_preferences(tmp_path)  # nothing to change: not rewritten
    assert prefs.stat().st_mtime_ns == before
    prefs.write_text("{not json")  # a corrupt file: the browser would start afresh too
    quiet_preferences(tmp_path)
    assert json.loads(prefs.read_text()) == QUIET_PREFERENCES


def test_headed_the_form_elsewhere_is_left_to_the_user() -> None:
    """Headed, a form on a host autofill does not fill is left alone with one warning (per
    host); headless, the login ends naming the host."""
    from types import SimpleNamespace

    from samljit.providers.browser.session import _Session

    from samljit.common.errors import AuthenticationError
    from samljit.idp.provider import LoginSecrets

    warned: list[str] = []
    provider: Any = SimpleNamespace(
        services=None, terminal=SimpleNamespace(warn=warned.append), account=account("x")
    )
    policy = fill_policy(account("https://idp.corp.example/"), None)

    def session(headless: bool) -> Any:
        secrets = LoginSecrets("ana", "pw")
        return _Session(provider, timeout=1, secrets=secrets, policy=policy, headless=headless)

    headed = session(False)
    elsewhere = SimpleNamespace(url="https://sso.other.example/login")
    assert not headed._may_fill(elsewhere)
    assert not headed._may_fill(elsewhere)
    assert headed._may_fill(SimpleNamespace(url="https://idp.corp.example/login"))
    assert warned == [
        "browser_autofill does not fill the sign-in form on sso.other.example (not the "
        "account's url host nor a host of browser_autofill_hosts): sign in in the window if it "
        "is your IdP's"
    ]
    with pytest.raises(AuthenticationError, match=r"form on sso\.other\.example: not https"):
        session(True)._may_fill(elsewhere)
