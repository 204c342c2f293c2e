"""Stateless replies (sl, signaling)."""

from __future__ import annotations

from runtime.api import RouteKind
from stdlib.signaling import send_reply
from stdlib.sl import sl_reply_error, sl_send_reply
from stdlib.testing import context


def request(method: str) -> str:
    return (
        f"{method} sip:bob@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKsl1\n"
        "Max-Forwards: 70\n"
        "From: <sip:alice@example.org>;tag=a1\n"
        "To: <sip:bob@example.com>\n"
        "Call-ID: sl-1\n"
        f"CSeq: 1 {method}\n"
        "Content-Length: 0\n\n"
    )


def test_sl_send_reply_goes_to_the_runtime() -> None:
    ctx, services = context(request("REGISTER"))
    assert sl_send_reply(ctx, 404, "Not Here") == 1
    assert send_reply(ctx, 483, "Too Many Hops") == 1
    assert sl_reply_error(ctx) == 1
    assert services.replies == [
        (404, "Not Here"),
        (483, "Too Many Hops"),
        (500, "Server Internal Error"),
    ]


def test_no_reply_to_an_ack_but_still_true() -> None:
    ctx, services = context(request("ACK"))
    assert sl_send_reply(ctx, 200, "OK") == 1
    assert services.replies == []


def test_codes_out_of_range_and_replies_to_replies_fail() -> None:
    ctx, services = context(request("INVITE"))
    assert sl_send_reply(ctx, 99, "Too Low") == -1
    assert sl_send_reply(ctx, 700, "Too High") == -1
    reply, reply_services = context(
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKsl1\n"
        "From: <sip:alice@example.org>;tag=a1\nTo: <sip:bob@example.com>;tag=b\n"
        "Call-ID: sl-1\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
        RouteKind.ONREPLY,
    )
    assert send_reply(reply, 500, "No") == -1
    assert services.replies == [] and reply_services.replies == []
