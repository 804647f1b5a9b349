"""Hostile XML, with and without a pinned certificate: no file is read, no connection is made,
no memory is exhausted; each document is refused with a clear error.

Proof, not hope: a file entity points at a real file watched with inotify (an open or read
of it is recorded by the kernel), and URL entities point at a loopback listener that counts
the connections it accepts. Positive controls show that both would notice.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from lxml import etree

from samljit.common.errors import AssertionFormatError, AuthenticationError
from samljit.saml import assertion as saml
from samljit.saml import verify
from tests.security.corpus import IDP_CERT_PATH, check, genuine, raw_b64, the_assertion

MARKER = "samljit-xxe-marker-7f3a9c"
PINNING = [pytest.param(None, id="unpinned"), pytest.param(IDP_CERT_PATH, id="pinned")]
_IN_ACCESS = 0x001
_IN_OPEN = 0x020


class FileWatch:
    """Counts the opens and reads of one file, through Linux inotify."""

    supported = sys.platform.startswith("linux")

    def __init__(self, path: Path) -> None:
        self.fd = -1
        if not self.supported:
            return
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, bytes(path), _IN_OPEN | _IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), "inotify is not available")

    def touched(self) -> int:
        """Events since the last call (0 where inotify does not exist)."""
        seen = 0
        while self.fd >= 0:
            try:
                seen += len(os.read(self.fd, 4096))
            except BlockingIOError:
                break
        return seen

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Listener:
    """A loopback TCP listener that counts accepted connections (and closes them at once)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.connections = 0
        self.arrived = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="xxe-listener", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            connection, _ = self._socket.accept()
            if self._stopping:
                connection.close()
                return
            self.connections += 1
            self.arrived.set()
            connection.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        socket.create_connection(("127.0.0.1", self.port)).close()  # wakes accept()
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture
def secret_file(tmp_path: Path) -> Iterator[tuple[Path, FileWatch]]:
    path = tmp_path / "secret.txt"
    path.write_text(MARKER)
    watch = FileWatch(path)
    yield path, watch
    watch.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as server:
        yield server


def hostile(doctype: str, entity: str | None = None) -> str:
    """A genuinely signed response with ``doctype`` after the XML declaration and, when given,
    the session name replaced by a reference to ``entity``."""
    text = etree.tostring(genuine(), xml_declaration=True, encoding="UTF-8").decode()
    declaration, _, body = text.partition("\n")
    if entity is not None:
        old = '<saml:AttributeValue xsi:type="xs:string">ops@acme.example</saml:AttributeValue>'
        assert old in body
        body = body.replace(old, old.replace("ops@acme.example", f"&{entity};"))
    return f"{declaration}\n{doctype}\n{body}"


def encoded(text: str, encoding: str = "utf-8") -> str:
    """The document in ``encoding``: UTF-8 as is; UTF-32LE without BOM or declaration, and
    UTF-7 with an ASCII declaration (``<!`` becomes ``+ADwAIQ-``): both hide ``<!DOCTYPE``
    from a byte search."""
    if encoding == "utf-8":
        return raw_b64(text.encode())
    body = text.partition("\n")[2]
    if encoding == "utf-32-le":
        return raw_b64(body.encode("utf-32-le"))
    return raw_b64(b'<?xml version="1.0" encoding="UTF-7"?>\n' + body.encode("utf-7"))


#: The refusal each encoding gets: a DTD in UTF-8, the encoding itself otherwise.
REFUSAL = {
    "utf-8": "the SAML document contains a DTD, which samljit refuses",
    "utf-32-le": "the SAML document is not UTF-8 (it holds NUL bytes, as UTF-16 or UTF-32 text "
    "does); samljit reads UTF-8 SAML only",
    "utf-7": "the SAML document declares encoding UTF-7; samljit reads UTF-8 SAML only",
}


def refused(document: str, pinned: Path | None) -> AssertionFormatError:
    with pytest.raises(AssertionFormatError) as caught:
        check(document, pinned=pinned)
    return caught.value


# -- external entities --------------------------------------------------------------------
def test_positive_control_an_unsafe_parser_reads_the_file(
    secret_file: tuple[Path, FileWatch],
) -> None:
    path, watch = secret_file
    text = hostile(f'<!DOCTYPE samlp:Response [<!ENTITY leak SYSTEM "file://{path}">]>', "leak")
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True)
    root = etree.fromstring(text.encode(), unsafe)
    assert MARKER in etree.tostring(root).decode()
    if FileWatch.supported:
        assert watch.touched() > 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32-le", "utf-7"])
@pytest.mark.parametrize("pinned", PINNING)
def test_xxe_file_entity_is_not_read(
    secret_file: tuple[Path, FileWatch], pinned: Path | None, encoding: str
) -> None:
    path, watch = secret_file
    text = hostile(f'<!DOCTYPE samlp:Response [<!ENTITY leak SYSTEM "file://{path}">]>', "leak")
    error = refused(encoded(text, encoding), pinned)
    assert str(error) == REFUSAL[encoding]
    assert MARKER not in str(error)
    assert watch.touched() == 0


def test_positive_control_the_listener_counts_connections(listener: Listener) -> None:
    socket.create_connection(("127.0.0.1", listener.port)).close()
    assert listener.arrived.wait(timeout=10)
    assert listener.connections == 1


@pytest.mark.parametrize(
    "doctype",
    [
        pytest.param(
            '<!DOCTYPE samlp:Response [<!ENTITY leak SYSTEM "{url}/leak">]>', id="general"
        ),
        pytest.param(
            '<!DOCTYPE samlp:Response [<!ENTITY % remote SYSTEM "{url}/evil.dtd"> %remote;'
            '<!ENTITY leak "x">]>',
            id="parameter",
        ),
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-32-le", "utf-7"])
@pytest.mark.parametrize("pinned", PINNING)
def test_xxe_url_entity_makes_no_connection(
    listener: Listener, pinned: Path | None, encoding: str, doctype: str
) -> None:
    text = hostile(doctype.format(url=listener.url), "leak")
    error = refused(encoded(text, encoding), pinned)
    assert str(error) == REFUSAL[encoding]
    assert listener.connections == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32-le", "utf-7"])
@pytest.mark.parametrize("pinned", PINNING)
def test_external_dtd_is_not_fetched(
    listener: Listener, secret_file: tuple[Path, FileWatch], pinned: Path | None, encoding: str
) -> None:
    path, watch = secret_file
    for system in (f"{listener.url}/saml.dtd", f"file://{path}"):
        text = hostile(f'<!DOCTYPE samlp:Response SYSTEM "{system}">')
        error = refused(encoded(text, encoding), pinned)
        assert str(error) == REFUSAL[encoding]
    assert listener.connections == 0
    assert watch.touched() == 0


# -- resource exhaustion ------------------------------------------------------------------
def laughs() -> str:
    levels = ['<!ENTITY lol0 "lol">']
    levels += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f"<!DOCTYPE samlp:Response [{''.join(levels)}]>"


@pytest.mark.parametrize("pinned", PINNING)
def test_billion_laughs_is_refused(pinned: Path | None) -> None:
    error = refused(encoded(hostile(laughs(), "lol9")), pinned)
    assert str(error) == "the SAML document contains a DTD, which samljit refuses"


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-7"])
@pytest.mark.parametrize("pinned", PINNING)
def test_billion_laughs_in_another_encoding_is_refused(pinned: Path | None, encoding: str) -> None:
    error = refused(encoded(hostile(laughs(), "lol9"), encoding), pinned)
    assert str(error) == REFUSAL[encoding]


@pytest.mark.parametrize("pinned", PINNING)
def test_a_50_mb_response_is_refused_before_decoding(pinned: Path | None) -> None:
    head = b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
    xml = head + b" " * (50 * 1024 * 1024) + b"</samlp:Response>"
    error = refused(raw_b64(xml), pinned)
    assert str(error).startswith("the SAMLResponse is too large (")


@pytest.mark.parametrize("pinned", PINNING)
def test_just_under_the_encoded_cap_but_too_large_decoded_is_refused(pinned: Path | None) -> None:
    xml = b"<samlp:Response>" + b" " * (saml.MAX_DECODED_BYTES + 10) + b"</samlp:Response>"
    assert len(raw_b64(xml)) <= saml.MAX_ENCODED_CHARS
    error = refused(raw_b64(xml), pinned)
    assert str(error).startswith("the SAML document is too large (")


def nested(depth: int) -> str:
    text = etree.tostring(genuine(), xml_declaration=True, encoding="UTF-8").decode()
    closing = "</samlp:Response>"
    return text.replace(closing, "<x>" * depth + "</x>" * depth + closing)


@pytest.mark.parametrize("pinned", PINNING)
def test_nesting_beyond_samljits_limit_is_refused(pinned: Path | None) -> None:
    error = refused(raw_b64(nested(100).encode()), pinned)
    assert str(error) == f"the SAML document nests deeper than {saml.MAX_DEPTH} elements"


@pytest.mark.parametrize("pinned", PINNING)
def test_very_deep_nesting_is_refused(pinned: Path | None) -> None:
    error = refused(raw_b64(nested(100_000).encode()), pinned)
    assert str(error) == "the SAML document nests deeper than 64 elements"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32-le"])
def test_the_parser_given_to_signxml_loads_nothing(
    secret_file: tuple[Path, FileWatch], listener: Listener, encoding: str
) -> None:
    # Second line of defence, should a DTD ever get past the checks before it.
    path, watch = secret_file
    for doctype in (
        f'<!DOCTYPE samlp:Response [<!ENTITY leak SYSTEM "file://{path}">]>',
        f'<!DOCTYPE samlp:Response SYSTEM "file://{path}">',
        f'<!DOCTYPE samlp:Response SYSTEM "{listener.url}/saml.dtd">',
    ):
        text = hostile(doctype, "leak")
        raw = text.encode() if encoding == "utf-8" else text.partition("\n")[2].encode(encoding)
        for parser in (
            verify._parser(),
            # even a parser told to load DTDs and expand entities loads nothing through it
            verify.load_nothing(etree.XMLParser(load_dtd=True, resolve_entities=True)),
        ):
            try:
                root = etree.fromstring(raw, parser)
            except etree.XMLSyntaxError as error:  # "Entity 'leak' not defined": nothing loaded
                assert MARKER not in str(error)
                continue
            assert MARKER not in etree.tostring(root).decode()
    assert watch.touched() == 0
    assert listener.connections == 0


def test_plain_utf8_declarations_are_accepted() -> None:
    text = etree.tostring(genuine(), xml_declaration=True, encoding="UTF-8").decode()
    for declared in ("UTF-8", "utf-8", "US-ASCII"):
        document = text.replace("encoding='UTF-8'", f"encoding='{declared}'")
        assert f"encoding='{declared}'" in document
        check(raw_b64(document.encode()))


@pytest.mark.parametrize("pinned", PINNING)
def test_invalid_utf8_is_refused(pinned: Path | None) -> None:
    text = etree.tostring(genuine(), xml_declaration=True, encoding="UTF-8")
    document = text.replace(
        b"ops@acme.example</saml:AttributeValue>", b"ops\xe9</saml:AttributeValue>"
    )
    error = refused(raw_b64(document), pinned)
    assert str(error) == "the SAML document is not valid UTF-8; samljit reads UTF-8 SAML only"


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-7"])
def test_the_low_level_parser_screens_encodings_too(
    secret_file: tuple[Path, FileWatch], encoding: str
) -> None:
    """``assertion.parse`` (not only ``verify.check``) refuses a DTD hidden by the encoding
    before libxml2 could open the external DTD it names."""
    from samljit.saml import assertion

    path, watch = secret_file
    text = hostile(f'<!DOCTYPE samlp:Response SYSTEM "file://{path}">')
    with pytest.raises(AssertionFormatError) as caught:
        assertion.parse(encoded(text, encoding))
    assert str(caught.value) == REFUSAL[encoding]
    assert watch.touched() == 0


# -- assertion look-alikes: refused with or without a pinned certificate -----------------------
def _encrypted_beside(root: Any) -> Any:
    """An EncryptedAssertion next to the signed Assertion (STS might read either)."""
    extra = etree.SubElement(root, f"{{{saml.NS['saml']}}}EncryptedAssertion")
    etree.SubElement(extra, "{http://www.w3.org/2001/04/xmlenc#}EncryptedData")
    return root


def _lowercase_copy(root: Any) -> Any:
    """A copy of the Assertion named ``assertion`` (another case), as a sibling."""
    copy = etree.fromstring(etree.tostring(the_assertion(root)))
    copy.tag = f"{{{saml.NS['saml']}}}assertion"
    root.append(copy)
    return root


def _other_namespace(root: Any) -> Any:
    """A copy of the Assertion in another namespace, tucked in the Status element."""
    copy = etree.fromstring(etree.tostring(the_assertion(root)))
    copy.tag = "{urn:oasis:names:tc:SAML:1.0:assertion}Assertion"
    root.find(f"{{{saml.NS['samlp']}}}Status").append(copy)
    return root


LOOK_ALIKES = {
    "encrypted beside": (_encrypted_beside, "an EncryptedAssertion beside the Assertion"),
    "other case": (_lowercase_copy, "assertion-like element assertion"),
    "other namespace": (_other_namespace, "(urn:oasis:names:tc:SAML:1.0:assertion) inside"),
}


@pytest.mark.parametrize("pinned", PINNING)
@pytest.mark.parametrize("name", sorted(LOOK_ALIKES))
def test_assertion_look_alikes_are_refused(name: str, pinned: Path | None) -> None:
    """Not forwarded to STS with the rest of the bytes: exit 3 (an AuthenticationError) naming
    what is wrong. (Pinned, the signature shape check may name it first.)"""
    attack, expected = LOOK_ALIKES[name]
    with pytest.raises(AuthenticationError) as caught:
        check(attack(genuine()), pinned=pinned)
    if pinned is None or name == "encrypted beside":
        assert expected in str(caught.value)
    assert caught.value.hint and "tampering" in caught.value.hint
