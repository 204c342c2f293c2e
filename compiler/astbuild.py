"""LALR reductions -> `compiler.ast` nodes, as the parser makes them (no parse tree).

Lark's usual way is a parse tree first (a `Tree` per rule, positions propagated into each),
then a `Transformer` pass over it. Here the parser calls `Builder`'s methods itself, one per
reduction, so no tree is made and the script is walked once. `callbacks()` gives Lark the
functions it calls: for each grammar rule one that shapes the rule's children as Lark's
tree builder would (anonymous tokens dropped, `_rule` children spliced into their parent,
`[x]` placeholders as None, a `?rule` with one child replaced by that child) and computes
the node's position as `propagate_positions` does; for `VAR` and `STRING` one that reads
the token as it is shifted.

Every value on the parser's stack is a `Token` or a triple `(value, first, last)`: what the
builder made of a rule (or a `VAR`/`STRING` token), and the first and last tokens it covers
(None for a rule that matched no text). A node's span runs from its first token's start to
its last token's end, so it is the span Lark's `meta` gave the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any, Literal

from lark import Token
from lark.grammar import Rule, Terminal

from compiler import ast
from compiler.diagnostics import Diagnostic, make
from compiler.pvparse import PvSyntaxError, parse_format, parse_pv
from compiler.source import SourceMap

# Terminals the builder reads when they are shifted: on the stack as (node, token, token).
SHIFTED = ("VAR", "STRING")
# How a rule callback takes one child: a Token as it is, the value of a triple, or the
# items of a `_rule`'s list spliced in.
_TOKEN, _VALUE, _SPLICE = 0, 1, 2

Callback = Callable[[Any], Any]  # a rule's children, or a shifted token
_Plan = tuple[
    str,  # the builder method: the rule's alias or name
    tuple[int, ...],  # per child on the stack: _TOKEN or _VALUE
    tuple[tuple[int, int, int], ...],  # kept children: (index, _TOKEN/_VALUE/_SPLICE, Nones before)
    int,  # Nones after the last kept child
    bool,  # a `_rule`: its children go into its parent's
    "tuple[int, bool] | None",  # `?rule` with one kept child: (its index, keeps its own extent)
]
_PLANS: dict[Rule, _Plan] = {}


def _plan(rule: Rule) -> _Plan:
    """How the callback of `rule` shapes its children (Lark's parse_tree_builder rules)."""
    options = rule.options
    expansion = rule.expansion
    kinds = tuple(_VALUE if not s.is_term or s.name in SHIFTED else _TOKEN for s in expansion)
    if options.empty_indices:
        marks = "".join(str(int(b)) for b in options.empty_indices)
        empty = [len(ones) for ones in marks.split("0")]
    else:
        empty = [0] * (len(expansion) + 1)
    include: list[tuple[int, int, int]] = []
    nones = 0
    for i, sym in enumerate(expansion):
        nones += empty[i]
        if options.keep_all_tokens or not (isinstance(sym, Terminal) and sym.filter_out):
            splice = not sym.is_term and sym.name.startswith("_")
            include.append((i, _SPLICE if splice else kinds[i], nones))
            nones = 0
    nones += empty[len(expansion)]
    passthrough: tuple[int, bool] | None = None
    if options.expand1 and not rule.alias:
        if len(include) != 1 or include[0][1] == _SPLICE or include[0][2] or nones:
            raise NotImplementedError(f"`?{rule.origin.name}` must keep exactly one child")
        index = include[0][0]
        # A `?rule` hands up its child; a token keeps its own position, a node takes the
        # extent of all the rule's children (Lark's "container" position).
        passthrough = (index, len(expansion) == 1 or expansion[index].is_term)
    name = rule.alias or options.template_source or rule.origin.name
    helper = rule.origin.name.startswith("_")
    return (name, kinds, tuple(include), nones, helper, passthrough)


def _first_token(children: list[Any], kinds: tuple[int, ...]) -> Token | None:
    for child, kind in zip(children, kinds, strict=True):
        first = child if kind == _TOKEN else child[1]
        if first is not None:
            return first  # type: ignore[no-any-return]
    return None


def _last_token(children: list[Any], kinds: tuple[int, ...]) -> Token | None:
    for child, kind in zip(reversed(children), reversed(kinds), strict=True):
        last = child if kind == _TOKEN else child[2]
        if last is not None:
            return last  # type: ignore[no-any-return]
    return None


# `?a: b`: b's value and extent, as they are (a C function: the commonest reduction)
_same: Callback = itemgetter(0)
# Builder methods that return their one child as it is: a rule of one child reduced by one
# of these is `_same` too.
_HANDS_UP = frozenset({"arg_string", "block_or_stmt", "case_label", "modparam_number"})
# Builder methods that return the text of their one token (keywords and operators).
_TOKEN_TEXT = frozenset(
    {"route_kind", "xlog_kw", "number", "assign_op", "cmp_op", "logic_op", "not_op"}
    | {"bit_op", "add_op", "sign"}
)


def _token_text(children: list[Any]) -> Any:
    token = children[0]
    return (str(token), token, token)


def _callback(plan: _Plan, action: Callable[..., Any] | None) -> Callback:
    name, kinds, include, nones_after, _helper, passthrough = plan
    if kinds == (_VALUE,) and (
        passthrough is not None
        or (name in _HANDS_UP and include == ((0, _VALUE, 0),) and not nones_after)
    ):
        return _same
    if kinds == (_TOKEN,) and name in _TOKEN_TEXT and include == ((0, _TOKEN, 0),):
        return _token_text
    if not kinds:

        def empty(children: list[Any]) -> Any:
            kids: list[Any] = [None] * nones_after
            return (kids if action is None else action(kids, None, None), None, None)

        return empty
    first_kind, last_kind = kinds[0], kinds[-1]
    if passthrough is not None:
        index, own = passthrough
        token = kinds[index] == _TOKEN

        def hand_up(children: list[Any]) -> Any:
            child = children[index]
            if own:
                return (child, child, child) if token else child
            first = children[0] if first_kind == _TOKEN else children[0][1]
            if first is None:
                first = _first_token(children, kinds)
            last = children[-1] if last_kind == _TOKEN else children[-1][2]
            if last is None:
                last = _last_token(children, kinds)
            return (child if token else child[0], first, last)

        return hand_up

    if not nones_after and all(not n and h != _SPLICE for _, h, n in include):
        picks = tuple((i, how == _VALUE) for i, how, _ in include)

        def build_plain(children: list[Any]) -> Any:  # the common shape, made quicker
            first = children[0] if first_kind == _TOKEN else children[0][1]
            if first is None:
                first = _first_token(children, kinds)
            last = children[-1] if last_kind == _TOKEN else children[-1][2]
            if last is None:
                last = _last_token(children, kinds)
            kids = [children[i][0] if value else children[i] for i, value in picks]
            return (kids if action is None else action(kids, first, last), first, last)

        return build_plain

    if (
        action is not None
        and not nones_after
        and len(include) == 1
        and include[0][1:] == (_SPLICE, 0)
    ):
        index = include[0][0]  # a `_rule`'s list is the only child kept: `{ statement* }`

        def build_from_list(children: list[Any]) -> Any:
            first = children[0] if first_kind == _TOKEN else children[0][1]
            if first is None:
                first = _first_token(children, kinds)
            last = children[-1] if last_kind == _TOKEN else children[-1][2]
            if last is None:
                last = _last_token(children, kinds)
            return (action(children[index][0], first, last), first, last)

        return build_from_list

    def build(children: list[Any]) -> Any:
        first = children[0] if first_kind == _TOKEN else children[0][1]
        if first is None:
            first = _first_token(children, kinds)
        last = children[-1] if last_kind == _TOKEN else children[-1][2]
        if last is None:
            last = _last_token(children, kinds)
        kids: list[Any] = []
        for i, how, nones in include:
            if nones:
                kids += [None] * nones
            if how == _VALUE:
                kids.append(children[i][0])
            elif how == _TOKEN:
                kids.append(children[i])
            elif kids:
                kids += children[i][0]
            else:  # a left-recursive `_rule`: extend its list in place, as Lark does
                kids = children[i][0]
        if nones_after:
            kids += [None] * nones_after
        if action is None:
            return (kids, first, last)
        return (action(kids, first, last), first, last)

    if action is None and not nones_after and len(include) == len(kinds) == 2:
        (_, head_how, _), (_, item_how, item_nones) = include
        if head_how == _SPLICE and item_how != _SPLICE and not item_nones:
            value = item_how == _VALUE

            def grow(children: list[Any]) -> Any:  # `_list: _list item`: one item more
                head, item = children
                first, last = head[1], (item[2] if value else item)
                if first is None or last is None:
                    return build(children)
                items = head[0]
                items.append(item[0] if value else item)
                return (items, first, last)

            return grow
    return build


def _check_hand_ups(rules: list[Rule]) -> None:
    """Refuse a grammar where a `?rule` with dropped tokens hands up a token from below.

    Lark gives such a token its own position, and the callbacks here would give it the
    rule's; no rule of grammar.lark is like that, and this keeps it so."""
    yields_token: set[str] = set()
    grew = True
    while grew:
        grew = False
        for rule in rules:
            plan = _PLANS[rule]
            passthrough = plan[5]
            if passthrough is None or rule.origin.name in yields_token:
                continue
            child = rule.expansion[passthrough[0]]
            if child.is_term or child.name in yields_token:
                yields_token.add(rule.origin.name)
                grew = True
    for rule in rules:
        passthrough = _PLANS[rule][5]
        if (
            passthrough is not None
            and not passthrough[1]
            and rule.expansion[passthrough[0]].name in yields_token
        ):
            raise NotImplementedError(f"`?{rule.origin.name}` hands up a token")


def unshared(values: list[Any]) -> list[Any]:
    """A copy of a parser's value stack that a trial parse may go on with.

    Nodes and tokens are never changed, so the copy shares them (Lark's deep copy would
    also lose the end positions of the tokens); only a `_rule`'s list, which the next
    reduction of that rule extends in place, is copied."""
    return [(v[0][:], v[1], v[2]) if type(v) is tuple and type(v[0]) is list else v for v in values]


def callbacks(builder: Builder, rules: list[Rule]) -> dict[Any, Callback]:
    """Lark's parser callbacks (by rule, and by terminal name for shifts) for `builder`."""
    if any(rule not in _PLANS for rule in rules):
        for rule in rules:
            _PLANS[rule] = _plan(rule)
        _check_hand_ups(rules)
    out: dict[Any, Callback] = {}
    for rule in rules:
        plan = _PLANS[rule]
        name, _kinds, _include, _nones, helper, passthrough = plan
        action = None if helper or passthrough is not None else getattr(builder, name)
        out[rule] = _callback(plan, action)
    out["VAR"] = builder.shift_var
    out["STRING"] = builder.shift_string
    return out


# ---------------------------------------------------------------------------- the builder


class Builder:
    """Makes `compiler.ast` nodes of the parser's reductions, noting what the grammar lets through.

    One builder serves one parse: its `diagnostics` are those of the tree it built."""

    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap
        self.diagnostics: list[Diagnostic] = []
        # variables without variables or transformations inside, by their text: a script
        # repeats them (`$ru`, `$var(x)`), and only the span of another one differs
        self.simple_vars: dict[str, ast.PVar] = {}
        # without includes, a flat line is a file line moved by a constant (SourceMap.span)
        self.one_file: tuple[str, int] | None = None
        if len(smap.segments) == 1:
            seg = smap.segments[0]
            self.one_file = (seg.file, seg.file_start - seg.flat_start)

    # -- helpers
    def _span(self, first: Token | None, last: Token | None) -> ast.Span:
        """The span from the start of `first` to the end of `last` (no tokens: NO_SPAN)."""
        if first is None or last is None:
            return ast.NO_SPAN
        start: Any = first  # the lexer's tokens always have their positions
        end: Any = last
        if self.one_file is not None:
            file, shift = self.one_file
            return ast.Span(
                file, start.line + shift, start.column, end.end_line + shift, end.end_column
            )
        return self.smap.span(start.line, start.column, end.end_line, end.end_column)

    def _tspan(self, tok: Token) -> ast.Span:
        if self.one_file is not None:  # the lexer's tokens always have their positions
            file, shift = self.one_file
            at: Any = tok
            return ast.Span(file, at.line + shift, at.column, at.end_line + shift, at.end_column)
        return self.smap.span(
            tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1
        )

    # -- tokens, read as they are shifted
    def shift_var(self, tok: Token) -> tuple[ast.PVar, Token, Token]:
        return (self.read_var(tok), tok, tok)

    def shift_string(self, tok: Token) -> tuple[ast.StringLit, Token, Token]:
        return (self.read_string(tok), tok, tok)

    def read_var(self, tok: Token) -> ast.PVar:
        span = self._tspan(tok)
        text = str(tok)
        read = self.simple_vars.get(text)
        if read is not None:  # read before in this script: the same variable, here
            return ast.PVar(read.name, read.inner, read.index, (), read.context, read.text, span)
        try:
            pv = _respan(parse_pv(text, span), span)
        except PvSyntaxError as exc:
            self.diagnostics.append(
                make("variable-syntax", span, f"cannot read the variable `{tok}`: {exc.message}")
            )
            return ast.PVar(name="", text=text, span=span)
        if not pv.transforms and type(pv.inner) is not ast.PVar and type(pv.index) is not ast.PVar:
            self.simple_vars[text] = pv
        return pv

    def read_string(self, tok: Token) -> ast.StringLit:
        span = self._tspan(tok)
        raw = str(tok)
        value = unescape_string(raw)
        parts: tuple[str | ast.PVar, ...] | None
        error: str | None = None
        if "$" in value and not raw.startswith("'"):
            try:
                parts = _locate_parts(parse_format(value, span), raw, span)
            except PvSyntaxError as exc:
                parts, error = None, exc.message
        else:
            parts = (value,) if value else ()
        return ast.StringLit(value=value, raw=raw, parts=parts, format_error=error, span=span)

    # -- top level
    def start(self, items: list[Any], first: Token | None, last: Token | None) -> ast.Script:
        return ast.Script(items=tuple(items), span=self._span(first, last))

    def global_param(
        self, c: list[Token], first: Token | None, last: Token | None
    ) -> ast.GlobalParam:
        name, value = c
        raw = str(value)
        text = raw[1:].lstrip(" \t")  # the token starts at `=`
        vspan = self._tspan(value)
        skipped = len(raw) - len(text)
        vspan = ast.Span(vspan.file, vspan.line, vspan.col + skipped, vspan.end_line, vspan.end_col)
        return ast.GlobalParam(
            name=str(name),
            value=text.strip(),
            span=self._span(first, last),
            value_span=vspan,
        )

    def loadmodule(
        self, c: list[ast.StringLit], first: Token | None, last: Token | None
    ) -> ast.LoadModule:
        return ast.LoadModule(path=c[0], span=self._span(first, last))

    def modparam(self, c: list[Any], first: Token | None, last: Token | None) -> ast.ModParam:
        return ast.ModParam(module=c[0], param=c[1], value=c[2], span=self._span(first, last))

    def modparam_strings(
        self, c: list[ast.StringLit], first: Token | None, last: Token | None
    ) -> tuple[ast.StringLit, ...]:
        return tuple(c)

    def modparam_number(
        self, c: list[ast.Number], first: Token | None, last: Token | None
    ) -> ast.Number:
        return c[0]

    def include(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Include:
        return ast.Include(keyword=str(c[0]), path=c[1], span=self._span(first, last))

    # -- routes
    def route_kind(self, c: list[Token], first: Token | None, last: Token | None) -> str:
        return str(c[0])

    def name_id(self, c: list[Token], first: Token | None, last: Token | None) -> ast.RouteName:
        return ast.RouteName(str(c[0]), "id", self._span(first, last))

    def name_number(self, c: list[Token], first: Token | None, last: Token | None) -> ast.RouteName:
        return ast.RouteName(str(c[0]), "number", self._span(first, last))

    def name_string(
        self, c: list[ast.StringLit], first: Token | None, last: Token | None
    ) -> ast.RouteName:
        return ast.RouteName(c[0].value, "string", self._span(first, last))

    def label_interval(
        self, c: list[ast.Number], first: Token | None, last: Token | None
    ) -> tuple[str, ast.Number]:
        return ("interval", c[0])

    def label_mode(
        self, c: list[Token], first: Token | None, last: Token | None
    ) -> tuple[str, str]:
        return ("mode", str(c[0]))

    def route_label(
        self, c: list[Any], first: Token | None, last: Token | None
    ) -> tuple[ast.RouteName, Any]:
        return (c[0], c[1] if len(c) > 1 else None)

    def body(self, c: list[ast.Stmt], first: Token | None, last: Token | None) -> ast.Block:
        return ast.Block(body=tuple(c), span=self._span(first, last))

    def route_def(self, c: list[Any], first: Token | None, last: Token | None) -> ast.RouteDef:
        kind = c[0]
        label = c[1] if len(c) == 3 else None
        block: ast.Block = c[-1]
        span = self._span(first, last)
        name: ast.RouteName | None = None
        interval: ast.Number | None = None
        mode: str | None = None
        if label is not None:
            name, extra = label
            if extra is not None:
                if extra[0] == "interval":
                    interval = extra[1]
                else:
                    mode = extra[1]
        route = ast.RouteDef(
            kind=kind, name=name, body=block, interval=interval, mode=mode, span=span
        )
        self._check_route_shape(route)
        return route

    def _check_route_shape(self, r: ast.RouteDef) -> None:
        head = ast.Span(r.span.file, r.span.line, r.span.col, r.span.line, r.span.col + len(r.kind))
        if not r.body.body:
            self.diagnostics.append(
                make(
                    "empty-route",
                    r.body.span,
                    f"the body of `{r.title}` is empty",
                    help=f"OpenSIPS rejects an empty route body; write `{r.title} {{ ; }}`",
                )
            )
        if (
            r.kind in ("branch_route", "failure_route", "timer_route", "event_route")
            and r.name is None
        ):
            self.diagnostics.append(
                make("route-name", head, f"`{r.kind}` needs a name: `{r.kind}[name]`")
            )
        if r.kind in ("error_route", "local_route", "startup_route") and r.name is not None:
            self.diagnostics.append(
                make(
                    "route-name",
                    r.name.span,
                    f"`{r.kind}` takes no name",
                    help=f"write `{r.kind} {{ ... }}`",
                )
            )
        if r.kind == "timer_route" and r.name is not None and r.interval is None:
            self.diagnostics.append(
                make(
                    "route-name",
                    r.name.span,
                    "`timer_route` needs an interval in seconds",
                    help=f"write `timer_route[{r.name.name}, 60]`",
                )
            )
        if r.interval is not None and r.kind != "timer_route":
            self.diagnostics.append(
                make(
                    "route-name",
                    r.interval.span,
                    f"only `timer_route` takes an interval, not `{r.kind}`",
                )
            )
        if r.mode is not None and r.kind != "event_route":
            self.diagnostics.append(
                make(
                    "route-name",
                    r.name.span if r.name else head,
                    f"`{r.mode}` is only read in `event_route[E, {r.mode}]`",
                )
            )

    # -- statements
    def empty_stmt(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Empty:
        return ast.Empty(span=self._span(first, last))

    def break_stmt(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Break:
        return ast.Break(span=self._span(first, last))

    def block(self, c: list[ast.Stmt], first: Token | None, last: Token | None) -> ast.Block:
        return ast.Block(body=tuple(c), span=self._span(first, last))

    def block_or_stmt(self, c: list[ast.Stmt], first: Token | None, last: Token | None) -> ast.Stmt:
        return c[0]

    def if_stmt(self, c: list[Any], first: Token | None, last: Token | None) -> ast.If:
        orelse = c[2] if len(c) > 2 else None
        return ast.If(cond=c[0], then=c[1], orelse=orelse, span=self._span(first, last))

    def while_stmt(self, c: list[Any], first: Token | None, last: Token | None) -> ast.While:
        return ast.While(cond=c[0], body=c[1], span=self._span(first, last))

    def foreach_stmt(self, c: list[Any], first: Token | None, last: Token | None) -> ast.ForEach:
        return ast.ForEach(var=c[0], collection=c[1], body=c[2], span=self._span(first, last))

    def switch_stmt(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Switch:
        return ast.Switch(subject=c[0], cases=tuple(c[1:]), span=self._span(first, last))

    def case(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Case:
        return ast.Case(label=c[0], body=tuple(c[1:]), span=self._span(first, last))

    def default(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Case:
        return ast.Case(label=None, body=tuple(c), span=self._span(first, last))

    def case_label(
        self, c: list[Any], first: Token | None, last: Token | None
    ) -> ast.Number | ast.StringLit:
        label: ast.Number | ast.StringLit = c[0]
        return label

    def assign(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Assign:
        return ast.Assign(target=c[0], op=c[1], value=c[2], span=self._span(first, last))

    # -- commands
    def exit_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Exit:
        return ast.Exit(span=self._span(first, last))

    def drop_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Drop:
        return ast.Drop(span=self._span(first, last))

    def log_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Log:
        level = c[0] if len(c) == 2 else None
        return ast.Log(level=level, text=c[-1], span=self._span(first, last))

    def xlog_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Xlog:
        return ast.Xlog(kind=c[0], level=None, parts=tuple(c[1:]), span=self._span(first, last))

    def xlog_level_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Xlog:
        return ast.Xlog(kind=c[0], level=c[1], parts=tuple(c[2:]), span=self._span(first, last))

    def xlog_kw(self, c: list[Token], first: Token | None, last: Token | None) -> str:
        return str(c[0])

    def assert_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Assert:
        return ast.Assert(
            cond=c[0], text=c[1] if len(c) > 1 else None, span=self._span(first, last)
        )

    def error_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.ErrorCmd:
        return ast.ErrorCmd(first=c[0], second=c[1], span=self._span(first, last))

    def async_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Async:
        return ast.Async(
            call=c[0],
            resume=c[1],
            timeout=c[2] if len(c) > 2 else None,
            span=self._span(first, last),
        )

    def launch_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Launch:
        return ast.Launch(
            call=c[0],
            report=c[1] if len(c) > 1 else None,
            param=c[2] if len(c) > 2 else None,
            span=self._span(first, last),
        )

    def call(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Call:
        name: Token = c[0]
        args: tuple[ast.Arg, ...] = c[1]
        return ast.Call(
            name=str(name), args=args, span=self._span(first, last), name_span=self._tspan(name)
        )

    def args(self, c: list[Any], first: Token | None, last: Token | None) -> tuple[ast.Arg, ...]:
        if len(c) == 1 and c[0] is None:
            return ()
        return tuple(c)

    def arg_string(
        self, c: list[ast.StringLit], first: Token | None, last: Token | None
    ) -> ast.StringLit:
        return c[0]

    def arg_name(self, c: list[Token], first: Token | None, last: Token | None) -> ast.BareName:
        return ast.BareName(name=str(c[0]), span=self._span(first, last))

    def null(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Null:
        return ast.Null(span=self._span(first, last))

    def route_call(self, c: list[Any], first: Token | None, last: Token | None) -> ast.RouteCall:
        return ast.RouteCall(target=c[0], args=tuple(c[1:]), span=self._span(first, last))

    def return_cmd(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Return:
        span = self._span(first, last)
        if not c:
            return ast.Return(code=None, parenthesized=False, span=span)
        only = c[0]
        if only is None:  # return()
            return ast.Return(code=None, span=span)
        if isinstance(only, tuple):
            code, values = only
            return ast.Return(code=code, values=tuple(values), span=span)
        return ast.Return(code=only, parenthesized=False, span=span)

    def return_args(
        self, c: list[Any], first: Token | None, last: Token | None
    ) -> tuple[Any, list[Any]]:
        return (c[0], c[1:])

    def return_values_only(
        self, c: list[Any], first: Token | None, last: Token | None
    ) -> tuple[Any, list[Any]]:
        return (None, c)

    # -- conditions and expressions
    def logic(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Logic:
        op: Literal["&&", "||"] = "&&" if c[1] in ("&&", "and") else "||"
        return ast.Logic(op=op, left=c[0], right=c[2], span=self._span(first, last))

    def not_(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Not:
        return ast.Not(operand=c[1], span=self._span(first, last))

    def paren(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Paren:
        return ast.Paren(inner=c[0], span=self._span(first, last))

    def arith_test(self, c: list[Any], first: Token | None, last: Token | None) -> ast.ArithTest:
        return ast.ArithTest(expr=c[0], span=self._span(first, last))

    def comparison(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Compare:
        return ast.Compare(op=c[1], left=c[0], right=c[2], span=self._span(first, last))

    def ip(self, c: list[Token], first: Token | None, last: Token | None) -> ast.IpLiteral:
        return ast.IpLiteral(text=str(c[0]), span=self._span(first, last))

    def binop(self, c: list[Any], first: Token | None, last: Token | None) -> ast.BinOp:
        return ast.BinOp(op=c[1], left=c[0], right=c[2], span=self._span(first, last))

    def bitnot(self, c: list[Any], first: Token | None, last: Token | None) -> ast.BitNot:
        return ast.BitNot(operand=c[0], span=self._span(first, last))

    def snumber(self, c: list[Any], first: Token | None, last: Token | None) -> ast.Number:
        sign = c[0] if len(c) == 2 else ""
        text: str = c[-1]
        value = _number_value(text)
        return ast.Number(
            value=-value if sign == "-" else value, text=sign + text, span=self._span(first, last)
        )

    def number(self, c: list[Token], first: Token | None, last: Token | None) -> str:
        return str(c[0])

    def _op(self, c: list[Token], first: Token | None, last: Token | None) -> str:
        return str(c[0])

    assign_op = cmp_op = logic_op = not_op = bit_op = add_op = sign = _op


def _respan(pv: ast.PVar, span: ast.Span) -> ast.PVar:
    return (
        pv
        if pv.span == span
        else ast.PVar(pv.name, pv.inner, pv.index, pv.transforms, pv.context, pv.text, span)
    )


def _locate_parts(
    parts: tuple[str | ast.PVar, ...], raw: str, span: ast.Span
) -> tuple[str | ast.PVar, ...]:
    """Give each variable of a one-line format string its own span inside the string."""
    if span.line != span.end_line:
        return parts
    out: list[str | ast.PVar] = []
    cursor = 1
    for part in parts:
        if isinstance(part, ast.PVar) and part.text:
            at = raw.find(part.text, cursor)
            if at >= 0:
                col = span.col + at
                part = _respan(
                    part, ast.Span(span.file, span.line, col, span.line, col + len(part.text))
                )
                cursor = at + len(part.text)
        out.append(part)
    return tuple(out)


# ---------------------------------------------------------------------------- literals


def _number_value(text: str) -> int:
    words = {"yes": 1, "true": 1, "on": 1, "enable": 1, "no": 0, "false": 0, "off": 0, "disable": 0}
    if text in words:
        return words[text]
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if len(text) > 1 and text[0] == "0" and all(c in "01234567" for c in text):
        return int(text, 8)
    return int(text)


_DQ_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", '"': '"', "\\": "\\"}
# A backslash and what it escapes: `\x` and one or two hex digits, two or three octal
# digits, or any one character (a backslash at the very end escapes nothing and stays).
_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{1,2})|([0-7]{2,3})|(.))", re.S)


def _unescape(m: re.Match[str]) -> str:
    hex_digits, octal_digits, other = m.groups()
    if hex_digits is not None:
        return chr(int(hex_digits, 16))
    if octal_digits is not None:
        return chr(int(octal_digits, 8) & 0xFF)
    if other in _DQ_ESCAPES:
        return _DQ_ESCAPES[other]
    return "" if other == "\n" else "\\" + other


def unescape_string(raw: str) -> str:
    """The value of a string token (spec/language.md §2.3)."""
    if raw.startswith("'"):
        return raw[1:-1]
    body = raw[1:-1]
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_unescape, body)
