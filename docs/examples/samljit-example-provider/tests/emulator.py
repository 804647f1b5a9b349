"""An emulator of ExampleCorp's sign-in API, on samljit's testing kit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import LoopbackEmulator
from samljit.testing.saml import signed_response, signing_pair


class ExampleCorpEmulator(LoopbackEmulator):
    def __init__(
        self,
        keys_dir: Path,
        *,
        username: str,
        password: str,
        tenant: str,
        roles: Sequence[tuple[str, str]],
    ) -> None:
        self.pair = signing_pair(keys_dir)
        self.username, self.password, self.tenant = username, password, tenant
        self.roles = list(roles)
        self.issued: list[str] = []
        self.requests: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        self.requests.append(f"{request.method} {request.path}")
        if request.method != "POST" or request.path != "/api/login":
            return Response("not found", 404)(environ, start_response)
        body = request.get_json(silent=True) or {}
        if (body.get("username"), body.get("password"), body.get("tenant")) != (
            self.username,
            self.password,
            self.tenant,
        ):
            reply = {"error": "invalid credentials"}
            return Response(json.dumps(reply), 401, mimetype="application/json")(
                environ, start_response
            )
        encoded = signed_response(
            issuer=self.base_url, user=self.username, roles=self.roles, pair=self.pair
        )
        self.issued.append(encoded)
        reply = {"SAMLResponse": encoded}
        return Response(json.dumps(reply), mimetype="application/json")(environ, start_response)
