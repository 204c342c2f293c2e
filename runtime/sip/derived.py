"""Requests a transaction layer derives from earlier messages: CANCEL and the ACK to a
non-2xx final response.

RFC 3261 §9.1 (CANCEL) and §17.1.1.3 (ACK for non-2xx): both carry the Request-URI,
Call-ID, From and CSeq number of the request they refer to, exactly one Via equal to
that request's top Via (so they match its transaction), and its Route headers. CANCEL
copies the request's To; ACK takes To from the response, whose tag it must carry. The
header lines are copied byte for byte from the messages they come from.
"""

from __future__ import annotations

from runtime.sip.errors import SipParseError
from runtime.sip.lexical import split_list
from runtime.sip.message import Request, Response, build_message, header_line

DEFAULT_MAX_FORWARDS = 70


def make_cancel(request: Request) -> Request:
    """The CANCEL for a pending `request` (normally an INVITE), §9.1."""
    return _derive(request, "CANCEL", to_line=_first_line(request, "to"))


def make_ack(request: Request, response: Response) -> Request:
    """The ACK a client transaction sends for a 300-699 `response` to INVITE `request`."""
    if not 300 <= response.status <= 699:
        raise ValueError("an ACK built here answers a non-2xx final response (300-699)")
    return _derive(request, "ACK", to_line=_first_line(response, "to"))


def _derive(request: Request, method: str, *, to_line: bytes) -> Request:
    cseq = request.cseq
    if cseq is None:
        raise SipParseError("request has no CSeq", 0)
    lines = [
        _top_via_line(request),
        header_line("Max-Forwards", str(DEFAULT_MAX_FORWARDS)),
        _first_line(request, "from"),
        to_line,
        _first_line(request, "call-id"),
        header_line("CSeq", f"{cseq.number} {method}"),
    ]
    lines.extend(request._lines[i] for i in request._positions("route"))
    lines.append(header_line("Content-Length", "0"))
    derived = build_message(f"{method} {request.ruri_text} {request.version}", lines)
    assert isinstance(derived, Request)
    return derived


def _top_via_line(request: Request) -> bytes:
    """The request's first Via line, cut to its first value when it holds several."""
    line = _first_line(request, "via")
    value = request.header("via") or ""
    if "," in value and len(split_list(value)) > 1:
        top = request.top_via
        assert top is not None
        return header_line("Via", str(top))
    return line


def _first_line(message: Request | Response, key: str) -> bytes:
    positions = message._positions(key)
    if not positions:
        raise SipParseError(f"no {key} header to copy", 0)
    return message._lines[positions[0]]
