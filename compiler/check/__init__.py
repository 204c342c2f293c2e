"""Static checks over a parsed script. Each pass only adds diagnostics; none raises.

`check(result)` runs them all in order: core parameters, route names, pseudo-variables and
transformations, and control flow. Later passes (function registry, types, route contexts)
plug in here the same way.
"""

from __future__ import annotations

from compiler.ast import Script
from compiler.check import flow, globals_, legacy, names, pvars
from compiler.diagnostics import Diagnostic

PASSES = (globals_.check, names.check, pvars.check, legacy.check, flow.check)


def check(script: Script, *, partial: bool = False) -> list[Diagnostic]:
    """All diagnostics of the static checks, in the order the passes found them.

    `partial` says items with syntax errors are missing from `script`; the passes that
    look across the whole script (route names) are then skipped, since a route defined in
    a broken item would be reported as missing.
    """
    out: list[Diagnostic] = []
    for run in PASSES:
        if partial and run is names.check:
            continue
        out.extend(run(script))
    return out
