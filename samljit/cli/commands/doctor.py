"""``samljit doctor``: run the checks of :mod:`samljit.tools.doctor` and print one line per
finding: ``ok``, ``note``, ``skip`` or ``FIX`` (followed by what to do). Exit 0 when nothing
needs fixing, 2 otherwise."""

from __future__ import annotations

import argparse

from samljit.cli.commands import Context
from samljit.common.errors import ConfigError
from samljit.common.terminal import colour_enabled, style
from samljit.tools.doctor import Doctor, Finding

LABELS = {
    "ok": ("ok", "ok"),
    "note": ("note", "warn"),
    "skip": ("skip", "warn"),
    "fix": ("FIX", "error"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """doctor takes only the global options."""


def run(ctx: Context) -> int:
    colour = colour_enabled(ctx.stdout, ctx.env)

    def report(finding: Finding) -> None:
        label, kind = LABELS[finding.level]
        ctx.out(f"{style(f'{label:<4}', kind, enabled=colour)}  {finding.subject}: {finding.text}")
        if finding.fix:
            ctx.out(f"      fix: {finding.fix}")

    fixes = Doctor(ctx.env, ctx.config_path, report).run()
    if fixes:
        raise ConfigError(
            f"{len(fixes)} thing{'s' if len(fixes) != 1 else ''} to fix (the FIX lines above)"
        )
    ctx.out("All is well.")
    return 0
