"""Parsers for the header fields a proxy reads: Via, name-addr headers, CSeq.

Header names: `canonical_name()` maps any spelling (case, compact form) to the
lowercase long name used as the lookup key, so `v`, `VIA` and `Via` are one header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.sip.errors import SipParseError
from runtime.sip.lexical import (
    Params,
    closing_quote,
    find_param,
    format_params,
    has_whitespace,
    is_digits,
    is_token,
    parse_hostport,
    parse_params,
    quote,
    split_list,
    unquote,
)
from runtime.sip.uri import URI, parse_uri

# RFC 3261 §7.3.3 compact forms plus those registered since (IANA SIP parameters).
COMPACT_FORMS: dict[str, str] = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

MAGIC_COOKIE = "z9hG4bK"


def canonical_name(name: str) -> str:
    """Lookup key of a header name: lowercase long form (`"v"` -> `"via"`)."""
    lowered = name.strip().lower()
    return COMPACT_FORMS.get(lowered, lowered)


class Via:
    """One via-parm: `SIP/2.0/UDP host:port;branch=...;received=...;rport`.

    A plain class, not a dataclass like the other values here: a Via is built for every
    request that passes, and compiled (runtime/_native.py) a written-out `__init__` is
    native code where a dataclass's generated one would stay interpreted.
    """

    __slots__ = ("host", "params", "port", "protocol", "transport")

    def __init__(
        self,
        protocol: str,
        transport: str,
        host: str,
        port: int | None = None,
        params: Params = (),
    ) -> None:
        self.protocol = protocol
        self.transport = transport
        self.host = host
        self.port = port
        self.params = params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Via):
            return NotImplemented
        return (
            self.protocol == other.protocol
            and self.transport == other.transport
            and self.host == other.host
            and self.port == other.port
            and self.params == other.params
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the dataclasses here

    def __repr__(self) -> str:
        return (
            f"Via(protocol={self.protocol!r}, transport={self.transport!r}, "
            f"host={self.host!r}, port={self.port!r}, params={self.params!r})"
        )

    def with_params(self, params: Params) -> Via:
        """This Via with other parameters."""
        return Via(self.protocol, self.transport, self.host, self.port, params)

    def _param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    @property
    def branch(self) -> str | None:
        return self._param("branch")

    @property
    def has_rfc3261_branch(self) -> bool:
        """True when the branch starts with the magic cookie and has an identifier after it."""
        branch = self.branch
        return branch is not None and branch.startswith(MAGIC_COOKIE) and len(branch) > 7

    @property
    def needs_rfc2543_matching(self) -> bool:
        """The RFC 2543 fallback flag: no usable branch, so §17.2.3 matching cannot be used."""
        return not self.has_rfc3261_branch

    @property
    def received(self) -> str | None:
        return self._param("received")

    @property
    def has_rport(self) -> bool:
        return find_param(self.params, "rport")[0]

    @property
    def rport(self) -> int | None:
        """The rport value when the param carries one (`;rport=5060`); see `has_rport`."""
        value = self._param("rport")
        return int(value) if value is not None else None

    @property
    def maddr(self) -> str | None:
        return self._param("maddr")

    @property
    def ttl(self) -> int | None:
        value = self._param("ttl")
        return int(value) if value is not None else None

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.protocol}/{self.transport} {self.sent_by}{format_params(self.params)}"


@dataclass(slots=True)
class NameAddr:
    """From, To, Contact, Route, Record-Route entry: display name, URI, header params.

    `bracketed` says whether the URI was written inside <...> (name-addr) or bare
    (addr-spec); in the bare form every ';param' belongs to the header, not the URI.
    """

    display_name: str | None
    uri: URI
    params: Params = ()
    bracketed: bool = True

    def param(self, name: str) -> str | None:
        """Header parameter value ("" for a flag, None when absent)."""
        present, value = find_param(self.params, name)
        if not present:
            return None
        return "" if value is None else value

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    @property
    def expires(self) -> int | None:
        value = self.param("expires")
        return int(value) if value is not None and is_digits(value) else None

    @property
    def q(self) -> float | None:
        value = self.param("q")
        try:
            return float(value) if value else None
        except ValueError:
            return None

    def __str__(self) -> str:
        display = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{display}<{self.uri}>{format_params(self.params)}"


@dataclass(slots=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def parse_via_list(text: str, offset: int = 0) -> list[Via]:
    """All via-parms of one Via header value (comma-separated)."""
    if "," not in text:
        return [parse_via(text, offset)]
    return [parse_via_element(item, offset + at) for at, item in split_list(text)]


def parse_via_element(item: str, offset: int = 0) -> Via:
    """`parse_via(item, offset)` for a list element, which usually starts with LWS.

    The leading LWS would send it to the general parser; when the rest has the simple
    shape, the fast path parses the rest instead. Same result, and the same error
    offsets (the simple shape leaves only errors placed past the LWS).
    """
    text = item.lstrip(" \t")
    if text is not item:
        simple = _SIMPLE_VIA.fullmatch(text)
        if simple is not None:
            via = _simple_via(simple, offset + len(item) - len(text))
            if via is not None:
                return via
    return parse_via(item, offset)


# `SIP/2.0/UDP host:port;params` without LWS or IPv6, with parameters of the simple shape
# `lexical.parse_params` splits without checks: one match covers the whole value, so the
# top Via of every message (read on every message) costs one regex and one split.
_SIMPLE_VIA = re.compile(
    r"SIP/2\.0/([A-Za-z]+) ([A-Za-z0-9_\-.]+)(?::([0-9]{1,5}))?"
    r"((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:\[\]]+)?)*)"
)
# `"Display" <uri>;params`, `Token Display <uri>;params` or `<uri>;params` with no
# escapes in the display name and no LWS in the parameters.
_SIMPLE_NAME_ADDR = re.compile(
    r"(?:\"([^\"\\]*)\" *|([A-Za-z0-9\-.!%*_+`'~ ]*))<([^<>\s\"]+)>((?:;[^;\s\"<>]+)*)"
)
_VIA_CHECKED_PARAMS = frozenset({"ttl", "rport", "branch", "received", "maddr"})
_VIA_FINE_WITH_VALUE = frozenset({"branch", "received", "maddr"})


def parse_via(text: str, offset: int = 0) -> Via:
    """One via-parm; LWS is allowed around '/', ':', ';' and '=' (RFC 4475 wsinv)."""
    simple = _SIMPLE_VIA.fullmatch(text)
    if simple is not None:
        via = _simple_via(simple, offset)
        if via is not None:
            return via
    return parse_via_general(text, offset)


def _simple_via(simple: re.Match[str], offset: int) -> Via | None:
    """The Via of a `_SIMPLE_VIA` match (`offset`: where its text starts); None when the
    port is out of range, for the general parser to report."""
    transport, host, port_text, param_text = simple.groups()
    port = int(port_text) if port_text is not None else None
    if port is not None and port > 65535:
        return None
    if not param_text:
        return Via("SIP/2.0", transport, host, port)
    # one loop builds the params and vets the usual ones (branch, received, rport: the
    # regex allows only ASCII there, so isdigit() is [0-9]+); anything else goes through
    # the full checks
    params: list[tuple[str, str | None]] = []
    vetted = True
    for piece in param_text[1:].split(";"):
        name, equals, value = piece.partition("=")
        if equals:
            params.append((name, value))
            if name not in _VIA_FINE_WITH_VALUE and not (name == "rport" and value.isdigit()):
                vetted = False
        else:
            params.append((name, None))
            if name != "rport":
                vetted = False
    via = Via("SIP/2.0", transport, host, port, tuple(params))
    if not vetted:
        _check_via_params(via, offset + simple.start(4))
    return via


def parse_via_general(text: str, offset: int = 0) -> Via:
    """`parse_via` without the fast path (every via-parm shape; tests compare the two)."""
    semicolon = text.find(";")
    head = text if semicolon < 0 else text[:semicolon]
    parts = head.split("/", 2)
    if len(parts) != 3:
        raise SipParseError("Via must start with protocol-name/version/transport", offset)
    name, version, rest = parts[0].strip(), parts[1].strip(), parts[2].strip()
    transport_and_host = rest.split(None, 1)
    if len(transport_and_host) != 2:
        raise SipParseError("Via without a sent-by host", offset)
    transport, sent_by = transport_and_host
    if not (is_token(name) and is_token(version) and is_token(transport)):
        raise SipParseError("bad Via protocol", offset)
    sent_by = sent_by.strip()
    if has_whitespace(sent_by):
        sent_by = re.sub(r"\s*:\s*", ":", sent_by)
        if has_whitespace(sent_by):
            raise SipParseError("whitespace inside the Via sent-by", offset)
    host, port = parse_hostport(sent_by, offset + text.find(sent_by[:1]))
    params = () if semicolon < 0 else parse_params(text[semicolon:], offset + semicolon)
    via = Via(f"{name}/{version}", transport, host, port, params)
    _check_via_params(via, offset + max(semicolon, 0))
    return via


def _check_via_params(via: Via, offset: int) -> None:
    for key, value in via.params:
        # the usual parameters as usually spelled pass without lower() and the checks below
        if key in _VIA_FINE_WITH_VALUE if value is not None else key == "rport":
            continue
        lowered = key.lower()
        if lowered not in _VIA_CHECKED_PARAMS:
            continue
        if lowered == "ttl" and (value is None or not is_digits(value) or int(value) > 255):
            raise SipParseError("Via ttl must be 0-255", offset)
        if lowered == "rport" and value is not None and not is_digits(value):
            raise SipParseError("Via rport must be a port number", offset)
        if lowered in ("branch", "received", "maddr") and value is None:
            raise SipParseError(f"Via {key} needs a value", offset)


def parse_name_addr(text: str, offset: int = 0, *, require_brackets: bool = False) -> NameAddr:
    """`"Display" <uri>;params`, `token display <uri>;params` or bare `uri;params`.

    A token display name glued to '<' (`caller<sip:...>`) is accepted (RFC 4475 lwsdisp).
    """
    simple = _SIMPLE_NAME_ADDR.fullmatch(text)
    if simple is not None:
        quoted, words, uri_text, param_text = simple.groups()
        uri = parse_uri(uri_text, offset + simple.start(3))
        params = parse_params(param_text, offset + simple.start(4)) if param_text else ()
        if quoted is not None:
            display: str | None = quoted
        else:
            display = " ".join(words.split()) or None
        return NameAddr(display, uri, params, bracketed=True)
    return parse_name_addr_general(text, offset, require_brackets=require_brackets)


def parse_name_addr_general(
    text: str, offset: int = 0, *, require_brackets: bool = False
) -> NameAddr:
    """`parse_name_addr` without the fast path (tests compare the two)."""
    stripped = text.strip()
    if not stripped:
        raise SipParseError("empty address", offset)
    lead = offset + text.find(stripped[0])
    display = None
    if stripped[0] == '"':
        end = closing_quote(stripped, 0)
        if end < 0:
            raise SipParseError("unterminated quoted display name", lead)
        display = unquote(stripped[: end + 1])
        rest_at = end + 1
        while rest_at < len(stripped) and stripped[rest_at] in " \t":
            rest_at += 1
        if rest_at >= len(stripped) or stripped[rest_at] != "<":
            raise SipParseError("quoted display name must be followed by <uri>", lead + rest_at)
        return _bracketed(stripped, rest_at, display, lead)
    angle = stripped.find("<")
    if angle >= 0:
        before = stripped[:angle]
        if not any(char in before for char in ':;"'):
            words = before.split()
            for word in words:
                if not is_token(word):
                    raise SipParseError(f"bad display name {before.strip()!r}", lead)
            display = " ".join(words) if words else None
            return _bracketed(stripped, angle, display, lead)
    if require_brackets:
        raise SipParseError("address must be written as <uri>", lead)
    semicolon = stripped.find(";")
    uri_text = (stripped if semicolon < 0 else stripped[:semicolon]).rstrip()
    if any(char in uri_text for char in '?,<>"'):
        raise SipParseError(
            "a URI with '?', ',' or '<' must be enclosed in <> (RFC 3261 §20.10)", lead
        )
    uri = parse_uri(uri_text, lead)
    params = () if semicolon < 0 else parse_params(stripped[semicolon:], lead + semicolon)
    return NameAddr(None, uri, params, bracketed=False)


def _bracketed(text: str, angle: int, display: str | None, offset: int) -> NameAddr:
    close = text.find(">", angle)
    if close < 0:
        raise SipParseError("'<' without '>'", offset + angle)
    uri_text = text[angle + 1 : close]
    if uri_text != uri_text.strip() or not uri_text:
        raise SipParseError("whitespace around the URI inside <>", offset + angle + 1)
    uri = parse_uri(uri_text, offset + angle + 1)
    params = parse_params(text[close + 1 :], offset + close + 1)
    return NameAddr(display, uri, params, bracketed=True)


def parse_name_addr_list(
    text: str, offset: int = 0, *, require_brackets: bool = False
) -> list[NameAddr]:
    """Comma-separated name-addr entries (Contact, Route, Record-Route)."""
    entries = []
    for at, item in split_list(text):
        if not item.strip():
            raise SipParseError("empty list element", offset + at)
        entries.append(parse_name_addr(item, offset + at, require_brackets=require_brackets))
    return entries


def parse_cseq(text: str, offset: int = 0) -> CSeq:
    parts = text.split()
    if len(parts) != 2 or not is_digits(parts[0]) or not is_token(parts[1]):
        raise SipParseError("CSeq must be 'number method'", offset)
    return CSeq(int(parts[0]), parts[1])


def parse_number(text: str, what: str, offset: int = 0) -> int:
    """A header whose whole value is a decimal number (Max-Forwards, Expires, ...)."""
    if not is_digits(text):
        raise SipParseError(f"{what} must be a number", offset)
    return int(text)
