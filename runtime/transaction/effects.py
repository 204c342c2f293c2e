"""What the transaction layer hands back: effects to carry out and events for its owner.

Every input (a message, a fired timer, a user action) returns a list of effects, in the
order they must be applied. Wire effects (`Send`, `StartTimer`, `StopTimer`) are for the
runtime; `Deliver` subclasses are news for the pipeline (run a route, forward a stray
response statelessly, forget a transaction). `TuEvent` only travels between a §17
machine and its transaction user inside this package.

Destinations are opaque: the layer passes back the `source` a request came from (the
runtime answers it per RFC 3261 §18.2.2) or the `destination` a branch was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.sip import Request, Response

# (key of the transaction that owns the timer, RFC 3261 timer name: "A", "B", ... "C").
# A timer is a value, not a handle: the runtime keeps (id, deadline) on one TimerWheel.
TimerId = tuple[str, str]


@dataclass(slots=True)
class Send:
    """Put `data` (one whole message) on the wire to `destination` over `transport`.

    The layer serialises before it sends, once: a retransmission re-sends the same
    bytes, and a message edited afterwards does not change what was sent. `key` names
    the machine that sends (empty for a stateless send): when sending fails, the runtime
    reports it with `TransactionLayer.transport_error(key)` (§17.1.4, §17.2.4).
    """

    data: bytes
    destination: Any
    transport: str
    key: str = ""


@dataclass(slots=True)
class StartTimer:
    """Arm (or re-arm) timer `id` to fire `delay` seconds from now."""

    id: TimerId
    delay: float


@dataclass(slots=True)
class StopTimer:
    """Disarm timer `id`; stopping a timer that is not armed is harmless."""

    id: TimerId


@dataclass(slots=True)
class TuEvent:
    """A §17 machine telling its transaction user something (§17.1 / §17.2 "TU").

    kind: "response" (pass `response` up), "timeout", "transport-error", "ack"
    (a server INVITE transaction absorbed the ACK of its non-2xx, or saw one in
    Accepted: the ACK of a 2xx, for the TU to pass on) or "terminated".
    """

    kind: str
    key: str
    response: Response | None = None


class Deliver:
    """Base of the events the layer reports to the pipeline (`Failure` and `Terminated`,
    which carry a `ProxyTransaction`, are defined beside it in proxy.py)."""

    __slots__ = ()


@dataclass(slots=True, eq=False)
class NewRequest(Deliver):
    """A request that matched no transaction: run the main route over it.

    This includes an ACK to a 2xx (end to end, RFC 3261 §17: never part of a
    transaction) and any ACK that matches nothing: the script forwards it statelessly.
    """

    request: Request
    source: Any
    transport: str


@dataclass(slots=True, eq=False)
class StrayResponse(Deliver):
    """A response that matched no live client transaction: forward it statelessly (§16.7).

    Typically a 2xx retransmission from the callee after the INVITE branch ended.
    """

    response: Response
    source: Any


@dataclass(slots=True, eq=False)
class StrayCancel(Deliver):
    """A CANCEL whose INVITE is unknown, when the layer is told not to answer it 481:
    RFC 3261 §16.10 has a proxy forward it statelessly."""

    request: Request
    source: Any
    transport: str


Effect = Send | StartTimer | StopTimer | TuEvent | Deliver


class TransactionError(Exception):
    """A user action that the transaction's state forbids (relay after a final, ...)."""


@dataclass(frozen=True, slots=True)
class TimerSettings:
    """RFC 3261 timer values (seconds) and the OpenSIPS tm knobs that map onto them.

    `fr_timeout` (tm's fr_timeout) is how long a client transaction waits for its first
    response: Timer B (INVITE) and Timer F (non-INVITE), 64*T1 when None.
    `fr_inv_timeout` (tm's fr_inv_timeout) is the proxy's Timer C (§16.6 step 11): how
    long an INVITE branch may ring, restarted by each provisional above 100. RFC 3261
    wants more than 3 minutes; OpenSIPS defaults are fr_timeout 30, fr_inv_timeout 120.
    `wt_timer` (tm's wt_timer) is how long an INVITE transaction stays Accepted after a
    2xx (RFC 6026): Timer L upstream, Timer M downstream, and how long a non-INVITE
    server transaction stays Completed (Timer J); 64*T1 (32 s) when None. A proxy sets
    it shorter, as OpenSIPS does for every transaction (its default is 5 s): what it
    absorbs there are retransmissions of a request or of a 2xx, which come within a few
    T1 of the answer (a client whose answer was lost retransmits at most until its own
    Timer F), and at 1,000 calls/s 32 s would keep 32,000 BYE transactions alive where
    5 s keeps 5,000. A request that arrives after the transaction is gone is routed anew,
    as in OpenSIPS.
    """

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    fr_timeout: float | None = None
    fr_inv_timeout: float = 180.0
    auto_100_trying: bool = True  # tm's auto_100trying: 100 at once for an INVITE
    answer_unknown_cancel: bool = True  # 481 (as a UAS, §9.2); False: StrayCancel (§16.10)
    wt_timer: float | None = None

    def _or_64_t1(self, knob: float | None) -> float:
        """RFC 3261's 64*T1, unless the tm knob standing for this timer is set."""
        return 64 * self.t1 if knob is None else knob

    # one property per timer, not aliases like `timer_f = timer_b` (mypyc)
    @property
    def timer_b(self) -> float:
        return self._or_64_t1(self.fr_timeout)

    @property
    def timer_f(self) -> float:
        return self._or_64_t1(self.fr_timeout)

    @property
    def timer_h(self) -> float:
        return 64 * self.t1

    @property
    def timer_j(self) -> float:  # wt_timer too: OpenSIPS keeps no transaction longer
        return self._or_64_t1(self.wt_timer)

    @property
    def timer_l(self) -> float:
        return self._or_64_t1(self.wt_timer)

    @property
    def timer_m(self) -> float:
        return self._or_64_t1(self.wt_timer)

    @property
    def timer_d(self) -> float:
        return max(32.0, 64 * self.t1)  # "at least 32 seconds" for unreliable transports


DEFAULT_SETTINGS = TimerSettings()

def is_reliable(transport: str) -> bool:
    """TCP, TLS, SCTP, WS are reliable: no retransmission timers, no wait states."""
    return transport != "udp" and transport.lower() != "udp"
