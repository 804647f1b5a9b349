"""AzureAD (Entra ID) through the installed executable, against the Entra ID emulator and
moto's STS: configure with --app-id, then login for every flow of
shared/protocols/azuread.md: each second factor and outcome, KMSI, each AADSTS code, each
interrupt (which names `samljit login --browser`), federation to AD FS, an unknown app_id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from samljit.tools.sandbox.response import RoleGrant
from tests.emulators import deep_json
from tests.emulators.azuread import (
    ADFS_COOKIE,
    ADFS_HOST,
    ESTSAUTH,
    AzureAdEmulator,
    Method,
    User,
)
from tests.support.accounts import (
    ACCOUNT_ID,
    FULL_ARN,
    PASSWORD,
    PROVIDER_ARN,
    READONLY_IN_US_EAST_2,
    RO_ARN,
    fresh_code,
)
from tests.support.cli import Cli, finish, finish_sdk, kept_cookies

APP = "8d2c7a1e-3f4b-4c5d-9e6f-0a1b2c3d4e5f"
OTHER_APP = "5b7e9c1d-2a3f-4e6b-8c0d-1e2f3a4b5c6d"  # in the tenant, assigned to nobody
UNKNOWN_APP = "00000000-dead-beef-0000-000000000000"
SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"
DOMAIN = "northwind.example"
APPS: dict[str, Any] = {
    APP: [RoleGrant(RO_ARN, PROVIDER_ARN), RoleGrant(FULL_ARN, PROVIDER_ARN)],
}
WRONG_CODE = "12345"  # five digits: never a code Entra ID would take
INTERRUPTS = {
    "mfa_registration": "MFA registration",
    "mfa_registration_interrupt": "MFA registration",
    "password_expired": "a new password (yours has expired)",
    "ad_password_expired": "a new password (your Active Directory password has expired)",
    "external_challenge": "an external security challenge",
    "device_compliance": "a compliant device",
    "hybrid_join": "a domain-joined device",
    "cmsi": "confirming the sign-in on this device",
    "bsso": "browser single sign-on",
    "SomethingNewInterrupt": "",
}


def push(**kw: Any) -> Method:
    return Method("PhoneAppNotification", **kw)


def user(name: str, methods: list[Method] | None = None, **kw: Any) -> User:
    return User(f"{name}@{DOMAIN}", PASSWORD, methods or [], kw.pop("apps", APPS), **kw)


def users() -> list[User]:
    return [
        user("plain"),
        user("push", [push()]),
        user("deny", [push(push="deny", respond_after=1)]),
        user("noanswer", [push(push="timeout", respond_after=1)]),
        user("fraud", [push(push="fraud", respond_after=1)]),
        user("otp", [Method("PhoneAppOTP", totp_secret=SECRET)]),
        user("sms", [Method("OneWaySMS")]),
        user("auto", [Method("PhoneAppOTP", totp_secret=SECRET), push(default=True)]),
        user("passkey", [Method("FidoKey")]),
        user("cert", [Method("CertificateBasedAuthentication")]),
        user("locked", locked=True),
        user("disabled", disabled=True),
        user("unassigned", apps={}),
        user("ca", [push(respond_after=1)], interrupt="conditional_access"),
        user("skippable", interrupt="mfa_registration_skippable"),
        *[user(name.lower(), interrupt=name) for name in INTERRUPTS],
        User("ops@fabrikam.example", PASSWORD, apps=APPS),
    ]


@pytest.fixture
def entra() -> Iterator[AzureAdEmulator]:
    """A fresh tenant for each test: no session, flow or forced failure carries over."""
    with AzureAdEmulator(
        users(),
        apps=[OTHER_APP],
        federated_domains=["fabrikam.example"],
        poll_interval=0.05,  # the CLI waits for real: keep the push polls short
    ) as emulator:
        yield emulator


def configure(
    cli: Cli, entra: AzureAdEmulator, name: str, mfa: str = "Auto", app_id: str = APP
) -> None:
    cli.write_config(
        "[entra]\nprovider = AzureAD\n"
        f"url = {entra.url}\napp_id = {app_id}\nusername = {name}@{DOMAIN}\nmfa = {mfa}\n"
        f"role_arn = {RO_ARN}\nregion = us-east-2\n"
    )


def code(cli: Cli) -> str:
    return fresh_code(cli, SECRET)


# -- configure, login, the push --------------------------------------------------------------
def test_configure_then_login_with_number_matching(cli: Cli, entra: AzureAdEmulator) -> None:
    text = cli.configure(
        "entra",
        "--provider",
        "EntraID",
        "--url",
        entra.url,
        "--app-id",
        APP,
        "--username",
        f"push@{DOMAIN}",
        "--mfa",
        "phoneappnotification",
        *READONLY_IN_US_EAST_2,
    )
    assert "provider = AzureAD" in text
    assert f"app_id = {APP}" in text
    assert "mfa = PhoneAppNotification" in text

    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 0, ran.stderr
    number = entra.entropies[-1]
    assert f"Open Authenticator and enter {number} to approve the sign-in." in ran.stderr
    assert re.search(
        rf"Waiting for approval in Authenticator \(enter {number}\)… \d+ s left", ran.stderr
    )
    assert f"Logged in: AcmeJumpCloudAdminRO in {ACCOUNT_ID}" in ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("entra")


def test_provider_default_url(cli: Cli, entra: AzureAdEmulator) -> None:
    text = cli.configure(
        "entra", "--provider", "AzureAD", "--app-id", APP, "--username", f"plain@{DOMAIN}"
    )
    assert "url =" not in text  # the provider's default applies
    missing = cli.run("configure", "-a", "x", "--skip-prompt", "--provider", "AzureAD")
    assert missing.returncode == 2
    assert "app_id" in missing.stderr


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("deny", "the sign-in was denied in Authenticator (PhoneAppDenied:"),
        ("noanswer", "Authenticator got no answer in time (PhoneAppNoResponse:"),
        ("fraud", "the sign-in was reported as fraud in Authenticator (PhoneAppFraudReported:"),
    ],
)
def test_push_refused(cli: Cli, entra: AzureAdEmulator, name: str, words: str) -> None:
    configure(cli, entra, name)
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 3
    assert f"samljit: error: Entra ID: {words}" in ran.stderr
    assert "Open Authenticator and enter" in ran.stderr
    assert not cli.credentials.exists()


# -- codes -----------------------------------------------------------------------------------
def test_authenticator_code(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "otp", mfa="PhoneAppOTP")
    ran = cli.run("login", "-a", "entra", "--mfa-token", code(cli))
    assert ran.returncode == 0, ran.stderr
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("entra")


def test_wrong_authenticator_code(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "otp")
    ran = cli.run("login", "-a", "entra", "--mfa-token", WRONG_CODE)
    assert ran.returncode == 3
    assert "samljit: error: Entra ID: wrong Authenticator code (OathCodeIncorrect:" in ran.stderr


def test_authenticator_code_max_attempts_on_a_terminal(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "otp")
    child = cli.spawn("login", "-a", "entra")
    for _ in range(3):
        child.expect("Authenticator code:")
        child.sendline(WRONG_CODE)
    text = finish(child)  # holds what was typed: each test checks its own secrets
    assert child.exitstatus == 3, text
    assert PASSWORD not in text
    assert text.count("wrong Authenticator code (OathCodeIncorrect") == 2
    assert text.count("; try again") == 2
    assert "Entra ID: too many wrong codes (OathCodeFailedMaxAllowedRetryReached:" in text


def test_text_message_code_on_a_terminal(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "sms", mfa="OneWaySMS")
    child = cli.spawn("login", "-a", "entra")
    child.expect("Code from the text message:")
    sent = entra.sms_codes(f"sms@{DOMAIN}")[-1]
    child.sendline(sent)
    text = finish(child)  # holds what was typed: each test checks its own secrets
    after = text.rsplit("Code from the text message:", 1)[1].split("\n", 1)[1]
    assert sent not in after  # only the echo of the typing shows it
    assert child.exitstatus == 0, text
    assert "Entra ID sent a code to +X XXXXXXXX42." in text
    assert "/AcmeJumpCloudAdminRO/" in cli.principal("entra")


def test_wrong_text_message_code(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "sms")
    ran = cli.run("login", "-a", "entra", "--mfa-token", WRONG_CODE)
    assert ran.returncode == 3
    assert "Entra ID: wrong code from the text message (SMSAuthFailedWrongCodeEntered:" in (
        ran.stderr
    )


def test_auto_takes_the_default_push_or_with_a_code_the_code(
    cli: Cli, entra: AzureAdEmulator
) -> None:
    configure(cli, entra, "auto")
    pushed = cli.run("login", "-a", "entra")
    assert pushed.returncode == 0, pushed.stderr
    assert "Open Authenticator and enter" in pushed.stderr
    coded = cli.run("login", "-a", "entra", "--force", "--mfa-token", code(cli))
    assert coded.returncode == 0, coded.stderr
    assert "Open Authenticator" not in coded.stderr


def test_mfa_not_offered_lists_what_is(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "push", mfa="OneWaySMS")
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 2
    assert "mfa is set to 'OneWaySMS', but the IdP offers: PhoneAppNotification" in ran.stderr


@pytest.mark.parametrize(("name", "method"), [("passkey", "FidoKey"), ("cert", "Certificate")])
def test_second_factor_a_terminal_cannot_do(
    cli: Cli, entra: AzureAdEmulator, name: str, method: str
) -> None:
    configure(cli, entra, name)
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 3
    (line,) = [x for x in ran.stderr.splitlines() if x.startswith("samljit: error:")]
    assert method in line
    assert line.endswith("finish it with `samljit login --browser`")


# -- KMSI ----------------------------------------------------------------------------------
def test_stay_signed_in_is_accepted(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "plain")
    before = len(entra.log)
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 0, ran.stderr
    kmsi = [r.body for r in entra.log[before:] if r.path == "/kmsi"]
    assert [k["LoginOptions"] for k in kmsi] == ["1"]


def test_tenant_without_the_kmsi_page(cli: Cli) -> None:
    with AzureAdEmulator([user("plain")], kmsi=False) as emu:
        configure(cli, emu, "plain")
        ran = cli.run("login", "-a", "entra")
        cli.secrets.update(emu.issued)
    assert ran.returncode == 0, ran.stderr
    assert emu.count("POST", "/kmsi") == 0


# -- AADSTS codes ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "password", "line"),
    [
        ("plain", "not-the-password-1", "Entra ID: wrong username or password (AADSTS50126: "),
        ("nobody", PASSWORD, f"Entra ID has no user 'nobody@{DOMAIN}'"),
        ("locked", PASSWORD, "Entra ID: the account is locked (AADSTS50053: "),
        ("disabled", PASSWORD, "Entra ID: the account is disabled (AADSTS50057: "),
        ("unassigned", PASSWORD, "Entra ID: you are not assigned to the AWS app (AADSTS50105: "),
        (
            "ca",
            PASSWORD,
            "Entra ID: your organization's Conditional Access policy blocks this sign-in "
            "(AADSTS53003: ",
        ),
    ],
)
def test_error_codes_are_exit_3(
    cli: Cli, entra: AzureAdEmulator, name: str, password: str, line: str
) -> None:
    configure(cli, entra, name)
    ran = cli.run("login", "-a", "entra", env={"SAMLJIT_PASSWORD": password})
    assert ran.returncode == 3, ran.stderr
    assert f"samljit: error: {line}" in ran.stderr
    assert not cli.credentials.exists()


def test_conditional_access_hint_names_the_browser_login(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "ca")
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 3
    assert "samljit login --browser" in ran.stderr


def test_unknown_app_id_is_exit_2_with_the_idps_words(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "plain", app_id=UNKNOWN_APP)
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 2
    assert (
        f"samljit: error: Entra ID does not know app_id {UNKNOWN_APP} (AADSTS700016: "
        f"Application with identifier '{UNKNOWN_APP}' was not found in the directory"
    ) in ran.stderr
    assert "hint: check app_id" in ran.stderr


def test_app_id_that_is_no_guid_is_exit_2(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "plain", app_id="aws-console")
    before = len(entra.log)
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 2
    assert "app_id 'aws-console' of account 'entra' is not an application id" in ran.stderr
    assert len(entra.log) == before  # refused before asking anyone


def test_flow_token_expired(cli: Cli) -> None:
    with AzureAdEmulator([user("plain")], flow_token_lifetime=-1) as emu:
        configure(cli, emu, "plain")
        ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 3
    assert "Entra ID: the sign-in flow expired (AADSTS50089: " in ran.stderr


# -- interrupts ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(INTERRUPTS))
def test_interrupts_end_with_the_browser_line(cli: Cli, entra: AzureAdEmulator, name: str) -> None:
    configure(cli, entra, name.lower())
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 3
    (line,) = [x for x in ran.stderr.splitlines() if x.startswith("samljit: error:")]
    assert line.endswith(": finish it with `samljit login --browser`")
    assert INTERRUPTS[name] in line
    if name == "SomethingNewInterrupt":
        assert "a page samljit does not know (pgid SomethingNewInterrupt)" in line


def test_skippable_mfa_registration(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "skippable")
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 0, ran.stderr
    assert "skipped for now (14 days left to do it)" in ran.stderr


# -- federation ----------------------------------------------------------------------------
def test_federated_user_signs_in_at_adfs(cli: Cli, entra: AzureAdEmulator) -> None:
    cli.write_config(
        f"[entra]\nprovider = AzureAD\nurl = {entra.url}\napp_id = {APP}\n"
        f"username = ops@fabrikam.example\nrole_arn = {RO_ARN}\nregion = us-east-2\n"
    )
    before = len(entra.log)
    ran = cli.run("login", "-a", "entra")
    assert ran.returncode == 0, ran.stderr
    assert f"ops@fabrikam.example is federated: signing in at {ADFS_HOST} (AD FS)" in ran.stderr
    paths = [r.path for r in entra.log[before:]]
    assert "/adfs/ls/" in paths and "/login.srf" in paths
    assert "/common/login" not in paths

    assert cli.run("logout", "-a", "entra").returncode == 0  # forgets the kept session too
    wrong = cli.run("login", "-a", "entra", "--force", env={"SAMLJIT_PASSWORD": "nope-nope-1"})
    assert wrong.returncode == 3
    assert f"samljit: error: federated ADFS {ADFS_HOST} refused the login: Incorrect user ID" in (
        wrong.stderr
    )


def test_the_adfs_session_is_kept_on_its_own_host(cli: Cli, entra: AzureAdEmulator) -> None:
    """A federated sign-in visits three hosts (My Apps, the login host, AD FS): the kept
    session holds each one's cookies host-only, as each host set them, AD FS's ``MSISAuth``
    under ``/adfs``. Once Entra ID ended its sessions, the next login rides AD FS's: the
    form is not shown again and no password is asked for."""
    cli.write_config(
        f"[entra]\nprovider = AzureAD\nurl = {entra.url}\napp_id = {APP}\n"
        f"username = ops@fabrikam.example\nrole_arn = {RO_ARN}\nregion = us-east-2\n"
    )
    first = cli.run("login", "-a", "entra")
    assert first.returncode == 0, first.stderr
    kept = {cookie["name"]: cookie for cookie in kept_cookies(cli.home)}
    hosts = {urlsplit(u).hostname for u in (entra.url, entra.base_url, entra.adfs_url)}
    assert len(hosts) == 3
    adfs = kept[ADFS_COOKIE]
    assert (adfs["domain"], adfs["path"], adfs["host_only"]) == (ADFS_HOST, "/adfs", True)
    assert (kept[ESTSAUTH]["domain"], kept[ESTSAUTH]["host_only"]) == ("127.0.0.1", True)
    assert all(c["host_only"] for c in kept.values())
    assert {c["domain"].removesuffix(".local") for c in kept.values()} == hosts

    entra.expire_sessions()  # Entra ID's and My Apps' sessions end; AD FS's holds
    posted = entra.count("POST", "/adfs/ls/")
    again = cli.run("login", "-a", "entra", "--force", env={"SAMLJIT_PASSWORD": ""})
    assert again.returncode == 0, again.stderr
    assert entra.count("POST", "/adfs/ls/") == posted  # AD FS's form was not posted again
    assert entra.count("GET", "/adfs/ls/") == 2  # but AD FS was asked, with its cookie


# -- the kept Entra ID session ----------------------------------------------------------------
def test_debug_never_shows_the_entra_session_cookies(cli: Cli, entra: AzureAdEmulator) -> None:
    """``--debug`` on a full login and on one riding the kept ESTSAUTH cookies: neither shows
    a cookie value (the leak check, cli's teardown, also looks for the flow tokens, ctx,
    canaries and codes the emulator handed out)."""
    configure(cli, entra, "push")
    first = cli.run("--debug", "login", "-a", "entra", "--skip-prompt")
    assert first.returncode == 0, first.stderr
    posted = entra.count("POST", "/common/login")
    again = cli.run(
        "--debug", "login", "-a", "entra", "--skip-prompt", "--force", env={"SAMLJIT_PASSWORD": ""}
    )
    assert again.returncode == 0, again.stderr
    assert entra.count("POST", "/common/login") == posted, "the kept session was not used"
    names = {name for name, _ in entra.cookies_set}
    assert {"ESTSAUTH", "ESTSAUTHPERSISTENT", ".AspNet.Cookies"} <= names  # and My Apps'
    for output in (first.stderr, again.stderr):
        assert "samljit: debug:" in output
        assert not [value for _, value in entra.cookies_set if value in output]


def test_kmsi_cookies_are_kept_and_a_second_login_asks_for_nothing(cli: Cli) -> None:
    """After a push login with "stay signed in", `login --force` with no password and no
    terminal sends no password and no MFA; after Entra ends its sessions, the normal login
    runs again with no error."""
    with AzureAdEmulator(users(), apps=[OTHER_APP], poll_interval=0.05) as emu:
        configure(cli, emu, "push")
        first = cli.run("login", "-a", "entra", "--skip-prompt")
        assert first.returncode == 0, first.stderr
        posted = emu.count("POST", "/common/login")
        assert posted >= 1
        again = cli.run(
            "login", "-a", "entra", "--skip-prompt", "--force", env={"SAMLJIT_PASSWORD": ""}
        )
        assert again.returncode == 0, again.stderr
        assert emu.count("POST", "/common/login") == posted, "a password was posted again"
        assert "Open Authenticator" not in again.stderr
        assert "IdP session held" in cli.run("status", "-a", "entra").stdout
        emu.expire_sessions()
        fallback = cli.run("login", "-a", "entra", "--skip-prompt", "--force")
        assert fallback.returncode == 0, fallback.stderr
        assert emu.count("POST", "/common/login") > posted


def test_json_nested_too_deep_is_a_bad_answer(cli: Cli, entra: AzureAdEmulator) -> None:
    configure(cli, entra, "plain")
    entra.fail_next("/common/GetCredentialType", 200, body=deep_json())
    ran = cli.run("login", "-a", "entra", "--skip-prompt")
    assert ran.returncode == 3, ran.stderr
    assert (
        "samljit: error: Entra ID user lookup: Entra ID answered HTTP 200 with something that "
        "is not a JSON object"
    ) in ran.stderr
    assert "Traceback" not in ran.stderr and "bug in samljit" not in ran.stderr


# -- credential-process: the number to match goes to the controlling terminal ---------------
def test_credential_process_shows_the_number_to_match_on_the_terminal(
    cli: Cli, entra: AzureAdEmulator
) -> None:
    configure(cli, entra, "push")
    child, out, err = cli.spawn_sdk("credential-process", "-a", "entra")
    child.expect("Open Authenticator and enter (\\d+) to approve the sign-in\\.")
    assert child.match.group(1) == str(entra.entropies[-1])
    finish_sdk(cli, child, out, err)
