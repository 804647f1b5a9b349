"""SAML ECP (Enhanced Client or Proxy): Shibboleth IdP, Keycloak and SimpleSAMLphp without HTML.

samljit plays the SP and the ECP at once (AWS has no PAOS endpoint): it writes the
``AuthnRequest`` naming AWS (Issuer = the account's ``aws_urn``, ACS = the sign-in URL of
that URN's partition), posts it in a SOAP 1.1 envelope with HTTP Basic to the IdP's ECP
endpoint (``url``), and checks the SOAP answer as the ECP profile says before the signed
``samlp:Response`` goes anywhere: no redirect followed (the credential stays with the
request), a SOAP fault or an HTTP 401 reported in the IdP's words, exactly one Response whose
status is Success, **the unsigned ``ecp:Response`` header naming the ACS that was asked for**
(else someone on the path redirected the answer: abort before STS), ``InResponseTo`` the ID
sent and ``Destination`` the ACS. The Response element serialised alone is the SAMLResponse
the flow verifies (pinning, audience, destination) and hands to STS.

Duo behind a Shibboleth IdP (its Duo AuthAPI plugin) is asked for through the
``X-Shibboleth-Duo-*`` headers, only when ``duo_factor``, ``duo_device`` or ``--mfa-token``
is given. A kept IdP session (its cookies) is tried first without the password.

Protocol page: shared/protocols/ecp.md.
"""

from __future__ import annotations

import base64
import secrets as random_ids
from dataclasses import dataclass
from typing import Any, ClassVar

from samljit.idp.api import (
    AuthenticationError,
    ConfigError,
    LoginSecrets,
    Provider,
    ProviderKey,
    UntrustedXmlError,
    acs_for_urn,
    ask_code,
    duo_factor_kind,
    one_line,
    parse_untrusted,
)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ECP_NS = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
PAOS_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
#: What SimpleSAMLphp and Shibboleth take as the SOAP binding (``application/vnd.paos+xml``
#: is what an ECP announces to an SP; SimpleSAMLphp answers it with 405).
CONTENT_TYPE = "text/xml; charset=utf-8"
_NS = {"S": SOAP_NS, "ecp": ECP_NS, "samlp": SAMLP_NS}
#: A Duo push is approved while the one POST waits for the IdP's answer.
DUO_READ_SECONDS = 60.0
MAX_ANSWER_BYTES = 2 * 1024 * 1024
STEP = "ECP login"
_CHECK_HINT = (
    "someone on the path (a proxy) may be redirecting the login; do not retry from this "
    "network, and tell your security team"
)


@dataclass(frozen=True)
class _Answer:
    """An ECP answer that passed the profile's checks: the SAMLResponse, or the IdP's
    refusal (``refused``: its status, in its words)."""

    encoded: str | None
    refused: str | None = None


class ShibbolethEcpProvider(Provider):
    name: ClassVar[str] = "ShibbolethECP"
    aliases: ClassVar[tuple[str, ...]] = ("ECP",)
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "the IdP's SAML ECP endpoint (Shibboleth: https://IDP/idp/profile/SAML2/SOAP/ECP)",
            required=True,
        ),
        ProviderKey(
            "duo_factor",
            "Duo through the IdP's Duo plugin: Auto, Push, Passcode or Phone (unset: no Duo)",
        ),
        ProviderKey("duo_device", "the Duo device the IdP's Duo plugin uses (a device id)"),
    )

    def login(self, secrets: LoginSecrets) -> str:
        acs = acs_for_urn(self.account.aws_urn)
        if self.session_loaded:
            kept = self._exchange(acs, None, {})
            if kept.encoded is not None:
                return kept.encoded
            self.http.drop_cookies()  # the IdP no longer honours the session: start clean
        duo = self._duo_headers(secrets)
        password = secrets.password or ""
        username = secrets.username
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.redactor.add(password, basic)
        answer = self._exchange(acs, f"Basic {basic}", duo)
        if answer.encoded is None:
            raise AuthenticationError(
                f"the IdP refused the ECP login: {answer.refused}",
                hint="check username and password (samljit configure)"
                + (", and the Duo passcode" if "X-Shibboleth-Duo-Passcode" in duo else ""),
            )
        return answer.encoded

    # -- the request --------------------------------------------------------------------
    def _duo_headers(self, secrets: LoginSecrets) -> dict[str, str]:
        """Shibboleth's Duo headers, only when Duo is asked for (``duo_factor``,
        ``duo_device`` or a code); none otherwise."""
        factor_setting = (self.option("duo_factor") or "").strip()
        device = (self.option("duo_device") or "").strip()
        code = secrets.mfa_token
        if not (factor_setting or device or code):
            return {}
        # Shibboleth's header values are samljit's factor kinds in lower case
        factor = duo_factor_kind(factor_setting).lower() if factor_setting else "auto"
        if code and factor == "auto":
            factor = "passcode"  # a code given: use it rather than a push
        headers = {"X-Shibboleth-Duo-Factor": factor}
        if device:
            headers["X-Shibboleth-Duo-Device"] = device
        if factor == "passcode":
            passcode = ask_code(self.terminal, code, what="Duo passcode")
            self.redactor.add(passcode)
            headers["X-Shibboleth-Duo-Passcode"] = passcode
        elif factor in ("push", "phone", "auto"):
            self.terminal.info("Duo: approve the sign-in on your phone if it asks.")
        return headers

    def _envelope(self, request_id: str, acs: str) -> bytes:
        from lxml import etree

        moment = self.services.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"S": SOAP_NS})
        body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")
        request = etree.SubElement(
            body,
            f"{{{SAMLP_NS}}}AuthnRequest",
            nsmap={"samlp": SAMLP_NS, "saml": SAML_NS},
            ID=request_id,
            Version="2.0",
            IssueInstant=moment,
            ProtocolBinding=PAOS_BINDING,
            AssertionConsumerServiceURL=acs,
        )
        etree.SubElement(request, f"{{{SAML_NS}}}Issuer").text = self.account.aws_urn
        data: bytes = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        return data

    def _exchange(self, acs: str, authorization: str | None, duo: dict[str, str]) -> _Answer:
        """One ECP round trip (``authorization`` None: the kept session's cookies only)."""
        request_id = "_" + random_ids.token_hex(20)  # an xs:ID: never starts with a digit
        headers = {"Content-Type": CONTENT_TYPE, "Accept": "text/xml", **duo}
        if authorization is not None:
            headers["Authorization"] = authorization
        options: dict[str, Any] = {"timeout": (10.0, DUO_READ_SECONDS)} if duo else {}
        answer = self.http.post(
            self.account.url,
            step=STEP,
            data=self._envelope(request_id, acs),
            headers=headers,
            allow_redirects=False,
            **options,
        )
        kept_session = authorization is None
        status = answer.status_code
        if 300 <= status < 400:
            raise ConfigError(
                f"the IdP did not answer ECP at {self.account.url} (HTTP {status}, a redirect "
                "to a login page)",
                hint="url must be the IdP's ECP endpoint, and the IdP must allow ECP for "
                f"{self.account.aws_urn} with a PAOS AssertionConsumerService at {acs}",
            )
        if status == 401:
            if kept_session:
                return _Answer(None, "HTTP 401")
            said = _said(answer)
            raise AuthenticationError(
                "the IdP refused the ECP login (HTTP 401)" + (f": {said}" if said else ""),
                hint="check username and password (samljit configure)",
            )
        root = self._soap(answer)
        if root is None:
            self.http.raise_for_service_trouble(answer, step=STEP)
            raise ConfigError(
                f"the IdP answered the ECP request with HTTP {status} and no SOAP message "
                f"({answer.headers.get('Content-Type') or 'no content type'})",
                hint="url must be the IdP's ECP endpoint, and the IdP must know "
                f"{self.account.aws_urn} as an SP allowed to use ECP",
            )
        fault = root.find("S:Body/S:Fault", _NS)
        if fault is not None:
            words = [_text(fault.find("faultstring")), _text(fault.find("detail"))]
            raise AuthenticationError(
                "the IdP answered with a SOAP fault: "
                + (": ".join(w for w in words if w) or "(no fault string)"),
                hint="the IdP must allow the ECP profile for "
                f'{self.account.aws_urn} (Keycloak: the client\'s "Allow ECP flow")',
            )
        self.http.raise_for_service_trouble(answer, step=STEP)
        responses = root.findall("S:Body/samlp:Response", _NS)
        if len(responses) != 1:
            raise AuthenticationError(
                f"the IdP's ECP answer holds {len(responses)} SAML Responses, not one",
                hint=_CHECK_HINT if responses else None,
            )
        response = responses[0]
        refused = _refusal(response)
        if refused is not None:
            return _Answer(None, refused)
        self._check(root, response, request_id, acs)
        encoded = base64.b64encode(_serialise(response)).decode("ascii")
        self.redactor.add(encoded)
        return _Answer(encoded)

    def _soap(self, answer: Any) -> Any:
        """The SOAP envelope of ``answer``, or None when the answer is not one."""
        content: bytes = answer.content
        if not content.lstrip().startswith(b"<") or b"html" in content[:512].lower():
            return None
        try:
            root = parse_untrusted(content, max_bytes=MAX_ANSWER_BYTES, max_depth=64)
        except UntrustedXmlError:
            return None
        return root if root.tag == f"{{{SOAP_NS}}}Envelope" else None

    def _check(self, root: Any, response: Any, request_id: str, acs: str) -> None:
        """The profile's checks on a Success answer (protocol page §4, steps 3 and 4)."""
        header = root.findall("S:Header/ecp:Response", _NS)
        if len(header) != 1:
            raise AuthenticationError(
                "ECP check failed: the IdP's answer has no ecp:Response header naming where "
                "the Response is for; samljit sent nothing to AWS",
                hint=_CHECK_HINT,
            )
        named = header[0].get("AssertionConsumerServiceURL")
        if named != acs:
            raise AuthenticationError(
                f"ECP check failed: the answer is for {one_line(str(named))!r}, not the "
                f"AWS sign-in endpoint {acs} samljit asked for; samljit sent nothing to AWS",
                hint=_CHECK_HINT,
            )
        replied_to = response.get("InResponseTo")
        if replied_to is not None and replied_to != request_id:
            raise AuthenticationError(
                "ECP check failed: the Response answers another request (InResponseTo); "
                "samljit sent nothing to AWS",
                hint=_CHECK_HINT,
            )
        destination = response.get("Destination")
        if destination is not None and destination != acs:
            raise AuthenticationError(
                f"ECP check failed: the Response is addressed to "
                f"{one_line(destination)!r}, not {acs}; samljit sent nothing to AWS",
                hint=_CHECK_HINT,
            )


def _serialise(response: Any) -> bytes:
    """The Response element alone, as received (its inherited namespace declarations kept,
    nothing re-indented): what its signatures cover."""
    from lxml import etree

    data: bytes = etree.tostring(response)
    return data


def _refusal(response: Any) -> str | None:
    """The IdP's words when the Response's status is not Success, else None."""
    code = response.find("samlp:Status/samlp:StatusCode", _NS)
    value = code.get("Value") if code is not None else None
    if value == SUCCESS:
        return None
    parts = [_short(value or "no status")]
    sub = code.find("samlp:StatusCode", _NS) if code is not None else None
    if sub is not None and sub.get("Value"):
        parts.append(_short(sub.get("Value")))
    message = _text(response.find("samlp:Status/samlp:StatusMessage", _NS))
    return "/".join(parts) + (f": {message}" if message else "")


def _short(status: str) -> str:
    """``urn:oasis:names:tc:SAML:2.0:status:Responder`` → ``Responder``."""
    return one_line(status.rsplit(":", 1)[-1] if status.startswith("urn:oasis:") else status)


def _text(element: Any) -> str:
    if element is None:
        return ""
    return one_line(" ".join("".join(element.itertext()).split()))


def _said(answer: Any) -> str:
    """A short plain-text reason from a refusal's body (not HTML, not XML)."""
    kind = (answer.headers.get("Content-Type") or "").lower()
    if not kind.startswith("text/plain"):
        return ""
    words = one_line(answer.text)
    return words[:200]
