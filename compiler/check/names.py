"""Route names: each defined once, and every static reference names a route that exists."""

from __future__ import annotations

from collections.abc import Iterable

from compiler import ast
from compiler.check.suggest import closest
from compiler.check.walk import nodes_of
from compiler.diagnostics import Diagnostic, Note, make

# Functions that name a route in one argument but that the function registry cannot
# describe yet (they are listed as unsupported, without parameter kinds): (argument index,
# route kind). Registered functions declare theirs as `RouteRef` parameters, which the
# functions pass checks.
ROUTE_ARGS: dict[str, tuple[int, ast.RouteKind]] = {
    "subscribe": (2, "route"),
    "notify_on_event": (2, "route"),
}
_UNNAMED_IS_ZERO = ("route", "onreply_route")


def route_key(kind: str, name: str | None) -> tuple[str, str | None]:
    """Routes share a namespace per kind; `route` and `route[0]` are both the main route."""
    if kind in _UNNAMED_IS_ZERO and name in (None, "0"):
        return (kind, None)
    return (kind, name)


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    defined: dict[tuple[str, str | None], ast.RouteDef] = {}
    for r in script.routes:
        key = route_key(r.kind, r.name.name if r.name else None)
        first = defined.get(key)
        if first is not None:
            where = r.name.span if r.name else r.span
            out.append(
                make(
                    "duplicate-route",
                    ast.Span(
                        where.file,
                        where.line,
                        where.col,
                        where.line,
                        where.end_col if where.end_line == where.line else where.col + 1,
                    ),
                    f"`{r.title}` is defined twice",
                    help="rename one of them or merge their bodies",
                    notes=[
                        Note("first defined here", first.name.span if first.name else first.span)
                    ],
                )
            )
        else:
            defined[key] = r
    names_by_kind: dict[str, list[str]] = {}
    for kind, name in defined:
        if name is not None:
            names_by_kind.setdefault(kind, []).append(name)
    for ref_kind, name, span in _references(script):
        if route_key(ref_kind, name) in defined:
            continue
        out.append(unknown_route(ref_kind, name, span, names_by_kind.get(ref_kind, [])))
    return out


def unknown_route(kind: str, name: str, span: ast.Span, known: Iterable[str]) -> Diagnostic:
    """`no failure_route[x] is defined`, with the closest defined name as help."""
    close = closest(name, known, 0.6)
    return make(
        "unknown-route",
        span,
        f"no `{kind}[{name}]` is defined",
        help=f"did you mean `{close}`?"
        if close is not None
        else f"define it: `{kind}[{name}] {{ ... }}`",
    )


def _references(script: ast.Script) -> list[tuple[ast.RouteKind, str, ast.Span]]:
    refs: list[tuple[ast.RouteKind, str, ast.Span]] = []
    for node in nodes_of(script, ast.RouteCall, ast.Async, ast.Launch, ast.Call):
        if isinstance(node, ast.RouteCall) and isinstance(node.target, ast.RouteName):
            target = node.target
            if not (target.style == "string" and "$" in target.name):
                refs.append(("route", target.name, target.span))
        elif isinstance(node, ast.Async):
            refs.append(("route", node.resume.name, node.resume.span))
        elif isinstance(node, ast.Launch) and node.report is not None:
            refs.append(("route", node.report.name, node.report.span))
        elif isinstance(node, ast.Call) and node.name in ROUTE_ARGS:
            index, kind = ROUTE_ARGS[node.name]
            arg = node.args[index] if index < len(node.args) else None
            if isinstance(arg, ast.StringLit) and "$" not in arg.value and arg.value:
                refs.append((kind, arg.value, arg.span))
            elif isinstance(arg, ast.Number | ast.BareName):
                refs.append((kind, arg.text if isinstance(arg, ast.Number) else arg.name, arg.span))
    return refs
