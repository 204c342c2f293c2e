"""UDP and TCP transports on 127.0.0.1 with a recording receiver."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from runtime.transport.layer import BindError, Transports
from runtime.transport.socketinfo import parse_listen
from runtime.transport.source import Source


class BlankLineFramer:
    """Test framer: a message ends at an empty line (no bodies)."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> Iterable[bytes]:
        self.buffer += data
        if b"GARBAGE" in self.buffer:
            raise ValueError("garbage on the stream")
        out = []
        while b"\r\n\r\n" in self.buffer:
            message, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            out.append(message + b"\r\n\r\n")
        return out


class Recorder:
    def __init__(self, fail_on: bytes | None = None) -> None:
        self.got: list[tuple[bytes, Source]] = []
        self.arrived = asyncio.Event()
        self.fail_on = fail_on

    def receive(self, data: bytes, source: Source) -> None:
        if self.fail_on is not None and self.fail_on in data:
            raise RuntimeError("receiver bug")
        self.got.append((data, source))
        self.arrived.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def test_udp_receive_and_send_back() -> None:
    recorder = Recorder(fail_on=b"BOOM")
    layer = Transports(recorder, BlankLineFramer)
    [info] = await layer.bind([parse_listen("udp:127.0.0.1:0")])
    assert info.port != 0
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    try:
        peer.sendto(b"BOOM\r\n\r\n", ("127.0.0.1", info.port))  # the receiver raises
        peer.sendto(b"OPTIONS x\r\n\r\n", ("127.0.0.1", info.port))
        await recorder.wait_for(1)
        data, source = recorder.got[0]
        assert data == b"OPTIONS x\r\n\r\n"
        assert (source.ip, source.port) == peer.getsockname()
        assert source.socket == info and source.connection is None
        assert layer.stats.callback_errors == 1
        assert layer.reply(source, b"SIP/2.0 200 OK\r\n\r\n")
        answer, sender = await asyncio.to_thread(peer.recvfrom, 4096)
        assert answer == b"SIP/2.0 200 OK\r\n\r\n"
        assert sender == ("127.0.0.1", info.port)  # sent from the listening socket
    finally:
        peer.close()
        layer.close()


async def test_tcp_connection_reused_both_ways() -> None:
    server_side = Recorder()
    client_side = Recorder()
    server = Transports(server_side, BlankLineFramer)
    client = Transports(client_side, BlankLineFramer)
    [listen] = await server.bind([parse_listen("tcp:127.0.0.1:0")])
    await client.bind([parse_listen("tcp:127.0.0.1:0")])
    try:
        for number in range(3):
            assert client.send("tcp", "127.0.0.1", listen.port, b"REQ %d\r\n\r\n" % number)
        await server_side.wait_for(3)
        assert [data for data, _ in server_side.got] == [b"REQ %d\r\n\r\n" % n for n in range(3)]
        assert len(client.tcp.connections) == 1 and len(server.tcp.connections) == 1
        source = server_side.got[0][1]
        assert source.connection is not None
        assert server.reply(source, b"SIP/2.0 200 OK\r\n\r\n")
        await client_side.wait_for(1)
        # the answer came back on the client's own outgoing connection
        assert client_side.got[0][1].connection is client.tcp.connections[("127.0.0.1", listen.port)]
        assert server.stats.tcp_accepted == 1 and client.stats.tcp_connected == 1
    finally:
        client.close()
        server.close()


async def test_tcp_garbage_closes_the_connection_and_counts() -> None:
    recorder = Recorder()
    server = Transports(recorder, BlankLineFramer)
    [listen] = await server.bind([parse_listen("tcp:127.0.0.1:0")])
    reader, writer = await asyncio.open_connection("127.0.0.1", listen.port)
    try:
        writer.write(b"GARBAGE")
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed by the server
        assert server.stats.malformed == 1
        assert not server.tcp.connections
    finally:
        writer.close()
        server.close()


async def test_tcp_idle_connections_are_closed() -> None:
    recorder = Recorder()
    server = Transports(recorder, BlankLineFramer, tcp_idle_timeout=0.2)
    [listen] = await server.bind([parse_listen("tcp:127.0.0.1:0")])
    reader, writer = await asyncio.open_connection("127.0.0.1", listen.port)
    try:
        writer.write(b"REQ\r\n\r\n")
        await recorder.wait_for(1)
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        assert server.stats.tcp_closed_idle == 1
    finally:
        writer.close()
        server.close()


async def test_bind_conflict_names_the_socket() -> None:
    first = Transports(Recorder(), BlankLineFramer)
    [info] = await first.bind([parse_listen("udp:127.0.0.1:0")])
    second = Transports(Recorder(), BlankLineFramer)
    try:
        with pytest.raises(BindError) as caught:
            await second.bind([info])
        assert str(caught.value).endswith(f"cannot bind {info.name}: address already in use")
    finally:
        first.close()
        second.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's rmem_max")
async def test_udp_listeners_ask_for_the_receive_buffer_they_are_given() -> None:
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        default = plain.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    wanted = 1 << 20
    layer = Transports(Recorder(), BlankLineFramer, udp_rcvbuf=wanted)
    await layer.bind([parse_listen("udp:127.0.0.1:0")])
    try:
        [listener] = layer._udp.values()
        assert listener.transport is not None
        sock = listener.transport.get_extra_info("socket")
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    finally:
        layer.close()
    # Linux doubles what it is asked for (its bookkeeping), capped at rmem_max
    assert got == max(default, 2 * min(wanted, rmem_max))
