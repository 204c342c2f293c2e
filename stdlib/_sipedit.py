"""Edits on the bytes of a SIP message: find header lines, insert, remove, rewrite.

The stdlib functions that change headers in ways the script context has no verb for
(insert text at the top or after another header, patch one value in place, a regex
over the message) work here on the raw message and hand the result back to be parsed
again. Pure functions over bytes: no parsing beyond line boundaries and header names.
"""

from __future__ import annotations

from dataclasses import dataclass

CRLF = b"\r\n"

COMPACT_NAMES = {
    "i": "call-id",
    "m": "contact",
    "f": "from",
    "t": "to",
    "v": "via",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "o": "event",
    "u": "allow-events",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
    "y": "identity",
    "n": "identity-info",
}


def canonical_name(name: str) -> str:
    """Lower-case full header name; compact forms (`v`, `i`...) expanded."""
    lowered = name.strip().lower()
    return COMPACT_NAMES.get(lowered, lowered)


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """One header field as it sits in the message (continuation lines included)."""

    name: str
    """As written (`Via`, `v`)."""
    start: int
    """Offset of the first byte of the name."""
    value_start: int
    """Offset of the value, after the colon and leading whitespace."""
    value_end: int
    """Offset just past the value (before its line end)."""
    end: int
    """Offset just past the line end: removing `[start:end]` removes the whole header."""

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    def value(self, raw: bytes) -> str:
        return raw[self.value_start : self.value_end].decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the parts of a message are: first line, headers, the blank line, the body."""

    headers: tuple[HeaderLine, ...]
    headers_start: int
    """Offset of the first header (just past the first line)."""
    headers_end: int
    """Offset where the next header would be appended (the blank line starts here)."""
    body_start: int


def scan(raw: bytes) -> Layout:
    """Cut `raw` into its header lines; tolerant of bare LF line ends."""
    first_end = raw.find(b"\n")
    if first_end < 0:
        return Layout((), len(raw), len(raw), len(raw))
    position = first_end + 1
    headers_start = position
    lines: list[HeaderLine] = []
    while position < len(raw):
        line_end = raw.find(b"\n", position)
        if line_end < 0:
            line_end = len(raw) - 1
        if raw[position:line_end].rstrip(b"\r") == b"":
            return Layout(tuple(lines), headers_start, position, line_end + 1)
        # a header continues on lines that start with whitespace (obsolete folding)
        end = line_end + 1
        while end < len(raw) and raw[end : end + 1] in (b" ", b"\t"):
            next_end = raw.find(b"\n", end)
            end = len(raw) if next_end < 0 else next_end + 1
        colon = raw.find(b":", position, end)
        if colon > position:
            value_start = colon + 1
            while value_start < end and raw[value_start : value_start + 1] in (b" ", b"\t"):
                value_start += 1
            value_end = end
            while value_end > value_start and raw[value_end - 1 : value_end] in (b"\r", b"\n"):
                value_end -= 1
            name = raw[position:colon].decode("ascii", "replace").strip()
            lines.append(HeaderLine(name, position, value_start, value_end, end))
        position = end
    return Layout(tuple(lines), headers_start, len(raw), len(raw))


def find_headers(layout: Layout, name: str) -> list[HeaderLine]:
    key = canonical_name(name)
    return [line for line in layout.headers if line.key == key]


def splice(raw: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace each `[start:end]` by its bytes; edits must not overlap."""
    out: list[bytes] = []
    position = 0
    for start, end, text in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        out.append(raw[position:start])
        out.append(text)
        position = end
    out.append(raw[position:])
    return b"".join(out)


def header_bytes(text: str) -> bytes:
    """Script header text (`"X-A: 1\\r\\n"`, often without the CRLF) as one or more lines."""
    data = text.encode("utf-8", "surrogateescape")
    if data and not data.endswith(b"\n"):
        data += CRLF
    return data


def append_headers(raw: bytes, text: str) -> bytes:
    layout = scan(raw)
    return splice(raw, [(layout.headers_end, layout.headers_end, header_bytes(text))])


def insert_headers(raw: bytes, text: str, before: str | None = None) -> bytes:
    """Insert before the first header, or before the first header called `before`."""
    layout = scan(raw)
    offset = layout.headers_start
    if before is not None:
        anchors = find_headers(layout, before)
        if not anchors:
            return raw
        offset = anchors[0].start
    return splice(raw, [(offset, offset, header_bytes(text))])


def insert_headers_after(raw: bytes, text: str, after: str) -> bytes | None:
    """Insert after the first header called `after`; None when there is none."""
    anchors = find_headers(scan(raw), after)
    if not anchors:
        return None
    return splice(raw, [(anchors[0].end, anchors[0].end, header_bytes(text))])


def remove_lines(raw: bytes, lines: list[HeaderLine]) -> bytes:
    return splice(raw, [(line.start, line.end, b"") for line in lines])


def set_value(raw: bytes, line: HeaderLine, value: str) -> bytes:
    return splice(
        raw, [(line.value_start, line.value_end, value.encode("utf-8", "surrogateescape"))]
    )

