"""`Ctx`: the context of one script run over one SIP message.

Compiled routes read pseudo-variables as attributes of `Ctx` (`$rU` is `ctx.ruri_user`,
`$hdr(Via)` is `ctx.hdr("Via")`, `$var(x)` is `ctx.var_get("x")`), so a route reads like
the script and a read costs an attribute lookup, not a name lookup in a table. Message
fields are cut from the parsed message on first use and cached for the run.

Edits the script asks for (R-URI rewrite, added and removed headers, Record-Route) go
straight to the parsed message, which splices them into the received bytes when it is
sent; unlike OpenSIPS's deferred "lumps", a removed header no longer reads as present.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from runtime.core import pvaccess
from runtime.core.avps import AvpStore as AvpStore  # part of this module's API
from runtime.core.script import RouteFn, RouteKind, Value
from runtime.core.sipfields import (
    NameAddr,
    UriParts,
    build_uri,
    parse_name_addr,
    parse_uri,
    split_commas,
)
from runtime.sip.errors import SipParseError
from runtime.sip.message import Request, Response, parse_message
from runtime.transport.socketinfo import SocketInfo
from runtime.transport.source import Source

SipMessage = Request | Response

TEXT_ENCODING = "utf-8"
TEXT_ERRORS = "surrogateescape"  # undecodable bytes survive a read-then-write round trip

log = logging.getLogger("sipc.script")


def decode_text(data: bytes) -> str:
    return data.decode(TEXT_ENCODING, TEXT_ERRORS)


class CoreServices(Protocol):
    """What the request/reply pipeline offers a running script (see `pipeline.Pipeline`)."""

    def forward(self, ctx: Ctx, dest: str | None) -> int: ...

    def is_myself(self, host: str, port: int | None) -> bool: ...

    def find_listening(
        self, proto: str | None, host: str, port: int | None
    ) -> SocketInfo | None: ...

    def send_raw(self, ctx: Ctx, dest: str, data: bytes) -> int: ...

    def send_reply(self, ctx: Ctx, code: int, reason: str, headers: Sequence[str] = ()) -> int: ...

    def launch(
        self, ctx: Ctx, job: int | Coroutine[Any, Any, int], report: RouteFn | None
    ) -> None: ...


@dataclass(slots=True)
class Branch:
    """One additional destination set by `append_branch()` (`$(msg.branch.uri[i])`)."""

    uri: str
    du: str | None = None
    q: int | None = None
    path: str | None = None
    bflags: set[str] = field(default_factory=set)  # setbflag(flag, i), i >= 1


@dataclass(slots=True)
class Outbound:
    """What our Via and Record-Route say: set_advertised_address/_port, add_local_rport."""

    address: str | None = None
    port: int | None = None
    local_rport: bool = False

    def hostport(self, socket: SocketInfo) -> str:
        """The sent-by of our Via, the host:port of our Record-Route, leaving on `socket`."""
        host = self.address or socket.host_text
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{host}:{self.port if self.port is not None else socket.port}"


_DEFAULT_PORTS = {"sip": 5060, "sips": 5061}


# what a `_view_of` shares with the run it looks from (the rest is per message)
_VIEW_SHARED = (
    "bflags", "branches", "du", "flags", "maxfwd_done", "out_socket", "outbound", "params", "rc",
    "reply_headers", "ret_values", "route_name", "ruri_q", "sent", "tx", "tx_branch", "tx_data",
    "vars", "_orig_ruri", "reply_body",
)  # fmt: skip


class Ctx:
    """One script run: the message, the script's variables and the edits it asked for."""

    __slots__ = (
        "_from",
        "_orig_ruri",
        "_ruri_parts",
        "_to",
        "avp",
        "bflags",
        "branches",
        "core",
        "detached",
        "du",
        "flags",
        "kind",
        "maxfwd_done",
        "msg",
        "out_socket",
        "outbound",
        "params",
        "rc",
        "reply_body",
        "reply_headers",
        "ret_values",
        "route_name",
        "ruri_q",
        "sent",
        "socket",
        "source",
        "src_ip",
        "src_port",
        "tx",
        "tx_branch",
        "tx_data",
        "vars",
    )

    def __init__(
        self,
        msg: SipMessage,
        socket: SocketInfo,
        src_ip: str,
        src_port: int,
        core: CoreServices,
        kind: RouteKind = RouteKind.REQUEST,
        avp: AvpStore | None = None,
        source: Source | None = None,
    ) -> None:
        self.msg: SipMessage = msg
        self.socket: SocketInfo = socket
        self.src_ip: str = src_ip
        self.src_port: int = src_port
        self.core: CoreServices = core
        self.kind: RouteKind = kind
        # no message of its own (a dummy one): startup, timer and event routes, launch()
        self.detached: bool = False
        self.route_name: str = ""
        self.vars: dict[str, Value] = {}
        # the AVP store will move to the transaction; a stateless run owns its own
        self.avp: AvpStore = avp if avp is not None else AvpStore()
        self.flags: set[str] = set()
        self.du: str | None = None
        self.out_socket: SocketInfo | None = None
        self.outbound: Outbound | None = None  # made by the first set_advertised_* & co
        self.bflags: set[str] = set()  # branch flags of the R-URI branch (index 0)
        self.ruri_q: int | None = None  # q of the R-URI branch, in thousandths
        self.branches: list[Branch] = []
        self.rc: int = 1
        self.params: list[tuple[Value, ...]] = []
        # header lines for every reply this run sends (`append_to_reply()`)
        self.reply_headers: list[str] = []
        self.reply_body: bytes | None = None  # and a body for them (`append_body_to_reply()`)
        # `return(code, v0, v1...)`: the values, read back as `$return(i)`
        self.ret_values: tuple[Value, ...] = ()
        self.sent: bool = False
        # how to answer: the receiving socket, the peer, and the TCP connection if any
        self.source = source if source is not None else Source(socket, src_ip, src_port)
        # set by whatever already lowered Max-Forwards, so forwarding does not do it again
        self.maxfwd_done = False
        # tm: the transaction of this run (a ProxyTransaction), the branch a branch,
        # reply or failure route is about, and what the script armed for the
        # transaction (a stateful.TxData, made before the transaction when needed)
        self.tx: Any = None
        self.tx_branch: Any = None
        self.tx_data: Any = None
        self._orig_ruri: str | None = None
        self._ruri_parts: UriParts | None = None
        self._from: NameAddr | None = None
        self._to: NameAddr | None = None

    # ----------------------------------------------------------------- $var, $avp, flags

    def var_get(self, name: str) -> Value:
        return self.vars.get(name)

    def var_set(self, name: str, value: Value) -> None:
        self.vars[name] = value

    def avp_push(self, name: str, value: Value) -> None:
        self.avp.push(name, value)

    def avp_assign(self, name: str, value: Value) -> None:
        self.avp.assign(name, value)

    def avp_get(self, name: str, index: int = 0) -> Value:
        return self.avp.get(name, index)

    def avp_delete(self, name: str, index: int | None = None) -> None:
        self.avp.delete(name, index)

    def setflag(self, name: str | int) -> None:
        self.flags.add(str(name))

    def resetflag(self, name: str | int) -> None:
        self.flags.discard(str(name))

    def isflagset(self, name: str | int) -> bool:
        return str(name) in self.flags

    # ----------------------------------------------------------------- by name

    def pv_get(self, name: str, inner: str | None = None, index: int | str | None = None) -> Value:
        """Read a pseudo-variable by name (`"ru"`, `"hdr"` with inner `"Via"`...)."""
        return pvaccess.pv_get(self, name, inner, index)

    def pv_set(
        self,
        name: str,
        value: Value,
        inner: str | None = None,
        index: int | str | None = None,
        *,
        assign: bool = False,
    ) -> None:
        """Write a pseudo-variable by name; `assign` is `:=`."""
        pvaccess.pv_set(self, name, value, inner, index, assign=assign)

    def pv_assign(
        self,
        name: str,
        value: Value,
        inner: str | None = None,
        index: int | str | None = None,
        *,
        assign: bool = False,
    ) -> int:
        """An assignment used as a condition (`if ($var(r) = f())`): its code, 1."""
        pvaccess.pv_set(self, name, value, inner, index, assign=assign)
        return 1

    def expand(self, parts: Sequence[pvaccess.FormatPart]) -> str:
        """Expand a parsed format string; NULL prints `<null>`."""
        return pvaccess.expand(self, parts)

    def pv_get_in(
        self, context: str, name: str, inner: str | None = None, index: int | str | None = None
    ) -> Value:
        """`$(<request>ru)` in a reply route, `$(<reply>rs)` in a failure route: the variable
        read against the transaction's request, or the winning reply; NULL when there is
        none (no transaction, or the context of the message itself)."""
        other: SipMessage | None = None
        if context == "request" and self.tx is not None:
            other = self.tx.request
        elif context == "reply":
            data = self.tx_data
            other = data.failure_reply if data is not None else None
            if other is None and not self.msg.is_request:
                other = self.msg
        if other is None:
            return None
        if other is self.msg:
            return self.pv_get(name, inner, index)
        return self._view_of(other).pv_get(name, inner, index)

    def _view_of(self, other: SipMessage) -> Ctx:
        """This run's state over another message (no `copy.copy`: compiled classes have no
        `__reduce__` to copy by)."""
        view = Ctx(other, self.socket, self.src_ip, self.src_port, self.core, self.kind,
                   self.avp, self.source)  # fmt: skip
        for name in _VIEW_SHARED:
            setattr(view, name, getattr(self, name))
        return view

    # ----------------------------------------------------------------- $rc, $param

    @property
    def retcode(self) -> int:
        return self.rc

    def setrc(self, rc: int) -> int:
        """Record an action's code as `$rc` and hand it on (compiled code wraps calls in it)."""
        self.rc = rc
        return rc

    def pv_values(self, name: str, inner: str | None = None) -> list[Value]:
        """Every value of `$(name(inner)[*])`, index 0 upward (`for (... in ...)`)."""
        if name == "avp" and inner is not None:
            return list(self.avp.get_all(inner))
        out: list[Value] = []
        for index in range(10_000):
            value = self.pv_get(name, inner, index)
            if value is None:
                break
            out.append(value)
        return out

    def param(self, which: int | str) -> Value:
        """`$param(i)`: the i-th (1-based) argument of the current `route(name, ...)` call."""
        if not self.params:
            return None
        args = self.params[-1]
        if isinstance(which, str):
            if not which.isdigit():
                return None
            which = int(which)
        if 1 <= which <= len(args):
            return args[which - 1]
        return None

    def launch_context(self, param: str | None = None) -> Ctx:
        """The fresh context a `launch()`ed function and its report route run in: nothing
        of this run but its socket; `param` (the third argument) is their `$param(1)`."""
        launched = detached_context(self.core, self.socket, RouteKind.REQUEST, "launch")
        if param is not None:
            launched.params.append((param,))
        return launched

    def launch(
        self, launched: Ctx, job: int | Coroutine[Any, Any, int], report: RouteFn | None
    ) -> int:
        """`launch(f(...)[, report[, param]])`: `job` is f called over `launched` (its
        arguments read from this run); this route goes on at once."""
        self.core.launch(launched, job, report)
        return 1

    def call_route(self, fn: Callable[[Ctx], int], *args: Value) -> int:
        """`route(name, args...)` for a route that cannot suspend."""
        self.params.append(args)
        try:
            return fn(self)
        finally:
            self.params.pop()

    def call_named(self, routes: Mapping[str, RouteFn], name: str, *args: Value) -> int:
        """`route($var(r))`: a route chosen at run time; an unknown name is an error (-1).

        Only for callers that cannot suspend: the compiler makes a caller `async` when any
        named route can suspend, so a coroutine here would be a compiler bug."""
        result = self._start_named(routes, name, args)
        if isinstance(result, int):
            return result
        result.close()
        log.error("route(%r) can suspend but its caller cannot", name)
        return -1

    async def call_named_async(self, routes: Mapping[str, RouteFn], name: str, *args: Value) -> int:
        """`route($var(r))` from a route that can suspend."""
        result = self._start_named(routes, name, args, keep_params=True)
        if isinstance(result, int):
            return result
        try:
            return await result
        finally:
            self.params.pop()

    def _start_named(
        self,
        routes: Mapping[str, RouteFn],
        name: str,
        args: tuple[Value, ...],
        *,
        keep_params: bool = False,
    ) -> int | Coroutine[Any, Any, int]:
        """Run the named route up to its end or its first suspension point."""
        fn = routes.get(name)
        if fn is None:
            log.error("route(%r): no such route", name)
            return -1
        self.params.append(args)
        try:
            result = fn(self)
        except BaseException:
            self.params.pop()
            raise
        if isinstance(result, int) or not keep_params:
            self.params.pop()
        return result

    async def call_route_async(
        self, fn: Callable[[Ctx], Coroutine[Any, Any, int]], *args: Value
    ) -> int:
        """`route(name, args...)` for a route that can suspend."""
        self.params.append(args)
        try:
            return await fn(self)
        finally:
            self.params.pop()

    # ----------------------------------------------------------------- the Request-URI

    @property
    def ruri(self) -> str | None:
        """`$ru`: the Request-URI as currently rewritten."""
        msg = self.msg
        return msg.ruri_text if isinstance(msg, Request) else None

    @ruri.setter
    def ruri(self, value: str | None) -> None:
        """Rewrite the R-URI; None goes back to the R-URI the request arrived with.
        Raises ValueError, and changes nothing, on text that cannot be a Request-URI."""
        msg = self.msg
        if not isinstance(msg, Request):
            return
        original = self._orig_ruri if self._orig_ruri is not None else msg.ruri_text
        msg.set_ruri(value if value is not None else original)
        self._orig_ruri = original
        self._ruri_parts = None

    def rewrite_ruri(self, value: str) -> bool:
        """Rewrite the R-URI with text a function built, often out of the message: False,
        and the R-URI unchanged, when the text cannot be a Request-URI (empty, or with a
        blank or a line break, which would split the request line)."""
        try:
            self.ruri = value
        except ValueError:
            return False
        return True

    @property
    def original_ruri(self) -> str | None:
        """`$ou`: the R-URI the request arrived with."""
        if self._orig_ruri is not None:
            return self._orig_ruri
        return self.ruri

    @property
    def ruri_parts(self) -> UriParts | None:
        parts = self._ruri_parts
        if parts is None:
            uri = self.ruri
            if uri is None:
                return None
            parts = self._ruri_parts = parse_uri(uri)
        return parts

    @property
    def ruri_user(self) -> str | None:
        parts = self.ruri_parts
        return parts.user if parts is not None else None

    @ruri_user.setter
    def ruri_user(self, value: str | None) -> None:
        parts = self.ruri_parts
        if parts is not None:
            self._set_ruri_parts(replace(parts, user=value or None, password=None))

    @property
    def ruri_host(self) -> str | None:
        parts = self.ruri_parts
        return parts.host if parts is not None else None

    @ruri_host.setter
    def ruri_host(self, value: str | None) -> None:
        parts = self.ruri_parts
        if parts is not None and value:
            self._set_ruri_parts(replace(parts, host=value))

    @property
    def ruri_port(self) -> int | None:
        """`$rp`: the port, or the default port of the scheme when the URI has none."""
        parts = self.ruri_parts
        if parts is None:
            return None
        if parts.port is not None:
            return parts.port
        if parts.transport == "tls":
            return 5061
        return _DEFAULT_PORTS.get(parts.scheme, 5060)

    @ruri_port.setter
    def ruri_port(self, value: int | str | None) -> None:
        parts = self.ruri_parts
        if parts is not None:
            port = int(value) if value is not None and str(value).isdigit() else None
            self._set_ruri_parts(replace(parts, port=port))

    @property
    def ruri_transport(self) -> str | None:
        parts = self.ruri_parts
        return parts.transport if parts is not None else None

    def _set_ruri_parts(self, parts: UriParts) -> None:
        self.ruri = build_uri(parts)
        self._ruri_parts = parts

    # ----------------------------------------------------------------- first line

    @property
    def method(self) -> str:
        """`$rm`: the method (for a reply, the method of its CSeq)."""
        return self.msg.method

    @property
    def status(self) -> int | None:
        """`$rs`: the status code of a reply; None in a request."""
        msg = self.msg
        return msg.status if isinstance(msg, Response) else None

    @property
    def reason(self) -> str | None:
        """`$rr`: the reason phrase of a reply; None in a request."""
        msg = self.msg
        return msg.reason if isinstance(msg, Response) else None

    # ----------------------------------------------------------------- headers

    def hdr(self, name: str, index: int = 0) -> str | None:
        """`$hdr(name)`, `$(hdr(name)[index])`: the header body, None when absent."""
        return self.msg.header(name, index)

    def hdr_all(self, name: str) -> str | None:
        """`$(hdr(name)[*])`: every body of that header joined by commas."""
        values = self.msg.headers_named(name)
        return ",".join(values) if values else None

    def hdrcnt(self, name: str) -> int:
        """`$hdrcnt(name)`."""
        return len(self.msg.headers_named(name))

    @property
    def callid(self) -> str | None:
        """`$ci`."""
        return self.msg.header("Call-ID")

    @property
    def cseq(self) -> str | None:
        """`$cs`: the CSeq number as text."""
        value = self.msg.header("CSeq")
        return value.split(None, 1)[0] if value else None

    @property
    def content_type(self) -> str | None:
        """`$cT`."""
        return self.msg.header("Content-Type")

    @property
    def user_agent(self) -> str | None:
        """`$ua`."""
        return self.msg.header("User-Agent")

    @property
    def content_length(self) -> int | None:
        """`$cl`."""
        value = self.msg.header("Content-Length")
        if value is None:
            return None
        value = value.strip()
        return int(value) if value.isdigit() else None

    @property
    def contact(self) -> str | None:
        """`$ct`: the first contact of the Contact headers."""
        for body in self.msg.headers_named("Contact"):
            contacts = split_commas(body)
            if contacts:
                return contacts[0]
        return None

    # From / To: parsed once per run

    @property
    def from_addr(self) -> NameAddr | None:
        parsed = self._from
        if parsed is None:
            body = self.msg.header("From")
            if body is None:
                return None
            parsed = self._from = parse_name_addr(body)
        return parsed

    @property
    def to_addr(self) -> NameAddr | None:
        parsed = self._to
        if parsed is None:
            body = self.msg.header("To")
            if body is None:
                return None
            parsed = self._to = parse_name_addr(body)
        return parsed

    @property
    def from_uri(self) -> str | None:
        """`$fu`."""
        addr = self.from_addr
        return addr.uri if addr is not None else None

    @property
    def from_user(self) -> str | None:
        """`$fU`."""
        addr = self.from_addr
        parts = parse_uri(addr.uri) if addr is not None else None
        return parts.user if parts is not None else None

    @property
    def from_host(self) -> str | None:
        """`$fd`."""
        addr = self.from_addr
        parts = parse_uri(addr.uri) if addr is not None else None
        return parts.host if parts is not None else None

    @property
    def from_name(self) -> str | None:
        """`$fn`."""
        addr = self.from_addr
        return addr.display if addr is not None else None

    @property
    def from_tag(self) -> str | None:
        """`$ft`."""
        addr = self.from_addr
        return addr.tag if addr is not None else None

    @property
    def to_uri(self) -> str | None:
        """`$tu`."""
        addr = self.to_addr
        return addr.uri if addr is not None else None

    @property
    def to_user(self) -> str | None:
        """`$tU`."""
        addr = self.to_addr
        parts = parse_uri(addr.uri) if addr is not None else None
        return parts.user if parts is not None else None

    @property
    def to_host(self) -> str | None:
        """`$td`."""
        addr = self.to_addr
        parts = parse_uri(addr.uri) if addr is not None else None
        return parts.host if parts is not None else None

    @property
    def to_name(self) -> str | None:
        """`$tn`."""
        addr = self.to_addr
        return addr.display if addr is not None else None

    @property
    def to_tag(self) -> str | None:
        """`$tt`."""
        addr = self.to_addr
        return addr.tag if addr is not None else None

    # ----------------------------------------------------------------- buffer and body

    @property
    def msg_buf(self) -> str:
        """`$mb`."""
        return decode_text(self.msg.raw)

    @property
    def msg_len(self) -> int:
        """`$ml`."""
        return len(self.msg.raw)

    @property
    def body(self) -> str | None:
        """`$rb`: the body as text, None when empty."""
        data = self.msg.body
        return decode_text(data) if data else None

    # ----------------------------------------------------------------- network

    @property
    def proto(self) -> str:
        """`$proto`: transport the message came in on."""
        return self.socket.proto

    @property
    def recv_ip(self) -> str:
        """`$Ri`, `$socket_in(ip)`."""
        return self.socket.ip

    @property
    def recv_port(self) -> int:
        """`$Rp`, `$socket_in(port)`."""
        return self.socket.port

    def socket_in(self, field: str | None = None) -> Value:
        """`$socket_in`, `$socket_in(ip|port|proto|af)`."""
        if field is None:
            return self.socket.name
        if field == "ip":
            return self.socket.ip
        if field == "port":
            return self.socket.port
        if field == "proto":
            return self.socket.proto
        if field == "af":
            return "INET6" if ":" in self.socket.ip else "INET"
        return None

    @property
    def branch_uri(self) -> str | None:
        """`$br`: the URI of the first appended branch."""
        return self.branches[0].uri if self.branches else None

    # ----------------------------------------------------------------- time

    @property
    def time_s(self) -> int:
        """`$Ts`."""
        return int(time.time())

    @property
    def time_f(self) -> str:
        """`$Tf`."""
        return time.ctime()

    # ----------------------------------------------------------------- message edits

    def set_message_bytes(self, data: bytes) -> None:
        """Replace the message by these bytes (after an edit done on the raw text).

        Raises `SipParseError` when they no longer parse; `$mb` then reads the new bytes.
        """
        msg = parse_message(data)
        if type(msg) is not type(self.msg):
            raise SipParseError("an edit turned the message into another kind", 0)
        self.msg = msg
        self._ruri_parts = None
        self._from = self._to = None

    def is_myself(self, host: str, port: int | None = None) -> bool:
        """Whether host[:port] is one of our listening sockets (port None: the default)."""
        return self.core.is_myself(host, port)

    def append_header(self, line: str) -> None:
        """Add a header line (`Name: value`, CRLF optional) after the last header."""
        name, _, value = line.rstrip("\r\n").partition(":")
        self.msg.add_header(name.strip(), value.strip())

    def remove_header(self, name: str) -> int:
        """Remove every header of that name; how many there were."""
        return self.msg.remove_header(name)

    def append_branch(self, uri: str | None = None, q: int | None = None) -> int:
        """Add a destination: `uri`, or the current R-URI and `$du`."""
        target = uri if uri is not None else self.ruri
        if target is None:
            return -1
        if uri is not None:
            self.branches.append(Branch(target, None, q))
        else:  # the R-URI branch copied: its $du and branch flags too
            self.branches.append(Branch(target, self.du, q, None, set(self.bflags)))
        return 1

    # ----------------------------------------------------------------- sending

    def forward(self, dest: str | None = None) -> int:
        """Stateless forward to `dest`, else `$du`, else the R-URI."""
        return self.core.forward(self, dest)

    def send_reply(self, code: int, reason: str, headers: Sequence[str] = ()) -> int:
        """Stateless reply to the request being processed; `headers` are whole lines
        (`"Contact: <sip:a@b>;expires=60"`) added after those `append_to_reply()` queued."""
        return self.core.send_reply(self, code, reason, headers)


# The message startup, timer and event routes and launch() reports see: OpenSIPS gives them
# a dummy request too.
DUMMY_REQUEST = (
    b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKdummy\r\n"
    b"From: <sip:sipc@127.0.0.1>;tag=dummy\r\n"
    b"To: <sip:sipc@127.0.0.1>\r\n"
    b"Call-ID: dummy\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def detached_context(core: CoreServices, socket: SocketInfo, kind: RouteKind, name: str) -> Ctx:
    """A context with no SIP message of its own (a dummy OPTIONS), for the routes that run
    without one: startup, timer and event routes, `launch()`ed functions and reports."""
    ctx = Ctx(parse_message(DUMMY_REQUEST), socket, socket.ip, socket.port, core, kind,
              source=Source(socket, socket.ip, socket.port))  # fmt: skip
    ctx.route_name = name
    ctx.detached = True
    return ctx
