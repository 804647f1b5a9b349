"""SimpleSAMLphp (Debian's package, 1.19) as a real IdP on loopback, for end-to-end tests.

Nothing here is emulated: the pages, the cookies, the session handling and the signature come
from SimpleSAMLphp itself. This helper only writes a config dir and serves the package's
``www`` directory with PHP's built-in server (no apache), as described in shared NOTES:

* the IdP key and certificate are made by the installed ``samljit cert`` (so samljit's
  ``idp_certificate`` pinning is proven against a third-party signer);
* ``exampleauth:UserPass`` holds the users; each user's Role values are user attributes,
  the SP's ``authproc`` adds RoleSessionName (from ``uid``) and SessionDuration;
* the SP is ``urn:amazon:webservices`` with ACS ``https://signin.aws.amazon.com/saml``.

    with SimpleSamlPhp(tmp_dir, [SspUser("alice", "pw", [(role, principal)])]) as idp:
        idp.sso_url, idp.certificate

Install the software first with ``tests/support/install-simplesamlphp.sh`` (CI does).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from samljit.testing.emulator import ISSUED
from samljit.tools.sandbox.server import Service

WWW = Path("/usr/share/simplesamlphp/www")
INSTALL_SCRIPT = "tests/support/install-simplesamlphp.sh"
AWS_URN = "urn:amazon:webservices"
AWS_ACS = "https://signin.aws.amazon.com/saml"
ROLE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
#: SimpleSAMLphp 1.19's words for a wrong password (template ``core:loginuserpass``).
WRONG_PASSWORD_TEXT = "Incorrect username or password"
START_TIMEOUT = 20.0
#: A request line of ``php -S``'s log: ``[date] 127.0.0.1:PORT [302]: GET /path?query``.
_REQUEST_LINE = re.compile(r"\[(\d{3})\]: ([A-Z]+) (\S+)")
#: The auth token in a PHP session file (PHP's serialize: ``authToken";s:43:"_8c8f…"``).
_AUTH_TOKEN = re.compile(rb'authToken";s:\d+:"([^"]+)"')
#: Where SimpleSAMLphp 1.19 takes the username and password.
LOGIN_PATH = "/simplesaml/module.php/core/loginuserpass.php"


class NotInstalled(RuntimeError):
    """php or SimpleSAMLphp is missing on this machine."""


@dataclass
class SspUser:
    username: str
    password: str = field(repr=False)
    #: (role ARN, SAML provider ARN) pairs, one Role value each.
    roles: Sequence[tuple[str, str]] = ()


def missing_software() -> str | None:
    """Why SimpleSAMLphp cannot run here, or None when it can."""
    if shutil.which("php") is None:
        return "php is not installed"
    if not (WWW / "saml2" / "idp" / "SSOService.php").exists():
        return f"SimpleSAMLphp is not installed ({WWW} is missing)"
    return None


def _php(value: object) -> str:
    """A PHP literal for a str, a list of str, or a dict of those."""
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "[" + ", ".join(f"{_php(k)} => {_php(v)}" for k, v in value.items()) + "]"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_php(v) for v in value) + "]"
    raise TypeError(f"no PHP literal for {type(value).__name__}")


def _reserve_port() -> socket.socket:
    """A socket bound (not listening) to a free loopback port, with SO_REUSEADDR: php -S,
    which sets it too, can bind the port while this holds it, and no port-0 bind (every other
    test server's) is given it (a port picked and released before php binds it could go to
    another test's server in the meantime, under ``-n 2``). Closed once php listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class SimpleSamlPhp(Service):
    """One SimpleSAMLphp IdP served by ``php -S 127.0.0.1:PORT``."""

    def __init__(
        self,
        workdir: Path,
        users: Iterable[SspUser],
        *,
        samljit: Path | None = None,
        session_duration: int = 3600,
    ) -> None:
        self.workdir = workdir
        self.users = list(users)
        self.samljit = samljit or Path(sys.executable).parent / "samljit"
        self.session_duration = session_duration
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self._log: deque[str] = deque(maxlen=200)
        self._requests: list[tuple[str, str]] = []
        self._open = 0  # connections accepted and not yet closed, per php's log
        self._changed = threading.Condition()
        self._ready = threading.Event()
        self._drain: threading.Thread | None = None
        self._handed_out: set[str] = set()

    # -- paths and URLs ----------------------------------------------------------------------
    @property
    def config_dir(self) -> Path:
        return self.workdir / "config"

    @property
    def cert_dir(self) -> Path:
        return self.workdir / "cert"

    @property
    def certificate(self) -> Path:
        """The IdP's signing certificate (PEM), made by ``samljit cert``."""
        return self.cert_dir / "idp.crt"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simplesaml"

    @property
    def sso_url(self) -> str:
        """The IdP-initiated sign-on URL for AWS, as users configure it."""
        return f"{self.base_url}/saml2/idp/SSOService.php?spentityid={AWS_URN}"

    @property
    def log(self) -> str:
        return "\n".join(self._log)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every request served so far as ``(method, path)`` (query left out), read from
        ``php -S``'s own log: what SimpleSAMLphp really saw."""
        with self._changed:
            return list(self._requests)

    def settle(self, requests: int, timeout: float = 60.0) -> list[tuple[str, str]]:
        """The requests once php has logged at least ``requests`` of them and closed every
        connection (its log is read by a thread: this waits for it, on its lines, not on a
        clock); :class:`TimeoutError` if that does not happen within ``timeout`` seconds (a
        generous bound, not a measurement)."""
        with self._changed:
            settled = self._changed.wait_for(
                lambda: len(self._requests) >= requests and self._open == 0, timeout
            )
            if not settled:
                raise TimeoutError(
                    f"php -S logged {len(self._requests)} requests (wanted {requests}) with "
                    f"{self._open} connections open after {timeout} s:\n{self.log[-2000:]}"
                )
            return list(self._requests)

    def password_posts(self) -> int:
        """How many times a username and password were POSTed to the login form."""
        return self.requests.count(("POST", LOGIN_PATH))

    def handed_out(self) -> list[str]:
        """The session secrets SimpleSAMLphp has handed out, for the leak check: its PHP
        session ids (the ``SimpleSAMLSessionID`` cookie: each session file is named after
        it) and the ``SimpleSAMLAuthToken`` kept in each; those of ended sessions too."""
        for path in (self.config_dir / "sessions").glob("sess_*"):
            self._handed_out.add(path.name.removeprefix("sess_"))
            with contextlib.suppress(OSError):
                self._handed_out.update(m.decode() for m in _AUTH_TOKEN.findall(path.read_bytes()))
        return sorted(self._handed_out)

    def end_sessions(self) -> None:
        """End every sign-in session at the IdP: SimpleSAMLphp keeps them as PHP sessions
        (``store.type = phpsession``), so their files go."""
        self.handed_out()  # remembered for the leak check
        for path in (self.config_dir / "sessions").glob("sess_*"):
            path.unlink()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SimpleSamlPhp:
        if self._process is not None:  # `with SimpleSamlPhp(…).start()` enters a running one
            return self
        problem = missing_software()
        if problem:
            raise NotInstalled(f"{problem}: run `bash {INSTALL_SCRIPT}` (as root) first")
        reserved = _reserve_port()
        self.port = int(reserved.getsockname()[1])
        self._make_certificate()
        self._write_config()
        docroot = self.workdir / "docroot"
        docroot.mkdir(parents=True, exist_ok=True)
        link = docroot / "simplesaml"
        if not link.is_symlink():
            link.symlink_to(WWW)  # a copy does not work: the package resolves paths from www
        env = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(self.config_dir)}
        self._process = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(docroot)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._drain = threading.Thread(target=self._read_output, name="php-s", daemon=True)
        self._drain.start()
        try:
            if not self._ready.wait(START_TIMEOUT) or self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"php -S did not start on port {self.port}:\n{self.log}")
        finally:
            reserved.close()  # php listens on the port now (or never will)
        ISSUED.watch(self.handed_out)  # the sessions it hands out, for the leak check
        return self

    def _read_output(self) -> None:
        """Keep the pipe drained; note when php says the server listens."""
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self._log.append(line.rstrip())
            request = _REQUEST_LINE.search(line)
            with self._changed:
                if request is not None:
                    self._requests.append((request.group(2), request.group(3).split("?")[0]))
                elif line.rstrip().endswith(" Accepted"):
                    self._open += 1
                elif line.rstrip().endswith(" Closing"):
                    self._open -= 1
                self._changed.notify_all()
            if "Development Server" in line and "started" in line:
                self._ready.set()
        self._ready.set()  # php exited: wake the waiter, which then sees poll() is set

    def stop(self) -> None:
        ISSUED.unwatch(self.handed_out)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._drain is not None:
            self._drain.join(timeout=10)
            self._drain = None

    # -- config ------------------------------------------------------------------------------
    def _make_certificate(self) -> None:
        if self.certificate.exists():
            return
        self.cert_dir.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(
            [
                str(self.samljit),
                "cert",
                "--name",
                "idp",
                "--subject",
                "/O=samljit tests/CN=simplesamlphp.test",
                "--out",
                str(self.cert_dir),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        if made.returncode != 0:
            raise RuntimeError(f"samljit cert failed: {made.stderr.strip()}")

    def _write_config(self) -> None:
        for sub in ("metadata", "log", "data", "tmp", "sessions"):
            (self.config_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.config_dir / "config.php").write_text(
            "<?php\n$config = " + _php(self._config()) + ";\n", encoding="utf-8"
        )
        users: dict[object, object] = {0: "exampleauth:UserPass"}
        users.update({f"{u.username}:{u.password}": self._attrs(u) for u in self.users})
        sources = {"admin": {0: "core:AdminPassword"}, "aws-users": users}
        (self.config_dir / "authsources.php").write_text(
            f"<?php\n$config = {_php(sources)};\n", encoding="utf-8"
        )
        idp = {
            "host": "__DEFAULT__",
            "privatekey": "idp.key",
            "certificate": "idp.crt",
            "auth": "aws-users",
            "userid.attribute": "uid",
            "attributes.NameFormat": URI_FORMAT,
        }
        sp = {
            "entityid": AWS_URN,
            "AssertionConsumerService": AWS_ACS,
            "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            "attributes.NameFormat": URI_FORMAT,
            "authproc": {
                10: {"class": "core:AttributeCopy", "uid": SESSION_NAME},
                20: {"class": "core:AttributeAdd", SESSION_DURATION: [str(self.session_duration)]},
                30: {"class": "core:AttributeLimit", 0: ROLE, 1: SESSION_NAME, 2: SESSION_DURATION},
            },
        }
        metadata = self.config_dir / "metadata"
        (metadata / "saml20-idp-hosted.php").write_text(
            f"<?php\n$metadata['__DYNAMIC:1__'] = {_php(idp)};\n", encoding="utf-8"
        )
        (metadata / "saml20-sp-remote.php").write_text(
            f"<?php\n$metadata[{_php(AWS_URN)}] = {_php(sp)};\n", encoding="utf-8"
        )

    def _config(self) -> dict[str, object]:
        root = self.config_dir
        return {
            "baseurlpath": "simplesaml/",
            "certdir": f"{self.cert_dir}/",
            "loggingdir": f"{root / 'log'}/",
            "datadir": f"{root / 'data'}/",
            "tempdir": str(root / "tmp"),
            "metadatadir": f"{root / 'metadata'}/",
            "attributenamemapdir": "/usr/share/simplesamlphp/attributemap/",
            "secretsalt": secrets.token_hex(16),
            "auth.adminpassword": secrets.token_hex(16),
            "technicalcontact_name": "samljit tests",
            "technicalcontact_email": "nobody@example.org",
            "timezone": "UTC",
            "enable.saml20-idp": True,
            "module.enable": {"exampleauth": True, "core": True, "saml": True},
            "admin.checkforupdates": False,
            "logging.handler": "file",
            "logging.logfile": "simplesamlphp.log",
            "store.type": "phpsession",
            "session.phpsession.savepath": str(root / "sessions"),
            # Debian's default is true: over plain http the cookies never come back.
            "session.cookie.secure": False,
            "language.cookie.secure": False,
        }

    @staticmethod
    def _attrs(user: SspUser) -> dict[str, object]:
        values = [f"{role},{principal}" for role, principal in user.roles]
        return {"uid": [user.username], ROLE: values}
