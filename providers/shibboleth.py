"""Shibboleth IdP v4/v5: the client-storage page, the ``j_username``/``j_password`` form (with
its CSRF token and the ``_eventId_proceed`` event every step needs), then the assertion.

``url``: ``{base}/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices``.
"""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import Flavor, FormProvider

SHIBBOLETH = Flavor(
    name="Shibboleth",
    login_forms=("form:has(input[name=j_username])",),
    username_names=("j_username",),
    otp_names=("j_tokenNumber",),
    error_selectors=(".output--error", ".form-error", ".output-message"),
    login_extra=(("_eventId_proceed", ""),),
    otp_extra=(("_eventId_proceed", ""),),
    submit_names=("_eventId_proceed",),
    unsupported=(("iframe#duo_iframe", "Duo (the Duo Web iframe)"),),
)


class ShibbolethProvider(FormProvider):
    name: ClassVar[str] = "Shibboleth"
    flavor: ClassVar[Flavor] = SHIBBOLETH
