"""Server start-up and stop: bind failures, startup and timer routes, stats on exit."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from runtime.api import Ctx, RouteKind, RouteTable, TimerRoute
from runtime.core.script import ScriptConfig
from runtime.core.stateful import DEFAULT_TM_SETTINGS
from runtime.server import EXIT_STARTUP_FAILURE, Server, ServerOptions, script_options, serve
from runtime.transport.socketinfo import parse_listen


def test_a_socket_in_use_is_exit_code_3_with_a_clear_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        code = serve(RouteTable(), [f"udp:127.0.0.1:{port}"])
    assert code == EXIT_STARTUP_FAILURE == 3
    assert (
        f"sipc: cannot bind udp:127.0.0.1:{port}: address already in use" in capsys.readouterr().err
    )


def test_a_bad_socket_definition_is_exit_code_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(RouteTable(), ["udp:not-an-ip:5060"]) == 3
    assert "sipc: `not-an-ip` is not an IP address" in capsys.readouterr().err


def options(server_port: int, peer_port: int, call_id: str) -> bytes:
    """An OPTIONS to the server from a peer on 127.0.0.1:peer_port."""
    return (
        f"OPTIONS sip:127.0.0.1:{server_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{peer_port};branch=z9hG4bK-{call_id}\r\n"
        "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:s@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_startup_timer_and_request_routes_then_stop(tmp_path: Path) -> None:
    events: list[str] = []
    ticked = asyncio.Event()

    def startup(ctx: Ctx) -> int:
        events.append(f"startup {ctx.kind.name}")
        return 1

    def every_tick(ctx: Ctx) -> int:
        events.append(f"timer {ctx.kind.name}")
        ticked.set()
        return 1

    def main(ctx: Ctx) -> int:
        assert ctx.kind is RouteKind.REQUEST
        return ctx.send_reply(200, "Fine")

    routes = RouteTable(main=main, startup=startup, timers=[TimerRoute("tick", 0.01, every_tick)])
    stats_file = tmp_path / "stats.json"
    server = Server(routes, ServerOptions(stats_file=str(stats_file)))
    [info] = await server.start([parse_listen("udp:127.0.0.1:0")])
    assert events == ["startup STARTUP"]
    async with asyncio.timeout(5):
        await ticked.wait()
    assert "timer TIMER" in events

    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    port = peer.getsockname()[1]
    try:
        peer.sendto(options(info.port, port, "srv-1"), ("127.0.0.1", info.port))
        answer = await asyncio.to_thread(peer.recv, 4096)
    finally:
        peer.close()
    assert answer.startswith(b"SIP/2.0 200 Fine\r\n")

    await server.stop()
    ticks = events.count("timer TIMER")
    await asyncio.sleep(0.05)
    assert events.count("timer TIMER") == ticks  # no tick after stop
    stats = json.loads(stats_file.read_text())
    assert stats["requests"] == 1 and stats["sent"] == 1 and stats["malformed"] == 0


def test_the_script_sets_the_udp_receive_buffer_with_maxbuffer() -> None:
    def config(*globals: tuple[str, str]) -> ScriptConfig:
        return ScriptConfig(source="proxy.cfg", sha256="", globals=globals)

    assert script_options(None).udp_rcvbuf == ServerOptions().udp_rcvbuf == 4 << 20
    assert script_options(config(("maxbuffer", "262144"))).udp_rcvbuf == 262144
    assert script_options(config(("log_level", "3"))).udp_rcvbuf == 4 << 20


async def test_the_transaction_tick_sleeps_while_no_timer_is_armed() -> None:
    """An idle proxy does not wake up 50 times a second: the tm tick stops once the wheel
    is empty, a new transaction starts it again, and its timers still fire."""
    from stdlib import tm

    def main(ctx: Ctx) -> int:
        return tm.t_reply(ctx, 404, "Not Here")  # a server transaction: Timer J armed

    server = Server(RouteTable(main=main))
    [info] = await server.start([parse_listen("udp:127.0.0.1:0")])
    stateful = server.pipeline.stateful
    stateful.configure(replace(DEFAULT_TM_SETTINGS, wt_timer=0.1))  # Timer J: 0.1 s
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    try:
        async with asyncio.timeout(5):
            while not stateful.asleep:  # the first tick found nothing to do
                await asyncio.sleep(0.01)
        assert "tm" not in server._timers
        peer.sendto(options(info.port, peer.getsockname()[1], "idle-1"), ("127.0.0.1", info.port))
        answer = await asyncio.to_thread(peer.recv, 4096)
        assert answer.startswith(b"SIP/2.0 404 Not Here\r\n")
        assert not stateful.asleep and "tm" in server._timers and len(stateful.wheel) > 0
        async with asyncio.timeout(5):  # Timer J fires, the transaction ends, the tick sleeps
            while not stateful.asleep:
                await asyncio.sleep(0.02)
        assert len(stateful.wheel) == 0 and len(stateful.table) == 0
    finally:
        peer.close()
        await server.stop()
