"""A local STS: moto's server application, in this process, on 127.0.0.1.

    with MotoSts() as sts:
        env = {"AWS_ENDPOINT_URL_STS": sts.url}
        ...
        sts.calls[-1].role_arn

moto (``pip install 'samljit[demo]'``) ships the WSGI application behind ``moto_server``
(``DomainDispatcherApplication``; it routes unsigned ``AssumeRoleWithSAML`` bodies to STS by
their ``Action``). moto's ``ThreadedMotoServer`` builds the same application but cannot wrap
it, so :class:`MotoSts` serves it with werkzeug (a moto dependency) behind
:class:`StsCallRecorder`, a thin middleware that

* records each STS call (action, RoleArn, PrincipalArn, DurationSeconds, HTTP status, how
  many Role values the assertion carried) in ``calls``, never the assertion itself;
* works around one moto bug (see :func:`reduce_roles`) and one routing gap: moto picks the
  service of a signed request from its ``Authorization`` header, so a *presigned* STS URL
  (SigV4 in the query string, as in an EKS token from ``samljit eks-token``) sent to a
  loopback host would reach moto's S3; the middleware sends it to STS
  (see :func:`presigned_service`).

moto checks nothing in the assertion (signature, audience, validity, whether the role is
granted) and ignores DurationSeconds: it is a stand-in for trying things, not a judge.
moto's backends are process-global: every ``MotoSts`` in one process shares their state.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from samljit.common.errors import UsageError
from samljit.tools.sandbox.server import Service

if TYPE_CHECKING:
    from ssl import SSLContext

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
DEMO_EXTRA_HINT = "install it with: pip install 'samljit[demo]'"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def require_moto() -> None:
    """Raise a clear :class:`UsageError` when moto's server parts are not installed."""
    try:
        import flask  # noqa: F401  (moto[server] needs it for its server app)
        import moto  # noqa: F401
        import werkzeug  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"the local STS needs moto's server ({exc.name} is not installed)",
            hint=DEMO_EXTRA_HINT,
        ) from None


@dataclass(frozen=True)
class StsCall:
    """One request that reached the local STS (the assertion is deliberately not kept)."""

    action: str | None
    role_arn: str | None
    principal_arn: str | None
    duration_seconds: int | None
    status: int
    #: Role AttributeValues in the assertion as the client sent it (None: not a SAML call, or
    #: the assertion could not be read).
    role_values: int | None = None
    #: True when the middleware cut the Role attribute down for moto (see reduce_roles).
    reduced: bool = False
    #: The request's ``Host`` header: the STS host name the client called.
    host: str | None = None


def _read_assertion(assertion_b64: str) -> Any | None:
    from lxml import etree

    try:
        xml = base64.b64decode(assertion_b64, validate=False)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return etree.fromstring(xml, parser)
    except (binascii.Error, ValueError, etree.XMLSyntaxError):
        return None


def _pair(text: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


def reduce_roles(
    assertion_b64: str, role_arn: str, principal_arn: str
) -> tuple[str, int | None, bool]:
    """Work around moto's multi-role bug; returns (assertion, Role values, reduced).

    AWS lists several roles as several ``AttributeValue`` children of the one Role
    attribute. moto (5.2.5) reads the attribute with xmltodict, which makes repeated
    children a list, then indexes that list as if it were one value and answers HTTP 500:
    every real multi-role assertion hits it. Real STS uses the value that names the
    requested RoleArn/PrincipalArn pair (in either order), so keeping only that value
    changes nothing moto looks at, except what makes it crash.

    When no value names the requested pair, or the assertion cannot be read, it is passed
    on untouched (moto does not check role membership either).
    """
    from lxml import etree

    root = _read_assertion(assertion_b64)
    if root is None:
        return assertion_b64, None, False
    values = [
        value
        for attribute in root.iter(f"{{{SAML_NS}}}Attribute")
        if attribute.get("Name") == ROLE_ATTRIBUTE
        for value in attribute.iter(f"{{{SAML_NS}}}AttributeValue")
    ]
    if len(values) <= 1:
        return assertion_b64, len(values), False
    wanted = frozenset((role_arn.strip(), principal_arn.strip()))
    keep = next((value for value in values if _pair(value.text) == wanted), None)
    if keep is None:
        return assertion_b64, len(values), False
    for value in values:
        if value is not keep:
            value.getparent().remove(value)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return base64.b64encode(xml).decode("ascii"), len(values), True


class StsCallRecorder:
    """WSGI middleware in front of moto: records STS calls, applies :func:`reduce_roles`."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.calls: list[StsCall] = []
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
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
            assertion, role_values, reduced = reduce_roles(
                params.get("SAMLAssertion", ""),
                params.get("RoleArn", ""),
                params.get("PrincipalArn", ""),
            )
            if reduced:
                pairs = [(k, assertion if k == "SAMLAssertion" else v) for k, v in pairs]
                body = urlencode(pairs).encode("utf-8")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        statuses: list[int] = []

        def recording_start_response(status_line: str, headers: Any, *rest: Any) -> Any:
            statuses.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, *rest)

        result = self.app(environ, recording_start_response)
        if action is not None:
            duration = params.get("DurationSeconds")
            call = StsCall(
                action=action,
                role_arn=params.get("RoleArn"),
                principal_arn=params.get("PrincipalArn"),
                duration_seconds=int(duration) if duration and duration.isdigit() else None,
                status=statuses[0] if statuses else 0,
                role_values=role_values,
                reduced=reduced,
                host=environ.get("HTTP_HOST"),
            )
            with self._lock:
                self.calls.append(call)
        return result


def presigned_service(params: dict[str, str]) -> str | None:
    """The service of a request presigned with SigV4 (``X-Amz-Credential`` =
    ``KEY/DATE/REGION/SERVICE/aws4_request``), or ``None``."""
    parts = params.get("X-Amz-Credential", "").split("/")
    return parts[3] if len(parts) == 5 and parts[4] == "aws4_request" else None


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


class MotoSts(Service):
    """Context manager serving moto's STS on ``http://127.0.0.1:<port>`` (0: any free one);
    with ``tls`` (a server context), on https."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.url = ""
        self._recorder: StsCallRecorder | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> list[StsCall]:
        return list(self._recorder.calls) if self._recorder is not None else []

    def start(self) -> MotoSts:
        require_moto()
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """No access log; werkzeug still logs errors."""

        class Dispatcher(DomainDispatcherApplication):  # type: ignore[misc]
            def infer_service_region_host(self, environ: Environ, path: str) -> str | None:
                query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
                if not environ.get("HTTP_AUTHORIZATION") and presigned_service(query) == "sts":
                    return "sts.amazonaws.com"  # a presigned STS URL goes to STS, as at AWS
                host: str | None = super().infer_service_region_host(environ, path)
                return host

        self._recorder = StsCallRecorder(Dispatcher(create_backend_app))
        self._server = make_server(
            self.host,
            self.port,
            self._recorder,
            threaded=True,
            request_handler=QuietHandler,
            ssl_context=self.tls,
        )
        scheme = "https" if self.tls is not None else "http"
        self.url = f"{scheme}://{self.host}:{self._server.server_port}"
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
