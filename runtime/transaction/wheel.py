"""A sans-IO timer wheel: every transaction timer on one structure, ticked periodically.

The runtime calls `expired(now)` from one periodic tick and feeds each id back to the
transaction layer (`timer_fired`). No handle, task or callback exists per timer: a
timer is an (id, deadline) pair in a slot of `resolution` seconds, so arming and
disarming are dict operations (DESIGN.md, "The hot path").

A timer never fires early: slot k holds deadlines in ((k-1)*resolution, k*resolution]
and is only emptied once `now` has reached k*resolution. It may fire up to one
resolution (plus the tick period) late, which RFC 3261 timers tolerate.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

from runtime.transaction.effects import Effect, StartTimer, StopTimer

# 0.5 / 0.05 is 10.000000000000002: without this a deadline on a slot boundary would
# land one slot late, and a tick exactly on the boundary one slot early.
_FUZZ = 1e-9


class TimerWheel:
    __slots__ = ("_deadlines", "_next_slot", "_slots", "resolution")

    def __init__(self, resolution: float = 0.05, now: float = 0.0) -> None:
        if resolution <= 0:
            raise ValueError("resolution must be positive")
        self.resolution = resolution
        self._slots: dict[int, dict[Hashable, None]] = {}
        self._deadlines: dict[Hashable, int] = {}  # id -> slot
        self._next_slot = math.floor(now / resolution)

    def schedule(self, timer_id: Hashable, at: float) -> None:
        """Arm `timer_id` for time `at`, replacing its previous deadline if armed."""
        slot = math.ceil(at / self.resolution - _FUZZ)
        if slot < self._next_slot:
            slot = self._next_slot  # already due: fires with the next slot
        previous = self._deadlines.get(timer_id)
        if previous is not None:
            if previous == slot:
                return
            del self._slots[previous][timer_id]
        self._deadlines[timer_id] = slot
        bucket = self._slots.get(slot)
        if bucket is None:
            self._slots[slot] = {timer_id: None}
        else:
            bucket[timer_id] = None

    def cancel(self, timer_id: Hashable) -> None:
        """Disarm `timer_id`; unknown ids are ignored."""
        slot = self._deadlines.pop(timer_id, None)
        if slot is not None:
            bucket = self._slots[slot]
            del bucket[timer_id]
            if not bucket:
                del self._slots[slot]

    def expired(self, now: float) -> list[Hashable]:
        """Every id whose deadline is <= `now`, in deadline order; they are disarmed."""
        last = math.floor(now / self.resolution + _FUZZ)
        fired: list[Hashable] = []
        slots = self._slots
        if not slots:
            self._next_slot = max(self._next_slot, last + 1)
            return fired
        slot = self._next_slot
        if last - slot > len(slots):  # a long jump: visit the armed slots, not every slot
            due = sorted(s for s in slots if s <= last)
        else:
            due = [s for s in range(slot, last + 1) if s in slots]
        deadlines = self._deadlines
        for s in due:
            bucket = slots.pop(s)
            for timer_id in bucket:
                del deadlines[timer_id]
            fired.extend(bucket)
        self._next_slot = max(slot, last + 1)
        return fired

    def next_due(self) -> float | None:
        """When the earliest armed timer is due (its slot's end); None when none is armed."""
        if not self._slots:
            return None
        return min(self._slots) * self.resolution

    def deadline(self, timer_id: Hashable) -> float | None:
        """When `timer_id` will be due (its slot's end), or None when not armed."""
        slot = self._deadlines.get(timer_id)
        return None if slot is None else slot * self.resolution

    def __len__(self) -> int:
        return len(self._deadlines)

    def __contains__(self, timer_id: Hashable) -> bool:
        return timer_id in self._deadlines


def apply_timers(effects: list[Effect], wheel: TimerWheel, now: float) -> list[Effect]:
    """Put the timer effects on `wheel`; return the others, in order, for the runtime."""
    rest: list[Effect] = []
    for effect in effects:
        if isinstance(effect, StartTimer):
            wheel.schedule(effect.id, now + effect.delay)
        elif isinstance(effect, StopTimer):
            wheel.cancel(effect.id)
        else:
            rest.append(effect)
    return rest
