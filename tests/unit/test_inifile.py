"""samljit.common.inifile, the one INI editor, and the one profile-name rule both files share."""

from __future__ import annotations

import configparser
import io
import os
from pathlib import Path

import pytest

from samljit.common import inifile
from samljit.common.errors import ConfigError, ProfileNameError
from samljit.config import accounts as config
from samljit.sinks.credfile import read_profile, write_profile

# ------------------------------------------------------------------------------------------
# The configparser dialect (credentials file)


def test_scan_finds_sections_their_last_line_and_continuations() -> None:
    text = "# top\n[a]\nk = 1\n  more\n\n# about b\n[b] ; note\r\nj: 2\n[ c ]"
    doc = inifile.scan(text)
    assert [s.name for s in doc.sections] == ["a", "b", " c "]
    a, b, c = doc.sections
    assert doc.line(a.last).content == "  more"
    assert a.continuations == [3]
    assert a.next_header == doc.line(b.header)
    assert doc.line(b.header).newline == "\r\n"
    assert doc.line(c.header) == inifile.Line(9, len(text) - 5, len(text), "[ c ]", "")
    assert c.next_header is None


@pytest.mark.parametrize(
    ("text", "number", "before"),
    [("k = 1\n[a]\n", 1, True), ("[a]\njust words\n", 2, False), ("[a]\n= v\n", 2, False)],
)
def test_unreadable_lines_are_ini_errors(text: str, number: int, before: bool) -> None:
    with pytest.raises(inifile.IniError) as info:
        inifile.scan(text)
    assert (info.value.number, info.value.before_sections) == (number, before)


def test_replace_remove_and_append_change_one_span() -> None:
    text = "[a]\nk = 1\n\n[p]\nold = 1\n# after p\n[b]\nk = 2"
    doc = inifile.scan(text)
    p = doc.find("p")[0]
    block = inifile.render("p", [("new", "2"), ("empty", "")])
    replaced = doc.replace(p, block)
    assert replaced.text == "[a]\nk = 1\n\n[p]\nnew = 2\nempty =\n# after p\n[b]\nk = 2"
    assert replaced.keeps_outside(text)
    assert replaced.text[replaced.start : replaced.new_end] == block
    assert doc.remove(p).text == "[a]\nk = 1\n\n# after p\n[b]\nk = 2"
    assert doc.append("[z]\n").text == text + "\n\n[z]\n"
    assert not inifile.Edit("x" + text[1:], 5, 5, 5).keeps_outside(text)


def test_context_runs_from_the_header_before_through_the_header_after() -> None:
    text = "# c\n[a]\nk = 1\n[p]\nj = 2\n[b]\nk = 3\n"
    doc = inifile.scan(text)
    a, p, _ = doc.sections
    start, end = doc.context(p)
    assert text[start:end] == "[a]\nk = 1\n[p]\nj = 2\n[b]\n"
    assert doc.context(a) == (0, text.index("[p]\n") + 4)
    assert text[doc.context(None)[0] :] == "[b]\nk = 3\n"


def test_the_scan_agrees_with_configparser_on_a_big_file() -> None:
    cont = "  cont\n"
    text = "".join(f"[p{i}]\nk = {i}\n{cont if i % 7 == 0 else ''}\n" for i in range(300))
    parser = configparser.RawConfigParser()
    parser.read_file(io.StringIO(text))
    doc = inifile.scan(text)
    assert [s.name for s in doc.sections] == parser.sections()


# ------------------------------------------------------------------------------------------
# The configobj dialect (config file): [[subsections]] belong to the section above


NESTED = (
    "[work]\r\n"
    "  provider = JumpCloud\r\n"
    "  [[roles]]\r\n"
    "  provider = not this one\r\n"
    "[home] # mine\r\n"
    "url = https://x.example\r\n"
)


def test_nested_sections_and_subsections() -> None:
    doc = inifile.scan(NESTED, nested=True)
    work, home = doc.sections
    assert (work.name, work.scalars_stop, work.stop, work.last) == ("work", 2, 4, 3)
    assert (home.name, home.scalars_stop, home.stop) == ("home", -1, 6)


def test_update_sets_keys_before_the_first_subsection_only() -> None:
    doc = inifile.scan(NESTED, nested=True)
    edit = doc.update(doc.find("work")[0], [("provider", "Okta"), ("region", "eu-west-1")])
    assert edit.text == NESTED.replace(
        "  provider = JumpCloud\r\n", "  provider = Okta\r\n  region = eu-west-1\r\n"
    )
    assert edit.keeps_outside(NESTED)


def test_scan_of_garbage_in_the_configobj_dialect_raises_nothing() -> None:
    assert [s.name for s in inifile.scan("junk\n[a\n[b]\n", nested=True).sections] == ["b"]


# ------------------------------------------------------------------------------------------
# One profile-name rule for both files

NAMES = [
    "prod",
    "acme-prod.Admin_RO",
    "default",
    "with space",
    "café",
    "#hash",
    "a=b",
    "",
    " prod",
    "prod\t",
    "DEFAULT",
    "a]b",
    "[a",
    "a\nb",
    "a\rb",
    "a\x0bb",
    "a\x0cb",
    "a\x1cb",
    "a\x85b",
    "a\u2028b",
    "a\u2029b",
    "nul\x00",
    "tab\tinside",
    os.fsdecode(b"bad\xffbyte"),
]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_refused_anywhere_is_refused_everywhere(tmp_path: Path, name: str) -> None:
    credentials = tmp_path / "credentials"
    cfg = tmp_path / "cfg"
    try:
        config.check_profile_name(name, "aws_profile")
    except ProfileNameError as exc:
        assert isinstance(exc, ConfigError)
        assert "\n" not in exc.message
        with pytest.raises(ProfileNameError):
            write_profile(credentials, name, {"k": "v"})
        with pytest.raises(ConfigError):
            config.save_section(cfg, name, {"provider": "JumpCloud"})
        assert not credentials.exists()
        assert not cfg.exists()
        return
    # Accepted: it reads back from both files as written.
    write_profile(credentials, name, {"k": "v"})
    assert read_profile(credentials, name) == {"k": "v"}
    parser = configparser.RawConfigParser()
    parser.read(credentials, encoding="utf-8")
    assert dict(parser[name]) == {"k": "v"}
    config.save_section(
        cfg, name, {"provider": "JumpCloud", "url": "https://x.example/saml", "aws_profile": name}
    )
    account = config.resolve_account(config.load(cfg), name, path=cfg, env={})
    assert account.aws_profile == name
