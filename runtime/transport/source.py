"""Where a message came from, and so how to answer it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.transport.socketinfo import SocketInfo

if TYPE_CHECKING:
    from runtime.transport.tcp import TcpConnection


class Source:
    """The receiving socket, the peer address, and the TCP connection if there is one.

    A reply to a request goes back on `connection` when it is still open (RFC 3261 §18.2.2).
    """

    __slots__ = ("connection", "ip", "port", "socket")

    def __init__(
        self, socket: SocketInfo, ip: str, port: int, connection: TcpConnection | None = None
    ) -> None:
        self.socket = socket
        self.ip = ip
        self.port = port
        self.connection = connection

    def __repr__(self) -> str:
        return f"Source({self.socket.name} from {self.ip}:{self.port})"
