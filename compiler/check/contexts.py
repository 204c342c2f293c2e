"""Route contexts: each function and pseudo-variable only where its route kind allows it.

Every top route is walked through its static `route()` calls (language.md §4.3); what a
function allows comes from the registry (`FunctionSpec.routes`, `UnsupportedSpec.routes`),
what a variable means where from the variable table (`PvSpec.routes`). OpenSIPS also checks
every `route[...]` block's functions as a request route when it reads the script, so a named
route is checked that way too, whoever calls it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler import ast
from compiler.check import callgraph
from compiler.check.callgraph import CONTEXT_ORDER, CONTEXT_TITLE
from compiler.check.walk import nodes_of, pvars_in, string_pvars
from compiler.diagnostics import Diagnostic, Note, make
from compiler.registry_view import REGISTRY, UNSUPPORTED, ParamKind
from runtime.core.pvspec import MESSAGE_ROUTES, lookup_pv
from runtime.core.script import RouteKind

_PARSE_TIME_NOTE = "OpenSIPS checks every `route[...]` block as a request route when it starts"
_NO_MESSAGE = frozenset({"startup", "timer", "event"})
# The context of a `launch()` report route or an event handler route: a request route of
# its own, run later without the SIP message of the run that started it.
_DETACHED = "detached"
_TITLES = {**CONTEXT_TITLE, _DETACHED: "route run without a SIP message"}


@dataclass(slots=True)
class _Site:
    """One call or variable used where some context does not allow it."""

    node: Any
    what: str
    allowed: frozenset[str]
    contexts: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    more: int = 0
    """Further uses of the same variable in the same route block."""


def check(script: ast.Script) -> list[Diagnostic]:
    graph = callgraph.build(script)
    sites: dict[object, _Site] = {}
    reached: set[int] = set()
    uses: dict[tuple[int, bool], list[_Use]] = {}  # a route reached from several tops
    for top in graph.tops():
        origin = None
        if top.origin != top.route.title:
            origin = (
                f"{top.route.title} runs as a request route of its own, started by {top.origin}"
            )
        for route, chain in graph.reach(top.route).values():
            reached.add(id(route))
            notes = [Note(callgraph.chain_note(chain))] if len(chain) > 1 else []
            if origin is None:
                _visit(route, top.context, notes, sites, uses, variables=True)
                continue
            # A detached request route: its functions are checked as a request route's,
            # its variables as in a route without a SIP message.
            notes.append(Note(origin))
            _visit(route, top.context, notes, sites, uses, variables=False)
            _visit(route, _DETACHED, notes, sites, uses, variables=True, functions=False)
    for route in graph.routes.values():
        if route.kind == "route" and route.name is not None:
            unreached = id(route) not in reached
            notes = [] if unreached else [Note(_PARSE_TIME_NOTE)]
            _visit(route, "request", notes, sites, uses, variables=unreached)
    return [_report(site) for site in sites.values()]


def _visit(
    route: ast.RouteDef,
    context: str,
    notes: list[Note],
    sites: dict[object, _Site],
    uses: dict[tuple[int, bool], list[_Use]],
    *,
    variables: bool,
    functions: bool = True,
) -> None:
    walked = (id(route), variables)
    if walked not in uses:
        uses[walked] = list(_uses(route, variables=variables))
    for node, allowed, what in uses[walked]:
        if what == "function" and not functions:
            continue
        if context in allowed or (context == _DETACHED and allowed & _NO_MESSAGE):
            continue
        # One report per variable per route block: the cause is the block's kind, not the use.
        key = id(node) if what == "function" else (id(route), node.name)
        site = sites.get(key)
        if site is None:
            site = sites[key] = _Site(node, what, allowed)
        elif site.node is not node:
            site.more += 1
        if context not in site.contexts:
            site.contexts.append(context)
            site.notes.extend(n for n in notes if n not in site.notes)


_Use = tuple[Any, frozenset[str], str]


def _uses(route: ast.RouteDef, *, variables: bool) -> Iterator[_Use]:
    """Each call and variable of the route body, with the contexts that allow it."""
    for node in nodes_of(route.body, ast.Call, ast.PVar, ast.Xlog, ast.Launch):
        if isinstance(node, ast.Call):
            kinds = _function_routes(node.name)
            if kinds is not None:
                yield node, kinds, "function"
            if variables:
                for pv in _argument_formats(node):
                    yield from _pvar_use(pv)
        elif not variables:
            continue
        elif isinstance(node, ast.PVar):
            yield from _pvar_use(node)
        elif isinstance(node, ast.Xlog):
            for s in (*node.parts, *((node.level,) if node.level else ())):
                for pv in string_pvars(s):
                    yield from _pvar_use(pv)
        elif isinstance(node, ast.Launch) and node.param is not None:
            for pv in string_pvars(node.param):
                yield from _pvar_use(pv)


@functools.cache  # the registry does not change
def _function_routes(name: str) -> frozenset[str] | None:
    spec = REGISTRY.get(name)
    unsupported = UNSUPPORTED.get(name)
    flags = spec.routes if spec else unsupported.routes if unsupported else None
    if flags is None:
        return None
    return frozenset(c for c in CONTEXT_ORDER if RouteKind[c.upper()] in flags)


def _argument_formats(call: ast.Call) -> Iterator[ast.PVar]:
    """Variables inside the string arguments a function expands."""
    spec = REGISTRY.get(call.name)
    for index, arg in enumerate(call.args):
        if not isinstance(arg, ast.StringLit):
            continue
        if spec is not None and (
            index >= len(spec.params) or spec.params[index].kind is not ParamKind.STR
        ):
            continue
        for pv in string_pvars(arg):
            yield from pvars_in(pv)


def _pvar_use(pv: ast.PVar) -> Iterator[tuple[Any, frozenset[str], str]]:
    spec = lookup_pv(pv.name) if pv.name else None
    if spec is None:
        return
    allowed = spec.routes
    if pv.context == "reply":  # `$(<reply>rs)` reads the winning reply of a failure route
        allowed = allowed | {"failure"}
    elif pv.context == "request":  # `$(<request>ru)` reads the request from a reply route
        allowed = allowed | {"onreply"}
    if "request" in allowed:  # a local_route runs on a request too: one TM generated
        allowed = allowed | {"local"}
    yield pv, allowed, "variable"


def _article(title: str) -> str:
    return "an" if title.lstrip("`")[0] in "aeiou" else "a"


def _allowed_text(allowed: frozenset[str]) -> str:
    names = [CONTEXT_TITLE[c] for c in CONTEXT_ORDER if c in allowed]
    names = ["request routes" if n == "request route" else n for n in names]
    return ", ".join(names) if names else "no route"


def _report(site: _Site) -> Diagnostic:
    context = site.contexts[0]
    title = _TITLES[context]
    where = f"{_article(title)} {title}"
    allowed = _allowed_text(site.allowed)
    if site.what == "function":
        call: ast.Call = site.node
        return make(
            "route-context",
            call.name_span,
            f"`{call.name}` cannot be called from {where}",
            help=f"`{call.name}` is allowed in {allowed}",
            notes=site.notes,
        )
    pv: ast.PVar = site.node
    reason = (
        f": {where} runs without a SIP message"
        if context in _NO_MESSAGE and site.allowed <= MESSAGE_ROUTES
        else ""
    )
    # OpenSIPS runs these routes on an empty dummy message and its own tests use that on
    # purpose, so reading a message variable there is dubious rather than wrong.
    dummy = all(c in _NO_MESSAGE or c == _DETACHED for c in site.contexts)
    more = (
        [Note(f"and {site.more} more use{'s' if site.more > 1 else ''} in the same route")]
        if site.more
        else []
    )
    return make(
        "route-context",
        pv.span,
        f"`{pv.text}` means nothing in {where}{reason}",
        help=f"`${pv.name}` is available in {allowed}",
        notes=[*site.notes, *more],
        severity="warning" if dummy else None,
    )
