"""Entra ID's second factor: each method of the page's ``arrUserProofs`` samljit can use in
a terminal is a :class:`~samljit.idp.api.Factor` (number-matching push, Authenticator code,
text code), chosen by ``mfa`` (``Auto``: the user's default, or one that takes a given code),
over Entra's BeginAuth/EndAuth/ProcessAuth calls."""

from __future__ import annotations

from typing import Any, ClassVar

from samljit.idp.api import (
    AuthenticationError,
    Factor,
    Waiting,
    WrongCodeError,
    choose,
    code_until_accepted,
    number,
    wait_until,
)

from .errors import WRONG_CODE, _refusal, _said, _str
from .pages import EstsPage, _State
from .signin import EntraSignIn

#: Defaults when the second-factor page does not say (seconds, polls, milliseconds).
POLL_INTERVAL = 1.0
MAX_POLLS = 60
POLL_TIMEOUT_MS = 60_000


class EntraFactors(EntraSignIn):
    """The second-factor page and Entra's calls behind it."""

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


class _Method(Factor[EstsPage]):
    """One entry of the page's ``arrUserProofs``."""

    def __init__(
        self, provider: EntraFactors, state: _State, page: EstsPage, proof: dict[str, Any]
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
        tries = 0

        def submit(typed: str) -> EstsPage:
            nonlocal last, tries
            p.redactor.add(typed)
            if not self.sends_code and tries == 0:  # Authenticator: BeginAuth once asked
                last = p.begin_auth(self.state, self.page, self.kind)
            tries += 1
            last = p.end_auth(self.state, self.page, last, self.kind, tries, typed)
            if last.get("Success") is True:
                return p.process_auth(self.state, self.page, last, self.kind, "19")
            refused = _refusal(self.kind, last)
            if _str(last, "ResultValue") in WRONG_CODE:
                raise WrongCodeError(refused.message, hint=refused.hint)
            raise refused

        return code_until_accepted(terminal, code, submit, what=self.what)


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
