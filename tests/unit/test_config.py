"""Config file: precedence, validation, in-place edits, and the docs table kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from samljit.common.errors import ConfigError
from samljit.config import accounts as config

REPO = Path(__file__).resolve().parents[2]
BASE = (
    "[production]\n"
    "provider = JumpCloud\n"
    "url = https://sso.jumpcloud.com/saml2/acme\n"
    "username = file@acme.example\n"
    "role_arn = readonly\n"
    "aws_session_duration = 7200\n"
)


def resolve(text: str, env: dict[str, str] | None = None, **flags: object) -> config.Account:
    cfg = config.load_text(text, Path("cfg"))
    return config.resolve_account(
        cfg,
        "production",
        path=Path("cfg"),
        env=env or {},
        overrides=config.Overrides(**flags),  # type: ignore[arg-type]
    )


def test_precedence_flag_env_file_default() -> None:
    account = resolve(BASE)
    assert account.username == "file@acme.example"
    assert account.aws_profile == "production"  # default: the account name
    assert account.mfa == "Auto"
    assert account.session_duration == 7200
    assert account.refresh_margin == 600
    assert account.session_max_age == 43200  # 12 h
    assert resolve(BASE + "session_max_age = 3600\n").session_max_age == 3600
    env = {"SAMLJIT_USERNAME": "env@acme.example", "AWS_SHARED_CREDENTIALS_FILE": "/tmp/c"}
    account = resolve(BASE, env)
    assert account.username == "env@acme.example"
    assert account.credentials_file == Path("/tmp/c")
    account = resolve(BASE, env, username="flag@acme.example", role="full", session_duration=900)
    assert (account.username, account.role_arn, account.session_duration) == (
        "flag@acme.example",
        "full",
        900,
    )
    file_wins = resolve(BASE + "credentials_file = /srv/creds\n", env)
    assert file_wins.credentials_file == Path("/srv/creds")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("aws_session_duration = soon\n", "not a whole number"),
        ("aws_session_duration = 60\n", "at least 900"),
        ("session_max_age = a day\n", "session_max_age .* not a whole number"),
        ("session_max_age = 30\n", "session_max_age .* at least 60"),
        ("skip_verify = maybe\n", "true or false"),
        ("api_url = http://console.example\n", "plain http://"),
    ],
)
def test_bad_values_are_config_errors(extra: str, message: str) -> None:
    text = BASE.replace("aws_session_duration = 7200\n", "") + extra
    with pytest.raises(ConfigError, match=message):
        resolve(text)


def test_quoted_values_and_saml2aws_keys() -> None:
    account = resolve(BASE + 'aws_urn = "urn:amazon:webservices:govcloud"\nskip_verify = True\n')
    assert account.aws_urn == "urn:amazon:webservices:govcloud"
    assert account.skip_verify is True


def test_missing_section_and_missing_provider() -> None:
    with pytest.raises(ConfigError, match="no IdP account 'production'"):
        resolve("[other]\nprovider = JumpCloud\n")
    with pytest.raises(ConfigError, match="has no provider"):
        resolve("[production]\nurl = https://x.example\n")


def test_render_update_appends_a_new_section_after_a_blank_line() -> None:
    text = "# mine\n[a]\nprovider = JumpCloud"
    out = config.render_update(text, "b", {"provider": "JumpCloud", "url": None})
    assert out == "# mine\n[a]\nprovider = JumpCloud\n\n[b]\nprovider = JumpCloud\n"


def test_render_update_keeps_crlf_and_indentation() -> None:
    text = "[a]\r\n    provider = JumpCloud\r\n    # note\r\n\r\n[b]\r\nurl = x\r\n"
    out = config.render_update(text, "a", {"region": "eu-west-1", "provider": "JumpCloud"})
    assert out == (
        "[a]\r\n    provider = JumpCloud\r\n    # note\r\n    region = eu-west-1\r\n\r\n"
        "[b]\r\nurl = x\r\n"
    )


def test_render_update_quotes_what_would_be_misread_and_refuses_newlines() -> None:
    out = config.render_update("", "a", {"username": "ops #1"})
    assert 'username = "ops #1"' in out
    assert resolve_text_value(out, "username") == "ops #1"
    with pytest.raises(ConfigError):
        config.render_update("", "a", {"username": "a\nprovider = evil"})
    with pytest.raises(ConfigError):
        config.render_update("", "a", {"password": "x"})


def resolve_text_value(text: str, key: str) -> str:
    cfg = config.load_text(text, Path("cfg"))
    return config._unquote(cfg["a"][key])


def test_docs_list_every_key() -> None:
    docs = (REPO / "docs" / "configuration.md").read_text()
    for key in config.KEYS:
        row = f"| `{key.name}` | {key.default} | {key.meaning} |".replace("|  |", "| |")
        assert row in docs, key.name


@pytest.mark.parametrize("bad", ["DEFAULT", " prod", "a]b", ""])
def test_profile_names_that_cannot_be_sections_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="cannot be a credentials profile name"):
        config.check_profile_name(bad, "aws_profile")
    if bad.strip():
        with pytest.raises(ConfigError):
            resolve(BASE, profile=bad)


def test_the_aws_default_profile_is_a_fine_name() -> None:
    assert resolve(BASE, profile="default").aws_profile == "default"
