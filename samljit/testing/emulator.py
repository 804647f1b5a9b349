"""The loopback emulator base every IdP emulator shares: served on 127.0.0.1 by samljit's
own loopback server, with no access log (request bodies hold passwords and codes and must
never be logged)."""

from __future__ import annotations

from typing import Any, TypeVar

from samljit.tools.sandbox.server import LoopbackServer

E = TypeVar("E", bound="LoopbackEmulator")


class LoopbackEmulator:
    """Subclasses are WSGI applications (``__call__``) and set ``self._port`` (0: any)."""

    _port: int = 0
    _server: LoopbackServer | None = None

    def start(self: E) -> E:
        server = LoopbackServer(self._port)
        server.set_app(self)  # type: ignore[arg-type]
        self._server = server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server = None

    def __enter__(self: E) -> E:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
