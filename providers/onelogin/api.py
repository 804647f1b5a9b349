"""OneLogin's API for a terminal client: the API credential's access token, then
``saml_assertion`` (the user's password) and ``verify_factor`` (the second factor).

v2 answers are flat (``message``, ``data``, ``state_token``…); v1 answers, and orgs that still
answer v2 that way, wrap them in an envelope (``status`` an object, ``data`` a list or the
SAMLResponse). :func:`read_answer` reads both into one :class:`Answer`. The access token is
kept in memory for this login only and reused while valid; it is never written anywhere.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from samljit.idp.api import (
    ACCEPT_JSON,
    AuthenticationError,
    ConfigError,
    HttpClient,
    SamljitError,
    Services,
    json_object,
    one_line,
)

TOKEN_PATH = "/auth/oauth2/v2/token"  # noqa: S105 (a path)
ASSERTION_PATH = {2: "/api/2/saml_assertion", 1: "/api/1/saml_assertion"}
SECRET_VARIABLE = "SAMLJIT_ONELOGIN_CLIENT_SECRET"  # noqa: S105 (its name)
#: OneLogin's words for a refused API credential (and a bearer token it no longer knows).
TOKEN_REFUSED = "Authentication Failure"  # noqa: S105 (words)
#: A token is renewed this many seconds before OneLogin's ``expires_in`` runs out.
TOKEN_MARGIN = 60.0
CREDENTIAL_HINT = (
    "check client_id (samljit configure --client-id) and the API secret in "
    f"{SECRET_VARIABLE} or the OS keyring (samljit configure --client-secret)"
)


@dataclass
class Answer:
    """One answer of OneLogin's API, v2 or v1, read the same way."""

    status: int
    message: str  # OneLogin's words, printable, one line
    #: The flat fields: v2's body, or v1's ``data[0]`` (``state_token``, ``devices``…).
    fields: dict[str, Any] = field(default_factory=dict)
    saml: str | None = None  # the SAMLResponse, on success
    pending: bool = False  # a push or SMS sent, waiting


def read_answer(status: int, body: dict[str, Any]) -> Answer:
    envelope = body.get("status")
    data = body.get("data")
    saml = data if isinstance(data, str) and data else None
    if isinstance(envelope, dict):  # v1
        message = str(envelope.get("message") or "")
        kind = str(envelope.get("type") or "").lower()
        flat = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        pending = status == 200 and kind == "pending"
    else:
        message = str(body.get("message") or "")
        flat = body
        pending = status == 200 and saml is None and "pending" in message.lower()
    return Answer(status, one_line(message), dict(flat), saml, pending)


class OneLoginApi:
    """The calls of one login, against ``base`` (the API host)."""

    def __init__(self, http: HttpClient, services: Services, base: str, client_id: str) -> None:
        self.http = http
        self.services = services
        parts = urlsplit(base)
        self.base = f"{parts.scheme}://{parts.netloc}"  # the API host: its own paths only
        self.client_id = client_id
        self.version = 2
        self._token: str | None = None
        self._valid_until = 0.0
        self.token_calls = 0

    # -- the API credential ---------------------------------------------------------------
    def token(self, secret: str) -> str:
        """The access token: the one this login holds while it is valid, else a new one."""
        if self._token is not None and self.services.monotonic() < self._valid_until:
            return self._token
        step = "OneLogin API token"
        basic = base64.b64encode(f"{self.client_id}:{secret}".encode()).decode()
        self.services.redactor.add(basic)
        self.token_calls += 1
        response = self.http.post(
            self.base + TOKEN_PATH,
            step=step,
            json={"grant_type": "client_credentials"},
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/json",
                "Accept": ACCEPT_JSON,
            },
        )
        self.http.raise_for_service_trouble(response, step=step)
        answer = read_answer(response.status_code, _body(response, step))
        if response.status_code == 401:
            raise ConfigError(
                f"OneLogin refused the API credential (client_id {self.client_id!r} with the "
                f"secret from {SECRET_VARIABLE} or the keyring): "
                f"{answer.message or 'HTTP 401'}",
                hint=CREDENTIAL_HINT,
            )
        token = answer.fields.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise SamljitError(
                f"{step}: OneLogin answered HTTP {response.status_code}"
                + (f": {answer.message}" if answer.message else " without an access token")
            )
        self.services.redactor.add(token, _text(answer.fields.get("refresh_token")))
        lifetime = answer.fields.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        self._token = token
        self._valid_until = self.services.monotonic() + max(0.0, seconds - TOKEN_MARGIN)
        return token

    def forget_token(self) -> None:
        self._token = None

    # -- calls with the token -------------------------------------------------------------
    def post(self, url: str, body: dict[str, Any], step: str, secret: str) -> Answer:
        """POST ``body`` with the bearer token; a token OneLogin no longer knows (revoked,
        expired early) is replaced once and the call sent once more."""
        for attempt in (1, 2):
            response = self.http.post(
                url,
                step=step,
                json=body,
                headers={
                    "Authorization": f"bearer:{self.token(secret)}",
                    "Content-Type": "application/json",
                    "Accept": ACCEPT_JSON,
                },
            )
            self.http.raise_for_service_trouble(response, step=step)
            if response.status_code == 404:  # no such path here (an org without v2)
                return Answer(404, "not found")
            answer = read_answer(response.status_code, _body(response, step))
            if answer.status == 401 and answer.message == TOKEN_REFUSED and attempt == 1:
                self.forget_token()
                continue
            if answer.saml:
                self.services.redactor.add(answer.saml)
            state = answer.fields.get("state_token")
            self.services.redactor.add(_text(state))
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def saml_assertion(self, body: dict[str, Any], secret: str) -> Answer:
        """The password step, v2 first; an org without the v2 path is asked on v1."""
        answer = self.post(self.base + ASSERTION_PATH[2], body, "OneLogin sign-in", secret)
        if answer.status == 404:
            self.version = 1
            answer = self.post(self.base + ASSERTION_PATH[1], body, "OneLogin sign-in", secret)
        return answer

    def callback(self, given: object) -> str:
        """The ``callback_url`` of an MFA answer, if it is on the API host; else the
        ``verify_factor`` path of this version there."""
        default = self.base + ASSERTION_PATH[self.version] + "/verify_factor"
        if not isinstance(given, str) or not given:
            return default
        ours, theirs = urlsplit(self.base), urlsplit(given)
        if (theirs.scheme, theirs.netloc.lower()) != (ours.scheme, ours.netloc.lower()):
            raise AuthenticationError(
                f"OneLogin's verify_factor link leads to {one_line(theirs.netloc)}, not to "
                f"{ours.netloc}: samljit sends the login to the API host only",
                hint="check url (the OneLogin API host, e.g. https://api.us.onelogin.com)",
            )
        return given


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _body(response: Any, step: str) -> dict[str, Any]:
    if not response.content:
        return {}
    found = json_object(response)
    if found is None:
        raise AuthenticationError(
            f"{step}: OneLogin answered HTTP {response.status_code} with something that is "
            "not JSON",
            hint="check url (the OneLogin API host, e.g. https://api.us.onelogin.com)",
        )
    return found
