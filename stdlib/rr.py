"""Module `rr`: Record-Route on the way out, loose routing (RFC 3261 §16.4, §16.6, §16.12).

The routing itself is a runtime service (`runtime.api.record_route`, `loose_route`); this
module adds what the script functions promise on top of it: the From tag in our
Record-Route (`append_fromtag`), parameters added before or after `record_route()`,
"only once per request", preset addresses, the return code for a preloaded request,
and remembering the Route that was ours for `check_route_param`/`is_direction`.
"""

from __future__ import annotations

from runtime import api
from runtime.api import Ctx, RouteKind
from runtime.core.rr import follow_route_set, has_line_break
from runtime.core.sipfields import find_param
from stdlib import _msg, _sipedit, _state
from stdlib._modules import modparam_int
from stdlib._regex import compile_regex
from stdlib._registry import Regex, export

REQ = RouteKind.REQUEST
REQ_FAIL_BR = RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.BRANCH

_PENDING_PARAMS = "rr.params"  # add_rr_param() before record_route()
_ADDED = "rr.added"  # how many Record-Route headers this run put on top
_ROUTE_PARAMS = "rr.route_params"  # URI params of the Route loose_route() found ours


# ---------------------------------------------------------------------------- Record-Route


def _preset_value(ctx: Ctx, address: str, params: str) -> str:
    """`<sip:ADDRESS;lr;ftag=...params>` for an address the script gives."""
    uri = address if address.lower().startswith(("sip:", "sips:")) else "sip:" + address
    return f"<{uri};lr{_ftag(ctx)}{params}>"


def _ftag(ctx: Ctx) -> str:
    if not modparam_int("rr", "append_fromtag"):
        return ""  # asked first: the From header is then not parsed at all
    tag = ctx.from_tag
    return f";ftag={tag}" if tag else ""


def _normalise_params(params: str) -> str:
    params = params.strip()
    return params if not params or params.startswith(";") else ";" + params


def _take_pending_params(ctx: Ctx, extra: str | None) -> str:
    pending = _state.get(ctx, _PENDING_PARAMS)
    if pending is not None:
        _state.put(ctx, _PENDING_PARAMS, None)
    if not extra:
        return pending or ""  # the usual record_route(): nothing to add
    return (pending or "") + _normalise_params(extra)


@export(routes=REQ_FAIL_BR, module="rr")
def record_route(ctx: Ctx, params: str | None = None) -> int:
    """Add our Record-Route with `;lr` (and `;ftag`, and `params`) on top of the request."""
    if _state.get(ctx, _ADDED):
        return -1
    rc = api.record_route(ctx, _ftag(ctx) + _take_pending_params(ctx, params))
    if rc > 0:
        _state.put(ctx, _ADDED, "1")
    return rc


@export(routes=REQ_FAIL_BR, module="rr")
def record_route_preset(ctx: Ctx, string: str, string2: str | None = None) -> int:
    """Record-Route with a given address (`"1.2.3.4:5090"` or a SIP URI); a second
    address asks for two Record-Route headers (only with enable_double_rr)."""
    if _state.get(ctx, _ADDED) or not string or not ctx.msg.is_request:
        return -1
    if string2 and not modparam_int("rr", "enable_double_rr"):
        return -1
    params = _take_pending_params(ctx, None)
    values = [_preset_value(ctx, string, params)]
    if string2:
        values.append(_preset_value(ctx, string2, params))
    if any(has_line_break(value) for value in values):
        return -1
    for value in reversed(values):
        ctx.msg.add_header("Record-Route", value, at_top=True)
    _state.put(ctx, _ADDED, str(len(values)))
    return 1


@export(routes=REQ_FAIL_BR, module="rr")
def add_rr_param(ctx: Ctx, param: str) -> int:
    """Add a URI parameter to our Record-Route, whether it was added yet or not."""
    extra = _normalise_params(param)
    if not extra or has_line_break(extra):
        return -1
    added = int(_state.get(ctx, _ADDED) or 0)
    if not added:
        _state.put(ctx, _PENDING_PARAMS, (_state.get(ctx, _PENDING_PARAMS) or "") + extra)
        return 1
    raw = _msg.current(ctx)
    ours = _sipedit.find_headers(_sipedit.scan(raw), "Record-Route")[:added]
    edits = []
    for line in ours:
        value = line.value(raw)
        value = value[:-1] + extra + ">" if value.endswith(">") else value + extra
        edits.append((line.value_start, line.value_end, _msg.encode(value)))
    return 1 if _msg.commit(ctx, _sipedit.splice(raw, edits)) else -1


# ---------------------------------------------------------------------------- loose routing


@export(routes=REQ, module="rr")
def loose_route(ctx: Ctx) -> int:
    """Follow the Route set: 1 when the next hop came from it, -1 without Route headers
    (or for a preloaded request whose only Route was ours; that Route is removed)."""
    followed = follow_route_set(ctx)
    if followed is None:
        return -1
    _state.put(ctx, _ROUTE_PARAMS, followed.ours_params)
    return -1 if followed.preloaded else 1


@export(routes=REQ, module="rr")
def check_route_param(ctx: Ctx, regex: Regex) -> int:
    """Match the parameters of the Route `loose_route` found to be ours (`;a=1;b=2`)."""
    params = _state.get(ctx, _ROUTE_PARAMS)
    if params is None:
        return -1
    text = _normalise_params(params)
    return 1 if compile_regex(regex).search(text) else -1


@export(routes=REQ, module="rr")
def is_direction(ctx: Ctx, direction: str) -> int:
    """`downstream` when the From tag is the one our Route carries (`ftag`), else upstream."""
    wanted = direction.strip().lower()
    if wanted not in ("downstream", "upstream"):
        return -1
    params = _state.get(ctx, _ROUTE_PARAMS)
    ftag = find_param(params, "ftag") if params else None
    if not ftag:
        return -1
    downstream = ftag == ctx.from_tag
    return 1 if downstream == (wanted == "downstream") else -1
