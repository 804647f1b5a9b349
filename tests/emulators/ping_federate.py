"""PingFederate and PingOne, as :mod:`tests.emulators.ping` serves them (see there)."""

from __future__ import annotations

import base64
import binascii
import re

from werkzeug.wrappers import Request, Response

from samljit.tools.sandbox.response import new_id
from tests.emulators.formidp import AWS_URN, render
from tests.emulators.ping_model import (
    ACCOUNT_LOCKED,
    AUTHN_FAILED,
    AWS_SIGNIN,
    BAD_CREDENTIALS,
    NO_CONNECTION,
    PINGONE_ERROR,
    AuthnRequest,
    Login,
    PingServer,
    PingUser,
    Shared,
    jwt_like,
    resume_id,
)

RESUME = re.compile(r"/idp/([A-Za-z0-9]+)/resumeSAML20/idp/(startSSO|SSO)\.ping")
PF_COOKIE = "PF"
PINGONE_COOKIE = "ST"  # (assumed) name of PingOne's session cookie
ADAPTER = "HTMLFormAdapter"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


class PingFederate(PingServer):
    """PingFederate: ``GET /idp/startSSO.ping?PartnerSpId=urn:amazon:webservices`` (IdP
    initiated) and ``POST /idp/SSO.saml2`` (PingOne's SAMLRequest) answer the HTML Form
    Adapter's login page (or, with a live ``PF`` cookie, the SAMLResponse page at once); the
    form posts to ``/idp/<id>/resumeSAML20/idp/{startSSO,SSO}.ping``. The post must carry
    ``pf.ok=clicked`` and the hidden ``pf.adapterId`` (what ``postOk()`` sends); without them
    the page comes back unchanged *(assumed: how PF treats a post that is not a click)*.

    Knobs: ``identifier_first`` (a username-only page first), ``user_field`` /
    ``password_field`` (deployments that rename the inputs), ``lock_after`` (wrong passwords
    before the account locks)."""

    product = "PingFederate"
    host = "127.0.0.1"

    def __init__(
        self,
        shared: Shared,
        *,
        port: int = 0,
        identifier_first: bool = False,
        user_field: str = "pf.username",
        password_field: str = "pf.pass",  # noqa: S107 (a field name)
        lock_after: int | None = None,
    ) -> None:
        super().__init__(shared, port=port)
        self.identifier_first = identifier_first
        self.user_field = user_field
        self.password_field = password_field
        self.lock_after = lock_after
        self.password_posts = 0
        self._bad: dict[str, int] = {}

    @property
    def start_url(self) -> str:
        return f"{self.base_url}/idp/startSSO.ping?PartnerSpId={AWS_URN}"

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/idp/startSSO.ping" and request.method == "GET":
            if request.args.get("PartnerSpId") != AWS_URN:
                return self.error(NO_CONNECTION)
            return self._start(request, "startSSO", None)
        if path == "/idp/SSO.saml2" and request.method == "POST":
            authn = self._authn_request(request)
            if authn is None:
                return self.error(NO_CONNECTION)
            return self._start(request, "SSO", authn)
        match = RESUME.fullmatch(path)
        if match and request.method == "POST":
            login = self.shared.logins.get(match.group(1))
            if login is None or login.done or login.kind != match.group(2):
                return self.error(AUTHN_FAILED)
            return self._resume(request, login)
        return self.error(AUTHN_FAILED, 404)

    # -- pages -------------------------------------------------------------------------------
    def error(self, message: str, status: int = 200) -> Response:
        return self.page(render("pingfed-error.html", error=message), status)

    def login_page(self, login: Login, error: str = "") -> Response:
        asks_password = not (self.identifier_first and not login.username)
        return self.page(
            render(
                "pingfed-login.html",
                base=f"{self.base_url}/",
                action=f"/idp/{login.id}/resumeSAML20/idp/{login.kind}.ping",
                error=error,
                user_field=self.user_field,
                username=login.username,
                password_field=self.password_field if asks_password else "",
                adapter=ADAPTER,
            )
        )

    # -- steps ------------------------------------------------------------------------------
    def _authn_request(self, request: Request) -> AuthnRequest | None:
        from lxml import etree

        try:
            xml = base64.b64decode(request.form.get("SAMLRequest", ""), validate=True)
            root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        except (binascii.Error, ValueError, etree.XMLSyntaxError):
            return None
        acs = root.get("AssertionConsumerServiceURL", "")
        if (
            root.tag != f"{{{SAMLP}}}AuthnRequest"
            or acs != f"{self.shared.pingone_url}/sso/sp/ACS.saml2"
        ):
            return None
        return AuthnRequest(root.get("ID", ""), acs, request.form.get("RelayState", ""))

    def _start(self, request: Request, kind: str, authn: AuthnRequest | None) -> Response:
        username = self.shared.pf_sessions.get(request.cookies.get(PF_COOKIE, ""))
        user = self.shared.find(username) if username else None
        if user is not None:
            return self._saml(user, authn, new_session=False)
        login = Login(resume_id(), "SSO" if kind == "SSO" else "startSSO", authn)
        self.shared.logins[login.id] = login
        return self.login_page(login)

    def _resume(self, request: Request, login: Login) -> Response:
        form = request.form
        if "ppm_response" in form:
            if (
                login.user is None
                or not login.ppm_response
                or form["ppm_response"] != login.ppm_response
            ):
                return self.error(AUTHN_FAILED)
            login.done = True
            return self._saml(login.user, login.authn, new_session=True)
        if login.user is not None:  # past the password already: a second post is refused
            return self.error(AUTHN_FAILED)
        if form.get("pf.ok") != "clicked" or form.get("pf.adapterId") != ADAPTER:
            return self.login_page(login)
        if self.identifier_first and not login.username:
            login.username = form.get(self.user_field, "").strip()
            return self.login_page(login)
        password = form.get(self.password_field)
        if password is None:
            return self.login_page(login)
        self.password_posts += 1
        name = login.username or form.get(self.user_field, "")
        user = self.shared.find(name)
        if user is not None and user.locked:
            return self.login_page(login, ACCOUNT_LOCKED)
        if user is None or user.password != password:
            if user is not None:
                self._bad[user.username] = self._bad.get(user.username, 0) + 1
                if self.lock_after is not None and self._bad[user.username] >= self.lock_after:
                    user.locked = True
            return self.login_page(login, BAD_CREDENTIALS)
        login.user = user
        if not user.devices:
            login.done = True
            return self._saml(user, login.authn, new_session=True)
        login.ppm_request = self.secret(jwt_like())
        return self.page(
            render(
                "pingid-autopost.html",
                action=f"{self.shared.pingid_url}/pingid/ppm/auth",
                account_id=self.shared.account_id,
                ppm_request=login.ppm_request,
            )
        )

    def _saml(self, user: PingUser, authn: AuthnRequest | None, *, new_session: bool) -> Response:
        if authn is None:
            saml = self.signed_response(user, issuer=self.base_url, roles=user.roles)
            response = self.post_page(AWS_SIGNIN, saml_response=saml)
        else:  # for PingOne: no AWS roles, PingOne's audience and ACS
            saml = self.signed_response(
                user,
                issuer=self.base_url,
                roles=(),
                audience=self.shared.pingone_url,
                destination=authn.acs,
            )
            self.shared.to_pingone[saml] = (user, authn.relay_state)
            response = self.post_page(authn.acs, saml_response=saml, relay=authn.relay_state)
        if new_session:
            session = self.secret(jwt_like())
            self.shared.pf_sessions[session] = user.username
            self.cookie(response, PF_COOKIE, session, path="/")  # no expiry: a session cookie
        return response


class PingOne(PingServer):
    """PingOne SSO: ``GET /sso/sp/initsso?saasid=…&idpid=…`` or
    ``GET /<env>/saml20/idp/startsso?spEntityId=urn:amazon:webservices`` answers the
    auto-post of a SAMLRequest to PingFederate's ``/idp/SSO.saml2`` (or, with a live PingOne
    session, the SAMLResponse for AWS at once); ``POST /sso/sp/ACS.saml2`` takes PF's
    Response (once) and answers the SAMLResponse for AWS, setting PingOne's session cookie.

    Knob: ``needs_javascript`` (PingOne-native sign-on: a page that is all script)."""

    product = "PingOne"
    host = "127.0.0.3"
    saas_id = "6b3c0e2a-9d51-4f7e-b1a8-3e5d2c7f9a10"
    idp_id = "c1f0a8e4-27b3-4d6e-8a95-7f2e1b3d4c60"
    env_id = "5f2a7c1e-8b94-4d3a-a6e0-91c4b7d2e358"

    def __init__(self, shared: Shared, *, port: int = 0, needs_javascript: bool = False) -> None:
        super().__init__(shared, port=port)
        self.needs_javascript = needs_javascript

    @property
    def initsso_url(self) -> str:
        return f"{self.base_url}/sso/sp/initsso?saasid={self.saas_id}&idpid={self.idp_id}"

    @property
    def startsso_url(self) -> str:
        return f"{self.base_url}/{self.env_id}/saml20/idp/startsso?spEntityId={AWS_URN}"

    def error(self, message: str = PINGONE_ERROR, status: int = 400) -> Response:
        return self.page(render("pingone-error.html", error=message), status)

    def dispatch(self, request: Request) -> Response:
        path, args = request.path, request.args
        if request.method == "GET" and path == "/sso/sp/initsso":
            if args.get("saasid") != self.saas_id or args.get("idpid") != self.idp_id:
                return self.error()
            return self._start(request)
        if request.method == "GET" and path == f"/{self.env_id}/saml20/idp/startsso":
            if args.get("spEntityId") != AWS_URN:
                return self.error()
            return self._start(request)
        if request.method == "POST" and path == "/sso/sp/ACS.saml2":
            found = self.shared.to_pingone.pop(request.form.get("SAMLResponse", ""), None)
            if found is None or request.form.get("RelayState", "") != found[1]:
                return self.error()
            return self._aws(found[0], new_session=True)
        return self.error(status=404)

    def _start(self, request: Request) -> Response:
        username = self.shared.pingone_sessions.get(request.cookies.get(PINGONE_COOKIE, ""))
        user = self.shared.find(username) if username else None
        if user is not None:
            return self._aws(user, new_session=False)
        if self.needs_javascript:
            return self.page(render("pingone-signon.html", env=self.env_id))
        request_id = new_id()
        xml = (
            f'<samlp:AuthnRequest xmlns:samlp="{SAMLP}" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="{request_id}" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" '
            f'Destination="{self.shared.pf_url}/idp/SSO.saml2" '
            f'AssertionConsumerServiceURL="{self.base_url}/sso/sp/ACS.saml2">'
            f"<saml:Issuer>{self.base_url}</saml:Issuer></samlp:AuthnRequest>"
        )
        return self.post_page(
            f"{self.shared.pf_url}/idp/SSO.saml2",
            saml_request=base64.b64encode(xml.encode()).decode(),
            relay=self.secret(jwt_like()),
        )

    def _aws(self, user: PingUser, *, new_session: bool) -> Response:
        saml = self.signed_response(user, issuer=self.base_url, roles=user.roles)
        response = self.post_page(AWS_SIGNIN, saml_response=saml)
        if new_session:
            session = self.secret(jwt_like())
            self.shared.pingone_sessions[session] = user.username
            self.cookie(response, PINGONE_COOKIE, session, path="/")
        return response
