"""Where things are: the checkout, its fixtures, and the installed ``samljit`` executable."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
#: The console script installed next to the interpreter running the tests.
SAMLJIT = Path(sys.executable).parent / "samljit"
