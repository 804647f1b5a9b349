"""Credentials as lines for a shell to evaluate (``samljit script``), quoted per shell."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

SHELLS = ("bash", "zsh", "fish", "powershell", "cmd", "env", "json")


def default_shell(env: Mapping[str, str]) -> str:
    name = os.path.basename(env.get("SHELL", "")).lower()
    return name if name in ("bash", "zsh", "fish") else "bash"


def _posix(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render(shell: str, variables: Mapping[str, str], removed: tuple[str, ...] = ()) -> str:
    """Lines that set ``variables`` and unset ``removed`` in ``shell``."""
    lines: list[str] = []
    if shell in ("bash", "zsh"):
        lines += [f"unset {name}" for name in removed]
        lines += [f"export {k}={_posix(v)}" for k, v in variables.items()]
    elif shell == "fish":
        lines += [f"set -e {name}" for name in removed]
        lines += [f"set -gx {k} {_fish(v)}" for k, v in variables.items()]
    elif shell == "powershell":
        lines += [f"Remove-Item Env:\\{name} -ErrorAction SilentlyContinue" for name in removed]
        lines += [f"$Env:{k} = {_powershell(v)}" for k, v in variables.items()]
    elif shell == "cmd":
        for k, v in variables.items():
            if any(c in v for c in '"\r\n%'):
                raise ValueError(f"{k} holds a character cmd.exe cannot take safely")
        lines += [f'set "{name}="' for name in removed]
        lines += [f'set "{k}={v}"' for k, v in variables.items()]
    elif shell == "env":
        lines += [f"{k}={v}" for k, v in variables.items()]
    elif shell == "json":
        return json.dumps(dict(variables), indent=2) + "\n"
    else:
        raise ValueError(f"unknown shell {shell!r}")
    return "\n".join(lines) + "\n"
