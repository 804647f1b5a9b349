"""The docs site builds (``mkdocs build --strict``), and docs/troubleshooting.md covers every
error samljit can print: for each error message in the code (every ``…Error("…")`` /
``…Error(f"…")`` of samljit's error classes, and a command's ``ctx.error(…)``), its longest
fixed piece of text must appear there, so a new error cannot ship without its cause and fix.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO

TROUBLESHOOTING = REPO / "docs" / "troubleshooting.md"
SOURCES = (REPO / "samljit", REPO / "providers")
#: Messages that are not error lines of their own (file: first words → why).
IGNORED = {
    # the text is AWS's own error message, shown after "AWS refused: CODE:" (documented by code)
    "AwsError(code, message)": "AWS's words",
}
_WORDS = re.compile(r"[A-Za-z]{3,}")
_STRIP = " \t\n:;,.()'\"-=[]"


@dataclass(frozen=True)
class Message:
    where: str
    key: str


def _segments(node: ast.expr) -> list[str | None] | None:
    """A message's literal parts in order; ``None`` stands for a value filled in at run
    time. ``None`` (the whole result) when the message is not built from literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value if isinstance(v, ast.Constant) else None for v in node.values]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _segments(node.left), _segments(node.right)
        return [*(left or [None]), *(right or [None])]
    return None


def _files() -> Iterator[Path]:
    for root in SOURCES:
        yield from sorted(root.rglob("*.py"))


def _error_classes() -> set[str]:
    """samljit's error classes: those in samljit.common.errors and every subclass defined in the
    sources (by name, found without importing anything)."""
    import samljit.common.errors as errors

    names = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.SamljitError)
    }
    trees = [ast.parse(path.read_text()) for path in _files()]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def error_messages() -> list[Message]:
    classes = _error_classes()
    found: list[Message] = []
    for path in _files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in classes:
                arg = node.args[1] if name == "AwsError" and len(node.args) > 1 else node.args[0]
            elif name == "error" and isinstance(func, ast.Attribute):
                arg = node.args[0]  # ctx.error(...): a command's own error line
            else:
                continue
            segments = _segments(arg)
            if segments is None:
                continue
            literals = [" ".join(s.split()).strip(_STRIP) for s in segments if s is not None]
            literals = [s for s in literals if _WORDS.search(s)]
            if not literals:
                continue
            key = max(literals, key=len)  # the message's longest fixed text
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            found.append(Message(where, key))
    return found


def _normalized(text: str) -> str:
    return " ".join(text.replace("\\|", "|").split())


def test_the_extractor_finds_the_errors_it_should() -> None:
    keys = {m.key for m in error_messages()}
    assert "no IdP account" in keys  # config.py, f"no IdP account {name!r} in …"
    assert "exec needs a command after" in keys
    assert "the SAMLResponse is not base64" in keys
    assert "command not found" in keys  # ctx.error(...)
    assert len(keys) > 100


def test_troubleshooting_covers_every_error_message() -> None:
    docs = _normalized(TROUBLESHOOTING.read_text())
    missing = sorted(
        {f"{m.key!r} ({m.where})" for m in error_messages() if _normalized(m.key) not in docs}
    )
    assert not missing, (
        "docs/troubleshooting.md does not mention these error messages (add a row: the "
        "error line, its cause, the fix):\n" + "\n".join(missing)
    )


def test_mkdocs_site_builds_strictly(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (tmp_path / "site" / "troubleshooting" / "index.html").exists()
    assert (tmp_path / "site" / "sandbox" / "index.html").exists()
