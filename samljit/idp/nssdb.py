"""The browser's trust store for the CA bundle samljit honours (Linux).

Chromium, Chrome and Edge on Linux trust their built-in roots plus the CAs of the user's NSS
database, ``$HOME/.pki/nssdb``; they read neither ``AWS_CA_BUNDLE`` nor ``REQUESTS_CA_BUNDLE``.
So that a corporate CA samljit's own requests trust is trusted in the browser too, samljit
builds an NSS database of its own with NSS's ``certutil`` (Debian: ``libnss3-tools``): a copy
of the user's certificate database when there is one (what the browser trusted before still
holds; no private key is copied), plus every certificate of the bundle as a CA trusted for TLS.
The browser then runs with ``HOME`` set to the directory holding it (``.pki/nssdb`` inside);
the XDG directories keep naming the user's own.

A database is built for one bundle content (and one state of the user's database): it lives in
a directory named by their digest, built aside and renamed into place, so a login never sees
half of one, and it is rebuilt only when the bundle or the user's database changes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from samljit.common.errors import ConfigError, SamljitError
from samljit.common.http import ca_bundle
from samljit.common.text import printable

INSTALL_CERTUTIL = "apt-get install libnss3-tools"
#: certutil's trust flags: a CA trusted to issue TLS server certificates.
TRUST_FLAGS = "C,,"
CERTUTIL_TIMEOUT = 120.0
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
#: What the XDG directories default to under the user's home, kept for the browser.
_HOME_DIRS = (
    ("XDG_CONFIG_HOME", ".config"),
    ("XDG_CACHE_HOME", ".cache"),
    ("XDG_DATA_HOME", ".local/share"),
    ("XDG_STATE_HOME", ".local/state"),
)


class TrustStoreError(SamljitError):
    """The bundle could not be handed to the browser (no certutil, certutil failed)."""


def configured_bundle(env: Mapping[str, str]) -> tuple[str, Path] | None:
    """The CA bundle samljit's HTTP client uses (:func:`samljit.common.http.ca_bundle`), as
    ``(variable, path)``, else None."""
    found = ca_bundle(env)
    return (found[0], Path(found[1])) if found is not None else None


def bundle_certificates(variable: str, path: Path) -> list[bytes]:
    """The DER certificates of a PEM bundle, in order, each once."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{variable} names {path}, which cannot be read ({exc.strerror or exc})",
            hint=f"point {variable} at your PEM CA bundle, or unset it",
        ) from None
    found: dict[bytes, None] = {}
    for block in _PEM.findall(data):
        try:
            found[base64.b64decode(b"".join(block.split()), validate=True)] = None
        except (binascii.Error, ValueError):
            continue
    if not found:
        raise ConfigError(
            f"{variable} names {path}, which holds no PEM certificate",
            hint=f"point {variable} at your PEM CA bundle, or unset it",
        )
    return list(found)


def browser_home(variable: str, bundle: Path, where: Path, env: Mapping[str, str]) -> Path:
    """A directory to run the browser with as ``HOME``: ``.pki/nssdb`` there trusts the
    bundle's certificates (and what the user's own NSS database trusts). ``where`` is a 0700
    directory of samljit's (the account's browser profile); builds are kept under it."""
    certificates = bundle_certificates(variable, bundle)
    certutil = shutil.which("certutil", path=env.get("PATH"))
    if certutil is None:
        raise TrustStoreError(
            f"the browser does not trust the CAs of {variable}: certutil is not installed",
            hint=f"install it (`{INSTALL_CERTUTIL}`; Fedora: nss-tools) and run again",
        )
    user_db = _user_database(env)
    digest = hashlib.sha256()
    for der in certificates:
        digest.update(hashlib.sha256(der).digest())
    if user_db is not None:
        info = user_db.stat()
        digest.update(f"{user_db}:{info.st_size}:{info.st_mtime_ns}".encode())
    root = where / "trust"
    home = root / digest.hexdigest()[:20]
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        if not (home / ".pki" / "nssdb" / "cert9.db").is_file():
            shutil.rmtree(home, ignore_errors=True)  # what is left of one someone emptied
            _build(certutil, certificates, user_db, root, home)
        for old in root.iterdir():  # earlier bundles' databases
            if old != home and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise TrustStoreError(
            f"cannot make the browser's certificate store in {root}: {exc}"
        ) from None
    return home


def browser_environment(home: Path, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with ``HOME`` at ``home`` and the XDG directories still the user's own."""
    real = env.get("HOME") or os.path.expanduser("~")
    changed = dict(env)
    for name, default in _HOME_DIRS:
        changed[name] = env.get(name) or os.path.join(real, default)
    changed["HOME"] = str(home)
    return changed


def _user_database(env: Mapping[str, str]) -> Path | None:
    real = env.get("HOME") or os.path.expanduser("~")
    path = Path(real) / ".pki" / "nssdb" / "cert9.db"
    return path if path.is_file() else None


def _build(
    certutil: str, certificates: list[bytes], user_db: Path | None, root: Path, home: Path
) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        database = scratch / ".pki" / "nssdb"
        database.parent.mkdir(mode=0o700)
        database.mkdir(mode=0o700)
        if user_db is not None:
            shutil.copyfile(user_db, database / "cert9.db")
            os.chmod(database / "cert9.db", 0o600)
        _certutil(certutil, ["-N", "-d", f"sql:{database}", "--empty-password"], scratch)
        commands = []
        for der in certificates:
            name = hashlib.sha256(der).hexdigest()[:16]
            (scratch / f"{name}.der").write_bytes(der)
            commands.append(["-A", "-n", f"samljit-{name}", "-t", TRUST_FLAGS, "-i", f"{name}.der"])
        (scratch / "batch").write_text("".join(" ".join(c) + "\n" for c in commands))
        try:  # one certutil for the lot; it stops at the first certificate NSS refuses …
            _certutil(certutil, ["-B", "-i", "batch", "-d", f"sql:{database}"], scratch)
        except TrustStoreError:  # … so then one at a time, leaving out what it refuses
            refused: list[TrustStoreError] = []
            for command in commands:
                try:
                    _certutil(certutil, [*command, "-d", f"sql:{database}"], scratch)
                except TrustStoreError as exc:
                    refused.append(exc)
            if len(refused) == len(commands):
                raise refused[0] from None
        for leftover in scratch.iterdir():
            if leftover.is_file():
                leftover.unlink()
        try:
            scratch.rename(home)
        except OSError:  # another login built the same one meanwhile
            if not (home / ".pki" / "nssdb" / "cert9.db").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _certutil(certutil: str, args: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            [certutil, *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CERTUTIL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TrustStoreError(f"certutil did not run: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        raise TrustStoreError(
            f"certutil failed ({printable(said[-1]) if said else f'exit {done.returncode}'})",
            hint="the browser does not see the CA bundle; check it holds PEM certificates",
        )
