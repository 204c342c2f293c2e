"""Module `cfgutils`: random events, pauses and time helpers."""

from __future__ import annotations

import asyncio
import logging
import random
import time

from runtime.api import Ctx, RouteKind
from stdlib._modules import modparam_int
from stdlib._registry import Out, export

R = RouteKind
CFG_ROUTES = R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH | R.LOCAL | R.STARTUP | R.TIMER | R.EVENT

log = logging.getLogger(__name__)


class _Probability:
    """The process-wide probability (percent) of `rand_event()`; starts at the modparam."""

    def __init__(self) -> None:
        self.value: int | None = None
        self.rng = random.Random()

    def current(self) -> int:
        if self.value is None:
            self.value = modparam_int("cfgutils", "initial_probability")
        return self.value

    def reset(self) -> None:
        self.value = None


probability = _Probability()


def _valid_percent(value: int) -> bool:
    return 0 <= value <= 100


@export(routes=CFG_ROUTES, module="cfgutils")
def rand_set_prob(ctx: Ctx, probability_: int) -> int:
    """Set the probability (0-100 %) `rand_event()` uses."""
    if not _valid_percent(probability_):
        return -1
    probability.value = probability_
    return 1


@export(routes=CFG_ROUTES, module="cfgutils")
def rand_reset_prob(ctx: Ctx) -> int:
    """Back to modparam `initial_probability`."""
    probability.reset()
    return 1


@export(routes=CFG_ROUTES, module="cfgutils")
def rand_get_prob(ctx: Ctx) -> int:
    log.info("rand_event probability is %d%%", probability.current())
    return 1


@export(routes=CFG_ROUTES, module="cfgutils")
def rand_event(ctx: Ctx, probability_: int | None = None) -> int:
    """True with the given probability (percent), else with the current one."""
    percent = probability.current() if probability_ is None else probability_
    if not _valid_percent(percent):
        return -1
    return 1 if probability.rng.random() * 100 < percent else -1


@export(routes=CFG_ROUTES, module="cfgutils", suspends=True, async_ok=True)
async def sleep(ctx: Ctx, seconds: int) -> int:
    """Pause this script run without blocking the worker."""
    await asyncio.sleep(max(0, seconds))
    return 1


@export(routes=CFG_ROUTES, module="cfgutils", suspends=True, async_ok=True)
async def usleep(ctx: Ctx, microseconds: int) -> int:
    await asyncio.sleep(max(0, microseconds) / 1_000_000)
    return 1


@export(routes=CFG_ROUTES, module="cfgutils")
def get_accurate_time(
    ctx: Ctx, sec: Out[int], usec: Out[int], str_sec_usec: Out[str] | None = None
) -> int:
    """The time now: seconds, microseconds, and optionally `"sec.usec"` as text."""
    now_us = time.time_ns() // 1000
    seconds, micros = divmod(now_us, 1_000_000)
    sec.set(seconds)
    usec.set(micros)
    if str_sec_usec is not None:
        str_sec_usec.set(f"{seconds}.{micros:06d}")
    return 1


@export(routes=CFG_ROUTES, module="cfgutils")
def ts_usec_delta(
    ctx: Ctx,
    t1_sec: int,
    t1_usec: int,
    t2_sec: int,
    t2_usec: int,
    delta_str: Out[str] | None = None,
    delta_int: Out[int] | None = None,
) -> int:
    """|t1 - t2| in microseconds, as text and/or as an integer."""
    delta = abs((t1_sec - t2_sec) * 1_000_000 + (t1_usec - t2_usec))
    if delta_str is not None:
        delta_str.set(str(delta))
    if delta_int is not None:
        delta_int.set(delta)
    return 1
