"""TCP: accepted and outgoing connections, framed into messages, reused per peer.

Every connection, accepted or opened by us, is kept in one pool keyed by the peer's
address, so a reply goes back on the connection its request came in on and a second
request to the same peer reuses the first connection. Idle connections are closed by a
periodic sweep of the whole pool (one timer for all, none per message): a connection
that saw no traffic during `idle_sweeps` consecutive sweeps is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Protocol, cast

from runtime.sip.framing import KeepAlive
from runtime.transport.receiver import Receiver
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from runtime.transport.stats import TransportStats

log = logging.getLogger("sipc.transport.tcp")


class Framer(Protocol):
    """Cuts a byte stream into whole SIP messages and keep-alives; `ValueError` on garbage.

    `runtime.sip.StreamFramer` is the one the server uses.
    """

    def feed(self, data: bytes) -> Iterable[bytes | KeepAlive]: ...


FramerFactory = Callable[[], Framer]
PeerKey = tuple[str, int]


class TcpConnection(asyncio.Protocol):
    """One TCP connection; messages cut by its framer are handed to the receiver."""

    __slots__ = (
        "active",
        "closed",
        "framer",
        "idle_sweeps",
        "info",
        "key",
        "pending",
        "pool",
        "transport",
    )

    def __init__(self, pool: TcpPool, info: SocketInfo, key: PeerKey | None) -> None:
        self.pool = pool
        self.info = info
        self.key = key
        self.framer = pool.framer_factory()
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []  # written before an outgoing connect completes
        self.active = True
        self.idle_sweeps = 0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's: cast, do not check
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        if self.key is None:  # accepted: learn the peer
            peer = transport.get_extra_info("peername")
            self.key = (str(peer[0]), int(peer[1]))
            self.pool.stats.tcp_accepted += 1
            self.pool.add(self)
        else:
            self.pool.stats.tcp_connected += 1
        if self.pending:
            transport.writelines(self.pending)
            self.pool.stats.sent += len(self.pending)
            self.pending.clear()

    def data_received(self, data: bytes) -> None:
        self.active = True
        stats = self.pool.stats
        try:
            messages = list(self.framer.feed(data))
        except ValueError as exc:
            stats.malformed += 1
            log.info("closing %s: unframeable stream from %s: %s", self.info.name, self.key, exc)
            self.close()
            return
        key = self.key
        assert key is not None
        receiver = self.pool.receiver
        for message in messages:
            if isinstance(message, KeepAlive):
                if message.ping and self.transport is not None:
                    self.transport.write(b"\r\n")  # RFC 5626 pong
                continue
            stats.received += 1
            try:
                receiver.receive(message, Source(self.info, key[0], key[1], self))
            except Exception:
                stats.callback_errors += 1
                log.exception("error handling a message from %s on %s", key, self.info.name)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.remove(self)

    def pause_writing(self) -> None:
        # the peer does not read what we write: stop reading what it sends until it does
        self.pool.stats.write_pauses += 1
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def send(self, data: bytes) -> bool:
        if self.closed:
            self.pool.stats.send_errors += 1
            return False
        self.active = True
        transport = self.transport
        if transport is None:
            self.pending.append(data)
            return True
        transport.write(data)
        self.pool.stats.sent += 1
        return True

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self.pool.remove(self)


class TcpPool:
    """Every open TCP connection by peer address, and the idle sweep."""

    __slots__ = (
        "_connect_tasks",
        "_sweep_handle",
        "connections",
        "framer_factory",
        "idle_sweeps",
        "receiver",
        "stats",
        "sweep_interval",
    )

    def __init__(
        self,
        receiver: Receiver,
        stats: TransportStats,
        framer_factory: FramerFactory,
        idle_timeout: float = 120.0,
    ) -> None:
        self.receiver = receiver
        self.stats = stats
        self.framer_factory = framer_factory
        self.connections: dict[PeerKey, TcpConnection] = {}
        self.sweep_interval = max(0.05, idle_timeout / 4)
        self.idle_sweeps = 4
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._connect_tasks: set[asyncio.Task[None]] = set()

    def add(self, connection: TcpConnection) -> None:
        if connection.key is not None:
            self.connections[connection.key] = connection

    def remove(self, connection: TcpConnection) -> None:
        if connection.key is not None and self.connections.get(connection.key) is connection:
            del self.connections[connection.key]

    def accept(self, info: SocketInfo) -> TcpConnection:
        """A protocol for a connection accepted on listener `info`."""
        return TcpConnection(self, info, None)

    def send(self, info: SocketInfo, ip: str, port: int, data: bytes) -> bool:
        """Send on the open connection to ip:port, opening one (from `info`) if needed."""
        connection = self.connections.get((ip, port))
        if connection is None or connection.closed:
            connection = TcpConnection(self, info, (ip, port))
            self.connections[(ip, port)] = connection
            task = asyncio.get_running_loop().create_task(
                self._connect(connection), name=f"tcp-connect {ip}:{port}"
            )
            self._connect_tasks.add(task)
            task.add_done_callback(self._connect_tasks.discard)
        return connection.send(data)

    async def _connect(self, connection: TcpConnection) -> None:
        key = connection.key
        assert key is not None
        loop = asyncio.get_running_loop()
        local = None if connection.info.ip in ("0.0.0.0", "::") else (connection.info.ip, 0)
        try:
            async with asyncio.timeout(10):
                await loop.create_connection(lambda: connection, key[0], key[1], local_addr=local)
        except (OSError, TimeoutError) as exc:
            self.stats.send_errors += len(connection.pending) or 1
            connection.pending.clear()
            connection.closed = True
            self.remove(connection)
            log.warning("cannot connect to tcp:%s:%d: %s", key[0], key[1], exc)

    def start_sweeping(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweep_handle = loop.call_later(self.sweep_interval, self._sweep)

    def _sweep(self) -> None:
        for connection in list(self.connections.values()):
            if connection.active:
                connection.active = False
                connection.idle_sweeps = 0
                continue
            connection.idle_sweeps += 1
            if connection.idle_sweeps >= self.idle_sweeps and connection.transport is not None:
                self.stats.tcp_closed_idle += 1
                connection.close()
        self._sweep_handle = asyncio.get_running_loop().call_later(
            self.sweep_interval, self._sweep
        )

    def close_all(self) -> None:
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
        for task in list(self._connect_tasks):
            task.cancel()
        for connection in list(self.connections.values()):
            connection.close()
