"""Per-message cost of the stateless proxy path, no sockets (DESIGN.md "The hot path").

Run: .venv/bin/python bench/pipeline_bench.py [--calls N] [--profile] [--show]

Compiles the bench anchor `stateless.cfg` (`mf_process_maxfwd_header(10)` then
`forward()`) with `sipc build` and feeds `Pipeline.receive` the bench's SIPp call
(bench/_calls.py) through a proxy on 127.0.0.1:15060: INVITE, 180, 200, ACK with Route,
BYE with Route, 200. Every call has its own Call-ID, tags and branches, and the replies
are built the way the SIPp UAS builds them, from the request the proxy really forwarded,
so nothing is parsed from a cache it would not be in under load. A recording pass makes
the messages; the timed passes replay them in call order.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _anchors import ANCHORS, build_anchor  # noqa: E402  (bench/ is on sys.path)
from _calls import CaptureSender, Peers, receive_all, record_calls, report, show_call  # noqa: E402

import runtime.sip.message as sip_message  # noqa: E402
from runtime.core.pipeline import Pipeline  # noqa: E402
from runtime.core.script import RouteTable  # noqa: E402
from runtime.transport.socketinfo import SocketInfo  # noqa: E402

ANCHOR = ANCHORS / "stateless.cfg"
PROXY = SocketInfo("udp", "127.0.0.1", 15060, socket.AF_INET)
PEERS = Peers(PROXY, ("127.0.0.1", 15080), ("127.0.0.1", 15070), "sip:bench@127.0.0.1:15070")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show", action="store_true", help="print one call as the proxy sends it")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        module = build_anchor(ANCHOR, PROXY, workdir)
    routes: RouteTable = module.ROUTES

    def new_pipeline() -> tuple[Pipeline, CaptureSender]:
        sender = CaptureSender(PROXY)
        pipeline = Pipeline(routes)
        pipeline.attach(sender)
        return pipeline, sender

    calls = record_calls(PEERS, new_pipeline, options.calls)
    if options.show:
        show_call(calls[0], *new_pipeline())
        return

    def one_pass() -> tuple[float, list[float]]:
        """Whole pass in CPU seconds, and per kind in CPU ns."""
        getattr(sip_message, "_VIA_OF_TEXT", {}).clear()  # as in a fresh process: nothing cached
        pipeline, _ = new_pipeline()
        started = time.process_time()
        per_kind = receive_all(pipeline, calls, lambda _number: None)
        return time.process_time() - started, per_kind

    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        one_pass()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
        return

    passes = [one_pass() for _ in range(5)]
    report(calls, [total for total, _ in passes], [per_kind for _, per_kind in passes])


if __name__ == "__main__":
    main()
