"""Pseudo-variable references: how the lexer cuts them, and what is inside them.

OpenSIPS cuts a `$...` token with a parenthesis counter (spec/language.md §2.7): at depth 0
the token stops before blanks, `)`, `;`, `,` and operator characters; the `)` that brings
the depth back to 0 ends it. `pv_token_pattern` is that rule as a regular expression
(parentheses nest up to MAX_DEPTH levels, far beyond real scripts); `pv_extent` is the same
rule as a scanner, for the comment pre-pass.

`parse_pv` then reads one token (`$(<request>hdr(Via)[1]{via.param,received})`) and
`parse_format` a string that expands variables (`"from $fU to $(tU{s.len})"`).
"""

from __future__ import annotations

from compiler.ast import NO_SPAN, PVar, PvIndex, Span, Transform

MAX_DEPTH = 8
# Characters that end a short-form token at depth 0 (besides whitespace).
_STOP = "();,=:+-*/%&|^~<>!"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


class PvSyntaxError(ValueError):
    """A variable reference that cannot be read; `offset` is relative to the token or string."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _balanced(depth: int) -> str:
    """A regex for text with balanced parentheses nested at most `depth` levels."""
    inner = r"[^()]*"
    for _ in range(depth):
        inner = rf"(?:[^()]|\({inner}\))*"
    return inner


def pv_token_pattern() -> str:
    """The regular expression of a `$` token in script code (Lark terminal VAR)."""
    bal = _balanced(MAX_DEPTH)
    stop = "".join("\\" + c for c in _STOP)
    short = rf"[^\s{stop}]+"
    return rf"\$(?:\({bal}\)|{short}(?:\({bal}\))?)"


def pv_extent(text: str, start: int) -> int | None:
    """End offset of the `$` token at `start` in code, or None if it is not a complete one."""
    n = len(text)
    i = start + 1
    if i < n and text[i] == "(":
        return _close_paren(text, i)
    while i < n and not text[i].isspace() and text[i] not in _STOP:
        i += 1
    if i == start + 1:
        return None
    if i < n and text[i] == "(":
        return _close_paren(text, i)
    return i


def _close_paren(text: str, open_at: int) -> int | None:
    depth = 0
    for j in range(open_at, len(text)):
        c = text[j]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


# ---------------------------------------------------------------------------- one token


def parse_pv(text: str, span: Span = NO_SPAN) -> PVar:
    """Read one variable token as the lexer cut it."""
    reader = _Reader(text, span)
    pv = reader.read_pv()
    if reader.pos != len(text):
        raise PvSyntaxError(
            f"unexpected `{text[reader.pos :]}` after the variable `{text[: reader.pos]}`",
            reader.pos,
        )
    return pv


def parse_format(text: str, span: Span = NO_SPAN) -> tuple[str | PVar, ...]:
    """Split a format string into literal text and variables (`$$` is a literal `$`)."""
    parts: list[str | PVar] = []
    literal: list[str] = []
    reader = _Reader(text, span)
    n = len(text)
    while reader.pos < n:
        c = text[reader.pos]
        if c != "$":
            nxt = text.find("$", reader.pos)
            end = n if nxt < 0 else nxt
            literal.append(text[reader.pos : end])
            reader.pos = end
            continue
        if reader.pos + 1 < n and text[reader.pos + 1] == "$":
            literal.append("$")
            reader.pos += 2
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(reader.read_pv(in_format=True))
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


class _Reader:
    """A cursor over one token or format string."""

    def __init__(self, text: str, span: Span) -> None:
        self.text = text
        self.pos = 0
        self.span = span

    def fail(self, message: str) -> PvSyntaxError:
        return PvSyntaxError(message, self.pos)

    def read_pv(self, *, in_format: bool = False) -> PVar:
        text = self.text
        start = self.pos
        if text[start] != "$":
            raise self.fail("a variable starts with `$`")
        self.pos += 1
        if self.pos < len(text) and text[self.pos] == "(":
            self.pos += 1
            pv = self._read_wrapped(start)
        else:
            name = self._read_name()
            if not name:
                raise self.fail("`$` must be followed by a variable name (write `$$` for a dollar)")
            inner = self._read_inner() if self._peek("(") else None
            pv = PVar(name=name, inner=inner, text=text[start : self.pos], span=self.span)
        del in_format  # short names end at the first non-name character in both places
        return pv

    def _peek(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def _read_name(self) -> str:
        text = self.text
        begin = self.pos
        while self.pos < len(text) and text[self.pos] in _NAME_CHARS:
            self.pos += 1
        return text[begin : self.pos]

    def _read_inner(self) -> str | PVar:
        """`(...)` after a name: text with balanced parentheses, or a variable."""
        assert self.text[self.pos] == "("
        end = _close_paren(self.text, self.pos)
        if end is None:
            raise self.fail("unbalanced `(` in the variable")
        body = self.text[self.pos + 1 : end - 1]
        self.pos = end
        if body.startswith("$"):
            nested = parse_pv(body, self.span)
            return nested
        return body

    def _read_wrapped(self, start: int) -> PVar:
        """After `$(`: `<context>` name `(inner)` `[index]` `{tr}...` then `)`."""
        text = self.text
        context: str | None = None
        if self._peek("<"):
            close = text.find(">", self.pos)
            if close < 0:
                raise self.fail("unterminated `<context>` in the variable")
            context = text[self.pos + 1 : close]
            self.pos = close + 1
        name = self._read_name()
        if not name:
            raise self.fail("expected a variable name after `$(`")
        inner = self._read_inner() if self._peek("(") else None
        index: PvIndex | None = None
        if self._peek("["):
            index = self._read_index()
        transforms: list[Transform] = []
        while True:
            while self.pos < len(text) and text[self.pos] in " \t":
                self.pos += 1
            if not self._peek("{"):
                break
            transforms.append(self._read_transform())
        if not self._peek(")"):
            rest = text[self.pos : self.pos + 10]
            raise self.fail(f"expected `)` to close `$(`, found `{rest}`")
        self.pos += 1
        return PVar(
            name=name,
            inner=inner,
            index=index,
            transforms=tuple(transforms),
            context=context,
            text=text[start : self.pos],
            span=self.span,
        )

    def _read_index(self) -> PvIndex:
        text = self.text
        close = self._matching(self.pos, "[", "]")
        body = text[self.pos + 1 : close].strip()
        self.pos = close + 1
        if body == "*" or (body.isalpha() and body.isascii()):
            return body  # `*`, or a keyword the variable understands: `append`, `insert`...
        if body.startswith("$"):
            return parse_pv(body, self.span)
        try:
            return int(body)
        except ValueError:
            raise PvSyntaxError(
                f"the index `[{body}]` must be a number, `*`, a keyword such as `append`, or a variable",
                self.pos,
            ) from None

    def _read_transform(self) -> Transform:
        text = self.text
        close = self._matching(self.pos, "{", "}")
        body = text[self.pos + 1 : close]
        self.pos = close + 1
        pieces = _split_args(body)
        name = pieces[0].strip()
        if not name or any(c.isspace() for c in name):
            raise PvSyntaxError(f"`{{{body}}}` is not a transformation", self.pos)
        args: list[str | PVar] = []
        for raw in pieces[1:]:
            arg = raw.strip()
            args.append(parse_pv(arg, self.span) if arg.startswith("$") else arg)
        return Transform(name=name, args=tuple(args), span=self.span)

    def _matching(self, at: int, open_c: str, close_c: str) -> int:
        """The offset of the `close_c` matching `open_c` at `at`, skipping nested `(...)`."""
        depth = 0
        paren = 0
        for j in range(at, len(self.text)):
            c = self.text[j]
            if c == "(":
                paren += 1
            elif c == ")":
                paren -= 1
            elif paren == 0 and c == open_c:
                depth += 1
            elif paren == 0 and c == close_c:
                depth -= 1
                if depth == 0:
                    return j
        raise PvSyntaxError(f"unterminated `{open_c}` in the variable", at)


def _split_args(body: str) -> list[str]:
    """Split `s.substr,1,$(var(x){s.len})` on commas outside parentheses and braces."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for c in body:
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        if c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return out
