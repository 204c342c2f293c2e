"""What the four RFC 3261 §17 machines share: states, the table lookup, timer effects.

Each machine class carries `TRANSITIONS`, a dict (state, event) -> next state, the one
place its state diagram lives (RFC 3261 figures 5 to 8, the INVITE ones as RFC 6026
corrects them with an Accepted state after a 2xx). An event missing from the
table is ignored in that state: §17 says so for every late or duplicate input (a
provisional after a final, a retransmission after Terminated, a stale timer). The
methods compute the effects of a move; the table decides whether the move happens.

Events are short strings: "1xx", "2xx", "300-699", "200-699" (responses), "request"
(a retransmission), "ACK", "timer A" ... "timer K", "transport error"; the TU's own
responses on a server transaction use the response class names; "timer L" and
"timer M" are RFC 6026's.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from runtime.transaction.effects import (
    Effect,
    StartTimer,
    StopTimer,
    TimerSettings,
    TuEvent,
)


class State(enum.Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    ACCEPTED = "Accepted"  # RFC 6026: an INVITE transaction after a 2xx
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


Transitions = dict[tuple[State, str], State]


def invite_response_event(status: int) -> str:
    if status < 200:
        return "1xx"
    return "2xx" if status < 300 else "300-699"


def non_invite_response_event(status: int) -> str:
    return "1xx" if status < 200 else "200-699"


class Machine:
    """Base of the four §17 machines."""

    __slots__ = ("destination", "key", "reliable", "settings", "state", "transport")

    TRANSITIONS: ClassVar[Transitions] = {}
    INITIAL: ClassVar[State]

    def __init__(
        self, key: str, destination: Any, transport: str, settings: TimerSettings
    ) -> None:
        self.key = key
        self.destination = destination
        self.transport = transport
        # is_reliable() inlined: a machine is made per branch and per transaction
        self.reliable = transport != "udp" and transport.lower() != "udp"
        self.settings = settings
        self.state = self.INITIAL

    def _move(self, event: str) -> State | None:
        """The next state for `event`, or None when this state ignores it."""
        return self.TRANSITIONS.get((self.state, event))

    def _start(self, name: str, delay: float) -> StartTimer:
        return StartTimer((self.key, name), delay)

    def _stop(self, name: str) -> StopTimer:
        return StopTimer((self.key, name))

    def _terminate(self, out: list[Effect], *running: str) -> None:
        self.state = State.TERMINATED
        for name in running:
            out.append(StopTimer((self.key, name)))
        out.append(TuEvent("terminated", self.key))

    @property
    def terminated(self) -> bool:
        return self.state is State.TERMINATED

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key} {self.state.value}>"
