"""Module `usrloc`: the location tables the registrar saves to, and AOR key/value storage.

The tables themselves are `runtime.usrloc.TABLES`; this module opens them the way the
script's modparams say (`db_mode`/`working_mode_preset`, `db_url`), on first use, after
the generated module has applied its modparams.
"""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from runtime.sip import SipParseError, SipURI, TelURI, parse_uri, unescape
from runtime.usrloc import TABLES, LocationStore, UsrlocSettings, open_store
from stdlib._modules import modparam_int, modparam_str
from stdlib._registry import Out, StaticStr, export


def settings_from_modparams() -> UsrlocSettings:
    return UsrlocSettings(
        db_mode=modparam_int("usrloc", "db_mode"),
        db_url=modparam_str("usrloc", "db_url"),
        working_mode_preset=modparam_str("usrloc", "working_mode_preset"),
        refresh_before=modparam_int("usrloc", "contact_refresh_timer"),
    )


def location_table(name: str) -> LocationStore:
    """The table `name` of this process, opened from the modparams on first use."""
    if not TABLES.configured:
        settings = settings_from_modparams()
        TABLES.configure(lambda table: open_store(settings, table))
    return TABLES.get(name)


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
