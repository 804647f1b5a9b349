"""Credentials as lines for a shell to evaluate (``samljit script``), quoted per shell.

The output works with each shell's usual idioms, quoted or not, and ends with status 0:

* bash, zsh: ``eval "$(samljit script)"``, ``eval $(samljit script)`` (saml2aws's habit),
  ``source <(samljit script)``. Unquoted, the shell splits the output into words at
  blanks and newlines (and bash globs them) before ``eval`` joins them with spaces again:
  every command therefore ends with ``;``, and a value holding a blank, a glob character or
  anything unusual is written as ``$'...'`` with ``\\xHH`` escapes, so no word is split,
  globbed or changed.
* fish: ``samljit script | source``, ``eval (samljit script)``. ``(...)`` splits at newlines
  and ``eval`` joins with spaces: every command ends with ``;``. ``set -e`` of a variable
  that is not set fails (status 4, which the following ``set``s keep as the final status):
  ``; or true`` absorbs it.

A line that fails makes the shell print it, secret included: these never fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

SHELLS = ("bash", "zsh", "fish", "powershell", "cmd", "env", "json")


def default_shell(env: Mapping[str, str]) -> str:
    name = os.path.basename(env.get("SHELL", "")).lower()
    return name if name in ("bash", "zsh", "fish") else "bash"


#: Characters that survive unquoted word splitting and globbing unchanged (bash, zsh).
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-")


def _posix(value: str) -> str:
    """``'value'`` when that survives an unquoted ``eval $(...)``, else ``$'...'`` with
    every other character as ``\\xHH`` bytes (UTF-8)."""
    if all(c in _PLAIN for c in value):
        return "'" + value + "'"
    escaped = "".join(
        c if c in _PLAIN else "".join(f"\\x{b:02x}" for b in c.encode("utf-8")) for c in value
    )
    return "$'" + escaped + "'"


def _fish(value: str) -> str:
    """fish's ``'...'``; a control character (which ``(...)`` would split at, when it is a
    newline) goes outside the quotes as ``\\xHH``."""
    quoted = "'"
    for c in value:
        if c < " " or c == "\x7f":
            quoted += f"'\\x{ord(c):02x}'"
        elif c in "\\'":
            quoted += "\\" + c
        else:
            quoted += c
    return quoted + "'"


def _powershell(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render(shell: str, variables: Mapping[str, str], removed: tuple[str, ...] = ()) -> str:
    """Lines that set ``variables`` and unset ``removed`` in ``shell``."""
    lines: list[str] = []
    if shell in ("bash", "zsh"):
        lines += [f"unset {name};" for name in removed]
        lines += [f"export {k}={_posix(v)};" for k, v in variables.items()]
    elif shell == "fish":
        lines += [f"set -e {name}; or true;" for name in removed]
        lines += [f"set -gx {k} {_fish(v)};" for k, v in variables.items()]
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
