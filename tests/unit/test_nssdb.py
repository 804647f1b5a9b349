"""The browser's NSS database for a CA bundle (samljit.idp.nssdb): which bundle counts, what
of it is read, the environment the browser gets, and, with the real certutil, a bundle with a
certificate NSS refuses (the rest still goes in)."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest

from samljit.common.errors import ConfigError
from samljit.idp import nssdb
from tests.support.tls import tls_pair
from tests.support.tools import requires_tool


def pem(der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"


def test_the_bundle_is_the_one_the_http_client_uses(tmp_path: Path) -> None:
    assert nssdb.configured_bundle({}) is None
    assert nssdb.configured_bundle({"AWS_CA_BUNDLE": ""}) is None
    env = {"CURL_CA_BUNDLE": "/c.pem", "REQUESTS_CA_BUNDLE": "/r.pem"}
    assert nssdb.configured_bundle(env) == ("REQUESTS_CA_BUNDLE", Path("/r.pem"))
    env["AWS_CA_BUNDLE"] = "~/corp.pem"
    assert nssdb.configured_bundle(env) == ("AWS_CA_BUNDLE", Path.home() / "corp.pem")


def test_certificates_are_read_once_each_and_garbage_is_left_out(tmp_path: Path) -> None:
    one, two = tls_pair(tmp_path, "one").ca, tls_pair(tmp_path, "two").ca
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        b"# a comment\n"
        + one.read_bytes()
        + b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
        + two.read_bytes()
        + one.read_bytes()
    )
    found = nssdb.bundle_certificates("AWS_CA_BUNDLE", bundle)
    assert len(found) == 2
    assert [pem(der) for der in found] == [
        pem(nssdb.bundle_certificates("X", one)[0]),
        pem(nssdb.bundle_certificates("X", two)[0]),
    ]


def test_a_bundle_that_cannot_serve_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"AWS_CA_BUNDLE names .*nope.pem, which cannot be read"):
        nssdb.bundle_certificates("AWS_CA_BUNDLE", tmp_path / "nope.pem")
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(ConfigError, match="which holds no PEM certificate"):
        nssdb.bundle_certificates("REQUESTS_CA_BUNDLE", empty)


def test_the_browser_environment_keeps_the_users_xdg_directories() -> None:
    env = {"HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg", "PATH": "/bin"}
    changed = nssdb.browser_environment(Path("/state/trust/abc"), env)
    assert changed == {
        "HOME": "/state/trust/abc",
        "PATH": "/bin",
        "XDG_CONFIG_HOME": "/cfg",
        "XDG_CACHE_HOME": "/home/ann/.cache",
        "XDG_DATA_HOME": "/home/ann/.local/share",
        "XDG_STATE_HOME": "/home/ann/.local/state",
    }
    assert env["HOME"] == "/home/ann"  # the caller's mapping is left as it was


def test_no_certutil_is_a_trust_store_error(tmp_path: Path) -> None:
    bundle = tls_pair(tmp_path, "corp").ca
    with pytest.raises(nssdb.TrustStoreError, match="certutil is not installed") as raised:
        nssdb.browser_home("AWS_CA_BUNDLE", bundle, tmp_path, {"PATH": str(tmp_path)})
    assert raised.value.hint is not None and nssdb.INSTALL_CERTUTIL in raised.value.hint


@requires_tool("certutil")
def test_a_certificate_nss_refuses_leaves_the_others_in(tmp_path: Path) -> None:
    good = nssdb.bundle_certificates("X", tls_pair(tmp_path, "good").ca)[0]
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pem(b"\x30\x03\x02\x01\x00") + pem(good))  # DER NSS cannot read first
    home = nssdb.browser_home("AWS_CA_BUNDLE", bundle, tmp_path, {"HOME": str(tmp_path / "u")})
    listed = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{home / '.pki' / 'nssdb'}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [line.split()[0] for line in listed.splitlines() if "samljit-" in line] == [
        "samljit-" + hashlib.sha256(good).hexdigest()[:16]
    ]
    assert sorted(p.name for p in (tmp_path / "trust").iterdir()) == [home.name]  # no scraps
    # nothing NSS can read at all: the error names certutil's complaint
    only_bad = tmp_path / "bad.pem"
    only_bad.write_bytes(pem(b"\x30\x03\x02\x01\x00"))
    with pytest.raises(nssdb.TrustStoreError, match=r"certutil failed \(.+\)"):
        nssdb.browser_home("AWS_CA_BUNDLE", only_bad, tmp_path, {"HOME": str(tmp_path / "u")})


@requires_tool("certutil")
def test_a_refused_certificate_after_good_ones_and_an_emptied_store(tmp_path: Path) -> None:
    """certutil's batch stops at the refused one after adding those before it; one at a time
    they go in again without complaint. A store someone emptied is built again."""
    goods = [nssdb.bundle_certificates("X", tls_pair(tmp_path, n).ca)[0] for n in ("a", "b")]
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pem(goods[0]) + pem(b"\x30\x03\x02\x01\x00") + pem(goods[1]))
    env = {"HOME": str(tmp_path / "u")}
    home = nssdb.browser_home("AWS_CA_BUNDLE", bundle, tmp_path, env)
    database = home / ".pki" / "nssdb"
    listed = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{database}"], capture_output=True, text=True, check=True
    ).stdout
    assert sorted(line.split()[0] for line in listed.splitlines() if "samljit-" in line) == sorted(
        "samljit-" + hashlib.sha256(der).hexdigest()[:16] for der in goods
    )
    (database / "cert9.db").unlink()
    assert nssdb.browser_home("AWS_CA_BUNDLE", bundle, tmp_path, env) == home
    assert (database / "cert9.db").is_file()


def test_a_profile_that_cannot_hold_the_store_is_a_trust_store_error(tmp_path: Path) -> None:
    bundle = tls_pair(tmp_path, "corp").ca
    not_a_directory = tmp_path / "profile"
    not_a_directory.write_text("")
    certutil = tmp_path / "bin" / "certutil"  # found, never reached
    certutil.parent.mkdir()
    certutil.write_text("#!/bin/sh\nexit 0\n")
    certutil.chmod(0o755)
    env = {"PATH": str(certutil.parent)}
    with pytest.raises(nssdb.TrustStoreError, match="cannot make the browser's certificate store"):
        nssdb.browser_home("AWS_CA_BUNDLE", bundle, not_a_directory, env)
