"""The one object through which samljit talks to, and asks of, the user.

Library code receives a :class:`Terminal` and never touches ``sys.stdin``/``print``. Prompts
use prompt-toolkit (imported only when a question is really asked). Where the prompts go:

* stdin and stderr are terminals → ask there;
* otherwise the console, when the process has one: the controlling terminal ``/dev/tty``
  (``CONIN$``/``CONOUT$`` on Windows; see :mod:`samljit.common.platform`) (this is what lets
  ``credential_process`` and ``$(samljit …)`` still ask for an MFA code);
* otherwise nothing can be asked: :meth:`Terminal.ask` raises
  :class:`~samljit.common.errors.MissingInputError` at once instead of blocking on a pipe.

stdout is never written here: it is reserved for command results.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, TextIO, cast

from samljit.common.errors import MissingInputError
from samljit.common.platform import current
from samljit.common.text import printable

#: SGR codes of the few styles samljit uses (only ever on a terminal, never with NO_COLOR).
STYLES = {
    "success": "1;32",
    "ok": "32",
    "warn": "33",
    "error": "1;31",
    "bold": "1",
    "dim": "2",
}


def colour_enabled(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with ``NO_COLOR`` set (to anything but the empty
    string, as no-color.org says) or ``TERM=dumb``."""
    environ = os.environ if env is None else env
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return _isatty(stream)


def style(text: str, kind: str, *, enabled: bool) -> str:
    """``text`` wrapped in the ANSI codes of ``kind`` when ``enabled``; else unchanged."""
    code = STYLES.get(kind)
    if not enabled or code is None or not text:
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


class Terminal:
    """User-facing messages and questions. ``interactive`` says whether questions can be asked."""

    def __init__(
        self,
        *,
        interactive: bool,
        stream: IO[str] | None = None,
        quiet: bool = False,
        prompt_io: Callable[[], tuple[Any, Any]] | None = None,
        scrub: Callable[[str], str] | None = None,
        no_prompt_reason: str = "there is no terminal to ask on",
        colour: bool | None = None,
    ) -> None:
        self.interactive = interactive
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self._prompt_io_factory = prompt_io
        self._prompt_io: tuple[Any, Any] | None = None
        self._scrub = scrub or (lambda text: text)
        self.no_prompt_reason = no_prompt_reason
        self._warned: set[str] = set()
        self._status_shown = False
        self.is_tty = _isatty(self.stream)
        #: Whether messages are coloured (default: the stream is a terminal and NO_COLOR is
        #: not set).
        self.colour = colour_enabled(self.stream) if colour is None else colour

    # -- messages -------------------------------------------------------------------------
    def _write(self, text: str, kind: str | None = None) -> None:
        self.clear_status()
        line = self._shown(text)
        if kind is not None:
            line = self.style(line, kind)
        self.stream.write(line + "\n")
        self.stream.flush()

    def _shown(self, text: str) -> str:
        """``text`` as it may reach the screen: secrets scrubbed, control characters escaped
        (the last line of defence; tab and line feed kept)"""
        return printable(self._scrub(text), newlines=True)

    def style(self, text: str, kind: str) -> str:
        """``text`` in the style ``kind`` (see :data:`STYLES`) when colour is on."""
        return style(text, kind, enabled=self.colour)

    def info(self, text: str) -> None:
        if not self.quiet:
            self._write(text)

    def notice(self, text: str) -> None:
        """A line the user must act on elsewhere (a number to pick or type on the phone, a
        code to compare): shown even with ``--quiet``, on the terminal samljit talks to."""
        self._write(text, "bold")

    def open_browser(self, url: str) -> bool:
        """Open ``url`` in the user's browser where there is a display (a step the user
        finishes there, such as approving a device code); False when none was opened."""
        platform = current()
        return platform.has_display(os.environ) and platform.open_url(url)

    def success(self, text: str) -> None:
        """The one line that says a command did what it was asked (green on a terminal)."""
        if not self.quiet:
            self._write(text, "success")

    def warn(self, text: str) -> None:
        if not self.quiet:
            self._write(f"samljit: warning: {text}", "warn")

    def warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warn(text)

    def status(self, text: str) -> None:
        """A transient progress line (e.g. a push countdown), rewritten in place on a tty."""
        if self.quiet:
            return
        if self.is_tty:
            self.stream.write("\r\x1b[2K" + printable(self._scrub(text)))
            self.stream.flush()
            self._status_shown = True
        elif not self._status_shown:
            self.stream.write(printable(self._scrub(text)) + "\n")
            self.stream.flush()
            self._status_shown = True

    def clear_status(self) -> None:
        if self._status_shown:
            if self.is_tty:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
            self._status_shown = False

    # -- questions ------------------------------------------------------------------------
    def require(self, what: str, hint: str | None = None) -> None:
        """Raise :class:`MissingInputError` unless a question about ``what`` can be asked."""
        if not self.interactive:
            raise MissingInputError(f"{what} is needed, but {self.no_prompt_reason}", hint=hint)

    def ask(
        self,
        question: str,
        *,
        what: str,
        default: str | None = None,
        hint: str | None = None,
        completions: Sequence[str] = (),
        validate: Callable[[str], str | None] | None = None,
        help: str | None = None,
    ) -> str:
        """Ask for a line of text; ``validate`` returns an error text or ``None``. With
        ``help``, the answer ``?`` shows it and asks again."""
        self.require(what, hint)
        asked = f"{question} [{default}]" if default else question
        note: str | None = None  # the help or the last answer's problem, for the next asking
        while True:
            answer = self._read_answer(asked, completions, note).strip()
            note = None
            if answer == "?" and help:
                note = self._show_help(help)
                continue
            if not answer and default is not None:
                answer = default
            note = validate(answer) if validate else None
            if note is None:
                return answer
            self._write(f"  {note}")

    def _read_answer(self, question: str, completions: Sequence[str], note: str | None) -> str:
        """One asking of :meth:`ask`'s question (``note`` is already on the terminal)."""
        completer = _SubstringCompleter(completions) if completions else None
        return self._prompt(f"{question}: ", completer=completer)

    def _show_help(self, help: str) -> str | None:
        """Show a question's help; what is returned goes with the next asking."""
        self._write(f"  {help}")
        return None

    def confirm(
        self,
        question: str,
        *,
        what: str,
        default: bool,
        hint: str | None = None,
        help: str | None = None,
    ) -> bool:
        """A yes/no question, ``Question [y/N]:`` (Enter: ``default``; ``?``: ``help``)."""
        choices = "Y/n" if default else "y/N"
        answer = self.ask(
            f"{question} [{choices}]",
            what=what,
            hint=hint,
            help=help,
            validate=lambda text: None if not text or text.lower() in _YES_NO else "answer y or n",
        )
        return _YES_NO[answer.lower()] if answer else default

    def ask_secret(
        self, question: str, *, what: str, hint: str | None = None, allow_empty: bool = False
    ) -> str:
        self.require(what, hint)
        while True:
            answer = self._read_secret(question)
            if answer or allow_empty:
                return answer

    def _read_secret(self, question: str) -> str:
        """One asking of a secret (not echoed)."""
        return self._prompt(f"{question}: ", is_password=True)

    def choose(
        self, title: str, options: Sequence[str], *, what: str, hint: str | None = None
    ) -> int:
        """Pick one of ``options``: by number, exact text, or text that matches only one."""
        self.require(what, hint)
        self.clear_status()
        self._write(title)
        width = len(str(len(options)))
        for number, option in enumerate(options, 1):
            self._write(f"  {number:>{width}}) {option}")

        def resolve(answer: str) -> int | list[int]:
            text = answer.strip()
            if text.isdigit() and 1 <= int(text) <= len(options):
                return int(text) - 1
            if text in options:
                return options.index(text)
            lowered = text.lower()
            return [i for i, option in enumerate(options) if lowered in option.lower()]

        while True:
            answer = self._prompt(
                "Choose (number, or type to filter): ", completer=_SubstringCompleter(options)
            )
            found = resolve(answer)
            if isinstance(found, int):
                return found
            if len(found) == 1:
                return found[0]
            if not found:
                self._write(f"  nothing matches {answer.strip()!r}")
            else:
                self._write(f"  {len(found)} choices match {answer.strip()!r}; type more")

    def _prompt(self, message: str, **kwargs: Any) -> str:
        from prompt_toolkit import PromptSession

        self.clear_status()
        if self._prompt_io is None:
            factory = self._prompt_io_factory
            self._prompt_io = factory() if factory else (None, None)
        pt_input, pt_output = self._prompt_io
        session: PromptSession[str] = PromptSession(
            input=pt_input, output=pt_output, complete_while_typing=True
        )
        try:
            return session.prompt(printable(message), **kwargs)
        except EOFError:
            raise KeyboardInterrupt from None


_YES_NO = {"y": True, "yes": True, "n": False, "no": False}


class _SubstringCompleter:
    """prompt-toolkit completer offering every option that contains the typed text."""

    def __new__(cls, options: Sequence[str]) -> Any:
        from prompt_toolkit.completion import Completer, Completion

        class SubstringCompleter(Completer):
            def get_completions(self, document: Any, complete_event: Any) -> Any:
                typed = document.text_before_cursor.lower()
                for option in options:
                    if typed in option.lower():
                        yield Completion(option, start_position=-len(document.text_before_cursor))

        return SubstringCompleter()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def open_terminal(
    *,
    skip_prompt: bool,
    quiet: bool,
    scrub: Callable[[str], str] | None = None,
) -> Terminal:
    """The terminal for a CLI run: std streams, else the console, else non-interactive."""
    if skip_prompt:
        return Terminal(
            interactive=False,
            quiet=quiet,
            scrub=scrub,
            no_prompt_reason="--skip-prompt forbids asking",
        )
    if _isatty(sys.stdin) and _isatty(sys.stderr):
        return Terminal(
            interactive=True,
            quiet=quiet,
            scrub=scrub,
            prompt_io=lambda: _prompt_io(None, sys.stderr),
        )
    tty = current().console()
    if tty is not None:
        tty_in, tty_out = tty
        return Terminal(
            interactive=True,
            stream=tty_out,
            quiet=quiet,
            scrub=scrub,
            prompt_io=lambda: _prompt_io(tty_in, tty_out),
        )
    return Terminal(interactive=False, quiet=quiet, scrub=scrub)


def _prompt_io(stdin: IO[str] | None, stdout: IO[str]) -> tuple[Any, Any]:
    from prompt_toolkit.input import create_input
    from prompt_toolkit.output import create_output

    return create_input(stdin=cast(TextIO | None, stdin)), create_output(
        stdout=cast(TextIO, stdout)
    )
