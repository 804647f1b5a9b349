"""Edit one profile of the AWS shared credentials file and leave everything else alone.

Users trust samljit with ``~/.aws/credentials``, a file they also edit by hand and that other
tools write.  This module changes exactly one ``[profile]`` section and keeps every other byte:
comments, blank lines, other profiles, odd spacing, CRLF or CR line endings, a missing final
newline, non-ASCII text.

How the file is read
    Lines are classified exactly as :mod:`configparser` (used by botocore and the AWS CLI)
    classifies them, with universal newlines: blank lines, full-line comments (``#`` or ``;``
    after optional whitespace), continuation lines (indented deeper than the key line above
    them), section headers (``[name]``, whitespace around the brackets tolerated, the name
    taken verbatim between the first ``[`` and the last ``]``) and ``key = value`` /
    ``key: value`` lines.  The credentials file uses plain ``[name]`` headers, without the
    ``profile`` prefix of ``~/.aws/config``.

What belongs to a section
    A section runs from its header line to its last key or continuation line.  Comments and
    blank lines *between* the header and that last line are part of the section and are
    replaced with it.  Comment and blank lines *after* the last key are kept: a comment block
    directly above the next header describes the next section.

What counts as corrupt (:class:`~samljit.errors.ConfigError`, file left untouched)
    * bytes that are not UTF-8, or a leading byte-order mark (the AWS CLI rejects both);
    * a non-blank, non-comment line before the first section header;
    * a line that is neither a header, a ``key = value`` line, a comment nor a continuation
      (for example ``[prod`` without ``]``, or a bare word);
    * when reading or editing profile P: a second ``[P]`` section, because it cannot be known
      which one is meant.
    Duplicate *other* sections or duplicate keys are tolerated: the AWS CLI's own parser
    complains about them, but samljit does not touch them and so cannot make them worse.
    When editing, two more situations are refused because they would lose or change the
    user's data: a line inside ``[P]`` that looks like a section header but is indented under
    a key (AWS tools read it as part of that key's value), and an edit after which the lines
    following ``[P]`` would be read differently because of their indentation.  Every edit is
    checked by parsing the old and new text with :mod:`configparser`: all other sections must
    read the same and ``[P]`` must read exactly as written.

Writing
    Under an exclusive :func:`fcntl.flock` on ``<real file>.lock`` the file is read, edited in
    memory, written to a temporary file in the real file's directory, fsynced, moved over the
    real file with :func:`os.replace`, and the directory is fsynced.  A symlinked credentials
    file keeps its link; the link's target is replaced.  The result is always mode 0600;
    missing parent directories are created with mode 0700.  Readers take no lock: the atomic
    replace means they see either the old or the new file.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from samljit import fsutil
from samljit.errors import ConfigError

__all__ = ["list_profiles", "read_profile", "remove_profile", "write_profile"]

# configparser's own patterns (RawConfigParser.SECTCRE and OPTCRE with the default delimiters).
_SECTION_RE = re.compile(r"\[(?P<header>.+)\]")
_OPTION_RE = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_NONSPACE_RE = re.compile(r"\S")
# One line with its terminator; universal newlines, like reading the file in text mode.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_COMMENT_PREFIXES = ("#", ";")
# Characters that end a line for configparser or for str.splitlines(), plus NUL.
_FORBIDDEN = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")
# A name no section header can produce (headers never contain a newline), so that a
# [DEFAULT] section in the file is read as an ordinary section instead of as defaults.
_NO_DEFAULT_SECTION = "\n"
_UNCHANGED = "samljit left the file unchanged"

_BLANK = "blank"
_COMMENT = "comment"
_CONTINUATION = "continuation"
_HEADER = "header"
_OPTION = "option"


# ------------------------------------------------------------------------------------------
# Public API


def write_profile(path: Path, profile: str, values: Mapping[str, str]) -> None:
    """Make ``[profile]`` in the credentials file at ``path`` hold exactly ``values``.

    An existing section is replaced in place (comments inside it go with it); otherwise the
    section is appended at the end, after one blank line.  Keys are written in the order
    given, as ``key = value``.  Raises :class:`ValueError` for a profile name, key or value
    that cannot be written faithfully, and :class:`ConfigError` when the file is corrupt or
    cannot be read or written; in both cases the file is unchanged.
    """
    _check_profile(profile)
    items = _check_values(values)
    real = _real_path(path)
    shown = _shown(path, real)
    _make_parent_dirs(real, shown)
    with _locked(real, shown):
        old, mode = _read(real, shown)
        text = old if old is not None else ""
        new = _replace_section(text, profile, items, shown)
        if old is not None and new == old and mode == 0o600:
            return
        _atomic_write(real, new.encode("utf-8"), shown)


def read_profile(path: Path, profile: str) -> dict[str, str] | None:
    """Return the keys and values of ``[profile]``, or None when the file or section is missing.

    Keys come back lower-cased and values stripped, as configparser and botocore read them.
    Raises :class:`ConfigError` for a corrupt or unreadable file.
    """
    real = _real_path(path)
    shown = _shown(path, real)
    text, _ = _read(real, shown)
    if text is None:
        return None
    document = _scan(text, shown)
    if _find_section(document, profile, shown, editing=False) is None:
        return None
    parser = _parse(text, shown)
    if not parser.has_section(profile):
        return None
    return dict(parser.items(profile))


def remove_profile(path: Path, profile: str) -> bool:
    """Delete ``[profile]`` (header through its last key); return True when it was there.

    Comment and blank lines after the section's last key stay, like every other byte.
    """
    real = _real_path(path)
    shown = _shown(path, real)
    if not real.parent.is_dir():
        return False
    with _locked(real, shown):
        old, _ = _read(real, shown)
        if old is None:
            return False
        document = _scan(old, shown)
        section = _find_section(document, profile, shown, editing=True)
        if section is None:
            return False
        new = old[: section.header.start] + old[section.last.end :]
        expected = _model(old, shown)
        del expected[profile]
        _verify(new, expected, section, profile, shown)
        _atomic_write(real, new.encode("utf-8"), shown)
        return True


def list_profiles(path: Path) -> list[str]:
    """Return the section names of the credentials file in file order, without repeats."""
    real = _real_path(path)
    shown = _shown(path, real)
    text, _ = _read(real, shown)
    if text is None:
        return []
    names: dict[str, None] = {}
    for section in _scan(text, shown).sections:
        names.setdefault(section.name, None)
    return list(names)


# ------------------------------------------------------------------------------------------
# Validation of what callers pass


def _check_profile(profile: str) -> None:
    if not isinstance(profile, str) or not profile:
        raise ValueError("profile name must be a non-empty string")
    if profile != profile.strip() or _FORBIDDEN.intersection(profile):
        raise ValueError(f"profile name {profile!r} has surrounding whitespace or a line break")
    if profile == "DEFAULT":
        # configparser, and so botocore, merges a [DEFAULT] section into every profile.
        raise ValueError("profile name 'DEFAULT' is reserved by configparser")


def _check_values(values: Mapping[str, str]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    folded: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("credentials keys and values must be strings")
        if (
            not key
            or any(c.isspace() or c in "=:" for c in key)
            or key[0] in "#;["
            or _FORBIDDEN.intersection(key)
        ):
            raise ValueError(f"credentials key {key!r} cannot be written as 'key = value'")
        lower = key.lower()
        if lower in folded:
            raise ValueError(f"credentials keys {folded[lower]!r} and {key!r} differ only in case")
        folded[lower] = key
        # The value itself is never shown: it may be a secret.
        if _FORBIDDEN.intersection(value) or value != value.strip():
            raise ValueError(
                f"value of credentials key {key!r} has a line break or surrounding whitespace"
            )
        items.append((key, value))
    return items


# ------------------------------------------------------------------------------------------
# Scanning: configparser's line grammar, keeping every line's position


class _Line:
    """One physical line of the file (``end`` is just after its terminator)."""

    __slots__ = ("content", "end", "kind", "newline", "number", "start")

    def __init__(self, number: int, start: int, end: int, content: str, newline: str) -> None:
        self.number = number
        self.start = start
        self.end = end
        self.content = content  # without the terminator
        self.newline = newline
        self.kind = _BLANK

    @property
    def indent(self) -> str:
        return self.content[: len(self.content) - len(self.content.lstrip())]


class _Section:
    """A section: its header, its last header/key/continuation line, the next header."""

    __slots__ = ("continuations", "header", "last", "name", "next_header")

    def __init__(self, name: str, header: _Line, last: _Line) -> None:
        self.name = name
        self.header = header
        self.last = last
        self.continuations: list[_Line] = []
        self.next_header: _Line | None = None


class _Document:
    __slots__ = ("lines", "sections")

    def __init__(self, lines: list[_Line], sections: list[_Section]) -> None:
        self.lines = lines
        self.sections = sections

    def newline(self, preferred: _Line | None = None) -> str:
        if preferred is not None and preferred.newline:
            return preferred.newline
        for line in self.lines:
            if line.newline:
                return line.newline
        return "\n"


def _scan(text: str, shown: str) -> _Document:
    """Split ``text`` into lines and sections the way configparser reads them."""
    if text.startswith("\ufeff"):
        raise _corrupt(
            shown,
            1,
            "starts with a byte-order mark, which AWS tools cannot read",
            "save the file as UTF-8 without a byte-order mark",
        )
    lines: list[_Line] = []
    sections: list[_Section] = []
    current: _Section | None = None
    in_option = False  # a key line is open, so deeper-indented lines continue its value
    indent_level = 0
    for number, match in enumerate(_LINE_RE.finditer(text), start=1):
        raw = match.group()
        content = raw.rstrip("\r\n")
        line = _Line(number, match.start(), match.end(), content, raw[len(content) :])
        lines.append(line)
        stripped = content.strip()
        if not stripped:
            line.kind = _BLANK
            continue
        if stripped.startswith(_COMMENT_PREFIXES):
            line.kind = _COMMENT
            continue
        first = _NONSPACE_RE.search(content)
        indent = first.start() if first else 0
        if current is not None and in_option and indent > indent_level:
            line.kind = _CONTINUATION
            current.last = line
            current.continuations.append(line)
            continue
        indent_level = indent
        header = _SECTION_RE.match(stripped)
        if header:
            line.kind = _HEADER
            if current is not None:
                current.next_header = line
            current = _Section(header.group("header"), line, line)
            sections.append(current)
            in_option = False
            continue
        option = _OPTION_RE.match(stripped) if current is not None else None
        if option is None or not option.group("option"):
            raise _bad_line(shown, line, before_sections=current is None)
        line.kind = _OPTION
        in_option = True
        assert current is not None
        current.last = line
    return _Document(lines, sections)


def _find_section(
    document: _Document, profile: str, shown: str, *, editing: bool
) -> _Section | None:
    found = [section for section in document.sections if section.name == profile]
    if not found:
        return None
    if len(found) > 1:
        raise _corrupt(
            shown,
            found[1].header.number,
            f"second [{profile}] section (the first is on line {found[0].header.number})",
            f"merge the [{profile}] sections into one or delete one",
        )
    section = found[0]
    if editing:
        for line in section.continuations:
            if _SECTION_RE.match(line.content.strip()):
                raise _corrupt(
                    shown,
                    line.number,
                    f"{line.content.strip()!r} is indented under the key above it, so AWS tools"
                    " read it as part of that key's value, not as a section",
                    f"remove the indentation of line {line.number}",
                )
    return section


def _bad_line(shown: str, line: _Line, *, before_sections: bool) -> ConfigError:
    stripped = line.content.strip()
    hint = f"fix or delete line {line.number}; {_UNCHANGED}"
    if "\x00" in line.content:
        return _corrupt(
            shown,
            line.number,
            "contains NUL bytes (binary or damaged file)",
            f"restore the file from a backup or move it aside; {_UNCHANGED}",
        )
    if stripped.startswith("[") and not _SECTION_RE.match(stripped):
        return _corrupt(shown, line.number, "section header without a closing ']'", hint)
    if before_sections:
        return _corrupt(shown, line.number, "setting before the first [profile] header", hint)
    if stripped[0] in "=:":
        return _corrupt(shown, line.number, "value without a key", hint)
    return _corrupt(
        shown, line.number, "not a [profile] header, 'key = value' line or comment", hint
    )


def _corrupt(shown: str, number: int, problem: str, hint: str) -> ConfigError:
    return ConfigError(f"corrupt credentials file {shown}: line {number}: {problem}", hint=hint)


# ------------------------------------------------------------------------------------------
# Editing and checking the edit


def _replace_section(text: str, profile: str, items: list[tuple[str, str]], shown: str) -> str:
    document = _scan(text, shown)
    section = _find_section(document, profile, shown, editing=True)
    if section is None:
        newline = document.newline()
        block = _render("", "", profile, items, newline)
        if not document.lines:
            new = block
        else:
            last = document.lines[-1]
            separator = "" if last.newline else newline
            if last.content.strip():
                separator += newline  # one blank line before the new section
            new = text + separator + block
    else:
        newline = document.newline(section.header)
        # Keys are indented like the next header so that it cannot turn into a continuation
        # line of our last key; the header keeps its own indentation, which was valid there.
        key_indent = section.next_header.indent if section.next_header else ""
        block = _render(section.header.indent, key_indent, profile, items, newline)
        new = text[: section.header.start] + block + text[section.last.end :]
    expected = _model(text, shown)
    expected[profile] = {key.lower(): value for key, value in items}
    _verify(new, expected, section, profile, shown)
    return new


def _render(
    header_indent: str, key_indent: str, profile: str, items: list[tuple[str, str]], newline: str
) -> str:
    lines = [f"{header_indent}[{profile}]"]
    lines.extend(f"{key_indent}{key} = {value}".rstrip() for key, value in items)
    return "".join(line + newline for line in lines)


def _verify(
    new: str,
    expected: dict[str, dict[str, str]],
    section: _Section | None,
    profile: str,
    shown: str,
) -> None:
    try:
        actual = _model(new, shown)
    except ConfigError:
        actual = None
    if actual == expected:
        return
    after = section.next_header if section is not None else None
    where = f" (line {after.number})" if after is not None else ""
    raise ConfigError(
        f"cannot edit [{profile}] in {shown} without changing how AWS tools read the lines"
        f" after it{where}, because of their indentation",
        hint=f"remove the leading whitespace from the section headers and keys; {_UNCHANGED}",
    )


def _parse(text: str, shown: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, default_section=_NO_DEFAULT_SECTION
    )
    try:
        parser.read_file(io.StringIO(text, newline=None), source=shown)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"corrupt credentials file {shown}: {first}", hint=_UNCHANGED) from None
    return parser


def _model(text: str, shown: str) -> dict[str, dict[str, str]]:
    parser = _parse(text, shown)
    return {name: dict(parser.items(name)) for name in parser.sections()}


# ------------------------------------------------------------------------------------------
# Files


def _real_path(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _shown(path: Path, real: Path) -> str:
    if os.path.abspath(path) == str(real):
        return str(path)
    return f"{path} (-> {real})"


def _io_error(action: str, shown: str, exc: OSError, hint: str | None = None) -> ConfigError:
    reason = exc.strerror or type(exc).__name__
    return ConfigError(
        f"cannot {action} credentials file {shown}: {reason}",
        hint=hint or "check the file's and its directory's owner and permissions",
    )


def _make_parent_dirs(real: Path, shown: str) -> None:
    missing: list[Path] = []
    directory = real.parent
    while not os.path.lexists(directory) and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
            os.chmod(directory, 0o700)  # whatever the umask
        except FileExistsError:
            pass
        except OSError as exc:
            raise _io_error(f"create the directory {directory} for the", shown, exc) from None


@contextlib.contextmanager
def _locked(real: Path, shown: str) -> Iterator[None]:
    lock_path = real.with_name(real.name + ".lock")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(fsutil.locked(lock_path))
        except OSError as exc:
            raise _io_error(f"lock (through {lock_path}) the", shown, exc) from None
        yield


def _read(real: Path, shown: str) -> tuple[str | None, int | None]:
    """Return the decoded text and permission bits, or (None, None) when there is no file."""
    try:
        # O_NONBLOCK: opening a FIFO must not hang; it is refused below.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise _io_error("read the", shown, exc) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(
                f"credentials file {shown} is a directory",
                hint="point credentials_file or AWS_SHARED_CREDENTIALS_FILE at a file",
            )
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(
                f"credentials file {shown} is not a regular file",
                hint="point credentials_file or AWS_SHARED_CREDENTIALS_FILE at a regular file",
            )
        chunks: list[bytes] = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:
        raise _io_error("read the", shown, exc) from None
    finally:
        os.close(fd)
    return _decode(b"".join(chunks), shown), stat.S_IMODE(info.st_mode)


def _decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        number = len(_NEWLINE_RE.findall(before)) + 1
        raise _corrupt(
            shown,
            number,
            "not UTF-8 text (binary or damaged file)",
            f"restore the file from a backup or move it aside; {_UNCHANGED}",
        ) from None


def _atomic_write(real: Path, data: bytes, shown: str) -> None:
    try:
        fsutil.atomic_write(real, data, mode=0o600)
    except OSError as exc:
        raise _io_error("write the", shown, exc) from None
