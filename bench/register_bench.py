"""Per-REGISTER cost of the registrar path (registrar + usrloc), no sockets.

Run: .venv/bin/python bench/register_bench.py [--registers N] [--profile] [--show]

Compiles the bench anchor `registrar.cfg` (`t_check_trans`, `save("location")`) with
`sipc build` and feeds `Pipeline.receive` REGISTERs as the bench's SIPp scenario
(`../shared/bench/scenarios/register.xml`) sends them: one per AOR, every AOR new,
`Expires: 3600`, one Contact. The location table starts empty on every pass, so each
REGISTER is an insert and a 200 OK listing one binding.

Prints CPU µs per REGISTER (best of 5 passes) and the memory the location table holds
per binding; `--profile` prints a cProfile of one pass. No assertion: a measurement.
"""

from __future__ import annotations

import argparse
import gc
import socket
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _anchors import (  # noqa: E402  (bench/ is on sys.path)
    ANCHORS,
    add_profile_options,
    build_anchor,
    collect_like_the_server,
    print_profile,
)
from _calls import CaptureSender  # noqa: E402

from runtime.core.pipeline import Pipeline  # noqa: E402
from runtime.core.script import RouteTable  # noqa: E402
from runtime.transport.socketinfo import SocketInfo  # noqa: E402
from runtime.transport.source import Source  # noqa: E402
from runtime.usrloc import TABLES  # noqa: E402

ANCHOR = ANCHORS / "registrar.cfg"
PROXY = SocketInfo("udp", "127.0.0.1", 16060, socket.AF_INET)
UAC = ("127.0.0.1", 16080)


def register(n: int) -> bytes:
    """REGISTER number `n`, as register.xml writes it (user prefix `u`, call number n)."""
    return (
        f"REGISTER sip:127.0.0.1:16060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:16080;branch=z9hG4bK-3141-{n}-0;rport\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:u{n}@127.0.0.1>;tag=3141r{n}\r\n"
        f"To: <sip:u{n}@127.0.0.1>\r\n"
        f"Call-ID: {n}-3141@127.0.0.1\r\n"
        f"CSeq: 1 REGISTER\r\n"
        f"Contact: <sip:u{n}@127.0.0.1:16070>\r\n"
        f"Expires: 3600\r\n"
        f"User-Agent: steering-bench-reg\r\n"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def new_pipeline(routes: RouteTable) -> tuple[Pipeline, CaptureSender]:
    TABLES.close()  # an empty location table: every AOR is new again
    sender = CaptureSender(PROXY)
    pipeline = Pipeline(routes)
    pipeline.attach(sender)
    return pipeline, sender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--registers", type=int, default=5000)
    add_profile_options(parser)
    parser.add_argument("--show", action="store_true", help="print one REGISTER and its 200")
    options = parser.parse_args()
    if options.built:
        Path(options.built).mkdir(parents=True, exist_ok=True)
        module = build_anchor(ANCHOR, PROXY, options.built, reuse=True)
    else:
        with tempfile.TemporaryDirectory() as workdir:
            module = build_anchor(ANCHOR, PROXY, workdir)
    routes: RouteTable = module.ROUTES
    messages = [register(n) for n in range(options.registers)]
    source = Source(PROXY, *UAC)
    collect_like_the_server()

    if options.show:
        pipeline, sender = new_pipeline(routes)
        pipeline.receive(messages[0], source)
        print(f"{messages[0].decode()}--- answer\n{sender.last[2].decode()}")
        return

    def one_pass() -> float:
        pipeline, sender = new_pipeline(routes)
        receive = pipeline.receive
        started = time.process_time()
        for data in messages:
            receive(data, source)
        elapsed = time.process_time() - started
        if sender.sent != len(messages) or not sender.last[2].startswith(b"SIP/2.0 200 "):
            raise SystemExit(f"went wrong: {sender.sent} answers, last:\n{sender.last[2].decode()}")
        return elapsed

    if options.profile:
        print_profile(options, one_pass)
        return

    best = min(one_pass() for _ in range(5))
    print(f"{best / len(messages) * 1e6:8.2f} µs  per REGISTER ({len(messages)} new AORs)")

    # memory: what the table holds per binding once the REGISTERs are done
    pipeline, _ = new_pipeline(routes)
    pipeline.receive(messages[0], source)  # first use opens the table
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for data in messages[1:]:
        pipeline.receive(data, source)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"{(after - before) / (len(messages) - 1):8.0f} B   per registration held")


if __name__ == "__main__":
    main()
