"""Duo's prompt recognised by its path on the hosts the contract allows, and duo_factor's
spellings."""

from __future__ import annotations

import pytest

from samljit.idp.api import ConfigError, is_duo_prompt
from samljit.idp.duo import duo_factor_kind

QUERY = "?sid=frameless-1&tx=eyJ"


@pytest.mark.parametrize(
    "url",
    [
        f"https://api-12ab34cd.duosecurity.com/frame/frameless/v4/auth{QUERY}",
        f"https://api-12ab34cd.duofederal.com/frame/frameless/v4/auth{QUERY}",
        f"http://127.0.0.2:8721/frame/frameless/v4/auth{QUERY}",
    ],
)
def test_the_prompt_is_recognised(url: str) -> None:
    assert is_duo_prompt(url)


@pytest.mark.parametrize(
    "url",
    [
        f"http://api-12ab34cd.duosecurity.com/frame/frameless/v4/auth{QUERY}",  # plain http
        f"https://duosecurity.com.evil.example/frame/frameless/v4/auth{QUERY}",
        f"https://idp.example.edu/frame/frameless/v4/auth{QUERY}",
        "https://api-12ab34cd.duosecurity.com/frame/frameless/v4/auth?sid=x",  # no tx
        f"https://api-12ab34cd.duosecurity.com/frame/v4/auth/prompt{QUERY}",
        "not a url [",
    ],
)
def test_other_urls_are_not_the_prompt(url: str) -> None:
    assert not is_duo_prompt(url)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "AUTO"),
        ("auto", "AUTO"),
        ("Push", "PUSH"),
        ("Duo Push", "PUSH"),
        ("Passcode", "PASSCODE"),
        ("Phone", "PHONE"),
        ("Phone Call", "PHONE"),
    ],
)
def test_duo_factor_spellings(value: str | None, kind: str) -> None:
    assert duo_factor_kind(value) == kind


def test_unknown_duo_factor_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="samljit knows Auto, Push, Passcode and Phone"):
        duo_factor_kind("sms")
