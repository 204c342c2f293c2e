"""The stateful half of the pipeline: the transaction layer wired to sockets and routes.

Theory of operation
-------------------
`Stateful` owns one `TransactionLayer` and one `TimerWheel`. The pipeline hands it
each message only while some transaction is live (`table.live`): a stateless script
never creates one and so pays for no lookup. What the layer answers is applied in order
(`apply`): `Send` goes to the transports (upstream answers to the address RFC 3261
§18.2.2 gives, fixed when the transaction is made; branches to their `Hop`), a failed
send is reported back with `transport_error`; timers go on the wheel, which the server
ticks (`tick`); `Failure` runs the failure_route the script armed, `Terminated`
forgets what hung on the transaction.

The script reaches it through `stdlib.tm` (t_relay, t_reply, t_newtran...) and
`signaling.send_reply`. What the script arms before a transaction exists (t_on_failure,
t_on_branch, t_on_reply, $T_fr_timeout) waits in a `TxData` on the context and moves
to the transaction when it is created; the transaction keeps the request route's AVP
store and flags, so branch, reply and failure routes see them, and its append_to_reply
lines, for the replies it makes itself (`keep_reply_headers`).

Branch, reply and failure routes run synchronously, inside the layer's step: their
verdict (drop) and edits decide what is sent next. A route of those kinds that tries
to suspend is an error (logged; the branch or reply goes on as if the route ended).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from runtime.core.ctx import AvpStore, Ctx, Outbound
from runtime.core.nexthop import next_hop, resolve_host
from runtime.core.replies import stateless_to_tag
from runtime.core.script import RouteFn, RouteKind, ScriptDrop, ScriptExit
from runtime.sip import Request, Response, SipParseError, parse_message, split_list
from runtime.sip.message import header_pairs
from runtime.transaction import (
    Branch,
    Effect,
    Failure,
    NewRequest,
    Phase,
    ProxyBranch,
    ProxyTransaction,
    Send,
    StartTimer,
    StopTimer,
    StrayCancel,
    StrayResponse,
    Terminated,
    TimerSettings,
    TimerWheel,
    TransactionError,
    TransactionLayer,
)
from runtime.transaction.wire import response_bytes
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source

if TYPE_CHECKING:
    from runtime.core.pipeline import Pipeline

log = logging.getLogger("sipc.tm")

# OpenSIPS tm defaults: fr_timeout 30 s, fr_inv_timeout 120 s, wt_timer 5 s (how long
# an answered INVITE stays Accepted to absorb retransmissions, instead of RFC 6026's
# 32 s: see TimerSettings). A CANCEL that matches no INVITE goes to the script
# (t_check_trans says -1), as in OpenSIPS.
DEFAULT_TM_SETTINGS = TimerSettings(
    fr_timeout=30.0, fr_inv_timeout=120.0, answer_unknown_cancel=False, wt_timer=5.0
)
TICK = 0.02  # seconds between two wheel ticks, and the wheel's resolution

# t_relay's error codes (functions.md)
RELAY_INTERNAL = -1
RELAY_BAD_MESSAGE = -2
RELAY_NO_DESTINATION = -3
RELAY_BAD_DESTINATION = -4
RELAY_SEND_FAILED = -6


_NO_FLAGS: set[str] = set()  # never changed: a branch with flags gets a set of its own


class Hop:
    """Where one branch goes, and the target the script gave for it ($ru, $du)."""

    __slots__ = ("bflags", "du", "ip", "port", "proto", "socket", "uri")

    def __init__(
        self, proto: str, ip: str, port: int, socket: SocketInfo, uri: str, du: str | None
    ) -> None:
        self.proto = proto
        self.ip = ip
        self.port = port
        self.socket = socket
        self.uri = uri
        self.du = du
        self.bflags: set[str] = _NO_FLAGS  # the branch's flags (setbflag), shared when none

    def __repr__(self) -> str:
        return f"Hop({self.proto}:{self.ip}:{self.port} for {self.uri})"


class Upstream:
    """Where the answers of a UDP transaction go (§18.2.2: received/rport, else sent-by)."""

    __slots__ = ("ip", "port", "socket")

    def __init__(self, ip: str, port: int, socket: SocketInfo) -> None:
        self.ip = ip
        self.port = port
        self.socket = socket


class TxData:
    """What the script attached to a transaction: routes armed, AVPs, flags, timers."""

    __slots__ = (
        "avp",
        "branch_avps",
        "branch_replies",
        "cancel_reason",
        "failure_reply",
        "flags",
        "fr_inv_timeout",
        "fr_timeout",
        "on_branch",
        "on_failure",
        "on_reply",
        "socket",
        "source",
        "suspended",
    )

    def __init__(self, avp: AvpStore | None = None, flags: set[str] | None = None) -> None:
        self.on_failure: str | None = None
        self.on_reply: str | None = None
        self.on_branch: str | None = None
        self.fr_timeout: float | None = None
        self.fr_inv_timeout: float | None = None
        self.avp = avp if avp is not None else AvpStore()
        self.flags: set[str] = flags if flags is not None else set()
        # made on first use: most transactions never have per-branch AVPs or reply routes
        self.branch_avps: dict[int, AvpStore] | None = None
        self.branch_replies: dict[int, str] | None = None  # t_on_reply from a branch_route
        self.failure_reply: Response | None = None  # the winning reply, in failure_route
        self.socket: SocketInfo | None = None
        self.source: Source | None = None
        self.suspended = False  # the request route went on as a task
        self.cancel_reason: str | None = None  # t_add_cancel_reason before the relay


def tx_data(ctx: Ctx) -> TxData:
    """The context's `TxData`, made on first use (t_on_failure before any transaction)."""
    data = ctx.tx_data
    if data is None:
        data = ctx.tx_data = TxData()
    assert isinstance(data, TxData)
    return data


class Stateful:
    """Transactions for one pipeline: the layer, the timer wheel, the tm route hooks."""

    __slots__ = (
        "_reply_source",
        "asleep",
        "clock",
        "configured",
        "layer",
        "pipeline",
        "table",
        "wake",
        "wheel",
    )

    def __init__(
        self,
        pipeline: Pipeline,
        clock: Callable[[], float] = time.monotonic,
        settings: TimerSettings = DEFAULT_TM_SETTINGS,
    ) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self.layer = TransactionLayer(settings)
        self.table = self.layer.table
        self.wheel = TimerWheel(TICK, clock())
        self.asleep = False
        """Set by the server when the wheel is empty and nothing ticks it: arming a timer
        then calls `wake` (an idle proxy does not wake up `1/TICK` times a second)."""
        self.wake: Callable[[], None] | None = None
        self.configured = False  # stdlib.tm applies the modparams once
        self._reply_source: Source | None = None

    def configure(self, settings: TimerSettings) -> None:
        """Timer values for the transactions created from now on (tm's modparams)."""
        self.layer.settings = replace(settings, answer_unknown_cancel=False)
        self.configured = True

    # ------------------------------------------------------------------ input

    def receive_request(self, msg: Request, source: Source) -> bool:
        """True when the layer took the request (retransmission, absorbed ACK, CANCEL)."""
        layer = self.layer
        transaction = layer.find(msg)
        if transaction is None:
            if msg.method != "CANCEL":
                return False  # a new request, for the main route: nothing made for it
            effects = layer.receive(msg, source, source.socket.proto)
            if len(effects) == 1 and type(effects[0]) is StrayCancel:
                return False  # for the main route, as if statelessly received
        else:
            effects = transaction.receive_request(msg, source, source.socket.proto)
            if len(effects) == 1 and type(effects[0]) is NewRequest:
                return False  # the ACK of a 2xx: end to end, for the main route
        self.apply(effects)
        return True

    def receive_response(self, msg: Response, source: Source) -> bool:
        """True when the response belonged to a transaction (False: forward statelessly)."""
        self._reply_source = source  # the reply routes run inside the layer's step
        try:
            effects = self.layer.receive_response(msg, source)  # a response: no type test
            if len(effects) == 1 and type(effects[0]) is StrayResponse:
                return False
            self.apply(effects)
        finally:
            self._reply_source = None
        return True

    def tick(self) -> None:
        """Fire the timers that are due (the server calls this every `TICK` seconds)."""
        wheel = self.wheel
        expired = wheel.expired(self.clock())
        for timer_id in expired:
            assert isinstance(timer_id, tuple)
            self.apply(self.layer.timer_fired(timer_id))

    # ------------------------------------------------------------------ effects

    def apply(self, effects: list[Effect]) -> None:
        """Carry out what the layer asked for, in order (the commonest kinds first)."""
        now = -1.0
        for effect in effects:
            # exact types, commonest first: one `is` per kind, no isinstance chain
            if type(effect) is Send:
                if not self._send(effect.destination, effect.data) and effect.key:
                    self.apply(self.layer.transport_error(effect.key))
            elif type(effect) is StartTimer:
                if now < 0:
                    now = self.clock()
                self.wheel.schedule(effect.id, now + effect.delay)
                if self.asleep:
                    self.asleep = False
                    if self.wake is not None:
                        self.wake()
            elif type(effect) is StopTimer:
                self.wheel.cancel(effect.id)
            elif type(effect) is Terminated:
                transaction = effect.transaction
                transaction.user_data = None  # AVPs, flags, armed routes
                transaction.on_branch = transaction.on_reply = None
            elif type(effect) is Failure:
                self._on_failure(effect)
            elif type(effect) is StrayResponse:
                self._stray_response(effect.response, effect.source)
            elif type(effect) is NewRequest or type(effect) is StrayCancel:
                self._main_route(effect.request, effect.source)

    def _send(self, destination: Any, data: bytes) -> bool:
        sender = self.pipeline.sender
        if sender is None:
            return False
        kind = type(destination)
        if kind is Hop or kind is Upstream:
            return sender.send(
                destination.socket.proto, destination.ip, destination.port, data,
                destination.socket,
            )  # fmt: skip
        if isinstance(destination, Source):
            return sender.reply(destination, data)
        log.error("no way to send to %r", destination)
        return False

    def _stray_response(self, response: Response, source: Source) -> None:
        pipeline = self.pipeline
        onreply = pipeline.routes.onreply
        if onreply is None:
            pipeline._forward_reply(response)
            return
        ctx = Ctx(response, source.socket, source.ip, source.port, pipeline,
                  RouteKind.ONREPLY, source=source)  # fmt: skip
        pipeline.run_route(onreply, ctx, then=lambda: pipeline._forward_reply(response))

    def _main_route(self, request: Request, source: Source) -> None:
        main = self.pipeline.routes.main
        if main is not None:
            ctx = Ctx(request, source.socket, source.ip, source.port, self.pipeline, source=source)
            self.pipeline.run_route(main, ctx)

    # ------------------------------------------------------------------ creation

    def create(self, ctx: Ctx) -> ProxyTransaction | None:
        """The transaction of the context's request, created now; None when the request
        cannot have one (an ACK, a reply) or already has one (a retransmission)."""
        msg = ctx.msg
        if ctx.tx is not None:
            tx: ProxyTransaction = ctx.tx
            return tx
        if not isinstance(msg, Request) or msg.method == "ACK":
            return None
        source = ctx.source
        data = ctx.tx_data
        if data is None:  # nothing armed before: made with the context's own stores
            data = ctx.tx_data = TxData(ctx.avp, ctx.flags)
        settings = self._settings(data)
        try:
            tx, effects = self.layer.create(
                msg, self._upstream(msg, source), source.socket.proto, settings
            )
        except (TransactionError, SipParseError):
            return None
        data.avp = ctx.avp
        data.flags = ctx.flags
        data.socket = ctx.socket
        data.source = source
        tx.user_data = data
        ctx.tx = tx
        keep_reply_headers(tx, ctx)
        self.apply(effects)
        return tx

    def _settings(self, data: TxData) -> TimerSettings | None:
        if data.fr_timeout is None and data.fr_inv_timeout is None:
            return None  # the layer's
        settings = self.layer.settings
        return replace(
            settings,
            fr_timeout=data.fr_timeout if data.fr_timeout is not None else settings.fr_timeout,
            fr_inv_timeout=(
                data.fr_inv_timeout if data.fr_inv_timeout is not None else settings.fr_inv_timeout
            ),
        )

    @staticmethod
    def _upstream(msg: Request, source: Source) -> Source | Upstream:
        if source.connection is not None:
            return source  # back on the connection while it is open
        top = msg.top_via
        if top is None:
            return source
        host = top.received or top.host
        # the pipeline stamps `received` with the source IP: no address to parse then
        ip = source.ip if host == source.ip else (resolve_host(host) or source.ip)
        port = top.rport or top.port or 5060
        return Upstream(ip, port, source.socket)

    def before_suspend(self, ctx: Ctx) -> None:
        """A request route is about to wait: its transaction absorbs retransmissions
        and lets a CANCEL find it in the meantime (DESIGN.md "Suspension")."""
        msg = ctx.msg
        if isinstance(msg, Request) and msg.method != "ACK":
            tx = self.create(ctx)
            if tx is not None:
                tx_data(ctx).suspended = True

    def request_route_ended(self, ctx: Ctx, resumed: bool = False) -> None:
        """After a request route (`resumed`: one that suspended, now finished): a
        transaction it made and left without a branch or a final is released, as
        OpenSIPS does (nothing is sent)."""
        tx = ctx.tx
        if tx is None:
            return
        data = ctx.tx_data
        if isinstance(data, TxData):
            keep_reply_headers(tx, ctx)  # OpenSIPS updates its copy of the request
        if not resumed and isinstance(data, TxData) and data.suspended:
            return  # still running, as a task
        tx.request_route_done()
        if tx.phase is not Phase.WAITING or tx.branches or tx.waiting:
            return  # a transaction waiting for injected branches stays (fr_inv_timeout)
        if tx.server.final_sent:
            return
        log.debug("script left transaction %s without a reply or a branch", tx.server.key)
        self.table.remove(tx)
        tx.phase = Phase.TERMINATED
        tx.user_data = None

    # ------------------------------------------------------------------ relay

    def relay(self, ctx: Ctx, outbound_proxy: str | None = None) -> int:
        """t_relay: one branch per target ($du or the R-URI, then each appended branch)."""
        msg = ctx.msg
        if not isinstance(msg, Request):
            return RELAY_BAD_MESSAGE
        if msg.method == "ACK":  # never a transaction: hop by hop or end to end, stateless
            return 1 if self.pipeline.forward(ctx, None) > 0 else RELAY_SEND_FAILED
        tx: ProxyTransaction | None = ctx.tx
        if tx is None:
            if ctx.kind is not RouteKind.REQUEST and not ctx.kind & RouteKind.REQUEST:
                return RELAY_INTERNAL
            tx = self.create(ctx)
            if tx is None:
                return 1  # a retransmission, absorbed
        if not ctx.maxfwd_done:
            hops = msg.max_forwards
            if hops is None:
                msg.add_header("Max-Forwards", "70")
            elif hops == 0:
                return RELAY_BAD_MESSAGE
            else:
                msg.set_max_forwards(hops - 1)
            ctx.maxfwd_done = True
        first = ctx.ruri
        if first is None:
            return RELAY_NO_DESTINATION
        specs: list[Branch] = []
        outbound = ctx.outbound  # set_advertised_*, add_local_rport: our Via says so
        hop = self._hop(ctx, first, ctx.du or outbound_proxy)
        if hop is not None:
            if ctx.bflags:
                hop.bflags = set(ctx.bflags)
            sent_by = hop.socket.hostport if outbound is None else _sent_by(outbound, hop)
            specs.append(Branch(msg, hop, hop.proto, sent_by))
        for appended in ctx.branches:  # usually none: no list of targets built
            uri = appended.uri
            hop = self._hop(ctx, uri, appended.du)
            if hop is None:
                continue
            if appended.bflags:
                hop.bflags = set(appended.bflags)
            request = _for_branch(msg, uri, appended.path)
            if request is not None:
                sent_by = hop.socket.hostport if outbound is None else _sent_by(outbound, hop)
                specs.append(Branch(request, hop, hop.proto, sent_by))
        if not specs:
            return RELAY_BAD_DESTINATION
        data = tx.user_data
        if not isinstance(data, TxData):
            return RELAY_INTERNAL
        if ctx.kind & RouteKind.REQUEST:  # a failure_route's lines are its own
            keep_reply_headers(tx, ctx)
        self.arm(tx)
        before = len(tx.branches)
        try:
            effects = tx.relay(specs)
        except TransactionError as exc:
            log.info("t_relay refused: %s", exc)
            return RELAY_INTERNAL
        data.on_branch = None  # t_on_branch arms the next t_relay only
        ctx.branches.clear()
        ctx.sent = True
        self.apply(effects)
        return 1 if len(tx.branches) > before else RELAY_INTERNAL

    def arm(self, tx: ProxyTransaction) -> None:
        """Hook the routes the script armed (t_on_*) onto the transaction."""
        data = tx.user_data
        if not isinstance(data, TxData):
            return
        routes = self.pipeline.routes
        if data.cancel_reason is not None:
            tx.cancel_reason = (data.cancel_reason,)
        tx.has_failure_route = data.on_failure is not None
        tx.on_branch = self._branch_hook if data.on_branch is not None else None
        wants_reply = routes.onreply is not None or data.on_reply is not None
        tx.on_reply = self._reply_hook if wants_reply else None

    def _hop(self, ctx: Ctx, uri: str, du: str | None) -> Hop | None:
        target = du or uri
        hop = next_hop(target)
        if hop is None:
            log.warning("t_relay: no address for %r", target)
            return None
        pipeline = self.pipeline
        socket = pipeline._socket_for(hop.proto, hop.ip, ctx)
        proto = hop.proto
        if socket is None and not hop.explicit_proto:
            proto = ctx.socket.proto
            socket = pipeline._socket_for(proto, hop.ip, ctx)
        if socket is None:
            log.warning("t_relay: no %s socket to reach %s", proto, hop.ip)
            return None
        if pipeline.is_myself(hop.ip, hop.port):
            log.warning("t_relay: not relaying to ourselves (%s:%d)", hop.ip, hop.port)
            return None
        return Hop(proto, hop.ip, hop.port, socket, uri, du)

    # ------------------------------------------------------------------ replies

    def reply(
        self, ctx: Ctx, code: int, reason: str, headers: Sequence[str] = (), body: bytes = b""
    ) -> int:
        """A stateful reply; 0 when the transaction had to be made and the request
        turned out to be a retransmission, -1 on error."""
        msg = ctx.msg
        if not isinstance(msg, Request) or msg.method == "ACK" or not 100 <= code <= 699:
            return -1
        tx: ProxyTransaction | None = ctx.tx
        if tx is None:
            tx = self.create(ctx)
            if tx is None:
                return 0
        pairs = header_pairs([*ctx.reply_headers, *headers])
        try:
            # append_body_to_reply() gives the body of a reply that brings none of its own
            reply_body = body or ctx.reply_body or b""
            effects = tx.reply(code, reason or None, headers=pairs, body=reply_body)
        except (TransactionError, SipParseError, ValueError) as exc:
            log.info("cannot reply %d statefully: %s", code, exc)
            return -1
        ctx.sent = True
        self.apply(effects)
        return 1

    def reply_on_wire(
        self, ctx: Ctx, code: int, reason: str, headers: Sequence[tuple[str, str]] = ()
    ) -> int:
        """A stateless reply that only goes on the wire, as `Pipeline.send_reply` sends it
        (the same bytes, to the same address: §18.2.2), written as bytes at once
        (`wire.response_bytes`) instead of built as a message and parsed again.

        For a caller's own, well-formed header lines (the registrar's 200): a run that
        queued headers with append_to_reply(), or an ACK, goes through `ctx.send_reply`.
        """
        msg = ctx.msg
        sender = self.pipeline.sender
        if (
            ctx.reply_headers
            or ctx.reply_body is not None
            or sender is None
            or not isinstance(msg, Request)
            or msg.method == "ACK"
        ):
            return ctx.send_reply(code, reason, [f"{name}: {value}" for name, value in headers])
        try:
            data = response_bytes(msg, code, reason, stateless_to_tag(msg), headers)
        except (SipParseError, ValueError) as exc:
            log.warning("cannot build a %d reply: %s", code, exc)
            return -1
        ctx.sent = True
        source = ctx.source
        if source.connection is not None and not source.connection.closed:
            return 1 if sender.reply(source, data) else -1
        top = msg.top_via
        if top is None:
            return 1 if sender.reply(source, data) else -1
        host = top.received or top.host
        ip = source.ip if host == source.ip else (resolve_host(host) or source.ip)
        port = top.rport or top.port or 5060
        return 1 if sender.send(source.socket.proto, ip, port, data, source.socket) else -1

    # ------------------------------------------------------------------ route hooks

    def _route_ctx(self, tx: ProxyTransaction, msg: Request | Response, kind: RouteKind) -> Ctx:
        data = tx.user_data
        assert isinstance(data, TxData) and data.source is not None and data.socket is not None
        source = data.source
        if kind is RouteKind.ONREPLY and self._reply_source is not None:
            source = self._reply_source
        ctx = Ctx(msg, source.socket, source.ip, source.port, self.pipeline, kind, source=source)
        if kind is not RouteKind.ONREPLY or onreply_sees_avps():
            ctx.avp = data.avp
        ctx.flags = data.flags
        ctx.tx = tx
        ctx.tx_data = data
        ctx.maxfwd_done = True  # the request route did it, once for every branch
        if kind is RouteKind.FAILURE:  # t_reply there sends them
            ctx.reply_headers = list(tx.reply_headers)
            ctx.reply_body = tx.reply_body
        return ctx

    def _branch_hook(self, tx: ProxyTransaction, branch: ProxyBranch) -> bool:
        data = tx.user_data
        fn = self.pipeline.routes.branch.get(data.on_branch or "") if data else None
        if fn is None:
            return True
        hop = branch.destination
        assert isinstance(hop, Hop)
        request = branch.request
        ctx = self._route_ctx(tx, request, RouteKind.BRANCH)
        ctx.tx_branch = branch
        ctx.du = hop.du
        ctx.bflags = set(hop.bflags)
        assert isinstance(data, TxData)
        reply_route = data.on_reply
        keep = self.run_now(fn, ctx)
        armed, data.on_reply = data.on_reply, reply_route  # armed here: this branch only
        if not keep:  # drop: this branch is not sent; its index goes to the next one
            if data.branch_avps is not None:
                data.branch_avps.pop(branch.index, None)
            return False
        if armed != reply_route and armed is not None:
            if data.branch_replies is None:
                data.branch_replies = {}
            data.branch_replies[branch.index] = armed
        if ctx.msg is not request:  # the route rewrote the whole message
            assert isinstance(ctx.msg, Request)
            branch._request = ctx.msg
        uri = ctx.ruri or hop.uri
        if ctx.du != hop.du or uri != hop.uri:
            moved = self._hop(ctx, uri, ctx.du)
            if moved is None:
                return False
            branch.destination = hop = moved
            branch.transport = moved.proto
        if ctx.bflags != hop.bflags:  # setbflag/resetbflag in the branch route
            hop.bflags = set(ctx.bflags)
        return True

    def _reply_hook(
        self, tx: ProxyTransaction, branch: ProxyBranch, reply: Response
    ) -> Response | None:
        data = tx.user_data
        if not isinstance(data, TxData):
            return reply
        routes = self.pipeline.routes
        ctx = self._route_ctx(tx, reply, RouteKind.ONREPLY)
        ctx.tx_branch = branch
        if isinstance(branch.destination, Hop) and branch.destination.bflags:
            ctx.bflags = set(branch.destination.bflags)
        keep = True
        if routes.onreply is not None:
            keep = self.run_now(routes.onreply, ctx)
        replies = data.branch_replies
        name = data.on_reply if replies is None else replies.get(branch.index, data.on_reply)
        if keep and name is not None:
            fn = routes.onreply_named.get(name)
            if fn is not None:
                keep = self.run_now(fn, ctx)
        if not keep:
            return None
        edited = ctx.msg  # append_hf/remove_hf and the like commit a new message
        return edited if isinstance(edited, Response) else reply

    def _on_failure(self, failure: Failure) -> None:
        tx = failure.transaction
        data = tx.user_data
        name = data.on_failure if isinstance(data, TxData) else None
        fn = self.pipeline.routes.failure.get(name) if name is not None else None
        if fn is None or not isinstance(data, TxData):
            if tx.phase is Phase.FAILURE:
                self.apply(tx.forward_best())
            return
        data.on_failure = None  # a failure_route runs once; it may arm the next one
        tx.has_failure_route = False
        winner = next((b for b in tx.branches if b.final is failure.best), None)
        if winner is None and tx.branches:
            winner = tx.branches[-1]
        ctx = self._route_ctx(tx, tx.request, RouteKind.FAILURE)
        ctx.tx_branch = winner
        hop = winner.destination if winner is not None else None
        if isinstance(hop, Hop):
            if hop.uri != ctx.ruri:
                ctx.ruri = hop.uri
            ctx.du = hop.du
            ctx.bflags = set(hop.bflags)  # the winning branch's flags
        data.failure_reply = failure.best
        try:
            self.run_now(fn, ctx)
        finally:
            data.failure_reply = None
        if tx.phase is Phase.FAILURE:  # no new branch, no reply: the best one goes up
            self.apply(tx.forward_best())

    def run_now(self, fn: RouteFn, ctx: Ctx) -> bool:
        """Run a route to its end, here and now; False when it ended in `drop`."""
        try:
            result = fn(ctx)
            if not isinstance(result, int):
                return self._finish(result, ctx)
            ctx.rc = result
        except ScriptDrop:
            return False
        except ScriptExit:
            pass
        except Exception as exc:
            self._failed(exc, ctx)
        return True

    def _finish(self, coro: Coroutine[Any, Any, int], ctx: Ctx) -> bool:
        try:
            coro.send(None)
        except StopIteration as stop:
            ctx.rc = int(stop.value)
            return True
        except ScriptDrop:
            return False
        except ScriptExit:
            return True
        except Exception as exc:
            self._failed(exc, ctx)
            return True
        coro.close()
        log.error("a %s route cannot wait for anything: it was stopped", ctx.kind.name)
        return True

    def _failed(self, exc: Exception, ctx: Ctx) -> None:
        from runtime.core.pipeline import script_lines

        self.pipeline.stats.script_errors += 1
        for note in script_lines(exc.__traceback__):
            exc.add_note(note)
        log.error("script error in %s route: %r", ctx.kind.name, exc, exc_info=exc)

    # ------------------------------------------------------------------ queries

    def check_trans(self, ctx: Ctx) -> int:
        """t_check_trans: 1 belongs to one (a CANCEL: its INVITE exists), -1 not,
        -2 an end-to-end ACK, 0 a retransmission (its last reply is sent again)."""
        msg = ctx.msg
        if not isinstance(msg, Request):
            return -1
        if msg.method == "CANCEL":
            return 1 if self.layer.find_invite(msg) is not None else -1
        if ctx.tx is not None:
            return 1
        if not self.table.live:
            return -1  # nothing to belong to (a registrar's REGISTERs): no key is built
        tx = self.layer.find(msg)
        if tx is None:
            return -1
        if msg.method == "ACK":
            return -2 if 200 <= tx.final_status < 300 else 1
        self.apply(tx.receive_request(msg, ctx.source, ctx.socket.proto))
        return 0


_ONREPLY_AVPS: list[bool] = [False]


def onreply_sees_avps() -> bool:
    """tm's onreply_avp_mode: whether onreply routes see the transaction's AVPs."""
    return _ONREPLY_AVPS[0]


def set_onreply_avp_mode(visible: bool) -> None:
    _ONREPLY_AVPS[0] = visible


def keep_reply_headers(tx: ProxyTransaction, ctx: Ctx) -> None:
    """The request route's append_to_reply lines and append_body_to_reply body, on every
    reply the transaction makes itself from now on (the 408 of a timeout, the 487 after
    a CANCEL, the 500 for a 503) and in its failure_route, as OpenSIPS keeps them with
    its copy of the request."""
    tx.reply_headers = tuple(ctx.reply_headers)
    tx.reply_body = ctx.reply_body


def _for_branch(msg: Request, uri: str, path: str | None) -> Request | None:
    """A copy of `msg` for another branch: sent to `uri`, with a Route set of its own,
    its `path` (RFC 3327) — not the Route headers lookup() put on the message for the
    first binding's path. An initial request being forked has no other Route set."""
    try:
        copy = parse_message(msg.to_bytes())
    except SipParseError:
        return None
    assert isinstance(copy, Request)
    copy.set_ruri(uri)
    copy.remove_header("Route")
    if path:
        for hop in reversed(split_list(path)):
            copy.add_header("Route", hop[1].strip(), at_top=True)
    return copy


def _sent_by(outbound: Outbound, hop: Hop) -> str:
    """Our Via's sent-by as set_advertised_address/_port say, with add_local_rport's
    `rport` (the layer writes `;branch=` right after it)."""
    sent_by = outbound.hostport(hop.socket)
    return f"{sent_by};rport" if outbound.local_rport else sent_by
