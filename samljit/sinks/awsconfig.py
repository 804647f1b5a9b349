"""What the AWS SDKs' config file (``~/.aws/config`` or ``AWS_CONFIG_FILE``) says about a
profile samljit is about to write, read cheaply (samljit's own INI scanner, no configparser).

Every AWS SDK and the CLI look for a profile's keys in the shared credentials file *before*
running the config file's ``credential_process``. So when ``login`` or ``exec`` write
``[production]`` into ``~/.aws/credentials`` while ``~/.aws/config`` has ``[profile
production]`` with ``credential_process = samljit credential-process …``, the written keys
shadow samljit's credential process: the SDKs use them until they expire (and fail after),
never calling samljit again. :func:`shadowed_process` finds that case so the CLI can say so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from samljit.common import inifile

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
