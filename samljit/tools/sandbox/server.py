"""Serve a WSGI application on loopback with the standard library (``wsgiref``), one thread
per request; in the foreground (``samljit sandbox serve``) or in a background thread
(``samljit demo``, tests).

The socket is bound when the :class:`LoopbackServer` is created, so its URL is known and it
accepts connections before any thread starts: nothing has to wait for it to come up.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from samljit.common.errors import UsageError

if TYPE_CHECKING:
    from ssl import SSLContext

HOST = "127.0.0.1"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that refused the TLS handshake (an untrusted certificate) or went away is
        the client's business: no traceback on stderr for it."""
        import ssl
        import sys

        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr (the application reports what matters)."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


S = TypeVar("S", bound="Service")


class Service:
    """Something with :meth:`start` (returning itself) and :meth:`stop`; as a context manager
    it is started on entry and stopped on exit."""

    def start(self: S) -> S:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LoopbackServer(Service):
    """``LoopbackServer(port)`` binds ``127.0.0.1:port`` (0: any free port); :meth:`serve`
    (foreground) or :meth:`start` (background thread) runs ``app`` set with :meth:`set_app`.
    ``url_host`` names the host in :attr:`url` (``localhost``: what WebAuthn needs, a domain
    as the RP ID); the socket is bound to ``host`` all the same. With ``tls`` (a server
    context holding its certificate) it serves https; each connection's handshake happens in
    its own thread, on the first read. ``poll_interval``: how often the serving loop looks
    for :meth:`stop` (what a stop waits at most)."""

    def __init__(
        self,
        port: int = 0,
        host: str = HOST,
        *,
        url_host: str | None = None,
        tls: SSLContext | None = None,
        poll_interval: float = 0.2,
    ) -> None:
        self._poll_interval = poll_interval
        try:
            self._server = _ThreadingServer((host, port), _QuietHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {host} is in use", hint="pick another with --port (0: any)"
                ) from None
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        if tls is not None:
            self._server.socket = tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.host = host
        self.port: int = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{url_host or host}:{self.port}"
        self._thread: threading.Thread | None = None

    def set_app(self, app: WsgiApp) -> None:
        self._server.set_app(app)

    def serve(self) -> None:
        """Serve in this thread until :meth:`stop` (from another thread) or an exception
        (Ctrl-C) ends it."""
        self._server.serve_forever(poll_interval=self._poll_interval)

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self.serve, name=f"http-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        """Entering does not start it: ``serve()`` may run it in the foreground instead."""
        return self
