"""Walking the syntax tree: every node below a node, and every statement list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

from compiler import ast, records

_CHILD_FIELDS: dict[type, tuple[str, ...] | None] = {}
# A class -> what its child fields hold, last field first (None: not a node class).
_CHILDREN: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


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


def _children_of(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """`_CHILDREN[cls]`, made on first use."""
    names = _child_fields(cls)
    getter: Callable[[Any], tuple[Any, ...]] | None = None
    if names is not None:
        last_first = names[::-1]
        if len(last_first) >= 2:
            getter = attrgetter(*last_first)
        elif last_first:
            one = attrgetter(last_first[0])
            getter = lambda node: (one(node),)  # noqa: E731
        else:
            getter = lambda node: ()  # noqa: E731
    _CHILDREN[cls] = getter
    return getter


# The passes each walk the whole script, and several walk each route's body; the walk of
# the last script is kept, with the part of it that is each route's body, so it is done
# once per `analyze()` instead of once per pass (the tree is immutable).
_last_script: tuple[ast.Script, list[Any], dict[int, list[Any]]] | None = None


def iter_nodes(node: Any) -> Iterator[Any]:
    """Every node reachable from `node`, parents before children."""
    global _last_script
    if type(node) is ast.Script:
        if _last_script is None or _last_script[0] is not node:
            _last_script = (node, *_walk_script(node))
        return iter(_last_script[1])
    if _last_script is not None and type(node) is ast.Block:
        body = _last_script[2].get(id(node))
        if body is not None:
            return iter(body)
    return iter(_walk(node))


def nodes_of(node: Any, *classes: type) -> list[Any]:
    """The nodes below `node` of these classes, in `iter_nodes` order (AST classes have no
    subclasses, so this is `isinstance` done at C speed over the walk, kept for a script
    and its route bodies)."""
    wanted = frozenset(classes)
    return [found for found in iter_nodes(node) if type(found) in wanted]


def _walk_script(script: ast.Script) -> tuple[list[Any], dict[int, list[Any]]]:
    """`_walk(script)` as a list, and the slice of it that is each route body (by id)."""
    nodes: list[Any] = [script]
    bodies: dict[int, list[Any]] = {}
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
            nodes += below
    return nodes, bodies


def _walk(node: Any) -> list[Any]:
    """Every node below and including `node`, parents first, children in field order."""
    out: list[Any] = []
    append = out.append
    stack = [node]
    pop, extend = stack.pop, stack.extend
    children = _CHILDREN
    while stack:
        cur = pop()
        cls = type(cur)
        if cls is tuple:
            extend(reversed(cur))
            continue
        get = children[cls] if cls in children else _children_of(cls)
        if get is None:
            continue
        append(cur)
        extend(get(cur))
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
