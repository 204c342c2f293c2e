"""Per-message cost of the stateless proxy path, no sockets (DESIGN.md "The hot path").

Run: .venv/bin/python bench/pipeline_bench.py [--number N] [--profile]

Compiles the bench anchor `stateless.cfg` (`mf_process_maxfwd_header(10)` then
`forward()`) with `sipc build`, then feeds `Pipeline.receive` the six messages of one
call as the bench's SIPp scenarios send them through a proxy on 127.0.0.1:15060
(INVITE, 180, 200, ACK with Route, BYE with Route, 200), capturing what the pipeline
sends instead of sending it. Prints µs per message for each kind and per call, best of
5 runs, plus a reference operation (a bytes.split of the INVITE) so runs on a busy
machine can be compared as ratios. `--profile` prints a cProfile of the whole call.
No assertion: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.core.pipeline import Pipeline  # noqa: E402
from runtime.core.script import RouteTable  # noqa: E402
from runtime.transport.socketinfo import SocketInfo  # noqa: E402
from runtime.transport.source import Source  # noqa: E402

ANCHOR = Path("/work/shared/bench/anchors/opensips/stateless.cfg")
PROXY = SocketInfo("udp", "127.0.0.1", 15060, socket.AF_INET)
UAC = ("127.0.0.1", 15080)
UAS = ("127.0.0.1", 15070)

_SDP = (
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
_CALL = b"1-28111@127.0.0.1"
_FROM = b'From: "Bench Caller" <sip:caller@127.0.0.1:15080>;tag=28111c1\r\n'
_TO = b"To: <sip:bench@127.0.0.1:15070>"
_UAC_VIA = b"Via: SIP/2.0/UDP 127.0.0.1:15080;branch=z9hG4bK-28111-1-0;rport\r\n"
_UAC_VIA_STAMPED = (
    b"Via: SIP/2.0/UDP 127.0.0.1:15080;branch=z9hG4bK-28111-1-0;received=127.0.0.1;rport=15080\r\n"
)
_PROXY_VIA = b"Via: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK6b0c1f2e3d4a5b6c7d8e\r\n"
_ROUTE = b"Route: <sip:127.0.0.1:15060;lr>\r\n"
_RR = b"Record-Route: <sip:127.0.0.1:15060;lr>\r\n"

INVITE = (
    b"INVITE sip:bench@127.0.0.1:15070 SIP/2.0\r\n"
    + _UAC_VIA
    + b"Max-Forwards: 70\r\n"
    + _FROM
    + _TO
    + b"\r\nCall-ID: "
    + _CALL
    + b"\r\nCSeq: 1 INVITE\r\n"
    b"Contact: <sip:caller@127.0.0.1:15080>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
    b"User-Agent: steering-bench-uac\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(_SDP)).encode() + b"\r\n\r\n" + _SDP
)


def _reply(status: bytes, cseq: bytes, *, record_route: bool, body: bytes = b"") -> bytes:
    return (
        b"SIP/2.0 "
        + status
        + b"\r\n"
        + _PROXY_VIA
        + _UAC_VIA_STAMPED
        + (_RR if record_route else b"")
        + _FROM
        + _TO
        + b";tag=28112SIPpTag011\r\nCall-ID: "
        + _CALL
        + b"\r\nCSeq: "
        + cseq
        + b"\r\n"
        b"Contact: <sip:127.0.0.1:15070;transport=UDP>\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def _in_dialog(method: bytes, cseq: bytes) -> bytes:
    return (
        method
        + b" sip:127.0.0.1:15070;transport=UDP SIP/2.0\r\n"
        + _UAC_VIA
        + _ROUTE
        + b"Max-Forwards: 70\r\n"
        + _FROM
        + _TO
        + b";tag=28112SIPpTag011\r\nCall-ID: "
        + _CALL
        + b"\r\nCSeq: "
        + cseq
        + b"\r\n"
        b"Contact: <sip:caller@127.0.0.1:15080>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


# (label, bytes, where it comes from)
CALL: list[tuple[str, bytes, tuple[str, int]]] = [
    ("INVITE", INVITE, UAC),
    ("180", _reply(b"180 Ringing", b"1 INVITE", record_route=True), UAS),
    ("200 INVITE", _reply(b"200 OK", b"1 INVITE", record_route=True, body=_SDP), UAS),
    ("ACK (Route)", _in_dialog(b"ACK", b"1 ACK"), UAC),
    ("BYE (Route)", _in_dialog(b"BYE", b"2 BYE"), UAC),
    ("200 BYE", _reply(b"200 OK", b"2 BYE", record_route=False), UAS),
]


class CaptureSender:
    """Stands in for `Transports`: keeps the last message sent, sends nothing."""

    def __init__(self) -> None:
        self.sockets = [PROXY]
        self.sent: list[tuple[str, int, bytes]] = []

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.last = (ip, port, data)
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.last = (source.ip, source.port, data)
        return True


def compile_anchor(workdir: str) -> ModuleType:
    """`sipc build` the anchor as run-proxy.sh renders it, and import the route module."""
    text = ANCHOR.read_text()
    for placeholder, value in (
        ("@LISTEN_IP@", PROXY.ip),
        ("@LISTEN_PORT@", str(PROXY.port)),
        ("@CHILDREN@", "1"),
        ("@MPATH@", "/nonexistent"),
    ):
        text = text.replace(placeholder, value)
    cfg = Path(workdir) / "stateless.cfg"
    cfg.write_text(text)
    sipc = Path(sys.executable).with_name("sipc")
    subprocess.run([str(sipc), "build", str(cfg), "-o", workdir], check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location("bench_stateless", Path(workdir) / "stateless.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show", action="store_true", help="print what each message becomes")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        module = compile_anchor(workdir)
    routes: RouteTable = module.ROUTES
    sender = CaptureSender()
    pipeline = Pipeline(routes)
    pipeline.attach(sender)  # type: ignore[arg-type]
    sources = {addr: Source(PROXY, addr[0], addr[1]) for addr in (UAC, UAS)}
    receive = pipeline.receive
    steps = [(label, data, sources[addr]) for label, data, addr in CALL]

    for label, data, source in steps:
        sender.last = ("", 0, b"")
        receive(data, source)
        ip, port, out = sender.last
        if not out:
            raise SystemExit(f"{label}: nothing sent (stats: {pipeline.stats.summary()})")
        if options.show:
            print(f"--- {label} -> {ip}:{port}\n{out.decode()}")

    def one_call() -> None:
        for _, data, source in steps:
            receive(data, source)

    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(options.number // 4):
            one_call()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return

    number = options.number
    reference = min(timeit.repeat(lambda: INVITE.split(b"\r\n"), number=number, repeat=5))
    print(
        f"pid {os.getpid()}; reference bytes.split of the INVITE: {reference / number * 1e6:.3f} µs"
    )
    total = 0.0
    for label, data, source in steps:
        best = min(
            timeit.repeat(lambda d=data, s=source: receive(d, s), number=number, repeat=5)  # type: ignore[misc]
        )
        per = best / number * 1e6
        total += per
        print(f"{per:8.2f} µs  {label} ({len(data)} bytes)")
    whole = min(timeit.repeat(one_call, number=number // 4, repeat=5)) / (number // 4) * 1e6
    print(f"{total / len(steps):8.2f} µs  mean per message")
    print(f"{whole:8.2f} µs  per call of 6 messages (run as a call)")


if __name__ == "__main__":
    main()
