"""TimerWheel: never early, in order, cancel and re-arm by id, long jumps of the clock."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.transaction import TimerWheel


def test_fires_in_deadline_order_and_only_once() -> None:
    wheel = TimerWheel(resolution=0.1)
    wheel.schedule("late", 2.0)
    wheel.schedule("early", 0.5)
    wheel.schedule("middle", 1.0)
    assert wheel.expired(0.4) == []
    assert wheel.expired(1.0) == ["early", "middle"]
    assert wheel.expired(5.0) == ["late"]
    assert wheel.expired(10.0) == []
    assert len(wheel) == 0


def test_a_deadline_on_a_slot_boundary_fires_exactly_then() -> None:
    wheel = TimerWheel(resolution=0.05)
    wheel.schedule("t1", 0.5)
    assert wheel.expired(0.49) == []
    assert wheel.expired(0.5) == ["t1"]


def test_cancel_and_reschedule_by_id() -> None:
    wheel = TimerWheel(resolution=0.1)
    wheel.schedule(("k", "A"), 1.0)
    wheel.schedule(("k", "B"), 1.0)
    wheel.cancel(("k", "A"))
    wheel.cancel(("unknown", "A"))  # harmless
    wheel.schedule(("k", "B"), 3.0)  # re-armed: the first deadline is gone
    assert wheel.expired(2.0) == []
    assert wheel.deadline(("k", "B")) == 3.0
    assert wheel.expired(3.0) == [("k", "B")]


def test_a_timer_already_due_fires_on_the_next_tick() -> None:
    wheel = TimerWheel(resolution=0.1)
    assert wheel.expired(10.0) == []
    wheel.schedule("past", 1.0)
    assert wheel.expired(10.2) == ["past"]


def test_next_due_is_the_earliest_deadline() -> None:
    wheel = TimerWheel(resolution=0.1)
    assert wheel.next_due() is None
    wheel.schedule("a", 4.0)
    wheel.schedule("b", 2.0)
    due = wheel.next_due()
    assert due is not None and abs(due - 2.0) < 1e-9


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.floats(0.0, 300.0)), max_size=40),
    st.lists(st.floats(0.0, 400.0), min_size=1, max_size=20),
)
def test_never_early_never_lost(timers: list[tuple[int, float]], ticks: list[float]) -> None:
    wheel = TimerWheel(resolution=0.05)
    deadline: dict[int, float] = {}
    for timer_id, at in timers:
        wheel.schedule(timer_id, at)
        deadline[timer_id] = at  # the last schedule wins
    cancelled = set(random.Random(len(timers)).sample(sorted(deadline), len(deadline) // 3))
    for timer_id in cancelled:
        wheel.cancel(timer_id)
    fired: dict[int, float] = {}
    for now in [*sorted(ticks), 1000.0]:
        for fired_id in wheel.expired(now):
            assert isinstance(fired_id, int)
            timer_id = fired_id
            assert timer_id not in fired
            assert deadline[timer_id] <= now + 1e-6
            fired[timer_id] = now
    assert set(fired) == set(deadline) - cancelled
    assert len(wheel) == 0
