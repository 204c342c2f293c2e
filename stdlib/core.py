"""Core functions (OpenSIPS `core_cmds.c`): flags, R-URI rewriting, branches, forwarding.

Also the run-time side of the `xlog`/`log` statements, which the grammar handles but
which print through here.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from runtime.api import Branch, Ctx, RouteKind
from runtime.core.sipfields import UriParts, build_uri, split_hostport
from runtime.sip import SipParseError
from stdlib._registry import Out, StaticStr, export

ALL = RouteKind.ALL
script_log = logging.getLogger("sipc.script")
log_core = logging.getLogger("sipc.core")

# OpenSIPS log levels (L_ALERT..L_DBG) as the logging levels they print at
_LEVELS = {
    -3: logging.CRITICAL,
    -2: logging.CRITICAL,
    -1: logging.ERROR,
    0: logging.WARNING,
    1: logging.WARNING,
    2: logging.INFO,
    3: logging.INFO,
    4: logging.DEBUG,
}
# xlog looks only at the third character of `L_...`
_XLOG_LETTERS = {"A": -3, "C": -2, "E": -1, "W": 1, "N": 2, "I": 3, "D": 4}


def opensips_level(level: str) -> int:
    """The numeric level of an xlog level string: `L_WARN` -> 1, `"3"` -> 3 (else L_ERR)."""
    text = level.strip()
    if len(text) >= 3 and text[:2].upper() == "L_":
        return _XLOG_LETTERS.get(text[2].upper(), -1)
    try:
        return int(text)
    except ValueError:
        return -1


def _emit(level: int, text: str) -> None:
    python_level = _LEVELS.get(max(-3, min(4, level)), logging.DEBUG)
    if script_log.isEnabledFor(python_level):
        script_log.log(python_level, "%s", text.rstrip("\r\n"))


def xlog(ctx: Ctx, level: str, text: str) -> int:
    """`xlog("L_INFO", "...")` once the compiler expanded the format; `xlog(fmt)` is L_ERR."""
    _emit(opensips_level(level), text)
    return 1


def log(ctx: Ctx, level: int, text: str) -> int:
    """`log(level, "text")`; `log("text")` is level 4 (debug)."""
    _emit(level, text)
    return 1


# ---------------------------------------------------------------------------- flags


@export(routes=ALL, module="core")
def setflag(ctx: Ctx, flag: StaticStr) -> int:
    ctx.setflag(flag)
    return 1


@export(routes=ALL, module="core")
def resetflag(ctx: Ctx, flag: StaticStr) -> int:
    ctx.resetflag(flag)
    return 1


@export(routes=ALL, module="core")
def isflagset(ctx: Ctx, flag: StaticStr) -> int:
    return 1 if ctx.isflagset(flag) else -1


# ---------------------------------------------------------------------------- forwarding


@export(routes=ALL, module="core")
def forward(ctx: Ctx, destination: str | None = None) -> int:
    """Stateless forward to `[proto:]host[:port]`, else to `$du`, else to the R-URI."""
    return ctx.forward(destination or None)


# ---------------------------------------------------------------------------- the R-URI


def _rewrite(ctx: Ctx, change: Callable[[UriParts], UriParts]) -> int:
    """Rebuild the R-URI with some parts changed; -1 when there is no R-URI to change."""
    parts = ctx.ruri_parts
    if parts is None:
        return -1
    return 1 if ctx.rewrite_ruri(build_uri(change(parts))) else -1


@export(routes=ALL, module="core")
def seturi(ctx: Ctx, uri: str) -> int:
    if not uri:
        return -2
    return 1 if ctx.rewrite_ruri(uri) else -1


@export(routes=ALL, module="core")
def revert_uri(ctx: Ctx) -> int:
    """Back to the Request-URI the message arrived with."""
    ctx.ruri = None
    return 1


@export(routes=ALL, module="core")
def sethost(ctx: Ctx, host: str) -> int:
    if not host:
        return -1
    return _rewrite(ctx, lambda p: dataclasses.replace(p, host=host))


@export(routes=ALL, module="core")
def sethostport(ctx: Ctx, hostport: str) -> int:
    if not hostport:
        return -1
    host, port = split_hostport(hostport)
    if ":" in hostport and port is None and not hostport.startswith("["):
        return -1
    return _rewrite(ctx, lambda p: dataclasses.replace(p, host=host, port=port))


@export(routes=ALL, module="core")
def setport(ctx: Ctx, port: str) -> int:
    if not port.isdigit() or not 0 < int(port) <= 65535:
        return -1
    number = int(port)
    return _rewrite(ctx, lambda p: dataclasses.replace(p, port=number))


@export(routes=ALL, module="core")
def setuser(ctx: Ctx, user: str) -> int:
    """Set the user part (an empty user removes it, with the password)."""
    return _rewrite(ctx, lambda p: dataclasses.replace(p, user=user or None, password=None))


@export(routes=ALL, module="core")
def setuserpass(ctx: Ctx, password: str) -> int:
    parts = ctx.ruri_parts
    if parts is None or parts.user is None:
        return -1
    return _rewrite(ctx, lambda p: dataclasses.replace(p, password=password or None))


@export(routes=ALL, module="core")
def prefix(ctx: Ctx, text: str) -> int:
    """Put `text` in front of the R-URI user (a URI without user gets `text` as its user)."""
    parts = ctx.ruri_parts
    if parts is None:
        return -1
    new_user = text + (parts.user or "")
    return _rewrite(ctx, lambda p: dataclasses.replace(p, user=new_user))


@export(routes=ALL, module="core")
def strip(ctx: Ctx, n: int) -> int:
    """Drop the first `n` characters of the R-URI user (all of it when shorter)."""
    parts = ctx.ruri_parts
    if parts is None or n < 0:
        return -1
    new_user = (parts.user or "")[n:] or None
    return _rewrite(ctx, lambda p: dataclasses.replace(p, user=new_user))


@export(routes=ALL, module="core")
def strip_tail(ctx: Ctx, n: int) -> int:
    """Drop the last `n` characters of the R-URI user."""
    parts = ctx.ruri_parts
    if parts is None or n < 0:
        return -1
    user = parts.user or ""
    new_user = user[: max(0, len(user) - n)] or None
    return _rewrite(ctx, lambda p: dataclasses.replace(p, user=new_user))


# ---------------------------------------------------------------------------- $du


@export(routes=ALL, module="core")
def setdsturi(ctx: Ctx, uri: str) -> int:
    if not uri:
        return -1
    ctx.du = uri
    return 1


@export(routes=ALL, module="core")
def resetdsturi(ctx: Ctx) -> int:
    ctx.du = None
    return 1


@export(routes=ALL, module="core")
def isdsturiset(ctx: Ctx) -> int:
    return 1 if ctx.du else -1


# ---------------------------------------------------------------------------- branches


def _parse_q(text: str | None) -> int | None:
    """A q-value (`"0.5"`) as OpenSIPS keeps it, in thousandths (500); None if absent."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return round(max(0.0, min(1.0, value)) * 1000)


@export(routes=ALL, module="core")
def append_branch_old(ctx: Ctx, uri: str | None = None, qvalue: str | None = None) -> int:
    """Add a branch: `uri`, or the current R-URI with `$du` when no uri is given."""
    return ctx.append_branch(uri or None, _parse_q(qvalue))


@export(routes=ALL, module="core")
def append_msg_branch(
    ctx: Ctx, uri: str, qvalue: str | None = None, flags: str | None = None
) -> int:
    """Add a branch for `uri`; flag `inherite` copies `$du` and q from the R-URI branch."""
    if not uri:
        return -1
    inherit = False
    for flag in (flags or "").split(","):
        flag = flag.strip()
        if flag == "inherite":
            inherit = True
        elif flag:
            return -1
    q = _parse_q(qvalue)
    if inherit:  # $du, q and branch flags of the R-URI branch
        q = q if q is not None else ctx.ruri_q
        ctx.branches.append(Branch(uri, ctx.du, q, None, set(ctx.bflags)))
    else:
        ctx.branches.append(Branch(uri, None, q))
    return 1


@export(routes=ALL, module="core")
def remove_msg_branch(ctx: Ctx, branch_idx: int) -> int:
    """Remove the appended branch at `branch_idx` (0 = the first `append_*branch`)."""
    if not 0 <= branch_idx < len(ctx.branches):
        return -1
    del ctx.branches[branch_idx]
    return 1


@export(routes=ALL, module="core")
def swap_msg_branches(ctx: Ctx, br1_idx: int | None = None, br2_idx: int | None = None) -> int:
    first = br1_idx if br1_idx is not None else 0
    second = br2_idx if br2_idx is not None else len(ctx.branches) - 1
    if not (0 <= first < len(ctx.branches) and 0 <= second < len(ctx.branches)):
        return -1
    ctx.branches[first], ctx.branches[second] = ctx.branches[second], ctx.branches[first]
    return 1


# ---------------------------------------------------------------------------- misc


@export(routes=ALL, module="core")
def pv_printf(ctx: Ctx, pv: Out[str], fmt_str: str) -> int:
    """The format was expanded by the caller: store the text in the variable."""
    pv.set(fmt_str)
    return 1


@export(routes=ALL, module="core")
def get_timestamp(ctx: Ctx, sec_avp: Out[int], usec_avp: Out[int]) -> int:
    now = time.time_ns() // 1000
    sec_avp.set(now // 1_000_000)
    usec_avp.set(now % 1_000_000)
    return 1


_MAX_URI_LEN = 1024  # OpenSIPS's MAX_URI_LEN, terminating NUL included


@export(routes=ALL, module="core")
def construct_uri(
    ctx: Ctx,
    proto: str,
    user: str | None,
    domain: str,
    port: str | None,
    extra: str | None,
    result: Out[str],
) -> int:
    """`proto:[user@]domain[:port][;extra]` into an AVP; -1 without proto or domain."""
    if not proto or not domain:
        log_core.error("construct_uri(): no %s given", "protocol" if not proto else "domain")
        return -1
    uri = "".join((proto, ":", f"{user}@" if user else "", domain,
                   f":{port}" if port else "", f";{extra}" if extra else ""))  # fmt: skip
    if len(uri) + 1 > _MAX_URI_LEN:
        log_core.error("construct_uri(): the URI is too long (%d)", len(uri) + 1)
        return -1
    result.set(uri)
    return 1


@export(routes=ALL, module="core")
def avp_print(ctx: Ctx) -> int:
    """Log every AVP of this run (the transaction's, in a tm route) at L_INFO."""
    store = ctx.avp
    log_core.info("----------- All AVPs in this context --------")
    for name in store.names():
        for value in store.get_all(name):
            kind = "val_int" if isinstance(value, int) else "val_str"
            log_core.info("    name=<%s> %s=<%s>", name, kind, value)
    log_core.info("---------------- END ALL AVPs ---------------")
    return 1


@export(routes=ALL, module="core")
def is_myself(ctx: Ctx, host: str, port: int | None = None) -> int:
    """1 when `host` (optionally `host:port`, or with `port`) is one of our addresses.

    Without a port (or with port 0) any of our ports will do, as in OpenSIPS: a proxy on
    5080 asked `is_myself($rd)` for `sip:bob@its-ip` answers yes."""
    parsed_host, parsed_port = split_hostport(host.strip())
    bare = parsed_host.strip("[]")
    wanted_port = port if port is not None else parsed_port
    if not wanted_port and ctx.core.find_listening(None, bare, None) is not None:
        return 1
    return 1 if ctx.is_myself(bare, wanted_port or None) else -1


_STAMPED_PARAMS = ("received", "rport")


@export(routes=ALL, module="core")
def force_rport(ctx: Ctx) -> int:
    """Act as if the top Via had asked for `rport` (RFC 3581): note the source address
    and port in it, so replies go back where the request came from (behind a NAT)."""
    msg = ctx.msg
    if not msg.is_request:
        return -1
    try:
        top = msg.top_via
    except SipParseError:
        return -1
    if top is None:
        return -1
    if top.rport == ctx.src_port and top.received is not None:
        return 1  # the runtime already did it on receipt (the client asked for rport)
    params = [(key, value) for key, value in top.params if key.lower() not in _STAMPED_PARAMS]
    params += [("received", ctx.src_ip), ("rport", str(ctx.src_port))]
    msg.remove_top_via()
    msg.prepend_via(top.with_params(tuple(params)))
    return 1
