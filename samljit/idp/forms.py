"""The form engine: one login walk shared by every HTML-form IdP (Keycloak, Shibboleth, ADFS,
SimpleSAMLphp and any other through ``GenericForm``).

From the start URL the engine follows HTTP redirects and pages that submit themselves
(SAMLRequest/RelayState hops, ``<noscript>`` continue forms, Shibboleth's client-storage
page), fills the login form (the form holding the password input; the username by name,
``autocomplete`` or type; every hidden field kept; only that form's named controls sent),
answers a one-time-code form (with a code, or the push a push/passcode select offers when no
code was given), and stops at the first page holding a ``SAMLResponse`` input. PingID's push
page is never submitted (that sends the push): a code switches it to PingID's passcode page,
else the login stops naming ``--browser``.
The login form coming back after the password was sent means the IdP refused: the error text
shown near it is reported (exit 3) and the password is never sent again. Every step counts
against a hop limit, and each error names the step and the URL.

What differs between IdPs is data on a :class:`Flavor` (selectors, field names, extra
fields) plus two small hooks (:meth:`Flavor.start_url`, :meth:`Flavor.form_action`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit

from samljit.common.errors import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    IdpServiceError,
)
from samljit.common.http import (
    DEFAULT_TIMEOUT,
    RETRY_STATUSES,
    HttpClient,
    check_redirect,
    is_loopback_host,
    shown_url,
)
from samljit.common.terminal import Terminal
from samljit.common.text import printable
from samljit.config.accounts import Account
from samljit.idp import mfa
from samljit.idp.duo import DUO_KEYS, DuoPrompt, duo_prompt, is_duo_prompt
from samljit.idp.page import Field, Form, Page, parse_page, resolve, shorten, web_url
from samljit.idp.provider import LoginSecrets, Provider, ProviderKey

if TYPE_CHECKING:
    import requests

    from samljit.common.redact import Redactor

#: Names of username inputs, compared case-insensitively, after the flavor's own.
USERNAME_NAMES = (
    "username",
    "j_username",
    "user",
    "login",
    "email",
    "userid",
    "user_id",
    "uid",
    "loginfmt",
    "identifier",
    "login_email",
    "user_name",
)
#: Names of one-time-code inputs, compared case-insensitively, after the flavor's own.
OTP_NAMES = (
    "otp",
    "totp",
    "code",
    "otpcode",
    "otp_code",
    "one_time_code",
    "onetimecode",
    "passcode",
    "verificationcode",
    "security_code",
    "oathcode",
    "j_tokennumber",
    "pi_otp",
    "mfa_code",
    "mfacode",
    "tokencode",
    "smscode",
    "mfatoken",
)
#: Words (of an option's value or text) naming a push in a select of MFA methods, a one-time
#: code, and a code sent by text, mail or call (not what ``--mfa-token`` holds).
PUSH_WORDS = frozenset({"push"})
CODE_WORDS = frozenset({"otp", "totp", "passcode", "code", "token", "authenticator"})
SENT_CODE_WORDS = frozenset({"sms", "text", "email", "mail", "voice", "call", "phone"})
_WORD = re.compile(r"[a-z]+")
#: Where IdPs put the text of a refusal, tried after the flavor's own selectors.
ERROR_SELECTORS = (
    "[role=alert]",
    ".alert-error",
    ".alert-danger",
    "#errorText",
    "#error",
    ".error",
    ".kc-feedback-text",
    "[class*=error]",
    "[id*=error]",
    "[class*=alert]",
)
#: Live regions where a script announces what went wrong (read after :data:`ERROR_SELECTORS`
#: where a browser shows the page: the live document holds what the script wrote there).
LIVE_SELECTORS = ("[aria-live=assertive]", "[aria-live=polite]")


def refusal_text(page: Page, selectors: Sequence[str] = ()) -> str:
    """The refusal ``page`` shows (``selectors`` first, then :data:`ERROR_SELECTORS`); else
    what its markup carries for a script to show (message codes, ``title``, ``aria-label``)."""
    tried = (*selectors, *ERROR_SELECTORS)
    return page.text_of(tried) or page.unrendered_text(tried)


#: PingID's push page (PingID's spelling of ``reponseView``): a status form polled by script,
#: which sends the push to the phone, and the form that fetches the result.
PINGID_PUSH = ("form#form1", "form#reponseView")
#: Input names whose presence makes a hidden-only form a SAML or flow hop.
HOP_NAMES = ("SAMLRequest", "RelayState", "_eventId_proceed", "_eventId")
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Flavor:
    """What one IdP product adds to the engine: data, and two overridable hooks."""

    #: Product name, used in step names and messages ("Keycloak sign-in form").
    name: str
    #: CSS selectors of the login form, tried before the generic rule (a password input).
    login_forms: tuple[str, ...] = ()
    #: CSS selectors of the one-time-code form, tried before the generic rule.
    otp_forms: tuple[str, ...] = ()
    username_names: tuple[str, ...] = ()
    otp_names: tuple[str, ...] = ()
    #: CSS selectors of the refusal text, tried before :data:`ERROR_SELECTORS`.
    error_selectors: tuple[str, ...] = ()
    #: Pairs every login POST must carry (added when the form lacks them).
    login_extra: tuple[tuple[str, str], ...] = ()
    #: Pairs every one-time-code POST must carry (added when the form lacks them).
    otp_extra: tuple[tuple[str, str], ...] = ()
    #: Submit-button names to prefer over the first one (the button "pressed").
    submit_names: tuple[str, ...] = ()
    #: ``(selector, what)``: a page matching ``selector`` asks for something samljit cannot
    #: do yet (``what`` names it); the login stops with the page's words.
    unsupported: tuple[tuple[str, str], ...] = ()
    #: Requests one login may make, redirects and auto-submits included.
    max_steps: int = 30

    def start_url(self, account: Account) -> str:
        """The first URL to open (``url`` from the config, unless a flavor adds to it)."""
        return account.url

    def form_action(self, form: Form, page: Page) -> str:
        """Where ``form`` is submitted (its resolved ``action``)."""
        return form.action

    def step(self, what: str) -> str:
        return f"{self.name} {what}"


GENERIC = Flavor(name="IdP")


@dataclass
class _Progress:
    steps: int = 0
    username_sent: bool = False
    password_field: str | None = None  #: name of the password input that was filled
    otp_sent: bool = False
    #: The page that answered the one-time code (the code was refused if it has no form).
    otp_answer: Page | None = None
    #: The last form samljit submitted (a step name), to say where a login stopped.
    last_submitted: str | None = None
    #: What the second-factor form was answered with ("the one-time code", "the push").
    mfa_answer: str = "the one-time code"


@dataclass(frozen=True)
class MethodChoice:
    """A select of MFA methods beside the code input (F5 BIG-IP APM's ``mfamethod``): the
    option values that mean a push and a one-time code."""

    field: Field
    push: str
    code: str


def method_choice(form: Form) -> MethodChoice | None:
    """The form's select of MFA methods: one holding both a push option and a one-time-code
    option (an option whose value is a code word first, then one whose words say so; a code
    sent by text, mail or call is not one)."""
    for control in form.fields:
        if control.type != "select" or not control.name or control.disabled:
            continue
        words = [
            (value, set(_WORD.findall(f"{value} {text}".lower())))
            for value, text in control.options
        ]
        push = next((v for v, w in words if w & PUSH_WORDS), None)
        codes = [v for v, w in words if w & CODE_WORDS and not w & (PUSH_WORDS | SENT_CODE_WORDS)]
        exact = [v for v in codes if v.lower() in CODE_WORDS]
        if push is not None and codes:
            return MethodChoice(control, push, (exact or codes)[0])
    return None


class FormLogin:
    """One walk through an IdP's pages, from the start URL to the SAMLResponse."""

    def __init__(
        self,
        flavor: Flavor,
        http: HttpClient,
        terminal: Terminal,
        redactor: Redactor,
        secrets: LoginSecrets,
        *,
        notify: Callable[..., None] | None = None,
        mfa: str = "Auto",
        duo: Callable[[], DuoPrompt] | None = None,
    ) -> None:
        self.flavor = flavor
        #: Makes the driver of Duo's Universal Prompt, for a flow that reaches it.
        self.duo = duo
        #: The account's ``mfa``: ``TOTP`` picks a method select's code option even when no
        #: code was given up front (it is then asked for).
        self.mfa = (mfa or "Auto").strip().upper()
        self.notify = notify
        self.http = http
        self.terminal = terminal
        self.redactor = redactor
        self.secrets = secrets
        self.progress = _Progress()

    @staticmethod
    def of(
        provider: Provider,
        flavor: Flavor,
        secrets: LoginSecrets,
        *,
        mfa: str = "Auto",
        duo: Callable[[], DuoPrompt] | None = None,
    ) -> FormLogin:
        """A walk with ``provider``'s HTTP client, terminal, redactor and progress events."""
        return FormLogin(
            flavor,
            provider.http,
            provider.terminal,
            provider.redactor,
            secrets,
            notify=provider.notify,
            mfa=mfa,
            duo=duo,
        )

    # -- the walk ------------------------------------------------------------------------
    def run(self, url: str) -> str:
        """Walk from ``url`` to the SAMLResponse and return it (base64, as served).

        The IdP session samljit kept (its cookies in ``http``) makes the IdP answer the start
        URL with the SAMLResponse at once; the password is read from ``secrets`` (and so
        asked for) only when a login form shows up."""
        self.redactor.add(self.secrets.given_password, self.secrets.mfa_token)
        page = self.fetch("GET", url, None, self.flavor.step("start page"))
        while True:
            if page.saml_response is not None:
                return self._done(page)
            page = self.advance(page)

    def advance(self, page: Page) -> Page:
        """Do what ``page`` asks (fill a form or press on) and return the next page."""
        otp = self.otp_form(page)
        if otp is not None:
            return self._otp(page, *otp)
        login = self.login_form(page)
        if login is not None:
            return self._login(page, login)
        if all(page.select(selector) for selector in PINGID_PUSH):
            return self._pingid_push(page)
        for selector, what in self.flavor.unsupported:
            if page.select(selector):
                raise AuthenticationError(
                    f"{self.flavor.name} asks for {what}, which samljit does not support yet "
                    f"(at {shown_url(page.url)}): {page.text}",
                    hint="use a one-time code, or ask your IdP admins for a factor samljit "
                    "supports",
                )
        auto = self.auto_form(page)
        if auto is not None:
            return self.submit(page, auto, {}, self.flavor.step("auto-submit form"))
        raise self._stuck(page)

    # -- page reading --------------------------------------------------------------------
    def _otp_field(self, form: Form) -> Field | None:
        names = {n.lower() for n in (*self.flavor.otp_names, *OTP_NAMES)}
        for control in form.text_inputs:
            if control.name.lower() in names or control.autocomplete == "one-time-code":
                return control
        return None

    def _username_field(self, form: Form) -> Field | None:
        inputs = [f for f in form.text_inputs if f.type != "password"]
        names = (*self.flavor.username_names, *USERNAME_NAMES)
        by_name = form.named(*names)
        if by_name is not None and by_name in inputs:
            return by_name
        for control in inputs:
            if control.autocomplete in ("username", "email") or control.type == "email":
                return control
        if not form.passwords:
            return None
        # a name in another language: the text input that comes just before the password
        otp, password = self._otp_field(form), form.passwords[0]
        before: list[Field] = []
        for control in form.fields:
            if control is password:
                break
            if any(control is f for f in inputs) and control is not otp:
                before.append(control)
        return before[-1] if before else None

    def otp_form(self, page: Page) -> tuple[Form, Field] | None:
        """A form whose only typed input is a one-time code (radios may pick the device)."""
        chosen = page.select_form(self.flavor.otp_forms)
        candidates = [chosen] if chosen is not None else list(page.forms)
        for form in candidates:
            code = self._otp_field(form)
            if code is not None and len(form.text_inputs) == 1:
                return form, code
        return None

    def login_form(self, page: Page) -> Form | None:
        """The form with the password input (one password input preferred, then one with a
        username input, then document order); else a username-only first step."""
        chosen = page.select_form(self.flavor.login_forms)
        if chosen is not None and (chosen.passwords or self._username_field(chosen)):
            return chosen
        with_password = [f for f in page.forms if f.passwords]
        if with_password:
            return min(
                with_password,
                key=lambda f: (
                    len(f.passwords) != 1,
                    self._username_field(f) is None,
                    f.index,
                ),
            )
        for form in page.forms:
            username = self._username_field(form)
            if username is not None and len(form.user_controls) == 1:
                return form
        return None

    def auto_form(self, page: Page) -> Form | None:
        """A form nobody types into that the page submits by itself, or the only form of a
        page, or one carrying SAMLRequest/RelayState or a Web Flow event."""
        quiet = [f for f in page.forms if not f.user_controls]
        for form in quiet:
            if any(form.has(name) for name in HOP_NAMES):
                return form
        if quiet and (page.has_auto_submit or len(page.forms) == 1):
            return quiet[0]
        return None

    # -- steps ---------------------------------------------------------------------------
    def _login(self, page: Page, form: Form) -> Page:
        progress = self.progress
        password = form.passwords[0] if form.passwords else None
        username = self._username_field(form)
        if progress.password_field is not None:
            if password is not None and password.name != progress.password_field:
                raise self._unfillable(page, form)
            raise self._refused(page, "the login")
        if password is None and progress.username_sent:
            raise self._refused(page, "the username")
        values: dict[str, str] = {}
        if username is not None:
            values[username.name] = self.secrets.username
        if password is not None:
            if self.secrets.password is None:
                raise ConfigError(f"{self.flavor.name} asks for a password, but none was given")
            self._check_secure(self.flavor.form_action(form, page), "the password")
            values[password.name] = self.secrets.password
            otp = self._otp_field(form)
            if otp is not None and otp is not password:
                values[otp.name] = self._code()
                progress.otp_sent = True
            progress.password_field = password.name
            step = self.flavor.step("sign-in form")
            extra = self.flavor.login_extra
        else:
            progress.username_sent = True
            step = self.flavor.step("username form")
            extra = ()
        return self.submit(page, form, values, step, extra=extra)

    def _otp(self, page: Page, form: Form, code_field: Field) -> Page:
        progress = self.progress
        if progress.otp_sent:
            raise self._refused(page, progress.mfa_answer)
        self._check_secure(self.flavor.form_action(form, page), "the one-time code")
        methods = method_choice(form)
        timeout: tuple[float, float] | None = None
        if methods is not None and not self.secrets.mfa_token and self.mfa != "TOTP":
            # no code given: the push the page offers (its default on F5 BIG-IP APM)
            values = {methods.field.name: methods.push, code_field.name: ""}
            progress.mfa_answer = "the push"
            if self.notify is not None:
                self.notify("mfa.challenged", factor="PUSH")
            self.terminal.info(
                f"{self.flavor.name} sends a push: approve the sign-in on your phone "
                "(--mfa-token sends a one-time code instead)."
            )
            step = self.flavor.step("push")
            # the IdP answers when the phone does: wait up to the request limit, not 30 s
            timeout = (DEFAULT_TIMEOUT[0], self.http.request_seconds)
        else:
            values = {code_field.name: self._code()}
            if methods is not None:
                values[methods.field.name] = methods.code
            progress.mfa_answer = "the one-time code"
            step = self.flavor.step("one-time code")
        progress.otp_sent = True
        answer = self.submit(page, form, values, step, extra=self.flavor.otp_extra, timeout=timeout)
        progress.otp_answer = answer
        return answer

    def _pingid_push(self, page: Page) -> Page:
        """PingID's push page. Its status form is never posted (that sends the push, which
        samljit cannot wait out here): with a code (``--mfa-token``, or ``mfa = TOTP``) the
        page's ``useCodeUrl`` switches to the app's passcode page; else the login stops,
        naming ``--browser``."""
        if self.secrets.mfa_token or self.mfa == "TOTP":
            if not self.secrets.mfa_token:  # mfa = TOTP: the code is asked for on the next page
                self.terminal.require(
                    "a one-time MFA code", "pass --mfa-token or set SAMLJIT_MFA_TOKEN"
                )
            passcode_page = self.pingid_use_code(page)
            if passcode_page is not None:
                return passcode_page
        matching = ", with a number to match" if page.text_of((".numbermatching",)) else ""
        raise AuthenticationError(
            f"{self.flavor.name}: PingID asks to approve a push on your phone{matching}, which "
            f"samljit cannot answer in a terminal here (at {shown_url(page.url)}); "
            "no push was sent",
            hint="log in with `samljit login --browser`, or give PingID's one-time passcode "
            "with --mfa-token",
        )

    def pingid_use_code(self, page: Page) -> Page | None:
        """PingID's passcode page instead of its push (the push page's ``useCodeUrl``, posted
        with its ``csrfToken`` before any status request, so no push is sent); ``None`` when
        the page offers no such switch."""
        status = page.select_form((PINGID_PUSH[0],))
        csrf = status.named("csrfToken") if status is not None else None
        switch = next((str(e.get("value") or "") for e in page.select("input#useCodeUrl")), "")
        if not switch or csrf is None:
            return None
        target = resolve(page.url, switch)
        self._check_secure(target, "PingID's token")
        body = urlencode([("csrfToken", csrf.value)])
        return self.fetch("POST", target, body, "PingID passcode instead of a push")

    def _code(self) -> str:
        if self.notify is not None:
            self.notify("mfa.challenged", factor="TOTP")
        code = mfa.ask_code(
            self.terminal, self.secrets.mfa_token, what=f"{self.flavor.name} one-time code"
        )
        self.redactor.add(code)
        return code

    def _done(self, page: Page) -> str:
        value = page.saml_response or ""
        if not value:
            raise AssertionFormatError(
                f"{self.flavor.step('final page')} at {shown_url(page.url)}: the "
                "SAMLResponse input is empty",
                hint="check that your user is allowed to use the AWS app at the IdP",
            )
        self.redactor.add(value)
        return value

    # -- HTTP ----------------------------------------------------------------------------
    def submitter(self, form: Form) -> Field | None:
        """The submit button "pressed": a preferred name, else the first named one."""
        buttons = [f for f in form.fields if f.is_submit and f.name and not f.disabled]
        for name in self.flavor.submit_names:
            for button in buttons:
                if button.name == name:
                    return button
        return buttons[0] if buttons else None

    def before_submit(self, form: Form, values: dict[str, str]) -> dict[str, str]:
        """The values :meth:`submit` sends for ``form`` besides its own: ``values`` here; an
        IdP's walk adds what the page's script would set, or redacts what the form carries."""
        return values

    def submit(
        self,
        page: Page,
        form: Form,
        values: dict[str, str],
        step: str,
        *,
        extra: Sequence[tuple[str, str]] = (),
        timeout: tuple[float, float] | None = None,
    ) -> Page:
        values = self.before_submit(form, values)
        pairs = form.submission(values, submitter=self.submitter(form), extra=extra)
        self.progress.last_submitted = step
        action = self.flavor.form_action(form, page)
        if not web_url(action):
            raise AuthenticationError(
                f"{step}: the form at {shown_url(page.url)} submits to an address that is not "
                f"a web URL ({shorten(action, 80)!r})",
                hint="check url; --debug shows each step",
            )
        if form.method == "GET":
            parts = urlsplit(action)
            target = parts._replace(query=urlencode(pairs), fragment="").geturl()
            return self.fetch("GET", target, None, step, referer=page.url, timeout=timeout)
        return self.fetch("POST", action, urlencode(pairs), step, referer=page.url, timeout=timeout)

    def fetch(
        self,
        method: str,
        url: str,
        body: str | None,
        step: str,
        *,
        referer: str | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> Page:
        """One request, then its redirects (each a step), up to the page they end on."""
        while True:
            response = self._request(method, url, body, step, referer, timeout)
            timeout = None
            location = response.headers.get("Location")
            if response.status_code in REDIRECTS and location:
                referer = None
                target = _next_url(url, location, step)
                check_redirect(url, target, response.status_code, body=body is not None, step=step)
                url = target
                if response.status_code not in (307, 308):
                    method, body = "GET", None
                step = self.flavor.step("redirect")
                if is_duo_prompt(url) and self.duo is not None:
                    url, method, body = self.duo().complete(url), "GET", None
                    step = self.flavor.step("redirect back from Duo")
                continue
            return self._page(response, url, step)

    def _request(
        self,
        method: str,
        url: str,
        body: str | None,
        step: str,
        referer: str | None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        progress = self.progress
        progress.steps += 1
        if progress.steps > self.flavor.max_steps:
            raise AuthenticationError(
                f"{step}: gave up after {self.flavor.max_steps} requests without reaching a "
                f"SAMLResponse (last URL {shown_url(url)})",
                hint="the IdP seems to loop; check url, or run with --debug to see each step",
            )
        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        return self.http.walk_request(method, url, body, step=step, referer=referer, **options)

    def _page(self, response: requests.Response, url: str, step: str) -> Page:
        content_type = response.headers.get("Content-Type", "")
        raw: str | bytes = response.text if "charset" in content_type.lower() else response.content
        page = parse_page(raw, url=url, status=response.status_code)
        status = response.status_code
        if status in RETRY_STATUSES:
            said = f"; it says: {page.text}" if page.text else ""
            raise IdpServiceError(
                f"{step}: {shown_url(url)} answered HTTP {status} after "
                f"{self.http.retries + 1} attempts{said}",
                hint="the IdP has trouble; try again in a minute (--debug shows each step)",
            )
        if status >= 400 and page.saml_response is None and not page.forms:
            said = f": {page.text}" if page.text else ""
            if status == 404 and self.progress.steps == 1:
                raise ConfigError(
                    f"{step}: {shown_url(url)} answered HTTP 404{said}",
                    hint="check url with `samljit configure`",
                )
            raise AuthenticationError(f"{step}: {shown_url(url)} answered HTTP {status}{said}")
        return page

    def _check_secure(self, url: str, what: str) -> None:
        if web_url(url):
            parts = urlsplit(url)
            if parts.scheme == "https" or is_loopback_host(parts.hostname):
                return
        raise AuthenticationError(
            f"{self.flavor.name}: refusing to send {what} to {shown_url(url)} "
            "(not https, not loopback)",
            hint="the IdP's form points at an insecure address; tell its admins",
        )

    # -- errors --------------------------------------------------------------------------
    def error_text(self, page: Page) -> str:
        """The refusal the page shows; else what its markup carries for a script to show
        (message codes, ``title``, ``aria-label``, JSON)."""
        return refusal_text(page, self.flavor.error_selectors)

    def _refused(self, page: Page, what: str) -> AuthenticationError:
        said = self.error_text(page)
        hint = {
            "the one-time code": "use a fresh code from your authenticator",
            "the push": "approve the push on your phone, or give a one-time code with --mfa-token",
        }.get(what, "check username and password (samljit configure)")
        if said:
            return AuthenticationError(f"{self.flavor.name} refused {what}: {said}", hint=hint)
        if not page.forms:
            said = page.text
            return AuthenticationError(
                f"{self.flavor.name} refused {what}: it answered with a page without a form at "
                f"{shown_url(page.url)} (HTTP {page.status})"
                + (f"; it says: {said}" if said else ""),
                hint=f"{hint}; --debug shows each step",
            )
        return AuthenticationError(
            f"{self.flavor.name} refused {what}: its form came back at {shown_url(page.url)} "
            "with no error text",
            hint=f"{hint}; --debug shows each step",
        )

    def _unfillable(self, page: Page, form: Form) -> AuthenticationError:
        names = printable(", ".join(f.name for f in form.user_controls)) or "none"
        said = self.error_text(page) or page.text
        return AuthenticationError(
            f"{self.flavor.name} shows a form samljit cannot fill at {shown_url(page.url)} "
            f"(fields: {names}): {shorten(said)}",
            hint="finish that step once in a browser (e.g. a password change), then retry",
        )

    def _stuck(self, page: Page) -> AuthenticationError:
        progress = self.progress
        if page is progress.otp_answer and not page.forms:
            return self._refused(page, progress.mfa_answer)  # the answer to the code or push
        said = self.error_text(page) or page.text
        if progress.last_submitted is not None:  # the URL led somewhere: say where it stopped
            return AuthenticationError(
                f"{self.flavor.name}: after {progress.last_submitted}, the page at "
                f"{shown_url(page.url)} (HTTP {page.status}) has no login form, one-time-code "
                "form or SAMLResponse" + (f"; it says: {said}" if said else ""),
                hint="samljit cannot go on from that page; open the URL in a browser to see "
                "it, and run with --debug to see each step",
            )
        return AuthenticationError(
            f"{self.flavor.name}: the page at {shown_url(page.url)} (HTTP {page.status}) has "
            "no login form, one-time-code form or SAMLResponse"
            + (f"; it says: {said}" if said else ""),
            hint="check url (the IdP's sign-in URL for the AWS app); --debug shows each step",
        )


def _next_url(current: str, location: str, step: str) -> str:
    target = resolve(current, location)
    if not web_url(target):
        raise AuthenticationError(
            f"{step}: {shown_url(current)} redirects to an address that is not a web URL "
            f"({shorten(target, 80)!r})"
        )
    return target


class FormProvider(Provider):
    """Base of every HTML-form provider: the flavor is all a subclass sets."""

    flavor: ClassVar[Flavor] = GENERIC
    mfa_options: ClassVar[tuple[str, ...]] = ("Auto", "TOTP")
    keys: ClassVar[tuple[ProviderKey, ...]] = (*Provider.keys, *DUO_KEYS)

    def login(self, secrets: LoginSecrets) -> str:
        walk = FormLogin.of(
            self,
            self.flavor,
            secrets,
            mfa=self.account.mfa,
            duo=lambda: duo_prompt(self, secrets.mfa_token),
        )
        return walk.run(self.flavor.start_url(self.account))
