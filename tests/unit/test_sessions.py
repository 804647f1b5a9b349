"""The IdP session store (samljit.jit.sessions): the 0600 file store and its permissions, the
keyring store on a real keyring backend (an in-memory one registered here, limited in size
like Windows' Credential Manager, so sessions are chunked), dropping corrupt, foreign and
expired entries, and the HTTP client's cookie export (the IdP's hosts only)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import keyring
import pytest
import requests

from samljit.common.http import HttpClient
from samljit.common.terminal import Terminal
from samljit.config.accounts import Account
from samljit.idp.provider import LoginSecrets
from samljit.jit import sessions
from samljit.jit.sessions import CHUNK, SessionStore
from samljit.testing.fakes import FakeClock
from samljit.tools.sandbox.server import LoopbackServer
from tests.support.keyring_backend import MemoryKeyring, installed

ACCOUNT = Account(name="prod", provider="Keycloak", url="https://idp.example/realms/acme/sso")
TERMINAL = Terminal(interactive=False, colour=False)


class SizedKeyring(MemoryKeyring):
    """A keyring backend in memory that, like Windows' Credential Manager, refuses an entry
    over a size limit."""

    limit = 1280


class LockedKeyring(SizedKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the keyring is locked")


def cookie(name: str, value: str, *, expires: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "domain": "idp.example",
        "path": "/",
        "secure": True,
        "expires": expires,
        "host_only": True,
        **extra,
    }


@pytest.fixture
def registered() -> Iterator[SizedKeyring]:
    """A :class:`SizedKeyring` registered as keyring's backend for the test."""
    with installed(SizedKeyring()) as backend:
        yield backend


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(timezone.utc).replace(microsecond=0))


def file_store(tmp_path: Path, clock: FakeClock) -> SessionStore:
    return SessionStore(
        tmp_path / "cache", TERMINAL, now=clock.now, keyring=lambda: None, leftovers=lambda: None
    )


def index_file(tmp_path: Path) -> Path:
    [path] = (tmp_path / "cache" / "sessions").glob("*.json")
    return path


# -- the file store ------------------------------------------------------------------------
def test_the_file_store_is_private_and_round_trips(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    later = int(clock.now().timestamp()) + 3600
    kept = [cookie("sid", "s3cr3t-session"), cookie("remember", "r3m3mber", expires=later)]
    store.save(ACCOUNT, kept)
    path = index_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    held = store.load(ACCOUNT)
    assert held is not None and held.cookies == kept and held.store == "file"
    assert held.expires == datetime.fromtimestamp(later, timezone.utc)
    info = store.describe(ACCOUNT)
    assert info is not None and (info.store, info.expires) == ("file", held.expires)
    assert store.forget(ACCOUNT) and store.load(ACCOUNT) is None and not path.exists()
    assert store.forget(ACCOUNT) is False


def test_a_loosened_or_corrupt_file_is_dropped(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    path = index_file(tmp_path)
    os.chmod(path, 0o644)
    assert store.load(ACCOUNT) is None and not path.exists()
    for broken in ("{not json", json.dumps({"format": 99}), json.dumps([1, 2])):
        store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
        index_file(tmp_path).write_text(broken)
        assert store.describe(ACCOUNT) is None
        assert store.load(ACCOUNT) is None
        assert list((tmp_path / "cache" / "sessions").glob("*.json")) == []


def test_a_cookie_of_the_wrong_shape_drops_the_entry(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    path = index_file(tmp_path)
    data = json.loads(path.read_text())
    data["Cookies"].append({"name": "x", "value": 5, "domain": "idp.example"})
    path.write_text(json.dumps(data))
    assert store.load(ACCOUNT) is None and not path.exists()


def test_a_session_of_another_idp_is_not_used(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    moved = ACCOUNT._replace(url="https://other-idp.example/sso")
    assert store.load(moved) is None
    assert store.load(ACCOUNT) is None, "the foreign entry was not dropped"


def test_a_session_past_its_last_expiry_is_gone(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    now = int(clock.now().timestamp())
    store.save(
        ACCOUNT,
        [
            cookie("sid", "s3cr3t-session"),
            cookie("short", "sh0rt-lived", expires=now + 60),
            cookie("long", "l0ng-lived", expires=now + 600),
        ],
    )
    clock.advance(120)
    held = store.load(ACCOUNT)
    assert held is not None and [c["name"] for c in held.cookies] == ["sid", "long"]
    clock.advance(600)
    assert store.describe(ACCOUNT) is None
    assert store.load(ACCOUNT) is None


def test_no_cookie_to_keep_forgets_the_session(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    store.save(ACCOUNT, [])
    assert store.describe(ACCOUNT) is None


def test_an_unusable_cache_directory_keeps_nothing(tmp_path: Path, clock: FakeClock) -> None:
    (tmp_path / "cache").write_text("a file, not a directory")
    store = file_store(tmp_path, clock)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    assert store.load(ACCOUNT) is None and store.forget(ACCOUNT) is False


# -- the keyring store ---------------------------------------------------------------------
#: Windows Credential Manager's limit on a credential's blob (CRED_MAX_CREDENTIAL_BLOB_SIZE,
#: 5 * 512 bytes); keyring stores the password there as UTF-16-LE.
CREDENTIAL_MANAGER_BLOB = 2560


def test_keyring_chunks_fit_windows_credential_manager(
    tmp_path: Path, clock: FakeClock, registered: SizedKeyring
) -> None:
    """Non-ASCII cookie values (and characters outside the BMP, two UTF-16 units each) still
    give chunks Credential Manager takes: the stored text is ASCII JSON."""
    store = SessionStore(tmp_path / "cache", TERMINAL, now=clock.now)
    kept = [cookie(f"c{i}", f"wert-{i}-" + "\u00e9\U0001f510" * 300) for i in range(4)]
    store.save(ACCOUNT, kept)
    assert len(registered.entries) > 1
    sizes = [len(v.encode("utf-16-le")) for v in registered.entries.values()]
    assert max(sizes) <= CREDENTIAL_MANAGER_BLOB
    held = store.load(ACCOUNT)
    assert held is not None and held.cookies == kept


def test_a_big_session_is_chunked_into_the_keyring(
    tmp_path: Path, clock: FakeClock, registered: SizedKeyring
) -> None:
    backend = registered  # found the way the OS keyring is found
    store = SessionStore(tmp_path / "cache", TERMINAL, now=clock.now)
    kept = [cookie(f"c{i}", f"value-{i}-" + "x" * 400) for i in range(8)]
    store.save(ACCOUNT, kept)
    assert len(backend.entries) > 1 and all(len(v) <= CHUNK for v in backend.entries.values())
    index = index_file(tmp_path).read_text()
    assert "value-0" not in index and '"Store": "keyring"' in index
    held = store.load(ACCOUNT)
    assert held is not None and held.cookies == kept and held.store == "keyring"

    store.save(ACCOUNT, kept[:1])  # a new generation replaces the old chunks
    assert len(backend.entries) == 1
    assert store.forget(ACCOUNT) and backend.entries == {}


def test_a_tampered_keyring_entry_is_dropped(tmp_path: Path, clock: FakeClock) -> None:
    backend = SizedKeyring()
    store = keyring_store(tmp_path, clock, backend)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    [key] = backend.entries
    backend.entries[key] = backend.entries[key].replace("s3cr3t", "f0reign")
    assert store.load(ACCOUNT) is None
    assert backend.entries == {} and list((tmp_path / "cache" / "sessions").iterdir()) == []


def test_a_refusing_keyring_means_the_file(tmp_path: Path, clock: FakeClock) -> None:
    store = SessionStore(
        tmp_path / "cache", TERMINAL, now=clock.now, keyring=lambda: LockedKeyring()
    )
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    held = store.load(ACCOUNT)
    assert held is not None and held.store == "file"


def test_the_null_keyring_is_no_keyring(registered: SizedKeyring) -> None:
    assert sessions.default_keyring() is registered
    keyring.set_keyring(keyring.backends.null.Keyring())
    assert sessions.default_keyring() is None


def test_a_plain_file_keyring_is_no_keyring(registered: SizedKeyring) -> None:
    """keyrings.alt's PlaintextKeyring writes a readable file of its own (outside samljit's
    0700 cache, not removed by logout): the session goes to samljit's 0600 file instead, as a
    password goes nowhere there."""
    from keyrings.alt.file import PlaintextKeyring

    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    assert sessions.default_keyring() is None
    assert sessions.plain_file_keyring() is plain  # where an earlier version's chunks are


def test_an_os_keyring_leaves_nothing_to_clean_elsewhere(registered: SizedKeyring) -> None:
    assert sessions.plain_file_keyring() is None


@pytest.mark.parametrize("factory", [sessions.default_keyring, sessions.plain_file_keyring])
def test_a_broken_keyring_installation_is_no_keyring(
    factory: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring that fails to find its backend: the session goes to the file, nothing is
    cleaned, and the login goes on."""

    def broken() -> Any:
        raise RuntimeError("no backend module")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    assert factory() is None


def chunked_session(tmp_path: Path, clock: FakeClock, backend: SizedKeyring) -> SessionStore:
    """A store whose session is kept in ``backend`` in several chunks."""
    store = keyring_store(tmp_path, clock, backend)
    store.save(ACCOUNT, [cookie(f"c{i}", "v" * 400) for i in range(6)])
    assert len(backend.entries) > 1
    return store


def next_read(store: SessionStore, tmp_path: Path) -> None:
    assert store.load(ACCOUNT) is None  # never read from there: the user logs in again
    assert list((tmp_path / "cache" / "sessions").iterdir()) == []


def logout_without_its_index(store: SessionStore, tmp_path: Path) -> None:
    index_file(tmp_path).unlink()
    store.forget(ACCOUNT, sweep=True)


def next_saved_to_the_file(store: SessionStore, tmp_path: Path) -> None:
    store.save(ACCOUNT, [cookie("sid", "new-session")])
    held = store.load(ACCOUNT)
    assert held is not None and held.store == "file"


@pytest.mark.parametrize("then", [next_read, logout_without_its_index, next_saved_to_the_file])
def test_a_session_an_earlier_version_left_in_a_plain_file_keyring_is_deleted(
    tmp_path: Path, clock: FakeClock, then: Callable[[SessionStore, Path], None]
) -> None:
    plain = SizedKeyring()
    chunked_session(tmp_path, clock, plain)  # earlier versions used any keyring
    store = SessionStore(
        tmp_path / "cache", TERMINAL, now=clock.now, keyring=lambda: None, leftovers=lambda: plain
    )
    then(store, tmp_path)
    assert plain.entries == {}


# -- the HTTP client's cookie export -------------------------------------------------------
def test_only_the_idps_own_cookies_are_exported_and_they_load_back() -> None:
    http = HttpClient()
    jar = http.session.cookies
    jar.set("sid", "idp-session", domain="idp.example", path="/realms/acme/")
    jar.set("wide", "domain-cookie", domain=".example", path="/")
    jar.set("other", "someone-elses", domain="tracker.example.org", path="/")
    jar.set("aws", "not-the-idps", domain="signin.aws.amazon.com", path="/")
    jar.set("loop", "loopback", domain="127.0.0.1", path="/")
    kept = http.cookies_for(["idp.example"])
    assert sorted(c["name"] for c in kept) == ["sid", "wide"]
    assert {c["name"]: c["host_only"] for c in kept} == {"sid": True, "wide": False}
    assert [c["name"] for c in http.cookies_for(["127.0.0.1"])] == ["loop"]

    other = HttpClient()
    other.load_cookies(kept)
    assert sorted(c["name"] for c in other.cookies_for(["idp.example"])) == ["sid", "wide"]
    request = other.session.prepare_request(
        requests.Request("GET", "https://idp.example/realms/acme/protocol")
    )
    assert request.headers["Cookie"] in (
        "sid=idp-session; wide=domain-cookie",
        "wide=domain-cookie; sid=idp-session",
    )
    elsewhere = other.session.prepare_request(requests.Request("GET", "https://idp.example.org/"))
    assert "Cookie" not in elsewhere.headers


class NamedHosts:
    """One loopback server that is every host: samljit's client reaches it as an HTTP proxy
    (``http://NAME/…`` for any NAME), so that hosts with real names (``idp.example`` and
    ``evil.idp.example``) can be told apart. ``/login`` on any host sets ``set_cookies``;
    every request's host and Cookie header is recorded."""

    def __init__(self, set_cookies: list[str]) -> None:
        self.set_cookies = set_cookies
        self.seen: list[tuple[str, str]] = []
        self.server = LoopbackServer(0)
        self.server.set_app(self)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        host = environ.get("HTTP_HOST", "")
        self.seen.append((host, environ.get("HTTP_COOKIE", "")))
        extra = [("Set-Cookie", c) for c in self.set_cookies]
        start_response("200 OK", extra if environ["PATH_INFO"].endswith("/login") else [])
        return [b"ok"]

    def cookies_at(self, host: str) -> list[str]:
        return [cookies for seen, cookies in self.seen if seen == host]


@pytest.fixture
def named_hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[NamedHosts]:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    hosts = NamedHosts(
        [
            "sid=host-only-session; Path=/",  # no Domain: idp.example only
            "dom=domain-session; Domain=idp.example; Path=/",  # the usual domain cookie
        ]
    )
    with hosts.server.start():
        monkeypatch.setenv("HTTP_PROXY", hosts.server.url)
        yield hosts


def test_kept_cookies_keep_their_domain_rules_across_save_and_restore(
    named_hosts: NamedHosts, tmp_path: Path, clock: FakeClock
) -> None:
    store = file_store(tmp_path, clock)
    first = HttpClient(retries=0, env={})
    first.get("http://idp.example/login", step="IdP sign-in")
    first.get("http://evil.idp.example/", step="IdP page")
    assert named_hosts.cookies_at("evil.idp.example") == ["dom=domain-session"]  # live, too
    store.save(ACCOUNT, first.cookies_for(["idp.example"]))

    held = store.load(ACCOUNT)
    assert held is not None
    # the Domain=idp.example cookie is kept (it used to be dropped), as a domain cookie
    assert {c["name"]: c["host_only"] for c in held.cookies} == {"sid": True, "dom": False}
    later = HttpClient(retries=0, env={})
    later.load_cookies(held.cookies)
    later.get("http://idp.example/", step="IdP page")
    later.get("http://evil.idp.example/", step="IdP page")
    later.get("http://evil-idp.example/", step="IdP page")
    assert named_hosts.cookies_at("idp.example")[-1] in (
        "sid=host-only-session; dom=domain-session",
        "dom=domain-session; sid=host-only-session",
    )
    # the host-only cookie reaches its host only; the domain cookie its subdomains too
    assert named_hosts.cookies_at("evil.idp.example") == ["dom=domain-session"] * 2
    assert named_hosts.cookies_at("evil-idp.example") == [""]


def test_the_sts_call_carries_none_of_the_idps_cookies(named_hosts: NamedHosts) -> None:
    from samljit.aws.roles import Role
    from samljit.aws.sts import assume_role_with_saml
    from samljit.common.errors import NetworkError

    # The IdP idp.local sets a cookie for its domain, .local; the STS endpoint is in that
    # domain too (cookielib names loopback's "localhost" "localhost.local"), as an STS
    # endpoint of a company's own domain would be. Only https or loopback may be an STS
    # endpoint, hence these names.
    named_hosts.set_cookies = ["corp=idp-session; Domain=.local; Path=/"]
    http = HttpClient(retries=0, env={})
    http.get("http://idp.local/login", step="IdP sign-in")
    sts = f"localhost:{named_hosts.server.port}"
    http.get(f"http://{sts}/before", step="a page of the domain")
    assert named_hosts.cookies_at(sts) == ["corp=idp-session"]  # the jar covers the STS host
    with pytest.raises(NetworkError, match="not an STS response"):  # it answers "ok"
        assume_role_with_saml(
            http,
            role=Role.parse(
                "arn:aws:iam::123456789012:role/ReadOnly",
                "arn:aws:iam::123456789012:saml-provider/corp",
            ),
            saml_response_b64="PHNhbWxwOlJlc3BvbnNlLz4=",
            duration=None,
            region=None,
            env={"AWS_ENDPOINT_URL_STS": f"http://{sts}/"},
        )
    assert named_hosts.cookies_at(sts) == ["corp=idp-session", ""]  # STS got none
    assert [c["name"] for c in http.cookies_for(["idp.local"])] == ["corp"]  # jar intact


# -- secrets asked for only when read ------------------------------------------------------
def test_login_secrets_ask_once_and_only_when_read() -> None:
    asked: list[str] = []

    def password() -> str:
        asked.append("password")
        return "pw"

    secrets = LoginSecrets("ana", None, "123456", ask_password=password)
    assert secrets.given_password is None and asked == []
    assert "pw" not in repr(secrets)
    assert (secrets.password, secrets.password, asked) == ("pw", "pw", ["password"])
    assert secrets.given_password == "pw"
    assert LoginSecrets("ana", "given").given_password == "given"


def test_expiry_is_read_as_utc(tmp_path: Path, clock: FakeClock) -> None:
    store = file_store(tmp_path, clock)
    at = clock.now() + timedelta(hours=2)
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session", expires=int(at.timestamp()))])
    info = store.describe(ACCOUNT)
    assert info is not None and info.expires == at and info.saved == clock.now()


# -- one user's session, nothing left behind, a bounded lifetime (issue 21) -----------------
ALICE = ACCOUNT._replace(username="alice@acme.example")


def test_a_session_is_used_only_for_the_username_it_was_made_for(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = file_store(tmp_path, clock)
    store.save(ALICE, [cookie("sid", "alices-session")])
    assert store.load(ALICE._replace(username="bob@acme.example")) is None
    assert store.load(ALICE._replace(username=None)) is None
    assert store.describe(ALICE) is None, "another user's login dropped alice's session"
    store.save(ALICE, [cookie("sid", "alices-session")])
    held = store.load(ALICE)
    assert held is not None and [c["value"] for c in held.cookies] == ["alices-session"]


def keyring_store(tmp_path: Path, clock: FakeClock, backend: SizedKeyring) -> SessionStore:
    return SessionStore(
        tmp_path / "cache", TERMINAL, now=clock.now, keyring=lambda: backend, leftovers=lambda: None
    )


def moved(tmp_path: Path) -> Account:
    return ACCOUNT._replace(url="https://new-idp.example/realms/acme/sso")


def corrupt(tmp_path: Path) -> Account:
    index_file(tmp_path).write_text("{torn")
    return ACCOUNT


def emptied(tmp_path: Path) -> Account:
    index_file(tmp_path).write_text('{"format": 1}')
    return ACCOUNT


def gone(tmp_path: Path) -> Account:
    index_file(tmp_path).unlink()  # an earlier samljit dropped it, leaving the chunks
    return ACCOUNT


@pytest.mark.parametrize("change", [moved, corrupt, emptied, gone])
def test_logout_removes_every_chunk_whatever_became_of_the_index(
    tmp_path: Path, clock: FakeClock, change: Callable[[Path], Account]
) -> None:
    backend = SizedKeyring()
    store = chunked_session(tmp_path, clock, backend)
    store.forget(change(tmp_path), sweep=True)
    assert backend.entries == {}
    assert list((tmp_path / "cache" / "sessions").iterdir()) == []


def test_forget_removes_the_chunks_a_stale_index_does_not_name(
    tmp_path: Path, clock: FakeClock
) -> None:
    backend = SizedKeyring()
    store = keyring_store(tmp_path, clock, backend)
    store.save(ACCOUNT, [cookie("sid", "first-session")])
    stale = index_file(tmp_path).read_text()
    store.save(ACCOUNT, [cookie("sid", "second-session")])
    assert len(backend.entries) == 1, "the first session's chunks were left behind"
    index_file(tmp_path).write_text(stale)  # a backup restored, a copy from another machine
    store.forget(ACCOUNT)
    assert backend.entries == {}


def test_without_an_index_only_logout_opens_the_keyring(tmp_path: Path, clock: FakeClock) -> None:
    opened: list[SizedKeyring] = []

    def factory() -> SizedKeyring:
        opened.append(SizedKeyring())
        return opened[-1]

    store = SessionStore(tmp_path / "cache", TERMINAL, now=clock.now, keyring=factory)
    assert store.forget(ACCOUNT) is False and opened == []  # disable_sessions, every login
    assert store.forget(ACCOUNT, sweep=True) is False and len(opened) == 1


def test_a_session_without_cookie_expiry_is_capped_at_twelve_hours(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = file_store(tmp_path, clock)
    started = clock.now()
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    info = store.describe(ACCOUNT)
    assert info is not None and info.expires == started + timedelta(hours=12)
    clock.advance(6 * 3600)  # a login that reused the session keeps it: no new lifetime
    store.save(ACCOUNT, [cookie("sid", "s3cr3t-session")])
    clock.advance(6 * 3600 - 1)
    assert store.load(ACCOUNT) is not None
    clock.advance(1)
    assert store.load(ACCOUNT) is None
    assert list((tmp_path / "cache" / "sessions").iterdir()) == []


def test_session_max_age_bounds_a_session_without_cookie_expiry(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = file_store(tmp_path, clock)
    brief = ACCOUNT._replace(session_max_age=3600)
    later = int(clock.now().timestamp()) + 7200
    store.save(brief, [cookie("sid", "s3cr3t-session"), cookie("pref", "en", expires=later)])
    clock.advance(3599)
    held = store.load(brief)
    assert held is not None and sorted(c["name"] for c in held.cookies) == ["pref", "sid"]
    clock.advance(1)
    held = store.load(brief)  # the session cookie is past the bound; the other lives on
    assert held is not None and [c["name"] for c in held.cookies] == ["pref"]


def test_status_of_another_users_session_leaves_it_and_the_keyring_alone(
    tmp_path: Path, clock: FakeClock
) -> None:
    backend = SizedKeyring()
    keyring_store(tmp_path, clock, backend).save(ALICE, [cookie("sid", "alices-session")])
    opened: list[str] = []
    status = SessionStore(
        tmp_path / "cache",
        TERMINAL,
        now=clock.now,
        keyring=lambda: opened.append("keyring"),
        leftovers=lambda: opened.append("leftovers"),
    )
    assert status.describe(ALICE._replace(username="bob@acme.example")) is None
    assert opened == [] and backend.entries and index_file(tmp_path).exists()
