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
        mfa_user: tuple[str, str, str] | None = None,
    ) -> None:
        self.pair = signing_pair(keys_dir)
        self.username, self.password, self.tenant = username, password, tenant
        self.roles = list(roles)
        #: (username, password, one-time code) of a user with a second factor
        self.mfa_user = mfa_user
        self.issued: list[str] = []
        self.requests: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        self.requests.append(f"{request.method} {request.path}")
        if request.method != "POST" or request.path != "/api/login":
            return Response("not found", 404)(environ, start_response)
        body = request.get_json(silent=True) or {}
        said = (body.get("username"), body.get("password"), body.get("tenant"))
        user = self.username
        if self.mfa_user is not None and said == (*self.mfa_user[:2], self.tenant):
            user = self.mfa_user[0]
            if "code" not in body:
                return self._json({"error": "a second factor is needed", "mfa": "totp"}, 401)(
                    environ, start_response
                )
            if body["code"] != self.mfa_user[2]:
                return self._json({"error": "wrong code"}, 401)(environ, start_response)
        elif said != (self.username, self.password, self.tenant):
            return self._json({"error": "invalid credentials"}, 401)(environ, start_response)
        encoded = signed_response(issuer=self.base_url, user=user, roles=self.roles, pair=self.pair)
        self.issued.append(encoded)
        return self._json({"SAMLResponse": encoded})(environ, start_response)

    @staticmethod
    def _json(reply: dict[str, str], status: int = 200) -> Response:
        return Response(json.dumps(reply), status, mimetype="application/json")
