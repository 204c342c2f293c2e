"""`SqliteStore`: the memory store written through to a SQLite file in OpenSIPS's layout.

The table is OpenSIPS's `location` (version 1013, spec/storage.md), so a file written by
OpenSIPS's db_sqlite loads here and the other way round. Every change is one statement
in autocommit mode on a WAL journal with `synchronous=NORMAL`: a commit is durable
against a crash of this process (the WAL is in the OS's hands at once) without an fsync
per REGISTER; a power loss may lose the last commits before a checkpoint.

What the layout has no column for rides in `kv_store` (JSON, which OpenSIPS loads as
the contact's key/value storage): the RFC 5626 `reg-id`, under `sipc.reg_id`.

One process owns a file: contact ids are given by the store (the highest id + 1), and
memory is the cache of the table, not re-read.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

from runtime.usrloc.contact import PERMANENT, Q_UNSPECIFIED, Contact, EventHook
from runtime.usrloc.store import MemoryStore, StoreError

LOCATION_TABLE_VERSION = 1013
_REG_ID_KEY = "sipc.reg_id"
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_COLUMNS = (
    "contact_id, username, domain, contact, received, path, expires, q, callid, cseq, "
    "last_modified, flags, cflags, user_agent, socket, methods, sip_instance, kv_store, attr"
)

# OpenSIPS 3.6 scripts/sqlite/usrloc-create.sql, column for column
_CREATE_TABLE = """
CREATE TABLE {table} (
    contact_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username CHAR(64) DEFAULT '' NOT NULL,
    domain CHAR(64) DEFAULT NULL,
    contact TEXT NOT NULL,
    received CHAR(255) DEFAULT NULL,
    path CHAR(255) DEFAULT NULL,
    expires INTEGER NOT NULL,
    q FLOAT(10,2) DEFAULT 1.0 NOT NULL,
    callid CHAR(255) DEFAULT 'Default-Call-ID' NOT NULL,
    cseq INTEGER DEFAULT 13 NOT NULL,
    last_modified DATETIME DEFAULT '1900-01-01 00:00:01' NOT NULL,
    flags INTEGER DEFAULT 0 NOT NULL,
    cflags CHAR(255) DEFAULT NULL,
    user_agent CHAR(255) DEFAULT '' NOT NULL,
    socket CHAR(64) DEFAULT NULL,
    methods INTEGER DEFAULT NULL,
    sip_instance CHAR(255) DEFAULT NULL,
    kv_store TEXT(512) DEFAULT NULL,
    attr CHAR(255) DEFAULT NULL
)
"""
_CREATE_VERSION = """
CREATE TABLE IF NOT EXISTS version (
    table_name CHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_t_name_idx UNIQUE (table_name)
)
"""

Row = tuple[
    int, str, str | None, str, str | None, str | None, int, float, str, int, str, int,
    str | None, str, str | None, int | None, str | None, str | None, str | None,
]  # fmt: skip


class SqliteStore(MemoryStore):
    """Bindings in memory, every change written through to `path` (created if absent)."""

    def __init__(
        self,
        path: str | Path,
        table: str = "location",
        *,
        on_event: EventHook | None = None,
        refresh_before: int = 0,
        now: float | None = None,
    ) -> None:
        if _TABLE_NAME.fullmatch(table) is None:
            raise StoreError(f"`{table}` is not a usable table name")
        super().__init__(table, on_event=on_event, refresh_before=refresh_before)
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._ensure_table()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the location table in {self.path}: {exc}") from exc
        self._insert_sql = f"INSERT INTO {table} ({_COLUMNS}) VALUES ({', '.join('?' * 19)})"
        self._update_sql = (
            f"UPDATE {table} SET contact=?, received=?, path=?, expires=?, q=?, callid=?, "
            "cseq=?, last_modified=?, flags=?, cflags=?, user_agent=?, socket=?, methods=?, "
            "sip_instance=?, kv_store=?, attr=? WHERE contact_id=?"
        )
        self._delete_sql = f"DELETE FROM {table} WHERE contact_id=?"
        self._read_back(time.time() if now is None else now)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ schema and load

    def _ensure_table(self) -> None:
        db = self._db
        db.execute(_CREATE_VERSION)
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.table,)
        ).fetchone()
        row = db.execute(
            "SELECT table_version FROM version WHERE table_name=?", (self.table,)
        ).fetchone()
        if exists is None:
            db.execute(_CREATE_TABLE.format(table=self.table))
            db.execute(
                "INSERT OR REPLACE INTO version (table_name, table_version) VALUES (?, ?)",
                (self.table, LOCATION_TABLE_VERSION),
            )
            return
        version = None if row is None else int(row[0])
        if version != LOCATION_TABLE_VERSION:
            raise StoreError(
                f"table `{self.table}` in {self.path} is version {version}, "
                f"sipc expects {LOCATION_TABLE_VERSION} (OpenSIPS 3.x usrloc)"
            )

    def _read_back(self, now: float) -> None:
        """Load every unexpired row; rows that expired while nobody was running go."""
        stale: list[int] = []
        for row in self._db.execute(f"SELECT {_COLUMNS} FROM {self.table}"):
            contact = _from_row(row)
            if contact.is_valid(now):
                self._load(contact)
            else:
                stale.append(contact.contact_id)
        if stale:
            self._db.executemany(self._delete_sql, [(i,) for i in stale])

    # ------------------------------------------------------------------ write-through

    def _write_insert(self, contact: Contact) -> None:
        if not contact.memory_only:
            self._run(self._insert_sql, _to_row(contact))

    def _write_update(self, contact: Contact) -> None:
        if contact.memory_only:
            return
        row = _to_row(contact)
        self._run(self._update_sql, (*row[3:], contact.contact_id))

    def _write_delete(self, contacts: list[Contact]) -> None:
        ids = [(c.contact_id,) for c in contacts if not c.memory_only]
        if not ids:
            return
        try:
            self._db.executemany(self._delete_sql, ids)
        except sqlite3.Error as exc:
            raise StoreError(f"location table {self.path}: {exc}") from exc

    def _run(self, sql: str, values: tuple[object, ...]) -> None:
        try:
            self._db.execute(sql, values)
        except sqlite3.Error as exc:
            raise StoreError(f"location table {self.path}: {exc}") from exc


def _db_time(seconds: float) -> str:
    # OpenSIPS's db layer writes DATETIME columns in local time
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _from_db_time(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        return time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))
    except (ValueError, OverflowError):
        return 0.0


def _to_row(c: Contact) -> tuple[object, ...]:
    store = dict(c.kv_store)
    if c.reg_id:
        store[_REG_ID_KEY] = str(c.reg_id)
    q = -1.0 if c.q == Q_UNSPECIFIED else c.q / 1000
    return (
        c.contact_id, c.username, c.domain, c.uri, c.received, c.path, c.expires, q,
        c.callid, c.cseq, _db_time(c.last_modified), c.flags, c.cflags or None,
        c.user_agent, c.socket, c.methods, c.instance,
        json.dumps(store, sort_keys=True) if store else None, c.attr,
    )  # fmt: skip


def _from_row(row: Row) -> Contact:
    (contact_id, username, domain, uri, received, path, expires, q, callid, cseq,
     last_modified, flags, cflags, user_agent, socket, methods, instance, kv_text,
     attr) = row  # fmt: skip
    store: dict[str, str] = {}
    if kv_text:
        try:
            loaded = json.loads(kv_text)
        except ValueError:
            loaded = {}
        if isinstance(loaded, dict):
            store = {str(k): str(v) for k, v in loaded.items()}
    reg_id_text = store.pop(_REG_ID_KEY, "0")
    return Contact(
        aor=f"{username}@{domain}" if domain else username,
        uri=uri,
        expires=int(expires) if expires is not None else PERMANENT,
        q=Q_UNSPECIFIED if q is None or q < 0 else round(q * 1000),
        callid=callid or "",
        cseq=int(cseq or 0),
        received=received or None,
        path=path or None,
        flags=int(flags or 0),
        cflags=cflags or "",
        user_agent=user_agent or "",
        socket=socket or None,
        methods=None if methods is None else int(methods),
        instance=instance or None,
        reg_id=int(reg_id_text) if reg_id_text.isdigit() else 0,
        last_modified=_from_db_time(last_modified),
        attr=attr or None,
        kv_store=store,
        contact_id=int(contact_id),
    )
