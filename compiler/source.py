"""Script text before the grammar sees it: includes, comments, line continuations.

Two steps, as OpenSIPS does them:

1. `flatten` replaces every line whose first word is `include_file "x"` / `import_file "x"` by
   the lines of that file, recursively (depth 50), and keeps a `SourceMap` from lines of the
   flat text back to (file, line) and to the include that brought each file in. A relative
   path is tried against the working directory first, then the including file's folder.
2. `scan` blanks out comments (`#` to end of line, nested `/* */`) and backslash-newline
   continuations with spaces, keeping every newline, so lexer offsets are still file
   positions. It records the comments (for `sipc fmt`) and the mistakes it meets: `//`
   (not a comment in OpenSIPS) and an unterminated `/*`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from compiler.ast import Span
from compiler.pvparse import pv_extent
from compiler.records import record

MAX_INCLUDE_DEPTH = 50
_INCLUDE_LINE = re.compile(r"""^[ \t]*(include_file|import_file)[ \t]*(["'])(.*?)\2""")


@record
class Comment:
    """A comment as written, with its position (for the formatter)."""

    text: str
    line: int
    col: int
    end_line: int
    kind: str  # "line" or "block"
    own_line: bool  # nothing but blanks before it on its line


@record
class ScanProblem:
    code: str
    message: str
    offset: int
    length: int
    help: str | None = None


@dataclass(slots=True)
class Scanned:
    code: str
    comments: list[Comment]
    problems: list[ScanProblem]


# What `scan` jumps over: text without the characters it acts on (quotes, `$`, `#`, `/`,
# a backquote, a backslash), and strings that close on their own line. It stops at the
# rest: variables, comments and the strings that hold a newline or do not close.
# Plain quantifiers, not possessive ones: CPython 3.11.2 (Debian 12's; 3.11.7 is right) gets
# `*+` in a repeated group wrong. None of the alternatives can match what another does, so
# the match is the same and no backtracking is needed.
_SCAN_SKIP = re.compile(r"""(?:[^"'$#/`\\]+|"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"|'[^'\n]*')*""")
_NOT_NEWLINE = re.compile(r"[^\n]")
_DQ_BODY = re.compile(r'(?:[^"\\]|\\.)*', re.S)  # after a `"`: up to the closing one


def scan(text: str) -> Scanned:
    """Blank comments and continuations out of `text` (same length, same newlines)."""
    pieces: list[str] = []  # the text up to `done`, blanked where it must be
    done = 0
    comments: list[Comment] = []
    problems: list[ScanProblem] = []
    n = len(text)
    i = 0
    # Lines are counted by the newlines outside strings and variables (so a comment after a
    # multi-line string is placed by the line of the string's start, as `sipc fmt` has
    # always read it). They are counted when a comment needs its line: `line` and
    # `line_start` hold for the text before `counted`, and the newlines after it are all
    # outside strings and variables (a string or variable with a newline moves `counted`
    # past itself).
    line = 1
    line_start = 0
    counted = 0
    skip = _SCAN_SKIP.match
    count, find, rfind = text.count, text.find, text.rfind

    def blank(a: int, b: int) -> None:
        nonlocal done
        gone = text[a:b]
        pieces.append(text[done:a])
        pieces.append(_NOT_NEWLINE.sub(" ", gone) if "\n" in gone else " " * (b - a))
        done = b

    while i < n:
        i = skip(text, i).end()  # type: ignore[union-attr]  # `*` always matches
        if i >= n:
            break
        c = text[i]
        if c == '"' or c == "'" or c == "$":
            if c == '"':
                end = _skip_dq(text, i)
            elif c == "'":
                j = find("'", i + 1)
                end = n if j < 0 else j + 1
            else:
                extent = pv_extent(text, i)
                end = i + 1 if extent is None else extent
            if find("\n", i, end) >= 0:  # a newline inside: not counted
                newlines = count("\n", counted, i)
                if newlines:
                    line += newlines
                    line_start = rfind("\n", counted, i) + 1
                counted = end
            i = end
            continue
        if c == "#" or c == "/":
            newlines = count("\n", counted, i)
            if newlines:
                line += newlines
                line_start = rfind("\n", counted, i) + 1
            counted = i
        if c == "#" or (c == "/" and text.startswith("//", i)):
            j = find("\n", i)
            j = n if j < 0 else j
            own = text[line_start:i].strip() == ""
            comments.append(
                Comment(text[i:j].rstrip(), line, i - line_start + 1, line, "line", own)
            )
            if c == "/":
                problems.append(
                    ScanProblem(
                        "slash-comment",
                        "`//` does not start a comment in OpenSIPS",
                        i,
                        2,
                        "use `#` for a line comment, or `/* ... */`",
                    )
                )
            blank(i, j)
            i = j
        elif c == "/" and text.startswith("/*", i):
            j, depth = i + 2, 1
            while j < n and depth:
                if text.startswith("/*", j):
                    depth += 1
                    j += 2
                elif text.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            own = text[line_start:i].strip() == ""
            body = text[i:j]
            end_line = line + body.count("\n")
            comments.append(Comment(body, line, i - line_start + 1, end_line, "block", own))
            if depth:
                problems.append(
                    ScanProblem(
                        "syntax",
                        "unterminated block comment: `/*` is never closed",
                        i,
                        2,
                        "block comments nest in OpenSIPS: every `/*` needs its own `*/`",
                    )
                )
            blank(i, j)
            if body.count("\n"):
                line = end_line
                line_start = i + body.rfind("\n") + 1
            counted = i = j
        elif c == "`":
            # OpenSIPS's lexer has no rule for it and skips it (flex echoes it); say so.
            problems.append(
                ScanProblem(
                    "stray-character",
                    "stray `` ` `` outside a string: OpenSIPS skips it",
                    i,
                    1,
                    "delete it",
                )
            )
            blank(i, i + 1)
            i += 1
        elif c == "\\" and i + 1 < n and text[i + 1] == "\n":
            blank(i, i + 1)
            i += 1
        else:
            i += 1
    pieces.append(text[done:])
    return Scanned("".join(pieces), comments, problems)


def _skip_dq(text: str, i: int) -> int:
    """The offset after the string opening at `i` (a backslash escapes any character)."""
    end = _DQ_BODY.match(text, i + 1).end()  # type: ignore[union-attr]  # `*` always matches
    return end + 1 if end < len(text) and text[end] == '"' else len(text)


# ---------------------------------------------------------------------------- includes


@record
class _Segment:
    flat_start: int  # first line of the segment in the flat text (1-based)
    file: str
    file_start: int  # the file line it corresponds to


@dataclass(slots=True)
class SourceMap:
    """Maps lines of the flattened text back to files, and files to where they were included."""

    segments: list[_Segment] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    included_from: dict[str, Span] = field(default_factory=dict)

    def locate(self, flat_line: int) -> tuple[str, int]:
        seg = self.segments[0]
        lo, hi = 0, len(self.segments) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if self.segments[mid].flat_start <= flat_line:
                seg = self.segments[mid]
                lo = mid + 1
            else:
                hi = mid - 1
        return seg.file, seg.file_start + (flat_line - seg.flat_start)

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        if len(self.segments) == 1:  # no includes: the flat text is the file
            seg = self.segments[0]
            shift = seg.file_start - seg.flat_start
            return Span(seg.file, line + shift, col, end_line + shift, end_col)
        file, fl = self.locate(line)
        efile, efl = self.locate(end_line)
        if efile != file:  # a span may not cross files: stop it at the end of its first line
            return Span(file, fl, col, fl, col + 1)
        return Span(file, fl, col, efl, end_col)

    def include_chain(self, file: str) -> list[Span]:
        """The include sites that brought `file` in, innermost first."""
        chain: list[Span] = []
        seen: set[str] = set()
        while file in self.included_from and file not in seen:
            seen.add(file)
            site = self.included_from[file]
            chain.append(site)
            file = site.file
        return chain


@record
class IncludeProblem:
    span: Span
    message: str
    help: str | None = None


@dataclass(slots=True)
class Flat:
    text: str
    source_map: SourceMap
    problems: list[IncludeProblem]


def flatten(path: str, text: str | None = None, *, display: str | None = None) -> Flat:
    """Read `path` (or use `text`) and inline its includes."""
    smap = SourceMap()
    problems: list[IncludeProblem] = []
    lines: list[str] = []
    name = display or path
    if text is None:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    if "include_file" not in text and "import_file" not in text:  # no line can include
        smap.texts[name] = text
        smap.segments.append(_Segment(1, name, 1))
        return Flat(text if not text or text.endswith("\n") else text + "\n", smap, problems)
    _inline(name, path, text, smap, problems, lines, depth=0, stack=[])
    if not smap.segments:
        smap.segments.append(_Segment(1, name, 1))
    return Flat("".join(lines), smap, problems)


def _inline(
    name: str,
    path: str,
    text: str,
    smap: SourceMap,
    problems: list[IncludeProblem],
    lines: list[str],
    *,
    depth: int,
    stack: list[str],
) -> None:
    smap.texts[name] = text
    file_lines = text.splitlines(keepends=True)
    if file_lines and not file_lines[-1].endswith("\n"):
        file_lines[-1] += "\n"
    seg_start = True
    for number, line in enumerate(file_lines, start=1):
        m = _INCLUDE_LINE.match(line)
        if m is None:
            if seg_start:
                smap.segments.append(_Segment(len(lines) + 1, name, number))
                seg_start = False
            lines.append(line)
            continue
        target = m.group(3)
        site = Span(name, number, m.start(1) + 1, number, m.end() + 1)
        resolved = _resolve(target, path)
        # The include line itself becomes an empty line so numbering stays simple.
        smap.segments.append(_Segment(len(lines) + 1, name, number))
        lines.append("\n")
        seg_start = True
        if resolved is None:
            problems.append(
                IncludeProblem(
                    site,
                    f"cannot include `{target}`: no such file",
                    "a relative path is tried against the working directory, then the folder of the including file",
                )
            )
            continue
        if depth + 1 > MAX_INCLUDE_DEPTH or resolved in stack:
            problems.append(IncludeProblem(site, f"`{target}` includes itself (include cycle)"))
            continue
        try:
            sub = Path(resolved).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            problems.append(IncludeProblem(site, f"cannot read `{target}`: {exc.strerror}"))
            continue
        sub_name = os.path.relpath(resolved) if not os.path.isabs(target) else resolved
        smap.included_from.setdefault(sub_name, site)
        _inline(
            sub_name,
            resolved,
            sub,
            smap,
            problems,
            lines,
            depth=depth + 1,
            stack=[*stack, resolved],
        )


def _resolve(target: str, including: str) -> str | None:
    if os.path.isabs(target):
        return target if os.path.isfile(target) else None
    if os.path.isfile(target):
        return os.path.abspath(target)
    beside = os.path.join(os.path.dirname(os.path.abspath(including)), target)
    return beside if os.path.isfile(beside) else None
