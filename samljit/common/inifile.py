"""Edit one section of an INI text and leave every byte outside it as it was.

Both of samljit's INI files go through this module: the AWS credentials file (read by
botocore with :mod:`configparser`) and samljit's own config file (read with ``configobj``,
where ``[[roles]]`` and ``[[accounts]]`` subsections nest inside an account section).
:func:`scan` reads the text into a :class:`Document` the way the file's reader does;
:meth:`Document.replace`, :meth:`Document.update`, :meth:`Document.remove` and
:meth:`Document.append` return an :class:`Edit`: the new text and the one span of it that
differs from the old text. Nothing here touches a file: callers lock, check and write.

The two dialects (``nested=False`` for configparser, ``nested=True`` for configobj)
    configparser
        Lines are split with universal newlines (``\\n``, ``\\r\\n``, ``\\r``). A blank line or
        a full-line comment (``#`` or ``;`` after optional whitespace) belongs to no one. A
        non-blank line indented deeper than the key line above it continues that key's value.
        Otherwise a line whose stripped text matches ``[name]`` is a header, the name taken
        verbatim between the first ``[`` and the last ``]``; else it must be ``key = value``
        or ``key: value``. Anything else, and a key before the first header, is an
        :class:`IniError`. A section runs from its header to its last key or continuation
        line: comments and blank lines after that belong to whatever follows.
    configobj
        Lines end wherever :meth:`str.splitlines` ends them (configobj reads the text that
        way). ``[name]`` headers (whitespace inside the brackets and a trailing ``# comment``
        allowed) start a section; ``[[name]]`` lines are subsections and belong to the
        section above them. Indentation means nothing and no line is refused here (configobj
        itself reports what it cannot read). A section runs to the next ``[name]`` header.

This module imports only :mod:`re` and :mod:`itertools`: it sits on the start-up path.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["Document", "Edit", "IniError", "Line", "Section", "render", "scan"]

# One line with its terminator; universal newlines, like reading the file in text mode.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# configparser's RawConfigParser.SECTCRE, matched against the stripped line.
_SECTION_RE = re.compile(r"\[(?P<header>.+)\]")
# configobj: a one-level header, and the start of a nested one.
_NESTED_HEADER_RE = re.compile(r"^\s*\[\s*(?P<header>[^\[\]]*?)\s*\]\s*(#.*)?$")
_SUBHEADER_RE = re.compile(r"^\s*\[\[")
_TERMINATOR = "\r\n"


class IniError(ValueError):
    """A line the configparser dialect cannot read (``number`` counts from 1)."""

    def __init__(self, number: int, content: str, *, before_sections: bool, bom: bool = False):
        super().__init__(f"line {number}: cannot read {content!r}")
        self.number = number
        self.content = content
        self.before_sections = before_sections
        self.bom = bom


class Line(NamedTuple):
    """One physical line: ``text[start:end]`` is ``content + newline``."""

    number: int
    start: int
    end: int
    content: str
    newline: str

    @property
    def indent(self) -> str:
        return self.content[: len(self.content) - len(self.content.lstrip())]


class Section:
    """A section of a scanned :class:`Document`; line indexes count from 0.

    ``header`` is its header line, ``last`` its last key, continuation or subsection line
    (the header when it has none), ``stop`` the index of the next header (or the number of
    lines), ``scalars_stop`` that of its first ``[[subsection]]`` (configobj; else ``stop``).
    ``continuations`` are the indexes of its continuation lines (configparser).
    """

    __slots__ = ("_doc", "continuations", "header", "index", "last", "name", "scalars_stop", "stop")

    def __init__(self, doc: Document, index: int, name: str, header: int) -> None:
        self._doc = doc
        self.index = index  # position in Document.sections
        self.name = name
        self.header = header
        self.last = header
        self.stop = header + 1
        self.scalars_stop = -1
        self.continuations: list[int] = []

    @property
    def next_header(self) -> Line | None:
        return self._doc.line(self.stop) if self.stop < len(self._doc) else None


class Edit(NamedTuple):
    """``text`` equals ``old[:start] + text[start:new_end] + old[old_end:]``."""

    text: str
    start: int
    old_end: int
    new_end: int

    def keeps_outside(self, old: str) -> bool:
        """Whether every byte outside the edited span is the old one (a cheap check)."""
        return (
            len(self.text) - self.new_end == len(old) - self.old_end
            and self.text.startswith(old[: self.start])
            and self.text.endswith(old[self.old_end :])
        )


def _splice(text: str, start: int, end: int, middle: str) -> Edit:
    return Edit(text[:start] + middle + text[end:], start, end, start + len(middle))


class Document:
    """A scanned INI text: its lines (built on demand) and its sections in file order."""

    __slots__ = ("_contents", "_raw", "_starts", "nested", "sections", "text")

    def __init__(self, text: str, nested: bool) -> None:
        self.text = text
        self.nested = nested
        self.sections: list[Section] = []
        self._starts: list[int] | None = None
        self._raw: list[str] | None = None  # the lines with their endings, when not all LF
        if nested:  # configobj reads text.splitlines(): more characters end a line there
            self._raw = text.splitlines(keepends=True)
            self._contents = [_without_ending(raw) for raw in self._raw]
        elif "\r" in text:
            self._raw = _LINE_RE.findall(text)
            self._contents = [raw.rstrip(_TERMINATOR) for raw in self._raw]
        else:  # the common case, and ten times faster than the regular expression
            self._contents = text.split("\n")
            if not self._contents[-1]:
                self._contents.pop()

    def __len__(self) -> int:
        return len(self._contents)

    def line(self, index: int) -> Line:
        if self._starts is None:
            if self._raw is not None:
                self._starts = list(itertools.accumulate(map(len, self._raw), initial=0))
            else:
                sums = itertools.accumulate(map(len, self._contents), initial=0)
                self._starts = [total + number for number, total in enumerate(sums)]
        content = self._contents[index]
        start = self._starts[index]
        end = min(self._starts[index + 1], len(self.text))
        return Line(index + 1, start, end, content, self.text[start + len(content) : end])

    def find(self, name: str) -> list[Section]:
        """Every section called ``name``, in file order."""
        return [section for section in self.sections if section.name == name]

    def newline(self, preferred: Line | None = None) -> str:
        """``preferred``'s line ending, else the first line ending of the text, else LF."""
        if preferred is not None and preferred.newline:
            return preferred.newline
        found = re.search(r"\r\n|\r|\n", self.text)
        return found.group() if found else "\n"

    def context(self, section: Section | None) -> tuple[int, int]:
        """The span around ``section`` (``None``: the end of the text) that a reader can read
        on its own, from the header of the section before it (or the start of the text)
        through the line of the next header (or the end of the text)."""
        if section is None:
            start = self.line(self.sections[-1].header).start if self.sections else 0
            return start, len(self.text)
        before = self.sections[section.index - 1] if section.index else None
        start = self.line(before.header).start if before is not None else 0
        following = section.next_header
        return start, following.end if following is not None else len(self.text)

    # -- edits -----------------------------------------------------------------------------
    def replace(self, section: Section, block: str) -> Edit:
        """``section``, header through its last line, replaced by ``block``."""
        return _splice(
            self.text, self.line(section.header).start, self.line(section.last).end, block
        )

    def remove(self, section: Section) -> Edit:
        """``section``, header through its last line, deleted."""
        return self.replace(section, "")

    def append(self, block: str) -> Edit:
        """``block`` at the end, after one blank line unless the text ends with one."""
        if not self._contents:
            return _splice(self.text, 0, 0, block)
        last = self.line(len(self._contents) - 1)
        separator = "" if last.newline else self.newline()
        if last.content.strip():
            separator += self.newline()
        end = len(self.text)
        return Edit(self.text + separator + block, end, end, end + len(separator) + len(block))

    def update(self, section: Section, items: Iterable[tuple[str, str]]) -> Edit:
        """``key = value`` lines of ``section`` set, the rest of it kept as it is.

        A key's first line before the first subsection is rewritten (keeping its indentation
        and line ending); missing keys are added after the last non-blank line before the
        first subsection, indented like the section's first key.
        """
        first = section.header + 1
        stop = section.scalars_stop if section.scalars_stop >= 0 else section.stop
        lines = [self.line(i) for i in range(first, stop)]
        newline = self.newline()
        indent = next(
            (
                line.indent
                for line in lines
                if "=" in line.content and not line.content.lstrip().startswith(("#", ";"))
            ),
            "",
        )
        out = [line.content + line.newline for line in lines]
        last = max((i for i, line in enumerate(lines) if line.content.strip()), default=-1)
        added: list[str] = []
        for key, value in items:
            pattern = re.compile(rf"(\s*){re.escape(key)}\s*=")
            found = next((i for i, line in enumerate(lines) if pattern.match(line.content)), None)
            if found is None:
                added.append(_key_line(indent, key, value) + newline)
            else:
                line = lines[found]
                out[found] = _key_line(line.indent, key, value) + line.newline
        if added:
            if last >= 0 and not lines[last].newline:
                out[last] += newline
            elif last < 0 and not self.line(section.header).newline:
                added.insert(0, newline)
            out[last + 1 : last + 1] = added
        start = self.line(section.header).end
        end = self.line(stop - 1).end if stop > first else start
        return _splice(self.text, start, end, "".join(out))


def _without_ending(raw: str) -> str:
    if raw.endswith("\r\n"):
        return raw[:-2]
    return raw[:-1] if raw and raw[-1:].splitlines() == [""] else raw


def _key_line(indent: str, key: str, value: str) -> str:
    return f"{indent}{key} = {value}".rstrip()


def render(
    name: str,
    items: Iterable[tuple[str, str]],
    *,
    newline: str = "\n",
    header_indent: str = "",
    key_indent: str = "",
) -> str:
    """A ``[name]`` section with one ``key = value`` line per item, in order."""
    lines = [f"{header_indent}[{name}]"]
    lines.extend(_key_line(key_indent, key, value) for key, value in items)
    return "".join(line + newline for line in lines)


def scan(text: str, *, nested: bool = False) -> Document:
    """Read ``text`` into lines and sections (see the module's docstring for the dialects).

    The configparser dialect raises :class:`IniError` for a line it cannot read and for a
    leading byte-order mark; the configobj dialect raises nothing.
    """
    doc = Document(text, nested)
    if nested:
        _scan_configobj(doc, doc._contents)
    else:
        if text.startswith("\ufeff"):
            raise IniError(1, doc._contents[0], before_sections=True, bom=True)
        _scan_configparser(doc, doc._contents)
    return doc


def _scan_configparser(doc: Document, lines: list[str]) -> None:
    # The hot loop of every credentials-file edit: most lines are unindented 'key = value'
    # lines and take the first branch after a one-character test.
    sections = doc.sections
    current: Section | None = None
    in_option = False  # a key line is open: deeper-indented lines continue its value
    level = 0  # indentation of the last header or key line
    for index, line in enumerate(lines):
        first = line[:1]
        if not first or first.isspace():
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue  # blank line or comment
            indent = len(line) - len(line.lstrip())
            if in_option and indent > level and current is not None:
                current.last = index
                current.continuations.append(index)
                continue
            level = indent
        elif first in "#;":
            continue
        else:
            stripped = line
            level = 0
            if first != "[":
                if first not in "=:" and ("=" in line or ":" in line) and current is not None:
                    current.last = index
                    in_option = True
                    continue
                raise IniError(index + 1, line, before_sections=current is None)
            stripped = line.strip()
        header = _SECTION_RE.match(stripped)
        if header is not None:
            if current is not None:
                current.stop = index
            current = Section(doc, len(sections), header.group("header"), index)
            sections.append(current)
            in_option = False
            continue
        option = stripped[0] not in "=:" and ("=" in stripped or ":" in stripped)
        if not option or current is None:
            raise IniError(index + 1, line, before_sections=current is None)
        current.last = index
        in_option = True
    if current is not None:
        current.stop = len(lines)


def _scan_configobj(doc: Document, lines: list[str]) -> None:
    current: Section | None = None
    for index, content in enumerate(lines):
        if _SUBHEADER_RE.match(content):
            if current is not None:
                current.last = index
                if current.scalars_stop < 0:
                    current.scalars_stop = index
            continue
        header = _NESTED_HEADER_RE.match(content)
        if header is not None:
            if current is not None:
                current.stop = index
            current = Section(doc, len(doc.sections), header.group("header"), index)
            doc.sections.append(current)
            continue
        stripped = content.strip()
        if current is not None and stripped and not stripped.startswith(("#", ";")):
            current.last = index
    if current is not None:
        current.stop = len(lines)
