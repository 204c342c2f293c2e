"""The stateful pipeline: transactions, tm routes and timers, with recorded sends and a
fake clock (no sockets, no waiting).

Routes are Python functions calling the stdlib as compiled scripts do. The caller is
10.0.0.1:5062, the callees 127.0.0.2:5070 and 127.0.0.3:5070, we are 127.0.0.1:5060.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from runtime.api import Ctx, RouteTable, ScriptDrop, ScriptExit
from runtime.core.pipeline import Pipeline
from runtime.core.stateful import Stateful
from runtime.sip import Request, Response, parse_message
from runtime.sip.message import header_pairs
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from runtime.usrloc import TABLES, MemoryStore
from stdlib import registrar, signaling, tm
from stdlib._modules import reset_modparams, set_modparam
from stdlib.testing import context

UDP = SocketInfo("udp", "127.0.0.1", 5060, socket.AF_INET)
CALLER = ("10.0.0.1", 5062)
CALLEE = ("127.0.0.2", 5070)
OTHER = ("127.0.0.3", 5070)


def invite(
    method: str = "INVITE",
    branch: str = "z9hG4bK-caller1",
    ruri: str = "sip:bob@127.0.0.2:5070",
    cseq: int = 1,
    to_tag: str = "",
) -> bytes:
    to = "<sip:bob@b.example>" + (f";tag={to_tag}" if to_tag else "")
    return (
        f"{method} {ruri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 10.0.0.1:5062;branch={branch}\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@a.example>;tag=f1\r\n"
        f"To: {to}\r\n"
        "Call-ID: call-1@10.0.0.1\r\n"
        f"CSeq: {cseq} {method}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class Sender:
    def __init__(self) -> None:
        self.sockets = [UDP]
        self.sent: list[tuple[str, int, bytes]] = []

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool:
        self.sent.append((ip, port, data))
        return True

    def reply(self, source: Source, data: bytes) -> bool:
        self.sent.append((source.ip, source.port, data))
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A pipeline with recorded sends and a fake clock; `take()` hands out what was sent."""

    def __init__(self, routes: RouteTable) -> None:
        self.pipeline = Pipeline(routes)
        self.clock = Clock()
        self.pipeline.stateful = Stateful(self.pipeline, clock=self.clock)
        self.sender = Sender()
        self.pipeline.attach(self.sender)
        self.seen = 0

    @property
    def stateful(self) -> Stateful:
        return self.pipeline.stateful

    def from_caller(self, data: bytes) -> None:
        self.pipeline.receive(data, Source(UDP, *CALLER))

    def from_callee(self, response: Response, peer: tuple[str, int] = CALLEE) -> None:
        self.pipeline.receive(response.to_bytes(), Source(UDP, *peer))

    def take(self) -> list[tuple[tuple[str, int], Request | Response]]:
        """What was sent since the last call, parsed, with its destination."""
        new = self.sender.sent[self.seen :]
        self.seen = len(self.sender.sent)
        return [((ip, port), parse_message(data)) for ip, port, data in new]

    def requests_to(self, peer: tuple[str, int]) -> list[Request]:
        return [m for dest, m in self.take() if dest == peer and isinstance(m, Request)]

    def advance(self, seconds: float, step: float = 0.5) -> None:
        """Move the clock on, ticking the wheel as the server does."""
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.clock.now = min(end, self.clock.now + step)
            self.stateful.tick()


def statuses(
    sent: list[tuple[tuple[str, int], Request | Response]], peer: tuple[str, int]
) -> list[int]:
    return [m.status for dest, m in sent if dest == peer and isinstance(m, Response)]


@pytest.fixture(autouse=True)
def _default_modparams() -> Iterator[None]:
    reset_modparams()
    yield
    reset_modparams()


def relay(ctx: Ctx) -> int:
    if tm.t_relay(ctx) < 0:
        signaling.send_reply(ctx, 500, "Relay Error")
    raise ScriptExit


# ---------------------------------------------------------------------- relaying


def test_t_relay_sends_100_then_the_request_and_absorbs_retransmissions() -> None:
    runs: list[str] = []

    def main(ctx: Ctx) -> int:
        runs.append(ctx.method)
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    sent = h.take()
    assert statuses(sent, CALLER) == [100]
    forwarded = [m for dest, m in sent if dest == CALLEE]
    assert len(forwarded) == 1 and isinstance(forwarded[0], Request)
    top = forwarded[0].top_via
    assert top is not None and top.host == "127.0.0.1" and top.branch is not None
    assert top.branch.startswith("z9hG4bK") and forwarded[0].max_forwards == 69
    assert h.stateful.table.live == 1

    h.from_caller(invite())  # a retransmission: the script does not run again
    assert runs == ["INVITE"]
    again = h.take()
    assert statuses(again, CALLER) == [100] and not h.requests_to(CALLEE)


def test_replies_go_upstream_through_the_transaction_and_it_ends() -> None:
    h = Harness(RouteTable(main=relay))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(180, to_tag="callee"))
    h.from_callee(branch.make_response(200, to_tag="callee"))
    sent = h.take()
    assert statuses(sent, CALLER) == [180, 200]
    up = [m for dest, m in sent if dest == CALLER]
    assert all(m.top_via is not None and m.top_via.host == "10.0.0.1" for m in up)  # ours gone
    h.advance(40)
    assert h.stateful.table.live == 0 and len(h.stateful.wheel) == 0


def test_a_replied_non_invite_lingers_without_its_request_or_script_data() -> None:
    h = Harness(RouteTable(main=relay))
    h.from_caller(invite("MESSAGE"))
    (branch,) = h.requests_to(CALLEE)
    [tx] = set(h.stateful.table.by_key.values())
    h.from_callee(branch.make_response(200, to_tag="callee"))
    assert statuses(h.take(), CALLER) == [200]
    assert h.stateful.table.live == 1  # Timer J: retransmissions are still absorbed
    assert tx.user_data is None and tx._request is None and tx.server._request is None
    h.from_caller(invite("MESSAGE"))
    assert statuses(h.take(), CALLER) == [200]
    h.advance(40)
    assert h.stateful.table.live == 0


def test_a_stateless_script_makes_no_transaction() -> None:
    def main(ctx: Ctx) -> int:
        return ctx.forward()

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    assert h.stateful.table.live == 0
    assert [dest for dest, _ in h.take()] == [CALLEE]


def test_appended_branches_fork_in_parallel_with_their_own_branch_ids() -> None:
    def main(ctx: Ctx) -> int:
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    sent = h.take()
    to_bob = [m for dest, m in sent if dest == CALLEE]
    to_carol = [m for dest, m in sent if dest == OTHER]
    assert len(to_bob) == len(to_carol) == 1
    assert isinstance(to_carol[0], Request) and to_carol[0].ruri_text == "sip:carol@127.0.0.3:5070"
    branches = {m.top_via.branch for m in (*to_bob, *to_carol) if m.top_via is not None}
    assert len(branches) == 2


def test_du_decides_where_the_branch_goes_and_the_ruri_stays() -> None:
    def main(ctx: Ctx) -> int:
        ctx.du = "sip:127.0.0.3:5070"
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    (branch,) = h.requests_to(OTHER)
    assert branch.ruri_text == "sip:bob@127.0.0.2:5070"


def test_a_target_that_cannot_be_reached_makes_t_relay_fail() -> None:
    codes: list[int] = []

    def main(ctx: Ctx) -> int:
        ctx.ruri = "sip:bob@127.0.0.1:5060"  # ourselves
        codes.append(tm.t_relay(ctx))
        signaling.send_reply(ctx, 500, "Relay Error")
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    assert codes and codes[0] < 0
    assert statuses(h.take(), CALLER) == [100, 500]  # the reply went statefully


# ---------------------------------------------------------------------- failure_route


def test_failure_route_forks_serially_after_a_486() -> None:
    seen: list[tuple[int, int, str | None, object]] = []

    def main(ctx: Ctx) -> int:
        ctx.avp_push("next", "sip:carol@127.0.0.3:5070")
        tm.t_on_failure(ctx, "next")
        return relay(ctx)

    def next_one(ctx: Ctx) -> int:
        seen.append((tm.t_check_status(ctx, "486"), int(str(ctx.pv_get("T_reply_code"))),
                     ctx.ruri, ctx.avp_get("next")))  # fmt: skip
        ctx.ruri = str(ctx.avp_get("next"))
        return tm.t_relay(ctx)

    h = Harness(RouteTable(main=main, failure={"next": next_one}))
    h.from_caller(invite())
    (first,) = h.requests_to(CALLEE)
    h.from_callee(first.make_response(486, to_tag="busy"))
    assert seen == [(1, 486, "sip:bob@127.0.0.2:5070", "sip:carol@127.0.0.3:5070")]
    sent = h.take()
    acks = [m for dest, m in sent if dest == CALLEE and isinstance(m, Request)]
    assert [m.method for m in acks] == ["ACK"]  # the 486 is ACKed hop by hop
    assert 486 not in statuses(sent, CALLER)
    second = [m for dest, m in sent if dest == OTHER and isinstance(m, Request)]
    assert [m.method for m in second] == ["INVITE"]
    assert second[0].ruri_text == "sip:carol@127.0.0.3:5070" and second[0].max_forwards == 69
    h.from_callee(second[0].make_response(200, to_tag="carol"), OTHER)
    assert statuses(h.take(), CALLER) == [200]


def test_a_failure_route_that_does_nothing_lets_the_best_reply_go_up() -> None:
    ran: list[bool] = []

    def main(ctx: Ctx) -> int:
        tm.t_on_failure(ctx, "quiet")
        return relay(ctx)

    def quiet(ctx: Ctx) -> int:
        ran.append(tm.t_was_cancelled(ctx) > 0)
        return 1

    h = Harness(RouteTable(main=main, failure={"quiet": quiet}))
    h.from_caller(invite())
    (first,) = h.requests_to(CALLEE)
    h.from_callee(first.make_response(404, to_tag="x"))
    assert ran == [False]
    assert statuses(h.take(), CALLER) == [404]


def test_a_failure_route_may_reply_itself() -> None:
    def main(ctx: Ctx) -> int:
        tm.t_on_failure(ctx, "answer")
        return relay(ctx)

    def answer(ctx: Ctx) -> int:
        return tm.t_reply(ctx, 480, "Try Later")

    h = Harness(RouteTable(main=main, failure={"answer": answer}))
    h.from_caller(invite())
    (first,) = h.requests_to(CALLEE)
    h.from_callee(first.make_response(503, to_tag="x"))
    assert statuses(h.take(), CALLER) == [480]


def test_no_answer_times_out_into_the_failure_route_with_a_local_408() -> None:
    seen: list[tuple[int, int]] = []
    set_modparam("tm", "fr_timeout", 5)

    def main(ctx: Ctx) -> int:
        tm.t_on_failure(ctx, "timeout")
        return relay(ctx)

    def timeout(ctx: Ctx) -> int:
        seen.append((int(str(ctx.pv_get("T_reply_code"))), tm.t_local_replied(ctx, "branch")))
        return 1

    h = Harness(RouteTable(main=main, failure={"timeout": timeout}))
    h.from_caller(invite())
    h.take()
    h.advance(3)
    assert not seen  # not before fr_timeout
    h.advance(3)
    assert seen == [(408, 1)]
    assert 408 in statuses(h.take(), CALLER)


# ---------------------------------------------------------------------- branch and reply routes


def test_branch_route_edits_each_branch_and_drop_cancels_one() -> None:
    def main(ctx: Ctx) -> int:
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        tm.t_on_branch(ctx, "per_branch")
        return relay(ctx)

    def per_branch(ctx: Ctx) -> int:
        if ctx.ruri_user == "carol":
            raise ScriptDrop
        ctx.append_header(f"X-Branch: {ctx.pv_get('T_branch_idx')}")
        return 1

    h = Harness(RouteTable(main=main, branch={"per_branch": per_branch}))
    h.from_caller(invite())
    sent = h.take()
    assert not [m for dest, m in sent if dest == OTHER]
    (bob,) = [m for dest, m in sent if dest == CALLEE]
    assert bob.header("X-Branch") == "0"


def test_branch_route_may_move_the_branch_with_du() -> None:
    def main(ctx: Ctx) -> int:
        tm.t_on_branch(ctx, "move")
        return relay(ctx)

    def move(ctx: Ctx) -> int:
        ctx.du = "sip:127.0.0.3:5070"
        return 1

    h = Harness(RouteTable(main=main, branch={"move": move}))
    h.from_caller(invite())
    assert len(h.requests_to(OTHER)) == 1


def test_reply_routes_see_the_reply_and_may_drop_a_provisional() -> None:
    seen: list[tuple[str, int | None, object]] = []

    def main(ctx: Ctx) -> int:
        ctx.avp_push("who", "alice")
        tm.t_on_reply(ctx, "replies")
        return relay(ctx)

    def global_onreply(ctx: Ctx) -> int:
        seen.append(("global", ctx.status, ctx.src_ip))  # $si of a reply: who sent it
        return 1

    def replies(ctx: Ctx) -> int:
        seen.append(("armed", ctx.status, ctx.avp_get("who")))
        if ctx.status == 183:
            raise ScriptDrop
        return 1

    set_modparam("tm", "onreply_avp_mode", 1)
    h = Harness(RouteTable(main=main, onreply=global_onreply, onreply_named={"replies": replies}))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(183, to_tag="t"))
    h.from_callee(branch.make_response(180, to_tag="t"))
    assert seen == [("global", 183, CALLEE[0]), ("armed", 183, "alice"),
                    ("global", 180, CALLEE[0]), ("armed", 180, "alice")]  # fmt: skip
    assert statuses(h.take(), CALLER) == [180]  # the 183 was dropped


def test_t_on_reply_in_a_branch_route_arms_that_branch_only() -> None:
    seen: list[tuple[str, int | None]] = []

    def main(ctx: Ctx) -> int:
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        tm.t_on_branch(ctx, "per_branch")
        return relay(ctx)

    def per_branch(ctx: Ctx) -> int:
        if ctx.ruri_user == "carol":
            tm.t_on_reply(ctx, "carols")
        return 1

    def carols(ctx: Ctx) -> int:
        seen.append((ctx.src_ip, ctx.status))
        return 1

    h = Harness(
        RouteTable(main=main, branch={"per_branch": per_branch}, onreply_named={"carols": carols})
    )
    h.from_caller(invite())
    sent = h.take()
    (bob,) = [m for dest, m in sent if dest == CALLEE]
    (carol,) = [m for dest, m in sent if dest == OTHER]
    assert isinstance(bob, Request) and isinstance(carol, Request)
    h.from_callee(bob.make_response(180, to_tag="b"))
    h.from_callee(carol.make_response(180, to_tag="c"), OTHER)
    assert seen == [(OTHER[0], 180)]


# ---------------------------------------------------------------------- CANCEL


def test_cancel_is_answered_and_sent_on_then_the_487_goes_up() -> None:
    h = Harness(RouteTable(main=relay))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(180, to_tag="t"))
    h.take()
    h.from_caller(invite("CANCEL"))
    sent = h.take()
    assert statuses(sent, CALLER) == [200]
    cancels = [m for dest, m in sent if dest == CALLEE and isinstance(m, Request)]
    assert [m.method for m in cancels] == ["CANCEL"]
    assert cancels[0].top_via is not None and branch.top_via is not None
    assert cancels[0].top_via.branch == branch.top_via.branch
    h.from_callee(cancels[0].make_response(200))
    h.from_callee(branch.make_response(487, to_tag="t"))
    sent = h.take()
    assert statuses(sent, CALLER) == [487]
    assert [m.method for dest, m in sent if isinstance(m, Request)] == ["ACK"]


def test_a_cancel_that_matches_nothing_reaches_the_script() -> None:
    checks: list[int] = []

    def main(ctx: Ctx) -> int:
        if ctx.method == "CANCEL":
            checks.append(tm.t_check_trans(ctx))
            raise ScriptExit
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite(branch="z9hG4bK-other"))  # some transaction is live
    h.from_caller(invite("CANCEL"))
    assert checks == [-1]


# ---------------------------------------------------------------------- replies, t_newtran


def test_send_reply_with_a_transaction_is_stateful() -> None:
    def main(ctx: Ctx) -> int:
        assert tm.t_newtran(ctx) == 1
        signaling.send_reply(ctx, 404, "Not Here")
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(invite("MESSAGE"))
    assert statuses(h.take(), CALLER) == [404]
    h.from_caller(invite("MESSAGE"))  # the retransmission gets the same reply again
    assert statuses(h.take(), CALLER) == [404]


def test_a_transaction_left_without_reply_or_branch_is_released() -> None:
    def main(ctx: Ctx) -> int:
        tm.t_newtran(ctx)
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(invite("OPTIONS"))
    assert h.stateful.table.live == 0


def test_the_ack_of_a_2xx_is_relayed_statelessly_by_t_relay() -> None:
    def main(ctx: Ctx) -> int:
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(200, to_tag="t"))
    h.take()
    h.from_caller(invite("ACK", to_tag="t"))
    acks = h.requests_to(CALLEE)
    assert [m.method for m in acks] == ["ACK"]


def test_an_invite_repeated_after_the_200_is_absorbed_until_wt_timer() -> None:
    # RFC 6026: the INVITE crossing the 200 must not run the script and go downstream
    # as a new transaction (SIPp's UAS aborts the call); the 200 repeated by the callee
    # and the ACK still pass, a CANCEL changes nothing, and after wt_timer it is gone
    runs: list[str] = []

    def main(ctx: Ctx) -> int:
        runs.append(ctx.method)
        return relay(ctx)

    set_modparam("tm", "wt_timer", 2)
    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    ok = branch.make_response(200, to_tag="t")
    h.from_callee(branch.make_response(180, to_tag="t"))
    h.from_callee(ok)
    assert statuses(h.take(), CALLER) == [180, 200]
    for _ in range(2):
        h.from_caller(invite())
        assert h.take() == []  # nothing downstream, and no answer upstream
    h.from_callee(ok)  # the callee has not seen the ACK yet: its 200 again
    assert statuses(h.take(), CALLER) == [200]
    h.from_caller(invite("CANCEL"))
    sent = h.take()
    assert statuses(sent, CALLER) == [200] and not [m for dest, m in sent if dest == CALLEE]
    h.from_caller(invite("ACK", branch="z9hG4bK-ack", to_tag="t"))  # end to end
    assert [m.method for m in h.requests_to(CALLEE)] == ["ACK"]
    assert runs == ["INVITE", "ACK"]
    h.advance(1.5)
    assert h.stateful.table.live == 1
    h.advance(1.0)  # wt_timer (2 s) is over
    assert h.stateful.table.live == 0 and len(h.stateful.wheel) == 0
    h.from_caller(invite())  # now a new transaction, as RFC 3261 has it
    assert runs == ["INVITE", "ACK", "INVITE"]
    (again,) = h.requests_to(CALLEE)
    assert again.top_via is not None and branch.top_via is not None
    assert again.top_via.branch != branch.top_via.branch


# ---------------------------------------------------------------------- suspension


async def test_a_suspending_route_gets_its_transaction_first() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    runs: list[int] = []

    async def main(ctx: Ctx) -> int:
        runs.append(1)
        await gate
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    assert statuses(h.take(), CALLER) == [100] and h.stateful.table.live == 1
    h.from_caller(invite())  # absorbed while the route waits
    assert runs == [1]
    gate.set_result(None)
    await asyncio.gather(*h.pipeline.in_flight)
    assert len(h.requests_to(CALLEE)) == 1


async def test_a_cancel_while_the_route_waits_answers_487() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    results: list[int] = []

    async def main(ctx: Ctx) -> int:
        await gate
        results.append(tm.t_relay(ctx))
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    h.from_caller(invite("CANCEL"))
    sent = h.take()
    assert sorted(statuses(sent, CALLER)) == [100, 200, 487]
    gate.set_result(None)
    await asyncio.gather(*h.pipeline.in_flight)
    assert results and results[0] < 0 and not h.requests_to(CALLEE)


def test_a_failure_route_name_without_a_route_changes_nothing() -> None:
    def main(ctx: Ctx) -> int:
        tm.t_on_failure(ctx, "missing")
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(486, to_tag="x"))
    assert statuses(h.take(), CALLER) == [486]


# ---------------------------------------------------------------------- registrar lookup


@pytest.fixture
def location() -> Iterator[None]:
    TABLES.reset()
    TABLES.clock = lambda: 5000.0
    TABLES.install("location", MemoryStore("location"))
    yield
    TABLES.reset()


def test_lookup_bindings_are_called_in_parallel_each_through_its_path(location: None) -> None:
    path = "<sip:127.0.0.3:5070;lr>"
    save_ctx, _ = context(
        "REGISTER sip:example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKreg\n"
        "From: <sip:bob@example.com>;tag=r1\nTo: <sip:bob@example.com>\n"
        "Call-ID: reg-1\nCSeq: 1 REGISTER\n"
        "Contact: <sip:bob@127.0.0.2:5070>;q=0.9, <sip:bob@127.0.0.4:5070>;q=0.5\n"
        f"Path: {path}\n\n"
    )
    assert registrar.save(save_ctx, "location", "path-lazy") == 1

    def main(ctx: Ctx) -> int:
        if registrar.lookup(ctx, "location") < 0:
            return -1
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite(ruri="sip:bob@example.com"))
    sent = [(dest, m) for dest, m in h.take() if isinstance(m, Request)]
    assert len(sent) == 2  # both bindings at once, both through the Path proxy
    uris = sorted(m.ruri_text for _, m in sent)
    assert uris == ["sip:bob@127.0.0.2:5070", "sip:bob@127.0.0.4:5070"]
    assert {dest for dest, _ in sent} == {OTHER}
    assert all(m.headers_named("Route") == [path] for _, m in sent)  # one Route set each


REGISTER = (
    b"REGISTER sip:example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKreg2;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:carol@example.com>;tag=r2\r\n"
    b"To: <sip:carol@example.com>\r\n"
    b"Call-ID: reg-2\r\n"
    b"CSeq: 7 REGISTER\r\n"
    b"Contact: <sip:carol@10.0.0.1:5062>;q=0.7\r\n"
    b"Expires: 600\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_the_registrar_200_is_the_pipeline_reply_written_at_once(location: None) -> None:
    # save() writes its 200 as bytes (Stateful.reply_on_wire); the pipeline's own
    # send_reply, fed the same header lines, must send the very same bytes, to the
    # same address (the Via's received/rport)
    headers: list[list[str]] = []

    def main(ctx: Ctx) -> int:
        registrar.save(ctx, "location")
        raise ScriptExit

    def by_pipeline(ctx: Ctx) -> int:
        bindings = TABLES.get("location").lookup("carol", 5000.0)
        assert len(bindings) == 1
        lines = [
            "Contact: <sip:carol@10.0.0.1:5062>;q=0.7;expires=600",
            f"Date: {registrar._date_value(5000)}",
        ]
        headers.append(lines)
        ctx.send_reply(200, "OK", lines)
        raise ScriptExit

    ours = Harness(RouteTable(main=main))
    ours.from_caller(REGISTER)
    reference = Harness(RouteTable(main=by_pipeline))
    reference.from_caller(REGISTER)
    assert headers
    assert ours.sender.sent == reference.sender.sent
    [(dest, data)] = [((ip, port), data) for ip, port, data in ours.sender.sent]
    assert dest == CALLER and data.startswith(b"SIP/2.0 200 OK\r\n")


def test_append_to_reply_headers_go_out_with_the_registrar_200(location: None) -> None:
    def main(ctx: Ctx) -> int:
        ctx.reply_headers.append("X-Queued: yes")
        registrar.save(ctx, "location")
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(REGISTER)
    [(_, reply)] = h.take()
    assert isinstance(reply, Response) and reply.status == 200
    assert reply.header("X-Queued") == "yes"
    assert reply.header("Contact") == "<sip:carol@10.0.0.1:5062>;q=0.7;expires=600"


def test_a_settled_bye_absorbs_retransmissions_without_its_request_bytes() -> None:
    h = Harness(RouteTable(main=relay))
    bye = invite("BYE", branch="z9hG4bK-bye1", cseq=2, to_tag="t1")
    h.from_caller(bye)
    [forwarded] = h.requests_to(CALLEE)
    assert isinstance(forwarded, Request)
    h.from_callee(forwarded.make_response(200))
    assert statuses(h.take(), CALLER) == [200]
    [tx] = set(h.stateful.table.by_key.values())
    [branch] = tx.branches
    assert branch.client is not None and branch.client.wire == b""  # released
    h.from_caller(bye)  # a retransmission: the 200 again, nothing downstream
    h.from_callee(forwarded.make_response(200))  # the callee repeats its 200: absorbed
    sent = h.take()
    assert statuses(sent, CALLER) == [200] and not [d for d, _ in sent if d == CALLEE]
    h.advance(40)
    assert not h.stateful.table.live


def test_a_reply_route_s_edits_and_new_status_are_what_the_transaction_relays() -> None:
    from stdlib import sipmsgops

    def main(ctx: Ctx) -> int:
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        tm.t_on_reply(ctx, "replies")
        return relay(ctx)

    def replies(ctx: Ctx) -> int:
        sipmsgops.append_hf(ctx, "X-Seen: yes\r\n")
        if ctx.status == 486:
            sipmsgops.change_reply_status(ctx, 603, "Declined")
        return 1

    h = Harness(RouteTable(main=main, onreply_named={"replies": replies}))
    h.from_caller(invite())
    first = h.take()
    (bob,) = [m for dest, m in first if dest == CALLEE and isinstance(m, Request)]
    (carol,) = [m for dest, m in first if dest == OTHER and isinstance(m, Request)]
    h.from_callee(bob.make_response(180, to_tag="t"))
    h.from_callee(carol.make_response(180, to_tag="c"), OTHER)
    h.from_callee(bob.make_response(486, to_tag="t"))
    sent = h.take()
    # the 603 is a 6xx to the transaction too: carol's pending branch is cancelled
    assert [m.method for dest, m in sent if dest == OTHER and isinstance(m, Request)] == ["CANCEL"]
    h.from_callee(carol.make_response(487, to_tag="c"), OTHER)
    upstream = [m for dest, m in sent + h.take() if dest == CALLER and isinstance(m, Response)]
    assert [m.status for m in upstream] == [180, 180, 603]
    assert [m.header("X-Seen") for m in upstream] == ["yes", "yes", "yes"]


def test_branch_flags_follow_each_branch_into_its_branch_reply_and_failure_routes() -> None:
    from stdlib import branching

    seen: list[tuple[str, str, int]] = []

    def main(ctx: Ctx) -> int:
        branching.setbflag(ctx, "NAT")  # the R-URI branch (bob)
        ctx.append_branch("sip:carol@127.0.0.3:5070")
        branching.setbflag(ctx, "VIDEO", 1)  # carol's
        tm.t_on_branch(ctx, "each")
        tm.t_on_reply(ctx, "replies")
        tm.t_on_failure(ctx, "failed")
        return relay(ctx)

    def each(ctx: Ctx) -> int:
        seen.append(("branch", ctx.ruri_user or "", branching.isbflagset(ctx, "NAT")))
        seen.append(("branch", ctx.ruri_user or "", branching.isbflagset(ctx, "VIDEO")))
        return 1

    def replies(ctx: Ctx) -> int:
        seen.append(("reply", ctx.src_ip, branching.isbflagset(ctx, "VIDEO")))
        return 1

    def failed(ctx: Ctx) -> int:
        seen.append(("failure", ctx.ruri_user or "", branching.isbflagset(ctx, "VIDEO")))
        return 1

    h = Harness(
        RouteTable(
            main=main,
            branch={"each": each},
            onreply_named={"replies": replies},
            failure={"failed": failed},
        )
    )
    h.from_caller(invite())
    first = h.take()
    (bob,) = [m for dest, m in first if dest == CALLEE and isinstance(m, Request)]
    (carol,) = [m for dest, m in first if dest == OTHER and isinstance(m, Request)]
    assert seen == [("branch", "bob", 1), ("branch", "bob", -1),
                    ("branch", "carol", -1), ("branch", "carol", 1)]  # fmt: skip
    seen.clear()
    h.from_callee(bob.make_response(486, to_tag="b"))
    h.from_callee(carol.make_response(480, to_tag="c"), OTHER)
    assert seen[:2] == [("reply", CALLEE[0], -1), ("reply", OTHER[0], 1)]
    assert seen[2][0] == "failure"  # the winning (lowest-class) branch's flags


def test_t_relay_via_says_the_advertised_address_and_asks_for_rport() -> None:
    from stdlib import outbound

    def main(ctx: Ctx) -> int:
        outbound.set_advertised_address(ctx, "203.0.113.9")
        outbound.set_advertised_port(ctx, "5080")
        outbound.add_local_rport(ctx)
        return relay(ctx)

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    (bob,) = h.requests_to(CALLEE)
    top = bob.top_via
    assert top is not None and (top.host, top.port, top.has_rport) == ("203.0.113.9", 5080, True)
    # its replies name that address, and still find the transaction by the branch id
    h.from_callee(bob.make_response(200, to_tag="b"))
    assert statuses(h.take(), CALLER) == [200]


# ---------------------------------------------------------------------- append_to_reply


def _appending(*then: str) -> RouteTable:
    """A request route that queues `X-Why: because` and relays (with failure route "fr")."""
    from stdlib import sipmsgops

    def main(ctx: Ctx) -> int:
        sipmsgops.append_to_reply(ctx, "X-Why: because\r\n")
        if "failure" in then:
            tm.t_on_failure(ctx, "fr")
        return relay(ctx)

    def fr(ctx: Ctx) -> int:
        sipmsgops.append_to_reply(ctx, "X-Failure: yes\r\n")
        return tm.t_reply(ctx, 480, "Later")

    return RouteTable(main=main, failure={"fr": fr})


def _upstream_final(h: Harness) -> Response:
    finals = [m for dest, m in h.take() if dest == CALLER and isinstance(m, Response)]
    finals = [m for m in finals if m.status >= 200]
    assert finals and {m.status for m in finals} == {finals[0].status}  # retransmissions
    return finals[0]


def test_append_to_reply_lines_go_on_the_408_of_a_timeout() -> None:
    set_modparam("tm", "fr_timeout", 5)
    h = Harness(_appending())
    h.from_caller(invite())
    trying = [m for dest, m in h.take() if dest == CALLER and isinstance(m, Response)]
    assert [m.status for m in trying] == [100]
    h.advance(6)
    final = _upstream_final(h)
    assert final.status == 408
    assert final.headers_named("X-Why") == ["because"]


def test_append_to_reply_lines_go_on_the_487_after_a_cancel() -> None:
    h = Harness(_appending())
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(180, to_tag="t"))
    h.take()
    h.from_caller(invite("CANCEL"))
    ok = [m for dest, m in h.take() if dest == CALLER and isinstance(m, Response)]
    assert [m.status for m in ok] == [200]
    assert ok[0].headers_named("X-Why") == []  # the CANCEL's 200 is not the INVITE's reply
    h.from_callee(branch.make_response(487, to_tag="t"))
    final = _upstream_final(h)
    assert final.status == 487
    assert final.headers_named("X-Why") == ["because"]


def test_append_to_reply_lines_go_on_the_500_made_for_a_503_not_on_relayed_replies() -> None:
    h = Harness(_appending())
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(503, to_tag="t"))
    final = _upstream_final(h)
    assert final.status == 500
    assert final.headers_named("X-Why") == ["because"]

    h = Harness(_appending())
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(486, to_tag="t"))
    final = _upstream_final(h)
    assert final.status == 486  # received, relayed: not a reply made here
    assert final.headers_named("X-Why") == []


def test_a_failure_route_t_reply_has_the_request_route_lines_and_its_own() -> None:
    h = Harness(_appending("failure"))
    h.from_caller(invite())
    (branch,) = h.requests_to(CALLEE)
    h.from_callee(branch.make_response(486, to_tag="t"))
    final = _upstream_final(h)
    assert final.status == 480
    assert final.headers_named("X-Why") == ["because"]
    assert final.headers_named("X-Failure") == ["yes"]


def test_lines_appended_after_t_newtran_count_and_t_reply_does_not_repeat_them() -> None:
    from stdlib import sipmsgops

    def main(ctx: Ctx) -> int:
        tm.t_newtran(ctx)
        sipmsgops.append_to_reply(ctx, "X-Late: 1\r\n")
        tm.t_reply(ctx, 486, "Busy")
        raise ScriptExit

    h = Harness(RouteTable(main=main))
    h.from_caller(invite())
    final = _upstream_final(h)
    assert final.headers_named("X-Late") == ["1"]
    tx = h.stateful.layer.find(parse_invite())
    assert tx is not None and header_pairs(tx.reply_headers) == [("X-Late", "1")]


def parse_invite() -> Request:
    msg = parse_message(invite())
    assert isinstance(msg, Request)
    return msg


def test_append_body_to_reply_goes_on_the_registrar_200_and_a_timeout_s_408(
    location: None,
) -> None:
    from stdlib import sipmsgops

    def register(ctx: Ctx) -> int:
        sipmsgops.append_body_to_reply(ctx, "welcome")
        registrar.save(ctx, "location")
        raise ScriptExit

    h = Harness(RouteTable(main=register))
    h.from_caller(REGISTER)
    [(_, reply)] = h.take()
    assert isinstance(reply, Response) and reply.status == 200 and reply.body == b"welcome"

    def invite_route(ctx: Ctx) -> int:
        sipmsgops.append_body_to_reply(ctx, "nobody answered")
        return relay(ctx)

    set_modparam("tm", "fr_timeout", 5)
    h = Harness(RouteTable(main=invite_route))
    h.from_caller(invite())
    h.take()
    h.advance(6)
    final = _upstream_final(h)
    assert final.status == 408 and final.body == b"nobody answered"
