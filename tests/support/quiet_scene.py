"""The scene of the quiet-browser test, run inside a private network and mount namespace
(:func:`tests.support.netns.run_python` with a ``resolv.conf`` naming :data:`ADDRESS`): a
recording DNS server on ``ADDRESS:53`` (it answers every name with ``ADDRESS``, so whatever
the browser looks up it then tries to reach), a recording sink on ``ADDRESS:443`` (the TLS
server name of every connection) and ``ADDRESS:80``, the Google-shaped IdP and moto's STS on
loopback, and the installed samljit logging in (GoogleApps, headless, autofill). Prints one
JSON object: the login's exit code and output, the names looked up, the connections made.

    python -m tests.support.quiet_scene HOME
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.emulators.formidp import FormUser
from tests.emulators.google import GoogleIdp
from tests.support.accounts import EMAIL, PASSWORD, PROVIDER_ARN, RO_ARN, grants
from tests.support.moto_sts import MotoSts
from tests.support.netns import ADDRESS
from tests.support.paths import SAMLJIT
from tests.support.tls import tls_pair


class Sink:
    """What reaches the network: DNS questions, TCP connections (with their TLS name)."""

    def __init__(self, home: Path) -> None:
        self.names: list[str] = []
        self.connections: list[str] = []
        self._lock = threading.Lock()
        pair = tls_pair(home, "sink", host="sink.invalid")
        self.tls = pair.server_context()
        self.tls.sni_callback = self._sni
        self.dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dns.bind((ADDRESS, 53))
        self.listeners = []
        for port in (443, 80):
            listener = socket.create_server((ADDRESS, port))
            self.listeners.append(listener)
            threading.Thread(target=self._accept, args=(listener, port), daemon=True).start()
        threading.Thread(target=self._answer, daemon=True).start()

    def _sni(self, sock: Any, name: str | None, context: Any) -> None:
        with self._lock:
            self.connections.append(f"tls:{name}")

    def _accept(self, listener: socket.socket, port: int) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections.append(f"tcp:{port}")
            if port == 443:
                threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()
            else:
                conn.close()

    def _handshake(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            self.tls.wrap_socket(conn, server_side=True).close()
        except (OSError, ssl.SSLError):
            conn.close()

    def _answer(self) -> None:
        while True:
            try:
                query, peer = self.dns.recvfrom(2048)
            except OSError:
                return
            name, end = _qname(query)
            with self._lock:
                self.names.append(name)
            qtype = struct.unpack("!H", query[end : end + 2])[0] if len(query) >= end + 2 else 0
            header = (
                query[:2] + b"\x81\x80" + query[4:6] + (b"\x00\x01" if qtype == 1 else b"\x00\x00")
            )
            answer = b""
            if qtype == 1:  # A: ADDRESS
                answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ADDRESS)
            self.dns.sendto(header + b"\x00\x00\x00\x00" + query[12 : end + 4] + answer, peer)


def _qname(query: bytes) -> tuple[str, int]:
    labels, at = [], 12
    while at < len(query) and query[at]:
        size = query[at]
        labels.append(query[at + 1 : at + 1 + size].decode("ascii", "replace"))
        at += 1 + size
    return ".".join(labels), at + 1


def main(home_arg: str) -> None:
    home = Path(home_arg)
    sink = Sink(home)
    idp = GoogleIdp([FormUser(EMAIL, PASSWORD, roles=grants((RO_ARN, PROVIDER_ARN)))]).start()
    (home / ".samljit").write_text(
        f"[google]\nprovider = GoogleApps\nurl = {idp.start_url}\nusername = {EMAIL}\n"
        "headless = true\nbrowser_autofill = true\ntimeout = 60\n"
        "browser_executable_path = /usr/bin/chromium\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    try:
        with MotoSts() as sts:
            env["AWS_ENDPOINT_URL_STS"] = sts.url
            ran = subprocess.run(
                [str(SAMLJIT), "login", "-a", "google"],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=90,
                start_new_session=True,
                cwd=home,
            )
    finally:
        idp.stop()
    with sink._lock:
        result = {
            "returncode": ran.returncode,
            "stdout": ran.stdout,
            "stderr": ran.stderr,
            "names": sorted(set(sink.names)),
            "connections": sorted(set(sink.connections)),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
