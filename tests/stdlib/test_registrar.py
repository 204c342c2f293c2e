"""registrar and usrloc script functions on real REGISTER and INVITE messages."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from runtime.api import Branch, RouteKind
from runtime.sip import parse_name_addr
from runtime.usrloc import TABLES, EventValue, MemoryStore, SqliteStore, StoreError
from stdlib import registrar, usrloc
from stdlib._modules import set_modparam
from stdlib.registrar import (
    is_contact_registered,
    is_ip_registered,
    is_registered,
    lookup,
    remove,
    remove_ip_port,
    save,
)
from stdlib.testing import PEER_IP, PEER_PORT, RecordingCore, context

NOW = 1_800_000_000


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    """A fresh memory table on a clock the test moves by hand."""
    TABLES.reset()
    fake = Clock()
    TABLES.clock = fake
    TABLES.install("location", MemoryStore("location"))
    yield fake
    TABLES.reset()


def register(
    *contacts: str,
    user: str = "alice",
    callid: str = "reg-1",
    cseq: int = 1,
    expires: int | None = None,
    extra: str = "",
) -> str:
    lines = [
        "REGISTER sip:example.com SIP/2.0",
        f"Via: SIP/2.0/UDP {PEER_IP}:{PEER_PORT};branch=z9hG4bKreg{cseq}",
        "Max-Forwards: 70",
        f"From: <sip:{user}@example.com>;tag=r{cseq}",
        f"To: <sip:{user}@example.com>",
        f"Call-ID: {callid}",
        f"CSeq: {cseq} REGISTER",
        *(f"Contact: {c}" for c in contacts),
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if extra:
        lines.append(extra.rstrip("\n"))
    lines.append("Content-Length: 0")
    return "\n".join(lines) + "\n\n"


def invite(user: str = "alice", method: str = "INVITE") -> str:
    return (
        f"{method} sip:{user}@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKinv\n"
        "Max-Forwards: 70\n"
        "From: <sip:bob@example.org>;tag=b1\n"
        f"To: <sip:{user}@example.com>\n"
        "Call-ID: call-1\n"
        f"CSeq: 1 {method}\n"
        "Content-Length: 0\n\n"
    )


def do_save(text: str, flags: str | None = None) -> tuple[int, RecordingCore]:
    ctx, services = context(text)
    return save(ctx, "location", flags), services


def reply_contacts(services: RecordingCore) -> dict[str, dict[str, str | None]]:
    """The last reply's Contact bindings: uri -> header params."""
    found = {}
    for line in services.reply_headers[-1]:
        name, _, value = line.partition(":")
        if name == "Contact":
            entry = parse_name_addr(value.strip())
            found[str(entry.uri)] = {k: v for k, v in entry.params}
    return found


def header(services: RecordingCore, name: str) -> str | None:
    for line in services.reply_headers[-1]:
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    return None


def test_two_contacts_with_their_q_and_expires(clock: Clock) -> None:
    rc, services = do_save(
        register(
            "<sip:alice@198.51.100.7:5062>;q=0.5",
            "<sip:alice@198.51.100.7:5064>;expires=120;q=1",
            expires=600,
        )
    )
    assert rc == 1 and services.replies == [(200, "OK")]
    bindings = reply_contacts(services)
    assert bindings == {
        "sip:alice@198.51.100.7:5062": {"q": "0.5", "expires": "600"},
        "sip:alice@198.51.100.7:5064": {"q": "1", "expires": "120"},
    }
    assert email.utils.parsedate_to_datetime(header(services, "Date") or "").timestamp() == NOW


def test_re_register_refreshes_and_the_reply_counts_down(clock: Clock) -> None:
    do_save(register("<sip:alice@198.51.100.7:5062>", expires=600))
    clock.now += 100
    assert reply_contacts(do_save(register(cseq=2))[1]) == {
        "sip:alice@198.51.100.7:5062": {"expires": "500"}
    }
    rc, services = do_save(register("<sip:alice@198.51.100.7:5062>", cseq=3, expires=900))
    assert rc == 1
    assert reply_contacts(services)["sip:alice@198.51.100.7:5062"]["expires"] == "900"
    assert len(TABLES.get("location").lookup("alice", clock.now)) == 1


def test_star_removes_every_binding(clock: Clock) -> None:
    do_save(register("<sip:alice@198.51.100.7:5062>", "<sip:alice@198.51.100.7:5064>"))
    rc, services = do_save(register("*", cseq=2, expires=0))
    assert rc == 1 and reply_contacts(services) == {}
    assert is_registered(context(invite())[0], "location") == -1


def test_star_needs_expires_zero_and_no_other_contact(clock: Clock) -> None:
    do_save(register("<sip:alice@198.51.100.7:5062>"))
    rc, services = do_save(register("*", cseq=2, expires=60))
    assert rc == -2 and services.replies == [(400, "Bad Request")]
    assert "expires is not zero" in (header(services, "P-Registrar-Error") or "")
    rc, services = do_save(register("*", "<sip:alice@198.51.100.7:5064>", cseq=3, expires=0))
    assert rc == -2 and services.replies[0][0] == 400
    assert is_registered(context(invite())[0], "location") == 1


def test_expires_zero_removes_one_contact(clock: Clock) -> None:
    do_save(register("<sip:alice@198.51.100.7:5062>", "<sip:alice@198.51.100.7:5064>"))
    rc, services = do_save(register("<sip:alice@198.51.100.7:5064>;expires=0", cseq=2))
    assert rc == 1
    assert list(reply_contacts(services)) == ["sip:alice@198.51.100.7:5062"]


def test_too_brief_is_refused_with_min_expires(clock: Clock) -> None:
    set_modparam("registrar", "min_expires", 300)
    rc, services = do_save(register("<sip:alice@198.51.100.7:5062>", expires=30))
    assert rc == -2 and services.replies == [(423, "Interval Too Brief")]
    assert header(services, "Min-Expires") == "300"
    assert is_registered(context(invite())[0], "location") == -1
    # the per-call flag overrides the modparam
    rc, services = do_save(register("<sip:alice@198.51.100.7:5062>", expires=30), "min-expires=10")
    assert rc == 1


def test_max_expires_shortens(clock: Clock) -> None:
    set_modparam("registrar", "max_expires", 1000)
    _, services = do_save(register("<sip:alice@198.51.100.7:5062>", expires=7200))
    assert reply_contacts(services)["sip:alice@198.51.100.7:5062"]["expires"] == "1000"


def test_max_contacts_refuses_then_force_registration_replaces_the_oldest(clock: Clock) -> None:
    do_save(register("<sip:alice@198.51.100.7:5062>", callid="a"), "max-contacts=2")
    clock.now += 1
    do_save(register("<sip:alice@198.51.100.7:5064>", callid="b"), "c2")
    clock.now += 1
    rc, services = do_save(register("<sip:alice@198.51.100.7:5066>", callid="c"), "c2")
    assert rc == -2 and services.replies == [(503, "Service Unavailable")]
    assert len(TABLES.get("location").lookup("alice", clock.now)) == 2
    rc, services = do_save(
        register("<sip:alice@198.51.100.7:5066>", callid="c"), "max-contacts=2,force-registration"
    )
    assert rc == 1
    assert sorted(reply_contacts(services)) == [
        "sip:alice@198.51.100.7:5064",
        "sip:alice@198.51.100.7:5066",
    ]


def test_an_older_cseq_for_the_same_call_id_changes_nothing(clock: Clock) -> None:
    do_save(register("<sip:alice@198.51.100.7:5062>;q=0.9", cseq=5, expires=600))
    rc, services = do_save(register("<sip:alice@198.51.100.7:5062>;q=0.1", cseq=4, expires=60))
    assert rc == -2 and services.replies == [(400, "Bad Request")]
    assert header(services, "P-Registrar-Error") == "Invalid CSeq number"
    (binding,) = TABLES.get("location").lookup("alice", clock.now)
    assert (binding.cseq, binding.q, binding.expires) == (5, 900, NOW + 600)
    # another Call-ID (the phone restarted) may start over with a lower CSeq
    rc, _ = do_save(register("<sip:alice@198.51.100.7:5062>", callid="new", cseq=1))
    assert rc == 1


def test_a_retransmitted_register_is_answered_without_a_change(clock: Clock) -> None:
    text = register("<sip:alice@198.51.100.7:5062>", cseq=5, expires=600)
    do_save(text)
    clock.now += 2
    rc, services = do_save(text)
    assert rc == 1
    assert reply_contacts(services)["sip:alice@198.51.100.7:5062"]["expires"] == "598"


def test_bad_contacts_and_flags(clock: Clock) -> None:
    rc, services = do_save(register("<sip:alice@198.51.100.7>;expires=soon"))
    assert rc == -2 and services.replies == [(400, "Bad Request")]
    rc, services = do_save(register("<sip:alice@198.51.100.7>;q=2"))
    assert rc == -2 and "q param" in (header(services, "P-Registrar-Error") or "")
    rc, services = do_save(register("<sip:alice@198.51.100.7>"), "no-such-flag")
    assert rc == -1 and services.replies == []


def test_no_reply_and_memory_only_flags(clock: Clock) -> None:
    rc, services = do_save(register("<sip:alice@198.51.100.7:5062>"), "memory-only,no-reply")
    assert rc == 1 and services.replies == []
    (binding,) = TABLES.get("location").lookup("alice", clock.now)
    assert binding.memory_only
    rc, services = do_save(register("<sip:alice@198.51.100.7:5062>", expires=5), "r")
    assert rc == -2 and services.replies == []


def test_lookup_orders_by_q_then_most_recent(clock: Clock) -> None:
    do_save(register("<sip:alice@10.1.0.1>;q=0.5", callid="a"))
    clock.now += 1
    do_save(register("<sip:alice@10.1.0.2>;q=0.5", callid="b"))
    clock.now += 1
    do_save(register("<sip:alice@10.1.0.3>;q=0.9", callid="c"))
    clock.now += 1
    do_save(register("<sip:alice@10.1.0.4>", callid="d"))  # no q: ranks last
    ctx, _ = context(invite())
    assert lookup(ctx, "location") == 1
    assert ctx.ruri == "sip:alice@10.1.0.3" and ctx.ruri_q == 900  # serialize_branches reads it
    assert [(b.uri, b.q) for b in ctx.branches] == [
        ("sip:alice@10.1.0.2", 500),
        ("sip:alice@10.1.0.1", 500),
        ("sip:alice@10.1.0.4", None),
    ]
    ctx, _ = context(invite())
    assert lookup(ctx, "location", "no-branches") == 1 and ctx.branches == []
    ctx, _ = context(invite())
    assert lookup(ctx, "location", "to-branches-only") == 1
    assert ctx.ruri == "sip:alice@example.com" and len(ctx.branches) == 4


def test_lookup_return_codes(clock: Clock) -> None:
    ctx, _ = context(invite("nobody"))
    assert lookup(ctx, "location") == -1
    do_save(register('<sip:alice@10.1.0.1>;methods="INVITE,ACK,BYE"'))
    ctx, _ = context(invite(method="MESSAGE"))
    assert lookup(ctx, "location", "method-filtering") == -2
    assert lookup(ctx, "location") == 1
    ctx, _ = context(invite())
    assert lookup(ctx, "location", "m") == 1
    assert lookup(ctx, "location", "no-such-flag") == -3
    # bindings that have expired are not found even before the timer runs
    clock.now += 3601
    ctx, _ = context(invite())
    assert lookup(ctx, "location") == -1


def test_lookup_by_user_agent(clock: Clock) -> None:
    do_save(register("<sip:alice@10.1.0.1>", callid="a", extra="User-Agent: DeskPhone 2"))
    do_save(register("<sip:alice@10.1.0.2>", callid="b", extra="User-Agent: SoftPhone 9"))
    ctx, _ = context(invite())
    assert lookup(ctx, "location", "ua-filtering=/softphone/,case-insensitive") == 1
    assert ctx.ruri == "sip:alice@10.1.0.2" and ctx.branches == []


def test_a_private_contact_is_reached_at_its_source_address(clock: Clock) -> None:
    _, services = do_save(register("<sip:alice@192.168.1.20:5060>"))
    assert reply_contacts(services)["sip:alice@192.168.1.20:5060"]["received"] == (
        f'"sip:{PEER_IP}:{PEER_PORT}"'
    )
    ctx, _ = context(invite())
    assert lookup(ctx, "location") == 1
    assert ctx.ruri == "sip:alice@192.168.1.20:5060"
    assert ctx.du == f"sip:{PEER_IP}:{PEER_PORT}"
    (binding,) = TABLES.get("location").lookup("alice", clock.now)
    assert binding.cflags == "NAT"


def test_a_public_contact_keeps_no_received_unless_the_nat_flag_is_set(clock: Clock) -> None:
    do_save(register("<sip:alice@203.0.113.9:5060>"))
    ctx, _ = context(invite())
    lookup(ctx, "location")
    assert ctx.du is None
    set_modparam("usrloc", "nat_bflag", "NATED")
    ctx, _ = context(register("<sip:alice@203.0.113.9:5060>", cseq=2))
    ctx.setflag("NATED")
    assert save(ctx, "location") == 1
    ctx, _ = context(invite())
    lookup(ctx, "location")
    assert ctx.du == f"sip:{PEER_IP}:{PEER_PORT}"


def test_received_avp_wins(clock: Clock) -> None:
    set_modparam("registrar", "received_avp", "$avp(rcv)")
    ctx, _ = context(register("<sip:alice@203.0.113.9:5060>"))
    ctx.avp_push("rcv", "sip:198.51.100.99:7000")
    assert save(ctx, "location") == 1
    (binding,) = TABLES.get("location").lookup("alice", NOW)
    assert binding.received == "sip:198.51.100.99:7000"


def test_path_is_saved_with_a_path_flag_and_used_by_lookup(clock: Clock) -> None:
    extra = "Path: <sip:edge1.example.net;lr>\nPath: <sip:edge2.example.net;lr>\nSupported: path"
    _, services = do_save(register("<sip:alice@203.0.113.9>", extra=extra))
    assert TABLES.get("location").lookup("alice", NOW)[0].path is None
    _, services = do_save(register("<sip:alice@203.0.113.9>", cseq=2, extra=extra), "path-lazy")
    assert header(services, "Path") == "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>"
    do_save(register("<sip:alice@203.0.113.10>", callid="two", extra=extra), "p0")
    ctx, _ = context(invite())
    assert lookup(ctx, "location") == 1
    assert ctx.du == "sip:edge1.example.net;lr"
    assert ctx.msg.headers_named("Route") == [
        "<sip:edge1.example.net;lr>",
        "<sip:edge2.example.net;lr>",
    ]
    (branch,) = ctx.branches
    assert branch == Branch(
        "sip:alice@203.0.113.9",
        "sip:edge1.example.net;lr",
        None,
        "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>",
    )


def test_path_received_takes_the_received_of_the_first_hop(clock: Clock) -> None:
    extra = "Path: <sip:edge1.example.net;lr;received=sip:198.51.100.200%3A5090>"
    do_save(register("<sip:alice@203.0.113.9>", extra=extra), "path-off,path-received")
    (binding,) = TABLES.get("location").lookup("alice", NOW)
    assert binding.received == "sip:198.51.100.200:5090"
    ctx, _ = context(invite())
    assert lookup(ctx, "location") == 1 and ctx.du == "sip:198.51.100.200:5090"


def test_path_strict_refuses_a_ua_without_path_support(clock: Clock) -> None:
    rc, services = do_save(
        register("<sip:alice@203.0.113.9>", extra="Path: <sip:edge1.example.net;lr>"),
        "path-strict",
    )
    assert rc == -2 and services.replies == [(420, "Bad Extension")]
    assert header(services, "Unsupported") == "path"


def test_instance_and_reg_id_identify_a_binding(clock: Clock) -> None:
    instance = '+sip.instance="<urn:uuid:00000000-0000-0000-0000-00000000a11c>";reg-id=1'
    do_save(register(f"<sip:alice@203.0.113.9:5060>;{instance}"))
    # the same device from a new address replaces its binding
    _, services = do_save(register(f"<sip:alice@203.0.113.9:6060>;{instance}", cseq=2))
    bindings = reply_contacts(services)
    assert list(bindings) == ["sip:alice@203.0.113.9:6060"]
    assert bindings["sip:alice@203.0.113.9:6060"]["reg-id"] == "1"


def test_queries_and_removal(clock: Clock) -> None:
    do_save(register("<sip:alice@192.168.1.20:5060>", callid="a"))
    do_save(register("<sip:alice@203.0.113.9:5070>", callid="b"))
    reg_ctx, _ = context(register("<sip:alice@203.0.113.9:5070>", callid="b"))
    assert is_registered(reg_ctx, "location") == 1
    assert is_registered(reg_ctx, "location", "sip:bob@example.com") == -1
    assert is_contact_registered(reg_ctx, "location") == 1
    assert is_contact_registered(reg_ctx, "location", None, "sip:alice@10.9.9.9") == -1
    assert is_contact_registered(reg_ctx, "location", None, None, "a") == 1
    assert is_ip_registered(reg_ctx, "location", None, _values(PEER_IP)) == 1
    assert is_ip_registered(reg_ctx, "location", None, _values("203.0.113.9"), _values(5070)) == 1
    assert is_ip_registered(reg_ctx, "location", None, _values("203.0.113.9"), _values(1)) == -1
    assert remove(reg_ctx, "location", "sip:alice@example.com", "sip:alice@10.0.0.0") == 1
    assert len(TABLES.get("location").lookup("alice", NOW)) == 2
    assert remove(reg_ctx, "location", "alice", None, f"{PEER_IP}:{PEER_PORT}") == 1
    assert [b.uri for b in TABLES.get("location").lookup("alice", NOW)] == [
        "sip:alice@203.0.113.9:5070"
    ]
    assert remove_ip_port(reg_ctx, "203.0.113.9", 5070, "location") == 1
    assert is_registered(reg_ctx, "location") == -1


class _values:
    """A `Var` argument holding these values."""

    def __init__(self, *values: int | str) -> None:
        self._values = list(values)

    def get(self) -> int | str | None:
        return self._values[0] if self._values else None

    def values(self) -> list[int | str]:
        return list(self._values)

    def set(self, value: int | str | None) -> None:
        self._values = [] if value is None else [value]


def test_aor_keys(clock: Clock) -> None:
    ctx, _ = context(invite())
    out = _values()
    assert usrloc.ul_add_key(ctx, "location", "alice", "push", "tok") == -1
    do_save(register("<sip:alice@203.0.113.9>"))
    assert usrloc.ul_add_key(ctx, "location", "sip:alice@example.com", "push", "tok") == 1
    assert usrloc.ul_get_key(ctx, "location", "alice", "push", out) == 1 and out.get() == "tok"
    assert usrloc.ul_del_key(ctx, "location", "alice", "push") == 1
    assert usrloc.ul_get_key(ctx, "location", "alice", "push", out) == -1


def test_use_domain_keys_by_user_and_domain(clock: Clock) -> None:
    set_modparam("usrloc", "use_domain", 1)
    do_save(register("<sip:alice@203.0.113.9>"))
    assert [c.aor for c in TABLES.get("location").contacts()] == ["alice@example.com"]
    ctx, _ = context(invite().replace("alice@example.com SIP", "alice@other.com SIP"))
    assert lookup(ctx, "location") == -1


def test_save_in_a_reply_route_is_an_error(clock: Clock) -> None:
    reply, services = context(
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKx\n"
        "From: <sip:alice@example.com>;tag=a\nTo: <sip:alice@example.com>;tag=b\n"
        "Call-ID: x\nCSeq: 1 REGISTER\nContact: <sip:alice@203.0.113.9>\n"
        "Content-Length: 0\n\n",
        RouteKind.ONREPLY,
    )
    assert save(reply, "location") == -1 and services.replies == []


def test_add_sock_hdr_names_the_receiving_socket() -> None:
    ctx, _ = context(invite())
    assert registrar.add_sock_hdr(ctx, "X-Sock") == 1
    assert ctx.hdr("X-Sock") == "udp:192.0.2.10:5060"


def test_sqlite_table_from_modparams_survives_a_restart(tmp_path: Path) -> None:
    TABLES.reset()
    try:
        set_modparam("usrloc", "db_mode", 1)
        set_modparam("usrloc", "db_url", f"sqlite://{tmp_path}/location.db")
        events: list[tuple[str, Mapping[str, EventValue]]] = []
        TABLES.set_event_hook(lambda name, attrs: events.append((name, attrs)))
        rc, _ = do_save(register("<sip:alice@203.0.113.9>;q=0.3", "<sip:alice@203.0.113.10>;q=0.8"))
        assert rc == 1 and isinstance(TABLES.get("location"), SqliteStore)
        assert TABLES.timer_interval == 60
        assert [name for name, _ in events].count("E_UL_CONTACT_INSERT") == 2
        TABLES.reset()  # the process stops; a new one opens the same file
        set_modparam("usrloc", "db_mode", 1)
        set_modparam("usrloc", "db_url", f"sqlite://{tmp_path}/location.db")
        ctx, _ = context(invite())
        assert lookup(ctx, "location") == 1
        assert ctx.ruri == "sip:alice@203.0.113.10"
        assert [(b.uri, b.q) for b in ctx.branches] == [("sip:alice@203.0.113.9", 300)]
    finally:
        TABLES.reset()


def test_an_unusable_database_fails_open_tables_but_not_the_requests(tmp_path: Path) -> None:
    TABLES.reset()
    try:
        set_modparam("usrloc", "working_mode_preset", "single-instance-sql-write-back")
        set_modparam("usrloc", "db_url", f"sqlite://{tmp_path}/missing-dir/location.db")
        with pytest.raises(StoreError):
            usrloc.open_tables("location")
        rc, services = do_save(register("<sip:alice@203.0.113.9>"))
        assert rc == 1 and services.replies == [(200, "OK")]
        assert isinstance(TABLES.get("location"), MemoryStore)
    finally:
        TABLES.reset()
