"""The registry: kinds derived from annotations, and agreement with spec/functions.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import stdlib
from runtime.api import Ctx, RouteKind
from stdlib._modules import (
    MODPARAMS,
    ModparamError,
    modparam_int,
    modparam_str,
    reset_modparams,
    set_modparam,
)
from stdlib._registry import (
    REGISTRY,
    NoExpandStr,
    Out,
    ParamKind,
    Regex,
    RegistryError,
    RouteRef,
    StaticStr,
    Var,
    derive_params,
    export,
    functions_of,
    is_known,
    lookup,
)
from stdlib._unsupported import UNSUPPORTED, parse_routes

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "functions.md"
IMPLEMENTED_MODULES = (
    "core",
    "sl",
    "signaling",
    "maxfwd",
    "rr",
    "sipmsgops",
    "textops",
    "cfgutils",
    "tm",
)


def every_kind(
    ctx: Ctx,
    number: int,
    text: str,
    flag: StaticStr,
    expression: NoExpandStr,
    pattern: Regex,
    route: RouteRef,
    result: Out[str],
    count: Out[int],
    values: Var,
    maybe: str | None = None,
    tail: int = 0,
) -> int:
    return 1


def test_kinds_are_derived_from_annotations() -> None:
    params = derive_params(every_kind)
    assert [(p.name, p.kind, p.optional) for p in params] == [
        ("number", ParamKind.INT, False),
        ("text", ParamKind.STR, False),
        ("flag", ParamKind.STATIC_STR, False),
        ("expression", ParamKind.NO_EXPAND_STR, False),
        ("pattern", ParamKind.REGEX, False),
        ("route", ParamKind.ROUTE_REF, False),
        ("result", ParamKind.OUT, False),
        ("count", ParamKind.OUT, False),
        ("values", ParamKind.VAR, False),
        ("maybe", ParamKind.STR, True),
        ("tail", ParamKind.INT, True),
    ]
    assert [p.value_type for p in params if p.kind is ParamKind.OUT] == [str, int]


def test_a_middle_optional_parameter_keeps_later_ones_mandatory() -> None:
    def middle(ctx: Ctx, display: str | None, uri: str) -> int:
        return 1

    params = derive_params(middle)
    assert [p.optional for p in params] == [True, False]


def test_functions_without_ctx_or_with_unknown_annotations_are_rejected() -> None:
    def no_ctx(text: str) -> int:
        return 1

    def odd(ctx: Ctx, value: float) -> int:
        return 1

    with pytest.raises(RegistryError, match="ctx"):
        derive_params(no_ctx)
    with pytest.raises(RegistryError, match="value"):
        derive_params(odd)


@pytest.fixture
def scratch_names() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        REGISTRY.pop(name, None)


def test_export_records_metadata_under_the_script_name(scratch_names: list[str]) -> None:
    scratch_names.append("x_test_stop")

    @export(
        routes=RouteKind.REQUEST | RouteKind.FAILURE,
        module="x_test",
        may_exit=True,
        name="x_test_stop",
    )
    def stop_script(ctx: Ctx, code: int, reason: str | None = None) -> int:
        return 0

    spec = lookup("x_test_stop")
    assert spec is not None and spec.func is stop_script
    assert spec.module == "x_test" and spec.may_exit and not spec.suspends
    assert spec.routes == RouteKind.REQUEST | RouteKind.FAILURE
    assert (spec.min_args, spec.max_args) == (1, 2)
    assert spec.python_module == __name__
    assert [s.name for s in functions_of("x_test")] == ["x_test_stop"]


def test_export_checks_suspends_against_async_def(scratch_names: list[str]) -> None:
    scratch_names += ["x_sync_suspends", "x_async_plain", "x_twice"]
    with pytest.raises(RegistryError, match="async def"):

        @export(routes=RouteKind.ALL, module="x", suspends=True, name="x_sync_suspends")
        def sync(ctx: Ctx) -> int:
            return 1

    with pytest.raises(RegistryError, match="suspends"):

        @export(routes=RouteKind.ALL, module="x", name="x_async_plain")
        async def plain(ctx: Ctx) -> int:
            return 1

    export(routes=RouteKind.ALL, module="x", name="x_twice")(every_kind)
    with pytest.raises(RegistryError, match="twice"):
        export(routes=RouteKind.ALL, module="x", name="x_twice")(every_kind)


def test_registry_holds_the_implemented_modules() -> None:
    for module in IMPLEMENTED_MODULES:
        assert stdlib.MODULES[module] is True
        assert list(functions_of(module)), module
    assert stdlib.MODULES["dialog"] is False
    assert lookup("sl_send_reply") is not None and lookup("dlg_match") is None
    assert is_known("t_write_req") and is_known("is_method") and not is_known("no_such_function")


def test_sleep_suspends_and_nothing_implemented_here_can_stop_the_script() -> None:
    suspending = {name for name, spec in REGISTRY.items() if spec.suspends}
    # the script locks wait while another run holds them (stdlib/_locks.py)
    assert suspending == {"sleep", "usleep", "get_static_lock", "get_dynamic_lock"}
    assert REGISTRY["sleep"].async_ok and REGISTRY["usleep"].async_ok
    assert not REGISTRY["get_static_lock"].async_ok
    # of the stateless functions none documents a 0 return code but set_select_weight,
    # whose return code is the index it picks; the auth challenges and authorize
    # functions stop the script after their reply (functions.md)
    assert [
        name
        for name, spec in REGISTRY.items()
        if spec.may_exit and spec.module not in ("x_test", "auth", "auth_db", "tm")
    ] == ["set_select_weight"]


def test_routes_of_some_functions() -> None:
    assert REGISTRY["sl_send_reply"].routes == RouteKind.REQUEST | RouteKind.ERROR
    assert REGISTRY["loose_route"].routes == RouteKind.REQUEST
    assert REGISTRY["setflag"].routes == RouteKind.ALL
    assert not REGISTRY["mf_process_maxfwd_header"].routes & RouteKind.ONREPLY
    assert [p.kind for p in REGISTRY["subst"].params] == [ParamKind.NO_EXPAND_STR]
    assert [p.kind for p in REGISTRY["search"].params] == [ParamKind.REGEX]
    assert [p.kind for p in REGISTRY["setflag"].params] == [ParamKind.STATIC_STR]


def test_unsupported_table_parses_routes_and_arity() -> None:
    write = UNSUPPORTED["t_write_req"]
    assert (write.module, write.min_args, write.max_args) == ("tm", 2, 2)
    assert write.async_mode == "no"
    assert write.routes == RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.BRANCH
    assert UNSUPPORTED["wait_for_event"].async_mode == "only"
    assert UNSUPPORTED["rest_get"].async_mode == "yes"
    assert UNSUPPORTED["uac_replace_from"].min_args == 2  # display may be left empty
    assert parse_routes("ALL") == RouteKind.ALL
    assert not set(REGISTRY) & set(UNSUPPORTED)


def _spec_rows() -> list[tuple[str, str, str, str]]:
    """(name, module, parameters, routes) of every function table row in functions.md."""
    if not SPEC.is_file():
        pytest.skip(f"spec/functions.md not found at {SPEC}: the shared spec is not checked out")
    module = ""
    rows = []
    for line in SPEC.read_text().splitlines():
        heading = re.match(r"## Module `(\w+)`", line)
        if heading:
            module = heading.group(1)
        elif line.startswith("## Core functions"):
            module = "core"
        elif line.startswith("## "):
            module = ""
        elif module and line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if len(cells) == 5:
                rows.append((cells[0].strip("`"), module, cells[1], cells[3]))
    return rows


def test_every_spec_function_of_our_modules_is_implemented_or_listed() -> None:
    rows = _spec_rows()
    for name, module, _, _ in rows:
        if name in REGISTRY:
            # a name in two tables (avp_print: avpops up to 3.4, core since 3.5) is one of them
            assert REGISTRY[name].module in {m for n, m, _, _ in rows if n == name}, name
        else:
            assert name in UNSUPPORTED, f"{name} ({module}) is neither implemented nor listed"


def test_implemented_functions_match_the_spec_arity_and_routes() -> None:
    codes = {
        "REQ": "REQUEST",
        "FAIL": "FAILURE",
        "RPL": "ONREPLY",
        "BR": "BRANCH",
        "ERR": "ERROR",
        "LOC": "LOCAL",
        "START": "STARTUP",
        "TIMER": "TIMER",
        "EV": "EVENT",
        "ALL": "ALL",
    }
    checked = 0
    for name, module, params, routes in _spec_rows():
        spec = REGISTRY.get(name)
        if spec is None or spec.module != module:  # the row of another module's table
            continue
        declared = [] if params in ("–", "-") else params.split(", ")
        optional = ["?" in item.split(":")[0] for item in declared]
        assert [p.optional for p in spec.params] == optional, name
        kinds = RouteKind(0)
        for code in routes.split():
            kinds |= RouteKind[codes[code]]
        assert spec.routes == kinds, name
        checked += 1
    assert checked == len([n for n in REGISTRY if not n.startswith("x_")])


def test_modparams_validate_and_default() -> None:
    assert MODPARAMS[("maxfwd", "max_limit")].default == 256
    assert modparam_int("rr", "append_fromtag") == 1
    set_modparam("rr", "append_fromtag", "0")
    assert modparam_int("rr", "append_fromtag") == 0
    with pytest.raises(ModparamError, match="integer"):
        set_modparam("maxfwd", "max_limit", "lots")
    with pytest.raises(ModparamError, match="no parameter"):
        set_modparam("rr", "no_such_param", 1)
    assert stdlib.modparam_spec("sl", "enable_stats") is not None
    # answers are remembered, and forgotten by any change
    assert modparam_str("registrar", "received_param") == "received"
    set_modparam("registrar", "received_param", "rcv")
    assert modparam_str("registrar", "received_param") == "rcv"
    reset_modparams()
    assert modparam_str("registrar", "received_param") == "received"
    assert modparam_int("rr", "append_fromtag") == 1


def test_pv_handles_serve_as_out_and_var_parameters() -> None:
    from stdlib import PvHandle, core
    from stdlib.testing import context

    ctx, _ = context(
        "OPTIONS sip:b@example.com SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKh\n"
        "From: <sip:a@example.org>;tag=1\nTo: <sip:b@example.com>\nCall-ID: h\nCSeq: 1 OPTIONS\n"
        "Content-Length: 0\n\n"
    )
    assert core.pv_printf(ctx, PvHandle(ctx, "var", "greeting"), "hello") == 1
    assert ctx.var_get("greeting") == "hello"
    seconds, micros = PvHandle(ctx, "avp", "t"), PvHandle(ctx, "avp", "t")
    assert core.get_timestamp(ctx, seconds, micros) == 1
    listed: Var = PvHandle(ctx, "avp", "t")
    assert len(listed.values()) == 2  # an AVP keeps every value written to it
    assert isinstance(listed.get(), int)


_SOURCE_AGREES = """
import ast, inspect
import stdlib
from stdlib import _registry
assert _registry.REGISTRY
for spec in _registry.REGISTRY.values():
    assert not _registry._compiled(spec.func), spec.name  # annotations are there to compare
    hints = _registry.source_hints(spec.func)
    names = list(inspect.signature(spec.func).parameters)[1:]
    kinds = [_registry._kind_of(_registry._strip_none(hints[n])[0], spec.func, n)[0] for n in names]
    if kinds != [param.kind for param in spec.params]:
        print("kinds differ:", spec.name, kinds, [p.kind for p in spec.params])
    if isinstance(_registry._source_def(spec.func), ast.AsyncFunctionDef) != spec.suspends:
        print("async-ness differs:", spec.name)
print("checked", len(_registry.REGISTRY))
"""


def test_the_source_of_every_function_says_what_its_annotations_say() -> None:
    """What a mypyc-compiled stdlib (no annotations at run time) falls back on: the `def`
    in the module's source gives the same parameter kinds and the same async-ness as the
    annotations. Run as pure Python, where the annotations exist to compare with."""
    env = dict(os.environ, SIPC_PURE_PYTHON="1")
    out = subprocess.run(
        [sys.executable, "-c", _SOURCE_AGREES],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("checked ") and int(out.stdout.split()[1]) > 100, out.stdout
