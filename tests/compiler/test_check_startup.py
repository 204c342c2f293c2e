"""`sipc check` starts without the runtime, black or the code generator, and its caches
(compiler.cache: the LALR parser, the registry snapshot) never change what it reports.

Every process here gets its own SIPC_CACHE_DIR: a cold run builds the cache, a warm one
reads it, and both must print the same diagnostics. No timing is asserted (see
bench/compiler_bench.py for the figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import stdlib
from compiler import registry_snapshot
from runtime.core.script import RouteKind
from tests.compiler.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.cfg"))
# What `sipc check` must never import when its cache is warm.
HEAVY = (
    "black",
    "uvloop",
    "aiohttp",
    "sqlite3",
    "asyncio",
    "runtime.api",
    "runtime.transaction",
    "runtime.usrloc",
    "runtime.cli",
    "stdlib",
    "stdlib.tm",
    "compiler.codegen",
    "compiler.emit",
    "compiler.fmt",
    "compiler.fmt_command",
    "compiler.build",
)
# Runs `sipc check` in-process and writes the modules it imported to argv[1].
PROBE = """
import json, sys
from compiler.cli import main
try:
    main(["check", "--output-format", "json", *sys.argv[2:]])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def probe(tmp_path: Path, cache: Path, *files: Path) -> tuple[int, list[str], str]:
    """(exit code, modules imported, stdout) of one `sipc check` process."""
    out = tmp_path / "probe.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), SIPC_CACHE_DIR=str(cache))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *map(str, files)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = json.loads(out.read_text())
    return found["code"], found["modules"], proc.stdout


def sample_files() -> list[Path]:
    corpus = sorted(CORPUS.glob("full-3.6-*.cfg"))[:6] if CORPUS.is_dir() else []
    return [*SAMPLES, *corpus]


def test_a_warm_check_imports_neither_runtime_nor_black(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold_code, _cold_modules, cold_out = probe(tmp_path, cache, *SAMPLES)
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["parser", "registry"]
    code, modules, out = probe(tmp_path, cache, *SAMPLES)
    assert (code, out) == (cold_code, cold_out)
    assert [m for m in HEAVY if m in modules] == []
    assert "stdlib._registry" in modules  # the metadata, loaded alone


def test_cold_and_warm_caches_report_the_same(tmp_path: Path) -> None:
    files = sample_files()
    cache = tmp_path / "cache"
    cold = probe(tmp_path, cache, *files)
    warm = probe(tmp_path, cache, *files)
    assert cold[0] == warm[0] and cold[2] == warm[2]
    assert cold[2].count("\n") > 0  # the files do have diagnostics to compare


def test_an_unwritable_cache_folder_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = blocker / "cache"  # under a file: cannot be made, even by root
    expected = probe(tmp_path, tmp_path / "cache", *SAMPLES)
    assert probe(tmp_path, unwritable, *SAMPLES)[::2] == expected[::2]
    assert not unwritable.exists()


def test_damaged_cache_files_are_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = probe(tmp_path, cache, *SAMPLES)
    for entry in cache.iterdir():
        entry.write_bytes(b"\x80garbage{")
    assert probe(tmp_path, cache, *SAMPLES)[::2] == expected[::2]
    code, modules, out = probe(tmp_path, cache, *SAMPLES)  # rewritten: warm again
    assert (code, out) == expected[::2] and "stdlib" not in modules


def test_processes_racing_on_a_cold_cache_agree(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(ROOT), SIPC_CACHE_DIR=str(cache))
    command = [sys.executable, "-m", "compiler", "check", "--output-format", "json", *map(str, SAMPLES)]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        for _ in range(4)
    ]
    results = {(p.wait(timeout=120), p.communicate()[0]) for p in procs}
    assert len(results) == 1
    assert not [e for e in cache.iterdir() if e.name.endswith(".tmp")]


def test_the_snapshot_says_what_the_registry_says() -> None:
    snapshot = registry_snapshot.decode(
        registry_snapshot.encode(stdlib.REGISTRY), stdlib._registry, RouteKind
    )
    assert list(snapshot) == list(stdlib.REGISTRY)
    for name, spec in stdlib.REGISTRY.items():
        view = snapshot[name]
        for field in ("name", "module", "python_module", "params", "routes", "suspends"):
            assert getattr(view, field) == getattr(spec, field), (name, field)
        for field in ("may_exit", "async_ok", "min_args", "max_args"):
            assert getattr(view, field) == getattr(spec, field), (name, field)
        assert all(p.kind is s.kind for p, s in zip(view.params, spec.params, strict=True))


def test_the_snapshot_name_follows_every_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [tmp_path / "a.py", tmp_path / "b.py"]
    for path in sources:
        path.write_text("x = 1\n")
    monkeypatch.setattr(registry_snapshot, "_sources", lambda: [str(p) for p in sources])
    first = registry_snapshot._file_name()
    assert registry_snapshot._file_name() == first
    sources[1].write_text("x = 2\n")
    assert registry_snapshot._file_name() not in (first, None)


# A plain `sipc check` runs without click (compiler/cli.py); with a SIPC_CHECK_* variable
# set, click runs it. Both must print the same, and anything unusual is click's.
PLAIN_CASES = [
    ["--output-format", "concise"],
    ["--output-format=json", "--warnings-as-errors"],
    ["--output-format", "github", "--color", "never"],
    ["--output-format", "full"],
]
USAGE_CASES = [["--output-format", "nope"], ["--bogus"], ["--help"], [str(ROOT)], []]


def run_sipc(args: list[str], cache: Path, *, via_click: bool) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SIPC_CACHE_DIR=str(cache))
    if via_click:
        env["SIPC_CHECK_UNUSED"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "check", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("options", PLAIN_CASES + USAGE_CASES, ids=" ".join)
def test_a_plain_check_prints_what_the_click_command_prints(
    tmp_path: Path, options: list[str]
) -> None:
    files = [*map(str, SAMPLES[:2]), str(tmp_path / "missing.cfg")]
    args = [*options, *files] if options in PLAIN_CASES else options
    assert run_sipc(args, tmp_path, via_click=False) == run_sipc(args, tmp_path, via_click=True)


def test_a_plain_check_does_not_import_click(tmp_path: Path) -> None:
    assert "click" not in probe(tmp_path, tmp_path / "cache", *SAMPLES)[1]
