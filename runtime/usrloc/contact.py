"""One registered binding (a row of OpenSIPS's `location` table) and its event attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Q_UNSPECIFIED = -1
"""`q` of a contact registered without one (OpenSIPS's Q_UNSPECIFIED); ranks below q=0."""

PERMANENT = 0
"""`expires` of a binding that never expires (a static contact added by management)."""

EventValue = int | str | None
EventHook = Callable[[str, Mapping[str, EventValue]], None]
"""`on_event(name, attributes)`: how a store reports E_UL_* events to whoever listens."""

E_UL_AOR_INSERT = "E_UL_AOR_INSERT"
E_UL_AOR_DELETE = "E_UL_AOR_DELETE"
E_UL_CONTACT_INSERT = "E_UL_CONTACT_INSERT"
E_UL_CONTACT_UPDATE = "E_UL_CONTACT_UPDATE"
E_UL_CONTACT_DELETE = "E_UL_CONTACT_DELETE"
E_UL_CONTACT_REFRESH = "E_UL_CONTACT_REFRESH"

# RFC 3261 methods as OpenSIPS numbers them in its `methods` bitmask column
METHOD_BITS: dict[str, int] = {
    "INVITE": 1,
    "CANCEL": 2,
    "ACK": 4,
    "BYE": 8,
    "INFO": 16,
    "OPTIONS": 32,
    "UPDATE": 64,
    "REGISTER": 128,
    "MESSAGE": 256,
    "SUBSCRIBE": 512,
    "NOTIFY": 1024,
    "PRACK": 2048,
    "REFER": 4096,
    "PUBLISH": 8192,
}
METHOD_OTHER = 16384
ALL_METHODS = 0xFFFFFFFF


def method_bit(method: str) -> int:
    return METHOD_BITS.get(method.upper(), METHOD_OTHER)


def methods_mask(names: str) -> int:
    """`"INVITE, BYE"` (an Allow header or a Contact `methods` parameter) as a bitmask."""
    mask = 0
    for name in names.strip('"').split(","):
        name = name.strip()
        if name:
            mask |= method_bit(name)
    return mask


@dataclass(slots=True)
class Contact:
    """A binding of an address-of-record to a contact URI, as the `location` table holds it.

    Treat a stored contact as a value: change one by handing the store a changed copy
    (`dataclasses.replace`) with the same `contact_id`.
    """

    aor: str
    """The key: `user`, or `user@domain` when usrloc's `use_domain` is set."""
    uri: str
    expires: int
    """Absolute expiry, Unix seconds; `PERMANENT` (0) never expires."""
    q: int = Q_UNSPECIFIED
    """Priority in thousandths (0..1000) as OpenSIPS keeps it; `Q_UNSPECIFIED` when absent."""
    callid: str = ""
    cseq: int = 0
    received: str | None = None
    """Where the binding really is when it registered from behind a NAT (`sip:ip:port`)."""
    path: str | None = None
    """The Path header values of the REGISTER, comma-joined (RFC 3327)."""
    flags: int = 0
    cflags: str = ""
    """Branch flag names saved with the contact (the NAT flag), comma-separated."""
    user_agent: str = ""
    socket: str | None = None
    """The receiving socket, `udp:ip:port`."""
    methods: int | None = None
    """Allowed methods bitmask; None allows everything."""
    instance: str | None = None
    """`+sip.instance` (RFC 5626), without its quotes."""
    reg_id: int = 0
    last_modified: float = 0.0
    attr: str | None = None
    kv_store: dict[str, str] = field(default_factory=dict)
    contact_id: int = 0
    """Row id, given by the store on insert."""
    memory_only: bool = False
    """Saved with the `memory-only` flag: never written to the database."""
    refreshed: bool = False
    """Whether E_UL_CONTACT_REFRESH was already raised for the current expiry."""

    @property
    def username(self) -> str:
        return self.aor.partition("@")[0]

    @property
    def domain(self) -> str | None:
        _user, at, domain = self.aor.partition("@")
        return domain if at else None

    def is_valid(self, now: float) -> bool:
        """Still registered at `now`."""
        return self.expires == PERMANENT or self.expires > now

    def allows(self, method: str) -> bool:
        return self.methods is None or bool(self.methods & method_bit(method))

    def same_binding(self, other: Contact) -> bool:
        """Whether `other` names this binding: same instance and reg-id (RFC 5626) when
        the contact has an instance, else the same contact URI."""
        if self.instance is not None or other.instance is not None:
            return self.instance == other.instance and self.reg_id == other.reg_id
        return self.uri == other.uri


def event_attributes(table: str, contact: Contact) -> dict[str, EventValue]:
    """The attributes of the E_UL_CONTACT_* events (functions.md), for one contact."""
    return {
        "domain": table,
        "aor": contact.aor,
        "uri": contact.uri,
        "received": contact.received,
        "path": contact.path,
        "qval": contact.q,
        "user_agent": contact.user_agent,
        "socket": contact.socket,
        "bflags": contact.flags,
        "expires": contact.expires,
        "callid": contact.callid,
        "cseq": contact.cseq,
        "attr": contact.attr,
        "latency": 0,
        "shtag": None,
        "sip_instance": contact.instance,
        "reg_id": contact.reg_id,
    }
