"""Command: run a configured command that prints a base64 SAMLResponse, for any IdP samljit
has no provider for (a browser helper, a corporate script, a hardware-token tool).

The ``command`` key holds the command line (split like a shell does, but no shell runs it:
write ``sh -c '…'`` for pipes). It inherits the terminal (stdin and stderr, so it can ask
and report) and gets ``SAMLJIT_IDP_ACCOUNT``, ``SAMLJIT_URL``, ``SAMLJIT_AWS_URN``, and
``SAMLJIT_USERNAME``/``SAMLJIT_MFA_TOKEN`` when known. Its stdout must hold the SAMLResponse:
bare base64, or an HTML page with a ``SAMLResponse`` input.
"""

from __future__ import annotations

import binascii
import os.path
import shlex
import subprocess
from base64 import b64decode
from typing import ClassVar

from samljit.idp.api import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    LoginSecrets,
    PasswordNeed,
    Provider,
    ProviderKey,
)

TIMEOUT_SECONDS = 300.0
MAX_OUTPUT = 10 * 1024 * 1024


class CommandProvider(Provider):
    name: ClassVar[str] = "Command"
    password_need: ClassVar[PasswordNeed] = PasswordNeed.NEVER
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "command",
            "the command that prints a base64 SAMLResponse",
            required=True,
            question="Command that prints the SAMLResponse",
        ),
        ProviderKey(
            "url",
            "passed to the command as SAMLJIT_URL (optional)",
            question="URL for the command (Enter to skip)",
        ),
    )

    def login(self, secrets: LoginSecrets) -> str:
        argv = self._argv()
        shown = os.path.basename(argv[0])
        try:
            ran = subprocess.run(
                argv,
                stdout=subprocess.PIPE,
                env=self._env(secrets),
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError:
            raise ConfigError(
                f"command of account {self.account.name!r} not found: {argv[0]}",
                hint="use the full path of the program in `command =`",
            ) from None
        except PermissionError:
            raise ConfigError(
                f"command of account {self.account.name!r} is not executable: {argv[0]}"
            ) from None
        except subprocess.TimeoutExpired:
            raise AuthenticationError(
                f"the command {shown} printed no SAMLResponse within {TIMEOUT_SECONDS:.0f} s"
            ) from None
        if ran.returncode != 0:
            raise AuthenticationError(
                f"the command {shown} failed with exit status {ran.returncode}",
                hint="its own messages are above",
            )
        return self._saml_response(ran.stdout[:MAX_OUTPUT], shown)

    def _argv(self) -> list[str]:
        line = (self.option("command") or "").strip()
        if not line:
            raise ConfigError(
                f"account {self.account.name!r} uses the Command provider but has no command",
                hint="add `command = /path/to/program args` to its section in the config file",
            )
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise ConfigError(f"command of account {self.account.name!r}: {exc}") from None
        if not argv:
            raise ConfigError(f"command of account {self.account.name!r} is empty")
        return argv

    def _env(self, secrets: LoginSecrets) -> dict[str, str]:
        env = dict(self.services.env)
        env.pop("SAMLJIT_PASSWORD", None)
        env.update(
            SAMLJIT_IDP_ACCOUNT=self.account.name,
            SAMLJIT_URL=self.account.url,
            SAMLJIT_AWS_URN=self.account.aws_urn,
        )
        if secrets.username:
            env["SAMLJIT_USERNAME"] = secrets.username
        if secrets.mfa_token:
            env["SAMLJIT_MFA_TOKEN"] = secrets.mfa_token
        return env

    def _saml_response(self, output: bytes, shown: str) -> str:
        text = output.decode("utf-8", "replace").strip()
        if text.startswith("<") or "<input" in text.lower():
            from samljit.idp.page import saml_response

            text = saml_response(text, url=f"command:{shown}", step=f"the command {shown}")
        value = "".join(text.split())
        self.redactor.add(value)
        if not value:
            raise AssertionFormatError(f"the command {shown} printed nothing on stdout")
        try:
            b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise AssertionFormatError(
                f"the command {shown} printed something that is not a base64 SAMLResponse",
                hint="the command must print the SAMLResponse (base64) and nothing else on stdout",
            ) from None
        return value
