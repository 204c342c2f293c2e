"""SIP, SIPS and tel URIs (RFC 3261 §19.1, §25; RFC 3966), other schemes kept opaque.

Components are stored as written, %-escapes included, so `str(uri)` gives the URI back
unchanged. Reading helpers (`user_unescaped`, `param`) unescape once; comparison
(`==`) follows RFC 3261 §19.1.4, so `name=value%41` is not `name=valueA` when the
written text was `value%2541` (RFC 4475 esc01): escapes are decoded exactly once.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote as _percent_decode

from runtime.sip.errors import SipParseError
from runtime.sip.lexical import (
    Params,
    check_escapes,
    find_param,
    format_params,
    has_whitespace,
    is_token,
    parse_hostport,
    parse_params,
)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
# §19.1.4: these URI parameters must match when either URI carries them.
_MUST_MATCH_PARAMS = ("user", "ttl", "method", "maddr", "transport")


def unescape(text: str) -> str:
    """Decode %HH escapes once (NUL and invalid UTF-8 survive as code points)."""
    if "%" not in text:
        return text
    return _percent_decode(text, errors="surrogateescape")


@dataclass(slots=True, eq=False)
class SipURI:
    """sip: or sips: URI. `host` keeps IPv6 brackets; `port` is None when absent."""

    scheme: str
    user: str | None
    password: str | None
    host: str
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def is_secure(self) -> bool:
        return self.scheme.lower() == "sips"

    @property
    def user_unescaped(self) -> str | None:
        return None if self.user is None else unescape(self.user)

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def has_param(self, name: str) -> bool:
        return _find_uri_param(self.params, name)[0]

    def param(self, name: str) -> str | None:
        """Unescaped value of a URI parameter; "" for a flag such as `lr`; None if absent.

        Names match case-insensitively after unescaping (`;%6C%72` is `;lr`).
        """
        present, value = _find_uri_param(self.params, name)
        if not present:
            return None
        return "" if value is None else unescape(value)

    @property
    def transport(self) -> str | None:
        return self.param("transport")

    @property
    def lr(self) -> bool:
        return self.has_param("lr")

    @property
    def maddr(self) -> str | None:
        return self.param("maddr")

    def replace(self, **changes: Any) -> SipURI:
        """A copy with some components replaced (e.g. `uri.replace(host="10.0.0.1")`)."""
        return dataclasses.replace(self, **changes)

    def __str__(self) -> str:
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(self.user)
            if self.password is not None:
                parts.append(":" + self.password)
            parts.append("@")
        parts.append(self.hostport)
        if self.params:
            parts.append(format_params(self.params))
        if self.headers:
            parts.append("?" + "&".join(f"{name}={value}" for name, value in self.headers))
        return "".join(parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SipURI):
            return NotImplemented
        return sip_uris_equal(self, other)

    def __hash__(self) -> int:
        return hash((self.scheme.lower(), self.user_unescaped, self.host.lower(), self.port))


@dataclass(slots=True)
class TelURI:
    """tel: URI (RFC 3966): the number (global `+...` or local) and its parameters."""

    scheme: str
    number: str
    params: Params = ()

    @property
    def user(self) -> str:
        return self.number

    @property
    def host(self) -> str:
        return ""

    @property
    def port(self) -> int | None:
        return None

    def param(self, name: str) -> str | None:
        present, value = find_param(self.params, name)
        if not present:
            return None
        return "" if value is None else unescape(value)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.number}{format_params(self.params)}"


@dataclass(slots=True)
class OpaqueURI:
    """A URI of a scheme we do not interpret (RFC 4475 unkscm): kept as written."""

    scheme: str
    opaque: str

    @property
    def user(self) -> str | None:
        return None

    @property
    def host(self) -> str:
        return ""

    @property
    def port(self) -> int | None:
        return None

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


URI = SipURI | TelURI | OpaqueURI


def _find_uri_param(params: Params, name: str) -> tuple[bool, str | None]:
    present, value = find_param(params, name)
    if present:
        return present, value
    lowered = name.lower()
    for key, escaped_value in params:
        if "%" in key and unescape(key).lower() == lowered:
            return True, escaped_value
    return False, None


# sip:user:password@host:port;params with plain characters only (no escapes, no IPv6,
# no ';' '?' '/' in the user part, no URI headers): the shape of nearly every URI a
# proxy sees, matched at once. Everything else takes the general path.
_SIMPLE_SIP = re.compile(
    r"(sips?):(?:([A-Za-z0-9\-_.!~*'()&=+$,]+)(?::([A-Za-z0-9\-_.!~*'()&=+$,]*))?@)?"
    r"([A-Za-z0-9_\-.]+)(?::([0-9]{1,5}))?((?:;[^;?\s\"<>%@]+)*)",
    re.IGNORECASE,
)


def parse_uri(text: str, offset: int = 0) -> URI:
    """Parse one URI with no surrounding whitespace or angle brackets."""
    simple = _SIMPLE_SIP.fullmatch(text)
    if simple is not None:
        scheme, user, password, host, port_text, param_text = simple.groups()
        port = int(port_text) if port_text is not None else None
        if port is None or port <= 65535:
            params = parse_params(param_text, offset + simple.start(6)) if param_text else ()
            return SipURI(scheme, user, password, host, port, params)
    return parse_uri_general(text, offset)


def parse_uri_general(text: str, offset: int = 0) -> URI:
    """`parse_uri` without the fast path (every URI shape; tests compare the two)."""
    colon = text.find(":")
    if colon <= 0 or _SCHEME.fullmatch(text, 0, colon) is None:
        raise SipParseError(f"URI without a scheme: {text[:40]!r}", offset)
    if has_whitespace(text):
        raise SipParseError("whitespace inside a URI", offset)
    scheme = text[:colon]
    lowered = scheme.lower()
    rest = text[colon + 1 :]
    if lowered in ("sip", "sips"):
        return _parse_sip(scheme, rest, offset + colon + 1)
    if not rest:
        raise SipParseError("empty URI after the scheme", offset + colon)
    if lowered == "tel":
        number, _, param_text = rest.partition(";")
        if not number:
            raise SipParseError("tel URI without a number", offset + colon + 1)
        params = parse_params(";" + param_text, offset + colon + len(number)) if param_text else ()
        return TelURI(scheme, number, params)
    return OpaqueURI(scheme, rest)


def _parse_sip(scheme: str, rest: str, offset: int) -> SipURI:
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    host_at = 0
    if at >= 0:
        userinfo = rest[:at]
        user_text, colon, password_text = userinfo.partition(":")
        if not user_text:
            raise SipParseError("empty user part before '@'", offset)
        check_escapes(userinfo, offset)
        user = user_text
        password = password_text if colon else None
        host_at = at + 1
    end = len(rest)
    for stop in (";", "?"):
        found = rest.find(stop, host_at)
        if 0 <= found < end:
            end = found
    host, port = parse_hostport(rest[host_at:end], offset + host_at)
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()
    tail = rest[end:]
    if tail:
        param_text, question, header_text = tail.partition("?")
        check_escapes(tail, offset + end)
        if param_text:
            params = parse_params(param_text, offset + end)
        if question:
            headers = _parse_uri_headers(header_text, offset + end + len(param_text) + 1)
    return SipURI(scheme, user, password, host, port, params, headers)


def _parse_uri_headers(text: str, offset: int) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    pos = offset
    for item in text.split("&"):
        name, equals, value = item.partition("=")
        if not equals or not name or not is_token(unescape(name).replace(" ", "")):
            raise SipParseError(f"bad URI header {item!r}", pos)
        headers.append((name, value))
        pos += len(item) + 1
    return tuple(headers)


def sip_uris_equal(left: SipURI, right: SipURI) -> bool:
    """RFC 3261 §19.1.4 URI comparison."""
    if left.scheme.lower() != right.scheme.lower():
        return False
    if left.user_unescaped != right.user_unescaped:
        return False
    left_password = None if left.password is None else unescape(left.password)
    right_password = None if right.password is None else unescape(right.password)
    if left_password != right_password:
        return False
    if left.host.lower() != right.host.lower() or left.port != right.port:
        return False
    left_params = _comparable_params(left.params)
    right_params = _comparable_params(right.params)
    for name in _MUST_MATCH_PARAMS:
        if left_params.get(name) != right_params.get(name):
            return False
    for name, value in left_params.items():
        if name in right_params and right_params[name] != value:
            return False
    left_headers = {unescape(n).lower(): unescape(v) for n, v in left.headers}
    right_headers = {unescape(n).lower(): unescape(v) for n, v in right.headers}
    return left_headers == right_headers


def _comparable_params(params: Params) -> dict[str, str | None]:
    return {
        unescape(name).lower(): None if value is None else unescape(value).lower()
        for name, value in params
    }
