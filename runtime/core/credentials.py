"""Digest credentials in Authorization / Proxy-Authorization headers, and `$au` & co.

`parse_credentials` reads one header value (`Digest username="alice", realm=...`) into a
`DigestCredentials`. The `auth` functions record which header they checked for a message
(`mark_credentials`), as OpenSIPS marks the parsed header: `consume_credentials()` removes
that header, `$Au` reads its user and realm, and a challenge sent after a stale nonce says
`stale=true`. `Ctx` has no slot for that mark, so it lives in a small table keyed by the
message object (checked by identity, so a recycled `id()` never matches).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runtime.core.script import Value
from runtime.sip.lexical import closing_quote, unquote
from runtime.sip.message import Request

if TYPE_CHECKING:
    from runtime.core.ctx import Ctx, SipMessage

AUTHORIZATION = "Authorization"
PROXY_AUTHORIZATION = "Proxy-Authorization"


class CredentialsError(ValueError):
    """A Digest header that does not parse (the caller answers 400)."""


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """The parameters of one `Digest` credentials header; absent ones are None."""

    username: str | None = None
    realm: str | None = None
    nonce: str | None = None
    uri: str | None = None
    response: str | None = None
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None

    @property
    def user(self) -> str | None:
        """The username before any `@domain` some user agents append."""
        if self.username is None:
            return None
        return self.username.partition("@")[0]

    @property
    def domain(self) -> str | None:
        """The part after `@` in the username, None when there is none."""
        if self.username is None or "@" not in self.username:
            return None
        return self.username.partition("@")[2] or None

    def is_complete(self) -> bool:
        """The fields every digest answer needs, and those `qop` adds (RFC 7616 §3.4)."""
        if not (self.username and self.realm is not None and self.nonce and self.uri):
            return False
        if not self.response:
            return False
        if self.qop:
            return bool(self.cnonce and self.nc)
        return True


_FIELDS = frozenset(DigestCredentials.__slots__)


@functools.lru_cache(maxsize=256)
def parse_credentials(value: str) -> DigestCredentials | None:
    """One header value -> its digest credentials; None for another scheme (`Basic`...).

    Raises `CredentialsError` for a Digest header whose parameters do not parse.
    Parameters other than the digest ones are ignored; names are case-insensitive.
    """
    text = value.strip()
    scheme, _, rest = text.partition(" ")
    if scheme.lower() != "digest":
        return None
    fields: dict[str, str] = {}
    pos = 0
    length = len(rest)
    while pos < length:
        while pos < length and rest[pos] in " \t\r\n,":
            pos += 1
        if pos >= length:
            break
        equals = rest.find("=", pos)
        if equals < 0:
            raise CredentialsError(f"digest parameter without a value at {rest[pos:]!r}")
        name = rest[pos:equals].strip().lower()
        if not name or any(c in name for c in ' \t,"'):
            raise CredentialsError(f"bad digest parameter name {name!r}")
        pos = equals + 1
        while pos < length and rest[pos] in " \t":
            pos += 1
        if pos < length and rest[pos] == '"':
            end = closing_quote(rest, pos)
            if end < 0:
                raise CredentialsError(f"unterminated quoted value for {name!r}")
            item = unquote(rest[pos : end + 1])
            pos = end + 1
            while pos < length and rest[pos] in " \t":
                pos += 1
            if pos < length and rest[pos] != ",":
                raise CredentialsError(f"text after the quoted value of {name!r}")
        else:
            comma = rest.find(",", pos)
            end = length if comma < 0 else comma
            item = rest[pos:end].strip()
            pos = end
        if name in fields:
            raise CredentialsError(f"digest parameter {name!r} given twice")
        fields[name] = item
    known = {name: item for name, item in fields.items() if name in _FIELDS}
    return DigestCredentials(**known)


def find_credentials(
    msg: SipMessage, header: str, realm: str
) -> tuple[int, DigestCredentials] | None:
    """The first `header` whose Digest realm is `realm` (case-insensitive): (index, creds).

    Raises `CredentialsError` when a Digest header on the way does not parse.
    """
    wanted = realm.lower()
    for index, value in enumerate(msg.headers_named(header)):
        creds = parse_credentials(value)
        if creds is not None and (creds.realm or "").lower() == wanted:
            return index, creds
    return None


# ------------------------------------------------------------------ marks


@dataclass(slots=True)
class CredentialsMark:
    """The credentials an authorize call selected for a message."""

    header: str
    """`Authorization` or `Proxy-Authorization`."""
    index: int
    """Which header of that name (0 is the first)."""
    credentials: DigestCredentials
    realm: str
    stale: bool = False
    """The nonce was ours but expired or replayed: the next challenge says `stale=true`."""
    authorized: bool = False
    """The response checked out."""


_MARK_LIMIT = 1024  # runs in flight at once in one process; older marks are forgotten
_marks: OrderedDict[int, tuple[SipMessage, CredentialsMark]] = OrderedDict()


def mark_credentials(msg: SipMessage, mark: CredentialsMark) -> None:
    key = id(msg)
    _marks[key] = (msg, mark)
    _marks.move_to_end(key)
    while len(_marks) > _MARK_LIMIT:
        _marks.popitem(last=False)


def marked_credentials(msg: SipMessage, header: str | None = None) -> CredentialsMark | None:
    """The mark an authorize call left on `msg` (for that header kind, if given)."""
    entry = _marks.get(id(msg))
    if entry is None or entry[0] is not msg:
        return None
    mark = entry[1]
    if header is not None and mark.header != header:
        return None
    return mark


def forget_credentials(msg: SipMessage) -> None:
    entry = _marks.get(id(msg))
    if entry is not None and entry[0] is msg:
        del _marks[id(msg)]


# ------------------------------------------------------------------ pseudo-variables


def _request_credentials(ctx: Ctx) -> DigestCredentials | None:
    """What `$au` & co. read: Proxy-Authorization if present, else Authorization.

    As in OpenSIPS, ACK and CANCEL have none, and an unparsable header reads as NULL.
    """
    msg = ctx.msg
    if not isinstance(msg, Request) or msg.method in ("ACK", "CANCEL"):
        return None
    value = msg.header(PROXY_AUTHORIZATION)
    if value is None:
        value = msg.header(AUTHORIZATION)
    if value is None:
        return None
    try:
        return parse_credentials(value)
    except CredentialsError:
        return None


def _field(
    read: Callable[[DigestCredentials], str | None],
) -> Callable[[Ctx, str | None, int | str | None], Value]:
    def getter(ctx: Ctx, inner: str | None, index: int | str | None) -> Value:
        creds = _request_credentials(ctx)
        if creds is None:
            return None
        return read(creds) or None  # an empty field reads as NULL

    return getter


def accounting_username(ctx: Ctx) -> Value:
    """`$Au`: user@realm of the authorized credentials, else user@host of the From URI."""
    mark = marked_credentials(ctx.msg)
    if mark is not None and mark.credentials.user:
        realm = mark.credentials.realm
        return f"{mark.credentials.user}@{realm}" if realm else mark.credentials.user
    user, host = ctx.from_user, ctx.from_host
    if host is None:
        return None
    return f"{user or ''}@{host}"


PV_GETTERS: dict[str, Callable[[Ctx, str | None, int | str | None], Value]] = {
    "au": _field(lambda c: c.user),
    "ad": _field(lambda c: c.domain),
    "aU": _field(lambda c: c.username),
    "ar": _field(lambda c: c.realm),
    "adu": _field(lambda c: c.uri),
    "an": _field(lambda c: c.nonce),
    "auth.resp": _field(lambda c: c.response),
    "auth.cnonce": _field(lambda c: c.cnonce),
    "auth.opaque": _field(lambda c: c.opaque),
    "auth.alg": _field(lambda c: c.algorithm),
    "auth.qop": _field(lambda c: c.qop),
    "auth.nc": _field(lambda c: c.nc),
    "Au": lambda ctx, inner, index: accounting_username(ctx),
}
"""Readers for pvaccess, by canonical name (`auth.nonce` is an alias of `an`)."""
