"""Control flow and statement shape: unreachable statements, `break` placement, argument forms."""

from __future__ import annotations

from compiler import ast
from compiler.check.walk import nodes_of
from compiler.diagnostics import Diagnostic, make

_ENDS_ROUTE = (ast.Exit, ast.Return, ast.Drop, ast.Async)
# AST node classes have no subclasses: a class is tested with one set lookup.
_ENDS_ROUTE_CLASSES = frozenset(_ENDS_ROUTE)
# The statements `_walk_stmt` looks into or reports; it passes over the others.
_WALKED = frozenset({ast.Break, ast.Block, ast.If, ast.While, ast.ForEach, ast.Switch})


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for route in script.routes:
        _walk_body(route.body.body, out, in_loop=False)
    for node in nodes_of(script, ast.Call, ast.RouteCall, ast.Compare, ast.Switch):
        if isinstance(node, ast.Call | ast.RouteCall):
            for arg in node.args:
                if isinstance(arg, ast.BareName):
                    out.append(
                        make(
                            "bare-word",
                            arg.span,
                            f"unquoted word `{arg.name}` as an argument",
                            help=f'quote it: `"{arg.name}"` (OpenSIPS 3.x takes only strings, numbers and variables)',
                        )
                    )
        elif isinstance(node, ast.Compare) and node.op in ("=~", "!~"):
            if not isinstance(node.right, ast.StringLit | ast.PVar):
                out.append(
                    make(
                        "regex-operand",
                        node.right.span,
                        f"`{node.op}` needs a regular expression string or a variable on the right",
                        help='write the pattern as a string: `$var(x) =~ "^[0-9]+$"`',
                    )
                )
        elif isinstance(node, ast.Switch):
            out.extend(_check_switch(node))
    return out


def ends_route(stmt: ast.Stmt) -> bool:
    """True when running `stmt` always leaves the route (or the whole script)."""
    if type(stmt) in _ENDS_ROUTE_CLASSES:
        return True
    if isinstance(stmt, ast.Block):
        return any(ends_route(s) for s in stmt.body)
    if isinstance(stmt, ast.If) and stmt.orelse is not None:
        return ends_route(stmt.then) and ends_route(stmt.orelse)
    return False


def _walk_body(body: tuple[ast.Stmt, ...], out: list[Diagnostic], *, in_loop: bool) -> None:
    ended_by: ast.Stmt | None = None
    for stmt in body:
        if ended_by is not None and not isinstance(stmt, ast.Empty):
            what = _describe_end(ended_by)
            out.append(
                make(
                    "unreachable",
                    stmt.span,
                    f"this statement never runs: {what} before it always leaves the route",
                    help="remove it, or move it before the statement that ends the route",
                )
            )
            ended_by = None
            break
        _walk_stmt(stmt, out, in_loop=in_loop)
        if ends_route(stmt):
            ended_by = stmt


def _describe_end(stmt: ast.Stmt) -> str:
    names = {ast.Exit: "`exit`", ast.Return: "`return`", ast.Drop: "`drop`", ast.Async: "`async()`"}
    for cls, text in names.items():
        if isinstance(stmt, cls):
            return text
    return "the statement"


def _walk_stmt(stmt: ast.Stmt, out: list[Diagnostic], *, in_loop: bool) -> None:
    if type(stmt) not in _WALKED:
        return
    if isinstance(stmt, ast.Break) and not in_loop:
        out.append(
            make(
                "break-outside-loop",
                stmt.span,
                "`break` outside a loop or `switch`",
                help="to leave the route write `return;`, to stop the script `exit;`",
            )
        )
    elif isinstance(stmt, ast.Block):
        _walk_body(stmt.body, out, in_loop=in_loop)
    elif isinstance(stmt, ast.If):
        _walk_stmt(stmt.then, out, in_loop=in_loop)
        if stmt.orelse is not None:
            _walk_stmt(stmt.orelse, out, in_loop=in_loop)
    elif isinstance(stmt, ast.While | ast.ForEach):
        _walk_stmt(stmt.body, out, in_loop=True)
    elif isinstance(stmt, ast.Switch):
        for case in stmt.cases:
            _walk_body(case.body, out, in_loop=True)


def _check_switch(node: ast.Switch) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    defaults = [c for c in node.cases if c.label is None]
    for extra in defaults[1:]:
        out.append(make("switch-default", extra.span, "a `switch` has only one `default`"))
    if defaults and node.cases[-1].label is not None:
        out.append(
            make(
                "switch-default",
                defaults[0].span,
                "`default` must be the last item of the `switch`",
                help="move the `case` items above it",
            )
        )
    if not any(c.label is not None for c in node.cases):
        out.append(make("switch-default", node.span, "a `switch` needs at least one `case`"))
    return out
