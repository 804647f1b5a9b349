"""The groundwork for encrypted assertions (contract bullet "Encrypted assertions"): assertions
encrypted for a test "IAM" key with AES-GCM and AES-CBC (tests/support/saml_encrypt.py), the
loopback AWS sign-in page in its two shapes and the decrypting STS in front of moto
(tests/support/aws_signin.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree, html
from signxml.verifier import XMLVerifier

from samljit.saml import assertion as saml
from samljit.testing.saml import SigningPair, signed_response, signing_pair
from tests.support.aws_signin import (
    CONSOLE_URL,
    INVALID_RESPONSE_TEXT,
    STS_ERROR_CODE,
    DecryptingSts,
    SigninPage,
    sha256_of,
)
from tests.support.moto_sts import MotoSts
from tests.support.saml_encrypt import (
    AES128_CBC,
    AES128_GCM,
    AES256_CBC,
    AES256_GCM,
    DATA_METHODS,
    NS,
    RSA_OAEP,
    RSA_OAEP_MGF1P,
    DecryptionError,
    IamKey,
    decrypt_assertion,
    decrypt_response,
    encrypted_response,
    iam_key,
    is_encrypted,
)

PROD, DEV = "111122223333", "444455556666"
PROD_IDP = f"arn:aws:iam::{PROD}:saml-provider/Corp"
DEV_IDP = f"arn:aws:iam::{DEV}:saml-provider/Corp"
PROD_ADMIN = f"arn:aws:iam::{PROD}:role/Admin"
PROD_RO = f"arn:aws:iam::{PROD}:role/ReadOnly"
DEV_RO = f"arn:aws:iam::{DEV}:role/ReadOnly"
ROLES = [(PROD_ADMIN, PROD_IDP), (PROD_RO, PROD_IDP), (DEV_RO, DEV_IDP)]
ISSUER = "https://idp.corp.example/saml"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[IamKey, IamKey, SigningPair]:
    base = tmp_path_factory.mktemp("keys")
    for sub in ("iam", "other", "idp"):
        (base / sub).mkdir()
    return iam_key(base / "iam"), iam_key(base / "other"), signing_pair(base / "idp")


@pytest.fixture
def iam(keys: tuple[IamKey, IamKey, SigningPair]) -> IamKey:
    return keys[0]


@pytest.fixture
def other_iam(keys: tuple[IamKey, IamKey, SigningPair]) -> IamKey:
    return keys[1]


@pytest.fixture
def idp(keys: tuple[IamKey, IamKey, SigningPair]) -> SigningPair:
    return keys[2]


def encrypted(
    idp: SigningPair, iam: IamKey, roles: list[tuple[str, str]] = ROLES, **kw: object
) -> str:
    return encrypted_response(
        issuer=ISSUER,
        user="ana",
        roles=roles,
        idp=idp,
        iam_cert_pem=iam.cert_pem,
        **kw,  # type: ignore[arg-type]
    )


def xml_of(encoded: str) -> etree._Element:
    return saml.parse_xml(saml.decode(encoded))


# -- encryption -----------------------------------------------------------------------------
@pytest.mark.parametrize("data_method", sorted(DATA_METHODS))
@pytest.mark.parametrize("key_method", [RSA_OAEP_MGF1P, RSA_OAEP])
@pytest.mark.parametrize("placement", ["inline", "sibling"])
def test_an_encrypted_assertion_hides_the_roles_and_decrypts_with_the_iam_key(
    idp: SigningPair, iam: IamKey, data_method: str, key_method: str, placement: str
) -> None:
    encoded = encrypted(
        idp, iam, data_method=data_method, key_method=key_method, placement=placement
    )

    root = xml_of(encoded)
    assert root.find("saml:Assertion", NS) is None
    data = root.find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    assert data.find("xenc:EncryptionMethod", NS).get("Algorithm") == data_method
    assert b"arn:aws:iam" not in saml.decode(encoded)  # a client cannot read a role
    hidden = saml.parse(encoded)  # samljit sees that it is encrypted, and no role
    assert hidden.encrypted and hidden.roles == ()
    # The outer Response's signature is over the encrypted form: a client can check it.
    XMLVerifier().verify(saml.decode(encoded), x509_cert=idp.cert_pem.decode())

    plain = decrypt_response(encoded, iam.key_pem)
    read = saml.parse(plain)
    assert [(r.role_arn, r.principal_arn) for r in read.roles] == ROLES
    # The assertion's own signature survives encryption (AWS checks it after decrypting).
    assertion = xml_of(plain).find("saml:Assertion", NS)
    XMLVerifier().verify(etree.tostring(assertion), x509_cert=idp.cert_pem.decode())


def test_the_wrong_key_or_a_changed_ciphertext_does_not_decrypt(
    idp: SigningPair, iam: IamKey, other_iam: IamKey
) -> None:
    for method in (AES256_GCM, AES128_CBC):
        with pytest.raises(DecryptionError):
            decrypt_response(encrypted(idp, iam, data_method=method), other_iam.key_pem)
    root = xml_of(encrypted(idp, iam, data_method=AES128_GCM, sign_response=False))
    value = root.find(
        "saml:EncryptedAssertion/xenc:EncryptedData/xenc:CipherData/xenc:CipherValue", NS
    )
    raw = bytearray(base64.b64decode(value.text))
    raw[20] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(DecryptionError, match="tag"):
        decrypt_assertion(root, iam.key_pem)


def test_is_encrypted_tells_the_two_apart(idp: SigningPair, iam: IamKey) -> None:
    plain = signed_response(issuer=ISSUER, user="ana", roles=ROLES, pair=idp)
    assert is_encrypted(encrypted(idp, iam, data_method=AES256_CBC))
    assert not is_encrypted(plain)


# -- the sign-in page -----------------------------------------------------------------------
@pytest.fixture
def page(iam: IamKey) -> Iterator[SigninPage]:
    with SigninPage(iam.key_pem, aliases={PROD: "corp-prod"}) as served:
        yield served


def post(url: str, encoded: str) -> requests.Response:
    return requests.post(
        url, data={"SAMLResponse": encoded, "RelayState": ""}, allow_redirects=False, timeout=30
    )


def test_the_classic_page_lists_accounts_and_roles_as_radio_inputs(
    page: SigninPage, idp: SigningPair, iam: IamKey
) -> None:
    answer = post(page.saml_url, encrypted(idp, iam))

    assert answer.status_code == 200
    doc = html.fromstring(answer.text)
    accounts = doc.xpath("//form[@id='saml_form']/fieldset/div[@class='saml-account']")
    seen = {}
    for account in accounts:
        name = account.xpath(".//div[@class='saml-account-name']")[0].text_content()
        radios = account.xpath(".//div[@class='saml-role']/input[@name='roleIndex']")
        labels = [
            account.xpath(f".//label[@for='{r.get('value')}']")[0].text_content() for r in radios
        ]
        seen[name] = list(zip([r.get("value") for r in radios], labels, strict=True))
    assert seen == {
        f"Account: corp-prod ({PROD})": [(PROD_ADMIN, "Admin"), (PROD_RO, "ReadOnly")],
        f"Account: {DEV}": [(DEV_RO, "ReadOnly")],
    }
    assert page.requests == [("POST", "/saml")]


def test_the_newer_page_carries_its_data_as_json(idp: SigningPair, iam: IamKey) -> None:
    with SigninPage(iam.key_pem, shape="json", aliases={DEV: "corp-dev"}) as page:
        answer = post(f"{page.base_url}/saml/acs/SAMLSPD2ZCFJKWBO7WJ5", encrypted(idp, iam))

    doc = html.fromstring(answer.text)
    assert not doc.xpath("//input[@name='roleIndex']")
    data = json.loads(doc.xpath("//script[@id='__NEXT_DATA__']")[0].text)
    assert data["props"]["pageProps"]["accounts"] == [
        {
            "accountId": PROD,
            "accountName": None,
            "roles": [
                {"roleArn": PROD_ADMIN, "roleName": "Admin"},
                {"roleArn": PROD_RO, "roleName": "ReadOnly"},
            ],
        },
        {
            "accountId": DEV,
            "accountName": "corp-dev",
            "roles": [{"roleArn": DEV_RO, "roleName": "ReadOnly"}],
        },
    ]
    assert [a.get("id") for a in doc.xpath("//a[@role='button']")] == [PROD_ADMIN, PROD_RO, DEV_RO]


def test_the_page_refuses_what_it_cannot_read_with_awss_words(
    page: SigninPage, idp: SigningPair, iam: IamKey, other_iam: IamKey
) -> None:
    not_for_aws = post(page.saml_url, encrypted(idp, other_iam))
    no_roles = post(page.saml_url, encrypted(idp, iam, roles=[]))
    page.refuse_next("Response is expired.")
    forced = post(page.saml_url, encrypted(idp, iam))

    for answer in (not_for_aws, no_roles):
        assert answer.status_code == 200
        assert html.fromstring(answer.text).xpath("//div[@id='error']")[0].text_content() == (
            INVALID_RESPONSE_TEXT
        )
        assert "saml-account" not in answer.text
    assert "Response is expired." in forced.text


def test_a_single_role_can_go_straight_to_the_console(idp: SigningPair, iam: IamKey) -> None:
    with SigninPage(iam.key_pem, single_role_redirect=True) as page:
        one = post(page.saml_url, encrypted(idp, iam, roles=[(PROD_RO, PROD_IDP)]))
        two = post(page.saml_url, encrypted(idp, iam))

    assert one.status_code == 302 and one.headers["Location"] == CONSOLE_URL
    assert two.status_code == 200 and "saml-account" in two.text


# -- STS ------------------------------------------------------------------------------------
def assume(
    url: str, encoded: str, role: str = PROD_RO, principal: str = PROD_IDP
) -> requests.Response:
    form = {
        "Action": "AssumeRoleWithSAML",
        "Version": "2011-06-15",
        "RoleArn": role,
        "PrincipalArn": principal,
        "SAMLAssertion": encoded,
    }
    return requests.post(url + "/", data=form, timeout=30)


def test_sts_decrypts_before_moto_and_records_what_it_received(
    sts: MotoSts, idp: SigningPair, iam: IamKey
) -> None:
    encoded = encrypted(idp, iam, data_method=AES128_CBC)
    with DecryptingSts(sts.url, iam.key_pem, require_encryption=True) as front:
        answer = assume(front.url, encoded)
        received = front.received

    assert answer.status_code == 200, answer.text
    assert "<AccessKeyId>" in answer.text
    assert [(r.encrypted, r.sha256, r.status, r.role_arn) for r in received] == [
        (True, sha256_of(encoded), 200, PROD_RO)
    ]
    assert sts.calls[-1].role_arn == PROD_RO and sts.calls[-1].reduced  # moto saw the roles


def test_sts_refuses_a_plain_assertion_when_encryption_is_required_and_a_foreign_one(
    sts: MotoSts, idp: SigningPair, iam: IamKey, other_iam: IamKey
) -> None:
    plain = signed_response(issuer=ISSUER, user="ana", roles=ROLES, pair=idp)
    with DecryptingSts(sts.url, iam.key_pem, require_encryption=True) as front:
        refused_plain = assume(front.url, plain)
        refused_foreign = assume(front.url, encrypted(idp, other_iam))
    with DecryptingSts(sts.url, iam.key_pem) as lenient:
        accepted_plain = assume(lenient.url, plain)

    for answer in (refused_plain, refused_foreign):
        assert answer.status_code == 400
        assert f"<Code>{STS_ERROR_CODE}</Code>" in answer.text
    assert accepted_plain.status_code == 200


def test_keys_are_written_where_asked(tmp_path: Path) -> None:
    made = iam_key(tmp_path)
    assert made.cert_path.parent == tmp_path
    assert made.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
