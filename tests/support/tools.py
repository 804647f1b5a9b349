"""Tests that need a program outside Python (a shell, openssl, SimpleSAMLphp, PowerShell)
say so with one marker, and skip where it is missing with one line that says how to install
it::

    @requires_tool("zsh")
    def test_zsh_script_is_valid(cli): ...

    SKIPPED [1] tests/e2e/test_completion.py:101: zsh not found: apt-get install zsh

So the README's test command passes on any machine. Under ``SAMLJIT_REQUIRE_TOOLS=1`` (CI
sets it, after installing every tool a package registry serves) a missing tool fails the
test instead, except the tools of :data:`ALLOWED_MISSING`, which no registry here serves.

The hooks in ``tests/conftest.py`` apply the marker: :func:`skip_marks` at collection,
:func:`fail_if_required` before each test's fixtures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec

import pytest

from tests.support import netns, simplesamlphp

#: Set to 1 to make a missing tool fail the tests that need it instead of skipping them.
STRICT_ENV = "SAMLJIT_REQUIRE_TOOLS"


@dataclass(frozen=True)
class Tool:
    name: str
    #: One command (or where to get it) that installs the tool on Debian, as root.
    install: str
    #: Why the tool cannot run here (None when it can); default: not on PATH.
    missing: Callable[[], str | None] | None = None

    def problem(self) -> str | None:
        """The skip line when the tool is missing here, else None."""
        if self.missing is None:
            if shutil.which(self.name) is not None:
                return None
            return f"{self.name} not found: {self.install}"
        why = self.missing()
        return None if why is None else f"{self.name} not found ({why}): {self.install}"


TOOLS = {
    tool.name: tool
    for tool in (
        Tool("bash", "apt-get install bash"),
        Tool("zsh", "apt-get install zsh"),
        Tool("fish", "apt-get install fish"),
        Tool("openssl", "apt-get install openssl"),
        Tool("chromium", "apt-get install chromium"),
        Tool("certutil", "apt-get install libnss3-tools"),
        Tool(
            "SimpleSAMLphp",
            f"bash {simplesamlphp.INSTALL_SCRIPT}",
            missing=simplesamlphp.missing_software,
        ),
        Tool(
            "samljit-example-provider",
            "pip install ./docs/examples/samljit-example-provider",
            missing=lambda: None if find_spec("samljit_example") else "not installed",
        ),
        Tool(
            "netns",
            "run as root with util-linux's unshare and iproute2's ip",
            missing=netns.missing,
        ),
        Tool("zenity", "apt-get install zenity"),
        Tool("Xvfb", "apt-get install xvfb"),
        Tool("xdotool", "apt-get install xdotool"),
        Tool("aws", "pip install awscli (the AWS CLI; v2's installer from AWS works too)"),
        Tool("node", "apt-get install nodejs npm", missing=lambda: _node_missing()),
        Tool("kubectl", "install kubectl from the Kubernetes project's packages (pkgs.k8s.io)"),
        Tool(
            "pwsh",
            "install PowerShell 7 from Microsoft's own packages (no registry here serves it)",
        ),
    )
}


def _node_missing() -> str | None:
    """Node needs npm too: the tests install the AWS SDK for JavaScript with ``npm ci``."""
    for name in ("node", "npm"):
        if shutil.which(name) is None:
            return f"no {name} on PATH"
    return None


#: Tools that may be missing even under STRICT_ENV: no package registry this project can use
#: (Debian's packages, PyPI, npm) serves them, so CI cannot install them.
ALLOWED_MISSING = frozenset({"pwsh", "kubectl"})


def requires_tool(name: str) -> pytest.MarkDecorator:
    """Mark a test (or, as ``pytestmark``, a module) as needing the tool ``name``."""
    if name not in TOOLS:
        raise KeyError(f"unknown tool {name!r}: add it to tests.support.tools.TOOLS")
    return pytest.mark.requires_tool(name)


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip() not in ("", "0")


@cache
def problem(name: str) -> str | None:
    """The skip line for ``name`` (looked up once per run), or None when it is here."""
    return TOOLS[name].problem()


def _required(item: pytest.Item) -> list[str]:
    return [str(mark.args[0]) for mark in item.iter_markers("requires_tool")]


def skip_marks(item: pytest.Item) -> None:
    """At collection: skip ``item`` when a tool it needs is missing and may be."""
    for name in _required(item):
        line = problem(name)
        if line is not None and (not strict() or name in ALLOWED_MISSING):
            item.add_marker(pytest.mark.skip(reason=line))
            return


def fail_if_required(item: pytest.Item) -> None:
    """Before the test's fixtures: under STRICT_ENV, a missing tool fails the test."""
    if not strict():
        return
    for name in _required(item):
        line = problem(name)
        if line is not None and name not in ALLOWED_MISSING:
            pytest.fail(f"{line} ({STRICT_ENV} is set: a missing tool fails)", pytrace=False)


def report_header() -> str:
    missing = [name for name in TOOLS if problem(name) is not None]
    mode = (
        f"{STRICT_ENV} set: missing tools fail, except {', '.join(sorted(ALLOWED_MISSING))}"
        if strict()
        else f"missing tools skip their tests ({STRICT_ENV}=1 makes them fail)"
    )
    return f"tools missing: {', '.join(missing) or 'none'}; {mode}"
