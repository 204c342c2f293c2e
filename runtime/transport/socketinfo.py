"""Listening sockets as the script sees them, and the `socket=`/`listen=` syntax."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

DEFAULT_SIP_PORT = 5060
SUPPORTED_PROTOS = ("udp", "tcp")
KNOWN_PROTOS = (*SUPPORTED_PROTOS, "tls", "ws", "wss", "sctp")


class ListenSpecError(ValueError):
    """A `socket=`/`listen=` value that cannot be understood."""


@dataclass(frozen=True, slots=True)
class SocketInfo:
    """One listening socket: protocol, address, port and address family.

    `name` is the form OpenSIPS prints (`udp:127.0.0.1:5060`, `tcp:[::1]:5060`).
    """

    proto: str
    ip: str
    port: int
    af: int

    @property
    def name(self) -> str:
        return f"{self.proto}:{self.host_text}:{self.port}"

    @property
    def host_text(self) -> str:
        """The address as it goes into a URI or a Via: IPv6 in brackets."""
        return f"[{self.ip}]" if self.af == socket.AF_INET6 else self.ip

    @property
    def hostport(self) -> str:
        return f"{self.host_text}:{self.port}"

    def __str__(self) -> str:
        return self.name


def parse_listen(spec: str) -> SocketInfo:
    """Parse `udp:IP:PORT`, `tcp:IP:PORT`, `udp:[::1]:5060`, `udp:*:5060`, `IP`, `IP:PORT`.

    A missing protocol means udp, a missing port 5060, `*` the IPv4 wildcard address.
    """
    named, host, port_text = split_socket(spec)
    proto = named or "udp"
    if proto not in SUPPORTED_PROTOS:
        raise ListenSpecError(f"unsupported protocol `{proto}` in `{spec}`")
    if host == "*":
        host = "0.0.0.0"
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise ListenSpecError(f"`{host}` is not an IP address in `{spec}`") from exc
    port = DEFAULT_SIP_PORT
    if port_text is not None:
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise ListenSpecError(f"bad port `{port_text}` in `{spec}`")
        port = int(port_text)
    af = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return SocketInfo(proto=proto, ip=str(address), port=port, af=af)


def split_socket(spec: str) -> tuple[str | None, str, str | None]:
    """`[proto:]host[:port]` -> (the protocol or None, the host without brackets, the
    port as written or None), with no defaults filled in; ListenSpecError when empty or
    an IPv6 bracket is not closed."""
    text = spec.strip()
    if not text:
        raise ListenSpecError("empty socket definition")
    proto = None
    head, sep, rest = text.partition(":")
    if sep and head.lower() in KNOWN_PROTOS:
        proto, text = head.lower(), rest
    host, port_text = _split_host_port(text, spec)
    return proto, host, port_text


def _split_host_port(text: str, spec: str) -> tuple[str, str | None]:
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ListenSpecError(f"unclosed `[` in `{spec}`")
        host = text[1:close]
        tail = text[close + 1 :]
        if not tail:
            return host, None
        if not tail.startswith(":"):
            raise ListenSpecError(f"unexpected `{tail}` after the address in `{spec}`")
        return host, tail[1:]
    if text.count(":") > 1:
        return text, None  # a bare IPv6 address without a port
    host, sep, port = text.partition(":")
    return host, (port if sep else None)
