"""The location store interface and the memory store every other store builds on.

Theory of operation. A store holds the bindings of one location table (`save("location")`
names the table), keyed by address-of-record. Reads are always served from memory; a
persistent store (`SqliteStore`) writes each change through to its database as it
happens and loads the unexpired rows back when it opens, so memory is a cache that is
never behind the database.

Time is an input: nothing here starts a thread or a timer. The runtime's timer calls
`expire(now)` every usrloc `timer_interval` seconds; it removes the bindings whose
absolute expiry has passed (an E_UL_CONTACT_DELETE each) and, when `refresh_before` is
set (usrloc `contact_refresh_timer`), raises E_UL_CONTACT_REFRESH once for each binding
that will expire within that many seconds. Expiry times sit on a heap, so a tick costs
the contacts that actually expire, not a scan of the table.

Events: a store calls `on_event(name, attributes)` when it is set (None by default),
synchronously, after the change is made. The event bus is wired here by the runtime;
attribute names follow OpenSIPS (see `event_attributes`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Protocol

from runtime.usrloc.contact import (
    E_UL_AOR_DELETE,
    E_UL_AOR_INSERT,
    E_UL_CONTACT_DELETE,
    E_UL_CONTACT_INSERT,
    E_UL_CONTACT_REFRESH,
    E_UL_CONTACT_UPDATE,
    PERMANENT,
    Contact,
    EventHook,
    EventValue,
    event_attributes,
)


class StoreError(Exception):
    """The store cannot do what was asked (a database that is unreachable or out of date)."""


class LocationStore(Protocol):
    """What the registrar and the runtime need from a location table."""

    table: str
    on_event: EventHook | None

    def lookup(self, aor: str, now: float) -> list[Contact]:
        """The bindings of `aor` still valid at `now`, least recently changed first."""

    def insert(self, contact: Contact) -> Contact:
        """Add a binding; returns it with its `contact_id` set."""

    def update(self, contact: Contact) -> None:
        """Replace the binding with the same `contact_id` (it becomes the most recent)."""

    def delete(self, contact: Contact) -> None:
        """Remove the binding with this `contact_id`."""

    def expire(self, now: float) -> int:
        """Remove every binding expired at `now`; how many were removed."""

    def contacts(self) -> Iterator[Contact]:
        """Every binding, expired-but-not-yet-purged ones included."""

    def aors(self) -> list[str]:
        """Every address-of-record with at least one binding."""

    def aor_keys(self, aor: str) -> dict[str, str] | None:
        """The key/value store of a registered AOR (`ul_add_key`); None when not registered."""

    def close(self) -> None:
        """Release the database, if any."""


class MemoryStore:
    """Bindings in a dict of lists; the default store (usrloc `db_mode` 0)."""

    def __init__(
        self,
        table: str = "location",
        *,
        on_event: EventHook | None = None,
        refresh_before: int = 0,
    ) -> None:
        self.table = table
        self.on_event = on_event
        self.refresh_before = refresh_before
        self._records: dict[str, list[Contact]] = {}
        self._by_id: dict[int, Contact] = {}
        self._keys: dict[str, dict[str, str]] = {}
        # (expires, contact_id): stale entries are skipped when popped
        self._expiry: list[tuple[int, int]] = []
        self._refresh: list[tuple[int, int]] = []
        self._next_id = 1

    # ------------------------------------------------------------------ reads

    def lookup(self, aor: str, now: float) -> list[Contact]:
        bindings = self._records.get(aor)
        if not bindings:
            return []
        return [c for c in bindings if c.expires == PERMANENT or c.expires > now]

    def contacts(self) -> Iterator[Contact]:
        for bindings in list(self._records.values()):
            yield from list(bindings)

    def aors(self) -> list[str]:
        return list(self._records)

    def aor_keys(self, aor: str) -> dict[str, str] | None:
        if aor not in self._records:
            return None
        return self._keys.setdefault(aor, {})

    def __len__(self) -> int:
        return len(self._by_id)

    # ------------------------------------------------------------------ writes

    def insert(self, contact: Contact) -> Contact:
        contact.contact_id = self._new_id()
        self._write_insert(contact)
        self._add(contact)
        bindings = self._records.get(contact.aor)
        if bindings is None:
            bindings = self._records[contact.aor] = []
            self._emit_aor(E_UL_AOR_INSERT, contact.aor)
        bindings.append(contact)
        self._emit(E_UL_CONTACT_INSERT, contact)
        return contact

    def update(self, contact: Contact) -> None:
        old = self._by_id.get(contact.contact_id)
        if old is None:
            raise StoreError(f"no contact {contact.contact_id} in table `{self.table}`")
        self._write_update(contact)
        bindings = self._records[old.aor]
        bindings.remove(old)
        bindings.append(contact)
        self._by_id[contact.contact_id] = contact
        if contact.expires != old.expires:
            contact.refreshed = False
            self._schedule(contact)
        self._emit(E_UL_CONTACT_UPDATE, contact)

    def delete(self, contact: Contact) -> None:
        stored = self._by_id.get(contact.contact_id)
        if stored is None:
            return
        self._write_delete([stored])
        self._forget(stored)

    def expire(self, now: float) -> int:
        self._raise_refreshes(now)
        expired: dict[int, Contact] = {}
        heap = self._expiry
        while heap and heap[0][0] <= now:
            expires, contact_id = heapq.heappop(heap)
            contact = self._by_id.get(contact_id)
            if contact is not None and contact.expires == expires:
                expired[contact_id] = contact
        if expired:
            self._write_delete(list(expired.values()))
            for contact in expired.values():
                self._forget(contact)
        return len(expired)

    def close(self) -> None:
        """Nothing to release in memory."""

    # ------------------------------------------------------------------ persistence hooks

    def _write_insert(self, contact: Contact) -> None:
        """Write a new binding to the database (nothing in memory)."""

    def _write_update(self, contact: Contact) -> None:
        """Write a changed binding to the database."""

    def _write_delete(self, contacts: list[Contact]) -> None:
        """Remove bindings from the database."""

    # ------------------------------------------------------------------ internals

    def _new_id(self) -> int:
        contact_id = self._next_id
        self._next_id += 1
        return contact_id

    def _add(self, contact: Contact) -> None:
        """Index a binding by id and schedule its expiry (and refresh)."""
        self._by_id[contact.contact_id] = contact
        self._schedule(contact)

    def _schedule(self, contact: Contact) -> None:
        if contact.expires != PERMANENT:
            heapq.heappush(self._expiry, (contact.expires, contact.contact_id))
            if self.refresh_before > 0:
                heapq.heappush(self._refresh, (contact.expires, contact.contact_id))

    def _load(self, contact: Contact) -> None:
        """Take a binding read back from the database, silently (no event, no write)."""
        self._next_id = max(self._next_id, contact.contact_id + 1)
        self._add(contact)
        self._records.setdefault(contact.aor, []).append(contact)

    def _forget(self, contact: Contact) -> None:
        del self._by_id[contact.contact_id]
        bindings = self._records[contact.aor]
        bindings.remove(contact)
        self._emit(E_UL_CONTACT_DELETE, contact)
        if not bindings:
            del self._records[contact.aor]
            self._keys.pop(contact.aor, None)
            self._emit_aor(E_UL_AOR_DELETE, contact.aor)

    def _raise_refreshes(self, now: float) -> None:
        heap = self._refresh
        horizon = now + self.refresh_before
        while heap and heap[0][0] <= horizon:
            expires, contact_id = heapq.heappop(heap)
            contact = self._by_id.get(contact_id)
            if contact is None or contact.expires != expires or contact.refreshed:
                continue
            contact.refreshed = True
            if self.on_event is not None and expires > now:
                attrs = event_attributes(self.table, contact)
                attrs["reason"] = "expiring"
                attrs["req_callid"] = None
                self.on_event(E_UL_CONTACT_REFRESH, attrs)

    def _emit(self, name: str, contact: Contact) -> None:
        if self.on_event is not None:
            self.on_event(name, event_attributes(self.table, contact))

    def _emit_aor(self, name: str, aor: str) -> None:
        if self.on_event is not None:
            attrs: Mapping[str, EventValue] = {"domain": self.table, "aor": aor}
            self.on_event(name, attrs)
