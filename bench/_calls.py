"""The bench's SIPp call, message by message, for the in-process benches.

uac.xml's INVITE, ACK and BYE and uas.xml's 180 and 200s, with their addresses taken from
a `Peers`; replies are built from the request the proxy really forwarded, as the SIPp UAS
builds them, so nothing comes from a cache it would not be in under load. A recording
pass (`record_calls`) runs each call once through a pipeline and keeps the six messages
the proxy receives; the timed passes replay them in call order (`time_passes`).
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime.core.pipeline import Pipeline
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source

LABELS = ("INVITE", "180", "200 INVITE", "ACK (Route)", "BYE (Route)", "200 BYE")

SDP = (
    b"v=0\r\n"
    b"o=caller 53655765 2353687637 IN IP4 127.0.0.1\r\n"
    b"s=-\r\n"
    b"c=IN IP4 127.0.0.1\r\n"
    b"t=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=sendrecv\r\n"
)

Call = list[tuple[bytes, Source]]


@dataclass(frozen=True)
class Peers:
    """Where the proxy, the SIPp UAC and the SIPp UAS are, and whom the INVITE is for."""

    proxy: SocketInfo
    uac: tuple[str, int]
    uas: tuple[str, int]
    ruri: str

    def invite(self, n: int) -> bytes:
        """The UAC's INVITE of call `n`, as uac.xml writes it."""
        uac, uas = _hostport(self.uac), _hostport(self.uas)
        return (
            f"INVITE {self.ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {uac};branch=z9hG4bK-28111-{n}-0;rport\r\n"
            f"Max-Forwards: 70\r\n"
            f'From: "Bench Caller" <sip:caller@{uac}>;tag=28111c{n}\r\n'
            f"To: <sip:bench@{uas}>\r\n"
            f"Call-ID: {n}-28111@127.0.0.1\r\n"
            f"CSeq: 1 INVITE\r\n"
            f"Contact: <sip:caller@{uac}>\r\n"
            f"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
            f"User-Agent: steering-bench-uac\r\n"
            f"Content-Type: application/sdp\r\n"
            f"Content-Length: {len(SDP)}\r\n\r\n"
        ).encode() + SDP

    def in_dialog(self, n: int, method: str, cseq: int, branch: int) -> bytes:
        """ACK or BYE of call `n` with the route set learnt from the 200, as uac.xml sends it."""
        uac, uas = _hostport(self.uac), _hostport(self.uas)
        return (
            f"{method} sip:{uas};transport=UDP SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {uac};branch=z9hG4bK-28111-{n}-{branch};rport\r\n"
            f"Route: <sip:{self.proxy.ip}:{self.proxy.port};lr>\r\n"
            f"Max-Forwards: 70\r\n"
            f'From: "Bench Caller" <sip:caller@{uac}>;tag=28111c{n}\r\n'
            f"To: <sip:bench@{uas}>;tag=28112SIPpTag01{n}\r\n"
            f"Call-ID: {n}-28111@127.0.0.1\r\n"
            f"CSeq: {cseq} {method}\r\n"
            f"Contact: <sip:caller@{uac}>\r\n"
            f"Content-Length: 0\r\n\r\n"
        ).encode()

    def reply(self, forwarded: bytes, n: int, status: str, body: bytes = b"") -> bytes:
        """The UAS's answer to a forwarded request as uas.xml makes it: SIPp's [last_Via:]
        puts every Via value of the request on one line, comma-separated; its Record-Route
        lines are copied."""
        head = forwarded[: forwarded.index(b"\r\n\r\n")].split(b"\r\n")
        vias = b", ".join(line[4:].strip() for line in head if line.startswith(b"Via:"))
        record_route = [line for line in head if line.startswith(b"Record-Route:")]
        copied = [line for line in head if line.startswith((b"From:", b"Call-ID:", b"CSeq:"))]
        uas = _hostport(self.uas)
        lines = [
            f"SIP/2.0 {status}".encode(),
            b"Via: " + vias,
            *record_route,
            *copied[:1],
            f"To: <sip:bench@{uas}>;tag=28112SIPpTag01{n}".encode(),
            *copied[1:],
            f"Contact: <sip:{uas};transport=UDP>".encode(),
            f"Content-Length: {len(body)}".encode(),
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _hostport(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


class CaptureSender:
    """Stands in for `Transports`: counts what is sent, keeps the last datagram."""

    def __init__(self, proxy: SocketInfo) -> None:
        self.sockets = [proxy]
        self.last: tuple[str, int, bytes] = ("", 0, b"")
        self.sent = 0

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.last = (ip, port, data)
        self.sent += 1
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.last = (source.ip, source.port, data)
        self.sent += 1
        return True


def record_calls(
    peers: Peers, new_pipeline: Callable[[], tuple[Pipeline, CaptureSender]], count: int
) -> list[Call]:
    """Run `count` calls once, building each reply from what the proxy forwarded."""
    pipeline, sender = new_pipeline()
    from_uac = Source(peers.proxy, *peers.uac)
    from_uas = Source(peers.proxy, *peers.uas)

    def relay(data: bytes, source: Source) -> bytes:
        sender.last = ("", 0, b"")
        pipeline.receive(data, source)
        out = sender.last[2]
        if not out:
            raise SystemExit(f"nothing sent for:\n{data.decode()}\n{pipeline.stats.summary()}")
        return out

    calls = []
    for n in range(count):
        request = peers.invite(n)
        forwarded = relay(request, from_uac)
        ringing = peers.reply(forwarded, n, "180 Ringing")
        relay(ringing, from_uas)
        answer = peers.reply(forwarded, n, "200 OK", SDP)
        relay(answer, from_uas)
        ack = peers.in_dialog(n, "ACK", 1, 1)
        relay(ack, from_uac)
        bye = peers.in_dialog(n, "BYE", 2, 2)
        bye_ok = peers.reply(relay(bye, from_uac), n, "200 OK")
        relay(bye_ok, from_uas)
        calls.append(
            [
                (request, from_uac),
                (ringing, from_uas),
                (answer, from_uas),
                (ack, from_uac),
                (bye, from_uac),
                (bye_ok, from_uas),
            ]
        )
    return calls


def show_call(call: Call, pipeline: Pipeline, sender: CaptureSender) -> None:
    """Print one call as the proxy sends it on."""
    for label, (data, source) in zip(LABELS, call, strict=True):
        pipeline.receive(data, source)
        ip, port, out = sender.last
        print(f"--- {label} -> {ip}:{port}\n{out.decode()}")


def receive_all(
    pipeline: Pipeline, calls: Sequence[Call], between: Callable[[int], None]
) -> list[float]:
    """Feed every call in order, `between(n)` before call n; CPU ns per message kind."""
    receive = pipeline.receive
    clock = time.process_time_ns
    per_kind = [0.0] * len(LABELS)
    for number, call in enumerate(calls):
        between(number)
        for kind, (data, source) in enumerate(call):
            before = clock()
            receive(data, source)
            per_kind[kind] += clock() - before
    return per_kind


def report(
    calls: Sequence[Call], totals: Sequence[float], per_kinds: Sequence[list[float]]
) -> None:
    """Print the best of the passes: µs per message kind and per call, with a reference
    operation (a bytes.split of the INVITE) to compare runs on a busy box."""
    clock_cost = min(timeit.repeat(time.process_time_ns, number=100_000, repeat=5)) / 100_000
    sample = calls[0][0][0]
    reference = min(
        timeit.repeat(
            lambda: sample.split(b"\r\n"), number=20_000, repeat=5, timer=time.process_time
        )
    )
    print(f"reference bytes.split of the INVITE: {reference / 20_000 * 1e6:.3f} µs")
    for kind, label in enumerate(LABELS):
        best = min(per_kind[kind] for per_kind in per_kinds) / len(calls) / 1000
        print(f"{best - clock_cost * 1e6:8.2f} µs  {label} ({len(calls[0][kind][0])} bytes)")
    per_call = min(totals) / len(calls) * 1e6
    print(f"{per_call / len(LABELS):8.2f} µs  mean per message")
    print(f"{per_call:8.2f} µs  per call of 6 messages ({len(calls)} distinct calls, in order)")
