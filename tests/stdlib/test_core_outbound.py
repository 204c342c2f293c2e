"""Core functions on how a request leaves: sockets, advertised address, rport, send()."""

from __future__ import annotations

import socket

from runtime.api import Ctx, RouteTable
from runtime.core.script import ScriptExit
from runtime.sip import Request, parse_message
from runtime.transport.socketinfo import SocketInfo
from stdlib import outbound, rr, tm
from stdlib.testing import context
from tests.runtime.core.test_stateful import Harness, invite

OTHER = SocketInfo("udp", "127.0.0.9", 5080, socket.AF_INET)


def run(main: object, *sockets: SocketInfo) -> Harness:
    h = Harness(RouteTable(main=main))  # type: ignore[arg-type]
    h.sender.sockets.extend(sockets)
    h.from_caller(invite())
    return h


def first_request(h: Harness) -> tuple[tuple[str, int], Request]:
    for dest, msg in h.take():
        if isinstance(msg, Request):
            return dest, msg
    raise AssertionError("nothing was sent")


def test_forward_with_advertised_address_port_and_local_rport() -> None:
    def main(ctx: Ctx) -> int:
        assert outbound.set_advertised_address(ctx, "203.0.113.5") == 1
        assert outbound.set_advertised_port(ctx, "5099") == 1
        assert outbound.add_local_rport(ctx) == 1
        rr.record_route(ctx)
        ctx.forward()
        raise ScriptExit

    _, sent = first_request(run(main))
    via = sent.headers_named("Via")[0]
    assert via.startswith("SIP/2.0/UDP 203.0.113.5:5099;branch=z9hG4bK") and via.endswith(";rport")
    assert (sent.header("Record-Route") or "").startswith("<sip:203.0.113.5:5099;lr")


def test_without_them_our_via_is_the_socket_and_has_no_rport() -> None:
    def main(ctx: Ctx) -> int:
        ctx.forward()
        raise ScriptExit

    _, sent = first_request(run(main))
    via = sent.headers_named("Via")[0]
    assert via.startswith("SIP/2.0/UDP 127.0.0.1:5060;branch=") and "rport" not in via


def test_set_advertised_port_refuses_what_is_not_a_port() -> None:
    ctx = context(invite())[0]
    assert outbound.set_advertised_port(ctx, "50x") == -1
    assert outbound.set_advertised_port(ctx, "70000") == -1
    assert outbound.set_advertised_address(ctx, "") == -1
    assert ctx.outbound is None


def test_force_send_socket_picks_one_of_ours_for_forward_and_t_relay() -> None:
    results: list[int] = []

    def main(ctx: Ctx) -> int:
        results.append(outbound.force_send_socket(ctx, "udp:10.9.9.9:5060"))  # not ours
        results.append(outbound.force_send_socket(ctx, "udp:127.0.0.9:5080"))
        return tm.t_relay(ctx)

    h = run(main, OTHER)
    assert results == [-1, 1]
    sent = [(dest, data) for *dest, data in h.sender.sent]
    invites = [d for d in sent if parse_message(d[1]).is_request]
    assert invites
    via = parse_message(invites[0][1]).headers_named("Via")[0]
    assert via.startswith("SIP/2.0/UDP 127.0.0.9:5080;")


def test_parse_socket_forms() -> None:
    assert outbound.parse_socket("udp:127.0.0.1:5060") == ("udp", "127.0.0.1", 5060)
    assert outbound.parse_socket("tcp:[::1]") == ("tcp", "::1", None)
    assert outbound.parse_socket("127.0.0.1") == (None, "127.0.0.1", None)
    assert outbound.parse_socket("udp:") is None


def test_send_puts_the_received_bytes_on_the_wire_with_extra_headers() -> None:
    def main(ctx: Ctx) -> int:
        ctx.msg.add_header("X-Edited", "yes")  # an edit: send() ignores it
        outbound.send(ctx, "udp:127.0.0.2:5070", "X-Extra: 1\r\n")
        raise ScriptExit

    h = run(main)
    dest, sent = first_request(h)
    assert dest == ("127.0.0.2", 5070)
    assert sent.header("X-Extra") == "1" and sent.header("X-Edited") is None
    assert len(sent.headers_named("Via")) == 1  # no Via of ours
    assert sent.header("Max-Forwards") == "70"  # not lowered either


def test_send_refuses_ourselves_and_unknown_hosts() -> None:
    results: list[int] = []

    def main(ctx: Ctx) -> int:
        results.append(outbound.send(ctx, "udp:127.0.0.1:5060"))
        raise ScriptExit

    h = run(main)
    assert results == [-1] and not h.take()
