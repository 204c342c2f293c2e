"""Build hook: compile the runtime's hot modules with mypyc (the metadata is in pyproject.toml).

The list comes from runtime/_native.py, read by path so the build does not import the
runtime. Every extension is optional: without a C compiler (or with SIPC_PURE_PYTHON=1)
the install goes on and sipc runs as pure Python, the same code, slower.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup

HERE = Path(__file__).resolve().parent


def native_module() -> Any:
    """runtime/_native.py, loaded by path: the list, the manifest, the paths."""
    spec = importlib.util.spec_from_file_location("_sipc_native", HERE / "runtime" / "_native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def extensions() -> list[Any]:
    native = native_module()
    # no compiled copy of an earlier build may outlive this one, listed now or not: if a
    # compile fails below, the module runs from source instead of as old code
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for package in ("runtime", "stdlib"):
        for old in (HERE / package).rglob("*"):
            if old.name.endswith(suffixes):
                old.unlink()
    (HERE / native.MANIFEST).unlink(missing_ok=True)
    if os.environ.get(native.PURE_ENV, "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("sipc: mypyc is not installed; the runtime stays pure Python", file=sys.stderr)
        return []
    sources = {name: native.source_path(name, HERE) for name in native.NATIVE_MODULES}
    before = {name: native.fingerprint(path) for name, path in sources.items()}
    # mypycify reads the sources and writes the C code now; build_ext compiles it later
    built = mypycify(
        [str(path.relative_to(HERE)) for path in sources.values()],
        opt_level="3",
        group_name="runtime._hot",
    )
    after = {name: native.fingerprint(path) for name, path in sources.items()}
    if before == after:
        native.write_manifest(after, HERE)
    else:
        print("sipc: sources changed during the build; run `make native` again", file=sys.stderr)
    for ext in built:
        ext.optional = True  # a failed compile leaves the pure-Python module in use
    return list(built)


setup(ext_modules=extensions())
