"""Record-Route insertion and loose routing (RFC 3261 §16.4, §16.6, §16.12).

These are runtime services; the script functions `record_route()` and `loose_route()`
of `stdlib.rr` wrap them.
"""

from __future__ import annotations

from runtime.core.ctx import Ctx
from runtime.sip import NameAddr, Request, SipParseError, SipURI


def record_route_value(ctx: Ctx, params: str = "") -> str:
    """`<sip:IP:PORT;lr>` for the socket the request came in on (`;transport=` if not UDP)."""
    socket = ctx.out_socket or ctx.socket
    transport = "" if socket.proto == "udp" else f";transport={socket.proto}"
    extra = "" if not params else params if params.startswith(";") else ";" + params
    return f"<sip:{socket.hostport}{transport};lr{extra}>"


def record_route(ctx: Ctx, params: str = "") -> int:
    """Insert our Record-Route as the topmost one; -1 outside a request."""
    msg = ctx.msg
    if not isinstance(msg, Request):
        return -1
    msg.add_header("Record-Route", record_route_value(ctx, params), at_top=True)
    return 1


def _is_ours(ctx: Ctx, uri: object) -> bool:
    return isinstance(uri, SipURI) and ctx.is_myself(uri.host, uri.port)


def loose_route(ctx: Ctx) -> int:
    """Route a request by its Route set; 1 when it had one, -1 when not.

    - The R-URI is a URI we put in a Record-Route (ours, with `lr` or no user): the
      previous hop was a strict router; the last Route value becomes the R-URI (§16.4).
    - A first Route value that is ours is removed (twice for double record-routing).
    - The next Route value is the next hop: loose (`lr`) -> `$du`; strict -> it becomes
      the R-URI and the old R-URI goes to the end of the Route set (§16.6 step 6, §16.12).
    """
    msg = ctx.msg
    if not isinstance(msg, Request):
        return -1
    try:
        routes: list[NameAddr] = list(msg.routes)
        ruri = msg.ruri
    except SipParseError:
        return -1
    if not routes:
        return -1
    if _is_ours(ctx, ruri) and isinstance(ruri, SipURI) and (ruri.lr or ruri.user is None):
        ctx.ruri = str(routes.pop().uri)
    for _ in range(2):
        if routes and _is_ours(ctx, routes[0].uri):
            routes.pop(0)
    if routes:
        next_uri = routes[0].uri
        if isinstance(next_uri, SipURI) and not next_uri.lr:
            routes.pop(0)
            routes.append(NameAddr(None, msg.ruri))
            ctx.ruri = str(next_uri)
        else:
            ctx.du = str(next_uri)
    msg.remove_header("Route")
    if routes:
        msg.add_header("Route", ", ".join(str(route) for route in routes), at_top=True)
    return 1
