"""ExampleCorp passes samljit's provider conformance tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator import ExampleCorpEmulator  # the tests folder is on sys.path
from samljit_example import ExampleCorpProvider

from samljit.idp.api import Account, LoginSecrets
from samljit.testing.conformance import ProviderConformance

ROLE = ("arn:aws:iam::123456789012:role/Dev", "arn:aws:iam::123456789012:saml-provider/ex")


class TestExampleCorp(ProviderConformance):
    provider = ExampleCorpProvider
    good = LoginSecrets("ana@example.com", "right")
    bad = LoginSecrets("ana@example.com", "wrong")
    mfa = LoginSecrets("bo@example.com", "right too", "123456")

    @pytest.fixture
    def idp(self, tmp_path: Path) -> Iterator[ExampleCorpEmulator]:
        emulator = ExampleCorpEmulator(
            tmp_path,
            username="ana@example.com",
            password="right",
            tenant="acme",
            roles=[ROLE],
            mfa_user=("bo@example.com", "right too", "123456"),
        )
        with emulator as running:
            yield running

    def account(self, idp: ExampleCorpEmulator, tmp_path: Path) -> Account:
        return Account(
            name="ex", provider="ExampleCorp", url=idp.base_url, options={"tenant": "acme"}
        )
