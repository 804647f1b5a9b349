"""samljit's private caches: credentials per (account, role), assertions per account, and
the last failed login per (account, role) so that waiters of a single flight share it.

Layout under the user cache directory (``$XDG_CACHE_HOME/samljit``, else ``~/.cache/samljit``;
``~/Library/Caches/samljit`` on macOS)::

    credentials/<key>.json   assertions/<key>.json   errors/<key>.json   locks/<key>.lock

Directories are 0700, files 0600 and written atomically. A corrupt, foreign or unreadable
entry is ignored (and replaced on the next write), never a crash; a cache directory that
cannot be made private disables the cache with one warning.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from samljit.aws.credentials import AwsCredentials
from samljit.common import fsutil
from samljit.common.errors import SamljitError
from samljit.common.paths import cache_dir, entry_key, state_dir
from samljit.common.platform import current
from samljit.common.terminal import Terminal
from samljit.common.text import parse_rfc3339, rfc3339

FORMAT = 1


def cache_root(env: Mapping[str, str]) -> Path:
    return Path(cache_dir(env))


def state_root(env: Mapping[str, str]) -> Path:
    return Path(state_dir(env))


class CachedGrant(NamedTuple):
    credentials: AwsCredentials
    role_arn: str | None
    account: str
    role_ref: str
    #: The account's IdP ``url`` and the IdP username the credentials were obtained with
    #: (``None``: not recorded, an entry of an earlier samljit).
    url: str | None = None
    username: str | None = None


class CachedAssertion(NamedTuple):
    encoded: str
    not_on_or_after: datetime
    #: The IdP username the assertion was obtained with (``None``: not recorded).
    username: str | None = None


class CachedError(NamedTuple):
    time: datetime
    kind: str
    message: str
    hint: str | None


class Cache:
    def __init__(self, root: Path, terminal: Terminal) -> None:
        self.root = root
        self.terminal = terminal
        self._usable: bool | None = None

    # -- plumbing -----------------------------------------------------------------------
    def _dir(self, kind: str) -> Path | None:
        if self._usable is False:
            return None
        try:
            fsutil.private_dir(self.root)
            path = fsutil.private_dir(self.root / kind)
        except OSError as exc:
            self._usable = False
            self.terminal.warn_once(
                "cache",
                f"the cache directory {self.root} cannot be used ({exc.strerror or exc}); "
                "working without a cache",
            )
            return None
        self._usable = True
        return path

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        directory = self._dir(kind)
        if directory is None:
            return None
        path = directory / f"{key}.json"
        try:
            info = path.lstat()
            if not current().is_private(info) or not path.is_file():
                return None  # foreign or loosened: not trusted
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        return data

    def _read_dated(
        self, kind: str, key: str, field: str
    ) -> tuple[dict[str, Any], datetime] | None:
        """The entry and its time ``field`` (RFC 3339); ``None`` when either is missing or
        unreadable."""
        data = self._read(kind, key)
        moment = parse_rfc3339(str(data.get(field, ""))) if data is not None else None
        return None if data is None or moment is None else (data, moment)

    def _write(self, kind: str, key: str, data: Mapping[str, Any]) -> None:
        directory = self._dir(kind)
        if directory is None:
            return
        payload = json.dumps({"format": FORMAT, **data}).encode("utf-8")
        try:
            fsutil.atomic_write(directory / f"{key}.json", payload, mode=0o600)
        except OSError as exc:
            self.terminal.warn_once("cache-write", f"cannot write the cache: {exc.strerror}")

    def _remove(self, kind: str, key: str) -> bool:
        directory = self._dir(kind)
        if directory is None:
            return False
        try:
            (directory / f"{key}.json").unlink()
        except OSError:
            return False
        return True

    def entries(self, kind: str) -> Iterator[dict[str, Any]]:
        directory = self._dir(kind)
        if directory is None:
            return
        for path in sorted(directory.glob("*.json")):
            data = self._read(kind, path.stem)
            if data is not None:
                yield data

    @contextlib.contextmanager
    def flight(self, key: str, *, timeout: float) -> Iterator[None]:
        """Single flight: one process per key at a time. Without a usable cache directory
        there is nothing to coordinate through, so every process goes ahead."""
        if self._dir("locks") is None:
            yield
            return
        with fsutil.locked(self.lock_path(key), timeout=timeout):
            yield

    def lock_path(self, key: str) -> Path:
        """The lock file of the single flight for ``key`` (whether or not it is there)."""
        return self.root / "locks" / f"{key}.lock"

    # -- credentials --------------------------------------------------------------------
    def grant_path(self, key: str) -> Path:
        """Where the grant for ``key`` is kept (whether or not it is there)."""
        return self.root / "credentials" / f"{key}.json"

    def get_grant(self, key: str) -> CachedGrant | None:
        found = self._read_dated("credentials", key, "Expiration")
        if found is None:
            return None
        data, expiration = found
        try:
            credentials = AwsCredentials(
                access_key_id=str(data["AccessKeyId"]),
                secret_access_key=str(data["SecretAccessKey"]),
                session_token=str(data["SessionToken"]),
                expiration=expiration,
                assumed_role_arn=data.get("AssumedRoleArn"),
                region=data.get("Region"),
            )
            return CachedGrant(
                credentials,
                data.get("RoleArn"),
                str(data["Account"]),
                str(data["RoleRef"]),
                _text(data.get("Url")),
                _text(data.get("Username")),
            )
        except (KeyError, TypeError):
            return None

    def put_grant(self, key: str, grant: CachedGrant) -> None:
        c = grant.credentials
        self._write(
            "credentials",
            key,
            {
                "Account": grant.account,
                "RoleRef": grant.role_ref,
                "Url": grant.url,
                "Username": grant.username,
                "RoleArn": grant.role_arn,
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret_access_key,
                "SessionToken": c.session_token,
                "Expiration": rfc3339(c.expiration),
                "AssumedRoleArn": c.assumed_role_arn,
                "Region": c.region,
            },
        )

    def grants(self) -> list[CachedGrant]:
        found = []
        for data in self.entries("credentials"):
            grant = self.get_grant(entry_key_of(data))
            if grant is not None:
                found.append(grant)
        return found

    def remove_grant(self, key: str) -> bool:
        return self._remove("credentials", key)

    # -- assertions ---------------------------------------------------------------------
    def get_assertion(self, key: str) -> CachedAssertion | None:
        found = self._read_dated("assertions", key, "NotOnOrAfter")
        if found is None:
            return None
        data, moment = found
        encoded = data.get("SAMLResponse")
        if not isinstance(encoded, str) or not encoded:
            return None
        return CachedAssertion(encoded, moment, _text(data.get("Username")))

    def put_assertion(
        self, key: str, encoded: str, not_on_or_after: datetime, *, username: str
    ) -> None:
        self._write(
            "assertions",
            key,
            {
                "SAMLResponse": encoded,
                "NotOnOrAfter": rfc3339(not_on_or_after),
                "Username": username,
            },
        )

    def remove_assertion(self, key: str) -> bool:
        return self._remove("assertions", key)

    # -- errors of the last login ---------------------------------------------------------
    def get_error(self, key: str) -> CachedError | None:
        found = self._read_dated("errors", key, "Time")
        if found is None:
            return None
        data, moment = found
        hint = data.get("Hint")
        return CachedError(
            moment, str(data.get("Kind", "")), str(data.get("Message", "")), hint and str(hint)
        )

    def put_error(self, key: str, error: SamljitError, moment: datetime) -> None:
        self._write(
            "errors",
            key,
            {
                "Time": moment.isoformat(),
                "Kind": type(error).__name__,
                "Message": error.message,
                "Hint": error.hint,
                "Key": key,
            },
        )

    def remove_error(self, key: str) -> bool:
        return self._remove("errors", key)


def entry_key_of(data: Mapping[str, Any]) -> str:
    return entry_key(str(data.get("Account", "")), str(data.get("RoleRef", "")))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
