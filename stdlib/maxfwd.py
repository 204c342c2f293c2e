"""Module `maxfwd`: the Max-Forwards loop guard."""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from stdlib._modules import modparam_int
from stdlib._registry import export

_UPPER_BOUND = 256


def _max_limit() -> int:
    return modparam_int("maxfwd", "max_limit")


def _valid_max_value(max_value: int) -> bool:
    return 1 <= max_value <= min(_UPPER_BOUND, _max_limit())


@export(routes=RouteKind.REQUEST, module="maxfwd")
def mf_process_maxfwd_header(ctx: Ctx, max_value: int) -> int:
    """Add `Max-Forwards: max_value` (2), or decrement the received value (1);
    -1 when it is already 0 (the script should answer 483), -2 on a bad value."""
    limit = _max_limit()
    if not 1 <= max_value <= min(_UPPER_BOUND, limit):
        return -2
    msg = ctx.msg
    raw = msg.header_bytes("Max-Forwards")
    if raw is None:
        # OpenSIPS puts the new header first, where a hop-by-hop reader finds it soonest
        msg.add_header("Max-Forwards", str(max_value), at_top=True)
        ctx.maxfwd_done = True
        return 2
    if raw.isdigit():  # ASCII digits as received: the decoded text says the same
        value = int(raw)
    else:
        text = (msg.header("Max-Forwards") or "").strip()
        if not text.isdigit():
            return -2
        value = int(text)
    if value == 0:
        return -1
    msg.set_max_forwards(min(value, limit) - 1)
    ctx.maxfwd_done = True
    return 1


@export(routes=RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.BRANCH, module="maxfwd")
def is_maxfwd_lt(ctx: Ctx, max_value: int) -> int:
    """1 when the Max-Forwards value is lower than `max_value`, -1 when not,
    -2 without the header, -3 for an unreadable value."""
    if not _valid_max_value(max_value):
        return -3
    text = ctx.msg.header("Max-Forwards")
    if text is None:
        return -2
    text = text.strip()
    if not text.isdigit():
        return -3
    return 1 if int(text) < max_value else -1
