"""Loopback emulators of the IdPs samljit talks to (see each module), and shapes they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

Outcome = TypeVar("Outcome", bound=str)


def scripted(script: Outcome | Sequence[Outcome], attempt: int, default: Outcome) -> Outcome:
    """What a scripted push (or call) answers on its ``attempt``-th try, counting from 0: one
    value answers every try; a sequence answers in its order, then keeps to its last; an empty
    one answers ``default``."""
    if isinstance(script, str):
        return script  # type: ignore[return-value]
    seq = list(script)
    return seq[min(attempt, len(seq) - 1)] if seq else default


def deep_json(levels: int = 200_000) -> bytes:
    """A JSON document nested ``levels`` deep (``{"a":{"a":…}}``): valid, small (about
    1 MB at the default), and deeper than Python's JSON reader can recurse."""
    return b'{"a":' * levels + b"1" + b"}" * levels
