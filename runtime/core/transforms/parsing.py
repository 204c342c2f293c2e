"""Compact, forgiving parsers for the SIP parts transformations read.

A SIP/tel URI, one Via body, a name-addr list, a ``;`` parameter list and an RFC 4180 CSV
record. Each returns None for text it cannot read, which the transformations turn into NULL.
They are separate from ``runtime.sip`` on purpose: transformations return text as written
(the raw parameter string of ``{uri.params}``, a Via comment, a display name with its quotes,
the length of a name-addr without its parameters), which the message parser's structured
forms do not keep, and they must accept the loose input OpenSIPS accepts rather than reject
it the way a message parser should.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Params = tuple[tuple[str, str | None], ...]


def split_outside_quotes(text: str, separator: str, *, angle_brackets: bool = False) -> list[str]:
    """Split on ``separator`` where it is not inside "quotes" (or <brackets>, if asked)."""
    parts: list[str] = []
    start = 0
    in_quotes = False
    bracket_depth = 0
    position = 0
    while position < len(text):
        char = text[position]
        if in_quotes:
            if char == "\\":
                position += 1  # the escaped character cannot close the quotes
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif angle_brackets and char == "<":
            bracket_depth += 1
        elif angle_brackets and char == ">" and bracket_depth:
            bracket_depth -= 1
        elif char == separator and not bracket_depth:
            parts.append(text[start:position])
            start = position + 1
        position += 1
    parts.append(text[start:])
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_params(text: str) -> Params | None:
    """``a=1;b;c="x y"`` -> ``(("a", "1"), ("b", None), ("c", "x y"))``; None if malformed."""
    params: list[tuple[str, str | None]] = []
    for part in split_outside_quotes(text.strip().lstrip(";"), ";"):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        name = name.strip()
        if not name or any(c.isspace() for c in name):
            return None
        params.append((name, _unquote(value.strip()) if equals else None))
    return tuple(params)


def find_param(params: Params, name: str, *, ignore_case: bool = True) -> tuple[bool, str | None]:
    """(present, value) of the first parameter called ``name``."""
    wanted = name.lower() if ignore_case else name
    for param_name, value in params:
        if (param_name.lower() if ignore_case else param_name) == wanted:
            return True, value
    return False, None


_HOSTPORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\s:;\[\]]+)(?::(\d{1,5}))?")


def split_hostport(text: str) -> tuple[str, str | None] | None:
    """``host``, ``host:port`` or ``[v6]:port`` -> (host, port text or None)."""
    match = _HOSTPORT.fullmatch(text)
    if match is None:
        return None
    port = match.group(2)
    if port is not None and int(port) > 65535:
        return None
    return match.group(1), port


@dataclass(frozen=True, slots=True)
class ParsedUri:
    scheme: str
    user: str | None
    password: str | None
    host: str | None
    port: str | None
    params: str | None
    headers: str | None
    param_list: Params


_SCHEME = re.compile(r"(sips?|tels?)(?=:)", re.IGNORECASE)


def parse_uri(text: str) -> ParsedUri | None:
    """A sip:, sips:, tel: or tels: URI."""
    text = text.strip()
    match = _SCHEME.match(text)
    if match is None:
        return None
    scheme = match.group(1)
    rest, has_headers, headers = text[match.end() + 1 :].partition("?")
    user: str | None
    password: str | None = None
    host: str | None = None
    port: str | None = None
    if scheme.lower().startswith("tel"):
        user, _, params = rest.partition(";")
        if not user:
            return None
    else:
        userinfo, at, hostpart = rest.rpartition("@")
        user = None
        if at:
            user, colon, secret = userinfo.partition(":")
            password = secret if colon else None
        hostport, _, params = hostpart.partition(";")
        split = split_hostport(hostport)
        if split is None:
            return None
        host, port = split
    param_list = parse_params(params)
    if param_list is None:
        return None
    return ParsedUri(
        scheme=scheme,
        user=user or None,
        password=password or None,
        host=host,
        port=port,
        params=params or None,
        headers=headers if has_headers and headers else None,
        param_list=param_list,
    )


@dataclass(frozen=True, slots=True)
class ParsedVia:
    name: str
    version: str
    transport: str
    host: str
    port: str | None
    params: str | None
    comment: str | None
    param_list: Params


_VIA_PROTOCOL = re.compile(r"\s*([^\s/]+)\s*/\s*([^\s/]+)\s*/\s*([^\s;/]+)\s+")


def parse_via(text: str) -> ParsedVia | None:
    """The first via-parm of a Via header body: ``SIP/2.0/UDP host:port;params (comment)``."""
    first = split_outside_quotes(text, ",")[0]
    match = _VIA_PROTOCOL.match(first)
    if match is None:
        return None
    rest = first[match.end() :]
    comment: str | None = None
    opening = rest.find("(")
    if opening >= 0:
        closing = rest.rfind(")")
        if closing < opening:
            return None
        comment = rest[opening + 1 : closing]
        rest = rest[:opening]
    sent_by, _, params = rest.partition(";")
    split = split_hostport(re.sub(r"\s*:\s*", ":", sent_by.strip()))
    param_list = parse_params(params)
    if split is None or param_list is None:
        return None
    return ParsedVia(
        name=match.group(1),
        version=match.group(2),
        transport=match.group(3),
        host=split[0],
        port=split[1],
        params=params.strip() or None,
        comment=comment or None,
        param_list=param_list,
    )


@dataclass(frozen=True, slots=True)
class ParsedNameAddr:
    display: str | None  # as written: a quoted display name keeps its quotes
    uri: str | None
    body: str  # the name-addr without its parameters
    params: str | None
    param_list: Params


def _parse_one_nameaddr(text: str) -> ParsedNameAddr | None:
    text = text.strip()
    if not text:
        return None
    display: str | None = None
    if text.startswith('"'):
        closing = next(
            (i for i in range(1, len(text)) if text[i] == '"' and text[i - 1] != "\\"), -1
        )
        if closing < 0:
            return None
        display = text[: closing + 1]
        bracketed = text[closing + 1 :].lstrip()
        if not bracketed.startswith("<"):
            return None
    elif "<" in text:
        opening = text.index("<")
        display = text[:opening].strip() or None
        bracketed = text[opening:]
    else:
        uri, _, params = text.partition(";")
        param_list = parse_params(params)
        if param_list is None:
            return None
        return ParsedNameAddr(
            None, uri.strip() or None, uri.strip(), params.strip() or None, param_list
        )
    closing = bracketed.find(">")
    if closing < 0:
        return None
    after = bracketed[closing + 1 :].strip()
    if after and not after.startswith(";"):
        return None
    params = after[1:].strip()
    param_list = parse_params(params)
    if param_list is None:
        return None
    body = text[: len(text) - len(bracketed) + closing + 1]
    uri = bracketed[1:closing].strip()
    return ParsedNameAddr(display, uri or None, body, params or None, param_list)


def parse_nameaddr_list(text: str) -> list[ParsedNameAddr] | None:
    """A comma-separated list of name-addrs (a Contact or To-like header body)."""
    entries: list[ParsedNameAddr] = []
    for part in split_outside_quotes(text, ",", angle_brackets=True):
        entry = _parse_one_nameaddr(part)
        if entry is None:
            return None
        entries.append(entry)
    return entries


def parse_csv_record(text: str) -> list[str] | None:
    """One RFC 4180 record: no trimming, quotes doubled inside quoted fields, printable ASCII."""
    if text.endswith("\r\n"):
        text = text[:-2]
    if any(not " " <= char <= "~" for char in text):
        return None
    fields: list[str] = []
    position = 0
    while True:
        if text.startswith('"', position):
            value: list[str] = []
            position += 1
            while True:
                closing = text.find('"', position)
                if closing < 0:
                    return None
                value.append(text[position:closing])
                if text.startswith('"', closing + 1):
                    value.append('"')
                    position = closing + 2
                    continue
                position = closing + 1
                break
            fields.append("".join(value))
            if position == len(text):
                return fields
            if text[position] != ",":
                return None
        else:
            comma = text.find(",", position)
            if comma < 0:
                fields.append(text[position:])
                return fields
            fields.append(text[position:comma])
            position = comma
        position += 1  # past the comma
        if position == len(text):
            fields.append("")
            return fields
