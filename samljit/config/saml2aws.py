"""Converting a saml2aws config file (``~/.saml2aws``) into samljit accounts.

samljit's key names follow saml2aws, so most keys carry over as they are. What differs:

* ``provider``: saml2aws names mapped to samljit's (:data:`PROVIDERS`); a provider samljit
  does not have (and no installed plug-in provides) leaves the section out, saying so;
* ``disable_sessions``: the same key (samljit keeps IdP sessions unless it is ``true``);
* ``url``: saml2aws's ADFS, ADFS2 and Shibboleth(ECP) providers take the IdP's base URL and
  add the path themselves; samljit's take the sign-in URL, so the path is added here;
* ``mfa``: kept when the samljit provider knows it (its own spelling, e.g. Okta's
  ``OKTA PUSH``), else ``Auto`` (reported);
* a key the samljit provider declares (``app_id``, ``client_id``, …; or the saml2aws name
  it declares for one) is carried over to that key;
* every other documented key (:data:`NOT_CARRIED`) has no samljit counterpart: a value that
  is not empty or saml2aws's default is reported with the reason, never dropped silently;
  unknown keys are reported too.

Nothing here reads or writes files other than the one given; the caller saves the result.
"""

from __future__ import annotations

import configparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from samljit.common.errors import ConfigError

DEFAULT_PATH = "~/.saml2aws"
DEFAULT_URN = "urn:amazon:webservices"

#: saml2aws provider name (lower case) → samljit provider name.
PROVIDERS = {
    "jumpcloud": "JumpCloud",
    "keycloak": "KeyCloak",
    "adfs": "ADFS",
    "adfs2": "ADFS",
    "shibboleth": "Shibboleth",
    "shibbolethecp": "ShibbolethECP",
    "okta": "Okta",
    "onelogin": "OneLogin",
    "ping": "Ping",
    "pingone": "PingOne",
    "googleapps": "GoogleApps",
}
#: saml2aws providers samljit does not have (yet); a plug-in of the same name is used if
#: one is installed. (``Browser``, ``Okta`` and ``AzureAD`` are samljit providers of the
#: same name.)
NOT_YET = (
    "Akamai",
    "Auth0",
    "AWS",
    "F5APM",
    "NetIQ",
    "PingNTLM",
    "PSU",
)
#: Keys carried over as they are (after the checks in :func:`convert_section`).
CARRIED = (
    "provider",
    "url",
    "username",
    "mfa",
    "skip_verify",
    "aws_urn",
    "aws_session_duration",
    "aws_profile",
    "role_arn",
    "region",
    "credentials_file",
    "disable_sessions",
)
#: Every other key saml2aws documents, and why samljit has no counterpart.
NOT_CARRIED = {
    "name": "saml2aws's copy of the section name; samljit uses the section name",
    "app_id": "an AzureAD/OneLogin setting; this section's provider has no such key",
    "mfa_ip_address": "samljit sends OneLogin no IP address (an MFA policy's allow-list does "
    "not apply)",
    "subdomain": "a OneLogin setting; this section's provider has no such key",
    "resource_id": "an F5APM setting; samljit has no such provider",
    "timeout": "samljit has fixed timeouts (10 s to connect, 30 s to read)",
    "http_attempts_count": "samljit retries failed requests 3 times with backoff by itself",
    "http_retry_delay": "samljit retries failed requests 3 times with backoff by itself",
    "saml_cache": "samljit always caches the assertion itself (mode 0600, ~/.cache/samljit)",
    "saml_cache_file": "samljit always caches the assertion itself (mode 0600, ~/.cache/samljit)",
    "target_url": "samljit always uses the AWS sign-in endpoint of the role's partition",
    "disable_remember_device": "an Okta setting; only samljit's Okta provider uses it",
    "download_browser_driver": "samljit starts the browser installed on this machine "
    "(browser_executable_path) and downloads none",
    "headless": "a Browser setting; this section's provider has no such key",
    "browser_type": "a Browser setting; this section's provider has no such key",
    "browser_executable_path": "a Browser setting; this section's provider has no such key",
    "browser_autofill": "a Browser setting; this section's provider has no such key",
    "prompter": "samljit has one prompt style (type to filter)",
    "kc_auth_error_message": "samljit reads KeyCloak's error text by itself",
    "kc_auth_error_element": "samljit reads KeyCloak's error text by itself",
    "kc_broker": "KeyCloak identity brokering is not supported",
}
#: Values that are saml2aws's defaults (or "not set") for keys samljit does not carry.
_DEFAULTISH = {"", "false", "0", "no", "off", "default"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
ADFS_PATH = "/adfs/ls/IdpInitiatedSignOn.aspx"
SHIBBOLETH_PATH = "/idp/profile/SAML2/Unsolicited/SSO"
PING_PATH = "/idp/startSSO.ping"


@dataclass
class Converted:
    """One saml2aws section, converted (``values``), or why not (``skipped``)."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    #: What changed on the way or was not carried over, one line each.
    notes: list[str] = field(default_factory=list)
    #: Keys not carried over whose value was empty or saml2aws's default.
    defaults: list[str] = field(default_factory=list)
    skipped: str | None = None


def read_sections(path: Path) -> list[tuple[str, dict[str, str]]]:
    """The sections of a saml2aws config file, in file order."""
    if not path.exists():
        raise ConfigError(
            f"no saml2aws config file at {path}",
            hint="pass its path: samljit configure --import-saml2aws PATH",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"saml2aws config file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read saml2aws config file {path}: {exc.strerror}") from None
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, default_section="\0none", comment_prefixes=("#", ";")
    )
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(f"saml2aws config file {path} is not valid INI: {first}") from None
    return [(name, dict(parser.items(name))) for name in parser.sections()]


def convert_section(
    name: str,
    values: Mapping[str, str],
    *,
    provider_lookup: Callable[[str], ProviderInfo | tuple[str, tuple[str, ...]] | None],
) -> Converted:
    """Convert one section. ``provider_lookup(name)`` gives an installed samljit provider's
    display name, MFA options and (optionally) its declared keys by saml2aws name, or
    ``None`` when there is none of that name."""
    result = Converted(name)
    raw = {key.strip().lower(): value.strip() for key, value in values.items()}
    given = raw.get("provider", "")
    if not given:
        result.skipped = "it names no provider"
        return result
    provider = _provider(given, provider_lookup, result)
    if provider is None:
        return result
    provider_name, mfa_options = provider[0], provider[1]
    own_keys: Mapping[str, str] = provider[2] if len(provider) > 2 else {}  # type: ignore[misc]
    result.values["provider"] = provider_name
    url = _url(raw.get("url", ""), given, raw.get("aws_urn") or DEFAULT_URN, result)
    if url is None:
        return result
    result.values["url"] = url
    setting = provider[3] if len(provider) > 3 else None  # type: ignore[misc]
    if given.lower() == "shibbolethecp":
        _duo_factor(raw.pop("mfa", ""), result)
    _mfa(raw.get("mfa", ""), provider_name, mfa_options, result, setting)
    _plain(raw, result)
    for key in raw:
        if key == "disable_sessions":
            _disable_sessions(raw[key], result)
            continue
        if key in CARRIED:
            continue
        value = raw[key]
        if key in own_keys:
            if value.lower() in _DEFAULTISH:  # saml2aws writes `timeout = 0`, `headless = false`
                result.defaults.append(key)
            else:
                result.values[own_keys[key]] = value
            continue
        if key in NOT_CARRIED:
            if value.lower() in _DEFAULTISH or (key == "name" and value == name):
                result.defaults.append(key)
            else:
                result.notes.append(f"not imported: {key} = {value}; {NOT_CARRIED[key]}")
        else:
            result.notes.append(
                f"not imported: {key} = {value}; not a key saml2aws documents, nor one samljit has"
            )
    return result


class ProviderInfo(NamedTuple):
    """What the import needs of a samljit provider."""

    name: str
    mfa_options: tuple[str, ...]
    #: saml2aws key → the samljit key the provider declares for it.
    keys: Mapping[str, str] = {}
    #: The provider's reading of an ``mfa`` value (``Provider.mfa_setting``).
    mfa_setting: Callable[[str], str | None] | None = None


def _provider(
    given: str,
    lookup: Callable[[str], ProviderInfo | tuple[str, tuple[str, ...]] | None],
    result: Converted,
) -> ProviderInfo | tuple[str, tuple[str, ...]] | None:
    target = PROVIDERS.get(given.lower(), given)
    found = lookup(target)
    if found is None:
        known_gap = given.lower() in {p.lower() for p in NOT_YET}
        result.skipped = (
            f"samljit has no {given} provider yet"
            if known_gap
            else f"unknown saml2aws provider {given!r}"
        )
        return None
    if found[0] != given:
        result.notes.append(f"provider {given} is samljit's {found[0]}")
    if given.lower() == "adfs2":
        result.notes.append(
            "ADFS2 signed in with Windows authentication (NTLM); samljit uses AD FS's forms "
            "sign-in page, which needs forms authentication enabled for the AWS trust"
        )
    return found


def _url(url: str, provider: str, urn: str, result: Converted) -> str | None:
    from samljit.common.urls import check_url

    if not url:
        result.skipped = "it has no url"
        return None
    kind = provider.lower()
    parts = urlsplit(url)
    bare = parts.path in ("", "/") and not parts.query
    new = url
    if kind in ("adfs", "adfs2") and bare:
        new = urlunsplit((parts.scheme, parts.netloc, ADFS_PATH, "", ""))
    elif kind == "onelogin" and not bare:  # samljit calls the API host's own paths
        new = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    elif kind == "shibboleth" and bare:
        new = urlunsplit((parts.scheme, parts.netloc, SHIBBOLETH_PATH, f"providerId={urn}", ""))
    elif kind == "ping" and bare:  # saml2aws appends PingFederate's start path itself
        new = urlunsplit((parts.scheme, parts.netloc, PING_PATH, f"PartnerSpId={urn}", ""))
    try:
        check_url(new, "url")
    except ConfigError as exc:
        result.skipped = exc.message
        return None
    if new != url and kind == "onelogin":
        result.notes.append(f"url {url} became {new} (samljit takes OneLogin's API host)")
    elif new != url:
        result.notes.append(f"url {url} became {new} (samljit takes the full sign-in URL)")
    return new


def _mfa(
    mfa: str,
    provider: str,
    options: tuple[str, ...],
    result: Converted,
    setting: Callable[[str], str | None] | None = None,
) -> None:
    if not mfa or mfa.lower() == "auto":
        if mfa:
            result.values["mfa"] = "Auto"
        return
    matching = [option for option in options if option.lower() == mfa.lower()]
    known = setting(mfa) if setting is not None else (matching[0] if matching else None)
    if known:
        result.values["mfa"] = known
        return
    result.values["mfa"] = "Auto"
    result.notes.append(
        f"mfa {mfa} is not one samljit's {provider} provider knows ({', '.join(options)}): "
        "set to Auto"
    )


def _duo_factor(mfa: str, result: Converted) -> None:
    """saml2aws's ShibbolethECP sent its ``mfa`` value as Shibboleth's Duo factor header
    (``auto``, ``push``, ``phone``, ``passcode``), even when Duo was not in use; samljit's
    ``duo_factor`` sends it only when set."""
    if not mfa:
        return
    if mfa.lower() == "auto":
        result.notes.append(
            "mfa = Auto: samljit sends no Duo header; set duo_factor = Auto if your IdP asks "
            "for Duo"
        )
        return
    result.values["duo_factor"] = mfa.lower()
    result.notes.append(f"mfa {mfa} became duo_factor = {mfa.lower()} (Duo through the IdP)")


def _disable_sessions(value: str, result: Converted) -> None:
    """saml2aws's ``disable_sessions`` means the same in samljit (any provider): ``true``
    carries over; ``false`` is the default."""
    if value.lower() in _TRUE:
        result.values["disable_sessions"] = "true"
    elif value.lower() in _FALSE:
        result.defaults.append("disable_sessions")
    else:
        result.notes.append(f"not imported: disable_sessions = {value} (not true/false)")


def _plain(raw: Mapping[str, str], result: Converted) -> None:
    from samljit.config.accounts import check_profile_name

    for key in ("username", "role_arn", "region", "credentials_file"):
        if raw.get(key):
            result.values[key] = raw[key]
    profile = raw.get("aws_profile", "")
    if profile:
        try:
            result.values["aws_profile"] = check_profile_name(profile, "aws_profile")
        except ConfigError as exc:
            result.notes.append(f"not imported: {exc.message}; samljit writes [{result.name}]")
    else:
        result.notes.append(f"aws_profile is empty: samljit writes profile [{result.name}]")
    urn = raw.get("aws_urn", "")
    if urn and urn != DEFAULT_URN:
        result.values["aws_urn"] = urn
    verify = raw.get("skip_verify", "").lower()
    if verify in _TRUE:
        result.values["skip_verify"] = "true"
        result.notes.append("skip_verify = true: TLS verification stays off (samljit warns)")
    elif verify not in _FALSE:
        result.notes.append(f"not imported: skip_verify = {raw['skip_verify']} (not true/false)")
    duration = raw.get("aws_session_duration", "")
    if duration and duration != "0":
        if duration.isdigit() and 900 <= int(duration) <= 43200:
            result.values["aws_session_duration"] = duration
        else:
            result.notes.append(
                f"not imported: aws_session_duration = {duration} (900 to 43200 seconds)"
            )
