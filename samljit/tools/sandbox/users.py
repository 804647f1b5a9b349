"""The sandbox IdP's users: username, password, optional TOTP secret, and the AWS roles the
assertion grants them.

A users file is JSON (``samljit sandbox serve --users FILE``)::

    {"users": [
      {"username": "ana@example.org",
       "password": "correct horse battery staple",
       "totp_secret": "JBSWY3DPEHPK3PXP",
       "session_duration": 3600,
       "passkey": false,
       "roles": ["arn:aws:iam::123456789012:role/RO,arn:aws:iam::123456789012:saml-provider/sb"]}
    ]}

``totp_secret`` (base32) turns on the one-time-code page; ``session_duration`` (seconds, 900
to 43200) is the SessionDuration attribute, left out when ``null``; ``passkey`` (true) asks
for a passkey after the password, in place of the code (the sandbox must then be served on
``localhost``: ``samljit sandbox serve --passkey``); each role is written the way IdPs are
configured for AWS: ``ROLE_ARN,PROVIDER_ARN``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samljit.common.errors import ConfigError
from samljit.tools.sandbox import totp
from samljit.tools.sandbox.response import RoleGrant

#: moto's default account: STS calls against moto name it in the assumed-role ARN.
SANDBOX_ACCOUNT = "123456789012"
SANDBOX_PROVIDER = f"arn:aws:iam::{SANDBOX_ACCOUNT}:saml-provider/samljit-sandbox"
READONLY_ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT}:role/SandboxReadOnly"
ADMIN_ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT}:role/SandboxAdmin"
DEFAULT_USERNAME = "demo"
DEFAULT_SESSION_DURATION = 3600


@dataclass(frozen=True)
class SandboxUser:
    username: str
    password: str
    roles: tuple[RoleGrant, ...]
    totp_secret: str | None = None
    session_duration: int | None = DEFAULT_SESSION_DURATION
    passkey: bool = False

    @property
    def session_name(self) -> str:
        return self.username


def default_users() -> list[SandboxUser]:
    """One user with a random password and TOTP secret and two roles (read-only, admin)."""
    return [
        SandboxUser(
            username=DEFAULT_USERNAME,
            password=secrets.token_urlsafe(12),
            totp_secret=totp.new_secret(),
            roles=(
                RoleGrant(READONLY_ROLE, SANDBOX_PROVIDER),
                RoleGrant(ADMIN_ROLE, SANDBOX_PROVIDER),
            ),
        )
    ]


def load_users(path: Path) -> list[SandboxUser]:
    """Read a users file; every problem is a :class:`ConfigError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read users file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"users file {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"users file {path} is not valid JSON (line {exc.lineno}: {exc.msg})",
            hint="see `samljit sandbox serve --help` and docs/sandbox.md for the format",
        ) from None
    return parse_users(data, str(path))


def parse_users(data: Any, where: str) -> list[SandboxUser]:
    entries = data.get("users") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f"users file {where} lists no users",
            hint='write {"users": [{"username": …, "password": …, "roles": […]}]}',
        )
    users = [_user(entry, f"{where}: user #{i}") for i, entry in enumerate(entries, 1)]
    names = [u.username for u in users]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"users file {where} lists {', '.join(duplicates)} more than once")
    return users


def _text(entry: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where} has no {key}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value


def _user(entry: Any, where: str) -> SandboxUser:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is not a JSON object")
    unknown = sorted(
        set(entry) - {"username", "password", "totp_secret", "session_duration", "passkey", "roles"}
    )
    if unknown:
        raise ConfigError(f"{where} has unknown keys: {', '.join(unknown)}")
    username = _text(entry, "username", where, required=True) or ""
    password = _text(entry, "password", where, required=True) or ""
    secret = _text(entry, "totp_secret", where, required=False)
    if secret is not None:
        try:
            totp.decode_secret(secret)
        except ValueError as exc:
            raise ConfigError(f"{where} ({username}): {exc}") from None
        secret = totp.normalize(secret)
    duration = entry.get("session_duration", DEFAULT_SESSION_DURATION)
    if duration is not None and (
        not isinstance(duration, int) or isinstance(duration, bool) or not 900 <= duration <= 43200
    ):
        raise ConfigError(
            f"{where} ({username}): session_duration must be whole seconds from 900 to 43200"
        )
    passkey = entry.get("passkey", False)
    if not isinstance(passkey, bool):
        raise ConfigError(f"{where} ({username}): passkey must be true or false")
    return SandboxUser(
        username=username,
        password=password,
        totp_secret=secret,
        session_duration=duration,
        passkey=passkey,
        roles=_roles(entry.get("roles"), f"{where} ({username})"),
    )


def _roles(value: Any, where: str) -> tuple[RoleGrant, ...]:
    from samljit.aws.roles import parse_role_value

    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"{where} has no roles",
            hint='list them as "ROLE_ARN,PROVIDER_ARN" strings under "roles"',
        )
    grants: list[RoleGrant] = []
    for item in value:
        role = parse_role_value(item) if isinstance(item, str) else None
        if role is None:
            raise ConfigError(
                f"{where}: {item!r} is not a 'ROLE_ARN,PROVIDER_ARN' pair",
                hint="e.g. arn:aws:iam::123456789012:role/ReadOnly,"
                "arn:aws:iam::123456789012:saml-provider/sandbox",
            )
        grants.append(RoleGrant(role.role_arn, role.principal_arn))
    return tuple(grants)


def find(users: Sequence[SandboxUser], username: str) -> SandboxUser | None:
    for user in users:
        if user.username == username:
            return user
    return None
