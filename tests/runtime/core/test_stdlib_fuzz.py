"""Fuzzing the library functions: whatever a message holds, a script function returns.

`fuzz_scripts/kitchen_sink.cfg` calls, on every request and every reply, most of the
functions, variables and transformations sipc offers that read the message (sipmsgops,
textops, rr, registrar, usrloc, auth, auth_db, maxfwd, tm, sl). It is fed the SIP corpus,
as it is and mutated, each message twice (the second is a retransmission), and replies
mutated from one to a request it relayed, so that its reply and failure routes run too.
Nothing may escape `receive()` and the script may not fail: a script error means a
library function raised on a message instead of returning an error code.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.core.pipeline import Pipeline
from stdlib import auth_db
from stdlib._modules import set_modparam
from tests.runtime.core.test_pipeline import RecordingSender
from tests.runtime.core.test_pipeline_fuzz import (
    PEER,
    Failures,
    corpus_seeds,
    load_script,
    serving,
)
from tests.runtime.sip.test_fuzz import mutated
from tests.stdlib.test_auth import SUBSCRIBER_SCHEMA, add_subscriber

SCRIPT = Path(__file__).parent / "fuzz_scripts" / "kitchen_sink.cfg"

FUZZ_SETTINGS = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class KitchenSink:
    pipeline: Pipeline
    sender: RecordingSender
    failures: Failures

    def receive(self, data: bytes, times: int = 2) -> None:
        """Feed `data` (twice: the second is a retransmission); nothing may fail."""
        self.failures.records.clear()
        before = self.pipeline.stats.script_errors
        for _ in range(times):
            self.pipeline.receive(data, PEER)  # nothing may escape
        tracebacks = [logging.Formatter().format(record) for record in self.failures.records[:1]]
        assert self.pipeline.stats.script_errors == before, tracebacks
        assert not tracebacks, tracebacks


def subscriber_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(SUBSCRIBER_SCHEMA)
        db.execute("INSERT INTO version VALUES ('subscriber', 8)")
        add_subscriber(db, "alice", "127.0.0.1", "secret-alice")
        add_subscriber(db, "bob", "atlanta.example.com", "secret-bob")
    db.close()
    return path


@pytest.fixture(scope="module")
def seeds() -> list[bytes]:
    return corpus_seeds()


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KitchenSink]:
    workdir = tmp_path_factory.mktemp("kitchen_sink")
    module = load_script(SCRIPT, workdir, "kitchen_sink")
    set_modparam("auth_db", "db_url", f"sqlite://{subscriber_db(workdir / 'subscribers.db')}")
    try:
        with serving(module) as (pipeline, sender, failures):
            yield KitchenSink(pipeline, sender, failures)
    finally:
        auth_db.close_databases()


def test_corpus_messages_as_they_are(sink: KitchenSink, seeds: list[bytes]) -> None:
    for data in seeds:
        sink.receive(data)
    stats = sink.pipeline.stats
    assert stats.requests + stats.replies + stats.malformed >= len(seeds)


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_corpus_messages(
    sink: KitchenSink, seeds: list[bytes], data: st.DataObject
) -> None:
    sink.receive(data.draw(mutated(seeds)))


# ------------------------------------------------------------------ replies to what we relayed

_CALLS = itertools.count()

REPLY_BODY = (
    b"v=0\r\no=bob 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    b"a=sendonly\r\n"
)


def relayed_invite(sink: KitchenSink) -> bytes:
    """Send an INVITE through the script and return the request it relayed."""
    call = next(_CALLS)
    invite = (
        f"INVITE sip:bob@192.0.2.9:5080 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-ks-{call};rport\r\n"
        f'From: "Alice" <sip:alice@127.0.0.1>;tag=a{call}\r\n'
        f"To: <sip:bob@192.0.2.9>\r\n"
        f"Call-ID: ks-{call}@127.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:alice@127.0.0.1:5062>\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    sent = len(sink.sender.sent)
    sink.receive(invite, times=1)
    relayed = [data for *_, data in sink.sender.sent[sent:] if data.startswith(b"INVITE ")]
    assert relayed, "the kitchen sink relays an INVITE to an address"
    return relayed[-1]


HEADERS = b"X-Copied-From-The-Request: here"


def reply_template(status: bytes) -> bytes:
    """A reply as the callee would send it, but for the headers copied from the request."""
    return (
        b"SIP/2.0 " + status + b"\r\n" + HEADERS + b"\r\n"
        b'Contact: "Bob" <sip:bob@192.0.2.9:5080;transport=udp>;expires=60\r\n'
        b"Server: callee\r\nContent-Type: application/sdp\r\n"
        b"Content-Length: " + str(len(REPLY_BODY)).encode() + b"\r\n\r\n" + REPLY_BODY
    )


def reply_to(request: bytes, template: bytes) -> bytes:
    """Fill in the request's Via, From, To (tagged), Call-ID, CSeq and Record-Route."""
    head = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    wanted = {b"via", b"from", b"to", b"call-id", b"cseq", b"record-route"}
    copied = [line for line in head if line.split(b":", 1)[0].lower() in wanted]
    copied = [line + b";tag=b1" if line.lower().startswith(b"to:") else line for line in copied]
    return template.replace(HEADERS, b"\r\n".join(copied))


STATUSES = [
    b"180 Ringing",
    b"200 OK",
    b"302 Moved",
    b"404 Not Found",
    b"486 Busy Here",
    b"503 Down",
]


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_replies_to_a_relayed_request(sink: KitchenSink, data: st.DataObject) -> None:
    # What is drawn does not depend on the request (its branch is the proxy's own): the
    # template is mutated, then the request's headers are filled in.
    template = reply_template(data.draw(st.sampled_from(STATUSES)))
    mutation = data.draw(mutated([template]))
    request = relayed_invite(sink)
    if data.draw(st.booleans()):
        sink.receive(reply_to(request, template), times=1)  # the reply and failure routes run
    sink.receive(reply_to(request, mutation))


# ------------------------------------------------------------------ what fuzzing found

OPTIONS = (
    b"OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-found\r\n"
    b"From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n"
    b"Call-ID: found@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"tag=a1", b"tag=a1\rX"),  # a bare CR in the From tag: no Record-Route with it
        (b"sip:alice@", b"sip:al\xdeice@"),  # not UTF-8: SQLite cannot be asked for it
        (b"OPTIONS sip:bob@", b"OPTIONS s\tip:bob@"),  # a tab in the R-URI: no R-URI edits
    ],
)
def test_messages_fuzzing_found(sink: KitchenSink, old: bytes, new: bytes) -> None:
    sink.receive(OPTIONS.replace(old, new, 1))


def test_a_reply_whose_cseq_does_not_parse(sink: KitchenSink) -> None:
    request = relayed_invite(sink)
    template = reply_template(b"486 Busy Here").replace(HEADERS, HEADERS + b"\r\nCSeq: 1 INV\xe4")
    sink.receive(reply_to(request, template).replace(b"CSeq: 1 INVITE\r\n", b"", 1))
