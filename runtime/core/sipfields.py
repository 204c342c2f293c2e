"""Small, forgiving readers for the parts of SIP fields the script variables expose.

These cut a URI or a name-addr into the pieces `$rU`, `$fd`, `$tn`, `$ft`... read. They
never raise: a part that is not there reads as None, as in OpenSIPS.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UriParts:
    """`scheme:user:password@host:port;params?headers` cut at its separators."""

    scheme: str
    user: str | None
    password: str | None
    host: str
    port: int | None
    params: str
    headers: str

    def param(self, name: str) -> str | None:
        """Value of a URI parameter (`""` for a flag parameter), None when absent."""
        return find_param(self.params, name)

    @property
    def transport(self) -> str | None:
        value = self.param("transport")
        return value.lower() if value else None


def find_param(params: str, name: str) -> str | None:
    """Look `name` up in `a=1;b;c=x` (case-insensitive names)."""
    wanted = name.lower()
    for item in params.split(";"):
        key, sep, value = item.partition("=")
        if key.strip().lower() == wanted:
            return value.strip() if sep else ""
    return None


def parse_uri(text: str) -> UriParts | None:
    """Cut a sip:/sips:/tel: URI; None when it has no scheme."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    scheme, sep, rest = text.partition(":")
    if not sep or not scheme:
        return None
    rest, _, headers = rest.partition("?")
    user: str | None = None
    password: str | None = None
    at = rest.rfind("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, psep, pw = userinfo.partition(":")
        password = pw if psep else None
    hostport, _, params = rest.partition(";")
    host, port = split_hostport(hostport)
    return UriParts(scheme.lower(), user, password, host, port, params, headers)


def split_hostport(hostport: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port` or `host` -> (host, port or None); IPv6 keeps its brackets."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close >= 0:
            host, tail = hostport[: close + 1], hostport[close + 1 :]
            if tail.startswith(":") and tail[1:].isdigit():
                return host, int(tail[1:])
            return host, None
    host, sep, port = hostport.partition(":")
    if sep and port.isdigit():
        return host, int(port)
    return hostport, None


def build_uri(parts: UriParts) -> str:
    """Write UriParts back as text."""
    out = [parts.scheme, ":"]
    if parts.user is not None:
        out.append(parts.user)
        if parts.password is not None:
            out += (":", parts.password)
        out.append("@")
    out.append(parts.host)
    if parts.port is not None:
        out += (":", str(parts.port))
    if parts.params:
        out += (";", parts.params)
    if parts.headers:
        out += ("?", parts.headers)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class NameAddr:
    """`"Display" <uri>;params` or `uri;params` (From, To, Contact, Route bodies)."""

    display: str | None
    uri: str
    params: str

    @property
    def tag(self) -> str | None:
        return find_param(self.params, "tag")


def parse_name_addr(text: str) -> NameAddr:
    """Cut a name-addr or addr-spec with its header parameters."""
    text = text.strip()
    lt = _find_unquoted(text, "<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            gt = len(text)
        display = text[:lt].strip()
        if len(display) >= 2 and display[0] == '"' and display[-1] == '"':
            display = display[1:-1]
        params = text[gt + 1 :].strip()
        return NameAddr(display or None, text[lt + 1 : gt].strip(), params.lstrip(";"))
    # addr-spec: everything after the first ';' belongs to the header, not the URI
    uri, _, params = text.partition(";")
    return NameAddr(None, uri.strip(), params)


def _find_unquoted(text: str, char: str) -> int:
    quoted = False
    escaped = False
    for pos, current in enumerate(text):
        if escaped:
            escaped = False
        elif current == "\\" and quoted:
            escaped = True
        elif current == '"':
            quoted = not quoted
        elif current == char and not quoted:
            return pos
    return -1


def split_commas(text: str) -> list[str]:
    """Split a header body holding several values at commas outside quotes and `<>`."""
    out: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for pos, current in enumerate(text):
        if current == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif current == "<":
            depth += 1
        elif current == ">":
            depth = max(0, depth - 1)
        elif current == "," and depth == 0:
            out.append(text[start:pos].strip())
            start = pos + 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out
