"""Core branch functions: branch flags by index, serial forking by q-value with tm."""

from __future__ import annotations

import json

from runtime.api import Ctx, RouteKind, RouteTable
from runtime.core.ctx import Branch
from runtime.core.pvaccess import pv_get
from stdlib import REGISTRY, branching, core, tm
from stdlib.testing import context
from tests.runtime.core.test_stateful import Harness, invite

INVITE = """
INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: <sip:bob@example.com>
From: <sip:alice@example.org>;tag=a1
Call-ID: branching-1
CSeq: 1 INVITE
Content-Length: 0

"""


def fresh() -> Ctx:
    return context(INVITE)[0]


# ---------------------------------------------------------------------------- branch flags


def test_branch_flags_by_index_zero_is_the_ruri_branch() -> None:
    ctx = fresh()
    assert branching.setbflag(ctx, "NAT") == 1  # no index: the R-URI branch
    assert branching.isbflagset(ctx, "NAT") == 1 and branching.isbflagset(ctx, "NAT", 0) == 1
    assert branching.isbflagset(ctx, "NAT", 1) == -1  # no branch 1 yet
    assert branching.setbflag(ctx, "NAT", 1) == -1
    assert core.append_msg_branch(ctx, "sip:carol@example.net") == 1
    assert branching.isbflagset(ctx, "NAT", 1) == -1  # a new branch starts with none
    assert branching.setbflag(ctx, "VOICEMAIL", 1) == 1
    assert branching.isbflagset(ctx, "VOICEMAIL", 1) == 1
    assert branching.isbflagset(ctx, "VOICEMAIL") == -1  # each branch its own flags
    assert branching.resetbflag(ctx, "NAT") == 1 and branching.isbflagset(ctx, "NAT") == -1
    assert branching.resetbflag(ctx, "NAT", 2) == -1
    assert not ctx.flags  # message flags are another set


def test_branches_made_from_the_ruri_branch_inherit_its_flags() -> None:
    ctx = fresh()
    branching.setbflag(ctx, "NAT")
    assert core.append_branch_old(ctx) == 1  # a copy of the R-URI branch
    assert core.append_msg_branch(ctx, "sip:a@x", None, "inherite") == 1
    assert core.append_msg_branch(ctx, "sip:b@x") == 1
    assert [b.bflags for b in ctx.branches] == [{"NAT"}, {"NAT"}, set()]
    branching.setbflag(ctx, "OTHER", 1)
    assert ctx.bflags == {"NAT"}  # copies, not the same set


def test_branch_flags_read_as_bf() -> None:
    ctx = fresh()
    branching.setbflag(ctx, "B")
    branching.setbflag(ctx, "A")
    assert pv_get(ctx, "bf", None, None) == "A B"
    assert branching.bflags_text(ctx, 3) is None


def test_branch_flag_functions_are_registered_with_a_static_flag_name() -> None:
    for name in ("setbflag", "resetbflag", "isbflagset"):
        spec = REGISTRY[name]
        assert spec.module == "core" and spec.routes == RouteKind.ALL
        assert [p.optional for p in spec.params] == [False, True]


# ---------------------------------------------------------------------------- serial forking


def stored(ctx: Ctx) -> list[tuple[str, bool]]:
    """The serial AVP, in the order next_branches() reads it: (uri, last of its group)."""
    out = []
    for value in ctx.avp.get_all(branching.SERIAL_AVP):
        assert isinstance(value, str)
        entry = json.loads(value)
        out.append((entry["uri"], entry["last"]))
    return out


def test_serialize_groups_by_descending_q() -> None:
    ctx = fresh()
    ctx.ruri_q = 500
    ctx.branches += [Branch("sip:low@x", q=100), Branch("sip:top@x", q=1000),
                     Branch("sip:mid@x", q=500)]  # fmt: skip
    assert branching.serialize_branches(ctx, 1) == 1
    assert not ctx.branches
    assert stored(ctx) == [
        ("sip:top@x", True),
        ("sip:bob@example.com", False),  # same q as mid: one group, in the order added
        ("sip:mid@x", True),
        ("sip:low@x", False),
    ]
    assert branching.next_branches(ctx) == 1
    assert ctx.ruri == "sip:top@x" and ctx.ruri_q == 1000 and not ctx.branches
    assert branching.next_branches(ctx) == 1
    assert ctx.ruri == "sip:bob@example.com" and [b.uri for b in ctx.branches] == ["sip:mid@x"]
    ctx.branches.clear()
    assert branching.next_branches(ctx) == 2  # the last group
    assert ctx.ruri == "sip:low@x" and ctx.ruri_q == 100
    assert branching.next_branches(ctx) == -1


def test_serialize_does_nothing_for_parallel_forking() -> None:
    ctx = fresh()
    assert branching.serialize_branches(ctx, 1) == 1  # no branch at all
    ctx.branches.append(Branch("sip:same@x"))
    assert branching.serialize_branches(ctx, 1) == 1  # every q alike
    assert len(ctx.branches) == 1 and not stored(ctx)
    assert branching.next_branches(ctx) == -1


def test_serialize_keep_order_takes_one_at_a_time_as_added() -> None:
    ctx = fresh()
    ctx.branches += [Branch("sip:one@x", q=100), Branch("sip:two@x", q=900)]
    branching.setbflag(ctx, "F", 2)
    assert branching.serialize_branches(ctx, 1, 1) == 1
    assert branching.next_branches(ctx) == 1 and ctx.ruri == "sip:bob@example.com"
    assert branching.next_branches(ctx) == 1 and ctx.ruri == "sip:one@x"
    assert branching.next_branches(ctx) == 2 and ctx.ruri == "sip:two@x"
    assert ctx.bflags == {"F"}  # the branch flags came back with it


def test_serialize_carries_du_path_and_socket() -> None:
    ctx = fresh()
    ctx.du = "sip:proxy.example:5080"
    ctx.out_socket = ctx.core.find_listening("udp", "192.0.2.10", 5060)
    ctx.branches.append(Branch("sip:far@x", "sip:edge@y", 100, "<sip:edge@y;lr>"))
    assert branching.serialize_branches(ctx, 1) == 1
    ctx.du = None
    ctx.out_socket = None
    assert branching.next_branches(ctx) == 1  # q 0.1 before a q not given (the lowest)
    assert ctx.ruri == "sip:far@x" and ctx.du == "sip:edge@y"
    assert ctx.hdr("Route") == "<sip:edge@y;lr>"
    assert branching.next_branches(ctx) == 2
    assert ctx.du == "sip:proxy.example:5080" and ctx.out_socket is not None


def test_next_branches_outside_request_and_failure_routes() -> None:
    ctx = context(INVITE, RouteKind.BRANCH)[0]
    ctx.avp.push(branching.SERIAL_AVP, json.dumps({"uri": "sip:a@x", "last": True}))
    assert branching.next_branches(ctx) == -1
    assert ctx.ruri == "sip:bob@example.com"


def test_serial_forking_with_t_relay_and_a_failure_route() -> None:
    def main(ctx: Ctx) -> int:
        ctx.ruri_q = 1000
        core.append_msg_branch(ctx, "sip:second@127.0.0.3:5070", "0.5")
        branching.serialize_branches(ctx, 1)
        branching.next_branches(ctx)
        tm.t_on_failure(ctx, "next")
        return tm.t_relay(ctx)

    def on_failure(ctx: Ctx) -> int:
        if branching.next_branches(ctx) > 0:
            return tm.t_relay(ctx)
        return 1

    h = Harness(RouteTable(main=main, failure={"next": on_failure}))
    h.from_caller(invite())
    first = [m for _, m in h.take() if m.is_request]
    assert [m.ruri_text for m in first] == ["sip:bob@127.0.0.2:5070"]  # type: ignore[union-attr]
    h.from_callee(first[0].make_response(486, to_tag="x"))  # type: ignore[union-attr]
    second = [(dest, m) for dest, m in h.take() if m.is_request and m.method == "INVITE"]
    assert [dest for dest, _ in second] == [("127.0.0.3", 5070)]
    assert second[0][1].ruri_text == "sip:second@127.0.0.3:5070"  # type: ignore[union-attr]
