"""A snapshot of `stdlib.REGISTRY` for processes that only check scripts.

Importing `stdlib` imports every implemented module and, under them, the runtime: the
transaction layer, usrloc, sqlite3... (~95 ms), when the checker needs only what the
`@export` decorators derived. So `sipc check` calls `allow()` before it imports the
checker, and `compiler.registry_view` then reads the implemented functions from a JSON
file in the cache folder (`compiler.cache`) instead. The file is derived, never written
by hand: it is made from the live registry whenever it is missing, and its name carries a
hash of every source it depends on (all of `stdlib/`, and `runtime/core/script.py` for
`RouteKind`), so an edit anywhere there makes the next run rebuild it.

The metadata modules (`stdlib._registry`, `_unsupported`, `_modules`: the parameter kinds,
the unsupported functions, the module and modparam tables) import nothing of the runtime
beyond `RouteKind`, so they are loaded by themselves, without `stdlib/__init__.py`; the
checker then uses the very objects stdlib defines, and an `import stdlib` later in the same
process reuses them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from compiler import cache
from compiler.records import record

if TYPE_CHECKING:
    from runtime.core.script import RouteKind
    from stdlib._registry import FunctionSpec, ParamSpec

_FORMAT = "registry-1"
# Loaded in this order: each imports only the ones before it (and runtime.core.script).
_METADATA_MODULES = ("_registry", "_unsupported", "_modules")
_VALUE_TYPES: dict[str | None, type | None] = {"int": int, "str": str, None: None}

_allowed = False


def allow() -> None:
    """Let `compiler.registry_view`, when it is first imported, read the snapshot."""
    global _allowed
    _allowed = True


def allowed() -> bool:
    return _allowed


@record
class FunctionView:
    """What a `stdlib._registry.FunctionSpec` tells the checker, without the function."""

    name: str
    module: str
    python_module: str
    params: tuple[ParamSpec, ...]
    routes: RouteKind
    suspends: bool
    may_exit: bool
    async_ok: bool
    min_args: int
    max_args: int


def _package_dir(name: str) -> str | None:
    """Where package `name` lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    locations = spec.submodule_search_locations if spec is not None else None
    return next(iter(locations), None) if locations else None


def _sources() -> list[str] | None:
    """Every file the snapshot is derived from, in a stable order."""
    stdlib_dir, runtime_dir = _package_dir("stdlib"), _package_dir("runtime")
    if stdlib_dir is None or runtime_dir is None:
        return None
    files = []
    for folder, dirs, names in os.walk(stdlib_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
    return [*files, os.path.join(runtime_dir, "core", "script.py")]


def _file_name() -> str | None:
    """The snapshot's name in the cache folder: a hash of all its sources' bytes."""
    sources = _sources()
    if sources is None:
        return None
    parts: list[str | bytes] = [_FORMAT]
    try:
        for path in sources:
            with open(path, "rb") as f:
                parts += [os.path.basename(path), f.read()]
    except OSError:
        return None
    return f"registry-{cache.key(parts)}.json"


def encode(registry: Mapping[str, FunctionSpec]) -> bytes:
    """The snapshot of `registry`: JSON, one object per function."""
    functions = []
    for spec in registry.values():
        functions.append(
            {
                "name": spec.name,
                "module": spec.module,
                "python_module": spec.python_module,
                "params": [
                    [p.name, p.kind.name, p.optional, _type_name(p.value_type)] for p in spec.params
                ],
                "routes": int(spec.routes),
                "suspends": spec.suspends,
                "may_exit": spec.may_exit,
                "async_ok": spec.async_ok,
                "min_args": spec.min_args,
                "max_args": spec.max_args,
            }
        )
    return json.dumps({"format": _FORMAT, "functions": functions}).encode()


def _type_name(value_type: type | None) -> str | None:
    name = None if value_type is None else value_type.__name__
    if _VALUE_TYPES.get(name, False) is not value_type:
        raise ValueError(f"no snapshot for a parameter of type {value_type!r}")
    return name


def decode(data: bytes, registry_module: Any, route_kind: Any) -> dict[str, FunctionView]:
    """The functions of a snapshot, with stdlib's own `ParamSpec`/`ParamKind` and `RouteKind`."""
    param_spec, param_kind = registry_module.ParamSpec, registry_module.ParamKind
    loaded = json.loads(data)
    if loaded.get("format") != _FORMAT:
        raise ValueError("not a registry snapshot of this format")
    out: dict[str, FunctionView] = {}
    for f in loaded["functions"]:
        params = tuple(
            param_spec(name, param_kind[kind], optional, _VALUE_TYPES[value_type])
            for name, kind, optional, value_type in f["params"]
        )
        out[f["name"]] = FunctionView(
            name=f["name"],
            module=f["module"],
            python_module=f["python_module"],
            params=params,
            routes=route_kind(f["routes"]),
            suspends=f["suspends"],
            may_exit=f["may_exit"],
            async_ok=f["async_ok"],
            min_args=f["min_args"],
            max_args=f["max_args"],
        )
    return out


def load() -> dict[str, FunctionView] | None:
    """The snapshot's functions, with stdlib's metadata modules loaded alone; None on a miss.

    Only before anything imported `stdlib`: after it, the live registry is there already.
    """
    if "stdlib" in sys.modules:
        return None
    name = _file_name()
    data = cache.read(name) if name is not None else None
    if data is None:
        return None
    loaded = _load_metadata_modules()
    if loaded is None:
        return None
    from runtime.core.script import RouteKind

    try:
        return decode(data, loaded["_registry"], RouteKind)
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def save(registry: Mapping[str, FunctionSpec]) -> None:
    """Store the snapshot of the live `registry` for the next run (when it can be)."""
    name = _file_name()
    if name is None:
        return
    try:
        data = encode(registry)
    except ValueError:
        return
    cache.write(name, data)


def _load_metadata_modules() -> dict[str, ModuleType] | None:
    """`stdlib._registry`, `_unsupported` and `_modules` under their own names, without
    running `stdlib/__init__.py`; None (and nothing left behind) when that fails."""
    stdlib_dir = _package_dir("stdlib")
    if stdlib_dir is None:
        return None
    done: dict[str, ModuleType] = {}
    try:
        for short in _METADATA_MODULES:
            full = f"stdlib.{short}"
            spec = importlib.util.spec_from_file_location(
                full, os.path.join(stdlib_dir, f"{short}.py")
            )
            if spec is None or spec.loader is None:
                raise ImportError(full)
            module = importlib.util.module_from_spec(spec)
            sys.modules[full] = module
            done[short] = module
            spec.loader.exec_module(module)
    except Exception:  # anything at all: the caller imports stdlib the ordinary way
        for short in done:
            sys.modules.pop(f"stdlib.{short}", None)
        return None
    return done
