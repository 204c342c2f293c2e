"""Script locks for cfgutils' get/release_static_lock and get/release_dynamic_lock.

OpenSIPS's script locks are process locks: a worker that takes one keeps it until it
releases it, and another worker asking for it blocks. sipc runs every script run as a
coroutine on one event loop, so a lock here is owned by a script run (its `Ctx`, the
same object before and after the run suspends) and is held across every suspension
point of that run (sleep, async(), a database answer...). A run asking for a lock that
another run holds waits (the route suspends) until it is released, in the order the
waiters came; the release hands the lock to the next waiter directly.

Semantics as documented by OpenSIPS, with one difference:
- taking a lock the same run already holds would deadlock the OpenSIPS process; sipc
  logs an error and answers -1 instead (the run goes on without the lock);
- releasing a lock nobody holds does nothing; releasing one another run holds releases
  it (OpenSIPS does not track owners either), with a warning;
- a lock a run never releases stays held, as in OpenSIPS: later takers wait for ever.
- a route that cannot suspend (branch, failure, onreply: they run inside a transaction
  step) takes a free lock at once; when the lock is held, it cannot wait: the runtime
  stops the route (logged), and its place in the queue is given up.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import deque

log = logging.getLogger("sipc.cfgutils")


class ScriptLock:
    """One lock: its owner (a script run's context) and the runs waiting for it."""

    __slots__ = ("name", "owner", "waiters")

    def __init__(self, name: str) -> None:
        self.name = name
        self.owner: object | None = None
        self.waiters: deque[tuple[object, asyncio.Future[None]]] = deque()

    async def acquire(self, run: object) -> int:
        if self.owner is None:
            self.owner = run
            return 1
        if self.owner is run:
            log.error("lock %s is already held by this script run: taking it again would "
                      "deadlock (OpenSIPS would hang the process); not taken", self.name)  # fmt: skip
            return -1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (run, future)
        self.waiters.append(entry)
        acquired = False
        try:
            await future
            acquired = True
        finally:
            if not acquired:  # cancelled, or the route was stopped: leave the queue
                if entry in self.waiters:
                    self.waiters.remove(entry)
                elif self.owner is run:  # handed over just as we gave up: pass it on
                    self.release(run)
        return 1

    def release(self, run: object) -> int:
        if self.owner is None:
            return 1
        if self.owner is not run:
            log.warning("lock %s released by a script run that does not hold it", self.name)
        while self.waiters:
            waiter, future = self.waiters.popleft()
            if not future.done():
                self.owner = waiter
                future.set_result(None)
                return 1
        self.owner = None
        return 1


class LockTable:
    """The static locks (one per distinct key) and the pool of dynamic ones."""

    def __init__(self) -> None:
        self.static: dict[str, ScriptLock] = {}
        self.dynamic: list[ScriptLock] = []

    def static_lock(self, key: str) -> ScriptLock:
        lock = self.static.get(key)
        if lock is None:
            lock = self.static[key] = ScriptLock(f"static:{key}")
        return lock

    def dynamic_index(self, key: str, pool_size: int) -> int:
        """The pool slot of `key`: equal for keys that share a lock."""
        return zlib.crc32(key.encode("utf-8", "surrogateescape")) % max(1, pool_size)

    def dynamic_lock(self, key: str, pool_size: int) -> ScriptLock:
        size = max(1, pool_size)
        if len(self.dynamic) != size:  # made on first use, at the modparam's size
            self.dynamic = [ScriptLock(f"dynamic:{i}") for i in range(size)]
        return self.dynamic[self.dynamic_index(key, size)]

    def reset(self) -> None:
        self.static.clear()
        self.dynamic = []


LOCKS = LockTable()
