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
import cProfile
import gc
import importlib.util
import pstats
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.core.pipeline import Pipeline  # noqa: E402
from runtime.core.script import RouteTable  # noqa: E402
from runtime.server import GC_THRESHOLD  # noqa: E402
from runtime.transport.socketinfo import SocketInfo  # noqa: E402
from runtime.transport.source import Source  # noqa: E402
from runtime.usrloc import TABLES  # noqa: E402

ANCHOR = Path("/work/shared/bench/anchors/opensips/registrar.cfg")
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


class CaptureSender:
    """Stands in for `Transports`: counts what is sent, keeps the last datagram."""

    def __init__(self) -> None:
        self.sockets = [PROXY]
        self.last = b""
        self.sent = 0

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.last = data
        self.sent += 1
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.last = data
        self.sent += 1
        return True


def compile_anchor(workdir: str, reuse: bool = False) -> ModuleType:
    """`sipc build` registrar.cfg as run-proxy.sh renders it, and import the module
    (`reuse`: the one built in `workdir` before, as it is)."""
    text = ANCHOR.read_text()
    for placeholder, value in (
        ("@LISTEN_IP@", PROXY.ip),
        ("@LISTEN_PORT@", str(PROXY.port)),
        ("@CHILDREN@", "1"),
        ("@MPATH@", "/nonexistent"),
    ):
        text = text.replace(placeholder, value)
    cfg = Path(workdir) / "registrar.cfg"
    cfg.write_text(text)
    sipc = Path(sys.executable).with_name("sipc")
    if not reuse or not (Path(workdir) / "registrar.py").exists():
        subprocess.run(
            [str(sipc), "build", str(cfg), "-o", workdir], check=True, capture_output=True
        )
    spec = importlib.util.spec_from_file_location("bench_registrar", Path(workdir) / "registrar.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def new_pipeline(routes: RouteTable) -> tuple[Pipeline, CaptureSender]:
    TABLES.close()  # an empty location table: every AOR is new again
    sender = CaptureSender()
    pipeline = Pipeline(routes)
    pipeline.attach(sender)  # type: ignore[arg-type]
    return pipeline, sender


def collect_like_the_server() -> None:
    """The server's collector settings (runtime/server.py): what is loaded is frozen out
    of the scans, generation 0 is collected every GC_THRESHOLD allocations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--registers", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--built", metavar="DIR", help="build the route module in DIR once, then reuse it"
    )
    parser.add_argument("--sort", default="tottime", help="cProfile order (tottime, cumtime)")
    parser.add_argument("--lines", type=int, default=40, help="cProfile rows printed")
    parser.add_argument("--profile-out", help="also write the cProfile data to this file")
    parser.add_argument("--show", action="store_true", help="print one REGISTER and its 200")
    options = parser.parse_args()
    if options.built:
        Path(options.built).mkdir(parents=True, exist_ok=True)
        module = compile_anchor(options.built, reuse=True)
    else:
        with tempfile.TemporaryDirectory() as workdir:
            module = compile_anchor(workdir)
    routes: RouteTable = module.ROUTES
    messages = [register(n) for n in range(options.registers)]
    source = Source(PROXY, *UAC)
    collect_like_the_server()

    if options.show:
        pipeline, sender = new_pipeline(routes)
        pipeline.receive(messages[0], source)
        print(f"{messages[0].decode()}--- answer\n{sender.last.decode()}")
        return

    def one_pass() -> float:
        pipeline, sender = new_pipeline(routes)
        receive = pipeline.receive
        started = time.process_time()
        for data in messages:
            receive(data, source)
        elapsed = time.process_time() - started
        if sender.sent != len(messages) or not sender.last.startswith(b"SIP/2.0 200 "):
            raise SystemExit(f"went wrong: {sender.sent} answers, last:\n{sender.last.decode()}")
        return elapsed

    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        one_pass()
        profiler.disable()
        stats = pstats.Stats(profiler)
        if options.profile_out:
            stats.dump_stats(options.profile_out)
        stats.sort_stats(options.sort).print_stats(options.lines)
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
