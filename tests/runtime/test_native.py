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


def _tree(
    tmp_path: Path, compiled: tuple[str, ...], manifest: bool = True
) -> Path:
    """A fake tree: sources for MODULES, extensions for `compiled`, and a manifest."""
    fingerprints = {}
    for name in MODULES:
        source = _native.source_path(name, tmp_path)
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"x = {name!r}\n")
        fingerprints[name] = _native.fingerprint(source)
        if name in compiled:
            source.with_name(source.stem + SUFFIX).write_bytes(b"")
    if manifest:
        (tmp_path / "runtime").mkdir(exist_ok=True)
        _native.write_manifest(fingerprints, tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _known_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.machinery.EXTENSION_SUFFIXES", [SUFFIX, ".so"])


def test_every_module_compiled_and_unchanged_runs_native(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, MODULES), pure="")
    assert native, why
    assert why == "2 modules compiled with mypyc"


def test_an_edited_source_turns_the_whole_group_to_python(tmp_path: Path) -> None:
    root = _tree(tmp_path, MODULES)
    _native.source_path("pkg.b", root).write_text("x = 'edited'\n")
    native, why = _native.decide(MODULES, root, pure="")
    assert not native
    assert "pkg.b changed since it was compiled" in why


def test_a_touched_but_identical_source_still_runs_native(tmp_path: Path) -> None:
    root = _tree(tmp_path, MODULES)
    source = _native.source_path("pkg.a", root)
    os.utime(source, ns=(1, 1))  # mtime moved: the hash decides
    native, why = _native.decide(MODULES, root, pure="")
    assert native, why


def test_a_changed_source_with_an_older_mtime_is_still_caught(tmp_path: Path) -> None:
    # what an mtime comparison misses: a checkout or a copy that keeps an old timestamp
    root = _tree(tmp_path, MODULES)
    source = _native.source_path("pkg.a", root)
    source.write_text("x = 'another version'\n")
    os.utime(source, ns=(1, 1))
    native, why = _native.decide(MODULES, root, pure="")
    assert not native
    assert "pkg.a changed" in why


def test_compiled_modules_without_a_manifest_are_not_trusted(tmp_path: Path) -> None:
    native, why = _native.decide(MODULES, _tree(tmp_path, MODULES, manifest=False), pure="")
    assert not native
    assert "manifest" in why


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
