"""Tests for samljit.sinks.credfile: samljit never corrupts or loses a user's ~/.aws files."""

from __future__ import annotations

import configparser
import errno
import fcntl
import io
import multiprocessing
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samljit.common import fsutil
from samljit.common.errors import ConfigError
from samljit.sinks import credfile
from samljit.sinks.credfile import list_profiles, read_profile, remove_profile, write_profile
from tests.support.unprivileged import as_unprivileged, shared_dir

CREDS = {
    "aws_access_key_id": "ASIANEWKEY",
    "aws_secret_access_key": "NEWSECRET/+=",
    "aws_session_token": "NEWTOKEN==",
}
CREDS_BLOCK = (
    "aws_access_key_id = ASIANEWKEY\n"
    "aws_secret_access_key = NEWSECRET/+=\n"
    "aws_session_token = NEWTOKEN==\n"
)


def _file(tmp_path: Path, content: bytes | str | None, name: str = "credentials") -> Path:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _oracle(text: str) -> configparser.RawConfigParser:
    """configparser as botocore uses it (universal newlines), duplicates tolerated."""
    parser = configparser.RawConfigParser(strict=False, default_section="\n")
    parser.read_file(io.StringIO(text, newline=None))
    return parser


def _model(text: str) -> dict[str, dict[str, str]]:
    parser = _oracle(text)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _leftovers(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} - {"credentials", "credentials.lock"}


# ------------------------------------------------------------------------------------------
# Byte-for-byte preservation outside the section

#: The bytes around ``[production]``, which replacing that section must keep as they are.
GOLDEN_HEAD = (
    "# ~/.aws/credentials — édité à la main ✓\n"
    "; semicolon comment\n"
    "\n"
    "[default]\n"
    "aws_access_key_id=AKIADEFAULT\n"
    "aws_secret_access_key   :   s3cr3t/+=   \n"
    "\n"
)
GOLDEN_TAIL = (
    "\n"
    "# comment block about staging\n"
    "; still about staging\n"
    "[staging]\n"
    "\taws_access_key_id\t=\ttabbed\n"
    "région = ünïcødé 🚀\n"
    "last = no final newline"
)
GOLDEN_BEFORE = (
    GOLDEN_HEAD + "[production]   \n"
    "# stale note inside production\n"
    "aws_access_key_id = OLDKEY\n"
    "\n"
    "aws_session_token = OLDTOKEN\n"
    "    still part of the old token\n" + GOLDEN_TAIL
)
GOLDEN_AFTER = GOLDEN_HEAD + "[production]\n" + CREDS_BLOCK + GOLDEN_TAIL


def test_replacing_a_middle_section_keeps_every_other_byte(tmp_path: Path) -> None:
    path = _file(tmp_path, GOLDEN_BEFORE)
    write_profile(path, "production", CREDS)
    assert path.read_bytes() == GOLDEN_AFTER.encode("utf-8")
    after = _model(GOLDEN_AFTER)
    assert after["production"] == CREDS
    before = _model(GOLDEN_BEFORE)
    assert {k: v for k, v in after.items() if k != "production"} == {
        k: v for k, v in before.items() if k != "production"
    }


def test_crlf_file_keeps_crlf_and_the_missing_final_newline(tmp_path: Path) -> None:
    head = "# Windows file\r\n[default]\r\nk = v\r\n\r\n# about prod\r\n[prod]\r\n"
    tail = "\r\n\r\n[other]\r\nk = v"
    before = head + "aws_access_key_id = OLD" + tail
    after = head + "aws_access_key_id = NEW" + tail
    path = _file(tmp_path, before)
    write_profile(path, "prod", {"aws_access_key_id": "NEW"})
    assert path.read_bytes() == after.encode()


@pytest.mark.parametrize(
    ("before", "profile", "after"),
    [
        pytest.param(
            "[a]\r\nk = 1\r\n\n[b]\nk = 2\n\n[c]\rk = 3\r",
            "b",
            "[a]\r\nk = 1\r\n\n[b]\nk = 22\n\n[c]\rk = 3\r",
            id="mixed line endings elsewhere are kept",
        ),
        pytest.param(
            "[a]\rk = 1\r",
            "b",
            "[a]\rk = 1\r\r[b]\rk = 22\r",
            id="old Mac line endings are followed when appending",
        ),
        pytest.param(
            "# top\n[a]\nk = 1",
            "a",
            "# top\n[a]\nk = 22\n",
            id="last section without final newline is replaced with whole lines",
        ),
        pytest.param(  # indented, but right after a header (not under a key): still a header
            "[x]\n  [prod]  ; mine\nk = 1\n[y]\nk = 2\n",
            "prod",
            "[x]\n  [prod]\nk = 22\n[y]\nk = 2\n",
            id="header with surrounding whitespace and comment is matched",
        ),
    ],
)
def test_a_profile_written_keeps_the_files_layout(
    tmp_path: Path, before: str, profile: str, after: str
) -> None:
    path = _file(tmp_path, before)
    write_profile(path, profile, {"k": "22"})
    assert path.read_bytes() == after.encode()


def test_name_inside_brackets_is_matched_verbatim_like_botocore(tmp_path: Path) -> None:
    path = _file(tmp_path, "[ prod ]\nk = 1\n")
    write_profile(path, "prod", {"k": "2"})
    assert path.read_text() == "[ prod ]\nk = 1\n\n[prod]\nk = 2\n"
    assert read_profile(path, " prod ") == {"k": "1"}
    assert read_profile(path, "prod") == {"k": "2"}


# ------------------------------------------------------------------------------------------
# Append, replace, idempotence, removal


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "[p]\nk = v\n"),
        ("[a]\nk = 1", "[a]\nk = 1\n\n[p]\nk = v\n"),
        ("[a]\nk = 1\n", "[a]\nk = 1\n\n[p]\nk = v\n"),
        ("[a]\nk = 1\n\n", "[a]\nk = 1\n\n[p]\nk = v\n"),
        ("[a]\nk = 1\n  \t\n", "[a]\nk = 1\n  \t\n[p]\nk = v\n"),
        ("# only a comment\n", "# only a comment\n\n[p]\nk = v\n"),
        ("[a]\r\nk = 1\r\n", "[a]\r\nk = 1\r\n\r\n[p]\r\nk = v\r\n"),
        ("[a]\r\nk = 1", "[a]\r\nk = 1\r\n\r\n[p]\r\nk = v\r\n"),
    ],
)
def test_absent_section_is_appended(tmp_path: Path, before: str, after: str) -> None:
    path = _file(tmp_path, before)
    write_profile(path, "p", {"k": "v"})
    assert path.read_bytes() == after.encode()


def test_missing_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    write_profile(path, "p", CREDS)
    assert path.read_text() == "[p]\n" + CREDS_BLOCK
    assert _leftovers(tmp_path) == set()


def test_replace_writes_exactly_the_given_values_in_order(tmp_path: Path) -> None:
    path = _file(tmp_path, "[p]\nzzz = old\naws_access_key_id = OLD\nregion = eu-west-1\n")
    write_profile(path, "p", {"region": "us-east-2", "aws_access_key_id": "NEW", "empty": ""})
    assert path.read_text() == "[p]\nregion = us-east-2\naws_access_key_id = NEW\nempty =\n"
    assert read_profile(path, "p") == {
        "region": "us-east-2",
        "aws_access_key_id": "NEW",
        "empty": "",
    }


def test_second_identical_write_changes_nothing(tmp_path: Path) -> None:
    path = _file(tmp_path, GOLDEN_BEFORE)
    write_profile(path, "production", CREDS)
    first = path.read_bytes()
    write_profile(path, "production", CREDS)
    assert path.read_bytes() == first == GOLDEN_AFTER.encode()
    write_profile(path, "new", CREDS)
    once = path.read_bytes()
    write_profile(path, "new", CREDS)
    assert path.read_bytes() == once


def test_remove_keeps_the_rest(tmp_path: Path) -> None:
    before = "# top\n[a]\nk = 1\n\n# about b\n[b]\n# inside b\nk = 2\n# after b\n\n[c]\nk = 3"
    path = _file(tmp_path, before)
    assert remove_profile(path, "b") is True
    assert path.read_text() == "# top\n[a]\nk = 1\n\n# about b\n# after b\n\n[c]\nk = 3"
    assert remove_profile(path, "b") is False
    assert path.read_text() == "# top\n[a]\nk = 1\n\n# about b\n# after b\n\n[c]\nk = 3"
    assert remove_profile(path, "c") is True
    assert path.read_text() == "# top\n[a]\nk = 1\n\n# about b\n# after b\n\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_remove_then_write_restores_the_file(tmp_path: Path) -> None:
    before = "[a]\nk = 1\n\n[b]\nk = 2\n"
    path = _file(tmp_path, before)
    assert remove_profile(path, "b")
    assert path.read_text() == "[a]\nk = 1\n\n"
    write_profile(path, "b", {"k": "2"})
    assert path.read_text() == before


def test_remove_from_missing_file_creates_nothing(tmp_path: Path) -> None:
    assert remove_profile(tmp_path / "credentials", "p") is False
    assert remove_profile(tmp_path / "no" / "credentials", "p") is False
    assert not (tmp_path / "credentials").exists()
    assert not (tmp_path / "no").exists()


def test_read_and_list(tmp_path: Path) -> None:
    path = _file(tmp_path, "[b]\nAWS_Access_Key_ID = K\nx = 1\n  two\n[a]\n[b]\ny = 2\n")
    assert list_profiles(path) == ["b", "a"]
    assert read_profile(path, "a") == {}
    assert read_profile(path, "zzz") is None
    assert read_profile(tmp_path / "missing", "a") is None
    assert read_profile(tmp_path / "nodir" / "credentials", "a") is None
    assert list_profiles(tmp_path / "missing") == []
    with pytest.raises(ConfigError, match="line 6"):
        read_profile(path, "b")  # two [b] sections


def test_read_sees_what_configparser_sees(tmp_path: Path) -> None:
    text = "[p]\nKey = a\n  b\n\n  c\nother: x ; not a comment\ndup = 1\ndup = 2\n"
    path = _file(tmp_path, text)
    assert read_profile(path, "p") == dict(_oracle(text).items("p"))
    assert read_profile(path, "p") == {"key": "a\nb\n\nc", "other": "x ; not a comment", "dup": "2"}


# ------------------------------------------------------------------------------------------
# Indentation: continuation lines must not swallow or be swallowed


def test_uniformly_indented_file_stays_readable(tmp_path: Path) -> None:
    path = _file(tmp_path, "  [a]\n  k = 1\n  [b]\n  k = 2\n")
    write_profile(path, "a", {"k": "9", "j": "8"})
    assert path.read_text() == "  [a]\n  k = 9\n  j = 8\n  [b]\n  k = 2\n"
    assert _model(path.read_text()) == {"a": {"k": "9", "j": "8"}, "b": {"k": "2"}}


def test_keys_are_indented_like_the_next_header(tmp_path: Path) -> None:
    path = _file(tmp_path, "[a]\n    k = 1\n    [b]\n    k = 2\n")
    write_profile(path, "a", {"x": "1"})
    assert path.read_text() == "[a]\n    x = 1\n    [b]\n    k = 2\n"
    assert _model(path.read_text()) == {"a": {"x": "1"}, "b": {"k": "2"}}


def test_remove_refuses_when_the_next_header_would_become_a_continuation(tmp_path: Path) -> None:
    before = b"[z]\nk = 0\n[a]\n  k = 1\n  [b]\n  k = 2\n"
    path = _file(tmp_path, before)
    with pytest.raises(ConfigError, match=r"line 5") as info:
        remove_profile(path, "a")
    assert info.value.hint
    assert path.read_bytes() == before
    write_profile(path, "a", {"k": "3"})  # replacing is fine
    assert _model(path.read_text()) == {"z": {"k": "0"}, "a": {"k": "3"}, "b": {"k": "2"}}


def test_header_indented_under_a_key_of_the_target_is_not_deleted(tmp_path: Path) -> None:
    before = b"[a]\nk = 1\n  [b]\nk2 = 2\n"
    path = _file(tmp_path, before)
    with pytest.raises(ConfigError, match=r"line 3: '\[b\]' is indented"):
        write_profile(path, "a", {"k": "9"})
    with pytest.raises(ConfigError, match="line 3"):
        remove_profile(path, "a")
    assert path.read_bytes() == before
    # AWS tools read it as a value; reading is harmless, so it is allowed.
    assert read_profile(path, "a") == {"k": "1\n[b]", "k2": "2"}


# ------------------------------------------------------------------------------------------
# Files, links, modes


def test_symlink_is_kept_and_target_replaced(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = _file(dotfiles, "[keep]\nk = v\n", name="aws-credentials")
    aws = tmp_path / ".aws"
    aws.mkdir()
    link = aws / "credentials"
    link.symlink_to(Path("..") / "dotfiles" / "aws-credentials")
    write_profile(link, "p", {"k": "1"})
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("..") / "dotfiles" / "aws-credentials")
    assert target.read_text() == "[keep]\nk = v\n\n[p]\nk = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in aws.iterdir()) == ["credentials"]
    assert sorted(p.name for p in dotfiles.iterdir()) == ["aws-credentials", "aws-credentials.lock"]
    assert read_profile(link, "p") == {"k": "1"}
    assert remove_profile(link, "p")
    assert link.is_symlink()
    assert target.read_text() == "[keep]\nk = v\n\n"


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "credentials"
    link.symlink_to(tmp_path / "elsewhere" / "creds")
    write_profile(link, "p", {"k": "1"})
    assert link.is_symlink()
    assert (tmp_path / "elsewhere" / "creds").read_text() == "[p]\nk = 1\n"
    assert stat.S_IMODE((tmp_path / "elsewhere").stat().st_mode) == 0o700


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _written_over_mode(tmp_path: Path, text: str, mode: int) -> Path:
    """The credentials file holding ``text`` with ``mode``, after writing ``[p] k = 1``:
    its mode is then 0600."""
    path = _file(tmp_path, text)
    path.chmod(mode)
    write_profile(path, "p", {"k": "1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path


@pytest.mark.usefixtures("umask_022")
def test_loose_mode_is_tightened(tmp_path: Path) -> None:
    _written_over_mode(tmp_path, "[a]\nk = 1\n", 0o644)
    lock = tmp_path / "credentials.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


@pytest.mark.usefixtures("umask_022")
def test_loose_mode_is_tightened_even_when_content_is_unchanged(tmp_path: Path) -> None:
    path = _written_over_mode(tmp_path, "[p]\nk = 1\n", 0o664)
    assert path.read_text() == "[p]\nk = 1\n"


def test_new_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_profile(tmp_path / "credentials", "p", {"k": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "credentials").stat().st_mode) == 0o600


@pytest.mark.usefixtures("umask_022")
def test_missing_parent_directories_are_created_0700(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".aws" / "credentials"
    write_profile(path, "p", {"k": "1"})
    assert path.read_text() == "[p]\nk = 1\n"
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "home" / ".aws").stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_parent_directories_are_0700_even_with_a_strange_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        write_profile(tmp_path / "home" / ".aws" / "credentials", "p", {"k": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "home" / ".aws").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "home" / ".aws" / "credentials").stat().st_mode) == 0o600


@pytest.mark.usefixtures("umask_022")
def test_existing_parent_directory_mode_is_left_alone(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir(mode=0o755)
    write_profile(aws / "credentials", "p", {"k": "1"})
    assert stat.S_IMODE(aws.stat().st_mode) == 0o755


# ------------------------------------------------------------------------------------------
# Corrupt files: ConfigError, file untouched

CORRUPT = [
    pytest.param(b"aws_access_key_id = X\n[p]\n", 1, "before the first", id="key-before-header"),
    pytest.param(b"# c\n\n  k = 1\n[p]\n", 3, "before the first", id="indented-key-before-header"),
    pytest.param(b"[p\nk = 1\n", 1, "closing ']'", id="unclosed-first-header"),
    pytest.param(b"[a]\nk = 1\n[prod\nk = 2\n", 3, "closing ']'", id="unclosed-header"),
    pytest.param(b"[a]\nk = 1\njust words\n", 3, "not a [profile] header", id="bare-word"),
    pytest.param(b"[a]\n= value\n", 2, "without a key", id="no-key"),
    pytest.param(b"[p]\nk = 1\n[o]\n[p]\nk = 2\n", 4, "second [p]", id="duplicate-target"),
    pytest.param(b"[a]\r\nk = 1\r\n\xff\xfe\x00binary\r\n", 3, "UTF-8", id="undecodable"),
    pytest.param(b"[a]\rk = 1\r\xc3(", 3, "UTF-8", id="undecodable-cr"),
    pytest.param(b"\x00" * 64, 1, "NUL", id="zero-filled"),
    pytest.param(b"[a]\nk = 1\n" + b"\x00" * 32, 3, "NUL", id="zero-filled-tail"),
    pytest.param(b"\xef\xbb\xbf[a]\nk = 1\n", 1, "byte-order mark", id="bom"),
]


@pytest.mark.parametrize(("content", "line", "problem"), CORRUPT)
def test_corrupt_file_is_refused_and_untouched(
    tmp_path: Path, content: bytes, line: int, problem: str
) -> None:
    path = _file(tmp_path, content)
    calls = [
        lambda: write_profile(path, "p", CREDS),
        lambda: remove_profile(path, "p"),
        lambda: read_profile(path, "p"),
        lambda: list_profiles(path) if problem != "second [p]" else read_profile(path, "p"),
    ]
    for call in calls:
        with pytest.raises(ConfigError) as info:
            call()
        message = str(info.value)
        assert str(path) in message
        assert f"line {line}:" in message
        assert problem in message
        assert "\n" not in message
        assert info.value.hint
        assert path.read_bytes() == content
        assert _leftovers(tmp_path) == set()


@pytest.mark.parametrize(("content", "line", "problem"), CORRUPT)
def test_corrupt_files_are_ones_aws_tools_reject_too(
    content: bytes, line: int, problem: str
) -> None:
    with pytest.raises((configparser.Error, UnicodeDecodeError)):
        configparser.RawConfigParser().read_string(content.decode("utf-8"))


ACCEPTED = [
    "",
    "\n\n  \n",
    "# only comments\n; here\n",
    "  # indented comment before any section\n[a]\nk = 1\n",
    "[a]\nk = 1\n[a]\nk = 2\n",  # duplicate other sections: not ours to fix
    "[a]\nk = 1\nk = 2\n",
    "[a]\n[weird = still a key\n",
    "[a]\nk: colon\n",
    "[a] ; comment on the header\nk = 1\n",
    "[a]\ns3 =\n  max_concurrent_requests = 20\n",
    "[a]\nk = 1\n\n  continued after a blank line\n",
    "[DEFAULT]\nregion = eu-west-1\n[a]\nk = 1\n",
    "[ spaced ]\nk = 1\n",
    "[a]\nk = v ; not a comment # either\n",
    "[a]\n\tk\t=\tv\t\n",
    "[a]\nk = caf\u00e9 \u2603\n",
    "[a]]\nk = 1\n",
    "[p]\n# only a comment\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_files_aws_tools_accept_are_accepted(tmp_path: Path, text: str) -> None:
    path = _file(tmp_path, text)
    before = _model(text)
    write_profile(path, "p", CREDS)
    after = path.read_text()
    assert after.startswith(text) or "[p]" in text
    model = _model(after)
    assert model.pop("p") == CREDS
    before.pop("p", None)
    assert model == before
    assert read_profile(path, "p") == CREDS


# ------------------------------------------------------------------------------------------
# Not a file, permissions


def test_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.mkdir()
    for call in (
        lambda: write_profile(path, "p", CREDS),
        lambda: read_profile(path, "p"),
        lambda: list_profiles(path),
        lambda: remove_profile(path, "p"),
    ):
        with pytest.raises(ConfigError, match="is a directory") as info:
            call()
        assert str(path) in str(info.value)
    assert path.is_dir()
    assert list(path.iterdir()) == []


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    os.mkfifo(path)
    errors: list[BaseException] = []

    def attempt() -> None:
        for call in (lambda: write_profile(path, "p", CREDS), lambda: read_profile(path, "p")):
            try:
                call()
            except BaseException as exc:
                errors.append(exc)

    # A blocking open() of a FIFO waits for a writer forever; the bound only turns such a
    # hang into a failure instead of a stuck test run.
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout=30)
    if thread.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # release the stuck reader
        pytest.fail("opening a FIFO as the credentials file hung")
    assert [type(exc) for exc in errors] == [ConfigError, ConfigError]
    assert all("not a regular file" in str(exc) for exc in errors)
    assert stat.S_ISFIFO(path.stat().st_mode)


def test_parent_is_a_file(tmp_path: Path) -> None:
    _file(tmp_path, "x", name="notadir")
    path = tmp_path / "notadir" / "credentials"
    with pytest.raises(ConfigError, match="notadir"):
        write_profile(path, "p", CREDS)
    assert (tmp_path / "notadir").read_text() == "x"


def test_unreadable_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, "[a]\nk = 1\n")
    real_open = os.open

    def deny(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(file) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    for call in (lambda: write_profile(path, "p", CREDS), lambda: read_profile(path, "p")):
        with pytest.raises(ConfigError, match="Permission denied") as info:
            call()
        assert str(path) in str(info.value)
    monkeypatch.undo()
    assert path.read_text() == "[a]\nk = 1\n"


def test_unwritable_directory_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "[a]\nk = 1\n")

    def deny(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fsutil, "_create_temp", deny)
    with pytest.raises(ConfigError, match="Permission denied") as info:
        write_profile(path, "p", CREDS)
    assert str(path) in str(info.value)
    assert path.read_text() == "[a]\nk = 1\n"


def test_real_permissions() -> None:
    """Real permission bits (as an ordinary user; root would ignore them)."""
    with shared_dir() as directory:

        def check() -> None:
            path = _file(directory, "[a]\nk = 1\n")
            path.chmod(0)
            with pytest.raises(ConfigError, match="Permission denied"):
                read_profile(path, "a")
            path.chmod(0o600)
            directory.chmod(0o500)
            try:
                with pytest.raises(ConfigError, match="Permission denied"):
                    write_profile(path, "p", CREDS)
            finally:
                directory.chmod(0o700)
            assert path.read_text() == "[a]\nk = 1\n"

        as_unprivileged(check)


# ------------------------------------------------------------------------------------------
# Bad arguments are programming errors


@pytest.mark.parametrize(
    ("profile", "values"),
    [
        ("", {"k": "v"}),
        (" p", {"k": "v"}),
        ("p\n", {"k": "v"}),
        ("a\rb", {"k": "v"}),
        ("DEFAULT", {"k": "v"}),
        ("p", {"k": "a\nb"}),
        ("p", {"k": "a\r"}),
        ("p", {"k": "a\u2028b"}),
        ("p", {"k": "nul\x00"}),
        ("p", {"k": " leading"}),
        ("p", {"k": "trailing "}),
        ("p", {"k=x": "v"}),
        ("p", {"k:x": "v"}),
        ("p", {"a b": "v"}),
        ("p", {"#k": "v"}),
        ("p", {";k": "v"}),
        ("p", {"[k": "v]"}),
        ("p", {"": "v"}),
        ("p", {"Key": "1", "key": "2"}),
    ],
)
def test_unwritable_arguments_raise_value_error(
    tmp_path: Path, profile: str, values: dict[str, str]
) -> None:
    path = _file(tmp_path, "[a]\nk = 1\n")
    with pytest.raises(ValueError):
        write_profile(path, profile, values)
    assert path.read_text() == "[a]\nk = 1\n"
    with pytest.raises(ValueError):
        write_profile(tmp_path / "new" / "credentials", profile, values)
    assert not (tmp_path / "new").exists()


def test_value_errors_do_not_show_the_value(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        write_profile(tmp_path / "c", "p", {"aws_secret_access_key": "TOPSECRET\n"})
    assert "TOPSECRET" not in str(info.value)
    assert "aws_secret_access_key" in str(info.value)


# ------------------------------------------------------------------------------------------
# Atomicity


@pytest.mark.parametrize("target", ["replace", "fsync"])
def test_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    before = GOLDEN_BEFORE.encode()
    path = _file(tmp_path, before)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, target, fail)
    with pytest.raises(ConfigError, match="No space left on device") as info:
        write_profile(path, "production", CREDS)
    assert str(path) in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == set()
    write_profile(path, "production", CREDS)  # and the lock was released
    assert path.read_bytes() == GOLDEN_AFTER.encode()


def test_file_and_directory_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, "[a]\nk = 1\n")
    synced: list[str] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        synced.append("dir" if stat.S_ISDIR(mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    write_profile(path, "p", {"k": "1"})
    assert synced == ["file", "dir"]


def test_interrupted_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "[a]\nk = 1\n")

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        remove_profile(path, "a")
    assert path.read_text() == "[a]\nk = 1\n"
    assert _leftovers(tmp_path) == set()


# ------------------------------------------------------------------------------------------
# Concurrency

HEADER = "# shared credentials, hand-edited\n[keep]\naws_access_key_id = KEEP\n"
WRITERS = 10
ROUNDS = 15


def _values(index: int, round_: int) -> dict[str, str]:
    return {
        "aws_access_key_id": f"ASIA{index:02d}R{round_:02d}",
        "aws_secret_access_key": f"secret-{index}-{round_}",
    }


def _writer(path: str, index: int, barrier: Any) -> None:
    barrier.wait(timeout=60)
    for round_ in range(ROUNDS):
        write_profile(Path(path), f"p{index}", _values(index, round_))


def _check_all_writers_present(path: Path) -> None:
    text = path.read_text()
    assert text.startswith(HEADER)
    parser = configparser.RawConfigParser()  # strict, like botocore: no duplicates
    parser.read_string(text)
    assert set(parser.sections()) == {"keep"} | {f"p{i}" for i in range(WRITERS)}
    for index in range(WRITERS):
        assert dict(parser.items(f"p{index}")) == _values(index, ROUNDS - 1)
    assert dict(parser.items("keep")) == {"aws_access_key_id": "KEEP"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _leftovers(path.parent) == set()


def test_lock_is_released_even_when_a_forked_child_shares_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "[a]\nk = 1\n")
    release_read, release_write = os.pipe()
    children: list[int] = []
    real_replace = os.replace

    def replace_and_fork(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        pid = os.fork()
        if pid == 0:  # child: holds the inherited lock descriptor until released
            os.read(release_read, 1)
            os._exit(0)
        children.append(pid)

    monkeypatch.setattr(os, "replace", replace_and_fork)
    try:
        write_profile(path, "p", {"k": "1"})
        monkeypatch.undo()
        fd = os.open(tmp_path / "credentials.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if still held
        finally:
            os.close(fd)
    finally:
        os.write(release_write, b"x")
        for pid in children:
            os.waitpid(pid, 0)
        os.close(release_read)
        os.close(release_write)
    assert len(children) == 1


def test_concurrent_processes_never_lose_a_profile(tmp_path: Path) -> None:
    path = _file(tmp_path, HEADER)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    processes = [
        context.Process(target=_writer, args=(str(path), index, barrier))
        for index in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * WRITERS
    _check_all_writers_present(path)


def test_concurrent_threads_never_lose_a_profile_and_readers_see_whole_files(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path, HEADER)
    barrier = threading.Barrier(WRITERS + 1)
    errors: list[BaseException] = []
    done = threading.Event()
    reads = 0

    def guarded(index: int) -> None:
        try:
            _writer(str(path), index, barrier)
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        nonlocal reads
        try:
            barrier.wait(timeout=60)
            while not done.is_set():
                assert read_profile(path, "keep") == {"aws_access_key_id": "KEEP"}
                assert "keep" in list_profiles(path)
                reads += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(WRITERS)]
    watcher = threading.Thread(target=reader)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    watcher.join(timeout=120)
    assert errors == []
    assert reads > 0
    _check_all_writers_present(path)


# ------------------------------------------------------------------------------------------
# Property: agree with configparser, never change another section

_FRAGMENTS = [
    "[a]",
    "[b]",
    "[p]",
    "  [p]",
    "[p] ; note",
    "[ p ]",
    "k = 1",
    "K: 2",
    "  continued",
    "\tt = 3",
    "# comment",
    "; comment",
    "   # indented comment",
    "",
    "   ",
    "bare",
    "[p",
    "= v",
    "é = ü",
]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(_FRAGMENTS), st.sampled_from(["\n", "\r\n", "\r"])),
        max_size=10,
    ),
    final_newline=st.booleans(),
)
def test_property_edits_agree_with_configparser(
    tmp_path: Path, lines: list[tuple[str, str]], final_newline: bool
) -> None:
    text = "".join(fragment + newline for fragment, newline in lines)
    if lines and not final_newline:
        text = text[: -len(lines[-1][1])]
    path = tmp_path / "credentials"
    path.write_bytes(text.encode())
    try:
        before = _model(text)
    except configparser.Error:
        before = None
    try:
        write_profile(path, "p", {"k": "new"})
    except ConfigError as exc:
        assert path.read_bytes() == text.encode()
        if before is not None:
            # configparser accepts it, so only target-specific refusals are allowed.
            assert any(
                reason in str(exc) for reason in ("second [p]", "is indented", "cannot edit")
            ), str(exc)
        return
    assert before is not None, "configparser rejects this file, so must samljit"
    after = path.read_bytes().decode()
    model = _model(after)
    assert model.pop("p") == {"k": "new"}
    before.pop("p", None)
    assert model == before
    if "p" not in _model(text):
        assert after.startswith(text)
    assert read_profile(path, "p") == {"k": "new"}
    assert credfile.list_profiles(path) == list(dict.fromkeys(_oracle(after).sections()))
