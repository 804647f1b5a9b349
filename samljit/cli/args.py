"""Argument definitions (kept apart from the code that runs them).

Global options are accepted before or after the command: the top-level parser defines them
with their defaults and every sub-parser defines them again with ``SUPPRESS`` defaults, so a
value given after the command overrides one given before, and an absent one changes nothing.
Only argparse is imported here: ``samljit --help`` must stay fast.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, NoReturn

from samljit import __version__
from samljit.sinks.shells import SHELLS

PROG = "samljit"
KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "ec-p256")
COMPLETION_SHELLS = ("bash", "zsh", "fish")
SANDBOX_PORT = 8765


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized with ``os`` instead of ``shutil``: argparse builds one for
    every ``add_argument`` call, and importing shutil costs more than the rest of a cached run."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(2).columns
        except (ValueError, OSError):
            width = 80
        super().__init__(prog, width=max(width - 2, 40))


class Parser(argparse.ArgumentParser):
    """argparse with the contract's error line: ``samljit: error: …`` and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\nhint: see `{self.prog} --help`\n")


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
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


def _login_options(parser: argparse.ArgumentParser, *, full: bool) -> None:
    parser.add_argument("--role", metavar="ROLE", help="role ARN, alias, role name or ACCOUNT/ROLE")
    parser.add_argument("--profile", metavar="PROFILE", help="credentials profile to write")
    parser.add_argument(
        "--mfa-token", metavar="CODE", help="one-time MFA code [env SAMLJIT_MFA_TOKEN]"
    )
    parser.add_argument(
        "--skip-prompt",
        action="store_true",
        help="never ask; fail with a clear message when something is missing",
    )
    if full:
        parser.add_argument(
            "--session-duration", metavar="SECONDS", type=_seconds, help="STS DurationSeconds"
        )
        parser.add_argument(
            "--force", action="store_true", help="log in even if the profile is still valid"
        )


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if not 900 <= value <= 43200:
        raise argparse.ArgumentTypeError("must be between 900 and 43200 seconds")
    return value


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Just-in-time AWS credentials from a SAML single sign-on login.",
        epilog="Start with `samljit configure`, then `samljit login`.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _globals(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _globals(sub, top=False)
        return sub

    configure = command("configure", "create or update one IdP account section")
    configure.add_argument("--provider", help="IdP provider, e.g. JumpCloud")
    configure.add_argument("--url", help="IdP sign-in URL of the AWS app")
    configure.add_argument("--username", help="login name at the IdP")
    configure.add_argument("--mfa", help="MFA method: Auto, TOTP, PUSH, …")
    configure.add_argument("--profile", help="credentials profile to write (aws_profile)")
    configure.add_argument("--role", help="default role (role_arn): ARN, alias or role name")
    configure.add_argument("--region", help="AWS region for the profile and the STS endpoint")
    configure.add_argument(
        "--session-duration", type=_seconds, metavar="SECONDS", help="aws_session_duration"
    )
    configure.add_argument("--idp-certificate", metavar="PEM", help="pin the IdP's certificate")
    configure.add_argument("--api-url", help="provider API base URL (JumpCloud console host)")
    configure.add_argument(
        "--command",
        dest="command_line",  # `command` names the subcommand
        metavar="CMD",
        help="Command provider: a command printing a SAMLResponse",
    )
    configure.add_argument(
        "--skip-prompt", action="store_true", help="no questions; take the flags only"
    )
    configure.add_argument(
        "--import-saml2aws",
        nargs="?",
        const="~/.saml2aws",
        metavar="PATH",
        help="convert the sections of a saml2aws config file (default ~/.saml2aws); "
        "with -a, only that section",
    )
    configure.add_argument(
        "--force",
        action="store_true",
        help="with --import-saml2aws: update sections that exist already without asking",
    )

    login = command("login", "log in and write the credentials profile")
    _login_options(login, full=True)
    login.add_argument(
        "--all-roles",
        action="store_true",
        help="write one profile per role in the assertion (names from profile_template)",
    )

    exec_ = command("exec", "run a command with fresh credentials in its environment")
    _login_options(exec_, full=False)
    exec_.add_argument(
        "--no-write",
        action="store_true",
        help="keep the credentials in the command's environment only (no profile written)",
    )
    exec_.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="command")

    list_roles = command("list-roles", "log in and list every role the assertion grants")
    list_roles.add_argument("--mfa-token", metavar="CODE", help="one-time MFA code")
    list_roles.add_argument("--skip-prompt", action="store_true", help="never ask")
    list_roles.add_argument("--json", action="store_true", help="print a JSON list")

    process = command(
        "credential-process", "print credentials as AWS credential_process JSON (cached)"
    )
    process.add_argument(
        "--role", metavar="ROLE", help="role ARN, alias, role name or ACCOUNT/ROLE"
    )
    process.add_argument("--no-cache", action="store_true", help="log in even if cached")
    process.add_argument("--mfa-token", metavar="CODE", help="one-time MFA code")
    process.add_argument("--skip-prompt", action="store_true", help="never ask")

    console = command("console", "open the AWS console signed in as the role")
    _login_options(console, full=False)
    console.add_argument("--print", action="store_true", help="print the link, open nothing")
    console.add_argument("--json", action="store_true", help='print {"ConsoleUrl", "Expiration"}')
    console.add_argument("--destination", metavar="URL", help="console page to open")
    console.add_argument(
        "--duration", metavar="SECONDS", type=_seconds, help="console session length"
    )

    script = command("script", "print shell lines that export the credentials")
    _login_options(script, full=False)
    script.add_argument("--shell", choices=SHELLS, help="default: from $SHELL, else bash")

    status = command("status", "every configured account and profile, with time left")
    status.add_argument("--json", action="store_true", help="print a JSON list")

    logout = command("logout", "remove the account's profile and cached credentials")
    logout.add_argument("--all", action="store_true", help="every configured account")

    audit = command("audit", "show the audit log")
    audit.add_argument("--since", metavar="WHEN", help="e.g. 30m, 12h, 1d, 2w, or an RFC 3339 time")
    audit.add_argument("--json", action="store_true", help="print JSON lines")

    cert = command("cert", "make an IdP signing key and self-signed certificate")
    cert.add_argument("--name", required=True, help="file name stem and default CN")
    cert.add_argument("--subject", help='e.g. "/C=US/O=Acme Corporation/CN=production"')
    cert.add_argument("--days", type=int, help="validity in days (default 1095)")
    cert.add_argument("--key-type", choices=KEY_TYPES, help="default rsa2048")
    cert.add_argument(
        "--from-openssl-config", metavar="CNF", help="read subject and days from an OpenSSL config"
    )
    cert.add_argument("--out", metavar="DIR", default=".", help="output directory (default .)")
    cert.add_argument("--force", action="store_true", help="overwrite existing files")

    sandbox = command("sandbox", "a small SAML IdP on loopback, for trying samljit and IAM setups")
    sandbox_commands = sandbox.add_subparsers(
        dest="sandbox_command", metavar="SUBCOMMAND", parser_class=Parser, required=True
    )
    serve = sandbox_commands.add_parser(
        "serve",
        help="run the sandbox IdP on 127.0.0.1 until Ctrl-C",
        description="Run the sandbox IdP on 127.0.0.1: username/password form, optional "
        "TOTP, IdP-initiated SSO, signed responses, metadata at /metadata.",
    )
    _globals(serve, top=False)
    serve.add_argument("--users", metavar="FILE", help="users file (JSON; default: one user)")
    serve.add_argument("--key", metavar="PEM", help="signing key (e.g. from `samljit cert`)")
    serve.add_argument("--cert", metavar="PEM", help="its certificate")
    serve.add_argument(
        "--port", type=_port, default=SANDBOX_PORT, help=f"port (default {SANDBOX_PORT}; 0: any)"
    )
    code = sandbox_commands.add_parser(
        "totp",
        help="print the current one-time code of a TOTP secret",
        description="Print the current one-time code of a base32 TOTP secret.",
    )
    _globals(code, top=False)
    code.add_argument("secret", metavar="SECRET", help="base32 TOTP secret")

    demo = command("demo", "try samljit end to end on this machine: sandbox IdP, local STS")
    demo.add_argument(
        "--keep", action="store_true", help="keep the temporary HOME and print its path"
    )

    completion = command("completion", "print a shell completion script")
    completion.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell")

    command("doctor", "check the config, keyring, credentials file, clock, proxy and CA bundle")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return value
