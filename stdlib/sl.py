"""Module `sl`: stateless replies."""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from stdlib._registry import export


def reply_statelessly(ctx: Ctx, code: int, reason: str) -> int:
    """Send a reply to the request being processed; nothing is sent for an ACK (still 1)."""
    if not ctx.msg.is_request or not 100 <= code <= 699:
        return -1
    if ctx.msg.method == "ACK":
        return 1
    return 1 if ctx.send_reply(code, reason) > 0 else -1


@export(routes=RouteKind.REQUEST | RouteKind.ERROR, module="sl")
def sl_send_reply(ctx: Ctx, code: int, reason: str) -> int:
    return reply_statelessly(ctx, code, reason)


# The reply OpenSIPS derives from its last internal error; sipc has no such error state
# on the context yet, so the generic server error is what goes out.
_INTERNAL_ERROR = (500, "Server Internal Error")


@export(routes=RouteKind.REQUEST, module="sl")
def sl_reply_error(ctx: Ctx) -> int:
    return reply_statelessly(ctx, *_INTERNAL_ERROR)
