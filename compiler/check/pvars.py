"""Pseudo-variables and transformations: known names, the parts each takes, what can be written.

The tables are the runtime's own (`runtime/core/pvspec.py`, a data-only module), so the
checker and the code that reads the variables never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler import ast
from compiler.check.suggest import closest
from compiler.check.walk import nodes_of, pvars_in, string_pvars
from compiler.diagnostics import Diagnostic, Note, make
from compiler.registry_view import MODULES, REGISTRY, ParamKind
from runtime.core.pvspec import (
    NOT_READ_BY_RUNTIME,
    NOT_WRITTEN_BY_RUNTIME,
    PV_SPECS,
    TRANSFORM_SPECS,
    lookup_pv,
    lookup_transform,
    merge_comma_arguments,
)

_ALL_PV_NAMES = sorted({*PV_SPECS, *(a for s in PV_SPECS.values() for a in s.aliases)})
_ITERATORS = ("var", "avp", "json")
# Modules whose variables the table lists in full (every module of the function registry:
# spec/functions.md with pseudo-variables.md §3), and modules that define none. A script that
# loads any other module may use variables sipc has no table for: an unknown name is then a
# warning, not an error.
_MODULES_WITHOUT_VARIABLES = frozenset(
    [
        "proto_tls",
        "proto_ws",
        "proto_wss",
        "proto_sctp",
        "mi_fifo",
        "mi_http",
        "mi_datagram",
        "httpd",
        "db_mysql",
        "db_postgres",
        "db_sqlite",
        "db_text",
        "db_unixodbc",
        "db_berkeley",
        "db_flatstore",
        "acc_db",
        "tls_mgm",
        "tls_openssl",
        "uri",
        "domain",
        "alias_db",
        "group",
        "permissions",
        "json",
    ]
)
CATALOGUED_MODULES = frozenset(MODULES) | _MODULES_WITHOUT_VARIABLES
# Transformation classes that modules add; sipc cannot check their names yet.
MODULE_TRANSFORM_CLASSES = {"rest": "rest_client", "json": "json", "xml": "xml", "b64": "core"}

# also what `sipc build` says of it (compiler.codegen): a clean check is a script that builds
FOREACH_CONTEXT = "`for` over a variable read in another context is not supported yet"


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[int] = set()
    unknown_modules = sorted(
        {i.module for i in script.items if isinstance(i, ast.LoadModule)} - CATALOGUED_MODULES
    )
    for pv in _all_pvars(script):
        if id(pv) in seen:
            continue
        seen.add(id(pv))
        out.extend(_check_pv(pv, unknown_modules))
    for node in nodes_of(script, ast.Assign, ast.ForEach):
        if isinstance(node, ast.Assign):
            out.extend(_check_write(node.target))
        elif isinstance(node, ast.ForEach) and node.var.name not in _ITERATORS:
            out.append(
                make(
                    "foreach-iterator",
                    node.var.span,
                    f"`{node.var.text}` cannot be a `for` iterator",
                    help="iterate with `$var(name)`, `$avp(name)` or `$json(name)`",
                )
            )
        if isinstance(node, ast.ForEach) and node.collection.context:
            out.append(make("unsupported", node.collection.span, FOREACH_CONTEXT))
    return out


def _all_pvars(script: ast.Script) -> Iterator[ast.PVar]:
    """Variables in code, and in the strings that are always expanded as formats."""
    for node in nodes_of(script, ast.PVar, ast.Xlog, ast.RouteCall, ast.Launch, ast.Call):
        if isinstance(node, ast.PVar):
            yield node
        elif isinstance(node, ast.Call):
            yield from _expanded_argument_pvars(node)
        elif isinstance(node, ast.Xlog):
            for s in (*node.parts, *((node.level,) if node.level else ())):
                yield from _format_pvars(s)
        elif isinstance(node, ast.RouteCall) and isinstance(node.target, ast.RouteName):
            if node.target.style == "string" and "$" in node.target.name:
                yield from _nested(
                    ast.StringLit(
                        node.target.name, "", _safe_format(node.target.name), None, node.target.span
                    )
                )
        elif isinstance(node, ast.Launch) and node.param is not None:
            yield from _format_pvars(node.param)


def _expanded_argument_pvars(call: ast.Call) -> Iterator[ast.PVar]:
    """Variables in the string arguments a function expands as formats (kind `str`)."""
    spec = REGISTRY.get(call.name)
    if spec is None:
        return
    for param, arg in zip(spec.params, call.args, strict=False):
        if param.kind is ParamKind.STR and isinstance(arg, ast.StringLit):
            yield from _format_pvars(arg)


def _safe_format(text: str) -> tuple[str | ast.PVar, ...] | None:
    from compiler.pvparse import PvSyntaxError, parse_format

    try:
        return parse_format(text)
    except PvSyntaxError:
        return None


def _format_pvars(s: ast.StringLit) -> Iterator[ast.PVar]:
    yield from _nested(s)


def _nested(s: ast.StringLit) -> Iterator[ast.PVar]:
    for pv in string_pvars(s):
        yield from pvars_in(pv)


def _check_pv(pv: ast.PVar, unknown_modules: list[str]) -> list[Diagnostic]:
    if not pv.name:
        return []  # the parser already said it cannot read it
    spec = lookup_pv(pv.name)
    out: list[Diagnostic] = []
    if spec is None:
        close = closest(pv.name, _ALL_PV_NAMES, 0.7)
        hint = f"did you mean `${close}`?" if close is not None else None
        if pv.name.startswith(("avp", "var")) and pv.name[3:4] in ("[", "{"):
            hint = "indexes and transformations need the wrapped form: `$(avp(name)[1])`"
        if unknown_modules:
            mods = ", ".join(f"`{m}`" for m in unknown_modules)
            return [
                make(
                    "unknown-variable",
                    pv.span,
                    f"unknown variable `${pv.name}`",
                    help=hint,
                    notes=[Note(f"it may come from {mods}, whose variables sipc does not know")],
                    severity="warning",
                )
            ]
        return [make("unknown-variable", pv.span, f"unknown variable `${pv.name}`", help=hint)]
    if spec.inner == "required" and pv.inner is None:
        out.append(
            make(
                "variable-syntax",
                pv.span,
                f"`${pv.name}` needs a name in parentheses",
                help=f"write `${pv.name}(name)`",
            )
        )
    elif spec.inner == "none" and pv.inner is not None:
        out.append(make("variable-syntax", pv.span, f"`${pv.name}` takes no name in parentheses"))
    if spec.name in NOT_READ_BY_RUNTIME:
        module = f" (module `{spec.module}`)" if spec.module and spec.module != "core" else ""
        out.append(
            make(
                "unsupported-variable",
                pv.span,
                f"`${pv.name}`{module} is not supported by sipc yet",
            )
        )
    if pv.context is not None and pv.context not in ("request", "reply"):
        out.append(
            make(
                "variable-syntax",
                pv.span,
                f"unknown context `<{pv.context}>`",
                help="the contexts are `<request>` and `<reply>`",
            )
        )
    for tr in pv.transforms:
        out.extend(_check_transform(tr, pv))
    return out


def _check_transform(tr: ast.Transform, pv: ast.PVar) -> list[Diagnostic]:
    spec = lookup_transform(tr.name)
    if spec is None and tr.name.split(".", 1)[0] in MODULE_TRANSFORM_CLASSES:
        return []  # a module's transformation: its names are not catalogued yet
    if spec is None:
        close = closest(tr.name, TRANSFORM_SPECS, 0.6)
        return [
            make(
                "unknown-transformation",
                pv.span,
                f"unknown transformation `{{{tr.name}}}` in `{pv.text}`",
                help=f"did you mean `{{{close}}}`?" if close is not None else None,
            )
        ]
    n = len(merge_comma_arguments(tr.name, tr.args))  # `{s.select,1,,}`: the separator is `,`
    if n < spec.min_args or n > spec.max_args:
        want = (
            str(spec.min_args)
            if spec.min_args == spec.max_args
            else f"{spec.min_args} to {spec.max_args}"
        )
        return [
            make(
                "transformation-args",
                pv.span,
                f"`{{{tr.name}}}` takes {want} argument{'s' if want != '1' else ''}, got {n}",
            )
        ]
    if not spec.implemented:
        return [
            make(
                "unsupported-transformation",
                pv.span,
                f"`{{{tr.name}}}` is not supported by sipc yet",
            )
        ]
    return []


def _check_write(target: ast.PVar) -> list[Diagnostic]:
    spec = lookup_pv(target.name) if target.name else None
    if spec is None:
        return []
    if spec.writable:
        if spec.name not in NOT_WRITTEN_BY_RUNTIME:
            return []
        return [
            make(
                "unsupported-variable",
                target.span,
                f"`{target.text}` cannot be assigned in sipc yet",
                help="`append_branch()` adds a branch" if spec.name in ("br",) else None,
            )
        ]
    return [
        make(
            "read-only-variable",
            target.span,
            f"`{target.text}` cannot be assigned: it is read-only",
            help="module functions change what it reflects (e.g. `uac_replace_from()` for `$fu`)"
            if target.name in ("fu", "from", "tu", "to")
            else None,
        )
    ]
