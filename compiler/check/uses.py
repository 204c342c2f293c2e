"""Use before set: a `$var` read on a path where nothing has assigned it yet in this run.

A forward "definitely assigned" analysis over the statements of each route. Assignments
only add to the state and paths meet by intersection, so a route's effect on its caller is
one set, its summary: what every normal return of it has assigned (a greatest fixpoint,
so a route that only ever calls itself back never returns). A callee's summary is added
after each `route()` call.
For each top route, the state each reached route is entered with is the intersection over
its call sites in that run, found by a worklist; a last walk reports the reads. `async()`
resume routes continue with the caller's state, since sipc keeps the `$var`s across the
wait. Loops are taken zero or one time. A function output (`pv_printf($var(x), ...)`, or
any variable handed to a function whose parameters sipc does not know) is an assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from compiler import ast
from compiler.check import callgraph
from compiler.check.walk import pvars_in, string_pvars
from compiler.diagnostics import Diagnostic, Note, make
from compiler.registry_view import REGISTRY, ParamKind

State = frozenset[str]


def check(script: ast.Script) -> list[Diagnostic]:
    graph = callgraph.build(script)
    flow = _Flow(graph)
    for top in graph.tops():
        flow.run_top(top)
    return flow.out


def _join(states: Iterable[State | None]) -> State | None:
    live = [s for s in states if s is not None]
    if not live:
        return None
    result = live[0]
    for s in live[1:]:
        result = result & s
    return result


class _Flow:
    def __init__(self, graph: callgraph.RouteGraph) -> None:
        self.graph = graph
        self.out: list[Diagnostic] = []
        self.reported_sites: set[int] = set()
        self.reported_names: set[str] = set()
        self.top: callgraph.Top | None = None
        self.chain: tuple[str, ...] = ()
        self.returns: list[list[State]] = []
        self.breaks: list[list[State]] = []
        self.summaries: dict[int, State | None] | None = None
        self.entries: dict[int, State] | None = None
        """While propagating a top route's run: the state each reached route starts with."""
        self.pending: list[ast.RouteDef] = []
        self.reporting = False

    def run_top(self, top: callgraph.Top) -> None:
        self.top = top
        self.reported_names = set()
        self.entries = {id(top.route): frozenset()}
        self.pending = [top.route]
        routes = {id(top.route): top.route}
        while self.pending:
            route = self.pending.pop()
            routes[id(route)] = route
            self.body(route, self.entries[id(route)])
        entries, self.entries = self.entries, None
        chains = self.graph.reach(top.route)
        self.reporting = True
        for route_id, state in entries.items():
            self.chain = chains[route_id][1] if route_id in chains else (routes[route_id].title,)
            self.body(routes[route_id], state)
        self.reporting = False

    # ------------------------------------------------------------------ routes

    def body(self, route: ast.RouteDef, state: State) -> State | None:
        """Walk one route body from `state`; the state after it returns, None if it never does."""
        self.returns.append([])
        self.breaks.append([])  # a stray `break` ends nothing past its route
        end = self.stmts(route.body.body, state)
        returned = self.returns.pop()
        self.breaks.pop()
        return _join([*returned, end])

    def enter(self, route: ast.RouteDef, state: State) -> State | None:
        """A call of `route` from `state`: note how it is entered, add what it assigns."""
        if self.entries is not None:
            old = self.entries.get(id(route))
            new = state if old is None else old & state
            if new != old:
                self.entries[id(route)] = new
                self.pending.append(route)
        summary = self.summary(route)
        return None if summary is None else state | summary

    def summary(self, route: ast.RouteDef) -> State | None:
        if self.summaries is None:
            self.summaries = self.summarize()
        return self.summaries.get(id(route))

    def summarize(self) -> dict[int, State | None]:
        """Every route's summary, by a worklist from "never returns" down to the fixpoint.

        Iterative, not recursive, so a long chain of `route()` calls cannot exhaust the
        stack; callees are done first so most routes are walked once.
        """
        routes = list(self.graph.routes.values())
        callers: dict[int, list[ast.RouteDef]] = {id(r): [] for r in routes}
        for r in routes:
            for edge in self.graph.callees(r):
                if edge.how == "route":
                    callers[id(edge.target)].append(r)
        self.summaries = {id(r): None for r in routes}
        queue = _post_order(self.graph, routes)
        queued = {id(r) for r in queue}
        saved = (self.entries, self.reporting)
        self.entries, self.reporting = None, False
        while queue:
            route = queue.pop(0)
            queued.discard(id(route))
            result = self.body(route, frozenset())
            if result != self.summaries[id(route)]:
                self.summaries[id(route)] = result
                for caller in callers[id(route)]:
                    if id(caller) not in queued:
                        queued.add(id(caller))
                        queue.append(caller)
        self.entries, self.reporting = saved
        return self.summaries

    # ------------------------------------------------------------------ statements

    def stmts(self, body: tuple[ast.Stmt, ...], state: State) -> State | None:
        current: State | None = state
        for stmt in body:
            if current is None:
                return None
            current = self.stmt(stmt, current)
        return current

    def stmt(self, stmt: Any, state: State) -> State | None:
        visit = _STATEMENTS.get(type(stmt))
        # log(), error(), `;`, include markers: nothing read, nothing set
        return state if visit is None else visit(self, stmt, state)

    def _assign(self, stmt: ast.Assign, state: State) -> State | None:
        state = self.expr(stmt.value, state)
        state = self.target_parts(stmt.target, state)
        return state | _var_names([stmt.target])

    def _route_call(self, stmt: ast.RouteCall, state: State) -> State | None:
        for arg in stmt.args:
            state = self.expr(arg, state)
        if isinstance(stmt.target, ast.RouteName):
            target = self.graph.named(stmt.target.name)
            if target is not None and "$" not in stmt.target.name:
                return self.enter(target, state)
        return state

    def _async(self, stmt: ast.Async, state: State) -> State | None:
        state = self.call(stmt.call, state)
        resume = self.graph.named(stmt.resume.name)
        if resume is not None:
            self.enter(resume, state)
        return None

    def _launch(self, stmt: ast.Launch, state: State) -> State | None:
        state = self.call(stmt.call, state)
        if stmt.param is not None:
            state = self.formats([stmt.param], state)
        return state

    def _return(self, stmt: ast.Return, state: State) -> State | None:
        for value in (stmt.code, *stmt.values):
            if value is not None:
                state = self.expr(value, state)
        self.returns[-1].append(state)
        return None

    def _end(self, stmt: ast.Exit | ast.Drop, state: State) -> State | None:
        return None

    def _xlog(self, stmt: ast.Xlog, state: State) -> State | None:
        return self.formats([*stmt.parts, *((stmt.level,) if stmt.level else ())], state)

    def _assert(self, stmt: ast.Assert, state: State) -> State | None:
        return self.cond(stmt.cond, state)

    def _block(self, stmt: ast.Block, state: State) -> State | None:
        return self.stmts(stmt.body, state)

    def _if(self, stmt: ast.If, state: State) -> State | None:
        state = self.cond(stmt.cond, state)
        then = self.stmt(stmt.then, state)
        orelse = self.stmt(stmt.orelse, state) if stmt.orelse is not None else state
        return _join([then, orelse])

    def _while(self, stmt: ast.While, state: State) -> State | None:
        state = self.cond(stmt.cond, state)
        self.loop(stmt.body, state)
        return state

    def _foreach(self, stmt: ast.ForEach, state: State) -> State | None:
        state = self.expr(stmt.collection, state)
        self.loop(stmt.body, state | _var_names([stmt.var]))
        return state

    def _break(self, stmt: ast.Break, state: State) -> State | None:
        self.breaks[-1].append(state)
        return None

    def loop(self, body: ast.Stmt, state: State) -> None:
        self.breaks.append([])
        self.stmt(body, state)
        self.breaks.pop()

    def switch(self, node: ast.Switch, state: State) -> State | None:
        state = self.expr(node.subject, state)
        self.breaks.append([])
        last: State | None = state
        for case in node.cases:
            # a case is entered by a match (with `state`) or by falling through
            last = self.stmts(case.body, state if last is None else _join([state, last]) or state)
        broken = self.breaks.pop()
        has_default = any(c.label is None for c in node.cases)
        return _join([*broken, last, *(() if has_default else (state,))])

    def call(self, call: ast.Call, state: State) -> State:
        spec = REGISTRY.get(call.name)
        written: list[ast.PVar] = []
        for index, arg in enumerate(call.args):
            param = spec.params[index] if spec is not None and index < len(spec.params) else None
            if isinstance(arg, ast.PVar):
                if param is None or param.kind in (ParamKind.OUT, ParamKind.VAR):
                    written.append(arg)  # an output, or a kind sipc does not know
                else:
                    state = self.expr(arg, state)
            elif isinstance(arg, ast.StringLit):
                quoted = _single_var(arg) if param is None else None
                if quoted is not None:
                    written.append(quoted)  # 2.x style: an output written in quotes
                elif param is None or param.kind is ParamKind.STR:
                    state = self.formats([arg], state)
        return state | _var_names(written) if written else state

    # ------------------------------------------------------------------ expressions

    def cond(self, cond: Any, state: State) -> State:
        if isinstance(cond, ast.Logic):
            spine: list[ast.Logic] = []
            while isinstance(cond, ast.Logic):  # a loop: conditions can be long
                spine.append(cond)
                cond = cond.left
            first = self.cond(cond, state)
            for link in reversed(spine):
                self.cond(link.right, first)
            return first  # what follows the first operand may not run
        if isinstance(cond, ast.Not):
            return self.cond(cond.operand, state)
        if isinstance(cond, ast.Paren):
            return self.cond(cond.inner, state)
        if isinstance(cond, ast.ArithTest):
            return self.expr(cond.expr, state)
        return self.expr(cond, state)

    def expr(self, expr: Any, state: State) -> State:
        if type(expr) in _LITERALS:
            return state
        if isinstance(expr, ast.PVar):
            self.read(expr, state)
            return state
        if isinstance(expr, ast.BinOp):
            spine: list[ast.BinOp] = []
            while isinstance(expr, ast.BinOp):  # a loop: operator chains can be long
                spine.append(expr)
                expr = expr.left
            state = self.expr(expr, state)
            for link in reversed(spine):
                state = self.expr(link.right, state)
            return state
        if isinstance(expr, ast.Compare):
            return self.expr(expr.right, self.expr(expr.left, state))
        if isinstance(expr, ast.BitNot):
            return self.expr(expr.operand, state)
        if isinstance(expr, ast.Paren):
            return self.cond(expr.inner, state)
        if isinstance(expr, ast.Call | ast.RouteCall | ast.Assign | ast.If | ast.Block):
            after = self.stmt(expr, state)
            return state if after is None else after
        if isinstance(expr, ast.Return | ast.Exit | ast.Drop | ast.Xlog | ast.Async):
            self.stmt(expr, state)
        return state

    def formats(self, strings: list[ast.StringLit], state: State) -> State:
        for s in strings:
            for pv in string_pvars(s):
                self.read(pv, state)
        return state

    def target_parts(self, target: ast.PVar, state: State) -> State:
        """Variables inside an assignment target (`$avp($var(n))`) are read."""
        for node in pvars_in(target):
            if node is not target and isinstance(node, ast.PVar):
                self.read(node, state)
        return state

    def read(self, pv: ast.PVar, state: State) -> None:
        for node in pvars_in(pv):
            if node is not pv:
                self.read(node, state)
        if not self.reporting:
            return
        if pv.name != "var" or not isinstance(pv.inner, str) or pv.inner in state:
            return
        if pv.inner in self.reported_names or id(pv) in self.reported_sites:
            return
        self.reported_names.add(pv.inner)
        self.reported_sites.add(id(pv))
        assert self.top is not None
        notes = []
        if len(self.chain) > 1:
            notes.append(Note("in a run of " + " -> ".join(self.chain)))
        self.out.append(
            make(
                "use-before-set",
                pv.span,
                f"`{pv.text}` may be read before it is set in a run of {self.top.route.title}",
                help=f"assign it first (e.g. `{pv.text} = 0;`): sipc starts every run with "
                "`$var`s null, while OpenSIPS keeps the value the previous message of the "
                "same process left",
                notes=notes,
            )
        )


# Expressions that read nothing.
_LITERALS = frozenset({ast.StringLit, ast.Number, ast.Null, ast.IpLiteral, ast.BareName})
# How `_Flow.stmt` takes each statement class (one dict lookup instead of a chain of tests).
_STATEMENTS: dict[type, Callable[[_Flow, Any, State], State | None]] = {
    ast.Assign: _Flow._assign,
    ast.Call: _Flow.call,
    ast.RouteCall: _Flow._route_call,
    ast.Async: _Flow._async,
    ast.Launch: _Flow._launch,
    ast.Return: _Flow._return,
    ast.Exit: _Flow._end,
    ast.Drop: _Flow._end,
    ast.Xlog: _Flow._xlog,
    ast.Assert: _Flow._assert,
    ast.Block: _Flow._block,
    ast.If: _Flow._if,
    ast.While: _Flow._while,
    ast.ForEach: _Flow._foreach,
    ast.Switch: _Flow.switch,
    ast.Break: _Flow._break,
}


def _post_order(graph: callgraph.RouteGraph, routes: list[ast.RouteDef]) -> list[ast.RouteDef]:
    """Routes with the ones they call before them (cycles cut anywhere)."""
    order: list[ast.RouteDef] = []
    seen: set[int] = set()
    for root in routes:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack: list[tuple[ast.RouteDef, int]] = [(root, 0)]
        while stack:
            route, index = stack.pop()
            edges = graph.callees(route)
            if index < len(edges):
                stack.append((route, index + 1))
                target = edges[index].target
                if id(target) not in seen:
                    seen.add(id(target))
                    stack.append((target, 0))
            else:
                order.append(route)
    return order


def _single_var(s: ast.StringLit) -> ast.PVar | None:
    """The variable a string consists of (`"$var(x)"`), if that is all it holds."""
    if s.parts is not None and len(s.parts) == 1 and isinstance(s.parts[0], ast.PVar):
        return s.parts[0]
    return None


def _var_names(pvars: Iterable[ast.PVar]) -> State:
    return frozenset(pv.inner for pv in pvars if pv.name == "var" and isinstance(pv.inner, str))
