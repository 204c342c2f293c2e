"""Core functions on how a request leaves (OpenSIPS `core_cmds.c`): the socket it leaves
from, what our Via and Record-Route advertise, `rport` in our Via, and `send()`.

They change this run only (OpenSIPS keeps them on the message): `forward()`, `t_relay()`
and `record_route()` read them from the context.
"""

from __future__ import annotations

import logging

from runtime.api import Ctx, RouteKind
from runtime.core.ctx import Outbound
from runtime.transport.socketinfo import ListenSpecError, split_socket
from stdlib._registry import export

ALL = RouteKind.ALL
log = logging.getLogger("sipc.script")


def _outbound(ctx: Ctx) -> Outbound:
    outbound = ctx.outbound
    if outbound is None:
        outbound = ctx.outbound = Outbound()
    return outbound


@export(routes=ALL, module="core")
def add_local_rport(ctx: Ctx) -> int:
    """Ask for `rport` (RFC 3581) in the Via this proxy adds to the request."""
    _outbound(ctx).local_rport = True
    return 1


@export(routes=ALL, module="core")
def set_advertised_address(ctx: Ctx, adv_addr: str) -> int:
    """The host our Via and Record-Route show for this message (a public address)."""
    address = adv_addr.strip()
    if not address:
        return -1
    _outbound(ctx).address = address
    return 1


@export(routes=ALL, module="core")
def set_advertised_port(ctx: Ctx, adv_port: str) -> int:
    """The port our Via and Record-Route show for this message."""
    text = adv_port.strip()
    if not text.isdigit() or not 0 < int(text) <= 65535:
        log.error("set_advertised_port(): %r is not a port", adv_port)
        return -1
    _outbound(ctx).port = int(text)
    return 1


def parse_socket(text: str) -> tuple[str | None, str, int | None] | None:
    """`proto:host[:port]` (proto and port optional) -> (proto, host, port); None if bad."""
    try:
        proto, host, port_text = split_socket(text)
    except ListenSpecError:
        return None
    if not host:
        return None
    if port_text is None:
        return proto, host, None
    if not port_text.isdigit() or int(port_text) > 65535:
        return None
    return proto, host, int(port_text)


@export(routes=ALL, module="core")
def force_send_socket(ctx: Ctx, socket: str) -> int:
    """Send the request out of one of our listening sockets, `proto:ip[:port]`; a socket
    that is not ours is an error (-1; OpenSIPS refuses it at start-up)."""
    parsed = parse_socket(socket)
    found = ctx.core.find_listening(*parsed) if parsed is not None else None
    if found is None:
        log.error("force_send_socket(): %r is not one of our sockets", socket)
        return -1
    ctx.out_socket = found
    return 1


@export(routes=ALL, module="core")
def send(ctx: Ctx, destination: str, headers: str | None = None) -> int:
    """Send the message as it was received (no Via of ours, no edit of the script) to
    `[proto:]host[:port]`; `headers` (whole lines) go in right after the first line."""
    raw = ctx.msg.raw
    if headers:
        extra = headers if headers.endswith("\n") else headers + "\r\n"
        end = raw.find(b"\n") + 1
        raw = raw[:end] + extra.encode("utf-8", "surrogateescape") + raw[end:]
    return ctx.core.send_raw(ctx, destination, raw)
