import socket

import pytest

from runtime.transport.socketinfo import ListenSpecError, SocketInfo, parse_listen


@pytest.mark.parametrize(
    ("spec", "proto", "ip", "port", "name"),
    [
        ("udp:127.0.0.1:5070", "udp", "127.0.0.1", 5070, "udp:127.0.0.1:5070"),
        ("tcp:127.0.0.1:5071", "tcp", "127.0.0.1", 5071, "tcp:127.0.0.1:5071"),
        ("TCP:10.0.0.1", "tcp", "10.0.0.1", 5060, "tcp:10.0.0.1:5060"),
        ("udp:[::1]:5060", "udp", "::1", 5060, "udp:[::1]:5060"),
        ("udp:*:5062", "udp", "0.0.0.0", 5062, "udp:0.0.0.0:5062"),
        ("127.0.0.2", "udp", "127.0.0.2", 5060, "udp:127.0.0.2:5060"),
        ("127.0.0.2:5080", "udp", "127.0.0.2", 5080, "udp:127.0.0.2:5080"),
        ("[::1]", "udp", "::1", 5060, "udp:[::1]:5060"),
        ("::1", "udp", "::1", 5060, "udp:[::1]:5060"),
    ],
)
def test_parse_listen(spec: str, proto: str, ip: str, port: int, name: str) -> None:
    info = parse_listen(spec)
    assert (info.proto, info.ip, info.port, info.name) == (proto, ip, port, name)
    assert info.af == (socket.AF_INET6 if ":" in ip else socket.AF_INET)


@pytest.mark.parametrize(
    "spec", ["", "udp:host.example:5060", "tls:127.0.0.1:5061", "udp:127.0.0.1:99999", "udp:[::1"]
)
def test_parse_listen_rejects(spec: str) -> None:
    with pytest.raises(ListenSpecError):
        parse_listen(spec)


def test_socketinfo_is_frozen_and_hashable() -> None:
    info = SocketInfo("udp", "::1", 5060, socket.AF_INET6)
    assert info.hostport == "[::1]:5060"
    assert {info: 1}[SocketInfo("udp", "::1", 5060, socket.AF_INET6)] == 1
    with pytest.raises(AttributeError):
        info.port = 1  # type: ignore[misc]
