"""The front end's shortcuts give what the plain step-by-step readings give.

Each shortcut (a regex or a C-speed pass standing for a loop over characters) is compared
with the loop it replaced, written here as the reference, on random text made of the
characters the loop acts on.
"""

from __future__ import annotations

import random
import re

from compiler import parse, source
from compiler.astbuild import unescape_string

_DQ_BODY = re.compile(r'(?:[^"\\]|\\.)*', re.S)


def nesting_reference(code: str) -> int | None:
    """Where `{`/`(` nesting first passes MAX_NESTING, walking every bracket and string."""
    depth = 0
    i = 0
    while i < len(code):
        c = code[i]
        if c == '"':
            i = _DQ_BODY.match(code, i + 1).end() + 1  # type: ignore[union-attr]
            continue
        if c == "'":
            j = code.find("'", i + 1)
            if j < 0:
                return None
            i = j + 1
            continue
        if c in "{(":
            depth += 1
            if depth > parse.MAX_NESTING:
                return i
        elif c in "})" and depth:
            depth -= 1
        i += 1
    return None


def test_nesting_test_is_the_walk() -> None:
    rng = random.Random(1)
    deep = 0
    for _ in range(3000):
        alphabet = rng.choice(["{(", "{}()", "{{{(()}\"'\\x\n", '(((("\\x)', "({'"])
        code = "".join(rng.choice(alphabet + "ab") for _ in range(rng.randint(90, 260)))
        if rng.random() < 0.5:
            code = "(" * rng.randint(95, 105) + code
        expected = nesting_reference(code)
        deep += expected is not None
        assert parse._nesting_too_deep(code) == expected, code
    assert deep > 100  # both outcomes were tried


DQ_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", '"': '"', "\\": "\\"}


def unescape_reference(raw: str) -> str:
    """spec/language.md §2.3, one character at a time."""
    if raw.startswith("'"):
        return raw[1:-1]
    body, out, i = raw[1:-1], [], 0
    hexdigits, octdigits = "0123456789abcdefABCDEF", "01234567"
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in DQ_ESCAPES:
            out.append(DQ_ESCAPES[nxt])
            i += 2
        elif nxt == "\n":
            i += 2
        elif nxt == "x" and i + 2 < len(body) and body[i + 2] in hexdigits:
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in hexdigits:
                j += 1
            out.append(chr(int(body[i + 2 : j], 16)))
            i = j
        elif nxt in octdigits and i + 2 < len(body) and body[i + 2] in octdigits:
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in octdigits:
                j += 1
            out.append(chr(int(body[i + 1 : j], 8) & 0xFF))
            i = j
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def test_unescape_is_the_character_loop() -> None:
    rng = random.Random(3)
    alphabet = ["\\", "\\", "x", "0", "1", "7", "8", "a", "F", "g", "n", '"', "\n", "r", " "]
    for _ in range(20000):
        raw = '"' + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) + '"'
        assert unescape_string(raw) == unescape_reference(raw), repr(raw)


def test_scan_counts_lines_outside_strings_and_variables() -> None:
    """Comments are placed by the newlines outside strings and variables, as `sipc fmt`
    has always read them, whatever the scan jumps over."""
    text = 'a = "x\ny" # one\n$var(a\nb) # two\n\'p\nq\' /* three\n */ # four\n"z" # five\n'
    comments = source.scan(text).comments
    # (line, column) as the scan read them when it stopped at every newline: a newline in
    # a string or variable does not start a line
    assert [(c.text, c.line, c.col) for c in comments] == [
        ("# one", 1, 11),
        ("# two", 2, 11),
        ("/* three\n */", 3, 7),
        ("# four", 4, 5),
        ("# five", 5, 5),
    ]
    assert source.scan(text).code.count("\n") == text.count("\n")
