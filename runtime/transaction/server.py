"""Server transactions, RFC 3261 §17.2: the INVITE one (figure 7) and the others (figure 8).

Theory of operation
-------------------
A server transaction is created for a request that matched none (§17.2.3), with the
source to answer and its transport. It consumes retransmissions of that request
(`receive`), the responses its user sends (`send_response`), fired timers and
`transport_error()`, and returns effects. It never passes a retransmission up: it
absorbs it, re-sending the last response when there is one.

INVITE (§17.2.1 as RFC 6026 §7.1 corrects it): Proceeding re-sends the last provisional
on a retransmission. A 2xx from the TU is sent and moves to Accepted for Timer L (64*T1,
or the settings' `wt_timer`): there a retransmitted INVITE is absorbed without an answer
(the 2xx is the TU's to retransmit, a proxy's to forward, never the transaction's), a
further 2xx from the TU (another fork's, or the callee's retransmission) is sent, and
an ACK (of a 2xx: end to end) goes to the TU. Without it, an INVITE retransmission
crossing the 2xx would match nothing and start a second transaction. Only the status is
kept of the 2xx, not its bytes: nothing is re-sent from Accepted. A 300-699 moves to
Completed, re-sent on each retransmission and on Timer G
(T1 doubling up to T2, unreliable transports only) until the hop-by-hop ACK arrives or
Timer H (64*T1) gives up. The ACK moves to Confirmed, which absorbs further ACKs for
Timer I (T4; 0 on reliable transports).

Non-INVITE (§17.2.2): Trying absorbs retransmissions silently (nothing to re-send yet);
a provisional moves to Proceeding; a final to Completed, which re-sends it on each
retransmission until Timer J (64*T1, or the settings' `wt_timer` as in OpenSIPS; 0 on
reliable transports).
"""

from __future__ import annotations

from typing import Any, ClassVar

from runtime.sip import Request, Response
from runtime.transaction.effects import Effect, Send, TimerSettings, TransactionError, TuEvent
from runtime.transaction.machine import (
    Machine,
    State,
    Transitions,
    invite_response_event,
    non_invite_response_event,
)

TRYING = State.TRYING
PROCEEDING = State.PROCEEDING
COMPLETED = State.COMPLETED
ACCEPTED = State.ACCEPTED
CONFIRMED = State.CONFIRMED
TERMINATED = State.TERMINATED


class ServerTransaction(Machine):
    """What both server machines share: the request and the last response sent."""

    __slots__ = ("_request", "interval", "last_sent", "last_status")

    def __init__(
        self,
        key: str,
        request: Request,
        destination: Any,
        transport: str,
        settings: TimerSettings,
    ) -> None:
        super().__init__(key, destination, transport, settings)
        self._request: Request | None = request
        self.last_status = 0
        self.last_sent: bytes | None = None  # what a retransmission gets
        self.interval = settings.t1

    @property
    def request(self) -> Request:
        """The request of the transaction (gone once its owner released it)."""
        request = self._request
        if request is None:
            raise TransactionError("the request of this transaction was released")
        return request

    def release_request(self) -> None:
        """Forget the request: only the last response is needed to absorb retransmissions."""
        self._request = None

    def _resend(self, out: list[Effect]) -> None:
        if self.last_sent is not None:
            out.append(Send(self.last_sent, self.destination, self.transport, self.key))

    def receive(self, request: Request) -> list[Effect]:
        raise NotImplementedError

    def send_response(self, response: Response) -> list[Effect]:
        """Send a response of the TU (§17.2: the TU passes it to the transaction)."""
        return self._respond(response.status, response.to_bytes())

    def send_raw(self, status: int, wire: bytes) -> list[Effect]:
        """Send a response the TU built as bytes (the 100 Trying of `wire.trying_bytes`)."""
        return self._respond(status, wire)

    def _respond(self, status: int, outgoing: bytes) -> list[Effect]:
        raise NotImplementedError

    def timer_fired(self, name: str) -> list[Effect]:
        raise NotImplementedError

    def transport_error(self) -> list[Effect]:
        new_state = self._move("transport error")
        if new_state is None:
            return []
        out: list[Effect] = [TuEvent("transport-error", self.key)]
        if new_state is TERMINATED:
            self._terminate(out, *self.TIMERS)
        # else Accepted: a 2xx could not go; INVITE retransmissions are still absorbed
        return out

    @property
    def final_sent(self) -> bool:
        return self.last_status >= 200

    TIMERS: ClassVar[tuple[str, ...]] = ()


class ServerInviteTransaction(ServerTransaction):
    """RFC 3261 figure 7 with RFC 6026's Accepted state (its figure 7)."""

    __slots__ = ()

    INITIAL = PROCEEDING
    TIMERS = ("G", "H", "I")  # stopped on a transport error; L runs out in Accepted
    TRANSITIONS: ClassVar[Transitions] = {
        (PROCEEDING, "request"): PROCEEDING,
        (PROCEEDING, "1xx"): PROCEEDING,
        (PROCEEDING, "2xx"): ACCEPTED,
        (PROCEEDING, "300-699"): COMPLETED,
        (PROCEEDING, "transport error"): TERMINATED,
        (ACCEPTED, "request"): ACCEPTED,
        (ACCEPTED, "ACK"): ACCEPTED,
        (ACCEPTED, "2xx"): ACCEPTED,
        (ACCEPTED, "transport error"): ACCEPTED,
        (ACCEPTED, "timer L"): TERMINATED,
        (COMPLETED, "request"): COMPLETED,
        (COMPLETED, "ACK"): CONFIRMED,
        (COMPLETED, "timer G"): COMPLETED,
        (COMPLETED, "timer H"): TERMINATED,
        (COMPLETED, "transport error"): TERMINATED,
        (CONFIRMED, "ACK"): CONFIRMED,
        (CONFIRMED, "request"): CONFIRMED,
        (CONFIRMED, "timer I"): TERMINATED,
    }

    def receive(self, request: Request) -> list[Effect]:
        event = "ACK" if request.method == "ACK" else "request"
        new_state = self._move(event)
        if new_state is None:
            return []
        out: list[Effect] = []
        old_state, self.state = self.state, new_state
        if event == "request":
            if old_state is not CONFIRMED and old_state is not ACCEPTED:
                self._resend(out)
        elif old_state is ACCEPTED:  # the ACK of a 2xx: end to end, the TU's
            out.append(TuEvent("ack", self.key))
        elif old_state is COMPLETED:
            out.append(TuEvent("ack", self.key))
            if not self.reliable:
                out.append(self._stop("G"))
            out.append(self._stop("H"))
            if self.reliable:
                self._terminate(out)
            else:
                out.append(self._start("I", self.settings.t4))
        return out

    def _respond(self, status: int, outgoing: bytes) -> list[Effect]:
        event = invite_response_event(status)
        new_state = self._move(event)
        if new_state is None:
            return []
        old_state, self.state = self.state, new_state
        out: list[Effect] = [Send(outgoing, self.destination, self.transport, self.key)]
        if event == "2xx":
            if old_state is PROCEEDING:
                self.last_status = status
                self.last_sent = None  # never re-sent by the transaction (RFC 6026 §7.1)
                out.append(self._start("L", self.settings.timer_l))
            return out
        self.last_status = status
        self.last_sent = outgoing
        if event == "300-699":
            if not self.reliable:
                out.append(self._start("G", self.interval))
            out.append(self._start("H", self.settings.timer_h))
        return out

    def timer_fired(self, name: str) -> list[Effect]:
        new_state = self._move("timer " + name)
        if new_state is None:
            return []
        out: list[Effect] = []
        if name == "G":
            self._resend(out)
            self.interval = min(2 * self.interval, self.settings.t2)
            out.append(self._start("G", self.interval))
        elif name == "H":  # the ACK never came (§17.2.1)
            out.append(TuEvent("timeout", self.key))
            self._terminate(out, "G")
        else:  # I, L
            self._terminate(out)
        return out


class ServerNonInviteTransaction(ServerTransaction):
    """RFC 3261 figure 8."""

    __slots__ = ()

    INITIAL = TRYING
    TIMERS = ("J",)
    TRANSITIONS: ClassVar[Transitions] = {
        (TRYING, "request"): TRYING,
        (TRYING, "1xx"): PROCEEDING,
        (TRYING, "200-699"): COMPLETED,
        (TRYING, "transport error"): TERMINATED,
        (PROCEEDING, "request"): PROCEEDING,
        (PROCEEDING, "1xx"): PROCEEDING,
        (PROCEEDING, "200-699"): COMPLETED,
        (PROCEEDING, "transport error"): TERMINATED,
        (COMPLETED, "request"): COMPLETED,
        (COMPLETED, "timer J"): TERMINATED,
        (COMPLETED, "transport error"): TERMINATED,
    }

    def receive(self, request: Request) -> list[Effect]:
        if request.method == "ACK" or self._move("request") is None:
            return []
        out: list[Effect] = []
        self._resend(out)  # nothing in Trying: the request is absorbed silently
        return out

    def _respond(self, status: int, outgoing: bytes) -> list[Effect]:
        event = non_invite_response_event(status)
        new_state = self._move(event)
        if new_state is None:
            return []
        self.state = new_state
        self.last_status = status
        self.last_sent = outgoing
        out: list[Effect] = [Send(outgoing, self.destination, self.transport, self.key)]
        if new_state is COMPLETED:
            if self.reliable:
                self._terminate(out)
            else:
                out.append(self._start("J", self.settings.timer_j))
        return out

    def timer_fired(self, name: str) -> list[Effect]:
        if self._move("timer " + name) is None:
            return []
        out: list[Effect] = []
        self._terminate(out)
        return out


def new_server_transaction(
    key: str, request: Request, destination: Any, transport: str, settings: TimerSettings
) -> ServerTransaction:
    cls = ServerInviteTransaction if request.method == "INVITE" else ServerNonInviteTransaction
    return cls(key, request, destination, transport, settings)
