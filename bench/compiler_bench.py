"""How fast sipc checks and builds scripts (issues 2 and 4): a measurement, never a test.

Run: .venv/bin/python bench/compiler_bench.py [--runs N] [--lines N]   (also part of `make bench`)

1. `sipc check` of OpenSIPS's default script (full-3.6-etc-opensips.cfg) as a whole
   process, median of N runs: with a cold cache (an empty SIPC_CACHE_DIR each run, so the
   parser and the registry snapshot are built) and a warm one. The target is 0.15 s;
   OpenSIPS's own `opensips -C` takes about 0.01 s, Python with `import lark` 0.05-0.08 s.
2. A script of >= 10,000 lines made of the route blocks of the 3.x corpus scripts that
   parse cleanly (route names suffixed per copy, so they stay unique): lines/s of
   `analyze()` in this process, and of a whole `sipc check` process (warm cache). Target
   50,000 lines/s. Then where `analyze()` spends it, phase by phase: the text passes, Lark
   alone (its basic lexer over all terminals; the contextual lexer + LALR loop with no
   callbacks, the floor of any Lark LALR front end, with compiler.lexing's loop and with
   Lark's own), the same with the AST built as it reduces, and each check pass, each with
   the cycle collector waiting as it does in `analyze()`.
3. `compile_script` of the largest corpus script that builds, and of a >= 10,000-line
   script made only of scripts that build, phase by phase: analyze (parse + checks),
   codegen, and emit (black twice plus the line map), i.e. with and without black.

The machine is shared: every figure is a median, and the spread (min-max) is printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lark.lexer import ContextualLexer  # noqa: E402

from compiler import ast, check, parse, source  # noqa: E402
from compiler.astbuild import Builder  # noqa: E402
from compiler.build import compile_script  # noqa: E402
from compiler.check import callgraph, suggest, walk  # noqa: E402
from compiler.check.names import ROUTE_ARGS  # noqa: E402
from compiler.check.walk import iter_nodes  # noqa: E402
from compiler.codegen import generate  # noqa: E402
from compiler.driver import analyze  # noqa: E402
from compiler.emit import finish, format_source  # noqa: E402
from compiler.registry_view import REGISTRY, ParamKind  # noqa: E402
from tests.compiler.corpus import CORPUS, CorpusFile, scripts  # noqa: E402
from tests.compiler.test_checks_corpus import implemented_scripts  # noqa: E402

DEFAULT_SCRIPT = CORPUS / "full-3.6-etc-opensips.cfg"
SIPC = Path(sys.executable).with_name("sipc")
# Unnamed blocks that can be given a name; other unnamed kinds exist once per script.
_NAMEABLE = ("route", "onreply_route")
# Kinds whose blocks are copied (event routes are named by their event: not copyable).
_COPIED = ("route", "failure_route", "onreply_route", "branch_route", "timer_route")


def median_of(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples) * 1000:8.1f} ms"
        f"  ({min(samples) * 1000:.1f}-{max(samples) * 1000:.1f}, n={len(samples)})"
    )


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def check_process(path: Path, cache_dir: str, pyc_dir: str | None = None) -> float:
    """Wall time of one `sipc check path` process (exit 0 or 1: both are a finished check).

    With `pyc_dir`, Python keeps the bytecode of sipc's modules there between runs, as an
    ordinary install does (this machine sets PYTHONDONTWRITEBYTECODE, so by default every
    run compiles sipc's sources again)."""
    env = dict(os.environ, SIPC_CACHE_DIR=cache_dir)
    if pyc_dir is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pyc_dir
    start = time.perf_counter()
    proc = subprocess.run(
        [str(SIPC), "check", "--output-format", "concise", str(path)],
        capture_output=True, env=env, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"sipc check {path} failed:\n{proc.stderr.decode()}")
    return elapsed


def whole_process(path: Path, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Wall times of `sipc check path`: (cold cache, warm cache, warm cache and bytecode)."""
    cold = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="sipc-bench-cold-") as empty:
            cold.append(check_process(path, empty))
    with tempfile.TemporaryDirectory(prefix="sipc-bench-warm-") as warm_dir:
        check_process(path, warm_dir)
        warm = [check_process(path, warm_dir) for _ in range(runs)]
        with tempfile.TemporaryDirectory(prefix="sipc-bench-pyc-") as pyc_dir:
            check_process(path, warm_dir, pyc_dir)
            pyc = [check_process(path, warm_dir, pyc_dir) for _ in range(runs)]
    return cold, warm, pyc


# --- a long script from corpus routes -------------------------------------------------


def clean_3x_scripts() -> list[tuple[CorpusFile, str]]:
    """3.x corpus scripts that parse without a syntax error, with their text."""
    out = []
    for f in scripts():
        if not f.dialect.startswith("3"):
            continue
        text = f.path.read_text(encoding="utf-8", errors="replace")
        if analyze(str(f.path), text=text).parse.ok:
            out.append((f, text))
    return out


def _route_arg_indexes(function: str) -> list[int]:
    """Which arguments of `function` name a route: subscribe()'s and the like, and every
    `RouteRef` parameter of a registered function (t_on_failure, t_on_branch...)."""
    if function in ROUTE_ARGS:
        return [ROUTE_ARGS[function][0]]
    info = REGISTRY.get(function)
    if info is None:
        return []
    return [i for i, param in enumerate(info.params) if param.kind is ParamKind.ROUTE_REF]


def _renamed(name: str, suffix: str) -> str:
    return f"{'r' if name[:1].isdigit() else ''}{name}{suffix}"


def route_blocks(name: str, text: str, suffix: str) -> tuple[list[str], list[str]]:
    """(loadmodule lines, route blocks) of one script, every route name given `suffix`."""
    parsed = analyze(name, text=text).parse
    if parsed.script is None:
        return [], []
    lines = text.splitlines()
    edits: list[tuple[int, int, int, str]] = []  # (line, col, end_col, replacement), 1-based

    def rename(span: ast.Span, new: str) -> None:
        if span.file == name and span.line == span.end_line:
            edits.append((span.line, span.col, span.end_col, new))

    for node in iter_nodes(parsed.script):
        if isinstance(node, ast.RouteName):
            quoted = node.style == "string"
            new = _renamed(node.name, suffix)
            rename(node.span, f'"{new}"' if quoted else new)
        elif isinstance(node, ast.Call):
            for index in _route_arg_indexes(node.name):
                arg = node.args[index] if index < len(node.args) else None
                if isinstance(arg, ast.StringLit) and "$" not in arg.value:
                    rename(arg.span, f'"{_renamed(arg.value, suffix)}"')
                elif isinstance(arg, ast.Number):  # t_on_branch(1): the route is now r1_...
                    rename(arg.span, f'"{_renamed(str(arg.value), suffix)}"')
    for line, col, end_col, new in sorted(edits, reverse=True):
        row = lines[line - 1]
        lines[line - 1] = row[: col - 1] + new + row[end_col - 1 :]
    loads, blocks = [], []
    for item in parsed.script.items:
        if isinstance(item, ast.LoadModule) and item.span.file == name:
            loads.append(lines[item.span.line - 1].strip())
        if not isinstance(item, ast.RouteDef) or item.span.file != name:
            continue
        if item.kind not in _COPIED or (item.name is None and item.kind not in _NAMEABLE):
            continue
        block = lines[item.span.line - 1 : item.span.end_line]
        if item.name is None:
            header = re.compile(rf"\b{item.kind}\s*\{{")
            block[0] = header.sub(f"{item.kind}[main{suffix}] {{", block[0], count=1)
        blocks.append("\n".join(block))
    return loads, blocks


def long_script(sources: list[tuple[str, str]], min_lines: int) -> str:
    """The route blocks of `sources`, copied round after round until >= min_lines lines."""
    loads: dict[str, None] = {}
    blocks: list[str] = []
    count, rounds = 0, 0
    while count < min_lines:
        before = count
        for index, (name, text) in enumerate(sources):
            more_loads, more_blocks = route_blocks(name, text, f"_{rounds}_{index}")
            loads.update(dict.fromkeys(more_loads))
            blocks += more_blocks
            count += sum(b.count("\n") + 2 for b in more_blocks)
            if count >= min_lines:
                break
        if count == before:
            raise SystemExit("no route blocks to copy")
        rounds += 1
    header = "\n".join(loads) + "\n\n" if loads else ""
    return header + "\n\n".join(blocks) + "\n"


def timed_as_analyze(fn: Callable[[], object], runs: int) -> list[float]:
    """`timed`, with the cycle collector waiting as `analyze()` makes it wait."""
    out = []
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return out


def analyze_phases(path: Path, runs: int) -> list[tuple[str, list[float]]]:
    """Times of the parts of `analyze(path)`, each run alone (see the module's docs)."""
    text = path.read_text(encoding="utf-8")
    flat = source.flatten(str(path), text)
    code = source.scan(flat.text).code
    lark = parse._parser()
    bare = parse.building(Builder(flat.source_map))
    bare.parser.parser.callbacks = {}  # Lark's LALR loop with no callbacks: values are lists

    script = parse.parse_text(text, str(path), path=str(path)).script
    assert script is not None

    def with_lark_loop(run: Callable[[], object]) -> object:
        lexer = lark.parser.lexer
        installed, lexer.__class__ = lexer.__class__, ContextualLexer
        try:
            return run()
        finally:
            lexer.__class__ = installed

    def fresh_caches() -> bool:
        walk._last_script, callgraph._last = None, None
        suggest.forget()
        return True

    def one_pass(run: Callable[[ast.Script], object]) -> Callable[[], object]:
        def timed_pass() -> object:
            return run(script)

        return timed_pass

    phases: list[tuple[str, Callable[[], object]]] = [
        ("flatten (includes)", lambda: source.flatten(str(path), text)),
        ("scan (comments)", lambda: source.scan(flat.text)),
        ("nesting test", lambda: parse._nesting_too_deep(code)),
        ("Lark's basic lexer alone", lambda: list(lark.lex(code))),
        ("lexer + LALR, no callbacks", lambda: bare.parse(code)),
        ("  the same, Lark's own lexer loop", lambda: with_lark_loop(lambda: bare.parse(code))),
        (
            "lexer + LALR + AST (astbuild)",
            lambda: parse.building(Builder(flat.source_map)).parse(code),
        ),
        (
            "parse_text (all of the above)",
            lambda: parse.parse_text(text, str(path), path=str(path)),
        ),
        (
            "the walk and route graph",
            lambda: (fresh_caches(), list(iter_nodes(script)), callgraph.build(script)),
        ),
    ]
    out: list[tuple[str, list[float]]] = []
    for title, fn in phases:
        out.append((title, timed_as_analyze(fn, runs)))
    for run in check.PASSES:
        name = run.__module__.rsplit(".", 1)[-1]
        out.append((f"  check: {name}", timed_as_analyze(one_pass(run), runs)))  # walk, graph kept
    out.append(
        (
            "all checks (fresh walk, graph)",
            timed_as_analyze(lambda: (fresh_caches(), check.check(script)), runs),
        )
    )
    return out


def diagnostics_summary(path: Path) -> str:
    counts: dict[str, int] = {}
    for d in analyze(str(path)).diagnostics:
        counts[f"{d.severity} {d.code}"] = counts.get(f"{d.severity} {d.code}", 0) + 1
    return ", ".join(f"{n} {c}" for c, n in sorted(counts.items(), key=lambda x: -x[1])) or "clean"


def line_count(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n")


# --- build ----------------------------------------------------------------------------


def buildable_scripts() -> list[tuple[str, str]]:
    """(name, text) of the corpus scripts `compile_script` turns into a module."""
    out = []
    for f, text in implemented_scripts():
        if compile_script(str(f.path), text=text).source is not None:
            out.append((str(f.path), text))
    return out


def build_phases(path: str, text: str, runs: int) -> dict[str, list[float]]:
    """Times of each phase of `compile_script(path, text=text)`."""
    phases: dict[str, list[float]] = {"analyze": [], "codegen": [], "emit": [], "black": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        analysis = analyze(path, text=text)
        t1 = time.perf_counter()
        assert analysis.parse.script is not None and not analysis.errors
        generated = generate(analysis.parse.script, os.path.basename(path), text)
        t2 = time.perf_counter()
        finish(generated.source)
        t3 = time.perf_counter()
        format_source(generated.source)
        t4 = time.perf_counter()
        phases["analyze"].append(t1 - t0)
        phases["codegen"].append(t2 - t1)
        phases["emit"].append(t3 - t2)
        phases["black"].append(t4 - t3)
    return phases


def report_build(title: str, path: str, text: str, runs: int) -> None:
    phases = build_phases(path, text, runs)
    lines = text.count("\n")
    without = [a + c for a, c in zip(phases["analyze"], phases["codegen"], strict=True)]
    with_black = [w + e for w, e in zip(without, phases["emit"], strict=True)]
    print(f"\n{title}: {Path(path).name}, {lines} lines")
    print(f"  analyze (parse + checks)   {median_of(phases['analyze'])}")
    print(f"  codegen                    {median_of(phases['codegen'])}")
    print(f"  emit (black x2 + line map) {median_of(phases['emit'])}")
    print(f"    one black pass           {median_of(phases['black'])}")
    print(f"  build without black        {median_of(without)}")
    print(f"  build with black           {median_of(with_black)}")


def section(title: str) -> None:
    print(f"\n## {title}")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs per figure (median)")
    parser.add_argument("--lines", type=int, default=10_000, help="lines of the long scripts")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not DEFAULT_SCRIPT.is_file():
        raise SystemExit(f"{CORPUS} is absent: the shared corpus is not beside this checkout")
    runs = args.runs

    section(
        f"1. sipc check {DEFAULT_SCRIPT.name} ({line_count(DEFAULT_SCRIPT)} lines), whole process"
    )
    cold, warm, pyc = whole_process(DEFAULT_SCRIPT, runs)
    print(f"  cold cache {median_of(cold)}")
    print(f"  warm cache {median_of(warm)}   (target 150 ms)")
    print(f"  warm cache, bytecode kept {median_of(pyc)}")

    with tempfile.TemporaryDirectory(prefix="sipc-bench-") as tmp:
        section(f"2. a {args.lines:,}-line script of 3.x corpus routes")
        clean = clean_3x_scripts()
        big = Path(tmp) / "corpus_routes.cfg"
        big.write_text(long_script([(str(f.path), t) for f, t in clean], args.lines))
        lines = line_count(big)
        print(f"  {lines} lines from {len(clean)} scripts; diagnostics: {diagnostics_summary(big)}")
        in_process = timed(lambda: analyze(str(big)), runs)
        print(f"  analyze() in process  {median_of(in_process)}"
              f"  = {lines / statistics.median(in_process):,.0f} lines/s   (target 50,000)")  # fmt: skip
        print(
            f"  where analyze() spends it (median of {runs}; checks with the walk and graph made):"
        )
        for title, times in analyze_phases(big, runs):
            print(f"    {title:34} {median_of(times)}")
        _cold, warm_big, pyc_big = whole_process(big, max(3, runs // 2))
        for title, times in (("sipc check (process)", warm_big), ("  bytecode kept", pyc_big)):
            print(f"  {title:21} {median_of(times)}"
                  f"  = {lines / statistics.median(times):,.0f} lines/s")  # fmt: skip

        section("3. sipc build (compile_script), by phase")
        buildable = buildable_scripts()
        largest = max(buildable, key=lambda nt: nt[1].count("\n"))
        report_build("largest corpus script that builds", largest[0], largest[1], runs)
        text = long_script(buildable, args.lines)
        long_path = str(Path(tmp) / "buildable_routes.cfg")
        Path(long_path).write_text(text)
        result = compile_script(long_path)
        if result.source is None:
            errors = [f"{d.code}: {d.message}" for d in result.diagnostics][:5]
            print(f"\nthe {args.lines:,}-line script of buildable routes does not build: {errors}")
        else:
            report_build(
                f"{len(buildable)} buildable scripts' routes", long_path, text, max(1, runs // 5)
            )


if __name__ == "__main__":
    main()
