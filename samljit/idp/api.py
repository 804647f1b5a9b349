"""The provider API, version 2: everything a provider imports, from one module.

A provider (built in, or a plugin registered under the entry-point group
``samljit.providers``) imports only from here; samljit keeps these names stable within an
API version and bumps :data:`API_VERSION` when one changes. This module holds re-exported
names only (see docs/providers.md, "Writing a provider").
"""

from __future__ import annotations

from samljit.common.errors import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    IdpServiceError,
    MissingInputError,
    NetworkError,
    SamljitError,
)
from samljit.common.http import (
    ACCEPT_HTML,
    ACCEPT_JSON,
    HttpClient,
    is_loopback_host,
    json_object,
    shown_url,
)
from samljit.common.redact import redact_url
from samljit.common.services import Services
from samljit.common.text import one_line, printable
from samljit.config.accounts import Account
from samljit.idp import fido
from samljit.idp.forms import GENERIC, Flavor, FormProvider
from samljit.idp.mfa import Factor, ask_code, choose, seconds_until
from samljit.idp.page import (
    Field,
    Form,
    Page,
    js_unescape,
    number,
    parse_page,
    resolve,
    saml_response,
    shorten,
    web_url,
)
from samljit.idp.provider import (
    API_VERSION,
    DoctorFinding,
    KeyKind,
    LoginSecrets,
    PasswordNeed,
    Provider,
    ProviderKey,
)
from samljit.idp.wait import Waiting, seconds_left, wait_until

__all__ = [
    "ACCEPT_HTML",
    "ACCEPT_JSON",
    "API_VERSION",
    "GENERIC",
    "Account",
    "AssertionFormatError",
    "AuthenticationError",
    "ConfigError",
    "DoctorFinding",
    "Factor",
    "Field",
    "Flavor",
    "Form",
    "FormProvider",
    "HttpClient",
    "IdpServiceError",
    "KeyKind",
    "LoginSecrets",
    "MissingInputError",
    "NetworkError",
    "Page",
    "PasswordNeed",
    "Provider",
    "ProviderKey",
    "SamljitError",
    "Services",
    "Waiting",
    "ask_code",
    "choose",
    "fido",
    "is_loopback_host",
    "js_unescape",
    "json_object",
    "number",
    "one_line",
    "parse_page",
    "printable",
    "redact_url",
    "resolve",
    "saml_response",
    "seconds_left",
    "seconds_until",
    "shorten",
    "shown_url",
    "wait_until",
    "web_url",
]
