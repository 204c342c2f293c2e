"""HTTP digest authentication for SIP, server side, without I/O.

Theory of operation. A challenge carries a nonce this module mints; the client answers
with a response hashed over its HA1 (a hash of `username:realm:password`), the nonce,
the request method and digest URI (RFC 2617, RFC 7616; RFC 8760 brings SHA-256 and
SHA-512/256 to SIP). Nonces are stateless: each carries the second it was issued, the
algorithm and qop it was offered for and a random salt, sealed with an HMAC under a
secret, so any nonce we did not mint, or one altered on the way, fails the check, and
one older than the configured lifetime is stale. A small table (`ReplayGuard`) remembers
which nonce counts (`nc`) each live nonce has been used with, so a captured request
cannot be played again while its nonce is still fresh.

Everything that varies (the clock, the salt source, the secret) is handed in, so the
tests drive time by hand.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from runtime.sip.lexical import quote

TEXT_ENCODING = "utf-8"
TEXT_ERRORS = "surrogateescape"  # bytes that were not UTF-8 hash as they arrived


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One value of the digest `algorithm` parameter."""

    name: str
    """As written on the wire: `MD5`, `SHA-256-sess`..."""
    hash_name: str
    """The `hashlib` name of the hash function."""
    session: bool
    """`-sess`: HA1 also covers the nonce and the client nonce (RFC 7616 §3.4.2)."""
    code: int
    """The byte that stands for this algorithm inside our nonces."""

    @property
    def base_name(self) -> str:
        """The name without `-sess`: which stored HA1 this algorithm needs."""
        return self.name.removesuffix("-sess")

    @property
    def hex_length(self) -> int:
        return hashlib.new(self.hash_name).digest_size * 2


_ALL_ALGORITHMS = (
    Algorithm("MD5", "md5", False, 1),
    Algorithm("MD5-sess", "md5", True, 2),
    Algorithm("SHA-256", "sha256", False, 3),
    Algorithm("SHA-256-sess", "sha256", True, 4),
    Algorithm("SHA-512-256", "sha512_256", False, 5),
    Algorithm("SHA-512-256-sess", "sha512_256", True, 6),
)
ALGORITHMS: dict[str, Algorithm] = {alg.name.upper(): alg for alg in _ALL_ALGORITHMS}
"""Upper-cased name -> algorithm; the parameter is case-insensitive."""
_BY_CODE = {alg.code: alg for alg in _ALL_ALGORITHMS}
MD5 = ALGORITHMS["MD5"]


def algorithm_named(name: str | None) -> Algorithm | None:
    """The algorithm a credentials or challenge parameter names; absent means MD5."""
    if not name:
        return MD5
    return ALGORITHMS.get(name.strip().upper())


class Qop(enum.IntFlag):
    """The qop values a challenge offers (none: the RFC 2069 compatible form)."""

    NONE = 0
    AUTH = 1
    AUTH_INT = 2


_QOP_NAMES = {"auth": Qop.AUTH, "auth-int": Qop.AUTH_INT}


def parse_qop_list(text: str) -> Qop | None:
    """`"auth"`, `"auth,auth-int"`, `""` -> the offered set; None for an unknown value."""
    offered = Qop.NONE
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            continue
        value = _QOP_NAMES.get(item)
        if value is None:
            return None
        offered |= value
    return offered


def qop_header_value(offered: Qop) -> str:
    return ",".join(name for name, value in _QOP_NAMES.items() if offered & value)


# ------------------------------------------------------------------ hashing


def _encode(text: str) -> bytes:
    return text.encode(TEXT_ENCODING, TEXT_ERRORS)


def hash_hex(algorithm: Algorithm, data: str | bytes) -> str:
    """H(data) as lower-case hex."""
    raw = _encode(data) if isinstance(data, str) else data
    return hashlib.new(algorithm.hash_name, raw).hexdigest()


def compute_ha1(algorithm: Algorithm, username: str, realm: str, password: str) -> str:
    """H(username:realm:password): what a subscriber table stores instead of a password."""
    return hash_hex(algorithm, f"{username}:{realm}:{password}")


def session_ha1(algorithm: Algorithm, ha1: str, nonce: str, cnonce: str) -> str:
    """The HA1 a response is hashed with: for `-sess`, H(HA1:nonce:cnonce)."""
    if not algorithm.session:
        return ha1
    return hash_hex(algorithm, f"{ha1}:{nonce}:{cnonce}")


def compute_response(
    algorithm: Algorithm,
    ha1: str,
    *,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The `response` a client holding `ha1` sends (RFC 7616 §3.4.1), as lower-case hex.

    `ha1` is the plain H(username:realm:password); the `-sess` step is applied here.
    """
    qop_value = (qop or "").lower()
    key = session_ha1(algorithm, ha1.lower(), nonce, cnonce or "")
    if qop_value == "auth-int":
        ha2 = hash_hex(algorithm, f"{method}:{uri}:{hash_hex(algorithm, body)}")
    else:
        ha2 = hash_hex(algorithm, f"{method}:{uri}")
    if qop_value in _QOP_NAMES:
        return hash_hex(algorithm, f"{key}:{nonce}:{nc or ''}:{cnonce or ''}:{qop_value}:{ha2}")
    return hash_hex(algorithm, f"{key}:{nonce}:{ha2}")


def responses_match(expected: str, received: str) -> bool:
    """Compare two hex responses in constant time (hex case does not matter)."""
    return hmac.compare_digest(_encode(expected.lower()), _encode(received.lower()))


def build_challenge(
    realm: str,
    nonce: str,
    algorithm: Algorithm,
    offered: Qop,
    *,
    stale: bool = False,
    opaque: str | None = None,
) -> str:
    """The value of one WWW-Authenticate / Proxy-Authenticate header."""
    parts = [f"Digest realm={quote(realm)}", f"nonce={quote(nonce)}"]
    if opaque is not None:
        parts.append(f"opaque={quote(opaque)}")
    if stale:
        parts.append("stale=true")
    if offered:
        parts.append(f"qop={quote(qop_header_value(offered))}")
    parts.append(f"algorithm={algorithm.name}")
    return ", ".join(parts)


# ------------------------------------------------------------------ nonces


class NonceStatus(enum.Enum):
    VALID = "valid"
    STALE = "stale"
    """Minted by us, but its lifetime is over (or the clock went back past it)."""
    INVALID = "invalid"
    """Not ours, altered, or answered with an algorithm or qop it was not offered for."""


@dataclass(frozen=True, slots=True)
class NonceCheck:
    status: NonceStatus
    issued: int = 0
    """The second the nonce was minted (0 when it is not one of ours)."""


_PAYLOAD = struct.Struct(">QBB8s")  # issued second, algorithm code, offered qop, salt
_TAG_LENGTH = 16  # bytes of HMAC-SHA-256 kept: 128 bits is beyond guessing
_NONCE_BYTES = _PAYLOAD.size + _TAG_LENGTH
# the clock may step back a little between minting on one path and checking on another
_CLOCK_SKEW = 2


class NonceIssuer:
    """Mints and checks stateless nonces for one secret and lifetime."""

    def __init__(
        self,
        secret: bytes,
        lifetime: int,
        clock: Callable[[], float] = time.time,
        salt: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not secret:
            raise ValueError("a nonce secret must not be empty")
        self._secret = secret
        self.lifetime = lifetime
        self.clock = clock
        self._salt = salt

    def _tag(self, payload: bytes, realm: str) -> bytes:
        # the realm is sealed in too: a nonce from one realm's challenge is no good in another
        mac = hmac.new(self._secret, payload + b"\0" + _encode(realm.lower()), hashlib.sha256)
        return mac.digest()[:_TAG_LENGTH]

    def issue(self, realm: str, algorithm: Algorithm, offered: Qop) -> str:
        payload = _PAYLOAD.pack(int(self.clock()), algorithm.code, int(offered), self._salt(8))
        token = payload + self._tag(payload, realm)
        return base64.urlsafe_b64encode(token).decode("ascii")

    def check(self, nonce: str, realm: str, algorithm: Algorithm, qop: str | None) -> NonceCheck:
        """Whether `nonce` is ours, for this realm, algorithm and qop, and still fresh."""
        try:
            token = base64.urlsafe_b64decode(_encode(nonce))
        except (binascii.Error, ValueError):
            return NonceCheck(NonceStatus.INVALID)
        if len(token) != _NONCE_BYTES:
            return NonceCheck(NonceStatus.INVALID)
        payload, tag = token[: _PAYLOAD.size], token[_PAYLOAD.size :]
        if not hmac.compare_digest(tag, self._tag(payload, realm)):
            return NonceCheck(NonceStatus.INVALID)
        issued, algorithm_code, offered, _salt = _PAYLOAD.unpack(payload)
        if _BY_CODE.get(algorithm_code) is not algorithm:
            return NonceCheck(NonceStatus.INVALID, issued)
        if not _qop_allowed(Qop(offered & (Qop.AUTH | Qop.AUTH_INT)), qop):
            return NonceCheck(NonceStatus.INVALID, issued)
        now = self.clock()
        if now > issued + self.lifetime or now + _CLOCK_SKEW < issued:
            return NonceCheck(NonceStatus.STALE, issued)
        return NonceCheck(NonceStatus.VALID, issued)


def _qop_allowed(offered: Qop, qop: str | None) -> bool:
    """A client must answer with one qop it was offered, and with none if none was."""
    if not qop:
        return offered == Qop.NONE
    chosen = _QOP_NAMES.get(qop.strip().lower())
    return chosen is not None and bool(offered & chosen)


# ------------------------------------------------------------------ replays


class ReplayGuard:
    """Which nonce counts each live nonce has been used with.

    Per nonce it keeps the highest count seen and a bitmap of the `window` counts below
    it, as IPsec does for sequence numbers, so requests that overtake each other still
    pass but no count is accepted twice. The table holds at most `capacity` nonces,
    oldest first use evicted first; a nonce issued no later than one already evicted and
    not in the table is refused too (its history may be gone), which costs the client
    one more challenge and never lets a replay through.
    """

    def __init__(self, capacity: int = 65536, window: int = 64) -> None:
        self.capacity = capacity
        self.window = window
        # nonce -> [highest nc, bitmap of seen counts below it, expiry second, issue second]
        self._seen: OrderedDict[str, list[int]] = OrderedDict()
        self._evicted_up_to = -1

    def __len__(self) -> int:
        return len(self._seen)

    def accept(self, nonce: str, nc: int, issued: int, expires: int, now: float) -> bool:
        """Record a use of `nonce` with count `nc`; False if that use was seen already."""
        self._purge(now)
        entry = self._seen.get(nonce)
        if entry is None:
            if issued <= self._evicted_up_to:
                return False
            self._seen[nonce] = [nc, 0, expires, issued]
            self._evict_over_capacity()
            return True
        highest, bitmap = entry[0], entry[1]
        if nc > highest:
            shift = nc - highest
            bitmap = ((bitmap << shift) | (1 << (shift - 1))) if shift <= self.window else 0
            entry[0], entry[1] = nc, bitmap & ((1 << self.window) - 1)
            return True
        offset = highest - nc  # 0 is the highest count itself
        if offset == 0 or offset > self.window:
            return False
        bit = 1 << (offset - 1)
        if bitmap & bit:
            return False
        entry[1] = bitmap | bit
        return True

    def _purge(self, now: float) -> None:
        # first-use order roughly follows expiry: drop expired entries from the front
        while self._seen:
            nonce, entry = next(iter(self._seen.items()))
            if entry[2] >= now:
                break
            del self._seen[nonce]

    def _evict_over_capacity(self) -> None:
        while len(self._seen) > self.capacity:
            _nonce, entry = self._seen.popitem(last=False)
            self._evicted_up_to = max(self._evicted_up_to, entry[3])


def parse_nc(text: str | None) -> int | None:
    """The nonce count: 8 hex digits (RFC 7616 §3.4); None when absent or malformed."""
    if text is None:
        return None
    text = text.strip()
    if not 1 <= len(text) <= 8 or text.strip(_HEX_DIGITS):
        return None
    return int(text, 16)


_HEX_DIGITS = "0123456789abcdefABCDEF"
