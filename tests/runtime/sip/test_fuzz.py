"""Fuzzing: mutated corpus messages and random bytes either parse or raise SipParseError.

Parse, validate, read every parsed field, edit and serialise: the only allowed outcomes
are success or a clean `SipParseError` (the DESIGN.md contract for `runtime/sip`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.sip import (
    Message,
    Request,
    SipParseError,
    StreamFramer,
    make_cancel,
    parse_message,
)

FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Octets that steer a SIP parser into its branches more often than uniform bytes do.
INTERESTING = b'\r\n :;,<>"\\@[]?=%/0\t\x00\xff'


def exercise(data: bytes) -> None:
    """Everything a proxy might do with a message; only SipParseError may escape."""
    try:
        message = parse_message(data)
    except SipParseError as error:
        assert 0 <= error.offset <= len(data)
        return
    read_everything(message)
    try:
        message.validate()
    except SipParseError as error:
        assert error.reason
    else:
        if isinstance(message, Request):
            # A validated request has what a CANCEL copies.
            assert make_cancel(message).method == "CANCEL"
    round_trip = message.to_bytes()
    assert parse_message(round_trip).to_bytes() == round_trip
    try:
        message.prepend_via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfuzz")
        message.decrement_max_forwards()
        message.remove_top_via()
        message.add_header("X-Fuzz", "1")
        message.set_body(b"x")
    except SipParseError:
        return
    edited = parse_message(message.to_bytes())
    assert edited.body == b"x"
    if isinstance(message, Request):
        message.make_response(400)


def read_everything(message: Message) -> None:
    readers: list[Callable[[], object]] = [
        lambda: message.vias,
        lambda: message.top_via,
        lambda: message.from_,
        lambda: message.to,
        lambda: message.cseq,
        lambda: message.call_id,
        lambda: message.max_forwards,
        lambda: message.contacts,
        lambda: message.contact_star,
        lambda: message.routes,
        lambda: message.record_routes,
        lambda: message.expires,
        lambda: message.content_length,
        lambda: message.headers,
        lambda: [str(v) for v in message.vias],
        lambda: [(c.q, c.expires, str(c)) for c in message.contacts],
    ]
    if isinstance(message, Request):
        readers.append(lambda: str(message.ruri))
    for read in readers:
        with contextlib.suppress(SipParseError):
            read()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "truncate"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            data[at:] = data[at + 1 :]
        elif action == "insert":
            data[at:at] = draw(st.binary(max_size=3) | st.sampled_from(list(INTERESTING)).map(lambda b: bytes([b])))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        else:
            del data[at:]
    return bytes(data)


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_corpus_messages(corpus_seeds: list[bytes], data: st.DataObject) -> None:
    exercise(data.draw(mutated(corpus_seeds)))


@FUZZ_SETTINGS
@given(
    raw=st.binary(max_size=300)
    | st.lists(st.sampled_from(list(INTERESTING) + list(b"SIP/2.0 INVITE sip:a@b Via")), max_size=200).map(bytes)
)
def test_random_bytes(raw: bytes) -> None:
    exercise(raw)
    exercise(b"OPTIONS sip:a@b SIP/2.0\r\nVia: " + raw + b"\r\n\r\n")


@FUZZ_SETTINGS
@given(data=st.data())
def test_stream_framer_on_mutated_streams(corpus_seeds: list[bytes], data: st.DataObject) -> None:
    stream = data.draw(mutated(corpus_seeds)) + data.draw(mutated(corpus_seeds))
    cut = data.draw(st.integers(0, len(stream)))
    framer = StreamFramer(max_message_size=4096)
    try:
        items = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
    except SipParseError:
        return
    for item in items:
        if isinstance(item, bytes):
            exercise(item)
