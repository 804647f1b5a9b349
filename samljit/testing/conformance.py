"""The tests every provider should pass, as a pytest base class.

Subclass it in the provider's own tests, set :attr:`provider` and implement the hooks::

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
        # a user the IdP asks a second factor of, with the one-time code (optional)
        mfa = LoginSecrets("bo@example.com", "right password", mfa_token="123456")

Besides the login itself, the kit checks what samljit relies on: the provider prints nothing
(it talks through the injected terminal), never sleeps for real (only through
``services.sleep``), reads the username and password lazily and at most once (not at all
when its :attr:`~samljit.idp.api.Provider.password_need` is ``NEVER``), signs in again with
the IdP session kept from the first login (the cookies of its ``session_hosts()``), and, when
:attr:`mfa` is set, passes the second factor with the code given and ends with a samljit error,
not a prompt or a hang, without one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from samljit.common.errors import AuthenticationError, SamljitError
from samljit.config.accounts import KEY_NAMES, Account
from samljit.idp.provider import API_VERSION, LoginSecrets, PasswordNeed, Plugins, Provider
from samljit.testing.fakes import fake_services


class ProviderConformance:
    provider: ClassVar[type[Provider]]
    good: ClassVar[LoginSecrets]
    bad: ClassVar[LoginSecrets]
    #: A user the IdP asks a second factor of, with the code (``None``: no MFA to test).
    mfa: ClassVar[LoginSecrets | None] = None
    #: Why there is no :attr:`mfa` to give, when the provider takes no second-factor code at
    #: all (e.g. the person completes it in the browser window); shown when the MFA checks skip.
    no_mfa_because: ClassVar[str] = "no MFA user given (set `mfa`)"

    def account(self, idp: Any, tmp_path: Path) -> Account:
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def _no_real_sleep(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """A provider waits through ``services.sleep`` (the kit's fake clock) only."""

        real, test = time.sleep, threading.current_thread()

        def refuse(seconds: float) -> None:
            if threading.current_thread() is not test:  # the emulator's own threads
                return real(seconds)
            raise AssertionError(f"the provider slept {seconds} s for real (use services.sleep)")

        monkeypatch.setattr(time, "sleep", refuse)
        yield

    def _login(
        self,
        idp: Any,
        tmp_path: Path,
        secrets: LoginSecrets,
        *,
        cookies: list[dict[str, Any]] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Log in once: the SAMLResponse, and the IdP session (cookies) it leaves."""
        from samljit.common.http import HttpClient

        services, _, _ = fake_services({"HOME": str(tmp_path)})
        account = self.provider.check_account(self.account(idp, tmp_path))
        http = HttpClient(env=services.env, sleep=services.sleep, monotonic=services.monotonic)
        try:
            provider = self.provider(account, http, services)
            if cookies is not None:
                http.load_cookies(cookies)
                provider.session_loaded = True
            encoded = provider.login(secrets)
            return encoded, http.cookies_for(provider.session_hosts())
        finally:
            http.close()

    def test_declares_the_api_it_was_written_for(self) -> None:
        assert self.provider.api_version == API_VERSION
        assert self.provider.name and self.provider.mfa_options[0] == "Auto"
        assert isinstance(self.provider.password_need, PasswordNeed)

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

        encoded, _ = self._login(idp, tmp_path, self.good)
        parsed = assertion.parse(encoded)
        assert parsed.roles, "the assertion grants no role"

    def test_wrong_password_is_an_authentication_error(self, idp: Any, tmp_path: Path) -> None:
        with pytest.raises(AuthenticationError):
            self._login(idp, tmp_path, self.bad)

    def test_prints_nothing(
        self, idp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self._login(idp, tmp_path, self.good)
        if self.mfa is not None:
            self._login(idp, tmp_path, self.mfa)
        out = capsys.readouterr()
        assert out.out == "" and out.err == "", "a provider talks through the terminal only"

    def test_reads_the_secrets_lazily_and_once(self, idp: Any, tmp_path: Path) -> None:
        reads: list[str] = []

        def asked(name: str, value: Callable[[], Any]) -> Callable[[], Any]:
            def ask() -> Any:
                reads.append(name)
                return value()

            return ask

        lazy = LoginSecrets(
            "",
            None,
            self.good.mfa_token,
            ask_username=asked("username", lambda: self.good.username),
            ask_password=asked("password", lambda: self.good.password),
        )
        self._login(idp, tmp_path, lazy)
        assert reads.count("username") <= 1 and reads.count("password") <= 1
        if self.provider.password_need is PasswordNeed.NEVER:
            assert "password" not in reads, "password_need is NEVER, yet it read the password"

    def test_signs_in_again_with_the_kept_session(self, idp: Any, tmp_path: Path) -> None:
        """The flow loads the cookies kept from the last login and sets ``session_loaded``;
        the provider must then still sign in (asking for the secrets only if the IdP does)."""
        from samljit.saml import assertion

        _, kept = self._login(idp, tmp_path, self.good)
        encoded, _ = self._login(idp, tmp_path, self.good, cookies=kept)
        assert assertion.parse(encoded).roles

    def test_passes_the_second_factor(self, idp: Any, tmp_path: Path) -> None:
        from samljit.saml import assertion

        if self.mfa is None:
            pytest.skip(f"{self.provider.name}: {self.no_mfa_because}")
        encoded, _ = self._login(idp, tmp_path, self.mfa)
        assert assertion.parse(encoded).roles

    def test_without_the_code_mfa_is_a_clear_error(self, idp: Any, tmp_path: Path) -> None:
        """No code and no terminal to ask on: a samljit error, not a prompt or a hang."""
        if self.mfa is None:
            pytest.skip(f"{self.provider.name}: {self.no_mfa_because}")
        secrets = LoginSecrets(self.mfa.username, self.mfa.password, None)
        with pytest.raises(SamljitError):
            self._login(idp, tmp_path, secrets)
