"""The mypyc switch (runtime/_native.py): compiled hot modules run only when up to date."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import _native

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("pkg.a", "pkg.b")
SUFFIX = ".cpython-311-x86_64-linux-gnu.so"


def _tree(tmp_path: Path, compiled: tuple[str, ...], stale: tuple[str, ...] = ()) -> Path:
    for name in MODULES:
        source = tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("x = 1\n")
        os.utime(source, (1_000, 1_000))
        if name in compiled:
            ext = source.with_name(source.stem + SUFFIX)
            ext.write_bytes(b"")
            os.utime(ext, (2_000, 2_000))
        if name in stale:
            os.utime(source, (3_000, 3_000))
    return tmp_path


@pytest.fixture(autouse=True)
def _known_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.machinery.EXTENSION_SUFFIXES", [SUFFIX, ".so"])


def test_every_module_compiled_and_fresh_runs_native(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, MODULES), pure="")
    assert native, why
    assert why == "2 modules compiled with mypyc"


def test_one_edited_source_turns_the_whole_group_to_python(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, MODULES, stale=("pkg.b",)), pure="")
    assert not native
    assert "pkg.b changed since it was compiled" in why


def test_a_partial_build_is_not_used(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, ("pkg.a",)), pure="")
    assert not native
    assert "only 1 of 2" in why


def test_no_build_runs_python(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, ()), pure="")
    assert not native
    assert why.startswith("not compiled")


def test_the_environment_forces_python(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, MODULES), pure="1")
    assert not native
    assert _native.PURE_ENV in why


def _loaded_files(env: dict[str, str]) -> list[str]:
    code = (
        "import importlib, runtime._native as n\n"
        "print('\\n'.join(importlib.import_module(m).__file__ for m in n.NATIVE_MODULES))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_pure_python_environment_loads_every_source() -> None:
    files = _loaded_files(dict(os.environ, SIPC_PURE_PYTHON="1"))
    assert len(files) == len(_native.NATIVE_MODULES)
    assert all(name.endswith(".py") for name in files), files


def test_an_up_to_date_build_is_what_runs() -> None:
    native, why = _native.decide(pure="")
    if not native:
        pytest.skip(f"no usable native build here: {why}")
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_ENV}
    files = _loaded_files(env)
    assert not any(name.endswith(".py") for name in files), files
