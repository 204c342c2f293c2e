"""Via, name-addr and CSeq parsing; comma splitting and header names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.sip import (
    SipParseError,
    SipURI,
    canonical_name,
    parse_cseq,
    parse_name_addr,
    parse_name_addr_list,
    parse_via,
    parse_via_list,
    split_list,
)


def test_via_fields() -> None:
    via = parse_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=10.1.1.1;rport=4000;maddr=224.2.0.1;ttl=16")
    assert (via.protocol, via.transport, via.host, via.port) == ("SIP/2.0", "UDP", "192.0.2.1", 5060)
    assert via.branch == "z9hG4bK776" and via.has_rfc3261_branch
    assert via.received == "10.1.1.1"
    assert via.has_rport and via.rport == 4000
    assert via.maddr == "224.2.0.1" and via.ttl == 16
    assert via.sent_by == "192.0.2.1:5060"


def test_via_rport_flag_and_ipv6() -> None:
    via = parse_via("SIP/2.0/TCP [2001:db8::9:1]:6050;rport;branch=z9hG4bKx")
    assert via.has_rport and via.rport is None
    assert (via.host, via.port) == ("[2001:db8::9:1]", 6050)
    assert str(via) == "SIP/2.0/TCP [2001:db8::9:1]:6050;rport;branch=z9hG4bKx"


def test_via_with_lws_everywhere() -> None:
    via = parse_via("SIP  /   2.0 /UDP    192.0.2.2 : 5070 ;  branch = z9hG4bKa")
    assert (via.transport, via.host, via.port, via.branch) == ("UDP", "192.0.2.2", 5070, "z9hG4bKa")


def test_several_vias_in_one_value() -> None:
    vias = parse_via_list("SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5080;branch=z9hG4bK2")
    assert [(v.host, v.port) for v in vias] == [("a.example.com", None), ("b.example.com", 5080)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SIP/2.0 192.0.2.1", "protocol"),
        ("SIP/2.0/UDP", "sent-by"),
        ("SIP/2.0/UDP 192.0.2.1:5060port;branch=z9hG4bKx", "port"),
        ("SIP/2.0/UDP 192.0.2.1;;branch=z9hG4bKx", "empty parameter"),
        ("SIP/2.0/UDP 192.0.2.1;ttl=300", "ttl"),
        ("SIP/2.0/UDP 192.0.2.1;rport=abc", "rport"),
        ("SIP/2.0/UDP 192.0.2.1;branch", "needs a value"),
        ("SIP/2.0/UDP host name;branch=z9hG4bKx", "whitespace"),
    ],
)
def test_malformed_vias(text: str, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_via(text)
    assert reason in caught.value.reason


def test_empty_via_list_element() -> None:
    with pytest.raises(SipParseError):
        parse_via_list("SIP/2.0/UDP a;branch=z9hG4bK1,,SIP/2.0/UDP b;branch=z9hG4bK2")


@pytest.mark.parametrize(
    ("text", "display", "uri", "tag", "bracketed"),
    [
        ('"Alice \\"A\\" Liddell" <sip:alice@example.com>;tag=1', 'Alice "A" Liddell', "sip:alice@example.com", "1", True),
        ("Alice Liddell <sip:alice@example.com>", "Alice Liddell", "sip:alice@example.com", None, True),
        ("caller<sip:caller@example.com>;tag=323", "caller", "sip:caller@example.com", "323", True),
        ('"253989"<sip:253989@fwd.pulver.com>;tag=x', "253989", "sip:253989@fwd.pulver.com", "x", True),
        ("<sip:bob@biloxi.com;transport=tcp>;tag=9", None, "sip:bob@biloxi.com;transport=tcp", "9", True),
        ("sip:bob@biloxi.com;tag=9", None, "sip:bob@biloxi.com", "9", False),
        ("sip:bob@biloxi.com ;  tag = 9", None, "sip:bob@biloxi.com", "9", False),
        ('"" <tel:+1555>', "", "tel:+1555", None, True),
    ],
)
def test_name_addr_forms(
    text: str, display: str | None, uri: str, tag: str | None, bracketed: bool
) -> None:
    address = parse_name_addr(text)
    assert address.display_name == display
    assert str(address.uri) == uri
    assert address.tag == tag
    assert address.bracketed is bracketed


def test_addr_spec_params_belong_to_the_header() -> None:
    address = parse_name_addr("sip:+19725552222@gw1.example.net;unknownparam;expires=60")
    assert isinstance(address.uri, SipURI) and address.uri.params == ()
    assert address.param("unknownparam") == "" and address.expires == 60


def test_bracketed_uri_params_stay_in_the_uri() -> None:
    address = parse_name_addr("<sip:a@b;lr;ftag=x>;q=0.5")
    assert isinstance(address.uri, SipURI) and address.uri.lr
    assert address.param("lr") is None and address.q == 0.5


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"unterminated <sip:a@b>', "unterminated"),
        ('"quoted" sip:a@b', "followed by <uri>"),
        ("<sip:a@b", "'<' without '>'"),
        ("< sip:a@b >", "whitespace around the URI"),
        ("sip:a@b?Route=x", "enclosed in <>"),
        ("Bell, Alexander <sip:a@b>", "display name"),
        ("<sip:a@b>;;;", "empty parameter"),
        ("<sip:a@b> junk", "expected ';'"),
        ("", "empty address"),
    ],
)
def test_malformed_name_addrs(text: str, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_name_addr(text)
    assert reason in caught.value.reason


def test_route_entries_must_be_bracketed() -> None:
    routes = parse_name_addr_list("<sip:p1.example.com;lr>, <sip:p2.example.com;lr>", require_brackets=True)
    assert [r.uri.host for r in routes] == ["p1.example.com", "p2.example.com"]
    with pytest.raises(SipParseError):
        parse_name_addr_list("sip:p1.example.com;lr", require_brackets=True)


def test_split_list_respects_quotes_and_angles() -> None:
    text = '"Doe, John" <sip:a@b;x=1,2>;q=1, <sip:c@d>'
    assert [item.strip() for _, item in split_list(text)] == [
        '"Doe, John" <sip:a@b;x=1,2>;q=1',
        "<sip:c@d>",
    ]
    offsets = [at for at, _ in split_list("a,b,,c")]
    assert offsets == [0, 2, 4, 5]


def _split_by_hand(text: str) -> list[tuple[int, str]]:
    """split_list's rule, one character at a time (quotes here never hold a backslash)."""
    pieces, start, quoted, angle = [], 0, False, False
    for pos, char in enumerate(text):
        if char == '"' and not angle:
            quoted = not quoted
        elif not quoted and char in "<>":
            angle = char == "<"
        elif char == "," and not quoted and not angle:
            pieces.append((start, text[start:pos]))
            start = pos + 1
    return [*pieces, (start, text[start:])]


@given(st.lists(st.sampled_from(['"a,b"', "<sip:x@y;p=1,2>", ",", " ", "a", ";q=1", "<", ">"])))
def test_split_list_every_path_splits_alike(parts: list[str]) -> None:
    text = "".join(parts)
    # (every `"` here opens or closes a whole quoted piece: never unterminated)
    assert split_list(text) == _split_by_hand(text)


def test_cseq() -> None:
    cseq = parse_cseq("0009 \t INVITE")
    assert (cseq.number, cseq.method, str(cseq)) == (9, "INVITE", "9 INVITE")
    for bad in ("INVITE", "1", "x INVITE", "1 INVITE extra"):
        with pytest.raises(SipParseError):
            parse_cseq(bad)


@pytest.mark.parametrize(
    ("name", "key"),
    [("v", "via"), ("VIA", "via"), ("f", "from"), ("t", "to"), ("i", "call-id"), ("m", "contact"),
     ("l", "content-length"), ("c", "content-type"), ("e", "content-encoding"), ("k", "supported"),
     ("s", "subject"), ("o", "event"), ("x", "session-expires"), ("X-Custom", "x-custom")],
)
def test_compact_forms(name: str, key: str) -> None:
    assert canonical_name(name) == key
