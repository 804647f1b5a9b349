"""``samljit status``: every configured account, its profile, role and time left, and
whether an IdP session is kept for it (and, where the IdP said, until when)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from samljit.aws.credentials import AwsCredentials
from samljit.cli.commands import Context
from samljit.common.errors import ConfigError
from samljit.common.text import rfc3339
from samljit.config import accounts as config
from samljit.sinks.env import role_arn_of
from samljit.sinks.profile import held_credentials


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(ctx: Context) -> int:
    cfg = ctx.load_config()
    services = ctx.services
    now = services.now()
    cached = services.cache.grants()
    rows: list[dict[str, Any]] = []
    for name in cfg.sections:
        try:
            account = config.resolve_account(cfg, name, path=ctx.config_path, env=ctx.env)
        except ConfigError as exc:
            rows.append({"account": name, "error": exc.message})
            continue
        held = services.sessions.describe(account)
        session: dict[str, Any] = {
            "idp_session": held is not None,
            "idp_session_expires": rfc3339(held.expires) if held and held.expires else None,
        }
        credentials = held_credentials(account)
        sources: list[tuple[str, str | None, AwsCredentials]] = (
            [("profile", account.aws_profile, credentials)] if credentials else []
        )
        shown = {credentials.access_key_id} if credentials else set()
        sources += [
            ("cache", None, g.credentials)
            for g in cached
            if g.account == account.name and g.credentials.access_key_id not in shown
        ]
        if not sources:
            rows.append(
                {"account": name, "profile": account.aws_profile, "state": "none", **session}
            )
        for source, profile, creds in sources:
            left = int((creds.expiration - now).total_seconds())
            rows.append(
                {
                    "account": name,
                    "source": source,
                    "profile": profile,
                    "role_arn": role_arn_of(creds) or None,
                    "expires": rfc3339(creds.expiration),
                    "seconds_left": max(left, 0),
                    "state": "valid" if left > 0 else "expired",
                    **session,
                }
            )
    if ctx.args.json:
        ctx.out(json.dumps(rows, indent=2))
        return 0
    shown_session: set[str] = set()
    for row in rows:
        if "error" in row:
            ctx.out(f"{row['account']}  error: {row['error']}")
        elif row["state"] == "none":
            ctx.out(f"{row['account']}  [{row['profile']}]  no credentials")
        else:
            where = f"[{row['profile']}]" if row["profile"] else "(cache)"
            minutes = f"{row['seconds_left'] // 60} min left"
            remaining = "expired" if row["state"] == "expired" else minutes
            role = (row["role_arn"] or "?").rsplit("/", 1)[-1]
            ctx.out(f"{row['account']}  {where}  {role}  {remaining}")
        if row.get("idp_session") and row["account"] not in shown_session:
            shown_session.add(row["account"])
            until = row["idp_session_expires"]
            ctx.out(f"{row['account']}  IdP session held" + (f" until {until}" if until else ""))
    return 0
