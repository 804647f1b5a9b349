"""PingFederate's HTML login, walked like a browser without JavaScript: the HTML Form
Adapter page (its per-login action under ``<base href>``; submitted as its ``postOk()``
script does, with ``pf.ok=clicked``), its refusals in ``div.ping-error``, the auto-post to
PingID (``ppm_request``) and PingID's hand-back (``ppm_response``), then the SAMLResponse.

The walk is samljit's form engine with Ping's pages added: it stops only at a SAMLResponse
posted to an AWS sign-in endpoint (a SAMLResponse for PingOne is a hop: submitted), hands
PingID's pages to :mod:`providers.ping.pingid`, and stops with ``--browser`` named on a
sign-on page that is all script (PingOne's own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from samljit.idp.api import (
    AuthenticationError,
    Flavor,
    Form,
    FormLogin,
    LoginSecrets,
    Page,
    signin_host_partition,
)

from .pingid import PingId
from .pingone import needs_javascript

if TYPE_CHECKING:
    from samljit.idp.api import Provider

START_PATH = "/idp/startSSO.ping"
#: PingFederate's HTML Form Adapter: its field names (some deployments rename them, as
#: saml2aws's ``USER``/``PASSWORD``), its refusal box.
FLAVOR = Flavor(
    name="PingFederate",
    username_names=("pf.username", "USER"),
    error_selectors=(".ping-messages .ping-error", ".ping-error"),
    max_steps=40,
)


def start_url(url: str, aws_urn: str) -> str:
    """PingFederate's IdP-initiated SSO URL of the AWS connection; a bare host (saml2aws's
    Ping ``url``) means ``/idp/startSSO.ping?PartnerSpId=<aws_urn>`` on it."""
    parts = urlsplit(url)
    if parts.path.strip("/") or parts.query:
        return url
    base = url.rstrip("/")
    return f"{base}{START_PATH}?PartnerSpId={quote(aws_urn, safe=':')}"


class PingWalk(FormLogin):
    """One login through PingFederate (and PingOne and PingID around it)."""

    def __init__(self, provider: Provider, secrets: LoginSecrets) -> None:
        super().__init__(
            FLAVOR,
            provider.http,
            provider.terminal,
            provider.redactor,
            secrets,
            notify=provider.notify,
            mfa=provider.account.mfa,
        )
        self.services = provider.services
        self.pingid = PingId(self)
        #: Hosts of the pages the walk saw, PingID's aside: their cookies are the IdP session.
        self.hosts: list[str] = []

    def run(self, url: str) -> str:
        self.redactor.add(self.secrets.given_password, self.secrets.mfa_token)
        page = self.fetch("GET", url, None, "PingFederate start page")
        while True:
            if page.saml_response is not None and _for_aws(page):
                return self._done(page)
            page = self.advance(page)

    def advance(self, page: Page) -> Page:
        if page.saml_response:  # a Response between Ping's servers (to PingOne): pass it on
            self.redactor.add(page.saml_response)
            form = next(f for f in page.forms if f.has("SAMLResponse"))
            self._check_secure(form.action, "the SAMLResponse")
            return self.submit(page, form, {}, "PingFederate's response to PingOne")
        answered = self.pingid.answer(page)
        if answered is not None:
            return answered
        if not page.forms:
            said = page.text_of((".ping-error", ".error-message"))
            if said:
                raise AuthenticationError(
                    f"PingFederate refused the sign-on: {said}",
                    hint="check url and that your user may use the AWS app; --debug shows "
                    "each step",
                )
            scripted = needs_javascript(page)
            if scripted is not None:
                raise scripted
        return super().advance(page)

    # -- the form engine's steps, with Ping's additions ------------------------------------
    def before_submit(self, form: Form, values: dict[str, str]) -> dict[str, str]:
        for name in ("ppm_request", "SAMLRequest", "RelayState"):
            self.redactor.add(*(f.value for f in form.fields if f.name == name))
        if form.has("pf.ok") and form.has("pf.adapterId"):
            return {**values, "pf.ok": "clicked"}  # what the page's postOk() does
        return values

    def fetch(self, method: str, url: str, body: str | None, step: str, **kw: Any) -> Page:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        pingid = parts.path.startswith("/pingid/")
        if host and not pingid and host not in self.hosts and not signin_host_partition(host):
            self.hosts.append(host)
        return super().fetch(method, url, body, step, **kw)

    def check_secure(self, url: str, what: str) -> None:
        self._check_secure(url, what)

    def notify_factor(self, kind: str) -> None:
        notify: Callable[..., None] | None = self.notify
        if notify is not None:
            notify("mfa.challenged", factor=kind)


def _for_aws(page: Page) -> bool:
    """Whether the page's SAMLResponse is posted to an AWS sign-in endpoint."""
    for form in page.forms:
        if form.has("SAMLResponse"):
            host = urlsplit(form.action).hostname or ""
            return signin_host_partition(host) is not None
    return True  # a SAMLResponse outside a form: nowhere else to take it
