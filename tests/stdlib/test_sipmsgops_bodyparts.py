"""has_body_part, add_body_part, remove_body_part, get_updated_body_part: the message body
edited in place (Content-Type, boundary, Content-Length right) and relayed as edited."""

from __future__ import annotations

import socket

from runtime.api import Ctx, RouteTable, ScriptExit
from runtime.core.pipeline import Pipeline
from runtime.core.stateful import Stateful
from runtime.sip import Request, multipart, parse_message
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from stdlib import tm
from stdlib.bodyparts import add_body_part, get_updated_body_part, has_body_part, remove_body_part
from stdlib.sdpops import codec_delete
from stdlib.testing import context

SDP = "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
SDP += "m=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
ISUP = b"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10"


def invite(body: bytes = b"", content_type: str | None = None) -> bytes:
    head = (
        "INVITE sip:bob@127.0.0.2:5070 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-bp1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@a.example>;tag=f1\r\n"
        "To: <sip:bob@b.example>\r\n"
        "Call-ID: bp-1@10.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@10.0.0.1:5062>\r\n"
    )
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


MIXED = (
    b"preamble\r\n"
    b"--b1\r\n"
    b"Content-Type: application/sdp\r\n"
    b"\r\n" + SDP.encode() + b"\r\n"
    b"--b1\r\n"
    b"Content-Type: application/isup;version=itu-t92+\r\n"
    b"Content-Disposition: signal;handling=optional\r\n"
    b"\r\n" + ISUP + b"\r\n"
    b"--b1--\r\n"
)


def reparsed(ctx: Ctx) -> Request:
    """The message as it would go on the wire, parsed again: Content-Length must hold."""
    msg = parse_message(ctx.msg.to_bytes())
    assert isinstance(msg, Request)
    assert msg.content_length == len(msg.body)
    msg.validate()
    return msg


class Out:
    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, value: str | None) -> None:
        self.value = value


# ------------------------------------------------------------------------- has_body_part


def test_has_body_part_on_a_single_body() -> None:
    ctx, _ = context(invite(SDP.encode(), "application/sdp"))
    assert has_body_part(ctx) == 1
    assert has_body_part(ctx, "application/sdp") == 1
    assert has_body_part(ctx, "Application/SDP") == 1
    assert has_body_part(ctx, "application/isup") == -1


def test_has_body_part_looks_into_every_part() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert has_body_part(ctx, "application/isup") == 1  # parameters do not matter
    assert has_body_part(ctx, "application/sdp") == 1
    assert has_body_part(ctx, "text/plain") == -1
    assert has_body_part(ctx, "multipart/mixed") == 1  # compared with the message's type
    assert has_body_part(ctx, "multipart/related") == -1


def test_no_body_no_part() -> None:
    ctx, _ = context(invite())
    assert has_body_part(ctx) == -1
    assert has_body_part(ctx, "application/sdp") == -1


def test_a_body_without_content_type_is_sdp() -> None:
    ctx, _ = context(invite(SDP.encode()))
    assert has_body_part(ctx, "application/sdp") == 1


# ------------------------------------------------------------------------- add_body_part


def test_add_to_an_empty_body_makes_the_part_the_body() -> None:
    ctx, _ = context(invite())
    assert add_body_part(ctx, "Hello World!", "text/plain", "Content-Disposition: render\r\n") == 1
    msg = reparsed(ctx)
    assert msg.header("Content-Type") == "text/plain"
    assert msg.header("Content-Disposition") == "render"
    assert msg.body == b"Hello World!"


def test_add_a_second_part_makes_the_body_multipart() -> None:
    ctx, _ = context(invite(SDP.encode(), "application/sdp"))
    assert add_body_part(ctx, "<pidf/>", "application/pidf+xml", "Content-ID: <loc@a>") == 1
    msg = reparsed(ctx)
    content_type = msg.header("Content-Type") or ""
    assert content_type == "multipart/mixed;boundary=OSS-unique-boundary-42"
    parts = multipart.split(content_type, msg.body)
    assert parts is not None
    assert [p.media_type for p in parts] == ["application/sdp", "application/pidf+xml"]
    assert parts[0].body == SDP.encode()
    assert parts[1].body == b"<pidf/>" and parts[1].header("Content-ID") == "<loc@a>"
    assert msg.body.endswith(b"--OSS-unique-boundary-42--\r\n")


def test_add_to_a_multipart_body_keeps_its_boundary_and_bytes() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert add_body_part(ctx, "hi", "text/plain") == 1
    msg = reparsed(ctx)
    assert msg.header("Content-Type") == "multipart/mixed;boundary=b1"
    assert msg.body.startswith(MIXED[: MIXED.index(b"--b1--")])
    parts = multipart.split("multipart/mixed;boundary=b1", msg.body)
    assert parts is not None and [p.media_type for p in parts][-1] == "text/plain"
    assert parts[1].body == ISUP


def test_add_refuses_what_it_cannot_write() -> None:
    ctx, _ = context(invite())
    assert add_body_part(ctx, "", "text/plain") == -1
    assert add_body_part(ctx, "x", "") == -1
    assert add_body_part(ctx, "x", "text/plain", "not a header") == -1
    assert add_body_part(ctx, "x", "text/plain\r\nX-Evil: 1") == -1
    assert ctx.msg.body == b""


def test_what_is_relayed_is_the_edited_body() -> None:
    sent: list[bytes] = []

    class Sender:
        def __init__(self) -> None:
            self.sockets = [SocketInfo("udp", "127.0.0.1", 5060, socket.AF_INET)]

        def send(
            self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
        ) -> bool:
            sent.append(data)
            return True

        def reply(self, source: Source, data: bytes) -> bool:
            return True

    def main(ctx: Ctx) -> int:
        assert remove_body_part(ctx, "application/isup") == 1
        assert add_body_part(ctx, "hello", "text/plain") == 1
        tm.t_relay(ctx)
        raise ScriptExit

    pipeline = Pipeline(RouteTable(main=main))
    pipeline.stateful = Stateful(pipeline, clock=lambda: 1000.0)
    sender = Sender()
    pipeline.attach(sender)
    pipeline.receive(
        invite(MIXED, "multipart/mixed;boundary=b1"), Source(sender.sockets[0], "10.0.0.1", 5062)
    )
    [relayed] = [m for m in map(parse_message, sent) if isinstance(m, Request)]
    assert relayed.content_length == len(relayed.body)
    parts = multipart.split(relayed.header("Content-Type") or "", relayed.body)
    assert parts is not None
    assert [p.media_type for p in parts] == ["application/sdp", "text/plain"]
    assert parts[1].body == b"hello"


# ------------------------------------------------------------------------- remove_body_part


def test_remove_everything() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert remove_body_part(ctx) == 1
    msg = reparsed(ctx)
    assert msg.body == b"" and msg.header("Content-Type") is None
    assert remove_body_part(ctx) == -1  # nothing left


def test_remove_down_to_one_part_unwraps_it() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert remove_body_part(ctx, "application/sdp") == 1
    msg = reparsed(ctx)
    assert msg.body == ISUP
    assert msg.header("Content-Type") == "application/isup;version=itu-t92+"
    assert msg.header("Content-Disposition") == "signal;handling=optional"


def test_remove_revert_keeps_only_that_type() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert remove_body_part(ctx, "application/sdp", "revert") == 1
    msg = reparsed(ctx)
    assert msg.body == SDP.encode() and msg.header("Content-Type") == "application/sdp"
    assert remove_body_part(ctx, "application/sdp", "revert") == -1  # nothing else left


def test_remove_one_of_three_keeps_the_multipart() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert add_body_part(ctx, "hi", "text/plain") == 1
    assert remove_body_part(ctx, "application/isup") == 1
    msg = reparsed(ctx)
    parts = multipart.split(msg.header("Content-Type") or "", msg.body)
    assert parts is not None and [p.media_type for p in parts] == ["application/sdp", "text/plain"]
    assert msg.body.startswith(b"preamble\r\n")


def test_remove_a_type_that_is_not_there() -> None:
    ctx, _ = context(invite(SDP.encode(), "application/sdp"))
    before = ctx.msg.to_bytes()
    assert remove_body_part(ctx, "application/isup") == -1
    assert ctx.msg.to_bytes() == before
    assert remove_body_part(ctx, "application/sdp") == 1
    assert reparsed(ctx).body == b""


# ------------------------------------------------------------------------- get_updated_body_part


def test_get_updated_body_part_sees_earlier_edits_and_changes_nothing() -> None:
    ctx, _ = context(invite(MIXED, "multipart/mixed;boundary=b1"))
    assert codec_delete(ctx, "PCMA") == 1
    before = ctx.msg.to_bytes()
    out = Out()
    assert get_updated_body_part(ctx, "application/sdp", out) == 1
    assert out.value is not None and "PCMA" not in out.value and out.value.startswith("v=0")
    assert "--b1" not in out.value
    whole = Out()
    assert get_updated_body_part(ctx, None, whole) == 1
    assert whole.value is not None and whole.value.endswith("--b1--\r\n")
    assert get_updated_body_part(ctx, "text/plain", Out()) == -2
    assert ctx.msg.to_bytes() == before


def test_get_updated_body_part_without_a_body() -> None:
    ctx, _ = context(invite())
    out = Out()
    assert get_updated_body_part(ctx, "application/sdp", out) == -1
    assert out.value is None
