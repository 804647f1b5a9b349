"""Okta's factors, one small object each (:class:`OktaFactor`): ``verify`` does the factor
through the Authentication API and returns the authn answer after it. Which class serves an
enrolled factor is one table, :data:`_FACTORS`."""

from __future__ import annotations

from binascii import Error as Base64Error
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from samljit.idp.api import (
    AuthenticationError,
    Factor,
    Waiting,
    WrongCodeError,
    code_until_accepted,
    duo_prompt,
    fido,
    seconds_left,
    seconds_until,
    wait_until,
)

from .errors import BROWSER_HINT, OktaError, clean, push_failed, push_unanswered
from .links import Org, link, with_params

if TYPE_CHECKING:
    from .classic import Classic

PUSH_POLL_SECONDS = 1.0
#: How long a push or an SMS code may take when Okta names no expiry (its state token's).
FALLBACK_SECONDS = 300.0


#: saml2aws's names of the factors samljit knows, ``<PROVIDER> <FACTORTYPE>``.
SAML2AWS_LABELS = (
    "OKTA PUSH",
    "OKTA TOKEN:SOFTWARE:TOTP",
    "GOOGLE TOKEN:SOFTWARE:TOTP",
    "OKTA SMS",
    "OKTA CALL",
    "OKTA EMAIL",
    "OKTA QUESTION",
    "RSA TOKEN",
    "SYMANTEC TOKEN",
    "YUBICO TOKEN:HARDWARE",
    "FIDO WEBAUTHN",
    "FIDO U2F",
    "DUO WEB",
)


class OktaFactor(Factor[dict[str, Any]]):
    """One enrolled Okta factor; ``verify`` returns the authn answer after it."""

    supported: ClassVar[bool] = True

    def __init__(
        self,
        provider: Classic,
        org: Org,
        answer: Mapping[str, Any],
        entry: Mapping[str, Any],
        kind: str,
    ) -> None:
        self.provider = provider
        self.org = org
        self.state_token = str(answer.get("stateToken") or "")
        self.entry = entry
        self.kind = kind  # type: ignore[misc]  # per instance: one class serves several
        self.factor_type = str(entry.get("factorType") or "")
        self.vendor = str(entry.get("provider") or "")
        profile = entry.get("profile")
        self.profile: Mapping[str, Any] = profile if isinstance(profile, dict) else {}
        links = entry.get("_links")
        verify = links.get("verify") if isinstance(links, dict) else None
        href = verify.get("href") if isinstance(verify, dict) else None
        factor_id = quote(str(entry.get("id") or ""), safe="")
        self.href = str(href or f"{org.base}/api/v1/authn/factors/{factor_id}/verify")

    @property
    def saml2aws_label(self) -> str:
        return f"{self.vendor} {self.factor_type}".upper()

    @property
    def detail(self) -> str:
        names = ("name", "phoneNumber", "email", "authenticatorName", "questionText")
        for key in names:
            value = self.profile.get(key)
            if isinstance(value, str) and value:
                return clean(value)
        return {"GOOGLE": "Google Authenticator", "OKTA": "Okta Verify"}.get(self.vendor, "")

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind

    def matches(self, preference: str) -> bool:
        if " " in preference:
            return self.saml2aws_label.startswith(preference)
        return self.kind == preference

    def post(self, url: str, body: Mapping[str, Any], step: str) -> dict[str, Any]:
        return self.provider.api(self.org, url, {"stateToken": self.state_token, **body}, step)

    @property
    def verify_url(self) -> str:
        return with_params(self.href, self.provider.remember_params())

    def post_code(
        self, target: str, code: str | None, what: str, step: str, *, digits: bool = True
    ) -> dict[str, Any]:
        """Post the code given up front, or the one typed; a typed code Okta calls wrong
        (E0000068) may be typed again (:func:`code_until_accepted`)."""
        return code_until_accepted(
            self.provider.terminal,
            code,
            lambda otp: self.post_secret(target, "passCode", otp, step),
            what=what,
            digits=digits,
        )

    def post_secret(self, target: str, field: str, value: str, step: str) -> dict[str, Any]:
        """Post one code or answer; Okta calling it wrong (E0000068) is a
        :class:`WrongCodeError`, which a typed one may be typed again after."""
        self.provider.redactor.add(value)
        try:
            return self.post(target, {field: value}, step)
        except OktaError as exc:
            if exc.code == "E0000068":
                raise WrongCodeError(exc.message, hint=exc.hint) from exc
            raise


class _Passcode(OktaFactor):
    """TOTP (Okta Verify, Google Authenticator), a YubiKey OTP, an RSA/Symantec token."""

    takes_code: ClassVar[bool] = True

    def verify(self, code: str | None) -> dict[str, Any]:
        what = {"YUBICO": "YubiKey OTP (touch the key)"}.get(self.kind, f"{self.label} code")
        # no digits-only check: YubiKey OTPs are letters, RSA codes may carry a PIN
        return self.post_code(self.verify_url, code, what, f"Okta {self.kind}", digits=False)


class _Challenge(OktaFactor):
    """SMS, voice call, email: Okta sends a code, the user types it."""

    takes_code: ClassVar[bool] = True

    def verify(self, code: str | None) -> dict[str, Any]:
        step = f"Okta {self.kind}"
        sent = self.post(self.verify_url, {}, step)
        how = {"SMS": "by SMS to", "CALL": "by a call to", "EMAIL": "by email to"}[self.kind]
        terminal = self.provider.terminal
        terminal.info(f"Okta sent a code {how} {self.detail or 'you'}.")
        target = link(sent, "next") or self.verify_url
        return self.post_code(target, code, f"Code from the {self.kind.lower()}", step)


class _Question(OktaFactor):
    def verify(self, code: str | None) -> dict[str, Any]:
        step = "Okta security question"
        return code_until_accepted(
            self.provider.terminal,
            None,  # an answer is never a --mfa-token code
            lambda answer: self.post_secret(self.verify_url, "answer", answer, step),
            ask=lambda: self.provider.terminal.ask_secret(
                f"{step}: {self.detail or 'answer'}",
                what="the answer to the Okta security question",
            ),
        )


class _Push(OktaFactor):
    """Okta Verify push, with the number challenge shown when Okta sends one."""

    def verify(self, code: str | None) -> dict[str, Any]:
        provider = self.provider
        services, terminal = provider.services, provider.terminal
        step = "Okta Verify push"
        answer = self.post(with_params(self.verify_url, {"autoPush": "false"}), {}, step)
        left = seconds_until(answer.get("expiresAt"), services.now(), FALLBACK_SECONDS)
        if left <= PUSH_POLL_SECONDS:
            # already (nearly) past by this machine's clock: the clocks disagree, so Okta's
            # own answer (TIMEOUT, or an expired state token) ends the wait
            left = FALLBACK_SECONDS
        seconds = min(left, FALLBACK_SECONDS)
        terminal.info(f"Okta Verify push sent to {self.detail or 'your phone'}: approve it there.")
        shown: list[int] = []  # the number challenge shown, once per number

        def read(answer: dict[str, Any], left: float) -> dict[str, Any] | None:
            status = str(answer.get("status") or "")
            if status == "SUCCESS":
                return answer
            result = str(answer.get("factorResult") or "")
            if status != "MFA_CHALLENGE" or result != "WAITING":
                raise push_failed(result or status, number_shown=bool(shown))
            number = _correct_answer(answer)
            if number is not None and number not in shown[-1:]:
                shown.append(number)
                terminal.notice(f"Pick {number} in Okta Verify ({seconds_left(left)}).")
            return None

        current = answer

        def poll(waiting: Waiting) -> dict[str, Any] | None:
            nonlocal current
            target = link(current, "next") or self.href
            try:
                current = self.post(target, {}, "Okta Verify push poll")
            except OktaError as exc:
                if exc.code == "E0000011":  # the sign-in's state token ran out
                    raise push_unanswered() from None
                raise
            return read(current, waiting.left)

        done = read(answer, seconds)
        if done is not None:
            return done
        return wait_until(
            poll,
            services=services,
            seconds=seconds,
            every=PUSH_POLL_SECONDS,
            waiting="Waiting for approval…",
            expired=push_unanswered,
            sleep_first=True,
            margin=PUSH_POLL_SECONDS,
        )


class _SecurityKey(OktaFactor):
    """A security key (``webauthn``/``FIDO``, older orgs ``u2f``/``FIDO``): Okta's nonce for
    the factor's credential, signed for RP ID = the org's host, origin = the org."""

    @property
    def supported(self) -> bool:  # type: ignore[override]
        return fido.fido2_installed()

    def verify(self, code: str | None) -> dict[str, Any]:
        if not fido.fido2_installed():
            raise AuthenticationError(
                "Okta asks for a security key (WebAuthn), which needs samljit's fido2 extra: "
                f"{fido.INSTALL}, or {BROWSER_HINT}"
            )
        step = "Okta security key"
        started = self.post(self.verify_url, {}, step)
        embedded = started.get("_embedded")
        factor = embedded.get("factor") if isinstance(embedded, dict) else None
        factor = factor if isinstance(factor, dict) else {}
        profile = factor.get("profile")
        inner = factor.get("_embedded")
        challenge = inner.get("challenge") if isinstance(inner, dict) else None
        credential = (profile if isinstance(profile, dict) else self.profile).get("credentialId")
        nonce = challenge.get("challenge") if isinstance(challenge, dict) else None
        extensions = challenge.get("extensions") if isinstance(challenge, dict) else None
        app_id = extensions.get("appid") if isinstance(extensions, dict) else None
        if app_id:  # a key enrolled as U2F: it signs for the appid, not for the org's host
            raise AuthenticationError(
                f"{step}: this key was enrolled at Okta as a U2F key (appid "
                f"{clean(str(app_id))!r}), which samljit cannot sign for; nothing was asked "
                f"of the key: {BROWSER_HINT}",
                hint="or enrol the key again at Okta (as a security key, WebAuthn)",
            )
        try:
            nonce_bytes = fido.unb64url(nonce)
            credential_id = fido.unb64url(credential)
        except (TypeError, ValueError, Base64Error):
            raise AuthenticationError(
                f"{step}: Okta's challenge holds no usable nonce and credential id"
            ) from None
        services = self.provider.services
        left = seconds_until(started.get("expiresAt"), services.now(), FALLBACK_SECONDS)
        request = fido.KeyRequest(
            idp="Okta",
            origin=self.org.base,
            rp_id=self.org.host,
            challenge=nonce_bytes,
            credential_ids=(credential_id,),
            user_verification="preferred",
            timeout=min(left, fido.DEFAULT_TIMEOUT),
        )
        assertion = fido.SecurityKey(services).sign(request)
        target = link(started, "next") or self.verify_url
        body = {
            "clientData": fido.b64url(assertion.client_data),
            "authenticatorData": fido.b64url(assertion.authenticator_data),
            "signatureData": fido.b64url(assertion.signature),
        }
        return self.post(target, body, step)


class _Browser(OktaFactor):
    """A factor samljit cannot do in a terminal (Duo, FastPass)."""

    supported: ClassVar[bool] = False
    NAMES: ClassVar[dict[str, str]] = {
        "DUO": "Duo",
        "FASTPASS": "Okta FastPass",
    }

    def verify(self, code: str | None) -> dict[str, Any]:
        raise AuthenticationError(
            f"Okta asks for {self.NAMES.get(self.kind, self.kind)}, which samljit cannot do "
            f"in a terminal: {BROWSER_HINT}"
        )


class _DuoUniversal(OktaFactor):
    """Duo's Universal Prompt as Okta's claims provider: verify links to Okta's redirect to
    Duo, samljit's Duo driver completes the prompt, and Duo's way back to Okta starts the Okta
    session (its ``sid`` cookie) the app page then opens with."""

    takes_code: ClassVar[bool] = True  # a Duo passcode

    @property
    def label(self) -> str:
        return "DUO (Duo Universal Prompt)"

    def verify(self, code: str | None) -> dict[str, Any]:
        provider, step = self.provider, "Okta Duo"
        answer = self.post(self.verify_url, {}, step)
        target = link(answer, "next")
        if not target:
            raise AuthenticationError(
                f"{step}: Okta's answer has no link to Duo", hint=BROWSER_HINT
            )
        duo = duo_prompt(provider, code, notify=False)
        back = duo.complete(duo.reach(self.org.resolve(target, step), step))
        step = "Okta Duo callback"
        response = provider.http.get(back, step=step)
        provider.http.raise_for_service_trouble(response, step=step)
        if response.status_code != 200:
            raise AuthenticationError(
                f"{step}: Okta answered HTTP {response.status_code} to Duo's way back",
                hint=BROWSER_HINT,
            )
        return {"status": "SUCCESS"}  # the session is the sid cookie Okta just set


#: (factorType, provider or "") → (mfa kind, class).
_FACTORS: dict[tuple[str, str], tuple[str, type[OktaFactor]]] = {
    ("push", ""): ("PUSH", _Push),
    ("token:software:totp", ""): ("TOTP", _Passcode),
    ("token:hardware", ""): ("YUBICO", _Passcode),
    ("token", ""): ("TOKEN", _Passcode),
    ("sms", ""): ("SMS", _Challenge),
    ("call", ""): ("CALL", _Challenge),
    ("email", ""): ("EMAIL", _Challenge),
    ("question", ""): ("QUESTION", _Question),
    ("webauthn", ""): ("WEBAUTHN", _SecurityKey),
    ("u2f", ""): ("WEBAUTHN", _SecurityKey),
    ("web", "DUO"): ("DUO", _Browser),
    ("claims_provider", "CUSTOM"): ("DUO", _DuoUniversal),
    ("signed_nonce", ""): ("FASTPASS", _Browser),
}


def make_factor(
    provider: Classic, org: Org, answer: Mapping[str, Any], entry: Mapping[str, Any]
) -> OktaFactor | None:
    factor_type = str(entry.get("factorType") or "").lower()
    vendor = str(entry.get("provider") or "").upper()
    found = _FACTORS.get((factor_type, vendor)) or _FACTORS.get((factor_type, ""))
    if found is None:
        return None
    if factor_type == "claims_provider" and "duo" not in str(entry.get("vendorName")).lower():
        return None  # another IdP as a claims provider
    kind, cls = found
    return cls(provider, org, answer, entry, kind)


def _correct_answer(answer: Mapping[str, Any]) -> int | None:
    embedded = answer.get("_embedded")
    if not isinstance(embedded, dict):
        return None
    for key in ("factor", "factors"):  # Okta's push examples say "factors" (an object)
        factor = embedded.get(key)
        inner = factor.get("_embedded") if isinstance(factor, dict) else None
        challenge = inner.get("challenge") if isinstance(inner, dict) else None
        number = challenge.get("correctAnswer") if isinstance(challenge, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            return number
    return None
