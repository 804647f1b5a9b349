"""Ping Identity: ``provider = Ping`` (alias ``PingFederate``) and ``provider = PingOne``,
with PingID as the second factor (shared/protocols/ping.md).

:mod:`.federate` walks PingFederate's HTML login, :mod:`.pingid` answers PingID's pages with
factor objects, :mod:`.pingone` holds what PingOne adds. Both providers keep the IdP session
of every Ping host the login went through (PingFederate's ``PF`` cookie, PingOne's), PingID's
aside.
"""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import Account, LoginSecrets, Provider, ProviderKey

from .federate import PingWalk, start_url

MFA_OPTIONS = ("Auto", "PUSH", "OTP", "YUBIKEY")


class _PingBase(Provider):
    mfa_options: ClassVar[tuple[str, ...]] = MFA_OPTIONS

    #: Hosts of the last login's pages (PingID's aside): their cookies are the IdP session.
    _hosts: tuple[str, ...] = ()

    def session_hosts(self) -> list[str]:
        hosts = super().session_hosts()
        hosts.extend(h for h in self._hosts if h not in hosts)
        return hosts

    def login(self, secrets: LoginSecrets) -> str:
        walk = PingWalk(self, secrets)
        try:
            return walk.run(self.account.url)
        finally:
            self._hosts = tuple(walk.hosts)


class PingProvider(_PingBase):
    name: ClassVar[str] = "Ping"
    aliases: ClassVar[tuple[str, ...]] = ("PingFederate",)
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "PingFederate's SSO URL of the AWS connection "
            "(https://HOST/idp/startSSO.ping?PartnerSpId=urn:amazon:webservices; "
            "a bare https://HOST means that path)",
            required=True,
        ),
    )

    @classmethod
    def check_account(cls, account: Account) -> Account:
        account = super().check_account(account)
        expanded = start_url(account.url, account.aws_urn)
        return account if expanded == account.url else account._replace(url=expanded)


class PingOneProvider(_PingBase):
    name: ClassVar[str] = "PingOne"
    keys: ClassVar[tuple[ProviderKey, ...]] = (
        ProviderKey(
            "url",
            "the AWS app's PingOne SSO URL "
            "(https://sso.connect.pingidentity.com/sso/sp/initsso?saasid=…&idpid=…, or "
            "https://auth.pingone.com/ENV_ID/saml20/idp/startsso?spEntityId=…)",
            required=True,
        ),
    )
