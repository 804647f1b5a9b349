"""What the AWS SDKs' config file (``~/.aws/config`` or ``AWS_CONFIG_FILE``) says about a
profile samljit is about to write, read cheaply (samljit's own INI scanner, no configparser).

Every AWS SDK and the CLI look for a profile's keys in the shared credentials file *before*
running the config file's ``credential_process``. So when ``login`` or ``exec`` write
``[production]`` into ``~/.aws/credentials`` while ``~/.aws/config`` has ``[profile
production]`` with ``credential_process = samljit credential-process …``, the written keys
shadow samljit's credential process: the SDKs use them until they expire (and fail after),
never calling samljit again. :func:`shadowed_process` finds that case so the CLI can say so.

``aws-config`` writes the other way round: ``[profile NAME]`` sections whose
``credential_process`` runs samljit (:func:`write_process_profiles`), with the credentials
file's lock, atomic replace and byte-keeping (:func:`samljit.sinks.credfile.edit_file`).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from samljit.common import inifile
from samljit.common.errors import ConfigError
from samljit.config.accounts import check_profile_name

_PROCESS_KEY = re.compile(r"\s*credential_process\s*[=:]", re.IGNORECASE)


def config_file(env: Mapping[str, str]) -> Path:
    """The config file the SDKs read: ``AWS_CONFIG_FILE``, else ``~/.aws/config``."""
    named = env.get("AWS_CONFIG_FILE")
    if named:
        return Path(os.path.expanduser(named))
    return Path(env.get("HOME") or os.path.expanduser("~")) / ".aws" / "config"


def sdk_credentials_file(env: Mapping[str, str]) -> Path:
    """The credentials file the SDKs read: ``AWS_SHARED_CREDENTIALS_FILE``, else
    ``~/.aws/credentials``."""
    named = env.get("AWS_SHARED_CREDENTIALS_FILE")
    if named:
        return Path(os.path.expanduser(named))
    return Path(env.get("HOME") or os.path.expanduser("~")) / ".aws" / "credentials"


def process_profiles(path: Path) -> set[str]:
    """The profiles of the config file ``path`` that have a ``credential_process`` (empty
    when the file is missing or unreadable: this only feeds a warning)."""
    try:
        text = path.read_text(encoding="utf-8")
        document = inifile.scan(text)
    except (OSError, UnicodeDecodeError, inifile.IniError):
        return set()
    found: set[str] = set()
    for section in document.sections:
        name = section.name.strip()
        if name.startswith("profile") and name[len("profile") : len("profile") + 1].isspace():
            name = name[len("profile") :].strip()
        elif name != "default":
            continue  # sso-session, services, …: not a profile
        lines = range(section.header + 1, section.last + 1)
        if any(_PROCESS_KEY.match(document.line(i).content) for i in lines):
            found.add(name)
    return found


def shadowed_process(profile: str, credentials_file: Path, env: Mapping[str, str]) -> Path | None:
    """The config file whose ``credential_process`` profile ``profile`` would be shadowed by
    writing ``profile`` into ``credentials_file``, or ``None``: no collision (another name,
    or a credentials file the SDKs do not read)."""
    if not _same_file(credentials_file, sdk_credentials_file(env)):
        return None
    path = config_file(env)
    return path if profile in process_profiles(path) else None


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return os.path.abspath(one) == os.path.abspath(other)


# -- aws-config: profiles that run samljit's credential-process ------------------------------
#: The comment samljit puts under the header of each section it writes; it names the
#: account and the role, so a later run finds the section whatever its name is by then.
MARKER = "# samljit aws-config:"


class ProcessProfile(NamedTuple):
    """One ``[profile NAME]`` that runs ``credential-process`` for (account, role)."""

    name: str
    account: str
    role_arn: str
    items: list[tuple[str, str]]

    @property
    def marker(self) -> str:
        return f"{MARKER} account {self.account}, role {self.role_arn}"

    def block(self, newline: str = "\n", header_indent: str = "", key_indent: str = "") -> str:
        """The section's text: header, marker comment, keys."""
        header, _, keys = inifile.render(
            f"profile {self.name}",
            self.items,
            newline=newline,
            header_indent=header_indent,
            key_indent=key_indent,
        ).partition(newline)
        return header + newline + key_indent + self.marker + newline + keys


def process_profile(
    name: str, *, account: str, role_arn: str, region: str | None, command: Sequence[str]
) -> ProcessProfile:
    """The profile ``name`` running ``command`` (samljit by its absolute path) as
    ``credential-process -a ACCOUNT --role ROLE_ARN``, with the account's region."""
    check_profile_name(name, "profile_template gives the profile")
    words = [*command, "credential-process", "-a", account, "--role", role_arn]
    items = [("credential_process", " ".join(shlex.quote(w) for w in words))]
    if region:
        items.append(("region", region))
    return ProcessProfile(name, account, role_arn, items)


def write_process_profiles(path: Path, profiles: Sequence[ProcessProfile]) -> None:
    """Write ``profiles`` into the AWS config file ``path`` under the credentials file's
    lock discipline, keeping every other byte: a section carrying a profile's marker is
    replaced in place (renamed too, when ``profile_template`` changed); otherwise the
    profile is appended. A ``[profile NAME]`` samljit did not write is never overwritten
    (:class:`~samljit.common.errors.ConfigError`, the file unchanged)."""
    from samljit.sinks import credfile

    def change(text: str, shown: str) -> str:
        for profile in profiles:
            text = _put(credfile, text, profile, shown)
        return text

    credfile.edit_file(path, change)


def _put(credfile: Any, text: str, profile: ProcessProfile, shown: str) -> str:
    document: inifile.Document = credfile.scan(text, shown)
    header = f"profile {profile.name}"
    ours = [s for s in document.sections if _carries(document, s, profile.marker)]
    named = document.find(header)
    strangers = [s for s in named if s not in ours]
    if strangers:
        number = document.line(strangers[0].header).number
        raise ConfigError(
            f"[{header}] on line {number} of {shown} was not written by samljit aws-config; "
            "it is left as it is",
            hint="rename or remove that section, or pick other names with profile_template",
        )
    if len(ours) > 1:
        raise ConfigError(
            f"{shown} has {len(ours)} sections marked for account {profile.account}, role "
            f"{profile.role_arn}",
            hint="delete all but one of them",
        )
    items = [(key, value) for key, value in profile.items]
    if not ours:
        edit = document.append(profile.block(document.newline()))
        credfile.verify_edit(document, edit, None, header, items, shown)
        return str(edit.text)
    section = ours[0]
    line = document.line(section.header)
    following = section.next_header
    block = profile.block(
        document.newline(line),
        header_indent=line.indent,
        key_indent=following.indent if following is not None else "",
    )
    edit = document.replace(section, block)
    credfile.verify_edit(document, edit, section, header, items, shown, old_name=section.name)
    return str(edit.text)


def _carries(document: inifile.Document, section: inifile.Section, marker: str) -> bool:
    lines = range(section.header + 1, section.last + 1)
    return any(document.line(i).content.strip() == marker for i in lines)
