"""The core `cache_*` functions over the `local` cachedb (OpenSIPS's `cachedb_local`).

An in-memory key/value store with expiry, one per process (OpenSIPS shares it between
its worker processes; one sipc worker is one process). `cache_store("local", key, value,
expires)`: `expires` in seconds, 0 or absent for never. An expired key reads as absent
and is dropped when met, and by a sweep every `_SWEEP_EVERY` writes. Counters are values
that read as integers: `cache_add` creates a missing one with the increment and keeps
the expiry of an existing one, as cachedb_local does.

Storage ids name an engine and, after `:`, a connection group (`"local:grp"`); only the
engine `local` exists here and only its default collection: any other id is an error
(-1), as an unknown engine is in OpenSIPS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from runtime.api import Ctx, RouteKind
from stdlib._registry import Out, export

ALL = RouteKind.ALL
log = logging.getLogger("sipc.cachedb")

NOT_FOUND = -2  # cachedb_local's code for a missing (or expired) key
_SWEEP_EVERY = 1024


class LocalCache:
    """Keys to (value, expiry on the monotonic clock; 0.0 = never)."""

    __slots__ = ("clock", "entries", "writes")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[str, tuple[str, float]] = {}
        self.writes = 0

    def _deadline(self, expires: int) -> float:
        return self.clock() + expires if expires > 0 else 0.0

    def store(self, key: str, value: str, expires: int = 0) -> None:
        self.entries[key] = (value, self._deadline(expires))
        self.writes += 1
        if self.writes % _SWEEP_EVERY == 0:
            self.sweep()

    def fetch(self, key: str) -> str | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        value, deadline = entry
        if deadline and deadline < self.clock():
            del self.entries[key]
            return None
        return value

    def remove(self, key: str) -> None:
        self.entries.pop(key, None)

    def add(self, key: str, delta: int, expires: int) -> int | None:
        """The new value of the counter; None when the value is not an integer."""
        old = self.fetch(key)
        if old is None:
            self.store(key, str(delta), expires)
            return delta
        try:
            new = int(old.strip()) + delta
        except ValueError:
            return None
        self.entries[key] = (str(new), self.entries[key][1])  # the expiry stays
        return new

    def sweep(self) -> None:
        now = self.clock()
        for key in [k for k, (_, d) in self.entries.items() if d and d < now]:
            del self.entries[key]


LOCAL = LocalCache()
"""The store of this process."""


def _cache(storage_id: str) -> LocalCache | None:
    engine, _, group = storage_id.partition(":")
    if engine == "local" and not group:
        return LOCAL
    log.error('cachedb: no cachedb system for %r (only "local" is implemented)', storage_id)
    return None


def _open(storage_id: str, attribute: str) -> LocalCache | None:
    """The store `storage_id` names, for a non-empty `attribute`; None (logged) if not."""
    if not attribute:
        log.error("cachedb: the attribute cannot be empty")
        return None
    return _cache(storage_id)


@export(routes=ALL, module="core")
def cache_store(
    ctx: Ctx, storage_id: str, attribute: str, value: str, timeout: int | None = None
) -> int:
    """Store `value` under `attribute` for `timeout` seconds (0 or absent: for ever)."""
    cache = _open(storage_id, attribute)
    if cache is None:
        return -1
    cache.store(attribute, value, timeout or 0)
    return 1


@export(routes=ALL, module="core")
def cache_remove(ctx: Ctx, storage_id: str, attribute: str) -> int:
    cache = _open(storage_id, attribute)
    if cache is None:
        return -1
    cache.remove(attribute)
    return 1


@export(routes=ALL, module="core")
def cache_fetch(ctx: Ctx, storage_id: str, attribute: str, result: Out[str]) -> int:
    """1 and the value in `result`; -2 when the key is absent or expired, -1 on error."""
    cache = _open(storage_id, attribute)
    if cache is None:
        return -1
    value = cache.fetch(attribute)
    if value is None:
        return NOT_FOUND
    result.set(value)
    return 1


@export(routes=ALL, module="core")
def cache_counter_fetch(ctx: Ctx, storage_id: str, counter_attribute: str, result: Out[int]) -> int:
    """The value of a counter as an integer; -2 absent, -1 not an integer."""
    cache = _open(storage_id, counter_attribute)
    if cache is None:
        return -1
    value = cache.fetch(counter_attribute)
    if value is None:
        return NOT_FOUND
    try:
        number = int(value.strip())
    except ValueError:
        log.error("cachedb: the value of %r is not an integer", counter_attribute)
        return -1
    result.set(number)
    return 1


def _change(
    storage_id: str, attribute: str, delta: int, expire: int, new_val: Out[int] | None
) -> int:
    cache = _open(storage_id, attribute)
    if cache is None:
        return -1
    new = cache.add(attribute, delta, expire)
    if new is None:
        log.error("cachedb: the value of %r is not an integer", attribute)
        return -1
    if new_val is not None:
        new_val.set(new)
    return 1


@export(routes=ALL, module="core")
def cache_add(
    ctx: Ctx,
    storage_id: str,
    attribute: str,
    increment: int,
    expire: int,
    new_val: Out[int] | None = None,
) -> int:
    """Add to a counter (made with `increment` and `expire` when missing)."""
    return _change(storage_id, attribute, increment, expire, new_val)


@export(routes=ALL, module="core")
def cache_sub(
    ctx: Ctx,
    storage_id: str,
    attribute: str,
    decrement: int,
    expire: int,
    new_val: Out[int] | None = None,
) -> int:
    """Subtract from a counter (made with `-decrement` and `expire` when missing)."""
    return _change(storage_id, attribute, -decrement, expire, new_val)
