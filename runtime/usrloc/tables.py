"""The location tables of this process, and how usrloc's modparams choose a store.

`TABLES` is the one registry per process: the registrar asks it for a table by name
(`save("location")`), it opens the table on first use with the opener it was configured
with, and the runtime drives it from outside:

* the expiry timer calls `TABLES.expire(now)` every `TABLES.timer_interval` seconds
  (usrloc's `timer_interval`, copied here when the script's modparams configure the
  tables);
* the event bus, when it exists, sets `TABLES.set_event_hook(hook)`: every table,
  opened already or later, then reports E_UL_* events to `hook(name, attributes)`;
* at shutdown, `TABLES.close()`.

Tests swap a table with `TABLES.install(name, store)` and the clock with `TABLES.clock`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runtime.usrloc.contact import EventHook
from runtime.usrloc.sqlite import SqliteStore
from runtime.usrloc.store import LocationStore, MemoryStore, StoreError

StoreOpener = Callable[[str], LocationStore]

_PRESETS_WITHOUT_DB = ("single-instance-no-db",)
DEFAULT_TIMER_INTERVAL = 60  # seconds, usrloc's default


@dataclass(frozen=True, slots=True)
class UsrlocSettings:
    """The usrloc modparams that decide where bindings live."""

    db_mode: int = 0
    db_url: str | None = None
    working_mode_preset: str | None = None
    refresh_before: int = 0

    @property
    def writes_database(self) -> bool:
        if self.working_mode_preset:
            return self.working_mode_preset.strip().lower() not in _PRESETS_WITHOUT_DB
        return self.db_mode != 0


def sqlite_path(db_url: str) -> Path:
    """`sqlite:///abs/path/file.db` (OpenSIPS's db_sqlite form) -> the file's path."""
    scheme, sep, rest = db_url.partition("://")
    if not sep or scheme.lower() != "sqlite" or not rest:
        raise StoreError(f"`{db_url}` is not a sqlite:// URL (sipc stores usrloc in SQLite)")
    return Path(rest)


def open_store(settings: UsrlocSettings, table: str) -> LocationStore:
    """The store a table gets under these settings: memory, or memory written through to
    the database of `db_url` (every `db_mode` but 0; 2 and 3 are served like 1)."""
    if not settings.writes_database:
        return MemoryStore(table, refresh_before=settings.refresh_before)
    if not settings.db_url:
        raise StoreError("usrloc writes to a database (db_mode != 0) but no `db_url` is set")
    return SqliteStore(sqlite_path(settings.db_url), table, refresh_before=settings.refresh_before)


class LocationTables:
    """Location tables by name, opened on first use."""

    def __init__(self) -> None:
        self._stores: dict[str, LocationStore] = {}
        self._opener: StoreOpener | None = None
        self._hook: EventHook | None = None
        self.clock: Callable[[], float] = time.time
        self.timer_interval = DEFAULT_TIMER_INTERVAL

    @property
    def configured(self) -> bool:
        return self._opener is not None

    def configure(self, opener: StoreOpener) -> None:
        """How tables not opened yet will be opened."""
        self._opener = opener

    def get(self, table: str) -> LocationStore:
        store = self._stores.get(table)
        if store is None:
            opener = self._opener or (lambda name: MemoryStore(name))
            store = self._stores[table] = opener(table)
            store.on_event = self._hook
        return store

    def install(self, table: str, store: LocationStore) -> None:
        """Use `store` for `table` (tests; a store built by hand)."""
        old = self._stores.get(table)
        if old is not None and old is not store:
            old.close()
        if store.on_event is None:
            store.on_event = self._hook
        self._stores[table] = store

    def set_event_hook(self, hook: EventHook | None) -> None:
        self._hook = hook
        for store in self._stores.values():
            store.on_event = hook

    def expire(self, now: float | None = None) -> int:
        """The timer's entry point: purge expired bindings from every table."""
        at = self.clock() if now is None else now
        return sum(store.expire(at) for store in self._stores.values())

    def tables(self) -> dict[str, LocationStore]:
        return dict(self._stores)

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def reset(self) -> None:
        """Close every table and forget the configuration (tests, a script reload)."""
        self.close()
        self._opener = None
        self._hook = None
        self.clock = time.time
        self.timer_interval = DEFAULT_TIMER_INTERVAL


TABLES = LocationTables()
