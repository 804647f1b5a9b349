"""AD FS 2012 R2 … 2019: forms sign-in (``UserName``/``Password``, ``AuthMethod``), then an
MFA adapter page with a code input (``VerificationCode`` and the other common names).

``url``: ``https://{host}/adfs/ls/IdpInitiatedSignOn.aspx``; samljit adds
``loginToRp=<aws_urn>`` when the URL does not name the relying party itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from samljit.idp.api import Account, Flavor, Form, FormProvider, Page


@dataclass(frozen=True)
class AdfsFlavor(Flavor):
    def start_url(self, account: Account) -> str:
        parts = urlsplit(account.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if any(name.lower() == "logintorp" for name, _ in query):
            return account.url
        query.append(("loginToRp", account.aws_urn))
        return parts._replace(query=urlencode(query)).geturl()

    def form_action(self, form: Form, page: Page) -> str:
        """Adapter pages post to the ``options`` form's action when their form has none."""
        if not form.has_action:
            options = page.select_form(("form#options",))
            if options is not None and options.has_action:
                return options.action
        return form.action


ADFS = AdfsFlavor(
    name="ADFS",
    login_forms=("form#loginForm:has(input[type=password])",),
    otp_forms=("form#loginForm",),
    username_names=("UserName",),
    otp_names=("VerificationCode", "security_code", "OathCode", "Passcode"),
    error_selectors=("#errorText", "#error"),
    login_extra=(("AuthMethod", "FormsAuthentication"),),
    unsupported=(
        ("#validEntropyNumber", "Azure MFA number matching"),
        ("p#instructions", "an approval on another device (Azure MFA)"),
    ),
)


class AdfsProvider(FormProvider):
    name: ClassVar[str] = "ADFS"
    flavor: ClassVar[Flavor] = ADFS
