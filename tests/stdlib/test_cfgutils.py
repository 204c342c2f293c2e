"""cfgutils: probabilities, pauses, time helpers."""

from __future__ import annotations

import asyncio
import logging
import time
import tracemalloc
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from stdlib import REGISTRY, PvHandle, cfgutils
from stdlib._locks import LOCKS
from stdlib._modules import set_modparam
from stdlib.testing import context

OPTIONS = (
    "OPTIONS sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKcf\n"
    "From: <sip:a@example.org>;tag=a\nTo: <sip:bob@example.com>\nCall-ID: cf-1\nCSeq: 1 OPTIONS\n"
    "Content-Length: 0\n\n"
)


class Slot:
    def __init__(self) -> None:
        self.value: object = None

    def set(self, value: object) -> None:
        self.value = value


def test_probability_extremes_and_reset_to_the_modparam() -> None:
    ctx, _ = context(OPTIONS)
    assert cfgutils.rand_set_prob(ctx, 100) == 1
    assert all(cfgutils.rand_event(ctx) == 1 for _ in range(50))
    assert cfgutils.rand_set_prob(ctx, 0) == 1
    assert all(cfgutils.rand_event(ctx) == -1 for _ in range(50))
    assert cfgutils.rand_set_prob(ctx, 101) == -1
    set_modparam("cfgutils", "initial_probability", 100)
    assert cfgutils.rand_reset_prob(ctx) == 1
    assert cfgutils.rand_event(ctx) == 1
    assert cfgutils.rand_event(ctx, 0) == -1  # an explicit probability wins
    assert cfgutils.rand_get_prob(ctx) == 1


def test_rand_event_follows_the_probability_roughly() -> None:
    ctx, _ = context(OPTIONS)
    cfgutils.probability.rng.seed(7)
    hits = sum(cfgutils.rand_event(ctx, 30) == 1 for _ in range(2000))
    assert 450 < hits < 750


async def test_sleep_and_usleep_suspend_without_blocking() -> None:
    ctx, _ = context(OPTIONS)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    assert await cfgutils.usleep(ctx, 60_000) == 1
    assert await cfgutils.sleep(ctx, 0) == 1
    task.cancel()
    assert time.monotonic() - started >= 0.05
    assert ticks >= 3  # the loop kept running while the script slept


def test_accurate_time_and_delta() -> None:
    ctx, _ = context(OPTIONS)
    sec, usec, text = Slot(), Slot(), Slot()
    assert cfgutils.get_accurate_time(ctx, sec, usec, text) == 1
    assert isinstance(sec.value, int) and isinstance(usec.value, int)
    assert text.value == f"{sec.value}.{usec.value:06d}"
    as_text, as_int = Slot(), Slot()
    assert cfgutils.ts_usec_delta(ctx, 10, 500_000, 12, 250_000, as_text, as_int) == 1
    assert (as_text.value, as_int.value) == ("1750000", 1_750_000)


# ---------------------------------------------------------------------- debugging


def test_abort_logs_critically_then_aborts(caplog: pytest.LogCaptureFixture) -> None:
    ctx, _ = context(OPTIONS)
    calls: list[str] = []
    saved = cfgutils.ABORT[0]
    cfgutils.ABORT[0] = lambda: calls.append("abort")
    try:
        with caplog.at_level(logging.CRITICAL):
            assert cfgutils.abort(ctx) == -1
    finally:
        cfgutils.ABORT[0] = saved
    assert calls == ["abort"] and "abort called" in caplog.text
    assert saved is cfgutils._abort_process


def test_memory_status_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    ctx, _ = context(OPTIONS)
    with caplog.at_level(logging.INFO):
        assert cfgutils.pkg_status(ctx) == 1 and cfgutils.shm_status(ctx) == 1
    assert "gc_objects=" in caplog.text
    tracemalloc.start()
    try:
        assert cfgutils.memory_status()["traced"] > 0
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------- AVP sets


def test_set_count_counts_avp_values_and_header_instances() -> None:
    ctx, _ = context(OPTIONS.replace("Content-Length", "X-A: 1\nX-A: 2\nContent-Length"))
    for value in ("a", "b", "c"):
        ctx.avp.push("dids", value)
    out = Slot()
    assert cfgutils.set_count(ctx, PvHandle(ctx, "avp", "dids"), out) == 1 and out.value == 3
    none, headers = Slot(), Slot()
    assert cfgutils.set_count(ctx, PvHandle(ctx, "avp", "none"), none) == 1 and none.value == 0
    assert cfgutils.set_count(ctx, PvHandle(ctx, "hdr", "X-A"), headers) == 1
    assert headers.value == 2


def test_set_select_weight_is_a_roulette_wheel() -> None:
    ctx, _ = context(OPTIONS)
    for weight in (0, 10, 30):  # most recent first: index 0 -> 30, 1 -> 10, 2 -> 0
        ctx.avp.push("w", weight)
    handle = PvHandle(ctx, "avp", "w")
    cfgutils.probability.rng.seed(7)
    picks = Counter(cfgutils.set_select_weight(ctx, handle) for _ in range(4000))
    assert set(picks) == {0, 1} and 2.4 < picks[0] / picks[1] < 3.6
    assert REGISTRY["set_select_weight"].may_exit  # index 0 ends the run, as in OpenSIPS
    ctx.avp.push("s", "x")
    assert cfgutils.set_select_weight(ctx, PvHandle(ctx, "avp", "s")) == -1
    assert cfgutils.set_select_weight(ctx, PvHandle(ctx, "avp", "none")) == -1
    ctx.avp.push("one", 5)
    assert cfgutils.set_select_weight(ctx, PvHandle(ctx, "avp", "one")) == 0


def test_shuffle_avps_keeps_the_values_in_another_order() -> None:
    ctx, _ = context(OPTIONS)
    for value in range(20):
        ctx.avp.push("foo", value)
    before = ctx.avp.get_all("foo")
    assert cfgutils.shuffle_avps(ctx, PvHandle(ctx, "avp", "foo")) == 1
    after = ctx.avp.get_all("foo")
    assert sorted(after) == sorted(before) and after != before  # type: ignore[type-var]
    assert cfgutils.shuffle_avps(ctx, PvHandle(ctx, "var", "x")) == -1


# ---------------------------------------------------------------------- check_time_rec


def ts(text: str, zone: str = "UTC") -> int:
    return int(datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo(zone)).timestamp())


def rec(expr: str, when: str, zone: str = "UTC") -> int:
    ctx, _ = context(OPTIONS)
    return cfgutils.check_time_rec(ctx, expr, ts(when, zone))


def test_a_plain_interval_and_durations() -> None:
    year = "UTC|20120101T000000|20130101T000000"
    assert rec(year, "20120615T120000") == 1
    assert rec(year, "20130101T000000") == -1  # dtend is excluded
    assert rec(year, "20111231T235959") == -1
    assert rec("UTC|20121101T000000||p30d", "20121130T235959") == 1
    assert rec("UTC|20121101T000000||P30D", "20121201T000000") == -1
    assert rec("UTC|20121101T080000||PT1H30M", "20121101T092959") == 1
    assert rec("UTC|20121101T080000||PT1H30M", "20121101T093000") == -1
    assert rec("UTC|20121101T080000", "20500101T000000") == 1  # no end: for ever


def test_timezones_decide_the_wall_clock() -> None:
    bucharest = "Europe/Bucharest|20120101T000000|20130101T000000"
    assert rec(bucharest, "20111231T230000", "UTC") == 1  # already 2012 in Bucharest
    assert rec(bucharest, "20121231T223000", "UTC") == -1  # already 2013 there
    assert rec("America/New_York|20210104T090000|20210104T170000", "20210104T143000") == 1
    assert rec("America/New_York|20210104T090000|20210104T170000", "20210104T133000") == -1


def test_weekly_working_hours_with_a_lunch_break() -> None:
    work = "UTC|20210104T080000|20210104T180000||WEEKLY|||MO,TU,WE,TH,FR"
    lunch = "UTC|20210104T120000|20210104T140000||WEEKLY|||MO,TU,WE,TH,FR"
    expr = f"{work} & !{lunch}"
    assert rec(expr, "20210317T093000") == 1  # a Wednesday morning
    assert rec(expr, "20210317T123000") == -1  # lunch
    assert rec(expr, "20210317T190000") == -1  # evening
    assert rec(expr, "20210320T093000") == -1  # Saturday
    assert rec(expr, "20210104T075959") == -1  # before dtstart


def test_daily_windows_that_cross_midnight_and_intervals() -> None:
    night = "UTC|20200101T220000|20200102T020000||DAILY"
    assert rec(night, "20200615T230000") == 1 and rec(night, "20200616T013000") == 1
    assert rec(night, "20200616T030000") == -1
    every_other = "UTC|20200101T000000|20200101T235959||DAILY||2"
    assert rec(every_other, "20200103T100000") == 1 and rec(every_other, "20200104T100000") == -1
    biweekly = "UTC|20200106T090000|20200106T100000||WEEKLY||2"  # Mondays, every 2 weeks
    assert rec(biweekly, "20200120T093000") == 1 and rec(biweekly, "20200113T093000") == -1
    until = "UTC|20200101T090000|20200101T100000||DAILY|20200110T000000"
    assert rec(until, "20200109T093000") == 1 and rec(until, "20200110T093000") == -1


def test_monthly_and_yearly_by_lists() -> None:
    last_friday = "UTC|20200101T000000|20200101T235959||MONTHLY|||-1FR"
    assert rec(last_friday, "20200131T120000") == 1  # the last Friday of January 2020
    assert rec(last_friday, "20200124T120000") == -1
    second_monday = "UTC|20200101T000000|20200101T235959||MONTHLY|||2MO"
    assert (
        rec(second_monday, "20200413T120000") == 1 and rec(second_monday, "20200406T120000") == -1
    )
    payday = "UTC|20200101T000000|20200101T235959||MONTHLY||||15,-1"
    assert rec(payday, "20200215T100000") == 1 and rec(payday, "20200229T100000") == 1
    assert rec(payday, "20200228T100000") == -1
    kings_day = "UTC|20200101T000000|20200101T235959||YEARLY|||||||4"
    assert rec(kings_day + "", "20210427T100000") == -1  # bymonth alone: April only
    april_27 = "UTC|20200101T000000|20200101T235959||YEARLY||||27|||4"
    assert rec(april_27, "20210427T100000") == 1 and rec(april_27, "20210428T100000") == -1
    assert rec("UTC|20200101T000000|20200101T235959||YEARLY|||||-1", "20201231T100000") == 1
    week_one = "UTC|20200101T000000|20200101T235959||YEARLY||||||1"
    assert rec(week_one, "20210106T100000") == 1 and rec(week_one, "20210113T100000") == -1


def test_expressions_and_parse_errors() -> None:
    nl = "Europe/Amsterdam|20210427T000000|20210428T000000"
    uk = "Europe/London|20211227T000000|20211228T000000"
    holidays = f"!({nl} / {uk})"
    assert rec(holidays, "20210427T120000", "Europe/Amsterdam") == -1
    assert rec(holidays, "20211227T120000", "Europe/London") == -1
    assert rec(holidays, "20210428T120000", "Europe/Amsterdam") == 1
    assert rec(f"{nl}/{uk}", "20211227T120000", "Europe/London") == 1  # no spaces needed
    assert rec(f"{nl} & {uk} / {nl}", "20210427T120000") == -2  # & and / mixed
    assert rec("UTC|2012|20130101T000000", "20120101T000000") == -2
    assert rec("UTC|20120101T000000||||20130101T000000", "20120101T000000") == -2  # until, no freq
    assert rec("Mars/Olympus|20120101T000000", "20120101T000000") == -2
    assert rec("(UTC|20120101T000000", "20120101T000000") == -2
    assert rec("", "20120101T000000") == -2


# ---------------------------------------------------------------------- script locks


def test_a_static_lock_is_held_across_suspensions_and_handed_over_in_order() -> None:
    LOCKS.reset()
    order: list[str] = []

    async def run(name: str, hold: float) -> None:
        ctx, _ = context(OPTIONS)
        assert await cfgutils.get_static_lock(ctx, "zone") == 1
        order.append(f"{name} in")
        await asyncio.sleep(hold)  # a suspension point inside the locked region
        order.append(f"{name} out")
        assert cfgutils.release_static_lock(ctx, "zone") == 1

    async def main() -> None:
        await asyncio.gather(run("a", 0.02), run("b", 0.0), run("c", 0.0))

    asyncio.run(main())
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert LOCKS.static_lock("zone").owner is None


def test_taking_a_held_lock_twice_is_refused_instead_of_deadlocking() -> None:
    LOCKS.reset()

    async def main() -> None:
        ctx, _ = context(OPTIONS)
        assert await cfgutils.get_static_lock(ctx, "k") == 1
        assert await cfgutils.get_static_lock(ctx, "k") == -1
        assert await cfgutils.get_static_lock(ctx, "other") == 1  # another key, another lock
        assert cfgutils.release_static_lock(ctx, "k") == 1
        assert cfgutils.release_static_lock(ctx, "k") == 1  # nothing held: nothing happens

    asyncio.run(main())


def test_dynamic_locks_share_the_pool_slot_their_keys_hash_to() -> None:
    LOCKS.reset()
    set_modparam("cfgutils", "lock_pool_size", 4)
    keys = [f"call-{i}" for i in range(40)]
    slots = {key: LOCKS.dynamic_index(key, 4) for key in keys}
    first = keys[0]
    twin = next(k for k in keys[1:] if slots[k] == slots[first])
    stranger = next(k for k in keys[1:] if slots[k] != slots[first])

    async def main() -> None:
        one, _ = context(OPTIONS)
        two, _ = context(OPTIONS)
        assert await cfgutils.get_dynamic_lock(one, first) == 1
        assert await cfgutils.get_dynamic_lock(two, stranger) == 1  # another slot: free
        waiting = asyncio.ensure_future(cfgutils.get_dynamic_lock(two, twin))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # the same slot as `first`: it waits
        cfgutils.release_dynamic_lock(one, first)
        assert await waiting == 1
        cancelled = asyncio.ensure_future(cfgutils.get_dynamic_lock(one, twin))
        await asyncio.sleep(0)
        cancelled.cancel()  # a waiter that gives up leaves the queue
        await asyncio.gather(cancelled, return_exceptions=True)
        cfgutils.release_dynamic_lock(two, twin)
        assert LOCKS.dynamic_lock(twin, 4).owner is None

    asyncio.run(main())
