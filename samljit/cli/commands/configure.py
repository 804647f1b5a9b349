"""``samljit configure``: create or update one IdP account section."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from samljit.cli.commands import Context
from samljit.config import accounts as config
from samljit.config.passwords import PasswordStore
from samljit.config.urls import check_url
from samljit.errors import ConfigError
from samljit.idp.provider import load_provider, provider_names
from samljit.saml.verify import describe_certificates


def run(ctx: Context) -> int:
    args = ctx.args
    if args.import_saml2aws is not None:
        return _import_saml2aws(ctx, Path(os.path.expanduser(args.import_saml2aws)))
    cfg = ctx.load_config()
    name = ctx.account_name
    existing: dict[str, Any] = dict(cfg[name]) if name in cfg.sections else {}

    def current(flag: object, key: str) -> str | None:
        if flag is not None:
            return str(flag)
        value = existing.get(key)
        return str(value) if isinstance(value, str) and value else None

    values: dict[str, str | None] = {
        "provider": current(args.provider, "provider"),
        "url": current(args.url, "url"),
        "username": current(args.username, "username"),
        "mfa": current(args.mfa, "mfa"),
        "aws_profile": current(args.profile, "aws_profile"),
        "role_arn": current(args.role, "role_arn"),
        "region": current(args.region, "region"),
        "aws_session_duration": current(args.session_duration, "aws_session_duration"),
        "idp_certificate": current(args.idp_certificate, "idp_certificate"),
        "api_url": current(args.api_url, "api_url"),
        "command": current(args.command_line, "command"),
    }
    terminal = ctx.terminal
    asking = not args.skip_prompt and terminal.interactive
    if asking:
        _ask(ctx, name, values)
    _validate(ctx, name, values)
    changed = {k: v for k, v in values.items() if v is not None and v != current(None, k)}
    config.save_section(ctx.config_path, name, changed)
    terminal.info(f"Saved IdP account {name!r} in {ctx.config_path}.")
    if asking and values.get("username"):
        _offer_password(ctx, name)
    terminal.info(f"Next: samljit login -a {name}")
    return 0


def _ask(ctx: Context, name: str, values: dict[str, str | None]) -> None:
    terminal = ctx.terminal
    known = provider_names()

    def one_of(choices: list[str]) -> Any:
        lowered = {c.lower() for c in choices}
        return lambda v: None if v.lower() in lowered else f"choose one of: {', '.join(choices)}"

    chosen = terminal.ask(
        "IdP provider",
        what="the provider",
        default=values["provider"],
        completions=known,
        validate=one_of(known),
    )
    provider = load_provider(chosen)
    values["provider"] = provider.name

    def url_ok(value: str) -> str | None:
        try:
            check_url(value, "the URL")
        except ConfigError as exc:
            return exc.message
        return None

    if "url" in provider.required_keys:
        values["url"] = terminal.ask(
            "IdP sign-in URL of the AWS app", what="the URL", default=values["url"], validate=url_ok
        )
    if "command" in provider.required_keys:
        values["command"] = terminal.ask(
            "Command that prints a base64 SAMLResponse",
            what="the command",
            default=values["command"],
        )
    if provider.needs_password:
        values["username"] = (
            terminal.ask("Username", what="the username", default=values["username"] or "") or None
        )
    mfa_choices = list(provider.mfa_options)
    values["mfa"] = terminal.ask(
        f"MFA ({', '.join(mfa_choices)})",
        what="the MFA method",
        default=values["mfa"] or "Auto",
        completions=mfa_choices,
        validate=one_of(mfa_choices),
    )
    values["aws_profile"] = terminal.ask(
        "AWS profile to write", what="the profile", default=values["aws_profile"] or name
    )
    values["role_arn"] = (
        terminal.ask(
            "Default role (ARN, alias or role name; empty to choose at login)",
            what="the default role",
            default=values["role_arn"] or "",
        )
        or None
    )


def _validate(ctx: Context, name: str, values: dict[str, str | None]) -> None:
    if not values.get("provider"):
        raise ConfigError(
            f"account {name!r} needs a provider",
            hint=f"pass --provider (or run `samljit configure -a {name}` in a terminal)",
        )
    provider = load_provider(values["provider"] or "")
    values["provider"] = provider.name
    for key in provider.required_keys:
        if not values.get(key):
            raise ConfigError(
                f"account {name!r} needs a {key}",
                hint=f"pass --{key} (or run `samljit configure -a {name}` in a terminal)",
            )
    if values.get("aws_profile"):
        config.check_profile_name(values["aws_profile"] or "", "the AWS profile")
    if values.get("url"):
        check_url(values["url"] or "", "--url")
    if values.get("api_url"):
        check_url(values["api_url"] or "", "--api-url")
    mfa = values.get("mfa")
    if mfa:
        matching = [m for m in provider.mfa_options if m.lower() == mfa.lower()]
        if not matching:
            raise ConfigError(
                f"{provider.name} does not know MFA {mfa!r}",
                hint=f"choose one of: {', '.join(provider.mfa_options)}",
            )
        values["mfa"] = matching[0]
    cert = values.get("idp_certificate")
    if cert:
        now = datetime.now(timezone.utc)
        for info in describe_certificates(Path(os.path.expanduser(cert))):
            ctx.terminal.info(
                f"Pinned IdP certificate {info.subject}, SHA-256 {info.sha256_fingerprint}, "
                f"valid until {info.not_after:%Y-%m-%d}."
            )
            if info.not_after < now:
                ctx.terminal.warn(
                    f"the pinned certificate {info.subject} expired {info.days_expired(now)} "
                    "days ago; samljit still checks signatures against it"
                )


def _offer_password(ctx: Context, name: str) -> None:
    account = config.resolve_account(ctx.load_config(), name, path=ctx.config_path, env={})
    username = account.username or ""
    password = ctx.terminal.ask_secret(
        f"Password for {username} (stored in the OS keyring; Enter to skip)",
        what="the password",
        allow_empty=True,
    )
    if password:
        ctx.redactor.add(password)
        if PasswordStore(ctx.terminal).set(account, username, password):
            ctx.terminal.info("Password saved in the OS keyring.")


def _provider_lookup(name: str) -> tuple[str, tuple[str, ...]] | None:
    try:
        provider = load_provider(name)
    except ConfigError:
        return None
    return provider.name, tuple(provider.mfa_options)


def _import_saml2aws(ctx: Context, source: Path) -> int:
    """``configure --import-saml2aws [PATH]``: every section (only ``-a NAME`` when given);
    an existing samljit section is updated only with ``--force`` or a yes on the terminal."""
    from samljit.config import saml2aws as migrate

    sections = migrate.read_sections(source)
    only = ctx.args.idp_account
    if only is not None:
        sections = [(name, values) for name, values in sections if name == only]
        if not sections:
            raise ConfigError(f"no section [{only}] in {source}")
    target = ctx.config_path
    existing = set(ctx.load_config().sections)
    ctx.out(f"Importing {source} into {target}")
    imported: list[str] = []
    for name, values in sections:
        converted = migrate.convert_section(name, values, provider_lookup=_provider_lookup)
        if converted.skipped is None and name in existing and not _may_update(ctx, name, target):
            converted.skipped = f"it exists in {target} already (--force updates it)"
        if converted.skipped is not None:
            ctx.out(f"[{name}] not imported: {converted.skipped}")
        else:
            try:
                config.check_profile_name(name, "the section name")
                config.save_section(target, name, converted.values)
            except ConfigError as exc:
                ctx.out(f"[{name}] not imported: {exc.message}")
                continue
            imported.append(name)
            verb = "updated" if name in existing else "imported"
            ctx.out(f"[{name}] {verb}: {', '.join(converted.values)}")
        for note in converted.notes:
            ctx.out(f"    {note}")
        if converted.defaults:
            ctx.out(f"    ignored (empty or saml2aws's default): {', '.join(converted.defaults)}")
    ctx.out(
        f"Imported {len(imported)} of {len(sections)} section{'s' if len(sections) != 1 else ''}."
    )
    if not imported:
        raise ConfigError(
            f"nothing imported from {source}", hint="see the reasons above each section"
        )
    ctx.out(
        "Passwords stay in saml2aws's keychain entry: samljit asks at the first login "
        "(and keeps it in its own keyring entry)."
    )
    ctx.out(f"Next: samljit login -a {imported[0]}")
    return 0


def _may_update(ctx: Context, name: str, target: Path) -> bool:
    if ctx.args.force:
        return True
    terminal = ctx.terminal
    if not terminal.interactive:
        return False
    answer = terminal.ask(
        f"Account [{name}] exists in {target}; update it from saml2aws? (y/N)",
        what="whether to update the account",
        default="n",
        validate=lambda v: None if v.strip().lower() in ("y", "yes", "n", "no") else "y or n",
    )
    return answer.strip().lower() in ("y", "yes")
