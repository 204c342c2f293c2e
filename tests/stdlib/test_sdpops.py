"""sipmsgops SDP functions on whole messages: the body edited in the message, the
Content-Length right, and what is relayed is the edited SDP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from runtime.api import Ctx, RouteKind, RouteTable, ScriptExit
from runtime.core.pipeline import Pipeline
from runtime.core.stateful import Stateful
from runtime.sip import Request, Response, parse_message
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from stdlib import tm
from stdlib._modules import reset_modparams
from stdlib.sdpops import (
    codec_delete,
    codec_delete_except_re,
    codec_delete_re,
    codec_exists,
    codec_exists_re,
    codec_move_down,
    codec_move_down_re,
    codec_move_up,
    codec_move_up_re,
    is_audio_on_hold,
    stream_delete,
    stream_exists,
)
from stdlib.testing import context

# A softphone's offer: G.722, PCMU, PCMA, opus, DTMF, then SRTP-less video
SDP = (
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 9 0 8 111 101\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
    "m=video 51372 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=42801F\r\n"
    "a=sendrecv\r\n"
)


def invite(sdp: str = SDP, content_type: str = "application/sdp") -> str:
    return (
        "INVITE sip:bob@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKsdp1\n"
        "Max-Forwards: 70\n"
        "From: Alice <sip:alice@example.org>;tag=1928301774\n"
        "To: Bob <sip:bob@example.com>\n"
        "Call-ID: sdp-1@198.51.100.7\n"
        "CSeq: 1 INVITE\n"
        "Contact: <sip:alice@198.51.100.7:5062>\n"
        f"Content-Type: {content_type}\n"
        f"Content-Length: {len(sdp.encode())}\n\n" + sdp
    )


def sent(ctx: Ctx) -> tuple[bytes, str]:
    """The message as it would go out, parsed again: its body and Content-Length."""
    msg = parse_message(ctx.msg.to_bytes())
    assert msg.content_length == len(msg.body)
    return msg.body, msg.header("Content-Length") or ""


def test_codec_exists_by_name_clock_and_regex() -> None:
    ctx, _ = context(invite())
    assert codec_exists(ctx, "pcma") == 1
    assert codec_exists(ctx, "opus", "48000") == 1
    assert codec_exists(ctx, "opus", "8000") == -1
    assert codec_exists(ctx, "G729") == -1
    assert codec_exists_re(ctx, "^telephone") == 1
    assert codec_exists_re(ctx, "^(G729|iLBC)$") == -1


def test_codec_delete_edits_the_body_and_content_length() -> None:
    ctx, _ = context(invite())
    assert codec_delete(ctx, "opus") == 1
    body, length = sent(ctx)
    assert b"m=audio 49170 RTP/AVP 9 0 8 101\r\n" in body
    assert b"opus" not in body and b"useinbandfec" not in body
    assert int(length) == len(SDP) - len(
        " 111" + "a=rtpmap:111 opus/48000/2\r\n" + "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    )
    assert codec_delete(ctx, "opus") == -1  # gone already
    assert codec_exists(ctx, "opus") == -1


def test_codec_delete_re_and_except_re() -> None:
    ctx, _ = context(invite())
    assert codec_delete_re(ctx, "^PCM") == 1
    body, _ = sent(ctx)
    assert b"m=audio 49170 RTP/AVP 9 111 101\r\n" in body
    # keep only G.711 A-law... there is none left in audio: the stream goes to port 0,
    # and video, with no match either, too
    ctx, _ = context(invite())
    assert codec_delete_except_re(ctx, "PCMA|telephone-event") == 1
    body, _ = sent(ctx)
    assert b"m=audio 49170 RTP/AVP 8 101\r\n" in body
    assert b"m=video 0 RTP/AVP\r\n" in body and b"H264" not in body


def test_move_up_and_down() -> None:
    ctx, _ = context(invite())
    assert codec_move_up(ctx, "PCMA") == 1
    assert b"m=audio 49170 RTP/AVP 8 9 0 111 101\r\n" in sent(ctx)[0]
    assert codec_move_down(ctx, "G722", "8000") == 1
    assert b"m=audio 49170 RTP/AVP 8 0 111 101 9\r\n" in sent(ctx)[0]
    assert codec_move_up_re(ctx, "^opus$") == 1
    assert codec_move_down_re(ctx, "PCM") == 1
    assert b"m=audio 49170 RTP/AVP 111 101 9 8 0\r\n" in sent(ctx)[0]
    assert codec_move_up(ctx, "AMR") == -1


def test_stream_exists_and_delete() -> None:
    ctx, _ = context(invite())
    assert stream_exists(ctx, "video") == 1
    assert stream_exists(ctx, "audio", "RTP/SAVP") == -1
    assert stream_exists(ctx, "audio", "RTP/AVP") == 1
    assert stream_delete(ctx, "video") == 1
    body, _ = sent(ctx)
    assert body == SDP[: SDP.index("m=video")].encode()
    assert stream_exists(ctx, "video") == -1
    assert stream_delete(ctx, "video") == -1


def test_is_audio_on_hold() -> None:
    ctx, _ = context(invite())
    assert is_audio_on_hold(ctx) == -1
    held = SDP.replace("a=ptime:20\r\na=sendrecv", "a=ptime:20\r\na=sendonly")
    ctx, _ = context(invite(held))
    assert is_audio_on_hold(ctx) == 2
    old_style = SDP.replace("c=IN IP4 198.51.100.7", "c=IN IP4 0.0.0.0")
    ctx, _ = context(invite(old_style))
    assert is_audio_on_hold(ctx) == 1


def test_no_sdp_body() -> None:
    no_body = invite("").replace("Content-Type: application/sdp\n", "")
    ctx, _ = context(no_body)
    assert codec_exists(ctx, "PCMU") == -1
    assert codec_delete(ctx, "PCMU") == -1
    assert stream_exists(ctx, "audio") == -1
    assert is_audio_on_hold(ctx) == -1
    pidf = "<?xml version='1.0'?><presence entity='sip:alice@example.org'/>"
    ctx, _ = context(invite(pidf, "application/pidf+xml"))
    assert codec_exists(ctx, "PCMU") == -1


def test_sdp_inside_a_multipart_body() -> None:
    isup = "\x01\x00\x49\x00\x00\x03\x02\x00\x07"
    body = (
        "--b1\r\nContent-Type: application/sdp\r\n\r\n"
        + SDP
        + "\r\n--b1\r\nContent-Type: application/ISUP;version=nxv3\r\n\r\n"
        + isup
        + "\r\n--b1--\r\n"
    )
    ctx, _ = context(invite(body, "multipart/mixed;boundary=b1"))
    assert codec_exists(ctx, "PCMU") == 1
    assert codec_delete(ctx, "PCMU") == 1
    out, _ = sent(ctx)
    assert b"m=audio 49170 RTP/AVP 9 8 111 101\r\n" in out
    assert out.endswith(
        b"\r\n--b1\r\nContent-Type: application/ISUP;version=nxv3\r\n\r\n"
        + isup.encode()
        + b"\r\n--b1--\r\n"
    )


def test_in_an_onreply_route_the_relayed_answer_is_the_edited_one() -> None:
    udp = SocketInfo("udp", "127.0.0.1", 5060, socket.AF_INET)
    sends: list[tuple[tuple[str, int], bytes]] = []

    class Sender:
        def __init__(self) -> None:
            self.sockets = [udp]

        def send(
            self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
        ) -> bool:
            sends.append(((ip, port), data))
            return True

        def reply(self, source: Source, data: bytes) -> bool:
            sends.append(((source.ip, source.port), data))
            return True

    def main(ctx: Ctx) -> int:
        tm.t_on_reply(ctx, "answer")
        tm.t_relay(ctx)
        raise ScriptExit

    def answer(ctx: Ctx) -> int:
        assert ctx.kind is RouteKind.ONREPLY
        if ctx.status == 200:
            assert codec_delete(ctx, "G722") == 1
            assert stream_delete(ctx, "video") == 1
        return 1

    pipeline = Pipeline(RouteTable(main=main, onreply_named={"answer": answer}))
    pipeline.stateful = Stateful(pipeline, clock=lambda: 1000.0)
    pipeline.attach(Sender())
    caller = Source(udp, "198.51.100.7", 5062)
    request = invite().replace("sip:bob@example.com SIP", "sip:bob@127.0.0.2:5070 SIP")
    head, _, body = request.partition("\n\n")
    pipeline.receive(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body.encode(), caller)
    [branch] = [
        m
        for dest, data in sends
        if dest == ("127.0.0.2", 5070)
        if isinstance(m := parse_message(data), Request)
    ]
    assert branch.body == SDP.encode()  # the offer went out as received
    ok = branch.make_response(
        200, to_tag="callee", body=SDP.encode(), content_type="application/sdp"
    )
    pipeline.receive(ok.to_bytes(), Source(udp, "127.0.0.2", 5070))
    [relayed] = [
        m
        for dest, data in sends
        if dest == ("198.51.100.7", 5062)
        if isinstance(m := parse_message(data), Response) and m.status == 200
    ]
    assert b"m=audio 49170 RTP/AVP 0 8 111 101\r\n" in relayed.body
    assert b"m=video" not in relayed.body and b"G722" not in relayed.body
    assert relayed.content_length == len(relayed.body)


@pytest.fixture(autouse=True)
def _default_modparams() -> Iterator[None]:
    reset_modparams()
    yield
    reset_modparams()
