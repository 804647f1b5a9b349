"""The one HTTP client every provider and the STS call use.

* one cookie jar per login (a :class:`HttpClient` is created per run and injected);
* TLS verification on, ``AWS_CA_BUNDLE`` honoured, ``skip_verify`` warns every time;
* ``HTTPS_PROXY``/``NO_PROXY``/``REQUESTS_CA_BUNDLE`` honoured through requests' own env support;
* connection failures, timeouts and 5xx are retried with backoff, then raised as
  :class:`~samljit.errors.NetworkError` / :class:`~samljit.errors.IdpServiceError` naming the
  step and the URL;
* a 429 is retried once, after the reset time it names (``X-Rate-Limit-Reset`` epoch
  seconds, or ``Retry-After``), when that is at most :data:`RATE_LIMIT_MAX_WAIT` seconds
  away; otherwise :meth:`HttpClient.raise_for_service_trouble` says when to retry;
* every request and answer is logged at DEBUG level on ``samljit.idp.http`` with secrets masked.

requests is imported lazily so that ``samljit --help`` never pays for it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
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
#: The longest wait for a throttled request's reset time before it is retried (once).
RATE_LIMIT_MAX_WAIT = 10.0
#: Answers urllib3 retries with backoff (429 has its own rule, see the module docstring).
_BACKOFF_STATUSES = tuple(s for s in RETRY_STATUSES if s != 429)


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
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._verify_flag = verify
        self._sleep = sleep
        #: Wall-clock epoch seconds (for ``X-Rate-Limit-Reset``).
        self._clock = clock or time.time
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
            status_forcelist=_BACKOFF_STATUSES,
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

    def request(
        self, method: str, url: str, *, step: str, _retried: bool = False, **kwargs: Any
    ) -> requests.Response:
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
        if response.status_code == 429 and not _retried:
            wait = rate_limit_wait(response.headers, self._clock())
            if wait is not None and wait <= RATE_LIMIT_MAX_WAIT:
                log.debug("%s: throttled (HTTP 429); retrying once in %.1f s", step, wait)
                (self._sleep or time.sleep)(wait)
                return self.request(method, url, step=step, _retried=True, **kwargs)
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
        """429/5xx that survived the retries become one clear error (a 429 says when to
        retry, when the IdP named a reset time)."""
        if response.status_code == 429:
            wait = rate_limit_wait(response.headers, self._clock())
            if wait is not None:
                at = time.strftime("%H:%M:%S UTC", time.gmtime(self._clock() + wait))
                raise IdpServiceError(
                    f"{step}: {_host(response.url)} throttled the request (HTTP 429); "
                    f"retry after {at} (in {int(wait + 0.999)} s)",
                    hint="the IdP's rate limit for this endpoint is used up; wait, then retry",
                )
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


def rate_limit_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until a throttled request may be retried: ``X-Rate-Limit-Reset`` (epoch
    seconds, Okta) or ``Retry-After`` (seconds or an HTTP date); ``None`` when neither says."""
    reset = (headers.get("X-Rate-Limit-Reset") or "").strip()
    if reset.isdigit():
        return max(0.0, int(reset) - now)
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
