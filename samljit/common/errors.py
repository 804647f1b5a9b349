"""Typed errors raised below the CLI layer.

Library code never prints a result or exits: it raises one of these. The CLI maps each class
to the contract's exit status (see ``samljit.cli.main.exit_code``) and prints one line
``samljit: error: <message>`` plus ``hint: <hint>`` when there is one.
"""

from __future__ import annotations


class SamljitError(Exception):
    """Base of every error samljit reports to the user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(SamljitError):
    """The command line is wrong (exit 2)."""


class ConfigError(SamljitError):
    """The configuration is missing, corrupt or inconsistent (exit 2)."""


class ArnError(ConfigError):
    """A value that must be an ARN is not one (exit 2)."""


class ProfileNameError(ConfigError, ValueError):
    """A name that cannot be a credentials profile (exit 2). Also a ``ValueError``: for the
    credentials-file writer it is a bad argument, which it reported as one before."""


class MissingInputError(ConfigError):
    """Something must be asked but no terminal is available, or ``--skip-prompt`` is set."""


class AuthenticationError(SamljitError):
    """The IdP refused: bad password, MFA refused or timed out (exit 3)."""


class WrongCodeError(AuthenticationError):
    """The IdP called a one-time code wrong, and the login may go on with another (exit 3 when
    it ends the login: the code was given up front, or typed too many times)."""


class VerificationError(AuthenticationError):
    """The IdP's response failed a check: signature, validity window, audience (exit 3)."""


class AssertionFormatError(AuthenticationError):
    """The SAMLResponse is missing, not base64, not XML, encrypted or unusable (exit 3)."""


class RoleError(SamljitError):
    """No usable role: none granted, not found, ambiguous, or a picker with no terminal (exit 4)."""


class AwsError(SamljitError):
    """AWS refused a request (exit 5). ``code`` is AWS's error code."""

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        from samljit.common.text import printable

        code, message = printable(code), printable(message)  # AWS's words, from the network
        super().__init__(f"AWS refused: {code}: {message}", hint=hint)
        self.code = code
        self.aws_message = message


class NetworkError(SamljitError):
    """A host could not be reached, timed out or failed TLS, after retries (exit 6)."""


class IdpServiceError(NetworkError):
    """The IdP answered with throttling or a server error after retries (exit 6)."""
