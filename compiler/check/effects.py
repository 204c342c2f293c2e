"""Which routes can suspend: a fact the code generator needs (DESIGN.md "Suspension").

A route can suspend when it runs `async(...)`, calls a function the registry marks
`suspends`, or calls (`route(x)`) a route that can suspend. Such routes compile to
`async def`; every other route stays a plain `def`, so the common path pays no coroutine
cost. Computed as a fixed point over the static call graph.
"""

from __future__ import annotations

from compiler import ast
from compiler.check.walk import iter_nodes
from stdlib._registry import REGISTRY

RouteKey = tuple[str, str | None]


def route_key(route: ast.RouteDef) -> RouteKey:
    name = route.name.name if route.name else None
    if route.kind in ("route", "onreply_route") and name == "0":
        name = None
    return (route.kind, name)


def calls_of(route: ast.RouteDef) -> set[str]:
    """Names of the request routes `route` calls statically with `route(name)`."""
    out: set[str] = set()
    for node in iter_nodes(route.body):
        if isinstance(node, ast.RouteCall) and isinstance(node.target, ast.RouteName):
            out.add(node.target.name)
    return out


def suspends_directly(route: ast.RouteDef) -> bool:
    for node in iter_nodes(route.body):
        if isinstance(node, ast.Async):
            return True
        if isinstance(node, ast.Call):
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
            if any(("route", callee) in result for callee in calls[key]):
                result.add(key)
                changed = True
    return result
