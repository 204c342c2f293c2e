"""Module `sipmsgops`: tests and edits on headers, the body and the R-URI.

Header edits change the message bytes at once, so a header added by `append_hf` is
already visible to `is_present_hf` in the same run (OpenSIPS would show it only once the
message is sent: a documented difference).
"""

from __future__ import annotations

import email.utils
import fnmatch
import functools
import json
import re

from runtime.api import Ctx, RouteKind
from runtime.core.sipfields import find_param, parse_uri
from runtime.sip import Response
from runtime.sip.lexical import is_token
from stdlib import _msg, _sipedit
from stdlib._regex import compile_regex
from stdlib._registry import Out, Regex, export

R = RouteKind
MSG_ROUTES = R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH | R.LOCAL
RURI_ROUTES = R.REQUEST | R.FAILURE | R.BRANCH | R.LOCAL

# methods OpenSIPS knows by id; is_method() lists may only name these
KNOWN_METHODS = frozenset(
    [
        "INVITE",
        "CANCEL",
        "ACK",
        "BYE",
        "INFO",
        "OPTIONS",
        "UPDATE",
        "REGISTER",
        "MESSAGE",
        "SUBSCRIBE",
        "NOTIFY",
        "PRACK",
        "REFER",
        "PUBLISH",
    ]
)


# ---------------------------------------------------------------------------- headers


def _remove_where(
    ctx: Ctx, keep: re.Pattern[str] | None, wanted: set[str] | None, glob: str | None
) -> int:
    raw = _msg.current(ctx)
    doomed = []
    for line in _sipedit.scan(raw).headers:
        if (
            (wanted is not None and line.key in wanted)
            or (keep is not None and keep.search(line.name))
            or (glob is not None and fnmatch.fnmatchcase(line.name.lower(), glob.lower()))
        ):
            doomed.append(line)
    if not doomed:
        return -1
    return 1 if _msg.commit(ctx, _sipedit.remove_lines(raw, doomed)) else -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def append_hf(ctx: Ctx, txt: str, hdr_anchor: str | None = None) -> int:
    """Add header text after the last header, or after the first `hdr_anchor` header."""
    if not txt:
        return -1
    raw = _msg.current(ctx)
    if hdr_anchor:
        edited = _sipedit.insert_headers_after(raw, txt, hdr_anchor)
        if edited is None:
            return -1
    else:
        edited = _sipedit.append_headers(raw, txt)
    return 1 if _msg.commit(ctx, edited) else -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def insert_hf(ctx: Ctx, txt: str, hname: str | None = None) -> int:
    """Add header text before the first header, or before the first `hname` header."""
    if not txt:
        return -1
    raw = _msg.current(ctx)
    if hname and not _sipedit.find_headers(_sipedit.scan(raw), hname):
        return -1
    return 1 if _msg.commit(ctx, _sipedit.insert_headers(raw, txt, hname or None)) else -1


@export(routes=R.REQUEST | R.FAILURE | R.BRANCH, module="sipmsgops")
def append_urihf(ctx: Ctx, prefix: str, suffix: str) -> int:
    """Append a header made of `prefix`, the current R-URI and `suffix`."""
    uri = ctx.ruri
    if uri is None:
        return -1
    return (
        1
        if _msg.commit(ctx, _sipedit.append_headers(_msg.current(ctx), prefix + uri + suffix))
        else -1
    )


@export(routes=MSG_ROUTES, module="sipmsgops")
def remove_hf(ctx: Ctx, hname: str) -> int:
    """Remove every header with that name (compact forms count); -1 when there was none."""
    return _remove_where(ctx, None, {_sipedit.canonical_name(hname)}, None)


@export(routes=MSG_ROUTES, module="sipmsgops")
def remove_hf_re(ctx: Ctx, hname_expr: Regex) -> int:
    """Remove every header whose name matches the regex."""
    return _remove_where(ctx, compile_regex(hname_expr), None, None)


@export(routes=MSG_ROUTES, module="sipmsgops")
def remove_hf_glob(ctx: Ctx, hname_pattern: str) -> int:
    """Remove every header whose name matches the shell pattern (`X-*`), case-insensitive."""
    return _remove_where(ctx, None, None, hname_pattern)


@export(routes=MSG_ROUTES, module="sipmsgops")
def is_present_hf(ctx: Ctx, hf_name: str) -> int:
    return 1 if ctx.msg.header(hf_name) is not None else -1


@export(routes=R.REQUEST | R.FAILURE | R.BRANCH | R.LOCAL, module="sipmsgops")
def append_time(ctx: Ctx) -> int:
    """Append a `Date:` header with the current time (RFC 1123, GMT)."""
    date = email.utils.formatdate(usegmt=True)
    return (
        1 if _msg.commit(ctx, _sipedit.append_headers(_msg.current(ctx), "Date: " + date)) else -1
    )


@export(routes=MSG_ROUTES, module="sipmsgops")
def has_totag(ctx: Ctx) -> int:
    return 1 if ctx.to_tag else -1


def _list_items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@export(routes=MSG_ROUTES, module="sipmsgops")
def list_hdr_has_option(ctx: Ctx, hdr_name: str, option: str) -> int:
    """Whether a comma-list header (`Supported: timer, 100rel`) holds `option`."""
    wanted = option.strip().lower()
    for value in ctx.msg.headers_named(hdr_name):
        if any(item.lower() == wanted for item in _list_items(value)):
            return 1
    return -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def list_hdr_add_option(ctx: Ctx, hdr_name: str, option: str) -> int:
    """Add `option` to the first such header (which must exist)."""
    raw = _msg.current(ctx)
    lines = _sipedit.find_headers(_sipedit.scan(raw), hdr_name)
    if not lines or not option.strip():
        return -1
    items = [*_list_items(lines[0].value(raw)), option.strip()]
    return 1 if _msg.commit(ctx, _sipedit.set_value(raw, lines[0], ", ".join(items))) else -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def list_hdr_remove_option(ctx: Ctx, hdr_name: str, option: str) -> int:
    """Remove `option` from every such header; a header left empty is removed."""
    raw = _msg.current(ctx)
    wanted = option.strip().lower()
    edits: list[tuple[int, int, bytes]] = []
    for line in _sipedit.find_headers(_sipedit.scan(raw), hdr_name):
        items = _list_items(line.value(raw))
        kept = [item for item in items if item.lower() != wanted]
        if len(kept) == len(items):
            continue
        if kept:
            edits.append((line.value_start, line.value_end, _msg.encode(", ".join(kept))))
        else:
            edits.append((line.start, line.end, b""))
    if not edits:
        return -1
    return 1 if _msg.commit(ctx, _sipedit.splice(raw, edits)) else -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def is_privacy(ctx: Ctx, privacy_type: str) -> int:
    """Whether the Privacy header lists `privacy_type` (`id`, `header`, `user`...)."""
    wanted = privacy_type.strip().lower()
    for value in ctx.msg.headers_named("Privacy"):
        if any(item.strip().lower() == wanted for item in re.split(r"[;,]", value)):
            return 1
    return -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def get_glob_headers_values(
    ctx: Ctx, hdr_name_glob: str, hdr_names_avp: Out[str], hdr_vals_avp: Out[str]
) -> int:
    """Add the name (as written) and the value of every header whose name matches the
    shell pattern (case-insensitive) to the two AVPs, in message order; -1 when none does."""
    pattern = hdr_name_glob.lower()
    found = 0
    for name, value in ctx.msg.headers:
        if fnmatch.fnmatchcase(name.lower(), pattern):
            hdr_names_avp.set(name)
            hdr_vals_avp.set(value)
            found += 1
    return 1 if found else -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def sip_to_json(ctx: Ctx, out_var: Out[str]) -> int:
    """The message as compact JSON: `first_line` (without its CRLF), `headers` (each name
    as written -> the list of its values, in message order) and, when there is one, `body`."""
    msg = ctx.msg
    headers: dict[str, list[str]] = {}
    for name, value in msg.headers:
        headers.setdefault(name, []).append(value)
    document: dict[str, object] = {"first_line": msg.start_line, "headers": headers}
    if msg.body:
        document["body"] = _msg.decode(msg.body)
    out_var.set(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
    return 1


# ---------------------------------------------------------------------------- local replies


def reply_header_lines(txt: str) -> list[str] | None:
    """Script header text (one or more `Name: value` lines, CRLF optional, folded lines
    joined) as whole lines; None when a line is no header a reply could carry."""
    lines: list[str] = []
    for raw_line in txt.replace("\r\n", "\n").split("\n"):
        if not raw_line.strip():
            continue
        if raw_line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + raw_line.strip()
            continue
        name, colon, value = raw_line.partition(":")
        if not colon or not is_token(name.strip()) or "\r" in value:
            return None
        lines.append(f"{name.strip()}: {value.strip()}")
    return lines or None


@export(routes=R.REQUEST | R.FAILURE | R.BRANCH | R.ERROR, module="sipmsgops")
def append_to_reply(ctx: Ctx, txt: str) -> int:
    """Queue header lines for every reply this run makes itself to the request
    (`sl_send_reply`, `send_reply`, `t_reply`, the registrar's and auth's replies)."""
    lines = reply_header_lines(txt)
    if lines is None:
        return -1
    ctx.reply_headers.extend(lines)
    return 1


@export(routes=R.REQUEST | R.FAILURE | R.BRANCH | R.ERROR, module="sipmsgops")
def append_body_to_reply(ctx: Ctx, txt: str) -> int:
    """Give every reply this run makes itself to the request the body `txt` (a later
    call replaces it; Content-Length follows). As in OpenSIPS no Content-Type is added:
    queue one with `append_to_reply("Content-Type: ...")`."""
    ctx.reply_body = _msg.encode(txt)
    return 1


@export(routes=R.ONREPLY, module="sipmsgops")
def change_reply_status(ctx: Ctx, code: int, reason: str) -> int:
    """Rewrite the status line of the reply being relayed. As in OpenSIPS, a provisional
    or a 2xx keeps its class, and nothing becomes one: only 3xx-6xx change freely."""
    msg = ctx.msg
    if not isinstance(msg, Response) or not 100 <= code <= 699:
        return -1
    if (code < 300 or msg.status < 300) and code // 100 != msg.status // 100:
        return -1
    if "\r" in reason or "\n" in reason:
        return -1
    set_status(msg, code, reason)
    return 1


def set_status(msg: Response, code: int, reason: str) -> None:
    """Change a reply's status line in place: the object the transaction relays after
    the onreply_route is the one the route saw, so a copy would not be sent."""
    msg._touch(" status line")  # marks the message edited: to_bytes() writes the first line
    msg.status = code
    msg.reason = reason
    msg._start_line = f"{msg.version} {code} {reason}".encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------- method, body


@functools.lru_cache(maxsize=256)
def method_list(names: str) -> frozenset[str]:
    """`"INVITE|BYE"` (a comma works too) as a set of upper-case method names."""
    return frozenset(part.strip().upper() for part in re.split(r"[|,]", names) if part.strip())


@export(routes=MSG_ROUTES, module="sipmsgops")
def is_method(ctx: Ctx, name: str) -> int:
    """The method (for a reply, the CSeq method) is `name` or one of a `|` list."""
    methods = method_list(name)
    return 1 if ctx.msg.method.upper() in methods else -1


@export(routes=MSG_ROUTES, module="sipmsgops")
def has_body(ctx: Ctx, mime: str | None = None) -> int:
    """A non-empty body, optionally of type `mime` (`application/sdp`)."""
    if not ctx.msg.body:
        return -1
    if not mime:
        return 1
    content_type = (ctx.msg.header("Content-Type") or "application/sdp").split(";")[0]
    return 1 if content_type.strip().lower() == mime.strip().lower() else -1


# ---------------------------------------------------------------------------- R-URI params


@export(routes=RURI_ROUTES, module="sipmsgops")
def ruri_has_param(ctx: Ctx, param: str, value: str | None = None) -> int:
    parts = ctx.ruri_parts
    if parts is None:
        return -1
    found = find_param(parts.params, param)
    if found is None:
        return -1
    if value is None:
        return 1
    return 1 if found == value else -1


@export(routes=RURI_ROUTES, module="sipmsgops")
def ruri_add_param(ctx: Ctx, param: str) -> int:
    """Append `;param` (e.g. `"user=phone"`) to the R-URI, before any `?headers`."""
    uri = ctx.ruri
    param = param.strip().lstrip(";")
    if uri is None or not param:
        return -1
    head, question, headers = uri.partition("?")
    return 1 if ctx.rewrite_ruri(f"{head};{param}{question}{headers}") else -1


@export(routes=RURI_ROUTES, module="sipmsgops")
def ruri_del_param(ctx: Ctx, param: str) -> int:
    uri = ctx.ruri
    parts = ctx.ruri_parts
    if uri is None or parts is None or find_param(parts.params, param) is None:
        return -1
    head, question, headers = uri.partition("?")
    base, _, params = head.partition(";")
    wanted = param.strip().lower()
    kept = [item for item in params.split(";") if item.partition("=")[0].strip().lower() != wanted]
    return 1 if ctx.rewrite_ruri(";".join([base, *kept]) + question + headers) else -1


@export(routes=RURI_ROUTES, module="sipmsgops")
def ruri_tel2sip(ctx: Ctx) -> int:
    """`tel:+123;x=y` -> `sip:+123;x=y@FROM_HOST;user=phone`; 1 also when nothing to do."""
    uri = ctx.ruri
    if uri is None:
        return -1
    if not uri.lower().startswith("tel:"):
        return 1
    host = ctx.from_host
    if not host:
        return -1
    return 1 if ctx.rewrite_ruri(f"sip:{uri[4:]}@{host};user=phone") else -1


_E164 = re.compile(r"\+[0-9]{2,15}")


@export(routes=R.REQUEST | R.FAILURE | R.LOCAL, module="sipmsgops")
def is_uri_user_e164(ctx: Ctx, uri: str) -> int:
    """Whether the user part of `uri` is an E.164 number (`+` and 2 to 15 digits)."""
    parts = parse_uri(uri)
    user = parts.user if parts is not None else None
    if parts is not None and parts.scheme == "tel":
        user = parts.host.split(";")[0]
    return 1 if user and _E164.fullmatch(user) else -1
