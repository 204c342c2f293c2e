"""Byte-level builders for the two messages the layer makes on every call.

`runtime.sip` builds messages by parsing what it built (`build_message`), which is right
for anything a script may read afterwards but costs as much as a parse. The 100 Trying
of every INVITE and the Via of every relayed branch are never read again, so they are
spliced as bytes here. Both read the message's header lines the way `runtime.sip`'s own
builders (`make_response`, `derived`) do.
"""

from __future__ import annotations

from runtime.sip import Request

_TRYING_COPIED = frozenset({"via", "from", "to", "call-id", "cseq", "timestamp"})


def trying_bytes(request: Request) -> bytes:
    """100 Trying for `request` (§8.2.6.1: Via, From, To, Call-ID, CSeq, Timestamp, no tag)."""
    lines = [b"SIP/2.0 100 Trying"]
    copied = _TRYING_COPIED
    for key, line in zip(request._keys, request._lines, strict=True):
        if key in copied:
            lines.append(line)
    lines.append(b"Content-Length: 0\r\n\r\n")
    return b"\r\n".join(lines)


def with_top_via(data: bytes, via_value: str) -> bytes:
    """`data` (a whole request) with `Via: via_value` as its first header line.

    The first header line is above every other Via, so it is the topmost one.
    """
    head_end = data.index(b"\r\n") + 2
    return b"".join((data[:head_end], b"Via: ", via_value.encode(), b"\r\n", data[head_end:]))
