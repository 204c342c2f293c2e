"""The ``s.*`` transformations (spec/pseudo-variables.md §4).

Each function takes a non-NULL value (the dispatcher turns NULL input into NULL output) and
returns NULL where OpenSIPS 3.6 fails the transformation. Lengths and offsets count
characters; OpenSIPS counts bytes, which is the same for the ASCII that SIP carries.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
import zlib

from runtime.core.transforms.values import (
    FormatExpander,
    as_text,
    from_bytes,
    leading_int,
    to_bytes,
)

HASH_NAMES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


def s_len(value: int | str) -> int:
    return len(as_text(value))


def s_int(value: int | str) -> int:
    return value if isinstance(value, int) else leading_int(value)


def s_hash(value: int | str, algorithm: str) -> str:
    """Hex digest; ``algorithm`` is one of HASH_NAMES."""
    return hashlib.new(algorithm, to_bytes(as_text(value))).hexdigest()


def s_hmac(value: int | str, key: str, algorithm: str) -> str:
    return hmac.new(to_bytes(key), to_bytes(as_text(value)), algorithm).hexdigest()


def s_crc32(value: int | str) -> str:
    # OpenSIPS's crc32_uint starts from 0xffffffff but skips the final inversion that
    # zlib applies, so its figure is zlib's with every bit flipped.
    return str(zlib.crc32(to_bytes(as_text(value))) ^ 0xFFFFFFFF)


def s_reverse(value: int | str) -> str:
    return as_text(value)[::-1]


def s_substr(value: int | str, offset: int, length: int) -> str | None:
    """Offset < 0 counts from the end; length 0 runs to the end, < 0 stops before it."""
    text = as_text(value)
    size = len(text)
    if offset < 0:
        if -offset > size:
            return None
        offset += size
    if offset >= size:
        return None
    if length < 1:
        length = size + length - offset
    return text[offset : offset + max(length, 0)]


def s_select(value: int | str, index: int, separator: str) -> str | None:
    """The index-th field (negative from the end); an empty separator stands for ','."""
    fields = as_text(value).split(separator[:1] or ",")
    if -len(fields) <= index < len(fields):
        return fields[index]
    return None


def s_encode_hexa(value: int | str) -> str:
    return to_bytes(as_text(value)).hex()


def s_decode_hexa(value: int | str) -> str | None:
    try:
        return from_bytes(bytes.fromhex(as_text(value)))
    except ValueError:
        return None


_COMMON_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "\0": "\\0"}
_COMMON_UNESCAPES = {"'": "'", '"': '"', "\\": "\\", "0": "\0"}


def s_escape_common(value: int | str) -> str:
    return "".join(_COMMON_ESCAPES.get(char, char) for char in as_text(value))


def s_unescape_common(value: int | str) -> str:
    text = as_text(value)
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text) and text[position + 1] in _COMMON_UNESCAPES:
            out.append(_COMMON_UNESCAPES[text[position + 1]])
            position += 2
        else:
            # An unknown escape keeps its backslash, as OpenSIPS's unescape_common does.
            out.append(char)
            position += 1
    return "".join(out)


# RFC 3261 unreserved and user-unreserved characters: left alone in a URI user part.
_USER_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/"
)
# Unreserved and param-unreserved characters: left alone in a URI parameter.
_PARAM_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()[]/:&+$"
)


def _percent_escape(text: str, safe: frozenset[str]) -> str | None:
    out: list[str] = []
    for char in text:
        if not " " <= char <= "~":
            return None  # OpenSIPS refuses control and non-ASCII characters
        out.append(char if char in safe else f"%{ord(char):02x}")
    return "".join(out)


_PERCENT_ESCAPE = re.compile(r"%(.?.?)", re.DOTALL)


def _percent_unescape(text: str) -> str | None:
    failed = False

    def decode(match: re.Match[str]) -> str:
        nonlocal failed
        digits = match.group(1)
        if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            failed = True
            return ""
        char = chr(int(digits, 16))
        if not " " <= char <= "~":
            failed = True
        return char

    decoded = _PERCENT_ESCAPE.sub(decode, text)
    return None if failed else decoded


def s_escape_user(value: int | str) -> str | None:
    return _percent_escape(as_text(value), _USER_SAFE)


def s_unescape_user(value: int | str) -> str | None:
    return _percent_unescape(as_text(value))


def s_escape_param(value: int | str) -> str | None:
    return _percent_escape(as_text(value), _PARAM_SAFE)


def s_unescape_param(value: int | str) -> str | None:
    return _percent_unescape(as_text(value))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def s_tolower(value: int | str) -> str:
    return as_text(value).translate(_ASCII_LOWER)


def s_toupper(value: int | str) -> str:
    return as_text(value).translate(_ASCII_UPPER)


def _wrap_start(start: int, size: int) -> int:
    """A negative start counts from the end and wraps: -2 and -12 are the same on 10 chars."""
    if start >= 0:
        return start
    if size == 0:
        return 0
    back = -start % size
    return size - back if back else 0


def s_index(value: int | str, needle: str, start: int | None = None) -> int | None:
    text = as_text(value)
    if not needle:
        return None
    begin = _wrap_start(0 if start is None else start, len(text))
    if begin >= len(text):
        return None
    found = text.find(needle, begin)
    return found if found >= 0 else None


def s_rindex(value: int | str, needle: str, start: int | None = None) -> int | None:
    """Last occurrence starting at or before ``start`` (default: the end)."""
    text = as_text(value)
    if not needle or len(needle) > len(text):
        return None
    begin = _wrap_start(len(text) - 1 if start is None else start, len(text))
    begin = min(begin, len(text) - 1, len(text) - len(needle))
    found = text.rfind(needle, 0, begin + len(needle))
    return found if found >= 0 else None


def s_fill_left(value: int | str, pad: str, width: int) -> str | None:
    """Pad on the left up to width; a multi-character pad keeps its end next to the value."""
    text = as_text(value)
    missing = width - len(text)
    if missing <= 0:
        return text
    if not pad:
        return None
    repeated = pad * (missing // len(pad) + 1)
    return repeated[len(repeated) - missing :] + text


def s_fill_right(value: int | str, pad: str, width: int) -> str | None:
    text = as_text(value)
    missing = width - len(text)
    if missing <= 0:
        return text
    if not pad:
        return None
    return text + (pad * (missing // len(pad) + 1))[:missing]


def s_width(value: int | str, width: int) -> str | None:
    if width <= 0:
        return None
    return as_text(value)[:width].ljust(width)


_BLANKS = " \t\r\n"


def s_trim(value: int | str) -> str:
    return as_text(value).strip(_BLANKS)


def s_trimr(value: int | str) -> str:
    return as_text(value).rstrip(_BLANKS)


def s_triml(value: int | str) -> str:
    return as_text(value).lstrip(_BLANKS)


def s_dec2hex(value: int | str) -> str | None:
    if isinstance(value, str):
        if not re.fullmatch(r"[+-]?\d+", value):
            return None
        value = int(value)
    # printf("%x") of a C int: negative numbers show their 32-bit two's complement.
    return format(value & 0xFFFFFFFF if value < 0 else value, "x")


def s_hex2dec(value: int | str) -> int | None:
    if isinstance(value, int):
        return value
    digits = value[2:] if value[:2] in ("0x", "0X") else value
    if not re.fullmatch(r"[0-9a-fA-F]*", digits):
        return None
    return int(digits, 16) if digits else 0


def s_b64encode(value: int | str) -> str:
    return base64.b64encode(to_bytes(as_text(value))).decode("ascii")


def s_b64decode(value: int | str) -> str | None:
    try:
        return from_bytes(base64.b64decode(to_bytes(as_text(value))))
    except (binascii.Error, ValueError):
        return None


def s_xor(value: int | str, secret: str) -> str | None:
    if not secret:
        return None
    data = to_bytes(as_text(value))
    key = to_bytes(secret)
    return from_bytes(bytes(byte ^ key[i % len(key)] for i, byte in enumerate(data)))


def s_eval(value: int | str, expand: FormatExpander | None) -> str | None:
    """Expand the value as a format string; without an expander there is nothing to read."""
    text = as_text(value)
    return text if expand is None else expand(text)


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_SIP_DATE = re.compile(
    r"\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*(\d{1,2})\s+([A-Z][a-z]{2})\s+(\d{4})"
    r"\s+(\d{1,2}):(\d{2}):(\d{2})\s+GMT\s*"
)


def s_date2unix(value: int | str) -> int | None:
    """A SIP Date (RFC 1123, always GMT) as unix time; the month names are not localised."""
    match = _SIP_DATE.fullmatch(as_text(value))
    if match is None or match.group(2) not in _MONTHS:
        return None
    day, month, year, hour, minute, second = match.groups()
    try:
        moment = datetime.datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=datetime.UTC,
        )
    except ValueError:
        return None  # 31 Feb, 25:00 and the like
    return int(moment.timestamp())
