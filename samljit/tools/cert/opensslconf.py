"""OpenSSL ``req`` config files: the NCONF format ``openssl req -config`` reads.

Only the parts ``samljit cert`` uses are read (the distinguished name, ``default_days``,
``default_md``, ``default_bits``, and what is worth a note). ``$ENV::NAME`` is looked up in
the environment the caller passes in, never in ``os.environ``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from samljit.common.errors import ConfigError, SamljitError
from samljit.tools.cert.dn import _FIELD_HINT, _attribute, _check_value

#: The longest validity, in days, for ``default_days`` here and ``--days`` in generation.
MAX_DAYS = 36500

__all__ = ["MAX_DAYS", "OpenSslReqConfig", "read_openssl_config"]


@dataclass
class OpenSslReqConfig:
    """The parts of an OpenSSL ``req`` config that ``samljit cert`` uses.

    ``subject`` is ``None`` when the file names no distinguished name (or it is empty).
    ``days_section`` names the section ``default_days`` came from. ``notes`` hold what is
    worth telling the user whatever flags are given; notes that depend on the flags (days,
    subject) are added by ``generate``.
    """

    path: Path
    subject: list[tuple[str, str]] | None = None
    subject_from_defaults: bool = False
    days: int | None = None
    days_section: str | None = None
    digest: str | None = None
    default_bits: int | None = None
    notes: list[str] = field(default_factory=list)


_Sections = dict[str, dict[str, str]]
_VARIABLE = re.compile(r"\$([{(]?)(?:([A-Za-z0-9_]*)::)?([A-Za-z0-9_]*)")
_ESCAPES = {"r": "\r", "n": "\n", "b": "\b", "t": "\t"}


def _lookup(sections: _Sections, section: str, key: str, env: Mapping[str, str]) -> str | None:
    """OpenSSL's lookup: the section, then the environment for ``ENV``, then ``default``."""
    value = sections.get(section, {}).get(key)
    if value is None and section == "ENV":
        value = env.get(key)
    if value is None:
        value = sections["default"].get(key)
    return value


def _strip_comment(line: str) -> str:
    """Cut an unquoted, unescaped ``#`` and what follows it."""
    quote = ""
    pos = 0
    while pos < len(line):
        char = line[pos]
        if char == "\\":
            pos += 2
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char == "#":
            return line[:pos]
        elif char in "\"'":
            quote = char
        pos += 1
    return line


def _value(raw: str, section: str, sections: _Sections, where: str, env: Mapping[str, str]) -> str:
    """Remove quotes and escapes and expand ``$var``, ``${var}``, ``$sect::var``."""
    out: list[str] = []
    pos, end = 0, len(raw)
    while pos < end:
        char = raw[pos]
        if char in "\"'":
            pos += 1
            while pos < end and raw[pos] != char:
                if raw[pos] == "\\":
                    pos += 1
                    if pos == end:
                        break
                out.append(raw[pos])
                pos += 1
            pos += 1  # closing quote
        elif char == "\\":
            pos += 1
            if pos < end:
                out.append(_ESCAPES.get(raw[pos], raw[pos]))
                pos += 1
        elif char == "$":
            match = _VARIABLE.match(raw, pos)
            assert match is not None  # the pattern matches any '$'
            opening, var_section, var_name = match.groups()
            pos = match.end()
            if opening:
                closing = "}" if opening == "{" else ")"
                if raw[pos : pos + 1] != closing:
                    raise ConfigError(f"{where}: '${opening}' without a closing '{closing}'")
                pos += 1
            found = _lookup(sections, var_section or section, var_name, env)
            if found is None:
                shown = f"{var_section}::{var_name}" if var_section else var_name
                raise ConfigError(
                    f"{where}: variable ${shown or ''} has no value",
                    hint="write '\\$' for a literal dollar sign",
                )
            out.append(found)
        else:
            out.append(char)
            pos += 1
    return "".join(out)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join lines ending in a single backslash with the next, as OpenSSL does."""
    lines: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        lines.append((start, pending + line))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


def _parse_conf(text: str, source: str, env: Mapping[str, str]) -> _Sections:
    sections: _Sections = {"default": {}}
    current = "default"
    for number, raw_line in _logical_lines(text):
        where = f"{source} line {number}"
        line = _strip_comment(raw_line).strip()
        if not line:
            continue
        if line.startswith("["):
            close = line.find("]")
            if close == -1:
                raise ConfigError(f"{where}: section header without ']'")
            current = line[1:close].strip()
            if not current:
                raise ConfigError(f"{where}: empty section name")
            sections.setdefault(current, {})
            continue
        if line.startswith(".pragma"):
            continue
        if line.startswith(".include"):
            raise ConfigError(
                f"{where}: .include is not supported",
                hint="copy the included [req] sections into this file",
            )
        equals = line.find("=")
        if equals == -1:
            raise ConfigError(f"{where}: expected 'name = value', got {line!r}")
        key = line[:equals].strip()
        section = current
        if "::" in key:
            section, key = (part.strip() for part in key.split("::", 1))
        if not key or not section:
            raise ConfigError(f"{where}: missing name before '='")
        value = _value(line[equals + 1 :].strip(), section, sections, where, env)
        target = sections.setdefault(section, {})
        target.pop(key, None)  # a repeated name replaces the earlier one, at the new place
        target[key] = value
    return sections


def _field_name(key: str) -> str:
    """``0.organizationName`` -> ``organizationName`` (OpenSSL's "several of one field")."""
    for pos, char in enumerate(key):
        if char in ".:,":
            return key[pos + 1 :] or key
    return key


def _dn_fields(
    sections: _Sections, dn_section: str, prompt: bool, where: str, env: Mapping[str, str]
) -> list[tuple[str, str]]:
    items = sections[dn_section]
    fields: list[tuple[str, str]] = []
    for key, text in items.items():
        if prompt and key.endswith(("_min", "_max", "_default", "_value")):
            continue
        name = _field_name(key)
        if name.startswith("+"):
            raise ConfigError(
                f"{where}: {key} asks for a multi-valued RDN, which samljit does not make",
                hint="drop the leading '+' to make it a field of its own",
            )
        if prompt:
            # What `openssl req -batch` does: NAME_value, else NAME_default, "." skips.
            value = _lookup(sections, dn_section, f"{key}_value", env)
            if value == ".":
                continue
            if not value:
                value = _lookup(sections, dn_section, f"{key}_default", env)
            if not value:
                continue
        else:
            value = text
        attr = _attribute(name)
        if attr is None:
            raise ConfigError(f"{where}: unknown field {name!r}", hint=_FIELD_HINT)
        _check_value(attr, value, ConfigError, where)
        fields.append((attr.short, value))
    return fields


def _config_int(value: str, what: str, where: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text):
        raise ConfigError(f"{where}: {what} = {value!r} is not a whole number")
    return int(text)


def read_openssl_config(path: Path, *, env: Mapping[str, str] | None = None) -> OpenSslReqConfig:
    """Read the parts of an OpenSSL ``req`` config that ``samljit cert`` uses.

    * the distinguished name: ``[req] distinguished_name`` names the section; with
      ``prompt = no`` its entries are the fields, otherwise the ``NAME_value`` /
      ``NAME_default`` entries are used as ``openssl req -batch`` would;
    * ``default_days`` from ``[req]`` or else from the CA section (``[ca] default_ca``),
      which ``openssl req`` itself never reads;
    * ``default_md`` (samljit always signs with SHA-256; anything else gets a note);
    * ``default_bits`` (a key size when ``--key-type`` is not given).

    ``$ENV::NAME`` is looked up in ``env``, the caller's environment (``samljit cert`` passes
    its own); ``os.environ`` is never read. Without ``env`` no variable is set there, so
    ``$ENV::NAME`` falls back to ``NAME`` in the default section, as for an unset variable.

    Raises ``ConfigError``.
    """
    environ: Mapping[str, str] = {} if env is None else env
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot read OpenSSL config {path}: {reason}",
            hint="--from-openssl-config takes the path of an OpenSSL req config file",
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"OpenSSL config {path} is not UTF-8 text") from exc
    sections = _parse_conf(text, name, environ)
    if "req" not in sections:
        raise ConfigError(
            f"OpenSSL config {path} has no [ req ] section",
            hint="--from-openssl-config expects a req config such as the one in "
            "JumpCloud's setup guide",
        )
    config = OpenSslReqConfig(path=path)

    def req(key: str) -> str | None:
        return _lookup(sections, "req", key, environ)

    prompt = (req("prompt") or "").strip().lower() != "no"
    dn_section = req("distinguished_name")
    if dn_section:
        dn_section = dn_section.strip()
        if dn_section not in sections:
            raise ConfigError(
                f"{name}: distinguished_name = {dn_section} but there is no "
                f"[ {dn_section} ] section"
            )
        fields = _dn_fields(sections, dn_section, prompt, f"{name} [ {dn_section} ]", environ)
        if fields:
            config.subject = fields
            config.subject_from_defaults = prompt

    days_sources: list[tuple[str, str | None]] = [
        ("req", sections["req"].get("default_days")),
        ("default", sections["default"].get("default_days")),
    ]
    ca_section = _lookup(sections, "ca", "default_ca", environ)
    if ca_section and ca_section.strip() in sections:
        ca_section = ca_section.strip()
        days_sources.append((ca_section, sections[ca_section].get("default_days")))
    for section, value in days_sources:
        if value is None:
            continue
        where = f"{name} [ {section} ]"
        days = _config_int(value, "default_days", where)
        _check_days(days, f"{where}: default_days", ConfigError)
        config.days, config.days_section = days, section
        break

    digest = req("default_md")
    if digest is not None:
        config.digest = digest.strip()
        normal = config.digest.lower().replace("-", "")
        if normal not in ("sha256", "default", ""):
            config.notes.append(
                f"{name} asks for default_md = {config.digest}; samljit always signs with SHA-256"
            )

    bits = req("default_bits")
    if bits is not None:
        config.default_bits = _config_int(bits, "default_bits", f"{name} [ req ]")

    encrypt = req("encrypt_key")
    if encrypt is not None and encrypt.strip().lower() != "no":
        config.notes.append(
            f"{name} has encrypt_key = {encrypt.strip()}; samljit writes the key "
            "unencrypted, readable by its owner only (mode 0600)"
        )
    if req("x509_extensions"):
        config.notes.append(
            f"{name} names x509_extensions; samljit ignores them and adds "
            "subjectKeyIdentifier, authorityKeyIdentifier and basicConstraints CA:TRUE"
        )
    return config


def _check_days(days: int, what: str, error: type[SamljitError]) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise error(f"{what} must be between 1 and {MAX_DAYS}, got {days}")
    return days
