"""Redaction of secrets in anything samljit may log (``--debug``) or print.

Two complementary mechanisms:

* structural: known secret-bearing names (JSON keys, form fields, query parameters, headers,
  cookies) have their values replaced wherever they appear;
* by value: secrets the process learned (password, OTP, assertion, tokens) are registered with
  a :class:`Redactor` and scrubbed from any text, whatever the structure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "<redacted>"

#: Names whose values are secrets wherever they appear (compared case-insensitively).
SECRET_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "j_password",
        "otp",
        "totp",
        "passcode",
        "verificationcode",
        "security_code",
        "samlresponse",
        "samlrequest",
        "samlassertion",
        "sessiontoken",
        "statetoken",
        "onetimetoken",
        "token",
        "xsrf",
        "x-xsrftoken",
        "csrf_token",
        "authorization",
        "cookie",
        "set-cookie",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
        "secretaccesskey",
        "signintoken",
        "session",
        "context",
    }
)

_MIN_SECRET_LEN = 4


def is_secret_name(name: str) -> bool:
    return name.strip().lower() in SECRET_NAMES


def redact_mapping(values: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in values.items():
        if is_secret_name(key):
            out[key] = MASK
        elif isinstance(value, Mapping):
            out[key] = redact_mapping(value)
        elif isinstance(value, list):
            out[key] = [redact_mapping(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out


def redact_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="<>")


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = redact_query(parts.query) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_name(k) else v) for k, v in headers.items()}


def redact_body(body: str | bytes | None, content_type: str = "") -> str:
    """Render a request or response body for a log line, secrets masked."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.lstrip()
    if "json" in content_type or stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(data, Mapping):
                return json.dumps(redact_mapping(data))
            return json.dumps(data)
    if "x-www-form-urlencoded" in content_type:
        return redact_query(text)
    # XML elements with secret names (STS answers), then value="..." of secret-named inputs.
    text = _XML_ELEMENT.sub(_mask_element, text)
    return _INPUT_VALUE.sub(_mask_input, text)


_INPUT_VALUE = re.compile(
    r"""(name\s*=\s*["']?(?P<name>[\w.:-]+)["']?[^>]*?value\s*=\s*)(["'])(?P<value>.*?)\3""",
    re.IGNORECASE | re.DOTALL,
)


_XML_ELEMENT = re.compile(
    r"<(?P<tag>(?:[\w.-]+:)?(?P<name>[\w.-]+))(?P<attrs>\s[^>]*)?>(?P<value>[^<]*)</(?P=tag)\s*>",
    re.DOTALL,
)


def _mask_element(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")):
        tag = match.group("tag")
        return f"<{tag}{match.group('attrs') or ''}>{MASK}</{tag}>"
    return match.group(0)


def _mask_input(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")):
        quote = match.group(3)
        return f"{match.group(1)}{quote}{MASK}{quote}"
    return match.group(0)


class Redactor:
    """Scrubs registered secret values from text; one instance per samljit run."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *values: str | None) -> None:
        for value in values:
            if value and len(value) >= _MIN_SECRET_LEN:
                self._secrets.add(value)

    def add_all(self, values: Iterable[str | None]) -> None:
        self.add(*values)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text
