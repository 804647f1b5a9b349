"""A tampering proxy between an ECP client and a real ECP IdP, for the ACS check of the ECP
profile (shared protocols page ``ecp.md`` §4 step 3): an attacker on the path (or an IdP
misconfigured into delivering elsewhere) changes where the Response is meant to go, and the
client must notice before anything reaches STS.

    with EcpTamperProxy(idp.ecp_url, rewrite_acs="https://evil.example/saml") as proxy:
        # point the client's `url` at proxy.url

Every request is forwarded to ``upstream`` as it came (method, body, ``Content-Type``,
``Authorization``, ``Cookie``, the Duo headers); the answer comes back with its status,
``Content-Type`` and ``Set-Cookie``, and, when it is a SOAP envelope:

* ``rewrite_acs``: the ``ecp:Response`` header's ``AssertionConsumerServiceURL`` is replaced
  (the header is not covered by any signature, so the Response stays validly signed: only the
  comparison with the AuthnRequest's ACS catches it);
* ``rewrite_destination``: the ``samlp:Response``'s ``Destination`` is replaced (this breaks
  the IdP's signature over the Response, which pinning must catch as well);
* ``drop_header``: the ``ecp:Response`` header block is removed.

The proxy keeps no bodies: :attr:`forwarded` counts requests, :attr:`tampered` counts answers
it changed.
"""

from __future__ import annotations

import base64
import hmac
import threading
from collections.abc import Callable, Iterable
from typing import Any

from samljit.testing.emulator import ISSUED, LoopbackEmulator
from tests.support.simplesamlphp_ecp import NS

#: Request headers passed on to the IdP (WSGI names → HTTP names).
FORWARDED_HEADERS = {
    "CONTENT_TYPE": "Content-Type",
    "HTTP_AUTHORIZATION": "Authorization",
    "HTTP_COOKIE": "Cookie",
    "HTTP_SOAPACTION": "SOAPAction",
    "HTTP_X_SHIBBOLETH_DUO_FACTOR": "X-Shibboleth-Duo-Factor",
    "HTTP_X_SHIBBOLETH_DUO_DEVICE": "X-Shibboleth-Duo-Device",
    "HTTP_X_SHIBBOLETH_DUO_PASSCODE": "X-Shibboleth-Duo-Passcode",
}


class EcpTamperProxy(LoopbackEmulator):
    """A loopback HTTP proxy to one ECP endpoint that rewrites the answers (see the module)."""

    def __init__(
        self,
        upstream: str,
        *,
        rewrite_acs: str | None = None,
        rewrite_destination: str | None = None,
        drop_header: bool = False,
        port: int = 0,
    ) -> None:
        self.upstream = upstream
        self.rewrite_acs = rewrite_acs
        self.rewrite_destination = rewrite_destination
        self.drop_header = drop_header
        self._port = port
        self._lock = threading.Lock()
        self.forwarded = 0
        self.tampered = 0

    @property
    def url(self) -> str:
        """Where the client posts instead of ``upstream`` (same path)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.upstream)
        return f"{self.base_url}{parts.path}"

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        import requests

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        refused = self._refusal(environ)
        if refused is not None:
            status, text = refused
            start_response(
                status, [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))]
            )
            return [text]
        headers = {
            name: environ[key] for key, name in FORWARDED_HEADERS.items() if environ.get(key)
        }
        answer = requests.request(
            environ["REQUEST_METHOD"],
            self.upstream,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
        content = answer.content
        changed = self._tamper(content)
        with self._lock:
            self.forwarded += 1
            self.tampered += changed is not None
        content = changed if changed is not None else content
        out = [("Content-Length", str(len(content)))]
        if "Content-Type" in answer.headers:
            out.append(("Content-Type", answer.headers["Content-Type"]))
        out.extend(("Set-Cookie", value) for value in _set_cookies(answer))
        start_response(f"{answer.status_code} {answer.reason}", out)
        return [content]

    def _refusal(self, environ: dict[str, Any]) -> tuple[str, bytes] | None:
        """An answer given instead of forwarding (a subclass's gate), or None to forward."""
        return None

    def _tamper(self, content: bytes) -> bytes | None:
        """The rewritten answer, or None when it is not a SOAP envelope or nothing applies."""
        from lxml import etree

        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            root = etree.fromstring(content, parser)
        except etree.XMLSyntaxError:
            return None
        if root.tag != f"{{{NS['S']}}}Envelope":
            return None
        changed = False
        header = root.find("S:Header/ecp:Response", NS)
        if header is not None and self.drop_header:
            header.getparent().remove(header)
            changed = True
        elif header is not None and self.rewrite_acs is not None:
            header.set("AssertionConsumerServiceURL", self.rewrite_acs)
            changed = True
        response = root.find("S:Body/samlp:Response", NS)
        if response is not None and self.rewrite_destination is not None:
            response.set("Destination", self.rewrite_destination)
            changed = True
        if not changed:
            return None
        rewritten: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
        return rewritten


def _set_cookies(answer: Any) -> list[str]:
    """Every ``Set-Cookie`` header of a ``requests`` answer, one by one."""
    raw = getattr(answer.raw, "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        return [str(value) for value in raw.getlist("Set-Cookie")]
    value = answer.headers.get("Set-Cookie")
    return [value] if value else []


class ShibbolethDuoGate(EcpTamperProxy):
    """A Shibboleth IdP's Duo AuthAPI step in front of a real ECP IdP (``ecp.md`` §6), changing
    nothing else: a Basic-auth login of a user in ``passcodes`` passes only with
    ``X-Shibboleth-Duo-Factor: passcode`` and that user's ``X-Shibboleth-Duo-Passcode``; anything
    else (no Duo headers: a push nobody answers) is refused as Shibboleth refuses credentials,
    with a 401 whose body is not SAML (§5). Requests without Basic auth (a kept IdP session) and
    other users go through untouched."""

    def __init__(self, upstream: str, passcodes: dict[str, str], *, port: int = 0) -> None:
        super().__init__(upstream, port=port)
        self.passcodes = dict(passcodes)
        for code in self.passcodes.values():
            ISSUED.code(code)

    def _refusal(self, environ: dict[str, Any]) -> tuple[str, bytes] | None:
        scheme, _, value = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        if scheme.lower() != "basic":
            return None
        username = base64.b64decode(value).decode("utf-8", "replace").partition(":")[0]
        expected = self.passcodes.get(username)
        if expected is None:
            return None
        factor = environ.get("HTTP_X_SHIBBOLETH_DUO_FACTOR", "")
        passcode = environ.get("HTTP_X_SHIBBOLETH_DUO_PASSCODE", "")
        if factor == "passcode" and hmac.compare_digest(passcode, expected):
            return None
        return "401 Unauthorized", b"Duo authentication failed"
