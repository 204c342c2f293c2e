"""Cost of the SIP message layer on a typical INVITE (DESIGN.md hot path: parse ~5 µs).

Run: .venv/bin/python bench/sip_parse.py [--number N]

Prints µs per operation, best of 5 runs, plus two reference operations measured in the
same run (a bytes.split of the message and a raised-and-caught exception) so figures can
be compared across machines as ratios. No assertion: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

from runtime.sip import Request, StreamFramer, parse_message

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com:5060>\r\n"
    b"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: Example-UA/1.0\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 224\r\n"
    b"\r\n"
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.101\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=sendrecv\r\n"
)


def proxy_reads() -> None:
    message = parse_message(INVITE)
    _ = (message.top_via, message.to, message.from_, message.cseq, message.call_id)
    _ = (message.max_forwards, message.routes)


def forward() -> bytes:
    message = parse_message(INVITE)
    _ = (message.top_via, message.to, message.cseq, message.call_id)
    message.decrement_max_forwards()
    message.prepend_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKproxy.1")
    return message.to_bytes()


def reply() -> bytes:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    return message.make_response(200, to_tag="8321234356").to_bytes()


def validate() -> None:
    parse_message(INVITE).validate()


def frame_two() -> None:
    StreamFramer().feed(INVITE + INVITE)


def raise_and_catch() -> None:
    try:
        raise ValueError
    except ValueError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    number = parser.parse_args().number
    cases: list[tuple[str, Callable[[], object]]] = [
        ("reference: bytes.split(CRLF) of the message", lambda: INVITE.split(b"\r\n")),
        ("reference: raise + catch an exception", raise_and_catch),
        ("parse_message (first pass only)", lambda: parse_message(INVITE)),
        ("parse + top_via, to, from, cseq, call_id, max_forwards, routes", proxy_reads),
        ("parse + reads + Max-Forwards-1 + prepend Via + to_bytes", forward),
        ("parse + validate (every header a proxy reads)", validate),
        ("parse + make_response(200) + to_bytes", reply),
        ("StreamFramer.feed of two messages", frame_two),
    ]
    header_lines = INVITE.count(b"\r\n", 0, INVITE.index(b"\r\n\r\n"))
    print(f"message: {len(INVITE)} bytes, {header_lines} header lines")
    for label, case in cases:
        best = min(timeit.repeat(case, number=number, repeat=5)) / number * 1e6
        print(f"{best:8.2f} µs  {label}")


if __name__ == "__main__":
    main()
