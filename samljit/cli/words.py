"""Reading the command line before any parser is built (kept free of imports: the cached
paths answer from here)."""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

GLOBAL_WITH_VALUE = ("-a", "--idp-account", "--config")
#: Commands a remembered answer can serve (samljit.jit.answers).
REPLAYABLE = frozenset({"credential-process", "login", "exec"})


def command_in(words: "Sequence[str]") -> str | None:
    """The command named on the command line (the first word that is not a global option or
    its value), or ``None``."""
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--":
            return None
        elif word in GLOBAL_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def help_width() -> int:
    """The width help text is formatted for: ``COLUMNS``, else stderr's terminal, else 80."""
    import os

    try:
        width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(2).columns
    except (ValueError, OSError):
        width = 80
    return max(width - 2, 40)


def quiet(words: "Sequence[str]") -> bool:
    head = words[: list(words).index("--")] if "--" in words else words
    return "-q" in head or "--quiet" in head
