"""Redaction of secrets in anything samljit may log (``--debug``) or print.

Two complementary mechanisms:

* structural: known secret-bearing names (JSON keys, form fields, query parameters, headers,
  cookies) have their values replaced wherever they appear;
* by value: secrets the process learned (password, OTP, assertion, tokens) are registered with
  a :class:`Redactor` and scrubbed from any text, whatever the structure, where they stand
  as a word of their own: a 6-digit code is masked in ``otp=123456`` or ``"123456"``, not
  inside the account id ``012345678987``.
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
        "pwd",
        "j_password",
        "otp",
        "totp",
        "passcode",
        "verificationcode",
        "security_code",
        "samlresponse",
        "samlrequest",
        "samlassertion",
        # an XML signature's value: a SOAP answer (ECP) carries the signed Response in clear,
        # usable at STS until it expires; without its signature values it is not
        "signaturevalue",
        "samlart",
        "sessiontoken",
        "statetoken",
        "onetimetoken",
        "session_token",
        # OneLogin's API: the login waiting for MFA, the code sent, the SAMLResponse
        "state_token",
        "otp_token",
        "data",
        "mfa_token",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "xsrf",
        "_xsrf",
        "xsrf-token",
        "x-xsrf-token",
        "x-xsrftoken",
        "csrf",
        "_csrf",
        "csrftoken",
        "csrf_token",
        "x-csrf-token",
        "x-csrftoken",
        "authenticity_token",
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "cookie",
        "set-cookie",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
        "secretaccesskey",
        "signintoken",
        "session",
        "context",
        # F5 BIG-IP APM's code field, PingID's hand-off values
        "mfatoken",
        "ppm_request",
        "ppm_response",
        # Entra ID: the flow token (page's sFT, form field flowToken, JSON FlowToken), the
        # anti-forgery values, the code in EndAuth/ProcessAuth, AD FS's WS-Fed token
        "sft",
        "flowtoken",
        "canary",
        "apicanary",
        "additionalauthdata",
        "otc",
        "wresult",
        "device_code",  # OAuth device flow: it alone redeems the tokens once approved
        "state",  # OAuth's, and Entra's My Apps sign-in state
        "ctx",
        "sctx",
        "originalrequest",
        "request",  # Entra ID's ctx, as ProcessAuth's and KMSI's field
        # Duo's Universal Prompt: its session, transaction ids, the code of the way back
        "sid",
        "tx",
        "txid",
        "push_txid",
        "duo_code",
        "authkey",
    }
)

#: Names secret only as a form field or query parameter: an OAuth authorization ``code``
#: (in a redirect's query or a form_post page), where a ``<Code>`` element of an AWS answer
#: or a JSON ``code`` is an error code worth showing.
FIELD_SECRET_NAMES = frozenset({"code"})

_MIN_SECRET_LEN = 4


def is_secret_name(name: str) -> bool:
    return name.strip().lower() in SECRET_NAMES


#: Names whose value is a secret only when it is an opaque token: a SAML ``RelayState`` that
#: is a URL (the AWS console page to open) is shown, one that is a token (PingOne's signed
#: state, an SP's transaction id) is masked.
OPAQUE_STATE_NAMES = frozenset({"relaystate"})
_OPAQUE_MIN_LEN = 20


def is_opaque_state(name: str, value: str) -> bool:
    """Whether ``value`` of field ``name`` is an opaque state token to mask."""
    return (
        name.strip().lower() in OPAQUE_STATE_NAMES
        and len(value) >= _OPAQUE_MIN_LEN
        and "://" not in value
        and not value.startswith(("/", "%2F", "%2f"))
        and " " not in value
    )


def is_secret_field(name: str) -> bool:
    """A form field or query parameter whose value is a secret."""
    return is_secret_name(name) or name.strip().lower() in FIELD_SECRET_NAMES


def redact_mapping(values: Mapping[str, object]) -> dict[str, object]:
    return {key: MASK if is_secret_name(key) else redact_json(v) for key, v in values.items()}


def redact_json(data: object) -> object:
    """A decoded JSON value with the values of secret-named keys masked, at any depth."""
    if isinstance(data, Mapping):
        return redact_mapping(data)
    if isinstance(data, list):
        return [redact_json(item) for item in data]
    return data


def redact_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(k, MASK if is_secret_field(k) or is_opaque_state(k, v) else v) for k, v in pairs],
        safe="<>",
    )


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = redact_query(parts.query) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_URL_HEADERS = frozenset({"location", "content-location", "refresh", "link", "referer"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Secret-named headers masked whole; URLs in ``Location`` and the like lose secret
    query values."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        if is_secret_name(key):
            out[key] = MASK
        elif key.strip().lower() in _URL_HEADERS:
            out[key] = redact_pairs(value)
        else:
            out[key] = value
    return out


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
            return json.dumps(redact_json(data))
    if "x-www-form-urlencoded" in content_type:
        return redact_query(text)
    # Anything else (HTML, XML, a body cut short for the log): XML elements with secret names
    # (STS answers), secret-named form inputs whatever their attribute order, JSON pairs
    # that did not parse, and name=value pairs in URLs and text.
    text = _mask_unterminated(text)
    text = _XML_ELEMENT.sub(_mask_element, text)
    text = _TAG.sub(_mask_tag, text)
    text = _JSON_PAIR.sub(_mask_json_pair, text)
    return redact_pairs(text)


def redact_pairs(text: str) -> str:
    """Mask ``name=value`` where ``name`` is a secret name: query strings and form bodies
    embedded in any text (``&`` or ``&amp;`` separated)."""
    return _PAIR.sub(_mask_pair, text)


# A start tag, possibly cut off at the end of a truncated body.
_TAG = re.compile(r"<[A-Za-z][\w:.-]*\s[^<>]*(?:>|\Z)", re.DOTALL)
_ATTRIBUTE = re.compile(
    r"""(?P<key>[\w:.-]+)\s*=\s*(?:(?P<quote>["'])(?P<quoted>.*?)(?:(?P=quote)|\Z)|(?P<bare>[^\s"'>]+))""",
    re.DOTALL,
)
_JSON_PAIR = re.compile(
    r'"(?P<name>[\w.:-]+)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)(?:"|\Z)', re.DOTALL
)
_PAIR = re.compile(r"(?P<lead>(?:^|[?&;\s\"'(]|&amp;)(?P<name>[\w.:-]+)=)(?P<value>[^&\s\"'<>#;]*)")


_XML_ELEMENT = re.compile(
    r"<(?P<tag>(?:[\w.-]+:)?(?P<name>[\w.-]+))(?P<attrs>\s[^>]*)?>(?P<value>[^<]*)</(?P=tag)\s*>",
    re.DOTALL,
)


# A start tag (whole), for the secret elements that are never closed.
_START_TAG = re.compile(r"<(?P<tag>(?:[\w.-]+:)?(?P<name>[\w.-]+))(?:\s[^<>]*)?>")


def _mask_unterminated(text: str) -> str:
    """A secret-named element with no end tag after it (a body cut short, or broken markup)
    is masked from its start tag to the end of the text."""
    for match in _START_TAG.finditer(text):
        if match.group(0).endswith("/>") or not is_secret_name(match.group("name")):
            continue
        if text.find(f"</{match.group('tag')}", match.end()) < 0:
            return text[: match.end()] + MASK
    return text


def _mask_element(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")):
        tag = match.group("tag")
        return f"<{tag}{match.group('attrs') or ''}>{MASK}</{tag}>"
    return match.group(0)


def _mask_tag(match: re.Match[str]) -> str:
    """In a tag whose ``name`` (or ``id``) attribute is a secret name, mask ``value`` and
    ``content``."""
    tag = match.group(0)
    names = {
        m.group("key").lower(): m.group("quoted") if m.group("quote") else m.group("bare")
        for m in _ATTRIBUTE.finditer(tag)
    }
    if not any(is_secret_field(names.get(key) or "") for key in ("name", "id")):
        value = names.get("value") or ""
        if not any(is_opaque_state(names.get(key) or "", value) for key in ("name", "id")):
            return tag

    def mask(attribute: re.Match[str]) -> str:
        if attribute.group("key").lower() not in ("value", "content"):
            return attribute.group(0)
        quote = attribute.group("quote") or '"'
        return f"{attribute.group('key')}={quote}{MASK}{quote}"

    return _ATTRIBUTE.sub(mask, tag)


def _mask_json_pair(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")):
        return f'"{match.group("name")}": "{MASK}"'
    return match.group(0)


def _mask_pair(match: re.Match[str]) -> str:
    name, value = match.group("name"), match.group("value")
    if value and (is_secret_field(name) or is_opaque_state(name, value)):
        return f"{match.group('lead')}{MASK}"
    return match.group(0)


def _variants(value: str) -> set[str]:
    import html
    from urllib.parse import quote, quote_plus

    found = {
        value,
        quote_plus(value, safe=""),
        quote(value, safe=""),
        html.escape(value),
        html.escape(value, quote=False),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    return {v for v in found if len(v) >= _MIN_SECRET_LEN}


#: Before a secret that starts with a letter or digit: no letter or digit (it would be inside
#: a longer word), unless that is the end of an escape (``%22``, ``\\n``, ``\\u0022``).
_WORD_START = r"(?:(?<![^\W_])|(?<=%[0-9A-Fa-f]{2})|(?<=\\[a-z])|(?<=\\u[0-9A-Fa-f]{4}))"
#: After a secret that ends with a letter or digit: no letter or digit.
_WORD_END = r"(?![^\W_])"


def _as_word(secret: str) -> str:
    """A pattern for ``secret`` standing as a word of its own: not preceded or followed by a
    letter or digit where its own first or last character is one (``_`` and punctuation
    separate words, as in ``otp=123456&`` or ``"123456"``)."""
    lead = _WORD_START if secret[0].isalnum() else ""
    tail = _WORD_END if secret[-1].isalnum() else ""
    return lead + re.escape(secret) + tail


class Redactor:
    """Scrubs registered secret values from text where they stand as words of their own
    (:func:`_as_word`); one instance per samljit run."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str | None) -> None:
        """Register secrets, with the forms they take when embedded elsewhere: URL-encoded
        (form bodies, query strings), HTML-escaped (pages) and JSON-escaped."""
        for value in values:
            if value and len(value) >= _MIN_SECRET_LEN:
                self._secrets.update(_variants(value))
                self._pattern = None

    def add_all(self, values: Iterable[str | None]) -> None:
        self.add(*values)

    def __call__(self, text: str) -> str:
        if not self._secrets:
            return text
        if self._pattern is None:  # the longest first: a secret holding another goes whole
            ordered = sorted(self._secrets, key=lambda s: (-len(s), s))
            self._pattern = re.compile("|".join(_as_word(s) for s in ordered))
        return self._pattern.sub(MASK, text)
