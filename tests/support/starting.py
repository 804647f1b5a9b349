"""Emulators started on demand by a test's factory fixture, all stopped when it is done."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from samljit.testing.emulator import LoopbackEmulator

E = TypeVar("E", bound=LoopbackEmulator)


def starter(
    emulator: Callable[..., E],
    users: Callable[[], Sequence[Any]],
    running: list[LoopbackEmulator],
    **defaults: Any,
) -> Callable[..., E]:
    """``make(**options)``: a fresh, started emulator per call, with its own ``users()`` (or
    ``users=``) and ``defaults`` under ``options``; ``running`` stops it at the end."""

    def make(**options: Any) -> E:
        emu = emulator(options.pop("users", users()), **(defaults | options)).start()
        running.append(emu)
        return emu

    return make
