"""`aws-config --write`'s editor of the AWS config file (samljit.sinks.awsconfig): samljit's
marked sections are replaced in place, renamed when the name changed, every other byte kept
(CRLF, comments, a missing final newline), and nothing it did not write is overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from samljit.common.errors import ConfigError
from samljit.sinks.awsconfig import (
    ProcessProfile,
    process_profile,
    process_profiles,
    write_process_profiles,
)

ROLE = "arn:aws:iam::012345678987:role/Admin"


def profile(name: str, region: str | None = "eu-west-1") -> ProcessProfile:
    return process_profile(
        name, account="production", role_arn=ROLE, region=region, command=["/opt/my tools/samljit"]
    )


def test_the_command_is_quoted_for_the_sdks_shell_split(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write_process_profiles(path, [profile("prod")])
    text = path.read_text()
    assert (
        "credential_process = '/opt/my tools/samljit' credential-process -a production "
        f"--role {ROLE}\n" in text
    )
    assert process_profiles(path) == {"prod"}


def test_a_marked_section_is_replaced_in_place_and_renamed(tmp_path: Path) -> None:
    path = tmp_path / "config"
    before = "# top\r\n[default]\r\nregion = us-east-1\r\n"
    after = "\r\n; about tools\r\n[profile tools]\r\nregion = us-west-2"
    write_process_profiles(path, [profile("old")])
    ours = path.read_bytes().decode()
    path.write_bytes((before + ours + after).encode())
    write_process_profiles(path, [profile("new", region="ap-south-1")])
    text = path.read_bytes().decode()
    assert text.startswith(before + "[profile new]\n")
    assert text.endswith("region = ap-south-1\n" + after)
    assert text.count("# samljit aws-config:") == 1
    write_process_profiles(path, [profile("new", region="ap-south-1")])
    assert path.read_bytes().decode() == text  # nothing to change: the same bytes


def test_a_section_samljit_did_not_write_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config"
    mine = "[profile prod]\nlogin_session = arn:aws:iam::1:user/me\n"
    path.write_text(mine)
    with pytest.raises(ConfigError, match="was not written by samljit aws-config"):
        write_process_profiles(path, [profile("prod")])
    assert path.read_text() == mine
