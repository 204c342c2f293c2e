"""The registry-driven checks follow the registry: every function, every route kind.

Nothing here lists a function: the scripts are built from `stdlib.REGISTRY`, so a function
added to the registry (or a route kind taken from one) is tested without editing this file.
"""

from __future__ import annotations

import pytest

from compiler.check.callgraph import CONTEXT_ORDER
from compiler.check.functions import route_kind_of
from compiler.driver import analyze
from runtime.api import RouteKind
from stdlib import REGISTRY, UNSUPPORTED, FunctionSpec, ParamKind
from stdlib._registry import RouteRef, derive_params

ROUTE_HEADERS = {
    "request": "route",
    "failure": "failure_route[f]",
    "onreply": "onreply_route[o]",
    "branch": "branch_route[b]",
    "error": "error_route",
    "local": "local_route",
    "startup": "startup_route",
    "timer": "timer_route[t, 5]",
    "event": "event_route[E_MY_EVENT]",
}
SAMPLE_ARG = {
    ParamKind.INT: "1",
    ParamKind.STR: '"x"',
    ParamKind.STATIC_STR: '"x"',
    ParamKind.NO_EXPAND_STR: '"x"',
    ParamKind.REGEX: '"^x"',
    ParamKind.OUT: "$var(out)",
    ParamKind.VAR: "$var(out)",
    ParamKind.ROUTE_REF: '"armed"',
}


def _script(spec: FunctionSpec, context: str, args: list[str]) -> str:
    load = "" if spec.module == "core" else f'loadmodule "{spec.module}.so"\n'
    header = ROUTE_HEADERS[context]
    main = "" if context == "request" else "route { exit; }\n"
    # a route the RouteRef parameters name (t_on_failure("armed") -> failure_route[armed])
    armed = "".join(
        f"{route_kind_of(p)}[armed] {{ exit; }}\n"
        for p in spec.params[: len(args)]
        if p.kind is ParamKind.ROUTE_REF
    )
    body = f"{header} {{\n    $var(out) = 0;\n    {spec.name}({', '.join(args)});\n}}\n"
    return f"{load}{main}{body}{armed}"


def _first_context(spec: FunctionSpec) -> str:
    return next(c for c in CONTEXT_ORDER if RouteKind[c.upper()] in spec.routes)


def _valid_args(spec: FunctionSpec) -> list[str]:
    return [SAMPLE_ARG[p.kind] for p in spec.params[: spec.min_args]]


def _codes(text: str) -> list[str]:
    return [d.code for d in analyze("case.cfg", text=text).diagnostics]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_function_is_clean_where_its_routes_allow_it(name: str) -> None:
    spec = REGISTRY[name]
    allowed = [c for c in CONTEXT_ORDER if RouteKind[c.upper()] in spec.routes]
    for context in allowed:
        assert _codes(_script(spec, context, _valid_args(spec))) == [], context


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_function_is_refused_where_its_routes_do_not_allow_it(name: str) -> None:
    spec = REGISTRY[name]
    refused = [c for c in CONTEXT_ORDER if RouteKind[c.upper()] not in spec.routes]
    for context in refused:
        assert _codes(_script(spec, context, _valid_args(spec))) == ["route-context"], context


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_function_counts_its_arguments(name: str) -> None:
    spec = REGISTRY[name]
    context = _first_context(spec)
    too_many = [*(SAMPLE_ARG[p.kind] for p in spec.params), "1"]
    assert _codes(_script(spec, context, too_many)) == ["arity"]
    if spec.min_args:
        too_few = _valid_args(spec)[:-1]
        assert _codes(_script(spec, context, too_few)) == ["arity"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_function_needs_its_module(name: str) -> None:
    spec = REGISTRY[name]
    text = _script(spec, _first_context(spec), _valid_args(spec))
    without = "\n".join(line for line in text.splitlines() if not line.startswith("loadmodule"))
    expected = [] if spec.module == "core" else ["module-not-loaded"]
    assert _codes(without) == expected


def test_quoted_numbers_are_refused_for_every_int_parameter() -> None:
    checked = 0
    for spec in REGISTRY.values():
        for index, param in enumerate(spec.params):
            if param.kind is not ParamKind.INT:
                continue
            args = [SAMPLE_ARG[p.kind] for p in spec.params[: max(index + 1, spec.min_args)]]
            args[index] = '"42"'
            context = next(c for c in CONTEXT_ORDER if RouteKind[c.upper()] in spec.routes)
            diagnostics = analyze("case.cfg", text=_script(spec, context, args)).diagnostics
            assert [d.code for d in diagnostics] == ["arg-type"], spec.name
            assert diagnostics[0].help is not None and "42" in diagnostics[0].help
            assert '"42"' not in diagnostics[0].help.split("write", 1)[1]
            checked += 1
    assert checked > 0


def test_unsupported_functions_are_reported_once_per_name() -> None:
    name, spec = next((n, s) for n, s in UNSUPPORTED.items() if s.module == "core")
    args = ", ".join(['"x"'] * spec.min_args)
    text = f"route {{\n    {name}({args});\n    {name}({args});\n}}\n"
    diagnostics = analyze("case.cfg", text=text).diagnostics
    unsupported = [d for d in diagnostics if d.code == "unsupported-function"]
    assert len(unsupported) == 1 and unsupported[0].span.line == 2
    assert f"`{name}` (module `core`) is not supported by sipc yet" == unsupported[0].message


def test_route_ref_parameters_name_a_route_of_their_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    def arm_failure(ctx: object, failure_route: RouteRef) -> int:
        return 1

    spec = FunctionSpec(
        name="arm_failure",
        module="core",
        func=arm_failure,
        params=derive_params(arm_failure),
        routes=RouteKind.ALL,
        suspends=False,
        may_exit=False,
        async_ok=False,
    )
    monkeypatch.setitem(REGISTRY, "arm_failure", spec)
    text = (
        'route { arm_failure("missed"); arm_failure("nowhere"); arm_failure("relay"); }\n'
        "failure_route[missed] { exit; }\n"
        "route[relay] { exit; }\n"
    )
    found = [(d.code, d.message) for d in analyze("case.cfg", text=text).diagnostics]
    assert found == [
        ("unknown-route", "no `failure_route[nowhere]` is defined"),
        ("unknown-route", "no `failure_route[relay]` is defined"),
    ]
