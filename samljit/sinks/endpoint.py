"""A credential endpoint on loopback in the AWS container-credentials format (the sink of
``exec --server`` and ``serve``).

Every AWS SDK and the AWS CLI read ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and
``AWS_CONTAINER_AUTHORIZATION_TOKEN``: they GET the URI with the token as the whole value of
the ``Authorization`` header and receive JSON ``AccessKeyId``, ``SecretAccessKey``,
``Token``, ``Expiration``; they ask again by themselves shortly before ``Expiration``.

The endpoint binds 127.0.0.1 only, answers only a request carrying this run's random token
(compared in constant time), and holds nothing itself: each answer comes from ``source``,
which returns the credentials or raises a samljit error (HTTP 500, JSON ``{"code",
"message"}``). It logs nothing (the token and the keys never reach a log).

The standard library's HTTP server is imported when the endpoint starts, not before.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from samljit.aws.credentials import AwsCredentials
from samljit.common.errors import SamljitError, UsageError
from samljit.common.text import rfc3339

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

#: Loopback only: nothing else on the network can reach the keys.
HOST = "127.0.0.1"
#: The path of the credentials (the SDKs take any path of the full URI).
PATH = "/samljit/credentials"
#: The environment variables the SDKs read.
URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"  # noqa: S105 (a name, not a token)
#: Variables that would win over the endpoint in the SDKs' credential chains.
SHADOWING = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)

Source = Callable[[], AwsCredentials]


def credentials_json(credentials: AwsCredentials) -> bytes:
    """The container-credentials answer for ``credentials``."""
    return json.dumps(
        {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token,
            "Expiration": rfc3339(credentials.expiration),
        }
    ).encode()


def error_json(error: SamljitError) -> bytes:
    """The answer when no valid credentials are left: ``{"code", "message"}``."""
    code = getattr(error, "code", None) or type(error).__name__
    return json.dumps({"code": str(code), "message": error.message}).encode()


class Endpoint:
    """The running endpoint: ``url`` and ``token`` go into the SDKs' environment."""

    def __init__(self, source: Source, *, port: int = 0) -> None:
        self.token = secrets.token_urlsafe(32)
        self._server = _bind(port, source, self.token)
        self.port: int = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}{PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="samljit-endpoint", daemon=True
        )

    def environment(self) -> dict[str, str]:
        """The two variables an SDK needs to use the endpoint."""
        return {URI_VARIABLE: self.url, TOKEN_VARIABLE: self.token}

    def start(self) -> Endpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(port: int, source: Source, token: str) -> ThreadingHTTPServer:
    import errno
    from http.server import ThreadingHTTPServer

    handler = _handler_class(source, token.encode())
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {HOST} is in use",
                hint="pick another with --port, or leave it out for a free one",
            ) from None
        if exc.errno == errno.EACCES:
            raise UsageError(
                f"port {port} on {HOST} may not be used by this user",
                hint="pick a port above 1023 with --port",
            ) from None
        raise


def _handler_class(source: Source, token: bytes) -> Any:
    import hmac
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        server_version = "samljit"
        sys_version = ""

        def do_GET(self) -> None:
            given = self.headers.get("Authorization")
            if given is None:
                self._answer(401, b'{"code": "Unauthorized", "message": "no token"}')
                return
            # compare_digest takes as long whatever the first differing byte is
            if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token):
                self._answer(403, b'{"code": "Forbidden", "message": "wrong token"}')
                return
            if self.path.split("?", 1)[0] != PATH:
                self._answer(404, b'{"code": "NotFound", "message": "no such path"}')
                return
            try:
                body = credentials_json(source())
            except SamljitError as exc:
                self._answer(500, error_json(exc))
                return
            self._answer(200, body)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # nothing is logged: no token, no keys, no noise on samljit's stderr

    return Handler
