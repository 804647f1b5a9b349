"""Questions in a desktop dialog, for runs without a terminal (an IDE or GUI program running
``credential-process`` or ``eks-token``).

:class:`DialogTerminal` is a :class:`~samljit.common.terminal.Terminal` whose questions
(:meth:`ask`, :meth:`ask_secret`, :meth:`choose`) and notices (a number to match, a code to
compare) appear in a dialog of ``zenity``, ``kdialog`` or ``osascript``; its messages still go
to stderr. The CLI wiring picks it (:func:`choose_prompt`); providers do not know.

No secret and no answer is ever on a dialog's command line (where ``ps`` shows it): the
question's text may be, the answer comes back on the program's stdout, and what samljit
shows (a notice, the options of a choice) goes through stdin where the program reads it.
Cancelling a dialog raises :class:`KeyboardInterrupt` (exit 130).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, NamedTuple

from samljit.common.errors import ConfigError, UsageError
from samljit.common.platform import current, for_name
from samljit.common.terminal import Terminal
from samljit.common.text import one_line, printable

#: The values of ``prompt`` / ``SAMLJIT_PROMPT``.
PROMPTS = ("auto", "terminal", "zenity", "kdialog", "osascript")
#: The dialog programs ``auto`` looks for, in order, per platform.
AUTO_PROGRAMS = {"darwin": ("osascript",), "linux": ("zenity", "kdialog")}
TITLE = "samljit"


class Choice(NamedTuple):
    """What :func:`choose_prompt` decided: the ``program`` to ask with (``None``: the
    terminal, or nothing when it has none), or why the named program cannot run
    (``problem``, a usage error when a question comes)."""

    program: str | None = None
    problem: str | None = None


def has_display(env: Mapping[str, str], platform: str) -> bool:
    """Whether dialogs can be shown: macOS and Windows always, elsewhere an X11 or Wayland
    display."""
    return for_name(platform).has_display(env)


def choose_prompt(
    prompt: str,
    *,
    has_terminal: bool,
    env: Mapping[str, str],
    platform: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Choice:
    """How to ask, per ``prompt``: the terminal when there is one (or ``prompt = terminal``);
    else, with a display, the named program or (``auto``) the first one installed; else
    nothing (the run fails at the first question, as without a dialog)."""
    if prompt == "terminal" or has_terminal:
        return Choice()
    platform = platform or current().name
    display = has_display(env, platform)
    if prompt == "auto":
        if not display:
            return Choice()
        for program in AUTO_PROGRAMS.get(platform, AUTO_PROGRAMS["linux"]):
            if which(program) is not None:
                return Choice(program)
        return Choice()
    if which(prompt) is None:
        return Choice(problem=f"{prompt} (prompt = {prompt}) is not installed")
    if not display:
        return Choice(problem=f"there is no display for {prompt} (prompt = {prompt})")
    return Choice(prompt)


# -- the programs ---------------------------------------------------------------------------
class Run:
    """One dialog to run: its command line (no answer, no secret) and what goes to its stdin."""

    def __init__(self, argv: Sequence[str], stdin: str = "") -> None:
        self.argv = list(argv)
        self.stdin = stdin


class DialogProgram:
    """How one program shows each kind of dialog (the command lines carry no answer)."""

    name = ""

    def entry(self, text: str) -> Run:
        raise NotImplementedError

    def secret(self, text: str) -> Run:
        raise NotImplementedError

    def choice(self, title: str, options: Sequence[str]) -> Run:
        raise NotImplementedError

    def chosen(self, output: str, options: Sequence[str]) -> int | None:
        """The index of the option the dialog's ``output`` names."""
        text = output.strip()
        number = text.split(".", 1)[0].strip()
        if number.isdigit() and 1 <= int(number) <= len(options):
            return int(number) - 1
        return None

    def notice(self, text: str) -> Run:
        raise NotImplementedError

    def cancelled(self, returncode: int, stderr: str) -> bool:
        return returncode == 1


class Zenity(DialogProgram):
    name = "zenity"

    def entry(self, text: str) -> Run:
        return Run(["zenity", "--entry", "--title", TITLE, "--text", _markup(text)])

    def secret(self, text: str) -> Run:
        return Run(["zenity", "--entry", "--hide-text", "--title", TITLE, "--text", _markup(text)])

    def choice(self, title: str, options: Sequence[str]) -> Run:
        rows = "".join(f"{n}\n{_cell(option)}\n" for n, option in enumerate(options, 1))
        return Run(
            [
                "zenity",
                "--list",
                "--title",
                TITLE,
                "--text",
                _markup(title),
                "--column",
                "#",
                "--column",
                "Choice",
                "--hide-column",
                "1",
                "--print-column",
                "1",
            ],
            stdin=rows,
        )

    def notice(self, text: str) -> Run:
        return Run(["zenity", "--text-info", "--title", TITLE], stdin=text + "\n")

    def cancelled(self, returncode: int, stderr: str) -> bool:
        # GTK exits 1 also when it cannot open the display
        return returncode == 1 and "cannot open display" not in stderr.lower()


class Kdialog(DialogProgram):
    name = "kdialog"

    def entry(self, text: str) -> Run:
        return Run(["kdialog", "--title", TITLE, "--inputbox", text])

    def secret(self, text: str) -> Run:
        return Run(["kdialog", "--title", TITLE, "--password", text])

    def choice(self, title: str, options: Sequence[str]) -> Run:
        items = [part for n, o in enumerate(options, 1) for part in (str(n), _cell(o))]
        return Run(["kdialog", "--title", TITLE, "--menu", title, *items])

    def notice(self, text: str) -> Run:
        return Run(["kdialog", "--title", TITLE, "--textbox", "/dev/stdin"], stdin=text + "\n")


class Osascript(DialogProgram):
    """AppleScript read from stdin (``osascript`` with no file): nothing on its command line."""

    name = "osascript"

    def _dialog(self, text: str, hidden: bool) -> Run:
        script = (
            f'set answer to display dialog {_applescript(text)} default answer "" '
            f"with title {_applescript(TITLE)}{' with hidden answer' if hidden else ''}\n"
            "return text returned of answer\n"
        )
        return Run(["osascript"], stdin=script)

    def entry(self, text: str) -> Run:
        return self._dialog(text, hidden=False)

    def secret(self, text: str) -> Run:
        return self._dialog(text, hidden=True)

    def choice(self, title: str, options: Sequence[str]) -> Run:
        listed = ", ".join(_applescript(f"{n}. {_cell(o)}") for n, o in enumerate(options, 1))
        script = (
            f"set picked to choose from list {{{listed}}} with prompt {_applescript(title)} "
            f"with title {_applescript(TITLE)}\n"
            "if picked is false then error number -128\n"
            "return item 1 of picked\n"
        )
        return Run(["osascript"], stdin=script)

    def notice(self, text: str) -> Run:
        script = f"display notification {_applescript(text)} with title {_applescript(TITLE)}\n"
        return Run(["osascript"], stdin=script)

    def cancelled(self, returncode: int, stderr: str) -> bool:
        return returncode != 0 and "-128" in stderr


PROGRAMS: dict[str, type[DialogProgram]] = {
    "zenity": Zenity,
    "kdialog": Kdialog,
    "osascript": Osascript,
}


def _cell(text: str) -> str:
    """One line of text for a list row (a line break would start another cell)."""
    return one_line(text)


def _markup(text: str) -> str:
    """``text`` for zenity's ``--text``, which is Pango markup: shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _applescript(text: str) -> str:
    """``text`` as an AppleScript string literal."""
    escaped = printable(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# -- the terminal ---------------------------------------------------------------------------
class DialogTerminal(Terminal):
    """A :class:`Terminal` that asks in dialogs of ``program``; messages go to ``stream``."""

    def __init__(
        self,
        program: DialogProgram,
        *,
        stream: IO[str] | None = None,
        quiet: bool = False,
        scrub: Callable[[str], str] | None = None,
        runner: Callable[..., Any] | None = None,
        spawner: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(interactive=True, stream=stream, quiet=quiet, scrub=scrub)
        self.program = program
        self._runner = runner
        self._spawner = spawner
        self._notices: list[Any] = []
        self._atexit = False

    # -- questions ------------------------------------------------------------------------
    def _read_answer(self, question: str, completions: Sequence[str], note: str | None) -> str:
        """One asking, in the dialog: a help or problem ``note`` stands above the question."""
        text = f"{note}\n{question}" if note else question
        return self._answer(self.program.entry(self._shown(text)))

    def _show_help(self, help: str) -> str | None:
        return help  # shown in the next dialog, above the question

    def _read_secret(self, question: str) -> str:
        return self._answer(self.program.secret(self._shown(question)))

    def choose(
        self, title: str, options: Sequence[str], *, what: str, hint: str | None = None
    ) -> int:
        self.require(what, hint)
        shown = [self._shown(option) for option in options]
        while True:
            found = self.program.chosen(
                self._answer(self.program.choice(self._shown(title), shown)), shown
            )
            if found is not None:
                return found

    def _answer(self, run: Run) -> str:
        """Run one dialog; its answer (stdout, the line break it ends with taken off)."""
        import subprocess

        self.close_notices()
        self.clear_status()
        runner = self._runner or subprocess.run
        try:
            done = runner(run.argv, input=run.stdin, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise UsageError(f"cannot run {self.program.name}: {exc.strerror or exc}") from None
        if done.returncode == 0:
            output: str = done.stdout
            return output[:-1] if output.endswith("\n") else output
        if self.program.cancelled(done.returncode, done.stderr or ""):
            raise KeyboardInterrupt
        lines = (done.stderr or "").strip().splitlines()
        why = printable(one_line(lines[-1])) if lines else ""
        raise UsageError(
            f"{self.program.name} could not show a dialog (exit {done.returncode})"
            + (f": {why}" if why else "")
        )

    # -- notices --------------------------------------------------------------------------
    def notice(self, text: str) -> None:
        """Shown on stderr and in a dialog that does not block: it closes when the wait for
        the user ends (the next question, the end of a countdown, the end of the run)."""
        super().notice(text)
        import subprocess

        run = self.program.notice(self._shown(text))
        spawn = self._spawner or subprocess.Popen
        try:
            shown = spawn(
                run.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            return  # the line on stderr stays; a question will say why dialogs fail
        if shown.stdin is not None:
            try:
                shown.stdin.write(run.stdin)
                shown.stdin.close()
            except OSError:
                pass  # a dialog that ended at once shows nothing; the line on stderr stays
        self._notices.append(shown)
        if not self._atexit:
            import atexit

            atexit.register(self.close_notices)
            self._atexit = True

    def clear_status(self) -> None:
        if self._status_shown:  # a countdown ends: so does what it waited for
            self.close_notices()
        super().clear_status()

    def close_notices(self) -> None:
        import subprocess

        while self._notices:
            shown = self._notices.pop()
            if shown.poll() is None:
                shown.terminate()
                try:
                    shown.wait(timeout=5)
                except subprocess.TimeoutExpired:  # never keep a login waiting on a dialog
                    shown.kill()


def dialog_terminal(
    program: str,
    *,
    quiet: bool,
    scrub: Callable[[str], str] | None = None,
) -> DialogTerminal:
    return DialogTerminal(PROGRAMS[program](), quiet=quiet, scrub=scrub)


def env_prompt(env: Mapping[str, str]) -> str | None:
    """``SAMLJIT_PROMPT``, checked (a usage error names it when it is not a known value)."""
    value = (env.get("SAMLJIT_PROMPT") or "").strip().lower()
    if not value:
        return None
    if value not in PROMPTS:
        raise ConfigError(f"SAMLJIT_PROMPT must be one of {', '.join(PROMPTS)}, not {value!r}")
    return value
