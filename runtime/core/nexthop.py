"""Where a forwarded message goes: `$du`, the R-URI or an explicit `forward()` target."""

from __future__ import annotations

import functools
import ipaddress
import socket

from runtime.core.sipfields import parse_uri, split_hostport

_KNOWN_PROTOS = ("udp", "tcp", "tls", "sctp", "ws", "wss")


class NextHop:
    """Where to send: protocol, IP, port. A value; a plain class so that, compiled, building
    one per forwarded message is native code (a frozen dataclass's `__init__` is not)."""

    __slots__ = ("explicit_proto", "ip", "port", "proto")

    def __init__(self, proto: str, ip: str, port: int, explicit_proto: bool = True) -> None:
        self.proto = proto
        self.ip = ip
        self.port = port
        # False when the target named no transport: udp is then only the default
        self.explicit_proto = explicit_proto

    def _key(self) -> tuple[str, str, int, bool]:
        return (self.proto, self.ip, self.port, self.explicit_proto)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NextHop) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        proto, ip, port, explicit = self._key()
        return f"NextHop(proto={proto!r}, ip={ip!r}, port={port!r}, explicit_proto={explicit!r})"

    def with_proto(self, proto: str) -> NextHop:
        return NextHop(proto, self.ip, self.port, self.explicit_proto)


def parse_target(target: str) -> tuple[str | None, str, int | None] | None:
    """`sip:u@h:p;transport=tcp`, `tcp:h:p`, `h:p` or `h` -> (proto, host, port).

    proto is None when the target does not name one.
    """
    text = target.strip()
    if text.lower().startswith(("sip:", "sips:")):
        uri = parse_uri(text)
        if uri is None or not uri.host:
            return None
        proto = uri.transport or ("tls" if uri.scheme == "sips" else None)
        port = uri.port
        if port is None and proto == "tls":
            port = 5061
        return proto, uri.host, port
    proto = None
    head, sep, rest = text.partition(":")
    if sep and head.lower() in _KNOWN_PROTOS:
        proto, text = head.lower(), rest
    host, port = split_hostport(text)
    if not host:
        return None
    return proto, host, port


@functools.lru_cache(maxsize=1024)
def resolve_host(host: str) -> str | None:
    """An IP for `host` (IPv6 brackets removed); names through the resolver, cached.

    Names are resolved synchronously (the stateless path has nowhere to wait); scripts
    that route by name on a hot path should use IPs or `$du`.
    """
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bare, None, type=socket.SOCK_DGRAM)
    except (OSError, ValueError):  # ValueError: not a name IDNA can encode, or a NUL in it
        return None
    return str(infos[0][4][0]) if infos else None


@functools.lru_cache(maxsize=4096)
def next_hop(target: str) -> NextHop | None:
    """The address to send to for a target; cached, as calls reuse the same few targets."""
    parsed = parse_target(target)
    if parsed is None:
        return None
    proto, host, port = parsed
    ip = resolve_host(host)
    if ip is None:
        return None
    return NextHop(proto or "udp", ip, port if port is not None else 5060, proto is not None)
