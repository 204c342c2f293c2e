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
from _calls import (  # noqa: E402
    CaptureSender,
    Peers,
    receive_all,
    record_calls,
    report,
    show_call,
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
CALL_PERIOD = 0.001  # seconds of fake time per call: 1,000 calls/s
TICK_EVERY = 20  # calls between two wheel ticks (the server's 20 ms)


class FakeClock:
    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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
    sender = CaptureSender(PROXY)
    pipeline = Pipeline(routes)
    pipeline.attach(sender)
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


def peers() -> Peers:
    return Peers(PROXY, UAC, UAS, RURI[0])


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

    def new_pipeline_and_sender() -> tuple[Pipeline, CaptureSender]:
        pipeline, sender, _ = new_pipeline(routes)
        return pipeline, sender

    deterministic_branch_ids()
    calls = record_calls(peers(), new_pipeline_and_sender, options.calls)
    collect_like_the_server()
    expected_sends = len(calls) * (6 if options.stateless else 7)  # + the 100 Trying

    if options.show:
        deterministic_branch_ids()
        pipeline, sender, _ = new_pipeline(routes)
        show_call(calls[0], pipeline, sender)
        return

    def one_pass() -> tuple[float, list[float], float]:
        """Whole pass in CPU seconds; per kind and the final tick in CPU ns."""
        deterministic_branch_ids()
        pipeline, sender, fake = new_pipeline(routes)
        tick = pipeline.stateful.tick

        def between(number: int) -> None:
            fake.now += CALL_PERIOD
            if number % TICK_EVERY == 0:
                tick()

        started = time.process_time()
        per_kind = receive_all(pipeline, calls, between)
        before = time.process_time_ns()
        fake.now += 100.0
        tick()
        drain = time.process_time_ns() - before
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

    passes = [one_pass() for _ in range(5)]
    report(calls, [total for total, _, _ in passes], [per_kind for _, per_kind, _ in passes])
    drain = min(d for _, _, d in passes) / len(calls) / 1000
    print(f"{drain:8.2f} µs  timers fired at the end, per call (in the figure above)")


if __name__ == "__main__":
    main()
