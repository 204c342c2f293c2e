"""The handle generated code passes for a `var` parameter or an output pseudo-variable.

`f($avp(out))` compiles to `f(ctx, PvHandle(ctx, "avp", "out"))`: the function writes
through `.set()` (an `Out[...]` parameter) or reads the whole variable through `.get()`
and `.values()` (a `Var` parameter). Writing follows the script's `=`: an AVP gets one
more value, every other variable is replaced.
"""

from __future__ import annotations

from runtime.api import Ctx, Value


class PvHandle:
    """One writable (or readable) pseudo-variable of one script run."""

    __slots__ = ("ctx", "index", "inner", "name")

    def __init__(
        self, ctx: Ctx, name: str, inner: str | None = None, index: int | None = None
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.inner = inner
        self.index = index

    def set(self, value: Value) -> None:
        self.ctx.pv_set(self.name, value, self.inner, self.index)

    def get(self) -> Value:
        return self.ctx.pv_get(self.name, self.inner, self.index)

    def values(self) -> list[int | str]:
        """Every value: all of an AVP's (most recent first), else the one value if set."""
        if self.name == "avp" and self.inner is not None and self.index is None:
            return [value for value in self.ctx.avp.get_all(self.inner) if value is not None]
        value = self.get()
        return [] if value is None else [value]

    def __repr__(self) -> str:
        inner = f"({self.inner})" if self.inner is not None else ""
        return f"PvHandle(${self.name}{inner})"
