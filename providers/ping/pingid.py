"""PingID, the second factor behind PingFederate: its pages told apart by their forms (device
list, push, passcode, back to PingFederate, error), and its ways through as factor objects.

A factor drives PingID from the first PingID page to the page that hands the login back to
PingFederate: a push (polled with :func:`wait_until`, the number to match shown on the
terminal), a passcode (the PingID app's, after PingID's ``useCodeUrl`` so no push is sent;
a desktop, SMS, email or voice code; a YubiKey OTP), on the device PingID shows or one picked
from its device list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from samljit.idp.api import (
    ACCEPT_JSON,
    PINGID_PUSH,
    AuthenticationError,
    ConfigError,
    Factor,
    Form,
    Page,
    Waiting,
    ask_code,
    choose,
    json_object,
    printable,
    resolve,
    shown_url,
    wait_until,
)

if TYPE_CHECKING:
    from .federate import PingWalk

PUSH, OTP, YUBIKEY = "PUSH", "OTP", "YUBIKEY"
_F = TypeVar("_F", bound="Factor[Page]")
#: Push status polls: PingID's page script polls every few seconds (never faster than 1 s).
POLL_SECONDS = 2.0
#: The longest samljit waits for a push PingID has not ended itself.
PUSH_CAP_SECONDS = 180.0
WAITING = "ASYNC_AUTH_WAIT"
APPROVED = "OK"
TIMED_OUT = frozenset({"TIMEOUT", "DEVICE_CLAIM_TIMEOUT"})
DEVICE_LIST = 'form[name="device-form"]'
OTP_FORM = "form#otp-form"
CODE_KINDS = ("desktop", "sms", "email", "voice")


@dataclass(frozen=True)
class Device:
    """One entry of PingID's device list."""

    id: str
    name: str
    kind: str  #: ``mobile-phone``, ``desktop``, ``sms``, ``email``, ``voice``, ``yubikey``
    default: bool


def page_kind(page: Page) -> str | None:
    """Which PingID page ``page`` is: ``devices``, ``push``, ``passcode``, ``resume`` (back
    to PingFederate), ``error``; ``None`` for a page that is not PingID's."""
    if page.select(DEVICE_LIST):
        return "devices"
    if all(page.select(selector) for selector in PINGID_PUSH):
        return "push"
    if page.select(OTP_FORM):
        return "passcode"
    resume = page.select_form(("form#form1",))
    if resume is not None and resume.has("ppm_response"):
        return "resume"
    if not page.forms and "/pingid/" in urlsplit(page.url).path:
        return "error"
    return None


def devices(page: Page) -> list[Device]:
    """PingID's device list, the user's default first."""
    found: list[Device] = []
    for item in page.select("ul.device-list li.device"):
        classes = str(item.get("class") or "").split()
        kind = next((c for c in classes if c not in ("device", "selected")), "")
        names = item.cssselect(".device-name")
        name = printable(" ".join(names[0].text_content().split())) if names else ""
        device_id = str(item.get("data-id") or "")
        if device_id:
            found.append(Device(device_id, name or kind, kind, "selected" in classes))
    return sorted(found, key=lambda d: not d.default)


class PingId:
    """PingID's steps within one login walk (its HTTP, terminal and secrets)."""

    def __init__(self, walk: PingWalk) -> None:
        self.walk = walk
        self.factor: Factor[Page] | None = None

    # -- the page PingID shows -------------------------------------------------------------
    def answer(self, page: Page) -> Page | None:
        """The next page after PingID's ``page``; ``None`` when it is not a PingID page."""
        kind = page_kind(page)
        if kind is None:
            return None
        if kind == "resume":
            form = _form(page, "form#form1")
            self.walk.redactor.add(*(f.value for f in form.fields if f.name == "ppm_response"))
            return self.walk.submit(page, form, {}, "PingID hand-back to PingFederate")
        if kind == "error":
            raise self.refusal(page, "PingID")
        if self.factor is not None:  # PingID shows its pages again after the factor: stuck
            raise self.refusal(page, "PingID did not accept the second factor")
        self.factor = self.pick(self.offered(page, kind))
        self.walk.notify_factor(self.factor.kind)
        return self.factor.verify(self.walk.secrets.mfa_token)

    def offered(self, page: Page, kind: str) -> list[Factor[Page]]:
        wanted = self.walk.mfa
        if kind == "devices":
            factors: list[Factor[Page]] = []
            for device in devices(page):
                factors.extend(_for_device(self, page, device))
            return factors
        if kind == "push":
            name = _device_name(page, "Authenticating on ")
            here: list[Factor[Page]] = [
                ROUTES[PUSH](self, page, None, f"PUSH (PingID app on {name})"),
                ROUTES[OTP](self, page, None, f"OTP (PingID app on {name})"),
            ]
        else:
            code_kind = YUBIKEY if page.select("div.window.yubikey") else OTP
            name = _device_name(page, "Authenticating with ")
            here = [ROUTES[code_kind](self, page, None, f"{code_kind} ({name})")]
        if wanted in (PUSH, OTP, YUBIKEY) and all(f.kind != wanted for f in here):
            here.append(ELSEWHERE[wanted](self, page))
        return here

    def pick(self, factors: Sequence[Factor[Page]]) -> Factor[Page]:
        """The ``mfa`` setting applied: a named kind (``OTP`` prefers a passcode device to the
        PingID app's code); ``Auto`` takes a code factor when a code was given, else, with a
        terminal on a device list, the user's choice, else what PingID shows (its default)."""
        wanted, terminal = self.walk.mfa, self.walk.terminal
        have_code = bool(self.walk.secrets.mfa_token)
        if wanted == OTP:
            factors = sorted(factors, key=lambda f: isinstance(f, _Route) and f.app_code)
        if wanted != "AUTO" or have_code:
            return choose(factors, wanted, terminal, have_code=have_code)
        if terminal.interactive and any(isinstance(f, _Route) and f.device for f in factors):
            return choose(factors, wanted, terminal, have_code=False)
        return factors[0]

    # -- steps -----------------------------------------------------------------------------
    def device_list(self, page: Page) -> Page:
        """PingID's device list, from its "Change Device" link (the cookie is enough)."""
        links = page.select("a.change-device")
        href = str(links[0].get("href") or "") if links else "/pingid/ppm/devices"
        answer = self.walk.fetch("GET", resolve(page.url, href), None, "PingID device list")
        if page_kind(answer) != "devices":
            raise self.refusal(answer, "PingID did not show its device list")
        return answer

    def choose_device(self, page: Page, device: Device) -> Page:
        form = _form(page, DEVICE_LIST)
        self.walk.check_secure(form.action, "PingID's token")
        return self.walk.submit(page, form, {"deviceId": device.id}, "PingID device choice")

    def use_code(self, page: Page) -> Page:
        answer = self.walk.pingid_use_code(page)
        if answer is None:
            raise AuthenticationError(
                f"PingID's push page at {shown_url(page.url)} offers no passcode instead",
                hint="approve the push (mfa = PUSH), or log in with `samljit login --browser`",
            )
        return answer

    def passcode(self, page: Page, given: str | None, kind: str) -> Page:
        """Answer PingID's passcode page. Each code is posted once: a refused code given up
        front (``--mfa-token``) ends the login in PingID's words; one typed at the prompt is
        asked for again while PingID shows its passcode page (it ends the authentication
        after a few wrong codes)."""
        walk = self.walk
        what = "YubiKey OTP (touch the key)" if kind == YUBIKEY else "PingID passcode"
        while True:
            if page_kind(page) != "passcode":
                raise self.refusal(page, "PingID did not ask for a passcode")
            form = _form(page, OTP_FORM)
            field = form.named("otp") or next(iter(form.text_inputs), None)
            if field is None:
                raise AuthenticationError(
                    f"PingID's passcode page at {shown_url(page.url)} has no input"
                )
            walk.check_secure(form.action, "the one-time code")
            name = _device_name(page, "Authenticating with ")
            code = ask_code(walk.terminal, given, what=f"{what} for {name}", digits=kind != YUBIKEY)
            walk.redactor.add(code)
            answer = walk.submit(page, form, {field.name: code}, "PingID passcode")
            if page_kind(answer) != "passcode":
                return answer
            said = answer.text_of((".error-message",)) or "it asks for the passcode again"
            if given or not walk.terminal.interactive:
                raise AuthenticationError(
                    f"PingID refused the passcode: {said}",
                    hint="use a fresh code from your device (each code works once)",
                )
            walk.terminal.info(f"PingID: {said}")
            page = answer

    def push(self, page: Page) -> Page:
        walk = self.walk
        status, view = _form(page, PINGID_PUSH[0]), _form(page, PINGID_PUSH[1])
        csrf = status.named("csrfToken")
        token = csrf.value if csrf is not None and csrf.value else self._csrf_cookie(page)
        walk.redactor.add(token)
        for action in (status.action, view.action):
            walk.check_secure(action, "PingID's token")
        name = _device_name(page, "Authenticating on ")
        walk.terminal.info(f"PingID push sent to {name}: approve it in the PingID app.")
        number = page.text_of((".numbermatching",))
        if number:
            walk.terminal.notice(f"Select {number} in your PingID app.")
        query = urlencode([("csrfToken", token)])
        last = ""

        def poll(_: Waiting) -> str | None:
            nonlocal last
            step = "PingID push status"
            response = walk.http.get(
                f"{status.action}?{query}", step=step, headers={"Accept": ACCEPT_JSON}
            )
            walk.http.raise_for_service_trouble(response, step=step)
            data = (json_object(response) if response.status_code == 200 else None) or {}
            last = printable(str(data.get("status") or ""))
            if not last:
                raise AuthenticationError(
                    f"{step}: PingID answered HTTP {response.status_code} without a status"
                )
            return None if last == WAITING else last

        def expired() -> AuthenticationError:
            return AuthenticationError(
                f"PingID push was not answered within {int(PUSH_CAP_SECONDS)} s",
                hint="approve the push sooner, or use mfa = OTP",
            )

        result = wait_until(
            poll,
            services=walk.services,
            seconds=PUSH_CAP_SECONDS,
            every=POLL_SECONDS,
            waiting="Waiting for approval in the PingID app…",
            expired=expired,
        )
        pairs = urlencode([("csrfToken", token), ("status", result)])
        answer = walk.fetch("GET", f"{view.action}?{pairs}", None, "PingID push result")
        if result != APPROVED or page_kind(answer) == "error":
            what = "timed out" if result in TIMED_OUT else "was not approved"
            said = answer.text_of((".error-message",)) or f"status {result}"
            raise AuthenticationError(
                f"PingID push {what}: {said}",
                hint="run again and approve the push, or use mfa = OTP",
            )
        return answer

    def _csrf_cookie(self, page: Page) -> str:
        host = urlsplit(page.url).hostname or ""
        return self.walk.http.cookie(".csrf", host) or ""

    def refusal(self, page: Page, what: str) -> AuthenticationError:
        said = page.text_of((".error-message",)) or page.text
        return AuthenticationError(
            f"{what}: {said}" if said else f"{what} (at {shown_url(page.url)})",
            hint="run again; if PingID keeps refusing, log in with `samljit login --browser`",
        )


def _form(page: Page, selector: str) -> Form:
    """The form ``page_kind`` recognised the page by (found: the selector matched it)."""
    form = page.select_form((selector,))
    if form is None:  # page_kind matched an element that is not a parsed form
        raise AuthenticationError(
            f"PingID's page at {shown_url(page.url)} has no usable {selector}",
            hint="log in with `samljit login --browser`",
        )
    return form


def _device_name(page: Page, prefix: str) -> str:
    said = page.text_of((".success-message",))
    return said[len(prefix) :] if said.startswith(prefix) else (said or "your device")


def _for_device(steps: PingId, page: Page, device: Device) -> list[_Route]:
    name = device.name + (" (default)" if device.default else "")
    if device.kind == "mobile-phone":
        return [
            ROUTES[PUSH](steps, page, device, f"PUSH (PingID app on {name})"),
            ROUTES[OTP](steps, page, device, f"OTP (PingID app on {name})"),
        ]
    if device.kind == "yubikey":
        return [ROUTES[YUBIKEY](steps, page, device, f"YUBIKEY ({name})")]
    what = {"sms": "by SMS to ", "email": "by email to ", "voice": "by call to "}
    return [ROUTES[OTP](steps, page, device, f"OTP ({what.get(device.kind, '')}{name})")]


class _Route(Factor[Page]):
    """A way through PingID from ``page``: pick ``device`` on a device list, then a push, or
    a passcode (switching PingID's push page to its passcode page first)."""

    def __init__(self, steps: PingId, page: Page, device: Device | None, label: str) -> None:
        self.steps = steps
        self.page = page
        self.device = device
        self._label = label

    @property
    def app_code(self) -> bool:
        """A passcode of the PingID app (``OTP`` prefers a passcode device to it)."""
        return self.kind == OTP and (self.device is None or self.device.kind == "mobile-phone")

    @property
    def label(self) -> str:
        return self._label

    def verify(self, code: str | None) -> Page:
        steps, page = self.steps, self.page
        if self.device is not None:
            page = steps.choose_device(page, self.device)
        if self.kind == PUSH:
            if page_kind(page) != "push":
                raise steps.refusal(page, "PingID did not show its push page")
            return steps.push(page)
        if page_kind(page) == "push":
            page = steps.use_code(page)
        return steps.passcode(page, code, self.kind)


class _Elsewhere(Factor[Page]):
    """The ``mfa`` kind on another device than the one PingID shows: its device list."""

    def __init__(self, steps: PingId, page: Page) -> None:
        self.steps = steps
        self.page = page

    @property
    def label(self) -> str:
        return f"{self.kind} (another PingID device)"

    def verify(self, code: str | None) -> Page:
        listed = self.steps.device_list(self.page)
        routes = [
            f
            for d in devices(listed)
            for f in _for_device(self.steps, listed, d)
            if f.kind == self.kind
        ]
        if self.kind == OTP:
            routes.sort(key=lambda f: f.app_code)
        if not routes:
            names = ", ".join(f"{d.name} ({d.kind})" for d in devices(listed)) or "none"
            raise ConfigError(
                f"mfa is set to {self.kind!r}, but PingID lists no such device: {names}",
                hint="set mfa = Auto, or one of those kinds, with `samljit configure`",
            )
        return routes[0].verify(code)


def _one_per_kind(base: type[_F]) -> dict[str, type[_F]]:
    """A subclass of ``base`` for each kind of PingID factor (all but a push take a code)."""
    return {
        kind: cast(
            "type[_F]",
            type(
                f"{base.__name__}{kind.title()}",
                (base,),
                {"kind": kind, "takes_code": kind != PUSH},
            ),
        )
        for kind in (PUSH, OTP, YUBIKEY)
    }


ROUTES = _one_per_kind(_Route)
ELSEWHERE = _one_per_kind(_Elsewhere)
