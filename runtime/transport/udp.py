"""UDP listener: one `DatagramProtocol` per `udp:` socket; a datagram is one message."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from runtime.transport.receiver import Receiver
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from runtime.transport.stats import TransportStats

log = logging.getLogger("sipc.transport.udp")


class UdpListener(asyncio.DatagramProtocol):
    """Hands every datagram up; nothing raised upstairs escapes this callback."""

    __slots__ = ("info", "paused", "receiver", "stats", "transport")

    def __init__(self, info: SocketInfo, receiver: Receiver, stats: TransportStats) -> None:
        self.info = info
        self.receiver = receiver
        self.stats = stats
        self.transport: asyncio.DatagramTransport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's: cast, do not check
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.stats.received += 1
        try:
            self.receiver.receive(data, Source(self.info, addr[0], addr[1]))
        except Exception:
            self.stats.callback_errors += 1
            log.exception("error handling a datagram from %s on %s", addr, self.info.name)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the peer is gone, SIP retransmission copes
        self.stats.send_errors += 1
        log.debug("udp error on %s: %s", self.info.name, exc)

    def pause_writing(self) -> None:
        self.paused = True
        self.stats.write_pauses += 1

    def resume_writing(self) -> None:
        self.paused = False

    def send(self, data: bytes, ip: str, port: int) -> bool:
        transport = self.transport
        if transport is None or transport.is_closing():
            self.stats.send_errors += 1
            return False
        try:
            transport.sendto(data, (ip, port))
        except OSError as exc:
            self.stats.send_errors += 1
            log.warning("cannot send to %s:%d from %s: %s", ip, port, self.info.name, exc)
            return False
        self.stats.sent += 1
        return True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
