"""The provider API, version 2: everything a provider imports, from one module.

A provider (built in, or a plugin registered under the entry-point group
``samljit.providers``) imports only from here; samljit keeps these names stable within an
API version and bumps :data:`API_VERSION` when one changes. This module holds re-exported
names only (see docs/providers.md, "Writing a provider").
"""

from __future__ import annotations

from samljit.aws.arn import PARTITIONS, acs_for_urn, signin_host_partition
from samljit.common.errors import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    IdpServiceError,
    MissingInputError,
    NetworkError,
    SamljitError,
    WrongCodeError,
)
from samljit.common.fsutil import atomic_write, private_dir
from samljit.common.http import (
    ACCEPT_HTML,
    ACCEPT_JSON,
    CA_BUNDLE_VARIABLES,
    HttpClient,
    is_loopback_host,
    json_object,
    shown_url,
)
from samljit.common.paths import entry_key, state_dir
from samljit.common.platform import current as current_platform
from samljit.common.redact import redact_url
from samljit.common.services import Services
from samljit.common.text import one_line, printable
from samljit.common.xmlsafe import UntrustedXmlError, parse_untrusted
from samljit.config.accounts import Account
from samljit.idp import fido, nssdb
from samljit.idp.duo import (
    DUO_KEYS,
    DuoFactor,
    DuoPrompt,
    duo_factor_kind,
    duo_prompt,
    is_duo_prompt,
)
from samljit.idp.forms import (
    GENERIC,
    LIVE_SELECTORS,
    PINGID_PUSH,
    Flavor,
    FormLogin,
    FormProvider,
    refusal_text,
)
from samljit.idp.mfa import (
    CODE_ATTEMPTS,
    Factor,
    ask_code,
    choose,
    code_until_accepted,
    seconds_until,
)
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
    load_provider,
    option_of,
)
from samljit.idp.wait import Waiting, seconds_left, wait_until

__all__ = [
    "ACCEPT_HTML",
    "ACCEPT_JSON",
    "API_VERSION",
    "CA_BUNDLE_VARIABLES",
    "CODE_ATTEMPTS",
    "DUO_KEYS",
    "GENERIC",
    "LIVE_SELECTORS",
    "PARTITIONS",
    "PINGID_PUSH",
    "Account",
    "AssertionFormatError",
    "AuthenticationError",
    "ConfigError",
    "DoctorFinding",
    "DuoFactor",
    "DuoPrompt",
    "Factor",
    "Field",
    "Flavor",
    "Form",
    "FormLogin",
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
    "UntrustedXmlError",
    "Waiting",
    "WrongCodeError",
    "acs_for_urn",
    "ask_code",
    "atomic_write",
    "choose",
    "code_until_accepted",
    "current_platform",
    "duo_factor_kind",
    "duo_prompt",
    "entry_key",
    "fido",
    "is_duo_prompt",
    "is_loopback_host",
    "js_unescape",
    "json_object",
    "load_provider",
    "nssdb",
    "number",
    "one_line",
    "option_of",
    "parse_page",
    "parse_untrusted",
    "printable",
    "private_dir",
    "redact_url",
    "refusal_text",
    "resolve",
    "saml_response",
    "seconds_left",
    "seconds_until",
    "shorten",
    "shown_url",
    "signin_host_partition",
    "state_dir",
    "wait_until",
    "web_url",
]
