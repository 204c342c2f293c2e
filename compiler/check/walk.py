"""Walking the syntax tree: every node below a node, and every statement list."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

from compiler import ast, records

_CHILD_FIELDS: dict[type, tuple[str, ...] | None] = {}
# A class -> what `_walk` puts on its stack for a node of it: the value of its one child
# field, or a tuple of its child fields' values (None: not a node class; _NO_CHILDREN: a
# node class without child fields).
_CHILDREN: dict[type, Callable[[Any], Any] | None] = {}


def _no_children(node: Any) -> None:
    return None


_NO_CHILDREN: Callable[[Any], Any] = _no_children


def _child_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a node class that may hold nodes (None: not a node), computed once.

    A string's format parts are left out: they are variables only where the string is
    expanded, which the caller decides (see `string_pvars`)."""
    if cls not in _CHILD_FIELDS:
        names = records.fields(cls)
        if names is None or cls is ast.Span:
            _CHILD_FIELDS[cls] = None
        else:
            _CHILD_FIELDS[cls] = tuple(n for n in names if n not in ("span", "parts"))
    return _CHILD_FIELDS[cls]


# Field types that never hold a node: the walk does not look into such fields.
_LEAF_TYPES = frozenset({"str", "int", "bool", "Span", "str | None", "RouteKind"})


def _children_of(cls: type) -> Callable[[Any], Any] | None:
    """`_CHILDREN[cls]`, made on first use."""
    names = _child_fields(cls)
    getter: Callable[[Any], Any] | None = None
    if names is not None:
        described = getattr(cls, "__dataclass_fields__", {})
        kept = tuple(
            name
            for name in names
            if not (
                name in described
                and isinstance(kind := described[name].type, str)
                and (kind in _LEAF_TYPES or kind.startswith("Literal["))
            )
        )
        getter = attrgetter(*kept) if kept else _NO_CHILDREN
    _CHILDREN[cls] = getter
    return getter


# The passes each walk the whole script, and several walk each route's body; the walk of
# the last script is kept, with the part of it that is each route's body, so it is done
# once per `analyze()` instead of once per pass (the tree is immutable). With it, where
# each node class is in the walk, so that `nodes_of` picks its nodes out without looking
# at the others.
_last_script: _Walked | None = None


class _Walked:
    __slots__ = ("bodies", "nodes", "ranges", "script", "where")

    def __init__(self, script: ast.Script) -> None:
        self.script = script
        self.nodes, self.bodies, self.ranges = _walk_script(script)
        where: dict[type, list[int]] = {}
        for index, node in enumerate(self.nodes):
            cls = type(node)
            if cls in where:
                where[cls].append(index)
            else:
                where[cls] = [index]
        # node class -> its positions in `nodes`, in order
        self.where = where


def _walked(script: ast.Script) -> _Walked:
    global _last_script
    if _last_script is None or _last_script.script is not script:
        _last_script = _Walked(script)
    return _last_script


def iter_nodes(node: Any) -> Iterator[Any]:
    """Every node reachable from `node`, parents before children."""
    if type(node) is ast.Script:
        return iter(_walked(node).nodes)
    if _last_script is not None and type(node) is ast.Block:
        body = _last_script.bodies.get(id(node))
        if body is not None:
            return iter(body)
    return iter(_walk(node))


def nodes_of(node: Any, *classes: type) -> list[Any]:
    """The nodes below `node` of these classes, in `iter_nodes` order (AST classes have no
    subclasses, so this is `isinstance` done at C speed over the walk, kept for a script
    and its route bodies, where the kept positions of each class are picked out)."""
    walked: _Walked | None = None
    if type(node) is ast.Script:
        walked = _walked(node)
        lo, hi = 0, len(walked.nodes)
    elif _last_script is not None and type(node) is ast.Block:
        extent = _last_script.ranges.get(id(node))
        if extent is not None:
            walked = _last_script
            lo, hi = extent
    if walked is None:
        wanted = frozenset(classes)
        return [found for found in _walk(node) if type(found) in wanted]
    nodes, where = walked.nodes, walked.where
    positions: list[int] = []
    for cls in classes:
        at = where.get(cls)
        if at is None:
            continue
        if lo or hi < len(nodes):
            at = at[bisect_left(at, lo) : bisect_left(at, hi)]
        positions = at if not positions else [*positions, *at]
    if len(classes) > 1:
        positions = sorted(positions)
    return [nodes[i] for i in positions]


def _walk_script(
    script: ast.Script,
) -> tuple[list[Any], dict[int, list[Any]], dict[int, tuple[int, int]]]:
    """`_walk(script)` as a list; the slice of it that is each route body (by id), and
    where that slice is."""
    nodes: list[Any] = [script]
    bodies: dict[int, list[Any]] = {}
    ranges: dict[int, tuple[int, int]] = {}
    for item in script.items:
        if type(item) is not ast.RouteDef:
            nodes += _walk(item)
            continue
        nodes.append(item)
        for name in _CHILD_FIELDS.get(ast.RouteDef) or _child_fields(ast.RouteDef) or ():
            child = getattr(item, name)
            below = _walk(child)
            if child is item.body:
                bodies[id(child)] = below
                ranges[id(child)] = (len(nodes), len(nodes) + len(below))
            nodes += below
    return nodes, bodies, ranges


def _walk(node: Any) -> list[Any]:
    """Every node below and including `node`, parents first, children in field order."""
    out: list[Any] = []
    append = out.append
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    children = _CHILDREN
    no_children = _NO_CHILDREN
    while stack:
        cur = pop()
        cls = type(cur)
        if cls is tuple:  # a tuple field, or the values of a node's child fields
            extend(reversed(cur))
            continue
        get = children[cls] if cls in children else _children_of(cls)
        if get is None:
            continue
        append(cur)
        if get is not no_children:
            push(get(cur))
    return out


def pvars_in(pv: ast.PVar) -> list[ast.PVar]:
    """`pv` and the variables inside it (`$avp($var(n))`), in `iter_nodes` order; most
    variables (`$ru`, `$var(x)`) have none, and are not walked."""
    if type(pv.inner) is not ast.PVar and type(pv.index) is not ast.PVar and not pv.transforms:
        return [pv]
    return [node for node in iter_nodes(pv) if type(node) is ast.PVar]


def string_pvars(s: ast.StringLit) -> Iterator[ast.PVar]:
    """The variables a format string expands."""
    for part in s.parts or ():
        if isinstance(part, ast.PVar):
            yield part
