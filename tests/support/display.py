"""A private X server (Xvfb) for the tests that need a display: dialogs, headed browsers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator


def xvfb(screen: str) -> Iterator[str]:
    """Xvfb with one ``screen`` (``WIDTHxHEIGHTxDEPTH``), for a fixture to yield: its display
    name once it accepts clients (Xvfb says so on -displayfd); stopped at the end."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as ready:
        number = ready.readline().strip()
    assert number, "Xvfb did not start"
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
