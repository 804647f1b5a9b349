"""The one wait of a provider: a push to approve, a poll of a device flow, a key to plug in.

:func:`wait_until` keeps the deadline on the injected monotonic clock, shows
"<waiting> N s left" on the terminal's status line, sleeps with the injected sleeper between
polls (never past the deadline) and clears the line however the wait ends. The provider's
``poll`` says what came back: a value ends the wait, ``None`` waits on, an error ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from samljit.common.services import Services

T = TypeVar("T")


@dataclass
class Waiting:
    """What a poll knows of its wait: the seconds ``left``, the number of this poll
    (``polls``, from 1), and ``every``, the pause before the next poll (a poll may change
    it, e.g. when the IdP asks to slow down)."""

    left: float
    every: float
    polls: int = 0


def seconds_left(left: float) -> str:
    """``left`` as the countdown shows it: whole seconds, rounded up."""
    return f"{int(left + 0.999)} s left"


def wait_until(
    poll: Callable[[Waiting], T | None],
    *,
    services: Services,
    seconds: float,
    every: float,
    waiting: str,
    expired: Callable[[], BaseException],
    sleep_first: bool = False,
    margin: float = 0.0,
    note: str = "",
) -> T:
    """Poll until ``poll`` returns a value (returned) or the time is up (``expired()`` is
    raised).

    Each round: the seconds left (up, at ``margin`` or less, ends the wait), the status line
    ``"{waiting} N s left"`` (then ``note``, e.g. ``(Ctrl-C cancels)``), then ``poll`` and a
    pause of ``every`` seconds (``0`` when ``poll`` waits itself, on an event; with
    ``sleep_first``, the pause comes before the poll: a poll right after the request that
    started the wait would be wasted)."""
    terminal = services.terminal
    deadline = services.monotonic() + seconds
    state = Waiting(left=seconds, every=every)
    try:
        while True:
            state.left = deadline - services.monotonic()
            if state.left <= margin:
                raise expired()
            terminal.status(f"{waiting} {seconds_left(state.left)}" + (f" {note}" if note else ""))
            if sleep_first:
                services.sleep(min(state.every, state.left))
            state.polls += 1
            result = poll(state)
            if result is not None:
                return result
            if not sleep_first:
                services.sleep(min(state.every, max(state.left, 0.0)))
    finally:
        terminal.clear_status()
