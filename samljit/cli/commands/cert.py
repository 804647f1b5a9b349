"""``samljit cert``: make an IdP signing key and self-signed certificate."""

from __future__ import annotations

import argparse
from pathlib import Path

from samljit.cli.commands import Context
from samljit.tools.cert import CertRequest, generate

KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "ec-p256")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="file name stem and default CN")
    parser.add_argument("--subject", help='e.g. "/C=US/O=Acme Corporation/CN=production"')
    parser.add_argument("--days", type=int, help="validity in days (default 1095)")
    parser.add_argument("--key-type", choices=KEY_TYPES, help="default rsa2048")
    parser.add_argument(
        "--from-openssl-config", metavar="CNF", help="read subject and days from an OpenSSL config"
    )
    parser.add_argument("--out", metavar="DIR", default=".", help="output directory (default .)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


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
