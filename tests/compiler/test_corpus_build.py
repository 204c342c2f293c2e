"""The corpus through the whole compiler: what checks clean builds, and the output is mypy-clean.

Every 3.x script of ../shared/corpus/opensips whose functions sipc implements (with the
`loadmodule` lines documentation snippets leave out added, as test_checks_corpus.py does)
is compiled, and all the generated modules are type-checked with `mypy --strict` in one run.
Every other file must give diagnostics, never an exception, and name each unsupported
function once.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.build import compile_script, module_name
from tests.compiler.corpus import CORPUS, scripts
from tests.compiler.test_checks_corpus import _analyses, implemented_scripts

ROOT = Path(__file__).resolve().parents[2]


def test_scripts_that_check_clean_build_mypy_clean(tmp_path: Path) -> None:
    if not scripts():
        pytest.skip(f"{CORPUS} is absent: the shared corpus is not beside this checkout")
    written: list[Path] = []
    for f, text in implemented_scripts():
        result = compile_script(str(f.path), text=text)
        if any(d.severity == "error" for d in result.diagnostics):
            continue  # the snippet's own mistakes: test_checks_corpus.py lists them
        assert result.source is not None, f.name
        target = tmp_path / f"corpus_{module_name(f.name)}.py"
        target.write_text(result.source, encoding="utf-8")
        written.append(target)
    assert len(written) > 100
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / ".mypy_cache"), *map(str, written)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_other_files_name_each_unsupported_function_once() -> None:
    if not scripts():
        pytest.skip(f"{CORPUS} is absent: the shared corpus is not beside this checkout")
    for f, analysis in _analyses():
        named = collections.Counter(
            d.message.split("`")[1]
            for d in analysis.diagnostics
            if d.code == "unsupported-function"
        )
        assert all(n == 1 for n in named.values()), (f.name, named)
