"""Record-Route insertion and loose routing (RFC 3261 §16.4, §16.6, §16.12).

These are runtime services; the script functions `record_route()` and `loose_route()`
of `stdlib.rr` wrap them.
"""

from __future__ import annotations

from runtime.core.ctx import Ctx
from runtime.sip import NameAddr, Request, SipParseError, SipURI
from runtime.sip.lexical import format_params


def record_route_value(ctx: Ctx, params: str = "") -> str:
    """`<sip:IP:PORT;lr>` for the socket the request came in on (`;transport=` if not UDP)."""
    socket = ctx.out_socket or ctx.socket
    transport = "" if socket.proto == "udp" else f";transport={socket.proto}"
    extra = "" if not params else params if params.startswith(";") else ";" + params
    outbound = ctx.outbound  # set_advertised_address/_port
    hostport = socket.hostport if outbound is None else outbound.hostport(socket)
    return f"<sip:{hostport}{transport};lr{extra}>"


def record_route(ctx: Ctx, params: str = "") -> int:
    """Insert our Record-Route as the topmost one; -1 outside a request."""
    msg = ctx.msg
    if not isinstance(msg, Request):
        return -1
    value = record_route_value(ctx, params)
    if has_line_break(value):
        return -1  # a From tag or a parameter out of the message with a bare CR or LF
    msg.add_header("Record-Route", value, at_top=True)
    return 1


def has_line_break(text: str) -> bool:
    """A CR or LF (the parser leaves a bare one inside a header value): a header built
    with it would end early, or smuggle in one more."""
    return "\r" in text or "\n" in text


def _is_ours(ctx: Ctx, uri: object) -> bool:
    return isinstance(uri, SipURI) and ctx.is_myself(uri.host, uri.port)


# What loose routing reads of a URI: (host, port, lr, has a user, its parameters as
# written, without the first ';') for sip/sips; None for any other scheme.
UriView = tuple[str, int | None, bool, bool, str] | None

# Route sets and R-URIs recur (every in-dialog request of every call through this proxy
# carries our Record-Route back; a UA keeps its Contact): what parsing them gave is kept
# by their text. Only parses that succeeded are kept; is_myself() is asked every time.
_ROUTE_SETS: dict[tuple[str, ...], tuple[UriView, ...]] = {}
_RURIS: dict[str, UriView] = {}
_CACHE_LIMIT = 4096


def _view(uri: object) -> UriView:
    if not isinstance(uri, SipURI):
        return None
    return (uri.host, uri.port, uri.lr, uri.user is not None, format_params(uri.params)[1:])


def _route_set_view(msg: Request) -> tuple[UriView, ...]:
    """The Route set of `msg` as views, in order; raises `SipParseError` as `msg.routes`."""
    values = tuple(msg.headers_named("Route"))
    if not values:
        return ()
    view = _ROUTE_SETS.get(values)
    if view is None:
        view = tuple([_view(route.uri) for route in msg.routes])
        if len(_ROUTE_SETS) >= _CACHE_LIMIT:
            _ROUTE_SETS.clear()
        _ROUTE_SETS[values] = view
    return view


def _ruri_view(msg: Request) -> UriView:
    """The R-URI of `msg` as a view; raises `SipParseError` as `msg.ruri`."""
    text = msg.ruri_text
    if text in _RURIS:
        return _RURIS[text]
    view = _view(msg.ruri)
    if len(_RURIS) >= _CACHE_LIMIT:
        _RURIS.clear()
    _RURIS[text] = view
    return view


def _names_us(ctx: Ctx, view: UriView) -> bool:
    return view is not None and ctx.is_myself(view[0], view[1])


class RouteFollowed:
    """What `follow_route_set` found, for `stdlib.rr`: the URI parameters of the Route
    that named us (`check_route_param`, `is_direction`) and whether the request was
    preloaded to us alone (every Route ours, no To tag: not a loose-routed request)."""

    __slots__ = ("ours_params", "preloaded")

    def __init__(self, ours_params: str | None, preloaded: bool) -> None:
        self.ours_params = ours_params
        self.preloaded = preloaded


def loose_route(ctx: Ctx) -> int:
    """Route a request by its Route set; 1 when it had one, -1 when not (see
    `follow_route_set`)."""
    return 1 if follow_route_set(ctx) is not None else -1


def follow_route_set(ctx: Ctx) -> RouteFollowed | None:
    """Route a request by its Route set; None when it has none (or it does not parse).

    - The R-URI is a URI we put in a Record-Route (ours, with `lr` or no user): the
      previous hop was a strict router; the last Route value becomes the R-URI (§16.4).
    - A first Route value that is ours is removed (twice for double record-routing).
    - The next Route value is the next hop: loose (`lr`) -> `$du`; strict -> it becomes
      the R-URI and the old R-URI goes to the end of the Route set (§16.6 step 6, §16.12).

    When every Route value was ours (the usual in-dialog request of a record-routing
    proxy) the Route lines are only removed: nothing is rebuilt.
    """
    msg = ctx.msg
    if not isinstance(msg, Request):
        return None
    try:
        routes = _route_set_view(msg)
        if not routes:
            return None
        ruri = _ruri_view(msg)
    except SipParseError:
        return None
    ours: UriView = None
    preloaded = False
    strict_before_us = ruri is not None and _names_us(ctx, ruri) and (ruri[2] or not ruri[3])
    if strict_before_us:
        ours = ruri  # a strict router before us put our Record-Route in the R-URI
    elif _names_us(ctx, routes[0]):
        ours = routes[0]
        # every Route is ours (one, or two with double record-routing) and no dialog yet
        if len(routes) <= 2 and all(_names_us(ctx, route) for route in routes):
            preloaded = not ctx.to_tag
    followed = RouteFollowed(ours[4] if ours is not None else None, preloaded)
    left = len(routes)
    if not strict_before_us:  # the common case: our own Route values come off the top
        consumed = 0
        while consumed < 2 and consumed < left and _names_us(ctx, routes[consumed]):
            consumed += 1
        if consumed == left:
            msg.remove_header("Route")
            return followed
    rest: list[NameAddr] = list(msg.routes)
    if strict_before_us:
        ctx.ruri = str(rest.pop().uri)
    for _ in range(2):
        if rest and _is_ours(ctx, rest[0].uri):
            rest.pop(0)
    if rest:
        next_uri = rest[0].uri
        if isinstance(next_uri, SipURI) and not next_uri.lr:
            rest.pop(0)
            rest.append(NameAddr(None, msg.ruri))
            ctx.ruri = str(next_uri)
        else:
            ctx.du = str(next_uri)
    msg.remove_header("Route")
    if rest:
        msg.add_header("Route", ", ".join(str(route) for route in rest), at_top=True)
    return followed
