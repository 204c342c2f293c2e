"""The four RFC 3261 §17 machines, walked state by state and timer by timer.

Each machine has a table of cases (state, event) -> (new state, effects). A test checks
that the cases cover the machine's TRANSITIONS exactly, and every (state, event) pair
outside them is ignored: no effect, no move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from runtime.sip import Request, parse_message
from runtime.transaction import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    Send,
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    State,
    TimerSettings,
)
from runtime.transaction.machine import Machine
from tests.runtime.transaction.helpers import answer, request, summary

S = TimerSettings(t1=0.5, t2=4.0, t4=5.0)
DEST = ("udp", "10.0.0.9", 5060)

CALLING, TRYING, PROCEEDING = State.CALLING, State.TRYING, State.PROCEEDING
COMPLETED, CONFIRMED, TERMINATED = State.COMPLETED, State.CONFIRMED, State.TERMINATED
ACCEPTED = State.ACCEPTED


@dataclass(frozen=True)
class Case:
    state: State
    event: str
    new_state: State
    effects: tuple[tuple[Any, ...], ...]


# ----------------------------------------------------------------- drivers per machine

STATUS_OF_EVENT = {"1xx": 180, "2xx": 200, "300-699": 486, "200-699": 200}


def fire(machine: Machine, event: str) -> list[Any]:
    """Feed one named event to any machine."""
    if event.startswith("timer "):
        return machine.timer_fired(event[6:])  # type: ignore[attr-defined, no-any-return]
    if event == "transport error":
        return machine.transport_error()  # type: ignore[attr-defined, no-any-return]
    req: Request = machine.request  # type: ignore[attr-defined]
    if isinstance(machine, ClientInviteTransaction | ClientNonInviteTransaction):
        return machine.receive(answer(req, STATUS_OF_EVENT[event]))
    assert isinstance(machine, ServerInviteTransaction | ServerNonInviteTransaction)
    if event == "request":
        return machine.receive(request(req.method))
    if event == "ACK":
        return machine.receive(request("ACK", cseq_method="ACK"))
    status = 100 if event == "1xx" and not isinstance(machine, ServerInviteTransaction) else None
    return machine.send_response(req.make_response(status or STATUS_OF_EVENT[event], to_tag="t"))


def client_invite(state: State, transport: str = "udp") -> ClientInviteTransaction:
    machine = ClientInviteTransaction("k", request(), DEST, transport, S)
    machine.start()
    path = {
        CALLING: [],
        PROCEEDING: ["1xx"],
        COMPLETED: ["300-699"],
        ACCEPTED: ["2xx"],
        TERMINATED: ["2xx", "timer M"],
    }
    for event in path[state]:
        fire(machine, event)
    assert machine.state is state
    return machine


def client_non_invite(state: State, transport: str = "udp") -> ClientNonInviteTransaction:
    machine = ClientNonInviteTransaction("k", request("OPTIONS"), DEST, transport, S)
    machine.start()
    path = {TRYING: [], PROCEEDING: ["1xx"], COMPLETED: ["200-699"], TERMINATED: ["timer F"]}
    for event in path[state]:
        fire(machine, event)
    assert machine.state is state
    return machine


def server_invite(state: State, transport: str = "udp") -> ServerInviteTransaction:
    machine = ServerInviteTransaction("k", request(), DEST, transport, S)
    machine.send_response(machine.request.make_response(100))
    path = {
        PROCEEDING: [],
        COMPLETED: ["300-699"],
        CONFIRMED: ["300-699", "ACK"],
        ACCEPTED: ["2xx"],
        TERMINATED: ["2xx", "timer L"],
    }
    for event in path[state]:
        fire(machine, event)
    assert machine.state is state
    return machine


def server_non_invite(state: State, transport: str = "udp") -> ServerNonInviteTransaction:
    machine = ServerNonInviteTransaction("k", request("OPTIONS"), DEST, transport, S)
    path = {
        TRYING: [],
        PROCEEDING: ["1xx"],
        COMPLETED: ["200-699"],
        TERMINATED: ["200-699", "timer J"],
    }
    for event in path[state]:
        fire(machine, event)
    assert machine.state is state
    return machine


# ----------------------------------------------------------------- the tables

TE = "transport error"

CLIENT_INVITE_CASES = [
    Case(CALLING, "timer A", CALLING, (("send", "INVITE"), ("start", "A", 1.0))),
    Case(CALLING, "timer B", TERMINATED, (("tu", "timeout"), ("stop", "A"), ("tu", "terminated"))),
    Case(CALLING, "1xx", PROCEEDING, (("stop", "A"), ("stop", "B"), ("tu", "response"))),
    Case(
        CALLING,
        "2xx",
        ACCEPTED,
        (("stop", "A"), ("stop", "B"), ("tu", "response"), ("start", "M", 32.0)),
    ),
    Case(
        CALLING,
        "300-699",
        COMPLETED,
        (("stop", "A"), ("stop", "B"), ("tu", "response"), ("send", "ACK"), ("start", "D", 32.0)),
    ),
    Case(
        CALLING,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "A"), ("stop", "B"), ("stop", "D"), ("tu", "terminated")),
    ),
    Case(PROCEEDING, "1xx", PROCEEDING, (("tu", "response"),)),
    Case(PROCEEDING, "2xx", ACCEPTED, (("tu", "response"), ("start", "M", 32.0))),
    Case(
        PROCEEDING,
        "300-699",
        COMPLETED,
        (("tu", "response"), ("send", "ACK"), ("start", "D", 32.0)),
    ),
    Case(
        PROCEEDING,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "A"), ("stop", "B"), ("stop", "D"), ("tu", "terminated")),
    ),
    Case(COMPLETED, "300-699", COMPLETED, (("send", "ACK"),)),
    Case(COMPLETED, "timer D", TERMINATED, (("tu", "terminated"),)),
    # RFC 6026 §8.4: every 2xx is passed up (the callee repeats it until its ACK)
    Case(ACCEPTED, "2xx", ACCEPTED, (("tu", "response"),)),
    Case(ACCEPTED, "timer M", TERMINATED, (("tu", "terminated"),)),
    Case(
        COMPLETED,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "A"), ("stop", "B"), ("stop", "D"), ("tu", "terminated")),
    ),
]

CLIENT_NON_INVITE_CASES = [
    Case(TRYING, "timer E", TRYING, (("send", "OPTIONS"), ("start", "E", 1.0))),
    Case(TRYING, "timer F", TERMINATED, (("tu", "timeout"), ("stop", "E"), ("tu", "terminated"))),
    Case(TRYING, "1xx", PROCEEDING, (("tu", "response"),)),
    Case(
        TRYING,
        "200-699",
        COMPLETED,
        (("tu", "response"), ("stop", "E"), ("stop", "F"), ("start", "K", 5.0)),
    ),
    Case(
        TRYING,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "E"), ("stop", "F"), ("stop", "K"), ("tu", "terminated")),
    ),
    Case(PROCEEDING, "timer E", PROCEEDING, (("send", "OPTIONS"), ("start", "E", 4.0))),
    Case(
        PROCEEDING, "timer F", TERMINATED, (("tu", "timeout"), ("stop", "E"), ("tu", "terminated"))
    ),
    Case(PROCEEDING, "1xx", PROCEEDING, (("tu", "response"),)),
    Case(
        PROCEEDING,
        "200-699",
        COMPLETED,
        (("tu", "response"), ("stop", "E"), ("stop", "F"), ("start", "K", 5.0)),
    ),
    Case(
        PROCEEDING,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "E"), ("stop", "F"), ("stop", "K"), ("tu", "terminated")),
    ),
    Case(COMPLETED, "timer K", TERMINATED, (("tu", "terminated"),)),
]

SERVER_INVITE_CASES = [
    Case(PROCEEDING, "request", PROCEEDING, (("send", 100),)),
    Case(PROCEEDING, "1xx", PROCEEDING, (("send", 180),)),
    Case(PROCEEDING, "2xx", ACCEPTED, (("send", 200), ("start", "L", 32.0))),
    Case(
        PROCEEDING, "300-699", COMPLETED, (("send", 486), ("start", "G", 0.5), ("start", "H", 32.0))
    ),
    Case(
        PROCEEDING,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "G"), ("stop", "H"), ("stop", "I"), ("tu", "terminated")),
    ),
    Case(COMPLETED, "request", COMPLETED, (("send", 486),)),
    Case(
        COMPLETED,
        "ACK",
        CONFIRMED,
        (("tu", "ack"), ("stop", "G"), ("stop", "H"), ("start", "I", 5.0)),
    ),
    Case(COMPLETED, "timer G", COMPLETED, (("send", 486), ("start", "G", 1.0))),
    Case(COMPLETED, "timer H", TERMINATED, (("tu", "timeout"), ("stop", "G"), ("tu", "terminated"))),
    Case(
        COMPLETED,
        TE,
        TERMINATED,
        (("tu", "transport-error"), ("stop", "G"), ("stop", "H"), ("stop", "I"), ("tu", "terminated")),
    ),
    Case(CONFIRMED, "ACK", CONFIRMED, ()),
    Case(CONFIRMED, "request", CONFIRMED, ()),
    Case(CONFIRMED, "timer I", TERMINATED, (("tu", "terminated"),)),
    # RFC 6026 §7.1/§8.7: a retransmission is absorbed, not answered; the TU's 2xx go out
    Case(ACCEPTED, "request", ACCEPTED, ()),
    Case(ACCEPTED, "ACK", ACCEPTED, (("tu", "ack"),)),
    Case(ACCEPTED, "2xx", ACCEPTED, (("send", 200),)),
    Case(ACCEPTED, TE, ACCEPTED, (("tu", "transport-error"),)),
    Case(ACCEPTED, "timer L", TERMINATED, (("tu", "terminated"),)),
]

SERVER_NON_INVITE_CASES = [
    Case(TRYING, "request", TRYING, ()),
    Case(TRYING, "1xx", PROCEEDING, (("send", 100),)),
    Case(TRYING, "200-699", COMPLETED, (("send", 200), ("start", "J", 32.0))),
    Case(
        TRYING, TE, TERMINATED, (("tu", "transport-error"), ("stop", "J"), ("tu", "terminated"))
    ),
    Case(PROCEEDING, "request", PROCEEDING, (("send", 100),)),
    Case(PROCEEDING, "1xx", PROCEEDING, (("send", 100),)),
    Case(PROCEEDING, "200-699", COMPLETED, (("send", 200), ("start", "J", 32.0))),
    Case(
        PROCEEDING, TE, TERMINATED, (("tu", "transport-error"), ("stop", "J"), ("tu", "terminated"))
    ),
    Case(COMPLETED, "request", COMPLETED, (("send", 200),)),
    Case(COMPLETED, "timer J", TERMINATED, (("tu", "terminated"),)),
    Case(
        COMPLETED, TE, TERMINATED, (("tu", "transport-error"), ("stop", "J"), ("tu", "terminated"))
    ),
]

Factory = Callable[..., Machine]
MACHINES: list[tuple[str, Factory, type[Machine], list[Case], list[State], list[str]]] = [
    (
        "client INVITE",
        client_invite,
        ClientInviteTransaction,
        CLIENT_INVITE_CASES,
        [CALLING, PROCEEDING, COMPLETED, ACCEPTED, TERMINATED],
        ["1xx", "2xx", "300-699", "timer A", "timer B", "timer D", "timer M", TE],
    ),
    (
        "client non-INVITE",
        client_non_invite,
        ClientNonInviteTransaction,
        CLIENT_NON_INVITE_CASES,
        [TRYING, PROCEEDING, COMPLETED, TERMINATED],
        ["1xx", "200-699", "timer E", "timer F", "timer K", TE],
    ),
    (
        "server INVITE",
        server_invite,
        ServerInviteTransaction,
        SERVER_INVITE_CASES,
        [PROCEEDING, COMPLETED, CONFIRMED, ACCEPTED, TERMINATED],
        [
            "request", "ACK", "1xx", "2xx", "300-699",
            "timer G", "timer H", "timer I", "timer L", TE,
        ],
    ),
    (
        "server non-INVITE",
        server_non_invite,
        ServerNonInviteTransaction,
        SERVER_NON_INVITE_CASES,
        [TRYING, PROCEEDING, COMPLETED, TERMINATED],
        ["request", "1xx", "200-699", "timer J", TE],
    ),
]

ALL_CASES = [
    pytest.param(factory, case, id=f"{name}: {case.state.value} + {case.event}")
    for name, factory, _, cases, _, _ in MACHINES
    for case in cases
]


@pytest.mark.parametrize(("factory", "case"), ALL_CASES)
def test_transition(factory: Factory, case: Case) -> None:
    machine = factory(case.state)
    effects = fire(machine, case.event)
    assert machine.state is case.new_state
    assert tuple(summary(effects)) == case.effects


@pytest.mark.parametrize(
    ("cls", "cases"), [pytest.param(m[2], m[3], id=m[0]) for m in MACHINES]
)
def test_cases_cover_the_transition_table(cls: type[Machine], cases: list[Case]) -> None:
    covered = {(case.state, case.event): case.new_state for case in cases}
    assert covered == cls.TRANSITIONS


IGNORED = [
    pytest.param(factory, state, event, id=f"{name}: {state.value} ignores {event}")
    for name, factory, cls, _, states, events in MACHINES
    for state in states
    for event in events
    if (state, event) not in cls.TRANSITIONS
]


@pytest.mark.parametrize(("factory", "state", "event"), IGNORED)
def test_events_outside_the_table_change_nothing(factory: Factory, state: State, event: str) -> None:
    machine = factory(state)
    assert fire(machine, event) == []
    assert machine.state is state


# ----------------------------------------------------------------- timer values


def test_timer_a_doubles_without_limit_while_calling() -> None:
    machine = client_invite(CALLING)
    delays = []
    for _ in range(6):
        effects = machine.timer_fired("A")
        delays += [e[2] for e in summary(effects) if e[0] == "start"]
        assert ("send", "INVITE") in summary(effects)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_timer_e_backs_off_to_t2_then_stays_there() -> None:
    machine = client_non_invite(TRYING)
    delays = []
    for _ in range(5):
        delays += [e[2] for e in summary(machine.timer_fired("E")) if e[0] == "start"]
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_timer_g_backs_off_to_t2() -> None:
    machine = server_invite(COMPLETED)
    delays = []
    for _ in range(5):
        delays += [e[2] for e in summary(machine.timer_fired("G")) if e[0] == "start"]
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_settings_drive_every_timer() -> None:
    settings = TimerSettings(t1=0.1, t2=1.0, t4=2.0, fr_timeout=7.0)
    invite = ClientInviteTransaction("k", request(), DEST, "udp", settings)
    assert summary(invite.start())[1:] == [("start", "A", 0.1), ("start", "B", 7.0)]
    options = ClientNonInviteTransaction("k", request("OPTIONS"), DEST, "udp", settings)
    assert summary(options.start())[1:] == [("start", "E", 0.1), ("start", "F", 7.0)]
    server = ServerInviteTransaction("k", request(), DEST, "udp", settings)
    effects = server.send_response(server.request.make_response(404, to_tag="x"))
    assert summary(effects)[1:] == [("start", "G", 0.1), ("start", "H", 6.4)]
    assert settings.timer_d == 32.0  # "at least 32 s" whatever T1 is
    assert (settings.timer_l, settings.timer_m) == (6.4, 6.4)  # 64*T1 (RFC 6026)


def test_wt_timer_is_how_long_accepted_lasts() -> None:
    settings = TimerSettings(wt_timer=5.0)
    server = ServerInviteTransaction("k", request(), DEST, "udp", settings)
    effects = server.send_response(server.request.make_response(200, to_tag="t"))
    assert summary(effects) == [("send", 200), ("start", "L", 5.0)]
    client = ClientInviteTransaction("k", request(), DEST, "udp", settings)
    client.start()
    effects = client.receive(answer(client.request, 200))
    assert ("start", "M", 5.0) in summary(effects)


def test_wt_timer_is_how_long_a_completed_non_invite_server_lasts() -> None:
    # OpenSIPS keeps every finished transaction for wt_timer, not RFC 3261's 64*T1 Timer J
    for settings, timer_j in ((TimerSettings(wt_timer=5.0), 5.0), (TimerSettings(), 32.0)):
        machine = ServerNonInviteTransaction("k", request("BYE"), DEST, "udp", settings)
        effects = machine.send_response(machine.request.make_response(200, to_tag="t"))
        assert summary(effects) == [("send", 200), ("start", "J", timer_j)]


# ----------------------------------------------------------------- Accepted (RFC 6026)


def test_accepted_server_keeps_no_bytes_to_resend() -> None:
    machine = server_invite(ACCEPTED)
    assert machine.last_sent is None and machine.last_status == 200 and machine.final_sent
    assert summary(machine.receive(request())) == []  # absorbed, and never answered
    # the TU's next 2xx (another fork's) is sent, and changes neither timer nor status
    effects = machine.send_response(machine.request.make_response(200, to_tag="other"))
    assert summary(effects) == [("send", 200)]


def test_accepted_client_passes_every_2xx_up_and_abandon_stops_timer_m() -> None:
    machine = client_invite(ACCEPTED)
    for tag in ("callee-tag", "callee-tag", "fork-2"):
        effects = machine.receive(answer(machine.request, 200, to_tag=tag))
        [event] = effects
        assert summary(effects) == [("tu", "response")]
        assert event.response is not None and event.response.to is not None  # type: ignore[union-attr]
        assert event.response.to.tag == tag  # type: ignore[union-attr]
    assert machine.receive(answer(machine.request, 486)) == []  # no non-2xx after a 2xx
    assert summary(machine.abandon()) == [("stop", "M"), ("tu", "terminated")]
    assert machine.state is TERMINATED


def test_a_tu_may_end_accepted_itself() -> None:
    machine = ClientInviteTransaction("k", request(), DEST, "udp", S, timer_m=False)
    machine.start()
    effects = machine.receive(answer(machine.request, 200))
    assert machine.state is ACCEPTED
    assert summary(effects) == [("stop", "A"), ("stop", "B"), ("tu", "response")]  # no M
    assert summary(machine.abandon()) == [("tu", "terminated")]
    assert machine.state is TERMINATED


def test_accepted_client_may_let_its_request_go() -> None:
    machine = client_invite(ACCEPTED)
    sent = machine.request
    machine.release_wire()  # the proxy does so once its transaction has settled
    assert machine.wire == b"" and machine._request is None
    assert summary(machine.receive(answer(sent, 200))) == [("tu", "response")]
    assert summary(machine.timer_fired("M")) == [("tu", "terminated")]


# ----------------------------------------------------------------- reliable transports


def test_reliable_client_invite_never_retransmits_and_skips_timer_d() -> None:
    machine = ClientInviteTransaction("k", request(), DEST, "tcp", S)
    assert summary(machine.start()) == [("send", "INVITE"), ("start", "B", 32.0)]
    effects = machine.receive(answer(machine.request, 486))
    assert machine.state is TERMINATED
    assert summary(effects) == [
        ("stop", "B"),
        ("tu", "response"),
        ("send", "ACK"),
        ("tu", "terminated"),
    ]


def test_reliable_client_non_invite_skips_timer_k() -> None:
    machine = ClientNonInviteTransaction("k", request("OPTIONS"), DEST, "tls", S)
    assert summary(machine.start()) == [("send", "OPTIONS"), ("start", "F", 32.0)]
    effects = machine.receive(answer(machine.request, 200))
    assert machine.state is TERMINATED
    assert ("start", "K", 5.0) not in summary(effects)


def test_reliable_server_invite_has_no_timer_g_and_no_timer_i() -> None:
    machine = ServerInviteTransaction("k", request(), DEST, "tcp", S)
    effects = machine.send_response(machine.request.make_response(486, to_tag="t"))
    assert summary(effects) == [("send", 486), ("start", "H", 32.0)]
    effects = machine.receive(request("ACK", cseq_method="ACK"))
    assert machine.state is TERMINATED
    assert summary(effects) == [("tu", "ack"), ("stop", "H"), ("tu", "terminated")]


def test_reliable_transports_stay_accepted_too() -> None:
    # RFC 6026 has no zero-length Timer L or M: a reliable hop still sees the caller's
    # retransmissions (from an element upstream on UDP) and other forks' 2xx
    server = ServerInviteTransaction("k", request(), DEST, "tcp", S)
    effects = server.send_response(server.request.make_response(200, to_tag="t"))
    assert server.state is ACCEPTED and summary(effects) == [("send", 200), ("start", "L", 32.0)]
    client = ClientInviteTransaction("k", request(), DEST, "tcp", S)
    client.start()
    effects = client.receive(answer(client.request, 200))
    assert client.state is ACCEPTED
    assert summary(effects) == [("stop", "B"), ("tu", "response"), ("start", "M", 32.0)]


def test_reliable_server_non_invite_has_no_timer_j() -> None:
    machine = ServerNonInviteTransaction("k", request("OPTIONS"), DEST, "tcp", S)
    effects = machine.send_response(machine.request.make_response(200, to_tag="t"))
    assert summary(effects) == [("send", 200), ("tu", "terminated")]


# ----------------------------------------------------------------- what goes on the wire


def test_ack_for_a_non_2xx_is_built_hop_by_hop() -> None:
    machine = client_invite(PROCEEDING)
    effects = machine.receive(answer(machine.request, 486, to_tag="busy"))
    wire = next(e.data for e in effects if isinstance(e, Send))
    assert isinstance(wire, bytes)
    ack = parse_message(wire)
    assert isinstance(ack, Request)
    assert ack.method == "ACK"
    assert ack.top_via is not None and ack.top_via.branch == machine.request.top_via.branch  # type: ignore[union-attr]
    assert ack.to is not None and ack.to.tag == "busy"
    assert ack.cseq is not None and (ack.cseq.number, ack.cseq.method) == (1, "ACK")
    # the retransmitted 486 gets the very same ACK again, and is not passed up
    again = machine.receive(answer(machine.request, 486, to_tag="busy"))
    assert [e.data for e in again if isinstance(e, Send)] == [wire]


def test_server_resends_the_latest_provisional() -> None:
    machine = ServerInviteTransaction("k", request(), DEST, "udp", S)
    assert machine.receive(request()) == []  # nothing sent yet: nothing to re-send
    machine.send_response(machine.request.make_response(100))
    machine.send_response(machine.request.make_response(183, to_tag="t"))
    assert summary(machine.receive(request())) == [("send", 183)]


def test_timer_ids_name_the_machine() -> None:
    machine = ClientInviteTransaction("z9hG4bKx INVITE", request(), DEST, "udp", S)
    ids = [getattr(e, "id", None) for e in machine.start()]
    assert ("z9hG4bKx INVITE", "A") in ids and ("z9hG4bKx INVITE", "B") in ids
