"""Client transactions, RFC 3261 §17.1: the INVITE one (figure 5) and the others (figure 6).

Theory of operation
-------------------
A client transaction is created with the request to send (carrying our Via, whose
branch is its key), where to send it and over which transport. `start()` sends it and
arms the timers; from then on it consumes responses (`receive`), fired timers
(`timer_fired("A")`) and `transport_error()`, and returns effects. Responses for the
transaction user come out as `TuEvent("response")`; the end as `TuEvent("terminated")`.

INVITE (§17.1.1): Calling retransmits on Timer A (T1, doubling, unreliable transports
only) until Timer B (64*T1, or fr_timeout) gives up with a timeout. A provisional moves
to Proceeding, where nothing is retransmitted. A 2xx is passed up and moves to Accepted
(RFC 6026 §7.2) for Timer M (64*T1, or the settings' `wt_timer`): every further 2xx
(the callee's retransmissions, until it sees the ACK) is passed up too, for the TU to
forward; its ACK is end to end, the TU's business (§13.2.2.4). A TU may end Accepted
itself instead (`timer_m=False`, then `abandon()`): the proxy ends its branches with its
server transaction's Timer L, one timer per call rather than two. A 300-699
is passed up once, answered by the ACK this transaction builds (§17.1.1.3, same branch,
hop by hop), and Completed absorbs its retransmissions, re-sending that ACK, for
Timer D (32 s; 0 on reliable transports).

Non-INVITE (§17.1.2): Trying retransmits on Timer E (T1 doubling up to T2); a
provisional moves to Proceeding, which retransmits every T2. Timer F (64*T1, or
fr_timeout) is a timeout. A final response is passed up, and Completed absorbs its
retransmissions for Timer K (T4; 0 on reliable transports).
"""

from __future__ import annotations

from typing import Any, ClassVar

from runtime.sip import Request, Response, make_ack, parse_message
from runtime.transaction.effects import (
    Effect,
    Send,
    StartTimer,
    StopTimer,
    TimerSettings,
    TransactionError,
    TuEvent,
)
from runtime.transaction.machine import (
    Machine,
    State,
    Transitions,
    invite_response_event,
    non_invite_response_event,
)

CALLING = State.CALLING
TRYING = State.TRYING
PROCEEDING = State.PROCEEDING
COMPLETED = State.COMPLETED
ACCEPTED = State.ACCEPTED
TERMINATED = State.TERMINATED


class ClientTransaction(Machine):
    """What both client machines share: the request and the current retransmit interval."""

    __slots__ = ("_request", "interval", "wire")

    def __init__(
        self,
        key: str,
        request: Request | bytes,
        destination: Any,
        transport: str,
        settings: TimerSettings,
    ) -> None:
        super().__init__(key, destination, transport, settings)
        # The bytes are what is sent, every time; the message is only needed to derive
        # an ACK or a CANCEL, so a relayed branch given as bytes is parsed only then.
        if isinstance(request, bytes):
            self.wire = request
            self._request: Request | None = None
        else:
            self.wire = request.to_bytes()
            self._request = request
        self.interval = settings.t1

    @property
    def request(self) -> Request:
        """The request as sent (with our Via)."""
        if self._request is None:
            if not self.wire:
                raise TransactionError("the request of this branch was released")
            parsed = parse_message(self.wire)
            assert isinstance(parsed, Request)
            self._request = parsed
        return self._request

    def release_wire(self) -> None:
        """Forget the request's bytes once a final answered it and the TU derives nothing
        from them any more (a non-INVITE; an INVITE in Accepted, which never sends
        again): the transaction may linger for Timer K or M."""
        state = self.state
        if state is COMPLETED or state is ACCEPTED or state is TERMINATED:
            self.wire = b""
            self._request = None

    def _send_request(self, out: list[Effect]) -> None:
        out.append(Send(self.wire, self.destination, self.transport, self.key))

    def start(self) -> list[Effect]:
        raise NotImplementedError

    def receive(self, response: Response) -> list[Effect]:
        raise NotImplementedError

    def timer_fired(self, name: str) -> list[Effect]:
        raise NotImplementedError

    def transport_error(self) -> list[Effect]:
        raise NotImplementedError

    def abandon(self) -> list[Effect]:
        """End the transaction now, whatever its state (the proxy's Timer C, §16.8)."""
        out: list[Effect] = []
        if self.state is not TERMINATED:
            self._terminate(out, *self.TIMERS)
        return out

    TIMERS: ClassVar[tuple[str, ...]] = ()


class ClientInviteTransaction(ClientTransaction):
    """RFC 3261 figure 5 with RFC 6026's Accepted state (its figure 5)."""

    __slots__ = ("ack", "timer_m")

    INITIAL = CALLING
    TIMERS = ("A", "B", "D")  # stopped on a transport error; M runs out in Accepted
    TRANSITIONS: ClassVar[Transitions] = {
        (CALLING, "timer A"): CALLING,
        (CALLING, "timer B"): TERMINATED,
        (CALLING, "1xx"): PROCEEDING,
        (CALLING, "2xx"): ACCEPTED,
        (CALLING, "300-699"): COMPLETED,
        (CALLING, "transport error"): TERMINATED,
        (PROCEEDING, "1xx"): PROCEEDING,
        (PROCEEDING, "2xx"): ACCEPTED,
        (PROCEEDING, "300-699"): COMPLETED,
        (PROCEEDING, "transport error"): TERMINATED,
        (ACCEPTED, "2xx"): ACCEPTED,
        (ACCEPTED, "timer M"): TERMINATED,
        (COMPLETED, "300-699"): COMPLETED,
        (COMPLETED, "timer D"): TERMINATED,
        (COMPLETED, "transport error"): TERMINATED,
    }

    def __init__(
        self,
        key: str,
        request: Request | bytes,
        destination: Any,
        transport: str,
        settings: TimerSettings,
        timer_m: bool = True,
    ) -> None:
        super().__init__(key, request, destination, transport, settings)
        self.ack: bytes | None = None
        self.timer_m = timer_m  # False: Accepted lasts until the TU calls abandon()

    def start(self) -> list[Effect]:
        key = self.key  # one list literal: a branch is started on every relayed INVITE
        sent = Send(self.wire, self.destination, self.transport, key)
        timer_b = StartTimer((key, "B"), self.settings.timer_b)
        if self.reliable:
            return [sent, timer_b]
        return [sent, StartTimer((key, "A"), self.interval), timer_b]

    def receive(self, response: Response) -> list[Effect]:
        event = invite_response_event(response.status)
        new_state = self._move(event)
        if new_state is None:
            return []
        out: list[Effect] = []
        old_state, self.state = self.state, new_state
        if old_state is COMPLETED:  # a retransmitted final: our ACK was lost
            if self.ack is not None:
                out.append(Send(self.ack, self.destination, self.transport, self.key))
            return out
        key = self.key
        if old_state is CALLING:
            if not self.reliable:
                out.append(StopTimer((key, "A")))
            out.append(StopTimer((key, "B")))
        out.append(TuEvent("response", key, response))
        if event == "2xx":
            if old_state is not ACCEPTED and self.timer_m:
                out.append(StartTimer((key, "M"), self.settings.timer_m))
        elif event == "300-699":
            self.ack = make_ack(self.request, response).to_bytes()
            self._request = None  # only the bytes are needed from now on
            out.append(Send(self.ack, self.destination, self.transport, self.key))
            if self.reliable:
                self._terminate(out)
            else:
                out.append(self._start("D", self.settings.timer_d))
        return out

    def timer_fired(self, name: str) -> list[Effect]:
        new_state = self._move("timer " + name)
        if new_state is None:
            return []
        out: list[Effect] = []
        if name == "A":
            self._send_request(out)
            self.interval *= 2
            out.append(self._start("A", self.interval))
        elif name == "B":
            out.append(TuEvent("timeout", self.key))
            self._terminate(out, "A")
        else:  # D, M
            self._terminate(out)
        return out

    def transport_error(self) -> list[Effect]:
        if self._move("transport error") is None:
            return []
        out: list[Effect] = [TuEvent("transport-error", self.key)]
        self._terminate(out, *self.TIMERS)
        return out

    def abandon(self) -> list[Effect]:
        """End the transaction now: a pending one (the proxy's Timer C, §16.8), or one
        Accepted whose Timer M its TU runs itself (`timer_m=False`)."""
        if self.state is not ACCEPTED:
            return super().abandon()
        out: list[Effect] = []
        if self.timer_m:
            self._terminate(out, "M")
        else:
            self._terminate(out)
        return out


class ClientNonInviteTransaction(ClientTransaction):
    """RFC 3261 figure 6."""

    __slots__ = ()

    INITIAL = TRYING
    TIMERS = ("E", "F", "K")
    TRANSITIONS: ClassVar[Transitions] = {
        (TRYING, "timer E"): TRYING,
        (TRYING, "timer F"): TERMINATED,
        (TRYING, "1xx"): PROCEEDING,
        (TRYING, "200-699"): COMPLETED,
        (TRYING, "transport error"): TERMINATED,
        (PROCEEDING, "timer E"): PROCEEDING,
        (PROCEEDING, "timer F"): TERMINATED,
        (PROCEEDING, "1xx"): PROCEEDING,
        (PROCEEDING, "200-699"): COMPLETED,
        (PROCEEDING, "transport error"): TERMINATED,
        (COMPLETED, "timer K"): TERMINATED,
    }

    def start(self) -> list[Effect]:
        key = self.key  # one list literal: a branch is started on every relayed request
        sent = Send(self.wire, self.destination, self.transport, key)
        timer_f = StartTimer((key, "F"), self.settings.timer_f)
        if self.reliable:
            return [sent, timer_f]
        return [sent, StartTimer((key, "E"), self.interval), timer_f]

    def receive(self, response: Response) -> list[Effect]:
        event = non_invite_response_event(response.status)
        new_state = self._move(event)
        if new_state is None:  # Completed absorbs retransmitted finals
            return []
        self.state = new_state
        key = self.key
        out: list[Effect] = [TuEvent("response", key, response)]
        if new_state is COMPLETED:
            if self.reliable:
                out.append(StopTimer((key, "F")))
                self._terminate(out)
            else:
                out.append(StopTimer((key, "E")))
                out.append(StopTimer((key, "F")))
                out.append(StartTimer((key, "K"), self.settings.t4))
        return out

    def timer_fired(self, name: str) -> list[Effect]:
        new_state = self._move("timer " + name)
        if new_state is None:
            return []
        out: list[Effect] = []
        if name == "E":
            self._send_request(out)
            # Trying backs off up to T2; Proceeding retransmits every T2 (§17.1.2.2)
            if self.state is TRYING:
                self.interval = min(2 * self.interval, self.settings.t2)
            else:
                self.interval = self.settings.t2
            out.append(self._start("E", self.interval))
        elif name == "F":
            out.append(TuEvent("timeout", self.key))
            self._terminate(out, "E")
        else:  # K
            self._terminate(out)
        return out

    def transport_error(self) -> list[Effect]:
        if self._move("transport error") is None:
            return []
        out: list[Effect] = [TuEvent("transport-error", self.key)]
        self._terminate(out, *self.TIMERS)
        return out


def new_client_transaction(
    key: str,
    method: str,
    request: Request | bytes,
    destination: Any,
    transport: str,
    settings: TimerSettings,
    timer_m: bool = True,
) -> ClientTransaction:
    if method == "INVITE":
        return ClientInviteTransaction(key, request, destination, transport, settings, timer_m)
    return ClientNonInviteTransaction(key, request, destination, transport, settings)
