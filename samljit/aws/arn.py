"""AWS ARNs and partitions: the one place samljit reads an ARN or looks up a partition's hosts.

:class:`Arn` is an immutable, parsed ARN (``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``).
:data:`PARTITIONS` holds, for every AWS partition samljit knows, its sign-in, federation and
console hosts, its STS endpoint pieces, its SAML audience and its region-name prefixes;
:func:`region_partition` and :func:`is_region` recognise region names, :func:`signin_endpoint`
the sign-in SAML endpoints (global and regional) an IdP posts to.

Stdlib only and no ``dataclasses``: this module is on the cached start-up path.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from samljit.common.errors import ArnError


class Partition(NamedTuple):
    """What samljit knows of one AWS partition. ``None``: samljit knows no such endpoint
    there (an override such as ``AWS_ENDPOINT_URL_STS`` is the only way in)."""

    name: str
    #: Region-name prefixes of the partition (``cn-``); empty for ``aws``, the default.
    region_prefixes: tuple[str, ...]
    #: DNS suffix of the STS endpoints: ``https://sts.REGION.DNS_SUFFIX``.
    dns_suffix: str | None
    #: Region of the default STS endpoint; ``None``: the global ``https://sts.DNS_SUFFIX``.
    sts_region: str | None
    #: The sign-in host (``signin.aws.amazon.com``); regional ones are ``REGION.HOST``.
    signin_host: str | None
    console_host: str | None
    #: The SP entity id AWS uses in this partition (the SAML ``Audience``).
    saml_urn: str | None

    def sts_url(self, region: str | None = None) -> str | None:
        """The STS endpoint of ``region`` (the partition's default one when ``None``)."""
        if self.dns_suffix is None:
            return None
        chosen = region or self.sts_region
        return (
            f"https://sts.{chosen}.{self.dns_suffix}"
            if chosen
            else f"https://sts.{self.dns_suffix}"
        )

    def signin_url(self, region: str | None = None) -> str | None:
        """``https://signin.aws.amazon.com`` or, with ``region``, ``https://REGION.signin…``."""
        if self.signin_host is None:
            return None
        return f"https://{region}.{self.signin_host}" if region else f"https://{self.signin_host}"

    def federation_url(self) -> str | None:
        """The federation endpoint (``getSigninToken`` and the console ``login`` link)."""
        signin = self.signin_url()
        return f"{signin}/federation" if signin else None

    def acs_url(self, region: str | None = None) -> str | None:
        """The SAML endpoint (ACS URL) the IdP posts the response to."""
        signin = self.signin_url(region)
        return f"{signin}/saml" if signin else None

    def console_url(self) -> str | None:
        return f"https://{self.console_host}" if self.console_host else None


#: Every AWS partition samljit knows, by name. The isolated partitions (and the European
#: sovereign cloud) are recognised in ARNs and region names, but samljit knows none of their
#: endpoints: the SDKs' DNS suffixes are noted for whoever adds them.
PARTITIONS: dict[str, Partition] = {
    p.name: p
    for p in (
        Partition(
            "aws",
            (),
            "amazonaws.com",
            None,
            "signin.aws.amazon.com",
            "console.aws.amazon.com",
            "urn:amazon:webservices",
        ),
        Partition(
            "aws-cn",
            ("cn-",),
            "amazonaws.com.cn",
            "cn-north-1",
            "signin.amazonaws.cn",
            "console.amazonaws.cn",
            "urn:amazon:webservices:cn-north-1",
        ),
        Partition(
            "aws-us-gov",
            ("us-gov-",),
            "amazonaws.com",
            "us-gov-west-1",
            "signin.amazonaws-us-gov.com",
            "console.amazonaws-us-gov.com",
            "urn:amazon:webservices:govcloud",
        ),
        Partition("aws-iso", ("us-iso-",), None, None, None, None, None),  # c2s.ic.gov
        Partition("aws-iso-b", ("us-isob-",), None, None, None, None, None),  # sc2s.sgov.gov
        Partition("aws-iso-e", ("eu-isoe-",), None, None, None, None, None),  # cloud.adc-e.uk
        Partition("aws-iso-f", ("us-isof-",), None, None, None, None, None),  # csp.hci.ic.gov
        Partition("aws-eusc", ("eusc-",), None, None, None, None, None),  # amazonaws.eu
    )
}

_REGION = re.compile(r"[a-z]{2,6}(?:-[a-z]{2,12})+-[0-9]{1,3}")
#: Longest prefix first, so ``us-isob-`` is not taken for ``us-iso-``.
_PREFIXES = sorted(
    ((prefix, p.name) for p in PARTITIONS.values() for prefix in p.region_prefixes),
    key=lambda pair: -len(pair[0]),
)


def is_region(text: str) -> bool:
    """Whether ``text`` is shaped like an AWS region name (``us-east-1``, ``cn-north-1``)."""
    return _REGION.fullmatch(text) is not None


def region_partition(region: str) -> str:
    """The partition a region name belongs to, by its prefix; ``aws`` for every other one."""
    for prefix, partition in _PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def urn_partition(urn: str) -> Partition:
    """The partition whose AWS SP entity id (``aws_urn``) ``urn`` is:
    ``urn:amazon:webservices:govcloud`` → ``aws-us-gov``, ``urn:amazon:webservices:cn…`` →
    ``aws-cn``, anything else (``urn:amazon:webservices``) → ``aws``."""
    name = urn.strip().lower()
    for partition in PARTITIONS.values():
        if partition.saml_urn is not None and partition.saml_urn.lower() == name:
            return partition
    if name.startswith("urn:amazon:webservices:govcloud"):
        return PARTITIONS["aws-us-gov"]
    if name.startswith("urn:amazon:webservices:cn"):
        return PARTITIONS["aws-cn"]
    return PARTITIONS["aws"]


def acs_for_urn(urn: str) -> str:
    """The sign-in SAML endpoint (the ACS an IdP posts to) of ``urn``'s partition
    (:func:`urn_partition`): ``https://signin.aws.amazon.com/saml`` for the default URN."""
    return urn_partition(urn).acs_url() or "https://signin.aws.amazon.com/saml"


def signin_host_partition(host: str) -> str | None:
    """The partition whose sign-in host ``host`` is: ``signin.aws.amazon.com``, or
    ``REGION.signin…`` for a region of that partition; ``None`` for any other host."""
    found = _signin_host(host)
    return found[0] if found is not None else None


def _signin_host(host: str) -> tuple[str, str | None] | None:
    """``(partition, region)`` of an AWS sign-in host (region ``None``: the partition's
    non-regional host); ``None`` for any other host, look-alikes included."""
    host = host.lower()
    for partition in PARTITIONS.values():
        signin = partition.signin_host
        if signin is None:
            continue
        if host == signin:
            return partition.name, None
        region, dot, rest = host.partition(".")
        if dot and rest == signin and is_region(region):
            return (partition.name, region) if region_partition(region) == partition.name else None
    return None


def signin_endpoint(url: str) -> tuple[str, str | None] | None:
    """``(partition, region)`` of an AWS sign-in SAML endpoint, or ``None`` for any other URL.

    Accepted: ``https://HOST/saml`` (region ``None``) and ``https://REGION.HOST/saml`` for the
    sign-in hosts of :data:`PARTITIONS`, the region belonging to the host's partition, as AWS
    documents the regional SAML endpoints. No port, user, query or fragment.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if (
        parts.scheme.lower() != "https"
        or port is not None
        or parts.username is not None
        or parts.password is not None
        or parts.path != "/saml"
        or parts.query
        or parts.fragment
    ):
        return None
    return _signin_host(parts.hostname or "")


_ARN = re.compile(
    r"arn:(?P<partition>[a-z][a-z0-9-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*)"
    r":(?P<account>[0-9]*):(?P<resource>.+)"
)
_ACCOUNT = re.compile(r"[0-9]{12}")


class Arn(NamedTuple):
    """A parsed ARN ``arn:PARTITION:SERVICE:REGION:ACCOUNT_ID:RESOURCE`` (immutable)."""

    partition: str
    service: str
    region: str
    account_id: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> Arn:
        """Parse ``text`` (surrounding blanks ignored); :class:`ArnError` when it is no ARN."""
        arn = cls.try_parse(text)
        if arn is None:
            raise ArnError(
                f"not an AWS ARN: {text!r}",
                hint="a role ARN looks like arn:aws:iam::123456789012:role/NAME",
            )
        return arn

    @classmethod
    def try_parse(cls, text: str | None) -> Arn | None:
        """Like :meth:`parse`, but ``None`` when ``text`` is no ARN."""
        match = _ARN.fullmatch(text.strip()) if text else None
        if match is None:
            return None
        return cls(
            match["partition"],
            match["service"],
            match["region"],
            match["account"],
            match["resource"],
        )

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:{self.service}:{self.region}:{self.account_id}:{self.resource}"
        )

    @property
    def partition_info(self) -> Partition | None:
        """The partition's row of :data:`PARTITIONS`; ``None`` for a partition samljit
        does not know."""
        return PARTITIONS.get(self.partition)

    @property
    def resource_type(self) -> str:
        """``role`` of ``role/path/Name``: the resource up to its first ``/`` or ``:``."""
        return re.split("[/:]", self.resource, maxsplit=1)[0]

    @property
    def name(self) -> str:
        """The last path segment of the resource (``Name`` of ``role/path/Name``)."""
        return self.resource.rsplit("/", 1)[-1]

    @property
    def role_name(self) -> str:
        """The role's name: the last segment of ``role/path/NAME``, the middle one of
        ``assumed-role/NAME/SESSION``."""
        if self.is_assumed_role:
            return self.resource.split("/")[1]
        return self.name

    def _is_iam(self, service: str, kind: str) -> bool:
        prefix = kind + "/"
        return (
            self.partition in PARTITIONS
            and self.service == service
            and _ACCOUNT.fullmatch(self.account_id) is not None
            and self.resource.startswith(prefix)
            and len(self.resource) > len(prefix)
        )

    @property
    def is_role(self) -> bool:
        """``arn:P:iam::ACCOUNT:role/[PATH/]NAME`` in a known partition."""
        return self._is_iam("iam", "role")

    @property
    def is_saml_provider(self) -> bool:
        """``arn:P:iam::ACCOUNT:saml-provider/NAME`` in a known partition."""
        return self._is_iam("iam", "saml-provider")

    @property
    def is_assumed_role(self) -> bool:
        """``arn:P:sts::ACCOUNT:assumed-role/NAME/SESSION`` (a role session's identity)."""
        return self.resource.startswith("assumed-role/") and self.resource.split("/")[1] != ""

    def assumed_role_to_role(self) -> Arn | None:
        """``arn:P:iam::A:role/NAME`` of ``arn:P:sts::A:assumed-role/NAME/SESSION`` (the role's
        path is not in the session ARN, so it is not in the result); ``None`` for any other ARN."""
        if not self.is_assumed_role:
            return None
        return Arn(self.partition, "iam", "", self.account_id, f"role/{self.role_name}")

    def is_session_of(self, role: Arn) -> bool:
        """Is this assumed-role ARN a session of ``role`` (same partition, account, role name)?"""
        return (
            self.is_assumed_role
            and self.partition == role.partition
            and self.account_id == role.account_id
            and self.role_name == role.name
        )
