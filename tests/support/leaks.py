"""The leak check run after every end-to-end test: no secret, in any form it takes when it
leaks, in any output samljit printed or any file it left under HOME. The secrets: those the
test registered (``cli.secrets``: the password, codes it typed), the credentials samljit
wrote, and everything the emulators handed out during the test, whether a fixture started
them or the test's body did (``samljit.testing.emulator.ISSUED``, read by the ``cli``
fixture)."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from tests.support.accounts import TOTP_SECRET
from tests.support.cli import Cli


def _credential_secrets(path: Path) -> list[str]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("aws_secret_access_key", "aws_session_token"):
            found.append(value.strip())
    return found


def _private_store(cli: Cli, path: Path) -> bool:
    """A cache, or a file of a Browser account's profile: chromium's own state, whose history
    and cookie jar hold the IdP's URLs and the session the profile keeps by design (the
    profile is 0700, the tests of the Browser provider check it)."""
    profiles = cli.home / ".local" / "state" / "samljit" / "browser"
    return "cache" in str(path) or path.is_relative_to(profiles)


def recent_totp_codes(secret: str = TOTP_SECRET, minutes: int = 10) -> list[str]:
    """The codes of ``secret`` over the last ``minutes`` (and the next step): any OTP a test
    can have used."""
    import time

    from tests.emulators.common import totp_at

    now = time.time()
    return sorted({totp_at(secret, now - 30 * step) for step in range(-1, minutes * 2 + 1)})


def leak_forms(secret: str) -> set[str]:
    """The forms a secret takes when it leaks: as is, URL-encoded, HTML- and JSON-escaped;
    for a SAMLResponse also base64 pieces covering its signature (a truncated or partial
    dump) and the signature value itself (a dump of the decoded XML)."""
    import html
    import json
    from urllib.parse import quote, quote_plus

    forms = {
        secret,
        quote_plus(secret, safe=""),
        quote(secret, safe=""),
        html.escape(secret),
        json.dumps(secret)[1:-1],
    }
    forms.update(_assertion_pieces(secret))
    return {form for form in forms if len(form) >= 6}


def _assertion_pieces(encoded: str) -> list[str]:
    import base64
    import binascii
    import re

    if len(encoded) < 200:
        return []
    try:
        xml = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return []
    pieces: list[str] = []
    for match in re.finditer(rb"<(?:[\w.-]+:)?SignatureValue[^>]*>([^<]+)<", xml):
        start, end = match.span(1)
        first, last = (start // 3 + 1) * 4, (end // 3) * 4  # base64 quads inside the value
        pieces += [encoded[i : i + 48] for i in range(first, last - 48, 48)]
        lines = match.group(1).decode("ascii", "replace").split()
        pieces += [line for line in lines if len(line) >= 40]
    return pieces


def assert_no_leaks(cli: Cli, secrets: Sequence[str], *, codes: Sequence[str] = ()) -> None:
    """No secret in any captured output or any file under HOME except the credentials
    file and 0600 files of caches and browser profiles, in any of its :func:`leak_forms`;
    no one-time code of ``codes`` as a number on its own."""
    import re

    raw = [s for s in [*secrets, *_credential_secrets(cli.credentials)] if len(s) >= 6]
    tokens = sorted({form for secret in raw for form in leak_forms(secret)}, key=len)
    numbers = [re.compile(rf"(?<![0-9A-Za-z]){re.escape(c)}(?![0-9A-Za-z])") for c in codes]
    haystacks: list[tuple[str, str]] = [(f"output #{i}", o) for i, o in enumerate(cli.outputs)]
    for path in cli.home.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        if path.resolve() == cli.credentials.resolve():
            continue
        if stat.S_IMODE(path.stat().st_mode) & 0o077 == 0 and _private_store(cli, path):
            continue
        haystacks.append((str(path), path.read_text(errors="replace")))
    for where, text in haystacks:
        for token in tokens:
            assert token not in text, f"a secret ({token[:4]}…) leaked into {where}"
        for number in numbers:
            assert not number.search(text), f"a one-time code leaked into {where}"
