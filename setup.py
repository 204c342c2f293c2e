"""Build hook: compile the runtime's hot modules with mypyc (the metadata is in pyproject.toml).

The list comes from runtime/_native.py, read by path so the build does not import the
runtime. Every extension is optional: without a C compiler (or with SIPC_PURE_PYTHON=1)
the install goes on and sipc runs as pure Python, the same code, slower.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def native_sources() -> list[str]:
    spec = importlib.util.spec_from_file_location("_sipc_native", HERE / "runtime" / "_native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [str(module.source_path(name).relative_to(HERE)) for name in module.NATIVE_MODULES]


def extensions() -> list[object]:
    if os.environ.get("SIPC_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("sipc: mypyc is not installed; the runtime stays pure Python", file=sys.stderr)
        return []
    built = mypycify(native_sources(), opt_level="3", group_name="runtime._hot")
    for ext in built:
        ext.optional = True  # a failed compile leaves the pure-Python module in use
    return list(built)


setup(ext_modules=extensions())
