"""Function calls and module parameters, checked against the function registry.

Everything known about a function comes from `stdlib`: `REGISTRY` (implemented functions,
with parameter kinds), `UNSUPPORTED` (functions OpenSIPS has and sipc does not yet, with
their arity), `MODULES` and `MODPARAMS`. Nothing about a function is written here.
"""

from __future__ import annotations

import re

from compiler import ast
from compiler.check.legacy import REMOVED_FUNCTIONS
from compiler.check.names import route_key, unknown_route
from compiler.check.suggest import closest
from compiler.check.walk import nodes_of
from compiler.diagnostics import Diagnostic, Note, make
from compiler.registry_view import (
    MODPARAMS,
    MODULES,
    REGISTRY,
    UNSUPPORTED,
    FunctionInfo,
    ParamKind,
    ParamSpec,
    modparams_of,
)
from runtime.core.pvspec import lookup_pv

# stdlib._regex.posix_to_python is this same function, which runtime.api re-exports
from runtime.core.transforms.regex import posix_to_python_pattern as posix_to_python

_ALL_FUNCTION_NAMES = sorted({*REGISTRY, *UNSUPPORTED})
# Modules that add no script functions sipc would need to know: transports, databases,
# management interfaces, TLS back-ends.
_NO_FUNCTION_PREFIXES = ("proto_", "db_", "mi_", "tls_", "cachedb_")
_NO_FUNCTION_MODULES = frozenset({"httpd"})


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    loaded = loaded_modules(script)
    unknown_modules = sorted(m for m in loaded if not _is_catalogued(m))
    routes = {route_key(r.kind, r.name.name if r.name else None) for r in script.routes}
    async_calls: dict[int, ast.Async | ast.Launch] = {}
    calls: list[ast.Call] = []
    for node in nodes_of(script, ast.Async, ast.Launch, ast.Call, ast.ModParam):
        if isinstance(node, ast.Async | ast.Launch):
            async_calls[id(node.call)] = node
        elif isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.ModParam):
            out.extend(_check_modparam(node, loaded))
    reported_names: set[str] = set()
    missing_modules: set[str] = set()
    for call in calls:
        if call.name in REMOVED_FUNCTIONS:
            continue  # legacy.py says what replaced it
        spec = REGISTRY.get(call.name)
        unsupported = UNSUPPORTED.get(call.name)
        module = spec.module if spec else unsupported.module if unsupported else None
        if module is None:
            if call.name not in reported_names:
                reported_names.add(call.name)
                out.append(_unknown_function(call, unknown_modules))
            continue
        if module != "core" and module not in loaded and module not in missing_modules:
            missing_modules.add(module)
            out.append(
                make(
                    "module-not-loaded",
                    call.name_span,
                    f"`{call.name}` needs module `{module}`, which the script does not load",
                    help=f'add `loadmodule "{module}.so"` before the routes',
                )
            )
        wrapper = async_calls.get(id(call))
        if spec is not None:
            out.extend(_check_args(call, spec, routes))
            if wrapper is not None and not spec.async_ok:
                out.append(_not_async(call, wrapper))
            continue
        assert unsupported is not None
        if call.name not in reported_names:
            reported_names.add(call.name)
            out.append(
                make(
                    "unsupported-function",
                    call.name_span,
                    f"`{call.name}` (module `{module}`) is not supported by sipc yet",
                    help="sipc cannot compile this script until it implements the function",
                )
            )
        out.extend(_check_arity(call, unsupported.min_args, unsupported.max_args, None))
        if wrapper is not None and unsupported.async_mode == "no":
            out.append(_not_async(call, wrapper))
        elif wrapper is None and unsupported.async_mode == "only":
            out.append(
                make(
                    "async-only",
                    call.name_span,
                    f"`{call.name}` can only be called through `async()` or `launch()`",
                    help=f"write `async({_show_call(call)}, resume_route);`",
                )
            )
    return out


def loaded_modules(script: ast.Script) -> set[str]:
    return {i.module for i in script.items if isinstance(i, ast.LoadModule)}


def _is_catalogued(module: str) -> bool:
    """True for a module whose script functions sipc knows (or which has none)."""
    return (
        module in MODULES
        or module.startswith(_NO_FUNCTION_PREFIXES)
        or module in _NO_FUNCTION_MODULES
    )


def _unknown_function(call: ast.Call, unknown_modules: list[str]) -> Diagnostic:
    close = closest(call.name, _ALL_FUNCTION_NAMES, 0.75)
    hint = f"did you mean `{close}`?" if close is not None else None
    if unknown_modules:
        mods = ", ".join(f"`{m}`" for m in unknown_modules)
        return make(
            "unknown-function",
            call.name_span,
            f"unknown function `{call.name}`",
            help=hint,
            notes=[Note(f"it may come from {mods}, whose functions sipc does not know")],
            severity="warning",
        )
    return make(
        "unknown-function",
        call.name_span,
        f"unknown function `{call.name}`",
        help=hint or "neither OpenSIPS's core nor a module sipc knows has it",
    )


def _not_async(call: ast.Call, wrapper: ast.Async | ast.Launch) -> Diagnostic:
    what = "async()" if isinstance(wrapper, ast.Async) else "launch()"
    return make(
        "not-async",
        call.name_span,
        f"`{call.name}` cannot run inside `{what}`: it is not exported for asynchronous use",
        help=f"call it directly: `{_show_call(call)};`",
    )


# ---------------------------------------------------------------------------- arguments


def _check_arity(
    call: ast.Call, min_args: int, max_args: int, params: tuple[ParamSpec, ...] | None
) -> list[Diagnostic]:
    given = len(call.args)
    if given > max_args:
        extra = call.args[max_args]
        span = extra.span if extra is not None else call.span
        takes = f"at most {max_args}" if min_args != max_args else str(max_args)
        return [
            make(
                "arity",
                span,
                f"`{call.name}` takes {takes} argument{'s' if max_args != 1 else ''}, got {given}",
                help="remove the extra arguments",
            )
        ]
    missing: list[str] = []
    for index in range(min_args):
        arg = call.args[index] if index < given else None
        optional = params[index].optional if params is not None else False
        if arg is None and not optional and (params is not None or index >= given):
            missing.append(f"`{params[index].name}`" if params is not None else f"#{index + 1}")
    if not missing:
        return []
    return [
        make(
            "arity",
            call.span,
            f"`{call.name}` is missing its mandatory argument{'s' if len(missing) > 1 else ''} "
            + ", ".join(missing),
            help=f"`{call.name}` needs at least {min_args} argument{'s' if min_args != 1 else ''}",
        )
    ]


# id(spec) -> (spec, min_args, max_args): FunctionInfo computes them on each read
_ARITY: dict[int, tuple[FunctionInfo, int, int]] = {}


def _arity(spec: FunctionInfo) -> tuple[int, int]:
    known = _ARITY.get(id(spec))
    if known is None or known[0] is not spec:
        known = _ARITY[id(spec)] = (spec, spec.min_args, spec.max_args)
    return known[1], known[2]


def _check_args(
    call: ast.Call, spec: FunctionInfo, routes: set[tuple[str, str | None]]
) -> list[Diagnostic]:
    min_args, max_args = _arity(spec)
    out = _check_arity(call, min_args, max_args, spec.params)
    if out:
        return out
    for index, (param, arg) in enumerate(zip(spec.params, call.args, strict=False)):
        if arg is None or isinstance(arg, ast.BareName):
            continue  # empty: checked by arity; a bare word: flow.py reports it
        problem = _check_one(call, index, param, arg, routes)
        if problem is not None:
            out.append(problem)
    return out


def _check_one(
    call: ast.Call,
    index: int,
    param: ParamSpec,
    arg: ast.StringLit | ast.Number | ast.PVar | ast.Null,
    routes: set[tuple[str, str | None]],
) -> Diagnostic | None:
    kind = param.kind
    what = f"`{call.name}` argument `{param.name}`"
    if isinstance(arg, ast.Null):
        return make("arg-type", arg.span, f"{what} cannot be `NULL`")
    if kind is ParamKind.INT:
        if isinstance(arg, ast.StringLit):
            if re.fullmatch(r"\s*[+-]?[0-9]+\s*", arg.value):
                fixed = _show_call(call, replace={index: arg.value.strip()})
                return make(
                    "arg-type",
                    arg.span,
                    f"{what} is an integer, not the string {arg.raw}",
                    help=f"OpenSIPS 3.x rejects a quoted number here at start-up: write `{fixed}`",
                )
            unquoted = arg.value.strip() if arg.value.strip().startswith("$") else None
            return make(
                "arg-type",
                arg.span,
                f"{what} is an integer, not a string",
                help=f"pass the variable without quotes: `{unquoted}`"
                if unquoted
                else "pass a number or a variable holding one",
            )
        return None
    if kind in (ParamKind.STR, ParamKind.NO_EXPAND_STR, ParamKind.REGEX, ParamKind.STATIC_STR):
        if isinstance(arg, ast.Number):
            return make(
                "arg-type",
                arg.span,
                f"{what} is a string, not a number",
                help=f'quote it: `"{arg.text}"` (OpenSIPS rejects a number here at start-up)',
            )
        if kind is ParamKind.STATIC_STR and (isinstance(arg, ast.PVar) or "$" in arg.value):
            return make(
                "arg-type",
                arg.span,
                f"{what} must be a plain string literal, without variables",
                help="OpenSIPS fixes this argument at start-up; write the text itself",
            )
        if kind is ParamKind.REGEX and isinstance(arg, ast.StringLit):
            return _check_regex(what, arg)
        return None
    if kind in (ParamKind.OUT, ParamKind.VAR):
        if not isinstance(arg, ast.PVar):
            quoted = (
                arg.value
                if isinstance(arg, ast.StringLit) and arg.value.startswith("$")
                else "$var(result)"
            )
            return make(
                "arg-type",
                arg.span,
                f"{what} must be a variable, written without quotes",
                help=f"pass `{quoted}`",
            )
        pv_spec = lookup_pv(arg.name) if arg.name else None
        if kind is ParamKind.OUT and pv_spec is not None and not pv_spec.writable:
            return make(
                "arg-type",
                arg.span,
                f"{what} is written by the function, but `{arg.text}` is read-only",
                help="pass a writable variable such as `$var(name)` or `$avp(name)`",
            )
        return None
    if kind is ParamKind.ROUTE_REF:
        return _check_route_ref(param, arg, routes)
    return None


def route_kind_of(param: ParamSpec) -> str:
    """The kind of route a `RouteRef` parameter names, read from the parameter's name.

    OpenSIPS names these parameters after what they arm (`failure_route`, `reply_route`,
    `branch_route`); any other name is a plain `route[...]`.
    """
    for word, kind in (
        ("failure", "failure_route"),
        ("reply", "onreply_route"),
        ("branch", "branch_route"),
    ):
        if word in param.name:
            return kind
    return "route"


def _check_route_ref(
    param: ParamSpec,
    arg: ast.StringLit | ast.Number | ast.PVar,
    routes: set[tuple[str, str | None]],
) -> Diagnostic | None:
    if isinstance(arg, ast.PVar) or "$" in getattr(arg, "value", ""):
        return None  # a name computed at run time
    name = arg.value if isinstance(arg, ast.StringLit) else arg.text
    kind = route_kind_of(param)
    if route_key(kind, name) in routes:
        return None
    return unknown_route(kind, name, arg.span, (n for k, n in routes if k == kind and n))


def _check_regex(what: str, arg: ast.StringLit) -> Diagnostic | None:
    try:
        re.compile(posix_to_python(arg.value))
    except re.error as exc:
        return make(
            "regex",
            arg.span,
            f"{what} is not a valid regular expression: {exc.msg}",
            help="OpenSIPS compiles it at start-up as a POSIX extended regex and refuses to start",
        )
    return None


# ---------------------------------------------------------------------------- modparam


def _check_modparam(node: ast.ModParam, loaded: set[str]) -> list[Diagnostic]:
    pattern = node.module.value
    try:
        matcher = re.compile(pattern, re.IGNORECASE)
        modules = sorted(m for m in loaded if matcher.fullmatch(m))
    except re.error:
        modules = sorted(m for m in loaded if m == pattern)
    if not modules:
        plain = re.fullmatch(r"[A-Za-z0-9_]+", pattern) is not None
        return [
            make(
                "module-not-loaded",
                node.module.span,
                f"`modparam` sets a parameter of `{pattern}`, which the script does not load",
                help=f'add `loadmodule "{pattern}.so"` before this line'
                if plain
                else "load a module whose name the pattern matches",
            )
        ]
    name = node.param.value
    tabled = [m for m in modules if MODULES.get(m) and modparams_of(m)]
    if not tabled or len(tabled) < len(modules):
        return []  # a module sipc has no parameter table for may take it
    spec = next((MODPARAMS[(m, name)] for m in tabled if (m, name) in MODPARAMS), None)
    if spec is None:
        known = sorted({s.name for m in tabled for s in modparams_of(m)})
        close = closest(name, known, 0.6)
        where = " or ".join(f"`{m}`" for m in tabled)
        return [
            make(
                "unknown-modparam",
                node.param.span,
                f"module {where} has no parameter `{name}` in sipc",
                help=f"did you mean `{close}`?"
                if close is not None
                else "sipc knows " + ", ".join(f"`{k}`" for k in known),
            )
        ]
    value = node.value
    if spec.type is int and isinstance(value, tuple):
        text = "".join(s.value for s in value)
        if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
            default = spec.default if spec.default is not None else 1
            return [
                make(
                    "modparam-type",
                    value[0].span.to(value[-1].span),
                    f"`{spec.module}` parameter `{name}` is an integer, not {value[0].raw}",
                    help=f'write a number: `modparam("{pattern}", "{name}", {default})`',
                )
            ]
    elif spec.type is str and isinstance(value, ast.Number):
        return [
            make(
                "modparam-type",
                value.span,
                f"`{spec.module}` parameter `{name}` is a string, not the number {value.text}",
                help=f'quote it: `"{value.text}"`',
            )
        ]
    return []


# ---------------------------------------------------------------------------- printing


def show_arg(arg: ast.Arg) -> str:
    if arg is None:
        return ""
    if isinstance(arg, ast.StringLit):
        return arg.raw or f'"{arg.value}"'
    if isinstance(arg, ast.Number):
        return arg.text
    if isinstance(arg, ast.PVar):
        return arg.text
    if isinstance(arg, ast.BareName):
        return arg.name
    return "NULL"


def _show_call(call: ast.Call, *, replace: dict[int, str] | None = None) -> str:
    shown = [(replace or {}).get(i, show_arg(a)) for i, a in enumerate(call.args)]
    return f"{call.name}({', '.join(shown)})"
