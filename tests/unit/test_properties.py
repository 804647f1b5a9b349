"""Property tests: whatever the IdP (or someone in the middle) sends, the parser, the verifier
and the HTML extraction give a result or samljit's own error, never another exception."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from samljit.common.errors import SamljitError
from samljit.common.terminal import Terminal
from samljit.idp import page
from samljit.saml import assertion as saml
from samljit.saml import verify
from tests.emulators.jumpcloud import saml_post_body
from tests.security.corpus import NOW, account, genuine, raw_b64

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SIGNED = {
    target: etree.tostring(genuine(target), xml_declaration=True, encoding="UTF-8")
    for target in ("assertion", "response")
}
PAGE = saml_post_body(raw_b64(SIGNED["assertion"]), "relay")

#: Pieces an attacker (or a broken IdP) may splice into a document.
SNIPPETS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&lol;",
    b"<!--x-->",
    b"<![CDATA[x]]>",
    b"<?pi x?>",
    b"<!DOCTYPE r>",
    b'<!ENTITY x "y">',
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b'"',
    b"'",
    b' ID="_dup"',
    b"<saml:Assertion>",
    b"</saml:Assertion>",
    b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>',
    b"<samlp:Response>",
    b'NotOnOrAfter="9999-12-31T23:59:59-14:00"',
    b'NotBefore="0001-01-01T00:00:00+14:00"',
    b'NotOnOrAfter="2030-13-45T99:99:99Z"',
    b"arn:aws:iam::012345678987:role/X,arn:aws:iam::012345678987:saml-provider/Y",
    b"https://signin.aws.amazon.com/saml",
    b'xmlns:saml="urn:evil"',
]


def outcome(call: Callable[[], object]) -> object:
    """Run ``call``; samljit's errors are an acceptable outcome, anything else fails."""
    try:
        return call()
    except SamljitError as error:
        assert str(error)  # a message for the user, never empty
        return error


def parse(encoded: str) -> object:
    return outcome(lambda: saml.parse(encoded))


def check(encoded: str, pinned: bool = True) -> object:
    terminal = Terminal(interactive=False, stream=io.StringIO())
    chosen = account() if pinned else account(None)
    return outcome(lambda: verify.check(encoded, chosen, now=NOW, terminal=terminal))


@st.composite
def mutated(draw: st.DrawFn, source: bytes) -> bytes:
    """``source`` with a few splices: bytes replaced, removed, or snippets inserted."""
    data = bytearray(source)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(st.sampled_from(["flip", "delete", "insert", "snippet"]))
        if kind == "flip" and position < len(data):
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "delete":
            length = draw(st.integers(min_value=1, max_value=64))
            del data[position : position + length]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[position:position] = draw(st.sampled_from(SNIPPETS))
    return bytes(data)


# -- the parser and the verifier --------------------------------------------------------------
@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    parse(text)
    check(text)


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_as_a_document(data: bytes) -> None:
    encoded = base64.b64encode(data).decode()
    parse(encoded)
    check(encoded)


@SETTINGS
@given(st.sampled_from(sorted(SIGNED)).flatmap(lambda target: mutated(SIGNED[target])))
def test_mutated_signed_responses(data: bytes) -> None:
    encoded = raw_b64(data)
    parse(encoded)
    result = check(encoded)
    if isinstance(result, saml.SamlAssertion):  # only a change the signature does not cover
        assert result.roles == parse_roles(SIGNED["assertion"])


@SETTINGS
@given(mutated(SIGNED["assertion"]))
def test_mutated_unpinned(data: bytes) -> None:
    check(raw_b64(data), pinned=False)


@SETTINGS
@given(st.sampled_from(sorted(SIGNED)), st.data())
def test_mutated_base64_text(target: str, data: st.DataObject) -> None:
    text = raw_b64(SIGNED[target])
    position = data.draw(st.integers(min_value=0, max_value=len(text)))
    piece = data.draw(st.text(alphabet="ABCDEFabcdef0123456789+/= \n%&<", max_size=12))
    cut = data.draw(st.integers(min_value=0, max_value=12))
    encoded = text[:position] + piece + text[position + cut :]
    parse(encoded)
    check(encoded)


UNSIGNED = etree.tostring(genuine("assertion"), xml_declaration=True, encoding="UTF-8")
TIME_ATTRIBUTES = (b'NotBefore="', b'NotOnOrAfter="', b'IssueInstant="')
instants = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.tuples(
        st.datetimes(),
        st.sampled_from(["Z", "+14:00", "-14:00", "+23:59", "-23:59", "", "+00:00"]),
    ).map(lambda pair: pair[0].strftime("%Y-%m-%dT%H:%M:%S.%f") + pair[1]),
    st.text(alphabet="0123456789-:TZ.+ ", max_size=40),
    st.sampled_from(  # the edges of what datetime can hold, pushed over by the offset
        ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.9999999Z"]
    ),
)


@SETTINGS
@given(st.data())
def test_any_time_value(data: st.DataObject) -> None:
    # Every time attribute of a real response replaced by an arbitrary xs:dateTime-ish string
    # (the signature breaks: the unpinned path must cope, the pinned one must refuse cleanly).
    document = UNSIGNED
    for attribute in TIME_ATTRIBUTES:
        pieces = document.split(attribute)
        rebuilt = pieces[0]
        for piece in pieces[1:]:
            value = data.draw(instants).encode()
            rebuilt += attribute + value + piece[piece.index(b'"') :]
        document = rebuilt
    encoded = raw_b64(document)
    parse(encoded)
    check(encoded)
    check(encoded, pinned=False)


def xml_trees() -> st.SearchStrategy[Any]:
    """Random documents made of the element names samljit looks for, in random places."""
    names = [
        "{urn:oasis:names:tc:SAML:2.0:protocol}Response",
        "{urn:oasis:names:tc:SAML:2.0:protocol}Status",
        "{urn:oasis:names:tc:SAML:2.0:protocol}StatusCode",
        "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion",
        "{urn:oasis:names:tc:SAML:2.0:assertion}Conditions",
        "{urn:oasis:names:tc:SAML:2.0:assertion}AudienceRestriction",
        "{urn:oasis:names:tc:SAML:2.0:assertion}Audience",
        "{urn:oasis:names:tc:SAML:2.0:assertion}Subject",
        "{urn:oasis:names:tc:SAML:2.0:assertion}SubjectConfirmation",
        "{urn:oasis:names:tc:SAML:2.0:assertion}SubjectConfirmationData",
        "{urn:oasis:names:tc:SAML:2.0:assertion}AttributeStatement",
        "{urn:oasis:names:tc:SAML:2.0:assertion}Attribute",
        "{urn:oasis:names:tc:SAML:2.0:assertion}AttributeValue",
        "{http://www.w3.org/2000/09/xmldsig#}Signature",
        "{http://www.w3.org/2000/09/xmldsig#}SignedInfo",
        "{http://www.w3.org/2000/09/xmldsig#}Reference",
        "{http://www.w3.org/2000/09/xmldsig#}SignatureValue",
        "Assertion",
        "Response",
    ]
    attributes = st.dictionaries(
        st.sampled_from(
            ["ID", "Name", "Value", "NotBefore", "NotOnOrAfter", "Recipient", "Destination", "URI"]
        ),
        st.sampled_from(
            [
                "",
                "_a",
                "#_a",
                "urn:oasis:names:tc:SAML:2.0:status:Success",
                saml.ROLE_ATTRIBUTE,
                "2030-01-02T03:04:05Z",
                "9999-12-31T23:59:59-14:00",
                "not a time",
                "https://signin.aws.amazon.com/saml",
            ]
        ),
        max_size=3,
    )
    texts = st.sampled_from(
        [
            None,
            "",
            "x",
            "urn:amazon:webservices",
            "arn:aws:iam::1:role/a,arn:aws:iam::1:saml-provider/b",
        ]
    )
    leaf = st.tuples(st.sampled_from(names), attributes, texts, st.just(()))
    return st.recursive(
        leaf,
        lambda children: st.tuples(
            st.sampled_from(names), attributes, texts, st.lists(children, max_size=4)
        ),
        max_leaves=25,
    )


def build(node: Any) -> Any:
    name, attributes, text, children = node
    element = etree.Element(name, attributes)
    element.text = text
    for child in children:
        element.append(build(child))
    return element


@SETTINGS
@given(xml_trees())
def test_structured_documents(tree: Any) -> None:
    encoded = raw_b64(etree.tostring(build(tree)))
    parse(encoded)
    check(encoded)


def parse_roles(xml: bytes) -> tuple[Any, ...]:
    result = saml.parse(raw_b64(xml))
    return result.roles


# -- the HTML form extraction ---------------------------------------------------------------
def extract(html: str | bytes) -> object:
    return outcome(lambda: page.saml_response(html, url="https://idp.example/sso", step="SSO"))


@SETTINGS
@given(st.text(max_size=3000))
def test_arbitrary_html_text(text: str) -> None:
    extract(text)


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_html_bytes(data: bytes) -> None:
    extract(data)


@SETTINGS
@given(mutated(PAGE.encode()))
def test_mutated_pages(data: bytes) -> None:
    result = extract(data)
    extract(data.decode("utf-8", "replace"))
    if isinstance(result, str):
        assert result  # an empty value is never returned as a SAMLResponse


def test_the_real_page_gives_the_response() -> None:
    assert extract(PAGE) == raw_b64(SIGNED["assertion"])
    assert isinstance(check(raw_b64(SIGNED["assertion"])), saml.SamlAssertion)
