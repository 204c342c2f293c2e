"""The function registry as the checker reads it: stdlib's own, or its snapshot.

Everything the check passes know about script functions comes through here: `REGISTRY`
(implemented functions), `UNSUPPORTED`, `MODULES`, `MODPARAMS`, `modparams_of`, and the
`ParamKind`/`ParamSpec` types, all stdlib's (`stdlib/_registry.py` and its neighbours).

The source is chosen once, when this module is first imported:

- by default `stdlib` itself is imported, and `REGISTRY` *is* `stdlib.REGISTRY` (so
  `sipc build`, `sipc run` and the tests see exactly the registry the code generator uses);
- in a process that called `compiler.registry_snapshot.allow()` first (`sipc check`), the
  implemented functions come from the derived snapshot when it is up to date, and the
  other tables from stdlib's metadata modules loaded alone, so the runtime is not imported;
  when the snapshot is missing or stale, stdlib is imported and the snapshot rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from compiler import registry_snapshot
from runtime.core.script import RouteKind


class FunctionInfo(Protocol):
    """What the checker reads of a function: a `FunctionSpec` or its snapshot."""

    @property
    def name(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def python_module(self) -> str: ...
    @property
    def params(self) -> tuple[ParamSpec, ...]: ...
    @property
    def routes(self) -> RouteKind: ...
    @property
    def suspends(self) -> bool: ...
    @property
    def may_exit(self) -> bool: ...
    @property
    def async_ok(self) -> bool: ...
    @property
    def min_args(self) -> int: ...
    @property
    def max_args(self) -> int: ...


def _registry() -> Mapping[str, FunctionInfo]:
    if registry_snapshot.allowed():
        snapshot = registry_snapshot.load()
        if snapshot is not None:
            return snapshot
    import stdlib

    if registry_snapshot.allowed():
        registry_snapshot.save(stdlib.REGISTRY)
    return stdlib.REGISTRY


REGISTRY: Mapping[str, FunctionInfo] = _registry()

# Whichever way REGISTRY came, these modules are in sys.modules now: imported with all of
# stdlib, or loaded alone by registry_snapshot (then `stdlib/__init__.py` has not run).
from stdlib._modules import MODPARAMS, modparams_of  # noqa: E402
from stdlib._registry import MODULES, ParamKind, ParamSpec  # noqa: E402
from stdlib._unsupported import UNSUPPORTED  # noqa: E402

__all__ = [
    "MODPARAMS",
    "MODULES",
    "REGISTRY",
    "UNSUPPORTED",
    "FunctionInfo",
    "ParamKind",
    "ParamSpec",
    "modparams_of",
]
