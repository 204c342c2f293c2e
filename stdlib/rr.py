"""Module `rr`: Record-Route on the way out, loose routing (RFC 3261 §16.4, §16.6, §16.12).

`record_route` puts `Record-Route: <sip:OUR_ADDRESS;lr;ftag=FROM_TAG...>` on top of the
request (the address of the socket it will leave by, when known, else the receiving one). `loose_route` edits the Route set of the received request and sets the next
hop (`$du`, or the R-URI when the next hop is a strict router).
"""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from runtime.core.sipfields import UriParts, find_param, parse_name_addr, parse_uri, split_commas
from stdlib import _msg, _sipedit, _state
from stdlib._modules import modparam_int
from stdlib._regex import compile_regex
from stdlib._registry import Regex, export

REQ = RouteKind.REQUEST
REQ_FAIL_BR = RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.BRANCH

_PENDING_PARAMS = "rr.params"  # add_rr_param() before record_route()
_ADDED = "rr.added"  # how many Record-Route headers this run put on top
_ROUTE_PARAMS = "rr.route_params"  # URI params of the Route loose_route() found ours


# ---------------------------------------------------------------------------- Record-Route


def _our_uri(ctx: Ctx, address: str | None) -> str:
    """`sip:[user@]host:port[;transport=x]` for the socket the request will leave by."""
    if address:
        return address if address.lower().startswith(("sip:", "sips:")) else "sip:" + address
    socket = ctx.out_socket or ctx.socket
    user = ""
    if modparam_int("rr", "add_username") and ctx.ruri_user:
        user = ctx.ruri_user + "@"
    transport = "" if socket.proto == "udp" else ";transport=" + socket.proto
    return f"sip:{user}{socket.hostport}{transport}"


def _rr_value(ctx: Ctx, address: str | None, params: str) -> str:
    uri = _our_uri(ctx, address) + ";lr"
    if modparam_int("rr", "append_fromtag") and ctx.from_tag:
        uri += ";ftag=" + ctx.from_tag
    return f"<{uri}{params}>"


def _normalise_params(params: str) -> str:
    params = params.strip()
    return params if not params or params.startswith(";") else ";" + params


def _take_pending_params(ctx: Ctx, extra: str | None) -> str:
    pending = _state.get(ctx, _PENDING_PARAMS) or ""
    _state.put(ctx, _PENDING_PARAMS, None)
    return pending + _normalise_params(extra or "")


def _insert_ours(ctx: Ctx, values: list[str]) -> None:
    """Put our Record-Route values on top (in order) and remember how many they are."""
    for value in reversed(values):
        ctx.msg.add_header("Record-Route", value, at_top=True)
    _state.put(ctx, _ADDED, str(len(values)))


@export(routes=REQ_FAIL_BR, module="rr")
def record_route(ctx: Ctx, params: str | None = None) -> int:
    """Add our Record-Route with `;lr` (and `;ftag`, and `params`) on top of the request."""
    if _state.get(ctx, _ADDED):
        return -1
    _insert_ours(ctx, [_rr_value(ctx, None, _take_pending_params(ctx, params))])
    return 1


@export(routes=REQ_FAIL_BR, module="rr")
def record_route_preset(ctx: Ctx, string: str, string2: str | None = None) -> int:
    """Record-Route with a given address (`"1.2.3.4:5090"` or a SIP URI); a second
    address asks for two Record-Route headers (only with enable_double_rr)."""
    if _state.get(ctx, _ADDED) or not string:
        return -1
    if string2 and not modparam_int("rr", "enable_double_rr"):
        return -1
    params = _take_pending_params(ctx, None)
    values = [_rr_value(ctx, string, params)]
    if string2:
        values.append(_rr_value(ctx, string2, params))
    _insert_ours(ctx, values)
    return 1


@export(routes=REQ_FAIL_BR, module="rr")
def add_rr_param(ctx: Ctx, param: str) -> int:
    """Add a URI parameter to our Record-Route, whether it was added yet or not."""
    extra = _normalise_params(param)
    if not extra:
        return -1
    added = int(_state.get(ctx, _ADDED) or 0)
    if not added:
        _state.put(ctx, _PENDING_PARAMS, (_state.get(ctx, _PENDING_PARAMS) or "") + extra)
        return 1
    raw = _msg.current(ctx)
    ours = _sipedit.find_headers(_sipedit.scan(raw), "Record-Route")[:added]
    edits = []
    for line in ours:
        value = line.value(raw)
        value = value[:-1] + extra + ">" if value.endswith(">") else value + extra
        edits.append((line.value_start, line.value_end, _msg.encode(value)))
    return 1 if _msg.commit(ctx, _sipedit.splice(raw, edits)) else -1


# ---------------------------------------------------------------------------- loose routing


def _route_uri(entry: str) -> str:
    return parse_name_addr(entry).uri


def _is_ours(ctx: Ctx, parts: UriParts | None) -> bool:
    """A URI naming us (without a port: the default port)."""
    return parts is not None and ctx.is_myself(parts.host, parts.port)


def _has_lr(parts: UriParts | None) -> bool:
    return parts is not None and parts.param("lr") is not None


class _RouteSet:
    """The Route entries of the message with where each one sits in the bytes."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.lines = _sipedit.find_headers(_sipedit.scan(raw), "Route")
        self.entries: list[tuple[int, str]] = [
            (number, entry)
            for number, line in enumerate(self.lines)
            for entry in split_commas(line.value(raw))
        ]

    def without(self, drop: set[int], append: str | None = None) -> bytes:
        """The message with entries at positions `drop` removed and `append` added last."""
        edits: list[tuple[int, int, bytes]] = []
        for number, line in enumerate(self.lines):
            kept = [
                entry
                for position, (owner, entry) in enumerate(self.entries)
                if owner == number and position not in drop
            ]
            if not kept:
                edits.append((line.start, line.end, b""))
            elif len(kept) != sum(1 for owner, _ in self.entries if owner == number):
                edits.append((line.value_start, line.value_end, _msg.encode(", ".join(kept))))
        if append is not None:
            # after the last Route header, or at the top when every Route went away
            anchor = self.lines[-1].end if self.lines else _sipedit.scan(self.raw).headers_start
            edits.append((anchor, anchor, _msg.encode(f"Route: <{append}>\r\n")))
        return _sipedit.splice(self.raw, edits)


def _follow(ctx: Ctx, routes: _RouteSet, gone: set[int], new_ruri: str | None = None) -> None:
    """Drop the entries `gone`, then route to the first remaining one: loose (`$du`), or
    strict (it becomes the R-URI and the R-URI goes last in the Route set, §16.6 step 6)."""
    remaining = [i for i in range(len(routes.entries)) if i not in gone]
    append: str | None = None
    if remaining:
        first = remaining[0]
        uri = _route_uri(routes.entries[first][1])
        if _has_lr(parse_uri(uri)):
            ctx.du = uri
        else:
            append = new_ruri if new_ruri is not None else ctx.ruri
            gone = gone | {first}
            new_ruri = uri
    # bytes first: they carry the old request line, which the R-URI rewrite then replaces
    _msg.commit(ctx, routes.without(gone, append=append))
    if new_ruri is not None:
        ctx.ruri = new_ruri


@export(routes=REQ, module="rr")
def loose_route(ctx: Ctx) -> int:
    """Follow the Route set: 1 when the next hop came from it, -1 without Route headers
    (or for a preloaded request whose only Route was ours; that Route is removed)."""
    routes = _RouteSet(_msg.current(ctx))
    if not routes.entries:
        return -1
    _state.put(ctx, _ROUTE_PARAMS, None)
    ruri = ctx.ruri_parts
    if ruri is not None and ruri.user is None and _is_ours(ctx, ruri):
        # the previous hop was a strict router: the R-URI is our own Record-Route, the
        # real target travels as the last Route (RFC 3261 §16.4)
        _state.put(ctx, _ROUTE_PARAMS, ruri.params)
        last = len(routes.entries) - 1
        gone = {last}
        if last > 0 and _is_ours(ctx, parse_uri(_route_uri(routes.entries[0][1]))):
            gone.add(0)
        _follow(ctx, routes, gone, new_ruri=_route_uri(routes.entries[last][1]))
        return 1
    top = parse_uri(_route_uri(routes.entries[0][1]))
    if top is None or not _is_ours(ctx, top):
        _follow(ctx, routes, set())
        return 1
    _state.put(ctx, _ROUTE_PARAMS, top.params)
    gone = {0}
    # with double Record-Route the second entry is ours as well
    if len(routes.entries) > 1 and _is_ours(ctx, parse_uri(_route_uri(routes.entries[1][1]))):
        gone.add(1)
    if len(gone) == len(routes.entries):
        _msg.commit(ctx, routes.without(gone))
        return 1 if ctx.to_tag else -1
    _follow(ctx, routes, gone)
    return 1


@export(routes=REQ, module="rr")
def check_route_param(ctx: Ctx, regex: Regex) -> int:
    """Match the parameters of the Route `loose_route` found to be ours (`;a=1;b=2`)."""
    params = _state.get(ctx, _ROUTE_PARAMS)
    if params is None:
        return -1
    text = _normalise_params(params)
    return 1 if compile_regex(regex).search(text) else -1


@export(routes=REQ, module="rr")
def is_direction(ctx: Ctx, direction: str) -> int:
    """`downstream` when the From tag is the one our Route carries (`ftag`), else upstream."""
    wanted = direction.strip().lower()
    if wanted not in ("downstream", "upstream"):
        return -1
    params = _state.get(ctx, _ROUTE_PARAMS)
    ftag = find_param(params, "ftag") if params else None
    if not ftag:
        return -1
    downstream = ftag == ctx.from_tag
    return 1 if downstream == (wanted == "downstream") else -1
