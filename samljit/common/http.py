"""The one HTTP client every provider and the STS call use.

* one cookie jar per login (a :class:`HttpClient` is created per run and injected);
* TLS verification on, ``skip_verify`` warns every time; the CA bundle is chosen from the
  injected environment (``AWS_CA_BUNDLE``, then ``REQUESTS_CA_BUNDLE``, then
  ``CURL_CA_BUNDLE``) and passed with every request, so requests' own environment lookup can
  neither reorder them nor turn verification back on;
* ``HTTPS_PROXY``/``NO_PROXY`` honoured through requests' own env support;
* one redirect policy for every request (:func:`check_redirect`): none to plain http outside
  loopback, no 307/308 re-sending a body to another origin (scheme, host and port),
  secret-named headers dropped on an origin change. Redirects are followed here, never by
  requests; a provider that follows them in its own loop (``allow_redirects=False``) asks
  :meth:`HttpClient.hop` for the next request, and the client checks the request that goes
  where a redirect pointed all the same (:meth:`HttpClient._check_hop`);
* cookies: host-only cookies go to their host only, never to its subdomains
  (:func:`cookie_policy`); :meth:`HttpClient.without_cookies` is the same client with no
  cookie jar at all, for the calls to AWS (an IdP cookie for ``.corp.example`` must not reach
  an STS endpoint in that domain);
* every answer is streamed under a size cap (:data:`MAX_BODY_BYTES`), each request has an
  overall deadline (:data:`REQUEST_SECONDS`) and one client (one login) a network-time budget
  (:data:`LOGIN_SECONDS`), measured on the injected monotonic clock;
* connection failures, timeouts and 5xx are retried with backoff, then raised as
  :class:`~samljit.common.errors.NetworkError` /
  :class:`~samljit.common.errors.IdpServiceError` naming the step and the URL;
* a 429 is retried once, after the reset time it names (``X-Rate-Limit-Reset`` epoch
  seconds, OneLogin's ``X-RateLimit-Reset`` seconds from now, or ``Retry-After``), when
  that is at most :data:`RATE_LIMIT_MAX_WAIT` seconds away; otherwise
  :meth:`HttpClient.raise_for_service_trouble` says when to retry;
* every request and answer is logged at DEBUG level on ``samljit.common.http`` with secrets masked;
* an answer's ``.json()`` (and :func:`json_object`) reads JSON nested deeper than Python can
  follow as what it is, a malformed answer (``ValueError``), never a ``RecursionError``: every
  provider's bad-answer path covers it.

requests is imported lazily so that ``samljit --help`` never pays for it.
"""

from __future__ import annotations

import copy
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from samljit import __version__
from samljit.common.errors import AuthenticationError, IdpServiceError, NetworkError
from samljit.common.redact import is_secret_name, redact_body, redact_headers, redact_url
from samljit.common.urls import RETRY_STATUSES as RETRY_STATUSES
from samljit.common.urls import check_url as check_url
from samljit.common.urls import is_loopback_host as is_loopback_host

if TYPE_CHECKING:
    from http.cookiejar import CookiePolicy

    import requests

log = logging.getLogger("samljit.common.http")

USER_AGENT = f"samljit/{__version__}"
DEFAULT_TIMEOUT = (10.0, 30.0)
#: The longest wait for a throttled request's reset time before it is retried (once).
RATE_LIMIT_MAX_WAIT = 10.0
#: Answers urllib3 retries with backoff (429 has its own rule, see the module docstring).
_BACKOFF_STATUSES = tuple(s for s in RETRY_STATUSES if s != 429)
#: The most one answer may hold (decoded). A page carrying the largest SAMLResponse samljit
#: accepts (``samljit.saml.assertion.MAX_ENCODED_CHARS``, about 1.4 MB) fits with room.
MAX_BODY_BYTES = 4 * 1024 * 1024
#: One request, retries and the reading of its answer included, may take this long.
REQUEST_SECONDS = 60.0
#: One client (one login: the IdP's pages, MFA calls, STS) may spend this long on the network
#: in all; time spent waiting for the user (prompts, a push to approve) does not count.
LOGIN_SECONDS = 300.0
#: Redirects one request may follow.
MAX_REDIRECTS = 20
#: How much of an answer ``--debug`` shows (after redaction).
LOG_BODY_CHARS = 4096
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_READ_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


#: The ``Accept`` header of a request for a page (what a browser sends) and for JSON.
ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
ACCEPT_JSON = "application/json"


class _Budget:
    """Network time one login has spent (shared by a client and its cookie-free twin)."""

    spent = 0.0


class _Redirect(NamedTuple):
    """A redirect answer a caller chose to follow itself (``allow_redirects=False``)."""

    source: str
    target: str
    status: int


class HttpClient:
    """A requests session with samljit's policies. Create one per login; inject it."""

    def __init__(
        self,
        *,
        verify: bool = True,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.5,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        request_seconds: float = REQUEST_SECONDS,
        login_seconds: float = LOGIN_SECONDS,
        max_bytes: int = MAX_BODY_BYTES,
        cookies: bool = True,
    ) -> None:
        self._verify_flag = verify
        self._cookies = cookies
        self._sleep = sleep
        self._monotonic = monotonic or time.monotonic
        #: Wall-clock epoch seconds (for ``X-Rate-Limit-Reset``).
        self._clock = clock or time.time
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.request_seconds = request_seconds
        self.login_seconds = login_seconds
        self.max_bytes = max_bytes
        self._budget = _Budget()  # network time of this login so far
        self._env = os.environ if env is None else env
        self._session: requests.Session | None = None
        self._twin: HttpClient | None = None
        #: The last redirect answer the caller follows itself: the next request to its target
        #: passes :func:`check_redirect` like any redirect this client follows.
        self._pending: _Redirect | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _verify(self) -> bool | str:
        """``False`` with ``skip_verify``; else the first CA bundle set among
        ``AWS_CA_BUNDLE``, ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE``; else the default
        store."""
        if not self._verify_flag:
            return False
        found = ca_bundle(self._env)
        return found[1] if found is not None else True

    def _new_session(self) -> requests.Session:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        if not self._verify_flag:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        sleeper = self._sleep

        class _Retry(Retry):  # type: ignore[misc]
            """urllib3's retry policy, waiting on the injected sleeper (tests wait on none)."""

            def sleep(self, response: Any = None) -> None:
                if sleeper is None:
                    super().sleep(response)
                    return
                after = self.get_retry_after(response) if response is not None else None
                wait = after if after is not None and self.respect_retry_after_header else None
                sleeper(self.get_backoff_time() if wait is None else wait)

        retry = _Retry(
            total=self.retries,
            connect=self.retries,
            read=0,
            redirect=0,
            status=self.retries,
            status_forcelist=_BACKOFF_STATUSES,
            allowed_methods=None,
            backoff_factor=self.backoff,
            backoff_max=8.0,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )

        class _Session(requests.Session):
            """requests builds the Cookie header from a copy of the jar made under the
            standard library's lax default policy (host-only cookies sent to subdomains):
            build it from the jar itself, under :func:`cookie_policy`."""

            def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
                prepared = super().prepare_request(request)
                prepared.headers.pop("Cookie", None)
                prepared.prepare_cookies(self.cookies)
                return prepared

            def get_redirect_target(self, response: requests.Response) -> None:
                """None: requests follows no redirect, nor prepares one (it would parse
                the Location even with ``allow_redirects=False``); :class:`HttpClient`
                follows them, under :func:`check_redirect`."""
                return None

        session = _Session()
        session.cookies.set_policy(cookie_policy(keep=self._cookies))
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        session.verify = self._verify()
        return session

    def without_cookies(self) -> HttpClient:
        """This client for calls that must carry no cookie (AWS's endpoints): the same TLS,
        proxies, timeouts, retries and network-time budget, and no cookie jar (none sent, none
        kept)."""
        if not self._cookies:
            return self
        if self._twin is None:
            twin = copy.copy(self)
            twin._cookies = False
            twin._session = None
            twin._twin = None
            twin._pending = None
            self._twin = twin
        return self._twin

    def hop(
        self, url: str, response: requests.Response, method: str, body: Any, *, step: str
    ) -> tuple[str, str, Any] | None:
        """For a provider that follows redirects in its own loop: None when ``response`` (to
        ``method url`` sent with ``body``) is no redirect; else the next request's method, URL
        and body, after the transport check every redirect passes (:func:`check_redirect`:
        refused with :class:`~samljit.common.errors.AuthenticationError` naming the target)."""
        location = response.headers.get("Location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return None
        target = _join(url, location)
        check_redirect(url, target, response.status_code, body=body is not None, step=step)
        if _drops_body(method, response.status_code):
            return "GET", target, None
        return method, target, body

    def walk_request(
        self,
        method: str,
        url: str,
        body: Any,
        *,
        step: str,
        accept: str = ACCEPT_HTML,
        referer: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One request of a sign-in that follows each redirect itself (:meth:`hop`), as a
        browser sends it: ``Accept``, the ``Referer`` when given, and ``body`` (when not
        ``None``) form-encoded."""
        headers = {"Accept": accept}
        if referer:
            headers["Referer"] = referer
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request(
            method, url, step=step, data=body, headers=headers, allow_redirects=False, **kwargs
        )

    def request(self, method: str, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        """Send one request and follow its redirects (unless ``allow_redirects=False``) under
        :func:`check_redirect`. ``step`` names it in errors and logs ("JumpCloud password").
        A 429 whose reset time is near is sent once more after it."""
        response = self._request(method, url, step=step, **kwargs)
        if response.status_code == 429:
            wait = rate_limit_wait(response.headers, self._clock())
            if wait is not None and wait <= RATE_LIMIT_MAX_WAIT:
                log.debug("%s: throttled (HTTP 429); retrying once in %.1f s", step, wait)
                (self._sleep or time.sleep)(wait)
                response = self._request(method, url, step=step, **kwargs)
        return response

    def _request(self, method: str, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        follow = bool(kwargs.pop("allow_redirects", True))
        self._check_hop(url, step, kwargs)
        kwargs["verify"] = self._verify() if kwargs.get("verify") is None else kwargs["verify"]
        started = self._monotonic()
        left = self.login_seconds - self._budget.spent
        if left <= 0:
            raise NetworkError(
                f"{step}: gave up before {redact_url(url)}: this login already spent "
                f"{self.login_seconds:g} s on the network",
                hint="the IdP answers very slowly or never finishes; try again later",
            )
        deadline = started + min(self.request_seconds, left)
        hops: list[requests.Response] = []
        try:
            while True:
                response = self._send(method, url, step, deadline, kwargs)
                location = response.headers.get("Location")
                if not (response.status_code in REDIRECT_STATUSES and location):
                    break
                if not follow:  # the caller follows it; the request that does is checked
                    self._pending = _Redirect(url, _join(url, location), response.status_code)
                    break
                if len(hops) >= MAX_REDIRECTS:
                    raise NetworkError(
                        f"{step}: more than {MAX_REDIRECTS} redirects from {redact_url(url)}",
                        hint="the server loops; check the URL",
                    )
                target = _join(url, location)
                check_redirect(url, target, response.status_code, body=_has_body(kwargs), step=step)
                hops.append(response)
                method, kwargs = _redirected(method, url, target, response.status_code, kwargs)
                url = target
        finally:
            self._budget.spent += max(0.0, self._monotonic() - started)
        response.history = hops
        return response

    def _check_hop(self, url: str, step: str, kwargs: Mapping[str, Any]) -> None:
        """A request to where the last redirect answer pointed is that redirect followed by
        the caller's own loop: it passes :func:`check_redirect` as if this client followed it."""
        pending, self._pending = self._pending, None
        if pending is not None and _origin(url) == _origin(pending.target):
            check_redirect(pending.source, url, pending.status, body=_has_body(kwargs), step=step)

    def _send(
        self, method: str, url: str, step: str, deadline: float, kwargs: dict[str, Any]
    ) -> requests.Response:
        """One request without redirects; the answer read whole, within the cap and the
        deadline."""
        import requests

        shown = redact_url(url)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s %s %s", step, method, shown, _render_request_body(kwargs))
        options = dict(kwargs)
        connect, read = _timeouts(options.pop("timeout", self.timeout))
        left = max(deadline - self._monotonic(), 0.001)
        options["timeout"] = (min(connect, left), min(read, left))
        try:
            response = self.session.request(
                method, url, allow_redirects=False, stream=True, **options
            )
            response.__class__ = _answer_class()
            try:
                self._read(response, step, shown, deadline)
            except BaseException:
                response.close()
                raise
        except requests.exceptions.SSLError as exc:
            raise NetworkError(
                f"{step}: TLS verification failed for {shown}",
                hint="set AWS_CA_BUNDLE to your CA bundle if a proxy re-signs TLS",
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise NetworkError(f"{step}: timed out talking to {shown}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(
                f"{step}: cannot reach {_host(url)} ({_reason(exc)})",
                hint="check the URL, your network and HTTPS_PROXY/NO_PROXY",
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"{step}: request to {shown} failed ({_reason(exc)})") from exc
        if log.isEnabledFor(logging.DEBUG):
            body = redact_body(response.content, response.headers.get("Content-Type", ""))
            if len(body) > LOG_BODY_CHARS:  # cut only after redaction
                body = body[:LOG_BODY_CHARS] + f"… ({len(body) - LOG_BODY_CHARS} more)"
            log.debug(
                "%s:   <- %s %s %s %s",
                step,
                response.status_code,
                shown,
                redact_headers(dict(response.headers)),
                body,
            )
        return response

    def _read(self, response: requests.Response, step: str, shown: str, deadline: float) -> None:
        """Read the streamed body into ``response`` (``.content``/``.text``/``.json()`` work
        as usual), a chunk at a time as it arrives: over :attr:`max_bytes`, or past the
        deadline, it stops with :class:`NetworkError`."""
        import requests
        from urllib3.exceptions import HTTPError, ProtocolError, ReadTimeoutError

        raw = response.raw
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if self._monotonic() > deadline:
                    raise NetworkError(
                        f"{step}: {shown} did not finish its answer in time (samljit allows "
                        f"{self.request_seconds:g} s a request, {self.login_seconds:g} s a login)",
                        hint="the server sends very slowly or never finishes; try again later",
                    )
                chunk = raw.read1(_READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise NetworkError(
                        f"{step}: {shown} sent more than {self.max_bytes // (1024 * 1024)} MB; "
                        "samljit stopped reading",
                        hint="check url: no sign-in page or assertion is that large",
                    )
                chunks.append(chunk)
        except ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except HTTPError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        response._content = b"".join(chunks)  # requests caches the body here
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()

    def get(self, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, step=step, **kwargs)

    def post(self, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, step=step, **kwargs)

    def raise_for_service_trouble(self, response: requests.Response, *, step: str) -> None:
        if response.status_code == 429:  # say when to retry, when the IdP named a reset time
            wait = rate_limit_wait(response.headers, self._clock())
            if wait is not None:
                at = time.strftime("%H:%M:%S UTC", time.gmtime(self._clock() + wait))
                raise IdpServiceError(
                    f"{step}: {_host(response.url)} throttled the request (HTTP 429); "
                    f"retry after {at} (in {int(wait + 0.999)} s)",
                    hint="the IdP's rate limit for this endpoint is used up; wait, then retry",
                )
        """429/5xx that survived the retries become one clear error."""
        if response.status_code in RETRY_STATUSES:
            what = "throttled the request" if response.status_code == 429 else "had an error"
            raise IdpServiceError(
                f"{step}: {_host(response.url)} {what} (HTTP {response.status_code}) "
                f"after {self.retries + 1} attempts",
                hint="try again in a minute; --debug shows each attempt",
            )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._twin is not None:
            self._twin.close()

    # -- cookies (a provider asks these; it never touches the jar itself) ------------------
    def cookie(self, name: str, host: str) -> str | None:
        """The value of the jar's cookie ``name`` that ``host`` receives, or ``None``."""
        for cookie in self._cookies_named(name, host):
            return cookie.value  # type: ignore[no-any-return]
        return None

    def set_cookie(self, name: str, value: str, *, host: str, path: str = "/") -> None:
        """Put a host cookie ``name`` for ``host`` into the jar (e.g. a device token)."""
        self.session.cookies.set(name, value, domain=host, path=path)

    def drop_cookies(self, name: str | None = None, host: str | None = None) -> None:
        """Remove cookie ``name`` that ``host`` receives; every cookie when both are
        ``None`` (a session the IdP ended: start clean)."""
        jar = self.session.cookies
        if name is None and host is None:
            jar.clear()
            return
        cookies: list[Any] = list(jar)  # http.cookiejar.Cookie objects
        for cookie in cookies:
            if (name is None or cookie.name == name) and (
                host is None or _domain_covers(cookie.domain, host)
            ):
                jar.clear(cookie.domain, cookie.path, cookie.name)

    def _cookies_named(self, name: str, host: str) -> list[Any]:
        cookies: list[Any] = list(self.session.cookies)  # http.cookiejar.Cookie objects
        return [c for c in cookies if c.name == name and _domain_covers(c.domain, host)]

    def cookies_for(self, hosts: list[str]) -> list[dict[str, Any]]:
        """The jar's cookies that ``hosts`` receive (host-only cookies of those hosts and
        domain cookies covering them; none of any other host), as plain dicts for the IdP
        session store: name, value, domain, path, secure, expires (Unix seconds or None),
        host_only.

        A domain cookie is one set with a ``Domain`` attribute, with a leading dot or without
        (``Domain=idp.example``, the usual form today: cookielib stores it as
        ``.idp.example``); it is exported with the leading dot. Any other cookie is host-only
        and stays so when :meth:`load_cookies` puts it back."""
        wanted = {h.lower().rstrip(".") for h in hosts if h}
        kept: list[dict[str, Any]] = []
        for cookie in self.session.cookies:
            domain = cookie.domain.lower()
            host_only = not _is_domain_cookie(cookie)
            if not host_only:
                bare = domain.lstrip(".")
                ours = any(h == bare or h.endswith("." + bare) for h in wanted)
                domain = "." + bare
            else:  # cookielib names a dotless host "host.local"
                ours = domain in wanted or domain.removesuffix(".local") in wanted
            if ours and cookie.value is not None:
                kept.append(
                    {
                        "name": cookie.name,
                        "value": cookie.value,
                        "domain": domain,
                        "path": cookie.path or "/",
                        "secure": bool(cookie.secure),
                        "expires": int(cookie.expires) if cookie.expires is not None else None,
                        "host_only": host_only,
                    }
                )
        return kept

    def load_cookies(self, cookies: list[dict[str, Any]]) -> None:
        """Put cookies exported by :meth:`cookies_for` back into the jar: a host-only cookie
        goes to its host only (not to its subdomains), a domain cookie to the domain and its
        subdomains."""
        from http.cookiejar import Cookie

        jar = self.session.cookies
        for c in cookies:
            host_only = bool(c.get("host_only"))
            bare = str(c["domain"]).lower().lstrip(".")
            domain = bare if host_only else "." + bare
            expires = c.get("expires")
            jar.set_cookie(
                Cookie(
                    version=0,
                    name=str(c["name"]),
                    value=str(c["value"]),
                    port=None,
                    port_specified=False,
                    domain=domain,
                    domain_specified=not host_only,
                    domain_initial_dot=not host_only,
                    path=str(c.get("path") or "/"),
                    path_specified=True,
                    secure=bool(c.get("secure")),
                    expires=int(expires) if expires is not None else None,
                    discard=expires is None,
                    comment=None,
                    comment_url=None,
                    rest={},
                )
            )


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The answer's JSON object; ``None`` when the body is empty, not JSON (nested too deep
    included) or another JSON value."""
    if not response.content:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


_ANSWER_CLASS: list[type[requests.Response]] = []


def _answer_class() -> type[requests.Response]:
    """The class of :class:`HttpClient`'s answers: a ``requests.Response`` whose ``json()``
    raises requests' ``JSONDecodeError`` (a ``ValueError``) for JSON too deep for Python's
    reader (it recurses, and a few hundred thousand ``[`` exhaust the stack), as for any
    other malformed JSON. Made on first use: requests is imported lazily."""
    if not _ANSWER_CLASS:
        import requests

        class Answer(requests.Response):
            def json(self, **kwargs: Any) -> Any:
                try:
                    return super().json(**kwargs)
                except RecursionError:
                    raise requests.exceptions.JSONDecodeError(
                        "JSON nested too deep", self.text[:64], 0
                    ) from None

        _ANSWER_CLASS.append(Answer)
    return _ANSWER_CLASS[0]


CA_BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def ca_bundle(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The CA bundle samljit verifies against (its own requests and the Browser provider's
    browser): ``(variable, path)`` of the first of :data:`CA_BUNDLE_VARIABLES` that is set and
    not empty, ``~`` expanded; None for the default store."""
    for name in CA_BUNDLE_VARIABLES:
        value = env.get(name)
        if value:
            return name, os.path.expanduser(value)
    return None


def cookie_policy(*, keep: bool = True) -> CookiePolicy:
    """The cookie policy of samljit's jars: the standard library's, with host-only cookies
    (set without a ``Domain``) sent to their own host only, as browsers do (cookielib's
    default sends them to every subdomain too); ``keep=False``: no cookie set, none sent."""
    from http.cookiejar import CookiePolicy, DefaultCookiePolicy

    if keep:
        return DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)

    class _NoCookies(CookiePolicy):
        netscape = True
        rfc2965 = False
        hide_cookie2 = True

        def set_ok(self, cookie: Any, request: Any) -> bool:
            return False

        def return_ok(self, cookie: Any, request: Any) -> bool:
            return False

        def domain_return_ok(self, domain: str, request: Any) -> bool:
            return False

        def path_return_ok(self, path: str, request: Any) -> bool:
            return False

    return _NoCookies()


def _domain_covers(domain: str, host: str) -> bool:
    """Whether a cookie of ``domain`` goes to ``host`` (the host itself or a subdomain)."""
    domain, host = domain.lstrip(".").lower(), host.lower()
    return host == domain or host.endswith("." + domain)


def _is_domain_cookie(cookie: Any) -> bool:
    """Set with a ``Domain`` attribute (cookielib then stores the domain with a leading dot,
    whether the attribute had one or not)."""
    return bool(cookie.domain_specified) and str(cookie.domain).startswith(".")


def check_redirect(current: str, target: str, status: int, *, body: bool, step: str) -> None:
    """The one transport check of every redirect, followed by this client or by a provider's
    own loop: refuse (exit 3, naming the target) one to something other than http(s), one
    that drops to plain http outside loopback, and a 307/308 that would re-send a request body
    (a password, a code, form state) to another origin (scheme, host or port)."""
    try:
        parts = urlsplit(target)
        web = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        web = False
    if not web:
        raise AuthenticationError(
            f"{step}: refusing to follow a redirect to {shown_url(target)} (not a web URL)"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise AuthenticationError(
            f"{step}: refusing to follow a redirect to {shown_url(target)} "
            "(plain http outside loopback)",
            hint="something between you and the IdP (or the IdP itself) downgrades the "
            "connection; tell its admins",
        )
    if body and status in (307, 308) and _origin(target) != _origin(current):
        where = (
            "another host"
            if _hostname(target) != _hostname(current)
            else "another port or scheme of the host"
        )
        raise AuthenticationError(
            f"{step}: refusing to follow a redirect to {shown_url(target)} (HTTP {status} would "
            f"re-send the request body to {where})",
            hint="the IdP sends your sign-in somewhere else; check url, or tell its admins",
        )


def _redirected(
    method: str, current: str, target: str, status: int, kwargs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The method and options of the request a redirect asks for (:func:`_drops_body`).
    Leaving the origin drops secret-named headers (``X-Xsrftoken``, ``Authorization``, …) and
    ``auth``."""
    options = dict(kwargs)
    options.pop("params", None)  # already part of the URL that was asked for
    headers = dict(options.get("headers") or {})
    if _drops_body(method, status):
        method = "GET"
        for key in ("data", "json", "files"):
            options.pop(key, None)
        headers = {
            k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")
        }
    if _origin(target) != _origin(current):
        headers = {k: v for k, v in headers.items() if not is_secret_name(k)}
        options.pop("auth", None)
    options["headers"] = headers
    return method, options


def _timeouts(timeout: Any) -> tuple[float, float]:
    if isinstance(timeout, tuple | list):
        return float(timeout[0]), float(timeout[1])
    if timeout is None:
        return DEFAULT_TIMEOUT
    return float(timeout), float(timeout)


def _join(url: str, location: str) -> str:
    """``location`` resolved against ``url`` (as written when it cannot be: the check then
    refuses it)."""
    try:
        return urljoin(url, location.strip())
    except ValueError:
        return location


def _drops_body(method: str, status: int) -> bool:
    """Whether a redirect makes the next request a GET without a body, as browsers do: 303
    (but a HEAD), and 301/302 after a POST; 307/308 keep the method and the body."""
    return (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST")


def _has_body(kwargs: Mapping[str, Any]) -> bool:
    return any(kwargs.get(k) is not None for k in ("data", "json", "files"))


def _hostname(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one when none is written)."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return (
            scheme,
            (parts.hostname or "").lower().rstrip("."),
            parts.port or _DEFAULT_PORTS.get(scheme),
        )
    except ValueError:  # a port that is not a number
        return "", url, None


def shown_url(url: str) -> str:
    """A URL for a message: secrets in its query masked, control characters escaped; its
    first 80 characters when it cannot be parsed."""
    from samljit.common.text import printable

    try:
        return printable(redact_url(url))
    except ValueError:
        return printable(url[:80])


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until a throttled request may be retried: ``X-Rate-Limit-Reset`` (epoch
    seconds, Okta), ``X-RateLimit-Reset`` (seconds from now, OneLogin) or ``Retry-After``
    (seconds or an HTTP date); ``None`` when none says."""
    reset = (headers.get("X-Rate-Limit-Reset") or "").strip()
    if reset.isdigit():
        return max(0.0, int(reset) - now)
    reset_in = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset_in.isdigit():
        return float(reset_in)
    after = (headers.get("Retry-After") or "").strip()
    if after.isdigit():
        return float(after)
    if after:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(after).timestamp() - now)
        except (TypeError, ValueError):
            return None
    return None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words ("host not found", "connection refused")."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:  # walk requests → urllib3 → socket
        seen.append(current)
        name = type(current).__name__
        if name == "NameResolutionError" or isinstance(current, socket.gaierror):
            return "host not found"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, TimeoutError) or "Timeout" in name:
            return "timed out"
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            args = getattr(current, "args", ())
            inner = next((a for a in args if isinstance(a, BaseException)), None)
        current = inner or current.__cause__ or current.__context__
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host not found"
    return type(exc).__name__


def _render_request_body(kwargs: Mapping[str, Any]) -> str:
    import json
    from urllib.parse import urlencode

    if kwargs.get("json") is not None:
        return redact_body(json.dumps(kwargs["json"]), "json")
    data = kwargs.get("data")
    if isinstance(data, str | bytes):
        return redact_body(data, "x-www-form-urlencoded")
    if isinstance(data, Mapping):
        return redact_body(urlencode(list(data.items())), "x-www-form-urlencoded")
    return ""
