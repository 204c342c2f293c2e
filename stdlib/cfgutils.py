"""Module `cfgutils`: random events, pauses, time helpers, debugging, AVP sets, script
locks (stdlib/_locks.py) and time recurrences (stdlib/_timerec.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import random
import time
import tracemalloc
from collections.abc import Callable

from runtime.api import Ctx, RouteKind
from stdlib._handles import PvHandle
from stdlib._locks import LOCKS
from stdlib._modules import modparam_int
from stdlib._registry import Out, StaticStr, Var, export
from stdlib._timerec import TimeRecError, parse_expr

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


# ---------------------------------------------------------------------- debugging


def _abort_process() -> None:
    os.abort()


ABORT: list[Callable[[], None]] = [_abort_process]
"""What `abort()` does after its log line: `os.abort()` (SIGABRT, a core dump where the
system keeps them), as OpenSIPS calls abort(3). Tests put a recorder in its place."""


@export(routes=CFG_ROUTES, module="cfgutils")
def abort(ctx: Ctx) -> int:
    """Stop the whole server at once, as OpenSIPS does: a critical log line, then
    SIGABRT (no clean shutdown; a core dump where the system keeps them)."""
    log.critical("abort called")
    ABORT[0]()
    return -1  # only when the abort was replaced (tests)


def memory_status() -> dict[str, int]:
    """What sipc can say of its memory: resident and peak size (bytes), the objects the
    collector tracks, and Python's own allocations when tracemalloc is tracing."""
    figures: dict[str, int] = {}
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            figures["rss"] = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        figures["max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except (ImportError, OSError):
        pass
    figures["gc_objects"] = len(gc.get_objects())
    if tracemalloc.is_tracing():
        current, peak = tracemalloc.get_traced_memory()
        figures["traced"] = current
        figures["traced_peak"] = peak
    return figures


def _log_status(kind: str) -> int:
    figures = memory_status()
    log.info("%s status: %s", kind, ", ".join(f"{k}={v}" for k, v in figures.items()))
    return 1


@export(routes=CFG_ROUTES, module="cfgutils")
def pkg_status(ctx: Ctx) -> int:
    """Log the worker's memory figures (`memory_status`): a sipc worker's private memory
    is its whole process."""
    return _log_status("pkg (process)")


@export(routes=CFG_ROUTES, module="cfgutils")
def shm_status(ctx: Ctx) -> int:
    """Log the same figures as pkg_status: sipc has no shared memory segment, what
    OpenSIPS keeps there (transactions, locations) lives in each worker's process."""
    return _log_status("shm (process: sipc shares no memory segment)")


# ---------------------------------------------------------------------- AVP sets


def _count(ctx: Ctx, var: Var) -> int:
    if isinstance(var, PvHandle) and var.name == "hdr" and var.inner and var.index is None:
        return len(ctx.msg.headers_named(var.inner))
    return len(var.values())


@export(routes=CFG_ROUTES, module="cfgutils")
def set_count(ctx: Ctx, var_to_count: Var, ret_var: Out[int]) -> int:
    """How many values the variable has (an AVP's stack, a header's instances)."""
    ret_var.set(_count(ctx, var_to_count))
    return 1


@export(routes=CFG_ROUTES, module="cfgutils", may_exit=True)
def set_select_weight(ctx: Ctx, int_list_var: Var) -> int:
    """The index (0 for the most recent value) of a value picked at random with a
    probability proportional to it (roulette-wheel selection); -1 for an empty set, a
    value that is not an integer, or weights summing to zero.

    As in OpenSIPS the index is the return code, so index 0 (always so for a single
    value) ends the script run like any function returning 0.
    """
    weights = int_list_var.values()
    if not weights or not all(isinstance(w, int) for w in weights):
        return -1
    if len(weights) == 1:
        return 0
    total = sum(max(0, int(w)) for w in weights)
    if total <= 0:
        return -1
    pick = probability.rng.randrange(total)
    for index, weight in enumerate(weights):
        pick -= max(0, int(weight))
        if pick < 0:
            return index
    return len(weights) - 1


@export(routes=RouteKind.ALL, module="cfgutils")
def shuffle_avps(ctx: Ctx, name: Var) -> int:
    """Put the values of an AVP in a random order; -1 for anything but an AVP."""
    if not isinstance(name, PvHandle) or name.name != "avp" or not name.inner:
        return -1
    values = ctx.avp.get_all(name.inner)
    probability.rng.shuffle(values)
    ctx.avp.delete(name.inner)
    for value in reversed(values):  # get_all gives the most recent first
        ctx.avp.push(name.inner, value)
    return 1


# ---------------------------------------------------------------------- time recurrences


@export(routes=RouteKind.ALL, module="cfgutils")
def check_time_rec(ctx: Ctx, time_string: str, timestamp: int | None = None) -> int:
    """1 when the time (now, or the Unix `timestamp`) is in the recurrence, -1 when not,
    -2 when the string cannot be parsed (stdlib/_timerec.py has the syntax)."""
    try:
        expr = parse_expr(time_string)
    except TimeRecError as exc:
        log.error("check_time_rec: %s in %r", exc, time_string)
        return -2
    when = time.time() if timestamp is None else float(timestamp)
    return 1 if expr.check(when) else -1


# ---------------------------------------------------------------------- script locks


@export(routes=CFG_ROUTES, module="cfgutils", suspends=True)
async def get_static_lock(ctx: Ctx, key: StaticStr) -> int:
    """Take the lock of `key` (one lock per distinct key), waiting while another script
    run holds it; held across this run's suspensions until released (stdlib/_locks.py)."""
    return await LOCKS.static_lock(key).acquire(ctx)


@export(routes=CFG_ROUTES, module="cfgutils")
def release_static_lock(ctx: Ctx, key: StaticStr) -> int:
    return LOCKS.static_lock(key).release(ctx)


@export(routes=CFG_ROUTES, module="cfgutils", suspends=True)
async def get_dynamic_lock(ctx: Ctx, key: str) -> int:
    """Take the pool lock `key` hashes to (modparam lock_pool_size): two keys may share
    one, so taking a second key can wait on the first (see stdlib/_locks.py)."""
    return await LOCKS.dynamic_lock(key, modparam_int("cfgutils", "lock_pool_size")).acquire(ctx)


@export(routes=CFG_ROUTES, module="cfgutils")
def release_dynamic_lock(ctx: Ctx, key: str) -> int:
    return LOCKS.dynamic_lock(key, modparam_int("cfgutils", "lock_pool_size")).release(ctx)
