"""``samljit completion bash|zsh|fish|powershell``: a completion script generated from the
argument parser (by shtab; PowerShell's here, shtab has none), with account names
(``-a``/``--idp-account``) read from the config file (``--config`` on the line, else
``$SAMLJIT_CONFIG``, else ``~/.samljit``) when completing.

Install (bash): ``samljit completion bash > ~/.local/share/bash-completion/completions/samljit``;
zsh: ``samljit completion zsh > "${fpath[1]}/_samljit"``; fish:
``samljit completion fish > ~/.config/fish/completions/samljit.fish``; PowerShell:
``samljit completion powershell | Out-String | Invoke-Expression`` in ``$PROFILE``.
"""

from __future__ import annotations

import argparse
from typing import Any

from samljit.cli.args import ALL, build_parser
from samljit.cli.commands import Context
from samljit.common.errors import UsageError

COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell")


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
    if shell == "powershell":
        return powershell_script(build_parser(ALL))
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


# -- PowerShell ------------------------------------------------------------------------------
_POWERSHELL = r"""# samljit completion for PowerShell (samljit completion powershell)
$samljitWords = @{
@WORDS@
}
$samljitValues = @{
@VALUES@
}
Register-ArgumentCompleter -Native -CommandName samljit, samljit.exe -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  # the words before the one being completed
  $tokens = @($commandAst.CommandElements | Select-Object -Skip 1 |
    Where-Object { $_.Extent.EndOffset -lt $cursorPosition } | ForEach-Object { $_.ToString() })
  $command = ''
  $previous = ''
  $config = if ($env:SAMLJIT_CONFIG) { $env:SAMLJIT_CONFIG } else { Join-Path $HOME '.samljit' }
  for ($i = 0; $i -lt $tokens.Count; $i++) {
    $token = $tokens[$i]
    if ($token -eq '--config' -and $i + 1 -lt $tokens.Count) { $config = $tokens[$i + 1] }
    elseif ($token.StartsWith('--config=')) { $config = $token.Substring(9) }
    elseif (-not $token.StartsWith('-') -and
            -not $samljitValues.ContainsKey("$command $previous".Trim())) {
      $longer = "$command $token".Trim()
      if ($samljitWords.ContainsKey($longer)) { $command = $longer }
    }
    $previous = $token
  }
  $candidates = @()
  if ($previous -eq '-a' -or $previous -eq '--idp-account') {
    if (Test-Path -LiteralPath $config) {
      $candidates = @(Get-Content -LiteralPath $config | ForEach-Object {
        if ($_ -match '^\s*\[\s*([^\]\[]*[^\]\[\s])\s*\]\s*(#.*)?$') { $Matches[1] }
      })
    }
  } elseif ($samljitValues.ContainsKey("$command $previous".Trim())) {
    $candidates = $samljitValues["$command $previous".Trim()]
  } else {
    $candidates = $samljitWords[$command]
  }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
"""


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


def _powershell_array(words: list[str]) -> str:
    return "@(" + ", ".join(_quoted(w) for w in words) + ")"


def powershell_script(parser: argparse.ArgumentParser) -> str:
    """A PowerShell argument completer: commands and sub-commands, each one's options, the
    values of options with fixed choices, and account names read from the config file."""
    words: dict[str, list[str]] = {}
    values: dict[str, list[str]] = {}

    def walk(each: argparse.ArgumentParser, command: str) -> None:
        found: list[str] = []
        for action in each._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append(name)
                    walk(sub, f"{command} {name}".strip())
            elif action.option_strings:
                if action.help == argparse.SUPPRESS:
                    continue
                found.extend(action.option_strings)
                if action.choices is not None:
                    for option in action.option_strings:
                        values[f"{command} {option}".strip()] = [str(c) for c in action.choices]
            elif action.choices is not None:
                found.extend(str(c) for c in action.choices)
        words[command] = found

    walk(parser, "")
    table = "\n".join(f"  {_quoted(k)} = {_powershell_array(v)}" for k, v in sorted(words.items()))
    choices = "\n".join(
        f"  {_quoted(k)} = {_powershell_array(v)}" for k, v in sorted(values.items())
    )
    return _POWERSHELL.replace("@WORDS@", table).replace("@VALUES@", choices)
