"""Responses built from a request, as a UAS or a proxy's stateless reply sends them.

RFC 3261 §8.2.6.2: the response copies every Via (same order), From, Call-ID and CSeq
of the request byte for byte, and To with a tag added when the request had none (except
for 100 Trying, §8.2.6.1, which also copies Timestamp). A proxy answering on its own
(§16.7 step 10, `sl_send_reply`, the 400 to a malformed request) builds the same shape.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from runtime.sip.errors import SipParseError
from runtime.sip.message import Request, Response, build_message, header_line

HeaderItems = Iterable[tuple[str, str]]

REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    493: "Undecipherable",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

# Copied in the order the request has them.
_COPIED = frozenset({"via", "from", "to", "call-id", "cseq"})
_COPIED_WITH_TIMESTAMP = _COPIED | {"timestamp"}


def new_tag() -> str:
    """A fresh To/From tag: 64 random bits (RFC 3261 §19.3 asks for at least 32)."""
    return secrets.token_hex(8)


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: HeaderItems = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Response:
    """Build the response `status` to `request`.

    `to_tag` is added to To when the request's To has none and `status` > 100; a fresh
    one is made when not given. Headers the request lacks are simply not copied, so a
    400 can answer a request with a broken or missing To. `headers` are appended in
    order, then Content-Type (when `content_type` is given) and Content-Length.
    """
    if not 100 <= status <= 699:
        raise ValueError(f"status code {status} outside 100-699")
    phrase = REASON_PHRASES.get(status, "") if reason is None else reason
    if "\r" in phrase or "\n" in phrase:
        raise ValueError("reason phrase contains CR or LF")
    copied = _COPIED_WITH_TIMESTAMP if status == 100 else _COPIED
    tag_to = status > 100 and not _has_tag(request)
    lines: list[bytes] = []
    for key, line in zip(request._keys, request._lines, strict=True):
        if key in copied:
            if key == "to" and tag_to:
                line = line.rstrip() + b";tag=" + (to_tag or new_tag()).encode()
            lines.append(line)
    lines.extend(header_line(name, value) for name, value in headers)
    if content_type is not None:
        lines.append(header_line("Content-Type", content_type))
    lines.append(f"Content-Length: {len(body)}".encode())
    response = build_message(f"SIP/2.0 {status} {phrase}", lines, body)
    assert isinstance(response, Response)
    return response


def _has_tag(request: Request) -> bool:
    try:
        to = request.to
    except SipParseError:
        return ";tag=" in (request.header("to") or "")
    return to is not None and to.tag is not None
