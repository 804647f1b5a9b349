"""The org of an Okta account and the one rule for Okta's links: every href in Okta's
answers (factor verify links, ``next``, ``skip``, the step-up link, the device flow's
verification URI) is resolved against the org and refused when it leads anywhere else."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from samljit.idp.api import AuthenticationError, ConfigError

from .errors import clean

_APP_PATH = re.compile(r"/(?:home|app)/amazon_aws/(?P<app>[A-Za-z0-9]+)(?:/|$)")


@dataclass(frozen=True)
class Org:
    base: str  # scheme://host[:port]
    host: str
    app_id: str

    @classmethod
    def parse(cls, url: str) -> Org:
        parts = urlsplit(url)
        found = _APP_PATH.search(parts.path)
        if origin(url) is None or found is None:
            raise ConfigError(
                f"Okta url is not an AWS app embed link: {clean(url)!r}",
                hint="copy the AWS app's embed link from Okta's admin console: "
                "https://ORG.okta.com/home/amazon_aws/APP_ID/272",
            )
        host = parts.hostname or ""
        return cls(f"{parts.scheme}://{parts.netloc}", host, found.group("app"))

    def resolve(self, href: str, step: str) -> str:
        """A link from Okta's answer (or page), resolved against the org; refused unless
        it stays on the org: the same scheme, host and port, no user info."""
        target = urljoin(self.base + "/", href)
        if origin(target) != origin(self.base):
            parts = urlsplit(target)
            where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else href
            raise AuthenticationError(
                f"{step}: Okta's answer points to {clean(where)[:120]}, not to the org "
                f"{self.base}; samljit follows Okta's links only on the org",
                hint="check url (the AWS app's embed link); if it is right, something "
                "between you and Okta rewrites its answers: tell its admins",
            )
        return target


def origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL without user info, ports made explicit;
    ``None`` for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` set in its query (replacing values of the same names, the
    link's other parameters kept): ``…/verify?rememberDevice=false`` stays one query."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params.items()])))


def link(answer: Mapping[str, Any], name: str) -> str | None:
    links = answer.get("_links")
    link = links.get(name) if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    return href if isinstance(href, str) and href else None
