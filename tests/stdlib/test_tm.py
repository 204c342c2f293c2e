"""Module tm, function by function: return codes, what each one arms, the $T_* variables.

Contexts come from the stateful test harness (a pipeline with recorded sends and a fake
clock) or, for "no transactions here", from stdlib.testing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runtime.api import Ctx, RouteKind, RouteTable, ScriptDrop, ScriptExit
from runtime.core.script import Value
from runtime.core.stateful import TxData
from runtime.sip import Request, Response, parse_message
from runtime.transport.source import Source
from stdlib import REGISTRY, branching, tm
from stdlib._modules import set_modparam
from stdlib.testing import context
from tests.runtime.core.test_stateful import CALLEE, CALLER, OTHER, UDP, Harness, invite, statuses


def request_ctx(h: Harness, data: bytes) -> Ctx:
    """A request-route context over `data` as the pipeline would make it (not run)."""
    msg = parse_message(data)
    return Ctx(msg, UDP, CALLER[0], CALLER[1], h.pipeline, source=Source(UDP, *CALLER))


def test_without_a_pipeline_the_functions_answer_minus_one() -> None:
    ctx, core = context(invite())
    assert tm.t_relay(ctx) < 0 and tm.t_check_trans(ctx) == -1 and tm.t_newtran(ctx) == -1
    assert tm.t_reply(ctx, 404, "Not Found") == -1 and not core.replies
    assert tm.t_was_cancelled(ctx) == -1 and tm.t_flush_flags(ctx) == -1


def test_t_newtran_creates_once_and_refuses_a_second_time() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    assert tm.t_newtran(ctx) == 1 and ctx.tx is not None
    assert tm.t_newtran(ctx) == -10
    again = request_ctx(h, invite())  # the same request once more: a retransmission
    assert tm.t_newtran(again) == 0 and again.tx is None


def test_t_check_trans_answers_by_method() -> None:
    h = Harness(RouteTable())
    first = request_ctx(h, invite())
    assert tm.t_check_trans(first) == -1
    tm.t_newtran(first)
    h.take()
    assert tm.t_check_trans(first) == 1  # its own transaction
    retransmission = request_ctx(h, invite())
    assert tm.t_check_trans(retransmission) == 0  # stops the script, 100 sent again
    assert [m.status for _, m in h.take() if isinstance(m, Response)] == [100]
    cancel = request_ctx(h, invite("CANCEL"))
    assert tm.t_check_trans(cancel) == 1  # its INVITE exists
    stray = request_ctx(h, invite("CANCEL", branch="z9hG4bK-nothing"))
    assert tm.t_check_trans(stray) == -1


def test_the_ack_of_a_2xx_belongs_to_no_transaction() -> None:
    # the ACK of a 2xx is end to end (RFC 3261 §17): the INVITE transaction, Accepted
    # for wt_timer after its 2xx (RFC 6026), does not absorb it; the script routes it
    set_modparam("tm", "wt_timer", 5)
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    tm.t_newtran(ctx)
    assert tm.t_reply(ctx, 200, "OK") == 1
    assert h.stateful.table.live == 1  # Accepted: absorbs INVITE retransmissions
    again = request_ctx(h, invite())
    h.take()
    assert tm.t_check_trans(again) == 0 and h.take() == []  # absorbed, not answered
    ack = request_ctx(h, invite("ACK", to_tag="x"))  # one reusing the INVITE's branch
    assert tm.t_check_trans(ack) == -2 and tm.t_newtran(ack) == 1
    e2e = request_ctx(h, invite("ACK", to_tag="x", branch="z9hG4bK-ack"))
    assert tm.t_check_trans(e2e) == -1 and tm.t_newtran(e2e) == 1
    h.advance(5.1)  # wt_timer: gone
    assert h.stateful.table.live == 0
    assert tm.t_check_trans(request_ctx(h, invite())) == -1  # a new INVITE now


def test_t_reply_creates_the_transaction_and_stops_for_an_ack() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite("MESSAGE"))
    assert tm.t_reply(ctx, 403, "Forbidden") == 1 and ctx.tx is not None
    assert [m.status for _, m in h.take() if isinstance(m, Response)] == [403]
    assert tm.t_reply(ctx, 200, "OK") == -1  # a final was already sent
    ack = request_ctx(h, invite("ACK"))
    assert tm.t_reply(ack, 200, "OK") == 0
    body = request_ctx(h, invite("OPTIONS"))
    assert tm.t_reply_with_body(body, 200, "OK", "hello") == 1
    ((_, reply),) = h.take()
    assert reply.body == b"hello"


def test_t_relay_of_an_ack_goes_statelessly() -> None:
    h = Harness(RouteTable())
    ack = request_ctx(h, invite("ACK", to_tag="x"))
    assert tm.t_relay(ack) == 1 and ack.tx is None and h.stateful.table.live == 0
    assert [dest for dest, _ in h.take()] == [CALLEE]


def test_t_on_functions_arm_the_transaction_data() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    assert tm.t_on_failure(ctx, "f") == 1
    assert tm.t_on_branch(ctx, "b") == 1
    assert tm.t_on_reply(ctx, "r") == 1
    data = ctx.tx_data
    assert isinstance(data, TxData)
    assert (data.on_failure, data.on_branch, data.on_reply) == ("f", "b", "r")
    tm.t_newtran(ctx)
    assert ctx.tx.user_data is data


def test_t_check_status_reads_the_reply_code_of_the_route_kind() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite("MESSAGE"))
    assert tm.t_check_status(ctx, "2[0-9][0-9]") == -1  # no transaction
    tm.t_reply(ctx, 202, "Accepted")
    assert tm.t_check_status(ctx, "2[0-9][0-9]") == 1
    assert tm.t_check_status(ctx, "^4") == -1
    assert ctx.pv_get("T_reply_code") == 202
    reply, _ = context("SIP/2.0 183 Progress\nVia: SIP/2.0/UDP 127.0.0.1\n"
                       "From: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\nCSeq: 1 INVITE\n\n",
                       RouteKind.ONREPLY)  # fmt: skip
    assert tm.t_check_status(reply, "18[0-9]") == 1


def test_timer_variables_and_modparams_set_the_timeouts() -> None:
    set_modparam("tm", "fr_inv_timeout", 60)
    set_modparam("tm", "T1_timer", 250)
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    ctx.pv_set("T_fr_timeout", 7)
    assert ctx.pv_get("T_fr_timeout") == 7
    tm.t_newtran(ctx)
    settings = ctx.tx.settings
    assert (settings.fr_timeout, settings.fr_inv_timeout, settings.t1) == (7.0, 60.0, 0.25)
    ctx.pv_set("T_fr_inv_timeout", 30)
    assert ctx.tx.settings.fr_inv_timeout == 30.0 and ctx.pv_get("T_fr_inv_timeout") == 30


def test_branch_avps_belong_to_their_branch() -> None:
    values: list[object] = []

    def main(ctx: Ctx) -> int:
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        tm.t_on_branch(ctx, "mark")
        tm.t_on_failure(ctx, "read")
        return tm.t_relay(ctx)

    def mark(ctx: Ctx) -> int:
        ctx.pv_set("bavp", f"branch-{ctx.pv_get('T_branch_idx')}", "who")
        values.append(ctx.pv_get("T_ruri"))
        return 1

    def read(ctx: Ctx) -> int:
        values.append(ctx.pv_get("bavp", "who"))
        return 1

    h = Harness(RouteTable(main=main, branch={"mark": mark}, failure={"read": read}))
    h.from_caller(invite())
    assert values == ["sip:bob@127.0.0.2:5070", "sip:carol@127.0.0.3:5070"]
    sent = [m for dest, m in h.take() if m.is_request]
    for branch in sent:
        h.from_callee(branch.make_response(486, to_tag="x"))  # type: ignore[union-attr]
    assert values[2] in ("branch-0", "branch-1")


def test_tm_functions_are_registered_with_their_exit_codes() -> None:
    assert REGISTRY["t_newtran"].may_exit and REGISTRY["t_check_trans"].may_exit
    assert REGISTRY["t_reply"].may_exit and not REGISTRY["t_relay"].may_exit
    assert REGISTRY["t_relay"].routes == RouteKind.REQUEST | RouteKind.FAILURE


def test_the_1x_timer_names_are_understood() -> None:
    set_modparam("tm", "fr_timer", 12)
    set_modparam("tm", "fr_inv_timer", 90)
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    tm.t_newtran(ctx)
    assert (ctx.tx.settings.fr_timeout, ctx.tx.settings.fr_inv_timeout) == (12.0, 90.0)


# ---------------------------------------------------------------------- t_replicate & co


def answer(request: object, status: int, tag: str = "callee") -> object:
    assert isinstance(request, Request)
    return request.make_response(status, to_tag=tag)


def test_t_replicate_sends_a_copy_whose_answers_stay_here() -> None:
    results: list[int] = []

    def main(ctx: Ctx) -> int:
        results.append(tm.t_replicate(ctx, "sip:127.0.0.3:5070"))
        results.append(tm.t_reply(ctx, 200, "OK"))
        return 1

    h = Harness(RouteTable(main=main))
    h.from_caller(invite("REGISTER", ruri="sip:b.example"))
    assert results == [1, 1]
    sent = h.take()
    [copy] = [m for dest, m in sent if dest == OTHER]
    assert isinstance(copy, Request) and copy.method == "REGISTER"
    assert copy.ruri_text == "sip:b.example"  # the URI given is the next hop only
    assert copy.max_forwards == 69 and len(copy.vias) == 2
    assert statuses(sent, CALLER) == [200]
    h.from_callee(answer(copy, 200), OTHER)  # type: ignore[arg-type]
    assert h.take() == []  # the copy's answer goes nowhere
    h.advance(6)  # Timer K
    assert h.stateful.layer.local == {}  # its transaction is over


def test_t_replicate_of_a_retransmission_stops_the_script() -> None:
    h = Harness(RouteTable())
    first = request_ctx(h, invite("MESSAGE"))
    tm.t_newtran(first)
    again = request_ctx(h, invite("MESSAGE"))
    assert tm.t_replicate(again, "sip:127.0.0.3:5070") == 0
    assert REGISTRY["t_replicate"].may_exit
    ack = request_ctx(h, invite("ACK", to_tag="x"))
    assert tm.t_replicate(ack, "sip:127.0.0.3:5070") < 0


def test_t_add_hdrs_go_on_every_branch_and_need_a_transaction() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    assert tm.t_add_hdrs(ctx, "X-Origin: 1.1.1.1\r\n") == -1  # no transaction yet
    tm.t_newtran(ctx)
    assert tm.t_add_hdrs(ctx, "X-Bad\r\n") == -1
    assert tm.t_add_hdrs(ctx, "X-Origin: 1.1.1.1\r\nX-Two: 2\r\n") == 1
    ctx.append_branch("sip:carol@127.0.0.3:5070")
    assert tm.t_relay(ctx) == 1
    branches = [m for _, m in h.take() if isinstance(m, Request)]
    assert len(branches) == 2
    assert all(b.header("X-Origin") == "1.1.1.1" and b.header("X-Two") == "2" for b in branches)
    assert ctx.msg.header("X-Origin") is None  # the script's message is left alone


def test_t_add_cancel_reason_goes_on_the_cancels_sent_downstream() -> None:
    def main(ctx: Ctx) -> int:
        assert tm.t_add_cancel_reason(ctx, "X-Not-Reason: 1\r\n") == -1
        tm.t_add_cancel_reason(ctx, 'Reason: SIP;cause=200;text="Call completed elsewhere"\r\n')
        return tm.t_relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    [branch] = h.requests_to(CALLEE)
    h.from_callee(answer(branch, 180))  # type: ignore[arg-type]
    h.from_caller(invite("CANCEL"))
    [cancel] = h.requests_to(CALLEE)
    assert cancel.method == "CANCEL"
    assert cancel.header("Reason") == 'SIP;cause=200;text="Call completed elsewhere"'


def test_t_new_request_sends_a_request_of_our_own_through_local_route() -> None:
    seen: list[object] = []

    def local(ctx: Ctx) -> int:
        seen.append(ctx.pv_get("avp", "uac_ctx"))
        ctx.msg.add_header("X-Local", "yes")
        return 1

    def main(ctx: Ctx) -> int:
        seen.append(tm.t_new_request(ctx, "MESSAGE", "sip:alice@127.0.0.2:5070",
                                     "Bob sip:bob@b.example", "sip:alice@a.example",
                                     "text/plain Hello Alice!", "job-7"))  # fmt: skip
        seen.append(tm.t_new_request(ctx, "MESSAGE", "sip:alice@127.0.0.2:5070",
                                     "sip:bob@b.example", "sip:alice@a.example", "no-type"))  # fmt: skip
        raise ScriptExit

    h = Harness(RouteTable(main=main, local=local))
    h.from_caller(invite("OPTIONS"))
    assert seen == ["job-7", 1, -1]
    [message] = h.requests_to(CALLEE)
    assert message.method == "MESSAGE" and message.ruri_text == "sip:alice@127.0.0.2:5070"
    assert message.header("From", 0) is not None
    assert (message.header("From") or "").startswith("Bob <sip:bob@b.example>;tag=")
    assert message.header("To") == "<sip:alice@a.example>"
    assert message.header("CSeq") == "10 MESSAGE" and message.header("X-Local") == "yes"
    assert message.header("Content-Type") == "text/plain" and message.body == b"Hello Alice!"
    assert message.call_id != "call-1@10.0.0.1"
    h.from_callee(answer(message, 202))  # type: ignore[arg-type]
    assert h.take() == []  # absorbed
    h.advance(10)
    assert h.stateful.table.live == 0


def test_t_reply_by_callid_answers_a_parked_invite() -> None:
    def main(ctx: Ctx) -> int:
        if ctx.msg.method == "INVITE":
            tm.t_reply(ctx, 180, "Ringing")
            tm.t_wait_for_new_branches(ctx)
        elif ctx.msg.method == "BYE":
            cseq = str(int(ctx.msg.cseq.number) - 1)  # type: ignore[union-attr]
            results.append(tm.t_reply_by_callid(ctx, 487, "Request Terminated", None, cseq))
            results.append(tm.t_reply_by_callid(ctx, 487, "Request Terminated"))
            tm.t_reply(ctx, 200, "OK")
        raise ScriptExit

    results: list[int] = []
    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    assert statuses(h.take(), CALLER) == [100, 180]
    h.from_caller(invite("BYE", branch="z9hG4bK-bye", cseq=2, to_tag="t"))
    assert results == [1, -4]  # the BYE's own CSeq (2) matches no INVITE
    assert sorted(statuses(h.take(), CALLER)) == [200, 487]


def test_an_invite_waits_for_branches_injected_from_a_reply_route() -> None:
    def main(ctx: Ctx) -> int:
        assert tm.t_wait_for_new_branches(ctx) == 1
        tm.t_on_reply(ctx, "ring")
        return tm.t_relay(ctx)

    def ring(ctx: Ctx) -> int:
        if ctx.status == 486:
            ctx.append_branch("sip:carol@127.0.0.3:5070")
            results.append(tm.t_inject_branches(ctx, "event"))
            results.append(tm.t_inject_branches(ctx, "msg", "l"))
        return 1

    results: list[int] = []
    h = Harness(RouteTable(main=main, onreply_named={"ring": ring}))
    h.from_caller(invite())
    [first] = h.requests_to(CALLEE)
    h.from_callee(answer(first, 486))  # type: ignore[arg-type]
    assert results == [-1, 1]
    sent = h.take()
    assert statuses(sent, CALLER) == []  # the 486 did not end the call
    [second] = [m for dest, m in sent if dest == OTHER and isinstance(m, Request)]
    assert second.method == "INVITE" and second.ruri_text == "sip:carol@127.0.0.3:5070"
    h.from_callee(answer(second, 200, "carol"), OTHER)  # type: ignore[arg-type]
    assert statuses(h.take(), CALLER) == [200]


def test_a_waiting_invite_answers_when_fr_inv_timeout_ends_the_wait() -> None:
    set_modparam("tm", "fr_inv_timeout", 20)

    def main(ctx: Ctx) -> int:
        tm.t_wait_for_new_branches(ctx)
        return tm.t_relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    [first] = h.requests_to(CALLEE)
    h.from_callee(answer(first, 486))  # type: ignore[arg-type]
    assert statuses(h.take(), CALLER) == []
    h.advance(21)
    assert set(statuses(h.take(), CALLER)) == {486}  # (and its retransmissions)


def test_t_wait_no_more_branches_lets_the_failed_branches_decide() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    assert tm.t_wait_no_more_branches(ctx) == -1  # no transaction
    assert tm.t_wait_for_new_branches(ctx) == 1
    assert tm.t_relay(ctx) == 1
    [first] = h.requests_to(CALLEE)
    h.from_callee(answer(first, 404))  # type: ignore[arg-type]
    assert statuses(h.take(), CALLER) == []
    assert tm.t_wait_no_more_branches(ctx) == 1
    assert statuses(h.take(), CALLER) == [404]
    message = request_ctx(h, invite("MESSAGE", branch="z9hG4bK-m"))
    assert tm.t_wait_for_new_branches(message) == -1  # INVITE only


def test_t_inject_branches_refuses_without_a_transaction_or_after_the_final() -> None:
    h = Harness(RouteTable())
    ctx = request_ctx(h, invite())
    assert tm.t_inject_branches(ctx, "msg") == -1
    tm.t_reply(ctx, 486, "Busy Here")
    assert tm.t_inject_branches(ctx, "msg") == -2
    assert tm.t_inject_branches(ctx, "nonsense") == -1


# ---------------------------------------------------------------------- branch attributes


class Box:
    """An output variable (`$var(idx)`)."""

    def __init__(self) -> None:
        self.value: int | str | None = "unset"

    def set(self, value: int | str | None) -> None:
        self.value = value


def _forking(each: Callable[[Ctx], int], failed: Callable[[Ctx], int], **routes: Any) -> Harness:
    """bob (branch 0, 127.0.0.2) and carol (branch 1, 127.0.0.3), with branch route
    `each` and failure route `failed`; both branches are sent."""

    def main(ctx: Ctx) -> int:
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        tm.t_on_branch(ctx, "each")
        tm.t_on_failure(ctx, "failed")
        if "reply" in routes:
            tm.t_on_reply(ctx, "reply")
        return tm.t_relay(ctx)

    table = RouteTable(
        main=main,
        branch={"each": each},
        failure={"failed": failed},
        onreply_named={"reply": routes["reply"]} if "reply" in routes else {},
    )
    return Harness(table)


def _fail_both(h: Harness) -> None:
    h.from_caller(invite())
    sent = h.take()
    for dest, msg in sent:
        if isinstance(msg, Request) and dest in (CALLEE, OTHER):
            h.from_callee(answer(msg, 486), dest)  # type: ignore[arg-type]


def test_branch_attributes_set_in_the_branch_route_are_searched_in_the_failure_route() -> None:
    found: list[tuple[int, int | str | None]] = []
    read: list[Value] = []

    def each(ctx: Ctx) -> int:
        if ctx.ruri_user == "bob":
            ctx.pv_set("tm.branch.attr", "pstn", "name")  # no index: this branch
            ctx.pv_set("tm.branch.flag", 1, "TO_PSTN", ctx.pv_get("T_branch_idx"))
        else:
            ctx.pv_set("tm.branch.attr", 5, "name", 1)
        read.append(ctx.pv_get("tm.branch.attr", "name"))
        return 1

    def search(ctx: Ctx, *args: Any) -> None:
        box = Box()
        offset = args[3] if len(args) > 3 else None
        code = tm.t_get_branch_idx_by_attr(ctx, args[0], args[1], args[2], box, offset)
        found.append((code, box.value))

    def failed(ctx: Ctx) -> int:
        search(ctx, "name", "pstn", None)
        search(ctx, "name", None, 5)
        search(ctx, "name", "5", None)  # a string never matches an integer
        search(ctx, "name", None, None)  # any value
        search(ctx, "name", None, None, 1)  # from branch 1 on
        search(ctx, "name", "pstn", None, 1)
        search(ctx, "other", None, None)
        search(ctx, "", None, None)
        read.extend(
            [
                ctx.pv_get("tm.branch.attr", "name", 1),
                ctx.pv_get("tm.branch.attr", "name", -2),  # from the end: bob
                ctx.pv_get("tm.branch.attr", "name", 2),  # no such branch
                ctx.pv_get("tm.branch.flag", "TO_PSTN", 0),
                ctx.pv_get("tm.branch.flag", "TO_PSTN", 1),
                ctx.pv_get("tm.branch.flags", None, 0),
                ctx.pv_get("tm.branch.uri", None, 1),
                ctx.pv_get("tm.branch.duri", None, 1),
                ctx.pv_get("tm.branch.socket", None, 0),
                ctx.pv_get("tm.branch.type", None, 0),
            ]
        )
        ctx.pv_set("tm.branch.attr", None, "name", 0)  # NULL removes it
        search(ctx, "name", "pstn", None)
        return 1

    h = _forking(each, failed)
    _fail_both(h)
    assert found == [(1, 0), (1, 1), (-1, None), (1, 0), (1, 1), (-1, None), (-1, None),
                     (-2, "unset"), (-1, None)]  # fmt: skip
    assert read == ["pstn", 5, 5, "pstn", None, 1, 0, "TO_PSTN",
                    "sip:carol@127.0.0.3:5070", None, "udp:127.0.0.1:5060", "sip"]  # fmt: skip


def test_a_dropped_branch_takes_its_attributes_with_it() -> None:
    read: list[Value] = []

    def each(ctx: Ctx) -> int:
        ctx.pv_set("tm.branch.attr", ctx.ruri_user, "who")
        if ctx.ruri_user == "bob":
            raise ScriptDrop
        return 1

    def failed(ctx: Ctx) -> int:
        read.extend(ctx.pv_get("tm.branch.attr", "who", i) for i in (0, 1))
        box = Box()
        read.append(tm.t_get_branch_idx_by_attr(ctx, "who", "bob", None, box))
        return 1

    h = _forking(each, failed)
    _fail_both(h)
    assert read == ["carol", None, -1]  # carol took index 0


def test_branch_flags_written_in_a_reply_route_reach_the_failure_route() -> None:
    seen: list[tuple[Value, Value, int]] = []

    def each(ctx: Ctx) -> int:
        return 1

    def reply(ctx: Ctx) -> int:
        ctx.pv_set("tm.branch.flag", 1, "SEEN")  # this reply's branch
        ctx.pv_set("tm.branch.flag", "1", "BAD")  # not an integer: refused
        if ctx.src_ip == OTHER[0]:
            ctx.pv_set("tm.branch.flag", 0, "SEEN")
        ctx.pv_set("tm.branch.flag", 1, "FAR", 7)  # no such branch: nothing
        return 1

    def failed(ctx: Ctx) -> int:
        seen.append((ctx.pv_get("tm.branch.flags", None, 0),
                     ctx.pv_get("tm.branch.flags", None, 1),
                     branching.isbflagset(ctx, "SEEN")))  # fmt: skip
        return 1

    h = _forking(each, failed, reply=reply)
    _fail_both(h)
    assert seen == [("SEEN", "", 1)]  # bob's 486 wins (first of the same class)


def test_branch_attribute_functions_without_a_transaction() -> None:
    ctx, _ = context(invite())
    assert tm.t_get_branch_idx_by_attr(ctx, "name") == -2
    assert ctx.pv_get("tm.branch.attr", "name", 0) is None
    ctx.pv_set("tm.branch.attr", "x", "name", 0)  # nowhere to go: ignored
    assert "t_get_branch_idx_by_attr" in REGISTRY


def test_t_reply_by_callid_replies_with_the_invite_s_append_to_reply_lines() -> None:
    from stdlib import sipmsgops

    def main(ctx: Ctx) -> int:
        if ctx.msg.method == "INVITE":
            sipmsgops.append_to_reply(ctx, "X-Parked: yes\r\n")
            tm.t_wait_for_new_branches(ctx)
        elif ctx.msg.method == "BYE":
            sipmsgops.append_to_reply(ctx, "X-Bye: 1\r\n")
            cseq = str(int(ctx.msg.cseq.number) - 1)  # type: ignore[union-attr]
            tm.t_reply_by_callid(ctx, 487, "Request Terminated", None, cseq)
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    h.take()
    h.from_caller(invite("BYE", branch="z9hG4bK-bye", cseq=2, to_tag="t"))
    (final,) = [m for _, m in h.take() if isinstance(m, Response) and m.status == 487]
    assert final.headers_named("X-Parked") == ["yes"]
    assert final.headers_named("X-Bye") == []  # the BYE's lines are for the BYE's replies
