"""The tm pseudo-variables ($T_reply_code, $T_branch_idx, $bavp, $tm.branch.*...), read
through `Ctx`.

They read what `stateful` hangs on the context: `ctx.tx` (the transaction),
`ctx.tx_branch` (the branch a branch, reply or failure route is about) and
`ctx.tx_data` (what the script armed: timers, the winning reply in a failure_route).
No import of `stateful` here: `ctx` imports this table through `pvaccess`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runtime.core.script import RouteKind, Value

if TYPE_CHECKING:
    from runtime.core.ctx import AvpStore, Ctx
    from runtime.transaction import ProxyBranch

Index = int | str | None
Getter = Callable[["Ctx", str | None, Index], Value]

log = logging.getLogger("sipc.tm")


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


def tm_branch(ctx: Ctx, index: Index) -> ProxyBranch | None:
    """Branch `index` of the transaction, as $(tm.branch.uri[i]) reads it: the branch
    being processed without an index, counted from the end when negative; None when
    there is no such branch (or for `[*]`, which OpenSIPS refuses too).

    In a branch route the branch being processed is not yet among the transaction's
    branches (OpenSIPS counts it only once sent): its own index still finds it.
    """
    tx = ctx.tx
    if tx is None:
        return None
    current: ProxyBranch | None = ctx.tx_branch
    if index is None:
        return current
    if isinstance(index, str):
        if not index.strip().lstrip("-").isdigit():
            return None
        index = int(index)
    branches: list[ProxyBranch] = tx.branches
    if index < 0:
        index += len(branches)
        if index < 0:
            return None
    if index < len(branches):
        return branches[index]
    return current if current is not None and current.index == index else None


def _branch_flags(ctx: Ctx, branch: ProxyBranch) -> set[str]:
    """The flags of `branch`: in a branch route, its own are the script's `ctx.bflags`
    (the route's setbflag/resetbflag go with the branch when it is sent)."""
    if ctx.tx_branch is branch and ctx.kind & RouteKind.BRANCH:
        return ctx.bflags
    flags: set[str] = getattr(branch.destination, "bflags", set())
    return flags


def _tm_branch_field(read: Callable[[Ctx, ProxyBranch, str | None], Value]) -> Getter:
    def get(ctx: Ctx, inner: str | None, index: Index) -> Value:
        branch = tm_branch(ctx, index)
        return read(ctx, branch, inner) if branch is not None else None

    return get


def _destination_text(field: str) -> Getter:
    def read(ctx: Ctx, branch: ProxyBranch, inner: str | None) -> Value:
        value = getattr(branch.destination, field, None)
        return str(value) if value else None

    return _tm_branch_field(read)


def _flag(ctx: Ctx, branch: ProxyBranch, inner: str | None) -> Value:
    return 1 if inner is not None and inner in _branch_flags(ctx, branch) else 0


def _flags(ctx: Ctx, branch: ProxyBranch, inner: str | None) -> Value:
    return " ".join(sorted(_branch_flags(ctx, branch)))  # as $bf prints them


def _attr(ctx: Ctx, branch: ProxyBranch, inner: str | None) -> Value:
    return branch.attr(inner) if inner is not None else None


PV_GETTERS: dict[str, Callable[[Ctx, str | None, Index], Value]] = {
    "T_reply_code": lambda ctx, inner, index: reply_code(ctx),
    "T_branch_idx": _branch_idx,
    "T_ruri": _t_ruri,
    "T_id": _t_id,
    "T_fr_timeout": _timeout("fr_timeout"),
    "T_fr_inv_timeout": _timeout("fr_inv_timeout"),
    "T_branch_last_reply_code": _last_reply_code,
    "bavp": _bavp,
    "tm.branch.uri": _destination_text("uri"),
    "tm.branch.duri": _destination_text("du"),
    "tm.branch.socket": _destination_text("socket"),
    "tm.branch.flags": _tm_branch_field(_flags),
    "tm.branch.flag": _tm_branch_field(_flag),
    "tm.branch.attr": _tm_branch_field(_attr),
    "tm.branch.type": _tm_branch_field(lambda ctx, branch, inner: "sip"),  # never phony
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


def _set_tm_branch_flag(
    ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool
) -> None:
    """$(tm.branch.flag(NAME)[i]) = 1 sets the flag, = 0 resets it; anything but an
    integer is refused (logged), as in OpenSIPS."""
    branch = tm_branch(ctx, index)
    if branch is None or inner is None:
        return
    if not isinstance(value, int):
        log.error("$tm.branch.flag(%s): %r is not an integer, the flag is unchanged", inner, value)
        return
    if ctx.tx_branch is branch and ctx.kind & RouteKind.BRANCH:
        if value:
            ctx.bflags.add(inner)
        else:
            ctx.bflags.discard(inner)
        return
    hop = branch.destination
    flags: set[str] | None = getattr(hop, "bflags", None)
    if flags is None:
        return
    # a new set: a branch without flags shares an empty one with every other
    hop.bflags = flags | {inner} if value else flags - {inner}


def _set_tm_branch_attr(
    ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool
) -> None:
    """$(tm.branch.attr(name)[i]) = value replaces the attribute; NULL removes it."""
    branch = tm_branch(ctx, index)
    if branch is not None and inner is not None:
        branch.set_attr(inner, value)


PV_SETTERS: dict[str, Callable[[Ctx, str | None, Index, Value, bool], None]] = {
    "T_fr_timeout": _set_timeout("fr_timeout"),
    "T_fr_inv_timeout": _set_timeout("fr_inv_timeout"),
    "bavp": _set_bavp,
    "tm.branch.flag": _set_tm_branch_flag,
    "tm.branch.attr": _set_tm_branch_attr,
}
