"""Value types (language.md §6.3): where OpenSIPS fails, or quietly misbehaves, on a mix.

A value is an integer, a string or null; an integer read from a variable also has its
decimal string form, a number literal does not. Every pseudo-variable has a declared type
(`runtime/core/pvspec.py`); a `$var(x)` has the union of what the routes running together
assign to it (flow-insensitive). Only operands whose type is certain are judged: a mismatch
on declared types is an error (OpenSIPS fails at run time), on an inferred `$var` a warning.
"""

from __future__ import annotations

from typing import Any

from compiler import ast
from compiler.check import callgraph
from compiler.check.precedence import show
from compiler.check.walk import nodes_of
from compiler.diagnostics import Diagnostic, Severity, make
from compiler.records import record
from compiler.registry_view import REGISTRY, ParamKind
from runtime.core.pvspec import lookup_pv, lookup_transform

Env = dict[str, frozenset[str]]
"""`$var` name -> the value types assigned to it ("int", "str")."""

_BOTH = frozenset({"int", "str"})
_ARITH = ("-", "*", "/", "%", "<<", ">>")
_BITWISE = ("&", "|", "^")
_PLUS_OR_BITWISE = ("+", *_BITWISE)


@record
class Shape:
    """What is certain about an operand: `int` (with or without a string form) or `str`."""

    kind: str
    """"int", "str", or "literal" (an integer with no string form)."""
    declared: bool
    """True for literals and table-typed variables; False for an inferred `$var`."""

    @property
    def is_int(self) -> bool:
        return self.kind in ("int", "literal")


def check(script: ast.Script) -> list[Diagnostic]:
    graph = callgraph.build(script)
    envs = route_envs(graph)
    out: list[Diagnostic] = []
    for route in graph.routes.values():
        env = envs.get(id(route), {})
        cache: dict[int, Shape | None] = {}
        for node in nodes_of(route.body, ast.BinOp, ast.Compare, ast.Switch, ast.Call):
            if isinstance(node, ast.BinOp):
                found = _check_binop(node, env, cache)
            elif isinstance(node, ast.Compare):
                found = _check_compare(node, env)
            elif isinstance(node, ast.Switch):
                found = _check_switch(node, env)
            elif isinstance(node, ast.Call):
                found = _check_int_args(node, env)
            else:
                continue
            out.extend(found)
    return out


# ---------------------------------------------------------------------------- environments


def route_envs(graph: callgraph.RouteGraph) -> dict[int, Env]:
    """The `$var` types each route sees: all assignments of the runs it takes part in."""
    own = {id(r): assignments(r) for r in graph.routes.values()}
    result: dict[int, Env] = {}
    starts = [t.route for t in graph.tops()]
    reached: set[int] = set()
    for top in starts:
        members = graph.reach(top)
        reached.update(members)
        env = _union(own[i] for i in members if i in own)
        for member in members:
            seen = result.get(member)
            # shared until a second run reaches the member (envs are never changed in place)
            result[member] = env if seen is None else _union([seen, env])
    for route in graph.routes.values():
        if id(route) not in reached:  # called through a variable only: checked on its own
            members = graph.reach(route)
            result[id(route)] = _union(own[i] for i in members if i in own)
    return result


def _union(envs: Any) -> Env:
    merged: dict[str, frozenset[str]] = {}
    for env in envs:
        for name, kinds in env.items():
            merged[name] = merged.get(name, frozenset()) | kinds
    return merged


def assignments(route: ast.RouteDef) -> Env:
    """What one route body assigns to each `$var`, ignoring null."""
    env: dict[str, frozenset[str]] = {}

    def add(pv: ast.PVar, kinds: frozenset[str]) -> None:
        if pv.name == "var" and isinstance(pv.inner, str):
            env[pv.inner] = env.get(pv.inner, frozenset()) | kinds

    for node in nodes_of(route.body, ast.Assign, ast.ForEach, ast.Call):
        if isinstance(node, ast.Assign):
            add(node.target, _assigned_kinds(node, {}))
        elif isinstance(node, ast.ForEach):
            add(node.var, _BOTH)
        elif isinstance(node, ast.Call):
            spec = REGISTRY.get(node.name)
            for index, arg in enumerate(node.args):
                if not isinstance(arg, ast.PVar):
                    continue
                param = spec.params[index] if spec and index < len(spec.params) else None
                if param is None:
                    add(arg, _BOTH)  # an unknown function may write any variable it is given
                elif param.kind in (ParamKind.OUT, ParamKind.VAR):
                    vt = param.value_type
                    add(arg, frozenset({vt.__name__}) if vt in (int, str) else _BOTH)
    return env


def _assigned_kinds(node: ast.Assign, env: Env) -> frozenset[str]:
    if isinstance(node.value, ast.Null):
        return frozenset()
    if node.op not in ("=", ":="):
        return frozenset({"str"}) if node.op == "+=" and _is_str(node.value) else _BOTH
    shape = shape_of(node.value, env)
    if shape is None:
        return _BOTH
    return frozenset({"int"}) if shape.is_int else frozenset({"str"})


def _is_str(expr: Any) -> bool:
    return isinstance(expr, ast.StringLit)


def shape_of(expr: Any, env: Env, cache: dict[int, Shape | None] | None = None) -> Shape | None:
    """What is certain about the value of `expr`, or None when it may be either.

    `cache` keeps the shapes of operator nodes already seen, so checking every node of a
    long chain stays linear; the chain's left spine is walked in a loop, not recursively.
    """
    if isinstance(expr, ast.Number):
        return Shape("literal", True)
    if isinstance(expr, ast.StringLit):
        return Shape("str", True)
    if isinstance(expr, ast.Paren):
        return shape_of(expr.inner, env, cache)
    if isinstance(expr, ast.PVar):
        return _pvar_shape(expr, env)
    if isinstance(expr, ast.BitNot | ast.Compare | ast.Call | ast.RouteCall):
        return Shape("int", True)  # an action's value is its return code
    if not isinstance(expr, ast.BinOp):
        return None
    cache = {} if cache is None else cache
    spine: list[ast.BinOp] = []
    node: Any = expr
    while isinstance(node, ast.BinOp) and id(node) not in cache:
        spine.append(node)
        node = node.left
    shape = cache[id(node)] if isinstance(node, ast.BinOp) else shape_of(node, env, cache)
    for link in reversed(spine):
        right = shape_of(link.right, env, cache)
        if shape is None or right is None:
            shape = None
        elif link.op == "+" and shape.kind == "str":
            shape = Shape("str", shape.declared and right.declared)
        else:
            shape = Shape("int", shape.declared and right.declared)
        cache[id(link)] = shape
    return shape


def _pvar_shape(pv: ast.PVar, env: Env) -> Shape | None:
    if pv.transforms:
        spec = lookup_transform(pv.transforms[-1].name)
        if spec is None or spec.output_type not in ("int", "str"):
            return None
        return Shape(spec.output_type, True)
    if pv.name == "var":
        kinds = env.get(pv.inner) if isinstance(pv.inner, str) else None
        if kinds is None or len(kinds) != 1:
            return None
        return Shape(next(iter(kinds)), False)
    pv_spec = lookup_pv(pv.name) if pv.name else None
    if pv_spec is None or pv_spec.value_type not in ("int", "str"):
        return None
    return Shape(pv_spec.value_type, True)


# ---------------------------------------------------------------------------- checks


def _severity(*shapes: Shape) -> Severity:
    """An error where OpenSIPS surely fails; a warning where a `$var`'s type was inferred."""
    return "error" if all(s.declared for s in shapes) else "warning"


def _why(shape: Shape, expr: Any) -> str:
    if shape.declared:
        return ""
    return f" (`{show(expr)}` is only ever assigned {'strings' if shape.kind == 'str' else 'integers'})"


def _check_binop(node: ast.BinOp, env: Env, cache: dict[int, Shape | None]) -> list[Diagnostic]:
    left = shape_of(node.left, env, cache)
    right = shape_of(node.right, env, cache)
    if left is None or right is None:
        return []
    severity = _severity(left, right)
    if node.op == "+" and left.kind == "str" and right.kind == "literal":
        lt, rt = show(node.left), show(node.right)
        return [
            make(
                "type-mismatch",
                node.span,
                f"`{lt} + {rt}` adds a number literal to a string, which fails in OpenSIPS"
                + _why(left, node.left),
                help=f'a number literal has no string form: write `{lt} + "{rt}"`',
                severity=severity,
            )
        ]
    if node.op in _PLUS_OR_BITWISE and left.is_int and right.kind == "str":
        lt, rt = show(node.left), show(node.right)
        return [
            make(
                "type-mismatch",
                node.span,
                f"`{lt} {node.op} {rt}`: an integer on the left needs an integer on the right"
                + _why(right, node.right),
                help='to build a string, start with one: `"" + ...`, or convert with `{s.int}`',
                severity=severity,
            )
        ]
    if node.op in _ARITH and (left.kind == "str" or right.kind == "str"):
        culprit, expr = (left, node.left) if left.kind == "str" else (right, node.right)
        return [
            make(
                "type-mismatch",
                node.span,
                f"`{node.op}` on the string `{show(expr)}` fails in OpenSIPS" + _why(culprit, expr),
                help="only `+` works on strings (it concatenates); convert with `{s.int}` first",
                severity=_severity(culprit),
            )
        ]
    if node.op in _BITWISE and left.kind == "str" and right.is_int:
        lt, rt = show(node.left), show(node.right)
        return [
            make(
                "type-mismatch",
                node.span,
                f"`{lt} {node.op} {rt}` mixes a string and an integer, which fails in OpenSIPS",
                help="convert the string with `{s.int}` first",
                severity=severity,
            )
        ]
    return []


def _check_compare(node: ast.Compare, env: Env) -> list[Diagnostic]:
    if node.op in ("=~", "!~") or not isinstance(node.right, ast.Number):
        return []
    left = shape_of(node.left, env)
    if left is None or left.kind != "str":
        return []
    return [
        make(
            "type-mismatch",
            node.span,
            f"`{node.left.text}` is a string, compared with the number {node.right.text}"
            + _why(left, node.left),
            help=f"OpenSIPS logs a type error and takes the else branch: compare with "
            f'"{node.right.text}", or convert: `$({node.left.text[1:]}{{s.int}}) '
            f"{node.op} {node.right.text}`"
            if not node.left.text.startswith("$(")
            else f'compare with "{node.right.text}", or convert with `{{s.int}}`',
            severity=_severity(left),
        )
    ]


def _check_switch(node: ast.Switch, env: Env) -> list[Diagnostic]:
    subject = shape_of(node.subject, env)
    if subject is None or subject.kind != "str":
        return []
    return [
        make(
            "type-mismatch",
            case.label.span,
            f"`case {case.label.text}:` never matches: `{node.subject.text}` is a string"
            + _why(subject, node.subject),
            help=f'write `case "{case.label.text}":`',
            severity="warning",
        )
        for case in node.cases
        if isinstance(case.label, ast.Number)
    ]


def _check_int_args(node: ast.Call, env: Env) -> list[Diagnostic]:
    spec = REGISTRY.get(node.name)
    if spec is None:
        return []
    out: list[Diagnostic] = []
    for param, arg in zip(spec.params, node.args, strict=False):
        if param.kind is not ParamKind.INT or not isinstance(arg, ast.PVar):
            continue
        shape = _pvar_shape(arg, env)
        if shape is not None and shape.kind == "str":
            out.append(
                make(
                    "type-mismatch",
                    arg.span,
                    f"`{node.name}` argument `{param.name}` needs an integer, "
                    f"but `{arg.text}` is a string" + _why(shape, arg),
                    help='OpenSIPS refuses a string value here at run time, even `"5"`: '
                    "convert it with `{s.int}`",
                    severity=_severity(shape),
                )
            )
    return out
