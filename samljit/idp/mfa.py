"""Second factors as objects, and the rule for choosing one.

Each provider describes what the IdP offers as :class:`Factor` objects; :func:`choose` applies
the ``mfa`` setting the same way for every provider: a named kind is used (or the error lists
what is available); ``Auto`` takes the only one, prefers a code factor when a code was already
given, and otherwise asks the user.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import ClassVar, Generic, TypeVar

from samljit.common.errors import AuthenticationError, ConfigError, WrongCodeError
from samljit.common.terminal import Terminal

T = TypeVar("T")
R = TypeVar("R")
#: How many times a one-time code typed at the prompt may be typed in all, while the IdP calls
#: each wrong (:func:`code_until_accepted`); a code given up front is tried once.
CODE_ATTEMPTS = 3


class Factor(ABC, Generic[T]):
    """One way to pass the second factor. ``verify`` completes it and returns the provider's
    result (e.g. the login answer)."""

    #: The ``mfa`` setting that selects this factor (``TOTP``, ``PUSH``, …).
    kind: ClassVar[str]
    #: Whether the factor consumes a one-time code (``--mfa-token``).
    takes_code: ClassVar[bool] = False

    @property
    def label(self) -> str:
        return self.kind

    @abstractmethod
    def verify(self, code: str | None) -> T:
        """Complete this factor (``code`` is the one-time code given up front, if any)."""


def choose(
    factors: Sequence[Factor[T]],
    preference: str,
    terminal: Terminal,
    *,
    have_code: bool,
    unsupported: Sequence[str] = (),
) -> Factor[T]:
    """Pick the factor per the ``mfa`` setting (see the module docstring)."""
    wanted = (preference or "Auto").strip().upper()
    offered = ", ".join(f.label for f in factors) or "none"
    if not factors:
        extra = f" (the IdP offers {', '.join(unsupported)}, which samljit does not support yet)"
        raise AuthenticationError(
            "the IdP requires MFA but offers no factor samljit can use"
            + (extra if unsupported else ""),
            hint="enable TOTP or push for your user at the IdP",
        )
    if wanted != "AUTO":
        for factor in factors:
            if factor.kind.upper() == wanted:
                return factor
        raise ConfigError(
            f"mfa is set to {preference!r}, but the IdP offers: {offered}",
            hint="set mfa = Auto, or one of those, with `samljit configure`",
        )
    if len(factors) == 1:
        return factors[0]
    if have_code:
        coded = [f for f in factors if f.takes_code]
        if coded:
            return coded[0]
    if not terminal.interactive:
        return factors[0] if _all_same_kind(factors) else _no_choice(factors, terminal)
    index = terminal.choose(
        "Choose a second factor:", [f.label for f in factors], what="choosing an MFA method"
    )
    return factors[index]


def _all_same_kind(factors: Sequence[Factor[T]]) -> bool:
    return len({f.kind for f in factors}) == 1


def _no_choice(factors: Sequence[Factor[T]], terminal: Terminal) -> Factor[T]:
    raise ConfigError(
        f"the IdP offers several second factors ({', '.join(f.label for f in factors)}), "
        f"but {terminal.no_prompt_reason}",
        hint="set mfa (e.g. mfa = TOTP) or pass --mfa-token",
    )


def ask_code(
    terminal: Terminal, given: str | None, *, what: str = "MFA code", digits: bool = True
) -> str:
    """The one-time code: given up front, or asked for (``digits``: only digits accepted at
    the prompt; a YubiKey OTP or a token code with a PIN has letters)."""
    if given:
        return given.strip()
    return terminal.ask(
        f"{what}",
        what="a one-time MFA code",
        hint="pass --mfa-token or set SAMLJIT_MFA_TOKEN",
        validate=(lambda v: None if v.strip().isdigit() else "the code is digits only")
        if digits
        else None,
    ).strip()


def code_until_accepted(
    terminal: Terminal,
    given: str | None,
    submit: Callable[[str], R],
    *,
    what: str = "MFA code",
    digits: bool = True,
    ask: Callable[[], str] | None = None,
) -> R:
    """Ask for the one-time code (or take the one given) and ``submit`` it. When ``submit``
    raises :class:`~samljit.common.errors.WrongCodeError` for a code typed at the prompt, the
    IdP's words are shown and the code asked for again, up to :data:`CODE_ATTEMPTS` codes in
    all; a code given up front (``--mfa-token``) is not asked for again: its refusal ends the
    login. ``ask`` asks another way (an answer to a security question, typed unseen)."""
    for attempt in range(1, CODE_ATTEMPTS + 1):
        code = (
            ask()
            if ask is not None and not given
            else ask_code(terminal, given, what=what, digits=digits)
        )
        try:
            return submit(code)
        except WrongCodeError as exc:
            if given or attempt == CODE_ATTEMPTS:
                raise
            terminal.warn(f"{exc.message}; try again")
    raise AssertionError("unreachable")


def seconds_until(expires_at: object, now: datetime, fallback: float) -> float:
    """Seconds from ``now`` until an IdP's ``expiresAt`` (ISO 8601, ``Z`` allowed; a naive
    time is UTC), never negative; ``fallback`` when the IdP gave none or an unreadable one."""
    if not isinstance(expires_at, str) or not expires_at:
        return fallback
    try:
        moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())
