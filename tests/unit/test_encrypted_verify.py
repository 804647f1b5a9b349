"""What samljit checks of a Response whose assertion is encrypted for AWS
(samljit/saml/verify.py): with a pinned certificate, the Response's own signature and its
Destination; without one, it is read as encrypted, with no roles."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from samljit.common.errors import VerificationError
from samljit.config.accounts import Account
from samljit.saml import assertion as saml
from samljit.saml.verify import check
from samljit.testing.fakes import fake_services
from samljit.testing.saml import SigningPair, signing_pair
from tests.support.saml_encrypt import IamKey, encrypted_response, iam_key

Keys = tuple[IamKey, SigningPair, SigningPair]
ROLE = ("arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:saml-provider/C")
REGIONAL = "https://eu-west-1.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    base = tmp_path_factory.mktemp("enc-verify")
    for sub in ("iam", "idp", "other"):
        (base / sub).mkdir()
    return iam_key(base / "iam"), signing_pair(base / "idp"), signing_pair(base / "other")


def encrypted(keys: Keys, **kw: object) -> str:
    signer = kw.pop("signer", keys[1])
    return encrypted_response(
        issuer="https://idp.example/saml",
        user="ana",
        roles=[ROLE],
        idp=signer,  # type: ignore[arg-type]
        iam_cert_pem=keys[0].cert_pem,
        **kw,  # type: ignore[arg-type]
    )


def verify(encoded: str, pinned: Path | None, tmp_path: Path) -> saml.SamlAssertion:
    services, _, _ = fake_services({"HOME": str(tmp_path)})
    account = Account(name="a", provider="Command", url="", idp_certificate=pinned)
    return check(encoded, account, now=datetime.now(timezone.utc), terminal=services.terminal)


def test_unpinned_it_is_read_as_encrypted_with_no_roles(keys: Keys, tmp_path: Path) -> None:
    parsed = verify(encrypted(keys), None, tmp_path)
    assert parsed.encrypted and parsed.roles == ()
    assert parsed.not_on_or_after is not None  # IssueInstant + 5 minutes, for the cache


@pytest.mark.parametrize("destination", ["https://signin.aws.amazon.com/saml", REGIONAL])
def test_pinned_a_response_signed_by_the_idp_and_addressed_to_aws_passes(
    keys,
    tmp_path: Path,
    destination: str,  # type: ignore[no-untyped-def]
) -> None:
    parsed = verify(encrypted(keys, destination=destination), keys[1].cert_path, tmp_path)
    assert parsed.encrypted and parsed.destination == destination


def test_pinned_a_response_signed_by_another_key_is_refused(keys: Keys, tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match=r"^signature check failed"):
        verify(encrypted(keys, signer=keys[2]), keys[1].cert_path, tmp_path)


def test_pinned_a_response_addressed_elsewhere_is_refused(keys: Keys, tmp_path: Path) -> None:
    encoded = encrypted(keys, destination="https://evil.example/saml")
    with pytest.raises(VerificationError, match=r"^destination check failed"):
        verify(encoded, keys[1].cert_path, tmp_path)
