"""What a transaction keeps, pending and completed, and that an ended one keeps nothing.

The bytes per transaction are a measurement printed for the record (`pytest -s`), not
an assertion: they depend on the interpreter and on the messages.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

from runtime.transaction import ProxyTransaction
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
    net.receive(answer(client.request, 200))


def _measure(then: Then) -> tuple[Harness, float, float]:
    net = Harness()
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


def _live_transactions() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, ProxyTransaction))


def test_memory_per_transaction() -> None:
    net, pending_bytes, pending_objects = _measure(_ringing)
    assert len(net.layer) == COUNT
    assert len(net.wheel) == COUNT  # one timer each: Timer C (A and B stopped by the 180)
    net, completed_bytes, completed_objects = _measure(_rejected)
    assert len(net.layer) == COUNT
    assert all(t.server.state.value == "Confirmed" for t in set(net.layer.table.by_key.values()))
    net, gone_bytes, gone_objects = _measure(_answered)
    assert len(net.layer) == 0 and len(net.layer.table.by_rfc2543) == 0
    print(
        f"\nper transaction: ringing {pending_bytes:.0f} B, {pending_objects:.1f} gc objects;"
        f" confirmed (486 + ACK) {completed_bytes:.0f} B, {completed_objects:.1f} gc objects;"
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
