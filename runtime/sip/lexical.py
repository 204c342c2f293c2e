"""Lexical pieces of RFC 3261 §25 shared by the header and URI parsers.

Each helper works on one already-unfolded header value (a `str`) and reports faults as
`SipParseError` with an offset relative to the text it was given; callers shift it to a
message offset. Scans use `str.find`/`split` and go character by character only where
quotes or angle brackets make that unavoidable.
"""

from __future__ import annotations

import ipaddress
import re

from runtime.sip.errors import SipParseError

# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
# Host names as seen in the field: RFC 3261 letters, digits, '-' and '.', plus '_' which
# real devices use in spite of the grammar.
_HOSTNAME = re.compile(r"[A-Za-z0-9_\-.]+")
_DIGITS = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(r"[ \t\r\n]")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

Params = tuple[tuple[str, str | None], ...]
"""Parameters in written order: (name, value) with value None for a flag (`;lr`)."""


def is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def is_digits(text: str) -> bool:
    return _DIGITS.fullmatch(text) is not None


def has_whitespace(text: str) -> bool:
    return _WHITESPACE.search(text) is not None


def first_whitespace(text: str) -> int:
    """Index of the first SP, HT, CR or LF in `text`, or -1."""
    found = _WHITESPACE.search(text)
    return -1 if found is None else found.start()


def check_escapes(text: str, offset: int = 0) -> None:
    """Every '%' must start a %HH escape."""
    if "%" in text:
        bad = _ESCAPE.search(text)
        if bad is not None:
            raise SipParseError("'%' not followed by two hex digits", offset + bad.start())


def closing_quote(text: str, opening: int) -> int:
    """Index of the '"' closing the quoted string opened at `opening`, or -1."""
    pos = opening + 1
    while True:
        quote = text.find('"', pos)
        if quote < 0:
            return -1
        backslash = text.find("\\", pos, quote)
        if backslash < 0:
            return quote
        pos = backslash + 2  # a quoted-pair: skip the escaped character


def unquote(quoted: str) -> str:
    """The content of a quoted-string (with its quotes), quoted-pairs resolved."""
    inner = quoted[1:-1]
    if "\\" not in inner:
        return inner
    out: list[str] = []
    pos = 0
    while True:
        backslash = inner.find("\\", pos)
        if backslash < 0 or backslash + 1 >= len(inner):
            out.append(inner[pos:])
            return "".join(out)
        out.append(inner[pos:backslash])
        out.append(inner[backslash + 1])
        pos = backslash + 2


def quote(text: str) -> str:
    """`text` as a quoted-string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_list(text: str) -> list[tuple[int, str]]:
    """Split a header value on commas outside quoted strings and <...>.

    Returns (offset, element) pairs; elements are not stripped.
    """
    if "," not in text:
        if '"' not in text:
            return [(0, text)]  # one element (Contact, Route...): the common case
    elif '"' not in text and "<" not in text:
        pieces: list[tuple[int, str]] = []
        pos = 0
        for piece in text.split(","):
            pieces.append((pos, piece))
            pos += len(piece) + 1
        return pieces
    pieces = []
    start = 0
    pos = 0
    in_angle = False
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == '"' and not in_angle:
            end = closing_quote(text, pos)
            if end < 0:
                raise SipParseError("unterminated quoted string", pos)
            pos = end + 1
            continue
        if char == "<":
            in_angle = True
        elif char == ">":
            in_angle = False
        elif char == "," and not in_angle:
            pieces.append((start, text[start:pos]))
            start = pos + 1
        pos += 1
    pieces.append((start, text[start:]))
    return pieces


# The common shape, `;name=value;flag` with token names and token/host values and no
# LWS: one regex match instead of the general per-parameter checks below.
_SIMPLE_PARAMS = re.compile(r"(?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:\[\]]+)?)+")


def parse_params(text: str, offset: int = 0) -> Params:
    """Parse `;name[=value]` pairs; `text` is empty or starts (after LWS) with ';'.

    LWS around ';' and '=' is allowed (RFC 3261 SEMI / EQUAL); values may be tokens,
    hosts or quoted strings (kept with their quotes).
    """
    if _SIMPLE_PARAMS.fullmatch(text) is not None:
        pairs = [piece.partition("=") for piece in text[1:].split(";")]
        return tuple([(name, value if equals else None) for name, equals, value in pairs])
    return parse_params_general(text, offset)


def parse_params_general(text: str, offset: int = 0) -> Params:
    """`parse_params` without the fast path (tests compare the two)."""
    stripped = text.strip()
    if not stripped:
        return ()
    if stripped[0] != ";":
        raise SipParseError("expected ';' before a parameter", offset + text.find(stripped[0]))
    if '"' in stripped:
        parts = _split_semicolons_quoted(stripped, offset)
    else:
        parts = []
        pos = 0
        for piece in stripped.split(";"):
            parts.append((pos, piece))
            pos += len(piece) + 1
    params: list[tuple[str, str | None]] = []
    base = offset + text.find(";")
    for part_at, part in parts[1:]:
        name, equals, value = part.partition("=")
        name = name.strip()
        if not name:
            raise SipParseError("empty parameter", base + part_at)
        if not is_token(name):
            raise SipParseError(f"bad parameter name {name!r}", base + part_at)
        if not equals:
            params.append((name, None))
            continue
        value = value.strip()
        if not value:
            raise SipParseError(f"parameter {name!r} has '=' but no value", base + part_at)
        if value[0] == '"':
            if closing_quote(value, 0) != len(value) - 1:
                raise SipParseError(f"bad quoted value for {name!r}", base + part_at)
        elif has_whitespace(value) or '"' in value:
            raise SipParseError(f"bad value for parameter {name!r}", base + part_at)
        params.append((name, value))
    return tuple(params)


def _split_semicolons_quoted(text: str, offset: int) -> list[tuple[int, str]]:
    parts: list[tuple[int, str]] = []
    start = 0
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == '"':
            end = closing_quote(text, pos)
            if end < 0:
                raise SipParseError("unterminated quoted string", offset + pos)
            pos = end + 1
            continue
        if char == ";":
            parts.append((start, text[start:pos]))
            start = pos + 1
        pos += 1
    parts.append((start, text[start:]))
    return parts


def find_param(params: Params, name: str) -> tuple[bool, str | None]:
    """(present, value) for the first parameter called `name` (case-insensitive)."""
    lowered = name.lower()
    for key, value in params:
        # names as usually written (lowercase) match without a lower() call
        if key == lowered or key.lower() == lowered:
            return True, value
    return False, None


def format_params(params: Params) -> str:
    return "".join([f";{key}" if value is None else f";{key}={value}" for key, value in params])


def parse_port(text: str, offset: int) -> int:
    if not (0 < len(text) <= 5) or not is_digits(text):
        raise SipParseError(f"bad port {text!r}", offset)
    port = int(text)
    if port > 65535:
        raise SipParseError(f"port {port} out of range", offset)
    return port


def parse_hostport(text: str, offset: int = 0) -> tuple[str, int | None]:
    """host [":" port] with host a name, IPv4 address or [IPv6] reference.

    The host is returned as written (IPv6 keeps its brackets).
    """
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError("IPv6 reference without ']'", offset)
        check_ipv6(text[1:end], offset + 1)
        host = text[: end + 1]
        rest = text[end + 1 :]
        if not rest:
            return host, None
        if rest[0] != ":":
            raise SipParseError("unexpected text after IPv6 reference", offset + end + 1)
        return host, parse_port(rest[1:], offset + end + 2)
    host, colon, port_text = text.partition(":")
    if not host or _HOSTNAME.fullmatch(host) is None:
        raise SipParseError(f"bad host {host!r}", offset)
    if not colon:
        return host, None
    return host, parse_port(port_text, offset + len(host) + 1)


def check_ipv6(text: str, offset: int) -> None:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        raise SipParseError(f"bad IPv6 address {text!r}", offset) from None
