"""Replaying a remembered answer (:mod:`samljit.jit.answers`): the CLI writes it, or, for
``exec``, runs the program in place of samljit. On the start-up path: builtins only."""

import os
import sys

from samljit.jit import answers

TYPE_CHECKING = False  # typing costs more to import than this whole module
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def replay(
    words: "Sequence[str]", env: "Mapping[str, str]", quiet: bool, *, now: float | None = None
) -> int | None:
    """Answer ``words`` from what was remembered: the exit status, or ``None`` to take the
    full path."""
    found = answers.answer(words, env, quiet, now=now)
    if found is None:
        return None
    if found["stdout"]:
        sys.stdout.write(found["stdout"])
        sys.stdout.flush()
    if found["stderr"]:
        sys.stderr.write(found["stderr"])
        sys.stderr.flush()
    argv = found["argv"]
    if argv is not None:
        try:
            os.execve(argv[0], argv[1:], found["exec_env"])
        except OSError:
            return None  # the full path says why, with its exit status
    return 0
