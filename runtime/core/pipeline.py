"""The request and reply pipeline: the only place that calls compiled routes.

Request: structural parse -> sanity (`sanity.py`: what a proxy must reject, with a 400) ->
`received`/`rport` on the top Via (RFC 3261 §18.2.1, RFC 3581) -> the main route. The
script sends (`forward()`, `send_reply()`) or the request is dropped when the route ends.

Reply: parse -> sanity -> the global onreply route, if any -> stateless forward by Via:
our Via comes off, the reply goes to the next Via's received/rport or sent-by.

Routes are plain functions called directly. A route compiled to `async def` returns a
coroutine; it is driven by hand with `send(None)` and becomes a task only if it really
suspends (DESIGN.md "The hot path"): no task and no timer per message otherwise.
`ScriptExit` ends a run cleanly; any other exception is logged, with the script line
when the route module carries a `__sipc_linemap__`, and counted. Nothing escapes.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable, Coroutine, Generator, Sequence
from types import TracebackType
from typing import Any, Protocol

from runtime.core.ctx import Ctx
from runtime.core.log import current_message
from runtime.core.nexthop import next_hop, resolve_host
from runtime.core.replies import salvage_bad_request, stateless_branch, stateless_to_tag
from runtime.core.sanity import check_message
from runtime.core.script import RouteFn, RouteKind, RouteTable, ScriptDrop, ScriptExit
from runtime.core.stateful import Stateful
from runtime.sip import Request, Response, SipParseError, Via, parse_message
from runtime.sip.message import header_pairs
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source
from runtime.transport.stats import TransportStats

log = logging.getLogger("sipc.core")

DEFAULT_MAX_FORWARDS = 70


class Sender(Protocol):
    """What the pipeline needs from the transport layer (`transport.layer.Transports`)."""

    sockets: list[SocketInfo]

    def send(
        self, proto: str, ip: str, port: int, data: bytes, via: SocketInfo | None = None
    ) -> bool: ...

    def reply(self, source: Source, data: bytes) -> bool: ...


class _Continue:
    """Awaitable that finishes driving a coroutine route which suspended on `pending`.

    The coroutine already yielded `pending` to us; a task awaiting this object yields it
    on to the event loop and then keeps passing values and exceptions through.
    """

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Coroutine[Any, Any, int], pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Generator[Any, Any, int]:
        coro = self.coro
        pending = self.pending
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # cancellation and the like go to the route
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return int(stop.value)
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return int(stop.value)


class Pipeline:
    """Receives every message from the transports and runs the script over it."""

    __slots__ = (
        "_myself",
        "_tasks",
        "_via_starts",
        "aliases",
        "routes",
        "sender",
        "stateful",
        "stats",
    )

    def __init__(self, routes: RouteTable, stats: TransportStats | None = None) -> None:
        self.routes = routes
        self.stats = stats if stats is not None else TransportStats()
        self.sender: Sender | None = None
        self.aliases: list[tuple[str, int | None]] = []
        self._myself: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # transactions (tm): consulted only while one is live
        self.stateful = Stateful(self)
        # (proto, socket ip, socket port) -> the start of our Via line up to the branch
        self._via_starts: dict[tuple[str, str, int], bytes] = {}

    def attach(self, sender: Sender) -> None:
        """Use `sender` for output; call once its sockets are bound."""
        self.sender = sender
        self._myself = {(info.ip, info.port) for info in sender.sockets}

    # ------------------------------------------------------------------ receive

    def receive(self, data: bytes, source: Source) -> None:
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            self._reject_malformed(data, source, exc)
            return
        try:
            check_message(msg, datagram=source.connection is None)
        except SipParseError as exc:
            self._reject_malformed(data, source, exc, msg)
            return
        current_message.set(msg)
        if isinstance(msg, Request):
            self.stats.requests += 1
            self._on_request(msg, source)
        else:
            self.stats.replies += 1
            self._on_reply(msg, source)

    def _reject_malformed(
        self,
        data: bytes,
        source: Source,
        error: SipParseError,
        msg: Request | Response | None = None,
    ) -> None:
        self.stats.malformed += 1
        log.debug("malformed message from %s:%d: %s", source.ip, source.port, error.reason)
        if isinstance(msg, Request) and msg.method != "ACK":
            try:
                answer: bytes | None = msg.make_response(400, "Bad Request").to_bytes()
            except (SipParseError, ValueError):
                answer = salvage_bad_request(data)
        elif msg is None:
            answer = salvage_bad_request(data)
        else:
            answer = None
        # to the source address: a broken Via is no guide (RFC 3581 behaviour)
        if answer is not None and self.sender is not None and self.sender.reply(source, answer):
            self.stats.malformed_answered += 1

    def _on_request(self, msg: Request, source: Source) -> None:
        top = msg.top_via
        if top is not None:
            self._stamp_via(msg, top, source)
        if self.stateful.table.live and self.stateful.receive_request(msg, source):
            return  # a retransmission, an ACK or a CANCEL its transaction took
        main = self.routes.main
        if main is None:
            return
        ctx = Ctx(msg, source.socket, source.ip, source.port, self, source=source)
        self.run_route(main, ctx)
        if ctx.tx is not None:
            self.stateful.request_route_ended(ctx)

    @staticmethod
    def _stamp_via(msg: Request, top: Via, source: Source) -> None:
        """Add `received` (§18.2.1) and fill `rport` (RFC 3581) on the top Via.

        Over a stream `rport` is always filled: the reply must find the connection the
        request came on, and connections are known by the peer's address and port.
        """
        # one pass over the params: the first rport says whether the peer asked for it
        params = []
        has_rport = empty_rport = False
        for key, value in top.params:
            lowered = key.lower()
            if lowered in _STAMPED:
                if lowered == "rport" and not has_rport:
                    has_rport, empty_rport = True, value is None
                continue
            params.append((key, value))
        wants_rport = empty_rport or source.connection is not None
        host = top.host[1:-1] if top.host.startswith("[") else top.host
        if host == source.ip and not wants_rport:
            return
        params.append(("received", source.ip))
        if wants_rport or has_rport:
            params.append(("rport", str(source.port)))
        # replaced in place and kept parsed: forward() reads its branch again
        msg.replace_top_via(Via(top.protocol, top.transport, top.host, top.port, tuple(params)))

    def _on_reply(self, msg: Response, source: Source) -> None:
        top = msg.top_via
        if top is None:
            self.stats.dropped += 1
            return
        # a transaction's reply is known by its branch id, whatever host our Via named
        # (set_advertised_address)
        if self.stateful.table.live and self.stateful.receive_response(msg, source):
            return  # it belonged to a transaction
        if not self.is_myself(top.host, top.port):
            self.stats.dropped += 1
            return
        onreply = self.routes.onreply
        if onreply is None:
            self._forward_reply(msg)
            return
        ctx = Ctx(
            msg, source.socket, source.ip, source.port, self, RouteKind.ONREPLY, source=source
        )
        # what the route made of the reply (edits commit a new message) is what goes on
        self.run_route(onreply, ctx, then=lambda: self._forward_reply(_reply_of(ctx, msg)))

    def _forward_reply(self, msg: Response) -> None:
        msg.remove_top_via()
        try:
            upstream = msg.top_via
        except SipParseError:
            upstream = None
        if upstream is None or self.sender is None:
            self.stats.dropped += 1  # a reply to a request we sent ourselves
            return
        proto = upstream.transport.lower()
        host = upstream.received or upstream.host
        port = upstream.rport or upstream.port or (5061 if proto == "tls" else 5060)
        ip = resolve_host(host)
        if ip is None:
            self.stats.send_errors += 1
            return
        if proto != "udp":
            msg.ensure_content_length()
        self.sender.send(proto, ip, port, msg.to_bytes())

    # ------------------------------------------------------------------ run a route

    def run_route(self, fn: RouteFn, ctx: Ctx, then: Callable[[], None] | None = None) -> None:
        """Run one route over `ctx`; `then` runs after it unless the script dropped."""
        try:
            result = fn(ctx)
            if not isinstance(result, int):
                self._drive(result, ctx, then)
                return
            ctx.rc = result
        except ScriptDrop:
            return
        except ScriptExit:
            pass
        except Exception as exc:
            self._script_failed(exc, ctx)
            return
        if then is not None:
            then()

    def _drive(
        self, coro: Coroutine[Any, Any, int], ctx: Ctx, then: Callable[[], None] | None
    ) -> None:
        try:
            pending = coro.send(None)
        except StopIteration as stop:
            ctx.rc = int(stop.value)
        except ScriptDrop:
            return
        except ScriptExit:
            pass
        except Exception as exc:
            self._script_failed(exc, ctx)
            return
        else:  # it really waits for something: only now does it become a task
            if ctx.kind is RouteKind.REQUEST and not ctx.detached:
                self.stateful.before_suspend(ctx)
            task = asyncio.get_running_loop().create_task(
                self._resume(coro, pending, ctx, then), name=f"route {ctx.callid}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if ctx.tx is not None:
                task.add_done_callback(lambda _: self.stateful.request_route_ended(ctx, True))
            return
        if then is not None:
            then()

    async def _resume(
        self,
        coro: Coroutine[Any, Any, int],
        pending: Any,
        ctx: Ctx,
        then: Callable[[], None] | None,
    ) -> None:
        current_message.set(ctx.msg)
        try:
            ctx.rc = await _Continue(coro, pending)
        except ScriptDrop:
            return
        except ScriptExit:
            pass
        except Exception as exc:
            self._script_failed(exc, ctx)
            return
        if then is not None:
            then()

    def launch(self, ctx: Ctx, job: int | Coroutine[Any, Any, int], report: RouteFn | None) -> None:
        """`launch(f(...), report)`: `job` (f's coroutine, or the code of an f that ran at
        once) goes on beside the script; when it ends, `report` runs over `ctx` with `$rc`
        = f's code. A failing job is logged and counted like a failing route."""
        self.run_route(lambda ctx: _launched(ctx, job, report), ctx)

    def _script_failed(self, exc: Exception, ctx: Ctx) -> None:
        self.stats.script_errors += 1
        for note in script_lines(exc.__traceback__):
            exc.add_note(note)
        log.error("script error in %s route: %r", ctx.kind.name, exc, exc_info=exc)

    @property
    def in_flight(self) -> set[asyncio.Task[None]]:
        """Routes waiting on something (suspended runs)."""
        return self._tasks

    # ------------------------------------------------------------------ CoreServices

    def is_myself(self, host: str, port: int | None) -> bool:
        bare = host[1:-1] if host.startswith("[") else host
        wanted = port if port is not None else 5060
        if (bare, wanted) in self._myself:
            return True
        for alias_host, alias_port in self.aliases:
            if alias_host == bare and alias_port in (None, wanted):
                return True
        return False

    def find_listening(self, proto: str | None, host: str, port: int | None) -> SocketInfo | None:
        """The listening socket `proto:host:port` (None: any proto, any port), None if none."""
        bare = host[1:-1] if host.startswith("[") else host
        for info in self.sender.sockets if self.sender is not None else ():
            if info.ip == bare and proto in (None, info.proto) and port in (None, info.port):
                return info
        return None

    def send_raw(self, ctx: Ctx, dest: str, data: bytes) -> int:
        """`send()`: these bytes as they are (no Via of ours) to `[proto:]host[:port]`."""
        hop = next_hop(dest)
        if hop is None or self.sender is None:
            log.warning("cannot send to %r: no address", dest)
            return -1
        socket = self._socket_for(hop.proto, hop.ip, ctx)
        if socket is None:
            log.warning("no %s socket to send to %s", hop.proto, hop.ip)
            return -1
        if (hop.ip, hop.port) in self._myself:
            log.warning("not sending to ourselves (%s:%d)", hop.ip, hop.port)
            return -1
        ctx.sent = True
        return 1 if self.sender.send(hop.proto, hop.ip, hop.port, data, socket) else -1

    def forward(self, ctx: Ctx, dest: str | None) -> int:
        msg = ctx.msg
        sender = self.sender
        if not isinstance(msg, Request) or sender is None:
            return -1
        target = dest or ctx.du or msg.ruri_text
        hop = next_hop(target)
        if hop is None:
            log.warning("cannot forward to %r: no address", target)
            return -1
        socket = self._socket_for(hop.proto, hop.ip, ctx)
        if socket is None and not hop.explicit_proto:
            # no transport named and none of the default one: keep the one it came on
            hop = hop.with_proto(ctx.socket.proto)
            socket = self._socket_for(hop.proto, hop.ip, ctx)
        if socket is None:
            log.warning("no %s socket to forward to %s", hop.proto, hop.ip)
            return -1
        if (hop.ip, hop.port) in self._myself:
            log.warning("not forwarding %s to ourselves (%s:%d)", msg.method, hop.ip, hop.port)
            return -1
        if not ctx.maxfwd_done:
            hops = msg.max_forwards
            if hops is None:
                msg.add_header("Max-Forwards", str(DEFAULT_MAX_FORWARDS))
            elif hops == 0:
                return -1  # the script should have answered 483
            else:
                msg.set_max_forwards(hops - 1)
            ctx.maxfwd_done = True
        branch = stateless_branch(msg, f"{hop.proto}:{hop.ip}:{hop.port}|{msg.ruri_text}")
        if hop.proto != "udp":
            msg.ensure_content_length()
        # our Via goes in as the first header line of the bytes sent, not into the
        # message: it is then the topmost Via, and a second forward() does not stack it
        outbound = ctx.outbound
        if outbound is None:
            via_start = self._via_starts.get((hop.proto, socket.ip, socket.port))
            if via_start is None:
                via_start = self._via_start(hop.proto, socket)
            via = b"".join((via_start, branch.encode(), b"\r\n"))
        else:  # set_advertised_*, add_local_rport: this run's own Via
            rport = ";rport" if outbound.local_rport else ""
            sent_by = outbound.hostport(socket)
            via = f"Via: SIP/2.0/{hop.proto.upper()} {sent_by};branch={branch}{rport}\r\n".encode()
        data = msg.to_bytes_with_header(via)
        ctx.sent = True
        return 1 if sender.send(hop.proto, hop.ip, hop.port, data, socket) else -1

    def _via_start(self, proto: str, socket: SocketInfo) -> bytes:
        """`Via: SIP/2.0/UDP ip:port;branch=` of a socket, built once per socket."""
        text = f"Via: SIP/2.0/{proto.upper()} {socket.hostport};branch="
        start = self._via_starts[(proto, socket.ip, socket.port)] = text.encode()
        return start

    def _socket_for(self, proto: str, ip: str, ctx: Ctx) -> SocketInfo | None:
        af_is_v6 = ":" in ip
        preferred = ctx.out_socket or ctx.socket
        if preferred.proto == proto and (":" in preferred.ip) == af_is_v6:
            return preferred
        assert self.sender is not None
        for info in self.sender.sockets:
            if info.proto == proto and (":" in info.ip) == af_is_v6:
                return info
        return None

    def send_reply(self, ctx: Ctx, code: int, reason: str, headers: Sequence[str] = ()) -> int:
        msg = ctx.msg
        sender = self.sender
        if not isinstance(msg, Request) or sender is None or msg.method == "ACK":
            return -1
        extra = [*ctx.reply_headers, *headers]
        try:
            response = msg.make_response(
                code,
                reason,
                to_tag=stateless_to_tag(msg),
                headers=header_pairs(extra),
                body=ctx.reply_body or b"",
            )
        except (SipParseError, ValueError) as exc:
            log.warning("cannot build a %d reply: %s", code, exc)
            return -1
        ctx.sent = True
        return 1 if self._send_response(response, ctx.source) else -1

    def _send_response(self, response: Response, source: Source) -> bool:
        """Send a locally made response to where RFC 3261 §18.2.2 says."""
        assert self.sender is not None
        if source.connection is not None and not source.connection.closed:
            return self.sender.reply(source, response.to_bytes())
        top = response.top_via
        if top is None:
            return self.sender.reply(source, response.to_bytes())
        ip = resolve_host(top.received or top.host) or source.ip
        port = top.rport or top.port or 5060
        proto = source.socket.proto
        return self.sender.send(proto, ip, port, response.to_bytes(), source.socket)


_STAMPED = frozenset({"received", "rport"})


def script_lines(tb: TracebackType | None) -> list[str]:
    """`at proxy.cfg:42 in route[relay]` for each frame of a compiled route module."""
    notes = []
    while tb is not None:
        linemap = tb.tb_frame.f_globals.get("__sipc_linemap__")
        if isinstance(linemap, dict) and linemap:
            lines = sorted(linemap)
            at = bisect.bisect_right(lines, tb.tb_lineno) - 1
            if at >= 0:
                file, line, route = linemap[lines[at]]
                notes.append(f"at {file}:{line} in {route}")
        tb = tb.tb_next
    return notes


async def _launched(ctx: Ctx, job: int | Coroutine[Any, Any, int], report: RouteFn | None) -> int:
    ctx.rc = job if isinstance(job, int) else await job
    if report is None:
        return ctx.rc
    result = report(ctx)
    return result if isinstance(result, int) else await result


def _reply_of(ctx: Ctx, received: Response) -> Response:
    """The reply an onreply route leaves in `ctx`, else the one it was given."""
    msg = ctx.msg
    return msg if isinstance(msg, Response) else received
