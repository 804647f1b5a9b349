"""samljit.jit.answers in-process: when a remembered answer is replayed and when not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from samljit.cli.replay import replay
from samljit.common import paths
from samljit.jit import answers
from tests.support.unprivileged import as_unprivileged, shared_dir

WORDS = ["login", "-a", "production"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "NO_COLOR": "1"}


def remember(env: dict[str, str], watched: Path, *, until: float, **kw: object) -> None:
    answers.remember(
        env,
        WORDS,
        watch=[str(watched)],
        until=until,
        expires=until + 600,
        **kw,  # type: ignore[arg-type]
    )


def test_replayed_before_until_and_not_after(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watched = tmp_path / "config"
    watched.write_text("x")
    remember(env, watched, until=2_000_000_000.0, stderr="valid {expiry}\n")
    assert replay(WORDS, env, False, now=1_999_999_999.0) == 0
    assert "valid until" in capsys.readouterr().err
    assert replay(WORDS, env, False, now=2_000_000_000.0) is None
    assert capsys.readouterr().err == ""


def test_a_touched_or_removed_file_ends_it(env: dict[str, str], tmp_path: Path) -> None:
    watched = tmp_path / "config"
    watched.write_text("x")
    remember(env, watched, until=2_000_000_000.0)
    assert replay(WORDS, env, True, now=1.0) == 0
    watched.write_text("xy")
    assert replay(WORDS, env, True, now=1.0) is None
    watched.unlink()
    assert replay(WORDS, env, True, now=1.0) is None


def test_other_words_or_environment_are_other_keys(env: dict[str, str], tmp_path: Path) -> None:
    watched = tmp_path / "config"
    watched.write_text("x")
    remember(env, watched, until=2_000_000_000.0)
    assert replay([*WORDS, "--role", "full"], env, True, now=1.0) is None
    assert replay(WORDS, {**env, "SAMLJIT_CONFIG": "/elsewhere"}, True, now=1.0) is None
    assert replay(WORDS, env, True, now=1.0) == 0


@pytest.mark.parametrize("word", ["--force", "--debug", "--mfa-token", "--mfa-token=123456"])
def test_some_words_are_never_remembered(env: dict[str, str], tmp_path: Path, word: str) -> None:
    watched = tmp_path / "config"
    watched.write_text("x")
    answers.remember(env, [*WORDS, word], watch=[str(watched)], until=2e9, expires=2e9)
    assert not (Path(paths.cache_dir(env)) / answers.FILE).exists()


def test_a_foreign_or_corrupt_file_is_not_read(env: dict[str, str], tmp_path: Path) -> None:
    watched = tmp_path / "config"
    watched.write_text("x")
    remember(env, watched, until=2_000_000_000.0)
    path = Path(paths.cache_dir(env)) / answers.FILE
    os.chmod(path, 0o640)
    assert replay(WORDS, env, True, now=1.0) is None
    os.chmod(path, 0o600)
    path.write_bytes(b"\x00garbage")
    assert replay(WORDS, env, True, now=1.0) is None


def test_nothing_is_written_into_a_cache_directory_another_user_owns(tmp_path: Path) -> None:
    """Another user made the cache directory and planted the temp file an earlier samljit
    wrote through (``answers.<pid>.tmp``): the answer goes nowhere, not into their file."""
    planted_name = f"{answers.FILE}.{os.getpid()}.tmp"
    watched = tmp_path / "config"
    watched.write_text("x")
    with shared_dir() as base:
        theirs = base / "samljit"

        def plant() -> None:
            theirs.mkdir(mode=0o777)
            theirs.chmod(0o777)
            (theirs / planted_name).write_bytes(b"")
            (theirs / planted_name).chmod(0o666)

        as_unprivileged(plant)
        env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(base), "NO_COLOR": "1"}
        answers.remember(
            env, WORDS, watch=[str(watched)], until=2e9, expires=2e9, stdout="s3cr3t-keys\n"
        )
        assert (theirs / planted_name).read_bytes() == b""
        assert sorted(p.name for p in theirs.iterdir()) == [planted_name]


def test_the_answers_file_is_written_through_an_exclusive_temp_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A file already at the old predictable temp name in samljit's own directory is
    neither written through nor followed."""
    watched = tmp_path / "config"
    watched.write_text("x")
    directory = Path(paths.cache_dir(env))
    directory.mkdir(parents=True, mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    (directory / f"{answers.FILE}.{os.getpid()}.tmp").hardlink_to(elsewhere)
    remember(env, watched, until=2_000_000_000.0, stdout="s3cr3t-keys\n")
    assert elsewhere.read_bytes() == b""
    assert replay(WORDS, env, True, now=1.0) == 0
