"""Module `tm`: transactions (t_relay, t_reply, t_newtran, the t_on_* routes...).

The work is done by the runtime's `Stateful` (runtime/core/stateful.py), which the
pipeline owns; these functions are the script's side of it. A context made without a
pipeline (stdlib.testing) has no transactions: the functions then answer -1.

The modparams (fr_timeout, fr_inv_timeout, T1_timer, T2_timer, wt_timer,
auto_100trying, onreply_avp_mode) become the layer's `TimerSettings` the first time a script calls a
tm function.
"""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from runtime.core.stateful import (
    DEFAULT_TM_SETTINGS,
    RELAY_INTERNAL,
    Stateful,
    TxData,
    set_onreply_avp_mode,
    tx_data,
)
from runtime.core.tmvars import reply_code
from runtime.sip import Request
from stdlib._modules import modparam_int
from stdlib._regex import compile_regex
from stdlib._registry import Regex, RouteRef, export

_REQ = RouteKind.REQUEST
_FAIL = RouteKind.FAILURE
_RPL = RouteKind.ONREPLY
_BR = RouteKind.BRANCH
_LOC = RouteKind.LOCAL


def services(ctx: Ctx) -> Stateful | None:
    """The transaction services of the pipeline that runs `ctx`, configured once."""
    stateful = getattr(ctx.core, "stateful", None)
    if not isinstance(stateful, Stateful):
        return None
    if not stateful.configured:
        configure(stateful)
    return stateful


def configure(stateful: Stateful) -> None:
    """Apply tm's modparams to `stateful` (timer values in the units OpenSIPS uses)."""
    from dataclasses import replace

    stateful.configure(
        replace(
            DEFAULT_TM_SETTINGS,
            t1=modparam_int("tm", "T1_timer") / 1000,
            t2=modparam_int("tm", "T2_timer") / 1000,
            fr_timeout=float(modparam_int("tm", "fr_timer") or modparam_int("tm", "fr_timeout")),
            fr_inv_timeout=float(
                modparam_int("tm", "fr_inv_timer") or modparam_int("tm", "fr_inv_timeout")
            ),
            auto_100_trying=modparam_int("tm", "auto_100trying") != 0,
            # how long an answered INVITE absorbs retransmissions (RFC 6026's Timer L
            # and M, shortened as OpenSIPS does: see TimerSettings)
            wt_timer=float(modparam_int("tm", "wt_timer")),
        )
    )
    set_onreply_avp_mode(modparam_int("tm", "onreply_avp_mode") != 0)


# ---------------------------------------------------------------------- creating, relaying


@export(routes=_REQ | _FAIL, module="tm")
def t_relay(ctx: Ctx, flags: str | None = None, outbound_proxy: str | None = None) -> int:
    """Relay statefully to $du or the R-URI and every appended branch, in parallel.

    The flags (no-auto-477, no-dns-failover, pass-reason-hdr, allow-no-cancel, 2.x
    bitmasks) change nothing sipc does differently; the outbound proxy is used when
    $du is not set.
    """
    stateful = services(ctx)
    if stateful is None:
        return RELAY_INTERNAL
    return stateful.relay(ctx, outbound_proxy or None)


@export(routes=_REQ, module="tm", may_exit=True)
def t_newtran(ctx: Ctx) -> int:
    """Create the transaction now: 1, or 0 for a retransmission (the script stops)."""
    stateful = services(ctx)
    msg = ctx.msg
    if stateful is None or not msg.is_request:
        return -1
    if isinstance(msg, Request) and msg.method == "ACK":
        # an ACK the layer would absorb stops the script; any other goes on uncreated
        tx = stateful.layer.find(msg)
        return 0 if tx is not None and not 200 <= tx.final_status < 300 else 1
    if ctx.tx is not None:
        return -10
    return 1 if stateful.create(ctx) is not None else 0


@export(routes=_REQ | RouteKind.BRANCH, module="tm", may_exit=True)
def t_check_trans(ctx: Ctx) -> int:
    stateful = services(ctx)
    if stateful is None:
        return -1
    return stateful.check_trans(ctx)


@export(routes=_REQ | _FAIL, module="tm", may_exit=True)
def t_reply(ctx: Ctx, code: int, reason_phrase: str) -> int:
    """Reply statefully, creating the transaction if needed; 0 for an ACK."""
    return _reply(ctx, code, reason_phrase, b"")


@export(routes=_REQ | _FAIL, module="tm", may_exit=True)
def t_reply_with_body(ctx: Ctx, code: int, reason_phrase: str, body: str) -> int:
    return _reply(ctx, code, reason_phrase, body.encode("utf-8", "surrogateescape"))


def _reply(ctx: Ctx, code: int, reason: str, body: bytes) -> int:
    msg = ctx.msg
    if not msg.is_request:
        return -1
    if msg.method == "ACK":
        return 0
    stateful = services(ctx)
    if stateful is None:
        return -1
    return stateful.reply(ctx, code, reason, body=body)


# ---------------------------------------------------------------------- arming routes


@export(routes=_REQ | _FAIL | _RPL | _BR | _LOC, module="tm")
def t_on_failure(ctx: Ctx, failure_route: RouteRef) -> int:
    tx_data(ctx).on_failure = failure_route
    if ctx.tx is not None:
        ctx.tx.has_failure_route = True
    return 1


@export(routes=_REQ | _FAIL | _RPL | _BR | _LOC, module="tm")
def t_on_reply(ctx: Ctx, reply_route: RouteRef) -> int:
    tx_data(ctx).on_reply = reply_route
    stateful = services(ctx)
    if ctx.tx is not None and stateful is not None:
        stateful.arm(ctx.tx)
    return 1


@export(routes=_REQ | _FAIL | _RPL | _BR, module="tm")
def t_on_branch(ctx: Ctx, branch_route: RouteRef) -> int:
    tx_data(ctx).on_branch = branch_route
    return 1


# ---------------------------------------------------------------------- questions


@export(routes=_REQ | _FAIL | _RPL | _BR, module="tm")
def t_check_status(ctx: Ctx, re: Regex) -> int:
    """Whether the reply code (received, winning, or last sent) matches `re`."""
    if ctx.kind & RouteKind.BRANCH or (ctx.tx is None and ctx.status is None):
        return -1
    code = reply_code(ctx)
    if code == 0:
        return -1
    return 1 if compile_regex(re).search(str(code)) else -1


@export(routes=_REQ | _FAIL | _RPL | _BR, module="tm")
def t_was_cancelled(ctx: Ctx) -> int:
    return 1 if ctx.tx is not None and ctx.tx.cancelled else -1


@export(routes=_REQ | _FAIL | _RPL | _BR, module="tm")
def t_local_replied(ctx: Ctx, reply: str) -> int:
    """`all`: every branch ended without a reply from downstream; `branch`: the
    current (winning) branch ended here; `last`: the last final reply was made here."""
    tx = ctx.tx
    if tx is None:
        return -1
    which = reply.strip().lower()
    if which == "branch" or which == "last":
        branch = ctx.tx_branch
        if branch is None and tx.branches:
            branch = tx.branches[-1]
        if branch is None:
            return 1 if tx.final_status else -1
        return 1 if branch.local else -1
    if which == "all":
        return 1 if all(branch.local for branch in tx.branches if branch.status) else -1
    return -1


@export(routes=_REQ | _BR, module="tm")
def t_flush_flags(ctx: Ctx) -> int:
    """The transaction shares the script's flags already; -1 without a transaction."""
    tx = ctx.tx
    if tx is None:
        return -1
    data = tx.user_data
    if isinstance(data, TxData):
        data.flags = ctx.flags
    return 1


@export(routes=_RPL, module="tm")
def t_cancel_branch(ctx: Ctx, flags: str | None = None) -> int:
    """CANCEL the pending branches. sipc cancels them all whatever the flags say
    ("a" all, "o" the others, empty the current one)."""
    tx = ctx.tx
    stateful = services(ctx)
    if tx is None or stateful is None:
        return -1
    stateful.apply(tx.cancel())
    return 1
