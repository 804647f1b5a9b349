"""Made-up host names for the browser the installed samljit launches (through the test seam of
tests/support/seams): a page "on" ``idp.samljit.test`` that a loopback server serves.

    env = hosts_env({"idp.samljit.test": "127.0.0.1:8080"})

Requests for ``http://idp.samljit.test/…`` go to ``http://127.0.0.1:8080/…``; the browser
(and samljit) see the made-up name as the page's URL, as for a host the DNS knows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tests.support.paths import seams_env

HOSTS_ENV = "SAMLJIT_TEST_HOSTS"


def hosts_env(hosts: Mapping[str, str]) -> dict[str, str]:
    return {
        **seams_env(SAMLJIT_TEST_BROWSER_HOOK="tests.support.browser_hosts:attach"),
        HOSTS_ENV: json.dumps(dict(hosts)),
    }


def attach(context: Any, page: Any) -> None:
    """The hook: route each made-up host's requests to its loopback server."""
    hosts: dict[str, str] = json.loads(os.environ.get(HOSTS_ENV) or "{}")

    def served(url: str) -> bool:
        return (urlsplit(url).hostname or "") in hosts

    def forward(route: Any, request: Any) -> None:
        parts = urlsplit(request.url)
        route.continue_(url=parts._replace(netloc=hosts[parts.hostname or ""]).geturl())

    context.route(served, forward)
