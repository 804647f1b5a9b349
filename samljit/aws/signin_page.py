"""The AWS sign-in page's role list: where the roles come from when the IdP encrypts the
assertion for AWS (IAM's SAML encryption) and samljit cannot read it.

A browser posts the SAMLResponse to the Response's sign-in ``Destination``; AWS decrypts it
and answers a page listing the granted roles. Two shapes are read:

* the classic page: ``input[name=roleIndex]`` radios whose value is the role ARN, grouped
  under ``div.saml-account`` blocks named "Account: ALIAS (ID)" or "Account: ID";
* the newer page, which carries its data as JSON in ``script#__NEXT_DATA__``: any object
  holding a role ARN, its account's name taken from the enclosing object's
  ``accountName`` (read defensively: the key names are not documented by AWS).

A page showing ``div#error`` refused the response: its words become the error. lxml is
imported inside the functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from samljit.common.errors import AuthenticationError, RoleError
from samljit.common.text import one_line

if TYPE_CHECKING:
    from samljit.common.http import HttpClient

#: Overrides the sign-in page's URL (like ``SAMLJIT_FEDERATION_URL`` for the console).
SIGNIN_URL_ENV = "SAMLJIT_SIGNIN_URL"
STEP = "AWS sign-in page"
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+")
_ACCOUNT_LABEL = re.compile(r"Account:\s*(?:(?P<alias>.*?)\s*\((?P<id>\d{12})\)|(?P<bare>\d{12}))")


class PageRole(NamedTuple):
    """A role the sign-in page offers, with its account's alias (None: the page names
    none)."""

    role_arn: str
    account_id: str
    alias: str | None


def page_url(env: Mapping[str, str], destination: str | None, default: str) -> str:
    """Where the SAMLResponse is posted: ``SAMLJIT_SIGNIN_URL``, else the Response's
    ``Destination`` when it is an AWS sign-in endpoint (``is_signin`` already checked by
    the caller: pass None otherwise), else ``default`` (the partition's ``/saml``)."""
    return env.get(SIGNIN_URL_ENV) or destination or default


def roles_from_page(http: HttpClient, url: str, encoded: str) -> list[PageRole]:
    """Post ``encoded`` to the sign-in page at ``url`` and read the roles it lists."""
    answer = http.post(
        url,
        step=STEP,
        data={"SAMLResponse": encoded, "RelayState": ""},
        allow_redirects=False,
    )
    http.raise_for_service_trouble(answer, step=STEP)
    if 300 <= answer.status_code < 400:
        raise RoleError(
            "the AWS sign-in page sent the browser straight on (a single role?) and listed no "
            "role to choose from",
            hint="set role_arn to the role's full ARN (samljit configure --role …)",
        )
    if answer.status_code != 200:
        raise AuthenticationError(f"{STEP}: AWS answered HTTP {answer.status_code}")
    return read_page(answer.text)


def read_page(text: str) -> list[PageRole]:
    """The roles of a sign-in page of either shape; :class:`AuthenticationError` with the
    page's words when it shows an error, :class:`RoleError` (exit 4) when it lists no role."""
    import lxml.html

    try:
        root = lxml.html.fromstring(text or "<html/>")
    except (ValueError, lxml.etree.ParserError):
        root = lxml.html.fromstring("<html/>")
    error = root.cssselect("div#error")
    if error:
        words = one_line(" ".join(error[0].text_content().split()))
        raise AuthenticationError(
            f"the AWS sign-in page refused the SAMLResponse: {words or '(no text)'}",
            hint="IAM's SAML provider must hold the IdP's metadata and the key it encrypts "
            "for; check principal_arn",
        )
    roles = _classic(root) or _from_json(root)
    if not roles:
        raise RoleError(
            "the AWS sign-in page lists no role for this assertion",
            hint="set role_arn to the role's full ARN (samljit configure --role …)",
        )
    return roles


def _classic(root: Any) -> list[PageRole]:
    found: list[PageRole] = []
    for radio in root.cssselect("input[name=roleIndex]"):
        arn = (radio.get("value") or "").strip()
        match = _ROLE_ARN.fullmatch(arn)
        if match is None:
            continue
        alias = None
        for block in radio.iterancestors("div"):
            names = block.cssselect("div.saml-account-name")
            if names:
                label = _ACCOUNT_LABEL.search(" ".join(names[0].text_content().split()))
                if label is not None and label.group("alias"):
                    alias = one_line(label.group("alias"))
                break
        found.append(PageRole(arn, match.group(1), alias))
    return _unique(found)


def _from_json(root: Any) -> list[PageRole]:
    scripts = root.cssselect("script#__NEXT_DATA__")
    if not scripts:
        return []
    try:
        data = json.loads(scripts[0].text or "")
    except ValueError:
        return []
    return _unique(list(_walk(data, None)))


def _walk(node: object, alias: str | None) -> Iterator[PageRole]:
    if isinstance(node, dict):
        named = node.get("accountName")
        if isinstance(named, str) and named:
            alias = one_line(named)
        elif "accountName" in node:
            alias = None
        for value in node.values():
            if isinstance(value, str):
                match = _ROLE_ARN.fullmatch(value.strip())
                if match is not None:
                    yield PageRole(value.strip(), match.group(1), alias)
            else:
                yield from _walk(value, alias)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, alias)


def _unique(roles: list[PageRole]) -> list[PageRole]:
    seen: set[str] = set()
    kept = []
    for role in roles:
        if role.role_arn not in seen:
            seen.add(role.role_arn)
            kept.append(role)
    return kept
