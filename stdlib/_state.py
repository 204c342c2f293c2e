"""Per-run state a module keeps between two of its calls (rr: the Route it consumed).

The context has no slot for module state yet; this keeps it among the run's variables
under names no script can write (`$var` names cannot hold a NUL), so it lives exactly
as long as the run, survives an `await`, and is invisible to the script.
"""

from __future__ import annotations

from runtime.api import Ctx

_PREFIX = "\x00"


def get(ctx: Ctx, key: str) -> str | None:
    value = ctx.vars.get(_PREFIX + key)
    return value if isinstance(value, str) else None


def put(ctx: Ctx, key: str, value: str | None) -> None:
    if value is None:
        ctx.vars.pop(_PREFIX + key, None)
    else:
        ctx.vars[_PREFIX + key] = value
