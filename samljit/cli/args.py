"""The parser: global options, the shared option groups, and one sub-parser per command.

Global options are accepted before or after the command: the top-level parser defines them
with their defaults and every sub-parser defines them again with ``SUPPRESS`` defaults, so a
value given after the command overrides one given before, and an absent one changes nothing.

Each command declares its own arguments (``add_arguments`` in its module); only the module of
the command on the command line is imported (:func:`build_parser` with ``command``), so
``samljit --help`` and ``--version`` load argparse and nothing else of samljit's.
"""

from __future__ import annotations

import argparse
import importlib

from samljit import __version__
from samljit.cli.registry import BY_NAME, COMMANDS
from samljit.cli.words import command_in as command_in
from samljit.cli.words import help_width

TYPE_CHECKING = False  # typing costs more to import than --help itself
if TYPE_CHECKING:
    from typing import Any, NoReturn

PROG = "samljit"
ALL = "*"  # build_parser(command=ALL): every command's arguments (shell completion)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized with ``os`` instead of ``shutil``: argparse builds one for
    every ``add_argument`` call, and importing shutil costs more than the rest of a cached run."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=help_width())


class Parser(argparse.ArgumentParser):
    """argparse with the contract's error line: ``samljit: error: …`` and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\nhint: see `{self.prog} --help`\n")


def global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "-a",
        "--idp-account",
        metavar="NAME",
        default=default(None),
        help="IdP account (config section) to use [env SAMLJIT_IDP_ACCOUNT, default: default]",
    )
    group.add_argument(
        "--config",
        metavar="PATH",
        default=default(None),
        help="config file [env SAMLJIT_CONFIG, default: ~/.samljit]",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log every HTTP step to stderr, secrets redacted",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", default=default(False), help="only errors on stderr"
    )


# -- option groups several commands share ---------------------------------------------------
def role_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", metavar="ROLE", help="role ARN, alias, role name or ACCOUNT/ROLE")


def reason_option(parser: argparse.ArgumentParser) -> None:
    """``--reason``: why access is taken, kept with the grant in the audit log."""
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        help="why you take this access; recorded in the audit log [env SAMLJIT_REASON]",
    )


def mfa_options(parser: argparse.ArgumentParser) -> None:
    """``--mfa-token``, ``--skip-prompt`` and ``--browser``: every command that may log in."""
    parser.add_argument(
        "--mfa-token", metavar="CODE", help="one-time MFA code [env SAMLJIT_MFA_TOKEN]"
    )
    parser.add_argument(
        "--skip-prompt",
        action="store_true",
        help="never ask; fail with a clear message when something is missing",
    )
    browser_option(parser)


def browser_option(parser: argparse.ArgumentParser) -> None:
    """``--browser``: log in through the Browser provider at the account's url, whatever its
    provider (``Context.account`` applies it)."""
    parser.add_argument(
        "--browser",
        action="store_true",
        help="sign in in a browser at the account's url (any IdP, any MFA); needs samljit[browser]",
    )


def login_options(parser: argparse.ArgumentParser, *, full: bool) -> None:
    """What ``login`` and the commands that log in on the way take."""
    role_option(parser)
    parser.add_argument("--profile", metavar="PROFILE", help="credentials profile to write")
    mfa_options(parser)
    if full:
        parser.add_argument(
            "--session-duration", metavar="SECONDS", type=seconds, help="STS DurationSeconds"
        )
        parser.add_argument(
            "--force", action="store_true", help="log in even if the profile is still valid"
        )


def seconds(text: str) -> int:
    return _whole_number(text, 900, 43200, what="a whole number of seconds", unit=" seconds")


def port(text: str) -> int:
    return _whole_number(text, 0, 65535, what="a port number")


def _whole_number(text: str, low: int, high: int, *, what: str, unit: str = "") -> int:
    """An option's value as a whole number from ``low`` to ``high`` (argparse's ``type``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be between {low} and {high}{unit}")
    return value


def build_parser(command: str | None = None) -> Parser:
    """The parser, with the arguments of ``command`` (``ALL``: of every command)."""
    parser = Parser(
        prog=PROG,
        description="Just-in-time AWS credentials from a SAML single sign-on login.",
        epilog="Start with `samljit configure`, then `samljit login`.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    global_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for entry in COMMANDS:
        sub = subparsers.add_parser(entry.name, help=entry.help, description=entry.help)
        global_options(sub, top=False)
        if command == ALL or command == entry.name:
            module = importlib.import_module(BY_NAME[entry.name].module)
            module.add_arguments(sub)
    return parser
