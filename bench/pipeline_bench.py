"""Per-message cost of the stateless proxy path, no sockets (DESIGN.md "The hot path").

Run: .venv/bin/python bench/pipeline_bench.py [--calls N] [--profile] [--show]

Compiles the bench anchor `stateless.cfg` (`mf_process_maxfwd_header(10)` then
`forward()`) with `sipc build` and feeds `Pipeline.receive` calls shaped like the bench's
SIPp scenarios through a proxy on 127.0.0.1:15060: INVITE, 180, 200, ACK with Route,
BYE with Route, 200. Every call has its own Call-ID, tags and branches, and the replies
are built the way the SIPp UAS builds them, from the request the proxy really forwarded
(its Via lines copied), so nothing is parsed from a cache it would not be in under load.
A recording pass makes the messages; the timed passes replay them in call order.

Prints CPU µs per message of each kind and per call (best of 5 passes; CPU time, as the
box is shared), plus a reference operation (a bytes.split of the INVITE) so runs on a
busy machine can be compared as ratios. `--profile` prints a cProfile of one pass.
No assertion: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import socket
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _anchors import ANCHORS, build_anchor  # noqa: E402  (bench/ is on sys.path)

import runtime.sip.message as sip_message  # noqa: E402
from runtime.core.pipeline import Pipeline  # noqa: E402
from runtime.core.script import RouteTable  # noqa: E402
from runtime.transport.socketinfo import SocketInfo  # noqa: E402
from runtime.transport.source import Source  # noqa: E402

ANCHOR = ANCHORS / "stateless.cfg"
PROXY = SocketInfo("udp", "127.0.0.1", 15060, socket.AF_INET)
UAC = ("127.0.0.1", 15080)
UAS = ("127.0.0.1", 15070)
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


def invite(n: int) -> bytes:
    """The UAC's INVITE of call `n`, as uac.xml writes it."""
    return (
        f"INVITE sip:bench@127.0.0.1:15070 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:15080;branch=z9hG4bK-28111-{n}-0;rport\r\n"
        f"Max-Forwards: 70\r\n"
        f'From: "Bench Caller" <sip:caller@127.0.0.1:15080>;tag=28111c{n}\r\n'
        f"To: <sip:bench@127.0.0.1:15070>\r\n"
        f"Call-ID: {n}-28111@127.0.0.1\r\n"
        f"CSeq: 1 INVITE\r\n"
        f"Contact: <sip:caller@127.0.0.1:15080>\r\n"
        f"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
        f"User-Agent: steering-bench-uac\r\n"
        f"Content-Type: application/sdp\r\n"
        f"Content-Length: {len(SDP)}\r\n\r\n"
    ).encode() + SDP


def in_dialog(n: int, method: str, cseq: int, branch: int) -> bytes:
    """ACK or BYE of call `n` with the route set learnt from the 200, as uac.xml sends it."""
    return (
        f"{method} sip:127.0.0.1:15070;transport=UDP SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:15080;branch=z9hG4bK-28111-{n}-{branch};rport\r\n"
        f"Route: <sip:127.0.0.1:15060;lr>\r\n"
        f"Max-Forwards: 70\r\n"
        f'From: "Bench Caller" <sip:caller@127.0.0.1:15080>;tag=28111c{n}\r\n'
        f"To: <sip:bench@127.0.0.1:15070>;tag=28112SIPpTag01{n}\r\n"
        f"Call-ID: {n}-28111@127.0.0.1\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Contact: <sip:caller@127.0.0.1:15080>\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def reply(forwarded: bytes, n: int, status: str, body: bytes = b"") -> bytes:
    """The UAS's answer to a forwarded request as uas.xml makes it: SIPp's [last_Via:]
    puts every Via value of the request on one line, comma-separated."""
    head = forwarded[: forwarded.index(b"\r\n\r\n")].split(b"\r\n")
    vias = [b"Via: " + b", ".join(line[4:].strip() for line in head if line.startswith(b"Via:"))]
    copied = [line for line in head if line.startswith((b"From:", b"Call-ID:", b"CSeq:"))]
    record_route = [b"Record-Route: <sip:127.0.0.1:15060;lr>"] if b"INVITE" in head[0] else []
    lines = [
        f"SIP/2.0 {status}".encode(),
        *vias,
        *record_route,
        *copied[:1],
        f"To: <sip:bench@127.0.0.1:15070>;tag=28112SIPpTag01{n}".encode(),
        *copied[1:],
        b"Contact: <sip:127.0.0.1:15070;transport=UDP>",
        f"Content-Length: {len(body)}".encode(),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class CaptureSender:
    """Stands in for `Transports`: keeps the last message sent, sends nothing."""

    def __init__(self) -> None:
        self.sockets = [PROXY]
        self.last: tuple[str, int, bytes] = ("", 0, b"")

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.last = (ip, port, data)
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.last = (source.ip, source.port, data)
        return True


def new_pipeline(routes: RouteTable) -> tuple[Pipeline, CaptureSender]:
    sender = CaptureSender()
    pipeline = Pipeline(routes)
    pipeline.attach(sender)  # type: ignore[arg-type]
    return pipeline, sender


def record_calls(routes: RouteTable, count: int) -> list[list[tuple[bytes, Source]]]:
    """Run `count` calls once, building each reply from what the proxy forwarded."""
    pipeline, sender = new_pipeline(routes)
    from_uac = Source(PROXY, *UAC)
    from_uas = Source(PROXY, *UAS)

    def relay(data: bytes, source: Source) -> bytes:
        sender.last = ("", 0, b"")
        pipeline.receive(data, source)
        out = sender.last[2]
        if not out:
            raise SystemExit(f"nothing sent for:\n{data.decode()}\n{pipeline.stats.summary()}")
        return out

    calls = []
    for n in range(count):
        request = invite(n)
        forwarded = relay(request, from_uac)
        ringing = reply(forwarded, n, "180 Ringing")
        relay(ringing, from_uas)
        answer = reply(forwarded, n, "200 OK", SDP)
        relay(answer, from_uas)
        ack = in_dialog(n, "ACK", 1, 1)
        relay(ack, from_uac)
        bye = in_dialog(n, "BYE", 2, 2)
        bye_forwarded = relay(bye, from_uac)
        bye_ok = reply(bye_forwarded, n, "200 OK")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show", action="store_true", help="print one call as the proxy sends it")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        module = build_anchor(ANCHOR, PROXY, workdir)
    routes: RouteTable = module.ROUTES
    calls = record_calls(routes, options.calls)

    if options.show:
        pipeline, sender = new_pipeline(routes)
        for label, (data, source) in zip(LABELS, calls[0], strict=True):
            pipeline.receive(data, source)
            ip, port, out = sender.last
            print(f"--- {label} -> {ip}:{port}\n{out.decode()}")
        return

    def one_pass() -> tuple[float, list[float]]:
        """Whole pass in CPU seconds, and per kind in CPU ns (timer cost included)."""
        getattr(sip_message, "_VIA_OF_TEXT", {}).clear()  # as in a fresh process: nothing cached
        pipeline, _ = new_pipeline(routes)
        receive = pipeline.receive
        clock = time.process_time_ns
        per_kind = [0.0] * len(LABELS)
        started = time.process_time()
        for call in calls:
            for kind, (data, source) in enumerate(call):
                before = clock()
                receive(data, source)
                per_kind[kind] += clock() - before
        return time.process_time() - started, per_kind

    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        one_pass()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
        return

    clock_cost = min(timeit.repeat(time.process_time_ns, number=100_000, repeat=5)) / 100_000
    sample = calls[0][0][0]
    reference = min(
        timeit.repeat(
            lambda: sample.split(b"\r\n"), number=20_000, repeat=5, timer=time.process_time
        )
    )
    passes = [one_pass() for _ in range(5)]
    best_total = min(total for total, _ in passes)
    print(f"reference bytes.split of the INVITE: {reference / 20_000 * 1e6:.3f} µs")
    for kind, label in enumerate(LABELS):
        best = min(per_kind[kind] for _, per_kind in passes) / len(calls) / 1000
        print(f"{best - clock_cost * 1e6:8.2f} µs  {label} ({len(calls[0][kind][0])} bytes)")
    per_call = best_total / len(calls) * 1e6
    print(f"{per_call / len(LABELS):8.2f} µs  mean per message")
    print(f"{per_call:8.2f} µs  per call of 6 messages ({len(calls)} distinct calls, in order)")


if __name__ == "__main__":
    main()
