"""What a transaction keeps, pending and completed, and that an ended one keeps nothing.

The bytes per transaction are a measurement printed for the record (`pytest -s`), not
an assertion: they depend on the interpreter and on the messages.
"""

from __future__ import annotations

import enum
import gc
import sys
import tracemalloc
import types
from collections import Counter
from collections.abc import Callable

from runtime.transaction import ProxyTransaction, TimerSettings, TransactionTable
from tests.runtime.transaction.helpers import Harness, answer, request

COUNT = 200


Then = Callable[[Harness, ProxyTransaction, int], None]


def _calls(net: Harness, count: int, then: Then, first: int = 0) -> None:
    for i in range(first, first + count):
        transaction = net.create(request(branch=f"z9hG4bKmem{i}", call_id=f"mem-{i}"))
        [invite] = net.relay(transaction, "10.0.1.1")
        then(net, transaction, i)
        del invite
        net.take()
        net.take_delivered()


def _ringing(net: Harness, transaction: ProxyTransaction, i: int) -> None:
    client = transaction.branches[0].client
    assert client is not None
    net.receive(answer(client.request, 180))
    client._request = None  # as relayed: the layer keeps the wire bytes, not a parse


def _rejected(net: Harness, transaction: ProxyTransaction, i: int) -> None:
    client = transaction.branches[0].client
    assert client is not None
    net.receive(answer(client.request, 486))
    final = net.sent[-1].message
    assert final.to is not None
    ack = request("ACK", branch=f"z9hG4bKmem{i}", call_id=f"mem-{i}", cseq_method="ACK",
                  to_tag=final.to.tag)
    net.receive(ack)  # Confirmed: waits for Timer I


def _answered(net: Harness, transaction: ProxyTransaction, i: int) -> None:
    client = transaction.branches[0].client
    assert client is not None
    transaction.request_route_done()  # as in the runtime: t_relay's route has ended
    net.receive(answer(client.request, 200))  # Accepted (RFC 6026) for wt_timer


def _answered_and_gone(net: Harness, transaction: ProxyTransaction, i: int) -> None:
    _answered(net, transaction, i)
    net.advance(net.settings.timer_l)


def _measure(then: Then) -> tuple[Harness, float, float]:
    net = Harness(TimerSettings(wt_timer=5.0))  # tm's wt_timer, as the runtime has it
    _calls(net, 5, then, first=COUNT)  # warm the caches (header names, interned strings)
    net.advance(300)  # the warm-up calls end
    gc.collect()
    objects_before = len(gc.get_objects())
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    _calls(net, COUNT, then)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    retained = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    objects = (len(gc.get_objects()) - objects_before) / COUNT
    return net, retained / COUNT, objects


# shared by every transaction, or scalars too small to matter
_SHARED = (
    type,
    types.ModuleType,
    types.FunctionType,
    enum.Enum,
    TimerSettings,
    TransactionTable,
    bool,
    int,
    float,
)


def owned_objects(transaction: ProxyTransaction) -> Counter[str]:
    """Objects reachable from `transaction` that no other transaction shares, by type.

    Shared things (the table, the settings, classes, enum members) and numbers are
    left out; `bytes`/`str` count once per object.
    """
    seen: set[int] = set()
    counts: Counter[str] = Counter()
    sizes = 0
    todo: list[object] = [transaction]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, _SHARED) or obj is None:
            continue
        if isinstance(obj, ProxyTransaction) and obj is not transaction:
            continue
        seen.add(id(obj))
        counts[type(obj).__name__] += 1
        sizes += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    counts["(bytes by getsizeof)"] = sizes
    return counts


def test_objects_per_transaction() -> None:
    net = Harness()
    _calls(net, 1, _ringing)
    [ringing] = set(net.layer.table.by_key.values())
    pending = owned_objects(ringing)
    for name in ("ProxyTransaction", "ServerInviteTransaction", "ProxyBranch",
                 "ClientInviteTransaction", "Request"):
        assert pending[name] == 1, (name, pending)
    assert pending["Response"] == 0  # provisionals are kept as the bytes sent
    net = Harness()
    _calls(net, 1, _rejected)
    [confirmed] = set(net.layer.table.by_key.values())
    completed = owned_objects(confirmed)
    assert completed["Response"] == 0  # released once the final went upstream
    net = Harness()
    _calls(net, 1, _answered)
    [answered] = set(net.layer.table.by_key.values())
    accepted = owned_objects(answered)
    assert accepted["Request"] == accepted["Response"] == 0  # statuses and keys only
    print(f"\nringing: {dict(pending)}\nconfirmed: {dict(completed)}\naccepted: {dict(accepted)}")


def _live_transactions() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, ProxyTransaction))


def test_memory_per_transaction() -> None:
    net, pending_bytes, pending_objects = _measure(_ringing)
    assert len(net.layer) == COUNT
    assert len(net.wheel) == COUNT  # one timer each: Timer C (A and B stopped by the 180)
    net, completed_bytes, completed_objects = _measure(_rejected)
    assert len(net.layer) == COUNT
    assert all(t.server.state.value == "Confirmed" for t in set(net.layer.table.by_key.values()))
    net, accepted_bytes, accepted_objects = _measure(_answered)
    assert len(net.layer) == COUNT
    assert all(t.server.state.value == "Accepted" for t in set(net.layer.table.by_key.values()))
    assert len(net.wheel) == COUNT  # Timer L each: the branches end with it (no Timer M)
    net, gone_bytes, gone_objects = _measure(_answered_and_gone)
    assert len(net.layer) == 0 and len(net.layer.table.by_rfc2543) == 0
    print(
        f"\nper transaction: ringing {pending_bytes:.0f} B, {pending_objects:.1f} gc objects;"
        f" confirmed (486 + ACK) {completed_bytes:.0f} B, {completed_objects:.1f} gc objects;"
        f" accepted (200, RFC 6026) {accepted_bytes:.0f} B, {accepted_objects:.1f} gc objects;"
        f" answered and gone {gone_bytes:.0f} B, {gone_objects:.1f} gc objects"
    )


def test_ended_transactions_leave_nothing_behind() -> None:
    gc.collect()
    baseline = _live_transactions()
    net = Harness()
    _calls(net, 20, _rejected)
    assert _live_transactions() - baseline >= 20
    net.advance(40)  # Timer I upstream, Timer D downstream
    assert len(net.layer) == 0 and len(net.layer.table.by_key) == 0
    assert len(net.wheel) == 0
    del net
    gc.collect()
    assert _live_transactions() == baseline


def _bye_answered(net: Harness, done: bool) -> ProxyTransaction:
    transaction = net.create(request("BYE", branch="z9hG4bKsettle", call_id="settle"))
    if done:
        transaction.request_route_done()  # the owner's request route has ended
    [bye] = net.relay(transaction, "10.0.1.1")
    transaction.user_data = object()
    net.receive(answer(bye, 200))
    return transaction


def test_a_settled_transaction_lets_its_request_go_once_the_owner_is_done() -> None:
    net = Harness()
    transaction = _bye_answered(net, done=True)
    assert len(net.layer) == 1  # waits out Timer J, to absorb retransmissions
    assert transaction.user_data is None and transaction._request is None
    assert owned_objects(transaction)["Request"] == 0
    sent = len(net.take())
    net.receive(request("BYE", branch="z9hG4bKsettle", call_id="settle"))
    assert [s.label for s in net.take()] == [200], sent  # still absorbed, answered again
    net.advance(40)
    assert len(net.layer) == 0


def test_a_settled_transaction_keeps_its_request_while_the_owner_runs() -> None:
    net = Harness()
    transaction = _bye_answered(net, done=False)
    assert transaction.user_data is None  # no hook can run any more
    assert transaction.request.method == "BYE"  # a suspended route may still read it
