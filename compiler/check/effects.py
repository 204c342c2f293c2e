"""Which routes can suspend: a fact the code generator needs (DESIGN.md "Suspension").

A route can suspend when it runs `async(...)`, calls a function the registry marks
`suspends` (but not through `launch(...)`, which runs it beside the route), or calls
(`route(x)`) a route that can suspend. Such routes compile to
`async def`; every other route stays a plain `def`, so the common path pays no coroutine
cost. Computed as a fixed point over the static call graph.
"""

from __future__ import annotations

# The code generator, this module's user, reads `stdlib._registry` directly: all of stdlib
# is imported (REGISTRY complete) even in a process whose checker was first loaded from the
# registry snapshot (compiler.registry_snapshot).
import stdlib  # noqa: F401
from compiler import ast
from compiler.check.walk import iter_nodes
from compiler.registry_view import REGISTRY

RouteKey = tuple[str, str | None]


def route_key(route: ast.RouteDef) -> RouteKey:
    name = route.name.name if route.name else None
    if route.kind in ("route", "onreply_route") and name == "0":
        name = None
    return (route.kind, name)


DYNAMIC = "\x00dynamic"  # stands for a `route($var(x))` call: any named route


def calls_of(route: ast.RouteDef) -> set[str]:
    """Names of the request routes `route` calls with `route(name)`; DYNAMIC for a name
    computed at run time."""
    out: set[str] = set()
    for node in iter_nodes(route.body):
        if isinstance(node, ast.RouteCall):
            target = node.target
            if isinstance(target, ast.PVar) or (target.style == "string" and "$" in target.name):
                out.add(DYNAMIC)
            else:
                out.add(target.name)
    return out


def suspends_directly(route: ast.RouteDef) -> bool:
    launched: set[int] = set()  # a launch()ed function runs beside the route, not in it
    for node in iter_nodes(route.body):
        if isinstance(node, ast.Async):
            return True
        if isinstance(node, ast.Launch):
            launched.add(id(node.call))
        elif isinstance(node, ast.Call) and id(node) not in launched:
            spec = REGISTRY.get(node.name)
            if spec is not None and spec.suspends:
                return True
    return False


def suspending_routes(script: ast.Script) -> set[RouteKey]:
    routes = {route_key(r): r for r in script.routes}
    calls = {key: calls_of(r) for key, r in routes.items()}
    result = {key for key, r in routes.items() if suspends_directly(r)}
    changed = True
    while changed:
        changed = False
        for key in routes:
            if key in result:
                continue
            callees = calls[key]
            if DYNAMIC in callees:
                callees = callees | {name for kind, name in routes if kind == "route" and name}
            if any(("route", callee) in result for callee in callees):
                result.add(key)
                changed = True
    return result
