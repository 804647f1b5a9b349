"""What the layers promise: below the CLI nothing prints, exits or execs (the injected
terminal is the one way out), and doctor knows no provider by name (a provider declares its
own checks)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from samljit.idp.provider import DoctorFinding, Provider
from samljit.tools.doctor import Doctor, Finding

ROOT = Path(__file__).resolve().parents[2]
BELOW_THE_CLI = ["common", "config", "idp", "aws", "saml", "sinks", "jit"]
#: The terminal writes to the streams it is given: that is its job (stderr by default).
TERMINAL = ROOT / "samljit" / "common" / "terminal.py"


def _ways_out(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "sys" and node.attr in ("stdout", "stderr", "exit"):
                found.append(f"{path.name}:{node.lineno} sys.{node.attr}")
            if node.value.id == "os" and node.attr.startswith(("exec", "_exit")):
                found.append(f"{path.name}:{node.lineno} os.{node.attr}")
        called = node.func if isinstance(node, ast.Call) else None
        if isinstance(called, ast.Name) and called.id in ("print", "exit", "quit"):
            found.append(f"{path.name}:{node.lineno} {called.id}()")
    return found


def _below_the_cli() -> list[Path]:
    files = [f for stage in BELOW_THE_CLI for f in (ROOT / "samljit" / stage).rglob("*.py")]
    return [f for f in [*files, *(ROOT / "providers").rglob("*.py")] if f != TERMINAL]


def test_nothing_below_the_cli_prints_exits_or_execs() -> None:
    found = [way for path in _below_the_cli() for way in _ways_out(path)]
    assert found == [], "only the CLI layer writes to the streams, exits or execs"


def test_doctor_names_no_provider() -> None:
    text = (ROOT / "samljit" / "tools" / "doctor.py").read_text(encoding="utf-8").lower()
    assert '"browser"' not in text and "certutil" not in text


def test_doctor_reports_what_a_provider_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("samljit_example")
    from samljit_example import ExampleCorpProvider

    seen: list[list[str]] = []

    def checks(cls: type[Provider], accounts: list, env: dict) -> list[DoctorFinding]:  # type: ignore[type-arg]
        seen.append([a.name for a in accounts])
        return [DoctorFinding("fix", "ExampleCorp agent", "not running", "start it")]

    monkeypatch.setattr(ExampleCorpProvider, "doctor_checks", classmethod(checks))
    config = tmp_path / "config"
    config.write_text(
        "[ex]\nprovider = ExampleCorp\nurl = https://sso.example.com\ntenant = acme\n"
        "[ex2]\nprovider = ExampleCorp\nurl = https://sso.example.com\ntenant = acme\n",
        encoding="utf-8",
    )
    reported: list[Finding] = []
    doctor = Doctor({"HOME": str(tmp_path)}, config, reported.append)
    doctor.provider_checks(doctor.accounts())
    assert seen == [["ex", "ex2"]]
    assert Finding("fix", "ExampleCorp agent", "not running", "start it") in reported
