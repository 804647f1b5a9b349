"""Entra ID's pages as samljit reads and fetches them: each answer parsed with its
``$Config`` object (Entra's pages hold no forms: each step's state is that JSON object in a
script), one page request and its redirects (counted, https or loopback only), the form posts
and the JSON calls with the page's headers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from samljit.idp.api import (
    ACCEPT_JSON,
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    LoginSecrets,
    Page,
    Provider,
    is_loopback_host,
    js_unescape,
    parse_page,
    shown_url,
    web_url,
)

from .errors import CODES, _said, _str

if TYPE_CHECKING:
    import requests

DEFAULT_URL = "https://account.activedirectory.windowsazure.com"
#: Pages (redirect hops included) one login may go through.
MAX_PAGES = 30
_LOCATION = re.compile(
    r"""(?:window\.|document\.)?location(?:\.href)?\s*=\s*(['"])(.*?)(?<!\\)\1"""
    r"""|location\.replace\(\s*(['"])(.*?)(?<!\\)\3\s*\)""",
    re.DOTALL,
)


def config_of(root: Any) -> dict[str, Any] | None:
    """The page's ``$Config`` object: one JSON value right after ``$Config=`` in a script
    (more script may follow it on the same line)."""
    decoder = json.JSONDecoder()
    for script in root.iter("script"):
        text = script.text or ""
        start = text.find("$Config=")
        if start < 0:
            continue
        try:
            value, _end = decoder.raw_decode(text, start + len("$Config="))
        except (ValueError, RecursionError):  # nested past Python's reader: a bad page
            return None
        return value if isinstance(value, dict) else None
    return None


def script_location(root: Any) -> str | None:
    """Where a script-only redirect page (``RedirectToApplicationPage``) sends the browser."""
    for script in root.iter("script"):
        match = _LOCATION.search(script.text or "")
        if match:
            return js_unescape(match.group(2) if match.group(2) is not None else match.group(4))
    return None


@dataclass
class EstsPage:
    """One answer of Entra ID (or My Apps), parsed: the page and its ``$Config``, if any."""

    page: Page
    config: dict[str, Any] | None

    @property
    def url(self) -> str:
        return self.page.url

    @property
    def pgid(self) -> str:
        return _str(self.config or {}, "pgid")

    @property
    def code(self) -> str:
        return _str(self.config or {}, "sErrorCode")

    def said(self) -> str:
        """The page's own words about its error: ``AADSTSnnnnn: …``."""
        cfg = self.config or {}
        text = _said(_str(cfg, "strServiceExceptionMessage") or _str(cfg, "sErrTxt"))
        code = self.code
        if code and text and not text.startswith("AADSTS"):
            text = f"AADSTS{code}: {text}"
        return text or (f"AADSTS{code}" if code else "")


@dataclass
class _State:
    secrets: LoginSecrets
    pages: int = 0
    flow_token: str = ""
    password_sent: bool = False
    mfa_done: bool = False
    federated: str = ""  #: the federated IdP's host, once the user was sent there


class EntraPages(Provider):
    """The HTTP of Entra's pages (the page loop is :class:`~.signin.EntraSignIn`)."""

    #: The hosts the sign-in visited (set by ``login``).
    _visited: set[str]

    def _done(self, page: EstsPage, value: str) -> str:
        if not value:
            raise AssertionFormatError(
                f"Entra ID final page at {shown_url(page.url)}: the SAMLResponse input is empty",
                hint="check that you are assigned to the AWS app in Entra ID",
            )
        self.redactor.add(value)
        return value

    # -- HTTP --------------------------------------------------------------------------------
    def fetch(
        self, state: _State, method: str, url: str, body: str | None = None, *, step: str
    ) -> EstsPage:
        """One page request, then its redirects (each counted), up to the page they end on."""
        while True:
            self._check_target(url, step)
            self._visited.add((urlsplit(url).hostname or "").lower())
            state.pages += 1
            if state.pages > MAX_PAGES:
                raise AuthenticationError(
                    f"{step}: gave up after {MAX_PAGES} pages without reaching the "
                    f"SAMLResponse (last URL {shown_url(url)})",
                    hint="Entra ID seems to loop; run with --debug to see each step",
                )
            response = self.http.walk_request(method, url, body, step=step)
            self.http.raise_for_service_trouble(response, step=step)
            hop = self.http.hop(url, response, method, body, step=step)  # the client's rules
            if hop is not None:
                method, url, body = hop
                step = "Entra ID redirect"
                continue
            return self._parse(state, response, url, step)

    def _parse(self, state: _State, response: requests.Response, url: str, step: str) -> EstsPage:
        content_type = response.headers.get("Content-Type", "")
        raw: str | bytes = response.text if "charset" in content_type.lower() else response.content
        page = parse_page(raw, url=url, status=response.status_code)
        found = EstsPage(page, config_of(page.root))
        status = response.status_code
        if status >= 400 and found.config is None and page.saml_response is None:
            said = _said(page.text)
            words = f": {said}" if said else ""
            if status == 404 and state.pages == 1:
                raise ConfigError(
                    f"{step}: {shown_url(url)} answered HTTP 404{words}",
                    hint=f"check url (the My Apps host, default {DEFAULT_URL})",
                )
            raise AuthenticationError(f"{step}: {shown_url(url)} answered HTTP {status}{words}")
        return found

    @staticmethod
    def _check_target(url: str, step: str) -> None:
        if web_url(url):
            parts = urlsplit(url)
            if parts.scheme == "https" or is_loopback_host(parts.hostname):
                return
        raise AuthenticationError(
            f"{step}: refusing to go to {shown_url(url)} (not https, not loopback)",
            hint="Entra ID's page points at an insecure address; --debug shows each step",
        )

    def post_form(self, state: _State, url: str, fields: dict[str, str], *, step: str) -> EstsPage:
        return self.fetch(state, "POST", url, urlencode(fields), step=step)

    def call(self, page: EstsPage, url: str, body: dict[str, Any], *, step: str) -> dict[str, Any]:
        """One JSON call with the page's headers; the answer's JSON object."""
        cfg = page.config or {}
        self._check_target(url, step)
        headers = {
            "Accept": ACCEPT_JSON,
            "canary": _str(cfg, "apiCanary"),
            "hpgrequestid": _str(cfg, "sessionId"),
            "hpgid": _str(cfg, "hpgid"),
            "hpgact": _str(cfg, "hpgact"),
            "client-request-id": _str(cfg, "correlationId"),
        }
        response = self.http.request("POST", url, step=step, json=body, headers=headers)
        self.http.raise_for_service_trouble(response, step=step)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise AuthenticationError(
                f"{step}: Entra ID answered HTTP {response.status_code} with something that "
                "is not a JSON object",
                hint="--debug shows the exchange",
            )
        if response.status_code >= 400:
            message = _said(answer.get("Message") or answer.get("message"))
            known = CODES.get(str(answer.get("ErrCode") or ""))
            if known is not None:  # the words of the same code on a page
                meaning, hint = known
                words = f" ({message})" if message else ""
                raise AuthenticationError(f"Entra ID: {meaning}{words}", hint=hint)
            raise AuthenticationError(
                f"{step}: Entra ID answered HTTP {response.status_code}"
                + (f": {message}" if message else ""),
                hint="--debug shows the exchange",
            )
        return answer
