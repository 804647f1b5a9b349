"""The one table of samljit's commands: name, the module that declares its arguments and
runs it, and the one-line help. Adding a command is a module plus a row here.

Each command module has ``add_arguments(parser)`` and ``run(ctx) -> int``. Only the module
of the command being run is imported, so ``samljit --help`` loads none of them.
"""

from __future__ import annotations


class Command:
    """One row of the table (a plain class: ``typing`` costs more to import than --help)."""

    __slots__ = ("help", "module", "name")

    def __init__(self, name: str, module: str, help: str) -> None:
        self.name, self.module, self.help = name, module, help


COMMANDS: tuple[Command, ...] = tuple(
    Command(name, f"samljit.cli.commands.{name.replace('-', '_')}", text)
    for name, text in (
        ("configure", "create or update one IdP account section"),
        ("login", "log in and write the credentials profile"),
        ("exec", "run a command with fresh credentials in its environment"),
        ("list-roles", "log in and list every role the assertion grants"),
        ("credential-process", "print credentials as AWS credential_process JSON (cached)"),
        ("serve", "serve renewed credentials to AWS SDKs on 127.0.0.1 until Ctrl-C"),
        ("aws-config", "print or write ~/.aws/config profiles that run credential-process"),
        ("console", "open the AWS console signed in as the role"),
        ("script", "print shell lines that export the credentials"),
        ("status", "every configured account and profile, with time left"),
        ("logout", "remove the account's profile and cached credentials"),
        ("eks-token", "print a kubectl ExecCredential (an EKS token) for the role"),
        ("revoke", "deny everything to a role's sessions issued before a time (IAM policy)"),
        ("audit", "show the audit log"),
        ("cert", "make an IdP signing key and self-signed certificate"),
        ("sandbox", "a small SAML IdP on loopback, for trying samljit and IAM setups"),
        ("demo", "try samljit end to end on this machine: sandbox IdP, local STS"),
        ("completion", "print a shell completion script"),
        ("doctor", "check the config, keyring, credentials file, clock, proxy and CA bundle"),
    )
)
BY_NAME = {c.name: c for c in COMMANDS}
