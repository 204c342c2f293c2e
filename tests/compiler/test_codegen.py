"""Code generation: golden modules, mypy --strict on each, and what the compiled routes do.

tests/golden/<case>/input.cfg is compiled and compared with expected.py
(`pytest --update-goldens` rewrites it). Every expected file is type-checked with
`mypy --strict` in one run, and imported and executed against real parsed SIP messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import black
import pytest

from compiler.build import compile_script
from compiler.emit import linemap
from runtime.api import ScriptExit
from stdlib.testing import context

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "input.cfg").is_file())
ROOT = Path(__file__).resolve().parents[2]


def compiled(case: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(case)
    result = compile_script("input.cfg")
    assert result.source is not None, [f"{d.span}: {d.message}" for d in result.diagnostics]
    return result.source


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden(case: Path, update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    source = compiled(case, monkeypatch)
    expected = case / "expected.py"
    if update_goldens or not expected.exists():
        expected.write_text(source, encoding="utf-8")
    assert source == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_same_input_same_bytes_and_black_changes_nothing(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compiled(case, monkeypatch)
    assert compiled(case, monkeypatch) == first
    assert black.format_str(first, mode=black.Mode()) == first
    assert "(sha256 " in first.splitlines()[0]


def test_every_expected_module_passes_mypy_strict(tmp_path: Path) -> None:
    # One mypy run over all goldens, each copied under a name of its own.
    for case in CASES:
        shutil.copy(case / "expected.py", tmp_path / f"golden_{case.name}.py")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / ".mypy_cache"), *sorted(map(str, tmp_path.glob("*.py")))],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_line_map_names_every_statement_line() -> None:
    text = (GOLDEN / "language" / "expected.py").read_text(encoding="utf-8")
    mapping = linemap(text)
    lines = text.splitlines()
    # the three lines of the wrapped `$var(s) = ...` all point at script line 9
    wrapped = [n for n, (_, line, _) in mapping.items() if line == 9]
    assert len(wrapped) >= 2 and all(
        "ops.add" in lines[n - 1] or ")" in lines[n - 1] for n in wrapped
    )
    assert mapping[min(mapping)][2] == "route"


# ---------------------------------------------------------------- running the modules


def load(case: str) -> ModuleType:
    path = GOLDEN / case / "expected.py"
    spec = importlib.util.spec_from_file_location(f"golden_{case}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INVITE = """
INVITE sip:alice@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-1
Max-Forwards: 70
From: <sip:bob@example.org>;tag=1
To: <sip:alice@192.0.2.10>
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

"""


def run_main(module: ModuleType, text: str) -> tuple[int | None, object, object]:
    ctx, core = context(text)
    try:
        rc: int | None = module.ROUTES.main(ctx)
    except ScriptExit:
        rc = None
    return rc, ctx, core


def test_language_semantics_follow_opensips() -> None:
    module = load("language")
    rc, ctx, _ = run_main(module, INVITE)
    v = ctx.vars  # type: ignore[attr-defined]
    assert v["n"] == 20  # 2 + 3 * 4 is (2 + 3) * 4
    assert v["bits"] == 7  # 1 | (2 + 4)
    assert v["s"] == "sip:alice@192.0.2.10"
    assert v["len"] == len("sip:alice@192.0.2.10")
    assert v["user"] == "alice"
    assert v["same"] == 1
    assert v["count"] == 3  # the while loop's break
    assert v["joined"] == "ba"  # $avp values, most recent first
    assert v["upper"] == "BA"  # a `for` over a transformed variable: each value transformed
    assert v["who"] == "ab"  # case "alice" falls through into case "bob" until its break
    assert v["checked"] == "yes" and v["r"] == -1
    assert v["bit4"] == 6  # 1, then += the 5 an assignment-as-condition stored
    assert ctx.du == "sip:192.0.2.10:5070"  # type: ignore[attr-defined]
    assert rc == 20


def test_switch_default_and_number_labels() -> None:
    module = load("language")
    _, ctx, _ = run_main(module, INVITE.replace("alice@", "carol@"))
    assert ctx.vars["who"] == "other"  # type: ignore[attr-defined]


def test_stateless_module_replies_and_forwards() -> None:
    module = load("stateless")
    rc, ctx, core = run_main(module, INVITE.replace("Max-Forwards: 70", "Max-Forwards: 0"))
    assert rc is None and core.replies == [(483, "Too Many Hops")]  # type: ignore[attr-defined]
    rc, ctx, core = run_main(module, INVITE)
    assert core.forwards and core.replies == []  # type: ignore[attr-defined]
    assert ctx.avp.get("filter") == "aor=alice"  # type: ignore[attr-defined]
    sent = core.forwards[0][3]  # type: ignore[attr-defined]
    assert b"Record-Route:" in sent


def test_suspending_routes_are_coroutines() -> None:
    module = load("suspend")
    assert asyncio.iscoroutinefunction(module.route_main)
    assert asyncio.iscoroutinefunction(module.route_nap)
    assert not asyncio.iscoroutinefunction(module.route_plain)
    assert not asyncio.iscoroutinefunction(module.route_after_nap)

    async def go() -> list[tuple[int, str]]:
        ctx, core = context(INVITE)
        with contextlib.suppress(ScriptExit):
            await module.route_main(ctx)
        return core.replies

    assert asyncio.run(go()) == [(202, "Woke up with 1")]


def test_launch_runs_the_function_beside_a_route_that_goes_on() -> None:
    module = load("launch")
    # a launch()ed function that suspends does not make the launching route a coroutine
    assert not asyncio.iscoroutinefunction(module.route_main)
    rc, ctx, core = run_main(module, INVITE)
    assert rc == 1 and core.replies == [(200, "Launched")]  # type: ignore[attr-defined]
    [(launched, job, report), (_, bare, no_report)] = core.launched  # type: ignore[attr-defined]
    assert report is module.route_report and no_report is None
    assert launched is not ctx and launched.vars == {} and launched.params == [
        ("for bob at sip:alice@192.0.2.10",)  # the third argument, read when launched
    ]

    async def finish() -> int:
        bare.close()  # sleep(0): not run here
        return int(await job)

    launched.rc = asyncio.run(finish())
    report(launched)
    assert launched.vars == {"rc": 1, "param": "for bob at sip:alice@192.0.2.10"}


def test_route_names_computed_at_run_time() -> None:
    module = load("dynamic")
    _, ctx, core = run_main(module, INVITE)
    assert ctx.vars["got"] == 7  # type: ignore[attr-defined]
    assert core.replies == [(200, "Reached r_2")]  # type: ignore[attr-defined]
    assert ctx.vars["missing"] == "reported"  # type: ignore[attr-defined]
    assert ctx.vars["pair"] == "left-2"  # type: ignore[attr-defined]  # return(1, v0, v1)


def test_a_long_script_path_keeps_the_map_and_black_idempotent(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 70)
    deep.mkdir()
    script = deep / "proxy.cfg"
    script.write_text((GOLDEN / "stateless" / "input.cfg").read_text(encoding="utf-8"))
    result = compile_script(str(script))
    assert result.source is not None
    assert black.format_str(result.source, mode=black.Mode()) == result.source
    mapping = linemap(result.source)
    assert {line for _, line, _ in mapping.values()} >= {11, 12, 13}
