"""``samljit demo``: samljit end to end on this machine, with no account anywhere.

It starts the sandbox IdP and moto's STS on 127.0.0.1 (in this process, each in a thread),
writes a throwaway ``demo`` account into a temporary HOME, then runs the real CLI there as a
child process for every step — ``list-roles``, ``login`` (the role picker when on a terminal,
``--role readonly`` otherwise), ``exec`` — and shows what each printed. The user's own
``~/.samljit``, ``~/.aws`` and keyring are never touched: the children get the temporary HOME,
config and credentials paths, a null keyring and the password in ``SAMLJIT_PASSWORD``.
Everything is removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from samljit.cli.commands import Context
from samljit.common import fsutil
from samljit.common.errors import SamljitError
from samljit.tools.sandbox import totp
from samljit.tools.sandbox.idp import SandboxIdp
from samljit.tools.sandbox.keys import generate_signing_key
from samljit.tools.sandbox.server import LoopbackServer
from samljit.tools.sandbox.sts import MotoSts, require_moto
from samljit.tools.sandbox.users import (
    ADMIN_ROLE,
    READONLY_ROLE,
    SANDBOX_ACCOUNT,
    SandboxUser,
    default_users,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary HOME and print its path"
    )


ACCOUNT = "demo"
REGION = "us-east-1"
#: What the ``exec`` child runs: it shows which credentials arrived (never a secret's
#: value) and asks the local STS who it is with them.
CHILD = """\
import os
env = os.environ
print("AWS_ACCESS_KEY_ID=" + env["AWS_ACCESS_KEY_ID"])
print("AWS_SECRET_ACCESS_KEY: %d characters, AWS_SESSION_TOKEN: %d characters"
      % (len(env["AWS_SECRET_ACCESS_KEY"]), len(env["AWS_SESSION_TOKEN"])))
print("AWS_CREDENTIAL_EXPIRATION=" + env["AWS_CREDENTIAL_EXPIRATION"])
try:
    import botocore.session
except ImportError:
    print("(botocore is not installed: no GetCallerIdentity)")
else:
    sts = botocore.session.get_session().create_client(
        "sts", region_name=env.get("AWS_REGION", "us-east-1"),
        endpoint_url=env["AWS_ENDPOINT_URL_STS"])
    print("STS GetCallerIdentity: " + sts.get_caller_identity()["Arn"])
"""
REAL_IDP_STEPS = (
    ("samljit configure -a work", "provider, sign-in URL, username, MFA"),
    ("samljit login -a work", "password + MFA, pick a role, write profile [work]"),
    ("samljit exec -a work -- aws sts get-caller-identity", "fresh credentials in a command"),
)
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class DemoStepFailed(SamljitError):
    """A step of the demo failed (its own output says why)."""

    def __init__(self, step: str, status: int) -> None:
        super().__init__(
            f"the demo's `{step}` failed (exit {status}); see its output above",
            hint="run `samljit demo --keep` to keep the temporary HOME for a look",
        )
        self.status = status


def run(ctx: Context) -> int:
    require_moto()
    root = Path(tempfile.mkdtemp(prefix="samljit-demo-"))
    try:
        _demo(ctx, root)
    except DemoStepFailed as failed:
        ctx.error(failed.message)
        if failed.hint:
            sys.stderr.write(f"hint: {failed.hint}\n")
        return _exit_status(failed.status)
    finally:
        if ctx.args.keep:
            ctx.out(f"Kept the temporary HOME: {root}")
            ctx.out(f"  HOME={shlex.quote(str(root))} samljit status   # the demo profile")
        else:
            shutil.rmtree(root, ignore_errors=True)
            ctx.out(f"Removed the temporary HOME {root}.")
    return 0


def _exit_status(status: int) -> int:
    """A failed child's status as this process's: a child killed by a signal gives the
    shell's 128 + the signal number."""
    if status > 0:
        return status
    return 128 - status if status < 0 else 1


def _demo(ctx: Context, root: Path) -> None:
    home = root
    (home / ".aws").mkdir(mode=0o700)
    keys = home / "sandbox"
    keys.mkdir(mode=0o700)
    key = generate_signing_key(keys)
    users = default_users()
    user = users[0]
    ctx.out(
        "samljit demo: a sandbox IdP and a local STS on 127.0.0.1, and a throwaway account "
        "in a temporary HOME.\nYour own ~/.samljit, ~/.aws and keyring are not touched."
    )
    with MotoSts() as sts, LoopbackServer() as server:
        idp = SandboxIdp(users, key.key_pem, key.cert_pem, server.url)
        server.set_app(idp)
        server.start()
        config_text = _config(idp.sso_url(), user, key.cert_path)
        config_path = home / ".samljit"
        fsutil.atomic_write(config_path, config_text.encode("utf-8"), mode=0o600)
        ctx.out("")
        ctx.out(f"Sandbox IdP  {idp.base_url}/  (user {user.username}, password and TOTP)")
        ctx.out(f"Local STS    {sts.url}/  (moto)")
        ctx.out(f"Temp HOME    {home}")
        ctx.out("")
        ctx.out("Its ~/.samljit (the IdP's signing certificate is pinned):")
        for line in config_text.splitlines():
            if not line.startswith("#"):
                ctx.out(f"    {line}")
        env = child_env(os.environ, home=home, sts_url=sts.url, password=user.password)
        _steps(ctx, env, user, home)


def _config(url: str, user: SandboxUser, cert: Path) -> str:
    return (
        "# samljit demo: a throwaway account (samljit demo --keep keeps it)\n"
        f"[{ACCOUNT}]\n"
        "provider = GenericForm\n"
        f"url = {url}\n"
        f"username = {user.username}\n"
        "mfa = TOTP\n"
        f"aws_profile = {ACCOUNT}\n"
        f"region = {REGION}\n"
        f"idp_certificate = {cert}\n"
        "  [[roles]]\n"
        f"  readonly = {READONLY_ROLE}\n"
        f"  admin = {ADMIN_ROLE}\n"
        "  [[accounts]]\n"
        f"  {SANDBOX_ACCOUNT} = sandbox\n"
    )


def child_env(
    base: Mapping[str, str], *, home: Path, sts_url: str, password: str
) -> dict[str, str]:
    """The children's environment: the temporary HOME and nothing of the user's AWS or
    samljit setup; no proxy (everything is on loopback)."""
    env = {
        k: v
        for k, v in base.items()
        if not k.startswith(("AWS_", "SAMLJIT_", "XDG_")) and k.lower() not in _PROXY_VARIABLES
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        SAMLJIT_CONFIG=str(home / ".samljit"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_ENDPOINT_URL_STS=sts_url,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        SAMLJIT_PASSWORD=password,
    )
    return env


def _steps(ctx: Context, env: dict[str, str], user: SandboxUser, home: Path) -> None:
    secret = user.totp_secret or ""

    code = totp.code_now(secret)
    ctx.out("")
    ctx.out(
        f"TOTP code {code}: what an authenticator app shows now for the demo user's secret "
        f"{secret}."
    )
    _, output = _samljit(ctx, env, ["list-roles", "-a", ACCOUNT, "--mfa-token", code])
    ctx.out("The assertion's roles (ACCOUNT_ID  ACCOUNT_NAME  ROLE_NAME  ROLE_ARN):")
    for line in output.splitlines():
        ctx.out(f"    {line}")

    code = totp.code_now(secret)
    login = ["login", "-a", ACCOUNT, "--mfa-token", code]
    ctx.out("")
    if ctx.terminal.interactive:
        ctx.out("Now pick a role, as you would at work (type to filter, or a number):")
        _samljit(ctx, env, login, capture=False)
    else:
        ctx.out(
            "No terminal to pick a role on: the demo picks the read-only role (--role readonly)."
        )
        _samljit(ctx, env, [*login[:3], "--role", "readonly", *login[3:]], capture=False)
    credentials = home / ".aws" / "credentials"
    ctx.out(f"Profile [{ACCOUNT}] is in {credentials} (mode 0600).")

    ctx.out("")
    ctx.out("A child command gets the credentials in its environment:")
    _, output = _samljit(
        ctx,
        env,
        ["exec", "-a", ACCOUNT, "--", "python", "-c", "…"],
        argv=["exec", "-a", ACCOUNT, "--", sys.executable, "-c", CHILD],
    )
    for line in output.splitlines():
        ctx.out(f"    {line}")
    if "AWS_ACCESS_KEY_ID=" not in output:
        raise DemoStepFailed("samljit exec", 1)

    ctx.out("")
    ctx.out("Demo succeeded: login, role choice, STS and exec all worked.")
    ctx.out("Do the same against your IdP:")
    width = max(len(command) for command, _ in REAL_IDP_STEPS)
    for command, what in REAL_IDP_STEPS:
        ctx.out(f"  {command:<{width}}  # {what}")
    ctx.out("More: docs/quickstart.md in samljit's source; the IdP alone: samljit sandbox serve")


def _samljit(
    ctx: Context,
    env: dict[str, str],
    shown: Sequence[str],
    *,
    argv: Sequence[str] | None = None,
    capture: bool = True,
) -> tuple[str, str]:
    """Run ``samljit ARGV`` (this installation) with ``env``; show ``$ samljit SHOWN``.
    Its stderr (and stdin, for the picker) are this process's; stdout is returned when
    ``capture``."""
    line = "samljit " + shlex.join(shown)
    ctx.out(f"$ {line}")
    sys.stdout.flush()
    sys.stderr.flush()
    ran = subprocess.run(
        [sys.executable, "-m", "samljit", *(argv if argv is not None else shown)],
        env=env,
        cwd=env["HOME"],  # not the caller's directory: a samljit/ source tree there would shadow
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if ran.returncode != 0:
        if ran.stdout:
            ctx.out(ran.stdout.rstrip("\n"))
        raise DemoStepFailed(line, ran.returncode)
    return line, ran.stdout or ""
