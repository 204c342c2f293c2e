"""The byte builders agree with runtime.sip's own builders."""

from __future__ import annotations

import pytest

from runtime.sip import Request, Response, parse_message
from runtime.transaction.wire import response_bytes, trying_bytes, with_top_via
from tests.runtime.transaction.helpers import request


def test_trying_matches_make_response() -> None:
    invite = request(extra="Timestamp: 54\r\nSubject: lunch\r\n")
    ours = parse_message(trying_bytes(invite))
    reference = invite.make_response(100)
    assert isinstance(ours, Response)
    assert (ours.status, ours.reason) == (100, "Trying")
    assert ours.headers == reference.headers
    assert ours.header("Subject") is None
    assert ours.to is not None and ours.to.tag is None


def test_with_top_via_makes_our_via_the_topmost() -> None:
    invite = request()
    data = with_top_via(invite.to_bytes(), "SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKx.1")
    spliced = parse_message(data)
    assert isinstance(spliced, Request)
    assert [via.sent_by for via in spliced.vias] == ["192.0.2.1:5060", "10.0.0.1:5060"]
    assert spliced.top_via is not None and spliced.top_via.transport == "TCP"
    assert spliced.body == invite.body and spliced.ruri_text == invite.ruri_text


REGISTER = (
    "REGISTER sip:registrar.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKr1;received=192.0.2.7;rport=5090\r\n"
    "v: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bKr0\r\n"
    "Max-Forwards: 70\r\n"
    "f: <sip:alice@example.com>;tag=a1\r\n"
    "To: <sip:alice@example.com>\r\n"
    "Call-ID: r-1\r\n"
    "CSeq: 7 REGISTER\r\n"
    "Contact: <sip:alice@10.0.0.1:5060>\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_response_bytes_are_make_response_bytes() -> None:
    headers = [("Contact", "<sip:alice@10.0.0.1:5060>;expires=3600"), ("Date", "today")]
    to = "To: <sip:alice@example.com>"
    for text, status, reason in (
        (REGISTER, 200, "OK"),
        (REGISTER.replace(to, to + ";tag=x"), 404, None),
        (REGISTER.replace(to, to + " "), 486, "Busy Here"),
    ):
        register = parse_message(text.encode())
        assert isinstance(register, Request)
        ours = response_bytes(register, status, reason, "t0", headers)
        reference = register.make_response(status, reason, to_tag="t0", headers=headers)
        assert ours == reference.to_bytes()


def test_response_bytes_refuses_what_make_response_refuses() -> None:
    register = parse_message(REGISTER.encode())
    assert isinstance(register, Request)
    for status, reason, headers in (
        (700, "Odd", []),
        (200, "OK\r\nX: 1", []),
        (200, "OK", [("Bad Name", "1")]),
        (200, "OK", [("X", "1\r\nY: 2")]),
    ):
        with pytest.raises(ValueError):
            response_bytes(register, status, reason, "t0", headers)
