"""Waiting for injected branches, headers on every branch and CANCEL, requests of our own.

Hosts: 10.0.0.1 is the caller (upstream), 10.0.1.x are the branches' targets.
"""

from __future__ import annotations

import pytest

from runtime.sip import Request, Response
from runtime.transaction import Branch, Effect, Failure, TimerSettings, TransactionError
from runtime.transaction.local import LocalTransaction
from tests.runtime.transaction.helpers import PROXY_SENT_BY, Harness, answer, copy, request

A, B = "10.0.1.1", "10.0.1.2"
UP = "10.0.0.1"


def upstream(net: Harness) -> list[int]:
    return [s.message.status for s in net.take() if isinstance(s.message, Response)]


def branch_to(net: Harness, tx_request: Request, host: str) -> Branch:
    return Branch(copy(tx_request), ("udp", host, 5060), "udp", PROXY_SENT_BY)


def test_a_waiting_invite_sends_no_final_when_its_branches_fail() -> None:
    net = Harness(TimerSettings(fr_inv_timeout=60.0))
    tx = net.create(request())
    net.apply(tx.wait_for_branches())
    [invite] = net.relay(tx, A)
    net.take()
    net.receive(answer(invite, 486))
    assert upstream(net) == []  # only the ACK of the 486 went, downstream
    assert tx.waiting and tx.final_status == 0
    net.apply(tx.inject([branch_to(net, tx.request, B)], cancel=False, last=False))
    [second] = [s.message for s in net.take() if isinstance(s.message, Request)]
    net.receive(answer(second, 404))
    assert upstream(net) == [] and tx.waiting
    net.advance(60.5)  # fr_inv_timeout: the best of what failed goes up
    assert 486 in upstream(net) and not tx.waiting


def test_the_count_of_injections_ends_the_waiting() -> None:
    net = Harness()
    tx = net.create(request())
    net.apply(tx.wait_for_branches(2))
    net.take()
    for host in (A, B):
        net.apply(tx.inject([branch_to(net, tx.request, host)], cancel=False, last=False))
    assert not tx.waiting and tx.wait_left == 0
    for sent in [s.message for s in net.take() if isinstance(s.message, Request)]:
        net.receive(answer(sent, 480))
    assert upstream(net) == [480]


def test_no_more_branches_with_none_relayed_answers_408_or_asks_the_failure_route() -> None:
    net = Harness()
    tx = net.create(request())
    net.apply(tx.wait_for_branches())
    net.take()
    out: list[Effect] = []
    tx.stop_waiting(out)
    net.apply(out)
    assert upstream(net) == [408]
    other = net.create(request(branch="z9hG4bKother", call_id="c2"))
    other.has_failure_route = True
    net.apply(other.wait_for_branches())
    net.advance(200)  # fr_inv_timeout (180 s by default) with nothing injected
    failures = [d for d in net.take_delivered() if isinstance(d, Failure)]
    assert [f.best.status for f in failures] == [408]


def test_injection_may_cancel_the_ringing_branches_first() -> None:
    net = Harness()
    tx = net.create(request())
    net.apply(tx.wait_for_branches())
    [first] = net.relay(tx, A)
    net.receive(answer(first, 180))
    net.take()
    net.apply(tx.inject([branch_to(net, tx.request, B)], cancel=True, last=True))
    labels = [(s.label, s.destination[1]) for s in net.take()]
    assert ("CANCEL", A) in labels and ("INVITE", B) in labels and not tx.waiting


def test_only_an_invite_waits_and_a_cancel_ends_the_wait() -> None:
    net = Harness()
    message = net.create(request("MESSAGE"))
    with pytest.raises(TransactionError):
        message.wait_for_branches()
    tx = net.create(request(branch="z9hG4bKinv2", call_id="c3"))
    net.apply(tx.wait_for_branches())
    net.take()
    net.receive(request("CANCEL", branch="z9hG4bKinv2", call_id="c3"))
    assert sorted(upstream(net)) == [200, 487] and not tx.waiting


def test_extra_headers_and_the_cancel_reason_go_downstream() -> None:
    net = Harness()
    tx = net.create(request())
    tx.extra_headers = b"X-Origin: 1.1.1.1\r\n"
    tx.cancel_reason = ('SIP;cause=200;text="Call completed elsewhere"',)
    [invite] = net.relay(tx, A)
    assert invite.header("X-Origin") == "1.1.1.1" and invite.top_via is not None
    assert invite.top_via.sent_by == PROXY_SENT_BY  # ours stays the top Via
    net.receive(answer(invite, 180))
    net.take()
    net.receive(request("CANCEL"))
    [cancel] = [s.message for s in net.take() if isinstance(s.message, Request)]
    assert cancel.method == "CANCEL" and cancel.header("X-Origin") == "1.1.1.1"
    assert cancel.header("Reason") == 'SIP;cause=200;text="Call completed elsewhere"'


def test_the_reason_of_the_upstream_cancel_is_passed_on_when_asked() -> None:
    net = Harness()
    tx = net.create(request())
    tx.pass_reason = True  # t_relay("pass-reason-hdr")
    [invite] = net.relay(tx, A)
    net.receive(answer(invite, 180))
    net.take()
    net.receive(request("CANCEL", extra='Reason: Q.850;cause=16;text="Terminated"\r\n'))
    [cancel] = [s.message for s in net.take() if isinstance(s.message, Request)]
    assert cancel.header("Reason") == 'Q.850;cause=16;text="Terminated"'


def local_request(method: str = "MESSAGE", branch: str = "z9hG4bKlocal1") -> bytes:
    return request(method, branch=branch, sent_by=PROXY_SENT_BY, call_id="loc").to_bytes()


def test_a_request_of_our_own_absorbs_its_answers_and_ends() -> None:
    net = Harness()
    local = LocalTransaction("z9hG4bKlocal1", "MESSAGE", local_request(), ("udp", A, 5060),
                             "udp", net.settings)  # fmt: skip
    net.apply(net.layer.start_local(local))
    [sent] = net.take()
    assert sent.label == "MESSAGE" and len(net.layer) == 1
    assert isinstance(sent.message, Request)
    net.receive(answer(sent.message, 202))
    assert net.take() == [] and net.take_delivered() == []  # nothing goes anywhere
    assert local.final_status == 202 and local.responses == [202]
    net.advance(10)  # Timer K
    assert local.done and len(net.layer) == 0 and net.layer.local == {}


def test_a_request_of_our_own_times_out_with_408() -> None:
    net = Harness()
    local = LocalTransaction("z9hG4bKlocal2", "OPTIONS", local_request("OPTIONS", "z9hG4bKlocal2"),
                             ("udp", A, 5060), "udp", net.settings)  # fmt: skip
    net.apply(net.layer.start_local(local))
    net.advance(40)
    assert local.final_status == 408 and local.done and len(net.layer) == 0


def test_the_2xx_to_an_invite_of_our_own_is_acked() -> None:
    net = Harness()
    local = LocalTransaction("z9hG4bKlocal3", "INVITE", local_request("INVITE", "z9hG4bKlocal3"),
                             ("udp", A, 5060), "udp", net.settings)  # fmt: skip
    net.apply(net.layer.start_local(local))
    [sent] = net.take()
    assert isinstance(sent.message, Request)
    net.receive(answer(sent.message, 200))
    [ack] = net.take()
    assert ack.label == "ACK" and ack.destination[1] == A
    assert isinstance(ack.message, Request) and "callee-tag" in (ack.message.header("To") or "")


def test_a_cancel_from_upstream_says_originator_cancel_by_default() -> None:
    net = Harness()
    tx = net.create(request())
    [invite] = net.relay(tx, A)
    net.receive(answer(invite, 180))
    net.take()
    net.receive(request("CANCEL", extra="Reason: Q.850;cause=16\r\n"))
    [cancel] = [s.message for s in net.take() if isinstance(s.message, Request)]
    assert cancel.header("Reason") == 'SIP;cause=487;text="ORIGINATOR_CANCEL"'
