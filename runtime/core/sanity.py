"""The checks a proxy makes before it routes a message: the ones that cost little.

`Message.validate()` (runtime.sip) checks everything RFC 3261 says and parses every
header to do it; that is the right tool for a test or an error route, and about half of
the per-message budget. The proxy needs less before it runs the script: the headers
every transaction and every reply depends on must be there and readable (top Via,
From, To, Call-ID, CSeq with the request's method), Max-Forwards must be a number, and a
datagram must hold the body its Content-Length announces. Headers read later (Route,
Contact...) are parsed when read, and their readers cope with bad values.
"""

from __future__ import annotations

import re

from runtime.sip import Request, Response, SipParseError
from runtime.sip.lexical import has_whitespace

_PRESENT = ("From", "To", "Call-ID")
# RFC 3261 §25.1: a method is a token
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")


def check_message(msg: Request | Response, *, datagram: bool) -> None:
    """Raise `SipParseError` when the message must not be routed (a request gets a 400)."""
    has_header = msg.has_header
    if not (has_header("From") and has_header("To") and has_header("Call-ID")):
        for name in _PRESENT:
            if not has_header(name):
                raise SipParseError(f"missing {name} header", 0)
    version = msg.version
    if version != "SIP/2.0" and version.upper() != "SIP/2.0":
        raise SipParseError(f"unsupported SIP version {msg.version!r}", 0)
    if msg.top_via is None:  # parses it, raising on a malformed one
        raise SipParseError("missing Via header", 0)
    is_request = isinstance(msg, Request)
    raw = msg.header_bytes("CSeq")
    if raw is None:
        raise SipParseError("missing CSeq header", 0)
    # `1 INVITE` as received (ASCII digits, one space, the method in letters) passes
    # without decoding; anything else is judged on the decoded text
    number, _, method_bytes = raw.partition(b" ")
    if not (
        number.isdigit()
        and int(number) < 2**31
        and (
            not is_request
            or (
                method_bytes.isalpha()
                and method_bytes == msg.method.encode("utf-8", "surrogateescape")
            )
        )
    ):
        if is_request and _TOKEN.fullmatch(msg.method) is None:
            raise SipParseError("the request method is not a token", 0)
        cseq = msg.header("CSeq") or ""
        number_text, _, method = cseq.partition(" ")
        if not number_text.isdigit() or int(number_text) >= 2**31:
            raise SipParseError("bad CSeq number", 0)
        if is_request and method.strip() != msg.method:
            raise SipParseError("CSeq method differs from the request method", 0)
    if isinstance(msg, Request):
        if not msg.ruri_text or has_whitespace(msg.ruri_text):  # a tab, a bare CR or LF
            raise SipParseError("bad Request-URI", 0)
        # ASCII digits as received read the same as the decoded text: no decoding then
        raw = msg.header_bytes("Max-Forwards")
        if raw is not None and not (raw.isdigit() and int(raw) <= 255):
            hops = msg.header("Max-Forwards")
            if hops is not None and not (hops.isdigit() and int(hops) <= 255):
                raise SipParseError("Max-Forwards is not a number from 0 to 255", 0)
    elif not 100 <= msg.status <= 699:
        raise SipParseError("status code outside 100-699", 0)
    raw = msg.header_bytes("Content-Length")
    if raw is not None:
        length = raw if raw.isdigit() else msg.header("Content-Length") or ""
        if not length.isdigit():
            raise SipParseError("Content-Length is not a number", 0)
        if datagram and int(length) > len(msg.body):
            raise SipParseError("Content-Length larger than the datagram's body", 0)
