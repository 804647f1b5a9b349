"""``samljit sandbox serve``: the sandbox IdP in the foreground; ``samljit sandbox totp``: the
current one-time code of a secret (what an authenticator app would show)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shlex
import signal
import tempfile
from pathlib import Path
from types import FrameType

from samljit.cli.args import Parser, global_options, port
from samljit.cli.commands import Context
from samljit.common.errors import UsageError
from samljit.tools.sandbox import totp
from samljit.tools.sandbox.idp import SandboxIdp
from samljit.tools.sandbox.keys import SigningKey, generate_signing_key, load_signing_key
from samljit.tools.sandbox.passkey import require_webauthn
from samljit.tools.sandbox.server import LoopbackServer
from samljit.tools.sandbox.sts import MotoSts, require_moto
from samljit.tools.sandbox.users import SandboxUser, default_users, load_users

SANDBOX_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    subcommands = parser.add_subparsers(
        dest="sandbox_command", metavar="SUBCOMMAND", parser_class=Parser, required=True
    )
    serve = subcommands.add_parser(
        "serve",
        help="run the sandbox IdP on 127.0.0.1 until Ctrl-C",
        description="Run the sandbox IdP on 127.0.0.1: username/password form, optional "
        "TOTP, IdP-initiated SSO, signed responses, metadata at /metadata.",
    )
    global_options(serve, top=False)
    serve.add_argument("--users", metavar="FILE", help="users file (JSON; default: one user)")
    serve.add_argument("--key", metavar="PEM", help="signing key (e.g. from `samljit cert`)")
    serve.add_argument("--cert", metavar="PEM", help="its certificate")
    serve.add_argument(
        "--port", type=port, default=SANDBOX_PORT, help=f"port (default {SANDBOX_PORT}; 0: any)"
    )
    serve.add_argument(
        "--encrypt-for",
        metavar="CERT",
        help="encrypt every assertion for this certificate (PEM), as an IdP does for IAM's "
        "SAML encryption (RSA-OAEP, AES-256-GCM); the Response is signed too",
    )
    serve.add_argument(
        "--passkey",
        action="store_true",
        help="every user signs in with a passkey after the password (registered in the browser "
        "the first time; served on localhost, which WebAuthn needs; needs `pip install webauthn`)",
    )
    serve.add_argument(
        "--sts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also serve a local STS (moto's, with samljit's multi-role fix), as `samljit demo` "
        "does (default: on when moto is installed, the `demo` extra)",
    )
    serve.add_argument(
        "--sts-port",
        type=port,
        default=SANDBOX_PORT + 1,
        help=f"the local STS's port (default {SANDBOX_PORT + 1}; 0: any)",
    )
    code = subcommands.add_parser(
        "totp",
        help="print the current one-time code of a TOTP secret",
        description="Print the current one-time code of a base32 TOTP secret.",
    )
    global_options(code, top=False)
    code.add_argument("secret", metavar="SECRET", help="base32 TOTP secret")


def run(ctx: Context) -> int:
    if ctx.args.sandbox_command == "totp":
        try:
            ctx.out(totp.code_now(ctx.args.secret))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return 0
    return serve(ctx)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(ctx: Context) -> int:
    args = ctx.args
    if bool(args.key) != bool(args.cert):
        raise UsageError(
            "--key and --cert go together", hint="make both with `samljit cert --name sandbox`"
        )
    users = load_users(Path(args.users).expanduser()) if args.users else default_users()
    if args.passkey:
        users = [dataclasses.replace(user, passkey=True) for user in users]
    passkeys = any(user.passkey for user in users)
    if passkeys:
        require_webauthn()
    with tempfile.TemporaryDirectory(prefix="samljit-sandbox-") as scratch:
        if args.key:
            # absolute: the banner's `configure` line is run from another directory
            key = load_signing_key(
                Path(args.key).expanduser().absolute(), Path(args.cert).expanduser().absolute()
            )
        else:
            key = generate_signing_key(Path(scratch).absolute())
        server = LoopbackServer(args.port, url_host="localhost" if passkeys else None)
        idp = SandboxIdp(
            users,
            key.key_pem,
            key.cert_pem,
            server.url,
            log=lambda text: ctx.terminal.info(f"sandbox: {text}"),
            encrypt_for=_encryption_certificate(args.encrypt_for),
        )
        server.set_app(idp)
        with contextlib.ExitStack() as stack:
            sts = _local_sts(ctx, args.sts, args.sts_port)
            if sts is not None:
                stack.callback(sts.stop)
            # before the banner: whoever read it may stop the sandbox at once
            previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
            try:
                _banner(
                    ctx, idp, key, users, from_file=args.users, sts_url=sts.url if sts else None
                )
                server.serve()
            except KeyboardInterrupt:
                pass
            finally:
                signal.signal(signal.SIGTERM, previous)
                server.stop()
    ctx.terminal.info("sandbox: stopped")
    return 0


def _encryption_certificate(path: str | None) -> bytes | None:
    """The PEM certificate of ``--encrypt-for`` (an RSA key's), or None."""
    if not path:
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    where = Path(path).expanduser()
    try:
        data = where.read_bytes()
        key = x509.load_pem_x509_certificate(data).public_key()
    except OSError as exc:
        raise UsageError(f"--encrypt-for: cannot read {where}: {exc.strerror}") from None
    except ValueError:
        raise UsageError(f"--encrypt-for: {where} is not a PEM certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise UsageError(f"--encrypt-for: {where} does not hold an RSA key (RSA-OAEP needs one)")
    return data


def _local_sts(ctx: Context, wanted: bool | None, sts_port: int) -> MotoSts | None:
    """moto's STS on loopback: when asked for (``--sts``: moto must be there), or by default
    when moto is installed."""
    if wanted is False:
        return None
    if wanted is None:
        try:
            require_moto()
        except UsageError:
            return None
    sts = MotoSts(port=sts_port)
    try:
        return sts.start()
    except OSError as exc:
        raise UsageError(
            f"the local STS cannot listen on 127.0.0.1:{sts_port}: {exc.strerror or exc}",
            hint="pass --sts-port with another port (0: any free one), or --no-sts",
        ) from None


def _banner(
    ctx: Context,
    idp: SandboxIdp,
    key: SigningKey,
    users: list[SandboxUser],
    from_file: str | None,
    sts_url: str | None,
) -> None:
    sso = idp.sso_url()
    made = "made for this run; --key/--cert keep one" if key.generated else "from --cert"
    ctx.out(f"samljit sandbox IdP on {idp.base_url}/")
    ctx.out(f"  sign-in URL (url):  {sso}")
    ctx.out(f"  metadata:           {idp.metadata_url}  (upload it to IAM as a SAML provider)")
    ctx.out(f"  signing cert:       {key.cert_path} ({made})")
    ctx.out(f"                      SHA-256 {key.sha256_fingerprint}")
    for user in users:
        how = "password from the users file" if from_file else f"password {user.password}"
        if user.passkey:
            how += ", then a passkey (registered in the browser at the first sign-in)"
        elif user.totp_secret:
            how += f", TOTP secret {user.totp_secret}"
        ctx.out(f"  user {user.username}: {how}")
        for grant in user.roles:
            ctx.out(f"    role {grant.role_arn}")
    first = users[0]
    configure = [
        "samljit", "configure", "-a", "sandbox", "--provider", "GenericForm", "--url", sso,
        "--username", first.username, "--mfa", "TOTP" if first.totp_secret else "Auto",
        "--idp-certificate", str(key.cert_path), "--skip-prompt",
    ]  # fmt: skip
    if first.passkey:  # a passkey needs a browser: the Browser provider, headed
        configure[5] = "Browser"
        del configure[10:12]
    if first.roles:  # several roles: a default, so that the printed login needs no picker
        configure[-1:-1] = ["--role", first.roles[0].role_arn.rsplit("/", 1)[-1]]
    login = "samljit login -a sandbox"
    if first.totp_secret and not first.passkey:
        login += f' --mfa-token "$(samljit sandbox totp {first.totp_secret})"'
    if sts_url:
        ctx.out(f"  local STS:          {sts_url}  (moto, multi-role assertions work)")
        ctx.out("Try it from another shell:")
        ctx.out(f"  export AWS_ENDPOINT_URL_STS={sts_url}")
    else:
        ctx.out(
            "Try it from another shell, with an STS: `pip install 'samljit[demo]'` and this "
            "command serves a local one; or export AWS_ENDPOINT_URL_STS=<yours>"
        )
    ctx.out(f"  {shlex.join(configure)}")
    ctx.out(f"  {login}")
    ctx.out("Ctrl-C stops it.")
