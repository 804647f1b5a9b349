"""URL rules shared by the config and the HTTP layer (kept free of heavy imports)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from samljit.common.errors import ConfigError
from samljit.common.redact import redact_url

#: Answers retried with backoff (throttling and server trouble).
RETRY_STATUSES = (429, 500, 502, 503, 504)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """Validate a configured URL: https, or http on a loopback host only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"{what} is not an http(s) URL: {redact_url(url)!r}",
            hint="use the full https:// address of the IdP",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{what} uses plain http:// on a non-loopback host ({parts.hostname})",
            hint="use https://; plain http is only allowed for 127.0.0.1, ::1 and localhost",
        )
    return url.strip()
