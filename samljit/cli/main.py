"""samljit's command-line entry point: parse, dispatch, map errors to exit codes.

This is the only module that knows exit codes. A run that a remembered answer serves
(:mod:`samljit.jit.answers`) loads nothing else; otherwise only the module of the command on
the command line is imported (:mod:`samljit.cli.registry`), so ``--help`` and ``--version``
load argparse and nothing heavy.
"""

import os
import sys

from samljit.cli.words import REPLAYABLE, command_in, quiet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from samljit.common.errors import SamljitError
    from samljit.common.redact import Redactor

EXIT_OK = 0
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


def exit_code(error: "SamljitError") -> int:
    """The contract's exit status of a samljit error (first match wins: subclasses before
    their bases). The error classes are imported here, not at start-up: creating them costs
    more than a remembered answer does, and such a run needs none of them."""
    from samljit.common.errors import (
        AuthenticationError,
        AwsError,
        ConfigError,
        NetworkError,
        RoleError,
        UsageError,
    )

    codes: tuple[tuple[type[SamljitError], int], ...] = (
        (UsageError, 2),
        (ConfigError, 2),
        (RoleError, 4),
        (AwsError, 5),
        (NetworkError, 6),
        (AuthenticationError, 3),
    )
    for cls, code in codes:
        if isinstance(error, cls):
            return code
    return EXIT_BUG


def debug_text(text: str, redactor: "Redactor", *, newlines: bool = True) -> str:
    """What ``--debug`` may show of ``text`` (a record, a traceback): the run's secrets and the
    values of secret-named fields (``token=…`` in a URL an exception names) masked, control
    characters shown as escapes (line breaks too, unless ``newlines``)."""
    from samljit.common.redact import redact_pairs
    from samljit.common.text import printable

    return printable(redact_pairs(redactor(text)), newlines=newlines)


def _setup_debug(redactor: "Redactor") -> None:
    """``--debug``: every record of the ``samljit`` loggers on stderr, its traceback included,
    through :func:`debug_text`. A record's message is one line (a page's line breaks cannot
    forge lines of samljit's own); a traceback keeps its lines."""
    import logging

    class Scrubbed(logging.Formatter):
        def formatMessage(self, record: "logging.LogRecord") -> str:
            return debug_text(super().formatMessage(record), redactor, newlines=False)

        def format(self, record: "logging.LogRecord") -> str:
            return debug_text(super().format(record), redactor)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Scrubbed("samljit: debug: %(message)s"))
    logger = logging.getLogger("samljit")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)


def _print_error(message: str, hint: str | None, redactor: "Redactor") -> None:
    from samljit.common.terminal import colour_enabled, style
    from samljit.common.text import printable

    prefix = style("samljit: error:", "error", enabled=colour_enabled(sys.stderr))
    # the last line of defence: whatever reached an error, no control character reaches stderr
    sys.stderr.write(f"{prefix} {printable(redactor(message), newlines=True)}\n")
    if hint:
        sys.stderr.write(f"hint: {printable(redactor(hint), newlines=True)}\n")
    sys.stderr.flush()


def main(argv: "Sequence[str] | None" = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    if words == ["--version"]:
        from samljit import __version__

        sys.stdout.write(f"samljit {__version__}\n")
        return EXIT_OK
    if words in (["--help"], ["-h"]):
        return _help()
    command = command_in(words)
    if command in REPLAYABLE:
        from samljit.cli.replay import replay

        replayed = replay(words, os.environ, quiet(words))
        if replayed is not None:
            return replayed
    return _run(command, words)


def _help() -> int:
    """``samljit --help``: the text argparse makes, remembered per width until samljit's
    files change (an upgrade), so that it costs no more than a cached answer."""
    import samljit
    from samljit.cli.replay import replay
    from samljit.cli.words import help_width
    from samljit.jit import answers

    key = ["\0help", str(help_width())]
    if replay(key, os.environ, quiet=False) is not None:
        return EXIT_OK
    from samljit.cli.args import build_parser

    text = build_parser().format_help()
    sys.stdout.write(text)
    forever = 2.0**40
    here = os.path.dirname(__file__)
    watch = [str(samljit.__file__), os.path.join(here, "registry.py"), __file__]
    answers.remember(os.environ, key, watch=watch, until=forever, expires=forever, stdout=text)
    return EXIT_OK


def _run(command: str | None, words: list[str]) -> int:
    import importlib

    from samljit.cli.args import build_parser
    from samljit.cli.registry import BY_NAME
    from samljit.common.errors import SamljitError

    parser = build_parser(command)
    args = parser.parse_args(words)  # --help and --version end here
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    from samljit.common.redact import Redactor

    redactor = Redactor()
    if args.debug:
        _setup_debug(redactor)
    try:
        module = importlib.import_module(BY_NAME[args.command].module)
        from samljit.cli.commands import Context

        ctx = Context(args=args, env=dict(os.environ), redactor=redactor, words=words)
        status: int = module.run(ctx)
        return status
    except SamljitError as error:
        if args.debug:
            import logging

            logging.getLogger("samljit").debug("error", exc_info=True)
        _print_error(error.message, error.hint, redactor)
        return exit_code(error)
    except KeyboardInterrupt:
        sys.stderr.write("\nsamljit: error: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_BUG
    except Exception as error:  # a bug: one clear line, the traceback only with --debug
        if args.debug:
            import traceback

            sys.stderr.write(debug_text(traceback.format_exc(), redactor))
        _print_error(
            f"unexpected {type(error).__name__}: {error}",
            "this is a bug in samljit; run again with --debug for the traceback",
            redactor,
        )
        return EXIT_BUG


if __name__ == "__main__":
    raise SystemExit(main())
