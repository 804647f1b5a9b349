"""``browser_autofill``: the username and password samljit knows, typed into the IdP's form
(found without IdP-specific selectors) on a page the :class:`~.catch.FillPolicy` allows,
read only when a form asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from samljit.idp.api import (
    AuthenticationError,
    LoginSecrets,
)

from .catch import FillPolicy

if TYPE_CHECKING:
    from . import BrowserProvider

# Finds the form to fill, without IdP-specific selectors: the first visible password input
# and the visible text or e-mail input before it (or, on a username-only step, the one visible
# input that looks like a login name). Marks them with data-samljit-fill for Playwright's
# fill/click, and reports what it found. ``window.__samljitFilled`` tells a page samljit
# filled from a new one.
_FIND_FORM = r"""
([doUsername]) => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const s = window.getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"
      && !el.disabled && !el.readOnly;
  };
  const inputs = Array.from(document.querySelectorAll("input")).filter(shown);
  const isText = (el) => el.type === "text" || el.type === "email";
  const mark = (el, what) => { if (el) el.setAttribute("data-samljit-fill", what); };
  const submitOf = (el) => {
    const form = el.form;
    if (!form) return null;
    return Array.from(form.querySelectorAll(
      "button[type=submit], button:not([type]), input[type=submit]")).find(shown) || null;
  };
  document.querySelectorAll("[data-samljit-fill]").forEach(
    (el) => el.removeAttribute("data-samljit-fill"));
  const again = !window.__samljitFilled;
  const password = inputs.find((el) => el.type === "password");
  if (password) {
    const user = inputs.slice(0, inputs.indexOf(password)).reverse().find(isText);
    mark(password, "password");
    mark(user, "username");
    mark(submitOf(password), "submit");
    window.__samljitFilled = true;
    return {form: "password", username: !!user, again: again,
            ready: document.readyState === "complete"};
  }
  if (!doUsername) return {form: "", inputs: inputs.filter(isText).length};
  const named = /user|mail|login|logon|account|identifier/i;
  const users = inputs.filter((el) => isText(el) && (el.type === "email"
    || /username|email/.test(el.autocomplete || "") || named.test(el.name + " " + el.id)));
  if (users.length !== 1) return {form: ""};
  mark(users[0], "username");
  mark(submitOf(users[0]), "submit");
  window.__samljitFilled = true;
  return {form: "username", username: true, again: again};
}
"""

# Puts a value into the input it is called on, as typing would (the native setter, then the
# input and change events frameworks listen for). Called on the element handle found, so it
# runs in the document that element is in, or not at all.
_SET_VALUE = r"""
(el, value) => {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  el.focus();
  setter.call(el, value);
  el.dispatchEvent(new Event("input", {bubbles: true}));
  el.dispatchEvent(new Event("change", {bubbles: true}));
}
"""


class Autofill:
    """The autofill part of a browser session (:class:`~.session._Session`)."""

    provider: BrowserProvider
    #: The flow's secrets, read only when a form asks (``None``: no browser_autofill).
    secrets: LoginSecrets | None
    policy: FillPolicy
    headless: bool
    password_sent: bool
    username_sent: bool
    form_again: bool
    not_filled: set[str]
    #: After the password went in: a password form shows (again), and its document loaded.
    form_showing: bool = False
    form_loaded: bool = False
    #: The refusal text the page showed before samljit submitted the password.
    said_before: str

    def _said(self, page: Any) -> str:
        raise NotImplementedError

    def _may_fill(self, page: Any) -> bool:
        """Whether the page (the document it shows now) is one browser_autofill fills: asked
        right before each field and before the submit. Headless, another host ends the login;
        headed, its form is left to the user."""
        host = self.policy.refusal(page.url)
        if host is None:
            return True
        if self.headless:
            raise AuthenticationError(
                f"browser_autofill does not fill the sign-in form on {host}: not https on the "
                "account's url host nor a host of browser_autofill_hosts",
                hint=f"if {host} is where your IdP signs you in, add it to browser_autofill_hosts "
                f"of account {self.provider.account.name!r}, or run with headless = false",
            )
        if host not in self.not_filled:
            self.not_filled.add(host)
            self.provider.terminal.warn(
                f"browser_autofill does not fill the sign-in form on {host} (not the account's "
                "url host nor a host of browser_autofill_hosts): sign in in the window if it "
                "is your IdP's"
            )
        return False

    def _autofill(self, context: Any) -> None:
        """Fill the username and password into the first page's form, once each. Each value
        goes into the element found, in the document it was found in (a page that navigated
        meanwhile gets nothing), after :meth:`_may_fill` passed for the page."""
        from playwright.sync_api import Error as PlaywrightError

        secrets = self.secrets
        assert secrets is not None
        page = context.pages[0]
        self.form_showing = False  # until this page shows it
        try:
            found = page.evaluate(_FIND_FORM, [not self.username_sent])
            kind = found.get("form") if isinstance(found, dict) else ""
            if self.username_sent and not self.password_sent and not kind:
                # the identifier step came back (its input, no password): refused if it says so
                self.form_showing = bool(found.get("inputs"))
                return
            if self.password_sent:
                self.form_showing = kind == "password"
                if self.form_showing and found.get("again"):
                    self.form_again = True
                self.form_loaded = bool(found.get("ready")) if self.form_showing else False
                return
            if not kind:
                return
            if not self._may_fill(page):
                return
            username = page.query_selector("[data-samljit-fill=username]")
            password = page.query_selector("[data-samljit-fill=password]")
            submit = page.query_selector("[data-samljit-fill=submit]")
            if username is not None and found.get("username"):
                name = _off_the_loop(lambda: secrets.username)
                if name and self._may_fill(page):
                    username.evaluate(_SET_VALUE, name)
            if kind == "password":
                if password is None:
                    return
                value = _off_the_loop(lambda: secrets.password or "")
                if not self._may_fill(page):
                    return
                password.evaluate(_SET_VALUE, value)
                self.password_sent = True
                last = password
            else:
                if username is None:
                    return
                self.username_sent = True
                last = username
            if not self._may_fill(page):
                return
            self.said_before = self._said(page)
            if submit is not None:
                submit.click(timeout=2000, no_wait_after=True)
            else:
                last.press("Enter", timeout=2000, no_wait_after=True)
        except PlaywrightError:
            return  # the page navigated meanwhile: look again at the next tick


def _off_the_loop(read: Callable[[], str]) -> str:
    """``read()`` in a thread of its own: it may prompt, and the prompt runs an asyncio loop,
    which this thread cannot (Playwright's sync API keeps its loop marked running here)."""
    import threading

    done: list[str] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            done.append(read())
        except BaseException as exc:  # Ctrl-C at the prompt, --skip-prompt: raised below
            failed.append(exc)

    worker = threading.Thread(target=work, name="samljit-browser-secret", daemon=True)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return done[0]
