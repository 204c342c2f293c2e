"""Pseudo-variables by name, for dynamic uses and format strings.

Compiled routes read variables as `Ctx` attributes; this table serves what cannot be
resolved at compile time (`$hdr($var(h))`, `{s.eval}`, format strings handed to a
function as text) and keeps the names and the attribute readers in one place.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runtime.core import credentials, tmvars
from runtime.core.fmt import fmt
from runtime.core.pvspec import PV_ALIASES
from runtime.core.script import Value
from runtime.core.transformations import apply_transforms

if TYPE_CHECKING:
    from runtime.core.ctx import Ctx

Index = int | str | None
"""An index: a number (negative from the end), `"*"` for all, or None for the default."""

Getter = Callable[["Ctx", str | None, Index], Value]
Setter = Callable[["Ctx", str | None, Index, Value, bool], None]

# spellings the pvspec table does not list as aliases but scripts of 2.x/3.x use
_EXTRA_ALIASES = {"src_ip": "si", "pr": "proto", "retcode": "rc", "ruri": "ru"}


log = logging.getLogger("sipc.script")


class PvError(LookupError):
    """A variable the runtime does not know, or a write to a read-only one."""


def canonical(name: str) -> str:
    bare = name[1:] if name.startswith("$") else name
    bare = _EXTRA_ALIASES.get(bare, bare)
    return PV_ALIASES.get(bare, bare)


def _simple(read: Callable[[Ctx], Value]) -> Getter:
    return lambda ctx, inner, index: read(ctx)


def _hdr(ctx: Ctx, inner: str | None, index: Index) -> Value:
    if inner is None:
        return None
    if index == "*":
        return ctx.hdr_all(inner)
    return ctx.hdr(inner, _int_index(index))


def _avp(ctx: Ctx, inner: str | None, index: Index) -> Value:
    if inner is None:
        return None
    if index == "*":
        values = ctx.avp.get_all(inner)
        return values[0] if values else None
    return ctx.avp.get(inner, _int_index(index))


def _returned(ctx: Ctx, inner: str | None) -> Value:
    """`$return(i)`: the i-th (0-based) value of the last `return(code, v0, v1, ...)`."""
    if inner is None or not inner.isdigit():
        return None
    i = int(inner)
    return ctx.ret_values[i] if i < len(ctx.ret_values) else None


def _int_index(index: Index) -> int:
    if index is None:
        return 0
    if isinstance(index, int):
        return index
    return int(index) if index.lstrip("-").isdigit() else 0


def _branch_uri(ctx: Ctx, inner: str | None, index: Index) -> Value:
    position = _int_index(index)
    if position == 0:
        return ctx.ruri
    branches = ctx.branches
    return branches[position - 1].uri if 0 < position <= len(branches) else None


_GETTERS: dict[str, Getter] = {
    "ru": _simple(lambda ctx: ctx.ruri),
    "ou": _simple(lambda ctx: ctx.original_ruri),
    "rU": _simple(lambda ctx: ctx.ruri_user),
    "rd": _simple(lambda ctx: ctx.ruri_host),
    "rp": _simple(lambda ctx: ctx.ruri_port),
    "rP": _simple(lambda ctx: ctx.ruri_transport),
    "rm": _simple(lambda ctx: ctx.method),
    "rs": _simple(lambda ctx: ctx.status),
    "rr": _simple(lambda ctx: ctx.reason),
    "ci": _simple(lambda ctx: ctx.callid),
    "fu": _simple(lambda ctx: ctx.from_uri),
    "fU": _simple(lambda ctx: ctx.from_user),
    "fd": _simple(lambda ctx: ctx.from_host),
    "fn": _simple(lambda ctx: ctx.from_name),
    "ft": _simple(lambda ctx: ctx.from_tag),
    "tu": _simple(lambda ctx: ctx.to_uri),
    "tU": _simple(lambda ctx: ctx.to_user),
    "td": _simple(lambda ctx: ctx.to_host),
    "tn": _simple(lambda ctx: ctx.to_name),
    "tt": _simple(lambda ctx: ctx.to_tag),
    "cs": _simple(lambda ctx: ctx.cseq),
    "cT": _simple(lambda ctx: ctx.content_type),
    "ua": _simple(lambda ctx: ctx.user_agent),
    "cl": _simple(lambda ctx: ctx.content_length),
    "ct": _simple(lambda ctx: ctx.contact),
    "mb": _simple(lambda ctx: ctx.msg_buf),
    "rb": _simple(lambda ctx: ctx.body),
    "ml": _simple(lambda ctx: ctx.msg_len),
    "si": _simple(lambda ctx: ctx.src_ip),
    "sp": _simple(lambda ctx: ctx.src_port),
    "Ri": _simple(lambda ctx: ctx.recv_ip),
    "Rp": _simple(lambda ctx: ctx.recv_port),
    "proto": _simple(lambda ctx: ctx.proto),
    "du": _simple(lambda ctx: ctx.du),
    "br": _simple(lambda ctx: ctx.branch_uri),
    "bf": _simple(lambda ctx: " ".join(sorted(ctx.bflags))),  # flag names, space apart
    "Ts": _simple(lambda ctx: ctx.time_s),
    "Tf": _simple(lambda ctx: ctx.time_f),
    "rc": _simple(lambda ctx: ctx.rc),
    "pp": _simple(lambda ctx: os.getpid()),
    "msg.is_request": _simple(lambda ctx: int(ctx.msg.is_request)),
    "msg.type": _simple(lambda ctx: "request" if ctx.msg.is_request else "reply"),
    "msg.flag": lambda ctx, inner, index: int(inner is not None and ctx.isflagset(inner)),
    "msg.branch.uri": _branch_uri,
    "msg.branch.last_idx": _simple(lambda ctx: len(ctx.branches)),
    "hdr": _hdr,
    "hdrcnt": lambda ctx, inner, index: ctx.hdrcnt(inner) if inner is not None else None,
    "var": lambda ctx, inner, index: ctx.vars.get(inner) if inner is not None else None,
    "avp": _avp,
    "param": lambda ctx, inner, index: ctx.param(inner) if inner is not None else None,
    "socket_in": lambda ctx, inner, index: ctx.socket_in(inner),
    "return": lambda ctx, inner, index: _returned(ctx, inner),
}
_GETTERS.update(credentials.PV_GETTERS)  # $au, $ar, $an, $auth.*, $Au
_GETTERS.update(tmvars.PV_GETTERS)  # $T_reply_code, $T_branch_idx, $bavp...


def _set_ruri(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    ctx.ruri = None if value is None else str(value)


def _set_ruri_user(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    ctx.ruri_user = None if value is None else str(value)


def _set_ruri_host(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    ctx.ruri_host = None if value is None else str(value)


def _set_ruri_port(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    ctx.ruri_port = value


def _logged_if_refused(name: str, write: Setter) -> Setter:
    """An R-URI write the message cannot take (a blank or a line break, often from a
    header copied into it) is logged and not done, as OpenSIPS goes on: no script error."""

    def guarded(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
        try:
            write(ctx, inner, index, value, assign)
        except ValueError as exc:
            log.error("$%s = %r not written: %s", name, value, exc)

    return guarded


def _set_du(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    ctx.du = None if value is None else str(value)


def _set_var(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    if inner is not None:
        ctx.vars[inner] = value


def _set_avp(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    if inner is None:
        return
    if assign:
        ctx.avp.assign(inner, value)
    elif value is None and isinstance(index, int):
        ctx.avp.delete(inner, index)
    else:
        ctx.avp.push(inner, value)


def _set_msg_flag(ctx: Ctx, inner: str | None, index: Index, value: Value, assign: bool) -> None:
    if inner is not None:
        if value:
            ctx.setflag(inner)
        else:
            ctx.resetflag(inner)


_SETTERS: dict[str, Setter] = {
    "ru": _logged_if_refused("ru", _set_ruri),
    "rU": _logged_if_refused("rU", _set_ruri_user),
    "rd": _logged_if_refused("rd", _set_ruri_host),
    "rp": _logged_if_refused("rp", _set_ruri_port),
    "du": _set_du,
    "var": _set_var,
    "avp": _set_avp,
    "msg.flag": _set_msg_flag,
}
_SETTERS.update(tmvars.PV_SETTERS)  # $T_fr_timeout, $T_fr_inv_timeout, $bavp


def known_names() -> frozenset[str]:
    """Canonical names the runtime can read by name."""
    return frozenset(_GETTERS)


def pv_get(ctx: Ctx, name: str, inner: str | None = None, index: Index = None) -> Value:
    getter = _GETTERS.get(canonical(name))
    if getter is None:
        raise PvError(f"the runtime cannot read `${name}`")
    return getter(ctx, inner, index)


def pv_set(
    ctx: Ctx,
    name: str,
    value: Value,
    inner: str | None = None,
    index: Index = None,
    *,
    assign: bool = False,
) -> None:
    """Write a variable; `assign` is `:=` (for AVPs: replace every value)."""
    setter = _SETTERS.get(canonical(name))
    if setter is None:
        raise PvError(f"`${name}` cannot be written")
    setter(ctx, inner, index, value, assign)


@dataclass(frozen=True, slots=True)
class PvRef:
    """A variable inside a format string, as the compiler parsed it."""

    name: str
    inner: str | None = None
    index: Index = None
    transforms: tuple[tuple[str, tuple[Value, ...]], ...] = ()


FormatPart = str | PvRef


def expand(ctx: Ctx, parts: Sequence[FormatPart]) -> str:
    """Build a format string: literal text as is, each variable read and printed."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = pv_get(ctx, part.name, part.inner, part.index)
        if part.transforms:
            value = apply_transforms(part.transforms, value)
        out.append(fmt(value))
    return "".join(out)
