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

The line grammar and the edits themselves are :mod:`samljit.common.inifile`'s; this module adds the
credentials file's rules, checks and file handling.

What counts as corrupt (:class:`~samljit.common.errors.ConfigError`, file left untouched)
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
    checked where it can change anything: the text outside the edited span must be the old
    text byte for byte, and :mod:`configparser` must read the span from the header before
    ``[P]`` through the header after it (:meth:`~samljit.common.inifile.Document.context`) with
    every other section as before and ``[P]`` exactly as written.  A line's reading depends
    only on the lines above it up to the last header, so the rest of the file reads as it did.

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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from samljit.common import fsutil, inifile
from samljit.common.errors import ConfigError
from samljit.common.platform import current
from samljit.config.accounts import check_profile_name

__all__ = [
    "edit_file",
    "list_profiles",
    "read_profile",
    "remove_profile",
    "scan",
    "verify_edit",
    "write_profile",
]

# configparser's own header pattern (RawConfigParser.SECTCRE).
_SECTION_RE = re.compile(r"\[(?P<header>.+)\]")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
# Characters that end a line for configparser or for str.splitlines(), plus NUL.
_FORBIDDEN = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")
# A name no section header can produce (headers never contain a newline), so that a
# [DEFAULT] section in the file is read as an ordinary section instead of as defaults.
_NO_DEFAULT_SECTION = "\n"
_UNCHANGED = "samljit left the file unchanged"


# ------------------------------------------------------------------------------------------
# Public API


def write_profile(path: Path, profile: str, values: Mapping[str, str]) -> None:
    """Make ``[profile]`` in the credentials file at ``path`` hold exactly ``values``.

    An existing section is replaced in place (comments inside it go with it); otherwise the
    section is appended at the end, after one blank line.  Keys are written in the order
    given, as ``key = value``.  Raises :class:`~samljit.common.errors.ProfileNameError` (a
    :class:`ConfigError` and a :class:`ValueError`) for a profile name that
    :func:`~samljit.config.accounts.check_profile_name` refuses, :class:`ValueError` for a key
    or value that cannot be written faithfully, and :class:`ConfigError` when the file is
    corrupt or cannot be read or written; in all cases the file is unchanged.
    """
    check_profile_name(profile)
    items = _check_values(values)
    real = _real_path(path)
    shown = _shown(path, real)
    _make_parent_dirs(real, shown)
    with _locked(real, shown):
        old, mode = _read(real, shown)
        text = old if old is not None else ""
        new = _replace_section(text, profile, items, shown)
        if old is not None and new == old and (mode == 0o600 or not current().has_modes):
            return
        _atomic_write(real, new.encode("utf-8"), shown)


def read_profile(path: Path, profile: str) -> dict[str, str] | None:
    """Return the keys and values of ``[profile]``, or None when the file or section is missing.

    Keys come back lower-cased and values stripped, as configparser and botocore read them.
    Raises :class:`ConfigError` for a corrupt or unreadable file.
    """
    real = _real_path(path)
    shown = _shown(path, real)
    found = _read_section(real, shown, profile, editing=False)
    if found is None:
        return None
    text, document, section = found
    # A section reads the same on its own: a header resets configparser's state.
    start, end = document.line(section.header).start, document.line(section.last).end
    parser = _parse(text[start:end], shown)
    return dict(parser.items(profile)) if parser.has_section(profile) else None


def remove_profile(path: Path, profile: str) -> bool:
    """Delete ``[profile]`` (header through its last key); return True when it was there.

    Comment and blank lines after the section's last key stay, like every other byte.
    """
    real = _real_path(path)
    shown = _shown(path, real)
    if not real.parent.is_dir():
        return False
    with _locked(real, shown):
        found = _read_section(real, shown, profile, editing=True)
        if found is None:
            return False
        _, document, section = found
        edit = document.remove(section)
        verify_edit(document, edit, section, profile, None, shown)
        _atomic_write(real, edit.text.encode("utf-8"), shown)
        return True


def edit_file(path: Path, change: Callable[[str, str], str]) -> None:
    """The file at ``path`` (text "" when missing) changed by ``change(text, shown)`` under
    the lock and written atomically as :func:`write_profile` writes (``shown``: the name for
    messages). Nothing is written when the text stays the same. For other INI files the AWS
    tools read the same way (``~/.aws/config``: :mod:`samljit.sinks.awsconfig`)."""
    real = _real_path(path)
    shown = _shown(path, real)
    _make_parent_dirs(real, shown)
    with _locked(real, shown):
        old, _ = _read(real, shown)
        new = change(old if old is not None else "", shown)
        if old is not None and new == old:
            return
        _atomic_write(real, new.encode("utf-8"), shown)


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
# Scanning: configparser's line grammar (samljit.common.inifile), with the credentials file's errors


def scan(text: str, shown: str) -> inifile.Document:
    """``text`` scanned as AWS tools read it (:class:`ConfigError` naming ``shown`` when it
    cannot be read)."""
    return _scan(text, shown)


def _scan(text: str, shown: str) -> inifile.Document:
    try:
        return inifile.scan(text)
    except inifile.IniError as exc:
        if exc.bom:
            raise _corrupt(
                shown,
                1,
                "starts with a byte-order mark, which AWS tools cannot read",
                "save the file as UTF-8 without a byte-order mark",
            ) from None
        raise _bad_line(
            shown, exc.number, exc.content, before_sections=exc.before_sections
        ) from None


def _read_section(
    real: Path, shown: str, profile: str, *, editing: bool
) -> tuple[str, inifile.Document, inifile.Section] | None:
    """The file's text, its scan and its ``[profile]`` section; ``None`` when the file or the
    section is missing."""
    text, _ = _read(real, shown)
    if text is None:
        return None
    document = _scan(text, shown)
    section = _find_section(document, profile, shown, editing=editing)
    return None if section is None else (text, document, section)


def _find_section(
    document: inifile.Document, profile: str, shown: str, *, editing: bool
) -> inifile.Section | None:
    found = document.find(profile)
    if not found:
        return None
    if len(found) > 1:
        first, second = (document.line(s.header).number for s in found[:2])
        raise _corrupt(
            shown,
            second,
            f"second [{profile}] section (the first is on line {first})",
            f"merge the [{profile}] sections into one or delete one",
        )
    section = found[0]
    if editing:
        for index in section.continuations:
            line = document.line(index)
            if _SECTION_RE.match(line.content.strip()):
                raise _corrupt(
                    shown,
                    line.number,
                    f"{line.content.strip()!r} is indented under the key above it, so AWS tools"
                    " read it as part of that key's value, not as a section",
                    f"remove the indentation of line {line.number}",
                )
    return section


def _bad_line(shown: str, number: int, content: str, *, before_sections: bool) -> ConfigError:
    stripped = content.strip()
    hint = f"fix or delete line {number}; {_UNCHANGED}"
    if "\x00" in content:
        return _corrupt(
            shown,
            number,
            "contains NUL bytes (binary or damaged file)",
            f"restore the file from a backup or move it aside; {_UNCHANGED}",
        )
    if stripped.startswith("[") and not _SECTION_RE.match(stripped):
        return _corrupt(shown, number, "section header without a closing ']'", hint)
    if before_sections:
        return _corrupt(shown, number, "setting before the first [profile] header", hint)
    if stripped[0] in "=:":
        return _corrupt(shown, number, "value without a key", hint)
    return _corrupt(shown, number, "not a [profile] header, 'key = value' line or comment", hint)


def _corrupt(shown: str, number: int, problem: str, hint: str) -> ConfigError:
    return ConfigError(f"corrupt credentials file {shown}: line {number}: {problem}", hint=hint)


# ------------------------------------------------------------------------------------------
# Editing and checking the edit


def _replace_section(text: str, profile: str, items: list[tuple[str, str]], shown: str) -> str:
    document = _scan(text, shown)
    section = _find_section(document, profile, shown, editing=True)
    if section is None:
        edit = document.append(inifile.render(profile, items, newline=document.newline()))
    else:
        header = document.line(section.header)
        following = section.next_header
        # Keys are indented like the next header so that it cannot turn into a continuation
        # line of our last key; the header keeps its own indentation, which was valid there.
        block = inifile.render(
            profile,
            items,
            newline=document.newline(header),
            header_indent=header.indent,
            key_indent=following.indent if following is not None else "",
        )
        edit = document.replace(section, block)
    verify_edit(document, edit, section, profile, items, shown)
    return edit.text


def verify_edit(
    document: inifile.Document,
    edit: inifile.Edit,
    section: inifile.Section | None,
    profile: str,
    items: list[tuple[str, str]] | None,
    shown: str,
    *,
    old_name: str | None = None,
) -> None:
    """Refuse an edit after which anything but ``[profile]`` would read differently, or
    ``[profile]`` would not read as ``items`` (``None``: as absent); ``old_name``: the
    section was ``[old_name]`` before (an edit that renamed it to ``[profile]``). Every
    writer of an INI file of the AWS SDKs' (this module, :mod:`samljit.sinks.awsconfig`)
    checks its edit with it.

    Only the span that can read differently is parsed: from the header before the edit
    through the header after it (the rest of the text is compared byte for byte).
    """
    old = document.text
    start, old_end = document.context(section)
    new_end = old_end + len(edit.text) - len(old)
    expected = _model(old[start:old_end], shown)
    expected.pop(profile, None)
    if old_name is not None:
        expected.pop(old_name, None)
    if items is not None:
        expected[profile] = {key.lower(): value for key, value in items}
    try:
        actual = _model(edit.text[start:new_end], shown)
    except ConfigError:
        actual = None
    if actual == expected and start <= edit.start and edit.keeps_outside(old):
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
        # O_NONBLOCK (POSIX): opening a FIFO must not hang; it is refused below.
        fd = os.open(real, os.O_RDONLY | current().read_flags)
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
