"""Use before set: a `$var` read on a path where nothing has assigned it yet in this run.

A forward "definitely assigned" analysis over the statements of each top route, entering
`route()` callees with the caller's state (so a callee's assignments count after the call)
and continuing into `async()` resume routes, where sipc keeps the `$var`s. Loops are taken
zero or one time. A function output (`pv_printf($var(x), ...)`, or any variable handed to a
function whose parameters sipc does not know) counts as an assignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from compiler import ast
from compiler.check import callgraph
from compiler.check.types import assignments
from compiler.check.walk import iter_nodes, string_pvars
from compiler.diagnostics import Diagnostic, Note, make
from stdlib import REGISTRY, ParamKind

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
        self.stack: list[int] = []
        self.returns: list[list[State]] = []
        self.breaks: list[list[State]] = []
        self.memo: dict[tuple[int, State], State | None] = {}

    def run_top(self, top: callgraph.Top) -> None:
        self.top = top
        self.reported_names = set()
        self.memo = {}
        self.chain = ()
        self.route(top.route, frozenset())

    # ------------------------------------------------------------------ routes

    def route(self, route: ast.RouteDef, state: State) -> State | None:
        key = (id(route), state)
        if key in self.memo:
            return self.memo[key]
        if id(route) in self.stack:  # recursion: assume it may assign what it assigns
            return state | self.may_assign(route)
        saved_chain = self.chain
        self.chain = (*self.chain, route.title)
        self.stack.append(id(route))
        self.returns.append([])
        self.breaks.append([])  # a stray `break` ends nothing past its route
        end = self.stmts(route.body.body, state)
        returned = self.returns.pop()
        self.breaks.pop()
        self.stack.pop()
        self.chain = saved_chain
        result = _join([*returned, end])
        self.memo[key] = result
        return result

    def may_assign(self, route: ast.RouteDef) -> State:
        names: set[str] = set()
        for member, _chain in self.graph.reach(route).values():
            names.update(assignments(member))
        return frozenset(names)

    # ------------------------------------------------------------------ statements

    def stmts(self, body: tuple[ast.Stmt, ...], state: State) -> State | None:
        current: State | None = state
        for stmt in body:
            if current is None:
                return None
            current = self.stmt(stmt, current)
        return current

    def stmt(self, stmt: Any, state: State) -> State | None:
        if isinstance(stmt, ast.Assign):
            state = self.expr(stmt.value, state)
            state = self.target_parts(stmt.target, state)
            return state | _var_names([stmt.target])
        if isinstance(stmt, ast.Call):
            return self.call(stmt, state)
        if isinstance(stmt, ast.RouteCall):
            for arg in stmt.args:
                state = self.expr(arg, state)
            if isinstance(stmt.target, ast.RouteName):
                target = self.graph.named(stmt.target.name)
                if target is not None and "$" not in stmt.target.name:
                    return self.route(target, state)
            return state
        if isinstance(stmt, ast.Async):
            state = self.call(stmt.call, state)
            resume = self.graph.named(stmt.resume.name)
            if resume is not None:
                self.route(resume, state)
            return None
        if isinstance(stmt, ast.Launch):
            state = self.call(stmt.call, state)
            if stmt.param is not None:
                state = self.formats([stmt.param], state)
            return state
        if isinstance(stmt, ast.Return):
            for value in (stmt.code, *stmt.values):
                if value is not None:
                    state = self.expr(value, state)
            self.returns[-1].append(state)
            return None
        if isinstance(stmt, ast.Exit | ast.Drop):
            return None
        if isinstance(stmt, ast.Xlog):
            return self.formats([*stmt.parts, *((stmt.level,) if stmt.level else ())], state)
        if isinstance(stmt, ast.Assert):
            return self.cond(stmt.cond, state)
        if isinstance(stmt, ast.Block):
            return self.stmts(stmt.body, state)
        if isinstance(stmt, ast.If):
            state = self.cond(stmt.cond, state)
            then = self.stmt(stmt.then, state)
            orelse = self.stmt(stmt.orelse, state) if stmt.orelse is not None else state
            return _join([then, orelse])
        if isinstance(stmt, ast.While):
            state = self.cond(stmt.cond, state)
            self.loop(stmt.body, state)
            return state
        if isinstance(stmt, ast.ForEach):
            state = self.expr(stmt.collection, state)
            self.loop(stmt.body, state | _var_names([stmt.var]))
            return state
        if isinstance(stmt, ast.Switch):
            return self.switch(stmt, state)
        if isinstance(stmt, ast.Break):
            self.breaks[-1].append(state)
            return None
        return state  # log(), error(), `;`, include markers

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
        return state | _var_names(written)

    # ------------------------------------------------------------------ expressions

    def cond(self, cond: Any, state: State) -> State:
        if isinstance(cond, ast.Logic):
            left = self.cond(cond.left, state)
            self.cond(cond.right, left)
            return left  # the right side may not run
        if isinstance(cond, ast.Not):
            return self.cond(cond.operand, state)
        if isinstance(cond, ast.Paren):
            return self.cond(cond.inner, state)
        if isinstance(cond, ast.ArithTest):
            return self.expr(cond.expr, state)
        return self.expr(cond, state)

    def expr(self, expr: Any, state: State) -> State:
        if isinstance(expr, ast.PVar):
            self.read(expr, state)
            return state
        if isinstance(expr, ast.BinOp | ast.Compare):
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
        for node in iter_nodes(target):
            if node is not target and isinstance(node, ast.PVar):
                self.read(node, state)
        return state

    def read(self, pv: ast.PVar, state: State) -> None:
        for node in iter_nodes(pv):
            if node is not pv and isinstance(node, ast.PVar):
                self.read(node, state)
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


def _single_var(s: ast.StringLit) -> ast.PVar | None:
    """The variable a string consists of (`"$var(x)"`), if that is all it holds."""
    if s.parts is not None and len(s.parts) == 1 and isinstance(s.parts[0], ast.PVar):
        return s.parts[0]
    return None


def _var_names(pvars: Iterable[ast.PVar]) -> State:
    return frozenset(pv.inner for pv in pvars if pv.name == "var" and isinstance(pv.inner, str))
