"""RFC 6026 through the proxy core: an answered INVITE stays Accepted for `wt_timer`.

Without it, an INVITE retransmission that crosses the 2xx (the caller has not seen it
yet, or the proxy lagged) matches nothing, runs the script again and goes downstream as
a new transaction. Hosts: 10.0.0.1 is the caller, 10.0.1.x the branches' targets.
"""

from __future__ import annotations

from typing import Any

from runtime.sip import Response
from runtime.transaction import (
    NewRequest,
    ProxyTransaction,
    State,
    StrayResponse,
    Terminated,
    TimerSettings,
)
from tests.runtime.transaction.helpers import Harness, answer, request
from tests.runtime.transaction.test_memory import owned_objects

A, B = "10.0.1.1", "10.0.1.2"
UP = "10.0.0.1"
WT = TimerSettings(wt_timer=5.0)  # tm's wt_timer, as the runtime configures it


def _answered(net: Harness, *targets: str) -> tuple[ProxyTransaction, list[Response]]:
    """An INVITE relayed to `targets`, the first of which answered 200 (forwarded)."""
    transaction = net.create(request())
    transaction.request_route_done()
    invites = net.relay(transaction, *targets)
    net.take()
    net.receive(answer(invites[0], 200, to_tag="a"))
    assert net.labels() == [(200, UP)]
    assert transaction.server.state is State.ACCEPTED
    return transaction, [answer(invite, 200, to_tag="b") for invite in invites]


def test_invite_retransmission_after_the_2xx_is_absorbed_unanswered() -> None:
    net = Harness(WT)
    _answered(net, A)
    for _ in range(3):
        net.receive(request())
        assert net.take() == []  # nothing downstream, nothing upstream (RFC 6026 §7.1)
        assert net.take_delivered() == []  # not a new request for the script


def test_retransmitted_2xx_is_still_forwarded_upstream() -> None:
    net = Harness(WT)
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.take()
    net.receive(answer(invite, 200, to_tag="a"))
    net.take()
    branch = transaction.branches[0]
    assert branch.client is not None and branch.client.state is State.ACCEPTED
    net.receive(answer(invite, 200, to_tag="a"))  # the callee has not seen the ACK yet
    [again] = net.take()
    assert again.label == 200 and again.destination[1] == UP
    assert isinstance(again.message, Response) and len(again.message.vias) == 1  # ours off
    assert net.take_delivered() == []  # forwarded by the transaction, not as a stray


def test_a_second_fork_2xx_goes_upstream_through_the_accepted_server() -> None:
    net = Harness(WT)
    transaction, answers = _answered(net, A, B)
    net.receive(answers[1])  # B answered too, crossing our CANCEL
    [second] = net.take()
    assert second.label == 200 and second.destination[1] == UP
    assert isinstance(second.message, Response) and second.message.to is not None
    assert second.message.to.tag == "b"
    assert transaction.server.state is State.ACCEPTED


def test_timer_l_ends_it_and_a_later_invite_is_a_new_transaction() -> None:
    net = Harness(WT)
    _, answers = _answered(net, A)
    net.advance(4.9)
    assert len(net.layer) == 1 and net.take_delivered() == []
    net.advance(0.2)  # wt_timer (5 s) is over: Timer L upstream, Timer M downstream
    assert [type(d) for d in net.take_delivered()] == [Terminated]
    assert len(net.layer) == 0 and len(net.layer.table.by_key) == 0 and len(net.wheel) == 0
    invite = request()
    net.receive(invite)
    [new] = net.take_delivered()
    assert isinstance(new, NewRequest) and new.request is invite
    net.receive(answers[0])  # and a 2xx now is the stateless forward's (§16.7)
    [stray] = net.take_delivered()
    assert isinstance(stray, StrayResponse)


def test_accepted_branches_end_with_timer_l() -> None:
    net = Harness(WT)
    transaction, _ = _answered(net, A)
    client = transaction.branches[0].client
    assert client is not None and client.state is State.ACCEPTED
    net.advance(5.1)
    assert _state(client) is State.TERMINATED and transaction.server.terminated


def test_a_fork_answering_after_timer_l_is_forwarded_and_ends_at_once() -> None:
    net = Harness(WT)
    transaction = net.create(request())
    transaction.request_route_done()
    first, second = net.relay(transaction, A, B)
    net.receive(answer(second, 180, to_tag="b"))
    net.receive(answer(first, 200, to_tag="a"))
    net.take()  # 180 and 200 upstream, the CANCEL to B
    net.advance(5.1)  # Timer L: A's branch ends with it; B's CANCEL is not answered
    assert transaction.server.terminated and len(net.layer) == 1
    net.take()
    net.receive(answer(second, 200, to_tag="b"))  # B answered after all (§16.7 step 10)
    [late] = net.take()
    assert late.label == 200 and late.destination[1] == UP
    client = transaction.branches[1].client
    assert client is not None and client.state is State.TERMINATED  # no Timer L to wait
    net.advance(40)  # B's CANCEL transaction gives up: nothing is left
    assert len(net.layer) == 0 and len(net.wheel) == 0


def test_without_wt_timer_accepted_lasts_64_t1() -> None:
    net = Harness(TimerSettings(t1=0.25))
    _answered(net, A)
    net.advance(15.9)
    assert len(net.layer) == 1
    net.advance(0.2)
    assert len(net.layer) == 0


def test_ack_of_the_2xx_goes_to_the_script_while_accepted() -> None:
    net = Harness(WT)
    _answered(net, A)
    e2e = request("ACK", branch="z9hG4bKack-of-2xx", cseq_method="ACK", to_tag="a")
    net.receive(e2e)
    [delivered] = net.take_delivered()
    assert isinstance(delivered, NewRequest) and delivered.request is e2e
    # one that reuses the INVITE's branch (an RFC 2543 habit) is not absorbed either
    net.receive(request("ACK", cseq_method="ACK", to_tag="a"))
    assert [type(d) for d in net.take_delivered()] == [NewRequest]
    assert net.take() == []


def test_cancel_after_the_2xx_gets_200_and_changes_nothing() -> None:
    net = Harness(WT)
    transaction, _ = _answered(net, A)
    keys = transaction.keys
    for _ in range(2):  # and its retransmission gets the same answer
        net.receive(request("CANCEL"))
        assert net.labels() == [(200, UP)]  # nothing downstream
    assert not transaction.cancelled and transaction.cancel_server is None
    assert transaction.keys == keys  # no CANCEL transaction: it would live 32 s (Timer J)
    net.advance(5.1)
    assert len(net.layer) == 0  # gone with Timer L, not kept for Timer J


def test_cancel_after_the_2xx_with_a_fork_pending_cancels_nothing_more() -> None:
    net = Harness(WT)
    transaction, _ = _answered(net, A, B)  # B had no provisional: its CANCEL waits
    net.receive(request("CANCEL"))
    assert net.labels() == [(200, UP)]
    assert not transaction.cancelled


def test_a_failed_upstream_send_of_the_2xx_keeps_absorbing() -> None:
    net = Harness(WT)
    transaction, _ = _answered(net, A)
    net.apply(net.layer.transport_error(transaction.server.key))
    assert transaction.server.state is State.ACCEPTED
    net.receive(request())
    assert net.take() == [] and net.take_delivered() == []


def test_accepted_keeps_no_request_and_no_bytes() -> None:
    net = Harness(WT)
    transaction, _ = _answered(net, A)
    client = transaction.branches[0].client
    assert client is not None
    assert transaction._request is None and transaction.server._request is None
    assert transaction.server.last_sent is None  # nothing to re-send from Accepted
    assert client.wire == b"" and client._request is None
    assert transaction.branches[0].destination is None and client.destination is None
    assert transaction.user_data is None and transaction._id_prefix == ""
    owned = owned_objects(transaction)
    assert owned["Request"] == owned["Response"] == 0, owned
    assert owned["bytes"] <= 1, owned  # b"", the interpreter's one empty bytes
    assert len(net.wheel) == 1  # Timer L alone: the branch ends with it (no Timer M)


def test_accepted_keeps_the_request_while_the_owner_runs() -> None:
    net = Harness(WT)
    transaction = net.create(request())
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 200))
    assert transaction.request.method == "INVITE"  # a suspended route may still read it
    transaction.request_route_done()
    net.receive(request())  # a network step after the owner is done lets it go
    assert transaction._request is None


def test_a_late_non_2xx_on_the_answered_branch_is_dropped() -> None:
    net = Harness(WT)
    transaction = net.create(request())
    transaction.request_route_done()
    [invite] = net.relay(transaction, A)
    net.receive(answer(invite, 200))
    net.take()
    net.receive(answer(invite, 486))  # nonsense after a 2xx: not ACKed, not forwarded
    assert net.take() == [] and net.take_delivered() == []
    net.advance(5.1)
    net.take_delivered()
    assert len(net.layer) == 0


def _state(machine: Any) -> State:
    """A machine's state read anew (past the narrowing of an earlier assert)."""
    state: State = machine.state
    return state
