"""The tests every provider should pass, as a pytest base class.

Subclass it in the provider's own tests, set :attr:`provider` and implement the three hooks::

    class TestExampleCorp(ProviderConformance):
        provider = ExampleCorpProvider

        @pytest.fixture
        def idp(self):            # the emulator, running
            with ExampleCorpEmulator(...) as emu:
                yield emu

        def account(self, idp, tmp_path):   # an Account pointing at it
            ...

        good = LoginSecrets("ana@example.com", "right password")
        bad = LoginSecrets("ana@example.com", "wrong password")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from samljit.common.errors import AuthenticationError
from samljit.config.accounts import KEY_NAMES, Account
from samljit.idp.provider import API_VERSION, LoginSecrets, Plugins, Provider
from samljit.testing.fakes import fake_services


class ProviderConformance:
    provider: ClassVar[type[Provider]]
    good: ClassVar[LoginSecrets]
    bad: ClassVar[LoginSecrets]

    def account(self, idp: Any, tmp_path: Path) -> Account:
        raise NotImplementedError

    def _login(self, idp: Any, tmp_path: Path, secrets: LoginSecrets) -> str:
        from samljit.common.http import HttpClient

        services, _, _ = fake_services({"HOME": str(tmp_path)})
        account = self.provider.check_account(self.account(idp, tmp_path))
        http = HttpClient(env=services.env, sleep=services.sleep, monotonic=services.monotonic)
        try:
            return self.provider(account, http, services).login(secrets)
        finally:
            http.close()

    def test_declares_the_api_it_was_written_for(self) -> None:
        assert self.provider.api_version == API_VERSION
        assert self.provider.name and self.provider.mfa_options[0] == "Auto"

    def test_keys_are_well_formed(self) -> None:
        names = [k.name for k in self.provider.keys]
        assert len(names) == len(set(names)), "a key declared twice"
        for key in self.provider.keys:
            assert key.help, f"{key.name} has no help text"
            assert key.flag.startswith("--")
            assert key.name in KEY_NAMES or not key.name.startswith("aws_")

    def test_is_registered_under_its_lower_case_name(self) -> None:
        for name in (self.provider.name, *self.provider.aliases):
            assert Plugins().load(name.lower()) is self.provider

    def test_login_returns_a_saml_response_with_roles(self, idp: Any, tmp_path: Path) -> None:
        from samljit.saml import assertion

        encoded = self._login(idp, tmp_path, self.good)
        parsed = assertion.parse(encoded)
        assert parsed.roles, "the assertion grants no role"

    def test_wrong_password_is_an_authentication_error(self, idp: Any, tmp_path: Path) -> None:
        with pytest.raises(AuthenticationError):
            self._login(idp, tmp_path, self.bad)

    def test_prints_nothing(
        self, idp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self._login(idp, tmp_path, self.good)
        out = capsys.readouterr()
        assert out.out == "" and out.err == "", "a provider talks through the terminal only"
