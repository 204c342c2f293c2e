"""SIP messages: a lazy, sans-IO parser and cheap in-place edits (RFC 3261 §7, §20).

Theory of operation
-------------------
`parse_message(data)` does one structural pass over a datagram (or one message cut
out of a TCP stream by `StreamFramer`):

1. skip CRLFs before the start line (§7.5), find the end of the header section (the
   first CRLF CRLF) and split the start line into method / Request-URI / version or
   version / status / reason;
2. split the header section into lines with one `bytes.split`, glue folded
   continuation lines back to their header (only when the section contains a CRLF
   followed by SP/HT), and map each header name, through a small cache, to its lookup
   key: the lowercase long name (`v` -> `via`);
3. cut the body: Content-Length octets when the header is present and numeric,
   otherwise the rest of the datagram.

That is all the parser does up front. A message is two parallel lists, `lines` (the
exact bytes of each header, folding included, without the final CRLF) and `keys`.
A header value is decoded (UTF-8, undecodable octets kept as surrogates) and parsed
the first time something reads it, and the parsed value is cached; a proxy that reads
Via, To and CSeq pays for those three only.

Parsed values (`Via`, `NameAddr`, `SipURI`, `CSeq`) are slotted dataclasses, not
frozen ones: construction is on the hot path and a frozen dataclass costs about four
times as much to build. They are cached and shared between readers, so treat them as
values: make a changed copy with `dataclasses.replace` (or `SipURI.replace`), never
assign to their fields.

Edits (`prepend_via`, `remove_top_via`, `set_max_forwards`, `add_header`,
`remove_header`, `set_ruri`, `set_body`, ...) insert, drop or replace whole lines and
drop the caches of the headers they touch. `to_bytes()` returns the received bytes when
nothing changed, otherwise the start line and the lines joined by CRLF: headers nobody
edited come out byte-identical, because they are the received bytes.

Nothing here judges whether a message may be processed: `parse_message` raises
`SipParseError` only for what makes the structure unreadable (no empty line ending the
headers, a bad start line, a header line without ':'). `Message.validate()` (module
`validate`) applies RFC 3261's rules for processing: mandatory headers, CSeq range and
method, Content-Length against the datagram, well-formed Via/From/To/Contact/Route...
Every accessor that parses a header raises `SipParseError` with the message byte offset
of the fault; nothing else escapes this layer for bad input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Final

from runtime.sip.errors import SipParseError
from runtime.sip.headers import (
    CSeq,
    NameAddr,
    Via,
    canonical_name,
    parse_cseq,
    parse_name_addr,
    parse_name_addr_list,
    parse_number,
    parse_via,
    parse_via_element,
    parse_via_list,
)
from runtime.sip.lexical import has_whitespace, is_token, split_list
from runtime.sip.uri import URI, parse_uri

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from runtime.sip.response import HeaderItems

_CRLF = b"\r\n"
# Single octets as ints: `_CR in data` is a memchr, where `b"\r" in data` first tries the
# argument as an int and formats (then drops) a TypeError on every call.
_CR: Final = 13
_COMMA: Final = 44
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # octets that are not UTF-8 survive a decode/encode round trip
_KEY_CACHE_LIMIT = 2048  # fuzzed or hostile traffic must not grow the name cache forever

# header name bytes as written up to and including ':' -> lookup key. Keeping the colon
# in the cached name means a line without one (sliced to b"") can never hit the cache.
_KEY_OF_RAW_NAME: dict[bytes, str] = {}
# An LF then SP/HT: possibly a folded line (exactly: CRLF then SP/HT); one regex scan
_MAYBE_FOLDED = re.compile(rb"\n[ \t]").search
# Via value text -> parsed Via, shared between messages: the replies to a forwarded request
# carry its Via (and ours) again, and a transaction's replies and retransmissions repeat
# them. Parsed values are treated as immutable (see the module docstring), so sharing them
# is safe. Only values that parsed are kept; the cache is emptied when full.
_VIA_OF_TEXT: dict[str, Via] = {}
_VIA_CACHE_LIMIT = 4096
# Cache slot of the Vias of the top Via line when it holds several (a key has no space)
_TOP_LINE_VIAS = " top line vias"
# Cache slot of the parsed Request-URI: a header key never contains a space.
_RURI_CACHE_KEY = " ruri"
# header names already found to be tokens (header_line checks every name it writes)
_TOKEN_NAMES: set[str] = set()
# header name as given to an accessor -> lookup key
_KEY_OF_NAME: dict[str, str] = {}


def _key_of_raw(raw_name: bytes) -> str:
    key = canonical_name(raw_name[:-1].decode(_ENCODING, _ERRORS))
    if len(_KEY_OF_RAW_NAME) < _KEY_CACHE_LIMIT:
        _KEY_OF_RAW_NAME[raw_name] = key
    return key


def _remember_via(text: str, via: Via) -> None:
    if len(_VIA_OF_TEXT) >= _VIA_CACHE_LIMIT:
        _VIA_OF_TEXT.clear()
    _VIA_OF_TEXT[text] = via


def _vias_of(value: str) -> list[Via]:
    """`parse_via_list(value)`, each value looked up in (and added to) the Via cache.

    Replies often carry every Via on one line (`ours, theirs`): the values are known
    from the request. A value after a comma starts with LWS, which the parsers ignore,
    so it is cached under its text without it.
    """
    vias = []
    for at, item in split_list(value):
        text = item.lstrip(" \t")
        via = _VIA_OF_TEXT.get(text)
        if via is None:
            via = parse_via_element(item, at)
            _remember_via(text, via)
        vias.append(via)
    return vias


def header_key(name: str) -> str:
    """The lookup key of a header name (lowercase long form, compact forms expanded)."""
    key = _KEY_OF_NAME.get(name)
    if key is None:
        key = canonical_name(name)
        if len(_KEY_OF_NAME) < _KEY_CACHE_LIMIT:
            _KEY_OF_NAME[name] = key
    return key


class Message:
    """What requests and responses share: headers, body, edits, serialisation."""

    __slots__ = (
        "_body",
        "_cache",
        "_data",
        "_edited",
        "_end",
        "_header_base",
        "_keys",
        "_line_ids",
        "_lines",
        "_pristine",
        "_start",
        "_start_line",
        "version",
    )

    is_request: ClassVar[bool] = False

    def __init__(
        self,
        data: bytes,
        start: int,
        start_line: bytes,
        lines: list[bytes],
        keys: list[str],
        header_base: int,
        body: bytes,
        end: int,
        version: str,
    ) -> None:
        self._data = data
        self._start = start
        self._start_line = start_line
        self._lines = lines
        self._keys = keys
        self._header_base = header_base
        self._body = body
        self._end = end
        # set by the first edit: each line's index among the received lines (-1 for an
        # added one) and those received lines, so offsets of errors stay exact
        self._line_ids: list[int] | None = None
        self._pristine: list[bytes] = lines
        self._edited = False
        self._cache: dict[str, Any] = {}
        self.version = version

    # ----------------------------------------------------------------- raw access
    @property
    def raw(self) -> bytes:
        """The bytes this message was parsed from (the whole datagram)."""
        return self._data

    @property
    def body(self) -> bytes:
        return self._body

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every header in order as (name as written, value)."""
        return [(self._name_at(i), self._value_at(i)) for i in range(len(self._lines))]

    def header(self, name: str, index: int = 0) -> str | None:
        """Value of the `index`-th header called `name` (negative counts from the end).

        Compact and long names are the same header; a header line holding several
        comma-separated values counts as one.
        """
        key = _KEY_OF_NAME.get(name) or header_key(name)
        if index == 0:
            try:
                line = self._lines[self._keys.index(key)]
            except ValueError:  # absent: cheaper than scanning twice when present
                return None
            # _value_at inlined: several headers are read like this for every message
            value = line[line.find(b":") + 1 :]
            if _CR in value:
                value = value.replace(b"\r\n", b"")  # unfold: the continuation's SP/HT stays
            return value.decode(_ENCODING, _ERRORS).strip()
        positions = self._positions(key)
        try:
            return self._value_at(positions[index])
        except IndexError:
            return None

    def header_bytes(self, name: str) -> bytes | None:
        """The first header called `name` as received bytes, ASCII whitespace stripped.

        Not decoded and not unfolded: for cheap checks of numbers and tokens, which fall
        back to `header()` when the bytes are not plainly what they look for.
        """
        key = _KEY_OF_NAME.get(name) or header_key(name)
        try:
            line = self._lines[self._keys.index(key)]
        except ValueError:
            return None
        return line[line.find(b":") + 1 :].strip()

    def headers_named(self, name: str) -> list[str]:
        """Values of every header called `name`, in order."""
        return [self._value_at(i) for i in self._positions(header_key(name))]

    def has_header(self, name: str) -> bool:
        return (_KEY_OF_NAME.get(name) or header_key(name)) in self._keys

    # ---------------------------------------------------------- parsed accessors
    @property
    def vias(self) -> list[Via]:
        """Every Via value, top first (several per line and several lines)."""
        cached = self._cache.get("via")
        if cached is None:
            cached = []
            for i in self._positions("via"):
                cached.extend(self._parse_at(i, parse_via_list))
            self._cache["via"] = cached
        return cached

    @property
    def top_via(self) -> Via | None:
        cached = self._cache.get("top_via")
        if cached is None:
            try:
                i = self._keys.index("via")
            except ValueError:
                return None
            value = self._value_at(i)
            try:
                if "," not in value:  # one value on the line (the common case)
                    cached = _VIA_OF_TEXT.get(value)
                    if cached is None:
                        cached = parse_via(value)
                        _remember_via(value, cached)
                else:  # every value is checked, each through the cache
                    line_vias = _vias_of(value)
                    cached = line_vias[0]
                    self._cache[_TOP_LINE_VIAS] = line_vias
            except SipParseError as error:
                raise error.shifted(self.value_offset(i)) from None
            self._cache["top_via"] = cached
        return cached

    @property
    def from_(self) -> NameAddr | None:
        return self._single("from", parse_name_addr)  # type: ignore[no-any-return]

    @property
    def to(self) -> NameAddr | None:
        return self._single("to", parse_name_addr)  # type: ignore[no-any-return]

    @property
    def call_id(self) -> str | None:
        return self.header("call-id")

    @property
    def cseq(self) -> CSeq | None:
        return self._single("cseq", parse_cseq)  # type: ignore[no-any-return]

    @property
    def max_forwards(self) -> int | None:
        return self._single("max-forwards", _max_forwards)  # type: ignore[no-any-return]

    @property
    def expires(self) -> int | None:
        return self._single("expires", _expires)  # type: ignore[no-any-return]

    @property
    def content_length(self) -> int | None:
        return self._single("content-length", _content_length)  # type: ignore[no-any-return]

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")

    @property
    def contacts(self) -> list[NameAddr]:
        """Contact bindings in order; empty for `Contact: *` (see `contact_star`)."""
        if self.contact_star:
            return []
        return self._name_addr_list("contact", require_brackets=False)

    @property
    def contact_star(self) -> bool:
        """True for the `Contact: *` of a REGISTER removing every binding."""
        keys = self._keys
        return "contact" in keys and self._value_at(keys.index("contact")) == "*"

    @property
    def routes(self) -> list[NameAddr]:
        """The Route set in order, over every Route line."""
        return self._name_addr_list("route", require_brackets=True)

    @property
    def record_routes(self) -> list[NameAddr]:
        return self._name_addr_list("record-route", require_brackets=True)

    # ---------------------------------------------------------------------- edits
    def add_header(self, name: str, value: str, *, at_top: bool = False) -> None:
        """Append a header after the last one, or insert it before the first."""
        self._insert(0 if at_top else len(self._lines), name, value)

    def set_header(self, name: str, value: str) -> None:
        """Replace the first header called `name` in place, dropping any others; or append."""
        key = _KEY_OF_NAME.get(name) or header_key(name)
        keys = self._keys
        if keys.count(key) == 1:  # the usual case (Max-Forwards, Content-Length...)
            first = keys.index(key)
            line = header_line(self._name_at(first), value)
            self._touch(key)
            self._lines[first] = line
            assert self._line_ids is not None
            self._line_ids[first] = -1
            return
        positions = self._positions(key)
        if not positions:
            self._insert(len(self._lines), name, value)
            return
        first = positions[0]
        line = header_line(self._name_at(first), value)  # may refuse before anything changes
        self._touch(key)
        self._lines[first] = line
        assert self._line_ids is not None
        self._line_ids[first] = -1
        for i in reversed(positions[1:]):
            self._delete(i)

    def remove_header(self, name: str, index: int | None = None) -> int:
        """Remove every header called `name`, or only its `index`-th; return how many."""
        key = header_key(name)
        positions = self._positions(key)
        if index is not None:
            try:
                positions = [positions[index]]
            except IndexError:
                return 0
        if positions:
            self._touch(key)
        for i in reversed(positions):
            self._delete(i)
        return len(positions)

    def prepend_via(self, via: Via | str) -> None:
        """Insert a Via line above the topmost Via (at the top if there is none)."""
        keys = self._keys
        self._insert(keys.index("via") if "via" in keys else 0, "Via", str(via))

    def remove_top_via(self) -> Via | None:
        """Remove the topmost Via value (the first of its line when a line holds several)."""
        keys = self._keys
        if "via" not in keys:
            return None
        top = self.top_via
        i = keys.index("via")
        if _COMMA not in self._lines[i]:  # one value: the whole line goes
            self._touch("via")
            self._delete(i)
            return top
        value = self._value_at(i)
        line_vias = self._cache.get(_TOP_LINE_VIAS)
        self._touch("via")
        elements = split_list(value)
        if len(elements) == 1:
            self._delete(i)
        else:
            rest = value[elements[1][0] :].strip()
            self._lines[i] = header_line(self._name_at(i), rest)
            assert self._line_ids is not None
            self._line_ids[i] = -1
            if line_vias is not None:  # a reply to forward reads the next Via at once
                self._cache["top_via"] = line_vias[1]
                self._cache[_TOP_LINE_VIAS] = line_vias[1:]
        return top

    def replace_top_via(self, via: Via) -> None:
        """`remove_top_via()` then `prepend_via(via)`, without re-parsing `via` later.

        A proxy stamps `received`/`rport` on the top Via of every request (RFC 3261
        §18.2.1): a one-value Via line that stays where the new one would go is replaced
        in place, and `via` becomes the cached top Via.
        """
        keys = self._keys
        try:
            i = keys.index("via")
        except ValueError:
            self.prepend_via(via)
            return
        # in place when the new line lands where the old one was: another Via line follows
        # at once, or this is the only Via and the first header (prepend_via's position)
        if _COMMA in self._lines[i]:
            in_place = False
        elif i + 1 < len(keys) and keys[i + 1] == "via":
            in_place = True
        else:
            in_place = i == 0 and keys.count("via") == 1
        if not in_place:
            self.remove_top_via()
            self.prepend_via(via)
            self._cache["top_via"] = via
            return
        text = str(via)
        if "\r" in text or "\n" in text:
            raise ValueError("header value for Via contains CR or LF")
        self._touch("via")
        self._lines[i] = b"Via: " + text.encode(_ENCODING, _ERRORS)
        assert self._line_ids is not None
        self._line_ids[i] = -1
        self._cache["top_via"] = via
        _remember_via(text, via)  # the replies to this request come back with it

    def set_max_forwards(self, hops: int) -> None:
        keys = self._keys
        if keys.count("max-forwards") == 1:
            i = keys.index("max-forwards")
            # every forwarded request: the usual spelling needs no name check or decoding
            if self._lines[i].startswith(b"Max-Forwards:"):
                self._touch("max-forwards")
                self._lines[i] = b"Max-Forwards: %d" % hops
                assert self._line_ids is not None
                self._line_ids[i] = -1
                return
        self.set_header("Max-Forwards", str(hops))

    def decrement_max_forwards(self) -> int | None:
        """Lower Max-Forwards by one and return the new value; None when absent or 0."""
        current = self.max_forwards
        if current is None or current == 0:
            return None
        self.set_max_forwards(current - 1)
        return current - 1

    def set_body(self, body: bytes, content_type: str | None = None) -> None:
        """Replace the body, fixing Content-Length (and Content-Type when given)."""
        self._touch("content-length")
        self._body = body
        self.set_header("Content-Length", str(len(body)))
        if content_type is not None:
            self.set_header("Content-Type", content_type)

    def ensure_content_length(self) -> None:
        """Add Content-Length when missing (mandatory on streams, RFC 3261 §18.3)."""
        if "content-length" not in self._keys:
            self.add_header("Content-Length", str(len(self._body)))

    # ------------------------------------------------------------------ output
    def to_bytes(self) -> bytes:
        """The message on the wire: received bytes for untouched parts, edits spliced in."""
        if not self._edited:
            if self._start == 0 and self._end == len(self._data):
                return self._data
            return self._data[self._start : self._end]
        if not self._lines:
            return self._start_line + b"\r\n\r\n" + self._body
        # one copy of everything (no list unpacking, no concatenations)
        return b"".join((self._start_line, _CRLF, _CRLF.join(self._lines), b"\r\n\r\n", self._body))

    def to_bytes_with_header(self, line: bytes) -> bytes:
        """`to_bytes()` with `line` (one header line, CRLF included) above the first header.

        For the Via a stateless proxy adds to what it sends but not to the message it
        keeps (so a second forward does not stack it): one join, no copy to cut up.
        """
        if not self._edited:
            head_end = self._header_base
            data = self._data
            return b"".join((data[self._start : head_end], line, data[head_end : self._end]))
        head = _CRLF.join(self._lines)
        end_of_head = b"\r\n\r\n" if head else _CRLF
        return b"".join((self._start_line, _CRLF, line, head, end_of_head, self._body))

    def validate(self, *, datagram: bool = True) -> None:
        """Check RFC 3261's processing rules; raise `SipParseError` on the first fault.

        `datagram=True` (UDP) requires Content-Length, when present, to fit the octets
        received; a stream framer has already cut the body by it.
        """
        from runtime.sip.validate import validate_message

        validate_message(self, datagram=datagram)

    @property
    def start_line(self) -> str:
        return self._start_line.decode(_ENCODING, _ERRORS)

    # --------------------------------------------------------------- internals
    def _positions(self, key: str) -> list[int]:
        keys = self._keys
        if key not in keys:
            return []
        found = []
        at = keys.index(key)
        try:
            while True:
                found.append(at)
                at = keys.index(key, at + 1)
        except ValueError:
            return found

    def _value_at(self, i: int) -> str:
        line = self._lines[i]
        value = line[line.find(b":") + 1 :]
        if _CR in value:
            value = value.replace(_CRLF, b"")  # unfold: the continuation's SP/HT stays
        return value.decode(_ENCODING, _ERRORS).strip()

    def _name_at(self, i: int) -> str:
        line = self._lines[i]
        return line[: line.find(b":")].decode(_ENCODING, _ERRORS).strip()

    def line_offset(self, i: int) -> int:
        """Byte offset in the received message of header line `i` (-1 for added lines)."""
        received = i
        if self._line_ids is not None:
            received = self._line_ids[i]
            if received < 0:
                return -1
        lines = self._pristine
        return self._header_base + sum(len(lines[j]) + 2 for j in range(received))

    def value_offset(self, i: int) -> int:
        """Byte offset in the received message where header `i`'s value starts."""
        base = self.line_offset(i)
        if base < 0:
            return 0
        line = self._lines[i]
        colon = line.find(b":")
        value = line[colon + 1 :]
        return base + colon + 1 + len(value) - len(value.lstrip(b" \t"))

    def _parse_at(self, i: int, parser: Callable[[str], Any]) -> Any:
        try:
            return parser(self._value_at(i))
        except SipParseError as error:
            raise error.shifted(self.value_offset(i)) from None

    def _single(self, key: str, parser: Callable[[str], Any]) -> Any:
        cache = self._cache
        if key in cache:
            return cache[key]
        keys = self._keys
        result = self._parse_at(keys.index(key), parser) if key in keys else None
        cache[key] = result
        return result

    def _name_addr_list(self, key: str, *, require_brackets: bool) -> list[NameAddr]:
        cached = self._cache.get(key)
        if cached is None:
            cached = []
            for i in self._positions(key):
                cached.extend(
                    self._parse_at(
                        i,
                        lambda text: parse_name_addr_list(text, require_brackets=require_brackets),
                    )
                )
            self._cache[key] = cached
        return cached

    def _touch(self, key: str) -> None:
        if self._line_ids is None:
            # cheap (two C copies): the first edit of every forwarded message pays for it
            self._line_ids = list(range(len(self._lines)))
            self._pristine = self._lines.copy()
        self._edited = True
        self._cache.pop(key, None)
        if key == "via":
            self._cache.pop("top_via", None)
            self._cache.pop(_TOP_LINE_VIAS, None)

    def _insert(self, at: int, name: str, value: str) -> None:
        key = header_key(name)
        line = header_line(name, value)  # may refuse before anything changes
        self._touch(key)
        self._lines.insert(at, line)
        self._keys.insert(at, key)
        assert self._line_ids is not None
        self._line_ids.insert(at, -1)

    def _delete(self, i: int) -> None:
        del self._lines[i]
        del self._keys[i]
        assert self._line_ids is not None
        del self._line_ids[i]


class Request(Message):
    """A SIP request; `method` is as written (case-sensitive, RFC 3261 §7.1)."""

    __slots__ = ("_ruri_text", "method")

    is_request: ClassVar[bool] = True

    def __init__(
        self,
        method: str,
        ruri_text: str,
        data: bytes,
        start: int,
        start_line: bytes,
        lines: list[bytes],
        keys: list[str],
        header_base: int,
        body: bytes,
        end: int,
        version: str,
    ) -> None:
        # Message.__init__ called directly with named arguments: no super() lookup and no
        # *args tuple, once per message
        Message.__init__(
            self, data, start, start_line, lines, keys, header_base, body, end, version
        )
        self.method = method
        self._ruri_text = ruri_text

    @property
    def ruri_text(self) -> str:
        """The Request-URI exactly as written (or as last set)."""
        return self._ruri_text

    @property
    def ruri(self) -> URI:
        """The parsed Request-URI (`SipURI`, `TelURI` or `OpaqueURI`)."""
        cached = self._cache.get(_RURI_CACHE_KEY)
        if cached is None:
            offset = self._start + len(self.method) + 1
            cached = parse_uri(self._ruri_text, offset)
            self._cache[_RURI_CACHE_KEY] = cached
        return cached

    def set_ruri(self, uri: URI | str) -> None:
        """Rewrite the Request-URI (the rest of the request line is kept)."""
        text = str(uri)
        if not text or has_whitespace(text):
            raise ValueError(f"Request-URI {text!r} is empty or contains whitespace")
        self._touch(_RURI_CACHE_KEY)
        self._ruri_text = text
        self._start_line = f"{self.method} {text} {self.version}".encode(_ENCODING, _ERRORS)

    def make_response(
        self,
        status: int,
        reason: str | None = None,
        *,
        to_tag: str | None = None,
        headers: HeaderItems = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Response:
        """A response to this request built per RFC 3261 §8.2.6 (see `response.py`)."""
        from runtime.sip.response import make_response

        return make_response(
            self,
            status,
            reason,
            to_tag=to_tag,
            headers=headers,
            body=body,
            content_type=content_type,
        )


class Response(Message):
    __slots__ = ("reason", "status")

    def __init__(
        self,
        status: int,
        reason: str,
        data: bytes,
        start: int,
        start_line: bytes,
        lines: list[bytes],
        keys: list[str],
        header_base: int,
        body: bytes,
        end: int,
        version: str,
    ) -> None:
        # Message.__init__ called directly with named arguments: no super() lookup and no
        # *args tuple, once per message
        Message.__init__(
            self, data, start, start_line, lines, keys, header_base, body, end, version
        )
        self.status = status
        self.reason = reason

    @property
    def method(self) -> str:
        """The method of the request this answers, from CSeq ("" without a CSeq, or with
        one that does not parse: `is_method()` and `$rm` read it on any reply)."""
        try:
            cseq = self.cseq
        except SipParseError:
            return ""
        return "" if cseq is None else cseq.method


def parse_message(data: bytes) -> Request | Response:
    """Structural parse of one SIP message (a datagram or one framed stream message).

    Raises `SipParseError` when the start line or the header section cannot be read.
    Octets after Content-Length are ignored; without Content-Length the body is the
    rest of `data` (RFC 3261 §18.3).
    """
    start = 0
    while data.startswith(_CRLF, start):
        start += 2
    head_end = data.find(b"\r\n\r\n", start)
    if head_end < 0:
        raise SipParseError("header section not terminated by an empty line", len(data))
    line_end = data.find(_CRLF, start)
    start_line = data[start:line_end]
    is_response = start_line.startswith(b"SIP/")
    if is_response:
        version, status, reason = _parse_status_line(start_line, start)
    elif start_line.endswith(b" SIP/2.0") and 0 < start_line.find(b" ") < len(start_line) - 8:
        # the usual request line: what _parse_request_line accepts, without its checks
        first = start_line.find(b" ")
        method = start_line[:first].decode(_ENCODING, _ERRORS)
        ruri_text = start_line[first + 1 : -8].decode(_ENCODING, _ERRORS)
        version = "SIP/2.0"
    else:
        method, ruri_text, version = _parse_request_line(start_line, start)
    header_base = line_end + 2
    if line_end < head_end:
        lines, keys = _split_headers(data[header_base:head_end], header_base)
    else:
        lines, keys = [], []
    body_start = head_end + 4
    end = len(data)
    try:
        line = lines[keys.index("content-length")]
    except ValueError:  # no Content-Length: the rest of the datagram
        pass
    else:
        declared = line[line.find(b":") + 1 :].strip()
        if declared.isdigit():
            end = min(end, body_start + int(declared))
    body = data[body_start:end]
    if is_response:
        return Response(
            status, reason, data, start, start_line, lines, keys, header_base, body, end, version
        )
    return Request(
        method, ruri_text, data, start, start_line, lines, keys, header_base, body, end, version
    )


def _split_headers(section: bytes, base: int) -> tuple[list[bytes], list[str]]:
    lines = section.split(_CRLF)
    if _MAYBE_FOLDED(section) is not None or section[:1] in (b" ", b"\t"):
        lines = _unfold_lines(lines, base)
    known = _KEY_OF_RAW_NAME.get
    keys: list[Any] = [known(line[: line.find(b":") + 1]) for line in lines]
    if None in keys:
        offset = base
        for i, line in enumerate(lines):
            if keys[i] is None:
                colon = line.find(b":")
                if colon <= 0:
                    raise SipParseError("header line without ':'", offset)
                keys[i] = _key_of_raw(line[: colon + 1])
            offset += len(line) + 2
    return lines, keys


def _unfold_lines(lines: list[bytes], base: int) -> list[bytes]:
    if lines[0][:1] in (b" ", b"\t"):
        raise SipParseError("first header line starts with whitespace", base)
    joined: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            joined[-1] = joined[-1] + _CRLF + line
        else:
            joined.append(line)
    return joined


def _parse_request_line(line: bytes, offset: int) -> tuple[str, str, str]:
    first = line.find(b" ")
    last = line.rfind(b" ")
    if first <= 0 or first == last:
        raise SipParseError("request line must be 'Method SP Request-URI SP SIP-Version'", offset)
    version = line[last + 1 :].decode(_ENCODING, _ERRORS)
    if not version.upper().startswith("SIP/"):
        raise SipParseError("request line does not end with a SIP version", offset + last + 1)
    method = line[:first].decode(_ENCODING, _ERRORS)
    return method, line[first + 1 : last].decode(_ENCODING, _ERRORS), version


def _parse_status_line(line: bytes, offset: int) -> tuple[str, int, str]:
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise SipParseError("status line must be 'SIP-Version SP Status-Code SP Reason'", offset)
    reason = parts[2].decode(_ENCODING, _ERRORS) if len(parts) == 3 else ""
    return parts[0].decode(_ENCODING, _ERRORS), int(parts[1]), reason


def header_pairs(lines: Iterable[str]) -> list[tuple[str, str]]:
    """Header lines as a script writes them (`append_to_reply()`, `t_add_hdrs()`):
    `"Contact: <sip:a@b>;expires=60"` -> `("Contact", "<sip:a@b>;expires=60")`, both
    stripped; a line without `:` or without a name is left out."""
    out = []
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out.append((name.strip(), value.strip()))
    return out


def header_line(name: str, value: str) -> bytes:
    """`Name: value` as bytes; refuses what would inject a line or break the header."""
    if name not in _TOKEN_NAMES:
        if not is_token(name):
            raise ValueError(f"header name {name!r} is not a token")
        if len(_TOKEN_NAMES) < _KEY_CACHE_LIMIT:
            _TOKEN_NAMES.add(name)
    if "\r" in value or "\n" in value:
        raise ValueError(f"header value for {name} contains CR or LF")
    return f"{name}: {value}".encode(_ENCODING, _ERRORS)


def _max_forwards(text: str) -> int:
    return parse_number(text, "Max-Forwards")


def _expires(text: str) -> int:
    return parse_number(text, "Expires")


def _content_length(text: str) -> int:
    return parse_number(text, "Content-Length")


def build_message(
    start_line: str, header_lines: Iterable[bytes], body: bytes = b""
) -> Request | Response:
    """A message from a start line and header lines (bytes of `Name: value`), for builders."""
    lines = list(header_lines)
    head = _CRLF.join([start_line.encode(_ENCODING, _ERRORS), *lines]) + b"\r\n\r\n"
    return parse_message(head + body)
