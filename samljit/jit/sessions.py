"""The IdP's own sign-in session, kept per account so that a later login needs no password
and no MFA while the IdP still honours it ("fewer MFA prompts").

What is kept: the cookies the IdP set on its own hosts (the hosts of the account's ``url`` and
``api_url``, or what :meth:`~samljit.idp.provider.Provider.session_hosts` names), each with
its expiry. Cookies without an expiry (browser "session cookies") are kept too: they usually
*are* the IdP session. Cookies of any other host are never kept. A cookie keeps its domain
rule: one set without ``Domain`` is restored host-only (sent to its host, never to a
subdomain), one set with ``Domain=idp.example`` or ``Domain=.idp.example`` is kept as a domain
cookie of ``.idp.example`` (:meth:`~samljit.idp.http.HttpClient.cookies_for`).

Where: in the OS keyring when one works (split into chunks of :data:`CHUNK` characters,
since some backends limit an entry's size), else in a 0600 file. Either way a small index
file in samljit's cache directory (``<cache>/sessions/<key>.json``, directory 0700, file
0600, written atomically) says where the session is, until when it holds and, for the
keyring, which generation of chunks is current, with their SHA-256, so that a torn or
foreign keyring entry is noticed. ``status`` reads only that index (it never imports
``keyring``). A corrupt, foreign (another owner, loose mode, another IdP) or unreadable entry
is dropped, never a crash; ``~/.samljit`` never holds a session.

Lifetime: an entry holds until the latest expiry among its cookies; past it, it is dropped.
An entry whose cookies have no expiry at all holds until the IdP refuses it, or
:meth:`SessionStore.forget` (``samljit logout``), or ``disable_sessions = true``.

How the login flow uses it (``samljit.jit.flow.authenticate``), which is also the API a
provider relies on — a provider needs no code of its own to get sessions:

1. before ``provider.login`` the flow loads the kept cookies into the login's
   :class:`~samljit.idp.http.HttpClient` (:meth:`SessionStore.load` →
   ``http.load_cookies``), registers their values with the redactor and sets
   ``provider.session_loaded = True``;
2. the provider starts as a browser would: it requests the IdP's sign-in (or SSO) URL
   with those cookies. A ``SAMLResponse`` without a login form means the session worked. A
   provider whose first step is an API call that needs the password (JumpCloud) first asks
   for its SSO page when ``session_loaded`` is true;
3. ``LoginSecrets.username``/``password`` are resolved (keyring, env, prompt) only when the
   provider first reads them, that is when the IdP really asks. That first read with a
   session loaded means the IdP no longer honours it: the flow forgets it, silently;
4. when ``provider.login`` fails with a session loaded and before any credentials were read
   (the kept cookies led to an error page), the flow forgets the session, empties the
   cookie jar and runs the normal login once more, in the same single flight;
5. after a successful login (assertion read and, when pinned, verified) the flow saves
   ``http.cookies_for(provider.session_hosts())`` with :meth:`SessionStore.save`.

The store itself::

    store = services.sessions
    held = store.load(account)            # HeldSession | None (expired cookies left out)
    store.save(account, cookies)          # list of cookie dicts, see KEPT_FIELDS
    store.forget(account)                 # True when something was removed
    store.describe(account)               # SessionInfo | None, for status; no secrets

A cookie is a plain dict: ``name``, ``value``, ``domain``, ``path``, ``secure`` (bool),
``expires`` (Unix seconds or ``None`` for a session cookie), ``host_only`` (bool).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from samljit import fsutil
from samljit.jit.cache import entry_key

if TYPE_CHECKING:
    from samljit.cli.terminal import Terminal
    from samljit.config.accounts import Account

FORMAT = 1
#: Characters per keyring entry (Windows' Credential Manager takes 2560 bytes of UTF-16).
CHUNK = 1000
#: Keyring service name prefix; the account name follows.
SERVICE_PREFIX = "samljit-idp-session:"
KEPT_FIELDS = ("name", "value", "domain", "path", "secure", "expires", "host_only")
#: ``Store`` values in the index.
IN_KEYRING, IN_FILE = "keyring", "file"


class HeldSession(NamedTuple):
    """A kept IdP session: its cookies (still valid ones only) and until when it holds."""

    cookies: list[dict[str, Any]]
    expires: datetime | None
    store: str


class SessionInfo(NamedTuple):
    """What ``status`` shows: where the session is kept, when it was saved, until when."""

    store: str
    saved: datetime | None
    expires: datetime | None


def idp_hosts(account: Account) -> list[str]:
    """The IdP's own hosts for ``account``: those of ``url`` and ``api_url``."""
    hosts: list[str] = []
    for url in (account.url, account.api_url):
        host = urlsplit(url).hostname if url else None
        if host and host not in hosts:
            hosts.append(host.lower())
    return hosts


def session_key(account: Account) -> str:
    return entry_key("idp-session", account.name)


def _clean(cookie: Mapping[str, Any]) -> dict[str, Any] | None:
    """A cookie dict with exactly :data:`KEPT_FIELDS` and the right types, or None."""
    try:
        name, value = cookie["name"], cookie["value"]
        domain, path = cookie["domain"], cookie.get("path") or "/"
        expires = cookie.get("expires")
    except (KeyError, TypeError):
        return None
    if not (isinstance(name, str) and name and isinstance(value, str) and isinstance(domain, str)):
        return None
    if not domain or not isinstance(path, str):
        return None
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)):
        return None
    return {
        "name": name,
        "value": value,
        "domain": domain,
        "path": path,
        "secure": bool(cookie.get("secure")),
        "expires": expires,
        "host_only": bool(cookie.get("host_only")),
    }


def _latest_expiry(cookies: Sequence[Mapping[str, Any]]) -> datetime | None:
    moments = [c["expires"] for c in cookies if c.get("expires") is not None]
    return datetime.fromtimestamp(max(moments), timezone.utc) if moments else None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def default_keyring() -> Any:
    """The OS keyring backend when one works, else None (no backend, the null backend the
    user chose, or a broken installation). Imports ``keyring`` only when called."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:  # a broken keyring installation: keep the session in the file
        return None
    if isinstance(backend, null.Keyring | fail.Keyring):
        return None
    return backend


class SessionStore:
    """The IdP sessions of every account. ``keyring``: a factory returning the backend to
    use or None (tests inject one; the default finds the OS keyring lazily)."""

    def __init__(
        self,
        root: Path,
        terminal: Terminal,
        *,
        now: Callable[[], datetime],
        keyring: Callable[[], Any] = default_keyring,
    ) -> None:
        self.root = root
        self.terminal = terminal
        self.now = now
        self._keyring_factory = keyring
        self._backend: Any = None
        self._checked = False

    # -- plumbing -----------------------------------------------------------------------
    def _keyring(self) -> Any:
        if not self._checked:
            self._checked = True
            self._backend = self._keyring_factory()
        return self._backend

    def _dir(self) -> Path | None:
        try:
            fsutil.private_dir(self.root)
            return fsutil.private_dir(self.root / "sessions")
        except OSError:
            return None  # the cache has warned already; no session is kept

    def _path(self, account: Account) -> Path | None:
        directory = self._dir()
        return directory / f"{session_key(account)}.json" if directory is not None else None

    def _read_index(self, account: Account) -> dict[str, Any] | None:
        """The entry's index (with the cookies, for the file store), or None. A corrupt or
        foreign one is dropped."""
        path = self._path(account)
        if path is None:
            return None
        try:
            info = path.lstat()
        except OSError:
            return None
        try:
            if info.st_uid != os.getuid() or info.st_mode & 0o077 or not path.is_file():
                raise ValueError("foreign")
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("corrupt")
            if data.get("Account") != account.name or data.get("Hosts") != idp_hosts(account):
                raise ValueError("another account or IdP")
            if data.get("Store") not in (IN_KEYRING, IN_FILE):
                raise ValueError("corrupt")
        except (OSError, ValueError, UnicodeDecodeError):
            self._unlink(path)
            return None
        return data

    @staticmethod
    def _unlink(path: Path) -> bool:
        try:
            path.unlink()
        except OSError:
            return False
        return True

    # -- the API ------------------------------------------------------------------------
    def describe(self, account: Account) -> SessionInfo | None:
        """Whether a session is held (its index only: no keyring, no cookie values)."""
        data = self._read_index(account)
        if data is None:
            return None
        expires = _parse_time(data.get("Expires"))
        if expires is not None and expires <= self.now():
            return None
        return SessionInfo(str(data["Store"]), _parse_time(data.get("Saved")), expires)

    def load(self, account: Account) -> HeldSession | None:
        """The kept session's still-valid cookies, or None. Anything unreadable is dropped."""
        data = self._read_index(account)
        if data is None:
            return None
        in_file = data["Store"] == IN_FILE
        raw = data.get("Cookies") if in_file else self._read_chunks(account, data)
        cookies = [c for c in map(_clean, raw if isinstance(raw, list) else []) if c]
        if not cookies or (isinstance(raw, list) and len(cookies) != len(raw)):
            self.forget(account)
            return None
        now = self.now().timestamp()
        expires = _latest_expiry(cookies)
        if expires is not None and expires.timestamp() <= now:
            self.forget(account)
            return None
        live = [c for c in cookies if c["expires"] is None or c["expires"] > now]
        return HeldSession(live, expires, str(data["Store"]))

    def save(self, account: Account, cookies: Iterable[Mapping[str, Any]]) -> None:
        """Keep ``cookies`` (those of the IdP's hosts) as the account's session, replacing
        what was kept. No cookie: the session is forgotten."""
        kept = [c for c in map(_clean, cookies) if c]
        now = self.now()
        kept = [c for c in kept if c["expires"] is None or c["expires"] > now.timestamp()]
        if not kept:
            self.forget(account)
            return
        path = self._path(account)
        if path is None:
            return
        old = self._read_index(account)
        index: dict[str, Any] = {
            "format": FORMAT,
            "Account": account.name,
            "Hosts": idp_hosts(account),
            "Saved": _stamp(now),
            "Expires": _stamp(_latest_expiry(kept)),
        }
        text = json.dumps(kept, separators=(",", ":"))
        chunks = self._write_chunks(account, text)
        if chunks is not None:
            index.update(Store=IN_KEYRING, **chunks)
        else:
            index.update(Store=IN_FILE, Cookies=kept)
        try:
            fsutil.atomic_write(path, json.dumps(index).encode("utf-8"), mode=0o600)
        except OSError:
            if chunks is not None:
                self._delete_chunks(account, chunks)
            return
        if old is not None and old.get("Store") == IN_KEYRING:
            self._delete_chunks(account, old)  # a new generation replaced it

    def forget(self, account: Account) -> bool:
        """Drop the account's session (index, file and keyring chunks)."""
        path = self._path(account)
        if path is None:
            return False
        data = self._read_index(account)
        if data is not None and data.get("Store") == IN_KEYRING:
            self._delete_chunks(account, data)
        return self._unlink(path)

    # -- keyring chunks -----------------------------------------------------------------
    @staticmethod
    def _service(account: Account) -> str:
        return SERVICE_PREFIX + account.name

    def _write_chunks(self, account: Account, text: str) -> dict[str, Any] | None:
        """Write ``text`` to the keyring in chunks of a new generation: the index fields, or
        None when there is no working keyring (the caller then uses the file)."""
        backend = self._keyring()
        if backend is None:
            return None
        import hashlib

        generation = os.urandom(6).hex()
        pieces = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
        fields = {
            "Generation": generation,
            "Chunks": len(pieces),
            "Sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
        service = self._service(account)
        for number, piece in enumerate(pieces):
            try:
                backend.set_password(service, f"{generation}.{number}", piece)
            except Exception:  # a locked or refusing keyring: keep the session in the file
                self._delete_chunks(account, {**fields, "Chunks": number})
                return None
        return fields

    def _read_chunks(self, account: Account, data: Mapping[str, Any]) -> object:
        backend = self._keyring()
        generation, count = data.get("Generation"), data.get("Chunks")
        if backend is None or not isinstance(generation, str) or not isinstance(count, int):
            return None
        import hashlib

        pieces = []
        for number in range(count):
            try:
                piece = backend.get_password(self._service(account), f"{generation}.{number}")
            except Exception:
                return None
            if not isinstance(piece, str):
                return None
            pieces.append(piece)
        text = "".join(pieces)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != data.get("Sha256"):
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def _delete_chunks(self, account: Account, data: Mapping[str, Any]) -> None:
        backend = self._keyring()
        generation, count = data.get("Generation"), data.get("Chunks")
        if backend is None or not isinstance(generation, str) or not isinstance(count, int):
            return
        for number in range(count):
            with contextlib.suppress(Exception):  # already gone, or the keyring refuses
                backend.delete_password(self._service(account), f"{generation}.{number}")
