"""The one HTTP client every provider and the STS call use.

* one cookie jar per login (a :class:`HttpClient` is created per run and injected);
* TLS verification on, ``AWS_CA_BUNDLE`` honoured, ``skip_verify`` warns every time;
* ``HTTPS_PROXY``/``NO_PROXY``/``REQUESTS_CA_BUNDLE`` honoured through requests' own env support;
* connection failures, timeouts and 429/5xx are retried with backoff, then raised as
  :class:`~samljit.errors.NetworkError` / :class:`~samljit.errors.IdpServiceError` naming the
  step and the URL;
* every request and answer is logged at DEBUG level on ``samljit.idp.http`` with secrets masked.

requests is imported lazily so that ``samljit --help`` never pays for it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from samljit import __version__
from samljit.config.urls import RETRY_STATUSES as RETRY_STATUSES
from samljit.config.urls import check_url as check_url
from samljit.config.urls import is_loopback_host as is_loopback_host
from samljit.errors import IdpServiceError, NetworkError
from samljit.redact import redact_body, redact_headers, redact_url

if TYPE_CHECKING:
    import requests

log = logging.getLogger("samljit.idp.http")

USER_AGENT = f"samljit/{__version__}"
DEFAULT_TIMEOUT = (10.0, 30.0)


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
    ) -> None:
        self._verify_flag = verify
        self._sleep = sleep
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._env = os.environ if env is None else env
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _verify(self) -> bool | str:
        if not self._verify_flag:
            return False
        bundle = self._env.get("AWS_CA_BUNDLE")
        return bundle if bundle else True

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
            status=self.retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,
            backoff_factor=self.backoff,
            backoff_max=8.0,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        session.verify = self._verify()
        return session

    def request(self, method: str, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        """Send one request. ``step`` names it in errors and logs ("JumpCloud password")."""
        import requests

        kwargs.setdefault("timeout", self.timeout)
        shown = redact_url(url)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s %s %s", step, method, shown, _render_request_body(kwargs))
        try:
            response = self.session.request(method, url, **kwargs)
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
            for hop in response.history:
                log.debug("%s:   -> %s %s", step, hop.status_code, redact_url(hop.url))
            log.debug(
                "%s:   <- %s %s %s %s",
                step,
                response.status_code,
                redact_url(response.url),
                redact_headers(dict(response.headers)),
                redact_body(response.content[:4096], response.headers.get("Content-Type", "")),
            )
        return response

    def get(self, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, step=step, **kwargs)

    def post(self, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, step=step, **kwargs)

    def raise_for_service_trouble(self, response: requests.Response, *, step: str) -> None:
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

    def cookies_for(self, hosts: list[str]) -> list[dict[str, Any]]:
        """The jar's cookies that ``hosts`` receive (host-only cookies of those hosts and
        domain cookies covering them; none of any other host), as plain dicts for the IdP
        session store: name, value, domain, path, secure, expires (Unix seconds or None),
        host_only."""
        wanted = {h.lower().rstrip(".") for h in hosts if h}
        kept: list[dict[str, Any]] = []
        for cookie in self.session.cookies:
            domain = cookie.domain.lower()
            if cookie.domain_specified and cookie.domain_initial_dot:
                bare = domain.lstrip(".")
                ours = any(h == bare or h.endswith("." + bare) for h in wanted)
            else:  # host-only; cookielib names a dotless host "host.local"
                ours = domain in wanted or domain.removesuffix(".local") in wanted
            if ours and cookie.value is not None:
                host_only = not (cookie.domain_specified and cookie.domain_initial_dot)
                kept.append(
                    {
                        "name": cookie.name,
                        "value": cookie.value,
                        "domain": cookie.domain,
                        "path": cookie.path or "/",
                        "secure": bool(cookie.secure),
                        "expires": int(cookie.expires) if cookie.expires is not None else None,
                        "host_only": host_only,
                    }
                )
        return kept

    def load_cookies(self, cookies: list[dict[str, Any]]) -> None:
        """Put cookies exported by :meth:`cookies_for` back into the jar."""
        from http.cookiejar import Cookie

        jar = self.session.cookies
        for c in cookies:
            host_only = bool(c.get("host_only"))
            domain = str(c["domain"])
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
                    domain_initial_dot=not host_only and domain.startswith("."),
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
