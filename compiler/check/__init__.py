"""Static checks over a parsed script. Each pass only adds diagnostics; none raises.

`check(result)` runs them all in order: core parameters, route names, pseudo-variables and
transformations, control flow, then the registry-driven passes: function calls and
modparams, value types, operator precedence, route contexts, and use before set.
"""

from __future__ import annotations

from compiler.ast import Script
from compiler.check import (
    contexts,
    flow,
    functions,
    globals_,
    legacy,
    names,
    precedence,
    pvars,
    suggest,
    types,
    uses,
)
from compiler.diagnostics import Diagnostic

PASSES = (
    globals_.check,
    names.check,
    pvars.check,
    legacy.check,
    flow.check,
    functions.check,
    types.check,
    precedence.check,
    contexts.check,
    uses.check,
)
# Passes that look across the whole script: a `loadmodule` or a route lost in a broken
# item would make them report things that are not wrong.
_WHOLE_SCRIPT = (names.check, functions.check, contexts.check, uses.check)


def check(script: Script, *, partial: bool = False) -> list[Diagnostic]:
    """All diagnostics of the static checks, in the order the passes found them.

    `partial` says items with syntax errors are missing from `script`; the passes that
    look across the whole script (route names) are then skipped, since a route defined in
    a broken item would be reported as missing.
    """
    suggest.forget()
    out: list[Diagnostic] = []
    for run in PASSES:
        if partial and run in _WHOLE_SCRIPT:
            continue
        out.extend(run(script))
    return out
