"""Checked AST -> Python source of one route module (before black; see emit.py).

The module reads like the script: one function per route block, calls into `stdlib` with
`ctx` first, pseudo-variables as `Ctx` attributes where the runtime has one, and every
statement ending in a `# file.cfg:LINE` marker that emit.py turns into
`__sipc_linemap__`. The semantics are DESIGN.md's:

* a route that can suspend (check/effects.py) is `async def` and awaits what suspends;
  every other route is a plain `def`;
* a condition is true when the action's code is > 0; a builtin that may return 0
  (`may_exit`) ends the run through `ops.exit_if_zero`; `exit` and `return(0)` raise
  `ScriptExit`, `drop` raises `ScriptDrop`;
* `$rc` is kept only when the script reads it (`ctx.setrc(...)` around each action);
* values follow runtime/core/ops.py (OpenSIPS's comparisons, arithmetic, truthiness);
* format strings become string building; regexes and IP networks become module constants
  compiled once;
* `switch` becomes a run of `if start <= k:` blocks inside a one-pass loop, so `break` and
  fall-through behave as in the script;
* `async(f(...), resume)` awaits `f`, runs `resume`, and ends the run.

Constructs the runtime cannot run yet raise `Unsupported` with the span; `sipc build`
reports it as a diagnostic and writes nothing.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from dataclasses import dataclass, field

from compiler import ast
from compiler.check.effects import RouteKey, route_key, suspending_routes
from compiler.check.pvars import FOREACH_CONTEXT
from compiler.check.walk import iter_nodes
from compiler.version import __version__
from stdlib._modules import MODPARAMS
from stdlib._registry import REGISTRY, FunctionSpec, ParamKind


class Unsupported(Exception):
    """A construct sipc cannot compile yet."""

    def __init__(self, span: ast.Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


# Pseudo-variables with a typed attribute on Ctx (read; writable ones also assignable).
_READ_ATTR = {
    "ru": "ctx.ruri", "ruri": "ctx.ruri", "rU": "ctx.ruri_user", "ruri.user": "ctx.ruri_user",
    "rd": "ctx.ruri_host", "ruri.domain": "ctx.ruri_host", "rp": "ctx.ruri_port",
    "rm": "ctx.method", "rs": "ctx.status", "rr": "ctx.reason", "ci": "ctx.callid",
    "fu": "ctx.from_uri", "from": "ctx.from_uri", "fU": "ctx.from_user", "from.user": "ctx.from_user",
    "fd": "ctx.from_host", "from.domain": "ctx.from_host", "fn": "ctx.from_name", "ft": "ctx.from_tag",
    "tu": "ctx.to_uri", "to": "ctx.to_uri", "tU": "ctx.to_user", "to.user": "ctx.to_user",
    "td": "ctx.to_host", "to.domain": "ctx.to_host", "tn": "ctx.to_name", "tt": "ctx.to_tag",
    "cs": "ctx.cseq", "cT": "ctx.content_type", "ua": "ctx.user_agent", "si": "ctx.src_ip",
    "src_ip": "ctx.src_ip", "sp": "ctx.src_port", "du": "ctx.du", "duri": "ctx.du",
    "rc": "ctx.rc", "retcode": "ctx.rc", "ml": "ctx.msg_len", "mb": "ctx.msg_buf",
    "cl": "ctx.content_length", "ct": "ctx.contact", "Ri": "ctx.recv_ip", "Rp": "ctx.recv_port",
    "proto": "ctx.proto", "Ts": "ctx.time_s", "Tf": "ctx.time_f", "rb": "ctx.body",
    "ou": "ctx.original_ruri", "ouri": "ctx.original_ruri", "br": "ctx.branch_uri",
}  # fmt: skip
_WRITE_ATTR = {
    "ru": ("ctx.ruri", "ops.opt_str"), "ruri": ("ctx.ruri", "ops.opt_str"),
    "rU": ("ctx.ruri_user", "ops.opt_str"), "ruri.user": ("ctx.ruri_user", "ops.opt_str"),
    "rd": ("ctx.ruri_host", "ops.opt_str"), "ruri.domain": ("ctx.ruri_host", "ops.opt_str"),
    "rp": ("ctx.ruri_port", ""), "du": ("ctx.du", "ops.opt_str"), "duri": ("ctx.du", "ops.opt_str"),
}  # fmt: skip
_BINOPS = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod",
    "|": "bor", "&": "band", "^": "bxor", "<<": "shl", ">>": "shr",
}  # fmt: skip
_COMPOUND = {"+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "&=": "&", "|=": "|", "^=": "^"}
_CMP = {"==": "eq", "!=": "ne", "<": "lt", ">": "gt", "<=": "le", ">=": "ge"}

_FUNC_PREFIX = {
    "route": "route",
    "branch_route": "branch_route",
    "failure_route": "failure_route",
    "onreply_route": "onreply_route",
    "error_route": "error_route",
    "local_route": "local_route",
    "startup_route": "startup_route",
    "timer_route": "timer_route",
    "event_route": "event_route",
}


def ident(text: str) -> str:
    """A Python identifier for a route name (`my-route` -> `my_x2d_route`)."""
    out = "".join(c if c.isalnum() or c == "_" else f"_x{ord(c):x}_" for c in text)
    if not out or out[0].isdigit() or keyword.iskeyword(out):
        out = "n" + out
    return out


@dataclass
class Generated:
    source: str
    routes: dict[RouteKey, str]  # route -> function name


@dataclass
class _Route:
    node: ast.RouteDef
    func: str
    is_async: bool


@dataclass
class _Writer:
    """Lines of Python with indentation; a statement line may carry its script position."""

    lines: list[str] = field(default_factory=list)
    depth: int = 0

    def emit(self, text: str, span: ast.Span | None = None, title: str | None = None) -> None:
        marker = ""
        if span is not None and span.line > 0:
            marker = f"  # {span.file}:{span.line}" + (f" {title}" if title else "")
        self.lines.append("    " * self.depth + text + marker)

    def indent(self) -> _Indent:
        return _Indent(self)


class _Indent:
    def __init__(self, w: _Writer) -> None:
        self.w = w

    def __enter__(self) -> None:
        self.w.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.w.depth -= 1


class CodeGenerator:
    """Generates the module of one script (call `generate()` once)."""

    def __init__(self, script: ast.Script, source_name: str, source_text: str) -> None:
        self.script = script
        self.source_name = source_name
        self.sha256 = hashlib.sha256(source_text.encode("utf-8")).hexdigest()
        self.w = _Writer()
        self.constants: dict[str, str] = {}  # source expression -> constant name
        self.const_lines: list[str] = []
        self.stdlib_modules: set[str] = set()
        self.uses_handle = False
        self.uses_modparams = False
        self.track_rc = any(
            isinstance(n, ast.PVar) and n.name in ("rc", "retcode") for n in iter_nodes(script)
        ) or any(
            isinstance(n, ast.StringLit)
            and any(
                isinstance(p, ast.PVar) and p.name in ("rc", "retcode") for p in (n.parts or ())
            )
            for n in iter_nodes(script)
        )
        suspending = suspending_routes(script)
        self.routes: dict[RouteKey, _Route] = {}
        used_names: set[str] = set()
        for r in script.routes:
            key = route_key(r)
            if key in self.routes:
                continue  # a duplicate: the checker reported it
            base = _FUNC_PREFIX[r.kind] + "_" + (ident(key[1]) if key[1] is not None else "main")
            name = base
            n = 2
            while name in used_names:
                name, n = f"{base}_{n}", n + 1
            used_names.add(name)
            self.routes[key] = _Route(r, name, key in suspending)
        self.current: _Route | None = None
        self.tmp = 0
        self.body_text = ""

    # ------------------------------------------------------------------ module

    def generate(self) -> Generated:
        body = _Writer()
        self.w = body
        for route in self.routes.values():
            self._route(route)
            self.w.emit("")
            self.w.emit("")
        self.body_text = "\n".join(body.lines) + "\n".join(self.const_lines)
        tail = self._tail()
        head = self._header()
        text = "\n".join([*head, *self.const_lines, "", "", *body.lines, *tail]) + "\n"
        return Generated(text, {k: r.func for k, r in self.routes.items()})

    def _header(self) -> list[str]:
        imports = ["Ctx", "RouteTable", "ScriptConfig", "serve_main"]
        for name in ("ScriptDrop", "ScriptExit", "ops"):
            if re.search(rf"\b{name}\b", self.body_text):
                imports.append(name)
        if any(r.node.kind == "timer_route" for r in self.routes.values()):
            imports.append("TimerRoute")
        lines = [
            f"# Generated by sipc {__version__} from {self.source_name} (sha256 {self.sha256}). Do not edit.",
            f'"""Routes of {self.source_name}, compiled by sipc; run alone: python {{this file}} [-l SOCKET]."""',
            "",
            "from __future__ import annotations",
            "",
            "import sys",
            "",
            f"from runtime.api import {', '.join(sorted(imports))}",
        ]
        config = self._config()
        names = {m.rsplit(".", 1)[-1] for m in self.stdlib_modules}
        names |= {
            n
            for n, used in (("PvHandle", self.uses_handle), ("set_modparam", self.uses_modparams))
            if used
        }
        if names:
            lines.append(f"from stdlib import {', '.join(sorted(names))}")
        lines += ["", "", *config]
        return lines

    def _config(self) -> list[str]:
        globals_: list[tuple[str, str]] = []
        sockets: list[str] = []
        modules: list[str] = []
        modparams: list[tuple[str, str, int | str]] = []
        for item in self.script.items:
            if isinstance(item, ast.GlobalParam):
                globals_.append((item.name, item.value))
                if item.name in ("socket", "listen"):
                    sockets.append(item.value.split()[0].replace('"', ""))
            elif isinstance(item, ast.LoadModule):
                modules.append(item.module)
        for item in self.script.items:
            if isinstance(item, ast.ModParam):
                value: int | str = (
                    item.value.value
                    if isinstance(item.value, ast.Number)
                    else "".join(s.value for s in item.value)
                )
                try:
                    pattern = re.compile(f"^(?:{item.module.value})$")
                except re.error:
                    continue
                for module in modules:
                    if pattern.match(module) and (module, item.param.value) in MODPARAMS:
                        modparams.append((module, item.param.value, value))
        out = [
            "CONFIG = ScriptConfig(",
            f"    source={self.source_name!r},",
            f"    sha256={self.sha256!r},",
            f"    globals={tuple(globals_)!r},",
            f"    sockets={tuple(sockets)!r},",
            f"    modules={tuple(modules)!r},",
            f"    modparams={tuple(modparams)!r},",
            ")",
        ]
        if modparams:
            self.uses_modparams = True
            out += [
                "for _module, _name, _value in CONFIG.modparams:",
                "    set_modparam(_module, _name, _value)",
            ]
        return out

    def _tail(self) -> list[str]:
        main: list[str] = []
        named: list[str] = []
        failure: list[str] = []
        branch: list[str] = []
        onreply_named: list[str] = []
        events: list[str] = []
        timers: list[str] = []
        single: dict[str, str] = {}
        for (kind, name), r in self.routes.items():
            if kind == "route":
                if name is None:
                    main.append(r.func)
                else:
                    named.append(f"{name!r}: {r.func}")
            elif kind == "failure_route":
                failure.append(f"{name!r}: {r.func}")
            elif kind == "branch_route":
                branch.append(f"{name!r}: {r.func}")
            elif kind == "onreply_route":
                if name is None:
                    single["onreply"] = r.func
                else:
                    onreply_named.append(f"{name!r}: {r.func}")
            elif kind == "event_route":
                events.append(f"{name!r}: {r.func}")
            elif kind == "timer_route":
                interval = r.node.interval.value if r.node.interval else 60
                timers.append(f"TimerRoute({name!r}, {interval}, {r.func})")
            else:
                single[kind.removesuffix("_route")] = r.func
        args = []
        if main:
            args.append(f"main={main[0]}")
        for label, items in (
            ("named", named),
            ("failure", failure),
            ("branch", branch),
            ("onreply_named", onreply_named),
            ("events", events),
        ):
            if items:
                args.append(f"{label}={{{', '.join(items)}}}")
        for label, func in sorted(single.items()):
            args.append(f"{label}={func}")
        if timers:
            args.append(f"timers=[{', '.join(timers)}]")
        prepare: list[str] = []
        tables = self._location_tables()
        if tables:
            self.stdlib_modules.add("stdlib.usrloc")
            prepare = [
                "def _prepare() -> None:",
                '    """Open the location tables now: a bad db_url fails the start (exit 3)."""',
                f"    usrloc.open_tables({', '.join(repr(t) for t in tables)})",
                "",
                "",
            ]
            args.append("prepare=[_prepare]")
        return [
            *prepare,
            f"ROUTES = RouteTable({', '.join(args)})",
            "",
            'if __name__ == "__main__":',
            "    sys.exit(serve_main(ROUTES, CONFIG.sockets or ('udp:127.0.0.1:5060',), config=CONFIG))",
        ]

    # ------------------------------------------------------------------ helpers

    def _location_tables(self) -> list[str]:
        """The usrloc tables the registrar functions of the script name (`save("location")`)."""
        tables: set[str] = set()
        for node in iter_nodes(self.script):
            if isinstance(node, ast.Call):
                spec = REGISTRY.get(node.name)
                if spec is None or spec.module != "registrar" or not node.args:
                    continue
                first = node.args[0]
                if isinstance(first, ast.StringLit) and first.value and "$" not in first.value:
                    tables.add(first.value)
        return sorted(tables)

    def _const(self, expr: str, prefix: str) -> str:
        name = self.constants.get(expr)
        if name is None:
            name = f"_{prefix}{len(self.constants) + 1}"
            self.constants[expr] = name
            self.const_lines.append(f"{name} = {expr}")
        return name

    def _fresh(self, prefix: str) -> str:
        self.tmp += 1
        return f"_{prefix}{self.tmp}"

    def _module_of(self, spec: FunctionSpec) -> str:
        self.stdlib_modules.add(spec.python_module)
        return spec.python_module.rsplit(".", 1)[-1]

    # ------------------------------------------------------------------ routes

    def _route(self, route: _Route) -> None:
        self.current = route
        node = route.node
        prefix = "async def" if route.is_async else "def"
        self.w.emit(f"{prefix} {route.func}(ctx: Ctx) -> int:", node.span, node.title)
        with self.w.indent():
            ended = self._body(node.body.body)
            if not ended:
                self.w.emit("return 1")
        self.current = None

    def _body(self, stmts: tuple[ast.Stmt, ...]) -> bool:
        """Emit statements; True when the last one always leaves the route."""
        from compiler.check.flow import ends_route

        emitted = False
        ended = False
        for stmt in stmts:
            if isinstance(stmt, ast.Empty):
                continue
            self._stmt(stmt)
            emitted = True
            if ends_route(stmt):
                ended = True
                break
        if not emitted:
            self.w.emit("pass")
        return ended

    def _block(self, stmt: ast.Stmt) -> None:
        with self.w.indent():
            if isinstance(stmt, ast.Block):
                self._body(stmt.body)
            else:
                self._body((stmt,))

    # ------------------------------------------------------------------ statements

    def _stmt(self, s: ast.Stmt) -> None:
        w = self.w
        if isinstance(s, ast.Assign):
            for line in self._assign(s):
                w.emit(line, s.span)
        elif isinstance(s, ast.If):
            self._if(s, "if")
        elif isinstance(s, ast.While):
            w.emit("for _ in ops.loop_guard():", s.span)
            with w.indent():
                w.emit(f"if not ({self._cond(s.cond)}):")
                with w.indent():
                    w.emit("break")
                if isinstance(s.body, ast.Block):
                    self._body(s.body.body)
                else:
                    self._body((s.body,))
        elif isinstance(s, ast.ForEach):
            item = self._fresh("item")
            if s.collection.context:
                raise Unsupported(s.collection.span, FOREACH_CONTEXT)
            inner = self._inner(s.collection)
            w.emit(f"for {item} in ctx.pv_values({s.collection.name!r}, {inner}):", s.span)
            with w.indent():
                if s.collection.transforms:  # applied to each value, as OpenSIPS does
                    w.emit(f"{item} = {self._transformed(item, s.collection)}")
                for line in self._write(s.var, "=", item):
                    w.emit(line)
                self._block(s.body) if not isinstance(s.body, ast.Block) else self._body(
                    s.body.body
                )
        elif isinstance(s, ast.Switch):
            self._switch(s)
        elif isinstance(s, ast.Break):
            w.emit("break", s.span)
        elif isinstance(s, ast.Block):
            self._body(s.body)
        elif isinstance(s, ast.Include):
            raise Unsupported(s.span, "an `include_file` that was not inlined")
        else:
            self._command_stmt(s)

    def _if(self, s: ast.If, keyword_: str) -> None:
        self.w.emit(f"{keyword_} {self._cond(s.cond)}:", s.span)
        self._block(s.then)
        orelse = s.orelse
        if orelse is None:
            return
        if isinstance(orelse, ast.If):
            self._if(orelse, "elif")
            return
        self.w.emit("else:")
        self._block(orelse)

    def _switch(self, s: ast.Switch) -> None:
        start = self._fresh("case")
        labels = [repr(c.label.value) if c.label is not None else "None" for c in s.cases]
        label_tuple = "(" + ", ".join(labels) + ("," if len(labels) == 1 else "") + ")"
        default = next((k for k, c in enumerate(s.cases) if c.label is None), len(s.cases))
        self.w.emit("for _ in (0,):  # switch: `break` leaves this one-pass loop", s.span)
        with self.w.indent():
            self.w.emit(
                f"{start} = ops.switch_start({self._read(s.subject)}, {label_tuple}, {default})"
            )
            for k, case in enumerate(s.cases):
                self.w.emit(f"if {start} <= {k}:", case.span)
                with self.w.indent():
                    self._body(case.body)

    # ------------------------------------------------------------------ commands

    def _command_stmt(self, s: ast.Stmt) -> None:
        w = self.w
        if isinstance(s, ast.Exit):
            w.emit("raise ScriptExit", s.span)
        elif isinstance(s, ast.Drop):
            w.emit("raise ScriptDrop", s.span)
        elif isinstance(s, ast.Return):
            self._return(s)
        elif isinstance(s, ast.Log):
            spec = REGISTRY.get("setflag")  # any core function: stdlib.core is the module
            assert spec is not None
            core = self._module_of(spec)
            log_level = s.level.value if s.level else 4
            w.emit(f"{core}.log(ctx, {log_level}, {s.text.value!r})", s.span)
        elif isinstance(s, ast.Xlog):
            spec = REGISTRY.get("setflag")
            assert spec is not None
            core = self._module_of(spec)
            level = "'L_DBG'" if s.kind == "xdbg" else "'L_ERR'"
            if s.level is not None:
                level = self._format(s.level)
            text = self._format_parts(s.parts)
            w.emit(f"{core}.xlog(ctx, {level}, {text})", s.span)
        elif isinstance(s, ast.Assert):
            spec = REGISTRY.get("setflag")
            assert spec is not None
            core = self._module_of(spec)
            note = s.text.value if s.text else "assertion failed"
            w.emit(f"if not ({self._cond(s.cond)}):", s.span)
            with w.indent():
                w.emit(f"{core}.xlog(ctx, 'L_ERR', {('assert: ' + note + chr(10))!r})")
        elif isinstance(s, ast.ErrorCmd):
            w.emit("pass  # error(): OpenSIPS only logs that it is not implemented", s.span)
        elif isinstance(s, ast.Async):
            self._async(s)
        elif isinstance(s, ast.Launch):
            self._launch(s)
        elif isinstance(s, ast.Call | ast.RouteCall):
            w.emit(self._command(s), s.span)
        else:
            raise Unsupported(s.span, f"`{type(s).__name__}` cannot be compiled")

    def _return(self, s: ast.Return) -> None:
        if s.values:
            values = ", ".join(self._value(v) for v in s.values)
            self.w.emit(f"ctx.ret_values = ({values},)", s.span)
        code = s.code
        if code is None:
            self.w.emit("return 1", s.span)
        elif isinstance(code, ast.Number):
            if code.value == 0:
                self.w.emit("raise ScriptExit  # return(0) ends the run", s.span)
            else:
                self.w.emit(f"return {code.value}", s.span)
        else:
            self.w.emit(f"return ops.exit_if_zero(ops.return_code({self._read(code)}))", s.span)

    def _async(self, s: ast.Async) -> None:
        spec = REGISTRY.get(s.call.name)
        if spec is None:
            raise Unsupported(s.call.span, f"`{s.call.name}` is not a function sipc implements")
        call = self._call(s.call, allow_await=True)
        resume = self.routes.get(("route", s.resume.name))
        if resume is None:
            raise Unsupported(s.resume.span, f"no `route[{s.resume.name}]` to resume in")
        self.w.emit(f"ctx.rc = {call}", s.span)
        run = f"{resume.func}(ctx)"
        self.w.emit(f"{'await ' if resume.is_async else ''}{run}", s.resume.span)
        self.w.emit("raise ScriptExit  # async() ends the route that started it")

    def _launch(self, s: ast.Launch) -> None:
        """The function is called over a fresh context (`launched`) with its arguments read
        from this run; the coroutine goes to the runtime, and this route goes on."""
        report = None
        if s.report is not None:
            report = self.routes.get(("route", s.report.name))
            if report is None:
                raise Unsupported(s.report.span, f"no `route[{s.report.name}]` to report to")
        param = self._format(s.param) if s.param is not None else "None"
        self.w.emit(f"launched = ctx.launch_context({param})", s.span)
        job = self._call(s.call, allow_await=False, over="launched", launch=True)
        command = f"ctx.launch(launched, {job}, {report.func if report else None})"
        self.w.emit(f"ctx.setrc({command})" if self.track_rc else command, s.span)

    def _command(self, c: ast.Command) -> str:
        """An action as an expression whose value is its return code."""
        if isinstance(c, ast.Call):
            expr = self._call(c, allow_await=True)
        elif isinstance(c, ast.RouteCall):
            expr = self._route_call(c)
        else:
            raise Unsupported(c.span, "this statement cannot be used as a value")
        return f"ctx.setrc({expr})" if self.track_rc else expr

    def _route_call(self, c: ast.RouteCall) -> str:
        target = c.target
        assert self.current is not None
        if isinstance(target, ast.PVar) or (target.style == "string" and "$" in target.name):
            # a name computed at run time: looked up in ROUTES.named when the call runs
            if isinstance(target, ast.PVar):
                name = f"ops.to_str({self._read(target)})"
            else:
                name = self._format(
                    ast.StringLit(target.name, "", _safe_parts(target.name), None, target.span)
                )
            args = "".join(f", {self._value(a)}" for a in c.args)
            if self.current.is_async:
                return f"await ctx.call_named_async(ROUTES.named, {name}{args})"
            return f"ctx.call_named(ROUTES.named, {name}{args})"
        callee = self.routes.get(("route", target.name))
        if callee is None:
            raise Unsupported(target.span, f"no `route[{target.name}]` is defined")
        if callee.is_async and not self.current.is_async:
            raise Unsupported(c.span, "a route that can suspend called from one that cannot")
        if c.args:
            args = ", ".join(self._value(a) for a in c.args)
            method = "call_route_async" if callee.is_async else "call_route"
            expr = f"ctx.{method}({callee.func}, {args})"
        else:
            expr = f"{callee.func}(ctx)"
        return f"await {expr}" if callee.is_async else expr

    def _call(
        self, c: ast.Call, *, allow_await: bool, over: str = "ctx", launch: bool = False
    ) -> str:
        """`c` as a call of its stdlib function. `over` names the context it runs over
        (and its output variables live in); `launch`: the bare call, not awaited (a
        coroutine for `ctx.launch`, or the code of a function that does not suspend)."""
        spec = REGISTRY.get(c.name)
        if spec is None:
            raise Unsupported(c.name_span, f"`{c.name}()` is not implemented by sipc")
        module = self._module_of(spec)
        params = spec.params
        if len(c.args) > len(params):
            raise Unsupported(c.span, f"`{c.name}` takes at most {len(params)} arguments")
        args = [over]
        for arg, param in zip(c.args, params, strict=False):
            args.append(self._arg(arg, param.kind, c, param.optional, over))
        for param in params[len(c.args) :]:
            if not param.optional:
                raise Unsupported(c.span, f"`{c.name}` needs its `{param.name}` argument")
        expr = f"{module}.{spec.func.__name__}({', '.join(args)})"
        if launch:
            return expr
        if spec.suspends:
            if not allow_await or self.current is None or not self.current.is_async:
                raise Unsupported(c.span, f"`{c.name}` suspends here but the route cannot")
            expr = f"await {expr}"
        if spec.may_exit:
            expr = f"ops.exit_if_zero({expr})"
        return expr

    def _arg(
        self, arg: ast.Arg, kind: ParamKind, call: ast.Call, optional: bool, over: str = "ctx"
    ) -> str:
        if arg is None or isinstance(arg, ast.Null):
            if not optional:
                raise Unsupported(call.span, f"`{call.name}` needs a value here")
            return "None"
        if kind is ParamKind.INT:
            if isinstance(arg, ast.Number):
                return repr(arg.value)
            if isinstance(arg, ast.PVar):
                return f"ops.to_int({self._read(arg)})"
            if isinstance(arg, ast.StringLit) and arg.value.strip().lstrip("-").isdigit():
                return repr(int(arg.value))
            raise Unsupported(arg.span, f"`{call.name}` wants an integer here")
        if kind in (ParamKind.OUT, ParamKind.VAR):
            if not isinstance(arg, ast.PVar):
                raise Unsupported(arg.span, f"`{call.name}` wants a variable here")
            self.uses_handle = True
            index = arg.index if isinstance(arg.index, int) else None
            return f"PvHandle({over}, {arg.name!r}, {self._inner(arg)}, {index!r})"
        if isinstance(arg, ast.StringLit):
            if kind is ParamKind.STR and arg.is_format:
                return self._format(arg)
            return repr(arg.value)
        if isinstance(arg, ast.Number):
            return repr(str(arg.value))
        if isinstance(arg, ast.BareName):
            return repr(arg.name)
        return f"ops.to_str({self._read(arg)})"

    # ------------------------------------------------------------------ values

    def _format(self, s: ast.StringLit) -> str:
        return self._format_parts((s,))

    def _format_parts(self, strings: tuple[ast.StringLit, ...]) -> str:
        pieces: list[str] = []
        for s in strings:
            if s.parts is None:
                raise Unsupported(s.span, f"cannot read this format string: {s.format_error}")
            for part in s.parts:
                pieces.append(
                    repr(part) if isinstance(part, str) else f"ops.text({self._read(part)})"
                )
        merged: list[str] = []
        for p in pieces:  # join adjacent literals
            if merged and p[:1] in "'\"" and merged[-1][:1] in "'\"":
                merged[-1] = repr(eval(merged[-1]) + eval(p))  # our own repr()s
            else:
                merged.append(p)
        if not merged:
            return "''"
        if len(merged) == 1:
            return merged[0]
        return " + ".join(merged)

    def _inner(self, pv: ast.PVar) -> str:
        if pv.inner is None:
            return "None"
        if isinstance(pv.inner, ast.PVar):
            return f"ops.to_str({self._read(pv.inner)})"
        return repr(pv.inner)

    def _index(self, pv: ast.PVar) -> str:
        if pv.index is None:
            return "None"
        if isinstance(pv.index, ast.PVar):
            return f"ops.to_int({self._read(pv.index)})"
        return repr(pv.index)

    def _read(self, pv: ast.PVar) -> str:
        """A pseudo-variable read as a Python expression of type Value."""
        if pv.context is not None:
            base = (
                f"ctx.pv_get_in({pv.context!r}, {pv.name!r}, {self._inner(pv)}, {self._index(pv)})"
            )
        else:
            base = self._read_plain(pv)
        return self._transformed(base, pv) if pv.transforms else base

    def _transformed(self, base: str, pv: ast.PVar) -> str:
        """`base` (a Value expression) through the transformations of `pv`."""
        chain_items = []
        literal = True
        for tr in pv.transforms:
            args = []
            for a in tr.args:
                if isinstance(a, ast.PVar):
                    literal = False
                    args.append(self._read(a))
                else:
                    args.append(repr(a))
            arg_tuple = "(" + ", ".join(args) + ("," if len(args) == 1 else "") + ")"
            chain_items.append(f"({tr.name!r}, {arg_tuple})")
        chain = "(" + ", ".join(chain_items) + ("," if len(chain_items) == 1 else "") + ")"
        if literal:
            chain = self._const(chain, "TR")
        return f"ops.transform({base}, {chain})"

    def _read_plain(self, pv: ast.PVar) -> str:
        name = pv.name
        if pv.inner is None and pv.index is None and name in _READ_ATTR:
            return _READ_ATTR[name]
        if name == "var" and pv.index is None:
            return f"ctx.vars.get({self._inner(pv)})"
        if (
            name == "avp"
            and isinstance(pv.inner, str)
            and (pv.index is None or isinstance(pv.index, int))
        ):
            index = pv.index if isinstance(pv.index, int) else 0
            return f"ctx.avp.get({pv.inner!r}{', ' + str(index) if index else ''})"
        if (
            name == "hdr"
            and isinstance(pv.inner, str)
            and (pv.index is None or isinstance(pv.index, int))
        ):
            index = pv.index if isinstance(pv.index, int) else 0
            return f"ctx.hdr({pv.inner!r}{', ' + str(index) if index else ''})"
        if name == "param" and isinstance(pv.inner, str) and pv.index is None:
            which = int(pv.inner) if pv.inner.isdigit() else pv.inner
            return f"ctx.param({which!r})"
        return f"ctx.pv_get({name!r}, {self._inner(pv)}, {self._index(pv)})"

    def _value(self, e: ast.Expr | ast.Arg) -> str:
        """Any expression as a Python expression of type Value."""
        if isinstance(e, ast.Number):
            return repr(e.value)
        if isinstance(e, ast.StringLit):
            return repr(e.value)
        if isinstance(e, ast.Null) or e is None:
            return "None"
        if isinstance(e, ast.PVar):
            return self._read(e)
        if isinstance(e, ast.BareName):
            return repr(e.name)
        if isinstance(e, ast.BinOp):
            return f"ops.{_BINOPS[e.op]}({self._value(e.left)}, {self._value(e.right)})"
        if isinstance(e, ast.BitNot):
            return f"ops.bnot({self._value(e.operand)})"
        if isinstance(e, ast.Paren):
            if isinstance(e.inner, ast.Logic | ast.Not | ast.ArithTest):
                return f"ops.bool_int({self._cond(e.inner)})"
            return self._value(e.inner)  # type: ignore[arg-type]
        if isinstance(e, ast.Compare):
            return f"ops.bool_int({self._compare(e)})"
        if isinstance(e, ast.Call | ast.RouteCall):
            return self._command(e)
        raise Unsupported(e.span, f"`{type(e).__name__}` cannot be used as a value")

    # ------------------------------------------------------------------ conditions

    def _cond(self, c: ast.Cond) -> str:
        if isinstance(c, ast.Logic):
            op = "and" if c.op == "&&" else "or"
            return f"({self._cond(c.left)}) {op} ({self._cond(c.right)})"
        if isinstance(c, ast.Not):
            return f"not ({self._cond(c.operand)})"
        if isinstance(c, ast.Paren):
            return f"({self._cond(c.inner)})"  # type: ignore[arg-type]
        if isinstance(c, ast.ArithTest):
            return f"ops.truthy({self._value(c.expr)})"
        if isinstance(c, ast.Compare):
            return self._compare(c)
        if isinstance(c, ast.PVar):
            return f"ops.truthy({self._read(c)})"
        if isinstance(c, ast.Number):
            return "True" if c.value else "False"
        if isinstance(c, ast.Call | ast.RouteCall):
            return f"{self._command(c)} > 0"
        if isinstance(c, ast.Assign):
            # an assignment as a condition (`if ($var(r) = f())`): done, then true (code 1)
            return f"{self._assign_expr(c)} > 0"
        raise Unsupported(
            c.span, f"`{type(c).__name__}` as a condition is not supported by sipc yet"
        )

    def _compare(self, c: ast.Compare) -> str:
        left = self._read(c.left)
        right = c.right
        if c.op in ("=~", "!~"):
            if isinstance(right, ast.StringLit):
                pattern = self._const(f"ops.regex({right.value!r})", "RE")
            elif isinstance(right, ast.PVar):
                pattern = self._read(right)
            else:
                raise Unsupported(right.span, "a regex match needs a string or a variable")
            test = f"ops.match({left}, {pattern})"
            return test if c.op == "=~" else f"not {test}"
        if isinstance(right, ast.Null):
            return f"{left} is None" if c.op == "==" else f"{left} is not None"
        if isinstance(right, ast.IpLiteral):
            network = self._const(f"ops.net({right.text!r})", "NET")
            test = f"ops.in_net({left}, {network})"
            return test if c.op == "==" else f"not {test}"
        if isinstance(right, ast.IpLiteral):  # pragma: no cover - handled above
            raise Unsupported(right.span, "unexpected IP literal")
        return f"ops.{_CMP[c.op]}({left}, {self._value(right)})"

    # ------------------------------------------------------------------ assignments

    def _assign(self, s: ast.Assign) -> list[str]:
        if s.op in _COMPOUND:
            current = self._read(s.target)
            value = f"ops.{_BINOPS[_COMPOUND[s.op]]}({current}, {self._value(s.value)})"
            return self._write(s.target, "=", value)
        if isinstance(s.value, ast.Null):
            return self._delete(s.target, s.op)
        return self._write(s.target, s.op, self._value(s.value))

    def _assign_expr(self, s: ast.Assign) -> str:
        """An assignment as one expression: `ctx.pv_assign(...)`, whose code is 1."""
        target = s.target
        if target.transforms or target.context:
            raise Unsupported(target.span, "transformations cannot be assigned to")
        if s.op in _COMPOUND:
            value = f"ops.{_BINOPS[_COMPOUND[s.op]]}({self._read(target)}, {self._value(s.value)})"
        else:
            value = "None" if isinstance(s.value, ast.Null) else self._value(s.value)
        assign = ", assign=True" if s.op == ":=" else ""
        return (
            f"ctx.pv_assign({target.name!r}, {value}, {self._inner(target)}, "
            f"{self._index(target)}{assign})"
        )

    def _write(self, pv: ast.PVar, op: str, value: str) -> list[str]:
        if pv.transforms or pv.context:
            raise Unsupported(pv.span, "transformations cannot be assigned to")
        name = pv.name
        if pv.inner is None and pv.index is None and name in _WRITE_ATTR:
            attr, conv = _WRITE_ATTR[name]
            return [f"{attr} = {conv}({value})" if conv else f"{attr} = {value}"]
        if name == "var" and pv.index is None:
            return [f"ctx.vars[{self._inner(pv)}] = {value}"]
        if name == "avp" and isinstance(pv.inner, str) and pv.index is None:
            method = "assign" if op == ":=" else "push"
            return [f"ctx.avp.{method}({pv.inner!r}, {value})"]
        assign = ", assign=True" if op == ":=" else ""
        return [f"ctx.pv_set({name!r}, {value}, {self._inner(pv)}, {self._index(pv)}{assign})"]

    def _delete(self, pv: ast.PVar, op: str) -> list[str]:
        name = pv.name
        if name == "var" and pv.index is None:
            return [f"ctx.vars[{self._inner(pv)}] = None"]
        if pv.inner is None and pv.index is None and name in _WRITE_ATTR:
            return [f"{_WRITE_ATTR[name][0]} = None"]
        assign = ", assign=True" if op == ":=" else ""
        return [f"ctx.pv_set({name!r}, None, {self._inner(pv)}, {self._index(pv)}{assign})"]


def _safe_parts(text: str) -> tuple[str | ast.PVar, ...] | None:
    from compiler.pvparse import PvSyntaxError, parse_format

    try:
        return parse_format(text)
    except PvSyntaxError:
        return None


def generate(script: ast.Script, source_name: str, source_text: str) -> Generated:
    """The (unformatted) Python source of `script`; raises Unsupported."""
    return CodeGenerator(script, source_name, source_text).generate()
