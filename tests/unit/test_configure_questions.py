"""``configure`` asks like a person would (prompt-toolkit's pipe input stands in for the
keyboard): short questions, the common ones first, ``?`` for a question's help, yes/no for
booleans, and no password question when the keyring would keep nothing."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.null
import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from samljit.cli.commands import Context
from samljit.cli.commands import configure as configure_command
from samljit.common.terminal import Terminal
from samljit.config import accounts as config
from samljit.idp.provider import KeyKind, ProviderKey, load_provider
from tests.support.keyring_backend import installed
from tests.unit.test_sessions import MemoryKeyring

OKTA_URL = "https://acme.okta.com/home/amazon_aws/0oa1b2c3d4/272"
CLIENT_ID_HELP = load_provider("Okta").key("client_id").help  # type: ignore[union-attr]


class Recording(Terminal):
    """The pipe-fed terminal, noting every prompt it shows."""

    def __init__(self, pipe: PipeInput) -> None:
        self.shown = io.StringIO()
        super().__init__(
            interactive=True, stream=self.shown, prompt_io=lambda: (pipe, DummyOutput())
        )
        self.prompts: list[str] = []

    def _prompt(self, message: str, **kwargs: Any) -> str:
        self.prompts.append(message)
        return super()._prompt(message, **kwargs)


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


@pytest.fixture
def null_keyring() -> Iterator[Any]:
    with installed(keyring.backends.null.Keyring()) as backend:
        yield backend


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    with installed(MemoryKeyring()) as backend:
        yield backend


def configure(tmp_path: Path, term: Terminal, *argv: str) -> int:
    from samljit.cli.args import build_parser

    args: argparse.Namespace = build_parser("configure").parse_args(
        ["configure", "--config", str(tmp_path / "cfg"), "-a", "acme", *argv]
    )
    return configure_command.run(Context(args=args, env={"HOME": str(tmp_path)}, terminal=term))


def section(tmp_path: Path) -> dict[str, Any]:
    return dict(config.load(tmp_path / "cfg")["acme"])


def test_a_new_okta_user_is_asked_the_common_questions_first(
    pipe: PipeInput, tmp_path: Path, memory_keyring: Any
) -> None:
    term = Recording(pipe)
    answers = [
        "okta",
        OKTA_URL,
        "alice@acme.example",
        "push",
        "",  # profile: the account's name
        "",  # no default role
        "",  # client id: skipped
        "",  # remember the device: the default (no)
        "",  # password: skipped
    ]
    pipe.send_text("".join(a + "\r" for a in answers))
    assert configure(tmp_path, term) == 0
    assert term.prompts == [
        "IdP provider: ",
        "Okta embed link of the AWS app: ",
        "Username: ",
        f"MFA ({', '.join(load_provider('Okta').mfa_options)}) [Auto]: ",
        "AWS profile to write [acme]: ",
        "Default role (ARN, alias or role name; empty to choose at login): ",
        "OIDC client id (Identity Engine orgs only; Enter to skip): ",
        "Keep Okta from remembering this device after MFA? [y/N]: ",
        "Password for alice@acme.example (stored in the OS keyring; Enter to skip): ",
    ]
    assert section(tmp_path) == {
        "provider": "Okta",
        "url": OKTA_URL,
        "username": "alice@acme.example",
        "mfa": "PUSH",
        "aws_profile": "acme",
    }
    assert "Type ? at a question for help" in term.shown.getvalue()


def test_a_question_mark_shows_the_help_and_asks_again(
    pipe: PipeInput, tmp_path: Path, null_keyring: Any
) -> None:
    term = Recording(pipe)
    answers = ["okta", OKTA_URL, "alice", "", "", "", "?", "0oaclient", "?", "n"]
    pipe.send_text("".join(a + "\r" for a in answers))
    assert configure(tmp_path, term) == 0
    client_id = "OIDC client id (Identity Engine orgs only; Enter to skip): "
    remember = "Keep Okta from remembering this device after MFA? [y/N]: "
    assert term.prompts[-4:] == [client_id, client_id, remember, remember]
    shown = term.shown.getvalue()
    assert f"  {CLIENT_ID_HELP}\n" in shown
    assert "  true: do not ask Okta to remember this device after MFA\n" in shown
    assert section(tmp_path)["client_id"] == "0oaclient"
    assert "disable_remember_device" not in section(tmp_path)


def test_a_yes_no_question_answered_y_is_kept_as_true(
    pipe: PipeInput, tmp_path: Path, null_keyring: Any
) -> None:
    term = Recording(pipe)
    answers = ["okta", OKTA_URL, "alice", "", "", "", "", "maybe", "y"]
    pipe.send_text("".join(a + "\r" for a in answers))
    assert configure(tmp_path, term) == 0
    assert "  answer y or n\n" in term.shown.getvalue()
    assert section(tmp_path)["disable_remember_device"] == "true"
    # asked again, the kept answer is the default, and "n" turns it back off
    term = Recording(pipe)
    pipe.send_text("".join(a + "\r" for a in ["", "", "", "", "", "", "", "n"]))
    assert configure(tmp_path, term) == 0
    assert term.prompts[-1] == "Keep Okta from remembering this device after MFA? [Y/n]: "
    assert section(tmp_path)["disable_remember_device"] == "false"


def test_a_keyring_that_keeps_nothing_is_said_instead_of_asking_the_password(
    pipe: PipeInput, tmp_path: Path, null_keyring: Any
) -> None:
    term = Recording(pipe)
    pipe.send_text("".join(a + "\r" for a in ["okta", OKTA_URL, "alice", "", "", "", "", ""]))
    assert configure(tmp_path, term) == 0
    assert not any(prompt.startswith("Password") for prompt in term.prompts)
    assert (
        "samljit: warning: the password is not asked for: the keyring is turned off "
        "(keyring.backends.null.Keyring), so it could not be kept" in term.shown.getvalue()
    )


def test_a_choice_is_one_of_its_choices(pipe: PipeInput, tmp_path: Path) -> None:
    term = Recording(pipe)
    answers = ["browser", "https://idp.example/aws", "", "", "", "", "edge", "msedge"]
    answers += ["", "", "", "", "", ""]
    pipe.send_text("".join(a + "\r" for a in answers))
    assert configure(tmp_path, term) == 0
    assert "Browser (chromium, chrome, msedge) [chromium]: " in term.prompts
    assert "  choose one of: chromium, chrome, msedge\n" in term.shown.getvalue()
    assert section(tmp_path)["browser_type"] == "msedge"


def test_a_key_without_a_question_asks_its_help() -> None:
    plain = ProviderKey("tenant", "the tenant name")
    assert (plain.prompt, plain.asked_as) == ("the tenant name", KeyKind.TEXT)
    assert ProviderKey("client_secret", "the secret", secret=True).asked_as is KeyKind.SECRET
    assert ProviderKey("token", "a token", kind=KeyKind.SECRET).is_secret


@pytest.mark.parametrize(
    "name", ["Okta", "AzureAD", "Browser", "Command", "JumpCloud", "OneLogin", "GoogleApps"]
)
def test_every_built_in_key_has_a_short_question(name: str) -> None:
    for key in load_provider(name).keys:
        assert key.question, (name, key.name)
        assert len(key.question) < len(key.help) or key.question == key.help
        assert len(key.question) <= 60, (name, key.name)


def test_every_username_and_password_question_is_asked_in_one_module() -> None:
    """The login flow, the Browser provider's autofill, Okta and ``configure`` all reach the
    prompts of ``samljit.config.passwords``; nothing else asks for a username or password."""
    import re

    from tests.support.paths import REPO

    asking = re.compile(r"\.ask(?:_secret)?\(\s*f?[\"'](?:Username|Password)")
    found = sorted(
        str(path.relative_to(REPO))
        for tree in ("samljit", "providers")
        for path in (REPO / tree).rglob("*.py")
        if asking.search(path.read_text(encoding="utf-8"))
    )
    assert found == ["samljit/config/passwords.py"]


def test_flags_of_yes_no_and_choice_keys_are_checked(tmp_path: Path) -> None:
    from samljit.common.errors import ConfigError

    term = Terminal(interactive=False, stream=io.StringIO())
    base = ("--skip-prompt", "--provider", "Browser", "--url", "https://idp.example/aws")
    assert configure(tmp_path, term, *base, "--headless", "Yes") == 0
    assert section(tmp_path)["headless"] == "true"
    with pytest.raises(ConfigError, match=r"^--headless takes true or false \(yes or no\)"):
        configure(tmp_path, term, *base, "--headless", "sometimes")
    with pytest.raises(ConfigError, match=r"^--browser-type takes one of chromium, chrome, msedge"):
        configure(tmp_path, term, *base, "--browser-type", "firefox")
    assert section(tmp_path)["headless"] == "true"  # nothing written by the refused runs


def test_a_secret_key_is_not_asked_when_the_keyring_keeps_nothing(
    pipe: PipeInput, tmp_path: Path, null_keyring: Any
) -> None:
    from samljit.common.errors import ConfigError

    term = Recording(pipe)
    answers = ["onelogin", "", "alice", "", "", "", "acme", "123", "client", "", ""]
    pipe.send_text("".join(a + "\r" for a in answers))
    with pytest.raises(ConfigError, match="needs a client_secret: set SAMLJIT_ONELOGIN_"):
        configure(tmp_path, term)
    assert not any("secret" in prompt for prompt in term.prompts), term.prompts
    assert not (tmp_path / "cfg").exists()
