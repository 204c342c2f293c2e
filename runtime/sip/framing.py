"""Cutting SIP messages out of a TCP (or TLS) byte stream, RFC 3261 §18.3 and RFC 5626.

`StreamFramer.feed(data)` takes whatever one read returned and gives back, in order, the
complete messages it now holds (as `bytes`, ready for `parse_message`) and the
keep-alives between them. A message is its header section (up to CRLF CRLF) plus
exactly Content-Length octets of body; Content-Length is mandatory on streams. A CRLF
CRLF between messages is an RFC 5626 ping that the transport answers with one CRLF
(the pong); a lone CRLF is a pong and needs no answer. Anything that cannot be framed
(no or bad Content-Length, a message larger than `max_message_size`) raises
`SipParseError`; the connection is unusable after that and the transport closes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.sip.errors import SipParseError

DEFAULT_MAX_MESSAGE_SIZE = 65535
_CONTENT_LENGTH = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """CRLFs between messages: `ping` (CRLF CRLF, answer with CRLF) or a pong (one CRLF)."""

    ping: bool


class StreamFramer:
    """Incremental framer for one connection; keeps the bytes of a partial message."""

    __slots__ = ("_buffer", "_consumed", "_max_message_size", "_scan_from")

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max_message_size = max_message_size
        self._scan_from = 0  # where to resume looking for CRLF CRLF
        self._consumed = 0  # stream offset of the buffer's first byte, for error offsets

    @property
    def buffered(self) -> int:
        """Octets held for a message not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | KeepAlive]:
        """Add one read's bytes; return the messages and keep-alives now complete."""
        buffer = self._buffer
        buffer += data
        out: list[bytes | KeepAlive] = []
        while buffer:
            if buffer[0] == 0x0D:  # CR: keep-alive CRLFs before the next message
                if len(buffer) < 4 and bytes(buffer) in (b"\r", b"\r\n", b"\r\n\r"):
                    break  # could still become a ping; wait for the next read
                if buffer.startswith(b"\r\n\r\n"):
                    out.append(KeepAlive(ping=True))
                    self._drop(4)
                    continue
                if buffer.startswith(b"\r\n"):
                    out.append(KeepAlive(ping=False))
                    self._drop(2)
                    continue
                raise SipParseError("bare CR between messages", self._consumed)
            message = self._next_message()
            if message is None:
                break
            out.append(message)
        return out

    def _next_message(self) -> bytes | None:
        buffer = self._buffer
        head_end = buffer.find(b"\r\n\r\n", max(0, self._scan_from - 3))
        if head_end < 0:
            if len(buffer) > self._max_message_size:
                raise SipParseError(
                    "header section larger than the message size limit",
                    self._consumed + self._max_message_size,
                )
            self._scan_from = len(buffer)
            return None
        match = _CONTENT_LENGTH.search(buffer, 0, head_end + 2)
        if match is None:
            raise SipParseError("message on a stream without Content-Length", self._consumed)
        declared = match.group(1).strip()
        if not declared.isdigit():
            raise SipParseError("Content-Length is not a number", self._consumed + match.start(1))
        total = head_end + 4 + int(declared)
        if total > self._max_message_size:
            raise SipParseError(
                f"message of {total} octets exceeds the limit of {self._max_message_size}",
                self._consumed,
            )
        if len(buffer) < total:
            self._scan_from = head_end  # header section known; only the body is missing
            return None
        message = bytes(buffer[:total])
        self._drop(total)
        return message

    def _drop(self, count: int) -> None:
        del self._buffer[:count]
        self._consumed += count
        self._scan_from = 0
