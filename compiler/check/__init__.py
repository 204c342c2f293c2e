"""Static checks over a parsed script. Each pass only adds diagnostics; none raises.

`check(result)` runs them all in order: core parameters, route names, pseudo-variables and
transformations, and control flow. Later passes (function registry, types, route contexts)
plug in here the same way.
"""

from __future__ import annotations

from compiler.ast import Script
from compiler.check import flow, globals_, names, pvars
from compiler.diagnostics import Diagnostic

PASSES = (globals_.check, names.check, pvars.check, flow.check)


def check(script: Script) -> list[Diagnostic]:
    """All diagnostics of the static checks, in the order the passes found them."""
    out: list[Diagnostic] = []
    for run in PASSES:
        out.extend(run(script))
    return out
