"""Module `signaling`: reply statefully when a transaction exists, else statelessly.

sipc has no transaction layer yet, so every reply goes out statelessly, as `sl` does.
"""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from stdlib._registry import export
from stdlib.sl import reply_statelessly


@export(routes=RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.ERROR, module="signaling")
def send_reply(ctx: Ctx, code: int, reason: str) -> int:
    return reply_statelessly(ctx, code, reason)
