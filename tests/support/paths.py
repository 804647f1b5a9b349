"""Where things are: the checkout, its fixtures, and the installed ``samljit`` executable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
#: The console script installed next to the interpreter running the tests.
SAMLJIT = Path(sys.executable).parent / "samljit"
#: A ``sitecustomize`` that swaps samljit's security-key lookup and hooks its browser for the
#: installed samljit the tests run (the test seams live there, never in the product).
SEAMS = REPO / "tests" / "support" / "seams"


def seams_env(**settings: str) -> dict[str, str]:
    """The environment that gives the installed samljit the test seams ``settings`` name
    (``SAMLJIT_TEST_CTAP_DEVICE``, ``SAMLJIT_TEST_BROWSER_HOOK``; see ``SEAMS``)."""
    return {**settings, "PYTHONPATH": os.pathsep.join((str(SEAMS), str(REPO)))}


#: The test switches samljit once read itself, aimed at the ``tests`` package of
#: :func:`plant_tests_package`: a user's run with them set is the run without them.
FORMER_SWITCHES = {
    "SAMLJIT_TEST_MODE": "1",
    "SAMLJIT_TEST_CTAP_DEVICE": "tests.planted:devices",
    "SAMLJIT_TEST_BROWSER_HOOK": "tests.planted:hook",
}


def plant_tests_package(where: Path) -> Path:
    """A ``tests`` package in ``where`` (a user's current directory may hold one; ``python -m``
    puts it on ``sys.path``) with the functions :data:`FORMER_SWITCHES` name. Importing any of
    it leaves a mark: the path returned, which exists only if something did."""
    mark = where / "planted-tests-imported"
    leave = f"open({str(mark)!r}, 'a').write(__name__ + '\\n')\n"
    package = where / "tests"
    package.mkdir()
    (package / "__init__.py").write_text(leave)
    (package / "planted.py").write_text(
        leave + "def devices(env):\n    return []\n\ndef hook(context, page):\n    pass\n"
    )
    return mark
