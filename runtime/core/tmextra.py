"""tm's less travelled paths: replicas, requests of our own, injected branches, replies
to a transaction found by Call-ID.

Theory of operation
-------------------
Each function takes the pipeline's `Stateful` and the script's context and answers
with tm's return code; `stdlib.tm` is their script side.

- `replicate` (t_replicate): the request's transaction is created (a retransmission
  answers 0), then a copy of the request, Max-Forwards lowered and our Via on top,
  goes to the URI given (the next hop: the copy keeps its R-URI, as OpenSIPS's does)
  and to each appended branch, each copy as a `LocalTransaction` of its own whose
  answers end here. The original route goes on with its transaction untouched: its
  final reply comes from the script (save(), t_reply, t_relay).
- `new_request` (t_new_request): a request built from scratch (a fresh Call-ID and
  From tag, CSeq 10, Max-Forwards 70, "content-type body"), shown to local_route with
  `$avp(uac_ctx)` set when a context string is given, then sent as a `LocalTransaction`
  to its R-URI; its answers are absorbed, as OpenSIPS's t_uac without a callback does.
- `inject_from_msg` (t_inject_branches("msg")): the R-URI ($du) and the appended
  branches of the current message become new branches of the current transaction.
- `reply_by_callid` (t_reply_by_callid): the INVITE transaction with that Call-ID and
  CSeq number, found by walking the live transactions (OpenSIPS hashes them by these
  two; sipc keys them by branch and walks only when this function asks), is answered.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from runtime.core.ctx import Ctx
from runtime.core.script import RouteKind
from runtime.sip import Request, SipParseError, new_tag, parse_message
from runtime.sip.message import build_message, header_line, header_pairs
from runtime.transaction import Branch, Phase, ProxyTransaction, TransactionError
from runtime.transaction.local import LocalTransaction
from runtime.transaction.wire import random_hex, via_start
from runtime.transport.source import Source

if TYPE_CHECKING:
    from runtime.core.stateful import Hop, Stateful

log = logging.getLogger("sipc.tm")

NEW_REQUEST_CSEQ = 10  # the CSeq number OpenSIPS's t_new_request starts a request with
UAC_CTX_AVP = "uac_ctx"


def _send_local(stateful: Stateful, request: Request, hop: Hop, extra: bytes = b"") -> bool:
    """Send `request` with our Via on top as a request of our own; False if refused."""
    branch_id = "z9hG4bK" + random_hex() + ".l"
    via = via_start(hop.proto, hop.socket.hostport) + branch_id.encode() + b"\r\n"
    if hop.proto.lower() != "udp":
        request.ensure_content_length()
    wire = request.to_bytes_with_header(via + extra)
    local = LocalTransaction(
        branch_id, request.method, wire, hop, hop.proto, stateful.layer.settings
    )
    try:
        effects = stateful.layer.start_local(local)
    except TransactionError as exc:
        log.info("cannot send %s: %s", request.method, exc)
        return False
    stateful.apply(effects)
    return True


def _copy(msg: Request) -> Request | None:
    try:
        copy = parse_message(msg.to_bytes())
    except SipParseError:
        return None
    return copy if isinstance(copy, Request) else None


# ---------------------------------------------------------------------- t_replicate


def replicate(stateful: Stateful, ctx: Ctx, uri: str) -> int:
    """t_replicate: 1 when a copy went out, 0 for a retransmission (the transaction was
    to be created here), -1 internal error, -2 bad message, -4 no copy could be sent."""
    msg = ctx.msg
    if not isinstance(msg, Request) or msg.method == "ACK":
        return -2
    tx: ProxyTransaction | None = ctx.tx
    if tx is None:
        if not ctx.kind & RouteKind.REQUEST:
            return -1
        tx = stateful.create(ctx)
        if tx is None:
            return 0
    hops = msg.max_forwards
    if not ctx.maxfwd_done and hops == 0:
        return -2
    targets = [uri, *(branch.du or branch.uri for branch in ctx.branches)]
    ctx.branches.clear()  # consumed, as OpenSIPS's forwarding consumes them
    sent = 0
    for target in targets:
        hop = stateful._hop(ctx, msg.ruri_text, target)
        copy = _copy(msg) if hop is not None else None
        if hop is None or copy is None:
            continue
        if not ctx.maxfwd_done:
            if hops is None:
                copy.add_header("Max-Forwards", "70")
            else:
                copy.set_max_forwards(hops - 1)
        if _send_local(stateful, copy, hop, tx.extra_headers):
            sent += 1
    return 1 if sent else -4


# ---------------------------------------------------------------------- t_new_request


def _split_party(text: str) -> tuple[str, str]:
    """`"[display ]URI"` -> (display, URI): the URI is what follows the last space."""
    display, _, uri = text.strip().rpartition(" ")
    return display.strip(), uri


def _name_addr(display: str, uri: str) -> str:
    return f"{display} <{uri}>" if display else f"<{uri}>"


def new_request(
    stateful: Stateful,
    ctx: Ctx,
    method: str,
    ruri: str,
    from_: str,
    to: str,
    body: str | None = None,
    uac_ctx: str | None = None,
) -> int:
    """t_new_request: 1 sent, -1 on a bad parameter or when nothing could be sent."""
    method = method.strip()
    from_display, from_uri = _split_party(from_)
    to_display, to_uri = _split_party(to)
    if not method or not ruri.strip() or not from_uri or not to_uri:
        return -1
    content = b""
    content_type = None
    if body:
        content_type, space, text = body.partition(" ")
        if not space or not content_type:
            log.error("t_new_request: no content type at the start of the body %r", body)
            return -1
        content = text.encode("utf-8", "surrogateescape")
    hop = stateful._hop(ctx, ruri.strip(), None)
    if hop is None:
        return -1
    try:
        lines = [
            header_line("Max-Forwards", "70"),
            header_line("From", f"{_name_addr(from_display, from_uri)};tag={new_tag()}"),
            header_line("To", _name_addr(to_display, to_uri)),
            header_line("Call-ID", f"{secrets.token_hex(12)}@{hop.socket.ip}"),
            header_line("CSeq", f"{NEW_REQUEST_CSEQ} {method}"),
        ]
        if content_type is not None:
            lines.append(header_line("Content-Type", content_type))
        lines.append(header_line("Content-Length", str(len(content))))
        request = build_message(f"{method} {ruri.strip()} SIP/2.0", lines, content)
    except (SipParseError, ValueError) as exc:
        log.error("t_new_request: cannot build the %s: %s", method, exc)
        return -1
    if not isinstance(request, Request):
        return -1
    request = _local_route(stateful, request, hop, uac_ctx)
    return 1 if _send_local(stateful, request, hop) else -1


def _local_route(stateful: Stateful, request: Request, hop: Hop, uac_ctx: str | None) -> Request:
    """Show the request to local_route (its edits go out; a drop there is ignored)."""
    fn = stateful.pipeline.routes.local
    if fn is None:
        return request
    socket = hop.socket
    ctx = Ctx(request, socket, socket.ip, socket.port, stateful.pipeline, RouteKind.LOCAL,
              source=Source(socket, socket.ip, socket.port))  # fmt: skip
    if uac_ctx is not None:
        ctx.avp.push(UAC_CTX_AVP, uac_ctx)
    stateful.run_now(fn, ctx)
    return ctx.msg if isinstance(ctx.msg, Request) else request


# ---------------------------------------------------------------------- t_inject_branches


def inject_from_msg(stateful: Stateful, ctx: Ctx, cancel: bool, last: bool) -> int:
    """t_inject_branches("msg"): 1, -1 no transaction, -2 it has its final reply
    already, -3 no new branch could be sent. From a request: its R-URI ($du) and every
    appended branch; from a reply: its first appended branch only (as OpenSIPS)."""
    tx: ProxyTransaction | None = ctx.tx
    msg = ctx.msg
    if tx is None:
        return -1
    if tx.phase is Phase.REPLIED or tx.phase is Phase.TERMINATED or tx.final_status:
        return -2
    try:
        base = tx.request
    except TransactionError:
        return -2
    from runtime.core.stateful import _for_branch

    specs: list[Branch] = []
    targets: list[tuple[str, str | None, str | None]] = []
    if isinstance(msg, Request):  # the R-URI ($du) and every appended branch
        targets.append((ctx.ruri or msg.ruri_text, ctx.du, None))
        targets += [(branch.uri, branch.du, branch.path) for branch in ctx.branches]
        ctx.branches.clear()
    elif ctx.branches:  # a reply: its first appended branch, taken off the set
        first = ctx.branches.pop(0)
        targets.append((first.uri, first.du, first.path))
    for uri, du, path in targets:
        hop = stateful._hop(ctx, uri, du)
        request = _for_branch(base, uri, path) if hop is not None else None
        if hop is not None and request is not None:
            if request.max_forwards is not None and not ctx.maxfwd_done:
                request.set_max_forwards(max(0, request.max_forwards - 1))
            specs.append(Branch(request, hop, hop.proto, hop.socket.hostport))
    if not specs:
        return -3
    stateful.arm(tx)
    before = len(tx.branches)
    try:
        effects = tx.inject(specs, cancel, last)
    except TransactionError as exc:
        log.info("t_inject_branches refused: %s", exc)
        return -3
    stateful.apply(effects)
    return 1 if len(tx.branches) > before else -3


# ---------------------------------------------------------------------- t_reply_by_callid


def find_invite(stateful: Stateful, call_id: str, cseq: int) -> ProxyTransaction | None:
    """The live INVITE transaction with this Call-ID and CSeq number, if any."""
    seen: set[int] = set()
    for tx in stateful.table.by_key.values():
        if id(tx) in seen or not tx.is_invite or tx.phase is Phase.TERMINATED:
            continue
        seen.add(id(tx))
        try:
            request = tx.request
        except TransactionError:
            continue  # settled: answered long ago
        number = request.cseq.number if request.cseq is not None else None
        if number == cseq and request.call_id == call_id:
            return tx
    return None


def reply_by_callid(
    stateful: Stateful, ctx: Ctx, code: int, reason: str, call_id: str | None, cseq: str | None
) -> int:
    """t_reply_by_callid: 1, -1 the reply could not be sent, -2 no Call-ID, -3 no CSeq,
    -4 no such INVITE transaction."""
    msg = ctx.msg
    call_id = call_id or msg.call_id
    if not call_id:
        return -2
    if cseq is None or not cseq.strip():
        number = msg.cseq.number if msg.cseq is not None else None
    else:
        number = int(cseq) if cseq.strip().isdigit() else None
    if number is None:
        return -3
    tx = find_invite(stateful, call_id.strip(), number)
    if tx is None:
        return -4
    try:
        # built from the INVITE's request: its append_to_reply lines, not this one's
        effects = tx.reply(code, reason or None, headers=header_pairs(tx.reply_headers))
    except (TransactionError, SipParseError, ValueError) as exc:
        log.info("t_reply_by_callid: cannot reply %d: %s", code, exc)
        return -1
    stateful.apply(effects)
    return 1
