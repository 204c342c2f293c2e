"""Module `tm`: transactions (t_relay, t_reply, t_newtran, the t_on_* routes...).

The work is done by the runtime's `Stateful` (runtime/core/stateful.py), which the
pipeline owns; these functions are the script's side of it. A context made without a
pipeline (stdlib.testing) has no transactions: the functions then answer -1.

The modparams (fr_timeout, fr_inv_timeout, T1_timer, T2_timer, wt_timer,
auto_100trying, onreply_avp_mode) become the layer's `TimerSettings` the first time a script calls a
tm function.
"""

from __future__ import annotations

import logging

from runtime.api import Ctx, RouteKind
from runtime.core import tmextra
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
from runtime.sip.message import header_line
from runtime.transaction import Effect, TransactionError
from runtime.transaction.branches import branch_by_attr
from stdlib._modules import modparam_int
from stdlib._regex import compile_regex
from stdlib._registry import Out, Regex, RouteRef, export

_REQ = RouteKind.REQUEST
_FAIL = RouteKind.FAILURE
_RPL = RouteKind.ONREPLY
_BR = RouteKind.BRANCH
_LOC = RouteKind.LOCAL

log = logging.getLogger("sipc.tm")


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

    `pass-reason-hdr`: a CANCEL from upstream passes its Reason header on to the
    branches (else they get `SIP;cause=487;text="ORIGINATOR_CANCEL"`). The other flags
    (no-auto-477, no-dns-failover, allow-no-cancel, 2.x bitmasks) change nothing sipc
    does differently; the outbound proxy is used when $du is not set.
    """
    stateful = services(ctx)
    if stateful is None:
        return RELAY_INTERNAL
    result = stateful.relay(ctx, outbound_proxy or None)
    if flags and "pass-reason-hdr" in flags and ctx.tx is not None:
        ctx.tx.pass_reason = True
    return result


@export(routes=_REQ | _FAIL, module="tm", may_exit=True)
def t_replicate(ctx: Ctx, uri: str, flags: str | None = None) -> int:
    """Send a copy of the request to `uri` (and to each appended branch), statefully; the
    copy's answers never go upstream, and the route goes on with its own transaction.

    The URI is the next hop: the copy keeps the R-URI (as OpenSIPS's does). The request's
    transaction is created if needed: 0 (the script stops) when it turns out to be a
    retransmission. Each copy is a transaction of its own: an upstream CANCEL does not
    reach it. Flags (no-dns-failover) change nothing in sipc.
    """
    stateful = services(ctx)
    if stateful is None:
        return -1
    return tmextra.replicate(stateful, ctx, uri)


@export(routes=_REQ, module="tm")
def t_add_hdrs(ctx: Ctx, sip_hdrs: str) -> int:
    """Header lines ("Name: value\r\n"...) added to every branch the transaction sends
    from now on, and to its CANCELs; -1 without a transaction or for a malformed line.
    A second call replaces the first's headers, as in OpenSIPS."""
    tx = ctx.tx
    if tx is None:
        return -1
    lines = []
    for line in sip_hdrs.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        try:
            lines.append(header_line(name.strip(), value.strip()))
        except ValueError:
            return -1
        if not sep:
            return -1
    tx.extra_headers = b"".join(line + b"\r\n" for line in lines)
    return 1


@export(routes=_REQ, module="tm")
def t_add_cancel_reason(ctx: Ctx, reason_hdr: str) -> int:
    """The Reason header ("Reason: SIP;cause=200;text=...\r\n") of every CANCEL the
    transaction sends downstream, instead of the one an upstream CANCEL brings.

    sipc answers an upstream CANCEL in its transaction layer, before any route runs, so
    call it in the INVITE's request route (before or after t_relay): -1 for anything
    but a Reason header.
    """
    name, sep, value = reason_hdr.strip().partition(":")
    value = value.strip()
    if not sep or name.strip().lower() != "reason" or not value or "\n" in value:
        return -1
    if ctx.tx is not None:
        ctx.tx.cancel_reason = (value,)
    tx_data(ctx).cancel_reason = value
    return 1


@export(routes=RouteKind.ALL, module="tm")
def t_new_request(
    ctx: Ctx,
    method: str,
    ruri: str,
    from_: str,
    to: str,
    body: str | None = None,
    ctx_: str | None = None,
) -> int:
    """Send a new request, unrelated to the current message, statefully, to `ruri`.

    `from_`/`to` are "[display ]URI"; `body` is "content/type body"; `ctx_` is put in
    `$avp(uac_ctx)` for local_route, which sees the request before it goes (a drop
    there is ignored). Its answers are absorbed, as in OpenSIPS.
    """
    stateful = services(ctx)
    if stateful is None:
        return -1
    return tmextra.new_request(stateful, ctx, method, ruri, from_, to, body or None, ctx_)


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


@export(routes=_REQ, module="tm")
def t_reply_by_callid(
    ctx: Ctx, code: int, reason_phrase: str, callid: str | None = None, cseq: str | None = None
) -> int:
    """Reply to the pending INVITE transaction with this Call-ID and CSeq number (by
    default the current message's): 1, -1 not sent, -2 no Call-ID, -3 no CSeq, -4 not
    found. A BYE ending a parked call passes the INVITE's CSeq ($cs - 1)."""
    stateful = services(ctx)
    if stateful is None:
        return -1
    return tmextra.reply_by_callid(stateful, ctx, code, reason_phrase, callid, cseq)


@export(routes=_FAIL | _RPL | _BR, module="tm")
def t_get_branch_idx_by_attr(
    ctx: Ctx,
    attr: str,
    val_str: str | None = None,
    val_int: int | None = None,
    result_var: Out[int] | None = None,
    offset: int | None = None,
) -> int:
    """The index of the first branch, from `offset` on, whose attribute `attr`
    ($tm.branch.attr) has the value `val_str` (a string), else `val_int` (an integer),
    or any value when neither is given; pending or ended, it does not matter.

    1 found (its index in `result_var`), -1 not found (`result_var` NULL), -2 no
    transaction or an empty name. In a branch route the branch being prepared is not
    searched: it is not one of the transaction's branches until it is sent.
    """
    tx = ctx.tx
    name = attr
    if tx is None or not name:
        return -2
    value: int | str | None = val_str if val_str is not None else val_int
    index = branch_by_attr(tx.branches, name, value, offset or 0)
    if result_var is not None:
        result_var.set(index if index >= 0 else None)
    return 1 if index >= 0 else -1


# ---------------------------------------------------------------------- injected branches


@export(routes=_REQ, module="tm")
def t_wait_for_new_branches(ctx: Ctx, branches: int | None = None) -> int:
    """Keep the INVITE transaction from answering when all its branches failed, until
    fr_inv_timeout or until `branches` injections; -1 without a transaction or for
    anything but an INVITE. The transaction is created if needed."""
    stateful = services(ctx)
    msg = ctx.msg
    if stateful is None or not isinstance(msg, Request) or msg.method != "INVITE":
        return -1
    tx = ctx.tx if ctx.tx is not None else stateful.create(ctx)
    if tx is None:
        return -1
    try:
        effects = tx.wait_for_branches(branches or 0)
    except TransactionError:
        return -1
    stateful.apply(effects)
    return 1


@export(routes=_REQ | _FAIL | _RPL | _BR, module="tm")
def t_wait_no_more_branches(ctx: Ctx) -> int:
    """Stop waiting for injected branches: the ended branches decide now (-1 when the
    transaction was not waiting)."""
    stateful = services(ctx)
    tx = ctx.tx
    if stateful is None or tx is None or not tx.waiting:
        return -1
    effects: list[Effect] = []
    tx.stop_waiting(effects)
    stateful.apply(effects)
    return 1


@export(routes=_REQ | _RPL, module="tm")
def t_inject_branches(ctx: Ctx, source: str, flags: str | None = None) -> int:
    """Add branches to the current transaction and send them: source "msg" takes the
    R-URI ($du) and the appended branches of the current message (a reply: only the
    appended branches). Flags: "cancel"/"c" cancels the pending branches first, "l"
    marks the last injection (the transaction stops waiting).

    Returns 1, -1 no transaction or error, -2 the transaction has its final reply,
    -3 no new branch could be sent. Source "event" (the contact of an event
    notification, event_routing) needs event routes bound to a transaction, which
    sipc does not have yet: it is logged and answers -1.
    """
    stateful = services(ctx)
    if stateful is None:
        return -1
    which = source.strip().lower()
    if which == "event":
        log.error('t_inject_branches("event"): event routing is not supported by sipc yet')
        return -1
    if which != "msg":
        log.error('t_inject_branches: unknown source %r ("msg" or "event")', source)
        return -1
    text = (flags or "").strip()
    if text.lower() == "cancel":
        cancel, last = True, False
    else:  # one letter per flag, as OpenSIPS reads them
        cancel, last = "c" in text, "l" in text
        for letter in set(text) - {"c", "l"}:
            log.error("t_inject_branches: unknown flag %r, ignored", letter)
    return tmextra.inject_from_msg(stateful, ctx, cancel, last)
