"""The Browser provider's pure parts: which URLs it catches (every sign-in endpoint samljit's
destination check accepts, nothing that only looks like one), the proxy it hands the browser,
the preferences it sets in the profile, and its settings' errors. The browser itself:
tests/e2e/test_browser.py and tests/e2e/test_browser_network.py."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from samljit.providers.browser import acs_patterns, proxy_settings

from samljit.aws.arn import PARTITIONS
from samljit.saml.verify import signin_partition

CAUGHT = [
    "https://signin.aws.amazon.com/saml",
    "https://signin.aws.amazon.com/saml?SAMLart=1",
    "https://us-east-1.signin.aws.amazon.com/saml",
    "https://eu-central-1.signin.aws.amazon.com/saml",
    "https://signin.amazonaws-us-gov.com/saml",
    "https://us-gov-west-1.signin.amazonaws-us-gov.com/saml",
    "https://signin.amazonaws.cn/saml",
]
NOT_CAUGHT = [
    "https://signin.aws.amazon.com.evil.example/saml",
    "https://evilsignin.aws.amazon.com/saml",
    "https://signin.aws.amazon.com/samlx",
    "https://signin.aws.amazon.com/federation",
    "http://signin.aws.amazon.com.example/saml",
    "https://idp.example.org/saml",
]


def caught(url: str, target: str | None = None) -> bool:
    return any(p.match(url) for p in acs_patterns(target))


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
    assert not caught(target)


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
    from samljit.providers.browser import QUIET_PREFERENCES, quiet_preferences

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
