"""`$(<reply>...)` and `$(<request>...)`: a variable read against the other message."""

from __future__ import annotations

from types import SimpleNamespace

from runtime.api import RouteKind
from runtime.sip import parse_message
from stdlib.testing import context, wire

INVITE = """
INVITE sip:alice@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-1
Max-Forwards: 70
From: <sip:bob@example.org>;tag=1
To: <sip:alice@192.0.2.10>
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

"""
BUSY = """
SIP/2.0 486 Busy Here
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-1
From: <sip:bob@example.org>;tag=1
To: <sip:alice@192.0.2.10>;tag=x
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

"""


def test_reply_context_in_a_failure_route_reads_the_winning_reply() -> None:
    ctx, _ = context(INVITE, RouteKind.FAILURE)
    ctx.tx_data = SimpleNamespace(failure_reply=parse_message(wire(BUSY)))
    assert ctx.pv_get_in("reply", "rs") == 486
    assert ctx.pv_get_in("reply", "tt") == "x"
    assert ctx.pv_get("rs") is None  # the route's own message is the request
    assert ctx.ruri == "sip:alice@192.0.2.10"  # the view did not change the context


def test_request_context_in_a_reply_route_reads_the_transaction_request() -> None:
    ctx, _ = context(BUSY, RouteKind.ONREPLY)
    ctx.tx = SimpleNamespace(request=parse_message(wire(INVITE)))
    assert ctx.pv_get_in("request", "ru") == "sip:alice@192.0.2.10"
    assert ctx.pv_get_in("reply", "rs") == 486  # a reply route's own message


def test_no_transaction_means_null() -> None:
    ctx, _ = context(INVITE)
    assert ctx.pv_get_in("request", "ru") is None
    assert ctx.pv_get_in("reply", "rs") is None
