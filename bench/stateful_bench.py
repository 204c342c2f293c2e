"""Per-call cost of the stateful proxy path (tm), no sockets (DESIGN.md "The hot path").

Run: .venv/bin/python bench/stateful_bench.py [--calls N] [--profile] [--show] [--lookup]
     [--stateless] [--built DIR]

Compiles the bench anchor `stateful.cfg` (`record_route` + `t_relay`, `loose_route` for
in-dialog requests) with `sipc build` and feeds `Pipeline.receive` the messages of the
bench's SIPp call through a proxy on 127.0.0.1:16060: INVITE, 180, 200, ACK with Route,
BYE with Route, 200 (the proxy also sends a 100 Trying). Every call has its own Call-ID,
tags and branches; replies are built as the SIPp UAS builds them, from the request the
proxy really forwarded (so they carry our fresh branch). A recording pass makes the
messages, with the proxy's random branch ids made deterministic so a replay matches.
`--lookup` runs `registrar.cfg` instead, as sipp-load.sh's lookup mode: the callee is
registered as bench1 (Contact = the UAS) and every INVITE goes to sip:bench1@proxy.

Time is a fake clock: 1 ms per call (1,000 calls/s, as the bench), the wheel ticked every
20 ms as the server does, and at the end of a pass the clock jumps past every timer (J, K
of the BYE) and the wheel is ticked once more, so timer firing is part of the figure.

Prints CPU µs per message of each kind, the final tick, and per call (best of 5 passes),
plus a reference operation (a bytes.split of the INVITE) to compare runs on a busy box.
`--profile` prints a cProfile of one pass. The collector is set as the server sets it
(frozen start-up heap, generation 0 every GC_THRESHOLD allocations). `--built DIR` builds
the route module there once and reuses it (while the compiler is being changed, say).
No assertion: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import tempfile
import time
import timeit
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _anchors import (  # noqa: E402  (bench/ is on sys.path)
    ANCHORS,
    add_profile_options,
    build_anchor,
    collect_like_the_server,
    print_profile,
)

import runtime.transaction.wire as transaction_wire  # noqa: E402
from runtime.core.pipeline import Pipeline  # noqa: E402
from runtime.core.script import RouteTable  # noqa: E402
from runtime.transaction import TimerWheel  # noqa: E402
from runtime.transport.socketinfo import SocketInfo  # noqa: E402
from runtime.transport.source import Source  # noqa: E402
from runtime.usrloc import TABLES  # noqa: E402

ANCHOR = ANCHORS / "stateful.cfg"
# --lookup: registrar.cfg, the callee registered as bench1 (Contact = the UAS) and called
# through the proxy, as sipp-load.sh's lookup mode does
LOOKUP_AOR = "bench1"
RURI = ["sip:bench@127.0.0.1:16070"]
PROXY = SocketInfo("udp", "127.0.0.1", 16060, socket.AF_INET)
UAC = ("127.0.0.1", 16080)
UAS = ("127.0.0.1", 16070)
LABELS = ("INVITE", "180", "200 INVITE", "ACK (Route)", "BYE (Route)", "200 BYE")
CALL_PERIOD = 0.001  # seconds of fake time per call: 1,000 calls/s
TICK_EVERY = 20  # calls between two wheel ticks (the server's 20 ms)

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
        f"INVITE {RURI[0]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:16080;branch=z9hG4bK-28111-{n}-0;rport\r\n"
        f"Max-Forwards: 70\r\n"
        f'From: "Bench Caller" <sip:caller@127.0.0.1:16080>;tag=28111c{n}\r\n'
        f"To: <sip:bench@127.0.0.1:16070>\r\n"
        f"Call-ID: {n}-28111@127.0.0.1\r\n"
        f"CSeq: 1 INVITE\r\n"
        f"Contact: <sip:caller@127.0.0.1:16080>\r\n"
        f"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
        f"User-Agent: steering-bench-uac\r\n"
        f"Content-Type: application/sdp\r\n"
        f"Content-Length: {len(SDP)}\r\n\r\n"
    ).encode() + SDP


def in_dialog(n: int, method: str, cseq: int, branch: int) -> bytes:
    """ACK or BYE of call `n` with the route set learnt from the 200, as uac.xml sends it."""
    return (
        f"{method} sip:127.0.0.1:16070;transport=UDP SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:16080;branch=z9hG4bK-28111-{n}-{branch};rport\r\n"
        f"Route: <sip:127.0.0.1:16060;lr>\r\n"
        f"Max-Forwards: 70\r\n"
        f'From: "Bench Caller" <sip:caller@127.0.0.1:16080>;tag=28111c{n}\r\n'
        f"To: <sip:bench@127.0.0.1:16070>;tag=28112SIPpTag01{n}\r\n"
        f"Call-ID: {n}-28111@127.0.0.1\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Contact: <sip:caller@127.0.0.1:16080>\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def reply(forwarded: bytes, n: int, status: str, body: bytes = b"") -> bytes:
    """The UAS's answer to a forwarded request: its Via lines copied, as uas.xml does."""
    head = forwarded[: forwarded.index(b"\r\n\r\n")].split(b"\r\n")
    vias = [line for line in head if line.startswith(b"Via:")]
    copied = [line for line in head if line.startswith((b"From:", b"Call-ID:", b"CSeq:"))]
    record_route = [line for line in head if line.startswith(b"Record-Route:")]
    lines = [
        f"SIP/2.0 {status}".encode(),
        *vias,
        *record_route,
        *copied[:1],
        f"To: <sip:bench@127.0.0.1:16070>;tag=28112SIPpTag01{n}".encode(),
        *copied[1:],
        b"Contact: <sip:127.0.0.1:16070;transport=UDP>",
        f"Content-Length: {len(body)}".encode(),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class FakeClock:
    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CaptureSender:
    """Stands in for `Transports`: counts what is sent, keeps the last datagram."""

    def __init__(self) -> None:
        self.sockets = [PROXY]
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


def compile_anchor(workdir: str, stateless: bool = False, reuse: bool = False) -> ModuleType:
    """`sipc build` the anchor as run-proxy.sh renders it, and import the route module.

    `stateless`: the same script with `forward()` for `t_relay()` and no `t_check_trans()`,
    the baseline that tells the transaction machinery's share. `reuse`: a module built
    in `workdir` before is imported as it is (`--built DIR`).
    """

    def without_tm(text: str) -> str:
        text = text.replace("if (t_check_trans()) t_relay();", "forward();")
        return text.replace("t_check_trans();", "").replace("t_relay()", "forward()")

    return build_anchor(ANCHOR, PROXY, workdir, edit=without_tm if stateless else None, reuse=reuse)


def new_pipeline(routes: RouteTable) -> tuple[Pipeline, CaptureSender, FakeClock]:
    sender = CaptureSender()
    pipeline = Pipeline(routes)
    pipeline.attach(sender)  # type: ignore[arg-type]
    clock = FakeClock()
    stateful = pipeline.stateful
    stateful.clock = clock
    stateful.wheel = TimerWheel(stateful.wheel.resolution, clock())  # on the fake clock
    if RURI[0].startswith(f"sip:{LOOKUP_AOR}@"):
        TABLES.close()  # an empty location table, then the callee registers
        pipeline.receive(register_callee(), Source(PROXY, *UAS))
        if not sender.last[2].startswith(b"SIP/2.0 200 "):
            raise SystemExit(f"the callee did not register:\n{sender.last[2].decode()}")
        sender.sent = 0
    return pipeline, sender, clock


def register_callee() -> bytes:
    """register.xml's REGISTER of `bench1` with the UAS as its Contact (lookup mode)."""
    return (
        f"REGISTER sip:127.0.0.1:16060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:16070;branch=z9hG4bK-reg-1;rport\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:{LOOKUP_AOR}@127.0.0.1>;tag=reg1\r\n"
        f"To: <sip:{LOOKUP_AOR}@127.0.0.1>\r\n"
        f"Call-ID: reg-1@127.0.0.1\r\n"
        f"CSeq: 1 REGISTER\r\n"
        f"Contact: <sip:{LOOKUP_AOR}@127.0.0.1:16070>\r\n"
        f"Expires: 3600\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def deterministic_branch_ids() -> None:
    """Branch ids from a seeded generator, restarted each pass: replayed replies must match."""
    generator = random.Random(5060)
    os.urandom = generator.randbytes
    pool = getattr(transaction_wire, "RANDOM", None)
    if pool is not None:  # drawn in bulk: start the pass from an empty pool
        pool.data, pool.used = b"", 0


def record_calls(routes: RouteTable, count: int) -> list[list[tuple[bytes, Source]]]:
    """Run `count` calls once, building each reply from what the proxy forwarded."""
    deterministic_branch_ids()
    pipeline, sender, _ = new_pipeline(routes)
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
    add_profile_options(parser)
    parser.add_argument("--show", action="store_true", help="print one call as the proxy sends it")
    parser.add_argument(
        "--stateless", action="store_true", help="baseline: forward() instead of t_relay()"
    )
    parser.add_argument(
        "--lookup", action="store_true", help="registrar.cfg: call a registered user (lookup)"
    )
    options = parser.parse_args()
    if options.lookup:
        global ANCHOR
        ANCHOR = ANCHORS / "registrar.cfg"
        RURI[0] = f"sip:{LOOKUP_AOR}@{PROXY.ip}:{PROXY.port}"
    if options.built:
        Path(options.built).mkdir(parents=True, exist_ok=True)
        module = compile_anchor(options.built, options.stateless, reuse=True)
    else:
        with tempfile.TemporaryDirectory() as workdir:
            module = compile_anchor(workdir, options.stateless)
    routes: RouteTable = module.ROUTES
    calls = record_calls(routes, options.calls)
    collect_like_the_server()
    expected_sends = len(calls) * (6 if options.stateless else 7)  # + the 100 Trying

    if options.show:
        deterministic_branch_ids()
        pipeline, sender, _ = new_pipeline(routes)
        for label, (data, source) in zip(LABELS, calls[0], strict=True):
            pipeline.receive(data, source)
            ip, port, out = sender.last
            print(f"--- {label} -> {ip}:{port}\n{out.decode()}")
        return

    def one_pass() -> tuple[float, list[float], float]:
        """Whole pass in CPU seconds; per kind and the final tick in CPU ns."""
        deterministic_branch_ids()
        pipeline, sender, fake = new_pipeline(routes)
        receive = pipeline.receive
        tick = pipeline.stateful.tick
        clock = time.process_time_ns
        per_kind = [0.0] * len(LABELS)
        started = time.process_time()
        for number, call in enumerate(calls):
            fake.now += CALL_PERIOD
            if number % TICK_EVERY == 0:
                tick()
            for kind, (data, source) in enumerate(call):
                before = clock()
                receive(data, source)
                per_kind[kind] += clock() - before
        before = clock()
        fake.now += 100.0
        tick()
        drain = clock() - before
        elapsed = time.process_time() - started
        if sender.sent != expected_sends or pipeline.stateful.table.live:
            raise SystemExit(
                f"replay went wrong: {sender.sent} sent of {expected_sends}, "
                f"{pipeline.stateful.table.live} transactions left"
            )
        return elapsed, per_kind, drain

    if options.profile:
        print_profile(options, one_pass)
        return

    clock_cost = min(timeit.repeat(time.process_time_ns, number=100_000, repeat=5)) / 100_000
    sample = calls[0][0][0]
    reference = min(
        timeit.repeat(
            lambda: sample.split(b"\r\n"), number=20_000, repeat=5, timer=time.process_time
        )
    )
    passes = [one_pass() for _ in range(5)]
    best_total = min(total for total, _, _ in passes)
    print(f"reference bytes.split of the INVITE: {reference / 20_000 * 1e6:.3f} µs")
    for kind, label in enumerate(LABELS):
        best = min(per_kind[kind] for _, per_kind, _ in passes) / len(calls) / 1000
        print(f"{best - clock_cost * 1e6:8.2f} µs  {label} ({len(calls[0][kind][0])} bytes)")
    drain = min(d for _, _, d in passes) / len(calls) / 1000
    print(f"{drain:8.2f} µs  timers fired at the end, per call")
    per_call = best_total / len(calls) * 1e6
    print(f"{per_call / len(LABELS):8.2f} µs  mean per message")
    print(f"{per_call:8.2f} µs  per call of 6 messages ({len(calls)} distinct calls, in order)")


if __name__ == "__main__":
    main()
