"""Which runtime modules run compiled (mypyc) and which run as Python source.

`pip install -e .` (`make venv`) and `make native` compile the modules of `NATIVE_MODULES`
with mypyc when a C compiler is at hand (setup.py; without one the install goes on, pure
Python). Each module gets an extension (`message.cpython-311-....so`) beside its `.py`,
and the group shares one native library at the project root. Python's import system
prefers an extension to the source, so after an edit of one of these files the old
compiled code would still run. The build therefore writes a manifest
(`runtime/_native_manifest.json`): the SHA-256 of every source as mypyc read it. The
finder installed by `install()` loads every listed module from its source when any
source differs from the manifest (size and mtime first, the hash when those moved), when
an extension or the manifest is missing, or when the environment sets
`SIPC_PURE_PYTHON=1`. It is all or none because compiled modules of one group call each
other directly, past the module objects.

Nothing here changes behaviour: the compiled and the source modules are the same code,
and the test suite runs against whichever is in use (`status()` says which).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent

# The modules on the per-message path (runtime and stdlib). setup.py reads this list (by path, without
# importing the runtime package); keep it to modules mypyc compiles without change in
# behaviour (no monkeypatching, no runtime annotations, no interpreted subclasses).
NATIVE_MODULES: tuple[str, ...] = (
    "runtime.sip.errors",
    "runtime.core.sipfields",
    "runtime.sip.lexical",
    "runtime.sip.uri",
    "runtime.sip.headers",
    "runtime.sip.message",
    "runtime.core.ops",
    "runtime.core.avps",
    "runtime.core.ctx",
    "runtime.core.sanity",
    "runtime.core.nexthop",
    "runtime.core.replies",
    "runtime.core.pipeline",
    "runtime.transport.socketinfo",
    "runtime.transport.source",
    "runtime.transport.udp",
    "runtime.sip.response",
    "runtime.transaction.effects",
    "runtime.transaction.machine",
    "runtime.transaction.wheel",
    "runtime.transaction.matching",
    "runtime.transaction.table",
    "runtime.transaction.wire",
    "runtime.transaction.client",
    "runtime.transaction.server",
    "runtime.transaction.branches",
    "runtime.transaction.proxy",
    "runtime.transaction.layer",
    "runtime.core.rr",
    "runtime.core.tmvars",
    "runtime.core.stateful",
    # the script functions of the per-message modules (stdlib/_registry.py reads their
    # signatures from source when they are compiled)
    "stdlib._msg",
    "stdlib._sipedit",
    "stdlib._state",
    "stdlib._handles",
    "stdlib.core",
    "stdlib.maxfwd",
    "stdlib.sl",
    "stdlib.signaling",
    "stdlib.sipmsgops",
    "stdlib.rr",
    "stdlib.tm",
    "stdlib.registrar",
    "stdlib.usrloc",
)

PURE_ENV = "SIPC_PURE_PYTHON"
MANIFEST = "runtime/_native_manifest.json"


def source_path(module: str, root: Path = ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def extension_path(module: str, root: Path = ROOT) -> Path | None:
    """The compiled extension of `module` beside its source, if one was built."""
    base = source_path(module, root).with_suffix("")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.exists():
            return candidate
    return None


def fingerprint(path: Path) -> dict[str, object]:
    """What the manifest keeps of one source: size, mtime and SHA-256 of its bytes."""
    data = path.read_bytes()
    return {
        "size": len(data),
        "mtime_ns": path.stat().st_mtime_ns,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def write_manifest(
    fingerprints: dict[str, dict[str, object]], root: Path = ROOT
) -> None:
    """Record the sources a build compiled (setup.py, after mypyc has read them)."""
    (root / MANIFEST).write_text(json.dumps(fingerprints, indent=1, sort_keys=True) + "\n")


def _unchanged(path: Path, recorded: dict[str, object]) -> bool:
    stat = path.stat()
    if stat.st_size == recorded.get("size") and stat.st_mtime_ns == recorded.get("mtime_ns"):
        return True
    return hashlib.sha256(path.read_bytes()).hexdigest() == recorded.get("sha256")


def decide(
    modules: Sequence[str] = NATIVE_MODULES, root: Path = ROOT, pure: str | None = None
) -> tuple[bool, str]:
    """(use the compiled modules?, why) for the tree at `root`."""
    if pure is None:
        pure = os.environ.get(PURE_ENV, "")
    if pure not in ("", "0"):
        return False, f"{PURE_ENV} is set"
    built = [module for module in modules if extension_path(module, root) is not None]
    if not built:
        return False, "not compiled (no C compiler at install time, or `make native` not run)"
    if len(built) < len(modules):
        return False, f"only {len(built)} of {len(modules)} modules compiled (run `make native`)"
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return False, f"no readable {MANIFEST} beside the compiled modules (run `make native`)"
    for module in modules:
        recorded = manifest.get(module)
        if not isinstance(recorded, dict) or not _unchanged(source_path(module, root), recorded):
            return False, f"{module} changed since it was compiled (run `make native`)"
    return True, f"{len(built)} modules compiled with mypyc"


_DECISION: tuple[bool, str] | None = None


def decision() -> tuple[bool, str]:
    """`decide()` for this process's tree, made once: all listed modules follow it."""
    global _DECISION
    if _DECISION is None:
        _DECISION = decide()
    return _DECISION


class _SourceFinder:
    """Loads the listed modules from their `.py` when the compiled copies must not run.

    A meta path finder by protocol (`find_spec`): `importlib.abc` is not imported for it,
    as that costs `sipc check` 9 ms of start-up."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _LISTED or decision()[0]:
            return None  # the usual finders: the extension when there is one
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


_LISTED = frozenset(NATIVE_MODULES)


def install() -> None:
    """Put the finder first on `sys.meta_path` (idempotent); runtime/__init__ calls it."""
    if not any(isinstance(finder, _SourceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder())


def status() -> str:
    """One line for logs and `sipc run`: compiled or pure Python, and why."""
    loaded = [name for name in NATIVE_MODULES if name in sys.modules]
    compiled = [
        name for name in loaded if not str(getattr(sys.modules[name], "__file__", "")).endswith(".py")
    ]
    native, why = decision()
    if native:
        return f"native: {len(compiled)} of {len(loaded)} loaded hot modules compiled ({why})"
    return f"pure Python ({why})"
