"""samljit.jit.answers in-process: when a remembered answer is replayed and when not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from samljit.cli.replay import replay
from samljit.common import paths
from samljit.jit import answers
from tests.support.paths import REPO
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


# -- the audit line ---------------------------------------------------------------------------
def test_an_audit_line_below_the_limit_is_appended_without_the_lock(tmp_path: Path) -> None:
    answers.append_audit(str(tmp_path), b"one\n", max_bytes=100)
    answers.append_audit(str(tmp_path), b"two\n", max_bytes=100)
    assert (tmp_path / "audit.log").read_bytes() == b"one\ntwo\n"
    assert not (tmp_path / "audit.lock").exists()
    assert (tmp_path / "audit.log").stat().st_mode & 0o777 == 0o600


def test_the_rotation_takes_the_lock_and_keeps_one_generation(tmp_path: Path) -> None:
    (tmp_path / "audit.log").write_bytes(b"x" * 100)
    answers.append_audit(str(tmp_path), b"next\n", max_bytes=100)
    assert (tmp_path / "audit.log.1").read_bytes() == b"x" * 100
    assert (tmp_path / "audit.log").read_bytes() == b"next\n"
    assert (tmp_path / "audit.lock").exists()


def test_where_appends_are_not_atomic_every_line_takes_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from samljit.common.platform.posix import Posix

    class SeekingAppends(Posix):  # Windows' way, with a lock this machine can take
        appends_atomically = False

    monkeypatch.setattr(answers, "current", SeekingAppends)
    answers.append_audit(str(tmp_path), b"one\n", max_bytes=100)
    assert (tmp_path / "audit.log").read_bytes() == b"one\n"
    assert (tmp_path / "audit.lock").exists()


def test_the_replay_path_imports_nothing_beyond_its_own_modules() -> None:
    """What a replayed run loads beyond the interpreter: samljit's own start-up modules and no
    other (not even ``__future__``). Run without ``site``, whose hooks (an editable install's
    finder, coverage's start-up hook) load modules of their own first."""
    code = (
        f"import os, sys; sys.path.insert(0, {str(REPO)!r}); before = set(sys.modules); "
        "import samljit.cli.main, samljit.cli.replay; "
        "from samljit.common.platform import current; current(); "
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('samljit.')))"
    )
    ran = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "['samljit']"
