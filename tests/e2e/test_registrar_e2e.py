"""A registrar with digest authentication, driven by SIPp's challenge scenario, on SQLite.

The script below keeps OpenSIPS's tables: `subscriber` (auth_db) and `location` (usrloc,
write-through), in real SQLite files. SIPp's `uc360_register_challenge.xml` (from
../shared/corpus/sipp) registers user 16001: the first REGISTER gets a 401 challenge, the
second carries the digest and gets 200. Then the proxy is stopped and started again on
the same files, and a request for 16001 still reaches the contact it registered.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_sipp_calls import REPO, SIPP, free_port

pytestmark = [pytest.mark.sipp, pytest.mark.slow]

SCENARIOS = REPO.parent / "shared" / "corpus" / "sipp"
USER, PASSWORD, REALM = "16001", "asdfzxcvqwer", "127.0.0.1"

SCRIPT = """
log_level = 2
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "sipmsgops.so"
loadmodule "maxfwd.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("auth_db", "db_url", "sqlite://{auth_db}")
modparam("auth_db", "calculate_ha1", 1)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "")
modparam("usrloc", "db_mode", 1)
modparam("usrloc", "db_url", "sqlite://{loc_db}")

route {{
    if (!mf_process_maxfwd_header(10)) {{
        send_reply(483, "Too Many Hops");
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!www_authorize("", "subscriber")) {{
            www_challenge("", "auth");
            exit;
        }}
        consume_credentials();
        if (!save("location"))
            sl_reply_error();
        exit;
    }}
    if (!lookup("location")) {{
        send_reply(404, "Not Found");
        exit;
    }}
    forward();
}}
"""


def make_subscriber_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE version (table_name TEXT UNIQUE, table_version INTEGER)")
        db.execute("INSERT INTO version VALUES ('subscriber', 8)")
        db.execute(
            "CREATE TABLE subscriber (id INTEGER PRIMARY KEY, username TEXT, domain TEXT,"
            " password TEXT, ha1 TEXT, ha1_sha256 TEXT, ha1_sha512t256 TEXT)"
        )
        db.execute(
            "INSERT INTO subscriber (username, domain, password) VALUES (?, ?, ?)",
            (USER, REALM, PASSWORD),
        )


def start(script: Path, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(REPO), SIPC_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "compiler", "run", str(script), "-l", f"udp:127.0.0.1:{port}",
         "--log-level", "WARNING"],
        cwd=tmp_path, env=env, stdout=(tmp_path / "proxy.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return proc  # bound by the proxy
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    pytest.fail("proxy did not start: " + (tmp_path / "proxy.log").read_text())


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=20)


@pytest.mark.skipif(
    not (SCENARIOS / "uc360_register_challenge.xml").is_file(), reason=f"{SCENARIOS} is absent"
)
def test_digest_register_then_restart_keeps_the_binding(tmp_path: Path) -> None:
    assert SIPP is not None
    auth_db, loc_db = tmp_path / "auth.db", tmp_path / "location.db"
    make_subscriber_db(auth_db)
    script = tmp_path / "registrar.cfg"
    script.write_text(SCRIPT.format(auth_db=auth_db, loc_db=loc_db))
    port, ua_port = free_port(), free_port()

    proxy = start(script, port, tmp_path)
    try:
        sipp = subprocess.run(
            [SIPP, f"127.0.0.1:{port}", "-sf", str(SCENARIOS / "uc360_register_challenge.xml"),
             "-i", "127.0.0.1", "-p", str(ua_port), "-m", "1", "-nostdin", "-timeout", "20s",
             "-recv_timeout", "5000"],
            cwd=tmp_path, capture_output=True, timeout=40, check=False,
        )  # fmt: skip
    finally:
        assert stop(proxy) == 0
    assert sipp.returncode == 0, sipp.stdout.decode(errors="replace")[-2000:]
    with sqlite3.connect(loc_db) as db:
        rows = db.execute("SELECT username, contact FROM location").fetchall()
    assert rows == [(USER, f"sip:{USER}@127.0.0.1:{ua_port};line=10d9fd07f9eb2d0")]

    # A new process on the same files: the binding is there, the call is routed to it.
    proxy = start(script, port, tmp_path)
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ua,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as caller,
        ):
            ua.bind(("127.0.0.1", ua_port))
            ua.settimeout(5)
            caller.bind(("127.0.0.1", 0))
            invite = (
                f"INVITE sip:{USER}@127.0.0.1:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{caller.getsockname()[1]};rport;branch=z9hG4bK-restart\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\n"
                f"To: <sip:{USER}@127.0.0.1>\r\nCall-ID: restart-1\r\nCSeq: 1 INVITE\r\n"
                "Contact: <sip:alice@127.0.0.1>\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            caller.sendto(invite, ("127.0.0.1", port))
            forwarded = ua.recv(65535)
    finally:
        assert stop(proxy) == 0
    assert forwarded.startswith(
        f"INVITE sip:{USER}@127.0.0.1:{ua_port};line=10d9fd07f9eb2d0 SIP/2.0".encode()
    )
