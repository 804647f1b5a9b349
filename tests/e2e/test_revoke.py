"""Beyond getting credentials: ``revoke`` (an IAM policy put through moto's IAM, signed by
botocore), ``--reason`` in the audit log (full and replayed runs), and ``eks-token`` (a
presigned STS URL that moto's STS answers)."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from samljit.aws.iam import revoke_policy
from tests.e2e.test_answers import audit_lines, modules_of
from tests.e2e.test_startup import valid_profile
from tests.e2e.test_terminal import finish, spawn
from tests.emulators.jumpcloud import JumpCloudEmulator
from tests.support.accounts import (
    ACCOUNT_ID,
    FULL_ARN,
    RO_ARN,
    account_config,
    fresh_code,
)
from tests.support.cli import Cli
from tests.support.moto_sts import StsView
from tests.support.paths import SAMLJIT
from tests.support.tls import tls_pair
from tests.support.tools import requires_tool

pytestmark = pytest.mark.e2e

POLICY = "AWSRevokeOlderSessions"
#: Keys moto knows nothing of: moto takes them for a user of its default account.
OTHER_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAADMINEXAMPLE0001", "AWS_SECRET_ACCESS_KEY": "admin-secret"}
OTHER_ACCOUNT = "123456789012"


def keys_of(sts: StsView, account: str, name: str = "SecurityAdmin") -> dict[str, str]:
    """Temporary keys of a role in ``account`` from moto's STS: moto then answers
    GetCallerIdentity and IAM calls made with them as that account, as AWS does."""
    client = boto3.client(
        "sts",
        endpoint_url=sts.url,
        region_name="us-east-1",
        aws_access_key_id="AKIATESTEXAMPLE00001",
        aws_secret_access_key="test-secret",
    )
    got = client.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{name}", RoleSessionName="sec")
    return {
        "AWS_ACCESS_KEY_ID": got["Credentials"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": got["Credentials"]["SecretAccessKey"],
        "AWS_SESSION_TOKEN": got["Credentials"]["SessionToken"],
    }


def iam(sts: StsView, keys: dict[str, str] | None = None) -> Any:
    """moto's IAM of the test company's account (of ``keys``' account when given)."""
    chosen = keys or keys_of(sts, ACCOUNT_ID)
    return boto3.client(
        "iam",
        endpoint_url=sts.url,
        region_name="us-east-1",
        aws_access_key_id=chosen["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=chosen["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=chosen.get("AWS_SESSION_TOKEN"),
    )


@pytest.fixture
def admin(cli: Cli, sts: StsView, jumpcloud: JumpCloudEmulator) -> Cli:
    """The test company's roles in moto's IAM, without a revocation policy; samljit configured,
    and the environment holding an administrator's keys and moto as IAM endpoint."""
    client = iam(sts)
    for arn in (RO_ARN, FULL_ARN):
        name = arn.rsplit("/", 1)[1]
        with contextlib.suppress(client.exceptions.EntityAlreadyExistsException):
            client.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
        with contextlib.suppress(client.exceptions.NoSuchEntityException):
            client.delete_role_policy(RoleName=name, PolicyName=POLICY)
    cli.write_config(account_config(jumpcloud))
    keys = keys_of(sts, ACCOUNT_ID)
    cli.env.update(keys, AWS_ENDPOINT_URL_IAM=sts.url)
    cli.secrets.update([keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"]])
    return cli


def put_policy(sts: StsView, arn: str) -> dict[str, Any] | None:
    client = iam(sts)
    try:
        got = client.get_role_policy(RoleName=arn.rsplit("/", 1)[1], PolicyName=POLICY)
    except client.exceptions.NoSuchEntityException:
        return None
    document: dict[str, Any] = got["PolicyDocument"]
    return document


# -- revoke -----------------------------------------------------------------------------
def test_revoke_puts_the_console_policy_and_a_second_one_overwrites(
    admin: Cli, sts: StsView
) -> None:
    first = admin.run(
        "revoke", "-a", "production", "--role", "readonly", "--before", "2024-05-01T12:00:00Z",
        "--yes",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert put_policy(sts, RO_ARN) == revoke_policy("2024-05-01T12:00:00Z")
    assert f"Revoked: sessions of {RO_ARN} issued before 2024-05-01T12:00:00Z" in first.stderr
    # an offset is turned into UTC, a fraction rounds up: nothing issued before it escapes
    second = admin.run(
        "revoke", "-a", "production", "--role", RO_ARN,
        "--before", "2024-05-01T14:30:00.250+02:00", "--yes",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert put_policy(sts, RO_ARN) == revoke_policy("2024-05-01T12:30:01Z")  # replaced, not added
    names = iam(sts).list_role_policies(RoleName="AcmeJumpCloudAdminRO")["PolicyNames"]
    assert names == [POLICY]
    revoked = [e for e in audit_lines(admin) if e["event"] == "role.revoked"]
    assert [(e["role_arn"], e["before"], e["account"]) for e in revoked] == [
        (RO_ARN, "2024-05-01T12:00:00Z", "production"),
        (RO_ARN, "2024-05-01T12:30:01Z", "production"),
    ]
    assert put_policy(sts, FULL_ARN) is None  # the other role is untouched


def test_revoke_defaults_to_now_and_the_role_the_profile_holds(admin: Cli, sts: StsView) -> None:
    valid_profile(admin, role="AcmeJumpCloudAdmin")
    started = datetime.now(timezone.utc).replace(microsecond=0)
    ran = admin.run("revoke", "-a", "production", "--yes")
    ended = datetime.now(timezone.utc)
    assert ran.returncode == 0, ran.stderr
    document = put_policy(sts, FULL_ARN)
    assert document is not None
    before = document["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert audit_lines(admin)[-1]["before"] == before  # "now", as the policy says it
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", before)
    # the moment of the run, rounded up to the second (nothing issued before it escapes)
    moment = datetime.strptime(before, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert started <= moment <= ended + timedelta(seconds=1), (started, before, ended)


def test_revoke_finds_a_role_name_in_the_cached_assertion(
    admin: Cli, sts: StsView, jumpcloud: JumpCloudEmulator
) -> None:
    unknown = admin.run("revoke", "-a", "production", "--role", "AcmeJumpCloudAdmin", "--yes")
    assert unknown.returncode == 4
    assert "no assertion of the account is cached" in unknown.stderr
    code = fresh_code(admin)
    assert admin.run("login", "-a", "production", "--mfa-token", code).returncode == 0
    ran = admin.run("revoke", "-a", "production", "--role", "AcmeJumpCloudAdmin", "--yes")
    assert ran.returncode == 0, ran.stderr
    assert put_policy(sts, FULL_ARN) is not None and put_policy(sts, RO_ARN) is None


def test_revoke_without_a_terminal_or_yes_writes_nothing(admin: Cli, sts: StsView) -> None:
    ran = admin.run("revoke", "-a", "production", "--role", "readonly")
    assert ran.returncode == 2
    assert "confirmation to write the policy is needed, but there is no terminal" in ran.stderr
    assert "hint: pass --yes" in ran.stderr
    assert put_policy(sts, RO_ARN) is None
    assert not any(e["event"] == "role.revoked" for e in audit_lines_or_none(admin))


def audit_lines_or_none(cli: Cli) -> list[dict[str, str]]:
    path = cli.home / ".local" / "state" / "samljit" / "audit.log"
    return audit_lines(cli) if path.exists() else []


@pytest.mark.parametrize(("answer", "written"), [("yes", True), ("no", False)])
def test_revoke_asks_on_the_terminal(admin: Cli, sts: StsView, answer: str, written: bool) -> None:
    child = spawn(admin, "revoke", "-a", "production", "--role", "readonly", "--before", "now")
    child.expect(f"Inline policy {POLICY} for {RO_ARN}")
    child.expect('"aws:TokenIssueTime":"')
    child.expect("Write this policy\\? \\(yes/no\\)")
    child.sendline(answer)
    shown = finish(child)
    assert child.exitstatus == 0, shown
    assert (put_policy(sts, RO_ARN) is not None) is written
    assert ("Revoked: sessions of" in shown) is written
    assert ("Nothing written." in shown) is not written


def test_revoke_of_an_unknown_role_is_exit_5(admin: Cli) -> None:
    arn = "arn:aws:iam::012345678987:role/NoSuchRole"
    ran = admin.run("revoke", "-a", "production", "--role", arn, "--yes")
    assert ran.returncode == 5
    assert "samljit: error: AWS refused: NoSuchEntity: " in ran.stderr
    assert "has no role named NoSuchRole" in ran.stderr


def test_revoke_with_the_credentials_of_an_aws_profile(admin: Cli, sts: StsView) -> None:
    env = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}
    missing = admin.run("revoke", "-a", "production", "--role", "readonly", "--yes", env=env)  # type: ignore[arg-type]
    assert missing.returncode == 2 and "no AWS credentials to sign with" in missing.stderr
    no_such = admin.run(
        "revoke", "-a", "production", "--role", "readonly", "--yes", "--aws-profile", "nope",
        env=env,  # type: ignore[arg-type]
    )  # fmt: skip
    assert no_such.returncode == 2 and "AWS profile 'nope' is not in" in no_such.stderr
    keys = keys_of(sts, ACCOUNT_ID, "ProfileAdmin")
    admin.credentials.parent.mkdir(exist_ok=True)
    admin.credentials.write_text(
        f"[security-admin]\naws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {keys['AWS_SECRET_ACCESS_KEY']}\n"
        f"aws_session_token = {keys['AWS_SESSION_TOKEN']}\n"
    )
    admin.secrets.update([keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"]])
    ran = admin.run(
        "revoke", "-a", "production", "--role", "readonly", "--yes",
        "--aws-profile", "security-admin", env=env,  # type: ignore[arg-type]
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert put_policy(sts, RO_ARN) is not None


#: IAM's answer when the caller may not put the policy (the real XML, as IAM sends it).
ACCESS_DENIED = """<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:sts::012345678987:assumed-role/AcmeJumpCloudAdminRO/ops@acme.example is not authorized to perform: iam:PutRolePolicy on resource: role AcmeJumpCloudAdminRO because no identity-based policy allows the iam:PutRolePolicy action</Message>
  </Error>
  <RequestId>4c5a2b1e-6f7d-4e2a-9b1c-0d8e7f6a5b4c</RequestId>
</ErrorResponse>
"""  # noqa: E501


@contextlib.contextmanager
def served(app: Any, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """``app`` served on loopback (https with ``ssl_context``) while the block runs."""
    server = make_server("127.0.0.1", 0, app, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def denying_iam() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback IAM that refuses every call with AccessDenied; records the requests."""
    seen: list[dict[str, str]] = []

    @Request.application  # type: ignore[misc]
    def app(request: Request) -> Response:
        seen.append({"Authorization": request.headers.get("Authorization", ""), **request.form})
        return Response(ACCESS_DENIED, status=403, content_type="text/xml")

    with served(app) as url:
        yield url, seen


def test_access_denied_names_the_missing_permission(
    admin: Cli, denying_iam: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = denying_iam
    ran = admin.run(
        "revoke", "-a", "production", "--role", "readonly", "--yes",
        env={"AWS_ENDPOINT_URL_IAM": url},
    )  # fmt: skip
    assert ran.returncode == 5
    lines = ran.stderr.strip().splitlines()
    assert lines[-2].startswith("samljit: error: AWS refused: AccessDenied: User: arn:aws:sts::")
    assert lines[-1] == (
        "hint: the environment's AWS credentials may not do this: the missing permission is "
        f"iam:PutRolePolicy on {RO_ARN} (run revoke with an administrator's profile: "
        "--aws-profile)"
    )
    request = seen[0]
    assert request["Action"] == "PutRolePolicy" and request["RoleName"] == "AcmeJumpCloudAdminRO"
    assert request["PolicyName"] == POLICY
    # signed by botocore: SigV4 over IAM's scope, with the environment's key
    assert request["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={admin.env['AWS_ACCESS_KEY_ID']}/"
    )
    assert "/us-east-1/iam/aws4_request" in request["Authorization"]
    policy = json.loads(request["PolicyDocument"])
    assert policy["Statement"][0]["Effect"] == "Deny"


def test_aws_endpoint_url_is_the_fallback_for_iam(admin: Cli, sts: StsView) -> None:
    ran = admin.run(
        "revoke", "-a", "production", "--role", "readonly", "--yes",
        env={"AWS_ENDPOINT_URL_IAM": None, "AWS_ENDPOINT_URL": sts.url},  # type: ignore[dict-item]
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert put_policy(sts, RO_ARN) is not None


def test_revoke_refuses_credentials_of_another_account(admin: Cli, sts: StsView) -> None:
    """IAM names a role by its name in the caller's account: with keys of 123456789012, a
    revoke of 999988887777's Admin would write the deny policy on 123456789012's Admin."""
    theirs = keys_of(sts, "999988887777")
    admin.secrets.update([theirs["AWS_SECRET_ACCESS_KEY"], theirs["AWS_SESSION_TOKEN"]])
    admin.secrets.add(OTHER_KEYS["AWS_SECRET_ACCESS_KEY"])
    target = "arn:aws:iam::999988887777:role/Admin"
    for keys in (theirs, {**OTHER_KEYS}):
        with contextlib.suppress(Exception):
            iam(sts, keys).create_role(RoleName="Admin", AssumeRolePolicyDocument="{}")
    env: dict[str, str | None] = {**OTHER_KEYS, "AWS_SESSION_TOKEN": None}
    ran = admin.run("revoke", "-a", "production", "--role", target, "--yes", env=env)  # type: ignore[arg-type]
    assert ran.returncode == 2, ran.stderr
    assert (
        "samljit: error: the environment's AWS credentials belong to account 123456789012, "
        f"but role {target} is in account 999988887777" in ran.stderr
    )
    assert "hint: pass --aws-profile with credentials of account 999988887777" in ran.stderr
    assert "Revoked" not in ran.stderr
    for keys in (theirs, {**OTHER_KEYS}):
        assert iam(sts, keys).list_role_policies(RoleName="Admin")["PolicyNames"] == []
    assert not any(e["event"] == "role.revoked" for e in audit_lines_or_none(admin))
    # keys of the role's account: written, and the notice says by whom
    ok = admin.run("revoke", "-a", "production", "--role", RO_ARN, "--yes")
    assert ok.returncode == 0, ok.stderr
    assert "Written as arn:aws:sts::012345678987:assumed-role/SecurityAdmin/sec." in ok.stderr
    assert put_policy(sts, RO_ARN) is not None


def test_a_bad_before_is_a_usage_error(admin: Cli) -> None:
    for bad in ("yesterday", "2024-05-01", "2024-05-01T12:00:00"):
        ran = admin.run("revoke", "-a", "production", "--role", "readonly", "--before", bad)
        assert ran.returncode == 2, bad
        assert "is not an RFC 3339 time with a zone" in ran.stderr


# -- --reason -----------------------------------------------------------------------------
@pytest.fixture
def cached(cli: Cli, jumpcloud: JumpCloudEmulator) -> Cli:
    """Valid credentials in the profile: login and exec are answered without the IdP."""
    cli.write_config(account_config(jumpcloud))
    valid_profile(cli)
    return cli


def grants_of(cli: Cli) -> list[dict[str, str]]:
    return [e for e in audit_lines(cli) if e["event"] in ("grant.issued", "grant.reused")]


def test_login_records_the_reason_and_audit_shows_it(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    code = fresh_code(cli)
    reason = "INC-4711: disk full on db-1"
    ran = cli.run("login", "-a", "production", "--mfa-token", code, "--reason", reason)
    assert ran.returncode == 0, ran.stderr
    [issued] = [e for e in audit_lines(cli) if e["event"] == "grant.issued"]
    assert issued["reason"] == reason and issued["role_arn"] == RO_ARN
    printed = [json.loads(x) for x in cli.run("audit", "--json").stdout.splitlines()]
    assert [e.get("reason") for e in printed if e["event"] == "grant.issued"] == [reason]
    assert f"reason={reason}" in cli.run("audit").stdout
    # a reason is never a way to write control characters into the log or onto a terminal
    hostile = "ok\x1b[2J\nforged line"
    again = cli.run("login", "-a", "production", "--reason", hostile)
    assert again.returncode == 0, again.stderr
    log = (cli.home / ".local" / "state" / "samljit" / "audit.log").read_text()
    assert "\x1b" not in log and len(log.splitlines()) == len(audit_lines(cli))
    assert grants_of(cli)[-1]["reason"] == "ok\\x1b[2J\\nforged line"


def test_exec_hands_the_reason_to_the_child_also_when_replayed(cached: Cli) -> None:
    show = ["exec", "-a", "production", "--reason", "deploy 1.2.3", "--", "sh", "-c"]
    script = 'printf "%s" "$SAMLJIT_REASON"'
    first = cached.run(*show, script)
    assert (first.returncode, first.stdout) == (0, "deploy 1.2.3"), first.stderr
    modules, second = modules_of(cached, *show, script)
    assert (second.returncode, second.stdout) == (0, "deploy 1.2.3"), second.stderr
    assert "argparse" not in modules  # answered by the remembered answer
    assert [(e["event"], e.get("reason")) for e in grants_of(cached)] == [
        ("grant.reused", "deploy 1.2.3"),
        ("grant.reused", "deploy 1.2.3"),
    ]


def test_samljit_reason_is_part_of_what_is_remembered(cached: Cli) -> None:
    """The same words with another SAMLJIT_REASON must not replay the old reason."""
    show = ["exec", "-a", "production", "--", "sh", "-c", 'printf "%s" "$SAMLJIT_REASON"']
    for reason in ("first reason", "first reason", "second reason"):
        cached.env["SAMLJIT_REASON"] = reason
        modules, ran = modules_of(cached, *show)
        assert (ran.returncode, ran.stdout) == (0, reason), ran.stderr
    assert [e.get("reason") for e in grants_of(cached)] == [
        "first reason",
        "first reason",
        "second reason",
    ]
    assert "argparse" in modules  # the new reason took the full path
    del cached.env["SAMLJIT_REASON"]
    plain = cached.run(*show)
    assert plain.stdout == "" and "reason" not in grants_of(cached)[-1]


def test_credential_process_records_the_reason_cached_or_not(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    code = fresh_code(cli)
    args = ("credential-process", "-a", "production", "--reason", "billing report")
    first = cli.run(*args, env={"SAMLJIT_MFA_TOKEN": code}, stdout_has_secrets=True)
    assert first.returncode == 0, first.stderr
    second = cli.run(*args, stdout_has_secrets=True)  # from the cache
    third = cli.run(*args, stdout_has_secrets=True)  # replayed
    assert second.stdout == third.stdout == first.stdout
    assert [(e["event"], e.get("reason")) for e in grants_of(cli)] == [
        ("grant.issued", "billing report"),
        ("grant.reused", "billing report"),
        ("grant.reused", "billing report"),
    ]
    long = cli.run("credential-process", "-a", "production", "--reason", "x" * 501)
    assert long.returncode == 2 and "at most 500 are kept" in long.stderr


# -- eks-token ------------------------------------------------------------------------------
def eks_token(cli: Cli, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli.run("eks-token", "-a", "production", *args, env=env or None, stdout_has_secrets=True)


def test_eks_token_is_an_exec_credential_that_sts_answers(
    cli: Cli, jumpcloud: JumpCloudEmulator, sts: StsView
) -> None:
    cli.write_config(account_config(jumpcloud))
    code = fresh_code(cli)
    ran = eks_token(cli, "--cluster", "prod-eks", SAMLJIT_MFA_TOKEN=code)
    assert ran.returncode == 0, ran.stderr
    [line] = ran.stdout.splitlines()
    credential = json.loads(line)
    assert list(credential) == ["kind", "apiVersion", "spec", "status"]
    assert credential["kind"] == "ExecCredential" and credential["spec"] == {}
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    token = credential["status"]["token"]
    cli.secrets.add(token)
    expires = credential["status"]["expirationTimestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expires)
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    encoded = token.removeprefix("k8s-aws-v1.")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", encoded)  # base64url, no padding
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == sts.url  # AWS_ENDPOINT_URL_STS
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["Action"] == "GetCallerIdentity" and query["Version"] == "2011-06-15"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].endswith("/us-east-2/sts/aws4_request")  # the region
    assert query["X-Amz-Security-Token"] and query["X-Amz-Signature"]
    # what the cluster's authenticator does: GET the URL with the cluster header
    answer = requests.get(url, headers={"x-k8s-aws-id": "prod-eks"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert "<GetCallerIdentityResponse" in answer.text
    assert sts.calls[-1].action == "GetCallerIdentity"
    # signed with the role's cached credentials (moto does not map a presigned key to its
    # identity, so compare the key with what credential-process hands out)
    keys = json.loads(cli.run("credential-process", "-a", "production", record=False).stdout)
    cli.secrets.update([keys["SecretAccessKey"], keys["SessionToken"]])
    assert query["X-Amz-Credential"].split("/")[0] == keys["AccessKeyId"]
    assert query["X-Amz-Security-Token"] == keys["SessionToken"]
    # the next token comes from the cached credentials: no IdP, no STS login
    before = (len(jumpcloud.requests), [c.action for c in sts.calls].count("AssumeRoleWithSAML"))
    again = eks_token(cli, "--cluster", "prod-eks")
    assert again.returncode == 0, again.stderr
    after = (len(jumpcloud.requests), [c.action for c in sts.calls].count("AssumeRoleWithSAML"))
    assert after == before
    cli.secrets.add(json.loads(again.stdout)["status"]["token"])
    events = [e["event"] for e in audit_lines(cli)]
    assert events[-3:] == ["grant.issued", "grant.reused", "grant.reused"]


def test_eks_token_region_and_regional_sts(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    code = fresh_code(cli)
    assert eks_token(cli, "--cluster", "a", SAMLJIT_MFA_TOKEN=code).returncode == 0
    # cached credentials; without an endpoint override the URL is STS of the cluster's region
    ran = eks_token(
        cli, "--cluster", "eu-cluster", "--region", "eu-west-1", AWS_ENDPOINT_URL_STS=""
    )
    assert ran.returncode == 0, ran.stderr
    token = json.loads(ran.stdout)["status"]["token"]
    cli.secrets.add(token)
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    assert url.startswith("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&")
    assert "%2Feu-west-1%2Fsts%2Faws4_request" in url


def test_eks_token_bad_cluster_and_no_terminal(cli: Cli, jumpcloud: JumpCloudEmulator) -> None:
    cli.write_config(account_config(jumpcloud))
    bad = eks_token(cli, "--cluster", "bad name;rm")
    assert bad.returncode == 2 and "is not an EKS cluster name" in bad.stderr
    missing = cli.run("eks-token", "-a", "production")
    assert missing.returncode == 2 and "--cluster" in missing.stderr
    # MFA needed and nobody to ask: as credential-process, at once and without output
    no_code = eks_token(cli, "--cluster", "prod-eks")
    assert no_code.returncode == 2 and no_code.stdout == ""
    assert "there is no terminal to ask on" in no_code.stderr


@pytest.fixture
def kube_api(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A loopback Kubernetes API server (https: kubectl runs exec plugins only for TLS
    connections) that answers /version; its URL, its CA, and the Authorization headers."""
    seen: list[str] = []

    @Request.application  # type: ignore[misc]
    def app(request: Request) -> Response:
        seen.append(request.headers.get("Authorization", ""))
        if not request.headers.get("Authorization", "").startswith("Bearer k8s-aws-v1."):
            return Response('{"kind":"Status","code":401}', status=401)
        version = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux"}
        return Response(json.dumps(version), content_type="application/json")

    pair = tls_pair(tmp_path, "kube-apiserver")
    with served(app, pair.server_context()) as url:
        yield url, pair.ca, seen


def kubeconfig(cli: Cli, server: str, ca: Path, api_version: str) -> Path:
    """A kubeconfig whose user runs samljit eks-token, asking for ``api_version``."""
    exec_section: dict[str, Any] = {
        "apiVersion": api_version,
        "command": str(SAMLJIT),
        "args": ["eks-token", "-a", "production", "--cluster", "prod-eks"],
    }
    if api_version.endswith("/v1"):
        exec_section["interactiveMode"] = "Never"  # required by v1
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "eks", "cluster": {"server": server, "certificate-authority": str(ca)}}
        ],
        "users": [{"name": "samljit", "user": {"exec": exec_section}}],
        "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "samljit"}}],
        "current-context": "eks",
    }
    path = cli.home / f"kubeconfig-{api_version.rsplit('/', 1)[1]}"
    path.write_text(json.dumps(config))
    return path


@requires_tool("kubectl")
@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_kubectl_gets_the_exec_credential_version_it_asks_for(
    cli: Cli,
    jumpcloud: JumpCloudEmulator,
    sts: StsView,
    kube_api: tuple[str, Path, list[str]],
    version: str,
) -> None:
    cli.write_config(account_config(jumpcloud))
    code = fresh_code(cli)
    first = eks_token(cli, "--cluster", "prod-eks", SAMLJIT_MFA_TOKEN=code)  # logs in, caches
    assert first.returncode == 0, first.stderr
    cli.secrets.add(json.loads(first.stdout)["status"]["token"])
    url, ca, seen = kube_api
    config = kubeconfig(cli, url, ca, f"client.authentication.k8s.io/{version}")
    ran = subprocess.run(
        ["kubectl", "--kubeconfig", str(config), "get", "--raw", "/version"],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cli.home,
        stdin=subprocess.DEVNULL,
    )
    cli.outputs.append(ran.stderr)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["gitVersion"] == "v1.32.0"
    token = seen[-1].removeprefix("Bearer ")
    cli.secrets.add(token)
    encoded = token.removeprefix("k8s-aws-v1.")
    presigned = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    answer = requests.get(presigned, headers={"x-k8s-aws-id": "prod-eks"}, timeout=30)
    assert answer.status_code == 200, answer.text  # the token the cluster would check


def test_eks_token_refuses_a_version_it_does_not_make(
    cli: Cli, jumpcloud: JumpCloudEmulator
) -> None:
    cli.write_config(account_config(jumpcloud))
    info = '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v2","spec":{}}'
    ran = eks_token(cli, "--cluster", "prod-eks", KUBERNETES_EXEC_INFO=info)
    assert ran.returncode == 2 and ran.stdout == ""
    assert "'client.authentication.k8s.io/v2', which samljit does not make" in ran.stderr
    assert jumpcloud.requests == []  # refused before any login
