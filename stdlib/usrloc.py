"""Module `usrloc`: the location tables the registrar saves to, and AOR key/value storage.

The tables themselves are `runtime.usrloc.TABLES`; this module opens them the way the
script's modparams say (`db_mode`/`working_mode_preset`, `db_url`), on first use, after
the generated module has applied its modparams.
"""

from __future__ import annotations

import logging

from runtime.api import Ctx, RouteKind
from runtime.sip import URI, SipParseError, SipURI, TelURI, parse_uri, split_list, unescape
from runtime.usrloc import (
    TABLES,
    Contact,
    LocationStore,
    MemoryStore,
    StoreError,
    UsrlocSettings,
    open_store,
)
from stdlib._modules import modparam_int, modparam_str
from stdlib._registry import Out, StaticStr, export

log = logging.getLogger(__name__)


def settings_from_modparams() -> UsrlocSettings:
    return UsrlocSettings(
        db_mode=modparam_int("usrloc", "db_mode"),
        db_url=modparam_str("usrloc", "db_url"),
        working_mode_preset=modparam_str("usrloc", "working_mode_preset"),
        refresh_before=modparam_int("usrloc", "contact_refresh_timer"),
    )


def open_tables(*names: str) -> None:
    """Open these tables now, from the modparams; raises `StoreError` (a db_url that
    cannot be opened, a table of another version). For start-up, so that such a script
    fails to start instead of serving without its bindings."""
    _configure()
    for name in names:
        TABLES.get(name)


def location_table(name: str) -> LocationStore:
    """The table `name` of this process, opened from the modparams on first use.

    A database that cannot be opened here, in the middle of serving, leaves the table in
    memory (logged as an error) rather than failing every request that needs it.
    """
    _configure()
    try:
        return TABLES.get(name)
    except StoreError as exc:
        log.error("usrloc table `%s` kept in memory only: %s", name, exc)
        TABLES.install(name, MemoryStore(name))
        return TABLES.get(name)


def _configure() -> None:
    if not TABLES.configured:
        settings = settings_from_modparams()
        TABLES.configure(lambda table: open_store(settings, table))
        TABLES.timer_interval = max(1, modparam_int("usrloc", "timer_interval"))


def aor_key(text: str) -> str | None:
    """The key bindings are stored under for a URI or a `user@domain` text: `user`, or
    `user@domain` with `use_domain`; None when there is no user part."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    user: str | None
    if ":" not in text.partition("@")[0]:
        # a stored key written out (`alice`, `alice@example.com`), not a URI
        user, _, host = text.partition("@")
        return _key(unescape(user), host.lower())
    try:
        uri = parse_uri(text)
    except SipParseError:
        return None
    return aor_key_of_uri(uri)


def aor_key_of_uri(uri: URI) -> str | None:
    """`aor_key` of a URI parsed already (the To of a REGISTER, the R-URI)."""
    user: str | None
    if isinstance(uri, SipURI):
        user = uri.user_unescaped
        host = uri.host.lower()
    elif isinstance(uri, TelURI):
        user, host = unescape(uri.number), ""
    else:
        return None
    return _key(user, host)


def _key(user: str | None, host: str) -> str | None:
    if not user:
        return None
    prefix = modparam_str("registrar", "realm_prefix")
    if prefix and host.startswith(prefix):
        host = host[len(prefix) :]
    if not modparam_int("registrar", "case_sensitive"):
        user = user.lower()
    if modparam_int("usrloc", "use_domain") and host:
        return f"{user}@{host}"
    return user


def by_priority(bindings: list[Contact]) -> list[Contact]:
    """Highest q first; among equal q, the most recently changed first."""
    if len(bindings) < 2:
        return list(bindings)
    newest_first = list(reversed(bindings))
    return sorted(newest_first, key=lambda c: -c.q)


def next_hop(contact: Contact) -> str | None:
    """`$du` for a binding: its received address, else the first Path hop (OpenSIPS's order)."""
    if contact.received:
        return contact.received
    return _first_hop(contact.path) if contact.path else None


def first_path_uri(path: str) -> SipURI | None:
    """The first hop of a Path value, parsed (for its `received` parameter)."""
    text = _first_hop(path)
    try:
        uri = parse_uri(text) if text else None
    except SipParseError:
        return None
    return uri if isinstance(uri, SipURI) else None


def _first_hop(path: str) -> str | None:
    """`<sip:edge;lr>,<sip:core;lr>` -> `sip:edge;lr`."""
    hops = split_list(path)
    if not hops:
        return None
    text = hops[0][1].strip()
    if text.startswith("<"):
        text = text[1:].partition(">")[0]
    return text or None


def reached_at(binding: Contact) -> tuple[str, int]:
    """The host and port a binding is reached at: received, else the contact URI."""
    text = binding.received or binding.uri
    try:
        uri = parse_uri(text)
    except SipParseError:
        return "", 0
    if not isinstance(uri, SipURI):
        return "", 0
    return uri.host.strip("[]").lower(), uri.port or (5061 if uri.is_secure else 5060)


def hostport_of(text: str) -> tuple[str, int] | None:
    """`sip:ip:port`, `udp:ip:port` or `ip:port` -> (ip, port)."""
    text = text.strip().strip("<>")
    if not text.lower().startswith(("sip:", "sips:")):
        head, sep, rest = text.partition(":")
        if sep and head.lower() in ("udp", "tcp", "tls", "ws", "wss", "sctp"):
            text = rest
        text = "sip:" + text
    try:
        uri = parse_uri(text)
    except SipParseError:
        return None
    if not isinstance(uri, SipURI):
        return None
    return uri.host.strip("[]").lower(), uri.port or 5060


@export(routes=RouteKind.ALL, module="usrloc")
def ul_add_key(
    ctx: Ctx, domain: StaticStr, aor: str, key_name: str, key_value: str | None = None
) -> int:
    """Attach `key_name=key_value` to a registered AOR; an empty value deletes the key."""
    keys = _keys_of(domain, aor)
    if keys is None or not key_name:
        return -1
    if key_value:
        keys[key_name] = key_value
    else:
        keys.pop(key_name, None)
    return 1


@export(routes=RouteKind.ALL, module="usrloc")
def ul_get_key(ctx: Ctx, domain: StaticStr, aor: str, key_name: str, destination: Out[str]) -> int:
    keys = _keys_of(domain, aor)
    if keys is None or key_name not in keys:
        return -1
    destination.set(keys[key_name])
    return 1


@export(routes=RouteKind.ALL, module="usrloc")
def ul_del_key(ctx: Ctx, domain: StaticStr, aor: str, key_name: str) -> int:
    keys = _keys_of(domain, aor)
    if keys is None:
        return -1
    keys.pop(key_name, None)
    return 1


def _keys_of(domain: str, aor: str) -> dict[str, str] | None:
    key = aor_key(aor)
    if key is None:
        return None
    return location_table(domain).aor_keys(key)
