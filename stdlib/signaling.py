"""Module `signaling`: reply statefully when a transaction exists, else statelessly."""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from stdlib._registry import export
from stdlib.sl import reply_statelessly


@export(routes=RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.ERROR, module="signaling")
def send_reply(ctx: Ctx, code: int, reason: str) -> int:
    if ctx.tx is not None and ctx.msg.is_request and ctx.msg.method != "ACK":
        from stdlib.tm import services

        stateful = services(ctx)
        if stateful is not None:
            return 1 if stateful.reply(ctx, code, reason) > 0 else -1
    return reply_statelessly(ctx, code, reason)
