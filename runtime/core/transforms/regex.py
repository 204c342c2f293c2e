"""``{re.subst,/re/repl/flags}``: OpenSIPS's sed-like substitution.

The first character is the delimiter (any but a backslash); an escaped delimiter belongs to
the text. In the replacement ``\\0``..``\\9`` are the match and its groups, ``\\n \\r \\t \\\\
\\$`` the characters, and an unescaped ``$name``/``$(...)`` a variable, expanded through the
caller's format expander. Flags: ``i`` ignore case, ``g`` every match, ``s`` let ``.`` match a
newline (POSIX REG_NEWLINE is otherwise on: ``.`` stops at newlines, ``^``/``$`` match at
them). No match leaves the input unchanged. POSIX bracket classes (``[[:digit:]]``) are
translated; the rest of POSIX ERE reads the same in Python's ``re`` (one difference: an
alternation takes the first alternative that matches, not the longest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from runtime.core.transforms.values import FormatExpander, as_text

_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": r"!-~",
}  # fmt: skip
_POSIX_CLASS = re.compile(r"\[:([a-z]+):\]")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "$": "$"}


@dataclass(frozen=True, slots=True)
class _Substitution:
    pattern: re.Pattern[str]
    # Each piece is literal text (str), a group number (int) or a variable to expand (tuple).
    pieces: tuple[str | int | tuple[str], ...]
    replace_all: bool


def _posix_to_python(expression: str) -> str | None:
    translated = _POSIX_CLASS.sub(lambda m: _POSIX_CLASSES.get(m.group(1), m.group(0)), expression)
    return None if _POSIX_CLASS.search(translated) else translated


def posix_to_python_pattern(expression: str) -> str:
    """A POSIX extended regex as Python's `re` reads it (`[[:digit:]]` -> `[0-9]`)."""
    return _posix_to_python(expression) or expression


def _variable_end(text: str, start: int) -> int:
    """End of the variable token that starts with the ``$`` at ``start``."""
    position = start + 1
    if position < len(text) and text[position] != "(":
        while position < len(text) and (text[position].isalnum() or text[position] in "_."):
            position += 1
    if position < len(text) and text[position] == "(":
        depth = 0
        while position < len(text):
            depth += {"(": 1, ")": -1}.get(text[position], 0)
            position += 1
            if depth == 0:
                break
    return position


@lru_cache(maxsize=128)
def _compile(expression: str) -> _Substitution | None:
    # The transformation parser leaves braces escaped inside {...}; the backslash goes here.
    expression = expression.replace("\\{", "{").replace("\\}", "}")
    if len(expression) < 3 or expression[0] == "\\":
        return None
    delimiter = expression[0]
    position = 1
    while position < len(expression):
        if expression[position] == delimiter and expression[position - 1] != "\\":
            break
        position += 1
    else:
        return None
    regex_text = expression[1:position].replace("\\" + delimiter, delimiter)
    pieces: list[str | int | tuple[str]] = []
    position += 1
    while position < len(expression) and expression[position] != delimiter:
        char = expression[position]
        if char == "\\" and position + 1 < len(expression):
            escaped = expression[position + 1]
            if escaped.isdigit():
                pieces.append(int(escaped))
            elif escaped == "u":
                return None  # \u (the request URI) needs the message: not supported here
            else:
                pieces.append(_SIMPLE_ESCAPES.get(escaped, escaped))
            position += 2
        elif char == "$":
            end = _variable_end(expression, position)
            pieces.append((expression[position:end],))
            position = end
        else:
            pieces.append(char)
            position += 1
    if position >= len(expression):
        return None  # the replacement was never closed
    flags = expression[position + 1 :]
    if any(flag not in "igs" for flag in flags):
        return None
    python_flags = re.IGNORECASE if "i" in flags else 0
    python_flags |= re.DOTALL if "s" in flags else re.MULTILINE
    translated = _posix_to_python(regex_text)
    if translated is None:
        return None
    try:
        pattern = re.compile(translated, python_flags)
    except re.error:
        return None
    if any(isinstance(piece, int) and piece > pattern.groups for piece in pieces):
        return None
    return _Substitution(pattern, tuple(pieces), "g" in flags)


def re_subst(value: int | str, expression: str, expand: FormatExpander | None = None) -> str | None:
    """Apply ``/re/repl/flags`` to the value; NULL for a malformed expression."""
    substitution = _compile(expression)
    if substitution is None:
        return None
    text = as_text(value)

    def replacement(match: re.Match[str]) -> str:
        out: list[str] = []
        for piece in substitution.pieces:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, int):
                out.append(match.group(piece) or "")
            else:
                expanded = expand(piece[0]) if expand is not None else piece[0]
                out.append(expanded or "")
        return "".join(out)

    return substitution.pattern.sub(replacement, text, count=0 if substitution.replace_all else 1)
