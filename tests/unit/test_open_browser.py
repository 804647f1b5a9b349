"""Terminal.open_browser: opens a page only where there is a display (Okta's device code)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OPEN = (
    "import sys; from samljit.common.terminal import Terminal; "
    "print(Terminal(interactive=False).open_browser(sys.argv[1]))"
)


def run(tmp_path: Path, **env: str) -> tuple[str, str]:
    opened = tmp_path / "opened"
    fake = tmp_path / "fake-browser"
    fake.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    fake.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    ran = subprocess.run(
        [sys.executable, "-c", OPEN, "https://acme.okta.com/activate?user_code=ABCD"],
        env={**base, "BROWSER": f"{fake} %s", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return ran.stdout.strip(), opened.read_text().strip() if opened.exists() else ""


def test_opens_where_there_is_a_display(tmp_path: Path) -> None:
    said, opened = run(tmp_path, DISPLAY=":99")
    assert said == "True"
    assert opened == "https://acme.okta.com/activate?user_code=ABCD"


def test_opens_nothing_without_a_display(tmp_path: Path) -> None:
    if sys.platform == "darwin":  # pragma: no cover - macOS always has one
        return
    assert run(tmp_path) == ("False", "")
