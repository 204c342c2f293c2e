"""The ``ip.*`` transformations. Binary addresses travel as byte-carrying text (values.py)."""

from __future__ import annotations

import ipaddress
import socket
import threading

from runtime.core.transforms.values import as_text, from_bytes, to_bytes

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What OpenSIPS's ip_addr_is_1918 calls private: RFC 1918, RFC 6598 shared space, loopback.
_PRIVATE_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8")
)
RESOLVE_TIMEOUT_S = 2.0


def _ipv4(text: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        return None


def _ipv6(text: str) -> ipaddress.IPv6Address | None:
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _ip(text: str) -> IpAddress | None:
    return _ipv4(text) or _ipv6(text)


def ip_pton(value: int | str) -> str | None:
    address = _ip(as_text(value))
    return None if address is None else from_bytes(address.packed)


def ip_ntop(value: int | str) -> str | None:
    packed = to_bytes(as_text(value))
    if len(packed) == 4:
        return str(ipaddress.IPv4Address(packed))
    if len(packed) == 16:
        return ipaddress.IPv6Address(packed).compressed
    return None


def ip_isip(value: int | str) -> int:
    return int(_ip(as_text(value)) is not None)


def ip_isip4(value: int | str) -> int:
    return int(_ipv4(as_text(value)) is not None)


def ip_isip6(value: int | str) -> int:
    return int(_ipv6(as_text(value)) is not None)


def ip_isprivate(value: int | str) -> int:
    """1 for a private IPv4 address; IPv6 addresses are never private here, as in OpenSIPS."""
    address = _ipv4(as_text(value))
    return int(address is not None and any(address in net for net in _PRIVATE_V4))


def ip_family(value: int | str) -> str | None:
    size = len(to_bytes(as_text(value)))
    return {4: "INET", 16: "INET6"}.get(size)


def ip_matches(value: int | str, network: str) -> int | None:
    """1 if the address lies in ``ip/len``, 0 if not, NULL when either side is malformed."""
    address = _ip(as_text(value))
    net_ip, slash, bits = network.partition("/")
    net_address = _ip(net_ip.strip())
    if address is None or net_address is None or not slash or not bits.strip().isdigit():
        return None
    if address.version != net_address.version or int(bits) > net_address.max_prefixlen:
        return None
    net = ipaddress.ip_network(f"{net_address}/{int(bits)}", strict=False)
    return int(address in net)


def _lookup(host: str) -> str | None:
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, ValueError):  # ValueError: not IDNA-encodable, or a NUL in it
        return None
    # IPv4 first, as gethostbyname() answers in OpenSIPS.
    for family in (socket.AF_INET, socket.AF_INET6):
        for answer_family, _, _, _, sockaddr in answers:
            if answer_family == family:
                return str(sockaddr[0])
    return None


def ip_resolve(value: int | str, timeout: float = RESOLVE_TIMEOUT_S) -> str | None:
    """The first address of a host name; NULL when it does not resolve within ``timeout``.

    The system resolver has no timeout of its own, so the lookup runs on a daemon thread
    that is left behind when time is up: the caller blocks for at most ``timeout`` seconds,
    and a hung lookup cannot hold up the process's exit."""
    host = as_text(value).strip()
    literal = _ip(host)
    if literal is not None:
        return str(literal)
    if not host:
        return None
    answer: list[str | None] = []
    finished = threading.Event()

    def look_up() -> None:
        answer.append(_lookup(host))
        finished.set()

    threading.Thread(target=look_up, name=f"ip.resolve {host}", daemon=True).start()
    return answer[0] if finished.wait(timeout) else None
