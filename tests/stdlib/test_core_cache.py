"""The core cache_* functions over the local cachedb: values, expiry, counters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime.api import Ctx
from stdlib import cachedb_local
from stdlib.cachedb_local import LocalCache
from stdlib.testing import context

INVITE = """
OPTIONS sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds
To: <sip:bob@example.com>
From: <sip:alice@example.org>;tag=a1
Call-ID: cache-1
CSeq: 1 OPTIONS
Content-Length: 0

"""


class Box:
    """An output variable."""

    def __init__(self) -> None:
        self.value: int | str | None = None

    def set(self, value: int | str | None) -> None:
        self.value = value


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(cachedb_local, "LOCAL", LocalCache(fake))
    yield fake


def fresh() -> Ctx:
    return context(INVITE)[0]


def test_store_fetch_remove(clock: Clock) -> None:
    ctx, out = fresh(), Box()
    assert cachedb_local.cache_fetch(ctx, "local", "k", out) == -2 and out.value is None
    assert cachedb_local.cache_store(ctx, "local", "k", "v1") == 1
    assert cachedb_local.cache_store(ctx, "local", "k", "v2") == 1  # replaces
    assert cachedb_local.cache_fetch(ctx, "local", "k", out) == 1 and out.value == "v2"
    assert cachedb_local.cache_remove(ctx, "local", "k") == 1
    assert cachedb_local.cache_remove(ctx, "local", "k") == 1  # absent: still fine
    assert cachedb_local.cache_fetch(ctx, "local", "k", out) == -2


def test_values_expire(clock: Clock) -> None:
    ctx, out = fresh(), Box()
    cachedb_local.cache_store(ctx, "local", "short", "x", 10)
    cachedb_local.cache_store(ctx, "local", "forever", "y", 0)
    clock.now += 9
    assert cachedb_local.cache_fetch(ctx, "local", "short", out) == 1
    clock.now += 2
    assert cachedb_local.cache_fetch(ctx, "local", "short", out) == -2
    assert cachedb_local.cache_fetch(ctx, "local", "forever", out) == 1 and out.value == "y"
    assert "short" not in cachedb_local.LOCAL.entries  # dropped when met


def test_counters(clock: Clock) -> None:
    ctx, new, out = fresh(), Box(), Box()
    assert cachedb_local.cache_add(ctx, "local", "calls", 5, 60, new) == 1 and new.value == 5
    assert cachedb_local.cache_add(ctx, "local", "calls", 2, 0, new) == 1 and new.value == 7
    assert cachedb_local.cache_sub(ctx, "local", "calls", 10, 0, new) == 1 and new.value == -3
    assert cachedb_local.cache_counter_fetch(ctx, "local", "calls", out) == 1
    assert out.value == -3
    clock.now += 61  # the expiry of the first add stays with the counter
    assert cachedb_local.cache_counter_fetch(ctx, "local", "calls", out) == -2
    cachedb_local.cache_store(ctx, "local", "text", "abc")
    assert cachedb_local.cache_add(ctx, "local", "text", 1, 0) == -1
    assert cachedb_local.cache_counter_fetch(ctx, "local", "text", out) == -1
    assert cachedb_local.cache_sub(ctx, "local", "new", 4, 0) == 1
    assert cachedb_local.cache_counter_fetch(ctx, "local", "new", out) == 1 and out.value == -4


def test_unknown_storage_and_empty_keys_are_errors(clock: Clock) -> None:
    ctx, out = fresh(), Box()
    assert cachedb_local.cache_store(ctx, "redis", "k", "v") == -1
    assert cachedb_local.cache_store(ctx, "local:group1", "k", "v") == -1
    assert cachedb_local.cache_store(ctx, "local", "", "v") == -1
    assert cachedb_local.cache_fetch(ctx, "redis", "k", out) == -1


def test_the_sweep_drops_expired_keys(clock: Clock) -> None:
    cache = cachedb_local.LOCAL
    cache.store("old", "1", 1)
    clock.now += 5
    for i in range(cachedb_local._SWEEP_EVERY):
        cache.store(f"k{i}", "v")
    assert "old" not in cache.entries and len(cache.entries) == cachedb_local._SWEEP_EVERY
