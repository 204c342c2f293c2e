"""The ``uri.*``, ``via.*``, ``param.*``, ``nameaddr.*`` and ``csv.*`` transformations.

As in OpenSIPS 3.6: an empty or unreadable input yields NULL, and so does a part that is
absent or empty; a parameter that is present without a value reads as "". Ports come back as
``int``. Parsed inputs are cached, because a script usually applies several transformations
of one family to the same header (``{uri.user}`` then ``{uri.host}``).
"""

from __future__ import annotations

from functools import lru_cache

from runtime.core.transforms.parsing import (
    Params,
    ParsedNameAddr,
    ParsedUri,
    ParsedVia,
    find_param,
    parse_csv_record,
    parse_nameaddr_list,
    parse_params,
    parse_uri,
    parse_via,
)
from runtime.core.transforms.values import Value, as_text

_cached_uri = lru_cache(maxsize=256)(parse_uri)
_cached_via = lru_cache(maxsize=256)(parse_via)
_cached_params = lru_cache(maxsize=256)(parse_params)
_cached_csv = lru_cache(maxsize=256)(parse_csv_record)


@lru_cache(maxsize=256)
def _cached_nameaddrs(text: str) -> tuple[ParsedNameAddr, ...] | None:
    entries = parse_nameaddr_list(text)
    return None if entries is None else tuple(entries)


def _port(text: str | None) -> int | None:
    return int(text) if text else None


def _nonempty(text: str | None) -> str | None:
    return text or None


def _present_value(params: Params, name: str) -> str | None:
    present, value = find_param(params, name)
    if not present:
        return None
    return value or ""


URI_FIELDS = frozenset(
    {
        "user", "host", "domain", "passwd", "port", "params", "headers", "transport", "ttl",
        "uparam", "maddr", "method", "lr", "r2", "schema",
    }
)  # fmt: skip
# Fields that read one well-known URI parameter (uparam is the "user=" parameter).
_URI_PARAM_FIELDS = {
    "transport": "transport", "ttl": "ttl", "uparam": "user", "maddr": "maddr",
    "method": "method", "lr": "lr", "r2": "r2",
}  # fmt: skip


def _parsed_uri(value: int | str) -> ParsedUri | None:
    text = as_text(value)
    return _cached_uri(text) if text else None


def uri_field(value: int | str, field: str) -> Value:
    """``{uri.<field>}`` for a field of URI_FIELDS."""
    uri = _parsed_uri(value)
    if uri is None:
        return None
    if field in _URI_PARAM_FIELDS:
        return _present_value(uri.param_list, _URI_PARAM_FIELDS[field])
    if field in ("host", "domain"):
        return _nonempty(uri.host)
    if field == "port":
        return _port(uri.port)
    if field == "user":
        return uri.user
    if field == "passwd":
        return uri.password
    if field == "params":
        return uri.params
    if field == "headers":
        return uri.headers
    if field == "schema":
        return uri.scheme
    raise ValueError(f"unknown URI field {field!r}")


def uri_param(value: int | str, name: str) -> str | None:
    uri = _parsed_uri(value)
    return None if uri is None or not name else _present_value(uri.param_list, name)


VIA_FIELDS = frozenset(
    {
        "name", "version", "transport", "host", "domain", "port", "comment", "params", "branch",
        "received", "rport",
    }
)  # fmt: skip


def _parsed_via(value: int | str) -> ParsedVia | None:
    text = as_text(value)
    # OpenSIPS needs more than two characters before it will try.
    return _cached_via(text) if len(text) > 2 else None


def via_field(value: int | str, field: str) -> Value:
    """``{via.<field>}`` for a field of VIA_FIELDS."""
    via = _parsed_via(value)
    if via is None:
        return None
    if field in ("branch", "received", "rport"):
        # Unlike {via.param,...}, these read NULL for a parameter without a value.
        return _nonempty(find_param(via.param_list, field)[1])
    if field == "port":
        return _port(via.port)
    if field in ("host", "domain"):
        return via.host
    simple: dict[str, str | None] = {
        "name": via.name,
        "version": via.version,
        "transport": via.transport,
        "comment": via.comment,
        "params": via.params,
    }
    if field not in simple:
        raise ValueError(f"unknown Via field {field!r}")
    return simple[field]


def via_param(value: int | str, name: str) -> str | None:
    via = _parsed_via(value)
    return None if via is None or not name else _present_value(via.param_list, name)


def _param_list(value: int | str) -> Params | None:
    text = as_text(value)
    params = _cached_params(text) if text else None
    return params or None  # no parameter at all is an error too


def _at_index(count: int, index: int) -> int | None:
    if index < 0:
        index += count
    return index if 0 <= index < count else None


def param_value(value: int | str, name: str) -> str | None:
    params = _param_list(value)
    return None if params is None or not name else _present_value(params, name)


def param_exist(value: int | str, name: str) -> int | None:
    params = _param_list(value)
    if params is None or not name:
        return None
    return 1 if find_param(params, name)[0] else 0


def param_valueat(value: int | str, index: int) -> str | None:
    params = _param_list(value)
    position = None if params is None else _at_index(len(params), index)
    if params is None or position is None:
        return None
    return params[position][1] or ""


def param_name(value: int | str, index: int) -> str | None:
    params = _param_list(value)
    position = None if params is None else _at_index(len(params), index)
    return None if params is None or position is None else params[position][0]


def param_count(value: int | str) -> int | None:
    params = _param_list(value)
    return None if params is None else len(params)


NAMEADDR_FIELDS = frozenset({"name", "uri", "len", "params", "param"})


def nameaddr_field(
    value: int | str, field: str, param: str | None = None, index: int | None = None
) -> Value:
    """``{nameaddr.<field>}`` (``param`` names the parameter of ``nameaddr.param``);
    ``index`` picks one name-addr of a list (``{nameaddr.N.field}``, negative from the end)."""
    text = as_text(value)
    entries = _cached_nameaddrs(text) if text else None
    if not entries:
        return None
    position = _at_index(len(entries), 0 if index is None else index)
    if position is None:
        return None
    entry = entries[position]
    if field == "name":
        return entry.display
    if field == "uri":
        return entry.uri
    if field == "len":
        return len(entry.body)
    if field == "params":
        return entry.params
    if field == "param":
        if not param:
            return None
        # OpenSIPS compares name-addr parameter names case-sensitively, and an empty
        # value reads as NULL here (not "" as in {param.value}).
        return _nonempty(find_param(entry.param_list, param, ignore_case=False)[1])
    raise ValueError(f"unknown name-addr field {field!r}")


def _csv_fields(value: int | str) -> list[str] | None:
    text = as_text(value)
    return _cached_csv(text) if text else None


def csv_count(value: int | str) -> int | None:
    fields = _csv_fields(value)
    return None if fields is None else len(fields)


def csv_value(value: int | str, index: int) -> str | None:
    fields = _csv_fields(value)
    position = None if fields is None else _at_index(len(fields), index)
    return None if fields is None or position is None else fields[position]
