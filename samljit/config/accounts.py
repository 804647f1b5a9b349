"""The config file (``~/.samljit``): one INI section per IdP account, saml2aws key names.

:data:`KEYS` is the single table of keys; the resolver, ``configure`` and the docs use it.
An :class:`Account` is the resolved, validated view of one section with the precedence
flag > environment > file > default applied by :func:`resolve_account`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from samljit.common import fsutil
from samljit.common.errors import ConfigError, ProfileNameError

_EMPTY: Mapping[str, str] = MappingProxyType({})
DEFAULT_CONFIG = "~/.samljit"
DEFAULT_ACCOUNT = "default"
DEFAULT_REFRESH_MARGIN = 600
#: How long a kept IdP session whose cookies carry no expiry is used (12 h).
DEFAULT_SESSION_MAX_AGE = 43200


class ConfigKey(NamedTuple):
    name: str
    default: str
    meaning: str


KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("provider", "(required)", "provider name, case-insensitive (`JumpCloud`, …)"),
    ConfigKey(
        "url", "(required, unless the provider has a default)", "IdP sign-in URL of the AWS app"
    ),
    ConfigKey("username", "", "login name"),
    ConfigKey("mfa", "`Auto`", "MFA method; `Auto` picks what the IdP offers"),
    ConfigKey("aws_profile", "the account name", "profile written in the credentials file"),
    ConfigKey("role_arn", "", "default role: ARN, alias from `[[roles]]`, or role name"),
    ConfigKey(
        "aws_session_duration",
        "SessionDuration attribute of the assertion, else 3600",
        "STS DurationSeconds",
    ),
    ConfigKey("region", "", "written into the profile; also selects the STS regional endpoint"),
    ConfigKey("aws_urn", "`urn:amazon:webservices`", "SP entity id, for providers that need it"),
    ConfigKey("skip_verify", "`false`", "turn off TLS verification (warns every time)"),
    ConfigKey(
        "credentials_file",
        "`$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`",
        "where profiles are written",
    ),
    ConfigKey(
        "idp_certificate",
        "",
        "PEM certificate; when set, a response whose signature does not verify is refused",
    ),
    ConfigKey(
        "api_url",
        "the vendor's public API host",
        "base URL of the provider's API, for providers that have one",
    ),
    ConfigKey(
        "profile_template",
        "`{account_name}-{role_name}`",
        "profile names for `login --all-roles` (`{account_name}`, `{account_id}`, "
        "`{role_name}`, `{idp_account}`)",
    ),
    ConfigKey(
        "write_credentials",
        "`true`",
        "`false`: `exec` keeps credentials in the child's environment only",
    ),
    ConfigKey(
        "exec_server",
        "`false`",
        "`true`: `exec` gives the command a credential endpoint that renews the keys "
        "(as `exec --server`)",
    ),
    ConfigKey(
        "prompt",
        "`auto`",
        "how to ask without a terminal: `auto`, `terminal`, `zenity`, `kdialog`, `osascript` "
        "(env `SAMLJIT_PROMPT`)",
    ),
    ConfigKey(
        "refresh_margin",
        f"`{DEFAULT_REFRESH_MARGIN}`",
        "seconds before expiry at which credentials count as stale",
    ),
    ConfigKey(
        "disable_sessions",
        "`false`",
        "`true`: keep no IdP session, so every login at the IdP asks for password and MFA",
    ),
    ConfigKey(
        "session_max_age",
        f"`{DEFAULT_SESSION_MAX_AGE}`",
        "seconds a kept IdP session whose cookies carry no expiry is used for",
    ),
)
KEY_NAMES = frozenset(k.name for k in KEYS)
SUBSECTIONS = ("roles", "accounts")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Account(NamedTuple):
    """One IdP account section, resolved."""

    name: str
    provider: str
    url: str
    username: str | None = None
    mfa: str = "Auto"
    aws_profile: str = ""
    role_arn: str | None = None
    region: str | None = None
    session_duration: int | None = None
    aws_urn: str = "urn:amazon:webservices"
    skip_verify: bool = False
    credentials_file: Path = Path("~/.aws/credentials")
    idp_certificate: Path | None = None
    api_url: str | None = None
    refresh_margin: int = DEFAULT_REFRESH_MARGIN
    profile_template: str = "{account_name}-{role_name}"
    write_credentials: bool = True
    exec_server: bool = False
    disable_sessions: bool = False
    session_max_age: int = DEFAULT_SESSION_MAX_AGE
    #: How to ask when there is no terminal (``auto``, ``terminal`` or a dialog program).
    prompt: str = "auto"
    role_aliases: Mapping[str, str] = _EMPTY
    account_names: Mapping[str, str] = _EMPTY
    #: The section's other keys: those the account's provider declares (read them with
    #: :meth:`samljit.idp.provider.Provider.option`, which applies the declared default).
    options: Mapping[str, str] = _EMPTY
    #: The provider the section names: ``provider`` unless a flag (``--browser``) replaced it.
    section_provider: str = ""


class Overrides(NamedTuple):
    """Values from command-line flags; ``None`` means not given."""

    username: str | None = None
    role: str | None = None
    profile: str | None = None
    session_duration: int | None = None
    mfa: str | None = None
    #: Log in through this provider instead of the section's (``--browser``: ``Browser``).
    provider: str | None = None


def config_path(flag: str | None, env: Mapping[str, str]) -> Path:
    raw = flag or env.get("SAMLJIT_CONFIG") or DEFAULT_CONFIG
    return Path(os.path.expanduser(raw))


def account_name(flag: str | None, env: Mapping[str, str]) -> str:
    return flag or env.get("SAMLJIT_IDP_ACCOUNT") or DEFAULT_ACCOUNT


def load(path: Path) -> Any:
    """Read the config file as a ConfigObj. A missing file is empty."""
    if path.is_dir():
        raise ConfigError(f"config file {path} is a directory")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    return load_text(text, path)


def load_text(text: str, path: Path) -> Any:
    from configobj import ConfigObj, ConfigObjError

    try:
        return ConfigObj(
            text.splitlines(),
            list_values=False,
            interpolation=False,
            file_error=False,
            raise_errors=True,
        )
    except ConfigObjError as exc:
        line = getattr(exc, "line_number", None)
        where = f" line {line}" if line else ""
        raise ConfigError(
            f"config file {path} is not valid INI{where}: {_first_line(str(exc))}",
            hint="fix or move the file aside, then run `samljit configure`",
        ) from exc


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "parse error"


def resolve_account(
    cfg: Any,
    name: str,
    *,
    path: Path,
    env: Mapping[str, str],
    overrides: Overrides | None = None,
) -> Account:
    """Build the :class:`Account` for section ``name`` with flag > env > file > default."""
    from samljit.common.urls import check_url

    overrides = overrides or Overrides()
    if name not in cfg.sections:
        known = ", ".join(cfg.sections) or "none"
        raise ConfigError(
            f"no IdP account {name!r} in {path} (accounts: {known})",
            hint=f"run `samljit configure -a {name}`",
        )
    section = cfg[name]

    def get(key: str) -> str | None:
        value = section.get(key)
        if value is None or isinstance(value, dict):
            return None
        value = _unquote(str(value).strip())
        return value or None

    provider = overrides.provider or get("provider")
    if not provider:
        raise ConfigError(
            f"IdP account {name!r} in {path} has no provider",
            hint=f"run `samljit configure -a {name} --provider JumpCloud`",
        )
    url = get("url")  # required unless the provider has a default: checked at login
    url = check_url(url, f"url of account {name!r}") if url else ""
    api_url = get("api_url")
    if api_url:
        api_url = check_url(api_url, f"api_url of account {name!r}").rstrip("/")

    profile = overrides.profile or get("aws_profile") or name
    check_profile_name(profile, f"aws_profile of account {name!r}")
    credentials_file = get("credentials_file") or env.get("AWS_SHARED_CREDENTIALS_FILE")
    cert = get("idp_certificate")
    return Account(
        name=name,
        provider=provider,
        url=url,
        username=overrides.username or env.get("SAMLJIT_USERNAME") or get("username"),
        mfa=overrides.mfa or get("mfa") or "Auto",
        aws_profile=profile,
        role_arn=overrides.role or get("role_arn"),
        region=get("region"),
        session_duration=(
            overrides.session_duration
            if overrides.session_duration is not None
            else _int(get("aws_session_duration"), "aws_session_duration", name, low=900)
        ),
        aws_urn=get("aws_urn") or "urn:amazon:webservices",
        skip_verify=_bool(get("skip_verify"), "skip_verify", name),
        profile_template=get("profile_template") or "{account_name}-{role_name}",
        write_credentials=_bool(get("write_credentials") or "true", "write_credentials", name),
        disable_sessions=_bool(get("disable_sessions"), "disable_sessions", name),
        exec_server=_bool(get("exec_server"), "exec_server", name),
        session_max_age=_default(
            _int(get("session_max_age"), "session_max_age", name, low=60),
            DEFAULT_SESSION_MAX_AGE,
        ),
        credentials_file=Path(os.path.expanduser(credentials_file or "~/.aws/credentials")),
        idp_certificate=Path(os.path.expanduser(cert)) if cert else None,
        api_url=api_url,
        refresh_margin=_default(
            _int(get("refresh_margin"), "refresh_margin", name, low=0), DEFAULT_REFRESH_MARGIN
        ),
        prompt=_prompt(get("prompt"), name, env),
        role_aliases=_subsection(section, "roles"),
        account_names=_subsection(section, "accounts"),
        options={k: v for k in section.scalars if k not in KEY_NAMES and (v := get(k))},
        section_provider=get("provider") or provider,
    )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


# Characters no profile name may hold: brackets (a header could not be read back), control
# characters and the Unicode line breaks (configparser, configobj or str.splitlines() end a
# line there), and lone surrogates (not UTF-8 encodable: undecodable bytes on the command line).
_NOT_IN_PROFILE_NAMES = re.compile(r"[\[\]\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def check_profile_name(profile: str, what: str = "profile") -> str:
    """The one rule for a credentials profile name, used wherever a name is taken or written.

    The name must be usable as a section of both the credentials file and the config file:
    not empty, no surrounding whitespace, not ``DEFAULT`` (configparser, so botocore, merges
    it into every profile), no brackets, control characters, line breaks or undecodable
    bytes. Raises
    :class:`~samljit.common.errors.ProfileNameError` (a :class:`ConfigError`, exit 2).
    """
    if (
        not isinstance(profile, str)
        or not profile
        or profile != profile.strip()
        or profile == "DEFAULT"
        or _NOT_IN_PROFILE_NAMES.search(profile)
    ):
        raise ProfileNameError(
            f"{what} {profile!r} cannot be a credentials profile name",
            hint="use letters, digits, '-', '_' or '.'",
        )
    return profile


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def _subsection(section: Any, key: str) -> dict[str, str]:
    sub = section.get(key)
    if not isinstance(sub, dict):
        return {}
    return {
        str(k).strip(): _unquote(str(v).strip()) for k, v in sub.items() if not isinstance(v, dict)
    }


def _int(value: str | None, key: str, account: str, *, low: int) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(
            f"{key} of account {account!r} is not a whole number: {value!r}"
        ) from None
    if number < low:
        raise ConfigError(f"{key} of account {account!r} must be at least {low}, not {number}")
    return number


def _prompt(value: str | None, account: str, env: Mapping[str, str]) -> str:
    """``prompt``: ``SAMLJIT_PROMPT`` (checked) over the file's value over ``auto``."""
    from samljit.common.dialog import PROMPTS, env_prompt

    chosen = env_prompt(env)
    if chosen is not None:
        return chosen
    if value is None:
        return "auto"
    if value.lower() not in PROMPTS:
        raise ConfigError(
            f"prompt of account {account!r} must be one of {', '.join(PROMPTS)}, not {value!r}"
        )
    return value.lower()


def _bool(value: str | None, key: str, account: str) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{key} of account {account!r} must be true or false, not {value!r}")


_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_NEEDS_QUOTES = re.compile(r"(^\s|\s$|\s#|^[\"'])")


def _render_value(value: str) -> str:
    if value.splitlines() not in ([], [value]):  # any line break configobj would see
        raise ConfigError("config values must be one line")
    if _NEEDS_QUOTES.search(value):
        quote = "'" if '"' in value else '"'
        return f"{quote}{value}{quote}"
    return value


def render_update(text: str, name: str, values: Mapping[str, str | None]) -> str:
    """``text`` with keys of section ``name`` set (``None`` = leave as is), the section
    appended when missing. Every other byte stays as it was: comments, spacing, order,
    subsections and other sections."""
    from samljit.common import inifile
    from samljit.common.redact import is_secret_name

    for key in values:
        if not _KEY.match(key) or is_secret_name(key):
            raise ConfigError(f"{key!r} cannot be a config key (no secret goes into the file)")
    check_profile_name(name, "the account name")
    updates = [(k, _render_value(v)) for k, v in values.items() if v is not None]
    doc = inifile.scan(text, nested=True)
    found = doc.find(name)
    if not found:
        return doc.append(inifile.render(name, updates, newline=doc.newline())).text
    return doc.update(found[0], updates).text


def save_section(path: Path, name: str, values: Mapping[str, str | None]) -> None:
    """Update one section of the config file in place: atomic, mode 0600, comments kept."""
    real = Path(os.path.realpath(path))
    try:
        text = real.read_text(encoding="utf-8") if real.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    updated = render_update(text, name, values)
    load_text(updated, path)  # never write a file samljit itself could not read back
    real.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fsutil.atomic_write(real, updated.encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
