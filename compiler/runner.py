"""`sipc run`: load a compiled route module and serve it."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# OpenSIPS log_level (-3 alert ... 4 debug) -> Python logging.
_LEVELS = {4: logging.DEBUG, 3: logging.INFO, 2: logging.INFO, 1: logging.WARNING, 0: logging.ERROR}


class NotARouteModule(Exception):
    """The file is not a module `sipc build` wrote."""


def load_module(path: str | Path) -> ModuleType:
    path = Path(path).resolve()
    name = "sipc_script_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise NotARouteModule(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "ROUTES"):
        raise NotARouteModule(f"{path} has no ROUTES: is it a module `sipc build` wrote?")
    return module


def script_log_level(module: ModuleType) -> int:
    config = getattr(module, "CONFIG", None)
    for name, value in getattr(config, "globals", ()):
        if name == "log_level":
            try:
                level = int(value)
            except ValueError:
                continue
            return _LEVELS.get(level, logging.DEBUG if level > 4 else logging.CRITICAL)
    return logging.INFO


def run_module(
    module: ModuleType,
    *,
    listen: Sequence[str] = (),
    stats_file: str | None = None,
    log_level: str | None = None,
) -> int:
    from runtime import server
    from runtime.core.log import configure_logging

    level = getattr(logging, log_level.upper()) if log_level else script_log_level(module)
    configure_logging(level)
    sockets = list(listen) or list(getattr(module.CONFIG, "sockets", ())) or ["udp:127.0.0.1:5060"]
    options = server.script_options(getattr(module, "CONFIG", None))
    return server.serve(module.ROUTES, sockets, stats_file=stats_file, options=options)
