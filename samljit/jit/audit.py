"""The audit log: one JSON line per event, no secrets, in the user state directory.

Events: ``login.started``, ``mfa.challenged``, ``grant.issued``, ``grant.reused``,
``login.failed``, ``logout``, ``role.revoked``. Each line has ``time`` (RFC 3339 UTC),
``event``, ``command`` and whatever of ``account``, ``role_arn``, ``profile``, ``expires``,
``reason`` (``--reason``), ``before`` (of ``revoke``), ``error`` applies.
The file is rotated by size (``audit.log`` → ``audit.log.1``), one generation kept.
Values are stored with control characters escaped (an error text or role ARN from the network
cannot put an escape sequence in the file or, through ``samljit audit``, on a terminal).
Writing never fails a command: an unwritable log is skipped with one warning per run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

from samljit.common import fsutil
from samljit.common.text import parse_rfc3339, printable, rfc3339
from samljit.jit import answers

MAX_BYTES = 1024 * 1024
FIELDS = (
    "account",
    "role_arn",
    "profile",
    "expires",
    "reason",
    "before",
    "error",
    "factor",
    "source",
)
_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class AuditLog:
    def __init__(
        self,
        directory: Path,
        command: str,
        *,
        max_bytes: int = MAX_BYTES,
        now: Callable[[], datetime] | None = None,
        warn_once: Callable[[str, str], None] | None = None,
    ) -> None:
        self.path = directory / "audit.log"
        self.command = command
        self.max_bytes = max_bytes
        self._now = now or (lambda: datetime.now(timezone.utc))
        #: ``Terminal.warn_once``: says once that the log cannot be written.
        self._warn_once = warn_once

    def line(self, event: str, fields: Mapping[str, str | None], *, time: str) -> str:
        """One log line (``time`` first, then ``event``, ``command`` and the known fields)."""
        entry = {"time": time, "event": event, "command": self.command}
        entry.update({k: printable(v) for k, v in fields.items() if k in FIELDS and v is not None})
        return json.dumps(entry, sort_keys=False) + "\n"

    def record(self, event: str, **fields: str | None) -> None:
        data = self.line(event, fields, time=rfc3339(self._now())).encode("utf-8")
        try:
            fsutil.private_dir(self.path.parent)
            answers.append_audit(str(self.path.parent), data, max_bytes=self.max_bytes)
        except OSError as exc:
            if self._warn_once is not None:
                self._warn_once(
                    "audit",
                    f"the audit log {self.path} cannot be written ({exc.strerror or exc}); "
                    "working without an audit log",
                )

    def read(self, since: datetime | None = None) -> Iterator[dict[str, str]]:
        yield from self.scan(since).entries

    def scan(self, since: datetime | None = None) -> AuditScan:
        """The entries at or after ``since`` (oldest first), and how many lines could not be
        read (not a JSON object, or no RFC 3339 ``time``): those are counted, never dropped
        silently."""
        entries: list[dict[str, str]] = []
        unreadable = 0
        for path in (self.path.with_name("audit.log.1"), self.path):
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for text in lines:
                if not text.strip():
                    continue
                try:
                    entry = json.loads(text)
                except ValueError:
                    entry = None
                moment = (
                    parse_rfc3339(str(entry.get("time", ""))) if isinstance(entry, dict) else None
                )
                if not isinstance(entry, dict) or moment is None:
                    unreadable += 1
                    continue
                if since is not None and moment < since:
                    continue
                entries.append({str(k): str(v) for k, v in entry.items()})
        return AuditScan(entries, unreadable)


class AuditScan(NamedTuple):
    entries: list[dict[str, str]]
    #: Lines that are not a JSON object with an RFC 3339 ``time``.
    unreadable: int


def parse_since(text: str, now: datetime) -> datetime:
    """``30m``, ``12h``, ``1d``, ``2w`` → that long before ``now``; or an RFC 3339 time."""
    match = _SINCE.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    moment = parse_rfc3339(text)
    if moment is None:
        raise ValueError(text)
    return moment
