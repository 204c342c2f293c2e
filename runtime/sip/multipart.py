"""Multipart bodies (RFC 2046 §5.1) as SIP carries them: SDP beside ISUP, a PIDF-LO...

`split(content_type, body)` finds the parts of a `multipart/*` body by its boundary and
gives each part's headers, media type and where its content sits in the body, so an
edit of one part (`replace_body`) leaves every other byte as received. No I/O.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


def media_type(content_type: str) -> str:
    """`Application/SDP; charset=x` -> `application/sdp`."""
    return content_type.split(";", 1)[0].strip().lower()


def boundary_of(content_type: str) -> str | None:
    """The `boundary` parameter of a `multipart/*` Content-Type, None for other types."""
    if not media_type(content_type).startswith("multipart/"):
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value or None
    return None


@dataclass(frozen=True, slots=True)
class Part:
    """One body part: its header lines and where its content is in the whole body."""

    headers: tuple[tuple[str, str], ...]
    delimiter: int
    """Offset of the delimiter line above the part."""
    next_delimiter: int
    """Offset of the delimiter line below it."""
    start: int
    """Offset of the part's first header line (of its content when it has none)."""
    content_start: int
    end: int
    """Offset just past the content (the CRLF before the next delimiter excluded)."""
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def media_type(self) -> str:
        """The part's type; `text/plain` when it gives none (RFC 2046 §5.1)."""
        return media_type(self.header("Content-Type") or "text/plain")


def _line_at(body: bytes, position: int) -> bool:
    return position == 0 or body[position - 1 : position] == b"\n"


def split(content_type: str, body: bytes) -> list[Part] | None:
    """The parts of a multipart body; None when it is not multipart or is malformed."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    delimiter = b"--" + boundary.encode(_ENCODING, _ERRORS)
    # every delimiter line, first to last (the last one is the close delimiter)
    marks: list[tuple[int, int, bool]] = []  # (line start, line end, closes)
    position = 0
    while True:
        found = body.find(delimiter, position)
        if found < 0:
            break
        position = found + len(delimiter)
        if not _line_at(body, found):
            continue
        closes = body[position : position + 2] == b"--"
        line_end = body.find(b"\n", position)
        line_end = len(body) if line_end < 0 else line_end + 1
        marks.append((found, line_end, closes))
        if closes:
            break
    if len(marks) < 2:
        return None
    parts = []
    for (mark, content_from, closes), (next_start, _, _) in itertools.pairwise(marks):
        if closes:
            break
        end = next_start
        # the line end before a delimiter belongs to the delimiter
        if body[end - 2 : end] == b"\r\n":
            end -= 2
        elif body[end - 1 : end] == b"\n":
            end -= 1
        parts.append(_part(body, mark, next_start, content_from, max(end, content_from)))
    return parts


def _part(body: bytes, delimiter: int, next_delimiter: int, start: int, end: int) -> Part:
    headers: list[tuple[str, str]] = []
    position = start
    blank_line = False
    while position < end:
        line_end = body.find(b"\n", position, end)
        line_end = end if line_end < 0 else line_end + 1
        line = body[position:line_end].rstrip(b"\r\n")
        if not line:  # the empty line between headers (maybe none) and content
            position = line_end
            blank_line = True
            break
        if line[:1] in (b" ", b"\t") and headers:  # a folded header line
            last_name, last_value = headers[-1]
            headers[-1] = (last_name, last_value + " " + line.strip().decode(_ENCODING, _ERRORS))
        else:
            name, colon, value = line.partition(b":")
            if not colon:  # no header section: the content starts here
                break
            headers.append(
                (name.strip().decode(_ENCODING, _ERRORS), value.strip().decode(_ENCODING, _ERRORS))
            )
        position = line_end
    if not headers and not blank_line:  # no header section at all: content from the top
        position = start
    return Part(tuple(headers), delimiter, next_delimiter, start, position, end, body[position:end])


def replace_body(body: bytes, part: Part, content: bytes) -> bytes:
    """The whole multipart body with `part`'s content replaced by `content`."""
    return body[: part.content_start] + content + body[part.end :]


def remove_part(body: bytes, part: Part) -> bytes:
    """The whole multipart body without `part`: its delimiter line, headers and content."""
    return body[: part.delimiter] + body[part.next_delimiter :]


OSS_BOUNDARY = "OSS-unique-boundary-42"
"""The boundary OpenSIPS gives a body it makes multipart (peers' tests may look for it)."""


def part_bytes(boundary: str, header_lines: list[str], content: bytes) -> bytes:
    """One part as it sits in a body: its delimiter line, headers, empty line, content, CRLF."""
    head = "".join(f"{line}\r\n" for line in header_lines)
    return f"--{boundary}\r\n{head}\r\n".encode(_ENCODING, _ERRORS) + content + b"\r\n"


def join(boundary: str, parts: list[tuple[list[str], bytes]]) -> bytes:
    """A new multipart body of `(header lines, content)` parts, close delimiter included."""
    pieces = [part_bytes(boundary, lines, content) for lines, content in parts]
    return b"".join(pieces) + f"--{boundary}--\r\n".encode(_ENCODING, _ERRORS)


def append_part(body: bytes, parts: list[Part], part: bytes) -> bytes:
    """`body` (split into `parts`) with `part` (from `part_bytes`) added after the last part,
    just above the close delimiter, so the preamble, the epilogue and every other byte stay."""
    at = parts[-1].next_delimiter
    return body[:at] + part + body[at:]


def remove_parts(body: bytes, doomed: list[Part]) -> bytes:
    """The whole multipart body without every part in `doomed` (as `split` gave them)."""
    for part in sorted(doomed, key=lambda p: p.delimiter, reverse=True):
        body = remove_part(body, part)
    return body
