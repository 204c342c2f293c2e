"""The stateful proxy core of RFC 3261 §16: one server transaction, many client branches.

Theory of operation
-------------------
A `ProxyTransaction` is the "response context" of §16: the server transaction of the
request it was created for, one client transaction per branch the owner relays, and
the CANCEL transactions on either side. Every method consumes one event and returns
effects; the §17 machines inside report to it through `TuEvent`s, which it consumes.

Phases: WAITING (no final response upstream yet; the script may still be running, even
suspended: retransmissions are absorbed all the same), FAILURE (every branch ended
without a 2xx and the owner was asked, through a `Failure` delivery, to run the
failure_route: it answers with `relay()`, `reply()` or `forward_best()`), REPLIED (a
final went upstream) and TERMINATED (every machine has ended; gone from the table).
A REPLIED transaction whose branches all have their final is settled: no hook can run
for it any more, so `user_data` goes at once, and its request too once the owner said
its request route has ended (`request_route_done`); what is left (bytes to re-send,
timers) waits out Timer J or D, 32 s, or the Accepted state of an answered INVITE
(below), as few objects for the garbage collector.

Accepted (RFC 6026): an INVITE whose 2xx went upstream stays for Timer L,
`settings.wt_timer` long (tm's wt_timer, 5 s by default in the runtime, not RFC 6026's
32 s: see `TimerSettings`), and so do the branches that brought a 2xx: they end with
Timer L, one timer for the context as OpenSIPS has one wait timer per transaction,
instead of a Timer M each (a 2xx that comes after goes on statelessly, as a stray). Meanwhile a
retransmitted INVITE is absorbed with no answer at all (§7.1: the 2xx is not ours to
repeat), a CANCEL gets its 200 and changes nothing, the ACK of the 2xx goes to the
owner's main route (`NewRequest`: end to end), and each further 2xx, a retransmission
or another fork's, is forwarded upstream. When the timers have run out the transaction
is gone, and an INVITE that comes after that is a new one. Only statuses and keys stay
for it: the request and the branches' bytes go once it has settled.

Responses on a branch (§16.7): the branch's onreply hook sees each one first and may
drop a provisional. A provisional other than 100 is forwarded upstream while WAITING and
restarts the branch's Timer C (INVITE). Every 2xx is forwarded at once, the first one
through the server transaction, later ones (other forks, §16.7 step 10) straight to
the transport, and the still pending branches are CANCELed. A 300-699 is stored; a 6xx
also CANCELs the pending branches and forbids new ones. When the last branch ends
without a 2xx, the best stored response goes upstream (6xx first, then the lowest
class, preferring 401/407/415/420/484 in 4xx and received responses over local ones;
503 becomes 500; 401/407 challenges of the other branches are added), or 408 when
nothing was stored — unless the owner wanted a failure_route first.

Timeouts (§16.8): Timer B/F of a branch, or its Timer C before any provisional, count
as a local 408 on the branch. Timer C after a provisional sends a CANCEL and rearms for
64*T1; if it fires again, the branch is given up with a local 408. A transport error
counts as a local 503 (§16.9).

CANCEL (§16.10): the layer hands an upstream CANCEL to the INVITE's transaction, which
answers it 200 through a server transaction of its own and CANCELs each pending branch —
at once if it had a provisional, otherwise when its first provisional comes (§9.1). The
INVITE then gets 487 upstream once its branches have ended (at once when none was
relayed yet); a 2xx that crossed the CANCEL is still forwarded.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.sip import Request, Response, make_ack, make_cancel, new_tag, parse_message
from runtime.sip.message import header_pairs
from runtime.transaction.branches import Branch, ProxyBranch, add_challenges, best_branch
from runtime.transaction.client import (
    ClientNonInviteTransaction,
    ClientTransaction,
    new_client_transaction,
)
from runtime.transaction.effects import (
    Deliver,
    Effect,
    NewRequest,
    Send,
    StartTimer,
    StopTimer,
    StrayResponse,
    TimerId,
    TimerSettings,
    TransactionError,
    TuEvent,
    is_reliable,
)
from runtime.transaction.machine import State
from runtime.transaction.matching import Rfc2543Key, client_key_for, to_tag
from runtime.transaction.server import (
    ServerNonInviteTransaction,
    ServerTransaction,
    new_server_transaction,
)
from runtime.transaction.wire import random_hex, trying_bytes, via_start

if TYPE_CHECKING:
    from runtime.transaction.table import TransactionTable


# the Reason of the CANCELs an upstream CANCEL causes, as OpenSIPS writes it
ORIGINATOR_CANCEL = 'SIP;cause=487;text="ORIGINATOR_CANCEL"'


class Phase(enum.Enum):
    WAITING = "waiting"
    FAILURE = "failure"
    REPLIED = "replied"
    TERMINATED = "terminated"


@dataclass(slots=True, eq=False)
class Failure(Deliver):
    """Every branch ended without a 2xx: run the failure_route.

    The transaction waits: the owner calls `relay()` (serial forking), `reply()`, or
    `forward_best()` to send `best` (or 487 when `cancelled`) upstream.
    """

    transaction: ProxyTransaction
    best: Response
    cancelled: bool


@dataclass(slots=True, eq=False)
class Terminated(Deliver):
    """The transaction is over and gone from the table; drop what is attached to it."""

    transaction: ProxyTransaction


BranchHook = Callable[["ProxyTransaction", ProxyBranch], bool]
# onreply_route: the reply to go on with (the script may have edited it into a new
# object, or changed its status), or None when the route dropped it
ReplyHook = Callable[["ProxyTransaction", ProxyBranch, Response], "Response | None"]


class ProxyTransaction:
    """A response context: the server transaction and its branches. See the module doc."""

    __slots__ = (
        "_id_prefix",
        "_ids",
        "_live",
        "_request",
        "_tag",
        "blocked",
        "branches",
        "cancel_reason",
        "cancel_server",
        "cancelled",
        "extra_headers",
        "final_status",
        "final_to_tag",
        "has_failure_route",
        "is_invite",
        "keys",
        "on_branch",
        "on_reply",
        "owner_done",
        "pass_reason",
        "phase",
        "reply_body",
        "reply_headers",
        "request_to_tag",
        "rfc2543",
        "server",
        "settings",
        "source",
        "table",
        "transport",
        "user_data",
        "wait_left",
        "waiting",
    )

    def __init__(
        self,
        table: TransactionTable,
        request: Request,
        source: Any,
        transport: str,
        settings: TimerSettings,
        key: str,
        rfc2543_key: Rfc2543Key | None = None,
        request_to_tag: str = "",
    ) -> None:
        self.table = table
        self._request: Request | None = request
        self.source = source
        self.transport = transport
        self.settings = settings
        self.is_invite = request.method == "INVITE"
        self.server: ServerTransaction = new_server_transaction(
            key, request, source, transport, settings
        )
        self.cancel_server: ServerNonInviteTransaction | None = None
        self.branches: list[ProxyBranch] = []
        self.phase = Phase.WAITING
        self.cancelled = False  # an upstream CANCEL arrived before the final
        self.blocked = False  # a 6xx arrived: no new branches (§16.7 step 5)
        self.final_status = 0
        self.final_to_tag = ""  # kept for RFC 2543 peers: their ACK carries it
        self.rfc2543 = rfc2543_key is not None
        self.has_failure_route = False  # t_on_failure armed: ask before the final goes
        self.on_branch: BranchHook | None = None
        self.on_reply: ReplyHook | None = None
        # the pipeline's per-transaction state ($avp, flags), dropped once no hook can
        # run any more (a final went upstream and every branch has its own)
        self.user_data: Any = None
        self.request_to_tag = request_to_tag
        # the owner's request route has ended: once settled, the request may go
        self.owner_done = False
        # a tuple of strings: the collector stops tracking it, and it lingers 32 s
        self.keys: tuple[str | Rfc2543Key, ...] = (key,)
        self._live = 1
        self._tag: str | None = None
        # t_add_hdrs: header lines (CRLF included) added to every branch and CANCEL
        self.extra_headers = b""
        self.reply_headers: tuple[str, ...] = ()  # header lines on each reply made here
        self.reply_body: bytes | None = None  # and this body (append_body_to_reply)
        # Reason header values for the CANCELs sent downstream: the script's
        # (t_add_cancel_reason); else, once a CANCEL came from upstream, its own Reason
        # when `pass_reason` (t_relay's pass-reason-hdr), or ORIGINATOR_CANCEL
        self.cancel_reason: tuple[str, ...] = ()
        self.pass_reason = False
        # t_wait_for_new_branches: no final while branches may still be injected
        # (until Timer "W", fr_inv_timeout, or `wait_left` more injections; 0: no limit)
        self.waiting = False
        self.wait_left = 0
        self._id_prefix = ""
        self._ids = 0
        table.opened(self)
        table.add(key, self)
        if rfc2543_key is not None:
            table.add_rfc2543(rfc2543_key, self)
            self.keys += (rfc2543_key,)

    @property
    def request(self) -> Request:
        """The request the transaction was created for (gone once it has settled)."""
        request = self._request
        if request is None:
            raise TransactionError("the transaction has settled: its request is released")
        return request

    # ------------------------------------------------------------------ user actions

    def start(self) -> list[Effect]:
        """The effects of creating the transaction: 100 Trying for an INVITE (§16.2)."""
        out: list[Effect] = []
        if self.is_invite and self.settings.auto_100_trying:
            self._drive(self.server.send_raw(100, trying_bytes(self.request)), out)
        return out

    def new_branch_id(self) -> str:
        """A fresh RFC 3261 branch id for a Via the owner adds itself."""
        if not self._id_prefix:
            # 48 random bits per transaction: a peer that saw one branch cannot guess
            # another's, to forge responses to it (a counter would let it)
            self._id_prefix = "z9hG4bK" + random_hex() + "."
        self._ids += 1
        return self._id_prefix + str(self._ids)

    def relay(self, branches: Iterable[Branch]) -> list[Effect]:
        """Start a client transaction per branch (parallel forking, or serial from FAILURE).

        Each branch goes through the `on_branch` hook first (branch_route), which may
        edit it or drop it by returning False.
        """
        if self.phase is Phase.REPLIED or self.phase is Phase.TERMINATED:
            raise TransactionError("a final response was already sent upstream")
        if self.cancelled:
            raise TransactionError("the transaction was cancelled")
        if self.blocked:
            raise TransactionError("a 6xx response ended the forking")
        # First every branch is prepared (hook, Via, bytes), so that a refusal leaves
        # nothing half started; then they are registered and sent.
        prepared: list[tuple[ProxyBranch, bytes]] = []
        for spec in branches:
            request = spec.request
            if request is self.request and self.on_branch is not None:
                copied = parse_message(request.to_bytes())  # the hook edits its own copy
                assert isinstance(copied, Request)
                request = copied
            index = len(self.branches) + len(prepared)
            branch = ProxyBranch(index, request, spec.destination, spec.transport)
            if self.on_branch is not None and not self.on_branch(self, branch):
                continue
            request = branch.request
            if is_reliable(branch.transport):
                request.ensure_content_length()  # mandatory on streams (§18.3)
            extra = self.extra_headers
            if spec.sent_by is not None:
                branch.branch_id = branch_id = self.new_branch_id()
                # our Via spliced into the bytes as they are copied out: one join
                via = via_start(branch.transport, spec.sent_by)
                wire = request.to_bytes_with_header(
                    b"".join((via, branch_id.encode(), b"\r\n", extra))
                )
            else:
                wire = request.to_bytes_with_header(extra) if extra else request.to_bytes()
                top = request.top_via
                if top is None or top.branch is None:
                    raise TransactionError("a relayed request needs our Via with a branch")
                branch.branch_id = top.branch
            branch.key = client_key_for(branch.branch_id, request.method)
            prepared.append((branch, wire))
        out: list[Effect] = []
        settings = self.settings
        for branch, wire in prepared:
            client = new_client_transaction(
                branch.key, self.request.method, wire, branch.destination, branch.transport,
                settings, timer_m=False,  # Accepted branches end with Timer L upstream
            )  # fmt: skip
            branch.client = client
            branch._request = None  # the wire bytes are the branch from now on
            self.branches.append(branch)
            self.table.add(branch.key, self)
            self.keys += (branch.key,)
            self._live += 1
            out.extend(client.start())
            if self.is_invite:
                out.append(StartTimer((branch.key, "C"), settings.fr_inv_timeout))
        if self.phase is Phase.FAILURE and any(b.status == 0 for b in self.branches):
            self.phase = Phase.WAITING
        return out

    def reply(
        self,
        status: int,
        reason: str | None = None,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[Effect]:
        """Answer upstream from here (t_reply); a final also CANCELs pending branches."""
        if self.phase is Phase.REPLIED or self.phase is Phase.TERMINATED:
            raise TransactionError("a final response was already sent upstream")
        response = self.request.make_response(
            status,
            reason,
            to_tag=self._to_tag(),
            headers=headers,
            body=body,
            content_type=content_type,
        )
        return self.send_response(response)

    def send_response(self, response: Response) -> list[Effect]:
        """Send a response the owner built (provisional, or the final) upstream."""
        if self.phase is Phase.REPLIED or self.phase is Phase.TERMINATED:
            raise TransactionError("a final response was already sent upstream")
        out: list[Effect] = []
        self._send_upstream(response, out)
        if response.status >= 200:
            self._replied(response)
            self._cancel_pending(out)
        self._maybe_end(out)
        return out

    def forward_best(self) -> list[Effect]:
        """After a `Failure`: no new branch, send the best response (487 if cancelled)."""
        if self.phase is not Phase.FAILURE:
            raise TransactionError("no failure is waiting for a decision")
        out: list[Effect] = []
        self._send_best(out)
        self._maybe_end(out)
        return out

    def cancel(self) -> list[Effect]:
        """CANCEL every pending INVITE branch (t_cancel_branch("a")); upstream is not told."""
        out: list[Effect] = []
        self._cancel_pending(out)
        return out

    def best_response(self) -> Response:
        """The response §16.7 would send upstream now ($T_reply_code in a failure_route)."""
        best = best_branch(self.branches)
        if best is None or best.final is None:
            return self.request.make_response(408, to_tag=self._to_tag())
        return best.final

    @property
    def pending_branches(self) -> int:
        return sum(1 for b in self.branches if b.status == 0)

    # ------------------------------------------------------------------ network input

    def receive_request(self, request: Request, source: Any, transport: str) -> list[Effect]:
        """A request that matched this transaction: a retransmission or an ACK."""
        machine = self.cancel_server if request.method == "CANCEL" else self.server
        if machine is None:
            return []
        state = machine.state
        if state is State.ACCEPTED or state is State.TERMINATED:
            if request.method == "ACK":  # the ACK of a 2xx: end to end, not ours
                return [NewRequest(request, source, transport)]
            if self.owner_done:
                self._release_request()  # no route runs now: outside every owner's step
            return []  # a retransmission after our 2xx: absorbed, unanswered (RFC 6026)
        out: list[Effect] = []
        self._drive(machine.receive(request), out)
        self._maybe_end(out)
        return out

    def receive_cancel(
        self,
        cancel: Request,
        source: Any,
        transport: str,
        key: str,
        rfc2543_key: Rfc2543Key | None,
    ) -> list[Effect]:
        """An upstream CANCEL for this INVITE (§16.10): 200 it, then cancel downstream.

        After the final, or for a second, different CANCEL, there is nothing to cancel:
        the 200 goes statelessly and changes nothing. A retransmission of it finds the
        INVITE again and gets the same answer, and no CANCEL transaction keeps an
        answered INVITE (RFC 6026's Accepted: `wt_timer`) for Timer J, 32 s, more.
        """
        out: list[Effect] = []
        ok = cancel.make_response(200, to_tag=self._to_tag())
        if self.cancel_server is not None or self.phase is Phase.REPLIED:
            out.append(Send(ok.to_bytes(), source, transport))
            return out
        machine = ServerNonInviteTransaction(key, cancel, source, transport, self.settings)
        self.cancel_server = machine
        if not self.cancel_reason:  # downstream CANCELs say why upstream cancelled
            passed = tuple(cancel.headers_named("Reason")) if self.pass_reason else ()
            self.cancel_reason = passed or (ORIGINATOR_CANCEL,)
        self.table.add(key, self)
        self.keys += (key,)
        if rfc2543_key is not None:
            self.table.add_rfc2543(rfc2543_key, self)
            self.keys += (rfc2543_key,)
        self._live += 1
        self._drive(machine.send_response(ok), out)
        if self.phase is Phase.WAITING or self.phase is Phase.FAILURE:
            self.cancelled = True
            self.waiting = False  # nothing injected now would be anything but cancelled
            self._cancel_pending(out)
            if self.phase is Phase.WAITING and not self.branches:
                self._send_final(self._local(487), out)
            else:
                self._check_complete(out)
        self._maybe_end(out)
        return out

    def receive_response(self, key: str, response: Response, source: Any) -> list[Effect]:
        """A response whose client key is one of ours."""
        out: list[Effect] = []
        for branch in self.branches:
            if branch.key == key:
                client = branch.client
                assert client is not None
                if client.state is State.TERMINATED:
                    return self._late_response(branch, client, response, source)
                self._drive(client.receive(response), out, branch)
                break
            cancel = branch.cancel
            if cancel is not None and cancel.key == key:
                self._drive(cancel.receive(response), out)  # 200 or 481: nothing to do
                break
        else:
            return [StrayResponse(response, source)]
        self._maybe_end(out)
        if self.owner_done and self.phase is Phase.REPLIED:
            self._release_request()  # no route runs now: outside every owner's step
        return out

    def _late_response(
        self, branch: ProxyBranch, client: ClientTransaction, response: Response, source: Any
    ) -> list[Effect]:
        """A response on a branch whose client transaction has ended, the context alive.

        A 2xx to an INVITE is end to end: it goes on statelessly (the callee repeats it
        until the caller's ACK). Anything else is too late: a branch given up on Timer C
        or B may still answer 487 or 408, which is ACKed here, so the callee stops
        repeating it, and dropped; the caller already has its final.
        """
        status = response.status
        if self.is_invite and 200 <= status < 300:
            return [StrayResponse(response, source)]
        if self.is_invite and status >= 300 and client.wire:  # not after its own 2xx
            ack = make_ack(client.request, response).to_bytes()
            return [Send(ack, branch.destination, branch.transport)]
        return []

    def timer_fired(self, timer_id: TimerId) -> list[Effect]:
        key, name = timer_id
        out: list[Effect] = []
        if key == self.server.key:
            if name == "W":
                if self.waiting:
                    self.stop_waiting(out)
                return out
            self._drive(self.server.timer_fired(name), out)
            if name == "L":
                self._end_accepted_branches(out)
        elif self.cancel_server is not None and key == self.cancel_server.key:
            self._drive(self.cancel_server.timer_fired(name), out)
        else:
            for branch in self.branches:
                if branch.key == key:
                    if name == "C":
                        self._timer_c(branch, out)
                    else:
                        assert branch.client is not None
                        self._drive(branch.client.timer_fired(name), out, branch)
                    break
                if branch.cancel is not None and branch.cancel.key == key:
                    self._drive(branch.cancel.timer_fired(name), out)
                    break
        self._maybe_end(out)
        if self.owner_done and self.phase is Phase.REPLIED:
            self._release_request()  # no route runs now: outside every owner's step
        return out

    def transport_error(self, key: str) -> list[Effect]:
        """Sending for the machine `key` failed (a TCP connection refused, ...)."""
        out: list[Effect] = []
        if key == self.server.key:
            self._drive(self.server.transport_error(), out)
        elif self.cancel_server is not None and key == self.cancel_server.key:
            self._drive(self.cancel_server.transport_error(), out)
        for branch in self.branches:
            if branch.key == key and branch.client is not None:
                self._drive(branch.client.transport_error(), out, branch)
            elif branch.cancel is not None and branch.cancel.key == key:
                self._drive(branch.cancel.transport_error(), out)
        self._maybe_end(out)
        return out

    # ------------------------------------------------------------------ internals

    def _drive(
        self, effects: list[Effect], out: list[Effect], branch: ProxyBranch | None = None
    ) -> None:
        """Pass a machine's wire effects on, then act on what it told its user.

        The machine's own effects go first, so that the ACK of a 486 leaves before the
        486 is relayed upstream, and a timer stop before anything it would race.
        """
        events: list[TuEvent] | None = None  # most steps tell the user nothing: no list
        for effect in effects:
            if type(effect) is TuEvent:
                if events is None:
                    events = [effect]
                else:
                    events.append(effect)
            else:
                out.append(effect)
        if events is None:
            return
        for event in events:
            kind = event.kind
            if kind == "terminated":
                self._live -= 1
            elif branch is not None:
                if kind == "response":
                    assert event.response is not None
                    self._on_branch_response(branch, event.response, out)
                elif kind == "timeout":
                    self._branch_ended(branch, self._local(408), out)
                elif kind == "transport-error":
                    self._branch_ended(branch, self._local(503), out)

    def _on_branch_response(
        self, branch: ProxyBranch, response: Response, out: list[Effect]
    ) -> None:
        keep = True
        if self.on_reply is not None:
            # onreply_route may drop a provisional: it is not relayed, but it did arrive
            edited = self.on_reply(self, branch, response)
            keep = edited is not None
            if edited is not None:
                response = edited  # what the script made of it, status included
        status = response.status
        if status < 200:
            branch.provisional = True
            if self.is_invite:
                if status > 100 and branch.cancel is None:
                    out.append(StartTimer((branch.key, "C"), self.settings.fr_inv_timeout))
                if branch.cancel_wanted:
                    self._send_cancel(branch, out)
            if keep and status > 100 and self.phase is Phase.WAITING:
                response.remove_top_via()
                self._send_upstream(response, out)
            return
        branch.status = status
        if self.phase is not Phase.REPLIED:
            branch.final = response
        if self.is_invite:
            out.append(StopTimer((branch.key, "C")))
        if status < 300:
            self._forward_2xx(response, out)
            client = branch.client
            if (
                client is not None
                and client.state is State.ACCEPTED
                and self.server.state is not State.ACCEPTED
            ):  # no Timer L to end it with (a 2xx after it, or after our non-2xx)
                self._drive(client.abandon(), out)
            return
        if status >= 600:
            self.blocked = True
            self.waiting = False  # no new branch may follow a 6xx (§16.7 step 5)
            self._cancel_pending(out)
        self._check_complete(out)

    def _forward_2xx(self, response: Response, out: list[Effect]) -> None:
        response.remove_top_via()
        if self.phase is not Phase.REPLIED:
            self._send_upstream(response, out)
            self._replied(response)
            self._cancel_pending(out)
        elif self.is_invite:
            # another fork answered, or the callee repeats its 2xx: every 2xx goes up
            # (§16.7 step 10), through the server transaction while it is Accepted
            if self.server.state is State.ACCEPTED:
                self._send_upstream(response, out)
            else:
                out.append(Send(response.to_bytes(), self.source, self.transport))

    def _end_accepted_branches(self, out: list[Effect]) -> None:
        """Timer L: the answered INVITE is over upstream, and so are its Accepted
        branches, which run no Timer M of their own (`relay`)."""
        for branch in self.branches:
            client = branch.client
            if client is not None and client.state is State.ACCEPTED:
                self._drive(client.abandon(), out)

    def _branch_ended(self, branch: ProxyBranch, response: Response, out: list[Effect]) -> None:
        branch.status = response.status
        if self.phase is not Phase.REPLIED:
            branch.final = response
        branch.local = True
        if self.is_invite:
            out.append(StopTimer((branch.key, "C")))
        self._check_complete(out)

    def _timer_c(self, branch: ProxyBranch, out: list[Effect]) -> None:
        if branch.status:
            return
        if branch.provisional and branch.cancel is None:
            self._send_cancel(branch, out)
            return
        # no provisional ever (§16.8: as if 408), or the CANCEL brought no 487 in time
        assert branch.client is not None
        self._drive(branch.client.abandon(), out)
        self._branch_ended(branch, self._local(408), out)

    def _cancel_pending(self, out: list[Effect]) -> None:
        if not self.is_invite:
            return  # a non-INVITE is never CANCELed (§9.1): it ends by itself
        for branch in self.branches:
            if branch.status == 0 and branch.cancel is None:
                if branch.provisional:
                    self._send_cancel(branch, out)
                else:
                    branch.cancel_wanted = True  # sent with the first provisional (§9.1)

    def _send_cancel(self, branch: ProxyBranch, out: list[Effect]) -> None:
        branch.cancel_wanted = False
        key = client_key_for(branch.branch_id, "CANCEL")
        assert branch.client is not None
        cancel = make_cancel(branch.client.request)  # our Via, so the callee matches it
        for reason in self.cancel_reason:
            cancel.add_header("Reason", reason)
        extra = self.extra_headers
        if extra:
            lines = extra.decode("utf-8", "surrogateescape").split("\r\n")
            for name, value in header_pairs(lines):
                cancel.add_header(name, value)
        machine = ClientNonInviteTransaction(
            key, cancel, branch.destination, branch.transport, self.settings
        )
        branch.cancel = machine
        self.table.add(key, self)
        self.keys += (key,)
        self._live += 1
        out.extend(machine.start())
        # the INVITE should end with a 487 now; give up on it after 64*T1 (§9.1)
        out.append(StartTimer((branch.key, "C"), 64 * self.settings.t1))

    # ------------------------------------------------------------------ injected branches

    def wait_for_branches(self, limit: int = 0) -> list[Effect]:
        """t_wait_for_new_branches: no final when every branch has failed, until
        fr_inv_timeout (Timer "W") or `limit` injections (0: no limit); INVITE only."""
        if not self.is_invite:
            raise TransactionError("only an INVITE transaction waits for new branches")
        if self.phase is not Phase.WAITING and self.phase is not Phase.FAILURE:
            raise TransactionError("a final response was already sent upstream")
        self.wait_left = max(0, limit)
        if self.waiting:
            return []
        self.waiting = True
        return [StartTimer((self.server.key, "W"), self.settings.fr_inv_timeout)]

    def inject(self, branches: Iterable[Branch], cancel: bool, last: bool) -> list[Effect]:
        """t_inject_branches: `cancel` the pending branches first, then relay `branches`;
        `last` (or the count given to `wait_for_branches` reached) ends the waiting."""
        if self.phase is Phase.REPLIED or self.phase is Phase.TERMINATED:
            raise TransactionError("a final response was already sent upstream")
        out: list[Effect] = []
        if cancel:
            self._cancel_pending(out)
        before = len(self.branches)
        out.extend(self.relay(branches))
        if len(self.branches) > before and self.waiting and self.wait_left:
            self.wait_left -= 1
            if self.wait_left == 0:
                last = True
        if last and self.waiting:
            self.stop_waiting(out)
        return out

    def stop_waiting(self, out: list[Effect]) -> None:
        """t_wait_no_more_branches, Timer "W" or the last injection: the branches that
        ended decide, as if nothing had waited (408 when none was ever relayed)."""
        self.waiting = False
        self.wait_left = 0
        out.append(StopTimer((self.server.key, "W")))
        if self.phase is not Phase.WAITING:
            return
        if self.branches:
            self._check_complete(out)
        elif self.has_failure_route:
            self.phase = Phase.FAILURE
            out.append(Failure(self, self.best_response(), self.cancelled))
        else:
            self._send_best(out)
        self._maybe_end(out)

    def _check_complete(self, out: list[Effect]) -> None:
        if self.phase is not Phase.WAITING or not self.branches or self.waiting:
            return
        for branch in self.branches:
            if branch.status == 0:
                return
        if self.has_failure_route:
            self.phase = Phase.FAILURE
            out.append(Failure(self, self.best_response(), self.cancelled))
        else:
            self._send_best(out)

    def _send_best(self, out: list[Effect]) -> None:
        if self.cancelled:
            self._send_final(self._local(487), out)
            return
        best = best_branch(self.branches)
        if best is None or best.final is None:
            response = self._local(408)
        elif best.final.status == 503:
            response = self._local(500)
        elif best.local:
            response = self._local(best.final.status)
        else:
            response = best.final
            response.remove_top_via()
            if response.status in (401, 407):
                add_challenges(response, self.branches, best)
        self._send_final(response, out)

    def _send_final(self, response: Response, out: list[Effect]) -> None:
        self._send_upstream(response, out)
        self._replied(response)

    def _replied(self, final: Response) -> None:
        """A final went upstream: the stored responses have served their purpose.

        A context can outlive its final by Timer D (32 s) on a branch; only statuses
        stay, so that a failed call does not hold its messages that long.
        """
        self.phase = Phase.REPLIED
        self.final_status = final.status
        if self.rfc2543:
            self.final_to_tag = to_tag(final)
        for branch in self.branches:
            branch.final = None

    def _send_upstream(self, response: Response, out: list[Effect]) -> None:
        if self.server.reliable:
            response.ensure_content_length()  # mandatory on streams (§18.3)
        self._drive(self.server.send_response(response), out)

    def _local(self, status: int) -> Response:
        return self.request.make_response(
            status,
            to_tag=self._to_tag(),
            headers=header_pairs(self.reply_headers),
            body=self.reply_body or b"",
        )

    def _to_tag(self) -> str:
        if self._tag is None:
            self._tag = new_tag()
        return self._tag

    def _maybe_end(self, out: list[Effect]) -> None:
        if self._live == 0 and self.phase is not Phase.TERMINATED:
            self.phase = Phase.TERMINATED
            self.table.remove(self)
            out.append(Terminated(self))
        elif self.phase is Phase.REPLIED and self.user_data is not None and self._settled():
            # No hook or route can run for it any more; it may wait out Timer J or D
            # (32 s): what the owner hung on it goes now, not then (fewer objects
            # lingering for the garbage collector to walk)
            self.user_data = None
            self.on_branch = self.on_reply = None

    def request_route_done(self) -> None:
        """The owner's request route has ended: nothing of its own reads the request any
        more, so it can go once the transaction has settled (see `_release_request`)."""
        self.owner_done = True

    def _release_request(self) -> None:
        """A settled transaction may wait out Timer J or D (32 s) only to absorb
        retransmissions: its request and what was parsed of it go now (fewer objects
        lingering for the garbage collector to walk). Called only from network and
        timer steps, never inside a route, once the owner's request route has ended."""
        if self._request is not None and self._settled():
            self._request = None
            self.server.release_request()
            self._id_prefix = ""  # no branch is made after the final
            is_invite = self.is_invite
            for branch in self.branches:
                client = branch.client
                # a non-INVITE branch with its final, or an INVITE one that brought a
                # 2xx, never sends its request again, nor derives anything from it (no
                # ACK, no CANCEL; late answers other than a 2xx are dropped); an INVITE
                # one with a 300-699 keeps it, to ACK a late retransmission of it
                if client is not None and (not is_invite or 200 <= branch.status < 300):
                    client.release_wire()
                    branch.branch_id = ""  # its key stays: it names the branch from now on
                    # nothing goes to it any more (the owner's Hop, with its URI strings)
                    branch.destination = client.destination = None

    def _settled(self) -> bool:
        """Every branch has its final: no response will reach a hook any more."""
        return all(branch.status != 0 for branch in self.branches)

    def __repr__(self) -> str:
        return (
            f"<ProxyTransaction {self.server.key} {self.phase.value} {len(self.branches)} branches>"
        )
