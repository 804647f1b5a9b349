"""The sandbox IdP's parts: TOTP codes, users files, metadata, and the WSGI application's
pages (driven in-process; the end-to-end login through the CLI is in tests/e2e)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from lxml import etree

from samljit.common.errors import ConfigError
from samljit.saml import assertion as saml
from samljit.tools.sandbox import totp
from samljit.tools.sandbox.idp import BAD_CODE, BAD_PASSWORD, MAX_ATTEMPTS, SandboxIdp
from samljit.tools.sandbox.keys import load_signing_key
from samljit.tools.sandbox.metadata import certificate_base64
from samljit.tools.sandbox.users import (
    ADMIN_ROLE,
    READONLY_ROLE,
    SANDBOX_PROVIDER,
    SandboxUser,
    default_users,
    load_users,
    parse_users,
)
from tests.emulators.common import totp_at
from tests.support.paths import FIXTURES

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
BASE = "http://127.0.0.1:8765"


# -- TOTP -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_totp_matches_rfc6238_vectors(moment: int, code: str) -> None:
    assert totp.code_at(RFC_SECRET, moment) == code


def test_totp_agrees_with_the_jumpcloud_emulator() -> None:
    secret = totp.new_secret()
    for moment in (0, 1_700_000_000, 1_700_000_029, 1_700_000_030):
        assert totp.code_at(secret, moment) == totp_at(secret, moment)


def test_totp_check_allows_one_step_of_drift_only() -> None:
    now = 1_700_000_015.0
    assert totp.check(RFC_SECRET, totp.code_at(RFC_SECRET, now), now)
    assert totp.check(RFC_SECRET, totp.code_at(RFC_SECRET, now - 30), now)
    assert totp.check(RFC_SECRET, totp.code_at(RFC_SECRET, now + 30), now)
    assert not totp.check(RFC_SECRET, totp.code_at(RFC_SECRET, now - 90), now)
    assert not totp.check(RFC_SECRET, "12345", now)
    assert not totp.check(RFC_SECRET, "abcdef", now)


def test_totp_secret_forms_and_uri() -> None:
    assert totp.normalize("gezd gnbv gy3t qojq ====") == "GEZDGNBVGY3TQOJQ"
    with pytest.raises(ValueError, match="base32"):
        totp.decode_secret("not base32!")
    uri = totp.otpauth_uri(RFC_SECRET, "demo", "samljit sandbox")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parse_qs(parts.query) == {"secret": [RFC_SECRET], "issuer": ["samljit sandbox"]}
    assert totp.seconds_left(60.0) == 30


# -- users ----------------------------------------------------------------------------------
def test_default_users_are_random_with_two_roles() -> None:
    first, second = default_users()[0], default_users()[0]
    assert first.password != second.password
    assert first.totp_secret and first.totp_secret != second.totp_secret
    assert [r.role_arn for r in first.roles] == [READONLY_ROLE, ADMIN_ROLE]
    assert {r.principal_arn for r in first.roles} == {SANDBOX_PROVIDER}


def test_users_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "username": "ana@example.org",
                        "password": "pw-1",
                        "totp_secret": "jbsw y3dp ehpk 3pxp",
                        "roles": [f"{SANDBOX_PROVIDER},{READONLY_ROLE}"],
                    },
                    {
                        "username": "bo",
                        "password": "pw-2",
                        "session_duration": None,
                        "roles": [f"{ADMIN_ROLE},{SANDBOX_PROVIDER}"],
                    },
                ]
            }
        )
    )
    ana, bo = load_users(path)
    assert ana.totp_secret == "JBSWY3DPEHPK3PXP"
    assert ana.roles[0].role_arn == READONLY_ROLE  # either order in the file
    assert ana.session_duration == 3600
    assert bo.totp_secret is None and bo.session_duration is None
    assert not ana.passkey and not bo.passkey


def test_users_file_passkey() -> None:
    role = f"{READONLY_ROLE},{SANDBOX_PROVIDER}"
    [user] = parse_users(
        [{"username": "a", "password": "x", "passkey": True, "roles": [role]}], "u"
    )
    assert user.passkey
    with pytest.raises(ConfigError, match=r"users.json: user #1 \(a\): passkey must be true or"):
        parse_users(
            [{"username": "a", "password": "x", "passkey": "yes", "roles": [role]}], "users.json"
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": []}, "lists no users"),
        ([{"password": "x", "roles": []}], "has no username"),
        ([{"username": "a", "password": "x"}], "has no roles"),
        ([{"username": "a", "password": "x", "roles": ["nope"]}], "is not a 'ROLE_ARN"),
        (
            [{"username": "a", "password": "x", "roles": [f"{READONLY_ROLE},{SANDBOX_PROVIDER}"]}]
            * 2,
            "more than once",
        ),
        (
            [
                {
                    "username": "a",
                    "password": "x",
                    "totp_secret": "1!",
                    "roles": [f"{READONLY_ROLE},{SANDBOX_PROVIDER}"],
                }
            ],
            "base32",
        ),
        (
            [
                {
                    "username": "a",
                    "password": "x",
                    "session_duration": 60,
                    "roles": [f"{READONLY_ROLE},{SANDBOX_PROVIDER}"],
                }
            ],
            "900 to 43200",
        ),
        ([{"username": "a", "password": "x", "roles": [], "colour": 1}], "unknown keys: colour"),
    ],
)
def test_users_file_problems_are_config_errors(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_users(data, "users.json")


def test_users_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text("{users: [}")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_users(path)
    with pytest.raises(ConfigError, match="cannot read users file"):
        load_users(tmp_path / "missing.json")


# -- the application ------------------------------------------------------------------------
USER = SandboxUser(
    username="ana",
    password="s3cret-pw",
    totp_secret=RFC_SECRET,
    roles=default_users()[0].roles,
)
NO_MFA = SandboxUser(username="bo", password="pw-bo", roles=default_users()[0].roles)


@pytest.fixture(scope="module")
def idp() -> SandboxIdp:
    key = load_signing_key(FIXTURES / "keys" / "idp-test.key", FIXTURES / "keys" / "idp-test.crt")
    return SandboxIdp([USER, NO_MFA], key.key_pem, key.cert_pem, BASE)


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = dict(headers)
        self.text = body.decode("utf-8")

    def form_value(self, name: str) -> str:
        import lxml.html

        found = lxml.html.document_fromstring(self.text).xpath("//input[@name=$n]", n=name)
        assert found, self.text
        return str(found[0].get("value", ""))


def call(idp: SandboxIdp, method: str, url: str, form: dict[str, str] | None = None) -> Answer:
    parts = urlsplit(url)
    body = urlencode(form or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": parts.path or "/",
        "QUERY_STRING": parts.query,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    captured: list[Any] = []
    chunks = idp(environ, lambda status, headers: captured.extend([status, headers]))
    return Answer(captured[0], captured[1], b"".join(chunks))


def start(idp: SandboxIdp, query: str = "spentityid=urn:amazon:webservices") -> str:
    """Open the SSO URL; the AuthState of the login it starts."""
    answer = call(idp, "GET", f"{BASE}/sso?{query}")
    assert answer.status == 303
    location = answer.headers["Location"]
    assert location.startswith(f"{BASE}/login?")
    return parse_qs(urlsplit(location).query)["AuthState"][0]


def test_password_then_code_gives_a_signed_response(idp: SandboxIdp) -> None:
    state = start(idp, "spentityid=urn:amazon:webservices&RelayState=https://console.example")
    page = call(idp, "GET", f"{BASE}/login?AuthState={state}")
    assert page.status == 200
    assert '<form name="f" method="post"' in page.text
    assert page.form_value("AuthState") == state
    answer = call(
        idp,
        "POST",
        f"{BASE}/login",
        {"AuthState": state, "username": "ana", "password": "s3cret-pw"},
    )
    assert answer.status == 303
    assert answer.headers["Location"] == f"{BASE}/otp?AuthState={state}"
    otp_page = call(idp, "GET", answer.headers["Location"])
    assert 'autocomplete="one-time-code"' in otp_page.text and 'name="otp"' in otp_page.text
    code = totp.code_now(RFC_SECRET)
    final = call(idp, "POST", f"{BASE}/otp", {"AuthState": state, "otp": code})
    assert final.status == 200
    assert 'action="https://signin.aws.amazon.com/saml"' in final.text
    assert final.form_value("RelayState") == "https://console.example"
    parsed = saml.parse(final.form_value("SAMLResponse"))
    assert [r.role_arn for r in parsed.roles] == [READONLY_ROLE, ADMIN_ROLE]
    assert parsed.session_duration == 3600
    assert b"SignatureValue" in saml.decode(parsed.encoded)
    assert idp.issued[-1].username == "ana"
    assert idp.issued[-1].role_arns == (READONLY_ROLE, ADMIN_ROLE)
    # the login is over: its state is gone
    assert call(idp, "GET", f"{BASE}/otp?AuthState={state}").status == 400


def test_user_without_totp_gets_the_response_after_the_password(idp: SandboxIdp) -> None:
    state = start(idp)
    final = call(
        idp, "POST", f"{BASE}/login", {"AuthState": state, "username": "bo", "password": "pw-bo"}
    )
    assert final.status == 200
    assert final.form_value("SAMLResponse")


def test_wrong_password_and_code_show_the_form_again(idp: SandboxIdp) -> None:
    state = start(idp)
    again = call(
        idp, "POST", f"{BASE}/login", {"AuthState": state, "username": "ana", "password": "nope"}
    )
    assert again.status == 200
    assert f'<div class="message-box error" role="alert"><p>{BAD_PASSWORD}</p></div>' in again.text
    assert again.form_value("username") == "ana"
    unknown = call(
        idp, "POST", f"{BASE}/login", {"AuthState": state, "username": "zed", "password": "x"}
    )
    assert BAD_PASSWORD in unknown.text  # the same words: no user enumeration
    call(
        idp,
        "POST",
        f"{BASE}/login",
        {"AuthState": state, "username": "ana", "password": "s3cret-pw"},
    )
    wrong = call(idp, "POST", f"{BASE}/otp", {"AuthState": state, "otp": not_a_valid_code()})
    assert wrong.status == 200 and 'name="otp"' in wrong.text
    assert BAD_CODE in wrong.text


def not_a_valid_code() -> str:
    """A code no step around now accepts (the window is a minute and a half wide)."""
    import time

    now = time.time()
    valid = {totp.code_at(RFC_SECRET, now + 30 * step) for step in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(0, 999999, 111111)) if c not in valid)


def test_too_many_wrong_passwords_end_the_login(idp: SandboxIdp) -> None:
    state = start(idp)
    for _ in range(MAX_ATTEMPTS - 1):
        answer = call(
            idp, "POST", f"{BASE}/login", {"AuthState": state, "username": "bo", "password": "x"}
        )
        assert answer.status == 200
    last = call(
        idp, "POST", f"{BASE}/login", {"AuthState": state, "username": "bo", "password": "x"}
    )
    assert last.status == 400 and "Too many attempts" in last.text
    assert call(idp, "GET", f"{BASE}/login?AuthState={state}").status == 400


def test_errors_for_unknown_sp_lost_state_and_sp_initiated(idp: SandboxIdp) -> None:
    unknown = call(idp, "GET", f"{BASE}/sso?spentityid=urn:other")
    assert unknown.status == 400 and "Unknown service provider" in unknown.text
    lost = call(idp, "GET", f"{BASE}/login?AuthState=forged")
    assert lost.status == 400 and "State information lost" in lost.text
    assert call(idp, "GET", f"{BASE}/sso?SAMLRequest=abc").status == 400
    assert call(idp, "GET", f"{BASE}/nowhere").status == 404
    not_allowed = call(idp, "POST", f"{BASE}/metadata")
    assert not_allowed.status == 405 and not_allowed.headers["Allow"] == "GET"
    # no spentityid: AWS is assumed; providerId (Shibboleth's name) works too
    assert start(idp, "") and start(idp, "providerId=urn:amazon:webservices")


def test_metadata_names_the_certificate_and_endpoint(idp: SandboxIdp) -> None:
    answer = call(idp, "HEAD", f"{BASE}/metadata")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(answer.text.encode())
    ns = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}
    assert root.get("entityID") == f"{BASE}/metadata"
    cert = root.findtext(".//md:KeyDescriptor[@use='signing']//ds:X509Certificate", namespaces=ns)
    assert cert == certificate_base64(idp.cert_pem)
    sso = root.find(".//md:SingleSignOnService", namespaces=ns)
    assert sso is not None and sso.get("Location") == f"{BASE}/sso"
    index = call(idp, "GET", f"{BASE}/")
    assert idp.sso_url() in index.text and idp.sso_url().endswith(
        "spentityid=urn:amazon:webservices"
    )


def test_signing_key_checks(tmp_path: Path) -> None:
    keys = FIXTURES / "keys"
    with pytest.raises(ConfigError, match="does not belong to the key"):
        load_signing_key(keys / "idp-test.key", keys / "attacker.crt")
    with pytest.raises(ConfigError, match="cannot read the signing key"):
        load_signing_key(tmp_path / "none.key", keys / "idp-test.crt")
    from samljit.tools.cert import CertRequest, generate

    ec = generate(CertRequest(name="ec", key_type="ec-p256", out_dir=tmp_path))
    with pytest.raises(ConfigError, match="is not an RSA key"):
        load_signing_key(ec.key_path, ec.cert_path)
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_signing_key(tmp_path / "bad.key", keys / "idp-test.crt")


def test_a_passkey_user_gets_the_registration_page_and_a_bad_answer_is_refused() -> None:
    """The first passkey page registers (``create()``, options from py_webauthn with the
    served host as the RP ID); an answer that does not verify shows the page again with the
    error and a fresh challenge, and nothing is issued. (The browser end to end:
    tests/e2e/test_browser.py.)"""
    key = load_signing_key(FIXTURES / "keys" / "idp-test.key", FIXTURES / "keys" / "idp-test.crt")
    user = SandboxUser(username="cy</script>", password="pw-cy", passkey=True, roles=USER.roles)
    base = "http://localhost:8765"
    notes: list[str] = []
    idp = SandboxIdp([user], key.key_pem, key.cert_pem, base, log=notes.append)
    state = parse_qs(urlsplit(call(idp, "GET", idp.sso_url()).headers["Location"]).query)[
        "AuthState"
    ][0]
    answer = call(
        idp,
        "POST",
        f"{base}/login",
        {"AuthState": state, "username": user.username, "password": "pw-cy"},
    )
    assert answer.headers["Location"] == f"{base}/passkey?AuthState={state}"
    page = call(idp, "GET", answer.headers["Location"])
    assert 'data-mode="create"' in page.text and "navigator.credentials.create" in page.text
    options = page.text.split('<script type="application/json" id="options">')[1].split(
        "</script>"
    )[0]
    assert '"rp": {"name": "samljit sandbox IdP", "id": "localhost"}' in options
    assert "<" not in options  # the username's "</script>" cannot end the script early
    refused = call(idp, "POST", f"{base}/passkey", {"AuthState": state, "credential": "{}"})
    assert refused.status == 200
    assert "The passkey was not accepted." in refused.text
    assert notes[-1].startswith("passkey refused for 'cy</script>'")
    assert not idp.issued and idp.passkeys[user.username] == []
