"""What the HTML-form IdP emulators (Keycloak, Shibboleth, ADFS) share: users, the loopback
werkzeug server in a thread, page templates from ``fixtures/forms/``, the signed assertion,
and a record of every request and form post (secret values masked) for tests to check.

Each emulator keeps the real product's field names, form ids and actions, hidden inputs,
cookies and error markup (see ``fixtures/forms/README.md``); everything else is trimmed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from samljit.tools.sandbox.response import RoleGrant
from tests.emulators.common import SigningIdp, totp_verify

FORMS = Path(__file__).resolve().parents[2] / "fixtures" / "forms"
AWS_URN = "urn:amazon:webservices"
MASK = "***"
SECRET_FIELDS = frozenset(
    {
        "password",
        "passwd",
        "j_password",
        "otp",
        "totp",
        "verificationcode",
        "mfatoken",
        "ppm_request",
        "ppm_response",
        "csrftoken",
    }
)
_BLOCK = re.compile(r"<!--if:(\w+)-->(.*?)<!--end:\1-->", re.DOTALL)
_PLACEHOLDER = re.compile(r"\$(\w+)")


@dataclass
class FormUser:
    username: str
    password: str = field(repr=False)
    roles: Sequence[RoleGrant] = ()
    #: Base32 TOTP secret: the IdP asks for a one-time code after the password.
    totp_secret: str | None = field(default=None, repr=False)
    #: ADFS only: "push" shows Azure MFA's approve-on-the-phone page instead of a code.
    mfa: str = "code"
    session_duration: int | None = 3600

    def code_ok(self, code: str) -> bool:
        return bool(self.totp_secret) and totp_verify(self.totp_secret or "", code.strip())


def render(template: str, **values: object) -> str:
    """A page from ``fixtures/forms/<template>``: ``<!--if:x-->…<!--end:x-->`` blocks kept
    only when ``x`` has a value, then ``$x`` replaced by the HTML-escaped value."""
    text = (FORMS / template).read_text(encoding="utf-8")
    text = _BLOCK.sub(lambda m: m.group(2) if values.get(m.group(1)) else "", text)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return html.escape(str(values[name] or ""), quote=True)

    return _PLACEHOLDER.sub(value, text)


class FormIdp(SigningIdp):
    """Base of the form-IdP emulators: subclasses implement :meth:`dispatch`."""

    product = "IdP"

    def __init__(self, users: Iterable[FormUser] = (), *, port: int = 0) -> None:
        self.users = {u.username.lower(): u for u in users}
        super().__init__(port)
        self._posts: list[tuple[str, list[tuple[str, str]]]] = []

    @property
    def start_url(self) -> str:
        raise NotImplementedError

    # -- test hooks --------------------------------------------------------------------------
    def add_user(self, user: FormUser) -> None:
        with self._lock:
            self.users[user.username.lower()] = user

    @property
    def posts(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Every form POST as ``(path, pairs)`` in the order sent; secret values masked."""
        with self._lock:
            return [(p, list(pairs)) for p, pairs in self._posts]

    def posts_with(self, name: str) -> int:
        """How many POSTs carried a field called ``name``."""
        return sum(1 for _, pairs in self.posts if any(k == name for k, _ in pairs))

    def cookie(self, response: Response, name: str, value: str, **options: Any) -> None:
        """Set a cookie on ``response`` and remember its value in :attr:`issued_cookies`."""
        response.set_cookie(name, self._note_cookie(value), httponly=True, **options)

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        with self._lock:
            self._record(request.method, request.path)
            if request.method == "POST":
                pairs = list(request.form.items(multi=True))
                masked = [(k, MASK if k.lower() in SECRET_FIELDS and v else v) for k, v in pairs]
                self._posts.append((request.path, masked))
            response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------
    def find(self, username: str) -> FormUser | None:
        return self.users.get(username.strip().lower())

    def check(self, username: str, password: str) -> FormUser | None:
        user = self.find(username)
        return user if user is not None and user.password == password else None

    def assertion(self, user: FormUser) -> str:
        """A signed SAMLResponse for AWS, remembered in :attr:`issued`."""
        issuer = f"{self.base_url}/{self.product.lower()}"
        return self._signed_response(issuer, user.username, user.roles, user.session_duration)

    @staticmethod
    def page(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        response = Response(text, status=status, mimetype="text/html")
        response.headers["Content-Type"] = "text/html;charset=UTF-8"
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    @staticmethod
    def redirect(location: str, status: int = 302) -> Response:
        response = Response("", status=status)
        response.headers["Location"] = location
        return response
