"""``samljit completion bash|zsh|fish``: a completion script generated from the argument
parser by shtab, with account names (``-a``/``--idp-account``) read from the config file
(``--config`` on the line, else ``$SAMLJIT_CONFIG``, else ``~/.samljit``) when completing.

Install (bash): ``samljit completion bash > ~/.local/share/bash-completion/completions/samljit``;
zsh: ``samljit completion zsh > "${fpath[1]}/_samljit"``; fish:
``samljit completion fish > ~/.config/fish/completions/samljit.fish``.
"""

from __future__ import annotations

import argparse
from typing import Any

from samljit.cli.args import ALL, build_parser
from samljit.cli.commands import Context
from samljit.common.errors import UsageError

COMPLETION_SHELLS = ("bash", "zsh", "fish")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell")


ACCOUNT_DESTS = ("idp_account",)

#: Section names of the config file: ``[name]`` lines (spaces inside the brackets trimmed,
#: a trailing comment allowed), never ``[[sub]]`` ones.
SECTIONS_SED = (
    r"sed -n 's/^[[:space:]]*\[[[:space:]]*\([^][]*[^][[:space:]]\)[[:space:]]*\]"
    r"[[:space:]]*\(#.*\)\{0,1\}$/\1/p'"
)
_BASH = r"""
# samljit: IdP account names from the config file
_samljit_config_path() {
  local i config="${SAMLJIT_CONFIG:-$HOME/.samljit}"
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case "${COMP_WORDS[i]}" in
      --config) config="${COMP_WORDS[i + 1]}" ;;
      --config=*) config="${COMP_WORDS[i]#--config=}" ;;
    esac
  done
  printf '%s\n' "${config/#\~/$HOME}"
}
_samljit_accounts() {
  local config
  config="$(_samljit_config_path)"
  [ -r "$config" ] || return 0
  compgen -W "$({sed} "$config")" -- "$1"
}
"""
_ZSH = r"""
# samljit: IdP account names from the config file
_samljit_accounts() {
  local config="${SAMLJIT_CONFIG:-$HOME/.samljit}"
  local i
  for ((i = 1; i < ${#words}; i++)); do
    [[ "${words[i]}" == --config ]] && config="${words[i+1]}"
    [[ "${words[i]}" == --config=* ]] && config="${words[i]#--config=}"
  done
  config="${~config}"
  [[ -r "$config" ]] || return 0
  local -a accounts
  accounts=(${(f)"$({sed} "$config")"})
  compadd -a accounts
}
"""
_FISH = r"""
# samljit: IdP account names from the config file
function _samljit_accounts
  set -l config $HOME/.samljit
  set -q SAMLJIT_CONFIG; and set config $SAMLJIT_CONFIG
  set -l words (commandline -opc)
  for i in (seq (count $words))
    if test "$words[$i]" = --config; and test $i -lt (count $words)
      set config $words[(math $i + 1)]
    else if string match -q -- '--config=*' $words[$i]
      set config (string replace -- '--config=' '' $words[$i])
    end
  end
  test -r "$config"; or return 0
  {sed} "$config"
end
"""
ACCOUNT_COMPLETION: dict[str, Any] = {
    "bash": "_samljit_accounts",
    "zsh": "_samljit_accounts",
    "fish": "(_samljit_accounts)",
    "preamble": {
        shell: text.replace("{sed}", SECTIONS_SED)
        for shell, text in (("bash", _BASH), ("zsh", _ZSH), ("fish", _FISH))
    },
}
FILE_DESTS = ("config", "users", "key", "cert", "idp_certificate", "from_openssl_config")
DIR_DESTS = ("out",)


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.extend(_parsers(sub))
    return found


def script(shell: str) -> str:
    try:
        import shtab
    except ImportError:
        raise UsageError(
            "shell completion needs shtab, which is not installed",
            hint="pip install shtab (it comes with samljit; reinstall samljit)",
        ) from None

    parser = build_parser(ALL)
    for each in _parsers(parser):
        for action in each._actions:
            if action.dest in ACCOUNT_DESTS:
                action.complete = ACCOUNT_COMPLETION  # type: ignore[attr-defined]
            elif action.dest in FILE_DESTS:
                action.complete = shtab.FILE  # type: ignore[attr-defined]
            elif action.dest in DIR_DESTS:
                action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
    text: str = shtab.complete(parser, shell=shell)
    return text


def run(ctx: Context) -> int:
    ctx.stdout.write(script(ctx.args.shell))
    ctx.stdout.flush()
    return 0
