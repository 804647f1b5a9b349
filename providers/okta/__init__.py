"""Okta: Classic Engine (Authentication API) and Identity Engine (OAuth device grant).

``url`` is the AWS app's embed link, ``https://ORG.okta.com/home/amazon_aws/APP_ID/272``;
every call goes to that URL's scheme, host and port, the org (shared/protocols/okta.md): links
in Okta's answers (factor verify links, ``next``, ``skip``, the device flow's verification
URI) are resolved against the org and refused when they lead anywhere else. One login:

1. an Okta session the injected :class:`~samljit.common.http.HttpClient` already holds (a ``sid``
   or ``idx`` cookie for the org host, e.g. loaded by the IdP-session store) is checked with
   ``GET /api/v1/sessions/me`` and, when alive, the app link is opened with it: no password,
   no MFA. Anything else drops those cookies and goes on, silently;
2. ``GET /.well-known/okta-organization`` tells the pipeline: ``v1`` (Classic) or ``idx``
   (Identity Engine);
3. Classic: ``POST /api/v1/authn`` and its state machine (factors as :class:`Factor`
   objects), the ``sessionToken`` spent on ``/login/sessionCookieRedirect`` (the ``sid``
   cookie stays in the jar), then the app page (with app-level step-up when it asks);
4. Identity Engine: the device authorization grant with the account's ``client_id``, the
   ``web_sso_token`` exchange and ``/login/token/sso``.

Remembered devices: verify calls send ``rememberDevice=true`` (unless
``disable_remember_device``) and the ``DT`` cookie stays in the jar, so a kept jar skips MFA
while Okta's policy allows. Waiting (push polls, device-grant polls) uses the injected
sleeper and clocks only.

The package, by job: this module (the provider, its keys, which pipeline), :mod:`.classic`
(the Authentication API's state machine, kept sessions, the app page and step-up),
:mod:`.identity_engine` (the device grant and token exchange), :mod:`.factors` (one object
per factor), :mod:`.errors` (Okta's error answers as samljit's errors) and :mod:`.links`
(the org, and the org-only rule for Okta's links).
"""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import DUO_KEYS, KeyKind, LoginSecrets, ProviderKey, json_object

from .classic import Classic
from .factors import SAML2AWS_LABELS
from .identity_engine import IdentityEngine
from .links import Org


class OktaProvider(Classic, IdentityEngine):
    name: ClassVar[str] = "Okta"
    mfa_options: ClassVar[tuple[str, ...]] = (
        "Auto",
        "PUSH",
        "TOTP",
        "SMS",
        "EMAIL",
        "CALL",
        "YUBICO",
        "WEBAUTHN",
        "DUO",
    )
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "the AWS app's embed link, https://ORG.okta.com/home/amazon_aws/APP_ID/272",
            required=True,
            question="Okta embed link of the AWS app",
        ),
        ProviderKey(
            "client_id",
            "client id of an Okta OIDC native app (Device Authorization and Token Exchange "
            "grants); needed only for Okta Identity Engine orgs",
            question="OIDC client id (Identity Engine orgs only; Enter to skip)",
        ),
        ProviderKey(
            "disable_remember_device",
            "true: do not ask Okta to remember this device after MFA",
            default="false",
            question="Keep Okta from remembering this device after MFA?",
            kind=KeyKind.YES_NO,
        ),
        *DUO_KEYS,
    )

    @classmethod
    def mfa_setting(cls, value: str) -> str | None:
        """Also saml2aws's spellings, ``<PROVIDER> <FACTORTYPE>`` (``OKTA PUSH``,
        ``GOOGLE TOKEN:SOFTWARE:TOTP``), kept as written (upper case)."""
        known = super().mfa_setting(value)
        if known is not None:
            return known
        wanted = " ".join(value.split()).upper()
        if any(label.startswith(wanted) for label in SAML2AWS_LABELS) and " " in wanted:
            return wanted
        return None

    # -- the login ----------------------------------------------------------------------
    def login(self, secrets: LoginSecrets) -> str:
        # the password is read (and so asked for) only when Okta asks for it: a kept session
        # (sid) may answer without it; the flow registers it with the redactor
        org = Org.parse(self.account.url)
        kept = self._with_kept_session(org, secrets)
        if kept is not None:
            return kept
        if self._pipeline(org) == "idx":
            return self._identity_engine(org)
        return self._classic(org, secrets)

    def _pipeline(self, org: Org) -> str:
        step = "Okta org check"
        answer = self._get(org, org.base + "/.well-known/okta-organization", step, json=True)
        data = json_object(answer) if answer.status_code == 200 else None
        return "idx" if data is not None and data.get("pipeline") == "idx" else "v1"
