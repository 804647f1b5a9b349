"""Microsoft Entra ID (Azure AD): the My Apps start URL of the AWS enterprise app, Entra's
sign-in pages (password, number-matching push, Authenticator codes, text codes, "Stay signed
in?"), then the app's SAMLResponse. Follows shared/protocols/azuread.md.

Entra's pages hold no forms: each step's state is the ``$Config`` JSON object in a script.
The login is a loop over the pages (bounded), dispatching on ``$Config.pgid``; every URL
after the start comes from the pages. ``url`` (default: the My Apps host) and ``app_id`` (the
enterprise application's Application ID) come from the config.

With Entra's session cookies already in the HTTP client (after "Stay signed in?"), the start
URL leads straight to the SAMLResponse: no page asks for the password, and none is sent.

A user whose domain is federated to AD FS signs in there through samljit's form engine (the
ADFS flavor), then comes back to Entra as the pages say. A step that needs a browser (MFA
registration, a password change, a passkey, a device or Conditional Access check) ends the
login with a line naming ``samljit login --browser``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit

from samljit.idp.api import (
    ACCEPT_HTML,
    ACCEPT_JSON,
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    Factor,
    LoginSecrets,
    Page,
    Provider,
    ProviderKey,
    Waiting,
    ask_code,
    choose,
    is_loopback_host,
    js_unescape,
    number,
    one_line,
    parse_page,
    resolve,
    shorten,
    shown_url,
    wait_until,
    web_url,
)

if TYPE_CHECKING:
    import requests

DEFAULT_URL = "https://account.activedirectory.windowsazure.com"
START_PATH = "/applications/redirecttofederatedapplication.aspx"
#: Pages (redirect hops included) one login may go through.
MAX_PAGES = 30
BROWSER = "finish it with `samljit login --browser`"
#: Defaults when the second-factor page does not say (seconds, polls, milliseconds).
POLL_INTERVAL = 1.0
MAX_POLLS = 60
POLL_TIMEOUT_MS = 60_000
#: Times a wrong code may be typed again on a terminal (Entra ID counts too).
CODE_TRIES = 3
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_LOCATION = re.compile(
    r"""(?:window\.|document\.)?location(?:\.href)?\s*=\s*(['"])(.*?)(?<!\\)\1"""
    r"""|location\.replace\(\s*(['"])(.*?)(?<!\\)\3\s*\)""",
    re.DOTALL,
)

#: AADSTS code → (what it means, in a few words; hint). Exit 3 unless listed in CONFIG_CODES.
CODES: dict[str, tuple[str, str]] = {
    "50126": ("wrong username or password", "check username and password (samljit configure)"),
    "50034": ("Entra ID has no such user", "check the username (samljit configure)"),
    "50053": (
        "the account is locked",
        "wait for the lock to end, or ask your Entra ID admins to unlock it",
    ),
    "50057": ("the account is disabled", "ask your Entra ID admins"),
    "50074": (
        "the second factor (MFA) is required but was not passed",
        "run the login again and complete the second factor",
    ),
    "50076": (
        "the second factor (MFA) is required",
        "run the login again and complete the second factor",
    ),
    "500121": (
        "the second factor failed (denied, not answered or a wrong code)",
        "run the login again and complete the second factor",
    ),
    "50105": (
        "you are not assigned to the AWS app",
        "ask your Entra ID admins to assign you (or your group) to the AWS enterprise app",
    ),
    "50089": ("the sign-in flow expired", "run the login again"),
    "50058": ("Entra ID says you are not signed in", "run the login again"),
    "53003": (
        "your organization's Conditional Access policy blocks this sign-in",
        "a browser on a managed device may pass it: `samljit login --browser`; "
        "otherwise ask your Entra ID admins",
    ),
}
#: Codes that mean a page a terminal cannot finish: (what it asks for).
BROWSER_CODES: dict[str, str] = {
    "50055": "a new password (yours has expired)",
    "50144": "a new password (your Active Directory password has expired)",
    "50072": "MFA registration (set up a second factor)",
    "50079": "MFA registration (set up a second factor)",
    "50158": "an external security challenge (a third-party MFA)",
    "53000": "a compliant device (device compliance)",
    "53001": "a domain-joined device (hybrid join)",
}
#: Pages a terminal cannot finish, by pgid: (what they ask for).
BROWSER_PAGES: dict[str, str] = {
    "ConvergedProofUpRedirect": "MFA registration (set up a second factor)",
    "ConvergedChangePassword": "a new password (yours has expired)",
    "CmsiInterrupt": "confirming the sign-in on this device (CmsiInterrupt)",
    "BssoInterrupt": "browser single sign-on with a device proof (BssoInterrupt)",
}
#: Second-factor results (EndAuth/BeginAuth ``ResultValue``) → (what they mean, hint).
_AGAIN = "run the login again"
_CODE_HINT = "use the current code (--mfa-token, or type it when asked)"
RESULTS: dict[str, tuple[str, str]] = {
    "PhoneAppDenied": (
        "the sign-in was denied in Authenticator",
        "run the login again and approve it, or use mfa = PhoneAppOTP",
    ),
    "PhoneAppNoResponse": (
        "Authenticator got no answer in time",
        "run the login again and approve sooner, or use mfa = PhoneAppOTP",
    ),
    "PhoneAppFraudReported": (
        "the sign-in was reported as fraud in Authenticator",
        "if it was not you, tell your Entra ID admins; they may have to unblock you",
    ),
    "OathCodeIncorrect": ("wrong Authenticator code", _CODE_HINT),
    "SMSAuthFailedWrongCodeEntered": ("wrong code from the text message", _CODE_HINT),
    "OathCodeFailedMaxAllowedRetryReached": (
        "too many wrong codes",
        "wait a few minutes, then log in again with the current code",
    ),
    "SMSAuthFailedMaxAllowedCodeRetryReached": (
        "too many wrong codes",
        "wait a few minutes, then log in again with a new text code",
    ),
    "InvalidSession": ("the second-factor session expired", _AGAIN),
    "AuthMethodNotOffered": ("that second factor is not offered to you", _AGAIN),
    "SMSAuthFailedProviderCouldntSendSMS": (
        "the text message could not be sent",
        "run the login again, or use mfa = PhoneAppNotification or PhoneAppOTP",
    ),
}
WRONG_CODE = frozenset({"OathCodeIncorrect", "SMSAuthFailedWrongCodeEntered"})


def _said(text: object) -> str:
    """Network text for a message: printable, one line, shortened."""
    raw = text if isinstance(text, str) else ""
    return shorten(one_line(raw))


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


def _str(config: dict[str, Any], key: str) -> str:
    value = config.get(key)
    return value if isinstance(value, str) else ("" if value is None else str(value))


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


class AzureAdProvider(Provider):
    name: ClassVar[str] = "AzureAD"
    aliases: ClassVar[tuple[str, ...]] = ("EntraID",)
    signin_hosts: ClassVar[tuple[str, ...]] = ("login.microsoftonline.com",)
    mfa_options: ClassVar[tuple[str, ...]] = (
        "Auto",
        "PhoneAppNotification",
        "PhoneAppOTP",
        "OneWaySMS",
    )
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "Entra ID My Apps URL (the default suits most tenants)",
            DEFAULT_URL,
            question="Entra ID My Apps URL",
        ),
        ProviderKey(
            "app_id",
            "Application ID of the AWS enterprise application in Entra ID (a GUID)",
            required=True,
            question="Application ID of the AWS app",
        ),
    )

    # -- the login ---------------------------------------------------------------------------
    def start_url(self) -> str:
        app_id = (self.option("app_id") or "").strip()
        if not _GUID.match(app_id):
            raise ConfigError(
                f"app_id {_said(app_id)!r} of account {self.account.name!r} is not an "
                "application id (a GUID like 8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f)",
                hint="copy the Application ID of the AWS enterprise app from the Entra admin "
                "center: samljit configure --app-id …",
            )
        base = (self.account.url or DEFAULT_URL).rstrip("/")
        query = urlencode({"Operation": "LinkedSignIn", "applicationId": app_id})
        return f"{base}{START_PATH}?{query}"

    def session_hosts(self) -> list[str]:
        """Entra's sign-in cookies live on its login hosts (login.microsoftonline.com, …),
        not on the My Apps host of ``url``: keep those of every host the sign-in visited."""
        hosts = super().session_hosts()
        visited: set[str] = getattr(self, "_visited", set())
        return hosts + sorted(visited - set(hosts) - {""})

    def login(self, secrets: LoginSecrets) -> str:
        # the password is read (and so asked for) only when Entra asks for it: kept sign-in
        # cookies may answer without it; the flow registers it with the redactor
        self._visited = set[str]()
        state = _State(secrets)
        page = self.fetch(state, "GET", self.start_url(), step="Entra ID start (My Apps)")
        while True:
            found = page.page.saml_response
            if found is not None:
                return self._done(page, found)
            page = self.advance(state, page)

    def advance(self, state: _State, page: EstsPage) -> EstsPage:
        """Do what ``page`` asks and return the next page."""
        if page.config is not None:
            return self._ests(state, page)
        form = next((f for f in page.page.forms if not f.user_controls), None)
        if form is not None and page.page.has_auto_submit:  # "Working...": post it on
            body = urlencode(form.submission())
            return self.fetch(state, "POST", form.action, body, step="Entra ID auto-submit form")
        location = script_location(page.page.root)
        if location is not None:  # RedirectToApplicationPage: never post its __VIEWSTATE form
            target = resolve(page.url, location)
            return self.fetch(state, "GET", target, step="Entra ID app redirect")
        said = _said(page.page.text)
        raise AuthenticationError(
            f"Entra ID: the page at {shown_url(page.url)} (HTTP {page.page.status}) is no sign-in "
            "step samljit knows and holds no SAMLResponse" + (f"; it says: {said}" if said else ""),
            hint=f"check url (the My Apps host, default {DEFAULT_URL}); --debug shows each step",
        )

    def _ests(self, state: _State, page: EstsPage) -> EstsPage:
        cfg = page.config or {}
        pgid, code = page.pgid, page.code
        if _str(cfg, "sFT"):
            state.flow_token = _str(cfg, "sFT")
        if pgid == "ConvergedSignIn":
            if state.password_sent or state.federated or code not in ("", "50058"):
                raise self._page_error(state, page, again=True)
            return self._sign_in(state, page)
        if pgid == "ConvergedTFA":
            if state.mfa_done:
                raise AuthenticationError(
                    "Entra ID asked for the second factor again after it was passed",
                    hint="run the login again; --debug shows each step",
                )
            return self._second_factor(state, page)
        if pgid == "KmsiInterrupt":
            return self._kmsi(state, page)
        if pgid == "ConvergedProofUpRedirect":
            skip = _str(cfg, "urlSkipMfaRegistration")
            if skip:
                days = _str(cfg, "iRemainingDaysToSkipMfaRegistration")
                self.terminal.warn(
                    "Entra ID asks you to set up a second factor (MFA); skipped for now"
                    + (f" ({_said(days)} days left to do it)" if days else "")
                )
                return self.fetch(state, "GET", skip, step="Entra ID skip MFA registration")
        raise self._page_error(state, page)

    def _done(self, page: EstsPage, value: str) -> str:
        if not value:
            raise AssertionFormatError(
                f"Entra ID final page at {shown_url(page.url)}: the SAMLResponse input is empty",
                hint="check that you are assigned to the AWS app in Entra ID",
            )
        self.redactor.add(value)
        return value

    # -- errors ------------------------------------------------------------------------------
    def _page_error(self, state: _State, page: EstsPage, *, again: bool = False) -> Exception:
        """The error for an Entra page that ends the login (an error code or an interrupt)."""
        pgid, code, said = page.pgid, page.code, page.said()
        words = f" ({said})" if said else ""
        if code == "700016":
            return ConfigError(
                f"Entra ID does not know app_id {self.option('app_id')}{words}",
                hint="check app_id: the Application ID of the AWS enterprise app in the Entra "
                "admin center (samljit configure --app-id …)",
            )
        what = BROWSER_CODES.get(code) or BROWSER_PAGES.get(pgid)
        if what is not None:
            return AuthenticationError(
                f"Entra ID asks for {what}, which samljit cannot do in a terminal{words}: "
                "finish it with `samljit login --browser`"
            )
        known = CODES.get(code)
        if known is not None and not (code == "50058" and again):
            meaning, hint = known
            return AuthenticationError(f"Entra ID: {meaning}{words}", hint=hint)
        if pgid == "ConvergedSignIn" and again:
            return AuthenticationError(
                "Entra ID showed the sign-in page again after the password" + words,
                hint="check username and password (samljit configure); --debug shows each step",
            )
        if pgid in ("ConvergedError", "ConvergedSignIn", "ConvergedTFA", "KmsiInterrupt"):
            return AuthenticationError(
                f"Entra ID refused the sign-in{words or ' without saying why'}",
                hint="look the AADSTS code up in Microsoft's list of Entra error codes; "
                "--debug shows each step",
            )
        shown = f"pgid {_said(pgid)}" + (f", AADSTS{_said(code)}" if code else "")
        return AuthenticationError(
            f"Entra ID shows a page samljit does not know ({shown}){words}: "
            "finish it with `samljit login --browser`"
        )

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
            headers = {"Accept": ACCEPT_HTML}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = self.http.request(
                method, url, step=step, data=body, headers=headers, allow_redirects=False
            )
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

    # -- sign-in -----------------------------------------------------------------------------
    def _sign_in(self, state: _State, page: EstsPage) -> EstsPage:
        cfg = page.config or {}
        username = state.secrets.username.strip()
        if not username:
            raise ConfigError(
                "Entra ID asks for the username, but none was given",
                hint="set username with `samljit configure` (your user@domain sign-in name)",
            )
        url = _str(cfg, "urlGetCredentialType")
        if url:
            redirect = self._credential_type(state, page, url, username)
            if redirect:
                return self._federate(state, redirect)
        password = state.secrets.password
        if password is None:
            raise ConfigError("Entra ID asks for the password, but none was given")
        post = _str(cfg, "urlPost")
        fields = {
            "login": username,
            "loginfmt": username,
            "passwd": password,
            "ctx": _str(cfg, "sCtx"),
            _str(cfg, "sFTName") or "flowToken": state.flow_token,
            "canary": _str(cfg, "canary"),
            "hpgrequestid": _str(cfg, "sessionId"),
            "type": "11",
            "LoginOptions": "3",
            "i13": "0",
        }
        state.password_sent = True
        return self.post_form(state, post, fields, step="Entra ID password")

    def _credential_type(self, state: _State, page: EstsPage, url: str, username: str) -> str:
        """Home realm discovery: the federated IdP's URL for this user, or ``""``."""
        cfg = page.config or {}
        body = {
            "username": username,
            "isOtherIdpSupported": True,
            "checkPhones": False,
            "isRemoteNGCSupported": False,
            "isCookieBannerShown": False,
            "isFidoSupported": False,
            "originalRequest": _str(cfg, "sCtx"),
            "flowToken": state.flow_token,
        }
        answer = self.call(page, url, body, step="Entra ID user lookup")
        token = answer.get("FlowToken")
        if isinstance(token, str) and token:
            state.flow_token = token
        if answer.get("IfExistsResult") == 1:
            raise AuthenticationError(
                f"Entra ID has no user {_said(username)!r}",
                hint="check the username (samljit configure): your user@domain sign-in name",
            )
        credentials = answer.get("Credentials")
        redirect = credentials.get("FederationRedirectUrl") if isinstance(credentials, dict) else ""
        return redirect if isinstance(redirect, str) else ""

    # -- a federated domain ------------------------------------------------------------------
    def _federate(self, state: _State, url: str) -> EstsPage:
        """Sign in at the federated IdP Entra ID names (AD FS, through the form engine), up
        to the page that brings the user back to Entra ID."""
        from samljit.idp.forms import FormLogin

        from .adfs import ADFS

        parts = urlsplit(url) if web_url(url) else None
        host = (parts.hostname or "") if parts is not None else _said(url)
        state.federated = host
        user = _said(state.secrets.username)
        if parts is None or "/adfs/" not in parts.path.lower() + "/":
            raise AuthenticationError(
                f"Entra ID sends {user} to another IdP ({host}), which is not AD FS; samljit "
                "follows federation to AD FS only: finish it with `samljit login --browser`",
                hint=f"or configure an account with samljit's provider for {host}",
            )
        self._check_target(url, "Entra ID federation")
        self.terminal.info(f"{user} is federated: signing in at {host} (AD FS)")
        flavor = replace(ADFS, name=f"federated ADFS {host}")
        walk = FormLogin(
            flavor, self.http, self.terminal, self.redactor, state.secrets, notify=self.notify
        )
        page = walk.fetch("GET", url, None, flavor.step("sign-in page"))
        while True:
            config = config_of(page.root)
            if config is not None or page.saml_response is not None:
                return EstsPage(page, config)
            page = walk.advance(page)

    # -- KMSI --------------------------------------------------------------------------------
    def _kmsi(self, state: _State, page: EstsPage) -> EstsPage:
        cfg = page.config or {}
        fields = {
            "LoginOptions": "1",  # yes: a persistent session (the next login needs no password)
            _str(cfg, "sFTName") or "flowToken": state.flow_token,
            "ctx": _str(cfg, "sCtx"),
            "hpgrequestid": _str(cfg, "sessionId"),
            "type": "28",
            "canary": _str(cfg, "canary"),
        }
        return self.post_form(state, _str(cfg, "urlPost"), fields, step="Entra ID stay signed in")

    # -- the second factor -------------------------------------------------------------------
    def _second_factor(self, state: _State, page: EstsPage) -> EstsPage:
        cfg = page.config or {}
        proofs = [p for p in cfg.get("arrUserProofs") or [] if isinstance(p, dict)]
        factors: list[_Method] = []
        unsupported: list[str] = []
        default = ""
        for proof in proofs:
            method = _str(proof, "authMethodId")
            if proof.get("isDefault") is True and not default:
                default = method
            kind = FACTORS.get(method)
            if kind is None:
                unsupported.append(_said(method) or "?")
            else:
                factors.append(kind(self, state, page, proof))
        if not factors:
            offered = ", ".join(unsupported) or "none"
            raise AuthenticationError(
                f"Entra ID asks for a second factor samljit cannot use in a terminal (offered: "
                f"{offered}): finish it with `samljit login --browser`",
                hint="or register Microsoft Authenticator or a phone for text codes with "
                "Entra ID (https://aka.ms/mysecurityinfo)",
            )
        have_code = bool(state.secrets.mfa_token)
        wanted = (self.account.mfa or "Auto").strip()
        factor: Factor[EstsPage]
        if wanted.lower() == "auto":
            factor = self._auto(factors, default, have_code)
        else:
            factor = choose(
                factors, wanted, self.terminal, have_code=have_code, unsupported=unsupported
            )
        self.notify("mfa.challenged", factor=factor.kind)
        state.mfa_done = True
        return factor.verify(state.secrets.mfa_token)

    def _auto(self, factors: list[_Method], default: str, have_code: bool) -> _Method:
        """``mfa = Auto``: the user's default method; with a code given, one that takes it."""
        if have_code:
            for kind in ("PhoneAppOTP", "OneWaySMS"):
                for factor in factors:
                    if factor.kind == kind:
                        return factor
        for factor in factors:
            if factor.kind == default:
                return factor
        chosen = factors[0]
        if default:
            self.terminal.info(
                f"Your default second factor in Entra ID ({_said(default)}) is not one samljit "
                f"can use; using {chosen.label}"
            )
        return chosen

    def begin_auth(self, state: _State, page: EstsPage, method: str) -> dict[str, Any]:
        cfg = page.config or {}
        body = {
            "AuthMethodId": method,
            "Method": "BeginAuth",
            "Ctx": _str(cfg, "sCtx"),
            "FlowToken": state.flow_token,
        }
        answer = self._sas(state, page, "urlBeginAuth", body, step=f"Entra ID {method} start")
        if answer.get("Success") is not True:
            raise _refusal(method, answer)
        return answer

    def end_auth(
        self,
        state: _State,
        page: EstsPage,
        last: dict[str, Any],
        method: str,
        poll: int,
        code: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Method": "EndAuth",
            "SessionId": _str(last, "SessionId"),
            "FlowToken": state.flow_token,
            "Ctx": _str(last, "Ctx") or _str(page.config or {}, "sCtx"),
            "AuthMethodId": method,
            "PollCount": poll,
        }
        if code is not None:
            body["AdditionalAuthData"] = code
        answer = self._sas(state, page, "urlEndAuth", body, step=f"Entra ID {method} check")
        for key in ("SessionId", "Ctx"):  # later calls use the newest
            if not _str(answer, key) and _str(last, key):
                answer[key] = last[key]
        return answer

    def _sas(
        self, state: _State, page: EstsPage, url_key: str, body: dict[str, Any], *, step: str
    ) -> dict[str, Any]:
        url = _str(page.config or {}, url_key)
        if not url:
            raise AuthenticationError(
                f"{step}: Entra ID's second-factor page names no {url_key}",
                hint="finish it with `samljit login --browser`; --debug shows each step",
            )
        answer = self.call(page, url, body, step=step)
        token = answer.get("FlowToken")
        if isinstance(token, str) and token:
            state.flow_token = token
        return answer

    def process_auth(
        self, state: _State, page: EstsPage, last: dict[str, Any], method: str, kind: str
    ) -> EstsPage:
        cfg = page.config or {}
        fields = {
            _str(cfg, "sFTName") or "flowToken": state.flow_token,
            "request": _str(last, "Ctx") or _str(cfg, "sCtx"),
            "login": _str(cfg, "sPOST_Username") or state.secrets.username,
            "mfaAuthMethod": method,
            "type": kind,
            "canary": _str(cfg, "canary"),
            "hpgrequestid": _str(cfg, "sessionId"),
            "rememberMFA": "false",
        }
        return self.post_form(state, _str(cfg, "urlPost"), fields, step=f"Entra ID {method} done")


def _refusal(method: str, answer: dict[str, Any]) -> AuthenticationError:
    result = _said(_str(answer, "ResultValue")) or "no result"
    message = _said(_str(answer, "Message"))
    meaning, hint = RESULTS.get(result, (f"{method} was refused", "run the login again"))
    said = f"{result}: {message}" if message else result
    return AuthenticationError(f"Entra ID: {meaning} ({said})", hint=hint)


class _Method(Factor[EstsPage]):
    """One entry of the page's ``arrUserProofs``."""

    def __init__(
        self, provider: AzureAdProvider, state: _State, page: EstsPage, proof: dict[str, Any]
    ) -> None:
        self.provider = provider
        self.state = state
        self.page = page
        self.display = _said(_str(proof, "display"))

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.display})" if self.display else self.kind


class _Push(_Method):
    kind: ClassVar[str] = "PhoneAppNotification"

    def verify(self, code: str | None) -> EstsPage:
        p, services, terminal = self.provider, self.provider.services, self.provider.terminal
        cfg = self.page.config or {}
        begun = p.begin_auth(self.state, self.page, self.kind)
        entropy = begun.get("Entropy")
        shown = str(entropy) if isinstance(entropy, int) and entropy > 0 else ""
        intervals = cfg.get("oPerAuthPollingInterval")
        interval = number(
            intervals.get(self.kind) if isinstance(intervals, dict) else None, POLL_INTERVAL
        )
        interval = min(max(interval, 0.2), 10.0)
        polls = int(number(cfg.get("iMaxPollAttempts"), MAX_POLLS))
        timeout = number(cfg.get("iPollingTimeout"), POLL_TIMEOUT_MS) / 1000
        if shown:
            terminal.notice(f"Open Authenticator and enter {shown} to approve the sign-in.")
        else:
            terminal.info("Approve the sign-in in Microsoft Authenticator.")
        what = f" (enter {shown})" if shown else ""

        def unanswered() -> AuthenticationError:
            return AuthenticationError(
                f"Entra ID: no answer from Authenticator within {int(timeout)} s",
                hint="run the login again and approve sooner, or use mfa = PhoneAppOTP",
            )

        last = begun

        def poll(waiting: Waiting) -> dict[str, Any] | None:
            nonlocal last
            last = p.end_auth(self.state, self.page, last, self.kind, waiting.polls)
            if last.get("Success") is True:
                return last
            if last.get("Retry") is True or last.get("ResultValue") == "AuthenticationPending":
                if waiting.polls >= polls:
                    raise unanswered()
                return None
            raise _refusal(self.kind, last)

        last = wait_until(
            poll,
            services=services,
            seconds=timeout,
            every=interval,
            waiting=f"Waiting for approval in Authenticator{what}…",
            expired=unanswered,
            sleep_first=True,
        )
        return p.process_auth(self.state, self.page, last, self.kind, "22")


class _Code(_Method):
    """A one-time code: from Authenticator (``PhoneAppOTP``) or a text (``OneWaySMS``)."""

    takes_code: ClassVar[bool] = True
    what: ClassVar[str] = "code"
    #: Whether BeginAuth sends the code (a text), so it is asked for afterwards.
    sends_code: ClassVar[bool] = False

    def verify(self, code: str | None) -> EstsPage:
        p, terminal = self.provider, self.provider.terminal
        last: dict[str, Any] = {}
        if self.sends_code:
            last = p.begin_auth(self.state, self.page, self.kind)
            terminal.info(f"Entra ID sent a code to {self.display or 'your phone'}.")
        typed = self._ask(code)
        if not self.sends_code:
            last = p.begin_auth(self.state, self.page, self.kind)
        for attempt in range(1, CODE_TRIES + 1):
            last = p.end_auth(self.state, self.page, last, self.kind, attempt, typed)
            if last.get("Success") is True:
                return p.process_auth(self.state, self.page, last, self.kind, "19")
            result = _str(last, "ResultValue")
            if result in WRONG_CODE and not code and terminal.interactive and attempt < CODE_TRIES:
                terminal.warn(f"{RESULTS[result][0]}; try again")
                typed = self._ask(None)
                continue
            raise _refusal(self.kind, last)
        raise _refusal(self.kind, last)

    def _ask(self, given: str | None) -> str:
        typed = ask_code(self.provider.terminal, given, what=self.what)
        self.provider.redactor.add(typed)
        return typed


class _Otp(_Code):
    kind: ClassVar[str] = "PhoneAppOTP"
    what: ClassVar[str] = "Authenticator code"


class _Sms(_Code):
    kind: ClassVar[str] = "OneWaySMS"
    what: ClassVar[str] = "Code from the text message"
    sends_code: ClassVar[bool] = True


FACTORS: dict[str, type[_Method]] = {
    "PhoneAppNotification": _Push,
    "PhoneAppOTP": _Otp,
    "OneWaySMS": _Sms,
}
