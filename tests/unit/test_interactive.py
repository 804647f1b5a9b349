"""The interactive paths, driven through prompt-toolkit's pipe input (no terminal needed):
the role picker, the MFA code and password prompts, and ``configure``'s questions."""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from samljit.aws import roles
from samljit.cli.commands import Context
from samljit.cli.commands import configure as configure_command
from samljit.common.errors import MissingInputError, RoleError, WrongCodeError
from samljit.common.terminal import Terminal
from samljit.config import accounts as config

RO = roles.Role.parse(
    "arn:aws:iam::012345678987:role/AcmeRO", "arn:aws:iam::012345678987:saml-provider/JC"
)
FULL = roles.Role.parse(
    "arn:aws:iam::012345678987:role/AcmeFull", "arn:aws:iam::012345678987:saml-provider/JC"
)
DEV = roles.Role.parse(
    "arn:aws:iam::111122223333:role/AcmeRO", "arn:aws:iam::111122223333:saml-provider/JC"
)
NAMES = {"012345678987": "acme-production", "111122223333": "acme-dev"}


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def terminal(pipe: PipeInput) -> tuple[Terminal, io.StringIO]:
    stream = io.StringIO()
    return (
        Terminal(interactive=True, stream=stream, prompt_io=lambda: (pipe, DummyOutput())),
        stream,
    )


def test_picker_filters_by_typed_text(pipe: PipeInput) -> None:
    term, shown = terminal(pipe)
    pipe.send_text("dev\r")
    chosen = roles.select([RO, FULL, DEV], None, aliases={}, account_names=NAMES, terminal=term)
    assert chosen == DEV
    listing = shown.getvalue()
    assert "acme-production (012345678987)  AcmeRO" in listing
    assert "acme-dev (111122223333)  AcmeRO" in listing


def test_picker_asks_again_until_one_role_matches(pipe: PipeInput) -> None:
    term, shown = terminal(pipe)
    pipe.send_text("AcmeRO\r")  # matches two roles
    pipe.send_text("nothing-like-it\r")  # matches none
    pipe.send_text("2\r")  # by number
    chosen = roles.select([RO, FULL, DEV], None, aliases={}, account_names=NAMES, terminal=term)
    assert chosen == FULL
    text = shown.getvalue()
    assert "2 choices match 'AcmeRO'" in text and "nothing matches 'nothing-like-it'" in text


def test_picker_without_terminal_lists_choices() -> None:
    term = Terminal(interactive=False, stream=io.StringIO())
    with pytest.raises(RoleError) as caught:
        roles.select([RO, FULL], None, aliases={}, account_names=NAMES, terminal=term)
    assert RO.role_arn in caught.value.message and FULL.role_arn in caught.value.message


def test_secret_prompt_and_code_prompt(pipe: PipeInput) -> None:
    from samljit.idp.mfa import ask_code

    term, shown = terminal(pipe)
    pipe.send_text("s3cret-pass\r")
    assert term.ask_secret("Password", what="the password") == "s3cret-pass"
    pipe.send_text("12a456\r123456\r")
    assert ask_code(term, None) == "123456"
    assert "digits only" in shown.getvalue()
    assert "s3cret-pass" not in shown.getvalue()


def wrong_until(right: str, tried: list[str]) -> Callable[[str], str]:
    """An IdP check that calls every code but ``right`` wrong, noting each code it gets."""

    def submit(code: str) -> str:
        tried.append(code)
        if code != right:
            raise WrongCodeError("The code is wrong")
        return f"signed in with {code}"

    return submit


def test_a_typed_code_the_idp_calls_wrong_is_asked_again(pipe: PipeInput) -> None:
    from samljit.idp.mfa import code_until_accepted

    term, shown = terminal(pipe)
    pipe.send_text("111111\r222222\r")
    tried: list[str] = []
    assert code_until_accepted(term, None, wrong_until("222222", tried)) == "signed in with 222222"
    assert tried == ["111111", "222222"]
    assert "The code is wrong; try again" in shown.getvalue()


def test_typed_codes_end_after_the_last_attempt(pipe: PipeInput) -> None:
    from samljit.idp.mfa import CODE_ATTEMPTS, code_until_accepted

    term, _ = terminal(pipe)
    pipe.send_text("".join(f"{n}{n}{n}{n}{n}{n}\r" for n in range(1, CODE_ATTEMPTS + 2)))
    tried: list[str] = []
    with pytest.raises(WrongCodeError, match="The code is wrong"):
        code_until_accepted(term, None, wrong_until("999999", tried))
    assert len(tried) == CODE_ATTEMPTS == 3


def test_a_code_given_up_front_is_tried_once() -> None:
    from samljit.idp.mfa import code_until_accepted

    term = Terminal(interactive=True, stream=io.StringIO())  # never asked: no input wired
    tried: list[str] = []
    with pytest.raises(WrongCodeError):
        code_until_accepted(term, "123456", wrong_until("654321", tried))
    assert tried == ["123456"]


def test_no_terminal_raises_at_once() -> None:
    term = Terminal(interactive=False, stream=io.StringIO())
    with pytest.raises(MissingInputError, match="no terminal"):
        term.ask("Username", what="the IdP username")


def test_ctrl_d_at_a_prompt_is_an_interrupt(pipe: PipeInput) -> None:
    term, _ = terminal(pipe)
    pipe.send_text("\x04")
    with pytest.raises(KeyboardInterrupt):
        term.ask("Username", what="the IdP username")


def _context(tmp_path: Path, term: Terminal, *argv: str) -> Context:
    from samljit.cli.args import build_parser

    args: argparse.Namespace = build_parser("configure").parse_args(
        ["configure", "--config", str(tmp_path / "cfg"), "-a", "production", *argv]
    )
    env = {"HOME": str(tmp_path), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return Context(args=args, env=env, terminal=term)


def test_configure_asks_its_questions(pipe: PipeInput, tmp_path: Path) -> None:
    term, shown = terminal(pipe)
    answers = [
        "jumpcloud",  # provider (any case)
        "ftp://nope",  # refused URL, asked again
        "https://sso.jumpcloud.com/saml2/acme-prod-aws-admin",
        "ops@acme.example",
        "push",  # MFA
        "",  # profile: default = account name
        "readonly",  # default role
        "",  # password: skip
    ]
    pipe.send_text("".join(a + "\r" for a in answers))
    assert configure_command.run(_context(tmp_path, term)) == 0
    cfg = config.load(tmp_path / "cfg")
    section = dict(cfg["production"])
    assert section == {
        "provider": "JumpCloud",
        "url": "https://sso.jumpcloud.com/saml2/acme-prod-aws-admin",
        "username": "ops@acme.example",
        "mfa": "PUSH",
        "aws_profile": "production",
        "role_arn": "readonly",
    }
    assert "not an http(s) URL" in shown.getvalue()
    assert oct((tmp_path / "cfg").stat().st_mode & 0o777) == "0o600"


def test_configure_keeps_comments_and_other_sections(pipe: PipeInput, tmp_path: Path) -> None:
    original = (
        "# my samljit accounts\n"
        "[staging]\n"
        "# staging goes through the test tenant\n"
        "provider = JumpCloud\n"
        "url = https://sso.jumpcloud.com/saml2/staging\n"
        "[production]\n"
        "provider = JumpCloud # inline\n"
        "url = https://sso.jumpcloud.com/saml2/acme-prod-aws-admin\n"
        "  [[roles]]\n"
        "  readonly = arn:aws:iam::012345678987:role/AcmeRO\n"
    )
    (tmp_path / "cfg").write_text(original)
    term = Terminal(interactive=False, stream=io.StringIO())
    ctx = _context(tmp_path, term, "--skip-prompt", "--region", "us-east-2", "--mfa", "totp")
    assert configure_command.run(ctx) == 0
    text = (tmp_path / "cfg").read_text()
    head = original.partition("[production]\n")[0]
    assert text == (
        head
        + "[production]\n"
        + "provider = JumpCloud # inline\n"
        + "url = https://sso.jumpcloud.com/saml2/acme-prod-aws-admin\n"
        + "mfa = TOTP\n"
        + "region = us-east-2\n"
        + "  [[roles]]\n"
        + "  readonly = arn:aws:iam::012345678987:role/AcmeRO\n"
    )
    cfg = config.load(tmp_path / "cfg")
    assert cfg["production"]["region"] == "us-east-2"
    assert cfg["production"]["mfa"] == "TOTP"
    assert cfg["production"]["roles"]["readonly"].endswith("role/AcmeRO")


def test_configure_skip_prompt_needs_provider_and_url(tmp_path: Path) -> None:
    from samljit.common.errors import ConfigError

    term = Terminal(interactive=False, stream=io.StringIO())
    with pytest.raises(ConfigError, match="needs a provider"):
        configure_command.run(_context(tmp_path, term, "--skip-prompt"))
    assert not (tmp_path / "cfg").exists()
    with pytest.raises(ConfigError, match="unknown provider 'Nope'"):
        configure_command.run(
            _context(
                tmp_path, term, "--skip-prompt", "--provider", "Nope", "--url", "https://x.example"
            )
        )
    with pytest.raises(ConfigError, match="does not know MFA 'sms'"):
        configure_command.run(
            _context(
                tmp_path,
                term,
                "--skip-prompt",
                "--provider",
                "JumpCloud",
                "--url",
                "https://x.example/saml2/a",
                "--mfa",
                "sms",
            )
        )
