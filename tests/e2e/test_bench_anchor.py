"""The bench's own OpenSIPS script, unchanged, served by sipc through the bench's harness.

`../shared/bench/run-proxy.sh start sipc stateless` renders anchors/opensips/stateless.cfg,
checks it with `sipc check` and serves it with `sipc run`; `sipp-load.sh` then drives
1,000 calls through it. Skipped, with the reason, where SIPp or ../shared/bench is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sipp, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO.parent / "shared" / "bench"


def _sipc_bin() -> str:
    found = Path(sys.executable).with_name("sipc")
    return str(found) if found.exists() else shutil.which("sipc") or "sipc"


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (sip-tester) is not installed")
@pytest.mark.skipif(not (BENCH / "run-proxy.sh").is_file(), reason=f"{BENCH} is absent")
def test_stateless_anchor_carries_a_thousand_calls(tmp_path: Path) -> None:
    from tests.e2e.test_sipp_calls import free_port

    port = free_port()
    env = dict(os.environ, SIPC_BIN=_sipc_bin(), SIPC_CACHE_DIR=str(tmp_path / "cache"))
    start = subprocess.run(
        ["bash", str(BENCH / "run-proxy.sh"), "start", "sipc", "stateless",
         "-l", f"127.0.0.1:{port}", "-d", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert start.returncode == 0, start.stdout + start.stderr
    pid = start.stdout.strip().splitlines()[-1]
    try:
        load = subprocess.run(
            ["bash", str(BENCH / "sipp-load.sh"), "-p", f"127.0.0.1:{port}", "-P", pid,
             "-m", "call", "-r", "200", "-t", "5", "-u", f"127.0.0.1:{free_port()}",
             "-c", str(free_port()), "-q"],
            capture_output=True, text=True, env=env, timeout=90, check=False,
        )  # fmt: skip
    finally:
        subprocess.run(["bash", str(BENCH / "run-proxy.sh"), "stop", pid],
                       capture_output=True, env=env, timeout=30, check=False)  # fmt: skip
    line = next((ln for ln in load.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, load.stdout + load.stderr
    fields = line.split("\t")
    attempted, successful, failed = int(fields[4]), int(fields[5]), int(fields[6])
    assert (attempted, successful, failed) == (1000, 1000, 0), line
