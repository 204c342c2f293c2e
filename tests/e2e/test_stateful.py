"""Transaction-stateful calls through sipc with SIPp as the peers, on 127.0.0.1.

- samples/stateful.cfg (`sipc run`) and the bench's unchanged stateful and registrar
  anchors (`../shared/bench/run-proxy.sh` + `sipp-load.sh`): 1,000 calls, none failed;
- CANCEL: drachtio's uac-cancel/uas-cancel pair (../shared/corpus/sipp), which needs the
  proxy's 100 Trying and its hop-by-hop CANCEL, 487 and ACK;
- serial forking from a failure_route: the first UAS answers 486, the script sends the
  INVITE on to a second UAS, which answers.

Skipped, with the reason, where SIPp or ../shared is absent.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sipp, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
BENCH = SHARED / "bench"
CORPUS_SIPP = SHARED / "corpus" / "sipp"
SIPP = shutil.which("sipp")

if SIPP is None:
    pytest.skip("sipp (Debian package sip-tester) is not on PATH", allow_module_level=True)

from tests.e2e.test_sipp_calls import _listening, free_port  # noqa: E402


def _sipc_bin() -> str:
    found = Path(sys.executable).with_name("sipc")
    return str(found) if found.exists() else shutil.which("sipc") or "sipc"


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared is not beside this checkout")


class Proxy:
    """`python -m compiler run CFG` on a free UDP port, stopped by its PID."""

    def __init__(self, cfg: Path, tmp_path: Path) -> None:
        self.port = free_port()
        self.log = tmp_path / "proxy.log"
        env = dict(os.environ, PYTHONPATH=str(REPO), SIPC_CACHE_DIR=str(tmp_path / "cache"))
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "compiler", "run", str(cfg),
                 "-l", f"udp:127.0.0.1:{self.port}", "--log-level", "WARNING"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while not _listening("udp", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"proxy did not start: {self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Uas:
    """A SIPp server scenario in the background, asked to quit (SIGUSR1) at the end."""

    def __init__(self, scenario: list[str], tmp_path: Path, name: str) -> None:
        assert SIPP is not None
        self.port = free_port()
        self.stats = tmp_path / f"{name}.csv"
        self.out = (tmp_path / f"{name}.out").open("wb")
        self.process = subprocess.Popen(
            [SIPP, *scenario, "-i", "127.0.0.1", "-p", str(self.port), "-nostdin",
             "-mp", str(free_port()), "-cp", str(free_port()),
             "-trace_stat", "-stf", str(self.stats), "-fd", "1"],
            cwd=tmp_path, stdout=self.out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(0.3)  # let it bind before the first INVITE reaches it

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGUSR1)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.out.close()
        return _last_counts(self.stats)


def _last_counts(stats: Path) -> dict[str, int]:
    if not stats.exists():
        return {}
    rows = list(csv.DictReader(stats.open(), delimiter=";"))
    if not rows:
        return {}
    last = rows[-1]
    return {
        key: int(last[column])
        for key, column in (
            ("calls", "OutgoingCall(C)"),
            ("incoming", "IncomingCall(C)"),
            ("successful", "SuccessfulCall(C)"),
            ("failed", "FailedCall(C)"),
        )
        if last.get(column, "").isdigit()
    }


def run_uac(
    scenario: list[str], target: str, proxy_port: int, tmp_path: Path, calls: int, rate: int
) -> dict[str, int]:
    assert SIPP is not None
    stats = tmp_path / "uac.csv"
    result = subprocess.run(
        [SIPP, target, "-rsa", f"127.0.0.1:{proxy_port}", *scenario, "-s", "bench",
         "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
         "-cp", str(free_port()), "-nostdin", "-m", str(calls), "-r", str(rate),
         "-timeout", "40s", "-recv_timeout", "5000", "-trace_stat", "-stf", str(stats)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, check=False,
    )  # fmt: skip
    counts = _last_counts(stats)
    counts["returncode"] = result.returncode
    return counts


# ---------------------------------------------------------------------- (a) the sample


def test_the_stateful_sample_carries_a_thousand_calls(tmp_path: Path) -> None:
    scenarios = BENCH / "scenarios"
    _need(scenarios / "uac.xml")
    config = tmp_path / "stateful.cfg"
    config.write_text((REPO / "samples" / "stateful.cfg").read_text())
    proxy = Proxy(config, tmp_path)
    uas = Uas(["-sf", str(scenarios / "uas.xml")], tmp_path, "uas")
    try:
        uac = run_uac(["-sf", str(scenarios / "uac.xml")], f"127.0.0.1:{uas.port}",
                      proxy.port, tmp_path, 1000, 250)  # fmt: skip
    finally:
        server = uas.stop()
        proxy.stop()
    assert (uac.get("successful"), uac.get("failed")) == (1000, 0), (uac, proxy.log.read_text())
    assert server.get("failed") == 0, server
    assert proxy.process.returncode == 0, proxy.log.read_text()


# ---------------------------------------------------------------------- (a, b) the anchors


def _anchor(anchor: str, mode: str, tmp_path: Path) -> list[str]:
    _need(BENCH / "run-proxy.sh")
    port = free_port()
    env = dict(os.environ, SIPC_BIN=_sipc_bin(), SIPC_CACHE_DIR=str(tmp_path / "cache"))
    start = subprocess.run(
        ["bash", str(BENCH / "run-proxy.sh"), "start", "sipc", anchor,
         "-l", f"127.0.0.1:{port}", "-d", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert start.returncode == 0, start.stdout + start.stderr
    pid = start.stdout.strip().splitlines()[-1]
    try:
        load = subprocess.run(
            ["bash", str(BENCH / "sipp-load.sh"), "-p", f"127.0.0.1:{port}", "-P", pid,
             "-m", mode, "-r", "250", "-t", "4", "-u", f"127.0.0.1:{free_port()}",
             "-c", str(free_port()), "-q"],
            capture_output=True, text=True, env=env, timeout=90, check=False,
        )  # fmt: skip
    finally:
        subprocess.run(["bash", str(BENCH / "run-proxy.sh"), "stop", pid],
                       capture_output=True, env=env, timeout=30, check=False)  # fmt: skip
    line = next((ln for ln in load.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, load.stdout + load.stderr
    return line.split("\t")


def test_the_stateful_anchor_carries_a_thousand_calls(tmp_path: Path) -> None:
    fields = _anchor("stateful", "call", tmp_path)
    attempted, successful, failed = int(fields[4]), int(fields[5]), int(fields[6])
    assert (attempted, successful, failed) == (1000, 1000, 0), fields


def test_the_registrar_anchor_finds_the_registered_user_a_thousand_times(
    tmp_path: Path,
) -> None:
    fields = _anchor("registrar", "lookup", tmp_path)
    attempted, successful, failed = int(fields[4]), int(fields[5]), int(fields[6])
    assert (attempted, successful, failed) == (1000, 1000, 0), fields


# ---------------------------------------------------------------------- (c) CANCEL


def test_a_cancel_ends_the_ringing_call_on_both_sides(tmp_path: Path) -> None:
    _need(CORPUS_SIPP / "drachtio-uac-cancel.xml")
    config = tmp_path / "stateful.cfg"
    config.write_text((REPO / "samples" / "stateful.cfg").read_text())
    proxy = Proxy(config, tmp_path)
    uas = Uas(["-sf", str(CORPUS_SIPP / "drachtio-uas-cancel.xml")], tmp_path, "uas")
    calls = 20
    try:
        uac = run_uac(["-sf", str(CORPUS_SIPP / "drachtio-uac-cancel.xml")],
                      f"127.0.0.1:{uas.port}", proxy.port, tmp_path, calls, 20)  # fmt: skip
    finally:
        server = uas.stop()
        proxy.stop()
    # the UAC got 100 (ours), 180, then 487 for its CANCEL; the UAS got our CANCEL,
    # answered 487 and got our ACK
    assert (uac.get("successful"), uac.get("failed")) == (calls, 0), uac
    assert (server.get("successful"), server.get("failed")) == (calls, 0), server


# ---------------------------------------------------------------------- (d) serial forking

BUSY_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy">
  <recv request="INVITE" />
  <send>
    <![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]busy[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" />
</scenario>
"""

SERIAL_FORK_CFG = """
socket = udp:127.0.0.1:5060
loadmodule "proto_udp.so"
loadmodule "signaling.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sipmsgops.so"

route {
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
            exit;
        }
        if (is_method("ACK") && t_check_trans())
            t_relay();
        exit;
    }
    record_route();
    $avp(next) = "sip:answer@127.0.0.1:@ANSWER@";
    $ru = "sip:busy@127.0.0.1:@BUSY@";
    t_on_failure("next_one");
    if (!t_relay())
        send_reply(500, "Relay Error");
}

failure_route[next_one] {
    if (t_check_status("486")) {
        $ru = $avp(next);
        t_relay();
    }
}
"""


def test_a_failure_route_forks_serially_to_a_second_callee(tmp_path: Path) -> None:
    scenarios = BENCH / "scenarios"
    _need(scenarios / "uas.xml")
    busy_file = tmp_path / "busy.xml"
    busy_file.write_text(BUSY_UAS)
    busy = Uas(["-sf", str(busy_file)], tmp_path, "busy")
    answer = Uas(["-sf", str(scenarios / "uas.xml")], tmp_path, "answer")
    config = tmp_path / "serial.cfg"
    config.write_text(
        SERIAL_FORK_CFG.replace("@BUSY@", str(busy.port)).replace("@ANSWER@", str(answer.port))
    )
    proxy = None
    calls = 50
    try:
        proxy = Proxy(config, tmp_path)
        # the UAC calls somebody else: only the script's targets can answer
        uac = run_uac(["-sf", str(scenarios / "uac.xml")], f"127.0.0.1:{free_port()}",
                      proxy.port, tmp_path, calls, 50)  # fmt: skip
    finally:
        busy_counts = busy.stop()
        answer_counts = answer.stop()
        if proxy is not None:
            proxy.stop()
    assert (uac.get("successful"), uac.get("failed")) == (calls, 0), uac
    assert busy_counts.get("successful") == calls, busy_counts  # each 486 was ACKed
    assert answer_counts.get("successful") == calls, answer_counts
