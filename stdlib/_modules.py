"""The OpenSIPS modules sipc knows by name, and the module parameters it understands.

`MODULES` tells the checker whether a `loadmodule "x.so"` is one sipc provides;
`MODPARAMS` lets it validate `modparam("x", "name", value)` (name and value type) and
gives each parameter its OpenSIPS default, which the functions read at run time when
the script did not set it.
"""

from __future__ import annotations

from stdlib._registry import MODULES, ModparamSpec

IMPLEMENTED_MODULES = (
    "core",
    "sl",
    "signaling",
    "maxfwd",
    "rr",
    "sipmsgops",
    "textops",
    "cfgutils",
    "usrloc",
    "registrar",
    "auth",
    "auth_db",
    "tm",
    # transports: provided by the runtime, no script functions of their own
    "proto_udp",
    "proto_tcp",
)

KNOWN_MODULES = (
    "sqlops",
    "avpops",
    "dialog",
    "dispatcher",
    "event_routing",
    "rest_client",
    "exec",
    "uac",
    "uac_auth",
    "nathelper",
    "pike",
)
"""Modules spec/functions.md describes that sipc does not provide yet."""

MODULES.update(dict.fromkeys(IMPLEMENTED_MODULES, True))
MODULES.update(dict.fromkeys(KNOWN_MODULES, False))


def _specs(*specs: ModparamSpec) -> dict[tuple[str, str], ModparamSpec]:
    return {(spec.module, spec.name): spec for spec in specs}


MODPARAMS: dict[tuple[str, str], ModparamSpec] = _specs(
    ModparamSpec("sl", "enable_stats", int, 1),
    ModparamSpec("maxfwd", "max_limit", int, 256),
    ModparamSpec("rr", "append_fromtag", int, 1),
    ModparamSpec("rr", "enable_double_rr", int, 1),
    ModparamSpec("rr", "add_username", int, 0),
    ModparamSpec("rr", "enable_socket_mismatch_warning", int, 1),
    ModparamSpec("cfgutils", "initial_probability", int, 10),
    ModparamSpec("cfgutils", "shvset", str, None, repeatable=True),
    ModparamSpec("cfgutils", "varset", str, None, repeatable=True),
    ModparamSpec("cfgutils", "shv_hash_size", int, 64),
    ModparamSpec("cfgutils", "lock_pool_size", int, 32),
    ModparamSpec("cfgutils", "hash_file", str, None),
    ModparamSpec("usrloc", "db_mode", int, 0),
    ModparamSpec("usrloc", "db_url", str, None),
    ModparamSpec("usrloc", "working_mode_preset", str, None),
    ModparamSpec("usrloc", "nat_bflag", str, None),
    ModparamSpec("usrloc", "timer_interval", int, 60),
    ModparamSpec("usrloc", "use_domain", int, 0),
    ModparamSpec("usrloc", "matching_mode", int, 0),
    ModparamSpec("usrloc", "cseq_delay", int, 20),
    ModparamSpec("usrloc", "contact_refresh_timer", int, 0),
    ModparamSpec("usrloc", "hash_size", int, 9),
    ModparamSpec("usrloc", "desc_time_order", int, 0),
    ModparamSpec("usrloc", "max_contact_delete", int, 10),
    ModparamSpec("registrar", "default_expires", int, 3600),
    ModparamSpec("registrar", "min_expires", int, 60),
    ModparamSpec("registrar", "max_expires", int, 0),
    ModparamSpec("registrar", "max_contacts", int, 0),
    ModparamSpec("registrar", "default_q", int, -1),
    ModparamSpec("registrar", "case_sensitive", int, 1),
    ModparamSpec("registrar", "tcp_persistent_flag", str, None),
    ModparamSpec("registrar", "received_avp", str, None),
    ModparamSpec("registrar", "received_param", str, "received"),
    ModparamSpec("registrar", "realm_prefix", str, None),
    ModparamSpec("registrar", "retry_after", int, 0),
    ModparamSpec("registrar", "sock_hdr_name", str, None),
    ModparamSpec("registrar", "mcontact_avp", str, None),
    ModparamSpec("registrar", "attr_avp", str, None),
    ModparamSpec("registrar", "disable_gruu", int, 1),
    ModparamSpec("registrar", "allow_dup_cseq", int, 0),
    # accepted so OpenSIPS scripts check clean; no effect in sipc (column names are
    # OpenSIPS's defaults, one node, no push notifications, no GRUU)
    ModparamSpec("usrloc", "skip_replicated_db_ops", int, 0),
    ModparamSpec("usrloc", "regen_broken_contactid", int, 0),
    ModparamSpec("usrloc", "location_cluster", int, 0),
    ModparamSpec("usrloc", "latency_event_min_us", int, 0),
    ModparamSpec("usrloc", "latency_event_min_us_delta", int, 0),
    ModparamSpec("usrloc", "mi_dump_kv_store", int, 0),
    ModparamSpec("usrloc", "shared_pinging", int, 1),
    ModparamSpec("usrloc", "timer_procs", int, 0),
    ModparamSpec("usrloc", "fetch_rows", int, 2000),
    ModparamSpec("usrloc", "db_update_as_insert", int, 0),
    ModparamSpec("usrloc", "db_check_update", int, 0),
    ModparamSpec("usrloc", "ha_cluster", int, 0),
    ModparamSpec("usrloc", "user_column", str, None),
    ModparamSpec("usrloc", "domain_column", str, None),
    ModparamSpec("usrloc", "contact_column", str, None),
    ModparamSpec("usrloc", "expires_column", str, None),
    ModparamSpec("usrloc", "q_column", str, None),
    ModparamSpec("usrloc", "callid_column", str, None),
    ModparamSpec("usrloc", "cseq_column", str, None),
    ModparamSpec("usrloc", "methods_column", str, None),
    ModparamSpec("usrloc", "flags_column", str, None),
    ModparamSpec("usrloc", "cflags_column", str, None),
    ModparamSpec("usrloc", "user_agent_column", str, None),
    ModparamSpec("usrloc", "received_column", str, None),
    ModparamSpec("usrloc", "socket_column", str, None),
    ModparamSpec("usrloc", "path_column", str, None),
    ModparamSpec("usrloc", "sip_instance_column", str, None),
    ModparamSpec("usrloc", "kv_store_column", str, None),
    ModparamSpec("usrloc", "attr_column", str, None),
    ModparamSpec("usrloc", "contactid_column", str, None),
    ModparamSpec("usrloc", "last_mod_column", str, None),
    ModparamSpec("usrloc", "cluster_mode", str, None),
    ModparamSpec("usrloc", "restart_persistency", str, None),
    ModparamSpec("usrloc", "sql_write_mode", str, None),
    ModparamSpec("usrloc", "cachedb_url", str, None),
    ModparamSpec("usrloc", "pinging_mode", str, None),
    ModparamSpec("usrloc", "ha_shtag", str, None),
    ModparamSpec("registrar", "use_domain", int, 0),
    ModparamSpec("registrar", "pn_enable", int, 0),
    ModparamSpec("registrar", "pn_pnsreg_interval", int, 130),
    ModparamSpec("registrar", "pn_trigger_interval", int, 120),
    ModparamSpec("registrar", "pn_skip_pn_interval", int, 0),
    ModparamSpec("registrar", "pn_refresh_timeout", int, 6),
    ModparamSpec("registrar", "pn_enable_purr", int, 0),
    ModparamSpec("registrar", "expires_max_deviation", int, 0),
    ModparamSpec("registrar", "append_branches", int, 1),
    ModparamSpec("registrar", "max_username_len", int, 64),
    ModparamSpec("registrar", "max_domain_len", int, 64),
    ModparamSpec("registrar", "max_aor_len", int, 256),
    ModparamSpec("registrar", "max_contact_len", int, 255),
    ModparamSpec("registrar", "max_callid_len", int, 255),
    ModparamSpec("registrar", "gruu_secret", str, None),
    ModparamSpec("registrar", "pn_providers", str, None),
    ModparamSpec("registrar", "pn_ct_match_params", str, None),
    ModparamSpec("registrar", "aor_avp", str, None),
    ModparamSpec("registrar", "reg_callid_avp", str, None),
    ModparamSpec("registrar", "sock_flag", str, None),
    ModparamSpec("auth", "secret", str, None),
    ModparamSpec("auth", "nonce_expire", int, 30),
    ModparamSpec("auth", "disable_nonce_check", int, 0),
    ModparamSpec("auth", "realm_prefix", str, ""),
    ModparamSpec("auth", "calculate_ha1", int, 0),
    ModparamSpec("auth", "username_spec", str, None),
    ModparamSpec("auth", "password_spec", str, None),
    ModparamSpec("auth", "rpid_avp", str, "$avp(rpid)"),
    ModparamSpec("auth", "rpid_prefix", str, ""),
    ModparamSpec("auth", "rpid_suffix", str, ";party=calling;id-type=subscriber;screen=yes"),
    ModparamSpec("auth_db", "db_url", str, None),
    ModparamSpec("auth_db", "user_column", str, "username"),
    ModparamSpec("auth_db", "domain_column", str, "domain"),
    ModparamSpec("auth_db", "password_column", str, "ha1"),
    ModparamSpec("auth_db", "hash_column_sha256", str, "ha1_sha256"),
    ModparamSpec("auth_db", "hash_column_sha512t256", str, "ha1_sha512t256"),
    ModparamSpec("auth_db", "calculate_ha1", int, 0),
    ModparamSpec("auth_db", "use_domain", int, 0),
    ModparamSpec("auth_db", "load_credentials", str, "rpid"),
    ModparamSpec("auth_db", "skip_version_check", int, 0),
    ModparamSpec("auth_db", "uri_user_column", str, "username"),
    ModparamSpec("auth_db", "uri_domain_column", str, "domain"),
    ModparamSpec("auth_db", "uri_uriuser_column", str, "uri_user"),
    # tm: timers in seconds except T1/T2 (milliseconds), as OpenSIPS has them
    ModparamSpec("tm", "fr_timeout", int, 30),
    ModparamSpec("tm", "fr_inv_timeout", int, 120),
    ModparamSpec("tm", "T1_timer", int, 500),
    ModparamSpec("tm", "T2_timer", int, 4000),
    ModparamSpec("tm", "auto_100trying", int, 1),
    ModparamSpec("tm", "onreply_avp_mode", int, 0),
    # how long an answered INVITE stays Accepted (RFC 6026 Timer L and M) to absorb
    # retransmissions: OpenSIPS's wait timer, not RFC 6026's 64*T1
    ModparamSpec("tm", "wt_timer", int, 5),
    # accepted so OpenSIPS scripts check clean; sipc's transactions do not use them
    # (the other wait and delete timers are RFC 3261's Timer D/I/J/K here)
    ModparamSpec("tm", "restart_fr_on_each_reply", int, 1),
    ModparamSpec("tm", "delete_timer", int, 2),
    ModparamSpec("tm", "pass_provisional_replies", int, 0),
    ModparamSpec("tm", "disable_6xx_block", int, 0),
    ModparamSpec("tm", "ruri_matching", int, 1),
    ModparamSpec("tm", "via1_matching", int, 1),
    ModparamSpec("tm", "unix_tx_timeout", int, 2),
    ModparamSpec("tm", "tw_append", str, None, repeatable=True),
    ModparamSpec("tm", "syn_branch", int, 1),
    ModparamSpec("tm", "minor_branch_flag", str, None),
    ModparamSpec("tm", "timer_partitions", int, 1),
    ModparamSpec("tm", "enable_stats", int, 1),
    ModparamSpec("tm", "local_request_route", str, None),
    ModparamSpec("tm", "local_reply_route", str, None),
    # the 1.x names of fr_timeout and fr_inv_timeout; no default: unset unless given
    ModparamSpec("tm", "fr_timer", int, None),
    ModparamSpec("tm", "fr_inv_timer", int, None),
)
"""`(module, name)` -> spec, for the modules sipc implements."""


def modparam_spec(module: str, name: str) -> ModparamSpec | None:
    """The declaration of `modparam(module, name, ...)`, if sipc understands it."""
    return MODPARAMS.get((module, name))


def modparams_of(module: str) -> list[ModparamSpec]:
    return [spec for spec in MODPARAMS.values() if spec.module == module]


class ModparamError(ValueError):
    """A `modparam` sipc does not know, or a value of the wrong type."""


_configured: dict[tuple[str, str], int | str | list[int | str]] = {}
# what modparam_int / modparam_str answered, per (module, name): the per-message functions
# ask for their settings on every call; emptied by every change of _configured
_ints: dict[tuple[str, str], int] = {}
_strs: dict[tuple[str, str], str | None] = {}


def set_modparam(module: str, name: str, value: int | str) -> None:
    """Apply `modparam(module, name, value)`; the generated module calls this at import."""
    spec = modparam_spec(module, name)
    if spec is None:
        raise ModparamError(f"module `{module}` has no parameter `{name}` in sipc")
    if spec.type is int and isinstance(value, str):
        if not value.strip().lstrip("-").isdigit():
            raise ModparamError(f"`{module}.{name}` takes an integer, not `{value}`")
        value = int(value)
    elif spec.type is str and not isinstance(value, str):
        value = str(value)
    _ints.clear()
    _strs.clear()
    if spec.repeatable:
        values = _configured.setdefault((module, name), [])
        assert isinstance(values, list)
        values.append(value)
    else:
        _configured[(module, name)] = value


def modparam_int(module: str, name: str) -> int:
    """The configured value of an integer modparam, else its OpenSIPS default."""
    key = (module, name)
    known = _ints.get(key)
    if known is not None:
        return known
    value = _configured.get(key)
    if not isinstance(value, int):
        default = MODPARAMS[key].default
        value = default if isinstance(default, int) else 0
    _ints[key] = value
    return value


def modparam_str(module: str, name: str) -> str | None:
    """The configured value of a string modparam, else its OpenSIPS default (None: unset)."""
    key = (module, name)
    if key in _strs:
        return _strs[key]
    value = _configured.get(key)
    if not isinstance(value, str):
        default = MODPARAMS[key].default
        value = default if isinstance(default, str) else None
    _strs[key] = value
    return value


def reset_modparams() -> None:
    """Forget every configured value (tests, and a script reload)."""
    _configured.clear()
    _ints.clear()
    _strs.clear()
