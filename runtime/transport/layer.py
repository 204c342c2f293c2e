"""All listening sockets of one process and the choice of socket for each send."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import replace

from runtime.transport.receiver import Receiver
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from runtime.transport.stats import TransportStats
from runtime.transport.tcp import FramerFactory, TcpPool
from runtime.transport.udp import UdpListener

log = logging.getLogger("sipc.transport")


class BindError(OSError):
    """A socket that cannot be bound; the message is ready for the user."""

    def __init__(self, name: str, cause: OSError) -> None:
        reason = os.strerror(cause.errno) if cause.errno else str(cause)
        reason = reason[:1].lower() + reason[1:]
        super().__init__(cause.errno, f"cannot bind {name}: {reason}")
        self.name = name


def family_of(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def _bound_socket(info: SocketInfo, kind: int, rcvbuf: int | None = None) -> socket.socket:
    """Bind here rather than in the loop, so the error carries its errno on every loop.

    `rcvbuf`: the receive buffer to ask for (the kernel caps it at net.core.rmem_max)."""
    sock = socket.socket(info.af, kind)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((info.ip, info.port))
            sock.listen(1024)
        else:
            if rcvbuf is not None and rcvbuf > sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.bind((info.ip, info.port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise BindError(info.name, exc) from exc
    return sock


class Transports:
    """The bound sockets; sends a message by protocol and destination."""

    __slots__ = (
        "_servers",
        "_udp",
        "_udp_by_id",
        "_udp_default",
        "receiver",
        "sockets",
        "stats",
        "tcp",
        "udp_rcvbuf",
    )

    def __init__(
        self,
        receiver: Receiver,
        framer_factory: FramerFactory,
        stats: TransportStats | None = None,
        tcp_idle_timeout: float = 120.0,
        udp_rcvbuf: int | None = None,
    ) -> None:
        self.receiver = receiver
        self.udp_rcvbuf = udp_rcvbuf
        self.stats = stats if stats is not None else TransportStats()
        self.tcp = TcpPool(receiver, self.stats, framer_factory, tcp_idle_timeout)
        self.sockets: list[SocketInfo] = []
        self._udp: dict[SocketInfo, UdpListener] = {}
        # the same listeners by id() of the bound SocketInfo, which every send from that
        # socket passes: hashing a dataclass runs Python code, an int hash does not
        self._udp_by_id: dict[int, UdpListener] = {}
        # is_ipv6 -> the listener find_socket() picks when no socket is asked for
        self._udp_default: dict[bool, UdpListener] = {}
        self._servers: list[asyncio.Server] = []

    async def bind(self, wanted: Sequence[SocketInfo]) -> list[SocketInfo]:
        """Bind every socket (port 0 picks a free one); the SocketInfos as bound.

        Raises `BindError` for the first socket that cannot be bound, after closing the
        ones already bound.
        """
        loop = asyncio.get_running_loop()
        try:
            for info in wanted:
                if info.proto == "udp":
                    await self._bind_udp(loop, info)
                else:
                    await self._bind_tcp(loop, info)
        except BindError:
            self.close()
            raise
        if any(info.proto == "tcp" for info in self.sockets):
            self.tcp.start_sweeping()
        return list(self.sockets)

    async def _bind_udp(self, loop: asyncio.AbstractEventLoop, info: SocketInfo) -> None:
        listener = UdpListener(info, self.receiver, self.stats)
        sock = _bound_socket(info, socket.SOCK_DGRAM, self.udp_rcvbuf)
        log.debug("%s: receive buffer %d bytes", info.name,
                  sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))  # fmt: skip
        transport, _ = await loop.create_datagram_endpoint(lambda: listener, sock=sock)
        bound = replace(info, port=int(transport.get_extra_info("sockname")[1]))
        listener.info = bound
        self._udp[bound] = listener
        self._udp_by_id[id(bound)] = listener
        self._udp_default.setdefault(":" in bound.ip, listener)
        self.sockets.append(bound)

    async def _bind_tcp(self, loop: asyncio.AbstractEventLoop, info: SocketInfo) -> None:
        # the port is known only once bound (port 0): connections read it from the holder
        bound_holder = [info]
        sock = _bound_socket(info, socket.SOCK_STREAM)
        server = await loop.create_server(lambda: self.tcp.accept(bound_holder[0]), sock=sock)
        bound = replace(info, port=int(server.sockets[0].getsockname()[1]))
        bound_holder[0] = bound
        self._servers.append(server)
        self.sockets.append(bound)

    def find_socket(
        self, proto: str, af: int, preferred: SocketInfo | None = None
    ) -> SocketInfo | None:
        """The socket to send from: `preferred` if it fits, else the first that does."""
        if preferred is not None and preferred.proto == proto and preferred.af == af:
            return preferred
        for info in self.sockets:
            if info.proto == proto and info.af == af:
                return info
        return None

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        """Send to ip:port over `proto`, from `via` when it fits."""
        if proto == "udp":  # the usual case, decided without hashing a SocketInfo
            ipv6 = ":" in ip
            if via is None:
                listener = self._udp_default.get(ipv6)
            elif via.proto == "udp" and (":" in via.ip) == ipv6:
                listener = self._udp_by_id.get(id(via))
            else:
                listener = None
            if listener is not None:
                return listener.send(data, ip, port)
        info = self.find_socket(proto, family_of(ip), via)
        if info is None:
            self.stats.send_errors += 1
            log.warning("no %s socket to send to %s:%d", proto, ip, port)
            return False
        if proto == "udp":
            return self._udp[info].send(data, ip, port)
        return self.tcp.send(info, ip, port, data)

    def reply(self, source: Source, data: bytes) -> bool:
        """Send back to where `source` came from: on its connection while it is open."""
        connection = source.connection
        if connection is not None and not connection.closed:
            return connection.send(data)
        return self.send(source.socket.proto, source.ip, source.port, data, source.socket)

    def close_listeners(self) -> None:
        """Stop accepting: no new TCP connections, no more datagrams."""
        for server in self._servers:
            server.close()
        self._servers.clear()
        for listener in self._udp.values():
            listener.close()

    def close(self) -> None:
        """Stop accepting and close every socket and connection."""
        self.close_listeners()
        self.tcp.close_all()
