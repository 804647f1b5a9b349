"""The sign-in as a loop over Entra's pages, dispatching on ``$Config.pgid``: the password
(after home realm discovery), a federated domain's AD FS sign-in through samljit's form engine,
"Stay signed in?", the MFA registration Entra lets one skip; the second factor is
:class:`~.factors.EntraFactors`'. Every URL after the start comes from the pages."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from samljit.idp.api import (
    AuthenticationError,
    ConfigError,
    FormLogin,
    resolve,
    shown_url,
    web_url,
)

from .errors import _said, _str, page_error
from .pages import DEFAULT_URL, EntraPages, EstsPage, _State, config_of, script_location


class EntraSignIn(EntraPages):
    """Entra's pages, one after the other, up to the one holding the SAMLResponse."""

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
                raise page_error(page, self.option("app_id"), again=True)
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
        raise page_error(page, self.option("app_id"))

    @abstractmethod
    def _second_factor(self, state: _State, page: EstsPage) -> EstsPage:
        """Pass the second-factor page (``ConvergedTFA``)."""

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
        body = credential_type_body(username, _str(page.config or {}, "sCtx"), state.flow_token)
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
        from ..adfs import ADFS

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
        walk = FormLogin.of(self, flavor, state.secrets)
        page = walk.fetch("GET", url, None, flavor.step("sign-in page"))
        while True:
            # AD FS's own sign-in session (its cookies on its host) is kept with Entra's
            self._visited.add((urlsplit(page.url).hostname or "").lower())
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


def credential_type_body(username: str, context: str, flow_token: str) -> dict[str, Any]:
    """The GetCredentialType request (home realm discovery) a browser sends for ``username``
    from the sign-in page whose ``sCtx`` is ``context``."""
    return {
        "username": username,
        "isOtherIdpSupported": True,
        "checkPhones": False,
        "isRemoteNGCSupported": False,
        "isCookieBannerShown": False,
        "isFidoSupported": False,
        "originalRequest": context,
        "flowToken": flow_token,
    }
