"""The form engine on its own: page reading, the recorded IdP page structures, resilience
(two password forms, no action, relative/absolute actions, broken markup, redirect loops,
500 pages, other languages), and hypothesis properties (any HTML → a result or a samljit
error, never another exception)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from samljit.providers.adfs import ADFS
from samljit.providers.keycloak import KEYCLOAK
from samljit.providers.shibboleth import SHIBBOLETH
from samljit.providers.simplesamlphp import SIMPLESAMLPHP

from samljit.common.errors import (
    AssertionFormatError,
    AuthenticationError,
    ConfigError,
    IdpServiceError,
    MissingInputError,
    SamljitError,
)
from samljit.common.http import HttpClient
from samljit.common.redact import Redactor
from samljit.common.terminal import Terminal
from samljit.idp.forms import GENERIC, Flavor, FormLogin, method_choice
from samljit.idp.page import parse_page, resolve
from samljit.idp.provider import LoginSecrets
from tests.emulators.formidp import FORMS, render

IDP = "https://idp.example.org"
SAML = "PHNhbWxwOlJlc3BvbnNlLz4="
PASSWORD = "pw-Secret-4242"
FINAL = f'<html><body><form><input type="hidden" name="SAMLResponse" value="{SAML}"></form>'

Answer = tuple[int, str] | tuple[int, str, Mapping[str, str]]
Route = Answer | Callable[["Sent"], Answer]


@dataclass
class Sent:
    method: str
    url: str
    body: list[tuple[str, str]]

    def names(self) -> list[str]:
        return [name for name, _ in self.body]

    def value(self, name: str) -> str | None:
        return next((v for k, v in self.body if k == name), None)


@dataclass
class FakeHttp(HttpClient):
    """An HttpClient answering from a routing table (``(METHOD, URL)`` or ``URL``)."""

    routes: dict[Any, Route] = field(default_factory=dict)
    fallback: Route | None = None
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(retries=0)

    def request(self, method: str, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        data = kwargs.get("data") or ""
        sent = Sent(method, url, parse_qsl(data, keep_blank_values=True))
        self.sent.append(sent)
        route = self.routes.get((method, url), self.routes.get(url, self.fallback))
        if route is None:
            answer: Answer = (404, "<html><body>Not Found</body></html>")
        else:
            answer = route(sent) if callable(route) else route
        response = requests.Response()
        response.status_code = answer[0]
        response._content = answer[1].encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "text/html; charset=utf-8"})
        if len(answer) == 3:
            response.headers.update(answer[2])
        response.url = url
        return response

    @property
    def posts(self) -> list[Sent]:
        return [s for s in self.sent if s.method == "POST"]


def walk(
    http: FakeHttp,
    start: str = f"{IDP}/start",
    *,
    flavor: Flavor = GENERIC,
    mfa_token: str | None = None,
    password: str | None = PASSWORD,
) -> str:
    terminal = Terminal(interactive=False, stream=io.StringIO())
    secrets = LoginSecrets("ana", password, mfa_token)
    return FormLogin(flavor, http, terminal, Redactor(), secrets).run(start)


def login_page(action: str = "/login", error: str = "", extra: str = "") -> str:
    return (
        "<html><body>"
        f'<div class="alert alert-error">{error}</div>'
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="state" value="s1">'
        '<input type="text" name="username"><input type="password" name="password">'
        f'<input type="submit" value="Sign in">{extra}</form></body></html>'
    )


# -- the usual path ------------------------------------------------------------------------
def test_login_fills_username_password_and_keeps_hidden_fields() -> None:
    http = FakeHttp({f"{IDP}/start": (200, login_page()), ("POST", f"{IDP}/login"): (200, FINAL)})
    assert walk(http) == SAML
    [post] = http.posts
    assert post.body == [("state", "s1"), ("username", "ana"), ("password", PASSWORD)]


def test_redirects_and_saml_request_hops_are_followed() -> None:
    hop = (
        '<html><body onload="document.forms[0].submit()"><form method="post" '
        'action="https://idp.example.org/sso"><input type="hidden" name="SAMLRequest" '
        'value="req"><input type="hidden" name="RelayState" value="rs"><noscript>'
        '<input type="submit" value="Continue"></noscript></form></body></html>'
    )
    http = FakeHttp(
        {
            f"{IDP}/start": (302, "", {"Location": "/hop"}),
            f"{IDP}/hop": (200, hop),
            ("POST", f"{IDP}/sso"): (303, "", {"Location": "https://idp.example.org/form"}),
            f"{IDP}/form": (200, login_page()),
            ("POST", f"{IDP}/login"): (200, FINAL),
        }
    )
    assert walk(http) == SAML
    assert [s.method for s in http.sent] == ["GET", "GET", "POST", "GET", "POST"]
    assert http.sent[2].body == [("SAMLRequest", "req"), ("RelayState", "rs")]


def test_a_307_redirect_keeps_method_and_body() -> None:
    http = FakeHttp(
        {
            f"{IDP}/start": (200, login_page()),
            ("POST", f"{IDP}/login"): (307, "", {"Location": "/login2"}),
            ("POST", f"{IDP}/login2"): (200, FINAL),
        }
    )
    assert walk(http) == SAML
    assert http.posts[1].value("password") == PASSWORD


def test_login_page_coming_back_is_exit_3_with_its_words_and_one_post() -> None:
    http = FakeHttp(
        {
            f"{IDP}/start": (200, login_page()),
            ("POST", f"{IDP}/login"): (200, login_page(error="Wrong password, try again.")),
        }
    )
    with pytest.raises(AuthenticationError, match="refused the login: Wrong password, try again"):
        walk(http)
    assert len(http.posts) == 1


def test_login_page_coming_back_without_error_text_still_stops() -> None:
    http = FakeHttp({f"{IDP}/start": (200, login_page()), f"{IDP}/login": (200, login_page())})
    with pytest.raises(AuthenticationError, match=r"came back at https://idp\.example\.org/login"):
        walk(http)
    assert len(http.posts) == 1


def test_one_time_code_form_uses_the_given_code() -> None:
    otp = (
        '<form method="post" action="/otp"><input type="hidden" name="ctx" value="c">'
        '<input name="code" autocomplete="one-time-code"></form>'
    )
    http = FakeHttp(
        {
            f"{IDP}/start": (200, login_page()),
            ("POST", f"{IDP}/login"): (200, otp),
            ("POST", f"{IDP}/otp"): (200, FINAL),
        }
    )
    assert walk(http, mfa_token="123456") == SAML
    assert http.posts[1].body == [("ctx", "c"), ("code", "123456")]


def test_one_time_code_needed_without_a_terminal_fails_at_once() -> None:
    otp = '<form method="post" action="/otp"><input type="text" name="otp"></form>'
    http = FakeHttp({f"{IDP}/start": (200, login_page()), f"{IDP}/login": (200, otp)})
    with pytest.raises(MissingInputError, match="one-time MFA code"):
        walk(http)
    assert len(http.posts) == 1


def test_wrong_code_coming_back_is_exit_3() -> None:
    otp = '<p role="alert">Code rejected</p><form method="post"><input name="otp"></form>'
    http = FakeHttp({f"{IDP}/start": (200, otp)})
    with pytest.raises(AuthenticationError, match="refused the one-time code: Code rejected"):
        walk(http, mfa_token="123456")


def test_username_first_then_password_page() -> None:
    first = '<form method="post" action="/u"><input name="username" autocomplete="username">'
    second = '<form method="post" action="/p"><input type="password" name="password"></form>'
    http = FakeHttp(
        {f"{IDP}/start": (200, first), f"{IDP}/u": (200, second), f"{IDP}/p": (200, FINAL)}
    )
    assert walk(http) == SAML
    assert [p.body for p in http.posts] == [[("username", "ana")], [("password", PASSWORD)]]


def test_a_different_password_form_after_login_is_reported_not_filled() -> None:
    change = (
        '<div class="alert-warning">You need to change your password.</div><form method="post">'
        '<input type="password" name="password-new"><input type="password" '
        'name="password-confirm"></form>'
    )
    http = FakeHttp({f"{IDP}/start": (200, login_page()), f"{IDP}/login": (200, change)})
    with pytest.raises(AuthenticationError, match=r"cannot fill.*password-new"):
        walk(http)


def test_empty_saml_response_is_a_format_error() -> None:
    empty = '<form><input type="hidden" name="SAMLResponse" value=""></form>'
    http = FakeHttp({f"{IDP}/start": (200, empty)})
    with pytest.raises(AssertionFormatError, match="SAMLResponse input is empty"):
        walk(http)


def test_password_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    http = FakeHttp({f"{IDP}/start": (200, login_page(action="http://evil.example/login"))})
    with pytest.raises(AuthenticationError, match="refusing to send the password"):
        walk(http)
    assert http.posts == []


# -- resilience ----------------------------------------------------------------------------
def test_two_password_forms_pick_the_login_form() -> None:
    register = (
        '<form method="post" action="/register"><input name="email" type="email">'
        '<input type="password" name="pw1"><input type="password" name="pw2"></form>'
    )
    page = f"<html><body>{register}{login_page()}</body></html>"
    http = FakeHttp({f"{IDP}/start": (200, page), ("POST", f"{IDP}/login"): (200, FINAL)})
    assert walk(http) == SAML
    assert http.posts[0].url == f"{IDP}/login"
    assert "pw1" not in http.posts[0].names()


def test_two_single_password_forms_prefer_the_one_with_a_username() -> None:
    unlock = '<form method="post" action="/unlock"><input type="password" name="pin"></form>'
    page = f"<html><body>{unlock}{login_page()}</body></html>"
    http = FakeHttp({f"{IDP}/start": (200, page), ("POST", f"{IDP}/login"): (200, FINAL)})
    assert walk(http) == SAML
    assert http.posts[0].url == f"{IDP}/login"


def test_form_with_no_action_posts_to_the_page_url() -> None:
    page = login_page().replace(' action="/login"', "")
    http = FakeHttp(
        {
            ("GET", f"{IDP}/start?x=1"): (200, page),
            ("POST", f"{IDP}/start?x=1"): (200, FINAL),
        }
    )
    assert walk(http, f"{IDP}/start?x=1") == SAML


@pytest.mark.parametrize(
    ("action", "target"),
    [
        ("login.php", f"{IDP}/a/login.php"),
        ("/auth/login", f"{IDP}/auth/login"),
        ("../up", f"{IDP}/up"),
        ("?execution=e1s2", f"{IDP}/a/b?execution=e1s2"),
        ("?", f"{IDP}/a/b?"),
        ("https://other.example.net/post", "https://other.example.net/post"),
        ("//other.example.net/x", "https://other.example.net/x"),
        ("/p?a=1&amp;b=2", f"{IDP}/p?a=1&b=2"),
    ],
)
def test_relative_and_absolute_actions(action: str, target: str) -> None:
    http = FakeHttp({f"{IDP}/a/b?q=1": (200, login_page(action=action))}, fallback=(200, FINAL))
    assert walk(http, f"{IDP}/a/b?q=1") == SAML
    assert http.posts[0].url.rstrip("?") == target.rstrip("?")
    assert "q=1" not in http.posts[0].url  # a new query replaces the page's own


def test_base_href_is_honoured() -> None:
    page = '<html><head><base href="https://idp.example.org/base/"></head>' + login_page("x")
    http = FakeHttp({f"{IDP}/start": (200, page)}, fallback=(200, FINAL))
    assert walk(http) == SAML
    assert http.posts[0].url == f"{IDP}/base/x"


def test_broken_markup() -> None:
    page = (
        "<HTML><BODY><div><FORM METHOD=POST ACTION=/login><table><tr><td>"
        "<INPUT TYPE=hidden NAME=token VALUE='a&amp;b'>"
        "<INPUT NAME=username><p>Password <INPUT TYPE=PASSWORD NAME=password>"
        "<select name=lang><option value=en>English<option value=de selected>Deutsch</select>"
        "<input type=checkbox name=remember checked><textarea name=note>hi</textarea>"
        "</td></FORM></span></div"
    )
    http = FakeHttp({f"{IDP}/start": (200, page), ("POST", f"{IDP}/login"): (200, FINAL)})
    assert walk(http) == SAML
    assert http.posts[0].body == [
        ("token", "a&b"),
        ("username", "ana"),
        ("password", PASSWORD),
        ("lang", "de"),
        ("remember", "on"),
        ("note", "hi"),
    ]


def test_infinite_redirect_loop_names_the_step_and_url() -> None:
    http = FakeHttp(
        {
            f"{IDP}/a": (302, "", {"Location": f"{IDP}/b"}),
            f"{IDP}/b": (302, "", {"Location": f"{IDP}/a"}),
        }
    )
    with pytest.raises(AuthenticationError, match=r"IdP redirect: gave up after 30 requests.*/a"):
        walk(http, f"{IDP}/a")
    assert len(http.sent) == 30


def test_auto_submit_loop_is_bounded_too() -> None:
    hop = '<body onload="document.forms[0].submit()"><form method="post" action="/hop"></form>'
    http = FakeHttp({}, fallback=(200, hop))
    with pytest.raises(AuthenticationError, match="gave up after 30 requests"):
        walk(http)


def test_500_page_names_the_step_and_url() -> None:
    http = FakeHttp(
        {
            f"{IDP}/start": (200, login_page()),
            f"{IDP}/login": (500, "<html><title>Server Error</title><body>Oops</body></html>"),
        }
    )
    with pytest.raises(IdpServiceError) as caught:
        walk(http)
    message = str(caught.value)
    assert "IdP sign-in form" in message and f"{IDP}/login" in message
    assert "HTTP 500" in message and "Oops" in message


def test_404_at_the_start_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"IdP start page: .*/start answered HTTP 404"):
        walk(FakeHttp({}))


def test_page_without_any_form_names_the_url() -> None:
    http = FakeHttp({f"{IDP}/start": (200, "<html><body><h1>Maintenance</h1></body></html>")})
    with pytest.raises(AuthenticationError, match=r"page at .*/start .*no login form.*Maintenance"):
        walk(http)


def test_redirect_to_a_non_web_address() -> None:
    http = FakeHttp({f"{IDP}/start": (302, "", {"Location": "javascript:alert(1)"})})
    with pytest.raises(AuthenticationError, match="not a web URL"):
        walk(http)


def test_page_in_another_language() -> None:
    german = (
        '<html lang="de"><head><meta charset="utf-8"><title>Anmelden</title></head><body>'
        '<span id="input-error" class="kc-feedback-text">Ungültiger Benutzername oder Passwort.'
        '</span><form id="kc-form-login" method="post" action="/anmelden">'
        '<label>Benutzername</label><input type="text" name="benutzer">'
        '<label>Kennwort</label><input type="password" name="kennwort">'
        '<input type="submit" name="login" value="Anmelden"></form></body></html>'
    )
    http = FakeHttp({f"{IDP}/start": (200, german), f"{IDP}/anmelden": (200, german)})
    with pytest.raises(AuthenticationError, match="Ungültiger Benutzername oder Passwort"):
        walk(http, flavor=KEYCLOAK)
    assert http.posts[0].body == [
        ("benutzer", "ana"),
        ("kennwort", PASSWORD),
        ("login", "Anmelden"),
    ]


def test_latin1_page_without_charset_header() -> None:
    page = login_page(error="Mot de passe erroné").encode("latin-1")
    head = b'<meta http-equiv="content-type" content="text/html; charset=iso-8859-1">'
    parsed = parse_page(head + page, url=f"{IDP}/start")
    assert "erroné" in parsed.text_of((".alert-error",))


# -- the recorded page structures (fixtures/forms) ------------------------------------------
def test_every_fixture_is_read() -> None:
    assert {p.name for p in Path(FORMS).glob("*.html")} >= {
        "keycloak-login.html",
        "keycloak-v2-login.html",
        "keycloak-otp.html",
        "shibboleth-v5-login.html",
        "adfs-login.html",
        "adfs-mfa.html",
    }


def engine(flavor: Flavor, code: str | None = "123456") -> FormLogin:
    terminal = Terminal(interactive=False, stream=io.StringIO())
    return FormLogin(flavor, FakeHttp(), terminal, Redactor(), LoginSecrets("ana", PASSWORD, code))


@pytest.mark.parametrize(
    ("template", "flavor", "form_id", "username"),
    [
        ("keycloak-login.html", KEYCLOAK, "kc-form-login", "username"),
        ("keycloak-v2-login.html", KEYCLOAK, "kc-form-login", "username"),
        ("shibboleth-v4-login.html", SHIBBOLETH, "", "j_username"),
        ("shibboleth-v5-login.html", SHIBBOLETH, "", "j_username"),
        ("adfs-login.html", ADFS, "loginForm", "UserName"),
    ],
)
def test_login_fixtures(template: str, flavor: Flavor, form_id: str, username: str) -> None:
    url = f"{IDP}/login"
    page = parse_page(render(template, action="/x", options_action=f"{IDP}/o"), url=url)
    walk_ = engine(flavor)
    assert walk_.otp_form(page) is None
    form = walk_.login_form(page)
    assert form is not None and form.id == form_id
    assert walk_._username_field(form) == form.named(username)
    pairs = form.submission({}, submitter=walk_.submitter(form), extra=flavor.login_extra)
    names = [n for n, _ in pairs]
    assert "tryAnotherWay" not in names and "Kmsi" not in names and "rememberMe" not in names
    assert len(names) == len(set(names))
    if flavor is SHIBBOLETH:
        assert "csrf_token" in names and "_eventId_proceed" in names
    if flavor is ADFS:
        assert ("AuthMethod", "FormsAuthentication") in pairs


@pytest.mark.parametrize(
    ("template", "flavor", "text"),
    [
        ("keycloak-login.html", KEYCLOAK, "Invalid username or password."),
        ("keycloak-v2-login.html", KEYCLOAK, "Invalid username or password."),
        ("keycloak-otp.html", KEYCLOAK, "Invalid authenticator code."),
        ("keycloak-v2-otp.html", KEYCLOAK, "Invalid authenticator code."),
        ("shibboleth-v4-login.html", SHIBBOLETH, "The password you entered was incorrect."),
        ("shibboleth-v5-login.html", SHIBBOLETH, "Your account is locked."),
        ("adfs-login.html", ADFS, "Incorrect user ID or password."),
        ("adfs-mfa.html", ADFS, "Authentication denied.  Please try again."),
    ],
)
def test_error_markup_fixtures(template: str, flavor: Flavor, text: str) -> None:
    page = parse_page(render(template, error=text, code="yes"), url=f"{IDP}/x")
    assert engine(flavor).error_text(page) == " ".join(text.split())
    assert engine(GENERIC).error_text(page) == " ".join(text.split())  # GenericForm too


@pytest.mark.parametrize(
    ("template", "flavor", "name", "device"),
    [
        # the device chosen on the page (the checked radio, or v2's hidden input) is sent
        ("keycloak-otp.html", KEYCLOAK, "otp", "d1"),
        ("keycloak-v2-otp.html", KEYCLOAK, "otp", "d1"),
        # ADFS has no device choice: nothing of the kind is sent
        ("adfs-mfa.html", ADFS, "VerificationCode", None),
    ],
)
def test_otp_fixtures(template: str, flavor: Flavor, name: str, device: str | None) -> None:
    page = parse_page(
        render(template, devices="yes", device_one="d1", device_two="d2", code="yes"),
        url=f"{IDP}/x",
    )
    found = engine(flavor).otp_form(page)
    assert found is not None and found[1].name == name
    pairs = found[0].submission({name: "123456"})
    assert (name, "123456") in pairs
    sent = [value for key, value in pairs if key == "selectedCredentialId"]
    assert sent == ([device] if device is not None else [])


def test_adfs_mfa_posts_to_the_options_action() -> None:
    page = parse_page(
        render("adfs-mfa.html", code="yes", options_action=f"{IDP}/o"), url=f"{IDP}/x"
    )
    found = engine(ADFS).otp_form(page)
    assert found is not None
    assert ADFS.form_action(found[0], page) == f"{IDP}/o"


@pytest.mark.parametrize(
    "template",
    [
        "keycloak-kerberos.html",
        "shibboleth-local-storage-read.html",
        "shibboleth-local-storage-write.html",
    ],
)
def test_auto_submit_fixtures(template: str) -> None:
    page = parse_page(render(template, action="?execution=e1s1", csrf_token="t"), url=f"{IDP}/x")
    walk_ = engine(SHIBBOLETH)
    assert walk_.login_form(page) is None and walk_.otp_form(page) is None
    assert walk_.auto_form(page) is not None


@pytest.mark.parametrize(
    "template",
    [
        "keycloak-post-binding.html",
        "keycloak-post-binding-legacy.html",
        "shibboleth-post-binding.html",
        "adfs-hiddenform.html",
    ],
)
def test_final_page_fixtures(template: str) -> None:
    page = parse_page(render(template, saml_response=SAML, relay_state="rs"), url=f"{IDP}/x")
    assert page.saml_response == SAML


def test_simplesamlphp_119_error_box() -> None:
    page = (
        '<div style="border-left: 1px solid #e8e8e8; border-bottom: 1px solid #e8e8e8; '
        'background: #f3f3f3"><img src="/simplesaml/resources/icons/experience/'
        'gtk-dialog-error.48x48.png" class="float-l erroricon" style="margin: 15px" alt=""/>'
        "<h2>Error</h2><p><strong>Incorrect username or password</strong></p><p>Either no "
        "user with the given username could be found, or the password you gave was wrong.</p>"
        "</div>" + login_page()
    )
    parsed = parse_page(page, url=f"{IDP}/x")
    said = engine(SIMPLESAMLPHP).error_text(parsed)
    assert said.startswith("Incorrect username or password. Either no user")
    assert "Incorrect username or password" in engine(GENERIC).error_text(parsed)


def test_resolve_is_total() -> None:
    assert resolve("https://a.example/p", "http://[::1") == "http://[::1"


# -- properties ----------------------------------------------------------------------------
NAMES = st.sampled_from(
    [
        "username",
        "password",
        "otp",
        "SAMLResponse",
        "RelayState",
        "SAMLRequest",
        "j_username",
        "code",
        "csrf_token",
        "_eventId_proceed",
        "x",
        "",
    ]
)
TYPES = st.sampled_from(
    ["text", "password", "hidden", "submit", "checkbox", "radio", "email", "number", "", "BOGUS"]
)
ACTIONS = st.sampled_from(
    [
        "",
        "?",
        "/login",
        "http://127.0.0.1/x",
        "https://other.example/y",
        "javascript:alert(1)",
        "http://[::1",
        "////",
        "%%",
        "?execution=e1s2",
        "http://remote.example/z",
    ]
)
TEXT = st.text(max_size=12)


@st.composite
def controls(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(["input", "button", "select", "textarea", "INPUT"]))
    attrs = f'name="{draw(NAMES)}" type="{draw(TYPES)}" value="{draw(TEXT)}"' + draw(
        st.sampled_from(
            [
                "",
                " checked",
                " disabled",
                ' autocomplete="one-time-code"',
                ' autocomplete="username"',
                ' id="errorText"',
            ]
        )
    )
    if tag == "select":
        return f"<select {attrs}><option value='{draw(TEXT)}'>{draw(TEXT)}</select>"
    if tag in ("button", "textarea"):
        return f"<{tag} {attrs}>{draw(TEXT)}</{tag}>"
    return f"<{tag} {attrs}>"


@st.composite
def pages(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        inner = "".join(draw(st.lists(controls(), max_size=5)))
        method = draw(st.sampled_from(["post", "get", "PUT", ""]))
        cut = draw(st.booleans())  # leave the form unclosed
        parts.append(
            f'<form method="{method}" action="{draw(ACTIONS)}" id="{draw(TEXT)}">{inner}'
            + ("" if cut else "</form>")
        )
        parts.append(
            draw(
                st.sampled_from(
                    [
                        "",
                        "<p class='error'>bad</p>",
                        "<noscript>",
                        "<script>x.submit()</script>",
                        "<div hidden>",
                    ]
                )
            )
        )
    body = draw(st.sampled_from(["<body>", '<body onload="document.forms[0].submit()">', ""]))
    return f"<html>{body}{''.join(parts)}{draw(TEXT)}"


HTML = st.one_of(
    pages(), st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
)
FLAVORS = st.sampled_from([GENERIC, KEYCLOAK, SHIBBOLETH, ADFS, SIMPLESAMLPHP])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=HTML, flavor=FLAVORS, status=st.sampled_from([200, 200, 401, 403, 500]))
def test_any_page_gives_a_result_or_a_samljit_error(html: str, flavor: Flavor, status: int) -> None:
    http = FakeHttp({}, fallback=(status, html))
    try:
        result = walk(http, flavor=replace(flavor, max_steps=6), mfa_token="123456")
    except SamljitError:
        return
    assert isinstance(result, str) and result


@settings(max_examples=200, deadline=None)
@given(html=HTML)
def test_form_extraction_never_raises(html: str) -> None:
    page = parse_page(html, url=f"{IDP}/p?q=1")
    for form in page.forms:
        pairs = form.submission({"username": "ana"}, extra=[("x", "y")])
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)
        assert all(name for name, _ in pairs)
    walk_ = engine(GENERIC)
    walk_.login_form(page), walk_.otp_form(page), walk_.auto_form(page)
    assert isinstance(walk_.error_text(page), str) and isinstance(page.text, str)


def test_shibboleth_consent_page_presses_proceed_not_reject() -> None:
    consent = (
        '<form action="?execution=e1s4" method="post"><input type="hidden" name="csrf_token" '
        'value="t"><input type="radio" name="_shib_idp_consentOptions" value="_shib_idp_'
        'rememberConsent" checked><input type="radio" name="_shib_idp_consentOptions" '
        'value="_shib_idp_doNotRememberConsent"><input type="submit" '
        'name="_eventId_AttributeReleaseRejected" value="Reject"><input type="submit" '
        'name="_eventId_proceed" value="Accept"></form>'
    )
    http = FakeHttp({f"{IDP}/sso?execution=e1s3": (200, consent)}, fallback=(200, FINAL))
    assert walk(http, f"{IDP}/sso?execution=e1s3", flavor=SHIBBOLETH) == SAML
    assert http.posts[0].body == [
        ("csrf_token", "t"),
        ("_shib_idp_consentOptions", "_shib_idp_rememberConsent"),
        ("_eventId_proceed", "Accept"),
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://adfs.example.org/adfs/ls/IdpInitiatedSignOn.aspx",
            "https://adfs.example.org/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn%3Aamazon%3Awebservices",
        ),
        (
            "https://adfs.example.org/adfs/ls/IdpInitiatedSignOn.aspx?LoginToRP=urn:custom",
            "https://adfs.example.org/adfs/ls/IdpInitiatedSignOn.aspx?LoginToRP=urn:custom",
        ),
    ],
)
def test_adfs_start_url_names_the_relying_party(url: str, expected: str) -> None:
    from samljit.config.accounts import Account

    assert ADFS.start_url(Account(name="a", provider="ADFS", url=url)) == expected


# -- a select of MFA methods beside the code input (F5 BIG-IP APM) ----------------------------
def f5_http() -> FakeHttp:
    return FakeHttp(
        {
            f"{IDP}/start": (200, render("f5-logon.html")),
            ("POST", f"{IDP}/my.policy"): lambda sent: (
                (200, render("f5-mfa.html")) if sent.value("password") else (200, FINAL)
            ),
        }
    )


def test_f5_mfa_page_with_a_code_picks_the_code_option() -> None:
    http = f5_http()
    assert walk(http, mfa_token="123456") == SAML
    mfa = http.posts[1]
    assert (mfa.value("mfamethod"), mfa.value("mfatoken")) == ("otp", "123456")
    assert mfa.names() == ["mfamethod", "mfatoken", "vhost"]


def test_f5_mfa_page_without_a_code_sends_the_push_it_defaults_to() -> None:
    http = f5_http()
    stream = io.StringIO()
    secrets = LoginSecrets("ana", PASSWORD, None)
    walk_ = FormLogin(
        GENERIC, http, Terminal(interactive=False, stream=stream), Redactor(), secrets
    )
    assert walk_.run(f"{IDP}/start") == SAML
    mfa = http.posts[1]
    assert (mfa.value("mfamethod"), mfa.value("mfatoken")) == ("push", "")
    assert "approve the sign-in on your phone" in stream.getvalue()


def test_f5_mfa_page_with_mfa_totp_asks_for_the_code_instead_of_a_push() -> None:
    http = f5_http()
    secrets = LoginSecrets("ana", PASSWORD, None)
    terminal = Terminal(interactive=False, stream=io.StringIO())
    with pytest.raises(MissingInputError, match="one-time MFA code"):
        FormLogin(GENERIC, http, terminal, Redactor(), secrets, mfa="TOTP").run(f"{IDP}/start")
    assert len(http.posts) == 1  # nothing sent to the MFA page


def test_a_push_answered_by_a_page_without_a_form_is_a_refused_push() -> None:
    http = f5_http()
    http.routes[("POST", f"{IDP}/my.policy")] = lambda sent: (
        (200, render("f5-mfa.html"))
        if sent.value("password")
        else (200, '<html><body><p class="error">Access denied by policy.</p></body></html>')
    )
    with pytest.raises(AuthenticationError, match="refused the push: Access denied") as caught:
        walk(http)
    assert "--mfa-token" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("options", "push", "code"),
    [
        (
            '<option value="push" selected>Push</option><option value="otp">Code</option>',
            "push",
            "otp",
        ),
        # words in the text; a code sent by text message is not the code --mfa-token holds
        (
            '<option value="1">Send a push</option><option value="2">SMS passcode</option>'
            '<option value="3">Authenticator passcode</option>',
            "1",
            "3",
        ),
        ("<option>Push</option><option>TOTP</option>", "Push", "TOTP"),
        ('<option value="push">Push</option><option value="sms">SMS</option>', None, None),
        ('<option value="otp">Code</option><option value="sms">SMS</option>', None, None),
    ],
)
def test_method_choice(options: str, push: str | None, code: str | None) -> None:
    page = parse_page(
        f'<form method="post"><select name="m">{options}</select><input name="mfatoken"></form>',
        url=IDP,
    )
    found = method_choice(page.forms[0])
    assert (found and found.push, found and found.code) == (push, code)


# -- PingID's push page behind a form IdP ----------------------------------------------------
PINGID = "https://authenticator.pingone.com"


def pingid_http(number: int | None = 42) -> FakeHttp:
    swipe = render(
        "pingid-swipe.html",
        device="iPhone",
        number=number,
        csrf="csrf-4242",
        status_action=f"{PINGID}/pingid/ppm/auth/status",
        response_action=f"{PINGID}/pingid/ppm/auth/response",
    )
    otp = render("pingid-otp.html", action=f"{PINGID}/pingid/ppm/auth/otp", csrf="csrf-4242")
    resume = render("pingid-resume.html", action=f"{IDP}/resume", ppm_response="ppm-r")
    handover = render(
        "pingid-autopost.html",
        action=f"{PINGID}/pingid/ppm/auth",
        account_id="acct",
        ppm_request="ppm-q",
    )
    return FakeHttp(
        {
            f"{IDP}/start": (200, login_page()),
            ("POST", f"{IDP}/login"): (200, handover),
            ("POST", f"{PINGID}/pingid/ppm/auth"): (200, swipe),
            ("POST", f"{PINGID}/pingid/ppm/auth/status"): (200, '{"status": "ASYNC_AUTH_WAIT"}'),
            ("POST", f"{PINGID}/pingid/ppm/auth/usecode"): (200, otp),
            ("POST", f"{PINGID}/pingid/ppm/auth/otp"): (200, resume),
            ("POST", f"{IDP}/resume"): (200, FINAL),
        }
    )


@pytest.mark.parametrize("number", [42, None])
def test_pingid_push_page_is_never_polled_and_names_the_browser(number: int | None) -> None:
    http = pingid_http(number)
    with pytest.raises(AuthenticationError, match="PingID asks to approve a push") as caught:
        walk(http)
    assert ("with a number to match" in caught.value.message) is (number is not None)
    assert "samljit login --browser" in (caught.value.hint or "")
    # no status request: no push
    assert [s.url for s in http.posts] == [f"{IDP}/login", f"{PINGID}/pingid/ppm/auth"]


def test_pingid_push_page_with_a_code_asks_for_the_passcode_page() -> None:
    http = pingid_http()
    assert walk(http, mfa_token="123456") == SAML
    assert [s.url.removeprefix(PINGID) for s in http.posts] == [
        f"{IDP}/login",
        "/pingid/ppm/auth",
        "/pingid/ppm/auth/usecode",
        "/pingid/ppm/auth/otp",
        f"{IDP}/resume",
    ]
    assert http.posts[2].body == [("csrfToken", "csrf-4242")]
    assert http.posts[3].body == [("otp", "123456"), ("csrfToken", "csrf-4242")]


def test_pingid_with_mfa_totp_and_no_terminal_stops_before_switching() -> None:
    http = pingid_http()
    terminal = Terminal(interactive=False, stream=io.StringIO())
    secrets = LoginSecrets("ana", PASSWORD, None)
    with pytest.raises(MissingInputError, match="one-time MFA code"):
        FormLogin(GENERIC, http, terminal, Redactor(), secrets, mfa="TOTP").run(f"{IDP}/start")
    assert len(http.posts) == 2  # the login and the hand-over to PingID
