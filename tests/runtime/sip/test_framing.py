"""TCP stream framing: Content-Length cuts, keep-alives, reads split anywhere, size guard."""

from __future__ import annotations

import pytest

from runtime.sip import KeepAlive, SipParseError, StreamFramer, parse_message

FIRST = (
    b"OPTIONS sip:a@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n"
    b"Content-Length: 5\r\n"
    b"\r\n"
    b"hello"
)
SECOND = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n"
    b"l: 0\r\n"
    b"\r\n"
)
STREAM = FIRST + SECOND


def test_two_messages_in_one_read() -> None:
    assert StreamFramer().feed(STREAM) == [FIRST, SECOND]


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_split_at_every_byte(cut: int) -> None:
    framer = StreamFramer()
    items = framer.feed(STREAM[:cut]) + framer.feed(STREAM[cut:])
    assert items == [FIRST, SECOND]
    assert framer.buffered == 0


def test_one_byte_at_a_time() -> None:
    framer = StreamFramer()
    items: list[bytes | KeepAlive] = []
    for octet in STREAM:
        items += framer.feed(bytes([octet]))
    assert items == [FIRST, SECOND]
    assert parse_message(FIRST).body == b"hello"


def test_keepalive_ping_and_pong() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == [KeepAlive(ping=True)]
    assert framer.feed(b"\r\n" + FIRST) == [KeepAlive(ping=False), FIRST]
    # A ping split across reads is still one ping.
    assert framer.feed(b"\r\n") == []
    assert framer.feed(b"\r\n") == [KeepAlive(ping=True)]


def test_missing_content_length_on_a_stream() -> None:
    with pytest.raises(SipParseError, match="without Content-Length"):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n")


def test_bad_content_length() -> None:
    with pytest.raises(SipParseError, match="not a number"):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n")


def test_size_guard_on_headers_and_on_declared_length() -> None:
    framer = StreamFramer(max_message_size=100)
    with pytest.raises(SipParseError, match="limit"):
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: " + b"y" * 200)
    with pytest.raises(SipParseError, match="exceeds"):
        StreamFramer(max_message_size=100).feed(
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1000\r\n\r\n"
        )


def test_partial_body_waits() -> None:
    framer = StreamFramer()
    assert framer.feed(FIRST[:-2]) == []
    assert framer.buffered == len(FIRST) - 2
    assert framer.feed(FIRST[-2:]) == [FIRST]
