"""The tm pseudo-variables ($T_reply_code, $T_branch_idx, $bavp...), read through `Ctx`.

They read what `stateful` hangs on the context: `ctx.tx` (the transaction),
`ctx.tx_branch` (the branch a branch, reply or failure route is about) and
`ctx.tx_data` (what the script armed: timers, the winning reply in a failure_route).
No import of `stateful` here: `ctx` imports this table through `pvaccess`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runtime.core.script import Value

if TYPE_CHECKING:
    from runtime.core.ctx import AvpStore, Ctx

Index = int | str | None


def _int_index(index: Index) -> int:
    if isinstance(index, int):
        return index
    if isinstance(index, str) and index.lstrip("-").isdigit():
        return int(index)
    return 0


def reply_code(ctx: Ctx) -> int:
    """$T_reply_code: the reply being processed (onreply), the winning one (failure
    route), else the last one sent upstream; 0 without a transaction."""
    status = ctx.status
    if status is not None:
        return status
    data = ctx.tx_data
    if data is not None and data.failure_reply is not None:
        return int(data.failure_reply.status)
    tx = ctx.tx
    if tx is None:
        return 0
    return int(tx.final_status or tx.server.last_status)


def _branch_idx(ctx: Ctx, inner: str | None, index: Index) -> Value:
    branch = ctx.tx_branch
    return int(branch.index) if branch is not None else None


def _t_ruri(ctx: Ctx, inner: str | None, index: Index) -> Value:
    branch = ctx.tx_branch
    if branch is None:
        return None
    uri = getattr(branch.destination, "uri", None)
    return uri if isinstance(uri, str) else None


def _t_id(ctx: Ctx, inner: str | None, index: Index) -> Value:
    tx = ctx.tx
    return f"{id(tx):x}" if tx is not None else None


def _timeout(field: str) -> Callable[[Ctx, str | None, Index], Value]:
    def read(ctx: Ctx, inner: str | None, index: Index) -> Value:
        data = ctx.tx_data
        value = getattr(data, field, None) if data is not None else None
        if value is None:
            tx = ctx.tx
            settings: Any = tx.settings if tx is not None else None
            value = getattr(settings, field, None) if settings is not None else None
        return int(value) if value is not None else None

    return read


def _last_reply_code(ctx: Ctx, inner: str | None, index: Index) -> Value:
    tx = ctx.tx
    if tx is None:
        return None
    branches = tx.branches
    position = (
        _int_index(index)
        if index is not None
        else (ctx.tx_branch.index if ctx.tx_branch is not None else len(branches) - 1)
    )
    if 0 <= position < len(branches):
        return int(branches[position].status)
    return None


def branch_avps(ctx: Ctx) -> AvpStore | None:
    """The AVPs of the branch being processed ($bavp), made on first use."""
    data = ctx.tx_data
    branch = ctx.tx_branch
    if data is None or branch is None:
        return None
    stores = data.branch_avps
    if stores is None:
        stores = data.branch_avps = {}
    store: AvpStore | None = stores.get(branch.index)
    if store is None:
        from runtime.core.ctx import AvpStore

        store = stores[branch.index] = AvpStore()
    return store


def _bavp(ctx: Ctx, inner: str | None, index: Index) -> Value:
    store = branch_avps(ctx)
    if store is None or inner is None:
        return None
    return store.get(inner, _int_index(index))


PV_GETTERS: dict[str, Callable[[Ctx, str | None, Index], Value]] = {
    "T_reply_code": lambda ctx, inner, index: reply_code(ctx),
    "T_branch_idx": _branch_idx,
    "T_ruri": _t_ruri,
    "T_id": _t_id,
    "T_fr_timeout": _timeout("fr_timeout"),
    "T_fr_inv_timeout": _timeout("fr_inv_timeout"),
    "T_branch_last_reply_code": _last_reply_code,
    "bavp": _bavp,
}


def _set_timeout(field: str) -> Callable[[Ctx, str | None, Index, Value, bool], None]:
    def write(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
        from runtime.core.stateful import tx_data

        seconds = (
            float(value)
            if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
            else None
        )
        setattr(tx_data(ctx), field, seconds)
        tx = ctx.tx
        if tx is not None and seconds is not None:  # branches relayed from now on use it
            from dataclasses import replace

            tx.settings = replace(tx.settings, **{field: seconds})

    return write


def _set_bavp(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    store = branch_avps(ctx)
    if store is None or inner is None:
        return
    if assign:
        store.assign(inner, value)
    else:
        store.push(inner, value)


PV_SETTERS: dict[str, Callable[[Ctx, str | None, Index, Value, bool], None]] = {
    "T_fr_timeout": _set_timeout("fr_timeout"),
    "T_fr_inv_timeout": _set_timeout("fr_inv_timeout"),
    "bavp": _set_bavp,
}
