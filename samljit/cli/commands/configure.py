"""``samljit configure``: create or update one IdP account section."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from samljit.cli.args import seconds
from samljit.cli.commands import Context
from samljit.common.errors import ConfigError
from samljit.common.urls import check_url
from samljit.config import accounts as config
from samljit.config.passwords import PasswordStore, ask_password, ask_username
from samljit.config.saml2aws import ProviderInfo
from samljit.idp.provider import (
    KeyKind,
    PasswordNeed,
    Plugins,
    Provider,
    ProviderKey,
    load_provider,
    provider_names,
    secret_entry,
)
from samljit.saml.verify import describe_certificates

KEY_DEST = "key_"  # argparse dest of a provider-declared key's flag
SECRET_DEST = "secret_"  # noqa: S105 (a prefix); argparse dest of a provider-declared secret key's flag


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", help="IdP provider, e.g. JumpCloud")
    parser.add_argument("--url", help="IdP sign-in URL of the AWS app")
    parser.add_argument("--username", help="login name at the IdP")
    parser.add_argument("--mfa", help="MFA method: Auto, TOTP, PUSH, …")
    parser.add_argument("--profile", help="credentials profile to write (aws_profile)")
    parser.add_argument("--role", help="default role (role_arn): ARN, alias or role name")
    parser.add_argument("--region", help="AWS region for the profile and the STS endpoint")
    parser.add_argument(
        "--session-duration", type=seconds, metavar="SECONDS", help="aws_session_duration"
    )
    parser.add_argument("--idp-certificate", metavar="PEM", help="pin the IdP's certificate")
    parser.add_argument("--api-url", help="provider API base URL (JumpCloud console host)")
    parser.add_argument(
        "--principal-arn",
        metavar="ARN",
        help="the IAM SAML provider (principal_arn: ARN or saml-provider/NAME), needed when "
        "the IdP encrypts assertions for AWS",
    )
    parser.add_argument(
        "--skip-prompt", action="store_true", help="no questions; take the flags only"
    )
    parser.add_argument(
        "--import-saml2aws",
        nargs="?",
        const="~/.saml2aws",
        metavar="PATH",
        help="convert the sections of a saml2aws config file (default ~/.saml2aws); "
        "with -a, only that section",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --import-saml2aws: update sections that exist already without asking",
    )
    group = parser.add_argument_group("settings of one provider")
    for key, owners in Plugins(warn=_warn).declared_keys():
        group.add_argument(
            key.flag,
            dest=KEY_DEST + key.name,
            metavar=key.name.upper(),
            help=f"{key.help} ({', '.join(owners)})",
        )
    for key, owners in Plugins(warn=_warn).secret_keys():
        group.add_argument(
            key.flag,
            dest=SECRET_DEST + key.name,
            metavar=key.name.upper(),
            help=f"{key.help}: stored in the OS keyring, never in the file; or set "
            f"{key.variable} ({', '.join(owners)})",
        )


def _warn(message: str) -> None:
    sys.stderr.write(f"samljit: warning: {message}\n")


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
        "principal_arn": current(args.principal_arn, "principal_arn"),
    }
    given_keys = {
        dest[len(KEY_DEST) :]: value
        for dest, value in vars(args).items()
        if dest.startswith(KEY_DEST) and value is not None
    }
    for key in given_keys:
        values[key] = current(given_keys[key], key)
    for key, value in existing.items():  # provider-declared keys already in the file
        if isinstance(value, str) and key not in values and key not in config.KEY_NAMES:
            values[key] = value
    terminal = ctx.terminal
    asking = not args.skip_prompt and terminal.interactive
    if asking:
        _ask(ctx, name, values)
    _validate(ctx, name, values, given_keys)
    secrets = _secrets(ctx, name, values, asking)
    changed = {k: v for k, v in values.items() if v is not None and v != current(None, k)}
    config.save_section(ctx.config_path, name, changed)
    terminal.info(f"Saved IdP account {name!r} in {ctx.config_path}.")
    _store_secrets(ctx, name, values, secrets)
    if asking and values.get("username"):
        _offer_password(ctx, name)
    terminal.info(f"Next: samljit login -a {name}")
    return 0


#: The questions every account answers, asked first (a provider's own keys come after).
COMMON_KEYS = ("provider", "url", "username", "mfa", "aws_profile", "role_arn")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})


def _one_of(choices: Sequence[str]) -> Callable[[str], str | None]:
    lowered = {c.lower() for c in choices}
    return lambda v: None if v.lower() in lowered else f"choose one of: {', '.join(choices)}"


def _ask(ctx: Context, name: str, values: dict[str, str | None]) -> None:
    """The questions, as a person would ask them: the common ones first (provider, URL,
    username, MFA, profile, role), then the provider's own; ``?`` shows a question's help."""
    terminal = ctx.terminal
    known = provider_names()
    terminal.info("Type ? at a question for help; Enter keeps the answer in [brackets].")
    chosen = terminal.ask(
        "IdP provider",
        what="the provider",
        default=values["provider"],
        completions=known,
        validate=_one_of(known),
        help="the kind of identity provider you sign in at: " + ", ".join(known),
    )
    provider = load_provider(chosen)
    values["provider"] = provider.name
    common = [key for key in provider.keys if key.name in config.KEY_NAMES]
    for key in common:
        _ask_key(ctx, provider, key, values)
    if provider.password_need is not PasswordNeed.NEVER:
        values["username"] = ask_username(terminal, default=values["username"]) or None
    mfa_choices = list(provider.mfa_options)
    values["mfa"] = terminal.ask(
        f"MFA ({', '.join(mfa_choices)})",
        what="the MFA method",
        default=values["mfa"] or "Auto",
        completions=mfa_choices,
        validate=_one_of(mfa_choices),
        help="the second factor to use; Auto takes what the IdP offers (and asks when it "
        "offers several)",
    )
    values["aws_profile"] = terminal.ask(
        "AWS profile to write",
        what="the profile",
        default=values["aws_profile"] or name,
        help="the section of ~/.aws/credentials samljit writes the credentials to",
    )
    values["role_arn"] = (
        terminal.ask(
            "Default role (ARN, alias or role name; empty to choose at login)",
            what="the default role",
            default=values["role_arn"] or "",
            help="the role login takes without --role: a role ARN, a [[roles]] alias, a role "
            "name, or ACCOUNT/ROLE_NAME",
        )
        or None
    )
    for key in provider.keys:
        if key.name not in config.KEY_NAMES:
            _ask_key(ctx, provider, key, values)


def _ask_key(
    ctx: Context,
    provider: type[Provider],
    key: ProviderKey,
    values: dict[str, str | None],
) -> None:
    """Ask for one key the provider declares, the way its kind says (a URL is checked as it
    is typed; a yes/no is kept as ``true``/``false``)."""

    def url_ok(value: str) -> str | None:
        if not value and not key.required:
            return None  # left unset (a Browser account's target_url)
        try:
            check_url(value, "the URL")
        except ConfigError as exc:
            return exc.message
        return None

    kind = key.asked_as
    if kind is KeyKind.SECRET or not key.ask:
        return  # never in the file (SAMLJIT_<NAME> in the environment), or flag-only
    terminal = ctx.terminal
    default = values.get(key.name) or key.default or ""
    if key.name == "url":

        def ask(question: str, current: str) -> str:
            return ctx.terminal.ask(question, what=key.name, default=current)

        built = provider.ask_url(ask, default or None)
        if built is not NotImplemented:
            if built:
                check_url(built, "the URL")
                values["url"] = built
            elif key.required:
                raise ConfigError(f"{provider.name} needs {key.name}")
            return
    if kind is KeyKind.YES_NO:
        yes = terminal.confirm(
            key.prompt, what=key.name, default=default.lower() in TRUE_WORDS, help=key.help
        )
        answer = "true" if yes else "false"
    else:
        choices = key.choices if kind is KeyKind.CHOICE else ()
        validate = _one_of(choices) if choices else url_ok if key.name.endswith("url") else None
        answer = terminal.ask(
            f"{key.prompt} ({', '.join(choices)})" if choices else key.prompt,
            what=key.name,
            default=default,
            completions=choices,
            validate=validate,
            help=key.help,
        )
    if answer:
        if answer != (key.default or "") or values.get(key.name):
            values[key.name] = answer
    elif key.required:
        raise ConfigError(f"{provider.name} needs {key.name}")


def _validate(
    ctx: Context, name: str, values: dict[str, str | None], given_keys: dict[str, str]
) -> None:
    if not values.get("provider"):
        raise ConfigError(
            f"account {name!r} needs a provider",
            hint=f"pass --provider (or run `samljit configure -a {name}` in a terminal)",
        )
    provider = load_provider(values["provider"] or "")
    values["provider"] = provider.name
    for key_name in given_keys:
        if provider.key(key_name) is None:
            flag = "--" + key_name.replace("_", "-")
            raise ConfigError(
                f"{flag} is not a setting of provider {provider.name}",
                hint=_key_hint(provider),
            )
    for key in provider.keys:
        value = values.get(key.name)
        if key.asked_as is KeyKind.YES_NO and value:
            values[key.name] = _yes_no(key, value)
        wrong = key.asked_as is KeyKind.CHOICE and value and _one_of(key.choices)(value)
        if key.choices and wrong:
            raise ConfigError(f"{key.flag} takes one of {', '.join(key.choices)}, not {value!r}")
        if key.required and not key.is_secret and not values.get(key.name) and not key.default:
            raise ConfigError(
                f"account {name!r} needs a {key.name}",
                hint=f"pass {key.flag} (or run `samljit configure -a {name}` in a terminal)",
            )
    if values.get("aws_profile"):
        config.check_profile_name(values["aws_profile"] or "", "the AWS profile")
    if values.get("url"):
        check_url(values["url"] or "", "--url")
    if values.get("api_url"):
        check_url(values["api_url"] or "", "--api-url")
    principal = values.get("principal_arn")
    if principal and not _SAML_PROVIDER.fullmatch(principal.strip()):
        raise ConfigError(
            f"--principal-arn {principal!r} is not an IAM SAML provider",
            hint="give arn:aws:iam::ACCOUNT:saml-provider/NAME, or saml-provider/NAME",
        )
    mfa = values.get("mfa")
    if mfa:
        setting = provider.mfa_setting(mfa)
        if setting is None:
            raise ConfigError(
                f"{provider.name} does not know MFA {mfa!r}",
                hint=f"choose one of: {', '.join(provider.mfa_options)}",
            )
        values["mfa"] = setting
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


def _yes_no(key: ProviderKey, value: str) -> str:
    """A yes/no key's value as the file keeps it: ``true`` or ``false``."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise ConfigError(f"{key.flag} takes true or false (yes or no), not {value!r}")


_SAML_PROVIDER = re.compile(r"(?:arn:aws[a-z-]*:iam::\d{12}:)?saml-provider/[\w.@-]+")


def _secrets(
    ctx: Context, name: str, values: dict[str, str | None], asking: bool
) -> dict[str, str]:
    """The provider's secret keys given now (a flag, or asked on the terminal), to store in
    the keyring. A required one neither given, nor in its variable, nor in the keyring is an
    error before anything is saved."""
    provider = load_provider(values["provider"] or "")
    given = {
        dest[len(SECRET_DEST) :]: str(value)
        for dest, value in vars(ctx.args).items()
        if dest.startswith(SECRET_DEST) and value
    }
    for key_name, value in given.items():
        ctx.redactor.add(value)
        declared = provider.key(key_name)
        if declared is None or not declared.is_secret:
            flag = "--" + key_name.replace("_", "-")
            raise ConfigError(
                f"{flag} is not a setting of provider {provider.name}", hint=_key_hint(provider)
            )
    store = PasswordStore(ctx.terminal)
    where = _keyring_account(name, provider, values)
    for key in provider.keys:
        if not key.is_secret or key.name in given or ctx.env.get(key.variable):
            continue
        if store.get(where, secret_entry(name, key.name)):
            continue
        if asking and store.not_kept() is None:  # no keyring to keep it: not asked
            answer = ctx.terminal.ask_secret(
                f"{key.prompt} (stored in the OS keyring; Enter to skip)",
                what=key.name,
                allow_empty=True,
            )
            if answer:
                ctx.redactor.add(answer)
                given[key.name] = answer
                continue
        if key.required:
            raise ConfigError(
                f"account {name!r} needs a {key.name}: set {key.variable}, or pass {key.flag} "
                "(kept in the OS keyring, never in the file)",
                hint=f"samljit configure -a {name} {key.flag} …",
            )
    return given


def _keyring_account(
    name: str, provider: type[Provider], values: dict[str, str | None]
) -> config.Account:
    """The account as the keyring knows it (its name and IdP host), as a login sees it."""
    url = values.get("url") or (provider.key("url") or ProviderKey("url", "")).default or ""
    return config.Account(name, provider.name, url)


def _store_secrets(
    ctx: Context, name: str, values: dict[str, str | None], secrets: dict[str, str]
) -> None:
    if not secrets:
        return
    account = _keyring_account(name, load_provider(values["provider"] or ""), values)
    store = PasswordStore(ctx.terminal)
    for key_name, value in secrets.items():
        if not store.set(account, secret_entry(name, key_name), value):
            raise ConfigError(
                f"{key_name} of account {name!r} was not stored: the OS keyring did not take it",
                hint="set the secret in the environment instead (see docs/providers.md)",
            )
        ctx.terminal.info(f"{key_name} saved in the OS keyring.")


def _key_hint(provider: type[Provider]) -> str:
    own = [k.flag for k in provider.keys if k.name not in config.KEY_NAMES]
    return f"its own settings: {', '.join(own)}" if own else "it has no settings of its own"


def _offer_password(ctx: Context, name: str) -> None:
    """Ask for the password to keep in the keyring, unless the keyring would keep nothing
    (turned off, missing, a plain file): then say so instead of asking."""
    account = config.resolve_account(ctx.load_config(), name, path=ctx.config_path, env={})
    username = account.username or ""
    store = PasswordStore(ctx.terminal)
    why = store.not_kept()
    if why is not None:
        ctx.terminal.warn_once(
            "keyring",
            f"the password is not asked for: {why}, so it could not be kept "
            "(login asks for it; or set SAMLJIT_PASSWORD)",
        )
        return
    password = ask_password(ctx.terminal, username, to_store=True)
    if password:
        ctx.redactor.add(password)
        if store.set(account, username, password):
            ctx.terminal.info("Password saved in the OS keyring.")


def _provider_lookup(name: str) -> ProviderInfo | None:
    try:
        provider = load_provider(name)
    except ConfigError:
        return None
    keys = {
        (key.saml2aws or key.name): key.name
        for key in provider.keys
        if key.name not in config.KEY_NAMES and not key.is_secret
    }
    return ProviderInfo(provider.name, tuple(provider.mfa_options), keys, provider.mfa_setting)


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
