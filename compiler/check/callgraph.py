"""Which routes run in which route kind: top routes and the `route()` calls below them.

A top route (`route`, `failure_route[x]`, `onreply_route`, `timer_route[t, 5]`...) is started
by the proxy and fixes the context every route it reaches runs in. `route(name)` calls with a
static name are followed; an `async()` resume route continues in the kind of the route that
suspended; `launch()` report routes and the handler routes of `notify_on_event`/`subscribe`
run later as request routes of their own, without a SIP message of the script's run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler import ast
from compiler.check.names import ROUTE_ARGS, route_key
from compiler.check.walk import nodes_of
from compiler.records import record

# The context (pseudo-variable table's route-kind names) a top route block runs in.
CONTEXT_OF_KIND: dict[str, str] = {
    "route": "request",
    "failure_route": "failure",
    "onreply_route": "onreply",
    "branch_route": "branch",
    "error_route": "error",
    "local_route": "local",
    "startup_route": "startup",
    "timer_route": "timer",
    "event_route": "event",
}

# How messages name a context: "an `onreply_route`".
CONTEXT_TITLE: dict[str, str] = {
    "request": "request route",
    "failure": "`failure_route`",
    "onreply": "`onreply_route`",
    "branch": "`branch_route`",
    "error": "`error_route`",
    "local": "`local_route`",
    "startup": "`startup_route`",
    "timer": "`timer_route`",
    "event": "`event_route`",
}
CONTEXT_ORDER = tuple(CONTEXT_TITLE)


@record
class Edge:
    """`source` runs `target`: through `route()` (`how` = "route") or an `async()` resume."""

    target: ast.RouteDef
    how: str
    span: ast.Span


@record
class Top:
    """A route the proxy starts, the context it runs in, and how a note names its start."""

    route: ast.RouteDef
    context: str
    origin: str


@dataclass(slots=True)
class RouteGraph:
    routes: dict[tuple[str, str | None], ast.RouteDef]
    edges: dict[int, list[Edge]] = field(default_factory=dict)
    handlers: list[tuple[ast.RouteDef, str]] = field(default_factory=list)
    """Routes run as new request contexts (launch reports, event handlers), with their origin."""

    def callees(self, route: ast.RouteDef) -> list[Edge]:
        return self.edges.get(id(route), [])

    def named(self, name: str) -> ast.RouteDef | None:
        return self.routes.get(route_key("route", name))

    def tops(self) -> list[Top]:
        out = [
            Top(r, CONTEXT_OF_KIND[r.kind], r.title)
            for r in self.routes.values()
            if not (r.kind == "route" and r.name is not None)
        ]
        seen: set[int] = set()
        for route, origin in self.handlers:
            if id(route) not in seen:
                seen.add(id(route))
                out.append(Top(route, "request", origin))
        return out

    def reach(self, top: ast.RouteDef) -> dict[int, tuple[ast.RouteDef, tuple[str, ...]]]:
        """Every route `top` runs (itself included), with the chain of titles leading there.

        Breadth first, so each route gets its shortest chain; recursion is cut by `seen`.
        """
        found: dict[int, tuple[ast.RouteDef, tuple[str, ...]]] = {id(top): (top, (top.title,))}
        queue = [top]
        while queue:
            cur = queue.pop(0)
            chain = found[id(cur)][1]
            for edge in self.callees(cur):
                if id(edge.target) not in found:
                    step = edge.target.title
                    if edge.how == "resume":
                        step = f"async() resume {step}"
                    found[id(edge.target)] = (edge.target, (*chain, step))
                    queue.append(edge.target)
        return found


# Three passes ask for the graph of the same script: the last one is kept.
_last: tuple[ast.Script, RouteGraph] | None = None


def build(script: ast.Script) -> RouteGraph:
    """The route graph of `script` (the same object for the same script: do not change it)."""
    global _last
    if _last is None or _last[0] is not script:
        _last = (script, _build(script))
    return _last[1]


def _build(script: ast.Script) -> RouteGraph:
    graph = RouteGraph(routes={})
    for r in script.routes:
        graph.routes.setdefault(route_key(r.kind, r.name.name if r.name else None), r)
    defined = {id(r) for r in graph.routes.values()}
    for r in script.routes:
        if id(r) not in defined:
            continue  # a duplicate: names.py reports it, and OpenSIPS never runs it
        edges: list[Edge] = []
        for node in nodes_of(r.body, ast.RouteCall, ast.Async, ast.Launch, ast.Call):
            if isinstance(node, ast.RouteCall) and isinstance(node.target, ast.RouteName):
                target = graph.named(node.target.name)
                if target is not None and "$" not in node.target.name:
                    edges.append(Edge(target, "route", node.span))
            elif isinstance(node, ast.Async):
                target = graph.named(node.resume.name)
                if target is not None:
                    edges.append(Edge(target, "resume", node.span))
            elif isinstance(node, ast.Launch) and node.report is not None:
                target = graph.named(node.report.name)
                if target is not None:
                    graph.handlers.append((target, f"`launch()` in {r.title} at {node.span}"))
            elif isinstance(node, ast.Call):
                handler = _handler_route(graph, node)
                if handler is not None:
                    graph.handlers.append((handler, f"`{node.name}()` in {r.title} at {node.span}"))
        graph.edges[id(r)] = edges
    return graph


def _handler_route(graph: RouteGraph, call: ast.Call) -> ast.RouteDef | None:
    """The `route[...]` an event subscription runs later (`notify_on_event(..., "r", 20)`)."""
    entry = ROUTE_ARGS.get(call.name)
    if entry is None or entry[1] != "route" or entry[0] >= len(call.args):
        return None
    arg = call.args[entry[0]]
    if isinstance(arg, ast.StringLit) and "$" not in arg.value:
        return graph.named(arg.value)
    return None


def chain_note(chain: tuple[str, ...]) -> str:
    """`called from onreply_route[r1] via route[fix_contact]`."""
    if len(chain) == 2:
        return f"called from {chain[0]} via {chain[1]}"
    return f"called from {chain[0]} via " + " -> ".join(chain[1:])
