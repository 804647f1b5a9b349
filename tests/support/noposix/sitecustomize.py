"""Python as Windows has it, as far as imports go: the modules only POSIX systems have
(``fcntl``, ``termios``, ``pwd``, ``grp``, ``resource``) cannot be imported, except by the one
file named in ``SAMLJIT_TEST_NOPOSIX_ALLOW`` (samljit's POSIX platform implementation, which
Windows replaces by its own: samljit on Linux needs ``flock``).

``tests/e2e/test_platform.py`` runs the installed samljit with this directory on
``PYTHONPATH``; Python imports ``sitecustomize`` at start-up, before samljit. A refused import
raises ``ImportError`` (as on Windows). Every attempt is written to the file named by
``SAMLJIT_TEST_NOPOSIX_LOG`` with the file that asked for it, so the test also sees an attempt
that was caught and survived (the standard library's own, such as ``shutil`` trying ``pwd``,
are Windows' too). Nothing here is part of the samljit wheel.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

POSIX_ONLY = frozenset({"fcntl", "termios", "pwd", "grp", "resource"})
LOG = "SAMLJIT_TEST_NOPOSIX_LOG"
ALLOW = "SAMLJIT_TEST_NOPOSIX_ALLOW"


def _importer() -> str:
    """The file whose code asked for the import (the first frame outside importlib)."""
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen") or "importlib" in frame.f_code.co_filename
    ):
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_code.co_filename if frame is not None else "?"


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in POSIX_ONLY:
            return None
        importer = _importer()
        allowed = importer == os.environ.get(ALLOW)
        log = os.environ.get(LOG)
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{'allowed' if allowed else 'refused'} {fullname} {importer}\n")
        if allowed:
            return None  # the next finders find it
        raise ImportError(f"No module named {fullname!r} (made unimportable for the test)")


for _name in POSIX_ONLY:
    sys.modules.pop(_name, None)
sys.meta_path.insert(0, _Refuse())
