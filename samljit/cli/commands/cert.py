"""``samljit cert``: make an IdP signing key and self-signed certificate."""

from __future__ import annotations

from pathlib import Path

from samljit.cli.commands import Context
from samljit.tools.cert import CertRequest, generate


def run(ctx: Context) -> int:
    args = ctx.args
    result = generate(
        CertRequest(
            name=args.name,
            subject=args.subject,
            days=args.days,
            key_type=args.key_type,
            openssl_config=Path(args.from_openssl_config) if args.from_openssl_config else None,
            out_dir=Path(args.out),
            force=args.force,
        ),
        env=ctx.env,
    )
    for note in result.notes:
        ctx.terminal.info(f"note: {note}")
    ctx.out(f"key:         {result.key_path} ({result.key_type}, mode 0600)")
    ctx.out(f"certificate: {result.cert_path}")
    ctx.out(f"subject:     {result.subject}")
    days = (result.not_after - result.not_before).days
    ctx.out(
        f"validity:    {result.not_before:%Y-%m-%d %H:%M:%S}Z to "
        f"{result.not_after:%Y-%m-%d %H:%M:%S}Z ({days} days)"
    )
    ctx.out(f"SHA-256:     {result.sha256_fingerprint}")
    return 0
