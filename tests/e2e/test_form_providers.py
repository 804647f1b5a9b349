"""Every form flavor passes the same scenarios through the installed executable, against its
emulator (Keycloak classic and v2 with Kerberos first, Shibboleth v4 and v5, ADFS) and moto's
STS: login, wrong password, and, where the IdP has one, the one-time code (right, wrong, and
needed without a terminal). GenericForm runs the login scenarios against every emulator."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from samljit.tools.sandbox.response import RoleGrant
from tests.emulators import adfs, f5apm, keycloak, pingid_form, shibboleth
from tests.emulators.common import CERT_PATH, KEY_PATH, totp_now
from tests.emulators.formidp import FormIdp, FormUser
from tests.support.accounts import ACCOUNT_ID, FULL_ARN, PASSWORD, PROVIDER_ARN, RO_ARN, fresh_code
from tests.support.cli import Cli

TOTP_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"
ANA = "ana@acme.example"  # password only
BEN = "ben@acme.example"  # password, then a one-time code
CAL = "cal@acme.example"  # ADFS: Azure MFA approval on the phone


@dataclass(frozen=True)
class Flavor:
    id: str
    provider: str
    make: Callable[[list[FormUser]], FormIdp]
    password_field: str
    wrong_password: str
    otp_field: str | None = None
    wrong_otp: str | None = None

    def __str__(self) -> str:
        return self.id


FLAVORS = [
    Flavor(
        "keycloak",
        "KeyCloak",
        lambda users: keycloak.KeycloakEmulator(users, theme="keycloak"),
        "password",
        keycloak.INVALID_CREDENTIALS,
        "otp",
        keycloak.INVALID_OTP,
    ),
    Flavor(
        "keycloak-v2-kerberos",
        "KeyCloak",
        lambda users: keycloak.KeycloakEmulator(
            users, theme="keycloak.v2", kerberos=True, two_devices=True
        ),
        "password",
        keycloak.INVALID_CREDENTIALS,
        "otp",
        keycloak.INVALID_OTP,
    ),
    Flavor(
        "shibboleth-v4",
        "Shibboleth",
        lambda users: shibboleth.ShibbolethEmulator(users, version=4),
        "j_password",
        shibboleth.WRONG_PASSWORD,
    ),
    Flavor(
        "shibboleth-v5",
        "Shibboleth",
        lambda users: shibboleth.ShibbolethEmulator(users, version=5),
        "j_password",
        shibboleth.WRONG_PASSWORD,
    ),
    Flavor(
        "adfs",
        "ADFS",
        adfs.AdfsEmulator,
        "Password",
        adfs.INCORRECT,
        "VerificationCode",
        adfs.MFA_DENIED,
    ),
]
WITH_OTP = [f for f in FLAVORS if f.otp_field]


def users() -> list[FormUser]:
    roles = [RoleGrant(RO_ARN, PROVIDER_ARN), RoleGrant(FULL_ARN, PROVIDER_ARN)]
    return [
        FormUser(ANA, PASSWORD, roles=roles),
        FormUser(BEN, PASSWORD, roles=roles, totp_secret=TOTP_SECRET),
        FormUser(CAL, PASSWORD, roles=roles, mfa="push"),
    ]


@pytest.fixture(params=FLAVORS, ids=str)
def flavor(request: pytest.FixtureRequest) -> Flavor:
    value: Flavor = request.param
    return value


def serving(flavor: Flavor, cli: Cli) -> Iterator[FormIdp]:
    """The flavor's emulator with the test's users, for one test."""
    with flavor.make(users()) as emulator:
        yield emulator
        cli.secrets.update(emulator.issued)  # the leak check (cli's teardown) covers them


@pytest.fixture
def idp(flavor: Flavor, cli: Cli) -> Iterator[FormIdp]:
    yield from serving(flavor, cli)


def configure(cli: Cli, provider: str, url: str, username: str = ANA) -> None:
    cli.write_config(
        f"[forms]\nprovider = {provider}\nurl = {url}\nusername = {username}\n"
        "role_arn = AcmeJumpCloudAdminRO\nregion = us-east-2\n"
    )


def code(cli: Cli) -> str:
    return fresh_code(cli, TOTP_SECRET)


# -- the scenario list ---------------------------------------------------------------------
def test_login(cli: Cli, flavor: Flavor, idp: FormIdp) -> None:
    configure(cli, flavor.provider, idp.start_url)
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 0, ran.stderr
    assert f"Logged in: AcmeJumpCloudAdminRO in {ACCOUNT_ID}" in ran.stderr
    assert cli.principal("forms").startswith(
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/AcmeJumpCloudAdminRO/"
    )
    assert idp.posts_with(flavor.password_field) == 1
    assert idp.posts_with("tryAnotherWay") == 0  # Keycloak's other form is never merged in


def test_wrong_password_is_exit_3_with_the_idps_words(
    cli: Cli, flavor: Flavor, idp: FormIdp
) -> None:
    configure(cli, flavor.provider, idp.start_url)
    ran = cli.run("login", "-a", "forms", env={"SAMLJIT_PASSWORD": "not-the-password-1"})
    assert ran.returncode == 3, ran.stderr
    assert ran.stderr.startswith("samljit: error: ")
    assert flavor.wrong_password in ran.stderr
    assert idp.posts_with(flavor.password_field) == 1  # never sent again on its own
    assert not cli.credentials.exists()
    cli.secrets.add("not-the-password-1")


@pytest.fixture(params=WITH_OTP, ids=str)
def otp_flavor(request: pytest.FixtureRequest) -> Flavor:
    value: Flavor = request.param
    return value


@pytest.fixture
def otp_idp(otp_flavor: Flavor, cli: Cli) -> Iterator[FormIdp]:
    yield from serving(otp_flavor, cli)


def test_one_time_code(cli: Cli, otp_flavor: Flavor, otp_idp: FormIdp) -> None:
    configure(cli, otp_flavor.provider, otp_idp.start_url, BEN)
    ran = cli.run("login", "-a", "forms", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("forms")
    assert otp_idp.posts_with(otp_flavor.password_field) == 1
    assert otp_idp.posts_with(otp_flavor.otp_field or "") == 1


def test_wrong_one_time_code(cli: Cli, otp_flavor: Flavor, otp_idp: FormIdp) -> None:
    configure(cli, otp_flavor.provider, otp_idp.start_url, BEN)
    wrong = "000000" if totp_now(TOTP_SECRET) != "000000" else "111111"
    ran = cli.run("login", "-a", "forms", "--mfa-token", wrong)
    assert ran.returncode == 3, ran.stderr
    assert " ".join((otp_flavor.wrong_otp or "").split()) in ran.stderr
    assert otp_idp.posts_with(otp_flavor.otp_field or "") == 1
    assert not cli.credentials.exists()


def test_one_time_code_needed_without_terminal(
    cli: Cli, otp_flavor: Flavor, otp_idp: FormIdp
) -> None:
    configure(cli, otp_flavor.provider, otp_idp.start_url, BEN)
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 2, ran.stderr
    assert "one-time MFA code is needed, but there is no terminal" in ran.stderr
    assert otp_idp.posts_with(otp_flavor.otp_field or "") == 0


def test_mfa_code_from_the_environment(cli: Cli, otp_flavor: Flavor, otp_idp: FormIdp) -> None:
    configure(cli, otp_flavor.provider, otp_idp.start_url, BEN)
    ran = cli.run("login", "-a", "forms", env={"SAMLJIT_MFA_TOKEN": code(cli)})
    assert ran.returncode == 0, ran.stderr


# -- the IdP's own session (Keycloak's SSO session) ------------------------------------------
KEYCLOAKS = [f for f in FLAVORS if f.id.startswith("keycloak")]


@pytest.fixture(params=KEYCLOAKS, ids=str)
def kc_flavor(request: pytest.FixtureRequest) -> Flavor:
    value: Flavor = request.param
    return value


@pytest.fixture
def kc(kc_flavor: Flavor, cli: Cli) -> Iterator[keycloak.KeycloakEmulator]:
    with kc_flavor.make(users()) as emulator:
        assert isinstance(emulator, keycloak.KeycloakEmulator)
        yield emulator


def test_keycloaks_sso_session_spares_password_and_code_until_it_ends(
    cli: Cli, kc_flavor: Flavor, kc: keycloak.KeycloakEmulator
) -> None:
    configure(cli, kc_flavor.provider, kc.start_url, BEN)
    start = ("GET", urlsplit(kc.start_url).path)
    first = cli.run("login", "-a", "forms", "--mfa-token", code(cli))
    assert first.returncode == 0, first.stderr
    fresh_login = kc.requests
    assert (kc.posts_with("password"), kc.posts_with("otp")) == (1, 1)

    again = cli.run(
        "login", "-a", "forms", "--force", "--skip-prompt", env={"SAMLJIT_PASSWORD": None}
    )
    assert again.returncode == 0, again.stderr
    assert kc.requests[len(fresh_login) :] == [start]  # one request: the SAMLResponse at once
    [row] = json.loads(cli.run("status", "--json").stdout)
    assert row["idp_session"] is True
    until = datetime.fromisoformat(row["idp_session_expires"].replace("Z", "+00:00"))
    hours = (until - datetime.now(timezone.utc)).total_seconds() / 3600
    assert 9 < hours <= 10, until  # KEYCLOAK_SESSION's max-age: Keycloak's SSO Session Max

    kc.end_sessions()
    before = len(kc.requests)
    third = cli.run("login", "-a", "forms", "--force", "--mfa-token", code(cli))
    assert third.returncode == 0, third.stderr
    assert "error" not in third.stderr.lower() and "warning" not in third.stderr.lower()
    assert kc.requests[before:] == fresh_login  # the ended session: the normal login, silently
    assert (kc.posts_with("password"), kc.posts_with("otp")) == (2, 2)


# -- GenericForm against every emulator ------------------------------------------------------
def generic_url(flavor: Flavor, emulator: FormIdp) -> str:
    if flavor.provider == "ADFS":  # GenericForm adds nothing: the URL must name the RP
        return f"{emulator.start_url}?loginToRp=urn:amazon:webservices"
    return emulator.start_url


def test_generic_form_logs_in(cli: Cli, flavor: Flavor, idp: FormIdp) -> None:
    configure(cli, "GenericForm", generic_url(flavor, idp))
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 0, ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("forms")


def test_generic_form_wrong_password(cli: Cli, flavor: Flavor, idp: FormIdp) -> None:
    configure(cli, "GenericForm", generic_url(flavor, idp))
    ran = cli.run("login", "-a", "forms", env={"SAMLJIT_PASSWORD": "not-the-password-1"})
    assert ran.returncode == 3, ran.stderr
    assert flavor.wrong_password in ran.stderr
    assert idp.posts_with(flavor.password_field) == 1


# -- flavor specifics ------------------------------------------------------------------------
def test_adfs_phone_approval_is_reported_not_looped(cli: Cli) -> None:
    with adfs.AdfsEmulator(users()) as emulator:
        configure(cli, "ADFS", emulator.start_url, CAL)
        ran = cli.run("login", "-a", "forms")
        cli.secrets.update(emulator.issued)
    assert ran.returncode == 3, ran.stderr
    assert "does not support yet" in ran.stderr and "Microsoft Authenticator" in ran.stderr
    assert emulator.posts_with("Context") == 0


def test_adfs_sends_only_the_login_forms_fields(cli: Cli) -> None:
    with adfs.AdfsEmulator(users()) as emulator:
        configure(cli, "ADFS", emulator.start_url)
        ran = cli.run("login", "-a", "forms")
        cli.secrets.update(emulator.issued)
    assert ran.returncode == 0, ran.stderr
    [(_, pairs)] = emulator.posts
    assert sorted(name for name, _ in pairs) == ["AuthMethod", "Password", "UserName"]
    assert ("AuthMethod", "FormsAuthentication") in pairs and ("UserName", ANA) in pairs


def test_shibboleth_posts_csrf_and_event_on_every_step(cli: Cli) -> None:
    with shibboleth.ShibbolethEmulator(users(), version=5) as emulator:
        configure(cli, "Shibboleth", emulator.start_url)
        ran = cli.run("login", "-a", "forms")
        cli.secrets.update(emulator.issued)
    assert ran.returncode == 0, ran.stderr
    posts = emulator.posts
    assert len(posts) == 3  # client-storage read, login, client-storage write
    for _, pairs in posts:
        names = [name for name, _ in pairs]
        assert "csrf_token" in names and "_eventId_proceed" in names
    assert "donotcache" not in [name for name, _ in posts[1][1]]  # unchecked boxes stay out


# -- Command ---------------------------------------------------------------------------------
COMMAND_SCRIPT = """
import json, os, sys
from samljit.tools.sandbox.response import RoleGrant, build_response, encode, sign
mode = sys.argv[3]
seen = {k: os.environ.get(k) for k in
        ("SAMLJIT_IDP_ACCOUNT", "SAMLJIT_USERNAME", "SAMLJIT_MFA_TOKEN", "SAMLJIT_PASSWORD")}
print(json.dumps(seen), file=sys.stderr)
if mode == "fail":
    print("helper: the IdP said no", file=sys.stderr)
    sys.exit(7)
if mode == "junk":
    print("this is not a SAMLResponse")
    sys.exit(0)
root = build_response(issuer="command-test", name_id="ana", session_name="ana",
                      roles=[RoleGrant(sys.argv[4], sys.argv[5])])
value = encode(sign(root, open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()))
print(value if mode == "base64" else f'<form><input name="SAMLResponse" value="{value}"></form>')
"""


def command_config(cli: Cli, mode: str) -> None:
    script = cli.home / "saml-helper.py"
    script.write_text(COMMAND_SCRIPT)
    argv = [sys.executable, script, KEY_PATH, CERT_PATH, mode, RO_ARN, PROVIDER_ARN]
    command = " ".join(shlex.quote(str(a)) for a in argv)
    cli.write_config(
        f"[forms]\nprovider = Command\ncommand = {command}\nusername = {ANA}\nregion = us-east-2\n"
    )


@pytest.mark.parametrize("mode", ["base64", "html"])
def test_command_prints_the_saml_response(cli: Cli, mode: str) -> None:
    command_config(cli, mode)
    ran = cli.run("login", "-a", "forms", "--mfa-token", "424242")
    assert ran.returncode == 0, ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("forms")
    seen = json.loads(ran.stderr.splitlines()[0])
    assert seen == {
        "SAMLJIT_IDP_ACCOUNT": "forms",
        "SAMLJIT_USERNAME": ANA,
        "SAMLJIT_MFA_TOKEN": "424242",
        "SAMLJIT_PASSWORD": None,  # not passed on, and never asked for
    }


def test_command_failing_is_exit_3_and_its_words_reach_the_user(cli: Cli) -> None:
    command_config(cli, "fail")
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 3, ran.stderr
    assert "helper: the IdP said no" in ran.stderr
    assert "the command python" in ran.stderr and "exit status 7" in ran.stderr


def test_command_printing_something_else_is_exit_3(cli: Cli) -> None:
    command_config(cli, "junk")
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 3, ran.stderr
    assert "not a base64 SAMLResponse" in ran.stderr


def test_command_missing_is_a_configuration_error(cli: Cli) -> None:
    cli.write_config("[forms]\nprovider = Command\nurl = https://idp.example.org/sso\n")
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 2, ran.stderr
    assert "has no command" in ran.stderr
    cli.write_config("[forms]\nprovider = Command\ncommand = /nonexistent/saml-helper\n")
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 2 and "not found: /nonexistent/saml-helper" in ran.stderr


def test_configure_a_command_account(cli: Cli) -> None:
    """The Command provider needs a command, not a URL, and no username."""
    text = cli.configure(
        "scripted", "--provider", "command", "--command", "my-saml-helper --app aws"
    )
    assert "provider = Command" in text and "command = my-saml-helper --app aws" in text
    missing = cli.run("configure", "-a", "other", "--skip-prompt", "--provider", "Command")
    assert missing.returncode == 2
    assert "account 'other' needs a command" in missing.stderr


# -- an IdP that renders its errors with JavaScript -------------------------------------------
class ScriptedIdp(FormIdp):
    """A login form, then a one-time-code form; a wrong code is answered with ``refusal``, a
    page with no form whose error element a script would fill from a message code."""

    product = "Scripted"

    def __init__(self, users: list[FormUser], refusal: str) -> None:
        super().__init__(users)
        self.refusal = refusal

    @property
    def start_url(self) -> str:
        return f"{self.base_url}/login"

    def dispatch(self, request: Any) -> Any:
        if request.path == "/login" and request.method == "GET":
            return self.page(
                '<html><body><form method="post" action="/login">'
                '<input name="username"><input type="password" name="password">'
                "<button>Sign in</button></form></body></html>"
            )
        if request.path == "/login":
            if self.check(request.form.get("username", ""), request.form.get("password", "")):
                return self.page(
                    '<html><body><form method="post" action="/otp">'
                    '<input name="otp" autocomplete="one-time-code"><button>Go</button>'
                    "</form></body></html>"
                )
            return self.page("<html><body><p>Who are you?</p></body></html>", 401)
        user = self.find(BEN)
        if request.path == "/otp" and user is not None and user.code_ok(request.form["otp"]):
            return self.page(
                '<html><body><form method="post" action="https://signin.aws.amazon.com/saml">'
                f'<input type="hidden" name="SAMLResponse" value="{self.assertion(user)}">'
                "</form></body></html>"
            )
        return self.page(self.refusal)


SCRIPTED_REFUSALS = {
    # the error element is empty: its words come from message code 5 by JavaScript
    "message code": (
        '<html><body><div class="alert alert-error"><span trmsg="5"></span></div>'
        '<script>render(document.querySelectorAll("[trmsg]"))</script></body></html>',
        "IdP refused the one-time code: message code 5",
    ),
    "title": (
        '<html><body><div id="error" title="Invalid verification code"></div></body></html>',
        "IdP refused the one-time code: Invalid verification code",
    ),
    "JSON": (
        '<html><body><div id="app"></div><script type="application/json">'
        '{"state": {"errorCode": "E_OTP", "errorMessage": "The code has expired"}}'
        "</script></body></html>",
        "IdP refused the one-time code: The code has expired. message code E_OTP",
    ),
    "nothing readable": (
        '<html><body><div id="app"></div><script src="/app.js"></script></body></html>',
        "IdP refused the one-time code: it answered with a page without a form at ",
    ),
}


@pytest.mark.parametrize("kind", sorted(SCRIPTED_REFUSALS))
def test_refused_code_on_a_page_without_a_form_is_reported_as_such(cli: Cli, kind: str) -> None:
    """A page with no form right after the code was posted means the code was refused: exit 3,
    "use a fresh code", with whatever the markup carries, never "check url"."""
    refusal, expected = SCRIPTED_REFUSALS[kind]
    roles = [RoleGrant(RO_ARN, PROVIDER_ARN)]
    with ScriptedIdp(
        [FormUser(BEN, PASSWORD, roles=roles, totp_secret=TOTP_SECRET)], refusal
    ) as idp:
        configure(cli, "GenericForm", idp.start_url, BEN)
        wrong = "000000" if totp_now(TOTP_SECRET) != "000000" else "111111"
        ran = cli.run("login", "-a", "forms", "--mfa-token", wrong)
        right = cli.run("login", "-a", "forms", "--mfa-token", code(cli))
        cli.secrets.update(idp.issued)
    assert ran.returncode == 3, ran.stderr
    assert expected in ran.stderr
    assert "hint: use a fresh code from your authenticator" in ran.stderr
    assert "check url" not in ran.stderr
    assert right.returncode == 0, right.stderr  # the same IdP with a good code logs in


# -- F5 BIG-IP APM's MFA page: a method select (push by default) and a passcode input ---------
@pytest.fixture
def f5(cli: Cli) -> Iterator[f5apm.F5ApmEmulator]:
    with f5apm.F5ApmEmulator(users()) as emulator:
        yield emulator


def mfa_post(f5: f5apm.F5ApmEmulator) -> list[tuple[str, str]]:
    """The fields of the one post of F5's MFA page (the one with ``mfatoken``)."""
    [(_, pairs)] = [post for post in f5.posts if any(k == "mfatoken" for k, _ in post[1])]
    return pairs


def test_f5_mfa_page_takes_the_code_option_when_a_code_is_given(
    cli: Cli, f5: f5apm.F5ApmEmulator
) -> None:
    configure(cli, "GenericForm", f5.start_url, BEN)
    ran = cli.run("login", "-a", "forms", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("forms")
    assert f5.methods == ["otp"]  # the passcode option, not the page's default push
    assert ("mfamethod", "otp") in mfa_post(f5) and ("mfatoken", "***") in mfa_post(f5)


def test_f5_mfa_page_without_a_code_approves_the_push_the_page_defaults_to(
    cli: Cli, f5: f5apm.F5ApmEmulator
) -> None:
    configure(cli, "GenericForm", f5.start_url, BEN)
    ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 0, ran.stderr
    assert "approve the sign-in on your phone" in ran.stderr
    assert f5.methods == ["push"]
    assert ("mfatoken", "") in mfa_post(f5)  # no code typed into the push


def test_f5_push_denied_is_exit_3_with_f5s_words(cli: Cli) -> None:
    with f5apm.F5ApmEmulator(users(), push="deny") as emulator:
        configure(cli, "GenericForm", emulator.start_url, BEN)
        ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 3, ran.stderr
    assert f"IdP refused the push: {f5apm.PUSH_DENIED}" in ran.stderr
    assert emulator.methods == ["push"]  # one push, never re-sent
    assert not cli.credentials.exists()


def test_f5_wrong_passcode_is_exit_3_and_sent_once(cli: Cli, f5: f5apm.F5ApmEmulator) -> None:
    configure(cli, "GenericForm", f5.start_url, BEN)
    wrong = "000000" if totp_now(TOTP_SECRET) != "000000" else "111111"
    ran = cli.run("login", "-a", "forms", "--mfa-token", wrong)
    assert ran.returncode == 3, ran.stderr
    assert f"IdP refused the one-time code: {f5apm.WRONG_PASSCODE}" in ran.stderr
    assert f5.methods == ["otp"]


# -- PingID behind a form IdP ----------------------------------------------------------------
@pytest.fixture
def pingid(cli: Cli) -> Iterator[pingid_form.PingIdFormIdp]:
    with pingid_form.PingIdFormIdp(users()) as emulator:
        yield emulator


def test_pingid_push_with_number_matching_stops_with_the_browser_hint(
    cli: Cli, pingid: pingid_form.PingIdFormIdp
) -> None:
    """PingID's push page is not auto-posted: samljit's form login cannot answer a push (or
    pick a number), so it stops before the first status request (which sends the push) and
    names `samljit login --browser`."""
    configure(cli, "GenericForm", pingid.start_url, BEN)
    ran = cli.run("login", "-a", "forms", "--debug")
    assert ran.returncode == 3, ran.stderr
    errors = [line for line in ran.stderr.splitlines() if line.startswith("samljit: error: ")]
    assert len(errors) == 1, ran.stderr
    assert "PingID asks to approve a push on your phone, with a number to match" in errors[0]
    assert "samljit login --browser" in ran.stderr
    assert pingid.status_polls == 0  # no push was sent to the phone
    assert not cli.credentials.exists()


def test_pingid_push_without_number_matching_stops_too(cli: Cli) -> None:
    with pingid_form.PingIdFormIdp(users(), number=None) as emulator:
        configure(cli, "GenericForm", emulator.start_url, BEN)
        ran = cli.run("login", "-a", "forms")
    assert ran.returncode == 3, ran.stderr
    assert "PingID asks to approve a push on your phone" in ran.stderr
    assert "number" not in ran.stderr
    assert "samljit login --browser" in ran.stderr
    assert emulator.status_polls == 0


def test_pingid_push_page_with_a_code_switches_to_the_passcode(
    cli: Cli, pingid: pingid_form.PingIdFormIdp
) -> None:
    configure(cli, "GenericForm", pingid.start_url, BEN)
    ran = cli.run("login", "-a", "forms", "--mfa-token", code(cli), "--debug")
    assert ran.returncode == 0, ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("forms")
    assert pingid.status_polls == 0
    assert [path for path, _ in pingid.posts] == [
        "/login",
        "/pingid/ppm/auth",
        "/pingid/ppm/auth/usecode",
        "/pingid/ppm/auth/otp",
        "/resume",
    ]
    # PingID's pages on a host of their own, the IdP's resume on the IdP's (--debug's lines)
    assert pingid.pingid_url != pingid.base_url
    for url in ("/pingid/ppm/auth", "/pingid/ppm/auth/usecode", "/pingid/ppm/auth/otp"):
        assert f": POST {pingid.pingid_url}{url} " in ran.stderr
    assert f": POST {pingid.base_url}/resume " in ran.stderr
    for wrong in (f"{pingid.base_url}/pingid/ppm/auth", f"{pingid.pingid_url}/resume"):
        assert requests.post(wrong, timeout=5).status_code == 404, wrong
