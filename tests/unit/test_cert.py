"""samljit.tools.cert: key and self-signed certificate generation (generation), subject
(dn) and OpenSSL config (opensslconf) parsing.

The files written are checked with the openssl command line tool, not only with the library
that wrote them.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from samljit.common.errors import ConfigError, SamljitError, UsageError
from samljit.tools import cert
from samljit.tools.cert import (
    KEY_TYPES,
    CertRequest,
    format_subject,
    generate,
    generation,
    parse_subject,
    read_openssl_config,
)
from tests.support.tools import requires_tool
from tests.support.unprivileged import as_unprivileged, shared_dir

OPENSSL = shutil.which("openssl") or "openssl"
REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "production.cnf"
FIXTURE_SUBJECT = (
    "/C=US/ST=New Jersey/L=Fairfield/O=Acme Corporation"
    "/OU=Acme Rocket-Powered Products, Inc./CN=production"
)

needs_openssl = requires_tool("openssl")


def openssl(*args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        [OPENSSL, *args], input=stdin, capture_output=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def write(tmp_path: Path, text: str, name: str = "req.cnf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def hint_of(error: SamljitError) -> str:
    """The error's hint (it has one)."""
    assert error.hint is not None
    return error.hint


def make(tmp_path: Path, **kwargs: object) -> cert.CertResult:
    fields: dict[str, object] = {"name": "production", "out_dir": tmp_path / "out"}
    fields.update(kwargs)
    return generate(CertRequest(**fields))  # type: ignore[arg-type]


# --- the files, checked with openssl -----------------------------------------------------


@needs_openssl
def test_fixture_config_gives_openssl_readable_pair(tmp_path: Path) -> None:
    result = make(tmp_path, openssl_config=FIXTURE)

    assert result.key_path == tmp_path / "out" / "production.key"
    assert result.cert_path == tmp_path / "out" / "production.crt"
    text = openssl("x509", "-noout", "-text", "-in", str(result.cert_path))
    assert "Version: 3 (0x2)" in text
    assert text.count("Signature Algorithm: sha256WithRSAEncryption") == 2
    assert "Public-Key: (2048 bit)" in text
    openssl("pkey", "-in", str(result.key_path), "-noout")

    assert result.key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert stat.S_IMODE(result.key_path.stat().st_mode) == 0o600
    assert result.key_type == "rsa2048"


@needs_openssl
def test_fixture_subject_is_exact(tmp_path: Path) -> None:
    result = make(tmp_path, openssl_config=FIXTURE)

    assert result.subject == FIXTURE_SUBJECT
    shown = openssl(
        "x509", "-noout", "-subject", "-nameopt", "compat", "-in", str(result.cert_path)
    )
    assert shown.strip() == f"subject={FIXTURE_SUBJECT}"
    issuer = openssl(
        "x509", "-noout", "-issuer", "-nameopt", "compat", "-in", str(result.cert_path)
    )
    assert issuer.strip() == f"issuer={FIXTURE_SUBJECT}"


@needs_openssl
def test_subject_encoding_matches_openssl_req(tmp_path: Path) -> None:
    # Same DER (attribute order and string types) as `openssl req -x509 -config production.cnf`.
    ours = load_cert(make(tmp_path, openssl_config=FIXTURE).cert_path)
    theirs_path = tmp_path / "openssl.crt"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(tmp_path / "openssl.key"), "-out", str(theirs_path),
        "-config", str(FIXTURE),
    )  # fmt: skip
    theirs = load_cert(theirs_path)
    assert ours.subject.public_bytes() == theirs.subject.public_bytes()


@needs_openssl
def test_fixture_days_are_honoured_with_a_note(tmp_path: Path) -> None:
    result = make(tmp_path, openssl_config=FIXTURE)

    assert result.not_after - result.not_before == timedelta(days=1095)
    assert result.not_before.utcoffset() == timedelta(0)
    certificate = load_cert(result.cert_path)
    assert certificate.not_valid_before_utc == result.not_before
    assert certificate.not_valid_after_utc == result.not_after
    dates = openssl("x509", "-noout", "-dates", "-in", str(result.cert_path))
    assert result.not_after.strftime("%b %e %H:%M:%S %Y GMT") in dates
    [note] = [n for n in result.notes if "default_days" in n]
    assert "1095" in note
    assert "CA_default" in note
    assert "30-day" in note


def test_days_flag_beats_config(tmp_path: Path) -> None:
    result = make(tmp_path, openssl_config=FIXTURE, days=90)

    assert result.not_after - result.not_before == timedelta(days=90)
    assert not any("30-day" in n for n in result.notes)
    assert any("--days 90 overrides default_days = 1095" in n for n in result.notes)


def test_subject_flag_beats_config(tmp_path: Path) -> None:
    result = make(tmp_path, openssl_config=FIXTURE, subject="/O=Other/CN=other")

    assert result.subject == "/O=Other/CN=other"
    assert load_cert(result.cert_path).subject.rfc4514_string() == "CN=other,O=Other"


def test_defaults(tmp_path: Path) -> None:
    result = make(tmp_path)

    assert result.subject == "/CN=production"
    assert result.key_type == "rsa2048"
    assert result.not_after - result.not_before == timedelta(days=1095)
    assert result.notes == []
    key = serialization.load_pem_private_key(result.key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


@needs_openssl
def test_subject_with_comma_and_escapes_round_trips(tmp_path: Path) -> None:
    subject = "/C=DE/O=Acme\\/Sub, Inc./OU=R\\+D=1/CN=production"
    result = make(tmp_path, subject=subject)

    assert result.subject == subject
    certificate = load_cert(result.cert_path)
    assert certificate.subject.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)[
        0
    ].value == ("Acme/Sub, Inc.")
    # openssl's own one-line form escapes '/' and '+' the same way
    shown = openssl(
        "x509", "-noout", "-subject", "-nameopt", "compat", "-in", str(result.cert_path)
    )
    assert shown.strip() == f"subject={subject}"
    # and `openssl req -subj` reads the same string into the same name
    theirs_path = tmp_path / "openssl.crt"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(tmp_path / "openssl.key"), "-out", str(theirs_path), "-subj", subject,
    )  # fmt: skip
    assert load_cert(theirs_path).subject.public_bytes() == certificate.subject.public_bytes()


@needs_openssl
def test_extensions_match_openssl_req_x509(tmp_path: Path) -> None:
    certificate = load_cert(make(tmp_path, key_type="ec-p256").cert_path)

    assert certificate.version == x509.Version.v3
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert aki.value.key_identifier == ski.value.digest
    assert basic.critical
    assert basic.value.ca
    assert certificate.issuer == certificate.subject
    assert 0 < certificate.serial_number < 2**159
    # the signature verifies against its own key (self-signed)
    certificate.verify_directly_issued_by(certificate)


def test_serial_numbers_differ(tmp_path: Path) -> None:
    first = load_cert(make(tmp_path, name="a", key_type="ec-p256").cert_path)
    second = load_cert(make(tmp_path, name="b", key_type="ec-p256").cert_path)
    assert first.serial_number != second.serial_number


@needs_openssl
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_each_key_type(tmp_path: Path, key_type: str) -> None:
    result = make(tmp_path, key_type=key_type)

    assert result.key_type == key_type
    assert result.key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert stat.S_IMODE(result.key_path.stat().st_mode) == 0o600
    text = openssl("x509", "-noout", "-text", "-in", str(result.cert_path))
    key_text = openssl("pkey", "-in", str(result.key_path), "-noout", "-text")
    if key_type == "ec-p256":
        assert "Signature Algorithm: ecdsa-with-SHA256" in text
        assert "NIST CURVE: P-256" in key_text
    else:
        bits = key_type.removeprefix("rsa")
        assert "Signature Algorithm: sha256WithRSAEncryption" in text
        assert f"Private-Key: ({bits} bit" in key_text
    # the key belongs to the certificate
    key_pub = openssl("pkey", "-in", str(result.key_path), "-pubout")
    cert_pub = openssl("x509", "-in", str(result.cert_path), "-noout", "-pubkey")
    assert key_pub == cert_pub


def test_key_matches_cert_with_cryptography(tmp_path: Path) -> None:
    result = make(tmp_path, key_type="ec-p256")
    key = serialization.load_pem_private_key(result.key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert load_cert(result.cert_path).public_key() == key.public_key()


@needs_openssl
def test_fingerprint_equals_openssl(tmp_path: Path) -> None:
    result = make(tmp_path, key_type="ec-p256")
    shown = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", str(result.cert_path))
    assert shown.strip().split("=", 1)[1] == result.sha256_fingerprint
    assert len(result.sha256_fingerprint) == 32 * 3 - 1


@pytest.mark.parametrize("umask", [0o000, 0o277])
def test_key_is_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        result = make(tmp_path, key_type="ec-p256", out_dir=tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(result.key_path.stat().st_mode) == 0o600


# --- never overwrite without --force, never a half pair ----------------------------------


def test_existing_files_need_force(tmp_path: Path) -> None:
    first = make(tmp_path, key_type="ec-p256")
    key_before = first.key_path.read_bytes()
    cert_before = first.cert_path.read_bytes()

    with pytest.raises(UsageError) as caught:
        make(tmp_path, key_type="ec-p256")
    assert str(first.key_path) in caught.value.message
    assert "--force" in hint_of(caught.value)
    assert first.key_path.read_bytes() == key_before
    assert first.cert_path.read_bytes() == cert_before
    assert sorted(p.name for p in first.key_path.parent.iterdir()) == [
        "production.crt",
        "production.key",
    ]

    second = make(tmp_path, key_type="ec-p256", force=True)
    assert second.key_path.read_bytes() != key_before
    assert second.sha256_fingerprint != first.sha256_fingerprint
    assert stat.S_IMODE(second.key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(second.key_path.read_bytes(), password=None)
    assert load_cert(second.cert_path).public_key() == key.public_key()


def test_existing_cert_alone_blocks_and_no_key_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "production.crt").write_text("keep me")

    with pytest.raises(UsageError) as caught:
        make(tmp_path)
    assert "production.crt" in caught.value.message
    assert not (out / "production.key").exists()
    assert (out / "production.crt").read_text() == "keep me"


def test_dangling_symlink_counts_as_existing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "production.key").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(UsageError, match=r"production\.key already exists"):
        make(tmp_path)
    assert not (tmp_path / "elsewhere").exists()


def test_file_appearing_after_the_check_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generation, "_refuse_existing", lambda paths: None)
    out = tmp_path / "out"
    out.mkdir()
    (out / "production.crt").write_text("raced")

    with pytest.raises(UsageError, match=r"production\.crt already exists"):
        make(tmp_path, key_type="ec-p256")
    assert (out / "production.crt").read_text() == "raced"
    assert sorted(p.name for p in out.iterdir()) == ["production.crt"]


def test_cert_write_failure_removes_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_install = generation._install

    def failing_install(temp: Path, final: Path, *args: object, **kwargs: object) -> None:
        if final.suffix == ".crt":
            raise OSError(28, "No space left on device")
        real_install(temp, final, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(generation, "_install", failing_install)
    with pytest.raises(UsageError) as caught:
        make(tmp_path, key_type="ec-p256")
    assert "production.crt" in caught.value.message
    assert "No space left on device" in caught.value.message
    assert list((tmp_path / "out").iterdir()) == []


def test_hard_link_refused_falls_back_to_exclusive_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    result = make(tmp_path, key_type="ec-p256")
    assert stat.S_IMODE(result.key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(result.key_path.read_bytes(), password=None)
    assert load_cert(result.cert_path).public_key() == key.public_key()
    assert sorted(p.name for p in result.key_path.parent.iterdir()) == [
        "production.crt",
        "production.key",
    ]


# --- request errors ------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, -1, 36501, True])
def test_bad_days(tmp_path: Path, days: int) -> None:
    with pytest.raises(UsageError, match="--days must be between 1 and 36500"):
        make(tmp_path, days=days)
    assert not (tmp_path / "out").exists()


def test_days_bounds_are_inclusive(tmp_path: Path) -> None:
    result = make(tmp_path, key_type="ec-p256", days=1)
    assert result.not_after - result.not_before == timedelta(days=1)


def test_unknown_key_type(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        make(tmp_path, key_type="rsa1024")
    assert "rsa1024" in caught.value.message
    assert "ec-p256" in hint_of(caught.value)


def test_key_type_is_case_insensitive(tmp_path: Path) -> None:
    assert make(tmp_path, key_type="EC-P256").key_type == "ec-p256"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "x\ny"])
def test_bad_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="--name"):
        make(tmp_path, name=name)


def test_long_name_without_subject_is_refused_as_cn(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at most 64"):
        make(tmp_path, name="n" * 65)


def test_subject_without_cn_gets_name(tmp_path: Path) -> None:
    result = make(tmp_path, key_type="ec-p256", subject="/O=Acme")
    assert result.subject == "/O=Acme/CN=production"
    assert any("CN=production" in n for n in result.notes)


def test_out_dir_is_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    result = make(tmp_path, key_type="ec-p256", out_dir=out)
    assert result.key_path.parent == out
    assert stat.S_IMODE(out.stat().st_mode) & 0o077 == 0


def test_out_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        make(tmp_path, out_dir=tmp_path / "file")


def test_out_dir_not_writable() -> None:
    """Real permission bits (as an ordinary user; root would ignore them)."""
    with shared_dir() as directory:

        def check() -> None:
            out = directory / "ro"
            out.mkdir()
            out.chmod(0o500)
            try:
                with pytest.raises(UsageError, match="cannot write to"):
                    make(directory, out_dir=out)
            finally:
                out.chmod(0o700)

        as_unprivileged(check)


def test_out_dir_not_writable_as_reported_by_the_os(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(UsageError) as caught:
        make(tmp_path, out_dir=tmp_path)
    assert caught.value.message == f"cannot write to {tmp_path}: permission denied"
    assert caught.value.hint is not None


def test_write_permission_error_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(UsageError, match=r"cannot write .*Permission denied"):
        make(tmp_path, key_type="ec-p256")


def test_importing_cert_does_not_load_cryptography() -> None:
    code = "import sys, samljit.tools.cert; sys.exit('cryptography' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False, timeout=60)
    assert done.returncode == 0


# --- parse_subject ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FIXTURE_SUBJECT, [
            ("C", "US"), ("ST", "New Jersey"), ("L", "Fairfield"), ("O", "Acme Corporation"),
            ("OU", "Acme Rocket-Powered Products, Inc."), ("CN", "production"),
        ]),
        ("/CN=a\\/b", [("CN", "a/b")]),
        ("/CN=a\\\\b", [("CN", "a\\b")]),
        ("/CN=a\\+b", [("CN", "a+b")]),
        ("/O=x=y", [("O", "x=y")]),
        ("/CN=production/", [("CN", "production")]),
        ("/commonName=x/countryName=de", [("CN", "x"), ("C", "de")]),
        ("/cn=x/EMAILADDRESS=ops@acme.example",
         [("CN", "x"), ("emailAddress", "ops@acme.example")]),
        ("/OU=one/OU=two", [("OU", "one"), ("OU", "two")]),
        ("/CN=Zürich AG", [("CN", "Zürich AG")]),
        ("/CN=" + "ü" * 32, [("CN", "ü" * 32)]),
        ("/O= spaced ", [("O", " spaced ")]),
    ],
)  # fmt: skip
def test_parse_subject(text: str, expected: list[tuple[str, str]]) -> None:
    assert parse_subject(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CN=x", "must start with '/'"),
        ("", "must start with '/'"),
        ("/", "names no fields"),
        ("/CN", "has no '='"),
        ("/CN=x/O", "has no '='"),
        ("/CN=x//O=y", "empty field"),
        ("/XX=y", "unknown field 'XX'"),
        ("/=y", "unknown field ''"),
        ("/CN=", "CN has no value"),
        ("/CN=  ", "CN has no value"),
        ("/CN=a+O=b", "unescaped '\\+'"),
        ("/CN=x\\", "lone backslash"),
        ("/C=USA", "two-letter country code"),
        ("/C=U1", "two-letter country code"),
        ("/C=U", "two-letter country code"),
        ("/CN=" + "x" * 65, "at most 64"),
        ("/O=" + "x" * 65, "at most 64"),
        ("/CN=" + "ü" * 33, "longer than 64 bytes"),
        ("/CN=a\tb", "control character"),
        ("/emailAddress=ü@acme.example", "ASCII"),
        ("/serialNumber=a_b", "may only hold"),
    ],
)
def test_parse_subject_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_subject(text)


def test_parse_subject_error_has_hint() -> None:
    with pytest.raises(UsageError) as caught:
        parse_subject("C=US, CN=x")
    assert "/C=US" in hint_of(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        [("CN", "a/b+c\\d")],
        [("O", "Acme Rocket-Powered Products, Inc."), ("CN", "x=y")],
    ],
)
def test_format_subject_round_trips(fields: list[tuple[str, str]]) -> None:
    assert parse_subject(format_subject(fields)) == fields


# --- read_openssl_config ---------------------------------------------------------------------


def test_fixture_config() -> None:
    config = read_openssl_config(FIXTURE)
    assert config.subject == parse_subject(FIXTURE_SUBJECT)
    assert not config.subject_from_defaults
    assert config.days == 1095
    assert config.days_section == "CA_default"
    assert config.digest == "SHA256"
    assert config.default_bits is None
    assert config.notes == []


def test_config_quotes_comments_escapes_and_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
# leading comment
RANDFILE = /tmp/.rnd   # top-level values sit in [ default ]
org = Acme
[ req ]   # comment after a header
prompt = no
distinguished_name = my dn
[ my dn ]
C = 'US'
O = "$org #1 Corp"          # '#' inside quotes is not a comment
OU = Research \\# Development
L = ${org}ville
ST = "New "Jersey
CN = "quoted \\" quote"
""",
    )
    config = read_openssl_config(path)
    assert config.subject == [
        ("C", "US"),
        ("O", "$org #1 Corp"),
        ("OU", "Research # Development"),
        ("L", "Acmeville"),
        ("ST", "New Jersey"),
        ("CN", 'quoted " quote'),
    ]


def test_config_variable_sections_and_continuation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[ names ]\nbase = Acme\n"
        "[ req ]\nprompt = no\ndistinguished_name = dn\n"
        "[ dn ]\nO = $names::base \\\n Corporation\nCN = ${names::base}\n",
    )
    assert read_openssl_config(path).subject == [("O", "Acme  Corporation"), ("CN", "Acme")]


def test_config_env_variable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[req]\nprompt=no\ndistinguished_name=dn\n[dn]\nCN=$ENV::SAMLJIT_TEST_CN\n",
    )
    env = {"SAMLJIT_TEST_CN": "from-env"}
    assert read_openssl_config(path, env=env).subject == [("CN", "from-env")]


def test_config_env_variable_comes_from_the_caller_not_os_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMLJIT_TEST_CN", "from-os-environ")
    path = write(
        tmp_path,
        "[req]\nprompt=no\ndistinguished_name=dn\n[dn]\nCN=$ENV::SAMLJIT_TEST_CN\n",
    )
    with pytest.raises(ConfigError, match=r"\$ENV::SAMLJIT_TEST_CN has no value"):
        read_openssl_config(path)
    request = CertRequest(name="production", openssl_config=path, out_dir=tmp_path / "out")
    result = generate(request, env={"SAMLJIT_TEST_CN": "from-caller"})
    assert result.subject == "/CN=from-caller"


def test_config_undefined_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "[req]\nprompt=no\ndistinguished_name=dn\n[dn]\nO=Acme $ Co\n")
    with pytest.raises(ConfigError, match="has no value") as caught:
        read_openssl_config(path)
    assert "\\$" in hint_of(caught.value)


def test_config_long_short_and_numbered_field_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[req]\nprompt = no\ndistinguished_name = dn\n[dn]\n"
        "countryName = DE\nST = Bavaria\n0.organizationalUnitName = One\n"
        "1.OU = Two\nemailAddress = ops@acme.example\ncommonName = x\n",
    )
    assert read_openssl_config(path).subject == [
        ("C", "DE"),
        ("ST", "Bavaria"),
        ("OU", "One"),
        ("OU", "Two"),
        ("emailAddress", "ops@acme.example"),
        ("CN", "x"),
    ]


def test_config_repeated_name_last_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "[req]\nprompt=no\ndistinguished_name=dn\n[dn]\nO=a\nCN=x\nO=b\n")
    assert read_openssl_config(path).subject == [("CN", "x"), ("O", "b")]


def test_config_prompt_yes_uses_defaults(tmp_path: Path) -> None:
    # shaped like the stock openssl.cnf
    path = write(
        tmp_path,
        """
[ req ]
default_bits = 4096
distinguished_name = req_distinguished_name
[ req_distinguished_name ]
countryName = Country Name (2 letter code)
countryName_default = AU
countryName_min = 2
countryName_max = 2
stateOrProvinceName = State or Province Name (full name)
stateOrProvinceName_default = Some-State
localityName = Locality Name (eg, city)
0.organizationName = Organization Name (eg, company)
0.organizationName_default = Internet Widgits Pty Ltd
organizationalUnitName = Organizational Unit Name (eg, section)
organizationalUnitName_default = Ops
organizationalUnitName_value = .
commonName = Common Name (e.g. server FQDN or YOUR name)
commonName_max = 64
commonName_value = fixed
""",
    )
    config = read_openssl_config(path)
    assert config.subject == [
        ("C", "AU"),
        ("ST", "Some-State"),
        ("O", "Internet Widgits Pty Ltd"),
        ("CN", "fixed"),
    ]
    assert config.subject_from_defaults
    assert config.default_bits == 4096


def test_prompt_yes_config_in_generate(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[req]\ndefault_bits = 3072\ndistinguished_name = dn\n"
        "[dn]\nO = Organization\nO_default = Acme\n",
    )
    result = make(tmp_path, openssl_config=path)
    assert result.subject == "/O=Acme/CN=production"
    assert result.key_type == "rsa3072"
    assert result.not_after - result.not_before == timedelta(days=1095)
    assert any("_default" in n for n in result.notes)
    assert not any("30-day" in n for n in result.notes)


def test_key_type_flag_beats_default_bits(tmp_path: Path) -> None:
    path = write(tmp_path, "[req]\ndefault_bits = 1024\n")
    assert make(tmp_path, openssl_config=path, key_type="ec-p256").key_type == "ec-p256"
    with pytest.raises(ConfigError, match="default_bits = 1024") as caught:
        make(tmp_path, name="other", openssl_config=path)
    assert "--key-type" in hint_of(caught.value)


def test_config_default_days_in_req_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[ca]\ndefault_ca = CA_default\n[CA_default]\ndefault_days = 1095\n"
        "[req]\ndefault_days = 400\n",
    )
    config = read_openssl_config(path)
    assert (config.days, config.days_section) == (400, "req")
    result = make(tmp_path, openssl_config=path, key_type="ec-p256")
    assert result.not_after - result.not_before == timedelta(days=400)
    assert any("[ req ]" in n and "30-day" in n for n in result.notes)


def test_config_default_days_at_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "default_days = 365\n[req]\n")
    assert read_openssl_config(path).days == 365


def test_config_ca_section_without_default_ca_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, "[CA_default]\ndefault_days = 1095\n[req]\n")
    assert read_openssl_config(path).days is None


@pytest.mark.parametrize(
    ("value", "message"),
    [("ten", "not a whole number"), ("0", "between 1 and 36500"), ("36501", "between 1")],
)
def test_config_bad_default_days(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, f"[ca]\ndefault_ca = X\n[X]\ndefault_days = {value}\n[req]\n")
    with pytest.raises(ConfigError, match=message) as caught:
        read_openssl_config(path)
    assert "[ X ]" in caught.value.message


@pytest.mark.parametrize("digest", ["sha1", "md5", "sha512"])
def test_config_other_digest_gets_a_note(tmp_path: Path, digest: str) -> None:
    path = write(tmp_path, f"[req]\ndefault_md = {digest}\n")
    config = read_openssl_config(path)
    assert config.digest == digest
    [note] = config.notes
    assert digest in note
    assert "SHA-256" in note
    result = make(tmp_path, openssl_config=path, key_type="ec-p256")
    assert note in result.notes
    text = load_cert(result.cert_path).signature_hash_algorithm
    assert text is not None
    assert text.name == "sha256"


@pytest.mark.parametrize("digest", ["sha256", "SHA256", "SHA-256", "default"])
def test_config_sha256_digest_has_no_note(tmp_path: Path, digest: str) -> None:
    assert read_openssl_config(write(tmp_path, f"[req]\ndefault_md = {digest}\n")).notes == []


def test_config_encrypt_key_and_extensions_notes(tmp_path: Path) -> None:
    path = write(tmp_path, "[req]\nencrypt_key = yes\nx509_extensions = v3_ca\n")
    notes = read_openssl_config(path).notes
    assert any("unencrypted" in n for n in notes)
    assert any("x509_extensions" in n for n in notes)


def test_config_without_dn_falls_back_to_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[req]\ndefault_md = sha256\n")
    assert read_openssl_config(path).subject is None
    assert make(tmp_path, openssl_config=path, key_type="ec-p256").subject == "/CN=production"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ca]\ndefault_ca = X\n", "no \\[ req \\] section"),
        ("[req]\ndistinguished_name = nowhere\n", "no \\[ nowhere \\] section"),
        ("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nXX = 1\n", "unknown field 'XX'"),
        ("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nC = USA\n", "two-letter"),
        ("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = \n", "CN has no value"),
        ("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\n+OU = x\n", "multi-valued"),
        ("[req\nprompt = no\n", "line 1: section header without"),
        ("[req]\njust some words\n", "line 2: expected 'name = value'"),
        (".include other.cnf\n[req]\n", ".include is not supported"),
        ("[req]\nCN = ${x\n", "without a closing"),
    ],
)
def test_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_openssl_config(write(tmp_path, text))


def test_config_error_from_generate_is_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nC = USA\n")
    with pytest.raises(ConfigError, match=r"req\.cnf"):
        make(tmp_path, openssl_config=path)
    assert not (tmp_path / "out").exists()


def test_config_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read OpenSSL config") as caught:
        read_openssl_config(tmp_path / "missing.cnf")
    assert "missing.cnf" in caught.value.message
    with pytest.raises(ConfigError, match="cannot read OpenSSL config"):
        read_openssl_config(tmp_path)


def test_config_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.cnf"
    path.write_bytes(b"[req]\nO = Z\xfcrich\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_openssl_config(path)


def test_config_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "windows.cnf"
    path.write_bytes(
        b"\xef\xbb\xbf[req]\r\nprompt = no\r\ndistinguished_name = dn\r\n[dn]\r\nCN = x\r\n"
    )
    assert read_openssl_config(path).subject == [("CN", "x")]
