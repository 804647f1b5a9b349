"""The AzureAD (Entra ID) provider in-process against the Entra ID emulator, with fake
services: the clock and the sleeper are fakes (push polling waits on nothing), the terminal
writes into a buffer. The end-to-end tests (tests/e2e/test_azuread.py) drive the same flows
through the installed CLI; these look closer: what was sent, what was shown, how long a
push waited."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from samljit.providers.azuread import DEFAULT_URL, AzureAdProvider
from samljit.providers.azuread.errors import _said
from samljit.providers.azuread.pages import MAX_PAGES, config_of, script_location

from samljit.common.errors import AuthenticationError, ConfigError, MissingInputError
from samljit.common.http import HttpClient
from samljit.common.terminal import Terminal
from samljit.config.accounts import Account
from samljit.idp.page import parse_page
from samljit.idp.provider import LoginSecrets, load_provider
from samljit.saml import assertion
from samljit.testing.conformance import ProviderConformance
from samljit.testing.fakes import fake_services
from samljit.tools.sandbox.response import RoleGrant
from tests.emulators import deep_json
from tests.emulators.azuread import (
    ADFS_HOST,
    REDACTED,
    AzureAdEmulator,
    Method,
    User,
    config_json,
)
from tests.emulators.common import totp_at

APP = "11111111-2222-4333-8444-555555555555"
OTHER_APP = "99999999-2222-4333-8444-555555555555"  # in the tenant, assigned to nobody
UNKNOWN_APP = "00000000-dead-beef-0000-000000000000"
PW = "Correct-Horse-42"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEV = RoleGrant("arn:aws:iam::111111111111:role/Dev", "arn:aws:iam::111111111111:saml-provider/Az")
APPS: dict[str, Any] = {APP: [DEV]}
NORTHWIND = "northwind.example"


def push(**kw: Any) -> Method:
    return Method("PhoneAppNotification", **kw)


def user(name: str, methods: list[Method] | None = None, **kw: Any) -> User:
    return User(f"{name}@{NORTHWIND}", PW, methods or [], kw.pop("apps", APPS), **kw)


INTERRUPTS = (
    "mfa_registration",
    "mfa_registration_interrupt",
    "password_expired",
    "ad_password_expired",
    "external_challenge",
    "device_compliance",
    "hybrid_join",
    "cmsi",
    "bsso",
)
USERS = [
    user("plain"),
    user("push", [push()]),
    user("deny", [push(push="deny", respond_after=1)]),
    user("noanswer", [push(push="timeout", respond_after=1)]),
    user("fraud", [push(push="fraud", respond_after=1)]),
    user("never", [push(push="never")]),
    user("otp", [Method("PhoneAppOTP", totp_secret=SECRET)]),
    user("sms", [Method("OneWaySMS")]),
    user(
        "multi",
        [push(), Method("PhoneAppOTP", totp_secret=SECRET), Method("OneWaySMS", default=True)],
    ),
    user("pushdefault", [Method("PhoneAppOTP", totp_secret=SECRET), push(default=True)]),
    user("voice", [Method("TwoWayVoiceMobile", default=True), push()]),
    user("passkey", [Method("FidoKey")]),
    user("cert", [Method("CertificateBasedAuthentication")]),
    user("nosms", [Method("OneWaySMS", begin_error="SMSAuthFailedProviderCouldntSendSMS")]),
    user("later", [Method("PhoneAppOTP", totp_secret=SECRET)], mfa_at="app"),
    user("locked", locked=True),
    user("disabled", disabled=True),
    user("unassigned", apps={}),
    user("skippable", interrupt="mfa_registration_skippable"),
    user("ca", [push()], interrupt="conditional_access"),
    user("unknownpage", interrupt="SomethingNewInterrupt"),
    *[user(name.replace("_", ""), interrupt=name) for name in INTERRUPTS],
    User("ops@fabrikam.example", "adfs-pw", apps=APPS),
]


@pytest.fixture(scope="module")
def emu() -> Iterator[AzureAdEmulator]:
    with AzureAdEmulator(
        USERS, apps=[OTHER_APP], federated_domains=["fabrikam.example"]
    ) as emulator:
        yield emulator


class Scripted(Terminal):
    """An interactive terminal whose answers are given in advance (a value, or a function
    called when the question is asked)."""

    def __init__(self, answers: list[str | Callable[[], str]], stream: io.StringIO) -> None:
        super().__init__(interactive=True, stream=stream, colour=False)
        self.answers = answers
        self.asked: list[str] = []

    def _prompt(self, message: str, **kwargs: Any) -> str:
        self.asked.append(message)
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer


class Run:
    """One login through the provider; ``shown`` is what the terminal showed."""

    def __init__(
        self,
        emu: AzureAdEmulator,
        tmp_path: Path,
        *,
        mfa: str = "Auto",
        app_id: str = APP,
        url: str | None = None,
        answers: list[str | Callable[[], str]] | None = None,
        http: HttpClient | None = None,
    ) -> None:
        stream = io.StringIO()
        overrides: dict[str, Any] = {}
        self.terminal: Scripted | None = None
        if answers is not None:
            self.terminal = Scripted(answers, stream)
            overrides["terminal"] = self.terminal
        self.services, self.clock, buffer = fake_services({"HOME": str(tmp_path)}, **overrides)
        self.buffer = stream if answers is not None else buffer
        account = Account(
            name="entra",
            provider="AzureAD",
            url=url if url is not None else emu.url,
            mfa=mfa,
            options={"app_id": app_id},
        )
        self.account = AzureAdProvider.check_account(account)
        self.http = http or HttpClient(env=self.services.env, sleep=self.services.sleep)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.first_log = len(emu.log)
        self.emu = emu

    def login(self, upn: str, password: str | None = PW, token: str | None = None) -> str:
        self.provider = AzureAdProvider(
            self.account,
            self.http,
            self.services,
            events=lambda name, **kw: self.events.append((name, kw)),
        )
        return self.provider.login(LoginSecrets(upn, password, token))

    @property
    def shown(self) -> str:
        return self.buffer.getvalue()

    def sent(self, path: str) -> list[dict[str, Any]]:
        """The bodies of this run's requests to ``path``."""
        return [r.body for r in self.emu.log[self.first_log :] if r.path.lower() == path.lower()]


def roles(encoded: str) -> list[str]:
    return [r.role_arn for r in assertion.parse(encoded).roles]


def fails(run: Run, upn: str, error: type[Exception] = AuthenticationError, **kw: Any) -> str:
    with pytest.raises(error) as caught:
        run.login(upn, **kw)
    return str(caught.value)


# -- the provider's declaration ------------------------------------------------------------
#: The conformance emulator's clock stands still, so the Authenticator code is known ahead.
KIT_NOW = 1_790_000_000.0


class TestConformance(ProviderConformance):
    provider = AzureAdProvider
    good = LoginSecrets(f"plain@{NORTHWIND}", PW)
    bad = LoginSecrets(f"plain@{NORTHWIND}", "wrong-password")
    mfa = LoginSecrets(f"otp@{NORTHWIND}", PW, mfa_token=totp_at(SECRET, KIT_NOW))

    @pytest.fixture
    def idp(self) -> Iterator[AzureAdEmulator]:
        with AzureAdEmulator(USERS, clock=lambda: KIT_NOW) as emulator:
            yield emulator

    def account(self, idp: AzureAdEmulator, tmp_path: Path) -> Account:
        return Account(name="entra", provider="AzureAD", url=idp.url, options={"app_id": APP})


def test_names_keys_and_defaults() -> None:
    assert load_provider("entraid") is load_provider("AzureAD") is AzureAdProvider
    assert AzureAdProvider.mfa_options == (
        "Auto",
        "PhoneAppNotification",
        "PhoneAppOTP",
        "OneWaySMS",
    )
    bare = Account(name="entra", provider="AzureAD", url="", options={"app_id": APP})
    assert AzureAdProvider.check_account(bare).url == DEFAULT_URL
    with pytest.raises(ConfigError, match=r"has no app_id"):
        AzureAdProvider.check_account(bare._replace(options={}))


@pytest.mark.parametrize("app_id", ["my-aws-app", f"{APP}0", f"{APP}&x=1", "\x1b[31m"])
def test_app_id_that_is_no_guid_is_refused(
    emu: AzureAdEmulator, tmp_path: Path, app_id: str
) -> None:
    run = Run(emu, tmp_path, app_id=app_id)
    message = fails(run, f"plain@{NORTHWIND}", ConfigError)
    assert "is not an application id (a GUID" in message
    assert "\n" not in message
    assert run.sent("/applications/redirecttofederatedapplication.aspx") == []


# -- reading the pages ---------------------------------------------------------------------
def test_config_is_read_as_one_json_value() -> None:
    cfg = config_json({"pgid": "ConvergedSignIn", "urlPost": "https://h/x?a=1&b=2", "n": [1]})
    text = (
        "<html><head><script>//<![CDATA[\n"
        f'$Config={cfg};var ServerData=$Config;if(x){{y={{"a":1}};}}\n'
        "//]]></script></head><body></body></html>"
    )
    found = config_of(parse_page(text, url="https://h/").root)
    assert found == {"pgid": "ConvergedSignIn", "urlPost": "https://h/x?a=1&b=2", "n": [1]}
    assert config_of(parse_page("<script>$Config={broken</script>", url="https://h/").root) is None
    assert config_of(parse_page("<p>no script</p>", url="https://h/").root) is None


def test_config_nested_too_deep_is_no_config() -> None:
    deep = deep_json(100_000).decode()
    page = parse_page(f"<script>$Config={deep};</script>", url="https://h/")
    assert config_of(page.root) is None


def test_script_location_decodes_js_escapes() -> None:
    page = parse_page(
        "<script>//<![CDATA[\nwindow.location = 'https://h/t/saml2?a=1\\u0026b=\\x272\\'';//]]>"
        "</script>",
        url="https://h/",
    )
    assert script_location(page.root) == "https://h/t/saml2?a=1&b='2'"
    assert script_location(parse_page("<script>var x = 1;</script>", url="https://h/").root) is None


def test_network_text_loses_control_characters() -> None:
    assert _said("AADSTS50126: bad\x1b[31m pass\r\nword\x07") == "AADSTS50126: bad [31m pass word"
    assert _said(None) == ""


# -- password, KMSI, the session -----------------------------------------------------------
def test_password_only_login(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    assert roles(run.login(f"plain@{NORTHWIND}")) == [DEV.role_arn]
    (lookup,) = run.sent("/common/GetCredentialType")
    assert lookup["username"] == f"plain@{NORTHWIND}"
    (password,) = run.sent("/common/login")
    assert (password["login"], password["passwd"], password["type"]) == (
        f"plain@{NORTHWIND}",
        REDACTED,
        "11",
    )
    (kmsi,) = run.sent("/kmsi")
    assert kmsi["LoginOptions"] == "1"  # stay signed in: the session outlives the run
    assert run.sent("/common/SAS/BeginAuth") == []
    assert emu.count("POST", "/applications/redirecttofederatedapplication.aspx") == 0
    assert PW not in run.shown


def test_tenant_without_kmsi_page(tmp_path: Path) -> None:
    with AzureAdEmulator([user("plain")], kmsi=False) as emu:
        run = Run(emu, tmp_path)
        assert roles(run.login(f"plain@{NORTHWIND}")) == [DEV.role_arn]
        assert run.sent("/kmsi") == []


def test_kept_session_needs_no_password(emu: AzureAdEmulator, tmp_path: Path) -> None:
    first = Run(emu, tmp_path)
    first.login(f"push@{NORTHWIND}")
    again = Run(emu, tmp_path, http=first.http)  # the same cookie jar: Entra's session
    assert roles(again.login(f"push@{NORTHWIND}", password=None)) == [DEV.role_arn]
    for path in ("/common/GetCredentialType", "/common/login", "/common/SAS/BeginAuth", "/kmsi"):
        assert again.sent(path) == [], path
    assert "Authenticator" not in again.shown


def test_ended_session_signs_in_again(tmp_path: Path) -> None:
    with AzureAdEmulator([user("plain")]) as emu:
        first = Run(emu, tmp_path)
        first.login(f"plain@{NORTHWIND}")
        emu.expire_sessions()
        without = Run(emu, tmp_path, http=first.http)
        message = fails(without, f"plain@{NORTHWIND}", ConfigError, password=None)
        assert message == "Entra ID asks for the password, but none was given"
        again = Run(emu, tmp_path, http=first.http)
        assert roles(again.login(f"plain@{NORTHWIND}")) == [DEV.role_arn]


# -- the push with number matching -------------------------------------------------------
def test_push_shows_the_number_and_polls_on_the_sleeper(
    emu: AzureAdEmulator, tmp_path: Path
) -> None:
    run = Run(emu, tmp_path)
    assert roles(run.login(f"push@{NORTHWIND}")) == [DEV.role_arn]
    number = emu.entropies[-1]
    lines = run.shown.splitlines()
    assert lines[0] == f"Open Authenticator and enter {number} to approve the sign-in."
    assert lines[1] == f"Waiting for approval in Authenticator (enter {number})… 60 s left"
    assert run.clock.sleeps == [1.0, 1.0]  # oPerAuthPollingInterval, twice (approved at poll 2)
    polls = run.sent("/common/SAS/EndAuth")
    assert [p["PollCount"] for p in polls] == [1, 2]
    assert "AdditionalAuthData" not in polls[0]
    (process,) = run.sent("/common/SAS/ProcessAuth")
    assert process["mfaAuthMethod"] == "PhoneAppNotification"
    assert run.events == [("mfa.challenged", {"factor": "PhoneAppNotification"})]


def test_number_is_shown_even_when_quiet(emu: AzureAdEmulator, tmp_path: Path) -> None:
    stream = io.StringIO()
    quiet = Terminal(interactive=False, stream=stream, quiet=True, colour=False)
    services, _, _ = fake_services({"HOME": str(tmp_path)}, terminal=quiet)
    account = Account(name="e", provider="AzureAD", url=emu.url, options={"app_id": APP})
    http = HttpClient(env=services.env, sleep=services.sleep)
    AzureAdProvider(account, http, services).login(LoginSecrets(f"push@{NORTHWIND}", PW))
    assert (
        stream.getvalue()
        == f"Open Authenticator and enter {emu.entropies[-1]} to approve the sign-in.\n"
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("deny", "the sign-in was denied in Authenticator (PhoneAppDenied: You've denied"),
        ("noanswer", "Authenticator got no answer in time (PhoneAppNoResponse: We didn't"),
        (
            "fraud",
            "the sign-in was reported as fraud in Authenticator (PhoneAppFraudReported: ",
        ),
    ],
)
def test_push_refused(emu: AzureAdEmulator, tmp_path: Path, name: str, words: str) -> None:
    run = Run(emu, tmp_path)
    message = fails(run, f"{name}@{NORTHWIND}")
    assert message.startswith(f"Entra ID: {words}")
    assert run.sent("/common/SAS/ProcessAuth") == []


def test_push_without_answer_gives_up_at_the_page_timeout(
    emu: AzureAdEmulator, tmp_path: Path
) -> None:
    run = Run(emu, tmp_path)
    message = fails(run, f"never@{NORTHWIND}")
    assert message == "Entra ID: no answer from Authenticator within 60 s"
    assert sum(run.clock.sleeps) == 60.0  # iPollingTimeout, on the fake clock
    assert len(run.sent("/common/SAS/EndAuth")) == 60


def test_push_polls_at_most_max_poll_attempts(tmp_path: Path) -> None:
    with AzureAdEmulator(
        [user("never", [push(push="never")])], max_poll_attempts=3, poll_interval=2.5
    ) as emu:
        run = Run(emu, tmp_path)
        assert "no answer from Authenticator" in fails(run, f"never@{NORTHWIND}")
        assert run.clock.sleeps == [2.5, 2.5, 2.5]


# -- codes ---------------------------------------------------------------------------------
def test_otp_given_up_front(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    code = totp_at(SECRET, emu.clock())
    assert roles(run.login(f"otp@{NORTHWIND}", token=code)) == [DEV.role_arn]
    (end,) = run.sent("/common/SAS/EndAuth")
    assert end["AdditionalAuthData"] == REDACTED
    assert run.sent("/common/SAS/ProcessAuth")[0]["mfaAuthMethod"] == "PhoneAppOTP"
    assert code not in run.shown


def test_wrong_otp_given_up_front_fails_at_once(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    message = fails(run, f"otp@{NORTHWIND}", token="000000")
    assert message.startswith("Entra ID: wrong Authenticator code (OathCodeIncorrect: ")
    assert len(run.sent("/common/SAS/EndAuth")) == 1


def test_wrong_otp_on_a_terminal_is_asked_again(emu: AzureAdEmulator, tmp_path: Path) -> None:
    # the next step's code: another test on this module's emulator spends the current one
    run = Run(emu, tmp_path, answers=["000000", lambda: totp_at(SECRET, emu.clock() + 30)])
    assert roles(run.login(f"otp@{NORTHWIND}")) == [DEV.role_arn]
    assert run.terminal is not None and run.terminal.asked == ["Authenticator code: "] * 2
    assert "samljit: warning: Entra ID: wrong Authenticator code (OathCodeIncorrect" in run.shown


def test_otp_max_attempts(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path, answers=["000000", "000001", "000002"])
    message = fails(run, f"otp@{NORTHWIND}")
    assert message.startswith(
        "Entra ID: too many wrong codes (OathCodeFailedMaxAllowedRetryReached: "
    )


def test_otp_without_code_or_terminal(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    message = fails(run, f"otp@{NORTHWIND}", MissingInputError)
    assert "one-time MFA code is needed" in message
    assert run.sent("/common/SAS/BeginAuth") == []


def test_sms_code_typed_after_the_text(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path, answers=[lambda: emu.sms_codes(f"sms@{NORTHWIND}")[-1]])
    assert roles(run.login(f"sms@{NORTHWIND}")) == [DEV.role_arn]
    assert "Entra ID sent a code to +X XXXXXXXX42." in run.shown
    assert run.terminal is not None and run.terminal.asked == ["Code from the text message: "]


def test_wrong_sms_code(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    message = fails(run, f"sms@{NORTHWIND}", token="abc")
    assert message.startswith(
        "Entra ID: wrong code from the text message (SMSAuthFailedWrongCodeEntered: "
    )


def test_sms_max_attempts(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path, answers=["1", "2", "3"])
    message = fails(run, f"sms@{NORTHWIND}")
    assert "too many wrong codes (SMSAuthFailedMaxAllowedCodeRetryReached" in message


def test_sms_that_cannot_be_sent(emu: AzureAdEmulator, tmp_path: Path) -> None:
    message = fails(Run(emu, tmp_path), f"nosms@{NORTHWIND}", token="123456")
    assert message.startswith("Entra ID: the text message could not be sent")


# -- choosing the method ---------------------------------------------------------------------
def test_auto_takes_the_users_default(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    run.login(f"pushdefault@{NORTHWIND}")
    assert run.sent("/common/SAS/BeginAuth")[0]["AuthMethodId"] == "PhoneAppNotification"
    sms = Run(emu, tmp_path, answers=[lambda: emu.sms_codes(f"multi@{NORTHWIND}")[-1]])
    sms.login(f"multi@{NORTHWIND}")
    assert sms.sent("/common/SAS/BeginAuth")[0]["AuthMethodId"] == "OneWaySMS"


def test_auto_with_a_code_takes_a_code_method(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    run.login(f"pushdefault@{NORTHWIND}", token=totp_at(SECRET, emu.clock()))
    assert run.sent("/common/SAS/BeginAuth")[0]["AuthMethodId"] == "PhoneAppOTP"
    assert "Authenticator and enter" not in run.shown


def test_auto_when_the_default_is_a_phone_call(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    run.login(f"voice@{NORTHWIND}")
    assert run.sent("/common/SAS/BeginAuth")[0]["AuthMethodId"] == "PhoneAppNotification"
    assert (
        "Your default second factor in Entra ID (TwoWayVoiceMobile) is not one samljit can use; "
        "using PhoneAppNotification (Authenticator)" in run.shown
    )


def test_named_method(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path, mfa="phoneappotp")
    run.login(f"multi@{NORTHWIND}", token=totp_at(SECRET, emu.clock()))
    assert run.sent("/common/SAS/BeginAuth")[0]["AuthMethodId"] == "PhoneAppOTP"
    message = fails(Run(emu, tmp_path, mfa="OneWaySMS"), f"push@{NORTHWIND}", ConfigError)
    assert message == (
        "mfa is set to 'OneWaySMS', but the IdP offers: PhoneAppNotification (Authenticator)"
    )


@pytest.mark.parametrize(("name", "method"), [("passkey", "FidoKey"), ("cert", "Certificate")])
def test_only_methods_a_terminal_cannot_use(
    emu: AzureAdEmulator, tmp_path: Path, name: str, method: str
) -> None:
    message = fails(Run(emu, tmp_path), f"{name}@{NORTHWIND}")
    assert message.startswith("Entra ID asks for a second factor samljit cannot use in a terminal")
    assert method in message
    assert message.endswith("finish it with `samljit login --browser`")


def test_second_factor_after_the_app_redirect(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    assert roles(run.login(f"later@{NORTHWIND}", token=totp_at(SECRET, emu.clock())))
    assert len(run.sent("/common/SAS/ProcessAuth")) == 1


# -- AADSTS codes and interrupts -------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "password", "expected"),
    [
        ("plain", "wrong", "Entra ID: wrong username or password (AADSTS50126: Your account or"),
        ("locked", PW, "Entra ID: the account is locked (AADSTS50053: Your account is locked"),
        ("disabled", PW, "Entra ID: the account is disabled (AADSTS50057: Your account has been"),
        ("unassigned", PW, "Entra ID: you are not assigned to the AWS app (AADSTS50105: "),
        ("ca", PW, "Entra ID: your organization's Conditional Access policy blocks this sign-in"),
    ],
)
def test_error_codes(
    emu: AzureAdEmulator, tmp_path: Path, name: str, password: str, expected: str
) -> None:
    message = fails(Run(emu, tmp_path), f"{name}@{NORTHWIND}", password=password)
    assert message.startswith(expected)
    assert "\n" not in message


def test_wrong_password_is_not_sent_twice(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    fails(run, f"plain@{NORTHWIND}", password="wrong")
    assert len(run.sent("/common/login")) == 1


def test_unknown_user(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    assert fails(run, f"nobody@{NORTHWIND}") == f"Entra ID has no user 'nobody@{NORTHWIND}'"
    assert run.sent("/common/login") == []


def test_unknown_app_id_is_a_config_error_with_the_idps_words(
    emu: AzureAdEmulator, tmp_path: Path
) -> None:
    message = fails(Run(emu, tmp_path, app_id=UNKNOWN_APP), f"plain@{NORTHWIND}", ConfigError)
    assert message.startswith(f"Entra ID does not know app_id {UNKNOWN_APP} (AADSTS700016: ")
    assert f"Application with identifier '{UNKNOWN_APP}' was not found" in message


def test_app_not_assigned_to_the_user(emu: AzureAdEmulator, tmp_path: Path) -> None:
    message = fails(Run(emu, tmp_path, app_id=OTHER_APP), f"plain@{NORTHWIND}")
    assert message.startswith("Entra ID: you are not assigned to the AWS app (AADSTS50105")


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("mfaregistration", "MFA registration (set up a second factor)"),
        ("mfaregistrationinterrupt", "MFA registration (set up a second factor)"),
        ("passwordexpired", "a new password (yours has expired)"),
        ("adpasswordexpired", "a new password (your Active Directory password has expired)"),
        ("externalchallenge", "an external security challenge (a third-party MFA)"),
        ("devicecompliance", "a compliant device (device compliance)"),
        ("hybridjoin", "a domain-joined device (hybrid join)"),
        ("cmsi", "confirming the sign-in on this device (CmsiInterrupt)"),
        ("bsso", "browser single sign-on with a device proof (BssoInterrupt)"),
    ],
)
def test_interrupts_name_the_browser_login(
    emu: AzureAdEmulator, tmp_path: Path, name: str, what: str
) -> None:
    message = fails(Run(emu, tmp_path), f"{name}@{NORTHWIND}")
    assert message.startswith(f"Entra ID asks for {what}, which samljit cannot do in a terminal")
    assert message.endswith(": finish it with `samljit login --browser`")


@pytest.mark.parametrize(
    ("pgid", "code", "error", "line"),
    [
        (
            "ConvergedError",
            "50074",
            AuthenticationError,
            "Entra ID: the second factor (MFA) is "
            "required but was not passed (AADSTS50074: Strong auth.)",
        ),
        (
            "ConvergedError",
            "50076",
            AuthenticationError,
            "Entra ID: the second factor (MFA) is required (AADSTS50076: Strong auth.)",
        ),
        (
            "ConvergedError",
            "500121",
            AuthenticationError,
            "Entra ID: the second factor failed "
            "(denied, not answered or a wrong code) (AADSTS500121: Strong auth.)",
        ),
        (
            "ConvergedError",
            "50058",
            AuthenticationError,
            "Entra ID: Entra ID says you are not signed in (AADSTS50058: Strong auth.)",
        ),
        (
            "ConvergedSignIn",
            "50058",
            AuthenticationError,
            "Entra ID showed the sign-in page again after the password (AADSTS50058: Strong auth.)",
        ),
        (
            "ConvergedError",
            "12345",
            AuthenticationError,
            "Entra ID refused the sign-in (AADSTS12345: Strong auth.)",
        ),
        ("ConvergedError", "", AuthenticationError, "Entra ID refused the sign-in (Strong auth.)"),
        (
            "ConvergedError",
            "700016",
            ConfigError,
            f"Entra ID does not know app_id {APP} (AADSTS700016: Strong auth.)",
        ),
    ],
)
def test_codes_on_a_page(pgid: str, code: str, error: type[Exception], line: str) -> None:
    from samljit.providers.azuread.errors import page_error
    from samljit.providers.azuread.pages import EstsPage

    cfg = {"pgid": pgid, "sErrorCode": code, "sErrTxt": "Strong\nauth.\x1b"}
    page = EstsPage(parse_page("<p></p>", url="https://h/"), cfg)
    with pytest.raises(error) as caught:
        raise page_error(page, APP, again=pgid == "ConvergedSignIn")
    assert str(caught.value) == line


def test_flow_token_expired(tmp_path: Path) -> None:
    with AzureAdEmulator([user("plain")], flow_token_lifetime=-1) as emu:
        message = fails(Run(emu, tmp_path), f"plain@{NORTHWIND}")
    assert message.startswith("Entra ID: the sign-in flow expired (AADSTS50089: ")


def test_unknown_page_is_reported_not_guessed(emu: AzureAdEmulator, tmp_path: Path) -> None:
    message = fails(Run(emu, tmp_path), f"unknownpage@{NORTHWIND}")
    assert message == (
        "Entra ID shows a page samljit does not know (pgid SomethingNewInterrupt): "
        "finish it with `samljit login --browser`"
    )


def test_skippable_mfa_registration_is_skipped(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    assert roles(run.login(f"skippable@{NORTHWIND}")) == [DEV.role_arn]
    assert "set up a second factor (MFA); skipped for now (14 days left to do it)" in run.shown


# -- federation --------------------------------------------------------------------------------
def test_federated_user_signs_in_at_adfs(emu: AzureAdEmulator, tmp_path: Path) -> None:
    run = Run(emu, tmp_path)
    assert roles(run.login("ops@fabrikam.example", password="adfs-pw")) == [DEV.role_arn]
    assert run.sent("/common/login") == []  # the password never went to Entra ID
    (adfs,) = [b for b in run.sent("/adfs/ls/") if b.get("Password")]
    assert (adfs["UserName"], adfs["AuthMethod"]) == ("ops@fabrikam.example", "FormsAuthentication")
    assert f"ops@fabrikam.example is federated: signing in at {ADFS_HOST} (AD FS)" in run.shown
    # the IdP session kept: the cookies of My Apps, the login host and AD FS, each its own
    assert run.provider.session_hosts() == ["localhost", "127.0.0.1", ADFS_HOST]


def test_federated_wrong_password_names_the_federated_idp(
    emu: AzureAdEmulator, tmp_path: Path
) -> None:
    message = fails(Run(emu, tmp_path), "ops@fabrikam.example", password="nope")
    assert message.startswith(f"federated ADFS {ADFS_HOST} refused the login: Incorrect user ID")


def test_federation_to_another_idp_is_not_followed(tmp_path: Path) -> None:
    with AzureAdEmulator(
        [User("ops@fabrikam.example", "x", apps=APPS)],
        federated_domains=["fabrikam.example"],
        federation_url="https://fabrikam.okta.example/app/office365/sso/wsfed/passive",
    ) as emu:
        run = Run(emu, tmp_path)
        message = fails(run, "ops@fabrikam.example")
        assert message == (
            "Entra ID sends ops@fabrikam.example to another IdP (fabrikam.okta.example), which "
            "is not AD FS; samljit follows federation to AD FS only: finish it with "
            "`samljit login --browser`"
        )


# -- transport -------------------------------------------------------------------------------
def test_wrong_url_is_a_config_error(emu: AzureAdEmulator, tmp_path: Path) -> None:
    message = fails(Run(emu, tmp_path, url=f"{emu.url}/nothing"), f"plain@{NORTHWIND}", ConfigError)
    assert "answered HTTP 404" in message


def test_service_trouble_is_a_network_error(emu: AzureAdEmulator, tmp_path: Path) -> None:
    from samljit.common.errors import IdpServiceError

    emu.fail_next("/common/GetCredentialType", 503, count=4)
    message = fails(Run(emu, tmp_path), f"plain@{NORTHWIND}", IdpServiceError)
    assert message.startswith("Entra ID user lookup: 127.0.0.1")
    assert "HTTP 503" in message


# -- where the pages may send the client -----------------------------------------------------
def test_a_plain_http_address_that_is_not_loopback_is_refused(
    emu: AzureAdEmulator, tmp_path: Path
) -> None:
    """A sign-in page whose form posts to plain http elsewhere: the password is not sent
    (redirects are the HTTP client's to refuse; this is the page's own target)."""
    run = Run(emu, tmp_path)
    cfg = {"pgid": "ConvergedSignIn", "urlPost": "http://login.attacker.example/common/login"}
    page = f"<html><body><script>$Config={config_json(cfg)};</script></body></html>"
    emu.fail_next("/", 200, body=page)
    said = fails(run, f"plain@{NORTHWIND}")
    assert said == (
        "Entra ID password: refusing to go to http://login.attacker.example/common/login "
        "(not https, not loopback)"
    )
    assert run.sent("/common/login") == []


def test_pages_that_never_end_are_given_up_after_the_bound(
    emu: AzureAdEmulator, tmp_path: Path
) -> None:
    run = Run(emu, tmp_path)
    # exactly the bound: every request is a redirect, none is left for the next test
    emu.fail_next("/", 302, count=MAX_PAGES, headers={"Location": f"{emu.url}/again"})
    said = fails(run, f"plain@{NORTHWIND}")
    assert f"gave up after {MAX_PAGES} pages without reaching the SAMLResponse" in said
    assert len(emu.log) - run.first_log == MAX_PAGES
