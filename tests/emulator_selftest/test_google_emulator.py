"""The Google-shaped IdP's 2-Step Verification step (:mod:`tests.emulators.google`), as a
person at the window meets it: a wrong code is refused in Google's words, the right one signs
in."""

from __future__ import annotations

import time

import requests

from tests.emulators.common import totp_at
from tests.emulators.formidp import FormUser
from tests.emulators.google import WRONG_CODE, GoogleIdp
from tests.support.accounts import EMAIL, PASSWORD, PROVIDER_ARN, RO_ARN, TOTP_SECRET, grants


def test_the_code_step_follows_the_password_and_takes_only_the_right_code() -> None:
    user = FormUser(EMAIL, PASSWORD, roles=grants((RO_ARN, PROVIDER_ARN)), totp_secret=TOTP_SECRET)
    with GoogleIdp([user]) as google, requests.Session() as web:
        password_page = web.post(
            f"{google.base_url}/v3/signin/identifier", data={"identifier": EMAIL}, timeout=10
        )
        assert "/v3/signin/challenge/pwd?TL=" in password_page.url
        code_page = web.post(password_page.url, data={"Passwd": PASSWORD}, timeout=10)
        assert "/v3/signin/challenge/totp?TL=" in code_page.url
        assert 'name="totpPin"' in code_page.text and "SAMLResponse" not in code_page.text
        wrong = web.post(code_page.url, data={"totpPin": "000000"}, timeout=10)
        assert WRONG_CODE in wrong.text and "SAMLResponse" not in wrong.text
        right = web.post(
            code_page.url, data={"totpPin": totp_at(TOTP_SECRET, time.time())}, timeout=10
        )
        assert 'name="SAMLResponse"' in right.text
        assert web.cookies.get("SID")


def test_a_user_without_a_secret_is_signed_in_after_the_password() -> None:
    user = FormUser(EMAIL, PASSWORD, roles=grants((RO_ARN, PROVIDER_ARN)))
    with GoogleIdp([user]) as google, requests.Session() as web:
        password_page = web.post(
            f"{google.base_url}/v3/signin/identifier", data={"identifier": EMAIL}, timeout=10
        )
        done = web.post(password_page.url, data={"Passwd": PASSWORD}, timeout=10)
        assert 'name="SAMLResponse"' in done.text
        assert google.count("GET", "/v3/signin/challenge/totp") == 0
