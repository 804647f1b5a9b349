"""``samljit eks-token``: a kubectl ``ExecCredential`` for an EKS cluster, from the role's
credentials (cached, logging in when needed, exactly as ``credential-process`` does).

    users:
    - name: production
      user:
        exec:
          apiVersion: client.authentication.k8s.io/v1
          interactiveMode: IfAvailable
          command: samljit
          args: [eks-token, -a, production, --cluster, prod-eks]
"""

from __future__ import annotations

import argparse
import json

from samljit.cli.args import mfa_options, reason_option, role_option
from samljit.cli.commands import Context
from samljit.config.accounts import Overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", metavar="NAME", required=True, help="EKS cluster name")
    role_option(parser)
    parser.add_argument(
        "--region", metavar="REGION", help="the cluster's region (default: the account's)"
    )
    mfa_options(parser)
    reason_option(parser)


def run(ctx: Context) -> int:
    from samljit.aws.eks import (
        api_version,
        check_cluster,
        exec_credential,
        presigned_url,
        token_of,
    )
    from samljit.aws.signing import require_botocore

    args = ctx.args
    require_botocore("eks-token")
    cluster = check_cluster(args.cluster)
    version = api_version(ctx.env)  # before any login: a version we cannot answer ends here
    account = ctx.account(Overrides(role=args.role))
    services = ctx.services
    # the credential-process path: cache first, one login at a time
    grant = ctx.login(account, write=False, reason=ctx.reason())
    url, notes = presigned_url(
        grant.credentials,
        cluster=cluster,
        partition=grant.partition,
        region=args.region or account.region,
        env=ctx.env,
    )
    for note in notes:
        services.terminal.warn(note)
    token = token_of(url)
    ctx.redactor.add(url, token)
    credential = exec_credential(
        token,
        now=services.now(),
        credentials_expire=grant.credentials.expiration,
        version=version,
    )
    ctx.out(json.dumps(credential))
    return 0
