"""The proxy core of RFC 3261 §16 through the layer, on a fake clock and a fake network.

Hosts: 10.0.0.1 is the caller (upstream), 10.0.1.x are the branches' targets.
"""

from __future__ import annotations

import pytest

from runtime.sip import Request, Response
from runtime.transaction import (
    Branch,
    Failure,
    NewRequest,
    Phase,
    ProxyBranch,
    ProxyTransaction,
    Send,
    StrayCancel,
    StrayResponse,
    Terminated,
    TimerSettings,
    TransactionError,
)
from tests.runtime.transaction.helpers import Harness, answer, copy, request

A, B, C = "10.0.1.1", "10.0.1.2", "10.0.1.3"
UP = "10.0.0.1"


def upstream_responses(net: Harness) -> list[Response]:
    return [s.message for s in net.take() if isinstance(s.message, Response)]


def test_invite_relayed_answered_and_forgotten() -> None:
    net = Harness()
    transaction = net.create(request())
    assert net.labels() == [(100, UP)]
    [invite] = net.relay(transaction, A)
    top = invite.top_via
    assert top is not None and top.sent_by == "10.0.0.2:5060"
    assert top.branch is not None and top.branch.startswith("z9hG4bK")
    assert len(invite.vias) == 2
    net.receive(answer(invite, 100))
    assert net.take() == []  # 100 is hop by hop: never forwarded
    net.receive(answer(invite, 180))
    [ringing] = upstream_responses(net)
    assert ringing.status == 180 and len(ringing.vias) == 1
    assert ringing.top_via is not None and ringing.top_via.branch == "z9hG4bKupstream1"
    net.receive(answer(invite, 200))
    assert net.labels() == [(200, UP)]
    assert net.take_delivered() == []  # Accepted (RFC 6026) for Timer L and M, 64*T1
    net.advance(32)
    assert [type(d) for d in net.take_delivered()] == [Terminated]
    assert len(net.layer) == 0 and len(net.layer.table.by_key) == 0
    # what the wheel still holds belongs to nobody: firing it changes nothing
    net.advance(300)
    assert net.take() == [] and net.take_delivered() == []


def test_retransmissions_absorbed_while_the_script_runs() -> None:
    net = Harness()
    net.create(request())
    net.take()
    net.receive(request())  # the script is still running (suspended): no branch yet
    assert net.labels() == [(100, UP)]
    options = net.create(request("OPTIONS", branch="z9hG4bKopt"))
    net.receive(request("OPTIONS", branch="z9hG4bKopt"))
    assert net.take() == [] and net.take_delivered() == []  # Trying absorbs silently
    assert options.phase is Phase.WAITING


def test_retransmitted_invite_gets_the_last_provisional() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 183))
    net.take()
    net.receive(request())
    assert net.labels() == [(183, UP)]


def test_non_2xx_is_acked_hop_by_hop_on_both_sides() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.take()
    net.receive(answer(invite, 486))
    sent = net.take()
    assert [(s.label, s.destination[1]) for s in sent] == [("ACK", A), (486, UP)]
    ack = sent[0].message
    assert ack.top_via is not None and ack.top_via.branch == invite.top_via.branch  # type: ignore[union-attr]
    busy = sent[1].message
    assert len(busy.vias) == 1
    up_ack = request("ACK", cseq_method="ACK", to_tag=busy.to.tag if busy.to else None)
    net.receive(up_ack)
    assert net.take() == [] and net.take_delivered() == []  # absorbed, not for the script
    net.advance(5.0)  # Timer I, and Timer D downstream (32 s) still to come
    assert net.take_delivered() == []
    net.advance(30.0)
    assert [type(d) for d in net.take_delivered()] == [Terminated]


def test_final_retransmitted_until_the_ack_then_timer_h() -> None:
    net = Harness()
    transaction = net.create(request())
    net.apply(transaction.reply(404))
    net.take()
    net.advance(0.5)
    assert net.labels() == [(404, UP)]  # Timer G
    net.advance(31.6)
    labels = [label for label, _ in net.labels()]
    assert labels and set(labels) == {404}
    assert [type(d) for d in net.take_delivered()] == [Terminated]  # Timer H: no ACK came


def test_every_2xx_of_a_fork_goes_upstream() -> None:
    net = Harness()
    transaction = net.create(request())
    first, second = net.relay(transaction, A, B)
    net.take()
    net.receive(answer(first, 180, to_tag="a"))
    net.receive(answer(second, 180, to_tag="b"))
    net.take()
    net.receive(answer(first, 200, to_tag="a"))
    assert net.labels() == [(200, UP), ("CANCEL", B)]
    net.receive(answer(second, 200, to_tag="b"))  # crossed our CANCEL
    forwarded = upstream_responses(net)
    assert [r.status for r in forwarded] == [200]
    assert forwarded[0].to is not None and forwarded[0].to.tag == "b"
    assert len(forwarded[0].vias) == 1


def test_200_crossing_an_upstream_cancel_is_still_forwarded() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 180))
    net.take()
    net.receive(request("CANCEL"))
    sent = net.take()
    assert [(s.label, s.destination[1]) for s in sent] == [(200, UP), ("CANCEL", A)]
    cancel = sent[1].message
    assert isinstance(cancel, Request)
    net.receive(answer(invite, 200))  # the callee answered before our CANCEL reached it
    assert net.labels() == [(200, UP)]
    assert transaction.final_status == 200
    net.receive(answer(cancel, 200))  # the CANCEL's own answer: absorbed
    assert net.take() == []
    net.advance(60)
    assert [type(d) for d in net.take_delivered()] == [Terminated]


def test_cancel_before_any_provisional_waits_for_one() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.take()
    net.receive(request("CANCEL"))
    assert net.labels() == [(200, UP)]  # no CANCEL downstream yet (§9.1)
    net.receive(answer(invite, 100))
    assert net.labels() == [("CANCEL", A)]
    net.receive(answer(invite, 487))
    assert net.labels() == [("ACK", A), (487, UP)]
    assert transaction.cancelled


def test_cancel_while_the_script_runs_answers_487_at_once() -> None:
    net = Harness()
    transaction = net.create(request())
    net.take()
    net.receive(request("CANCEL"))
    assert net.labels() == [(200, UP), (487, UP)]
    with pytest.raises(TransactionError):
        transaction.relay([Branch(copy(transaction.request), ("udp", A, 5060), "udp", "p:5060")])


def test_retransmitted_cancel_is_answered_again_and_cancels_once() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 180))
    net.receive(request("CANCEL"))
    net.take()
    net.receive(request("CANCEL"))
    assert net.labels() == [(200, UP)]
    assert transaction.branches[0].cancel is not None


def test_cancel_for_an_unknown_transaction() -> None:
    net = Harness()
    net.receive(request("CANCEL"))
    assert net.labels() == [(481, UP)]
    stateless = Harness(settings=TimerSettings(answer_unknown_cancel=False))
    stateless.receive(request("CANCEL"))
    assert stateless.take() == []
    assert [type(d) for d in stateless.take_delivered()] == [StrayCancel]


def test_cancel_after_the_final_gets_200_and_changes_nothing() -> None:
    net = Harness()
    transaction = net.create(request())
    first, _second = net.relay(transaction, A, B)
    net.receive(answer(first, 200, to_tag="a"))  # B never answered: the context lives on
    net.take()
    net.receive(request("CANCEL"))
    assert net.labels() == [(200, UP)]
    assert not transaction.cancelled


def test_2xx_retransmission_after_the_transaction_is_gone_is_stray() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 200))
    net.advance(32)  # Timer L and M: the transaction is gone
    net.take_delivered()
    net.receive(answer(invite, 200))
    [stray] = net.take_delivered()
    assert isinstance(stray, StrayResponse) and stray.response.status == 200
    assert len(stray.response.vias) == 2  # untouched: the stateless forward takes our Via off


def test_ack_for_2xx_passes_through_to_the_script() -> None:
    net = Harness()
    transaction = net.create(request())
    first, _ = net.relay(transaction, A, B)
    net.receive(answer(first, 200, to_tag="a"))
    net.take_delivered()
    e2e_ack = request("ACK", branch="z9hG4bKnew-for-ack", cseq_method="ACK", to_tag="a")
    net.receive(e2e_ack)
    [delivered] = net.take_delivered()
    assert isinstance(delivered, NewRequest) and delivered.request is e2e_ack
    # even one reusing the INVITE's branch is not absorbed once the 2xx went
    net.receive(request("ACK", cseq_method="ACK", to_tag="a"))
    assert [type(d) for d in net.take_delivered()] == [NewRequest]
    with pytest.raises(TransactionError):
        net.layer.create(e2e_ack, ("udp", UP, 5060))


def test_late_provisional_and_duplicate_finals_are_dropped() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 486))
    net.take()
    net.receive(answer(invite, 180))
    assert net.take() == []
    net.receive(answer(invite, 486))
    assert net.labels() == [("ACK", A)]  # the ACK again, nothing upstream


def test_best_response_prefers_the_lowest_class() -> None:
    net = Harness()
    transaction = net.create(request())
    legs = net.relay(transaction, A, B, C)
    net.take()
    for leg, status in zip(legs, (404, 302, 486), strict=True):
        net.receive(answer(leg, status))
    upstream = upstream_responses(net)
    assert [r.status for r in upstream] == [302]


def test_best_response_prefers_a_challenge_and_merges_them() -> None:
    net = Harness()
    transaction = net.create(request())
    legs = net.relay(transaction, A, B, C)
    net.take()
    challenges = [
        (404, ()),
        (401, (("WWW-Authenticate", 'Digest realm="a"'),)),
        (407, (("Proxy-Authenticate", 'Digest realm="b"'),)),
    ]
    for leg, (status, headers) in zip(legs, challenges, strict=True):
        net.receive(answer(leg, status, headers=headers))
    [final] = upstream_responses(net)
    assert final.status in (401, 407)
    assert final.headers_named("WWW-Authenticate") == ['Digest realm="a"']
    assert final.headers_named("Proxy-Authenticate") == ['Digest realm="b"']


def test_503_becomes_500() -> None:
    net = Harness()
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.take()
    net.receive(answer(invite, 503))
    assert [r.status for r in upstream_responses(net)] == [500]


def test_6xx_cancels_the_others_and_wins() -> None:
    net = Harness()
    transaction = net.create(request())
    first, second = net.relay(transaction, A, B)
    net.receive(answer(second, 180))
    net.take()
    net.receive(answer(first, 603))
    assert net.labels() == [("ACK", A), ("CANCEL", B)]  # 603 held back
    with pytest.raises(TransactionError):
        transaction.relay([Branch(copy(transaction.request), ("udp", C, 5060), "udp", "p:5060")])
    net.receive(answer(second, 487))
    assert net.labels() == [("ACK", B), (603, UP)]


def test_all_branches_timing_out_give_408() -> None:
    net = Harness()
    transaction = net.create(request())
    net.relay(transaction, A, B)
    net.take()
    net.advance(31.9)
    assert {label for label, _ in net.labels()} == {"INVITE"}  # Timer A retransmissions
    net.advance(0.2)  # Timer B on both
    assert net.labels() == [(408, UP)]


def test_non_invite_without_any_answer_gets_408_on_timer_f() -> None:
    net = Harness()
    transaction = net.create(request("OPTIONS", branch="z9hG4bKopt"))
    assert net.take() == []  # no 100 for a non-INVITE
    net.relay(transaction, A)
    net.advance(32.0)
    labels = net.labels()
    assert labels[-1] == (408, UP)
    assert {label for label, _ in labels[:-1]} == {"OPTIONS"}


def test_timer_c_without_a_provisional_is_a_408() -> None:
    net = Harness(settings=TimerSettings(fr_inv_timeout=10.0))
    transaction = net.create(request())
    net.relay(transaction, A)
    net.take()
    net.advance(10.0)
    assert net.labels()[-1] == (408, UP)
    assert transaction.branches[0].client is not None
    assert transaction.branches[0].client.terminated


def test_timer_c_after_a_provisional_cancels_then_gives_up() -> None:
    net = Harness(settings=TimerSettings(fr_inv_timeout=60.0))
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.advance(10.0)
    net.receive(answer(invite, 180))  # restarts Timer C: due at 70 s
    net.take()
    net.advance(59.0)
    assert net.take() == []
    net.advance(1.0)
    assert net.labels()[:1] == [("CANCEL", A)]
    net.advance(32.0)  # no 487 within 64*T1: the branch is given up
    assert net.labels()[-1] == (408, UP)


def test_timer_c_cancel_answered_with_487() -> None:
    net = Harness(settings=TimerSettings(fr_inv_timeout=20.0))
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 180))
    net.advance(20.0)
    net.take()
    net.receive(answer(invite, 487))
    assert net.labels() == [("ACK", A), (487, UP)]


def test_fr_timeout_is_timer_b_and_f() -> None:
    net = Harness(settings=TimerSettings(fr_timeout=5.0))
    transaction = net.create(request())
    net.relay(transaction, A)
    net.advance(4.9)
    assert (408, UP) not in net.labels()
    net.advance(0.2)
    assert net.labels() == [(408, UP)]


def test_transport_error_on_a_branch_counts_as_503() -> None:
    net = Harness()
    transaction = net.create(request())
    net.relay(transaction, A)
    net.take()
    effects = transaction.relay(
        [Branch(copy(transaction.request), ("tcp", B, 5060), "tcp", "10.0.0.2:5060")]
    )
    [send] = [e for e in effects if isinstance(e, Send)]
    assert send.key == transaction.branches[1].key  # what the runtime reports back
    net.apply(effects)
    net.apply(net.layer.transport_error(transaction.branches[0].key))
    assert upstream_responses(net) == []  # B may still answer
    net.apply(net.layer.transport_error(send.key))
    assert [r.status for r in upstream_responses(net)] == [500]


def test_failure_route_may_fork_serially() -> None:
    net = Harness()
    transaction = net.create(request())
    transaction.has_failure_route = True
    [first] = net.relay(transaction, A)
    net.take()
    net.receive(answer(first, 486))
    assert net.labels() == [("ACK", A)]  # nothing upstream: the script decides
    [failure] = net.take_delivered()
    assert isinstance(failure, Failure) and failure.best.status == 486 and not failure.cancelled
    assert transaction.phase is Phase.FAILURE
    [second] = net.relay(transaction, B)
    assert transaction.phase.value == "waiting"
    net.receive(answer(second, 200))
    assert net.labels() == [(200, UP)]


def test_failure_route_may_let_the_best_response_go_or_reply() -> None:
    net = Harness()
    transaction = net.create(request())
    transaction.has_failure_route = True
    [leg] = net.relay(transaction, A)
    net.receive(answer(leg, 486))
    net.take()
    net.apply(transaction.forward_best())
    assert net.labels() == [(486, UP)]
    with pytest.raises(TransactionError):
        transaction.forward_best()

    other = Harness()
    transaction = other.create(request())
    transaction.has_failure_route = True
    other.advance(0)
    [leg] = other.relay(transaction, A)
    other.advance(32.1)  # timeout: the failure route sees a 408
    [failure] = [d for d in other.take_delivered() if isinstance(d, Failure)]
    assert failure.best.status == 408
    other.take()
    other.apply(transaction.reply(480, "Gone Fishing"))
    [final] = upstream_responses(other)
    assert (final.status, final.reason) == (480, "Gone Fishing")


def test_cancelled_transaction_reports_it_to_the_failure_route() -> None:
    net = Harness()
    transaction = net.create(request())
    transaction.has_failure_route = True
    [leg] = net.relay(transaction, A)
    net.receive(answer(leg, 180))
    net.receive(request("CANCEL"))
    net.receive(answer(leg, 487))
    [failure] = [d for d in net.take_delivered() if isinstance(d, Failure)]
    assert failure.cancelled
    with pytest.raises(TransactionError):
        net.relay(transaction, B)
    net.take()
    net.apply(transaction.forward_best())
    assert net.labels() == [(487, UP)]


def test_branch_hook_edits_or_drops_branches() -> None:
    net = Harness()
    transaction = net.create(request())
    seen: list[int] = []

    def branch_route(tx: ProxyTransaction, branch: ProxyBranch) -> bool:
        seen.append(branch.index)
        if branch.destination[1] == B:
            return False  # `drop` in branch_route
        branch.request.add_header("X-Branch", str(branch.index))
        return True

    transaction.on_branch = branch_route
    sent = net.relay(transaction, A, B, C)
    assert seen == [0, 1, 1]  # the dropped branch takes no index
    assert [r.header("X-Branch") for r in sent] == ["0", "1"]
    assert [b.destination[1] for b in transaction.branches] == [A, C]


def test_reply_hook_sees_every_reply_and_may_drop_a_provisional() -> None:
    net = Harness()
    transaction = net.create(request())
    heard: list[tuple[int, int]] = []

    def onreply_route(
        tx: ProxyTransaction, branch: ProxyBranch, reply: Response
    ) -> Response | None:
        heard.append((branch.index, reply.status))
        return None if reply.status == 183 else reply

    transaction.on_reply = onreply_route
    [leg] = net.relay(transaction, A)
    net.take()
    for status in (180, 183, 486):
        net.receive(answer(leg, status))
    assert heard == [(0, 180), (0, 183), (0, 486)]
    assert [r.status for r in upstream_responses(net)] == [180, 486]  # a final is never dropped


def test_non_invite_relay_and_absorbed_retransmissions() -> None:
    net = Harness()
    transaction = net.create(request("MESSAGE", branch="z9hG4bKmsg"))
    [msg] = net.relay(transaction, A)
    net.take()
    net.receive(answer(msg, 202))
    assert net.labels() == [(202, UP)]
    net.receive(request("MESSAGE", branch="z9hG4bKmsg"))
    assert net.labels() == [(202, UP)]  # Completed re-sends the final
    net.advance(5.0)  # Timer K downstream
    assert net.take_delivered() == []
    net.advance(27.0)  # Timer J upstream
    assert [type(d) for d in net.take_delivered()] == [Terminated]


def test_local_reply_cancels_pending_branches() -> None:
    net = Harness()
    transaction = net.create(request())
    [leg] = net.relay(transaction, A)
    net.receive(answer(leg, 180))
    net.take()
    net.apply(transaction.reply(486, "Busy Here"))
    assert net.labels() == [(486, UP), ("CANCEL", A)]
    with pytest.raises(TransactionError):
        transaction.reply(500)


def test_create_twice_is_refused() -> None:
    net = Harness()
    net.create(request())
    with pytest.raises(TransactionError):
        net.layer.create(request(), ("udp", UP, 5060))


def test_branch_without_sent_by_uses_the_callers_via() -> None:
    net = Harness()
    transaction = net.create(request())
    branch_request = copy(transaction.request)
    branch_id = transaction.new_branch_id()
    branch_request.prepend_via(f"SIP/2.0/UDP 10.0.0.2:5060;branch={branch_id}")
    net.apply(transaction.relay([Branch(branch_request, ("udp", A, 5060))]))
    assert transaction.branches[0].branch_id == branch_id
    assert transaction.new_branch_id() != branch_id


def test_original_request_is_never_edited_by_a_branch() -> None:
    net = Harness()
    transaction = net.create(request())
    before = transaction.request.to_bytes()
    net.apply(
        transaction.relay([Branch(transaction.request, ("udp", A, 5060), "udp", "10.0.0.2:5060")])
    )
    assert transaction.request.to_bytes() == before
    client = transaction.branches[0].client
    assert client is not None and len(client.request.vias) == 2


def test_response_for_an_unknown_branch_is_stray() -> None:
    net = Harness()
    unknown = request(branch="z9hG4bKnot-ours")
    net.receive(answer(unknown, 200))
    [stray] = net.take_delivered()
    assert isinstance(stray, StrayResponse)


def test_invite_retransmission_after_our_2xx_is_absorbed_while_forks_live() -> None:
    net = Harness()
    transaction = net.create(request())
    first, _ = net.relay(transaction, A, B)
    net.receive(answer(first, 200, to_tag="a"))
    net.take()
    net.receive(request())
    assert net.take() == [] and net.take_delivered() == []


def test_ack_before_any_final_is_dropped() -> None:
    net = Harness()
    net.create(request())
    net.take()
    net.receive(request("ACK", cseq_method="ACK"))
    assert net.take() == [] and net.take_delivered() == []


def test_user_cancel_cancels_ringing_branches_only_once() -> None:
    net = Harness()
    transaction = net.create(request())
    first, second = net.relay(transaction, A, B)
    net.receive(answer(first, 180))
    net.take()
    net.apply(transaction.cancel())
    assert net.labels() == [("CANCEL", A)]
    net.apply(transaction.cancel())
    assert net.take() == []
    assert transaction.branches[1].cancel_wanted  # B gets its CANCEL with its first 1xx
    assert not transaction.cancelled  # upstream was not told anything
    net.receive(answer(second, 183))
    # the 183 is still relayed (no final went upstream), and B gets its CANCEL now
    assert net.labels() == [("CANCEL", B), (183, UP)]


def test_reliable_upstream_gets_content_length_and_no_retransmissions() -> None:
    net = Harness()
    transaction, effects = net.layer.create(request(), ("tcp", UP, 5060), "tcp")
    net.apply(effects)
    net.take()
    net.apply(transaction.reply(486))
    [final] = net.take()
    assert final.transport == "tcp" and final.message.header("Content-Length") == "0"
    net.advance(10)
    assert net.take() == []  # no Timer G on a stream


def test_non_invite_6xx_ends_without_cancel() -> None:
    net = Harness()
    transaction = net.create(request("OPTIONS", branch="z9hG4bKopt"))
    first, second = net.relay(transaction, A, B)
    net.receive(answer(first, 603))
    assert net.take() == []  # a non-INVITE is never CANCELed; the 603 waits for B
    net.receive(answer(second, 404))
    assert net.labels() == [(603, UP)]


def test_server_transport_error_ends_the_transaction() -> None:
    net = Harness()
    transaction = net.create(request("OPTIONS", branch="z9hG4bKopt"))
    [options] = net.relay(transaction, A)
    net.receive(answer(options, 200))
    net.apply(net.layer.transport_error(transaction.server.key))
    net.advance(6)  # Timer K downstream
    assert [type(d) for d in net.take_delivered()] == [Terminated]


def test_late_non_2xx_on_a_given_up_branch_is_acked_and_dropped() -> None:
    net = Harness(settings=TimerSettings(fr_inv_timeout=10.0))
    transaction = net.create(request())
    first, second = net.relay(transaction, A, B)
    net.receive(answer(second, 180))
    net.advance(10.0)  # Timer C: A (silent) is given up with a local 408, B is CANCELed
    net.take()
    net.receive(answer(first, 486))  # A wakes up: too late
    assert net.labels() == [("ACK", A)]
    assert net.take_delivered() == []
    net.receive(answer(second, 487))
    assert net.labels() == [("ACK", B), (487, UP)]  # the best of 408 (local) and 487


def test_a_refused_relay_starts_no_branch() -> None:
    net = Harness()
    transaction = net.create(request())
    good = Branch(copy(transaction.request), ("udp", A, 5060), "udp", "10.0.0.2:5060")
    no_via = copy(transaction.request)
    no_via.remove_header("Via")
    with pytest.raises(TransactionError):
        transaction.relay([good, Branch(no_via, ("udp", B, 5060))])
    assert transaction.branches == [] and len(net.layer.table.by_key) == 1


def test_a_dropped_provisional_still_lets_the_cancel_go() -> None:
    net = Harness()
    transaction = net.create(request())
    transaction.on_reply = lambda tx, branch, reply: reply if reply.status >= 200 else None
    [leg] = net.relay(transaction, A)
    net.receive(request("CANCEL"))
    net.take()
    net.receive(answer(leg, 180))  # dropped by the route, yet the callee is ringing
    assert net.labels() == [("CANCEL", A)]


def test_branch_ids_are_unique_and_unrelated_across_transactions() -> None:
    net = Harness()
    first = net.create(request(branch="z9hG4bKone"))
    second = net.create(request(branch="z9hG4bKtwo"))
    ids = [first.new_branch_id(), first.new_branch_id(), second.new_branch_id()]
    assert len(set(ids)) == 3 and all(i.startswith("z9hG4bK") for i in ids)
    assert ids[0].rsplit(".", 1)[0] == ids[1].rsplit(".", 1)[0]  # one transaction, one prefix
    assert ids[0].rsplit(".", 1)[0] != ids[2].rsplit(".", 1)[0]
