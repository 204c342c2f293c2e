"""append_to_reply and change_reply_status through the real pipeline: the bytes that go
on the wire, with recorded sends and a fake clock (no sockets)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from runtime.api import Ctx, RouteTable, ScriptExit
from runtime.core.pipeline import Pipeline
from runtime.core.stateful import Stateful
from runtime.sip import Request, Response, parse_message
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from stdlib import sl, tm
from stdlib._modules import reset_modparams
from stdlib.sipmsgops import (
    append_body_to_reply,
    append_to_reply,
    change_reply_status,
    reply_header_lines,
)
from stdlib.testing import context

UDP = SocketInfo("udp", "127.0.0.1", 5060, socket.AF_INET)
CALLER = ("10.0.0.1", 5062)
CALLEE = ("127.0.0.2", 5070)

INVITE = (
    b"INVITE sip:bob@127.0.0.2:5070 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-smo1\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:alice@a.example>;tag=f1\r\n"
    b"To: <sip:bob@b.example>\r\n"
    b"Call-ID: smo-1@10.0.0.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)


class Sender:
    def __init__(self) -> None:
        self.sockets = [UDP]
        self.sent: list[tuple[tuple[str, int], bytes]] = []

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.sent.append(((ip, port), data))
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.sent.append(((source.ip, source.port), data))
        return True


class Harness:
    def __init__(self, routes: RouteTable) -> None:
        self.pipeline = Pipeline(routes)
        self.pipeline.stateful = Stateful(self.pipeline, clock=lambda: 1000.0)
        self.sender = Sender()
        self.pipeline.attach(self.sender)

    def from_caller(self, data: bytes) -> None:
        self.pipeline.receive(data, Source(UDP, *CALLER))

    def from_callee(self, response: Response) -> None:
        self.pipeline.receive(response.to_bytes(), Source(UDP, *CALLEE))

    def to(self, peer: tuple[str, int]) -> list[Request | Response]:
        return [parse_message(data) for dest, data in self.sender.sent if dest == peer]

    def replies_to_caller(self) -> list[Response]:
        return [m for m in self.to(CALLER) if isinstance(m, Response) and m.status > 100]


@pytest.fixture(autouse=True)
def _default_modparams() -> Iterator[None]:
    reset_modparams()
    yield
    reset_modparams()


def _script(body: Callable[[Ctx], object]) -> Callable[[Ctx], int]:
    def main(ctx: Ctx) -> int:
        body(ctx)
        raise ScriptExit

    return main


# ---------------------------------------------------------------------- append_to_reply


def test_header_text_is_cut_into_whole_lines() -> None:
    assert reply_header_lines("X-A: 1\r\nX-B:2\r\n") == ["X-A: 1", "X-B: 2"]
    assert reply_header_lines('Warning: 399 proxy\r\n  "folded"\r\n') == [
        'Warning: 399 proxy "folded"'
    ]
    assert reply_header_lines("no colon here") is None
    assert reply_header_lines("Bad Name: x") is None
    assert reply_header_lines("\r\n") is None


def test_sl_send_reply_carries_the_queued_lines_on_the_wire() -> None:
    def body(ctx: Ctx) -> None:
        assert append_to_reply(ctx, "Retry-After: 60\r\n") == 1
        assert append_to_reply(ctx, "X-Reason: maintenance\r\nX-Node: b") == 1
        sl.sl_send_reply(ctx, 503, "Service Unavailable")

    h = Harness(RouteTable(main=_script(body)))
    h.from_caller(INVITE)
    [reply] = h.replies_to_caller()
    assert reply.status == 503
    assert reply.header("Retry-After") == "60"
    assert reply.header("X-Reason") == "maintenance" and reply.header("X-Node") == "b"
    wire = reply.to_bytes()
    assert wire.index(b"Retry-After") < wire.index(b"X-Node") < wire.index(b"Content-Length")


def test_t_reply_carries_the_queued_lines() -> None:
    def body(ctx: Ctx) -> None:
        assert append_to_reply(ctx, "Contact: <sip:bob@198.51.100.9>\r\n") == 1
        tm.t_reply(ctx, 302, "Moved Temporarily")

    h = Harness(RouteTable(main=_script(body)))
    h.from_caller(INVITE)
    [reply] = h.replies_to_caller()
    assert reply.status == 302 and reply.header("Contact") == "<sip:bob@198.51.100.9>"


def test_a_line_that_is_no_header_is_refused_and_the_reply_still_goes() -> None:
    def body(ctx: Ctx) -> None:
        assert append_to_reply(ctx, "not a header") == -1
        sl.sl_send_reply(ctx, 404, "Not Found")

    h = Harness(RouteTable(main=_script(body)))
    h.from_caller(INVITE)
    [reply] = h.replies_to_caller()
    assert reply.status == 404 and b"not a header" not in reply.to_bytes()


def test_the_recording_core_sees_the_lines_too() -> None:
    ctx, services = context(INVITE)
    assert append_to_reply(ctx, "X-A: 1") == 1
    sl.sl_send_reply(ctx, 486, "Busy Here")
    assert services.reply_headers == [["X-A: 1"]]


# ---------------------------------------------------------------------- append_body_to_reply

REJECT_SDP = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"


def test_sl_send_reply_carries_the_body_and_its_length() -> None:
    def body(ctx: Ctx) -> None:
        assert append_to_reply(ctx, "Content-Type: application/sdp\r\n") == 1
        assert append_body_to_reply(ctx, "replaced by the next call") == 1
        assert append_body_to_reply(ctx, REJECT_SDP) == 1
        sl.sl_send_reply(ctx, 488, "Not Acceptable Here")

    h = Harness(RouteTable(main=_script(body)))
    h.from_caller(INVITE)
    [reply] = h.replies_to_caller()
    assert reply.status == 488
    assert reply.body == REJECT_SDP.encode()
    assert reply.content_length == len(REJECT_SDP)
    assert reply.header("Content-Type") == "application/sdp"
    reply.validate()


def test_t_reply_carries_the_body() -> None:
    def body(ctx: Ctx) -> None:
        assert append_to_reply(ctx, "Content-Type: text/plain") == 1
        assert append_body_to_reply(ctx, "come back later") == 1
        tm.t_reply(ctx, 480, "Temporarily Unavailable")

    h = Harness(RouteTable(main=_script(body)))
    h.from_caller(INVITE)
    [reply] = h.replies_to_caller()
    assert (reply.status, reply.body) == (480, b"come back later")
    assert reply.content_length == len(b"come back later")
    assert reply.header("Content-Type") == "text/plain"


def test_without_append_body_to_reply_a_reply_has_no_body() -> None:
    def body(ctx: Ctx) -> None:
        sl.sl_send_reply(ctx, 404, "Not Found")

    h = Harness(RouteTable(main=_script(body)))
    h.from_caller(INVITE)
    [reply] = h.replies_to_caller()
    assert reply.body == b"" and reply.content_length == 0


# ---------------------------------------------------------------------- change_reply_status


def _relay_with_onreply(change: Callable[[Ctx], int], results: list[int]) -> Harness:
    def main(ctx: Ctx) -> int:
        tm.t_on_reply(ctx, "rewrite")
        tm.t_relay(ctx)
        raise ScriptExit

    def rewrite(ctx: Ctx) -> int:
        results.append(change(ctx))
        return 1

    return Harness(RouteTable(main=main, onreply_named={"rewrite": rewrite}))


def test_a_final_failure_is_relayed_with_the_new_status_line() -> None:
    results: list[int] = []
    h = _relay_with_onreply(lambda ctx: change_reply_status(ctx, 404, "Not Found"), results)
    h.from_caller(INVITE)
    [branch] = [m for m in h.to(CALLEE) if isinstance(m, Request)]
    h.from_callee(branch.make_response(486, "Busy Here", to_tag="callee"))
    assert results == [1]
    [reply] = h.replies_to_caller()
    assert reply.status == 404 and reply.reason == "Not Found"
    assert reply.to_bytes().startswith(b"SIP/2.0 404 Not Found\r\n")
    assert reply.header("To") == "<sip:bob@b.example>;tag=callee"


def test_a_provisional_keeps_its_class() -> None:
    results: list[int] = []

    def change(ctx: Ctx) -> int:
        if ctx.status == 180:
            refused = change_reply_status(ctx, 200, "OK")
            assert refused == -1
            return change_reply_status(ctx, 183, "Session Progress")
        return 0

    h = _relay_with_onreply(change, results)
    h.from_caller(INVITE)
    [branch] = [m for m in h.to(CALLEE) if isinstance(m, Request)]
    h.from_callee(branch.make_response(180, to_tag="callee"))
    assert results == [1]
    [reply] = h.replies_to_caller()
    assert (reply.status, reply.reason) == (183, "Session Progress")


def test_the_class_rules_of_opensips() -> None:
    def reply(status: int) -> Ctx:
        text = INVITE.replace(
            b"INVITE sip:bob@127.0.0.2:5070 SIP/2.0", f"SIP/2.0 {status} X".encode()
        )
        ctx, _ = context(text)
        return ctx

    assert change_reply_status(reply(200), 202, "Accepted") == 1
    assert change_reply_status(reply(200), 486, "Busy Here") == -1  # a 2xx stays a 2xx
    assert change_reply_status(reply(486), 200, "OK") == -1  # nothing becomes a 2xx
    assert change_reply_status(reply(486), 180, "Ringing") == -1  # ...or a provisional
    assert change_reply_status(reply(486), 603, "Decline") == 1  # 3xx-6xx change freely
    assert change_reply_status(reply(302), 404, "Not Found") == 1
    assert change_reply_status(reply(486), 99, "Low") == -1
    assert change_reply_status(reply(486), 700, "High") == -1
    assert change_reply_status(reply(486), 480, "Bad\r\nX-Injected: 1") == -1
    request, _ = context(INVITE)
    assert change_reply_status(request, 404, "Not Found") == -1
    edited = reply(486)
    assert change_reply_status(edited, 480, "Temporarily Unavailable") == 1
    assert edited.status == 480 and edited.reason == "Temporarily Unavailable"
    assert edited.msg.to_bytes().startswith(b"SIP/2.0 480 Temporarily Unavailable\r\nVia:")
