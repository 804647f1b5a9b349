"""Loopback stand-ins for the two AWS peers an encrypted assertion meets (contract bullet
"Encrypted assertions"): the AWS sign-in page (``POST /saml`` with a SAMLResponse → the role
choice page) and STS (``AssumeRoleWithSAML``), both holding the test "IAM" private key
(tests/support/saml_encrypt.py), as only AWS does.

    with SigninPage(iam.key_pem, shape="classic", aliases={"111122223333": "prod"}) as page:
        env["SAMLJIT_SIGNIN_URL"] = page.saml_url
    with MotoSts() as moto, DecryptingSts(moto.url, iam.key_pem) as sts:
        env["AWS_ENDPOINT_URL_STS"] = sts.url

**The sign-in page** answers ``POST /saml`` (also ``/saml/acs/<id>``, the per-provider path
of IAM's newer SAML providers) with one of the two page shapes AWS serves. The page texts are
this project's own; what they keep from the real pages is the structure clients read:

* ``classic``: a ``form#saml_form`` whose ``fieldset`` holds one ``div.saml-account`` per
  account, its ``div.saml-account-name`` reading ``Account: ALIAS (ID)`` (``Account: ID``
  without an alias), and per role a ``div.saml-role`` with an ``input[type=radio]
  [name=roleIndex]`` whose ``value`` and ``id`` are the role ARN and a ``label[for=ARN]``
  holding the role name;
* ``json``: the newer Next.js page, whose data is JSON in ``<script id="__NEXT_DATA__"
  type="application/json">`` (``props.pageProps.accounts``: ``accountId``, ``accountName``
  (null without an alias), ``roles``: ``roleArn``, ``roleName``), plus the rendered list it
  draws (``a`` elements whose ``id`` is the role ARN), as reported in saml2aws issue #1110.
  The JSON key names are this stand-in's guess at the shape, not copied from a capture.

A response it cannot decrypt, that grants no role, or an answer forced with
:meth:`SigninPage.refuse_next`, gets the error page with :data:`INVALID_RESPONSE_TEXT`
(HTTP 200, as AWS answers). With ``single_role_redirect`` a one-role response is answered
as AWS sometimes does: a 302 to the console, no role page at all. The page never calls STS.

**The STS** stand-in sits in front of moto (tests/support/moto_sts.py): it decrypts the
``SAMLAssertion`` of an ``AssumeRoleWithSAML`` with the IAM key and hands the plain Response
to moto; a plain assertion is refused with ``require_encryption`` (an IAM provider set to
"Required"); a Response it cannot decrypt is refused with the AWS error XML. It records a
SHA-256 of each ``SAMLAssertion`` exactly as received (never the assertion), so a test can
prove the client passed the IdP's encrypted SAMLResponse byte for byte.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from samljit.errors import SamljitError
from samljit.testing.emulator import LoopbackEmulator
from tests.support.saml_encrypt import DecryptionError, decrypt_response, is_encrypted

PageShape = Literal["classic", "json"]
#: The words of AWS's sign-in page for a SAMLResponse it refuses.
INVALID_RESPONSE_TEXT = "Your request included an invalid SAML response. To logout, click here."
CONSOLE_URL = "https://console.aws.amazon.com/console/home"
STS_ERROR_CODE = "InvalidIdentityToken"


@dataclass(frozen=True)
class PageRole:
    account_id: str
    role_arn: str
    principal_arn: str

    @property
    def name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]


def _read_form(environ: Mapping[str, Any]) -> dict[str, str]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _roles_of(encoded: str, key_pem: bytes) -> list[PageRole]:
    """The roles AWS would read: decrypted when encrypted (raises DecryptionError or a
    SamljitError for what it cannot read)."""
    from samljit.saml import assertion as saml

    plain = decrypt_response(encoded, key_pem) if is_encrypted(encoded) else encoded
    return [
        PageRole(role.role_arn.split(":")[4], role.role_arn, role.principal_arn)
        for role in saml.parse(plain).roles
    ]


class SigninPage(LoopbackEmulator):
    """The AWS SAML sign-in page on loopback (see the module)."""

    def __init__(
        self,
        iam_key_pem: bytes,
        *,
        shape: PageShape = "classic",
        aliases: Mapping[str, str] | None = None,
        single_role_redirect: bool = False,
        port: int = 0,
    ) -> None:
        self.iam_key_pem = iam_key_pem
        self.shape = shape
        self.aliases = dict(aliases or {})
        self.single_role_redirect = single_role_redirect
        self._port = port
        self._lock = threading.Lock()
        self._refusals: list[str] = []
        #: ``(method, path)`` of every request (no bodies: they hold the SAMLResponse).
        self.requests: list[tuple[str, str]] = []

    @property
    def saml_url(self) -> str:
        return f"{self.base_url}/saml"

    def refuse_next(self, text: str = INVALID_RESPONSE_TEXT) -> None:
        """Answer the next POST with the error page carrying ``text``."""
        with self._lock:
            self._refusals.append(text)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        with self._lock:
            self.requests.append((method, path))
            refusal = self._refusals.pop(0) if self._refusals else None
        if method != "POST" or not (path == "/saml" or path.startswith("/saml/acs/")):
            return _answer(start_response, "404 Not Found", "<p>Not found</p>")
        encoded = _read_form(environ).get("SAMLResponse", "")
        if refusal is None:
            try:
                roles = _roles_of(encoded, self.iam_key_pem)
            except (DecryptionError, SamljitError, ValueError):
                roles = []
            if not roles:
                refusal = INVALID_RESPONSE_TEXT
        if refusal is not None:
            return _answer(start_response, "200 OK", error_page(refusal))
        if self.single_role_redirect and len(roles) == 1:
            start_response("302 Found", [("Location", CONSOLE_URL), ("Content-Length", "0")])
            return [b""]
        page = (
            classic_page(roles, self.aliases, encoded, path)
            if self.shape == "classic"
            else json_page(roles, self.aliases)
        )
        return _answer(start_response, "200 OK", page)


def _answer(start_response: Callable[..., Any], status: str, page: str) -> list[bytes]:
    body = page.encode("utf-8")
    start_response(
        status,
        [("Content-Type", "text/html;charset=UTF-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _by_account(roles: Iterable[PageRole]) -> dict[str, list[PageRole]]:
    accounts: dict[str, list[PageRole]] = {}
    for role in roles:
        accounts.setdefault(role.account_id, []).append(role)
    return accounts


def error_page(text: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>Amazon Web Services Sign-In</title></head><body>"
        '<div id="container"><div id="content"><div id="error" class="alert-error">'
        f"<p>{html.escape(text)}</p></div></div></div></body></html>"
    )


def classic_page(
    roles: Iterable[PageRole], aliases: Mapping[str, str], encoded: str, action: str
) -> str:
    """The classic role list (radio inputs), in this project's own words."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><title>Amazon Web Services Sign-In</title></head><body>",
        '<div id="container"><div id="content">',
        f'<form id="saml_form" name="saml_form" action="{e(action)}" method="post">',
        '<input type="hidden" name="RelayState" value="" />',
        f'<input type="hidden" name="SAMLResponse" value="{e(encoded)}" />',
        '<input type="hidden" name="name" value="" />',
        '<input type="hidden" name="portal" value="" />',
        '<p class="saml-heading">Select a role:</p>',
        "<fieldset>",
    ]
    for index, (account, granted) in enumerate(_by_account(roles).items()):
        alias = aliases.get(account)
        label = f"Account: {alias} ({account})" if alias else f"Account: {account}"
        parts.append('<div class="saml-account">')
        parts.append(f'<div onclick="expandCollapse({index});">')
        parts.append(f'<div class="saml-account-name">{e(label)}</div></div><hr />')
        parts.append(f'<div id="{index}" class="saml-account">')
        for role in granted:
            arn = e(role.role_arn)
            parts.append(
                '<div class="saml-role" onclick="checkRadio(this);">'
                f'<input type="radio" name="roleIndex" value="{arn}" class="saml-radio" '
                f'id="{arn}" />'
                f'<label for="{arn}" class="saml-role-description">{e(role.name)}</label>'
                '<span style="clear: both;"></span></div>'
            )
        parts.append("</div></div>")
    parts.append("</fieldset>")
    parts.append('<div id="input_signin_button"><a id="signin_button" href="#">Sign in</a></div>')
    parts.append("</form></div></div></body></html>")
    return "".join(parts)


def json_page(roles: Iterable[PageRole], aliases: Mapping[str, str]) -> str:
    """The newer page: its data as JSON in ``__NEXT_DATA__``, and the list drawn from it."""
    e = html.escape
    accounts = [
        {
            "accountId": account,
            "accountName": aliases.get(account),
            "roles": [{"roleArn": r.role_arn, "roleName": r.name} for r in granted],
        }
        for account, granted in _by_account(roles).items()
    ]
    data = {
        "props": {"pageProps": {"accounts": accounts}},
        "page": "/saml",
        "query": {},
        "buildId": "samljit-tests",
    }
    # "</" inside a script element would end it early: JSON allows the escaped form.
    blob = json.dumps(data).replace("</", "<\\/")
    items = []
    for account, granted in _by_account(roles).items():
        shown = f"{account[0:4]}-{account[4:8]}-{account[8:]}"  # as the page shows an id
        links = "".join(
            f'<div class="saml-form_role_div"><a class="saml-form_role_text" '
            f'id="{e(role.role_arn)}" role="button">{e(role.name)}</a></div>'
            for role in granted
        )
        items.append(
            '<li class="saml-form_custom_list_item">'
            f'<div class="saml-form_account_name_div">{e(aliases.get(account, ""))}</div>'
            f'<div class="saml-form_account_id_div">{shown}</div>'
            f'<div class="saml-form_account_role_div">{links}</div></li>'
        )
    return (
        "<!DOCTYPE html><html><head><title>Amazon Web Services Sign-In</title></head><body>"
        f'<div id="__next"><ul class="saml-form_custom_list">{"".join(items)}</ul></div>'
        f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>'
        "</body></html>"
    )


# -- STS ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceivedAssertion:
    """One AssumeRoleWithSAML as the STS stand-in received it (the assertion itself is not
    kept)."""

    role_arn: str | None
    principal_arn: str | None
    encrypted: bool
    #: SHA-256 (hex) of the ``SAMLAssertion`` parameter exactly as received.
    sha256: str
    status: int


def sha256_of(encoded: str) -> str:
    return hashlib.sha256(encoded.encode("ascii", "replace")).hexdigest()


def sts_error(code: str, message: str, status: str = "400 Bad Request") -> tuple[str, bytes]:
    """AWS's STS error XML (``ErrorResponse``), in the shape botocore parses."""
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{html.escape(code)}</Code>"
        f"<Message>{html.escape(message)}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
    return status, body.encode("utf-8")


class DecryptingSts(LoopbackEmulator):
    """STS on loopback: decrypts the assertion with the IAM key, then asks moto (``upstream``)."""

    def __init__(
        self,
        upstream: str,
        iam_key_pem: bytes,
        *,
        require_encryption: bool = False,
        port: int = 0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.iam_key_pem = iam_key_pem
        self.require_encryption = require_encryption
        self._port = port
        self._lock = threading.Lock()
        self._received: list[ReceivedAssertion] = []

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def received(self) -> list[ReceivedAssertion]:
        with self._lock:
            return list(self._received)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        import requests

        params = _read_form(environ)
        params.update(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        status, body, content_type = "", b"", "text/xml"
        encoded = params.get("SAMLAssertion", "")
        encrypted = False
        if params.get("Action") == "AssumeRoleWithSAML":
            try:
                encrypted = is_encrypted(encoded)
                if encrypted:
                    params["SAMLAssertion"] = decrypt_response(encoded, self.iam_key_pem)
                elif self.require_encryption:
                    status, body = sts_error(
                        STS_ERROR_CODE, "The SAML assertion must be encrypted for this provider"
                    )
            except (DecryptionError, SamljitError, ValueError):
                status, body = sts_error(STS_ERROR_CODE, "Unable to decrypt the SAML assertion")
        if not status:
            answer = requests.post(
                self.upstream + "/",
                data=urlencode(params),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
            status = f"{answer.status_code} {answer.reason}"
            body = answer.content
            content_type = answer.headers.get("Content-Type", content_type)
        if params.get("Action") == "AssumeRoleWithSAML":
            with self._lock:
                self._received.append(
                    ReceivedAssertion(
                        role_arn=params.get("RoleArn"),
                        principal_arn=params.get("PrincipalArn"),
                        encrypted=encrypted,
                        sha256=sha256_of(encoded),
                        status=int(status.split(" ", 1)[0]),
                    )
                )
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]
