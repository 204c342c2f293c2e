"""Byte-level builders for the messages the layer makes on every call.

`runtime.sip` builds messages by parsing what it built (`build_message`), which is right
for anything a script may read afterwards but costs as much as a parse. The 100 Trying
of every INVITE, the Via of every relayed branch and the local replies that only go on
the wire (the registrar's 200) are never read again, so they are spliced as bytes here.
They read the message's header lines the way `runtime.sip`'s own builders
(`make_response`, `derived`) do, and give the same bytes (tests compare them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from runtime.sip import REASON_PHRASES, Request, SipParseError
from runtime.sip.message import header_line

_TRYING_COPIED = frozenset({"via", "from", "to", "call-id", "cseq", "timestamp"})
_TRYING_END = b"\r\nContent-Length: 0\r\n\r\n"


def trying_bytes(request: Request) -> bytes:
    """100 Trying for `request` (§8.2.6.1: Via, From, To, Call-ID, CSeq, Timestamp, no tag)."""
    copied = _TRYING_COPIED
    lines = [line for key, line in zip(request._keys, request._lines, strict=True) if key in copied]
    if not lines:
        return b"SIP/2.0 100 Trying" + _TRYING_END
    return b"".join((b"SIP/2.0 100 Trying\r\n", b"\r\n".join(lines), _TRYING_END))


_REPLY_COPIED = frozenset({"via", "from", "to", "call-id", "cseq"})


def response_bytes(
    request: Request,
    status: int,
    reason: str | None,
    to_tag: str,
    headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """`request.make_response(status, reason, to_tag=to_tag, headers=headers).to_bytes()`
    for a reply without a body (> 100: a 100 is `trying_bytes`), written at once.

    Raises ValueError as `make_response` does (a status outside 101-699, CR or LF in the
    reason or a header, a header name that is no token).
    """
    if not 100 < status <= 699:
        raise ValueError(f"status code {status} outside 101-699")
    phrase = REASON_PHRASES.get(status, "") if reason is None else reason
    if "\r" in phrase or "\n" in phrase:
        raise ValueError("reason phrase contains CR or LF")
    tag_to = not _has_to_tag(request)
    copied = _REPLY_COPIED
    lines = [f"SIP/2.0 {status} {phrase}".encode("utf-8", "surrogateescape")]
    for key, line in zip(request._keys, request._lines, strict=True):
        if key in copied:
            if key == "to" and tag_to:
                line = line.rstrip() + b";tag=" + to_tag.encode()
            lines.append(line)
    lines.extend([header_line(name, value) for name, value in headers])
    lines.append(b"Content-Length: 0\r\n\r\n")
    return b"\r\n".join(lines)


def _has_to_tag(request: Request) -> bool:
    try:
        to = request.to
    except SipParseError:
        return ";tag=" in (request.header("to") or "")
    return to is not None and to.tag is not None


def with_top_via(data: bytes, via_value: str) -> bytes:
    """`data` (a whole request) with `Via: via_value` as its first header line.

    The first header line is above every other Via, so it is the topmost one.
    """
    head_end = data.index(b"\r\n") + 2
    return b"".join((data[:head_end], b"Via: ", via_value.encode(), b"\r\n", data[head_end:]))


_VIA_STARTS: dict[tuple[str, str], bytes] = {}


def via_start(transport: str, sent_by: str) -> bytes:
    """`Via: SIP/2.0/UDP sent-by;branch=` as bytes, built once per socket."""
    start = _VIA_STARTS.get((transport, sent_by))
    if start is None:
        start = f"Via: SIP/2.0/{transport.upper()} {sent_by};branch=".encode()
        if len(_VIA_STARTS) < 1024:  # a handful of sockets: never grows with traffic
            _VIA_STARTS[(transport, sent_by)] = start
    return start


class RandomPool:
    """Bytes from the OS's CSPRNG drawn 4 KiB at a time: one syscall per ~680 branch ids."""

    __slots__ = ("data", "used")

    def __init__(self) -> None:
        self.data = b""
        self.used = 0

    def hex(self, size: int = 6) -> str:
        """`size` fresh random bytes as hex (6: the 48 bits of a transaction's branch ids)."""
        used = self.used
        if used + size > len(self.data):
            self.data, used = os.urandom(4096), 0
        self.used = used + size
        return self.data[used : used + size].hex()


RANDOM = RandomPool()
random_hex = RANDOM.hex
