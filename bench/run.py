"""`make bench`: sipc against Kamailio (and OpenSIPS when built) on the bench anchor scripts.

Every proxy runs the same anchors through ../shared/bench/run-proxy.sh (sipc runs the very
OpenSIPS scripts), and SIPp drives the same load with ../shared/bench/sipp-load.sh, in one
invocation, so the figures compare. Output: one markdown table of proxy CPU per call
(µs, all of the proxy's processes) with the ratios to Kamailio and OpenSIPS measured in the
same run, and to OpenSIPS's figure from ../shared/bench/RESULTS.md on this kind of machine.
The machine is shared and its speed drifts from day to day, so the same-run ratios are the
figures to read.

OpenSIPS runs when `opensips` is on PATH or OPENSIPS_BIN names it (OPENSIPS_MPATH: its
modules folder). Nothing of OpenSIPS is in this repository: it is built outside the
checkout, from its own sources, at the version RESULTS.md used (3.6.8).

    .venv/bin/python bench/run.py                          # all anchors, 1000 calls/s, 10 s
    .venv/bin/python bench/run.py --anchors stateless --rate 2000 --secs 5
    .venv/bin/python bench/run.py --sweep stateful          # max clean calls/s, one worker
    .venv/bin/python bench/run.py --compiled-vs-handwritten # samples/stateless.cfg compiled vs by hand
    .venv/bin/python bench/run.py --floor                  # stateless and REGISTER vs no SIP work at all
    .venv/bin/python bench/run.py --rss [STEPS]             # RSS after 1k, then per 100k calls

Never a test: timings vary with the machine's load; run it by hand and read the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
# (anchor, SIPp mode) -> OpenSIPS 3.6.8 proxy µs per call at 1000/s, one worker (RESULTS.md)
OPENSIPS_US = {
    ("stateless", "call"): 113.0,
    ("stateful", "call"): 196.0,
    ("registrar", "lookup"): 186.0,
    ("registrar", "register"): 38.0,
}
LOADS = [
    ("stateless", "call"),
    ("stateful", "call"),
    ("registrar", "lookup"),
    ("registrar", "register"),
]


@dataclass
class Result:
    proxy: str
    anchor: str
    mode: str
    attempted: int
    successful: int
    failed: int
    achieved: float
    us_per_call: float


def _env() -> dict[str, str]:
    env = dict(os.environ)
    sipc = ROOT / ".venv" / "bin" / "sipc"
    env.setdefault("SIPC_BIN", str(sipc if sipc.exists() else shutil.which("sipc") or "sipc"))
    return env


def _peer_ports(port: int) -> list[str]:
    """SIPp's UAS and UAC ports next to the proxy's, so runs on other ports do not collide."""
    return ["-u", f"127.0.0.1:{port + 10}", "-c", str(port + 20)]


def available_proxies() -> list[str]:
    proxies = ["sipc"]
    if shutil.which("kamailio"):
        proxies.append("kamailio")
    if os.environ.get("OPENSIPS_BIN") or shutil.which("opensips"):
        proxies.append("opensips")
    return proxies


def run_one(proxy: str, anchor: str, mode: str, rate: int, secs: int, port: int) -> Result | str:
    env = _env()
    start = subprocess.run(
        ["bash", str(BENCH / "run-proxy.sh"), "start", proxy, anchor, "-l", f"127.0.0.1:{port}", "-w", "1"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    if start.returncode != 0:
        return f"{proxy} {anchor}: did not start: {(start.stderr or start.stdout).strip()[-300:]}"
    pid = start.stdout.strip().splitlines()[-1]
    try:
        load = subprocess.run(
            ["bash", str(BENCH / "sipp-load.sh"), "-p", f"127.0.0.1:{port}", "-P", pid,
             "-m", mode, "-r", str(rate), "-t", str(secs), "-q", *_peer_ports(port)],
            capture_output=True, text=True, env=env, timeout=secs + 120, check=False,
        )  # fmt: skip
    finally:
        subprocess.run(["bash", str(BENCH / "run-proxy.sh"), "stop", pid],
                       capture_output=True, env=env, timeout=60, check=False)  # fmt: skip
    line = next((ln for ln in load.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        return f"{proxy} {anchor} {mode}: no RESULT line: {(load.stderr or load.stdout).strip()[-300:]}"
    f = line.split("\t")
    return Result(proxy, anchor, mode, int(f[4]), int(f[5]), int(f[6]), float(f[8]), float(f[10]))


def _serve(command: list[str], port: int) -> subprocess.Popen[bytes]:
    """Start a proxy process on udp:127.0.0.1:port and wait until the port is bound."""
    import socket
    import time

    env = dict(_env(), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [*command, "-l", f"udp:127.0.0.1:{port}"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return proc
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"bench: {' '.join(command)} did not start")


def _load(pid: int, port: int, rate: int, secs: int, mode: str = "call") -> list[str]:
    load = subprocess.run(
        ["bash", str(BENCH / "sipp-load.sh"), "-p", f"127.0.0.1:{port}", "-P", str(pid),
         "-m", mode, "-r", str(rate), "-t", str(secs), "-q", *_peer_ports(port)],
        capture_output=True, text=True, env=_env(), timeout=secs + 180, check=False,
    )  # fmt: skip
    line = next((ln for ln in load.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"bench: no RESULT line: {load.stderr[-300:]}")
    return line.split("\t")


def compiled_vs_handwritten(rate: int, secs: int, port: int) -> str:
    """samples/stateless.cfg compiled by `sipc run` vs bench/handwritten_stateless.py."""
    python = str(ROOT / ".venv" / "bin" / "python")
    runs = {
        "compiled (sipc run samples/stateless.cfg)": [
            python,
            "-m",
            "compiler",
            "run",
            "samples/stateless.cfg",
        ],
        "hand-written (bench/handwritten_stateless.py)": [python, "bench/handwritten_stateless.py"],
    }
    figures: dict[str, float] = {}
    out = [f"| module | calls ok / attempted | proxy µs/call @{rate}/s |", "|---|---|---|"]
    for label, command in runs.items():
        proc = _serve(command, port)
        try:
            f = _load(proc.pid, port, rate, secs)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        figures[label] = float(f[10])
        out.append(f"| {label} | {f[5]} / {f[4]} | {float(f[10]):.0f} |")
    a, b = figures.values()
    out.append(f"\ncompiled / hand-written = {a / b:.2f}")
    return "\n".join(out)


def floor(rate: int, secs: int, port: int, proxies: list[str]) -> str:
    """sipc (and, in the same run, the other proxies) on the stateless anchor and on
    REGISTER, beside bench/floor_relay.py doing the same with no SIP work at all."""
    python = str(ROOT / ".venv" / "bin" / "python")
    rows = []
    for anchor, mode, extra in (
        ("stateless", "call", []),
        ("registrar", "register", ["--register"]),
    ):
        for proxy in proxies:
            result = run_one(proxy, anchor, mode, rate, secs, port)
            if isinstance(result, str):
                raise SystemExit(f"bench: {result}")
            rows.append(
                (
                    f"{proxy}, {anchor} anchor",
                    mode,
                    result.successful,
                    result.attempted,
                    result.us_per_call,
                )
            )
        proc = _serve([python, "bench/floor_relay.py", *extra], port)
        try:
            f = _load(proc.pid, port, rate, secs, mode)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        what = "bare uvloop relay" if mode == "call" else "bare uvloop 200 OK"
        rows.append(
            (
                f"{what} (bench/floor_relay.py {' '.join(extra)})".replace(" )", ")"),
                mode,
                int(f[5]),
                int(f[4]),
                float(f[10]),
            )
        )
    return "\n".join([
        f"| process | load | calls ok / attempted | proxy µs/call @{rate}/s |",
        "|---|---|---|---|",
        *(f"| {name} | {mode} | {ok} / {attempted} | {us:.0f} |" for name, mode, ok, attempted, us in rows),
        "\nThe floor rows are what a Python process on uvloop costs for the same datagrams with no SIP work.",
    ])  # fmt: skip


def rss_growth(port: int, steps: int = 1) -> str:
    """RSS of the compiled stateless sample after 1,000 calls, then after each further
    100,000 (`steps` of them, at 2,000 calls/s): flat once its bounded caches are full."""
    python = str(ROOT / ".venv" / "bin" / "python")
    proc = _serve([python, "-m", "compiler", "run", "samples/stateless.cfg"], port)

    def rss_kb() -> int:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    lines = []
    try:
        result = _load(proc.pid, port, 1000, 1)
        calls, failed = int(result[5]), int(result[6])
        first = rss_kb()
        lines.append(f"RSS after {calls:,} calls: {first} kB")
        for _ in range(steps):
            result = _load(proc.pid, port, 2000, 50)
            calls, failed = calls + int(result[5]), failed + int(result[6])
            rss = rss_kb()
            lines.append(
                f"RSS after {calls:,} calls ({failed} failed): {rss} kB ({rss - first:+d} kB)"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return "\n".join(lines)


def table(results: list[Result], rate: int) -> str:
    """One row per run, with ratios to the C proxies measured in this same run (when they
    ran) and to OpenSIPS's figure in RESULTS.md (measured on a calmer day of this machine)."""
    out = [
        f"| anchor | load | proxy | calls ok / attempted | failed | achieved /s | proxy µs/call @{rate}/s "
        "| × Kamailio (same run) | × OpenSIPS (same run) | × OpenSIPS (RESULTS.md) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    same_run = {(r.proxy, r.anchor, r.mode): r.us_per_call for r in results}

    def ratio(r: Result, baseline: float | None) -> str:
        return f"{r.us_per_call / baseline:.2f}" if baseline else "–"

    for r in results:
        kam = same_run.get(("kamailio", r.anchor, r.mode)) if r.proxy != "kamailio" else None
        ops = same_run.get(("opensips", r.anchor, r.mode)) if r.proxy != "opensips" else None
        out.append(
            f"| {r.anchor} | {r.mode} | {r.proxy} | {r.successful} / {r.attempted} | {r.failed} "
            f"| {r.achieved:.0f} | {r.us_per_call:.0f} | {ratio(r, kam)} | {ratio(r, ops)} "
            f"| {ratio(r, OPENSIPS_US.get((r.anchor, r.mode)))} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--anchors", default="stateless,stateful,registrar")
    parser.add_argument("--proxies", default=",".join(available_proxies()))
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--secs", type=int, default=10)
    parser.add_argument("--port", type=int, default=15060)
    parser.add_argument("--sweep", metavar="ANCHOR", help="run sweep.sh for sipc on ANCHOR instead")
    parser.add_argument("--compiled-vs-handwritten", action="store_true")
    parser.add_argument(
        "--rss",
        type=int,
        nargs="?",
        const=1,
        metavar="STEPS",
        help="RSS after 1k calls, then after each of STEPS more 100k (default 1)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="stateless and REGISTER vs a process that does no SIP work",
    )
    args = parser.parse_args(argv)
    if not (BENCH / "run-proxy.sh").is_file():
        print(f"bench: {BENCH} is absent (the shared bench harness)", file=sys.stderr)
        return 2
    if shutil.which("sipp") is None:
        print("bench: sipp is not installed (apt-get install sip-tester)", file=sys.stderr)
        return 2
    if args.compiled_vs_handwritten:
        print(compiled_vs_handwritten(args.rate, args.secs, args.port))
        return 0
    if args.rss:
        print(rss_growth(args.port, args.rss))
        return 0
    if args.floor:
        print(floor(args.rate, args.secs, args.port, args.proxies.split(",")))
        return 0
    if args.sweep:
        mode = "call" if args.sweep != "registrar" else "lookup"
        return subprocess.run(
            ["bash", str(BENCH / "sweep.sh"), "sipc", args.sweep, mode, "1", "500", "1000", "2000", "4000"],
            env=_env(), check=False,
        ).returncode  # fmt: skip
    anchors = set(args.anchors.split(","))
    results: list[Result] = []
    for anchor, mode in LOADS:
        if anchor not in anchors:
            continue
        for proxy in args.proxies.split(","):
            got = run_one(proxy, anchor, mode, args.rate, args.secs, args.port)
            if isinstance(got, str):
                print(f"bench: {got}", file=sys.stderr)
            else:
                results.append(got)
                print(
                    f"bench: {proxy} {anchor} {mode}: {got.us_per_call:.0f} µs/call",
                    file=sys.stderr,
                )
    print(table(results, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
