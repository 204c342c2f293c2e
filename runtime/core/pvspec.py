"""The pseudo-variable and transformation tables (spec/pseudo-variables.md §2-§4).

These tables are what the compiler's checker consults to flag unknown variables, writes to
read-only ones, variables read in a route kind where they mean nothing, and transformations
called with the wrong number of arguments. The runtime reads them too, so they live here,
below both (``runtime`` imports nothing from ``compiler`` or ``stdlib``).

Names are stored without the leading ``$`` (``"ru"``, ``"T_branch_idx"``); ``lookup_pv``
accepts either spelling. ``PV_SPECS`` is keyed by canonical names only; ``PV_ALIASES`` maps
every alias (``duri``, ``from.user``…) to its canonical name, and ``lookup_pv`` follows it.
The transformation table is kept in ``runtime/core/transforms/specs.py`` and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The transformation table lives with the transformations; it is part of this module's API.
from runtime.core.transforms.specs import (
    TRANSFORM_SPECS,
    ArgKind,
    TransformInput,
    TransformOutput,
    TransformSpec,
    lookup_transform,
    merge_comma_arguments,
    split_indexed_nameaddr,
)

ValueType = Literal["int", "str", "int|str"]
InnerName = Literal["none", "optional", "required"]

ROUTE_KINDS: frozenset[str] = frozenset(
    {"request", "branch", "failure", "onreply", "error", "local", "startup", "timer", "event"}
)
ALL_ROUTES = ROUTE_KINDS
# Startup, timer and event routes run with a dummy message, so message variables mean nothing there.
MESSAGE_ROUTES: frozenset[str] = frozenset(
    {"request", "branch", "failure", "onreply", "error", "local"}
)
# Routes that run with a transaction (or a dialog) attached to the message.
TRANSACTION_ROUTES: frozenset[str] = frozenset({"request", "branch", "failure", "onreply", "local"})
DIALOG_ROUTES = TRANSACTION_ROUTES
REQUEST_ONLY: frozenset[str] = frozenset({"request"})
FORWARDING_ROUTES: frozenset[str] = frozenset({"request", "branch", "failure"})
REPLY_ROUTES: frozenset[str] = frozenset({"onreply", "failure"})
ERROR_ONLY: frozenset[str] = frozenset({"error"})

SIPC_SPELLING_NOTE = "2.x/Kamailio spelling accepted by sipc"


@dataclass(frozen=True, slots=True)
class PvSpec:
    """What the checker and the runtime know about one pseudo-variable."""

    name: str
    value_type: ValueType
    writable: bool
    routes: frozenset[str]
    inner: InnerName = "none"
    indexable: bool = False
    module: str = "core"
    aliases: tuple[str, ...] = ()
    doc: str = ""
    # Only $msg.branch is write-only (writing appends a branch; reading it is an error).
    readable: bool = True


def _pv(
    name: str,
    value_type: ValueType,
    access: Literal["ro", "rw", "w"],
    routes: frozenset[str],
    doc: str,
    *,
    inner: InnerName = "none",
    indexable: bool = False,
    module: str = "core",
    aliases: tuple[str, ...] = (),
) -> PvSpec:
    return PvSpec(
        name=name,
        value_type=value_type,
        writable=access in ("rw", "w"),
        routes=routes,
        inner=inner,
        indexable=indexable,
        module=module,
        aliases=aliases,
        doc=doc,
        readable=access != "w",
    )


_MSG = MESSAGE_ROUTES
_ALL = ALL_ROUTES
_REQ = REQUEST_ONLY
_FWD = FORWARDING_ROUTES

_CORE_PVS: tuple[PvSpec, ...] = (
    _pv(
        "avp",
        "int|str",
        "rw",
        _ALL,
        "attribute-value pair stack of the transaction",
        inner="required",
        indexable=True,
    ),
    _pv(
        "hdr",
        "str",
        "ro",
        _MSG,
        "body of a header (first, i-th, last or all occurrences)",
        inner="required",
        indexable=True,
    ),
    _pv("hdr_name", "str", "ro", _MSG, "name of the i-th header of the message", indexable=True),
    _pv("hdrcnt", "int", "ro", _MSG, "number of headers with that name", inner="required"),
    _pv("var", "int|str", "rw", _ALL, "script variable", inner="required"),
    _pv("ai", "str", "ro", _MSG, "URI from P-Asserted-Identity"),
    _pv("au", "str", "ro", _REQ, "user part of the credentials username"),
    _pv("ar", "str", "ro", _REQ, "realm from the credentials"),
    _pv("adu", "str", "ro", _REQ, "digest URI from the credentials"),
    _pv("ad", "str", "ro", _REQ, "domain part of the credentials username"),
    _pv("an", "str", "ro", _REQ, "nonce from the credentials", aliases=("auth.nonce",)),
    _pv("auth.resp", "str", "ro", _REQ, "digest response from the credentials"),
    _pv("auth.cnonce", "str", "ro", _REQ, "client nonce from the credentials"),
    _pv("auth.opaque", "str", "ro", _REQ, "opaque value from the credentials"),
    _pv("auth.alg", "str", "ro", _REQ, "digest algorithm from the credentials"),
    _pv("auth.qop", "str", "ro", _REQ, "qop value from the credentials"),
    _pv("auth.nc", "str", "ro", _REQ, "nonce count from the credentials"),
    _pv("aU", "str", "ro", _REQ, "whole username from the credentials"),
    _pv("challenge.algorithm", "str", "ro", REPLY_ROUTES, "algorithm of the challenge"),
    _pv("challenge.realm", "str", "ro", REPLY_ROUTES, "realm of the challenge"),
    _pv("challenge.nonce", "str", "ro", REPLY_ROUTES, "nonce of the challenge"),
    _pv("challenge.opaque", "str", "ro", REPLY_ROUTES, "opaque of the challenge"),
    _pv("challenge.qop", "str", "ro", REPLY_ROUTES, "qop of the challenge"),
    _pv("challenge.ik", "str", "ro", REPLY_ROUTES, "AKA integrity key of the challenge"),
    _pv("challenge.ck", "str", "ro", REPLY_ROUTES, "AKA cipher key of the challenge"),
    _pv("Au", "str", "ro", _REQ, "username for accounting (auth username, else From user)"),
    _pv("bf", "str", "ro", _MSG, "branch flags of branch 0 as a printable list"),
    _pv(
        "branch",
        "int|str",
        "rw",
        _MSG,
        "legacy alias of $msg.branch.* (writing appends)",
        inner="optional",
        indexable=True,
    ),
    _pv("branch.flag", "int", "rw", _MSG, "legacy alias of $msg.branch.flag", inner="required"),
    _pv("ci", "str", "ro", _MSG, "Call-ID body"),
    _pv("cl", "int|str", "ro", _MSG, "Content-Length value"),
    _pv("cs", "str", "ro", _MSG, "CSeq number, text only (no integer form)"),
    _pv("ct", "str", "ro", _MSG, "i-th contact across all Contact headers", indexable=True),
    _pv("ct.fields", "str", "ro", _MSG, "one field of a contact", inner="required", indexable=True),
    _pv("cT", "str", "ro", _MSG, "Content-Type (i-th for multipart bodies)", indexable=True),
    _pv("dd", "str", "rw", _FWD, "host of the destination URI"),
    _pv("di", "str", "ro", _MSG, "URI of the Diversion header"),
    _pv("dir", "str", "ro", _MSG, "reason parameter of Diversion"),
    _pv("dip", "str", "ro", _MSG, "privacy parameter of Diversion"),
    _pv("dp", "int|str", "rw", _FWD, "port of the destination URI"),
    _pv("dP", "str", "ro", _FWD, "transport of the destination URI"),
    _pv("ds", "str", "ro", frozenset({"request", "failure"}), "destination set as text"),
    _pv("du", "str", "rw", _FWD, "destination URI; NULL resets it", aliases=("duri",)),
    _pv("err.class", "int", "ro", ERROR_ONLY, "error class (1 = parse error)"),
    _pv("err.level", "int", "ro", ERROR_ONLY, "error severity"),
    _pv("err.info", "str", "ro", ERROR_ONLY, "error text"),
    _pv("err.rcode", "int", "ro", ERROR_ONLY, "suggested reply code"),
    _pv("err.rreason", "str", "ro", ERROR_ONLY, "suggested reply reason"),
    _pv("fd", "str", "ro", _MSG, "From URI host", aliases=("from.domain",)),
    _pv("fn", "str", "ro", _MSG, "From display name"),
    _pv("ft", "str", "ro", _MSG, "From tag"),
    _pv("fu", "str", "ro", _MSG, "From URI (use uac_replace_from to change it)", aliases=("from",)),
    _pv("fU", "str", "ro", _MSG, "From URI user", aliases=("from.user",)),
    _pv("log_level", "int", "rw", _ALL, "log level of this process; NULL restores"),
    _pv("mb", "str", "ro", _MSG, "whole SIP message buffer"),
    _pv("mf", "str", "ro", _MSG, "message flags as a printable list"),
    _pv("msg.flag", "int", "rw", _MSG, "one message flag (0/1)", inner="required"),
    _pv("msg.is_request", "int", "ro", _MSG, "1 for a request, 0 for a reply"),
    _pv("msg.type", "str", "ro", _MSG, '"request" or "reply"'),
    _pv(
        "msg.branch",
        "str",
        "w",
        frozenset({"request", "failure"}),
        "writing a URI appends a new message branch",
    ),
    _pv("msg.branch.uri", "str", "rw", _FWD, "R-URI of branch i", indexable=True),
    _pv("msg.branch.duri", "str", "rw", _FWD, "destination URI of branch i", indexable=True),
    _pv("msg.branch.path", "str", "rw", _FWD, "Path of branch i", indexable=True),
    _pv("msg.branch.q", "int", "rw", _FWD, "q value of branch i", indexable=True),
    _pv("msg.branch.flags", "str", "ro", _FWD, "branch flags of branch i", indexable=True),
    _pv("msg.branch.socket", "str", "rw", _FWD, "forced send socket of branch i", indexable=True),
    _pv(
        "msg.branch.flag",
        "int",
        "rw",
        _FWD,
        "one branch flag of branch i",
        inner="required",
        indexable=True,
    ),
    _pv(
        "msg.branch.attr",
        "int|str",
        "rw",
        _FWD,
        "custom attribute of branch i",
        inner="required",
        indexable=True,
    ),
    _pv("msg.branch.last_idx", "int", "ro", _FWD, "index of the last branch"),
    _pv("mi", "int", "ro", _MSG, "internal message id"),
    _pv("ml", "int", "ro", _MSG, "message length"),
    _pv("od", "str", "ro", _REQ, "host of the original R-URI"),
    _pv("op", "int", "ro", _REQ, "port of the original R-URI"),
    _pv("oP", "str", "ro", _REQ, "transport of the original R-URI"),
    _pv("ou", "str", "ro", _REQ, "original R-URI", aliases=("ouri",)),
    _pv("oU", "str", "ro", _REQ, "user of the original R-URI"),
    _pv("path", "str", "ro", _MSG, "Path header(s) value"),
    _pv("pd", "str", "ro", _MSG, "host in P-Preferred-Identity"),
    _pv("pn", "str", "ro", _MSG, "display name in P-Preferred-Identity"),
    _pv("pp", "int", "ro", _ALL, "process id"),
    _pv("pu", "str", "ro", _MSG, "URI in P-Preferred-Identity"),
    _pv("pU", "str", "ro", _MSG, "user in P-Preferred-Identity"),
    _pv(
        "rb",
        "str",
        "ro",
        _MSG,
        "message body (whole, or a part by type or index)",
        inner="optional",
        indexable=True,
    ),
    _pv("rc", "int", "ro", _ALL, "return code of the last executed action", aliases=("retcode",)),
    _pv("rd", "str", "rw", _FWD, "host of the R-URI", aliases=("ruri.domain",)),
    _pv("re", "str", "ro", _MSG, "URI of Remote-Party-ID"),
    # $rm also carries OpenSIPS's numeric method id, so it compares with numbers.
    _pv("rm", "int|str", "ro", _MSG, "method (the CSeq method in replies)"),
    _pv(
        "route", "str", "ro", _ALL, "route stack as text; indexed: i-th route name", indexable=True
    ),
    _pv("route.name", "str", "ro", _ALL, "name of the current (or i-th) route", indexable=True),
    _pv("route.type", "str", "ro", _ALL, "type of the current (or i-th) route", indexable=True),
    _pv("rp", "int|str", "rw", _FWD, "port of the R-URI (scheme default when absent)"),
    _pv("rP", "str", "ro", _FWD, "transport of the R-URI"),
    _pv("rr", "str", "ro", REPLY_ROUTES, "reason phrase of a reply"),
    _pv("rs", "int|str", "ro", REPLY_ROUTES, "status code of a reply"),
    _pv("rt", "str", "ro", _MSG, "Refer-To URI"),
    _pv("ru", "str", "rw", _FWD, "Request-URI; writing replaces it", aliases=("ruri",)),
    _pv("ru_q", "int", "rw", _FWD, "q value of the R-URI branch"),
    _pv("rU", "str", "rw", _FWD, "user of the R-URI", aliases=("ruri.user",)),
    _pv("sdp", "str", "rw", _MSG, "SDP body as a structured, editable object", inner="optional"),
    _pv(
        "sdp.line",
        "str",
        "rw",
        _MSG,
        "i-th SDP line matching a prefix filter",
        inner="required",
        indexable=True,
    ),
    _pv(
        "sdp.stream",
        "str",
        "rw",
        _MSG,
        "a media stream section or a line within it",
        inner="required",
        indexable=True,
    ),
    _pv(
        "sdp.stream.idx",
        "int",
        "ro",
        _MSG,
        "index of the first stream of a media type",
        inner="required",
    ),
    _pv(
        "sdp.session",
        "str",
        "rw",
        _MSG,
        "lines of the session part (before the first m=)",
        inner="required",
    ),
    _pv("si", "str", "ro", _MSG, "source IP of the message", aliases=("src_ip",)),
    _pv(
        "socket_in", "int|str", "ro", _MSG, "receiving socket, or one field of it", inner="optional"
    ),
    _pv(
        "socket_out",
        "int|str",
        "rw",
        _MSG,
        'forced sending socket; writing "proto:ip:port" forces it',
        inner="optional",
    ),
    _pv("sp", "int|str", "ro", _MSG, "source port"),
    _pv("td", "str", "ro", _MSG, "To URI host", aliases=("to.domain",)),
    _pv("time", "str", "ro", _ALL, "current local time, strftime-formatted", inner="required"),
    _pv("tn", "str", "ro", _MSG, "To display name"),
    _pv("tt", "str", "ro", _MSG, "To tag"),
    _pv("tu", "str", "ro", _MSG, "To URI", aliases=("to",)),
    _pv("tU", "str", "ro", _MSG, "To URI user", aliases=("to.user",)),
    _pv("Tf", "str", "ro", _ALL, "current time as a ctime-like string"),
    _pv("Ts", "int", "ro", _ALL, "current unix time (s)"),
    _pv("Tsm", "int", "ro", _ALL, "microseconds of the current second"),
    _pv("TS", "int", "ro", _ALL, "start-up unix time"),
    _pv("ua", "str", "ro", _MSG, "User-Agent body"),
    _pv("C", "str", "ro", _ALL, "terminal colour escape for xlog", inner="required"),
    _pv("argv", "str", "ro", _ALL, "command-line value given with -o name=value", inner="required"),
    _pv(
        "param",
        "int|str",
        "ro",
        _ALL,
        "argument of the current route() call; event attribute in event routes",
        inner="required",
    ),
    _pv("cfg_line", "int", "ro", _ALL, "line number of the current statement"),
    _pv("cfg_file", "str", "ro", _ALL, "file name of the current statement"),
    _pv("xlog_level", "int", "rw", _ALL, "xlog level filter of this process; NULL restores"),
    _pv(
        "return",
        "int|str",
        "ro",
        _ALL,
        "i-th extra value returned by the last route",
        inner="required",
    ),
)

# Names sipc's runtime answers to although OpenSIPS 3.6 does not know them.
_SIPC_EXTRA_PVS: tuple[PvSpec, ...] = (
    _pv("Ri", "str", "ro", _MSG, f"receiving IP ($socket_in(ip)); {SIPC_SPELLING_NOTE}"),
    _pv("Rp", "int|str", "ro", _MSG, f"receiving port ($socket_in(port)); {SIPC_SPELLING_NOTE}"),
    _pv(
        "proto",
        "str",
        "ro",
        _MSG,
        f"transport of the message ($socket_in(proto)); {SIPC_SPELLING_NOTE}",
    ),
    _pv(
        "br",
        "str",
        "rw",
        _FWD,
        f"URI of the first extra branch ($(msg.branch.uri[1])); {SIPC_SPELLING_NOTE}",
    ),
    _pv(
        "event",
        "int|str",
        "ro",
        _ALL,
        "attribute of the event that ran this route (sipc)",
        inner="required",
    ),
)

_TM_BRANCH_FIELDS: tuple[tuple[str, ValueType, Literal["ro", "rw"], InnerName], ...] = (
    ("uri", "str", "ro", "none"),
    ("duri", "str", "ro", "none"),
    ("path", "str", "ro", "none"),
    ("q", "int", "ro", "none"),
    ("flags", "str", "ro", "none"),
    ("socket", "str", "ro", "none"),
    ("flag", "int", "rw", "required"),
    ("attr", "int|str", "rw", "required"),
    ("last_received", "int", "ro", "none"),
    ("type", "str", "ro", "none"),
)

_DLG = DIALOG_ROUTES
_MODULE_PVS: tuple[PvSpec, ...] = (
    _pv(
        "T_branch_idx",
        "int|str",
        "ro",
        frozenset({"branch", "onreply", "failure"}),
        "index of the branch being processed",
        module="tm",
    ),
    _pv(
        "T_reply_code",
        "int|str",
        "ro",
        frozenset({"request", "failure", "onreply"}),
        "code of the winning / current / last sent reply; 0 without a transaction",
        module="tm",
    ),
    _pv(
        "T_ruri",
        "str",
        "ro",
        REPLY_ROUTES,
        "R-URI of the current branch of the transaction",
        module="tm",
    ),
    _pv(
        "bavp",
        "int|str",
        "rw",
        frozenset({"branch", "onreply", "failure"}),
        "per-branch AVP",
        inner="required",
        module="tm",
    ),
    _pv(
        "T_fr_timeout",
        "int",
        "rw",
        frozenset({"request", "branch", "failure", "onreply"}),
        "final-response timeout of the transaction (s); NULL resets",
        module="tm",
    ),
    _pv(
        "T_fr_inv_timeout",
        "int",
        "rw",
        frozenset({"request", "branch", "failure", "onreply"}),
        "INVITE final-response timeout of the transaction (s)",
        module="tm",
    ),
    _pv("T_id", "str", "ro", TRANSACTION_ROUTES, "opaque transaction identifier", module="tm"),
    _pv(
        "T_branch_last_reply_code",
        "int",
        "ro",
        REPLY_ROUTES,
        "last reply code received on branch [i]",
        indexable=True,
        module="tm",
    ),
    *(
        _pv(
            f"tm.branch.{field}",
            value_type,
            access,
            frozenset({"onreply", "failure", "branch"}),
            f"{field} of transaction branch [i]",
            inner=inner,
            indexable=True,
            module="tm",
        )
        for field, value_type, access, inner in _TM_BRANCH_FIELDS
    ),
    _pv("DLG_count", "int", "ro", _ALL, "number of dialogs tracked", module="dialog"),
    _pv("DLG_lifetime", "int", "ro", _DLG, "seconds since the dialog started", module="dialog"),
    _pv(
        "DLG_status", "int", "ro", _DLG, "dialog state 1..5; NULL without a dialog", module="dialog"
    ),
    _pv(
        "DLG_dir",
        "str",
        "ro",
        _REQ,
        '"upstream"/"downstream" of an in-dialog request',
        module="dialog",
    ),
    _pv("DLG_flags", "int", "rw", _DLG, "dialog flags bitmask", module="dialog"),
    _pv(
        "dlg_val",
        "int|str",
        "rw",
        _DLG,
        "value stored in the dialog",
        inner="required",
        module="dialog",
    ),
    _pv("DLG_did", "str", "ro", _DLG, "dialog id", module="dialog"),
    _pv("DLG_end_reason", "str", "ro", _DLG, "why the dialog ended", module="dialog"),
    _pv("DLG_timeout", "int", "rw", _DLG, "dialog lifetime limit (s)", module="dialog"),
    _pv("DLG_json", "str", "ro", _DLG, "whole dialog as JSON", module="dialog"),
    _pv(
        "DLG_ctx_json",
        "str",
        "ro",
        _ALL,
        "dialog loaded with load_dialog_ctx() as JSON",
        module="dialog",
    ),
    _pv("DLG_del_delay", "int", "rw", _DLG, "delete delay of the dialog (s)", module="dialog"),
    _pv(
        "rr_params",
        "str",
        "ro",
        _REQ,
        "parameters of the Route header used by loose_route()",
        module="rr",
    ),
    _pv("sig_local_totag", "str", "ro", _REQ, "To-tag used for local replies", module="signaling"),
    _pv("RANDOM", "int", "ro", _ALL, "random number", module="cfgutils"),
    _pv(
        "shv",
        "int|str",
        "rw",
        _ALL,
        "shared (all processes) variable",
        inner="required",
        module="cfgutils",
    ),
    _pv(
        "ctime",
        "int",
        "ro",
        _ALL,
        "calendar field of the current time",
        inner="required",
        module="cfgutils",
    ),
    _pv("env", "str", "ro", _ALL, "environment variable", inner="required", module="cfgutils"),
    # The path carries its own [i] indexes, so the variable itself is not indexable.
    _pv(
        "json",
        "int|str",
        "rw",
        _ALL,
        "value at a path of a JSON document; := parses JSON",
        inner="required",
        module="json",
    ),
)


def _index(specs: tuple[PvSpec, ...]) -> dict[str, PvSpec]:
    table: dict[str, PvSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise ValueError(f"pseudo-variable {spec.name!r} is listed twice")
        table[spec.name] = spec
    return table


PV_SPECS: dict[str, PvSpec] = _index(_CORE_PVS + _SIPC_EXTRA_PVS + _MODULE_PVS)
PV_ALIASES: dict[str, str] = {
    alias: spec.name for spec in PV_SPECS.values() for alias in spec.aliases
}


# The variables of the table the runtime cannot read yet (runtime.core.pvaccess has no
# reader for them), and those it cannot write although OpenSIPS can: `sipc check` reports
# them (`unsupported-variable`), so a script that checks clean does not fail when it runs.
# Kept here, beside the table, because the checker must not import the runtime;
# tests/runtime/core/test_pvspec.py keeps both sets equal to what the runtime does.
NOT_READ_BY_RUNTIME = frozenset(
    [
        "C",
        "DLG_count",
        "DLG_ctx_json",
        "DLG_del_delay",
        "DLG_did",
        "DLG_dir",
        "DLG_end_reason",
        "DLG_flags",
        "DLG_json",
        "DLG_lifetime",
        "DLG_status",
        "DLG_timeout",
        "RANDOM",
        "TS",
        "Tsm",
        "ai",
        "argv",
        "branch",
        "branch.flag",
        "cfg_file",
        "cfg_line",
        "challenge.algorithm",
        "challenge.ck",
        "challenge.ik",
        "challenge.nonce",
        "challenge.opaque",
        "challenge.qop",
        "challenge.realm",
        "ct.fields",
        "ctime",
        "dP",
        "dd",
        "di",
        "dip",
        "dir",
        "dlg_val",
        "dp",
        "ds",
        "env",
        "err.class",
        "err.info",
        "err.level",
        "err.rcode",
        "err.rreason",
        "event",
        "hdr_name",
        "json",
        "log_level",
        "mf",
        "mi",
        "msg.branch",
        "msg.branch.attr",
        "msg.branch.duri",
        "msg.branch.flag",
        "msg.branch.flags",
        "msg.branch.path",
        "msg.branch.q",
        "msg.branch.socket",
        "oP",
        "oU",
        "od",
        "op",
        "pU",
        "path",
        "pd",
        "pn",
        "pu",
        "re",
        "route",
        "route.name",
        "route.type",
        "rr_params",
        "rt",
        "ru_q",
        "sdp",
        "sdp.line",
        "sdp.session",
        "sdp.stream",
        "sdp.stream.idx",
        "shv",
        "sig_local_totag",
        "socket_out",
        "time",
        "tm.branch.last_received",
        "tm.branch.path",
        "tm.branch.q",
        "xlog_level",
    ]
)
NOT_WRITTEN_BY_RUNTIME = frozenset(["br", "msg.branch.uri"])


def lookup_pv(name: str) -> PvSpec | None:
    """The spec of a variable by name (``"ru"`` or ``"$ru"``), following aliases."""
    bare = name[1:] if name.startswith("$") else name
    spec = PV_SPECS.get(bare)
    if spec is not None:
        return spec
    canonical = PV_ALIASES.get(bare)
    return PV_SPECS[canonical] if canonical is not None else None


__all__ = [
    "ALL_ROUTES",
    "MESSAGE_ROUTES",
    "PV_ALIASES",
    "PV_SPECS",
    "ROUTE_KINDS",
    "SIPC_SPELLING_NOTE",
    "TRANSFORM_SPECS",
    "ArgKind",
    "InnerName",
    "PvSpec",
    "TransformInput",
    "TransformOutput",
    "TransformSpec",
    "ValueType",
    "lookup_pv",
    "lookup_transform",
    "merge_comma_arguments",
    "split_indexed_nameaddr",
]
