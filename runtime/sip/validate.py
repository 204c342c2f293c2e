"""RFC 3261 rules a parsed message must meet before a proxy processes it.

`validate_message` reads every header a proxy relies on (so a message that passes can
be routed without a `SipParseError` later) and checks the rules of §8.1.1, §8.2.2,
§16.3, §18.3, §20 and §25: mandatory headers, CSeq number below 2**31 and method equal
to the request's, Max-Forwards 0-255, status code 100-699, Content-Length that fits the
datagram, a Request-URI without LWS or embedded headers. Max-Forwards may be missing
(RFC 2543 clients, RFC 4475 inv2543); a proxy adds it.
"""

from __future__ import annotations

import re

from runtime.sip.errors import SipParseError
from runtime.sip.lexical import first_whitespace, has_whitespace, is_token
from runtime.sip.message import Message, Request
from runtime.sip.uri import SipURI

# A header line starts with a token name, optional SP/HT, then ':' (RFC 3261 §7.3.1).
_HEADER_NAME = re.compile(rb"[A-Za-z0-9\-.!%*_+`'~]+[ \t]*:")
MAX_CSEQ = 2**31  # RFC 3261 §8.1.1.5: the sequence number must be less than 2**31
_MANDATORY = (("to", "To"), ("from", "From"), ("call-id", "Call-ID"), ("cseq", "CSeq"))


def validate_message(msg: Message, *, datagram: bool = True) -> None:
    """Raise `SipParseError` (reason, byte offset) for the first rule the message breaks."""
    _check_start_line(msg)
    _check_header_lines(msg)
    _check_mandatory(msg)
    # Reading each accessor parses the header and raises on malformed values.
    msg.vias  # noqa: B018
    msg.from_  # noqa: B018
    msg.to  # noqa: B018
    msg.routes  # noqa: B018
    msg.record_routes  # noqa: B018
    msg.expires  # noqa: B018
    _check_contacts(msg)
    _check_call_id(msg)
    _check_cseq(msg)
    _check_max_forwards(msg)
    _check_content_length(msg, datagram=datagram)


def _check_start_line(msg: Message) -> None:
    start = msg._start
    if msg.version.upper() != "SIP/2.0":
        raise SipParseError(f"unsupported SIP version {msg.version!r}", start)
    if b"\r" in msg._start_line or b"\n" in msg._start_line:
        raise SipParseError("bare CR or LF in the start line", start)
    if not isinstance(msg, Request):
        status = getattr(msg, "status", 0)
        if not 100 <= status <= 699:
            raise SipParseError(f"status code {status} outside 100-699", start + 8)
        return
    if not is_token(msg.method):
        raise SipParseError(f"bad method {msg.method!r}", start)
    uri_at = start + len(msg.method.encode("utf-8", "surrogateescape")) + 1
    text = msg.ruri_text
    if not text:
        raise SipParseError("empty Request-URI", uri_at)
    blank = first_whitespace(text)
    if blank >= 0:
        raise SipParseError("whitespace in the Request-URI or around it", uri_at + blank)
    uri = msg.ruri
    if isinstance(uri, SipURI) and uri.headers:
        raise SipParseError(
            "headers are not allowed in a Request-URI (RFC 3261 §19.1.1)", uri_at + text.find("?")
        )


def _check_header_lines(msg: Message) -> None:
    for i, line in enumerate(msg._lines):
        if _HEADER_NAME.match(line) is None:
            raise SipParseError(f"bad header name {msg._name_at(i)!r}", msg.line_offset(i))
        if b"\r" in line or b"\n" in line:
            unfolded = line.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
            if b"\r" in unfolded or b"\n" in unfolded:
                raise SipParseError("bare CR or LF inside a header", msg.line_offset(i))


def _section_end(msg: Message) -> int:
    if not msg._lines:
        return msg._header_base
    last = len(msg._lines) - 1
    return msg.line_offset(last) + len(msg._lines[last])


def _check_mandatory(msg: Message) -> None:
    for key, label in _MANDATORY:
        positions = msg._positions(key)
        if not positions:
            raise SipParseError(f"missing {label} header", _section_end(msg))
        if len(positions) > 1:
            raise SipParseError(f"more than one {label} header", msg.line_offset(positions[1]))
    if not msg._positions("via"):
        raise SipParseError("missing Via header", _section_end(msg))


def _check_contacts(msg: Message) -> None:
    positions = msg._positions("contact")
    if msg.contact_star:
        if len(positions) > 1:
            raise SipParseError("'Contact: *' must be the only Contact", msg.line_offset(0))
        return
    for entry_position in positions:
        if msg._value_at(entry_position) == "*":
            raise SipParseError(
                "'Contact: *' must be the only Contact", msg.line_offset(entry_position)
            )
    for contact in msg.contacts:
        expires = contact.param("expires")
        if expires is not None and not expires.isdigit():
            raise SipParseError("Contact expires must be a number", msg.line_offset(positions[0]))


def _check_call_id(msg: Message) -> None:
    call_id = msg.call_id
    if not call_id or has_whitespace(call_id):
        position = msg._positions("call-id")[0]
        raise SipParseError("Call-ID must be one word without spaces", msg.value_offset(position))


def _check_cseq(msg: Message) -> None:
    cseq = msg.cseq
    assert cseq is not None  # _check_mandatory saw it
    offset = msg.value_offset(msg._positions("cseq")[0])
    if cseq.number >= MAX_CSEQ:
        raise SipParseError(f"CSeq number {cseq.number} is not below 2**31", offset)
    if isinstance(msg, Request) and cseq.method != msg.method:
        raise SipParseError(
            f"CSeq method {cseq.method!r} differs from the request method {msg.method!r}", offset
        )


def _check_max_forwards(msg: Message) -> None:
    hops = msg.max_forwards
    if hops is not None and hops > 255:
        position = msg._positions("max-forwards")[0]
        raise SipParseError(f"Max-Forwards {hops} above 255", msg.value_offset(position))


def _check_content_length(msg: Message, *, datagram: bool) -> None:
    positions = msg._positions("content-length")
    if not positions:
        return
    declared = msg.content_length
    assert declared is not None
    for position in positions[1:]:
        if msg._value_at(position) != msg._value_at(positions[0]):
            raise SipParseError("conflicting Content-Length headers", msg.line_offset(position))
    if datagram and declared > len(msg.body):
        raise SipParseError(
            f"Content-Length {declared} but only {len(msg.body)} body octets received",
            msg.value_offset(positions[0]),
        )
