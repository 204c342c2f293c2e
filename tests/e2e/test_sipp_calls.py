"""1,000 SIPp calls uac -> sipc proxy -> uas over UDP and over TCP, with a malformed flood.

The proxy is samples/stateless.cfg, compiled and served by `sipc run` in a subprocess
on 127.0.0.1. SIPp is the peer we did not write;
the bench scenarios (`../shared/bench/scenarios`, loose-routed ACK/BYE through our
Record-Route) are used when present, SIPp's built-in uac/uas otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sipp, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BENCH_SCENARIOS = REPO.parent / "shared" / "bench" / "scenarios"
SIPP = shutil.which("sipp")
CALLS = 1000
RATE = 200

if SIPP is None:
    pytest.skip("sipp (Debian package sip-tester) is not on PATH", allow_module_level=True)


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on 127.0.0.1")


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    port: int
    stats_file: Path
    log_file: Path

    def stop(self) -> tuple[int, dict[str, int]]:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        return code, json.loads(self.stats_file.read_text())


def start_proxy(proto: str, tmp_path: Path) -> Proxy:
    port = free_port()
    stats_file = tmp_path / "proxy-stats.json"
    log_file = tmp_path / "proxy.log"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "compiler", "run", str(REPO / "samples/stateless.cfg"),
             "-l", f"{proto}:127.0.0.1:{port}", "--stats-file", str(stats_file),
             "--log-level", "WARNING"],
            cwd=REPO, env=dict(env, SIPC_CACHE_DIR=str(tmp_path / "cache")),
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 15
    while not _listening(proto, port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"proxy did not start: {log_file.read_text()}")
        time.sleep(0.05)
    return Proxy(process, port, stats_file, log_file)


def _listening(proto: str, port: int) -> bool:
    if proto == "tcp":
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True  # a probe connection: it closes without sending anything
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True  # bound by the proxy
        return False


def scenario_args(role: str) -> list[str]:
    scenario = BENCH_SCENARIOS / f"{role}.xml"
    if scenario.is_file():
        return ["-sf", str(scenario)]
    return ["-sn", role]


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    output: str


def run_calls(proto: str, proxy_port: int, tmp_path: Path) -> SippResult:
    assert SIPP is not None
    transport = ["-t", "t1"] if proto == "tcp" else ["-t", "u1"]
    uas_port, uac_port = free_port(), free_port()
    common = ["-i", "127.0.0.1", "-nostdin", *transport]
    uas_out = (tmp_path / "uas.out").open("wb")
    uas = subprocess.Popen(
        [SIPP, *scenario_args("uas"), "-p", str(uas_port), *common],
        cwd=tmp_path, stdout=uas_out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(0.3)  # let the UAS bind before the first INVITE reaches it
        stats = tmp_path / "uac.csv"
        uac = subprocess.run(
            [SIPP, f"127.0.0.1:{uas_port}", "-rsa", f"127.0.0.1:{proxy_port}",
             *scenario_args("uac"), "-s", "bench", "-p", str(uac_port), *common,
             "-r", str(RATE), "-m", str(CALLS), "-timeout", "45s", "-recv_timeout", "5000",
             "-trace_stat", "-stf", str(stats)],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
        )  # fmt: skip
    finally:
        uas.send_signal(signal.SIGUSR1)  # SIPp: quit gracefully
        try:
            uas.wait(timeout=5)
        except subprocess.TimeoutExpired:
            uas.kill()
            uas.wait()
        uas_out.close()
    rows = list(csv.DictReader(stats.open(), delimiter=";"))
    last = rows[-1]
    return SippResult(
        uac.returncode,
        int(last["SuccessfulCall(C)"]),
        int(last["FailedCall(C)"]),
        uac.stdout.decode(errors="replace")[-2000:],
    )


TRUNCATED_INVITE = (
    b"INVITE sip:bench@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-flood\r\n"
    b"From: <sip:flood@127.0.0.1>;tag=fl\r\n"
    b"To: <sip:bench@127.0.0.1>\r\n"
    b"Call-ID: flood@127.0.0.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Content-Le"  # cut before the end of the headers
)


class Flood:
    """Garbage datagrams and truncated SIP sent at the proxy while the calls run."""

    def __init__(self, port: int, garbage: int = 200, truncated: int = 100) -> None:
        self.port = port
        self.garbage = garbage
        self.truncated = truncated
        self.sent = 0
        self.answers = 0
        self.thread = threading.Thread(target=self._run, name="malformed-flood", daemon=True)

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(0.005)
            payloads = [os.urandom(20 + n % 200) for n in range(self.garbage)]
            payloads += [TRUNCATED_INVITE[: len(TRUNCATED_INVITE) - n % 5] for n in range(self.truncated)]
            payloads.sort(key=len)  # interleave the two kinds
            for payload in payloads:
                sock.sendto(payload, ("127.0.0.1", self.port))
                self.sent += 1
                try:
                    while sock.recv(4096).startswith(b"SIP/2.0 400"):
                        self.answers += 1
                except OSError:
                    pass

    def __enter__(self) -> Flood:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=30)


@pytest.fixture
def udp_proxy(tmp_path: Path) -> Iterator[Proxy]:
    proxy = start_proxy("udp", tmp_path)
    try:
        yield proxy
    finally:
        if proxy.process.poll() is None:
            proxy.process.kill()
            proxy.process.wait()


@pytest.fixture
def tcp_proxy(tmp_path: Path) -> Iterator[Proxy]:
    proxy = start_proxy("tcp", tmp_path)
    try:
        yield proxy
    finally:
        if proxy.process.poll() is None:
            proxy.process.kill()
            proxy.process.wait()


def test_thousand_calls_over_udp_with_a_malformed_flood(udp_proxy: Proxy, tmp_path: Path) -> None:
    with Flood(udp_proxy.port) as flood:
        result = run_calls("udp", udp_proxy.port, tmp_path)
    code, stats = udp_proxy.stop()
    assert result.returncode == 0, result.output
    assert (result.successful, result.failed) == (CALLS, 0), result.output
    assert code == 0, udp_proxy.log_file.read_text()
    assert flood.sent == 300
    assert stats["malformed"] == flood.sent
    # every truncated request carried what a 400 needs; garbage got no answer
    assert stats["malformed_answered"] == flood.truncated
    assert stats["script_errors"] == 0 and stats["callback_errors"] == 0
    assert stats["requests"] >= 3 * CALLS  # INVITE, ACK, BYE of every call


def test_thousand_calls_over_tcp(tcp_proxy: Proxy, tmp_path: Path) -> None:
    garbage_connections = 5
    for _ in range(garbage_connections):
        with socket.create_connection(("127.0.0.1", tcp_proxy.port), timeout=5) as sock:
            sock.sendall(b"NOT SIP AT ALL\r\nContent-Length: x\r\n\r\n")
            sock.recv(100)  # the proxy closes the connection
    result = run_calls("tcp", tcp_proxy.port, tmp_path)
    code, stats = tcp_proxy.stop()
    assert result.returncode == 0, result.output
    assert (result.successful, result.failed) == (CALLS, 0), result.output
    assert code == 0, tcp_proxy.log_file.read_text()
    assert stats["malformed"] == garbage_connections
    assert stats["tcp_connected"] >= 1  # the proxy's own connection to the UAS, reused
    assert stats["script_errors"] == 0 and stats["callback_errors"] == 0
