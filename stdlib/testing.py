"""Running stdlib functions without a server: a script context over raw SIP bytes.

For tests (ours, and the compiler's golden tests): `context("INVITE sip:...\\n...")` parses
the text as the runtime parses a datagram and wraps it in a `Ctx` whose runtime services
(reply, forward, "is this address ours") are recorded instead of sent.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any

from runtime.api import Ctx, RouteKind
from runtime.core.script import RouteFn
from runtime.sip import parse_message
from runtime.transport.socketinfo import SocketInfo, parse_listen

OUR_IP = "192.0.2.10"
OUR_PORT = 5060
PEER_IP = "198.51.100.7"
PEER_PORT = 5062


class RecordingCore:
    """The runtime services a script calls, recorded instead of performed."""

    def __init__(self, local: tuple[tuple[str, int], ...] = ((OUR_IP, OUR_PORT),)) -> None:
        self.local = local
        self.replies: list[tuple[int, str]] = []
        self.reply_headers: list[list[str]] = []
        self.forwards: list[tuple[str | None, str | None, str | None, bytes]] = []
        self.sent: list[tuple[str, bytes]] = []  # send(): destination, bytes
        # launch()es, not run: the caller drives (or closes) a job that is a coroutine
        self.launched: list[tuple[Ctx, int | Coroutine[Any, Any, int], RouteFn | None]] = []

    def forward(self, ctx: Ctx, dest: str | None) -> int:
        self.forwards.append((dest, ctx.du, ctx.ruri, ctx.msg.to_bytes()))
        return 1

    def is_myself(self, host: str, port: int | None) -> bool:
        wanted = host.strip("[]").lower()
        return any(wanted == ip and (port or 5060) == p for ip, p in self.local)

    def find_listening(self, proto: str | None, host: str, port: int | None) -> SocketInfo | None:
        bare = host.strip("[]").lower()
        for ip, number in self.local:
            if ip == bare and port in (None, number):
                return parse_listen(f"{proto or 'udp'}:{host}:{number}")
        return None

    def send_raw(self, ctx: Ctx, dest: str, data: bytes) -> int:
        self.sent.append((dest, data))
        return 1

    def send_reply(self, ctx: Ctx, code: int, reason: str, headers: Sequence[str] = ()) -> int:
        self.replies.append((code, reason))
        self.reply_headers.append([*ctx.reply_headers, *headers])
        return 1

    def launch(self, ctx: Ctx, job: int | Coroutine[Any, Any, int], report: RouteFn | None) -> None:
        self.launched.append((ctx, job, report))


def wire(text: str) -> bytes:
    """Message text written with `\\n` line ends, header lines turned into CRLF."""
    head, _, body = text.lstrip("\n").partition("\n\n")
    return head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body.encode()


def context(
    text: str | bytes,
    kind: RouteKind = RouteKind.REQUEST,
    core: RecordingCore | None = None,
) -> tuple[Ctx, RecordingCore]:
    """A context over one message received on udp:OUR_IP:OUR_PORT from PEER_IP:PEER_PORT."""
    data = text if isinstance(text, bytes) else wire(text)
    services = core if core is not None else RecordingCore()
    socket = parse_listen(f"udp:{OUR_IP}:{OUR_PORT}")
    return Ctx(parse_message(data), socket, PEER_IP, PEER_PORT, services, kind), services
