"""The proxy's fast edits give what the general edits give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.sip import Request, SipParseError, Via, parse_message, parse_via
from runtime.sip.headers import parse_via_element

VIA_LAYOUTS = {
    "one via first": ["Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport"],
    "one via not first": ["Max-Forwards: 70", "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1"],
    "two via lines": [
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bK2",
    ],
    "two vias apart": [
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "Max-Forwards: 70",
        "v: SIP/2.0/UDP b.example.com;branch=z9hG4bK2",
    ],
    "two values on a line": ["Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b:5060"],
    "compact name": ["v: SIP/2.0/UDP a.example.com:5070;branch=z9hG4bK1;rport"],
}
REST = [
    "From: <sip:a@example.com>;tag=1",
    "To: <sip:b@example.com>",
    "Call-ID: c1",
    "CSeq: 1 INVITE",
    "Max-Forwards: 70",
]


def request(via_lines: list[str], body: bytes = b"") -> Request:
    head = "\r\n".join(["INVITE sip:b@example.com SIP/2.0", *via_lines, *REST])
    msg = parse_message(f"{head}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    assert isinstance(msg, Request)
    return msg


@pytest.mark.parametrize("layout", sorted(VIA_LAYOUTS))
def test_replace_top_via_is_remove_then_prepend(layout: str) -> None:
    fast, general = request(VIA_LAYOUTS[layout]), request(VIA_LAYOUTS[layout])
    top = fast.top_via
    assert top is not None
    stamped = Via(
        top.protocol, top.transport, top.host, top.port, (*top.params, ("received", "192.0.2.9"))
    )
    fast.replace_top_via(stamped)
    general.remove_top_via()
    general.prepend_via(stamped)
    assert fast.to_bytes() == general.to_bytes()
    assert fast.top_via == general.top_via == stamped
    assert fast.vias == general.vias
    # offsets of later errors still point into the received bytes
    for i in range(len(general.headers)):
        assert fast.line_offset(i) == general.line_offset(i)


@pytest.mark.parametrize("layout", sorted(VIA_LAYOUTS))
def test_to_bytes_with_header_puts_the_line_first(layout: str) -> None:
    line = b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKproxy\r\n"
    for edited in (False, True):
        msg = request(VIA_LAYOUTS[layout], b"v=0\r\n")
        if edited:
            msg.set_max_forwards(69)
        data = msg.to_bytes()
        first_end = data.index(b"\r\n") + 2
        assert msg.to_bytes_with_header(line) == data[:first_end] + line + data[first_end:]


def test_set_max_forwards_keeps_the_name_as_written() -> None:
    for written in ("Max-Forwards", "max-forwards", "Max-Forwards "):
        msg = parse_message(
            f"OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n{written}: 70\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )
        msg.set_max_forwards(69)
        assert msg.max_forwards == 69
        assert f"\r\n{written.strip()}: 69\r\n".encode() in msg.to_bytes()


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.9;rport=5060",
        "SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK1;received=2001:db8::9;rport=5061",
        'SIP/2.0/UDP h ; branch = z9hG4bK1 ; x="a;b"',
        "SIP/2.0/UDP h;branch=z9hG4bK1;ttl=3;maddr=224.0.0.1;rport",
    ],
)
def test_a_parsed_via_prints_to_text_that_parses_back_to_it(text: str) -> None:
    # replace_top_via caches a Via under its printed text: the two must agree
    via = parse_via(text)
    assert parse_via(str(via)) == via


@pytest.mark.parametrize(
    "vias",
    [
        "SIP/2.0/UDP p:5060;branch=z9hG4bK1, SIP/2.0/UDP a:5070;branch=z9hG4bK2;rport=5070",
        "SIP/2.0/UDP p;branch=z9hG4bK1 ,SIP/2.0/TCP a;branch=z9hG4bK2 , SIP/2.0/UDP b",
        'SIP/2.0/UDP p;branch=z9hG4bK1;x="a,b", SIP/2.0/UDP a;branch=z9hG4bK2',
    ],
)
def test_removing_the_top_via_of_a_shared_line_leaves_the_next_one_on_top(vias: str) -> None:
    reply = f"SIP/2.0 200 OK\r\nVia: {vias}\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n"
    msg = parse_message(reply.encode())
    every = list(msg.vias)
    assert msg.top_via == every[0]
    assert msg.remove_top_via() == every[0]
    assert msg.top_via == every[1] == parse_message(msg.to_bytes()).top_via
    assert msg.vias == every[1:]


VIA_SEEDS = [
    "SIP/2.0/UDP 127.0.0.1:15080;branch=z9hG4bK-1-0;received=127.0.0.1;rport=15080",
    "SIP/2.0/TCP host.example.com;branch=z9hG4bK776;rport;ttl=3",
]


def via_outcome(parse: object, text: str) -> object:
    try:
        return parse(text, 7)  # type: ignore[operator]
    except SipParseError as error:
        return ("error", error.offset)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.sampled_from(VIA_SEEDS),
    lead=st.sampled_from(["", " ", "  ", "\t", " \t"]),
    at=st.integers(0, 90),
    insert=st.text("aZ09.-_:;=,\"' []", max_size=2),
)
def test_a_via_list_element_parses_as_parse_via_parses_it(
    seed: str, lead: str, at: int, insert: str
) -> None:
    position = at % (len(seed) + 1)
    item = lead + seed[:position] + insert + seed[position + 1 :]
    assert via_outcome(parse_via_element, item) == via_outcome(parse_via, item), item
