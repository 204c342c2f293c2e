"""Every client/server pair of SIPp scenarios in ../shared/corpus/sipp, with sipc between.

The scenarios were written for SIPp against SIPp (or drachtio); here a transaction-stateful
sipc script that relays everything to the server side sits in the middle, as an outbound
proxy (`-rsa`). Each pair must complete its calls with none failed on either side, which
checks what the scenarios look at: headers they match with regular expressions (regexp.xml),
REGISTER relayed to a registrar and its Contact echoed back (mcd_register.xml), a digest
challenge and the authenticated retry crossing the proxy (uas-auth-register), and the
conditional branches of branchc/branchs (REGISTER, then an INVITE dialog).

The CANCEL pair and uac/uas are covered in test_stateful.py. Skipped, with the reason,
where SIPp or ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.sipp, pytest.mark.slow]

from tests.e2e.test_stateful import CORPUS_SIPP, Proxy, Uas, _need, run_uac  # noqa: E402

# Relays every request to the server scenario: record-routed, loose-routed in dialog.
RELAY_CFG = """\
loadmodule "signaling.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"

route {
    if (!mf_process_maxfwd_header(10)) {
        send_reply(483, "Too Many Hops");
        exit;
    }
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
            exit;
        }
        if (is_method("ACK")) {
            if (t_check_trans()) t_relay();
            exit;
        }
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) t_relay();
        exit;
    }
    t_check_trans();
    if (!has_totag() && !is_method("REGISTER")) record_route();
    $du = "sip:127.0.0.1:@UAS_PORT@";
    if (!t_relay()) send_reply(500, "Relay Error");
}
"""

# (server scenario, client scenario, credentials the client is given in a copy or None)
PAIRS = [
    ("branchs.xml", "branchc.xml", None),
    ("uas.xml", "regexp.xml", None),
    ("mcd_register.xml", "uc360_register.xml", None),
    # the corpus README: uc360's built-in credentials are swapped for the UAS's foo/bar
    ("drachtio-uas-auth-register.xml", "uc360_register_challenge.xml", ("foo", "bar")),
]


def _client_scenario(name: str, credentials: tuple[str, str] | None, tmp_path: Path) -> Path:
    path = CORPUS_SIPP / name
    if credentials is None:
        return path
    text = path.read_text()
    assert "username=16001 password=asdfzxcvqwer" in text, "the corpus scenario changed"
    user, password = credentials
    copy = tmp_path / name
    copy.write_text(text.replace("username=16001 password=asdfzxcvqwer",
                                 f"username={user} password={password}"))  # fmt: skip
    return copy


@pytest.mark.parametrize(("server", "client", "credentials"), PAIRS, ids=[p[1] for p in PAIRS])
def test_a_corpus_scenario_pair_completes_through_sipc(
    server: str, client: str, credentials: tuple[str, str] | None, tmp_path: Path
) -> None:
    _need(CORPUS_SIPP / server)
    _need(CORPUS_SIPP / client)
    uas = Uas(["-sf", str(CORPUS_SIPP / server)], tmp_path, "uas")
    cfg = tmp_path / "relay.cfg"
    cfg.write_text(RELAY_CFG.replace("@UAS_PORT@", str(uas.port)))
    proxy = Proxy(cfg, tmp_path)
    calls = 3
    try:
        uac = run_uac(["-sf", str(_client_scenario(client, credentials, tmp_path))],
                      f"127.0.0.1:{uas.port}", proxy.port, tmp_path, calls=calls, rate=10)  # fmt: skip
    finally:
        proxy.stop()
        served = uas.stop()
    log = (tmp_path / "proxy.log").read_text()
    assert "Traceback" not in log, log
    assert uac.get("successful") == calls and uac.get("failed") == 0, (uac, served, log[-2000:])
    assert served.get("failed", 0) == 0, (served, (tmp_path / "uas.out").read_text()[-2000:])
    assert served.get("incoming") == calls, served
