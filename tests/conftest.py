"""Fixtures and hooks: the installed ``samljit`` executable in a temp HOME, the JumpCloud
emulator, moto's STS on loopback (one server, seen per test), and a leak check after every
end-to-end test (of every secret any emulator handed out during it).

The helpers they use live in ``tests/support/``: ``cli`` (the runner and its clean
environment), ``accounts`` (the test company's user, roles and config), ``leaks`` (the leak
check) and ``paths``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from samljit.testing.emulator import ISSUED, LoopbackEmulator
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import PASSWORD, make_user
from tests.support.cli import Cli, clean_env
from tests.support.leaks import assert_no_leaks, recent_totp_codes
from tests.support.moto_sts import MotoSts, StsView
from tests.support.paths import SAMLJIT
from tests.support.tools import fail_if_required, report_header, skip_marks


def _hypothesis_profiles() -> None:
    """CI runs the property tests on a fixed sequence of examples (a red CI is then always
    reproducible); a developer's run explores new ones each time."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_tool(name): needs a program outside Python; see tests/support/tools.py",
    )


def pytest_report_header() -> str:
    return report_header()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
        skip_marks(item)  # a missing tool skips the tests that need it, with how to install it


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    fail_if_required(item)  # ... or fails them, under SAMLJIT_REQUIRE_TOOLS=1


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def sts_server() -> Iterator[MotoSts]:
    with MotoSts() as server:
        yield server


@pytest.fixture
def sts(sts_server: MotoSts) -> StsView:
    """The session's STS, its ``calls`` counted from this test's start."""
    return StsView(sts_server)


@pytest.fixture
def stopped_after_test() -> Iterator[list[LoopbackEmulator]]:
    """The emulators a test's factory started (tests.support.starting.starter), stopped when
    the test ends."""
    started: list[LoopbackEmulator] = []
    yield started
    for emu in started:
        emu.stop()


@pytest.fixture
def jumpcloud() -> Iterator[JumpCloudEmulator]:
    with JumpCloudEmulator([make_user()]) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def issued_registry() -> Iterator[None]:
    """Each test starts with an empty registry of issued secrets (autouse: set up before the
    test's emulators, so the leak check sees exactly what they handed out in this test)."""
    ISSUED.clear()
    yield
    ISSUED.clear()


@pytest.fixture
def cli(
    home: Path, sts: StsView, request: pytest.FixtureRequest, issued_registry: None
) -> Iterator[Cli]:
    env = clean_env(home)
    env["AWS_ENDPOINT_URL_STS"] = sts.url
    env["SAMLJIT_PASSWORD"] = PASSWORD
    runner = Cli(home=home, env=env)
    runner.secrets.add(PASSWORD)
    yield runner
    # what every emulator the test started handed out, fixture or not (samljit.testing.emulator)
    issued, sent = ISSUED.secrets, ISSUED.codes
    # one-time codes of the emulators' shared secret matter only where an emulator took them;
    # elsewhere (the demo prints its own codes) a number that happens to match is no leak
    codes = recent_totp_codes() if issued or "jumpcloud" in request.node.funcargs else []
    assert_no_leaks(runner, [*runner.secrets, *issued], codes=[*codes, *sent])


@pytest.fixture(scope="session")
def samljit_exe() -> Path:
    assert SAMLJIT.exists(), f"samljit is not installed next to {sys.executable}"
    return SAMLJIT
