"""Fakes for the run's services: a clock that only moves when told, a sleeper that moves it,
a terminal that records what it shows."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from samljit.cli.wiring import build_services
from samljit.common.services import Services
from samljit.common.terminal import Terminal


class FakeClock:
    """``now()`` and ``monotonic()`` that advance only through ``sleep`` (or ``advance``);
    ``sleeps`` lists every wait asked for."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 1, tzinfo=timezone.utc)
        self._mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))


def fake_services(
    env: Mapping[str, str], *, clock: FakeClock | None = None, **overrides: Any
) -> tuple[Services, FakeClock, io.StringIO]:
    """Services with a non-interactive terminal writing into a buffer, and a fake clock.
    ``env`` should hold a ``HOME`` (or ``XDG_*`` paths) in a temp dir: the caches and the
    audit log live there."""
    clock = clock or FakeClock()
    shown = io.StringIO()
    terminal = Terminal(interactive=False, stream=shown, colour=False)
    services = build_services(
        env,
        overrides.pop("terminal", terminal),
        now=clock.now,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        **overrides,
    )
    return services, clock, shown
