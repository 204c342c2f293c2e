"""Random interleavings of what peers and timers do to one proxied INVITE or MESSAGE.

Whatever happens, the proxy must never send upstream a 1xx after a final, two different
non-2xx finals, a non-2xx after a 2xx, or (for a non-INVITE) two different finals; and
once the peers fall silent and the clock runs on, it must end with an empty table and
nothing left on the wheel.
"""

from __future__ import annotations

import contextlib

from hypothesis import event as note_event
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.sip import Request, Response
from runtime.transaction import (
    Failure,
    NewRequest,
    StrayResponse,
    Terminated,
    TimerSettings,
    TransactionError,
    apply_timers,
)
from tests.runtime.transaction.helpers import Harness, answer, request, summary

TARGETS = ("10.0.1.1", "10.0.1.2", "10.0.1.3")
STATUSES = (100, 180, 183, 200, 302, 404, 486, 487, 503, 603)

event = st.one_of(
    st.tuples(st.just("reply"), st.integers(0, 4), st.sampled_from(STATUSES)),
    st.tuples(st.just("advance"), st.sampled_from((0.5, 4.0, 20.0, 40.0))),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("retransmit")),
    st.tuples(st.just("local"), st.sampled_from((180, 480, 200))),
    st.tuples(st.just("ack")),
)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(("INVITE", "MESSAGE")),
    fork=st.integers(1, 3),
    failure_route=st.booleans(),
    serial=st.lists(st.booleans(), max_size=3),
    events=st.lists(event, max_size=14),
)
def test_random_interleavings_keep_the_rules(
    method: str,
    fork: int,
    failure_route: bool,
    serial: list[bool],
    events: list[tuple[object, ...]],
) -> None:
    net = Harness(settings=TimerSettings(fr_inv_timeout=60.0))
    transaction = net.create(request(method))
    transaction.has_failure_route = failure_route
    legs = net.relay(transaction, *TARGETS[:fork])
    upstream: list[int] = []
    state = _Run(net, upstream, method == "INVITE", legs, serial)
    for step in events:
        kind = step[0]
        if kind == "reply":
            index, status = step[1], step[2]
            assert isinstance(index, int) and isinstance(status, int)
            if index < len(legs):
                net.receive(answer(legs[index], status, to_tag=f"leg{index}"))
        elif kind == "advance":
            assert isinstance(step[1], float)
            net.advance(step[1])
        elif kind == "cancel" and method == "INVITE":
            net.receive(request("CANCEL"))
        elif kind == "retransmit":
            net.receive(request(method))
        elif kind == "local":
            assert isinstance(step[1], int)
            with contextlib.suppress(TransactionError):
                net.apply(transaction.reply(step[1]))
        elif kind == "ack" and method == "INVITE" and state.last_final is not None:
            final = state.last_final  # the caller ACKs the non-2xx it got
            tag = final.to.tag if final.to is not None else None
            absorbed = net.receive(request("ACK", cseq_method="ACK", to_tag=tag))
            note_event(f"caller's ACK: {summary(absorbed)[:1]}")
        state.settle()
    # the peers fall silent and time runs on (no ACK: Timer H ends the server side)
    for _ in range(6):  # each serial fork of a failure_route may need another round
        net.advance(400)
        state.settle()
    assert len(net.layer.table.by_key) == 0 and len(net.layer.table.by_rfc2543) == 0
    assert len(net.wheel) == 0, list(net.wheel._deadlines)
    assert transaction.phase.value == "terminated"


class _Run:
    """The script and the caller around one random run: failure_route, checks, CANCELs."""

    def __init__(
        self, net: Harness, upstream: list[int], invite: bool, legs: list[Request], serial: list[bool]
    ) -> None:
        self.net = net
        self.upstream = upstream
        self.invite = invite
        self.legs = legs
        self.serial = serial
        self.last_final: Response | None = None

    def settle(self) -> None:
        net = self.net
        for delivered in net.take_delivered():
            # a stray: the callee's late answer to a CANCEL we retransmitted while time
            # ran; a new request: the caller's retransmission once the transaction ended
            assert isinstance(delivered, Terminated | Failure | StrayResponse | NewRequest)
            if isinstance(delivered, Failure):
                transaction = delivered.transaction
                if self.serial and self.serial.pop() and not delivered.cancelled:
                    try:  # the failure_route forks on to a new target
                        self.legs += net.relay(transaction, "10.0.1.9")
                        note_event("a failure_route forked on")
                        continue
                    except TransactionError:
                        assert transaction.blocked  # only a 6xx forbids it here
                net.apply(transaction.forward_best())
        self._check_and_answer_cancels()

    def _check_and_answer_cancels(self) -> None:
        net, upstream, invite = self.net, self.upstream, self.invite
        for sent in net.take():
            message = sent.message
            if isinstance(message, Response) and sent.destination[1] == "10.0.0.1":
                status = message.status
                if status == 100 or message.method == "CANCEL":
                    continue  # our 100 Trying (re-sent on retransmissions), a CANCEL's 200
                finals = {s for s in upstream if s >= 200}
                non_2xx = {s for s in finals if s >= 300}
                if status < 200:
                    assert not finals, f"{status} after a final {finals}"
                elif not invite:
                    assert finals <= {status}, f"{status} after {finals}"
                elif status >= 300:  # the first final, or a retransmission of the one sent
                    assert non_2xx <= {status}, f"{status} after {finals}"
                    assert status in non_2xx or not finals, f"{status} after {finals}"
                    self.last_final = message
                upstream.append(status)
            elif isinstance(message, Request) and message.method == "CANCEL":
                # the callee answers the CANCEL at once
                net.apply(net.layer.receive(answer(message, 200), sent.destination))


def test_apply_timers_keeps_everything_else_in_order() -> None:
    net = Harness()
    transaction, effects = net.layer.create(request(), ("udp", "10.0.0.1", 5060))
    effects += transaction.relay([])
    rest = apply_timers(effects, net.wheel, 0.0)
    assert [type(e).__name__ for e in rest] == ["Send"]
