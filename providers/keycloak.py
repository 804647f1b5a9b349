"""Keycloak (classic ``keycloak`` and ``keycloak.v2`` login themes): username and password,
then the OTP page when the user has one; the Kerberos "continue" page is pressed on.

``url``: ``{base}/realms/{realm}/protocol/saml/clients/{IdP-initiated SSO URL name}``.
"""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import Flavor, FormProvider

KEYCLOAK = Flavor(
    name="Keycloak",
    login_forms=("form#kc-form-login",),
    otp_forms=("form#kc-otp-login-form", "form#kc-totp-login-form"),
    otp_names=("otp", "totp"),
    error_selectors=(
        "#input-error-otp-code",
        "#input-error-otp",
        "#input-error-username",
        "#input-error",
        ".kc-feedback-text",
        ".alert-error",
    ),
    submit_names=("login",),
    unsupported=(("form#webauth", "a security key (WebAuthn)"),),
)


class KeyCloakProvider(FormProvider):
    name: ClassVar[str] = "KeyCloak"
    flavor: ClassVar[Flavor] = KEYCLOAK
