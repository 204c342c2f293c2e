"""cfgutils: probabilities, pauses, time helpers."""

from __future__ import annotations

import asyncio
import time

from stdlib import cfgutils
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
