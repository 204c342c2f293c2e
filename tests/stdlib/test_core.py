"""Core functions: flags, R-URI rewriting, $du, branches, forwarding, logging."""

from __future__ import annotations

import logging

import pytest

from runtime.api import Ctx
from stdlib import core
from stdlib.testing import RecordingCore, context

INVITE = """
INVITE sip:bob:secret@example.com:5070;transport=tcp SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: <sip:bob@example.com>
From: <sip:alice@example.org>;tag=a1
Call-ID: core-1
CSeq: 1 INVITE
Content-Length: 0

"""


def fresh() -> Ctx:
    return context(INVITE)[0]


def test_message_flags() -> None:
    ctx = fresh()
    assert core.isflagset(ctx, "NAT") == -1
    assert core.setflag(ctx, "NAT") == 1
    assert core.isflagset(ctx, "NAT") == 1
    assert core.resetflag(ctx, "NAT") == 1
    assert core.isflagset(ctx, "NAT") == -1


def test_user_part_rewrites() -> None:
    ctx = fresh()
    assert core.prefix(ctx, "00") == 1
    assert ctx.ruri == "sip:00bob:secret@example.com:5070;transport=tcp"  # password kept
    assert core.strip(ctx, 3) == 1
    assert ctx.ruri_user == "ob"
    assert core.strip_tail(ctx, 1) == 1
    assert ctx.ruri_user == "o"
    assert core.strip(ctx, 5) == 1  # longer than the user: the user goes
    assert ctx.ruri == "sip:example.com:5070;transport=tcp"
    assert core.prefix(ctx, "carol") == 1
    assert ctx.ruri == "sip:carol@example.com:5070;transport=tcp"


def test_setuser_and_setuserpass() -> None:
    ctx = fresh()
    assert core.setuser(ctx, "carol") == 1
    assert ctx.ruri == "sip:carol@example.com:5070;transport=tcp"  # password dropped with the user
    assert core.setuserpass(ctx, "pw") == 1
    assert ctx.ruri == "sip:carol:pw@example.com:5070;transport=tcp"


def test_host_and_port_rewrites() -> None:
    ctx = fresh()
    assert core.sethost(ctx, "proxy.example.net") == 1
    assert ctx.ruri_host == "proxy.example.net"
    assert core.setport(ctx, "5080") == 1
    assert core.setport(ctx, "http") == -1
    assert ctx.ruri == "sip:bob:secret@proxy.example.net:5080;transport=tcp"
    assert core.sethostport(ctx, "10.1.1.1:5999") == 1
    assert ctx.ruri == "sip:bob:secret@10.1.1.1:5999;transport=tcp"
    assert core.sethostport(ctx, "[2001:db8::1]") == 1
    assert (
        ctx.ruri_host == "[2001:db8::1]"
        and ctx.ruri_parts is not None
        and ctx.ruri_parts.port is None
    )
    assert ctx.msg.to_bytes().startswith(
        b"INVITE sip:bob:secret@[2001:db8::1];transport=tcp SIP/2.0"
    )


def test_seturi_and_revert_uri() -> None:
    ctx = fresh()
    assert core.seturi(ctx, "sip:voicemail@vm.example.com") == 1
    assert ctx.ruri == "sip:voicemail@vm.example.com"
    assert core.seturi(ctx, "") == -2
    assert core.revert_uri(ctx) == 1
    assert ctx.ruri == "sip:bob:secret@example.com:5070;transport=tcp"


def test_destination_uri() -> None:
    ctx = fresh()
    assert core.isdsturiset(ctx) == -1
    assert core.setdsturi(ctx, "sip:10.0.0.9:5060") == 1
    assert core.isdsturiset(ctx) == 1 and ctx.du == "sip:10.0.0.9:5060"
    assert core.resetdsturi(ctx) == 1
    assert core.isdsturiset(ctx) == -1


def test_branches() -> None:
    ctx = fresh()
    ctx.du = "sip:edge.example.net"
    assert core.append_branch_old(ctx) == 1  # the current R-URI and $du
    assert core.append_msg_branch(ctx, "sip:b2@example.com", "0.5") == 1
    assert core.append_msg_branch(ctx, "sip:b3@example.com", None, "inherite") == 1
    assert core.append_msg_branch(ctx, "sip:b4@example.com", None, "bogus") == -1
    assert core.append_msg_branch(ctx, "") == -1
    assert [(b.uri, b.du, b.q) for b in ctx.branches] == [
        ("sip:bob:secret@example.com:5070;transport=tcp", "sip:edge.example.net", None),
        ("sip:b2@example.com", None, 500),
        ("sip:b3@example.com", "sip:edge.example.net", None),
    ]
    assert core.swap_msg_branches(ctx, 0, 2) == 1
    assert ctx.branches[0].uri == "sip:b3@example.com"
    assert core.remove_msg_branch(ctx, 1) == 1
    assert [b.uri for b in ctx.branches] == [
        "sip:b3@example.com",
        "sip:bob:secret@example.com:5070;transport=tcp",
    ]
    assert core.remove_msg_branch(ctx, 5) == -1
    assert core.swap_msg_branches(ctx, 0, 9) == -1


def test_forward_hands_the_destination_to_the_runtime() -> None:
    ctx, services = context(INVITE)
    assert core.forward(ctx) == 1
    assert core.forward(ctx, "udp:10.0.0.1:5080") == 1
    assert [dest for dest, *_ in services.forwards] == [None, "udp:10.0.0.1:5080"]


def test_is_myself() -> None:
    ctx = fresh()
    assert core.is_myself(ctx, "192.0.2.10") == 1
    assert core.is_myself(ctx, "192.0.2.10:5060") == 1
    assert core.is_myself(ctx, "192.0.2.10", 5070) == -1
    assert core.is_myself(ctx, "example.com") == -1


def test_is_myself_without_a_port_matches_any_of_our_ports() -> None:
    """OpenSIPS's check_self(host, 0): `is_myself($rd)` on a proxy that listens on 5080."""
    services = RecordingCore(local=(("192.0.2.10", 5080),))
    ctx = context(INVITE, core=services)[0]
    assert core.is_myself(ctx, "192.0.2.10") == 1
    assert core.is_myself(ctx, "192.0.2.10", 0) == 1
    assert core.is_myself(ctx, "192.0.2.10", 5080) == 1
    assert core.is_myself(ctx, "192.0.2.10:5060") == -1
    assert core.is_myself(ctx, "192.0.2.11") == -1


def test_force_rport_notes_the_source_in_the_top_via_once() -> None:
    ctx = context(INVITE.replace("198.51.100.7:5062", "10.0.0.2:5060"))[0]  # behind a NAT
    assert core.force_rport(ctx) == 1
    assert ctx.msg.header("Via") == (
        "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds;received=198.51.100.7;rport=5062"
    )
    assert core.force_rport(ctx) == 1
    assert ctx.msg.to_bytes().count(b"rport") == 1


def test_pv_printf_and_timestamps() -> None:
    class Slot:
        def __init__(self) -> None:
            self.values: list[object] = []

        def set(self, value: object) -> None:
            self.values.append(value)

    ctx = fresh()
    text, sec, usec = Slot(), Slot(), Slot()
    assert core.pv_printf(ctx, text, "user bob") == 1
    assert text.values == ["user bob"]
    assert core.get_timestamp(ctx, sec, usec) == 1
    (seconds,), (micros,) = sec.values, usec.values
    assert isinstance(seconds, int) and seconds > 1_600_000_000
    assert isinstance(micros, int) and 0 <= micros < 1_000_000


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("L_ALERT", -3),
        ("L_CRIT", -2),
        ("L_ERR", -1),
        ("L_WARN", 1),
        ("L_NOTICE", 2),
        ("L_INFO", 3),
        ("L_DBG", 4),
        ("3", 3),
        ("nonsense", -1),
    ],
)
def test_xlog_levels(level: str, expected: int) -> None:
    assert core.opensips_level(level) == expected


def test_xlog_and_log_print_at_the_mapped_level(caplog: pytest.LogCaptureFixture) -> None:
    ctx = fresh()
    with caplog.at_level(logging.DEBUG, logger="sipc.script"):
        assert core.xlog(ctx, "L_WARN", "careful\n") == 1
        assert core.log(ctx, 4, "details") == 1
        assert core.xlog(ctx, "L_ERR", "broken") == 1
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "careful"),
        (logging.DEBUG, "details"),
        (logging.ERROR, "broken"),
    ]


class _Box:
    def __init__(self) -> None:
        self.value: int | str | None = None

    def set(self, value: int | str | None) -> None:
        self.value = value


def test_construct_uri() -> None:
    ctx, out = fresh(), _Box()
    assert core.construct_uri(ctx, "sip", "bob", "example.com", "5080", "transport=tcp", out) == 1
    assert out.value == "sip:bob@example.com:5080;transport=tcp"
    assert core.construct_uri(ctx, "tel", None, "+4930123", None, None, out) == 1
    assert out.value == "tel:+4930123"
    assert core.construct_uri(ctx, "", "bob", "example.com", None, None, out) == -1
    assert core.construct_uri(ctx, "sip", "bob", "", None, None, out) == -1
    assert core.construct_uri(ctx, "sip", "x" * 1100, "h", None, None, out) == -1


def test_avp_print_logs_every_avp(caplog: pytest.LogCaptureFixture) -> None:
    ctx = fresh()
    ctx.avp.push("a", 1)
    ctx.avp.push("a", "two")
    ctx.avp.push("b", "x")
    with caplog.at_level(logging.INFO, logger="sipc.core"):
        assert core.avp_print(ctx) == 1
    text = caplog.text
    assert "name=<a> val_str=<two>" in text and "name=<a> val_int=<1>" in text
    assert "name=<b> val_str=<x>" in text


def test_seturi_and_setuser_refuse_what_cannot_be_a_request_uri() -> None:
    ctx, _ = context(INVITE)
    before = ctx.ruri
    assert core.seturi(ctx, "sip:a b@example.com") == -1
    assert core.setuser(ctx, "line\r\nX-Injected: 1") == -1
    assert ctx.ruri == before
