"""The byte builders agree with runtime.sip's own builders."""

from __future__ import annotations

from runtime.sip import Request, Response, parse_message
from runtime.transaction.wire import trying_bytes, with_top_via
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
