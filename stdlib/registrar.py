"""Module `registrar`: REGISTER processing (RFC 3261 §10.3) and lookups of registered users.

`save()` turns a REGISTER into changes of the location table (`stdlib.usrloc`) and
answers it; `lookup()` turns a request for a registered AOR into its destinations.
Errors are answered the way OpenSIPS answers them: the standard reason phrase, and the
detail in a `P-Registrar-Error` header.
"""

from __future__ import annotations

import email.utils
import functools
import ipaddress
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from runtime.api import Branch, Ctx, RouteKind
from runtime.core.stateful import Stateful
from runtime.sip import NameAddr, Request, SipParseError, SipURI, split_list
from runtime.transport.socketinfo import ListenSpecError, SocketInfo, parse_listen
from runtime.usrloc import (
    PERMANENT,
    Q_UNSPECIFIED,
    TABLES,
    Contact,
    LocationStore,
    StoreError,
    methods_mask,
)
from stdlib._modules import modparam_int, modparam_str
from stdlib._registry import StaticStr, Var, export
from stdlib.usrloc import (
    aor_key,
    aor_key_of_uri,
    by_priority,
    first_path_uri,
    hostport_of,
    location_table,
    next_hop,
    reached_at,
)

log = logging.getLogger(__name__)

_LOOKUP_ROUTES = RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.ONREPLY
_CHECK_ROUTES = (
    RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.ONREPLY | RouteKind.BRANCH | RouteKind.LOCAL
)


# ---------------------------------------------------------------------------- flags


@dataclass(frozen=True, slots=True)
class SaveFlags:
    """The flags of one `save()` call, 3.x names or 2.x letters."""

    memory_only: bool = False
    no_reply: bool = False
    max_contacts: int | None = None
    force_registration: bool = False
    path_mode: str | None = None
    """None: Path is ignored; "off": saved, never in the reply; "lazy": in the reply when
    the UA supports path; "strict": a UA that does not support path is refused (420)."""
    path_received: bool = False
    socket_header: bool = False
    min_expires: int | None = None
    max_expires: int | None = None


_SAVE_WORDS: dict[str, dict[str, object]] = {
    "memory-only": {"memory_only": True},
    "no-reply": {"no_reply": True},
    "force-registration": {"force_registration": True},
    "path-off": {"path_mode": "off"},
    "path-lazy": {"path_mode": "lazy"},
    "path-strict": {"path_mode": "strict"},
    "path-received": {"path_received": True},
    "socket-header": {"socket_header": True},
    "only-request-contacts": {},
}
_SAVE_NUMBERS = {
    "max-contacts": "max_contacts",
    "min-expires": "min_expires",
    "max-expires": "max_expires",
}
_SAVE_LETTERS: dict[str, dict[str, object]] = {
    "m": {"memory_only": True},
    "r": {"no_reply": True},
    "f": {"force_registration": True},
    "v": {"path_received": True},
    "s": {"socket_header": True},
}
_PATH_DIGITS = {"0": "off", "1": "lazy", "2": "strict"}


def _is_word_list(text: str) -> bool:
    return any(mark in text for mark in ",=-") or text in _SAVE_WORDS


@functools.lru_cache(maxsize=256)
def parse_save_flags(text: str) -> SaveFlags | None:
    """`"memory-only, max-contacts=2"` or `"mc2"`; None when a flag is not understood."""
    text = text.strip()
    fields: dict[str, object] = {}
    if _is_word_list(text):
        for item in text.split(","):
            name, eq, value = (part.strip() for part in item.partition("="))
            if not name:
                continue
            if name in _SAVE_WORDS and not eq:
                fields.update(_SAVE_WORDS[name])
            elif name in _SAVE_NUMBERS and value.isdigit():
                fields[_SAVE_NUMBERS[name]] = int(value)
            elif name != "matching-mode":  # one matching mode (contact, or instance) here
                return None
        return SaveFlags(**fields)  # type: ignore[arg-type]
    at = 0
    while at < len(text):
        letter = text[at]
        at += 1
        if letter in _SAVE_LETTERS:
            fields.update(_SAVE_LETTERS[letter])
        elif letter == "c":
            digits = re.match(r"\d+", text[at:])
            if digits is None:
                return None
            fields["max_contacts"] = int(digits.group())
            at += len(digits.group())
        elif letter == "p" and text[at : at + 1] in _PATH_DIGITS:
            fields["path_mode"] = _PATH_DIGITS[text[at]]
            at += 1
        else:
            return None
    return SaveFlags(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LookupFlags:
    no_branches: bool = False
    branches_only: bool = False
    method_filtering: bool = False
    ua_filter: re.Pattern[str] | None = None


@functools.lru_cache(maxsize=256)
def parse_lookup_flags(text: str) -> LookupFlags | None:
    """3.x names (`"no-branches, method-filtering"`) or 2.x letters (`"bm"`)."""
    text = text.strip()
    words: list[tuple[str, str]] = []
    if any(mark in text for mark in ",=-") or text in ("branch", "global"):
        for item in split_list(text) if text else []:
            name, _, value = item[1].strip().partition("=")
            words.append((name.strip(), value.strip()))
    else:
        words = [(letter, "") for letter in text]
    no_branches = branches_only = method_filtering = False
    ua_text: str | None = None
    regex_flags = 0
    for name, value in words:
        if name in ("no-branches", "b"):
            no_branches = True
        elif name in ("to-branches-only", "branch", "B"):
            branches_only = True
        elif name in ("method-filtering", "m"):
            method_filtering = True
        elif name == "ua-filtering" and value:
            ua_text = value.strip("/")
        elif name in ("case-insensitive", "i"):
            regex_flags |= re.IGNORECASE
        elif name in ("extended-regexp", "e", "global", "g", "max-ping-latency", "sort-by-latency"):
            continue  # Python regexes are extended already; one domain per table; no pinging
        else:
            return None
    try:
        ua_filter = re.compile(ua_text, regex_flags) if ua_text else None
    except re.error:
        return None
    return LookupFlags(no_branches, branches_only, method_filtering, ua_filter)


# ---------------------------------------------------------------------------- save


class Rejection(Exception):
    """A REGISTER refused: the reply to send (OpenSIPS puts the detail in a header)."""

    def __init__(self, code: int, reason: str, detail: str, *headers: str) -> None:
        super().__init__(f"{code} {reason}: {detail}")
        self.code = code
        self.reason = reason
        self.headers = (f"P-Registrar-Error: {detail}", *headers)


def _bad_request(detail: str) -> Rejection:
    return Rejection(400, "Bad Request", detail)


@export(routes=RouteKind.REQUEST | RouteKind.ONREPLY, module="registrar")
def save(
    ctx: Ctx,
    domain: StaticStr,
    flags: str | None = None,
    aor: str | None = None,
    ownership_tag: str | None = None,
) -> int:
    """Apply a REGISTER to table `domain` and answer it: 1 saved (200 sent unless
    no-reply), -2 refused (error reply sent unless no-reply), -1 other errors."""
    options = parse_save_flags(flags or "")
    if options is None:
        log.error("save(): flags %r are not understood", flags)
        return -1
    if not isinstance(ctx.msg, Request):
        # saving from a reply needs the request of its transaction: not reachable yet
        return -1
    store = location_table(domain)
    try:
        headers = _apply_register(ctx, store, options, aor, TABLES.clock())
    except Rejection as refusal:
        log.info("REGISTER refused: %s", refusal)
        if not options.no_reply:
            ctx.send_reply(refusal.code, refusal.reason, refusal.headers)
        return -2
    if options.no_reply:
        return 1
    stateful = getattr(ctx.core, "stateful", None)
    if isinstance(stateful, Stateful):  # the pipeline's: the 200 is written as bytes
        return 1 if stateful.reply_on_wire(ctx, 200, "OK", headers) > 0 else -1
    lines = [f"{name}: {value}" for name, value in headers]
    return 1 if ctx.send_reply(200, "OK", lines) > 0 else -1


@dataclass(slots=True)
class _Request:
    """What every binding of one REGISTER shares."""

    key: str
    callid: str
    cseq: int
    now: int
    path: str | None
    received: str | None
    nat_flag: str | None
    user_agent: str
    socket: str
    allow: int | None


def _apply_register(
    ctx: Ctx, store: LocationStore, options: SaveFlags, aor: str | None, now_f: float
) -> list[tuple[str, str]]:
    msg = ctx.msg
    assert isinstance(msg, Request)
    now = int(now_f)
    shared = _read_register(ctx, msg, options, aor, now)
    current = store.lookup(shared.key, now)
    try:
        entries = msg.contacts  # empty for `Contact: *`
    except SipParseError as exc:
        raise _bad_request("Contact parse error") from exc
    star = not entries and msg.contact_star
    if star:
        if len(msg.headers_named("Contact")) > 1 or "," in (msg.header("Contact") or ""):
            raise _bad_request("* used in contact and more than 1 contact")
        if _header_expires(msg) != 0:
            raise _bad_request("* used in contact and expires is not zero")
        _write(store, deletes=current)
        return _reply_headers(ctx, options, [], shared)
    if entries:
        deletes, updates, inserts = _plan(msg, entries, current, options, shared)
        deletes += _over_the_limit(current, deletes, updates, inserts, options)
        _write(store, deletes=deletes, updates=updates, inserts=inserts)
    return _reply_headers(ctx, options, store.lookup(shared.key, now), shared)


def _read_register(
    ctx: Ctx, msg: Request, options: SaveFlags, aor: str | None, now: int
) -> _Request:
    try:
        to = msg.to
        cseq = msg.cseq
    except SipParseError as exc:
        raise _bad_request("Message parse error") from exc
    if aor:
        key = aor_key(aor)
    elif to is None:
        raise _bad_request("To header not found")
    else:
        key = aor_key_of_uri(to.uri)
    if key is None:
        raise _bad_request("Error while parsing AOR")
    callid = msg.call_id
    if not callid:
        raise _bad_request("Call-ID header not found")
    if cseq is None:
        raise _bad_request("CSeq header not found")
    path = ",".join(msg.headers_named("Path")) or None if options.path_mode else None
    if path and options.path_mode == "strict" and not _supports_path(msg):
        raise Rejection(
            420, "Bad Extension", "No support for found Path indicated", "Unsupported: path"
        )
    received, nat_flag = _received(ctx, options, path)
    # interned: every binding saved through one socket, or from one kind of phone,
    # shares one string instead of holding a copy (~70 bytes each)
    socket = sys.intern(ctx.socket.name)
    if options.socket_header:
        header_name = modparam_str("registrar", "sock_hdr_name")
        socket = (msg.header(header_name) if header_name else None) or socket
    allow = msg.headers_named("Allow")
    return _Request(
        key=key,
        callid=callid.strip(),
        cseq=cseq.number,
        now=now,
        path=path,
        received=received,
        nat_flag=nat_flag,
        user_agent=sys.intern(msg.header("User-Agent") or ""),
        socket=socket,
        allow=methods_mask(",".join(allow)) if allow else None,
    )


def _header_expires(msg: Request) -> int | None:
    try:
        return msg.expires
    except SipParseError as exc:
        raise _bad_request("Expires parse error") from exc


def _supports_path(msg: Request) -> bool:
    supported = ",".join(msg.headers_named("Supported")).lower()
    return "path" in (token.strip() for token in supported.split(","))


def _received(ctx: Ctx, options: SaveFlags, path: str | None) -> tuple[str | None, str | None]:
    """Where the UA really is when it is behind a NAT, and the NAT flag to save with it.

    In order: the `received_avp` a NAT helper filled; with path-received, the `received`
    of the first Path hop; the source address when the script set the usrloc
    `nat_bflag`, or when the Contact holds a private address that is not the source
    (the private-contact + diff-ip tests of nat_uac_test, done here because sipc has no
    nathelper yet).
    """
    nat_flag = modparam_str("usrloc", "nat_bflag")
    avp_name = _avp_name(modparam_str("registrar", "received_avp"))
    if avp_name is not None:
        value = ctx.avp_get(avp_name)
        if isinstance(value, str) and value:
            return value, nat_flag
    if options.path_received and path:
        first = first_path_uri(path)
        # OpenSIPS's add_path_received() writes it %-escaped; param() unescapes it
        received = (first.param("received") or "").strip('"') if first is not None else None
        if received:
            return received, nat_flag
    flagged = nat_flag is not None and ctx.isflagset(nat_flag)
    if flagged or _contact_behind_nat(ctx):
        return _source_uri(ctx), nat_flag or "NAT"
    return None, None


def _contact_behind_nat(ctx: Ctx) -> bool:
    try:
        entries = ctx.msg.contacts
    except SipParseError:
        return False
    for entry in entries:
        uri = entry.uri
        if isinstance(uri, SipURI) and _is_private(uri.host) and uri.host.strip("[]") != ctx.src_ip:
            return True
    return False


# the addresses nat_uac_test's private-contact test knows: RFC 1918, RFC 6598 (carrier
# NAT), RFC 4193 (unique local IPv6); Python's is_private also counts documentation ranges
_NAT_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


@functools.lru_cache(maxsize=4096)
def _is_private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(address in net for net in _NAT_NETWORKS if net.version == address.version)


def _source_uri(ctx: Ctx) -> str:
    host = f"[{ctx.src_ip}]" if ":" in ctx.src_ip else ctx.src_ip
    proto = ctx.socket.proto
    transport = "" if proto == "udp" else f";transport={proto}"
    return f"sip:{host}:{ctx.src_port}{transport}"


def _avp_name(spec: str | None) -> str | None:
    if not spec:
        return None
    found = re.fullmatch(r"\s*\$avp\(([^)]+)\)\s*", spec)
    return found.group(1) if found else None


def _plan(
    msg: Request,
    entries: Sequence[NameAddr],
    current: list[Contact],
    options: SaveFlags,
    shared: _Request,
) -> tuple[list[Contact], list[Contact], list[Contact]]:
    """The deletes, updates and inserts a Contact list asks for (§10.3 steps 6-7)."""
    header_expires = _header_expires(msg)
    default_expires = modparam_int("registrar", "default_expires")
    min_expires = _limit(options.min_expires, "min_expires")
    max_expires = _limit(options.max_expires, "max_expires")
    existing = {c.contact_id: c for c in current}
    deletes: dict[int, Contact] = {}
    updates: dict[int, Contact] = {}
    inserts: list[Contact] = []
    too_brief = False
    for entry in entries:
        expires = _contact_expires(entry, header_expires, default_expires)
        if expires and min_expires and expires < min_expires:
            too_brief = True
            continue
        if max_expires and expires > max_expires:
            expires = max_expires
        new = _binding(entry, shared, expires, options)
        old = next((c for c in existing.values() if c.same_binding(new)), None)
        pending = next((c for c in inserts if c.same_binding(new)), None)
        if pending is not None:
            inserts.remove(pending)  # the same contact twice in one REGISTER: the last wins
        if old is None:
            if expires:
                inserts.append(new)
            continue
        if old.callid == shared.callid and not modparam_int("registrar", "allow_dup_cseq"):
            if shared.cseq < old.cseq:
                raise _bad_request("Invalid CSeq number")
            if shared.cseq == old.cseq:
                if old.last_modified + modparam_int("usrloc", "cseq_delay") > shared.now:
                    continue  # a retransmission: the binding stays as it is
                raise _bad_request("Invalid CSeq number")
        if expires:
            # `new` is ours alone: taking over the old binding's identity in place is
            # cheaper than a dataclasses.replace() on this path
            new.contact_id = old.contact_id
            new.memory_only = old.memory_only
            new.kv_store = old.kv_store
            new.refreshed = old.refreshed
            updates[old.contact_id] = new
            deletes.pop(old.contact_id, None)
        else:
            deletes[old.contact_id] = old
            updates.pop(old.contact_id, None)
    if too_brief:
        raise Rejection(
            423, "Interval Too Brief", "Interval too brief", f"Min-Expires: {min_expires}"
        )
    return list(deletes.values()), list(updates.values()), inserts


def _limit(per_call: int | None, modparam: str) -> int:
    return per_call if per_call is not None else modparam_int("registrar", modparam)


def _contact_expires(entry: NameAddr, header_expires: int | None, default: int) -> int:
    text = entry.param("expires")
    if text is not None:
        if not text.isdigit():
            raise _bad_request("Invalid expires param in contact")
        return int(text)
    return header_expires if header_expires is not None else default


def _binding(entry: NameAddr, shared: _Request, expires: int, options: SaveFlags) -> Contact:
    q_text = entry.param("q")
    if q_text is None:
        q = modparam_int("registrar", "default_q")
        q = q if 0 <= q <= 1000 else Q_UNSPECIFIED
    else:
        q = _parse_q(q_text)
    instance = entry.param("+sip.instance")
    reg_id = entry.param("reg-id") or "0"
    methods = entry.param("methods")
    return Contact(
        aor=shared.key,
        uri=str(entry.uri),
        expires=shared.now + expires if expires else 0,
        q=q,
        callid=shared.callid,
        cseq=shared.cseq,
        received=shared.received,
        path=shared.path,
        cflags=shared.nat_flag or "",
        user_agent=shared.user_agent,
        socket=shared.socket,
        methods=methods_mask(methods) if methods else shared.allow,
        instance=instance.strip('"') if instance else None,
        reg_id=int(reg_id) if reg_id.isdigit() else 0,
        last_modified=float(shared.now),
        memory_only=options.memory_only,
    )


def _parse_q(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise _bad_request("Invalid q param in contact")
    return round(value * 1000)


def _over_the_limit(
    current: list[Contact],
    deletes: list[Contact],
    updates: list[Contact],
    inserts: list[Contact],
    options: SaveFlags,
) -> list[Contact]:
    """Bindings to drop so the AOR stays within max-contacts (force-registration: the
    least recently changed go), or a 503 refusal."""
    limit = _limit(options.max_contacts, "max_contacts")
    if not limit:
        return []
    gone = {c.contact_id for c in deletes}
    staying = [c for c in current if c.contact_id not in gone]
    excess = len(staying) + len(inserts) - limit
    if excess <= 0:
        return []
    if options.force_registration:
        refreshed = {c.contact_id for c in updates}
        oldest = [c for c in staying if c.contact_id not in refreshed]
        if len(oldest) >= excess and len(inserts) <= limit:
            return oldest[:excess]
    retry_after = modparam_int("registrar", "retry_after")
    extra = (f"Retry-After: {retry_after}",) if retry_after > 0 else ()
    raise Rejection(503, "Service Unavailable", "Too many registered contacts", *extra)


def _write(
    store: LocationStore,
    *,
    deletes: Sequence[Contact] = (),
    updates: Sequence[Contact] = (),
    inserts: Sequence[Contact] = (),
) -> None:
    try:
        for contact in deletes:
            store.delete(contact)
        for contact in updates:
            store.update(contact)
        for contact in inserts:
            store.insert(contact)
    except StoreError as exc:
        log.error("location table `%s`: %s", store.table, exc)
        raise Rejection(500, "Server Internal Error", "Error while updating the contacts") from exc


def _reply_headers(
    ctx: Ctx, options: SaveFlags, bindings: list[Contact], shared: _Request
) -> list[tuple[str, str]]:
    """The 200's headers: every current binding with its remaining time (§10.3 step 8)."""
    received_param = modparam_str("registrar", "received_param")
    headers = []
    for contact in bindings:
        line = [f"<{contact.uri}>"]
        if contact.q != Q_UNSPECIFIED:
            line.append(f";q={format_q(contact.q)}")
        if contact.expires != PERMANENT:
            line.append(f";expires={max(contact.expires - shared.now, 0)}")
        if contact.received and received_param:
            line.append(f';{received_param}="{contact.received}"')
        if contact.instance:
            line.append(f';+sip.instance="{contact.instance}"')
        if contact.reg_id:
            line.append(f";reg-id={contact.reg_id}")
        headers.append(("Contact", "".join(line).strip()))
    msg = ctx.msg
    assert isinstance(msg, Request)
    if shared.path and options.path_mode in ("lazy", "strict") and _supports_path(msg):
        headers.append(("Path", shared.path.strip()))
    headers.append(("Date", _date_value(shared.now)))
    return headers


@functools.lru_cache(maxsize=4)
def _date_value(now: int) -> str:
    return email.utils.formatdate(now, usegmt=True)


def format_q(q: int) -> str:
    """Thousandths as a qvalue: 1000 -> `1`, 500 -> `0.5`, 125 -> `0.125`."""
    whole, frac = divmod(q, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------- lookup


@export(routes=_LOOKUP_ROUTES, module="registrar")
def lookup(ctx: Ctx, domain: StaticStr, flags: str | None = None, aor: str | None = None) -> int:
    """Send the request to the bindings of `aor` (default the R-URI): the best one
    becomes the R-URI (and `$du`), every other one a branch, by q then most recent.
    1 found, -1 not registered, -2 registered but no binding accepts the method, -3 error."""
    options = parse_lookup_flags(flags or "")
    if options is None:
        return -3
    key = _lookup_key(ctx, aor)
    if key is None:
        return -3
    bindings = location_table(domain).lookup(key, TABLES.clock())
    if options.ua_filter is not None:
        ua_filter = options.ua_filter
        bindings = [c for c in bindings if ua_filter.search(c.user_agent)]
    if not bindings:
        return -1
    if options.method_filtering:
        method = ctx.method
        bindings = [c for c in bindings if c.allows(method)]
        if not bindings:
            return -2
    ordered = by_priority(bindings)
    if not options.branches_only:
        _route_to(ctx, ordered[0])
        ordered = ordered[1:]
    if not options.no_branches:
        for contact in ordered:
            q = None if contact.q == Q_UNSPECIFIED else contact.q
            ctx.branches.append(Branch(contact.uri, next_hop(contact), q, contact.path))
    return 1


def _lookup_key(ctx: Ctx, aor: str | None) -> str | None:
    """The key of `aor`, else of the R-URI (parsed once, by the message)."""
    if aor:
        return aor_key(aor)
    msg = ctx.msg
    if not isinstance(msg, Request):
        return None
    text = msg.ruri_text
    if not text:
        return None
    try:
        uri = msg.ruri
    except SipParseError:
        return aor_key(text)  # what a script wrote into $ru need not be a URI
    return aor_key_of_uri(uri)


def _route_to(ctx: Ctx, contact: Contact) -> None:
    ctx.ruri = contact.uri
    ctx.du = next_hop(contact)
    # the R-URI branch's q, which serialize_branches orders by
    ctx.ruri_q = None if contact.q == Q_UNSPECIFIED else contact.q
    if contact.path:
        # the R-URI branch has no path slot on the context: its Route set goes on the message
        for hop in reversed(split_list(contact.path)):
            ctx.msg.add_header("Route", hop[1].strip(), at_top=True)
    if contact.socket:
        socket = _saved_socket(contact.socket)
        if socket is not None and ctx.is_myself(socket.ip, socket.port):
            ctx.out_socket = socket


@functools.lru_cache(maxsize=256)
def _saved_socket(name: str) -> SocketInfo | None:
    """The socket a binding was saved from (`udp:ip:port`), parsed once per name: every
    lookup of every binding names one of the few sockets we listen on."""
    try:
        return parse_listen(name)
    except ListenSpecError:
        return None


# ---------------------------------------------------------------------------- queries


def _aor_of(ctx: Ctx, aor: str | None) -> str | None:
    """The key for an explicit AOR, else for the To URI of the message."""
    if aor:
        return aor_key(aor)
    try:
        to = ctx.msg.to
    except SipParseError:
        return None
    return aor_key_of_uri(to.uri) if to is not None else None


@export(routes=_CHECK_ROUTES, module="registrar")
def is_registered(ctx: Ctx, domain: StaticStr, aor: str | None = None) -> int:
    """1 when the AOR (default: the To URI) has at least one valid binding."""
    key = _aor_of(ctx, aor)
    if key is None:
        return -1
    return 1 if location_table(domain).lookup(key, TABLES.clock()) else -1


@export(routes=_CHECK_ROUTES, module="registrar")
def is_contact_registered(
    ctx: Ctx,
    domain: StaticStr,
    aor: str | None = None,
    contact: str | None = None,
    callid: str | None = None,
) -> int:
    """1 when a binding of the AOR has this contact URI (default: the message's first
    Contact) and, when given, this Call-ID."""
    key = _aor_of(ctx, aor)
    if key is None:
        return -1
    wanted = contact.strip().strip("<>") if contact else None
    if wanted is None and callid is None:
        try:
            entries = ctx.msg.contacts
        except SipParseError:
            return -1
        if not entries:
            return -1
        wanted = str(entries[0].uri)
    for binding in location_table(domain).lookup(key, TABLES.clock()):
        if wanted is not None and binding.uri != wanted:
            continue
        if callid is not None and binding.callid != callid:
            continue
        return 1
    return -1


@export(routes=_CHECK_ROUTES, module="registrar")
def is_ip_registered(
    ctx: Ctx, domain: StaticStr, aor: str | None, ip_var: Var, port_var: Var | None = None
) -> int:
    """1 when a binding of the AOR is reached at one of the IPs in `ip_var` (and, when
    given, one of the ports in `port_var`): its received address, else its contact."""
    key = _aor_of(ctx, aor)
    if key is None:
        return -2
    ips = {str(v).strip("[]").lower() for v in ip_var.values()}
    ports = {int(v) for v in port_var.values() if str(v).isdigit()} if port_var else None
    for binding in location_table(domain).lookup(key, TABLES.clock()):
        host, port = reached_at(binding)
        if host in ips and (ports is None or port in ports):
            return 1
    return -1


# ---------------------------------------------------------------------------- removal


@export(routes=RouteKind.REQUEST | RouteKind.ONREPLY, module="registrar")
def remove(
    ctx: Ctx,
    domain: StaticStr,
    aor: str,
    contact: str | None = None,
    next_hop: str | None = None,
    sip_instance: str | None = None,
    bflag: str | None = None,
) -> int:
    """Remove the bindings of `aor` that match every filter given (all of them when none
    is); 1 also when nothing matched, -1 for an unusable AOR."""
    key = aor_key(aor)
    if key is None:
        return -1
    hop = hostport_of(next_hop) if next_hop else None
    store = location_table(domain)
    doomed = []
    for binding in store.lookup(key, TABLES.clock()):
        if contact and binding.uri != contact.strip().strip("<>"):
            continue
        if hop is not None and reached_at(binding) != hop:
            continue
        if sip_instance and binding.instance != sip_instance.strip('"'):
            continue
        if bflag and bflag not in binding.cflags.split(","):
            continue
        doomed.append(binding)
    try:
        _write(store, deletes=doomed)
    except Rejection:
        return -1
    return 1


@export(routes=RouteKind.ALL, module="registrar")
def remove_ip_port(ctx: Ctx, ip: str, port: int, domain: StaticStr, aor: str | None = None) -> int:
    """Remove every binding reached at `ip:port` (of `aor` only, when given)."""
    store = location_table(domain)
    wanted = (ip.strip().strip("[]").lower(), port)
    if aor:
        key = aor_key(aor)
        if key is None:
            return -1
        candidates = store.lookup(key, TABLES.clock())
    else:
        candidates = list(store.contacts())
    doomed = [b for b in candidates if reached_at(b) == wanted]
    try:
        _write(store, deletes=doomed)
    except Rejection:
        return -1
    return 1


@export(routes=_CHECK_ROUTES, module="registrar")
def add_sock_hdr(ctx: Ctx, hdr_name: str) -> int:
    """Add a header `hdr_name` naming the socket the request came in on (read back by
    `save()` with the socket-header flag on the registrar behind us)."""
    if not hdr_name or not isinstance(ctx.msg, Request):
        return -1
    ctx.append_header(f"{hdr_name}: {ctx.socket.name}")
    return 1
