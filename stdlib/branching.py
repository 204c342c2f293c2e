"""Core functions on branches (OpenSIPS `core_cmds.c`, `dset.c`, `serialize.c`): branch
flags, and serial forking by q-value.

Branch index 0 is the R-URI branch (its flags live on the context, `ctx.bflags`); index
i >= 1 is the i-th branch added by `append_*branch()` or `lookup()` (`ctx.branches[i-1]`).

Serial forking keeps OpenSIPS's design: `serialize_branches()` stores every destination
(the R-URI branch first, then the branches) in the AVP `serial_branch`, highest q last
added so read first, and clears the branches; each `next_branches()` takes the group of
the highest q left: the first one becomes the R-URI (with its `$du`, path, socket, q and
flags), the others branches. The AVPs travel with the transaction, so a failure_route
calls `next_branches()` and `t_relay()` again for the next group.
"""

from __future__ import annotations

import json
import logging

from runtime.api import Branch, Ctx, RouteKind
from runtime.sip import split_list
from stdlib._registry import StaticStr, export
from stdlib.outbound import parse_socket

ALL = RouteKind.ALL
log = logging.getLogger("sipc.script")

SERIAL_AVP = "serial_branch"
"""The AVP serial forking keeps its destinations in (OpenSIPS's alias of the same name)."""

_NO_Q = -1  # OpenSIPS's Q_UNSPECIFIED: a branch without q sorts below q=0


# ---------------------------------------------------------------------------- branch flags


def _flags_of(ctx: Ctx, branch_idx: int | None) -> set[str] | None:
    """The flag set of branch `branch_idx` (None or 0: the R-URI branch); None if no such."""
    if not branch_idx:
        return ctx.bflags
    if 0 < branch_idx <= len(ctx.branches):
        return ctx.branches[branch_idx - 1].bflags
    return None


@export(routes=ALL, module="core")
def setbflag(ctx: Ctx, flag: StaticStr, branch_idx: int | None = None) -> int:
    """Set a branch flag on the R-URI branch (index 0, the default) or branch `branch_idx`."""
    flags = _flags_of(ctx, branch_idx)
    if flags is None:
        return -1
    flags.add(flag)
    return 1


@export(routes=ALL, module="core")
def resetbflag(ctx: Ctx, flag: StaticStr, branch_idx: int | None = None) -> int:
    flags = _flags_of(ctx, branch_idx)
    if flags is None:
        return -1
    flags.discard(flag)
    return 1


@export(routes=ALL, module="core")
def isbflagset(ctx: Ctx, flag: StaticStr, branch_idx: int | None = None) -> int:
    flags = _flags_of(ctx, branch_idx)
    return 1 if flags is not None and flag in flags else -1


def bflags_text(ctx: Ctx, branch_idx: int = 0) -> str | None:
    """`$bf`: the flags of a branch as OpenSIPS prints a flag list (names, space apart)."""
    flags = _flags_of(ctx, branch_idx)
    return None if flags is None else " ".join(sorted(flags))


# ---------------------------------------------------------------------------- serial forking


def _entry(
    uri: str, du: str | None, path: str | None, q: int | None, flags: set[str], socket: str | None
) -> dict[str, object]:
    return {"uri": uri, "du": du, "path": path, "q": _NO_Q if q is None else q,
            "flags": sorted(flags), "socket": socket}  # fmt: skip


@export(routes=ALL, module="core")
def serialize_branches(ctx: Ctx, clear_previous: int, keep_order: int | None = None) -> int:
    """Store the R-URI branch and every branch for serial forking, by q-value groups
    (`keep_order`: one at a time, in the order they were added), and clear the branches.

    Nothing is done (but 1 returned) when there is no branch, or when every branch has
    the R-URI's q and `keep_order` is not given: parallel forking is what they ask for."""
    ruri = ctx.ruri
    if ruri is None:
        return -1
    if not ctx.branches:
        return 1
    ruri_q = _q(ctx.ruri_q)
    if not keep_order and all(_q(b.q) == ruri_q for b in ctx.branches):
        return 1
    socket = ctx.out_socket.name if ctx.out_socket is not None else None
    first = _entry(ruri, ctx.du, None, ctx.ruri_q, ctx.bflags, socket)
    entries = [first]
    for branch in ctx.branches:
        entry = _entry(branch.uri, branch.du, branch.path, branch.q, branch.bflags, None)
        if keep_order:
            entries.append(entry)
            continue
        # after every entry of a lower q, before those of the same q (OpenSIPS's order)
        at = 0
        while at < len(entries) and _q_int(entries[at]) < _q(branch.q):
            at += 1
        entries.insert(at, entry)
    if keep_order:  # taken one by one, in the order they were added
        entries.reverse()
    # read back from the last one stored: an entry is the last of its group when the
    # entry read after it (the one stored before it) has a lower q
    if clear_previous:
        ctx.avp.delete(SERIAL_AVP)
    for position, entry in enumerate(entries):
        below = entries[position - 1] if position > 0 else None
        entry["last"] = bool(keep_order) or (below is not None and _q_int(below) < _q_int(entry))
        if position == 0:
            entry["last"] = False  # nothing below: the end of the list ends the group
        ctx.avp.push(SERIAL_AVP, json.dumps(entry, separators=(",", ":")))
    ctx.branches.clear()
    return 1


def _q(q: int | None) -> int:
    return _NO_Q if q is None else q


def _q_int(entry: dict[str, object]) -> int:
    q = entry.get("q")
    return q if isinstance(q, int) else _NO_Q


@export(routes=ALL, module="core")
def next_branches(ctx: Ctx) -> int:
    """Take the next group of destinations stored by `serialize_branches()`: 1 when more
    are left after it, 2 when it was the last, -1 when none is left (or outside a request
    or failure route)."""
    if ctx.kind not in (RouteKind.REQUEST, RouteKind.FAILURE):
        log.error("next_branches() called from a %s route", ctx.kind.name)
        return -1
    first = True
    while True:
        entry = _pop(ctx)
        if entry is None:
            return -1 if first else 2
        if first:
            if not _restore_ruri(ctx, entry):
                return -1
            first = False
        else:
            flags = entry.get("flags")
            q = _q_int(entry)
            ctx.branches.append(
                Branch(str(entry.get("uri")), _opt(entry.get("du")), None if q == _NO_Q else q,
                       _opt(entry.get("path")), set(flags) if isinstance(flags, list) else set())
            )  # fmt: skip
        if entry.get("last"):
            return 1 if ctx.avp.count(SERIAL_AVP) else 2


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _pop(ctx: Ctx) -> dict[str, object] | None:
    while ctx.avp.count(SERIAL_AVP):
        raw = ctx.avp.get(SERIAL_AVP)
        ctx.avp.delete(SERIAL_AVP, 0)
        try:
            entry = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            entry = None
        if isinstance(entry, dict) and isinstance(entry.get("uri"), str):
            return entry
        log.error("next_branches(): a value of $avp(%s) is not a destination", SERIAL_AVP)
    return None


def _restore_ruri(ctx: Ctx, entry: dict[str, object]) -> bool:
    """The first destination of a group becomes the R-URI branch."""
    uri = entry.get("uri")
    if not isinstance(uri, str) or not uri:
        return False
    path = _opt(entry.get("path"))
    if path:  # its Route set goes on the message, as lookup() does for the R-URI
        ctx.msg.remove_header("Route")
        for hop in reversed(split_list(path)):
            ctx.msg.add_header("Route", hop[1].strip(), at_top=True)
    ctx.ruri = uri
    ctx.du = _opt(entry.get("du"))
    socket = _opt(entry.get("socket"))
    if socket is not None:  # the name of one of our sockets, as serialize_branches saw it
        parsed = parse_socket(socket)
        found = ctx.core.find_listening(*parsed) if parsed is not None else None
        ctx.out_socket = found or ctx.out_socket
    flags = entry.get("flags")
    ctx.bflags.clear()
    if isinstance(flags, list):
        ctx.bflags.update(str(flag) for flag in flags)
    q = _q_int(entry)
    ctx.ruri_q = None if q == _NO_Q else q
    return True
