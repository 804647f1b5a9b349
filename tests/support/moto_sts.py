"""A loopback STS peer for tests: moto's server app, in-process, on 127.0.0.1.

    with MotoSts() as sts:
        env = {"AWS_ENDPOINT_URL_STS": sts.url}
        ...
        assert sts.calls[-1].role_arn == role_arn

moto 5.2.5 ships ``moto.moto_server.werkzeug_app.DomainDispatcherApplication`` (the WSGI app
behind ``moto_server``; it routes unsigned ``AssumeRoleWithSAML`` bodies to STS by their
Action). ``ThreadedMotoServer`` builds the same app but gives no way to wrap it, so this module
serves it with werkzeug's ``make_server`` on an ephemeral port, behind a thin WSGI middleware:

* it records every STS call (action, RoleArn, PrincipalArn, DurationSeconds, HTTP status,
  how many Role values the assertion carried) in ``.calls``, never the assertion itself;
* it works around one moto bug, and nothing else (see :func:`_reduce_roles`).

moto checks nothing in the assertion (signature, audience, time window, whether the role is
granted) and ignores DurationSeconds: samljit's own checks are tested by samljit's tests.
moto's backends are process-global, so every ``MotoSts`` in one process shares their state.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class StsCall:
    """One request that reached the peer (the assertion is deliberately not kept)."""

    action: str | None
    role_arn: str | None
    principal_arn: str | None
    duration_seconds: int | None
    status: int
    #: Role AttributeValues in the assertion as the client sent it (None: not a SAML call or
    #: the assertion could not be read).
    role_values: int | None = None
    #: True when the middleware cut the Role attribute down for moto (see _reduce_roles).
    reduced: bool = False


def _parse_assertion(assertion_b64: str) -> Any | None:
    from lxml import etree

    try:
        xml = base64.b64decode(assertion_b64, validate=False)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return etree.fromstring(xml, parser)
    except (binascii.Error, ValueError, etree.XMLSyntaxError):
        return None


def _role_attributes(root: Any) -> list[Any]:
    return [
        attribute
        for attribute in root.iter(f"{{{SAML_NS}}}Attribute")
        if attribute.get("Name") == ROLE_ATTRIBUTE
    ]


def _pair(text: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


def _reduce_roles(
    assertion_b64: str, role_arn: str, principal_arn: str
) -> tuple[str, int | None, bool]:
    """Work around moto 5.2.5's multi-role bug; returns (assertion, role values, reduced).

    AWS lists several roles as several ``AttributeValue`` children of the one Role attribute.
    moto reads the attribute with xmltodict, which turns repeated children into a list, then
    indexes that list like a single value and answers HTTP 500. Real STS picks the value
    naming the requested RoleArn/PrincipalArn pair (in either order), so keeping only that
    value changes nothing moto would look at except what makes it crash.

    Everything else stays stock: when no value names the requested pair, or the assertion is
    unreadable, it is passed on untouched (moto does not check role membership either).
    """
    from lxml import etree

    root = _parse_assertion(assertion_b64)
    if root is None:
        return assertion_b64, None, False
    values = [
        value
        for attribute in _role_attributes(root)
        for value in attribute.iter(f"{{{SAML_NS}}}AttributeValue")
    ]
    if len(values) <= 1:
        return assertion_b64, len(values), False
    wanted = frozenset((role_arn.strip(), principal_arn.strip()))
    keep = [value for value in values if _pair(value.text) == wanted][:1]
    if not keep:
        return assertion_b64, len(values), False
    for value in values:
        if value is not keep[0]:
            value.getparent().remove(value)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return base64.b64encode(xml).decode("ascii"), len(values), True


class StsCallRecorder:
    """WSGI middleware in front of moto: records STS calls, applies :func:`_reduce_roles`."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.calls: list[StsCall] = []
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = self._read_body(environ)
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        is_form = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        pairs = (
            parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else []
        )
        params.update(pairs)
        action = params.get("Action")
        role_values: int | None = None
        reduced = False
        if action == "AssumeRoleWithSAML" and is_form:
            assertion = params.get("SAMLAssertion", "")
            new_assertion, role_values, reduced = _reduce_roles(
                assertion, params.get("RoleArn", ""), params.get("PrincipalArn", "")
            )
            if reduced:
                pairs = [(k, new_assertion if k == "SAMLAssertion" else v) for k, v in pairs]
                body = urlencode(pairs).encode("utf-8")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        status: list[int] = []

        def recording_start_response(status_line: str, headers: Any, *rest: Any) -> Any:
            status.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, *rest)

        result = self.app(environ, recording_start_response)
        if action is not None:
            duration = params.get("DurationSeconds")
            call = StsCall(
                action=action,
                role_arn=params.get("RoleArn"),
                principal_arn=params.get("PrincipalArn"),
                duration_seconds=int(duration) if duration and duration.isdigit() else None,
                status=status[0] if status else 0,
                role_values=role_values,
                reduced=reduced,
            )
            with self._lock:
                self.calls.append(call)
        return result

    @staticmethod
    def _read_body(environ: Environ) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ.get("wsgi.input")
        if stream is None or length <= 0:
            return b""
        data: bytes = stream.read(length)
        return data


class MotoSts:
    """Context manager serving moto's STS on ``http://127.0.0.1:<ephemeral port>``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.url = ""
        self._recorder: StsCallRecorder | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> list[StsCall]:
        return list(self._recorder.calls) if self._recorder is not None else []

    def start(self) -> MotoSts:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """No access log; errors are still logged by werkzeug."""

        self._recorder = StsCallRecorder(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host, 0, self._recorder, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-sts", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> MotoSts:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
