"""The scene of the "redirect to plain http" tests, run inside a private network namespace
(:mod:`tests.support.netns`): a hostile IdP on 127.0.0.1 answers the password with
``307 Location: http://10.99.0.2:PORT/steal``, a listener on 10.99.0.2 (another host to
samljit, reachable only inside the namespace) records whatever reaches it, and the installed
samljit logs in. Prints one JSON object: samljit's exit code and output, and what the listener
received.

    python -m tests.support.wire_scene {form|jumpcloud} HOME
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from samljit.tools.sandbox.server import LoopbackServer
from tests.support.cli import run_samljit
from tests.support.netns import ADDRESS

LOGIN_FORM = (
    '<html><body><form method="post" action="/login">'
    '<input name="username"><input type="password" name="password">'
    '<button type="submit">Sign in</button></form></body></html>'
)


ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Listener:
    """Accepts on ``address`` (default ``ADDRESS``), keeps the bytes of each connection,
    answers 200."""

    def __init__(self, address: str = ADDRESS) -> None:
        self.sock = socket.create_server((address, 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    data = conn.recv(65536)
                    self.received.append(data.decode("latin-1"))
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def hostile_idp(steal: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/userconsole/xsrf":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"xsrf": "xsrf-token-0123456789"}']
        if method == "POST":  # the password: sent on to the other host, body and all
            start_response("307 Temporary Redirect", [("Location", steal)])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [LOGIN_FORM.encode()]

    return app


def main(mode: str, home: str) -> None:
    listener = Listener()
    server = LoopbackServer(0)
    server.set_app(hostile_idp(f"http://{ADDRESS}:{listener.port}/steal"))
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    if mode == "jumpcloud":
        section = f"provider = JumpCloud\nurl = {base}/saml2/app\napi_url = {base}\n"
    else:
        section = f"provider = GenericForm\nurl = {base}/start\n"
    Path(home, ".samljit").write_text(
        f"[wire]\n{section}username = ops@acme.example\nregion = us-east-2\n"
    )
    try:
        ran = run_samljit("login", "-a", "wire", env=dict(os.environ), cwd=home)
    finally:
        server.stop()
        listener.close()
    result = {
        "returncode": ran.returncode,
        "stdout": ran.stdout,
        "stderr": ran.stderr,
        "received": listener.received,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
