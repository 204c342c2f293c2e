"""Regular expressions as OpenSIPS scripts write them, run on Python's `re`.

Script regexes are POSIX extended. The differences that matter in practice are the
bracket classes (`[[:digit:]]`), which Python lacks, and the flags: a `regex`
parameter is matched case-insensitively and newline-sensitively (language.md §8.2),
while a sed-like `subst` expression carries its own flags. Patterns are compiled once
per distinct text, so a regex held in a variable costs a dict lookup after its first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from runtime.api import ops
from runtime.api import posix_to_python as _api_posix_to_python

# The POSIX class table lives with the runtime's transformations (`{re.subst}`); the
# script's `=~` (runtime.api.ops.regex) and these functions compile the same way.
posix_to_python = _api_posix_to_python
compile_regex = ops.regex


class SubstSyntaxError(ValueError):
    """A `subst` expression that is not `<d>re<d>replacement<d>flags`."""


@dataclass(frozen=True, slots=True)
class VarRef:
    """A pseudo-variable in a replacement: `$name` or `$name(inner)`, read at each match."""

    name: str
    inner: str | None
    text: str
    """As written, for when the variable cannot be read."""


VarReader = Callable[[VarRef], str]
"""Prints a variable of the replacement (given by the caller, who has the context)."""

ReplacementPart = str | int | VarRef


@dataclass(frozen=True, slots=True)
class Subst:
    """A parsed sed-like `/re/replacement/flags` expression."""

    pattern: re.Pattern[str]
    parts: tuple[ReplacementPart, ...]
    """The replacement: literal text, an int N for the back-reference `\\N`, a variable."""
    replace_all: bool

    def expand(self, match: re.Match[str], read: VarReader | None = None) -> str:
        """The replacement text for one match (an unmatched group expands to nothing;
        a variable prints as written when no reader is given)."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, int):
                out.append(match.group(part) or "")
            else:
                out.append(read(part) if read is not None else part.text)
        return "".join(out)

    def apply(self, text: str, read: VarReader | None = None) -> tuple[str, int]:
        """Substitute in `text`; returns the new text and the number of replacements."""
        return self.pattern.subn(
            lambda match: self.expand(match, read), text, count=0 if self.replace_all else 1
        )


@functools.lru_cache(maxsize=256)
def parse_subst(expression: str) -> Subst:
    """Parse `/re/repl/flags` (any delimiter; flags: i ignore case, g global,
    s newline-sensitive: without it `.` matches a newline and `^`/`$` anchor the whole text).
    The replacement may hold `\\N` back-references and `$var`/`$var(inner)` variables."""
    if len(expression) < 3:
        raise SubstSyntaxError(f"`{expression}` is too short for /re/replacement/flags")
    delimiter = expression[0]
    fields = _split_unescaped(expression[1:], delimiter)
    if len(fields) != 3:
        raise SubstSyntaxError(f"`{expression}` needs three `{delimiter}`-separated parts")
    regex_text, replacement, flag_text = fields
    flags = 0
    newline_sensitive = False
    replace_all = False
    for flag in flag_text:
        if flag == "i":
            flags |= re.IGNORECASE
        elif flag == "g":
            replace_all = True
        elif flag == "s":
            newline_sensitive = True
        else:
            raise SubstSyntaxError(f"unknown flag `{flag}` in `{expression}`")
    flags |= re.MULTILINE if newline_sensitive else re.DOTALL
    try:
        pattern = re.compile(posix_to_python(regex_text), flags)
    except re.error as exc:
        raise SubstSyntaxError(f"bad regex in `{expression}`: {exc}") from exc
    parts = _parse_replacement(replacement)
    for part in parts:
        if isinstance(part, int) and part > pattern.groups:
            raise SubstSyntaxError(f"`\\{part}` in `{expression}` refers to no group")
    return Subst(pattern, parts, replace_all)


def _split_unescaped(text: str, delimiter: str) -> list[str]:
    """Split at unescaped delimiters; `\\<delimiter>` becomes the delimiter itself,
    every other escape is left for the regex or replacement parser."""
    fields: list[str] = []
    current: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            following = text[position + 1]
            current.append(following if following == delimiter else char + following)
            position += 2
            continue
        if char == delimiter:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
        position += 1
    fields.append("".join(current))
    return fields


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}


_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.]*)(?:\(([^()]*)\))?")


def _parse_replacement(text: str) -> tuple[ReplacementPart, ...]:
    parts: list[ReplacementPart] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "$":
            if text.startswith("$$", position):
                literal.append("$")
                position += 2
                continue
            variable = _VARIABLE.match(text, position)
            if variable is not None:
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(VarRef(variable.group(1), variable.group(2), variable.group(0)))
                position = variable.end()
                continue
        if char == "\\" and position + 1 < len(text):
            following = text[position + 1]
            position += 2
            if following.isdigit():
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(int(following))
            else:
                literal.append(_ESCAPES.get(following, following))
            continue
        literal.append(char)
        position += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)
