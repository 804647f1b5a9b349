"""Duo's Universal Prompt (frameless v4) in the terminal, behind any IdP.

An IdP whose second factor is Duo redirects the browser to Duo's prompt
(``/frame/frameless/v4/auth?sid=…&tx=…`` on ``api-*.duosecurity.com``,
``api-*.duofederal.com``, or loopback for tests); the prompt sends the browser back to the IdP
with ``duo_code``/``code`` and ``state``. :class:`DuoPrompt` walks the prompt as Duo's own
page does (shared/protocols/duo.md): the plugin form, the health-check round trip, the prompt
data (devices and factors), starting a factor, polling its transaction at Duo's pace,
``oidc/exit``; it returns the URL back at the IdP, whose flow the provider then goes on with.

The factors (:class:`DuoPush`, :class:`DuoCall`, :class:`DuoPasscode`) are objects; which one
is used follows ``duo_factor`` and ``duo_device`` (:data:`DUO_KEYS`) and ``--mfa-token``. A
step a terminal cannot do (WebAuthn, a required device health check, an enrollment page,
Duo's single-page prompt of 2026) stops the login, naming ``--browser``.

Duo's ``sid``, ``tx``, ``_xsrf``, every ``txid``, the ``trc`` cookie and the way back's
``state`` and code are registered with the redactor as soon as they are seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from samljit.common.errors import AuthenticationError, ConfigError
from samljit.common.http import (
    ACCEPT_HTML,
    ACCEPT_JSON,
    HttpClient,
    is_loopback_host,
    json_object,
    shown_url,
)
from samljit.common.text import one_line, printable
from samljit.idp.mfa import Factor, ask_code
from samljit.idp.page import parse_page
from samljit.idp.provider import ProviderKey
from samljit.idp.wait import Waiting, wait_until

if TYPE_CHECKING:
    import requests

    from samljit.common.services import Services
    from samljit.idp.provider import Provider

#: The path of Duo's prompt (with ``sid`` and ``tx`` in the query).
PROMPT_PATH = "/frame/frameless/v4/auth"
HEALTH_CHECK_PATH = "/frame/v4/preauth/healthcheck"
AUTH_PROMPT_PATH = "/frame/v4/auth/prompt"
#: Duo's hosts: ``api-XXXXXXXX.duosecurity.com`` and, for Duo Federal, ``…duofederal.com``.
DUO_DOMAINS = (".duosecurity.com", ".duofederal.com")
#: Seconds between two polls of a transaction (Duo's own page polls about once a second).
POLL_SECONDS = 1.0
#: The longest samljit waits for Duo's final answer: a push or call lives about 60 s at Duo,
#: which then answers ``timeout`` itself; samljit waits past that, never less.
WAIT_SECONDS = 150.0
#: A passcode is answered at the first poll.
PASSCODE_WAIT_SECONDS = 30.0
BROWSER_HINT = "log in with `samljit login --browser`, which shows Duo's prompt in a browser"

#: The config keys of Duo (any provider whose flow may reach the prompt declares them).
DUO_KEYS = (
    ProviderKey(
        "duo_factor",
        "Duo factor: Auto (Duo's first on the device; a passcode with --mfa-token), Push, "
        "Passcode or Phone",
        default="Auto",
        ask=False,
        question="Duo factor (Auto, Push, Passcode or Phone)",
    ),
    ProviderKey(
        "duo_device",
        "Duo device: its index (phone1, …), its name, or the last digits of its number "
        "(default: Duo's default device)",
        ask=False,
        question="Duo device (Enter: Duo's default)",
    ),
)

#: ``duo_factor`` values (any case) and the factor kind they select.
_FACTOR_NAMES = {
    "auto": "AUTO",
    "push": "PUSH",
    "duo push": "PUSH",
    "passcode": "PASSCODE",
    "duo mobile passcode": "PASSCODE",
    "phone": "PHONE",
    "phone call": "PHONE",
    "call": "PHONE",
}


def is_duo_prompt(url: str) -> bool:
    """Whether ``url`` is Duo's Universal Prompt: its path with ``sid`` and ``tx``, on Duo's
    hosts or loopback."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    if parts.path.rstrip("/") != PROMPT_PATH or parts.scheme not in ("http", "https"):
        return False
    query = dict(parse_qsl(parts.query))
    if not query.get("sid") or not query.get("tx"):
        return False
    duo_host = host.startswith("api-") and host.endswith(DUO_DOMAINS) and parts.scheme == "https"
    return duo_host or is_loopback_host(host)


def duo_factor_kind(value: str | None) -> str:
    """``duo_factor`` as a factor kind (``AUTO``, ``PUSH``, ``PASSCODE``, ``PHONE``)."""
    wanted = (value or "Auto").strip().lower()
    kind = _FACTOR_NAMES.get(wanted)
    if kind is None:
        raise ConfigError(
            f"duo_factor is set to {printable(value or '')!r}; samljit knows Auto, Push, "
            "Passcode and Phone",
            hint="set duo_factor with `samljit configure`",
        )
    return kind


@dataclass(frozen=True)
class DuoDevice:
    """One of the user's devices, as the prompt data lists it."""

    key: str
    index: str
    name: str
    last_digits: str

    @property
    def label(self) -> str:
        said = self.name or self.index
        digits = f" (…{self.last_digits})" if self.last_digits else ""
        return f"{said}{digits}"

    def matches(self, wanted: str) -> bool:
        wanted = wanted.strip().lower()
        return wanted in (self.index.lower(), self.name.lower()) or (
            bool(self.last_digits) and wanted == self.last_digits.lower()
        )


@dataclass
class _Session:
    """The state of one prompt: its URL, ``sid``, ``_xsrf`` and what the prompt data says."""

    url: str
    sid: str
    xsrf: str = ""
    devices: list[DuoDevice] = field(default_factory=list)
    #: ``(factor label, device key)`` in Duo's order of preference.
    order: list[tuple[str, str]] = field(default_factory=list)

    def at(self, path: str, **query: str) -> str:
        parts = urlsplit(self.url)
        return parts._replace(path=path, query=urlencode(query), fragment="").geturl()


class DuoFactor(Factor[str]):
    """One of Duo's factors on one device: ``verify`` starts it, waits for Duo's final
    answer and returns the transaction id to leave the prompt with."""

    #: The factor's name in Duo's ``auth_method_order`` and on the wire.
    offered: ClassVar[str]
    wire: ClassVar[str]
    #: What the terminal says while waiting.
    waiting: ClassVar[str] = "Waiting for Duo…"

    def __init__(self, prompt: DuoPrompt, session: _Session, device: DuoDevice | None) -> None:
        self.prompt = prompt
        self.session = session
        self.device = device

    @property
    def label(self) -> str:
        return f"{self.wire} to {self.device.label}" if self.device else self.wire

    def fields(self, code: str | None) -> dict[str, str]:
        return {"device": self.device.index if self.device else "null"}

    #: What is said once the factor is started (a push, a call); ``{device}`` is the phone.
    announcement: ClassVar[str] = ""

    def announce(self) -> None:
        if self.announcement:
            device = self.device.label if self.device else "your phone"
            self.prompt.terminal.info(self.announcement.format(device=device))

    def verify(self, code: str | None) -> str:
        fields = self.fields(code)
        txid = self.prompt.start(self.session, self.wire, fields)
        self.announce()
        return self.prompt.wait(self.session, txid, self)

    seconds: ClassVar[float] = WAIT_SECONDS


class DuoPush(DuoFactor):
    kind: ClassVar[str] = "PUSH"
    offered: ClassVar[str] = "Duo Push"
    wire: ClassVar[str] = "Duo Push"
    waiting: ClassVar[str] = "Waiting for the Duo Push to be approved…"
    announcement: ClassVar[str] = (
        "Duo: pushed a login request to {device}: approve it in Duo Mobile."
    )


class DuoCall(DuoFactor):
    kind: ClassVar[str] = "PHONE"
    offered: ClassVar[str] = "Phone Call"
    wire: ClassVar[str] = "Phone Call"
    waiting: ClassVar[str] = "Waiting for the Duo call to be answered…"
    announcement: ClassVar[str] = "Duo: calling {device}: answer it and press a key."


class DuoPasscode(DuoFactor):
    kind: ClassVar[str] = "PASSCODE"
    takes_code: ClassVar[bool] = True
    offered: ClassVar[str] = "Duo Mobile Passcode"
    wire: ClassVar[str] = "Passcode"
    seconds: ClassVar[float] = PASSCODE_WAIT_SECONDS

    @property
    def label(self) -> str:
        return "Passcode"

    def fields(self, code: str | None) -> dict[str, str]:
        passcode = ask_code(self.prompt.terminal, code, what="Duo passcode")
        self.prompt.services.redactor.add(passcode)
        return {"device": "null", "passcode": passcode}


#: The factors samljit drives, by kind.
FACTORS: tuple[type[DuoFactor], ...] = (DuoPush, DuoCall, DuoPasscode)
#: Labels in ``auth_method_order`` that need a browser.
_BROWSER_ONLY = ("webauthn", "touch id", "platform")


class DuoPrompt:
    """Completes Duo's Universal Prompt with one cookie jar (the provider's ``http``)."""

    def __init__(
        self,
        http: HttpClient,
        services: Services,
        *,
        idp: str,
        factor: str | None = "Auto",
        device: str | None = None,
        mfa_token: str | None = None,
        notify: Callable[..., None] | None = None,
    ) -> None:
        self.http = http
        self.services = services
        self.terminal = services.terminal
        self.redactor = services.redactor
        #: The IdP that sent the user to Duo, for messages ("Shibboleth").
        self.idp = idp
        self.kind = duo_factor_kind(factor)
        self.device = (device or "").strip() or None
        self.mfa_token = mfa_token
        self.notify = notify

    # -- the walk ------------------------------------------------------------------------
    def reach(
        self, url: str, step: str, *, headers: Mapping[str, str] | None = None, hops: int = 5
    ) -> str:
        """Follow ``GET url`` and its redirects (the IdP's own, then Duo's authorize) to the
        prompt; its URL. ``headers`` go with the first request only."""
        method, sent = "GET", dict(headers or {})
        for _ in range(hops):
            if is_duo_prompt(url):
                return url
            response = self.http.request(
                method, url, step=step, headers=sent, allow_redirects=False
            )
            self.http.raise_for_service_trouble(response, step=step)
            hop = self.http.hop(url, response, method, None, step=step)
            if hop is None:
                raise AuthenticationError(
                    f"{step}: {shown_url(url)} answered HTTP {response.status_code} instead of "
                    "sending to Duo's prompt",
                    hint=BROWSER_HINT,
                )
            method, url, sent = hop[0], hop[1], {}
        if is_duo_prompt(url):
            return url
        raise AuthenticationError(
            f"{step}: the redirects never reached Duo's prompt", hint=BROWSER_HINT
        )

    def complete(self, url: str) -> str:
        """Walk the prompt at ``url`` and return the URL Duo sends the browser back to."""
        query = dict(parse_qsl(urlsplit(url).query))
        self.redactor.add(query.get("sid"), query.get("tx"))
        if self.notify is not None:
            self.notify("mfa.challenged", factor="DUO")
        session = _Session(url=url, sid=query.get("sid", ""))
        landed = self._plugin(session)
        if _path(landed) == HEALTH_CHECK_PATH:
            self._health_check(session, landed)
            landed = self._plugin(session)
            if _path(landed) == HEALTH_CHECK_PATH:
                raise _needs_browser("Duo requires a device health check (Duo Desktop)")
        if _path(landed) != AUTH_PROMPT_PATH:
            return self._elsewhere(session, landed)
        self._prompt_data(session)
        factor = self._factor(session)
        txid = factor.verify(self.mfa_token)
        return self._exit(session, txid, factor)

    # -- steps ---------------------------------------------------------------------------
    def _plugin(self, session: _Session) -> str:
        """GET the plugin form, POST it to its own URL; where Duo's answer points."""
        step = "Duo prompt"
        response = self._get(session.url, step, accept=ACCEPT_HTML)
        if response.status_code != 200:
            raise self._answered(step, response)
        page = parse_page(response.content, url=session.url, status=response.status_code)
        form = page.select_form(("form#plugin_form",))
        if form is None:
            if page.select("[data-authkey]"):
                raise _needs_browser("Duo shows its single-page prompt, which samljit cannot drive")
            raise _needs_browser("Duo shows a page samljit does not know (no plugin form)")
        pairs = form.submission()
        xsrf = dict(pairs).get("_xsrf", "")
        self.redactor.add(xsrf)
        session.xsrf = xsrf or session.xsrf
        step = "Duo plugin form"
        body = urlencode(pairs)
        response = self._send("POST", session.url, step, data=body, accept=ACCEPT_HTML)
        if response.status_code == 403:
            raise AuthenticationError(
                f"{step}: Duo refused the prompt's form (HTTP 403)",
                hint="run again; --debug shows each step",
            )
        hop = self.http.hop(session.url, response, "POST", body, step=step)
        if hop is None:
            raise self._answered(step, response)
        return hop[1]

    def _health_check(self, session: _Session, url: str) -> None:
        """Duo's health-check round trip (2025): its data must say no check is required."""
        step = "Duo health check"
        self._get(url, step, accept=ACCEPT_HTML)
        data = self._json("GET", session.at(f"{HEALTH_CHECK_PATH}/data", sid=session.sid), step)
        answer = data.get("response") if data.get("stat") == "OK" else None
        if not isinstance(answer, dict) or answer.get("health_check_required"):
            raise _needs_browser("Duo requires a device health check (Duo Desktop)")
        back = self._get(session.at("/frame/v4/return", sid=session.sid), step, accept=ACCEPT_HTML)
        if self.http.hop(back.url, back, "GET", None, step=step) is None:
            raise self._answered(step, back)

    def _elsewhere(self, session: _Session, url: str) -> str:
        """The plugin form led off the prompt: back to the IdP (no second factor needed),
        or a page of Duo's a terminal cannot use."""
        parts = urlsplit(url)
        here = urlsplit(session.url)
        if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
            self._note_way_back(url)
            return url
        path = parts.path
        if path.startswith("/prompt/"):
            raise _needs_browser("Duo shows its single-page prompt, which samljit cannot drive")
        if "enroll" in path:
            raise _needs_browser("Duo asks to enroll a device first")
        raise _needs_browser(f"Duo leads to a page samljit does not know ({printable(path)})")

    def _prompt_data(self, session: _Session) -> None:
        step = "Duo prompt data"
        url = session.at(
            f"{AUTH_PROMPT_PATH}/data",
            post_auth_action="OIDC_EXIT",
            browser_features=json.dumps({}),
            sid=session.sid,
        )
        answer = self._ok(self._json("GET", url, step), step)
        for phone in answer.get("phones") or []:
            if isinstance(phone, dict) and phone.get("index"):
                session.devices.append(
                    DuoDevice(
                        key=str(phone.get("key") or ""),
                        index=str(phone["index"]),
                        name=one_line(str(phone.get("name") or "")),
                        last_digits=one_line(str(phone.get("end_of_number") or "")),
                    )
                )
        for entry in answer.get("auth_method_order") or []:
            if isinstance(entry, dict) and isinstance(entry.get("factor"), str):
                session.order.append((entry["factor"], str(entry.get("deviceKey") or "")))

    def _factor(self, session: _Session) -> DuoFactor:
        """The factor and device per ``duo_factor``/``duo_device``/``--mfa-token``."""
        usable = [(label, key) for label, key in session.order if _kind_of(label) is not None]
        if not usable:
            offered = ", ".join(printable(label) for label, _ in session.order) or "nothing"
            raise _needs_browser(f"Duo offers only {offered} for this user")
        device = self._device(session) if self.device else None
        kind = self.kind
        if (
            kind == "AUTO"
            and self.mfa_token
            and any(_kind_of(label) is DuoPasscode for label, _ in usable)
        ):
            kind = "PASSCODE"
        if kind == "PASSCODE":
            return DuoPasscode(self, session, None)
        for label, key in usable:
            factor = _kind_of(label)
            if factor is None or factor is DuoPasscode:
                continue
            if kind != "AUTO" and factor.kind != kind:
                continue
            if device is not None and key != device.key:
                continue
            return factor(self, session, device or self._by_key(session, key))
        if kind == "AUTO" and any(_kind_of(label) is DuoPasscode for label, _ in usable):
            return DuoPasscode(self, session, None)
        wanted = {"AUTO": "a push or a call", "PUSH": "Duo Push", "PHONE": "a phone call"}[kind]
        on = f" on {device.label}" if device else ""
        offered = ", ".join(sorted({printable(label) for label, _ in session.order}))
        raise AuthenticationError(
            f"Duo offers no {wanted}{on} for this user (it offers: {offered})",
            hint="set duo_factor and duo_device to one Duo offers (samljit configure)",
        )

    def _device(self, session: _Session) -> DuoDevice:
        wanted = self.device or ""
        for device in session.devices:
            if device.matches(wanted):
                return device
        known = ", ".join(f"{d.index} = {d.label}" for d in session.devices) or "none"
        raise ConfigError(
            f"duo_device is set to {printable(wanted)!r}, but Duo knows these devices: {known}",
            hint="set duo_device to a device's index, name or last digits (samljit configure)",
        )

    @staticmethod
    def _by_key(session: _Session, key: str) -> DuoDevice | None:
        return next((d for d in session.devices if d.key == key), None)

    def start(self, session: _Session, factor: str, fields: Mapping[str, str]) -> str:
        """Start ``factor`` (Duo's wire name): its transaction id."""
        step = f"Duo {factor}"
        body = {
            **fields,
            "factor": factor,
            "postAuthDestination": "OIDC_EXIT",
            "browser_features": json.dumps({}),
            "sid": session.sid,
        }
        answer = self._ok(self._json("POST", session.at("/frame/v4/prompt"), step, body), step)
        txid = answer.get("txid")
        if not isinstance(txid, str) or not txid:
            raise AuthenticationError(f"{step}: Duo's answer holds no transaction id")
        self.redactor.add(txid)
        return txid

    def wait(self, session: _Session, txid: str, factor: DuoFactor) -> str:
        """Poll the transaction at Duo's pace until Duo's final answer; ``txid`` when allowed."""
        step = "Duo status"
        shown: set[str] = set()

        def expired() -> AuthenticationError:
            return AuthenticationError(
                f"Duo gave no answer to {factor.label} in time",
                hint="run again and answer sooner, or use a passcode (--mfa-token)",
            )

        def poll(_: Waiting) -> str | None:
            body = {"sid": session.sid, "txid": txid}
            answer = self._ok(self._json("POST", session.at("/frame/v4/status"), step, body), step)
            code = str(answer.get("status_code") or "")
            said = printable(one_line(str(answer.get("status") or "")))
            verified = answer.get("risk_based_factor_selection_data")
            step_up = verified.get("step_up_code") if isinstance(verified, dict) else None
            if isinstance(step_up, str | int) and str(step_up) and str(step_up) not in shown:
                shown.add(str(step_up))
                self.terminal.notice(
                    f"Verified Duo Push: enter {printable(str(step_up))} in Duo Mobile."
                )
            if code == "allow":
                return txid
            if code in ("deny", "timeout"):
                raise AuthenticationError(
                    f"Duo refused {factor.label}: {said or code}",
                    hint="run again (samljit sends no second push by itself)"
                    if code == "timeout" or factor.kind != "PASSCODE"
                    else "use a fresh passcode",
                )
            if code == "webauthn_sent":
                raise _needs_browser("Duo asks for a security key (WebAuthn)")
            if code in ("pushed", "calling", "answered", "sent", ""):
                return None
            raise AuthenticationError(f"{step}: Duo answered {printable(code)!r}: {said}")

        return wait_until(
            poll,
            services=self.services,
            seconds=factor.seconds,
            every=POLL_SECONDS,
            waiting=factor.waiting,
            expired=expired,
            sleep_first=factor.kind != "PASSCODE",
            note="(Ctrl-C cancels)",
        )

    def _exit(self, session: _Session, txid: str, factor: DuoFactor) -> str:
        step = "Duo exit"
        body = urlencode(
            {
                "sid": session.sid,
                "txid": txid,
                "factor": factor.wire,
                "device_key": factor.device.key if factor.device else "",
                "_xsrf": session.xsrf,
                "dampen_choice": "false",
            }
        )
        url = session.at("/frame/v4/oidc/exit")
        response = self._send("POST", url, step, data=body, accept=ACCEPT_HTML)
        hop = self.http.hop(url, response, "POST", body, step=step)
        if hop is None:
            data = json_object(response) or {}
            if data.get("stat") == "FAIL":
                raise self._refusal(step, data)
            raise self._answered(step, response)
        self._note_way_back(hop[1])
        return hop[1]

    def _note_way_back(self, url: str) -> None:
        for name, value in parse_qsl(urlsplit(url).query):
            if name in ("state", "code", "duo_code"):
                self.redactor.add(value)

    # -- HTTP ----------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, step: str, *, data: Any = None, accept: str = ACCEPT_JSON
    ) -> requests.Response:
        response = self.http.walk_request(method, url, data, step=step, accept=accept)
        self.http.raise_for_service_trouble(response, step=step)
        self._note_cookies(response)
        return response

    def _get(self, url: str, step: str, *, accept: str) -> requests.Response:
        return self._send("GET", url, step, accept=accept)

    def _note_cookies(self, response: requests.Response) -> None:
        for cookie in response.cookies:
            self.redactor.add(cookie.value)

    def _json(
        self, method: str, url: str, step: str, body: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        data = urlencode(body) if body is not None else None
        response = self._send(method, url, step, data=data)
        if response.status_code == 405:
            raise _needs_browser("Duo shows its single-page prompt, which samljit cannot drive")
        answer = json_object(response)
        if response.status_code != 200 or answer is None:
            raise self._answered(step, response)
        return answer

    def _ok(self, data: dict[str, Any], step: str) -> dict[str, Any]:
        if data.get("stat") != "OK":
            raise self._refusal(step, data)
        answer = data.get("response")
        return answer if isinstance(answer, dict) else {}

    @staticmethod
    def _refusal(step: str, data: Mapping[str, Any]) -> AuthenticationError:
        said = printable(one_line(str(data.get("message") or "")))
        enum = data.get("message_enum")
        if enum == 57:
            return AuthenticationError(
                f"{step}: Duo refused the call (its trc cookie is missing: message 57)",
                hint=f"run again; if it persists, {BROWSER_HINT}",
            )
        return AuthenticationError(
            f"{step}: Duo refused: {said or f'message {printable(str(enum))}'}",
            hint="run again; --debug shows each step",
        )

    @staticmethod
    def _answered(step: str, response: requests.Response) -> AuthenticationError:
        return AuthenticationError(
            f"{step}: Duo answered HTTP {response.status_code} where samljit expected its prompt",
            hint=f"--debug shows each step; {BROWSER_HINT}",
        )


def duo_prompt(provider: Provider, mfa_token: str | None, *, notify: bool = True) -> DuoPrompt:
    """The Duo driver of ``provider``'s login: its cookie jar, services and Duo settings
    (``mfa_token``: the one-time code given up front, a Duo passcode). ``notify``: report
    ``mfa.challenged`` (``DUO``) to the audit log; off where the provider chose Duo as its
    factor and reported it already."""
    return DuoPrompt(
        provider.http,
        provider.services,
        idp=provider.name,
        factor=provider.option("duo_factor"),
        device=provider.option("duo_device"),
        mfa_token=mfa_token,
        notify=provider.notify if notify else None,
    )


def _kind_of(label: str) -> type[DuoFactor] | None:
    """The factor samljit drives for a label of ``auth_method_order`` (None: not one)."""
    lowered = label.strip().lower()
    if any(word in lowered for word in _BROWSER_ONLY):
        return None
    return next((f for f in FACTORS if f.offered.lower() == lowered), None)


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def _needs_browser(what: str) -> AuthenticationError:
    return AuthenticationError(f"{what}: samljit cannot do that in a terminal", hint=BROWSER_HINT)


__all__ = [
    "DUO_KEYS",
    "DuoCall",
    "DuoDevice",
    "DuoFactor",
    "DuoPasscode",
    "DuoPrompt",
    "DuoPush",
    "duo_factor_kind",
    "duo_prompt",
    "is_duo_prompt",
]
