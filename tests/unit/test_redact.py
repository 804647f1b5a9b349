"""samljit.common.redact: what ``--debug`` may print. Secrets are masked by name (fields, headers,
cookies, inputs, XML elements) and by value (every secret the run learned, in every form it
may take on the wire)."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote_plus, urlencode

import pytest

from samljit.common.redact import (
    MASK,
    Redactor,
    is_secret_name,
    redact_body,
    redact_headers,
    redact_query,
    redact_url,
)

PASSWORD = "correct-Horse+battery/staple=42&x"
OTP = "123456"
ASSERTION = base64.b64encode(b"<samlp:Response>" + b"x" * 600 + b"</samlp:Response>").decode()
XSRF = "2|e7f0a1b2|9c8d7e6f5a4b3c2d1e0f|1700000000"


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "otp",
        "SAMLResponse",
        "samlresponse",
        "token",
        "xsrf",
        "_xsrf",
        "X-Xsrftoken",
        "X-CSRF-Token",
        "Cookie",
        "Set-Cookie",
        "Authorization",
        "sessionToken",
        "stateToken",
        "SessionToken",
        "SecretAccessKey",
        "access_token",
        "client_secret",
        "ppm_request",  # PingID's hand-over tokens, met behind a form IdP
        "ppm_response",
        "mfatoken",  # F5 BIG-IP APM's code input
        "sid",  # Duo's Universal Prompt
        "tx",
        "txid",
        "push_txid",
        "duo_code",
        "authkey",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["username", "email", "RelayState", "Code", "Expiration"])
def test_ordinary_names_are_kept(name: str) -> None:
    assert not is_secret_name(name)


def test_duos_prompt_url_is_shown_without_its_session() -> None:
    from samljit.common.http import shown_url

    url = "https://api-1.duosecurity.com/frame/v4/preauth/healthcheck?sid=frameless-abc123"
    assert "frameless-abc123" not in shown_url(url)
    back = "https://idp.example/cb?state=st4te-value&duo_code=c0de-value"
    assert "st4te-value" not in shown_url(back) and "c0de-value" not in shown_url(back)


# -- structure: JSON, forms, URLs, headers ---------------------------------------------------
def test_json_bodies_mask_secret_fields_at_any_depth() -> None:
    body = json.dumps(
        {"email": "ops@acme.example", "password": PASSWORD, "otp": OTP, "nested": [{"xsrf": XSRF}]}
    )
    shown = redact_body(body, "application/json")
    assert PASSWORD not in shown and OTP not in shown and XSRF not in shown
    assert json.loads(shown) == {
        "email": "ops@acme.example",
        "password": MASK,
        "otp": MASK,
        "nested": [{"xsrf": MASK}],
    }


def test_a_json_list_is_masked_too() -> None:
    shown = redact_body(json.dumps([{"token": XSRF}]), "application/json")
    assert json.loads(shown) == [{"token": MASK}]


def test_truncated_json_is_still_masked() -> None:
    body = json.dumps({"xsrf": XSRF, "password": PASSWORD})[:40]
    shown = redact_body(body, "application/json")
    assert XSRF[:10] not in shown
    assert '"xsrf": "<redacted>"' in shown


def test_form_bodies() -> None:
    body = urlencode({"SAMLResponse": ASSERTION, "RelayState": "https://console", "otp": OTP})
    shown = redact_body(body, "application/x-www-form-urlencoded")
    assert ASSERTION[:20] not in shown and OTP not in shown
    assert "RelayState=https" in shown


def test_query_strings_and_urls() -> None:
    url = f"https://idp.example/sso?SAMLRequest=abc123&RelayState=x&token={XSRF}"
    shown = redact_url(url)
    assert "abc123" not in shown and XSRF not in shown
    assert "RelayState=x" in shown
    assert redact_query("a=1&password=hunter22") == "a=1&password=<redacted>"


def test_credentials_in_a_url_are_masked() -> None:
    shown = redact_url("https://ops:hunter22@proxy.example/path")
    assert "hunter22" not in shown and shown.endswith("@proxy.example/path")


def test_headers_cookies_and_xsrf() -> None:
    headers = {
        "Set-Cookie": f"_xsrf={XSRF}; Path=/; Secure",
        "Cookie": "jcsso_session=abcdef123456",
        "X-Xsrftoken": XSRF,
        "Authorization": "Bearer abcdef",
        "Content-Type": "text/html",
        "Location": f"https://signin.aws.amazon.com/saml?SAMLResponse={quote_plus(ASSERTION)}&x=1",
    }
    shown = redact_headers(headers)
    assert shown["Set-Cookie"] == shown["Cookie"] == shown["X-Xsrftoken"] == MASK
    assert shown["Authorization"] == MASK
    assert shown["Content-Type"] == "text/html"
    assert ASSERTION[:20] not in shown["Location"]
    assert shown["Location"].endswith("SAMLResponse=<redacted>&x=1")


# -- HTML pages ------------------------------------------------------------------------------
def page(*inputs: str) -> str:
    return "<html><body><form method='post'>" + "".join(inputs) + "</form></body></html>"


@pytest.mark.parametrize(
    "tag",
    [
        f'<input type="hidden" name="SAMLResponse" value="{ASSERTION}"/>',
        f'<input value="{ASSERTION}" type="hidden" name="SAMLResponse">',
        f"<input type=hidden name=SAMLResponse value='{ASSERTION}'>",
        f"<INPUT NAME=SAMLResponse VALUE={ASSERTION}>",
        f'<input id="SAMLResponse" value="{ASSERTION}">',
        f'<meta name="csrf_token" content="{XSRF}">',
    ],
)
def test_secret_inputs_in_html_whatever_the_attribute_order(tag: str) -> None:
    shown = redact_body(page(tag, '<input name="RelayState" value="keep-me">'), "text/html")
    assert ASSERTION[:20] not in shown and XSRF not in shown
    assert MASK in shown
    assert 'value="keep-me"' in shown


def test_a_body_cut_short_inside_the_value_is_masked() -> None:
    body = page(f'<input type="hidden" name="SAMLResponse" value="{ASSERTION}"/>')
    cut = body[: body.index(ASSERTION) + 300]  # http.py logs at most the first 4096 bytes
    shown = redact_body(cut, "text/html")
    assert ASSERTION[:20] not in shown
    assert ASSERTION[100:140] not in shown


def test_secret_pairs_in_links_and_text() -> None:
    body = (
        f'<a href="https://idp.example/next?stateToken={XSRF}&amp;password={quote_plus(PASSWORD)}'
        '&amp;lang=en">go</a>'
    )
    shown = redact_body(body, "text/html")
    assert XSRF not in shown
    assert quote_plus(PASSWORD) not in shown
    assert "lang=en" in shown


def test_sts_answers() -> None:
    body = (
        "<AssumeRoleWithSAMLResponse><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>"
        "<SessionToken>FQoGZXIvYXdzEJr</SessionToken></Credentials></AssumeRoleWithSAMLResponse>"
    )
    shown = redact_body(body, "text/xml")
    assert "wJalrXUtnFEMI" not in shown and "FQoGZXIvYXdzEJr" not in shown
    assert "ASIAEXAMPLE" in shown


def test_oauth_and_entra_sign_in_state() -> None:
    """The device flow's device_code, an authorization code (a form_post page and a redirect),
    OAuth's state, and Entra ID's flow token and ctx (``sFT``/``sCtx`` in its page config,
    ``flowToken``/``originalRequest`` in GetCredentialType, ``request`` in ProcessAuth)."""
    device = redact_body(json.dumps({"device_code": XSRF, "user_code": "BCDFGHJK"}), "json")
    assert XSRF not in device and "BCDFGHJK" in device  # the user code is shown to the user
    page = f'<input type="hidden" name="code" value="{XSRF}"><input name="state" value="{OTP}9">'
    assert XSRF not in redact_body(page, "text/html") and OTP not in redact_body(page, "text/html")
    assert XSRF not in redact_url(f"http://127.0.0.1/cb?code={XSRF}&state=s")
    config = json.dumps({"sFT": XSRF, "sCtx": PASSWORD, "canary": OTP + "x", "apiCanary": "ab12"})
    shown = redact_body(f"<script>$Config={config};</script>", "text/html")
    assert XSRF not in shown and PASSWORD not in shown and OTP not in shown and "ab12" not in shown
    posted = redact_body(
        urlencode({"flowToken": XSRF, "request": PASSWORD, "login": "ops@acme.example"}),
        "application/x-www-form-urlencoded",
    )
    assert XSRF not in posted and quote_plus(PASSWORD) not in posted and "acme.example" in posted
    asked = redact_body(json.dumps({"originalRequest": XSRF, "username": "ops"}), "json")
    assert XSRF not in asked


def test_an_error_code_stays_visible() -> None:
    """``code`` is secret as a field (an OAuth code), not as an AWS error's element."""
    body = "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"
    assert redact_body(body, "text/xml") == body
    assert "E0000004" in redact_body(json.dumps({"code": "E0000004"}), "json")


def test_ordinary_text_is_left_alone() -> None:
    text = "<p>Sign in to continue. a=b&c=d</p><input name='username' value='ops@acme.example'>"
    assert redact_body(text, "text/html") == text


# -- by value ---------------------------------------------------------------------------------
def test_the_redactor_scrubs_registered_values() -> None:
    redactor = Redactor()
    redactor.add(PASSWORD, OTP, ASSERTION, None, "abc")  # too short to be worth masking: "abc"
    text = f"pw={PASSWORD} otp {OTP} saml {ASSERTION} abc"
    assert redactor(text) == f"pw={MASK} otp {MASK} saml {MASK} abc"


@pytest.mark.parametrize(
    "encode",
    [
        quote_plus,
        lambda v: quote_plus(v, safe=""),
        html.escape,
        lambda v: json.dumps(v)[1:-1],
    ],
    ids=["url", "url-strict", "html", "json"],
)
def test_the_redactor_scrubs_encoded_forms(encode: object) -> None:
    redactor = Redactor()
    redactor.add(PASSWORD, ASSERTION)
    for secret in (PASSWORD, ASSERTION):
        shown = encode(secret)  # type: ignore[operator]
        assert shown not in redactor(f"before {shown} after")


def test_the_longest_secret_wins() -> None:
    redactor = Redactor()
    redactor.add("abcd", "abcdefgh")
    assert redactor("xx abcdefgh yy abcd") == f"xx {MASK} yy {MASK}"


# -- by value, where the secret stands -------------------------------------------------------
def test_a_code_is_masked_where_it_stands_not_inside_other_numbers() -> None:
    redactor = Redactor()
    redactor.add("123456")
    # the success line: the account id holds the code's digits, and stays whole
    line = "Logged in: ReadOnly in 012345678987 (arn:aws:iam::012345678987:role/ReadOnly)"
    assert redactor(line) == line
    assert redactor("x1234567 a123456 123456b 123456_") == f"x1234567 a123456 123456b {MASK}_"
    # … and masked wherever it is a value of its own
    for shown, masked in [
        ("passCode=123456&rememberDevice=false", f"passCode={MASK}&rememberDevice=false"),
        ('{"otp": "123456"}', f'{{"otp": "{MASK}"}}'),
        ("code 123456.", f"code {MASK}."),
        ("/verify/123456?x", f"/verify/{MASK}?x"),
        ("q=%22123456%22", f"q=%22{MASK}%22"),  # inside URL-encoded JSON
        ('{"a": "x\\n123456"}', f'{{"a": "x\\n{MASK}"}}'),  # after a JSON escape
        ("\\u0022123456", f"\\u0022{MASK}"),
    ]:
        assert redactor(shown) == masked, shown


def test_a_secret_edged_with_punctuation_is_masked_next_to_anything() -> None:
    redactor = Redactor()
    redactor.add("+hunter2!")
    assert redactor("pw+hunter2!x") == f"pw{MASK}x"


@pytest.mark.parametrize(
    "name", ["sFT", "flowToken", "FlowToken", "canary", "apiCanary", "AdditionalAuthData", "otc"]
)
def test_entra_flow_tokens_and_canaries_are_secret_names(name: str) -> None:
    assert is_secret_name(name)


def test_entra_pages_forms_and_calls_hide_flow_tokens() -> None:
    token, canary = "AQABAAEAAAD--DLA3VO7QrddgJg7Wevr" + "x" * 40, "PAQABAQIAAA" + "y" * 40
    page = (
        '<script>//<![CDATA[\n$Config={"sFT":"' + token + '","sFTName":"flowToken",'
        '"canary":"' + canary + '","apiCanary":"' + canary + '"};\n//]]></script>'
    )
    form = urlencode({"login": "ops@acme.example", "flowToken": token, "canary": canary})
    call = json.dumps({"username": "ops@acme.example", "flowToken": token})
    answer = json.dumps({"FlowToken": token, "Ctx": "c"})
    for shown in (
        redact_body(page, "text/html"),
        redact_body(form, "application/x-www-form-urlencoded"),
        redact_body(call, "application/json"),
        redact_body(answer, "application/json"),
        str(redact_headers({"canary": canary})),
    ):
        assert token[:30] not in shown and canary[:30] not in shown, shown
    assert '"sFTName":"flowToken"' in redact_body(page, "text/html")


# -- what --debug prints ---------------------------------------------------------------------
def test_debug_output_is_scrubbed_tracebacks_included(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from samljit.cli.main import _setup_debug

    token = "00Tok3n-" + "s" * 30
    redactor = Redactor()
    redactor.add(PASSWORD)
    logger = logging.getLogger("samljit")
    handlers, level = list(logger.handlers), logger.level
    _setup_debug(redactor)
    try:
        try:  # what urllib3 says of a dropped connection names the URL, query and all
            raise ConnectionError(
                "HTTPSConnectionPool(host='acme.okta.com', port=443): Max retries exceeded "
                f"with url: /login/sessionCookieRedirect?token={token}&redirectUrl=%2Fapp "
                f"(\x1b]52;c;{PASSWORD}\x07)"
            )
        except ConnectionError:
            page = "failed \x1b[2J\nsamljit: error: forged"  # network text in a record
            logging.getLogger("samljit.common.http").debug(page, exc_info=True)
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    shown = capsys.readouterr().err
    assert "Traceback (most recent call last)" in shown
    assert "sessionCookieRedirect?token=<redacted>&redirectUrl=%2Fapp" in shown
    assert token not in shown and PASSWORD not in shown
    assert "\x1b" not in shown and "\x07" not in shown
    assert "samljit: debug: failed \\x1b[2J\\nsamljit: error: forged\n" in shown
    assert not [line for line in shown.splitlines() if line.startswith("samljit: error")]
