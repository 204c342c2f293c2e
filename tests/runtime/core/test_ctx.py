"""The script context over a parsed request: variable reads, rewrites, stores."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from runtime.api import NULL_TEXT, Ctx, PvRef, RouteKind, fmt
from runtime.core.pvaccess import PvError
from runtime.sip import parse_message
from runtime.transport.socketinfo import SocketInfo

INVITE = (
    b"INVITE sip:alice@example.com;transport=udp SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-1\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-0\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Bob B" <sip:bob@biloxi.example>;tag=ft1\r\n'
    b"To: <sip:alice@example.com>\r\n"
    b"Call-ID: call-1@10.0.0.1\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Contact: <sip:bob@10.0.0.1:5062>, <sip:bob@10.0.0.2>\r\n"
    b"User-Agent: tester\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)
REPLY = (
    b"SIP/2.0 486 Busy Here\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-1\r\n"
    b"From: <sip:bob@biloxi.example>;tag=ft1\r\n"
    b"To: <sip:alice@example.com>;tag=tt9\r\n"
    b"Call-ID: call-1@10.0.0.1\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)
SOCKET = SocketInfo("udp", "127.0.0.1", 5060, socket.AF_INET)


class FakeCore:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def forward(self, ctx: Ctx, dest: str | None) -> int:
        self.calls.append(("forward", dest))
        return 1

    def send_reply(self, ctx: Ctx, code: int, reason: str, headers: Sequence[str] = ()) -> int:
        self.calls.append(("reply", (code, reason)))
        return 1

    def is_myself(self, host: str, port: int | None) -> bool:
        return host == "127.0.0.1" and port in (None, 5060)

    def find_listening(self, proto: str | None, host: str, port: int | None) -> SocketInfo | None:
        return SOCKET if self.is_myself(host, port) else None

    def send_raw(self, ctx: Ctx, dest: str, data: bytes) -> int:
        self.calls.append(("send", dest))
        return 1

    def launch(self, ctx: Ctx, job: object, report: object) -> None:
        self.calls.append(("launch", job))


def make_ctx(data: bytes = INVITE) -> Ctx:
    return Ctx(parse_message(data), SOCKET, "10.0.0.1", 5062, FakeCore())


def test_message_variables_of_a_request() -> None:
    ctx = make_ctx()
    assert ctx.kind is RouteKind.REQUEST
    assert ctx.ruri == "sip:alice@example.com;transport=udp"
    assert (ctx.ruri_user, ctx.ruri_host, ctx.ruri_port) == ("alice", "example.com", 5060)
    assert ctx.method == "INVITE" and ctx.status is None and ctx.reason is None
    assert ctx.callid == "call-1@10.0.0.1" and ctx.cseq == "7"
    assert (ctx.from_uri, ctx.from_user, ctx.from_host) == (
        "sip:bob@biloxi.example", "bob", "biloxi.example"
    )  # fmt: skip
    assert (ctx.from_name, ctx.from_tag, ctx.to_tag) == ("Bob B", "ft1", None)
    assert (ctx.to_uri, ctx.to_user, ctx.to_host) == (
        "sip:alice@example.com", "alice", "example.com"
    )  # fmt: skip
    assert ctx.contact == "<sip:bob@10.0.0.1:5062>"
    assert ctx.hdr("Via") == "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-1"
    assert ctx.hdr("v", 1) == "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-0"
    assert ctx.hdr("Via", -1) == ctx.hdr("Via", 1)
    assert ctx.hdr("Route") is None and ctx.hdrcnt("Via") == 2
    assert ctx.hdr_all("Via") is not None and ctx.hdr_all("Via").count(",") == 1  # type: ignore[union-attr]
    assert (ctx.content_length, ctx.content_type, ctx.user_agent) == (
        4,
        "application/sdp",
        "tester",
    )
    assert ctx.body == "v=0\n" and ctx.msg_len == len(INVITE) and ctx.msg_buf.startswith("INVITE")
    assert (ctx.src_ip, ctx.src_port, ctx.recv_ip, ctx.recv_port, ctx.proto) == (
        "10.0.0.1", 5062, "127.0.0.1", 5060, "udp"
    )  # fmt: skip
    assert ctx.socket_in("port") == 5060 and ctx.socket_in() == "udp:127.0.0.1:5060"


def test_reply_variables() -> None:
    ctx = make_ctx(REPLY)
    assert (ctx.status, ctx.reason, ctx.method, ctx.ruri) == (486, "Busy Here", "INVITE", None)
    assert ctx.to_tag == "tt9"
    ctx.ruri = "sip:x@y"  # no R-URI in a reply: ignored
    assert ctx.ruri is None


def test_ruri_rewrites_are_seen_by_later_reads_and_revert() -> None:
    ctx = make_ctx()
    ctx.ruri_user = "carol"
    assert ctx.ruri == "sip:carol@example.com;transport=udp"
    ctx.ruri_host = "10.1.1.1"
    ctx.ruri_port = 5080
    assert ctx.ruri == "sip:carol@10.1.1.1:5080;transport=udp"
    assert ctx.pv_get("rU") == "carol" and ctx.pv_get("$rp") == 5080
    assert ctx.msg.to_bytes().startswith(b"INVITE sip:carol@10.1.1.1:5080;transport=udp SIP/2.0")
    ctx.ruri = "sip:dave@10.2.2.2"
    assert (ctx.ruri_user, ctx.ruri_host) == ("dave", "10.2.2.2")
    ctx.ruri = None
    assert ctx.ruri == "sip:alice@example.com;transport=udp"
    assert ctx.original_ruri == ctx.ruri


def test_an_ruri_write_with_a_blank_is_logged_and_not_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`$ru = $hdr(X)` with a header holding a blank: OpenSIPS logs and goes on; so does
    sipc (no script error, the R-URI as it was)."""
    ctx = make_ctx()
    before = ctx.ruri
    with caplog.at_level("ERROR"):
        ctx.pv_set("ru", "sip:bob@example.com\tX-Evil: 1")
        ctx.pv_set("rU", "bo b")
        ctx.pv_set("rd", "exa\r\nmple.com")
    assert ctx.ruri == before
    assert caplog.text.count("not written") == 3
    assert all(record.exc_info is None for record in caplog.records)


def test_var_avp_flags_params() -> None:
    ctx = make_ctx()
    assert ctx.var_get("x") is None
    ctx.var_set("x", 5)
    assert ctx.pv_get("var", "x") == 5
    ctx.avp_push("a", 1)
    ctx.avp_push("a", "two")
    assert ctx.avp_get("a") == "two" and ctx.avp_get("a", 1) == 1 and ctx.avp_get("a", -1) == 1
    assert ctx.avp.get_all("a") == ["two", 1]
    ctx.avp_assign("a", 3)
    assert ctx.avp.get_all("a") == [3]
    ctx.pv_set("avp", "new", inner="a")
    ctx.pv_set("avp", None, inner="a", index=0)
    assert ctx.avp.get_all("a") == [3]
    ctx.avp_push("a", None)  # NULL deletes
    assert ctx.avp_get("a") is None and ctx.avp.count("a") == 0
    ctx.setflag("NAT")
    ctx.setflag(3)
    assert ctx.isflagset("NAT") and ctx.isflagset("3") and ctx.pv_get("msg.flag", "NAT") == 1
    ctx.resetflag("NAT")
    assert not ctx.isflagset("NAT")

    def callee(inner: Ctx) -> int:
        return (
            1 if inner.param(1) == "p1" and inner.param("2") == 2 and inner.param(3) is None else -1
        )

    assert ctx.call_route(callee, "p1", 2) == 1
    assert ctx.params == [] and ctx.param(1) is None


def test_by_name_access_and_format() -> None:
    ctx = make_ctx()
    assert ctx.pv_get("ruri") == ctx.ruri
    assert ctx.pv_get("from.user") == "bob" and ctx.pv_get("to.domain") == "example.com"
    assert ctx.pv_get("src_ip") == "10.0.0.1" and ctx.pv_get("ci") == "call-1@10.0.0.1"
    assert ctx.pv_get("hdr", "Via", 1) == ctx.hdr("Via", 1)
    assert ctx.pv_get("hdrcnt", "Contact") == 1
    assert ctx.pv_get("retcode") == ctx.rc == 1
    ctx.pv_set("du", "sip:10.9.9.9:5070")
    assert ctx.du == "sip:10.9.9.9:5070"
    with pytest.raises(PvError):
        ctx.pv_get("no_such_var")
    with pytest.raises(PvError):
        ctx.pv_set("ci", "x")
    text = ctx.expand(["user ", PvRef("rU"), " from ", PvRef("si"), " v=", PvRef("var", "nope")])
    assert text == f"user alice from 10.0.0.1 v={NULL_TEXT}"
    assert ctx.expand([PvRef("rU", transforms=(("s.toupper", ()), ("s.len", ())))]) == "5"
    assert (fmt(None), fmt(7), fmt("x")) == ("<null>", "7", "x")


def test_edits_and_services() -> None:
    ctx = make_ctx()
    ctx.append_header("X-Test: one\r\n")
    assert ctx.hdr("X-Test") == "one"
    assert ctx.remove_header("User-Agent") == 1 and ctx.user_agent is None
    assert ctx.append_branch("sip:b1@h") == 1 and ctx.append_branch() == 1
    assert [b.uri for b in ctx.branches] == ["sip:b1@h", ctx.ruri]
    assert ctx.branch_uri == "sip:b1@h"
    assert ctx.forward() == 1 and ctx.send_reply(404, "Not Here") == 1
    assert ctx.is_myself("127.0.0.1") and not ctx.is_myself("10.0.0.1")
    assert ctx.core.calls == [("forward", None), ("reply", (404, "Not Here"))]  # type: ignore[attr-defined]
