"""The IdP's own sign-in session, kept per account so that a later login needs no password
and no MFA while the IdP still honours it ("fewer MFA prompts").

What is kept: the cookies the IdP set on its own hosts (the hosts of the account's ``url`` and
``api_url``, or what :meth:`~samljit.idp.provider.Provider.session_hosts` names), each with
its expiry. Cookies without an expiry (browser "session cookies") are kept too: they usually
*are* the IdP session. Cookies of any other host are never kept. A cookie keeps its domain
rule: one set without ``Domain`` is restored host-only (sent to its host, never to a
subdomain), one set with ``Domain=idp.example`` or ``Domain=.idp.example`` is kept as a domain
cookie of ``.idp.example`` (:meth:`~samljit.common.http.HttpClient.cookies_for`).

Whose: a session is made for one account's IdP hosts and one IdP username (the account's
``username``, from ``SAMLJIT_USERNAME`` or the config; "" when none is set), and used for no
other: an entry made for another username or IdP is dropped when read, and another user's
login replaces it.

Where: in the OS keyring when one works (split into chunks of :data:`CHUNK` characters,
since some backends limit an entry's size), else in a 0600 file. Either way a small index
file in samljit's cache directory (``<cache>/sessions/<key>.json``, directory 0700, file
0600, written atomically) says where the session is, for whom, since and until when it
holds and, for the keyring, which of the two slots of chunks (:data:`SLOTS`) is current,
with their SHA-256, so that a torn or foreign keyring entry is noticed. Chunks are named
``<slot>.<number>`` under the account's service, so :meth:`SessionStore.forget` finds and
deletes all of them even when no index (or a stale or corrupt one) names them. A keyring that
writes a plain file is not one that works; when it is the OS default, chunks earlier versions
left there are deleted as the session is forgotten or next saved to the file. ``status``
reads only that index (it never imports ``keyring``). A corrupt, foreign (another owner,
loose mode, another IdP, another username) or unreadable entry is dropped, never a crash;
``~/.samljit`` never holds a session.

Lifetime: an entry holds until the latest expiry among its cookies; past it, it is dropped.
Cookies without an expiry hold for at most the account's ``session_max_age`` (default 12 h)
from the login that made the session (a login that only reused it does not extend it), and
never past the latest expiry of the entry's other cookies; an entry whose cookies have no
expiry at all is dropped then, or earlier when the IdP refuses it, or by
:meth:`SessionStore.forget` (``samljit logout``), or ``disable_sessions = true``.

How the login flow uses it (``samljit.jit.flow.authenticate``), which is also the API a
provider relies on — a provider needs no code of its own to get sessions:

1. before ``provider.login`` the flow loads the kept cookies into the login's
   :class:`~samljit.common.http.HttpClient` (:meth:`SessionStore.load` →
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
    store.forget(account, sweep=True)     # logout: also chunks no index names any more
    store.describe(account)               # SessionInfo | None, for status; no secrets

A cookie is a plain dict: ``name``, ``value``, ``domain``, ``path``, ``secure`` (bool),
``expires`` (Unix seconds or ``None`` for a session cookie), ``host_only`` (bool).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from samljit.common import fsutil
from samljit.common.paths import entry_key
from samljit.common.platform import current
from samljit.common.text import parse_rfc3339, rfc3339

if TYPE_CHECKING:
    from samljit.common.terminal import Terminal
    from samljit.config.accounts import Account

FORMAT = 1
#: Characters per keyring entry: Windows' Credential Manager takes 2560 bytes, UTF-16 (2 per
#: character of the ASCII JSON stored; tests/unit/test_sessions.py pins it).
CHUNK = 1000
#: Keyring service name prefix; the account name follows.
SERVICE_PREFIX = "samljit-idp-session:"
#: The two keyring slots a session's chunks are written to in turn, so that a new session
#: never overwrites the chunks the current index names, and so that ``forget`` finds every
#: chunk by its name even when no index names it any more.
SLOTS = ("a", "b")
#: More chunks than any session has (a bound for searching a slot).
MAX_CHUNKS = 1000
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
    return parse_rfc3339(value) if isinstance(value, str) else None


def _stamp(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None


def _os_keyring() -> Any:
    """keyring's backend for this user, or None when the installation is broken. Imports
    ``keyring`` only when called."""
    try:
        import keyring

        return keyring.get_keyring()
    except Exception:  # a broken keyring installation
        return None


def default_keyring() -> Any:
    """The OS keyring backend when one works, else None (no backend, the null backend the
    user chose, a backend that writes a plain file, or a broken installation): the session
    then goes to samljit's own 0600 file. The rule is the password's (see
    :func:`samljit.config.passwords.refusal`)."""
    from samljit.config.passwords import refusal

    backend = _os_keyring()
    return backend if backend is not None and refusal(backend) is None else None


def plain_file_keyring() -> Any:
    """The OS keyring backend when it writes a plain file, else None. No session goes there,
    but earlier samljit versions kept sessions in one: forgetting a session, or saving it to
    the file, deletes what they left."""
    from samljit.config.passwords import is_plaintext, storing_backend

    backend = _os_keyring()
    return backend if backend is not None and is_plaintext(storing_backend(backend)) else None


class SessionStore:
    """The IdP sessions of every account. ``keyring``: a factory returning the backend to
    use or None (tests inject one; the default finds the OS keyring lazily). ``leftovers``:
    a factory returning the backend earlier versions may have left chunks in when
    ``keyring`` gives none (default: a plain-file keyring), cleaned when a session is
    forgotten or saved to the file."""

    def __init__(
        self,
        root: Path,
        terminal: Terminal,
        *,
        now: Callable[[], datetime],
        keyring: Callable[[], Any] = default_keyring,
        leftovers: Callable[[], Any] = plain_file_keyring,
    ) -> None:
        self.root = root
        self.terminal = terminal
        self.now = now
        self._keyring_factory = keyring
        self._leftovers_factory = leftovers

    # -- plumbing -----------------------------------------------------------------------
    @cached_property
    def _keyring(self) -> Any:
        """The backend sessions go to, or None (looked for once, when first needed)."""
        return self._keyring_factory()

    @cached_property
    def _leftovers(self) -> Any:
        """The backend earlier versions may have left chunks in, or None (looked for once)."""
        return self._leftovers_factory()

    def _cleaning(self) -> Any:
        """Where chunks are deleted: the keyring in use, else one earlier versions wrote to."""
        return self._keyring if self._keyring is not None else self._leftovers

    def _dir(self) -> Path | None:
        try:
            fsutil.private_dir(self.root)
            return fsutil.private_dir(self.root / "sessions")
        except OSError:
            return None  # the cache has warned already; no session is kept

    def _path(self, account: Account) -> Path | None:
        directory = self._dir()
        return directory / f"{session_key(account)}.json" if directory is not None else None

    @staticmethod
    def _index(path: Path) -> tuple[bool, dict[str, Any] | None]:
        """Whether an index file is there, and its content when it is ours and well-formed
        (whoever it was made for)."""
        try:
            info = path.lstat()
        except OSError:
            return False, None
        try:
            if not current().is_private(info) or not path.is_file():
                return True, None
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return True, None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return True, None
        if data.get("Store") not in (IN_KEYRING, IN_FILE):
            return True, None
        return True, data

    def _read_index(self, account: Account, *, drop: bool = True) -> dict[str, Any] | None:
        """The entry's index (with the cookies, for the file store), or None. A corrupt or
        foreign one, or one made for another user or IdP, is dropped with its chunks (with
        ``drop``; ``status`` leaves it, never opening the keyring)."""
        path = self._path(account)
        if path is None:
            return None
        there, data = self._index(path)
        if not there:
            return None
        if data is None or not _made_for(data, account):
            if drop:
                self.forget(account)
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
        data = self._read_index(account, drop=False)
        if data is None:
            return None
        expires = _bound(data, account)
        if expires is not None and expires <= self.now():
            return None
        return SessionInfo(str(data["Store"]), _parse_time(data.get("Saved")), expires)

    def load(self, account: Account) -> HeldSession | None:
        """The kept session's still-valid cookies, or None. Anything unreadable is dropped,
        and so are cookies without an expiry once ``session_max_age`` has passed since the
        session began."""
        data = self._read_index(account)
        if data is None:
            return None
        in_file = data["Store"] == IN_FILE
        raw = data.get("Cookies") if in_file else self._read_chunks(account, data)
        cookies = [c for c in map(_clean, raw if isinstance(raw, list) else []) if c]
        if not cookies or (isinstance(raw, list) and len(cookies) != len(raw)):
            self.forget(account)
            return None
        started = _parse_time(data.get("Started"))
        if started is None:
            self.forget(account)
            return None
        now = self.now().timestamp()
        cap = _cap(data, account)
        until = cap.timestamp() if cap is not None else 0
        live = [c for c in cookies if (until if c["expires"] is None else c["expires"]) > now]
        if not live:
            self.forget(account)
            return None
        return HeldSession(live, _bound(data, account), str(data["Store"]))

    def save(self, account: Account, cookies: Iterable[Mapping[str, Any]]) -> None:
        """Keep ``cookies`` (those of the IdP's hosts) as the account's session, replacing
        what was kept. No cookie: the session is forgotten. A session saved again for the
        same user and IdP (the login reused it) keeps the moment it began."""
        kept = [c for c in map(_clean, cookies) if c]
        now = self.now()
        kept = [c for c in kept if c["expires"] is None or c["expires"] > now.timestamp()]
        if not kept:
            self.forget(account)
            return
        path = self._path(account)
        if path is None:
            return
        _, old = self._index(path)
        began = _parse_time(old.get("Started")) if old and _made_for(old, account) else None
        index: dict[str, Any] = {
            "format": FORMAT,
            "Account": account.name,
            "Username": idp_user(account),
            "Hosts": idp_hosts(account),
            "Saved": _stamp(now),
            "Started": _stamp(began or now),
            "Expires": _stamp(_latest_expiry(kept)),
        }
        text = json.dumps(kept, separators=(",", ":"), ensure_ascii=True)  # see CHUNK
        slot = SLOTS[1] if old is not None and old.get("Generation") == SLOTS[0] else SLOTS[0]
        chunks = self._write_chunks(account, text, slot)
        if chunks is not None:
            index.update(Store=IN_KEYRING, **chunks)
        else:
            index.update(Store=IN_FILE, Cookies=kept)
        try:
            fsutil.atomic_write(path, json.dumps(index).encode("utf-8"), mode=0o600)
        except OSError:
            if chunks is not None:
                self._clear_slot(account, slot)
            return
        # what the previous index named, and anything else left in the keyring for the
        # account, goes: only the chunks this index names remain
        if old is not None and old.get("Store") == IN_KEYRING and old.get("Generation") != slot:
            self._delete_chunks(account, old)
        if chunks is not None:
            self._clear_slot(account, slot, start=chunks["Chunks"])
        for other in SLOTS:
            if chunks is None or other != slot:
                self._clear_slot(account, other)

    def forget(self, account: Account, *, sweep: bool = False) -> bool:
        """Drop the account's session: the index (whoever and whatever IdP it was made for,
        readable or not) and every keyring chunk kept for the account, also those that no
        index names any more. Without an index the keyring is searched only with ``sweep``
        (``logout``), so that a login with ``disable_sessions`` does not open the keyring.
        True when an index was removed."""
        path = self._path(account)
        if path is None:
            return False
        there, data = self._index(path)
        if data is not None and data.get("Store") == IN_KEYRING:
            self._delete_chunks(account, data)
        if there or sweep:
            for slot in SLOTS:
                self._clear_slot(account, slot)
        return self._unlink(path)

    # -- keyring chunks -----------------------------------------------------------------
    @staticmethod
    def _service(account: Account) -> str:
        return SERVICE_PREFIX + account.name

    def _write_chunks(self, account: Account, text: str, generation: str) -> dict[str, Any] | None:
        """Write ``text`` to the keyring in chunks of slot ``generation`` (one of
        :data:`SLOTS`, the one the current index does not name): the index fields, or None
        when there is no working keyring (the caller then uses the file)."""
        backend = self._keyring
        if backend is None:
            return None
        import hashlib

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
                self._clear_slot(account, generation)
                return None
        return fields

    def _read_chunks(self, account: Account, data: Mapping[str, Any]) -> object:
        backend = self._keyring
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
        backend = self._cleaning()
        generation, count = data.get("Generation"), data.get("Chunks")
        if backend is None or not isinstance(generation, str) or not isinstance(count, int):
            return
        for number in range(count):
            with contextlib.suppress(Exception):  # already gone, or the keyring refuses
                backend.delete_password(self._service(account), f"{generation}.{number}")

    def _clear_slot(self, account: Account, slot: str, *, start: int = 0) -> None:
        """Delete the chunks of ``slot`` from number ``start`` on, as far as they go (chunks
        are numbered from 0 without gaps, so the first one missing ends the slot)."""
        backend = self._cleaning()
        if backend is None:
            return
        service = self._service(account)
        for number in range(start, start + MAX_CHUNKS):
            try:
                if backend.get_password(service, f"{slot}.{number}") is None:
                    return
                backend.delete_password(service, f"{slot}.{number}")
            except Exception:  # a locked or refusing keyring: nothing more to do here
                return


def idp_user(account: Account) -> str:
    """The IdP username what samljit keeps for the account (its IdP session, cached
    assertion and credentials) is made for and used for ("" when none is configured)."""
    return account.username or ""


def _made_for(data: Mapping[str, Any], account: Account) -> bool:
    """Whether an index was made for ``account``: its name, its IdP hosts, its username."""
    return (
        data.get("Account") == account.name
        and data.get("Hosts") == idp_hosts(account)
        and data.get("Username") == idp_user(account)
    )


def _cap(data: Mapping[str, Any], account: Account) -> datetime | None:
    """Until when the entry's cookies without an expiry hold: ``session_max_age`` after the
    session began, and never longer than the latest expiry among its other cookies."""
    started = _parse_time(data.get("Started"))
    if started is None:
        return None
    cap = started + timedelta(seconds=account.session_max_age)
    expires = _parse_time(data.get("Expires"))
    return min(cap, expires) if expires is not None else cap


def _bound(data: Mapping[str, Any], account: Account) -> datetime | None:
    """Until when an entry holds: the latest expiry among its cookies, else (none carries
    one) the bound of its cookies without an expiry."""
    return _parse_time(data.get("Expires")) or _cap(data, account)
