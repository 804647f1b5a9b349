"""Assertions encrypted for AWS (IAM's SAML encryption), end to end: an IdP (the Command
provider printing a SAMLResponse encrypted for a test "IAM" key, tests/support/saml_encrypt.py),
the loopback AWS sign-in page in both shapes and a decrypting STS in front of moto
(tests/support/aws_signin.py), the installed executable."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from samljit.testing.saml import SigningPair, signing_pair
from tests.support.aws_signin import DecryptingSts, SigninPage, sha256_of
from tests.support.cli import Cli
from tests.support.moto_sts import StsView
from tests.support.saml_encrypt import AES128_CBC, AES256_GCM, IamKey, encrypted_response, iam_key

PROD, DEV = "111122223333", "444455556666"
PROD_IDP = f"arn:aws:iam::{PROD}:saml-provider/Corp"
DEV_IDP = f"arn:aws:iam::{DEV}:saml-provider/Corp"
PROD_ADMIN = f"arn:aws:iam::{PROD}:role/Admin"
DEV_RO = f"arn:aws:iam::{DEV}:role/ReadOnly"
ROLES = [(PROD_ADMIN, PROD_IDP), (DEV_RO, DEV_IDP)]
#: An account pinned to one role: samljit needs no sign-in page to choose.
PINNED_ADMIN = f"principal_arn = {PROD_IDP}\nrole_arn = {PROD_ADMIN}\n"
#: The SAML provider by its name alone: the account comes from the role picked.
BY_PROVIDER_NAME = "principal_arn = saml-provider/Corp\n"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[IamKey, SigningPair]:
    base = tmp_path_factory.mktemp("enc-keys")
    (base / "iam").mkdir()
    (base / "idp").mkdir()
    return iam_key(base / "iam"), signing_pair(base / "idp")


@pytest.fixture
def front(sts: StsView, keys: tuple[IamKey, SigningPair]) -> Iterator[DecryptingSts]:
    with DecryptingSts(sts.url, keys[0].key_pem, require_encryption=True) as server:
        yield server


@pytest.fixture
def corp(
    cli: Cli, tmp_path: Path, keys: tuple[IamKey, SigningPair], front: DecryptingSts
) -> Callable[..., str]:
    """``corp(page, extra="", **response)``: account ``corp`` of this test's samljit, the
    Command provider printing a response for ana encrypted for the test IAM key
    (``response``: encrypted_response's options, ``roles`` else ROLES) and ``extra`` in its
    section; this test's STS front and sign-in ``page`` (where given). The response, base64."""

    def setup(page: SigninPage | None, extra: str = "", **kw: object) -> str:
        iam, idp = keys
        encoded = encrypted_response(
            issuer="https://idp.corp.example/saml",
            user="ana",
            roles=kw.pop("roles", ROLES),
            idp=idp,
            iam_cert_pem=iam.cert_pem,
            **kw,  # type: ignore[arg-type]
        )
        cli.secrets.add(encoded)
        saved = tmp_path / "response.b64"
        saved.write_text(encoded)
        cli.write_config(
            "[corp]\n"
            "provider = Command\n"
            f"command = cat {shlex.quote(str(saved))}\n"
            "username = ana\n"
            f"idp_certificate = {idp.cert_path}\n"
            f"{extra}"
        )
        cli.env["AWS_ENDPOINT_URL_STS"] = front.url
        if page is not None:
            cli.env["SAMLJIT_SIGNIN_URL"] = page.saml_url
        return encoded

    return setup


@pytest.mark.parametrize("shape", ["classic", "json"])
def test_roles_from_the_signin_page_and_the_encrypted_response_to_sts_byte_for_byte(
    cli: Cli,
    keys: tuple[IamKey, SigningPair],
    front: DecryptingSts,
    corp: Callable[..., str],
    shape: str,
) -> None:
    with SigninPage(keys[0].key_pem, shape=shape, aliases={PROD: "prod"}) as page:  # type: ignore[arg-type]
        encoded = corp(
            page,
            BY_PROVIDER_NAME,
            data_method=AES128_CBC if shape == "classic" else AES256_GCM,
        )
        listed = cli.run("list-roles", "-a", "corp", "--json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        assert {(r["role_arn"], r["account_name"]) for r in rows} == {
            (PROD_ADMIN, "prod"),
            (DEV_RO, None),  # the page names no alias: `-` in the text listing
        }
        text = cli.run("list-roles", "-a", "corp")
        assert any(line.split()[:2] == [DEV, "-"] for line in text.stdout.splitlines())
        ran = cli.run("login", "-a", "corp", "--role", "ReadOnly")
    assert ran.returncode == 0, ran.stderr
    assert f"Logged in: ReadOnly in {DEV}" in ran.stderr
    assert [(r.encrypted, r.sha256, r.role_arn) for r in front.received] == [
        (True, sha256_of(encoded), DEV_RO)
    ]
    assert front.received[0].principal_arn == DEV_IDP  # saml-provider/Corp, completed
    assert cli.principal("corp") == f"arn:aws:sts::{DEV}:assumed-role/ReadOnly/ana"


def test_a_full_role_arn_needs_no_page(
    cli: Cli, front: DecryptingSts, corp: Callable[..., str]
) -> None:
    corp(None, PINNED_ADMIN)
    cli.env["SAMLJIT_SIGNIN_URL"] = "http://127.0.0.1:9/saml"  # nothing listens: not asked
    ran = cli.run("login", "-a", "corp")
    assert ran.returncode == 0, ran.stderr
    assert [r.role_arn for r in front.received] == [PROD_ADMIN]


def test_without_principal_arn_it_is_exit_2_naming_the_key(
    cli: Cli, front: DecryptingSts, corp: Callable[..., str]
) -> None:
    corp(None, f"role_arn = {PROD_ADMIN}\n")
    ran = cli.run("login", "-a", "corp")
    assert ran.returncode == 2, ran.stderr
    assert "principal_arn" in ran.stderr.splitlines()[0]
    assert front.received == [] and not cli.credentials.exists()


def test_an_unsigned_response_under_pinning_is_refused(
    cli: Cli, front: DecryptingSts, corp: Callable[..., str]
) -> None:
    corp(None, PINNED_ADMIN, sign_response=False)
    ran = cli.run("login", "-a", "corp")
    assert ran.returncode == 3, ran.stderr
    assert ran.stderr.startswith("samljit: error: signature check failed: the assertion is encr")
    assert front.received == [] and not cli.credentials.exists()


def test_the_pages_refusal_is_exit_3_in_its_words(
    cli: Cli, keys: tuple[IamKey, SigningPair], front: DecryptingSts, corp: Callable[..., str]
) -> None:
    with SigninPage(keys[0].key_pem) as page:
        corp(page, BY_PROVIDER_NAME)
        page.refuse_next()
        ran = cli.run("login", "-a", "corp")
    assert ran.returncode == 3, ran.stderr
    first = ran.stderr.splitlines()[0]
    assert first.startswith("samljit: error: the AWS sign-in page refused the SAMLResponse: ")
    assert "Your request included an invalid SAML response" in first
    assert front.received == []


def test_configure_takes_principal_arn_and_refuses_what_is_no_saml_provider(cli: Cli) -> None:
    base = ("configure", "-a", "corp", "--skip-prompt", "--provider", "Command")
    ran = cli.run(*base, "--command", "true", "--principal-arn", "saml-provider/Corp")
    assert ran.returncode == 0, ran.stderr
    assert "principal_arn = saml-provider/Corp" in cli.config.read_text()
    bad = cli.run(*base, "--principal-arn", f"arn:aws:iam::{PROD}:role/Admin")
    assert bad.returncode == 2
    assert "is not an IAM SAML provider" in bad.stderr.splitlines()[0]


def test_the_sandbox_encrypts_for_iams_certificate_and_samljit_logs_in(
    cli: Cli, tmp_path: Path, keys: tuple[IamKey, SigningPair], front: DecryptingSts
) -> None:
    """``samljit sandbox serve --encrypt-for CERT``: a whole IdP whose assertions are
    encrypted, pinned; the roles come from the sign-in page, STS decrypts."""
    from samljit.tools.sandbox.users import READONLY_ROLE, SANDBOX_PROVIDER
    from tests.e2e.test_sandbox import serve
    from tests.support.paths import FIXTURES

    users = tmp_path / "users.json"
    role = f"{READONLY_ROLE},{SANDBOX_PROVIDER}"
    users.write_text(
        json.dumps({"users": [{"username": "bo", "password": "bo-Pass-9", "roles": [role]}]})
    )
    cli.secrets.add("bo-Pass-9")
    keydir = FIXTURES / "keys"
    served = serve(
        cli, "--users", str(users), "--key", str(keydir / "idp-test.key"),
        "--cert", str(keydir / "idp-test.crt"), "--encrypt-for", str(keys[0].cert_path),
    )  # fmt: skip
    try:
        with SigninPage(keys[0].key_pem, shape="json") as page:
            cli.env.update(SAMLJIT_SIGNIN_URL=page.saml_url, AWS_ENDPOINT_URL_STS=front.url)
            ran = cli.run(
                "configure", "-a", "corp", "--skip-prompt", "--provider", "GenericForm",
                "--url", served.sso_url, "--username", "bo", "--idp-certificate",
                str(keydir / "idp-test.crt"), "--principal-arn", "saml-provider/samljit-sandbox",
            )  # fmt: skip
            assert ran.returncode == 0, ran.stderr
            ran = cli.run("login", "-a", "corp", env={"SAMLJIT_PASSWORD": "bo-Pass-9"})
    finally:
        served.stop()
    assert ran.returncode == 0, ran.stderr
    assert "Logged in: SandboxReadOnly" in ran.stderr
    assert [(r.encrypted, r.role_arn, r.principal_arn) for r in front.received] == [
        (True, READONLY_ROLE, SANDBOX_PROVIDER)
    ]


def test_the_cached_encrypted_assertion_serves_the_next_role_and_all_roles(
    cli: Cli,
    tmp_path: Path,
    keys: tuple[IamKey, SigningPair],
    front: DecryptingSts,
    corp: Callable[..., str],
) -> None:
    with SigninPage(keys[0].key_pem) as page:
        encoded = corp(page, BY_PROVIDER_NAME)
        first = cli.run("login", "-a", "corp", "--role", "Admin")
        assert first.returncode == 0, first.stderr
        (tmp_path / "response.b64").write_text("not a SAMLResponse")  # the IdP is gone
        again = cli.run("login", "-a", "corp", "--role", "ReadOnly")
        assert again.returncode == 0, again.stderr
        every = cli.run("login", "-a", "corp", "--all-roles")
        assert every.returncode == 0, every.stderr
    assert {r.sha256 for r in front.received} == {sha256_of(encoded)}
    assert [r.role_arn for r in front.received][:2] == [PROD_ADMIN, DEV_RO]
    assert {r.role_arn for r in front.received[2:]} == {PROD_ADMIN, DEV_RO}


def test_a_page_that_goes_straight_to_the_console_asks_for_role_arn(
    cli: Cli, keys: tuple[IamKey, SigningPair], front: DecryptingSts, corp: Callable[..., str]
) -> None:
    """AWS skips the role page when one role is granted: samljit cannot learn which one."""
    with SigninPage(keys[0].key_pem, single_role_redirect=True) as page:
        corp(page, BY_PROVIDER_NAME, roles=[(PROD_ADMIN, PROD_IDP)])
        ran = cli.run("login", "-a", "corp")
    assert ran.returncode == 4, ran.stderr
    assert "sent the browser straight on" in ran.stderr.splitlines()[0]
    assert "role_arn" in ran.stderr
    assert front.received == [] and not cli.credentials.exists()
