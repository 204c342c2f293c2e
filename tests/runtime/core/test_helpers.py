"""Next-hop parsing, the salvaged 400, stateless tags, and the Call-ID log filter."""

from __future__ import annotations

import contextvars
import logging

import pytest

from runtime.core.log import CallIdFilter, current_message
from runtime.core.nexthop import NextHop, next_hop, parse_target
from runtime.core.replies import salvage_bad_request, stateless_branch, stateless_to_tag
from runtime.sip import Request, parse_message


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("sip:bob@10.0.0.1:5070", ("udp", "10.0.0.1", 5070, False)),
        ("sip:bob@10.0.0.1;transport=TCP", ("tcp", "10.0.0.1", 5060, True)),
        ("sips:bob@10.0.0.1", ("tls", "10.0.0.1", 5061, True)),
        ("tcp:10.0.0.2:5080", ("tcp", "10.0.0.2", 5080, True)),
        ("10.0.0.3", ("udp", "10.0.0.3", 5060, False)),
        ("sip:[::1]:5062", ("udp", "::1", 5062, False)),
        ("localhost:5090", ("udp", "127.0.0.1", 5090, False)),
    ],
)
def test_next_hop(target: str, expected: tuple[str, str, int, bool]) -> None:
    assert next_hop(target) == NextHop(*expected)


def test_targets_without_an_address() -> None:
    assert parse_target("sip:") is None
    assert next_hop("sip:bob@no-such-host.invalid") is None


TRUNCATED = (
    b"OPTIONS sip:x@h SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1\r\n"
    b"f: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: cid\r\nCSeq: 3 OPTIONS\r\nContent-Len"
)


def test_salvaged_400_copies_the_dialog_headers() -> None:
    answer = salvage_bad_request(TRUNCATED)
    assert answer is not None
    reply = parse_message(answer)
    assert reply.start_line == "SIP/2.0 400 Bad Request"
    assert reply.call_id == "cid" and reply.header("CSeq") == "3 OPTIONS"
    assert reply.to is not None and reply.to.tag is not None
    assert salvage_bad_request(TRUNCATED.replace(b"i: cid\r\n", b"")) is None
    assert salvage_bad_request(TRUNCATED.replace(b"OPTIONS", b"ACK")) is None
    assert salvage_bad_request(b"SIP/2.0 200 OK\r\n" + TRUNCATED.split(b"\r\n", 1)[1]) is None
    assert salvage_bad_request(b"\x00\x01\x02") is None


def _request(branch: str) -> Request:
    msg = parse_message(
        b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=" + branch.encode() + b"\r\n"
        b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    assert isinstance(msg, Request)
    return msg


def test_stateless_identifiers_are_functions_of_the_request() -> None:
    first, again, other = _request("z9hG4bK-a"), _request("z9hG4bK-a"), _request("z9hG4bK-b")
    assert stateless_branch(first, "d") == stateless_branch(again, "d")
    assert stateless_branch(first, "d") != stateless_branch(first, "e")
    assert stateless_branch(first, "d") != stateless_branch(other, "d")
    assert stateless_branch(first, "d").startswith("z9hG4bK")
    assert stateless_to_tag(first) == stateless_to_tag(again) != stateless_to_tag(other)
    # an RFC 2543 request (no magic cookie) still gets stable identifiers
    assert stateless_branch(_request("old"), "d") == stateless_branch(_request("old"), "d")


def test_log_records_carry_the_call_id() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
    msg = parse_message(b"OPTIONS sip:h SIP/2.0\r\nCall-ID: abc@host\r\n\r\n")
    token = current_message.set(msg)
    try:
        assert CallIdFilter().filter(record)
    finally:
        current_message.reset(token)
    assert getattr(record, "call_id") == "abc@host"  # noqa: B009 - set by the filter
    outside = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
    assert contextvars.Context().run(CallIdFilter().filter, outside)  # no message in it
    assert getattr(outside, "call_id") == "-"  # noqa: B009 - set by the filter
