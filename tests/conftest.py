"""Shared fixtures: the installed ``samljit`` executable in a temp HOME, the JumpCloud
emulator, moto's STS on loopback, and a leak check after every end-to-end test.

End-to-end tests drive the executable the way users do: a subprocess with ``HOME`` in a temp
dir, its own session (no controlling terminal unless a test gives it a pty), and an
environment holding nothing from the developer's AWS setup.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from samljit.tools.sandbox.response import RoleGrant
from tests.emulators.jumpcloud import App, JumpCloudEmulator, User
from tests.support.moto_sts import MotoSts

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SLUG = "acme-prod-aws-admin"
ACCOUNT_ID = "012345678987"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/JumpCloud"
RO_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/AcmeJumpCloudAdminRO"
FULL_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/AcmeJumpCloudAdmin"
DEV_ACCOUNT = "111122223333"
DEV_ARN = f"arn:aws:iam::{DEV_ACCOUNT}:role/AcmeJumpCloudAdminRO"
DEV_PROVIDER = f"arn:aws:iam::{DEV_ACCOUNT}:saml-provider/JumpCloud"
EMAIL = "ops@acme.example"
PASSWORD = "correct-Horse-battery-staple-42"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

SAMLJIT = Path(sys.executable).parent / "samljit"


def _hypothesis_profiles() -> None:
    """CI runs the property tests on a fixed sequence of examples (a red CI is then always
    reproducible); a developer's run explores new ones each time."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def grants(*arns: tuple[str, str]) -> list[RoleGrant]:
    return [RoleGrant(role_arn=r, principal_arn=p) for r, p in arns]


PROD_GRANTS = grants((RO_ARN, PROVIDER_ARN), (FULL_ARN, PROVIDER_ARN), (DEV_ARN, DEV_PROVIDER))


@dataclass
class Cli:
    """Runs the installed samljit with HOME in a temp dir; remembers every output."""

    home: Path
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    @property
    def config(self) -> Path:
        return self.home / ".samljit"

    @property
    def credentials(self) -> Path:
        return self.home / ".aws" / "credentials"

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
        record: bool = True,
        stdout_has_secrets: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run samljit. Outputs are kept for the leak check, except with ``record=False``;
        ``stdout_has_secrets`` keeps only stderr (the command's result *is* credentials)."""
        merged = {**self.env, **(env or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        result = subprocess.run(
            [str(SAMLJIT), *args],
            env=merged,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
            cwd=self.home,
        )
        if record:
            self.outputs.append(result.stderr)
            if not stdout_has_secrets:
                self.outputs.append(result.stdout)
        return result

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(SAMLJIT), *args],
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            cwd=self.home,
        )

    def write_config(self, text: str) -> None:
        self.config.write_text(text)


def clean_env(home: Path) -> dict[str, str]:
    """A user's environment: nothing from the developer's AWS or samljit setup."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PROMPT_TOOLKIT_NO_CPR="1",
        NO_COLOR="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def sts() -> Iterator[MotoSts]:
    with MotoSts() as server:
        yield server


def make_user(**overrides: object) -> User:
    values: dict[str, object] = {
        "email": EMAIL,
        "password": PASSWORD,
        "totp_secret": TOTP_SECRET,
        "push": "accept",
        "push_accept_after": 2,
        "apps": {SLUG: App(roles=PROD_GRANTS)},
        "role_order": "mixed",
    }
    values.update(overrides)
    return User(**values)  # type: ignore[arg-type]


@pytest.fixture
def jumpcloud() -> Iterator[JumpCloudEmulator]:
    with JumpCloudEmulator([make_user()]) as emulator:
        yield emulator


def account_config(
    emulator: JumpCloudEmulator,
    *,
    name: str = "production",
    mfa: str = "TOTP",
    role: str | None = "readonly",
    extra: str = "",
) -> str:
    role_line = f"role_arn = {role}\n" if role else ""
    return (
        "# samljit accounts (edited by hand)\n"
        f"[{name}]\n"
        "provider = JumpCloud\n"
        f"url = {emulator.sso_url(SLUG)}\n"
        f"api_url = {emulator.api_url}\n"
        f"username = {EMAIL}\n"
        f"mfa = {mfa}\n"
        f"aws_profile = {name}\n"
        f"{role_line}"
        "region = us-east-2\n"
        f"{extra}"
        "  [[roles]]\n"
        f"  readonly = {RO_ARN}\n"
        f"  full = {FULL_ARN}\n"
        "  [[accounts]]\n"
        f"  {ACCOUNT_ID} = acme-production\n"
        f"  {DEV_ACCOUNT} = acme-dev\n"
    )


@pytest.fixture
def cli(home: Path, sts: MotoSts, request: pytest.FixtureRequest) -> Iterator[Cli]:
    env = clean_env(home)
    env["AWS_ENDPOINT_URL_STS"] = sts.url
    env["SAMLJIT_PASSWORD"] = PASSWORD
    runner = Cli(home=home, env=env)
    runner.secrets.add(PASSWORD)
    yield runner
    issued: list[str] = []
    for value in request.node.funcargs.values():  # every emulator the test used
        found = getattr(value, "issued", None)
        if isinstance(found, list):
            issued.extend(item for item in found if isinstance(item, str))
    # one-time codes of the emulators' shared secret matter only where an emulator took them;
    # elsewhere (the demo prints its own codes) a number that happens to match is no leak
    codes = recent_totp_codes() if issued or "jumpcloud" in request.node.funcargs else []
    assert_no_leaks(runner, [*runner.secrets, *issued], codes=codes)


def _credential_secrets(path: Path) -> list[str]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("aws_secret_access_key", "aws_session_token"):
            found.append(value.strip())
    return found


def recent_totp_codes(secret: str = TOTP_SECRET, minutes: int = 10) -> list[str]:
    """The codes of ``secret`` over the last ``minutes`` (and the next step): any OTP a test
    can have used."""
    import time

    from tests.emulators.jumpcloud import totp_at

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
    file and 0600 files (caches), in any of its :func:`leak_forms`; no one-time code of
    ``codes`` as a number on its own."""
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
        if stat.S_IMODE(path.stat().st_mode) & 0o077 == 0 and "cache" in str(path):
            continue
        haystacks.append((str(path), path.read_text(errors="replace")))
    for where, text in haystacks:
        for token in tokens:
            assert token not in text, f"a secret ({token[:4]}…) leaked into {where}"
        for number in numbers:
            assert not number.search(text), f"a one-time code leaked into {where}"


@pytest.fixture(scope="session")
def samljit_exe() -> Path:
    assert SAMLJIT.exists(), f"samljit is not installed next to {sys.executable}"
    return SAMLJIT


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
