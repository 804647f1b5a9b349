"""Fixtures every emulator self-test module may use."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from samljit.testing.emulator import LoopbackEmulator
from tests.emulator_selftest import EmulatorClock


@pytest.fixture
def clock() -> EmulatorClock:
    """The emulators' clock for one test (a module may start it elsewhere)."""
    return EmulatorClock()


@pytest.fixture(scope="module")
def running() -> Iterator[list[LoopbackEmulator]]:
    """Every emulator the module started (a test appends them); stopped together at the end,
    as each stop waits for its server's poll interval, which adds up one test at a time."""
    started: list[LoopbackEmulator] = []
    yield started
    with ThreadPoolExecutor() as pool:
        list(pool.map(LoopbackEmulator.stop, started))
