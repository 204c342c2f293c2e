"""The request/reply pipeline with a recording sender in place of the sockets."""

from __future__ import annotations

import asyncio
import socket

from runtime.api import Ctx, RouteTable, ScriptDrop, ScriptExit
from runtime.core.pipeline import Pipeline
from runtime.core.rr import loose_route, record_route
from runtime.sip import parse_message
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source

UDP = SocketInfo("udp", "127.0.0.1", 5060, socket.AF_INET)
TCP = SocketInfo("tcp", "127.0.0.1", 5060, socket.AF_INET)


def request(
    method: str = "INVITE",
    ruri: str = "sip:bob@127.0.0.2:5070",
    via: str = "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-abc",
    extra: str = "",
) -> bytes:
    return (
        f"{method} {ruri} SIP/2.0\r\n"
        f"Via: {via}\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@a.example>;tag=f1\r\n"
        "To: <sip:bob@b.example>\r\n"
        "Call-ID: c1@10.0.0.1\r\n"
        f"CSeq: 1 {method}\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class RecordingSender:
    def __init__(self) -> None:
        self.sockets = [UDP, TCP]
        self.sent: list[tuple[str, str, int, bytes]] = []
        self.replies: list[tuple[Source, bytes]] = []

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.sent.append((proto, ip, port, data))
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.replies.append((source, data))
        return True


def make_pipeline(routes: RouteTable) -> tuple[Pipeline, RecordingSender]:
    pipeline = Pipeline(routes)
    sender = RecordingSender()
    pipeline.attach(sender)
    return pipeline, sender


def forward_route(ctx: Ctx) -> int:
    return ctx.forward()


def test_forward_adds_our_via_lowers_max_forwards_and_keeps_the_branch() -> None:
    pipeline, sender = make_pipeline(RouteTable(main=forward_route))
    source = Source(UDP, "192.0.2.7", 5062)
    pipeline.receive(request(), source)
    pipeline.receive(request(), source)  # a retransmission
    pipeline.receive(request(ruri="sip:bob@127.0.0.3"), source)  # another destination
    assert [(p, ip, port) for p, ip, port, _ in sender.sent] == [
        ("udp", "127.0.0.2", 5070), ("udp", "127.0.0.2", 5070), ("udp", "127.0.0.3", 5060)
    ]  # fmt: skip
    first, again, other = (parse_message(data) for *_, data in sender.sent)
    top = first.vias[0]
    assert (top.transport, top.host, top.port) == ("UDP", "127.0.0.1", 5060)
    assert top.branch is not None and top.branch.startswith("z9hG4bK")
    assert again.vias[0].branch == top.branch
    assert other.vias[0].branch != top.branch
    # the client's Via got received= because it named another address
    assert first.vias[1].received == "192.0.2.7" and first.vias[1].rport is None
    assert first.max_forwards == 69
    assert pipeline.stats.requests == 3


def test_cancel_and_ack_get_the_invite_branch() -> None:
    pipeline, sender = make_pipeline(RouteTable(main=forward_route))
    source = Source(UDP, "10.0.0.1", 5062)
    for method in ("INVITE", "CANCEL", "ACK"):
        pipeline.receive(request(method), source)
    branches = {parse_message(data).vias[0].branch for *_, data in sender.sent}
    assert len(sender.sent) == 3 and len(branches) == 1


def test_rport_is_filled_and_tcp_always_gets_it() -> None:
    pipeline, sender = make_pipeline(RouteTable(main=forward_route))
    via = "SIP/2.0/UDP 10.0.0.1:5062;rport;branch=z9hG4bK-r"
    pipeline.receive(request(via=via), Source(UDP, "10.0.0.1", 40000))
    client_via = parse_message(sender.sent[0][3]).vias[1]
    assert (client_via.received, client_via.rport) == ("10.0.0.1", 40000)


def test_malformed_is_counted_and_answered_when_possible() -> None:
    pipeline, sender = make_pipeline(RouteTable(main=forward_route))
    source = Source(UDP, "10.0.0.1", 5062)
    pipeline.receive(b"\x00\xffgarbage", source)
    truncated = request().split(b"\r\n\r\n")[0][:-10]  # no end of headers
    pipeline.receive(truncated, source)
    bad_cseq = request().replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE")  # method mismatch
    pipeline.receive(bad_cseq, source)
    assert pipeline.stats.malformed == 3 and not sender.sent
    assert pipeline.stats.malformed_answered == 2
    for _, data in sender.replies:
        answer = parse_message(data)
        assert answer.start_line.startswith("SIP/2.0 400")
        assert answer.call_id == "c1@10.0.0.1"


def test_reply_goes_upstream_by_via_and_foreign_replies_are_dropped() -> None:
    seen: list[int | None] = []

    def onreply(ctx: Ctx) -> int:
        seen.append(ctx.status)
        if ctx.status == 183:
            raise ScriptDrop
        return 1

    pipeline, sender = make_pipeline(RouteTable(main=forward_route, onreply=onreply))
    reply = (
        "SIP/2.0 {code} Whatever\r\n"
        "Via: SIP/2.0/UDP {ours};branch=z9hG4bKxyz\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-abc;received=192.0.2.7;rport=4000\r\n"
        "From: <sip:alice@a.example>;tag=f1\r\n"
        "To: <sip:bob@b.example>;tag=t2\r\n"
        "Call-ID: c1@10.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    source = Source(UDP, "127.0.0.2", 5070)
    pipeline.receive(reply.format(code=200, ours="127.0.0.1:5060").encode(), source)
    pipeline.receive(reply.format(code=183, ours="127.0.0.1:5060").encode(), source)
    pipeline.receive(reply.format(code=200, ours="127.0.0.9:5060").encode(), source)
    assert seen == [200, 183]
    assert len(sender.sent) == 1
    proto, ip, port, data = sender.sent[0]
    assert (proto, ip, port) == ("udp", "192.0.2.7", 4000)
    forwarded = parse_message(data)
    assert len(forwarded.vias) == 1 and forwarded.vias[0].branch == "z9hG4bK-abc"
    assert pipeline.stats.dropped == 1


def test_send_reply_has_a_stable_to_tag() -> None:
    def reject(ctx: Ctx) -> int:
        ctx.send_reply(404, "Not Here")
        raise ScriptExit

    pipeline, sender = make_pipeline(RouteTable(main=reject))
    source = Source(UDP, "10.0.0.1", 5062)
    pipeline.receive(request(), source)
    pipeline.receive(request(), source)
    pipeline.receive(request("ACK"), source)  # never answered
    assert len(sender.sent) == 2
    first, second = (parse_message(data) for *_, data in sender.sent)
    assert first.start_line == "SIP/2.0 404 Not Here"
    assert first.to is not None and first.to.tag is not None
    assert second.to is not None and first.to.tag == second.to.tag
    assert sender.sent[0][1:3] == ("10.0.0.1", 5062)


def test_route_errors_are_counted_with_script_lines() -> None:
    def broken(ctx: Ctx) -> int:
        raise KeyError("boom")

    # what a compiled module carries: generated line -> (file, line, route)
    broken.__globals__["__sipc_linemap__"] = {broken.__code__.co_firstlineno: ("t.cfg", 3, "route")}
    try:
        pipeline, sender = make_pipeline(RouteTable(main=broken))
        pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
        assert pipeline.stats.script_errors == 1 and not sender.sent
    finally:
        del broken.__globals__["__sipc_linemap__"]


async def test_a_coroutine_route_becomes_a_task_only_when_it_suspends() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def quick(ctx: Ctx) -> int:
        return ctx.forward()

    async def waits(ctx: Ctx) -> int:
        await gate
        return ctx.forward()

    pipeline, sender = make_pipeline(RouteTable(main=quick))
    pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
    assert len(sender.sent) == 1 and not pipeline.in_flight

    pipeline.routes.main = waits
    pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
    # before it waits, its transaction is made (DESIGN.md "Suspension"): 100 Trying
    requests = [sent for sent in sender.sent if not sent[3].startswith(b"SIP/2.0 ")]
    assert len(requests) == 1 and len(pipeline.in_flight) == 1
    gate.set_result(None)
    await asyncio.gather(*pipeline.in_flight)
    requests = [sent for sent in sender.sent if not sent[3].startswith(b"SIP/2.0 ")]
    assert len(requests) == 2 and not pipeline.in_flight


async def test_launch_reports_later_over_a_fresh_context_while_the_route_goes_on() -> None:
    gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    reports: list[tuple[int, object, object, str]] = []

    async def job() -> int:
        return await gate

    def report(ctx: Ctx) -> int:
        reports.append((ctx.rc, ctx.param(1), ctx.vars.get("x"), ctx.msg.method))
        return 1

    def main(ctx: Ctx) -> int:
        ctx.vars["x"] = "of the launching run"
        launched = ctx.launch_context(f"for {ctx.ruri}")
        ctx.launch(launched, job(), report)
        return ctx.forward()

    pipeline, sender = make_pipeline(RouteTable(main=main))
    pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
    assert len(sender.sent) == 1 and not reports and len(pipeline.in_flight) == 1
    # a waiting job is no request waiting: its dummy message gets no transaction
    assert pipeline.stateful.table.live == 0
    gate.set_result(-2)
    await asyncio.gather(*pipeline.in_flight)
    # $rc is the function's code; the message is a dummy; no $var of the launching run
    assert reports == [(-2, "for sip:bob@127.0.0.2:5070", None, "OPTIONS")]


async def test_a_launched_job_that_fails_is_a_script_error_and_reports_nothing() -> None:
    reports: list[int] = []

    async def broken() -> int:
        await asyncio.sleep(0)
        raise ZeroDivisionError

    def report(ctx: Ctx) -> int:
        reports.append(ctx.rc)
        return 1

    def main(ctx: Ctx) -> int:
        ctx.launch(ctx.launch_context(), broken(), report)
        ctx.launch(ctx.launch_context(), 7, report)  # a function that ran at once: its code
        return ctx.forward()

    pipeline, sender = make_pipeline(RouteTable(main=main))
    pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
    await asyncio.gather(*pipeline.in_flight)
    assert reports == [7] and pipeline.stats.script_errors == 1 and len(sender.sent) == 1


def test_record_route_and_loose_route_through_us() -> None:
    def proxy(ctx: Ctx) -> int:
        if ctx.hdr("Route") is not None:
            if loose_route(ctx) < 0:
                return -1
            return ctx.forward()
        record_route(ctx)
        return ctx.forward()

    pipeline, sender = make_pipeline(RouteTable(main=proxy))
    source = Source(UDP, "10.0.0.1", 5062)
    pipeline.receive(request(), source)
    initial = parse_message(sender.sent[0][3])
    assert initial.header("Record-Route") == "<sip:127.0.0.1:5060;lr>"
    # the in-dialog request comes back with our Record-Route as its Route
    bye = request("BYE", "sip:bob@127.0.0.2:5070", extra="Route: <sip:127.0.0.1:5060;lr>\r\n")
    pipeline.receive(bye, source)
    _, ip, port, data = sender.sent[1]
    assert (ip, port) == ("127.0.0.2", 5070)
    assert parse_message(data).header("Route") is None
    # a second loose hop after us: $du is set to it, the R-URI stays
    two = "Route: <sip:127.0.0.1:5060;lr>, <sip:127.0.0.5:5080;lr>\r\n"
    pipeline.receive(request("BYE", extra=two), source)
    _, ip, port, data = sender.sent[2]
    assert (ip, port) == ("127.0.0.5", 5080)
    out = parse_message(data)
    assert out.ruri_text == "sip:bob@127.0.0.2:5070"  # type: ignore[union-attr]
    assert out.header("Route") == "<sip:127.0.0.5:5080;lr>"


def test_loose_route_strict_router_cases() -> None:
    results: list[tuple[int, str | None, str | None, str | None]] = []

    def route(ctx: Ctx) -> int:
        rc = loose_route(ctx)
        results.append((rc, ctx.ruri, ctx.du, ctx.hdr("Route")))
        return 1

    pipeline, _ = make_pipeline(RouteTable(main=route))
    source = Source(UDP, "10.0.0.1", 5062)
    # previous hop was a strict router: the R-URI is our record-route URI
    pipeline.receive(
        request(
            "BYE", "sip:127.0.0.1:5060;lr", extra="Route: <sip:10.9.9.9;lr>, <sip:bob@10.1.1.1>\r\n"
        ),
        source,
    )
    # the next hop is a strict router: it becomes the R-URI, the R-URI goes last
    pipeline.receive(request("BYE", "sip:bob@10.1.1.1", extra="Route: <sip:10.2.2.2>\r\n"), source)
    pipeline.receive(request("BYE"), source)  # no Route at all
    assert results == [
        (1, "sip:bob@10.1.1.1", "sip:10.9.9.9;lr", "<sip:10.9.9.9;lr>"),
        (1, "sip:10.2.2.2", None, "<sip:bob@10.1.1.1>"),
        (-1, "sip:bob@127.0.0.2:5070", None, None),
    ]


def test_no_forward_to_ourselves_and_sanity_rejects() -> None:
    pipeline, sender = make_pipeline(RouteTable(main=forward_route))
    source = Source(UDP, "10.0.0.1", 5062)
    pipeline.receive(request(ruri="sip:x@127.0.0.1:5060"), source)
    assert not sender.sent
    broken = [
        request().replace(b"From: <sip:alice@a.example>;tag=f1\r\n", b""),
        request().replace(b"Max-Forwards: 70", b"Max-Forwards: 300"),
        request().replace(b"Content-Length: 0", b"Content-Length: 50"),
        request().replace(b"CSeq: 1 INVITE", b"CSeq: x INVITE"),
        request().replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1),
    ]
    for data in broken:
        pipeline.receive(data, source)
    assert pipeline.stats.malformed == len(broken) and not sender.sent
    assert len(sender.replies) == len(broken)
    assert all(data.startswith(b"SIP/2.0 400 ") for _, data in sender.replies)


def test_over_tcp_rport_is_always_filled_and_replies_use_the_connection() -> None:
    class FakeConnection:
        closed = False

    def reject(ctx: Ctx) -> int:
        return ctx.send_reply(403, "No")

    pipeline, sender = make_pipeline(RouteTable(main=reject))
    source = Source(TCP, "10.0.0.1", 40001, FakeConnection())  # type: ignore[arg-type]
    pipeline.receive(request(via="SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bK-t"), source)
    assert not sender.sent and len(sender.replies) == 1
    replied_on, data = sender.replies[0]
    assert replied_on is source
    via = parse_message(data).vias[0]
    assert (via.received, via.rport) == ("10.0.0.1", 40001)


async def test_a_suspended_route_can_exit_fail_or_yield_bare() -> None:
    async def exits_late(ctx: Ctx) -> int:
        await asyncio.sleep(0)  # a bare yield to the loop
        await asyncio.sleep(0.001)  # a real future
        ctx.forward()
        raise ScriptExit

    async def fails_late(ctx: Ctx) -> int:
        await asyncio.sleep(0)
        raise ValueError("late failure")

    pipeline, sender = make_pipeline(RouteTable(main=exits_late))
    pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
    pipeline.routes.main = fails_late
    # another request: the same one again would be a retransmission, absorbed by the
    # transaction made before the first run suspended
    other = request(via="SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-other")
    pipeline.receive(other, Source(UDP, "10.0.0.1", 5062))
    tasks = list(pipeline.in_flight)
    assert len(tasks) == 2
    await asyncio.gather(*tasks)  # neither task raises: both ends are handled
    requests = [sent for sent in sender.sent if not sent[3].startswith(b"SIP/2.0 ")]
    assert len(requests) == 1 and pipeline.stats.script_errors == 1


def test_a_reply_route_s_edits_go_upstream_with_the_reply() -> None:
    from stdlib import sipmsgops

    def onreply(ctx: Ctx) -> int:
        sipmsgops.remove_hf(ctx, "Server")
        sipmsgops.append_hf(ctx, "X-Seen: yes\r\n")
        return 1

    pipeline, sender = make_pipeline(RouteTable(main=forward_route, onreply=onreply))
    reply = (
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKxyz\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-abc\r\n"
        "From: <sip:alice@a.example>;tag=f1\r\n"
        "To: <sip:bob@b.example>;tag=t2\r\n"
        "Call-ID: c1@10.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Server: leaky/1.0\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    pipeline.receive(reply.encode(), Source(UDP, "127.0.0.2", 5070))
    (sent,) = sender.sent
    forwarded = parse_message(sent[3])
    assert forwarded.header("Server") is None and forwarded.header("X-Seen") == "yes"
    assert len(forwarded.vias) == 1
