"""The location stores: memory and SQLite (a real file), expiry as an input, events."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from runtime.usrloc import (
    E_UL_AOR_DELETE,
    E_UL_AOR_INSERT,
    E_UL_CONTACT_DELETE,
    E_UL_CONTACT_INSERT,
    E_UL_CONTACT_REFRESH,
    E_UL_CONTACT_UPDATE,
    LOCATION_TABLE_VERSION,
    PERMANENT,
    Q_UNSPECIFIED,
    TABLES,
    Contact,
    EventValue,
    LocationStore,
    MemoryStore,
    SqliteStore,
    StoreError,
    UsrlocSettings,
    methods_mask,
    open_store,
)

NOW = 1_800_000_000


def contact(uri: str, aor: str = "alice", expires: int = NOW + 3600, **fields: object) -> Contact:
    return Contact(aor=aor, uri=uri, expires=expires, **fields)  # type: ignore[arg-type]


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, EventValue]]] = []

    def __call__(self, name: str, attrs: Mapping[str, EventValue]) -> None:
        self.seen.append((name, dict(attrs)))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]


StoreFactory = Callable[[], LocationStore]


@pytest.fixture(params=["memory", "sqlite"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    opened: list[LocationStore] = []

    def factory() -> LocationStore:
        store: LocationStore
        if request.param == "memory":
            store = MemoryStore("location")
        else:
            store = SqliteStore(tmp_path / "usrloc.db", "location", now=NOW)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


def test_insert_lookup_update_delete(new_store: StoreFactory) -> None:
    store = new_store()
    first = store.insert(contact("sip:alice@10.0.0.1", q=500, callid="c1", cseq=1))
    second = store.insert(contact("sip:alice@10.0.0.2", callid="c2", cseq=7))
    store.insert(contact("sip:bob@10.0.0.3", aor="bob"))
    assert first.contact_id != second.contact_id
    assert [c.uri for c in store.lookup("alice", NOW)] == [
        "sip:alice@10.0.0.1",
        "sip:alice@10.0.0.2",
    ]
    store.update(dataclasses.replace(first, cseq=2, expires=NOW + 60))
    found = store.lookup("alice", NOW)
    # an update makes the binding the most recently changed one
    assert [c.uri for c in found] == ["sip:alice@10.0.0.2", "sip:alice@10.0.0.1"]
    assert (found[1].cseq, found[1].expires) == (2, NOW + 60)
    store.delete(second)
    assert [c.uri for c in store.lookup("alice", NOW)] == ["sip:alice@10.0.0.1"]
    assert sorted(store.aors()) == ["alice", "bob"]
    assert store.lookup("carol", NOW) == []


def test_expire_removes_only_what_has_expired(new_store: StoreFactory) -> None:
    store = new_store()
    store.insert(contact("sip:a@10.0.0.1", expires=NOW + 10))
    store.insert(contact("sip:a@10.0.0.2", expires=NOW + 100))
    store.insert(contact("sip:a@10.0.0.3", expires=PERMANENT))
    # an expired binding is invisible to lookups before the timer purges it
    assert [c.uri for c in store.lookup("alice", NOW + 50)] == ["sip:a@10.0.0.2", "sip:a@10.0.0.3"]
    assert store.expire(NOW + 9) == 0
    assert store.expire(NOW + 10) == 1
    assert len(list(store.contacts())) == 2
    assert store.expire(NOW + 10_000) == 1
    assert [c.uri for c in store.contacts()] == ["sip:a@10.0.0.3"]


def test_a_refreshed_binding_is_not_expired_at_its_old_time(new_store: StoreFactory) -> None:
    store = new_store()
    binding = store.insert(contact("sip:a@10.0.0.1", expires=NOW + 10))
    store.update(dataclasses.replace(binding, expires=NOW + 500))
    assert store.expire(NOW + 100) == 0
    assert store.expire(NOW + 500) == 1


def test_events_carry_the_contact_attributes() -> None:
    events = Events()
    store = MemoryStore("location", on_event=events)
    binding = store.insert(
        contact("sip:alice@10.0.0.1", received="sip:203.0.113.5:4000", callid="c1", cseq=3)
    )
    store.update(dataclasses.replace(binding, cseq=4))
    store.expire(NOW + 3600)
    assert events.names() == [
        E_UL_AOR_INSERT,
        E_UL_CONTACT_INSERT,
        E_UL_CONTACT_UPDATE,
        E_UL_CONTACT_DELETE,
        E_UL_AOR_DELETE,
    ]
    _name, attrs = events.seen[1]
    assert attrs["aor"] == "alice" and attrs["uri"] == "sip:alice@10.0.0.1"
    assert attrs["received"] == "sip:203.0.113.5:4000"
    assert (attrs["callid"], attrs["cseq"], attrs["expires"]) == ("c1", 3, NOW + 3600)
    assert attrs["domain"] == "location"
    assert events.seen[2][1]["cseq"] == 4
    assert events.seen[4][1] == {"domain": "location", "aor": "alice"}


def test_refresh_event_once_before_expiry() -> None:
    events = Events()
    store = MemoryStore("location", on_event=events, refresh_before=30)
    store.insert(contact("sip:a@10.0.0.1", expires=NOW + 100))
    store.expire(NOW + 60)
    assert E_UL_CONTACT_REFRESH not in events.names()
    store.expire(NOW + 75)
    store.expire(NOW + 80)
    refreshes = [attrs for name, attrs in events.seen if name == E_UL_CONTACT_REFRESH]
    assert len(refreshes) == 1 and refreshes[0]["uri"] == "sip:a@10.0.0.1"
    assert refreshes[0]["reason"] == "expiring"


def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "location.db"
    store = SqliteStore(path, now=NOW)
    kept = store.insert(
        contact(
            "sip:alice@10.0.0.1;transport=tcp",
            aor="alice@example.com",
            q=750,
            callid="call-1",
            cseq=9,
            received="sip:203.0.113.5:4000",
            path="<sip:edge.example.com;lr>",
            cflags="NAT",
            user_agent="softphone/1.0",
            socket="udp:192.0.2.10:5060",
            methods=methods_mask("INVITE,BYE"),
            instance="<urn:uuid:00000000-0000-0000-0000-000000000001>",
            reg_id=2,
            last_modified=float(NOW - 5),
            kv_store={"push": "token"},
        )
    )
    unspecified = store.insert(contact("sip:alice@10.0.0.2", aor="alice@example.com"))
    store.insert(contact("sip:old@10.0.0.9", aor="old", expires=NOW + 5))
    doomed = store.insert(contact("sip:gone@10.0.0.8", aor="gone"))
    store.delete(doomed)
    store.close()

    reopened = SqliteStore(path, now=NOW + 10)
    assert sorted(c.uri for c in reopened.contacts()) == [
        "sip:alice@10.0.0.1;transport=tcp",
        "sip:alice@10.0.0.2",
    ]
    again = {c.contact_id: c for c in reopened.lookup("alice@example.com", NOW + 10)}
    assert again[kept.contact_id] == kept
    assert again[unspecified.contact_id].q == Q_UNSPECIFIED
    # new ids do not collide with the rows read back
    fresh = reopened.insert(contact("sip:new@10.0.0.4", aor="new"))
    assert fresh.contact_id > max(again)
    reopened.close()
    # the row that had expired while nobody ran is gone from the file too
    with sqlite3.connect(path) as db:
        usernames = sorted(row[0] for row in db.execute("SELECT username FROM location"))
    assert usernames == ["alice", "alice", "new"]


def test_sqlite_uses_opensips_columns_and_version(tmp_path: Path) -> None:
    path = tmp_path / "opensips.db"
    store = SqliteStore(path, now=NOW)
    store.insert(contact("sip:alice@10.0.0.1", aor="alice@example.com", q=500, cflags="NAT"))
    store.close()
    with sqlite3.connect(path) as db:
        version = db.execute(
            "SELECT table_version FROM version WHERE table_name='location'"
        ).fetchone()
        row = db.execute(
            "SELECT username, domain, contact, expires, q, cflags, last_modified FROM location"
        ).fetchone()
    assert version == (LOCATION_TABLE_VERSION,)
    assert row[:6] == ("alice", "example.com", "sip:alice@10.0.0.1", NOW + 3600, 0.5, "NAT")
    assert row[6].startswith("19") or row[6].startswith("20")  # a DATETIME text


def test_memory_only_contacts_stay_out_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "location.db"
    store = SqliteStore(path, now=NOW)
    store.insert(contact("sip:mem@10.0.0.1", aor="mem", memory_only=True))
    assert [c.uri for c in store.lookup("mem", NOW)] == ["sip:mem@10.0.0.1"]
    store.close()
    assert list(SqliteStore(path, now=NOW).contacts()) == []


def test_a_table_of_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SqliteStore(path, now=NOW).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE version SET table_version=1011 WHERE table_name='location'")
    with pytest.raises(StoreError, match="version 1011"):
        SqliteStore(path, now=NOW)


def test_settings_choose_the_store(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/u.db"
    assert isinstance(open_store(UsrlocSettings(), "location"), MemoryStore)
    assert not isinstance(open_store(UsrlocSettings(db_url=url), "location"), SqliteStore)
    persistent = open_store(UsrlocSettings(db_mode=1, db_url=url), "location")
    assert isinstance(persistent, SqliteStore) and persistent.path == tmp_path / "u.db"
    persistent.close()
    preset = UsrlocSettings(working_mode_preset="single-instance-no-db", db_mode=1, db_url=url)
    assert not isinstance(open_store(preset, "location"), SqliteStore)
    with pytest.raises(StoreError, match="db_url"):
        open_store(UsrlocSettings(db_mode=1), "location")
    with pytest.raises(StoreError, match="sqlite"):
        open_store(UsrlocSettings(db_mode=1, db_url="mysql://u:p@h/db"), "location")


def test_tables_share_the_event_hook_and_the_timer() -> None:
    events = Events()
    TABLES.reset()
    try:
        TABLES.set_event_hook(events)
        first = TABLES.get("location")
        TABLES.install("other", MemoryStore("other"))
        first.insert(contact("sip:a@10.0.0.1", expires=NOW + 5))
        TABLES.get("other").insert(contact("sip:b@10.0.0.2", aor="bob", expires=NOW + 5))
        assert TABLES.expire(NOW + 5) == 2
        deleted = [a["domain"] for n, a in events.seen if n == E_UL_CONTACT_DELETE]
        assert sorted(str(d) for d in deleted) == ["location", "other"]
    finally:
        TABLES.reset()
