"""The loopback emulator base every IdP emulator shares: served on 127.0.0.1 by samljit's
own loopback server, with no access log (request bodies hold passwords and codes and must
never be logged).

:class:`RecordingEmulator` adds what tests look at and steer: the requests seen (bodies
redacted by the emulator), the SAMLResponses and session cookies handed out, and answers forced
for the next requests to a path (:meth:`fail_next`).

:data:`ISSUED` is where every emulator of the process writes each secret it hands out (every
cookie it sets, SAMLResponses, state and flow tokens, authorization codes, API tokens): the
leak check reads it after each test and clears it before the next, so it sees the secrets of
every emulator a test used, a fixture or one started in the test's body alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from samljit.tools.sandbox.server import LoopbackServer, Service

if TYPE_CHECKING:
    from ssl import SSLContext

E = TypeVar("E", bound="LoopbackEmulator")
T = TypeVar("T")
#: How often an emulator's serving loop looks for :meth:`LoopbackEmulator.stop` (seconds).
STOP_POLL = 0.01
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class IssuedSecrets:
    """Every secret handed out in this process since the last :meth:`clear`: ``secrets``
    (looked for in any form, anywhere) and ``codes`` (one-time codes sent out of band,
    looked for as numbers on their own). Thread-safe: emulators serve from threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: list[str] = []
        self._codes: list[str] = []
        self._sources: list[Callable[[], Iterable[str]]] = []

    def secret(self, value: str) -> str:
        """Record ``value`` (returned, to wrap where it is made)."""
        if value:
            with self._lock:
                self._secrets.append(value)
        return value

    def code(self, value: str) -> str:
        """Record a one-time code sent to the user (returned)."""
        with self._lock:
            self._codes.append(value)
        return value

    def watch(self, source: Callable[[], Iterable[str]]) -> None:
        """Also ask ``source`` for its secrets whenever they are read, until :meth:`unwatch`
        (for a real IdP in a test, whose sessions only it knows; :meth:`clear` keeps it)."""
        with self._lock:
            self._sources.append(source)

    def unwatch(self, source: Callable[[], Iterable[str]]) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)

    @property
    def secrets(self) -> list[str]:
        with self._lock:
            found, sources = list(self._secrets), list(self._sources)
        return found + [value for source in sources for value in source() if value]

    @property
    def codes(self) -> list[str]:
        with self._lock:
            return list(self._codes)

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._codes.clear()


#: The process's registry (the leak check's fixture reads and clears it around each test).
ISSUED = IssuedSecrets()


class LoopbackEmulator(Service):
    """Subclasses are WSGI applications (``__call__``) and set ``self._port`` (0: any); to
    serve on a loopback name of their own (its cookies apart from other hosts'), ``self.host``
    (``127.0.0.N``); and ``self._tls`` (a server context) to serve https."""

    _port: int = 0
    _tls: SSLContext | None = None
    _server: LoopbackServer | None = None
    host: str = "127.0.0.1"

    def start(self: E) -> E:
        # a short poll: a test's emulator stops in milliseconds, not the server's usual 0.2 s
        server = LoopbackServer(self._port, self.host, tls=self._tls, poll_interval=STOP_POLL)
        server.set_app(self._served())
        self._server = server.start()
        return self

    def _served(self) -> WsgiApp:
        """The WSGI application the server runs: the emulator itself."""
        return self  # type: ignore[return-value]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.port

    @property
    def base_url(self) -> str:
        return self.origin(self.host)

    def origin(self, host: str) -> str:
        """The emulator's origin under the loopback name ``host`` (its port, plain http)."""
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the emulator saw it: ``path`` without the query string (it may hold
    tokens), ``body`` the fields the emulator chose to keep, secrets redacted."""

    method: str
    path: str
    body: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    """An answer forced for the next ``remaining`` requests whose path starts with ``prefix``;
    ``body`` and ``headers`` mean what the emulator makes of them."""

    prefix: str
    status: int
    remaining: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


class RecordingEmulator(LoopbackEmulator):
    """A :class:`LoopbackEmulator` that records. Subclasses call ``super().__init__(port)``,
    hold :attr:`_lock` while they dispatch a request, and call :meth:`_record` for each
    request, :meth:`_next_failure` before answering it, :meth:`_note_issued` for each SAMLResponse,
    :meth:`_note_cookie` for each session cookie value, :meth:`_note_secret` for each other
    secret they hand out (tokens, codes) and :meth:`_note_code` for each one-time code sent to
    the user (or received from one). Every cookie an emulator sets is recorded by itself:
    the served application reads the ``Set-Cookie`` headers (:attr:`cookies_set`)."""

    #: Whether the IdP's paths are matched without case (``fail_next``'s prefix, ``count``):
    #: then the emulator hands :meth:`_next_failure` its paths in lower case.
    paths_ignore_case = False

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._lock = threading.RLock()
        self._log: list[LoggedRequest] = []
        self._issued: list[str] = []
        self._issued_cookies: list[str] = []
        self._cookies_set: list[tuple[str, str]] = []
        self._noted_secrets: list[str] = []
        self._noted_codes: list[tuple[Any, str]] = []
        self._failures: list[Failure] = []

    # -- what tests look at ---------------------------------------------------------------------
    def _snapshot(self, items: Iterable[T]) -> list[T]:
        """``items`` as a list, read under the emulator's lock (the serving thread may be
        adding to them)."""
        with self._lock:
            return list(items)

    @property
    def log(self) -> list[LoggedRequest]:
        """Every request so far (a snapshot), bodies redacted."""
        return self._snapshot(self._log)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every request so far as ``(method, path)`` (a snapshot)."""
        return self._snapshot((r.method, r.path) for r in self._log)

    def count(self, method: str, path: str) -> int:
        """Requests so far with this method and path."""
        return sum(1 for m, p in self.requests if m == method and self._path(p) == self._path(path))

    def _path(self, path: str) -> str:
        return path.lower() if self.paths_ignore_case else path

    @property
    def issued(self) -> list[str]:
        """Every SAMLResponse served (tests check none of them leaked)."""
        return self._snapshot(self._issued)

    @property
    def issued_cookies(self) -> list[str]:
        """Every session cookie value set (the leak check looks for them)."""
        return self._snapshot(self._issued_cookies)

    @property
    def cookies_set(self) -> list[tuple[str, str]]:
        """Every cookie set so far, as ``(name, value)`` (deletions left out)."""
        return self._snapshot(self._cookies_set)

    @property
    def secrets_issued(self) -> list[str]:
        """Every secret noted with :meth:`_note_secret` (tokens, state, codes, ...), in order."""
        return self._snapshot(self._noted_secrets)

    @property
    def codes_issued(self) -> list[str]:
        """Every one-time code noted with :meth:`_note_code`, in order."""
        return self._snapshot(code for _, code in self._noted_codes)

    @property
    def sent_codes(self) -> list[tuple[Any, str]]:
        """``(to, code)`` for each one-time code sent ``to`` a factor, device or user."""
        return self._snapshot((to, code) for to, code in self._noted_codes if to is not None)

    def last_code(self, to: Any) -> str:
        """The code sent ``to`` last."""
        codes: list[str] = [code for sent_to, code in self.sent_codes if sent_to == to]
        return codes[-1]

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        count: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` requests whose path starts with ``path_prefix`` with
        ``status`` (and ``body``, ``headers``, as the emulator renders them)."""
        with self._lock:
            failure = Failure(self._path(path_prefix), status, count, body, dict(headers or {}))
            self._failures.append(failure)

    # -- for subclasses ---------------------------------------------------------------------------
    def _record(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> None:
        self._log.append(LoggedRequest(method, path, dict(body or {})))

    def _next_failure(self, path: str) -> Failure | None:
        """The forced answer this request to ``path`` gets, if any (counted down)."""
        for failure in self._failures:
            if path.startswith(failure.prefix) and failure.remaining > 0:
                failure.remaining -= 1
                self._failures = [f for f in self._failures if f.remaining > 0]
                return failure
        return None

    def _note_issued(self, encoded: str) -> str:
        self._issued.append(encoded)
        return ISSUED.secret(encoded)

    def _note_cookie(self, value: str) -> str:
        self._issued_cookies.append(value)
        return ISSUED.secret(value)

    def _note_secret(self, value: str) -> str:
        """Record a secret handed out other than a SAMLResponse or a cookie (returned)."""
        if value:
            with self._lock:
                self._noted_secrets.append(value)
        return ISSUED.secret(value)

    def _note_code(self, value: str, to: Any = None) -> str:
        """Record a one-time code (returned): sent ``to`` a factor, device or user out of band
        (:attr:`sent_codes`), or, with no ``to``, one the user typed."""
        with self._lock:
            self._noted_codes.append((to, value))
        return ISSUED.code(value)

    def _served(self) -> WsgiApp:
        app = super()._served()

        def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            def noting(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
                for name, value in headers:
                    if name.lower() == "set-cookie":
                        self._cookie_set(value)
                return start_response(status, headers, *rest)

            return app(environ, noting)

        return recording

    def _cookie_set(self, header: str) -> None:
        name, _, value = header.split(";", 1)[0].partition("=")
        value = value.strip().strip('"')
        if value:
            with self._lock:
                self._cookies_set.append((name.strip(), value))
            ISSUED.secret(value)
