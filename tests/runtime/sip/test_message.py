"""Message model: header access, edits that leave other bytes alone, responses, validation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime.sip import (
    Request,
    Response,
    SipParseError,
    SipURI,
    make_ack,
    make_cancel,
    parse_message,
)

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    b"v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
    b"Max-Forwards:   70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Timestamp: 54\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    b"X-Folded: first\r\n  second\r\n"
    b"Content-Type: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\ntrailing octets of the datagram"
)


def invite() -> Request:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    return message


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def test_request_line_and_lookup() -> None:
    request = invite()
    assert request.is_request and request.method == "INVITE" and request.version == "SIP/2.0"
    assert isinstance(request.ruri, SipURI) and request.ruri.user == "bob"
    assert request.header("Max-Forwards") == "70"
    assert request.header("via") == "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"
    assert request.header("Via", 1) is not None and request.header("Via", -1) == request.header("v", 1)
    assert request.header("via", 2) is None
    assert request.headers_named("VIA") == request.headers_named("v")
    assert request.header("x-folded") == "first  second"
    assert request.header("nope") is None and not request.has_header("nope")
    assert [name for name, _ in request.headers][:3] == ["Via", "v", "Max-Forwards"]
    assert request.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert request.body == b"v=0\r"[:4] and request.content_length == 4


def test_vias_across_lines_and_values() -> None:
    request = invite()
    assert [v.host for v in request.vias] == ["pc33.atlanta.example.com", "a.example.com", "b.example.com"]
    assert request.top_via is not None and request.top_via.branch == "z9hG4bK776asdhds"


def test_untouched_message_is_returned_as_received_minus_trailing_octets() -> None:
    assert invite().to_bytes() == INVITE[: INVITE.index(b"v=0") + 4]
    assert invite().raw == INVITE


def test_prepend_via_and_decrement_max_forwards_touch_only_their_lines() -> None:
    request = invite()
    request.prepend_via("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1")
    assert request.decrement_max_forwards() == 69
    out = request.to_bytes()
    before, after = lines_of(INVITE), lines_of(out)
    assert after[1] == b"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1"
    assert after[0] == before[0] and after[2:4] == before[1:3]
    assert after[4] == b"Max-Forwards: 69"
    assert after[5:] == before[4:]
    assert out.endswith(b"\r\n\r\nv=0\r")
    reparsed = parse_message(out)
    assert reparsed.top_via is not None and reparsed.top_via.host == "proxy.example.com"
    assert reparsed.max_forwards == 69 and len(reparsed.vias) == 4


def test_remove_top_via_whole_line_then_first_value_of_a_line() -> None:
    request = invite()
    removed = request.remove_top_via()
    assert removed is not None and removed.host == "pc33.atlanta.example.com"
    assert request.top_via is not None and request.top_via.host == "a.example.com"
    second = request.remove_top_via()
    assert second is not None and second.host == "a.example.com"
    assert [v.host for v in request.vias] == ["b.example.com"]
    out = lines_of(request.to_bytes())
    assert out[1] == b"v: SIP/2.0/TCP b.example.com;branch=z9hG4bK2"
    assert out[2:] == lines_of(INVITE)[3:]


def test_add_remove_and_set_headers() -> None:
    request = invite()
    request.add_header("Record-Route", "<sip:p1.example.com;lr>", at_top=True)
    request.add_header("X-Last", "1")
    assert request.remove_header("timestamp") == 1
    assert request.remove_header("via", index=1) == 1
    assert request.remove_header("nothing") == 0
    request.set_header("Max-Forwards", "10")
    out = lines_of(request.to_bytes())
    assert out[1] == b"Record-Route: <sip:p1.example.com;lr>"
    assert out[-1] == b"X-Last: 1"
    assert b"Timestamp: 54" not in out and b"Max-Forwards: 10" in out
    assert [str(r.uri) for r in request.record_routes] == ["sip:p1.example.com;lr"]
    assert [v.host for v in request.vias] == ["pc33.atlanta.example.com"]
    untouched = [line for line in lines_of(INVITE) if line.startswith((b"To:", b"From:", b"X-Folded"))]
    assert all(line in out for line in untouched)


def test_rewrite_request_uri() -> None:
    request = invite()
    request.set_ruri("sip:bob@192.0.2.4:5062;transport=tcp")
    assert request.ruri_text == "sip:bob@192.0.2.4:5062;transport=tcp"
    assert isinstance(request.ruri, SipURI) and request.ruri.port == 5062
    out = request.to_bytes()
    assert out.startswith(b"INVITE sip:bob@192.0.2.4:5062;transport=tcp SIP/2.0\r\nVia:")
    assert lines_of(out)[1:] == lines_of(INVITE)[1:]


def test_replace_body_fixes_content_length_in_place() -> None:
    request = invite()
    request.set_body(b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n", content_type="application/sdp")
    out = request.to_bytes()
    reparsed = parse_message(out)
    assert reparsed.body == b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"
    assert reparsed.content_length == len(reparsed.body)
    assert b"l: 30" in lines_of(out)  # the compact name as written is kept
    assert lines_of(out).index(b"l: 30") == lines_of(INVITE).index(b"l: 4")


def test_ensure_content_length_for_streams() -> None:
    request = parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\nbody")
    request.ensure_content_length()
    assert request.to_bytes().endswith(b"Content-Length: 4\r\n\r\nbody")


def test_response_to_request_copies_the_right_headers() -> None:
    request = invite()
    response = request.make_response(180, to_tag="a6c85cf")
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (180, "Ringing")
    out = lines_of(response.to_bytes())
    source = lines_of(INVITE)
    assert out[0] == b"SIP/2.0 180 Ringing"
    assert out[1:3] == source[1:3]  # both Via lines, byte for byte, in order
    assert out[3] == b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf"
    assert source[5] in out and source[6] in out and source[7] in out
    assert b"Timestamp: 54" not in out and b"Content-Length: 0" in out
    assert not any(line.startswith((b"Contact", b"Max-Forwards")) for line in out)
    response.validate()
    assert response.to is not None and response.to.tag == "a6c85cf"
    assert response.method == "INVITE"


def test_trying_keeps_to_untagged_and_copies_timestamp() -> None:
    response = invite().make_response(100)
    assert response.to is not None and response.to.tag is None
    assert response.header("Timestamp") == "54"
    assert response.reason == "Trying"


def test_response_keeps_an_existing_to_tag_and_generates_one_otherwise() -> None:
    tagged = parse_message(INVITE.replace(b"To: Bob <sip:bob@biloxi.example.com>", b"To: <sip:b@c>;tag=x"))
    assert isinstance(tagged, Request)
    assert tagged.make_response(200).headers_named("to") == ["<sip:b@c>;tag=x"]
    fresh = invite().make_response(486, "Busy Here Now", headers=[("Retry-After", "60")])
    assert fresh.to is not None and fresh.to.tag and len(fresh.to.tag) >= 8
    assert fresh.reason == "Busy Here Now" and fresh.header("Retry-After") == "60"


def test_400_for_a_request_without_to() -> None:
    broken = parse_message(
        b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    assert isinstance(broken, Request)
    with pytest.raises(SipParseError, match="missing To"):
        broken.validate()
    response = broken.make_response(400, body=b"missing To", content_type="text/plain")
    assert response.status == 400 and response.to is None
    assert response.body == b"missing To" and response.content_type == "text/plain"


@pytest.mark.parametrize(
    ("replace", "by", "reason"),
    [
        (b"CSeq: 314159 INVITE", b"CSeq: 2147483648 INVITE", "2**31"),
        (b"CSeq: 314159 INVITE", b"CSeq: 1 BYE", "differs"),
        (b"Max-Forwards:   70", b"Max-Forwards: 256", "above 255"),
        (b"Max-Forwards:   70", b"Max-Forwards: x", "must be a number"),
        (b"l: 4", b"l: 900", "Content-Length 900"),
        (b"SIP/2.0\r\nVia", b"SIP/3.0\r\nVia", "version"),
        (b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com", b"Call-ID: a b", "Call-ID"),
        (b"Timestamp: 54", b"Bad Name: 54", "header name"),
        (b"Timestamp: 54", b"Call-ID: again", "more than one Call-ID"),
        (b"Contact: <sip:alice@pc33.atlanta.example.com>", b"Contact: *, <sip:a@b>", "scheme"),
        (b"Timestamp: 54", b"Expires: soon", "Expires"),
        (b"Timestamp: 54", b"Route: sip:p1;lr", "<uri>"),
    ],
)
def test_validation_faults(replace: bytes, by: bytes, reason: str) -> None:
    data = INVITE.replace(replace, by)
    assert data != INVITE
    with pytest.raises(SipParseError) as caught:
        parse_message(data).validate()
    assert reason in caught.value.reason
    assert 0 <= caught.value.offset < len(data)


def test_stream_messages_skip_the_datagram_length_check() -> None:
    data = INVITE.replace(b"l: 4", b"l: 900")
    parse_message(data).validate(datagram=False)


def test_leading_crlf_before_the_start_line_is_ignored() -> None:
    message = parse_message(b"\r\n\r\n" + INVITE)
    assert isinstance(message, Request) and message.method == "INVITE"
    message.validate()
    assert message.to_bytes() == invite().to_bytes()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n", "empty line"),
        (b"INVITE sip:a@b\r\nVia: x\r\n\r\n", "request line"),
        (b"INVITE sip:a@b HTTP/1.1\r\nVia: x\r\n\r\n", "SIP version"),
        (b"SIP/2.0 abc OK\r\nVia: x\r\n\r\n", "status line"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nNoColonHere\r\n\r\n", "without ':'"),
        (b"OPTIONS sip:a@b SIP/2.0\r\n folded-first: x\r\n\r\n", "whitespace"),
    ],
)
def test_structural_errors(data: bytes, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert reason in caught.value.reason


def test_header_error_offsets_are_message_offsets() -> None:
    data = INVITE.replace(b"To: Bob <sip:bob@biloxi.example.com>", b"To: Bob <sip:bob@biloxi.example.com:9x>")
    with pytest.raises(SipParseError) as caught:
        _ = parse_message(data).to
    assert data[caught.value.offset :].startswith(b"9x>")


def test_status_line_with_empty_reason() -> None:
    response = parse_message(b"SIP/2.0 100 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n")
    assert isinstance(response, Response) and (response.status, response.reason) == (100, "")
    assert not response.is_request


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r.add_header("X-Evil", "a\r\nVia: SIP/2.0/UDP evil"),
        lambda r: r.set_header("Subject", "line\nbreak"),
        lambda r: r.add_header("Bad Name", "x"),
        lambda r: r.set_ruri("sip:a@b SIP/2.0\r\nX: y"),
        lambda r: r.make_response(400, "Bad\r\nX: y"),
        lambda r: r.make_response(200, headers=[("X", "a\rb")]),
    ],
)
def test_edits_refuse_line_injection(edit: Callable[[Request], object]) -> None:
    request = invite()
    with pytest.raises(ValueError):
        edit(request)
    assert request.to_bytes() == invite().to_bytes()


ROUTED = INVITE.replace(
    b"Timestamp: 54\r\n", b"Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n"
)


def test_cancel_matches_the_invite_transaction() -> None:
    request = parse_message(ROUTED)
    assert isinstance(request, Request)
    cancel = make_cancel(request)
    cancel.validate()
    assert cancel.method == "CANCEL" and cancel.ruri_text == request.ruri_text
    out = lines_of(cancel.to_bytes())
    source = lines_of(ROUTED)
    assert out[1] == source[1]  # the top Via line, byte for byte
    assert [v.branch for v in cancel.vias] == ["z9hG4bK776asdhds"]
    assert cancel.cseq is not None and (cancel.cseq.number, cancel.cseq.method) == (314159, "CANCEL")
    for kept in (b"To: Bob <sip:bob@biloxi.example.com>", b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com"):
        assert kept in out
    assert [str(r.uri) for r in cancel.routes] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert cancel.body == b"" and cancel.max_forwards == 70


def test_ack_for_a_failure_takes_to_from_the_response() -> None:
    request = parse_message(ROUTED)
    assert isinstance(request, Request)
    response = request.make_response(486, to_tag="busy1")
    ack = make_ack(request, response)
    ack.validate()
    assert ack.method == "ACK"
    assert ack.to is not None and ack.to.tag == "busy1"
    assert ack.from_ is not None and ack.from_.tag == "1928301774"
    assert ack.cseq is not None and (ack.cseq.number, ack.cseq.method) == (314159, "ACK")
    assert len(ack.vias) == 1 and ack.top_via == request.top_via
    assert len(ack.routes) == 2
    with pytest.raises(ValueError):
        make_ack(request, request.make_response(200))


def test_derived_requests_keep_only_the_first_of_several_vias_on_a_line() -> None:
    data = INVITE.replace(
        b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n", b""
    )
    request = parse_message(data)
    assert isinstance(request, Request)
    cancel = make_cancel(request)
    assert [(v.host, v.branch) for v in cancel.vias] == [("a.example.com", "z9hG4bK1")]
