"""usrloc: the location service — which contacts each address-of-record is registered at.

`LocationStore` is the interface, `MemoryStore` the default store, `SqliteStore` the
persistent one (OpenSIPS's `location` table in a SQLite file), `TABLES` the tables of
this process. See `runtime.usrloc.store` for the theory of operation (expiry as an
input, the event hook) and `runtime.usrloc.tables` for what the runtime must wire.
"""

from runtime.usrloc.contact import (
    ALL_METHODS,
    E_UL_AOR_DELETE,
    E_UL_AOR_INSERT,
    E_UL_CONTACT_DELETE,
    E_UL_CONTACT_INSERT,
    E_UL_CONTACT_REFRESH,
    E_UL_CONTACT_UPDATE,
    PERMANENT,
    Q_UNSPECIFIED,
    Contact,
    EventHook,
    EventValue,
    event_attributes,
    method_bit,
    methods_mask,
)
from runtime.usrloc.sqlite import LOCATION_TABLE_VERSION, SqliteStore
from runtime.usrloc.store import LocationStore, MemoryStore, StoreError
from runtime.usrloc.tables import (
    TABLES,
    LocationTables,
    UsrlocSettings,
    open_store,
    sqlite_path,
)

__all__ = [
    "ALL_METHODS",
    "E_UL_AOR_DELETE",
    "E_UL_AOR_INSERT",
    "E_UL_CONTACT_DELETE",
    "E_UL_CONTACT_INSERT",
    "E_UL_CONTACT_REFRESH",
    "E_UL_CONTACT_UPDATE",
    "LOCATION_TABLE_VERSION",
    "PERMANENT",
    "Q_UNSPECIFIED",
    "TABLES",
    "Contact",
    "EventHook",
    "EventValue",
    "LocationStore",
    "LocationTables",
    "MemoryStore",
    "SqliteStore",
    "StoreError",
    "UsrlocSettings",
    "event_attributes",
    "method_bit",
    "methods_mask",
    "open_store",
    "sqlite_path",
]
