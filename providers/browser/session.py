"""The Playwright session of one sign-in: the routes that catch the SAMLResponse (answered
with a local page), the IdP session's cookies in and out, the wait with its countdown, and
the errors a browser ends in (closed, timed out, an untrusted certificate)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from samljit.idp.api import (
    LIVE_SELECTORS,
    AssertionFormatError,
    AuthenticationError,
    LoginSecrets,
    NetworkError,
    Waiting,
    parse_page,
    printable,
    refusal_text,
    wait_until,
)

from .autofill import Autofill
from .catch import FillPolicy, caught, origin

if TYPE_CHECKING:
    from . import BrowserProvider

#: The longest the wait sleeps without a page event (the countdown's step; a page that
#: changes wakes it at once).
WAKE_MS = 1000
#: What every document says on the console when it loads or changes (see :data:`_WATCH`).
CHANGED = "samljit:page-changed"
# Run in every document before its own scripts: tells samljit (a console message, which
# wakes its wait) when the document is parsed, loaded, and whenever its DOM changes
# (batched per task), so autofill and the checks after the submit run on events, not a timer.
_WATCH = f"""(() => {{
  const say = () => console.debug("{CHANGED}");
  let queued = false;
  const soon = () => {{
    if (queued) return;
    queued = true;
    setTimeout(() => {{ queued = false; say(); }}, 0);
  }};
  document.addEventListener("DOMContentLoaded", say);
  window.addEventListener("load", say);
  new MutationObserver(soon).observe(document, {{
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ["class", "style", "hidden", "disabled", "aria-hidden"],
  }});
}})();"""

# The pages samljit answers caught requests with, shown at the caught URL: with an icon of
# their own, so the browser asks that host for no /favicon.ico either.
DONE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>samljit: signed in</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>Signed in</h1>
<p>samljit has the sign-in response and goes on in the terminal.
You can close this window.</p>
</body></html>
"""
WAITING_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>samljit</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>Waiting for the sign-in</h1>
<p>samljit is waiting for your IdP to send the sign-in response; nothing was sent to AWS.</p>
</body></html>
"""


# -- the IdP session (cookies): the flow keeps them in samljit's IdP-session store ----------
def browser_cookies(kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The IdP-session store's cookies (as the login's HTTP jar holds them: the flow loads the
    kept session there) as Playwright cookie dicts, session cookies included."""
    found: list[dict[str, Any]] = []
    for c in kept:
        domain = str(c["domain"])
        if c.get("host_only"):
            domain = domain.lstrip(".").removesuffix(".local")
        expires = c.get("expires")
        found.append(
            {
                "name": str(c["name"]),
                "value": str(c["value"]),
                "domain": domain,
                "path": str(c.get("path") or "/"),
                "expires": float(expires) if expires is not None else -1,
                "secure": bool(c.get("secure")),
            }
        )
    return found


def kept_cookies(cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Playwright's cookies in the store's form (``expires`` None for session cookies:
    they die with the browser process, so they are exactly what must be kept)."""
    return [
        {
            "name": c["name"],
            "value": c["value"],
            "domain": c["domain"],
            "path": c.get("path") or "/",
            "secure": bool(c.get("secure")),
            "expires": int(c["expires"]) if c.get("expires", -1) not in (-1, None) else None,
            "host_only": not str(c["domain"]).startswith("."),
        }
        for c in cookies
    ]


class _Session(Autofill):
    """One browser sign-in: routes, autofill, the countdown; the SAMLResponse caught."""

    def __init__(
        self,
        provider: BrowserProvider,
        *,
        timeout: float,
        secrets: LoginSecrets | None,
        policy: FillPolicy,
        headless: bool,
    ) -> None:
        self.provider = provider
        self.services = provider.services
        self.timeout = timeout
        #: The flow's secrets, read only when a form asks (``None``: no browser_autofill).
        self.secrets = secrets
        self.policy = policy
        self.headless = headless
        self.target: str | None = None
        self.response: str | None = None
        self.bad_post: str | None = None
        self.closed = False
        self.password_sent = False
        self.username_sent = False
        self.form_again = False
        self.untrusted: tuple[str, str] | None = None
        self.not_filled: set[str] = set()
        self.changed = False
        self.said_before = ""

    # -- the catch -------------------------------------------------------------------------
    def _is_caught(self, url: str) -> bool:
        return caught(url, self.target)

    def _caught(self, route: Any, request: Any) -> None:
        if request.method != "POST":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=WAITING_PAGE)
            return
        self._take(request)
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=DONE_PAGE)

    def _take(self, request: Any) -> None:
        """Keep the SAMLResponse a POST to a caught URL holds."""
        try:
            body = request.post_data or ""
        except (UnicodeDecodeError, ValueError):
            body = ""
        fields = parse_qs(body, keep_blank_values=True)
        value = "".join((fields.get("SAMLResponse") or [""])[0].split())
        if value:
            self.provider.redactor.add(value)
            self.response = value
        else:
            self.bad_post = str(origin(request.url) or "")

    def _on_close(self, *_: Any) -> None:
        self.closed = True

    def _on_request_failed(self, request: Any) -> None:
        if self._is_caught(request.url):  # a redirect to AWS sign-in: it resolved nowhere
            if request.method == "POST" and self.response is None:
                self._take(request)
            return
        failure = request.failure or ""
        if failure.startswith("net::ERR_CERT_") and request.is_navigation_request():
            self.untrusted = (urlsplit(request.url).netloc, failure.split()[0])

    def _untrusted(self, host: str, failure: str) -> NetworkError:
        return NetworkError(
            f"the browser does not trust the certificate of {printable(host)} "
            f"({printable(failure[:80])})",
            hint=self.provider.tls_hint,
        )

    # -- the wait --------------------------------------------------------------------------
    def run(self, context: Any, target: str | None) -> str:
        from playwright.sync_api import Error as PlaywrightError

        services = self.services
        account = self.provider.account
        self.target = target
        context.route(self._is_caught, self._caught)
        context.on("close", self._on_close)
        context.on("requestfailed", self._on_request_failed)
        context.on("console", self._on_console)
        context.add_init_script(_WATCH)
        http = self.provider.http  # the flow loaded the kept IdP session into this jar
        held = http.cookies_for(self.provider.session_hosts())
        if held:
            context.add_cookies(browser_cookies(held))
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.goto(account.url, wait_until="commit")
        except PlaywrightError as exc:
            failure = _first_line(exc)
            if self.untrusted is not None:  # at the url, or where it redirected
                raise self._untrusted(*self.untrusted) from None
            if "net::ERR_CERT_" in failure and not self.closed:
                code = failure[failure.index("net::ERR_CERT_") :].split()[0]
                raise self._untrusted(urlsplit(account.url).netloc, code) from None
            if self.response is None and self.bad_post is None and not self.closed:
                raise NetworkError(
                    f"the browser could not open {account.url}: {failure}",
                    hint="check the account's url, your network and HTTPS_PROXY/NO_PROXY",
                ) from None
        terminal = self.provider.terminal

        def ended() -> None:
            """Raise when the sign-in cannot finish any more (checked around each wait)."""
            if self.response is not None:
                return
            if self.bad_post is not None:
                raise AssertionFormatError(
                    f"the IdP posted to {self.bad_post} without a SAMLResponse"
                )
            if self.untrusted is not None:
                raise self._untrusted(*self.untrusted)
            if self.closed or not context.pages:
                raise AuthenticationError(
                    "the browser was closed before sign-in finished",
                    hint="run the command again and finish the sign-in in the browser",
                )

        def poll(_: Waiting) -> str | None:
            ended()
            if self.response is None:
                self._look(context)
                ended()
                if self.response is None:
                    self._wait_for_change(context)
                    ended()
            return self.response

        ended()
        response = self.response
        if response is None:
            response = wait_until(
                poll,
                services=services,
                seconds=self.timeout,
                every=0,
                waiting="Waiting for the sign-in in the browser:",
                expired=self._timed_out,
                note="(Ctrl-C cancels)",
            )
        terminal.info("Signed in through the browser.")
        with contextlib.suppress(PlaywrightError):  # the flow keeps the IdP hosts' ones
            http.load_cookies(kept_cookies(list(context.cookies())))
        return response

    # -- events ----------------------------------------------------------------------------
    def _on_console(self, message: Any) -> None:
        if message.text == CHANGED:
            self.changed = True

    def _wait_for_change(self, context: Any) -> None:
        """Until a document loads or changes (or :data:`WAKE_MS` passes: the countdown)."""
        from playwright.sync_api import Error as PlaywrightError

        if self.changed:
            self.changed = False
            return
        try:
            context.wait_for_event(
                "console", predicate=lambda m: m.text == CHANGED, timeout=WAKE_MS
            )
        except PlaywrightError:  # the wake-up without an event; or the browser is gone
            if not context.pages:
                self.closed = True
        self.changed = False

    def _look(self, context: Any) -> None:
        """What the page shows now: a form to fill, a page that wants a person (headless),
        a refusal of the password samljit typed."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            page = context.pages[0]
            url = page.url
        except (IndexError, PlaywrightError):
            return
        if self.headless and self.policy.refusal(url) is None:
            self._dead_end(url)
        if self.secrets is None:
            return
        self._autofill(context)
        if (self.password_sent or self.username_sent) and self.form_showing:
            self._check_refused(page)

    def _dead_end(self, url: str) -> None:
        path = urlsplit(url).path
        for pattern, what in self.provider.dead_ends:
            if re.search(pattern, path):
                raise AuthenticationError(
                    f"{self.provider.name} {what} in a headless browser: log in once with "
                    f"headless = false (the kept browser profile of account "
                    f"{self.provider.account.name!r} then serves headless logins)"
                )

    def _said(self, page: Any) -> str:
        """The refusal the page shows (the form engine's error reading, live regions first)."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            html = page.content()
        except PlaywrightError:
            return ""
        return refusal_text(parse_page(html, url=page.url), LIVE_SELECTORS)

    def _check_refused(self, page: Any) -> None:
        """After the password went in: the IdP's error next to its form, or its form again
        (a new document, once loaded), is the end of the login."""
        if self.response is not None or self.policy.refusal(page.url) is not None:
            return
        said = self._said(page)
        name = self.provider.account.name
        hint = (
            f"check the password of account {name!r} (SAMLJIT_PASSWORD or the keyring)"
            if self.password_sent
            else f"check the username of account {name!r} (samljit configure -a {name})"
        )
        if said and said != self.said_before:
            raise AuthenticationError(f"the IdP refused the sign-in: {printable(said)}", hint=hint)
        if self.password_sent and self.form_again and self.form_loaded:
            raise AuthenticationError(
                "the IdP showed its sign-in form again after samljit filled it in, with no "
                "error text",
                hint=f"{hint}, or run with headless = false to see",
            )

    def _timed_out(self) -> AuthenticationError:
        seconds = f"{self.timeout:g}"
        if self.form_again:
            hint = (
                "the IdP showed its sign-in form again after samljit filled it in: check the "
                "password (SAMLJIT_PASSWORD or the keyring), or run with headless = false to see"
            )
        elif self.secrets is not None:
            hint = "run with headless = false to see where the sign-in stops"
        else:
            hint = f"finish the sign-in in the browser within {seconds} s, or raise timeout"
        return AuthenticationError(
            f"no sign-in response from the browser within {seconds} s (timeout = {seconds})",
            hint=hint,
        )

    def close(self, context: Any) -> None:
        with contextlib.suppress(Exception):  # already gone: closed by the user, or Ctrl-C
            context.close()


@contextlib.contextmanager
def _quiet_on_interrupt() -> Iterator[None]:
    """Ctrl-C reaches Playwright's driver too (it runs in samljit's process group) and ends
    it; what Playwright then logs about the requests it left unanswered would bury samljit's
    own line. On SIGINT those loggers are silenced before the KeyboardInterrupt unwinds."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: Any) -> None:
        import logging

        for name in ("asyncio", "playwright"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return printable(line[:300])
