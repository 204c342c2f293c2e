"""`sipc fmt`: the one canonical layout of an OpenSIPS script, comments included.

The formatter prints the syntax tree back, never the tokens, so the layout does not depend
on how the text was written; what the tree does not keep (comments, blank lines, a route
name's quotes) is read back from the source by position. The text is parsed without
inlining includes, so `include_file` lines stay where they are; a file that holds only
statements (one included inside a route) is formatted as a route body.

Two passes. `_Printer` walks the tree and produces output lines, each knowing the source
range it stands for. `_Layout` then places the comments by position (an own-line comment
before the line it precedes, a trailing one at the end of the line it follows) and decides
where blank lines go (one where the user had some, one around every route block).

Guarantees (tested over the corpus): `parse(fmt(x)) == parse(x)` with spans ignored,
`fmt(fmt(x)) == fmt(x)`, and every comment's text is in the output. A text with syntax
errors is refused. The one thing dropped is a stray `` ` `` outside strings, which OpenSIPS
skips too (the parser warns about it).

Choices: `&&`/`||`/`!` for `and`/`or`/`not`; `NULL`; `f(a, , b)` for an empty argument;
`return`/`return(n)`/`return n` as written; a braceless body stays braceless, on its own
line; a `;` after a `}` stays on that line (`};`); a condition or operator chain longer
than MAX_WIDTH is split (one `&&`/`||` operand a line; `+` chains filled).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import TypeAlias

from compiler import ast
from compiler.diagnostics import Diagnostic
from compiler.parse import ParseResult, parse_text
from compiler.source import Comment, scan

INDENT = "    "
MAX_WIDTH = 100  # a longer condition or operator chain is split over several lines

# A source position: 1-based line and column, as spans and comments give them.
Pos = tuple[int, int]


@dataclass(frozen=True, slots=True)
class FormatResult:
    """The formatted text, or None with the parse diagnostics when the text does not parse."""

    text: str | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return self.text is not None


# A file of bare statements (one that is included inside a route) is formatted inside this
# wrapper, which is then taken off again.
_FRAGMENT_OPEN, _FRAGMENT_CLOSE = "route {\n", "\n}\n"


def format_source(text: str, filename: str = "<stdin>") -> FormatResult:
    """Format script text; a text with syntax errors is refused, never half-formatted.

    A text that is not a script but a run of statements (a file included inside a route)
    is formatted as the body of a route, at the left margin.
    """
    parsed = parse_text(text, filename, inline_includes=False)
    if parsed.script is not None and can_format(parsed):
        out = _format(text, parsed.script, parsed.comments, fragment=False)
    else:
        wrapped_text = _FRAGMENT_OPEN + text + _FRAGMENT_CLOSE
        wrapped = parse_text(wrapped_text, filename, inline_includes=False)
        if wrapped.script is None or not can_format(wrapped):
            return FormatResult(None, tuple(parsed.diagnostics))
        if not _only_the_wrapper(wrapped.script, wrapped_text):
            return FormatResult(None, tuple(parsed.diagnostics))
        out = _format(wrapped_text, wrapped.script, wrapped.comments, fragment=True)
    if "\n" in text and text.split("\n", 1)[0].endswith("\r"):
        # Keep Windows line ends (decided by the first line, as black does); a `\r\n` inside a
        # multi-line string is already there and must not grow a second `\r`.
        out = re.sub(r"(?<!\r)\n", "\r\n", out)
    return FormatResult(out)


def _format(text: str, script: ast.Script, comments: list[Comment], *, fragment: bool) -> str:
    source = _Source(text)
    printer = _Printer(source)
    printer.script(script)
    layout = _Layout(source, printer.lines, printer.items)
    return layout.render([c for c in comments if not printer.prints_verbatim(c)], fragment)


def _only_the_wrapper(script: ast.Script, wrapped_text: str) -> bool:
    """True when the wrapped text is one route whose braces are the wrapper's own."""
    if len(script.items) != 1 or not isinstance(script.items[0], ast.RouteDef):
        return False
    route = script.items[0]
    last_line = wrapped_text.count("\n")
    return route.span.line == 1 and route.name is None and route.body.span.end_line == last_line


def can_format(parsed: ParseResult) -> bool:
    """True when the tree is the whole text: no syntax error, nothing set aside.

    After a syntax error the parser still builds a tree of what it could read (for the
    checker); printing that tree would drop the broken part. `syntax` also covers an
    unterminated `/*`, which the grammar alone would not notice.
    """
    return (
        parsed.script is not None
        and not parsed.partial
        and not any(d.code == "syntax" for d in parsed.diagnostics)
    )


# ---------------------------------------------------------------------------- source access


class _Source:
    """The original text, its comment-free twin (same offsets), and position arithmetic."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.code = scan(text).code
        self.lines = text.split("\n")
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)

    def offset(self, pos: Pos) -> int:
        line, col = pos
        return self.starts[min(line, len(self.starts)) - 1] + col - 1

    def pos(self, offset: int) -> Pos:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def slice(self, span: ast.Span) -> str:
        return self.text_between(_start(span), _end(span))

    def code_extent(self, span: ast.Span) -> tuple[Pos, Pos]:
        """The part of `span` from its first to its last character of code (not comment)."""
        first, last = self.offset(_start(span)), self.offset(_end(span))
        code = self.code[first:last]
        lead = len(code) - len(code.lstrip())
        return self.pos(first + lead), self.pos(first + len(code.rstrip()))

    def text_between(self, start: Pos, end: Pos) -> str:
        return self.text[self.offset(start) : self.offset(end)]

    def find(self, needle: str, after: Pos) -> Pos:
        """Where `needle` next occurs in the code (comments blanked) at or after `after`."""
        i = self.code.find(needle, self.offset(after))
        return self.pos(i) if i >= 0 else after

    def blank_line_between(self, first: int, last: int) -> bool:
        """True when a line strictly between lines `first` and `last` holds only blanks."""
        return any(not self.lines[n - 1].strip() for n in range(first + 1, last) if n <= len(self.lines))


def _start(span: ast.Span) -> Pos:
    return span.line, span.col


def _end(span: ast.Span) -> Pos:
    return span.end_line, span.end_col


def _after(pos: Pos) -> Pos:
    return pos[0], pos[1] + 1


def _block_close(block: ast.Block) -> Pos:
    """The position of a block's `}` (spans include the braces)."""
    return block.span.end_line, block.span.end_col - 1


# ---------------------------------------------------------------------------- pass 1: lines


@dataclass(slots=True)
class _Line:
    """One output line of code and the source range [start, end) it prints."""

    indent: int
    text: str
    start: Pos
    end: Pos
    opens: bool = False  # what follows is nested deeper (`{`, `case 1:`, a braceless header)
    closes: bool = False  # starts by leaving a nested body (`}`, `} else {`, `else`)
    trailing: list[str] = field(default_factory=list)
    trailing_closed: bool = False  # a trailing `#` comment swallows the rest of the line
    last_line: int = 0  # last source line covered, trailing comments included


@dataclass(frozen=True, slots=True)
class _Item:
    """A top-level item's first and last output lines (indexes into the line list)."""

    first: int
    last: int
    is_route: bool


_Node: TypeAlias = "ast.Expr | ast.Cond | ast.IpLiteral | ast.BareName"


class _Printer:
    """Walks the tree and appends `_Line`s in source order."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.lines: list[_Line] = []
        self.items: list[_Item] = []
        # Source ranges printed as written, comments included.
        self.verbatim: list[tuple[Pos, Pos]] = []

    def emit(self, indent: int, text: str, start: Pos, end: Pos, *, opens: bool = False,
             closes: bool = False) -> None:
        self.lines.append(_Line(indent, text, start, end, opens, closes, last_line=end[0]))

    def prints_verbatim(self, comment: Comment) -> bool:
        pos = (comment.line, comment.col)
        return any(start <= pos < end for start, end in self.verbatim)

    # -- top level
    def script(self, script: ast.Script) -> None:
        for item in script.items:
            first = len(self.lines)
            if isinstance(item, ast.RouteDef):
                self.route(item)
            else:
                self.emit(0, self.top_line(item), _start(item.span), _end(item.span))
            self.items.append(_Item(first, len(self.lines) - 1, isinstance(item, ast.RouteDef)))

    def top_line(self, item: ast.GlobalParam | ast.LoadModule | ast.ModParam | ast.Include) -> str:
        if isinstance(item, ast.GlobalParam):
            # The value as written: the tree's copy has its comments blanked out, and the
            # comments inside it (a `{...}` value may hold some) stay in it.
            extent = self.source.code_extent(item.value_span)
            self.verbatim.append(extent)
            return f"{item.name} = {self.source.text_between(*extent)}"
        if isinstance(item, ast.LoadModule):
            return f"loadmodule {item.path.raw}"
        if isinstance(item, ast.ModParam):
            value = (
                item.value.text
                if isinstance(item.value, ast.Number)
                else " ".join(s.raw for s in item.value)
            )
            return f"modparam({item.module.raw}, {item.param.raw}, {value})"
        return self.include(item)

    def route(self, route: ast.RouteDef) -> None:
        head: str = route.kind
        if route.name is not None:
            label = [self.route_name(route.name)]
            if route.interval is not None:
                label.append(route.interval.text)
            if route.mode is not None:
                label.append(route.mode)
            head += "[" + ", ".join(label) + "]"
        self.block_header(0, head, _start(route.span), route.body)
        self.block_body(route.body, 1)
        self.close_block(route.body, 0)

    # -- blocks and statements
    def block_header(self, indent: int, head: str, start: Pos, block: ast.Block, *,
                     closes: bool = False) -> None:
        self.emit(indent, f"{head} {{", start, _after(_start(block.span)), opens=True, closes=closes)

    def block_body(self, block: ast.Block, indent: int) -> None:
        self.statements(block.body, indent)

    def statements(self, body: tuple[ast.Stmt, ...], indent: int) -> None:
        closed_compound = False
        for stmt in body:
            if isinstance(stmt, ast.Empty) and closed_compound:
                # `if (...) { ... };` is common in older scripts: the `;` stays on the `}`
                # line rather than becoming a line of its own.
                line = self.lines[-1]
                line.text += ";"
                line.end = _end(stmt.span)
                line.last_line = line.end[0]
                continue
            self.stmt(stmt, indent)
            last = self.lines[-1]
            closed_compound = not isinstance(stmt, ast.Empty) and last.closes and last.text == "}"

    def close_block(self, block: ast.Block, indent: int) -> None:
        brace = _block_close(block)
        self.emit(indent, "}", brace, _after(brace), closes=True)

    def body(self, indent: int, head: str, start: Pos, head_end: Pos, body: ast.Stmt, *,
             closes: bool = False) -> None:
        """`head {` + block, or `head` + the single statement one level deeper (no `}`).

        `head_end` is where the header's text ends (after its `)` or `else`): a comment
        between it and a braceless body belongs to the body, as it is printed.
        """
        if isinstance(body, ast.Block):
            self.block_header(indent, head, start, body, closes=closes)
            self.block_body(body, indent + 1)
        else:
            self.emit(indent, head, start, head_end, opens=True, closes=closes)
            self.stmt(body, indent + 1)

    def paren_end(self, inside: ast.Span) -> Pos:
        """Just after the `)` that closes a header whose last inner node has span `inside`."""
        return _after(self.source.find(")", _end(inside)))

    def stmt(self, s: ast.Stmt, indent: int) -> None:
        if isinstance(s, ast.If):
            self.if_chain(s, indent, "", _start(s.span), closes=False)
        elif isinstance(s, ast.While):
            head = self.cond_head(indent, "while (", s.cond, s.body)
            self.body(indent, head, _start(s.span), self.paren_end(s.cond.span), s.body)
            self.close_body(s.body, indent)
        elif isinstance(s, ast.ForEach):
            head = f"for ({s.var.text} in {s.collection.text})"
            self.body(indent, head, _start(s.span), self.paren_end(s.collection.span), s.body)
            self.close_body(s.body, indent)
        elif isinstance(s, ast.Switch):
            self.switch(s, indent)
        elif isinstance(s, ast.Block):
            brace = _start(s.span)
            self.emit(indent, "{", brace, _after(brace), opens=True)
            self.block_body(s, indent + 1)
            self.close_block(s, indent)
        else:
            text = self.assign(s, indent) if isinstance(s, ast.Assign) else self.simple(s)
            self.emit(indent, text, _start(s.span), _end(s.span))

    def close_body(self, body: ast.Stmt, indent: int) -> None:
        if isinstance(body, ast.Block):
            self.close_block(body, indent)

    def if_chain(self, s: ast.If, indent: int, lead: str, start: Pos, *, closes: bool) -> None:
        """`if`, and its `else if` / `else` continuations on the lines that close the bodies."""
        head = self.cond_head(indent, f"{lead}if (", s.cond, s.then)
        self.body(indent, head, start, self.paren_end(s.cond.span), s.then, closes=closes)
        if s.orelse is None:
            self.close_body(s.then, indent)
            return
        keyword = self.source.find("else", _end(s.then.span))
        if isinstance(s.then, ast.Block):
            lead, start = "} else", _block_close(s.then)
        else:
            lead, start = "else", keyword
        keyword_end = (keyword[0], keyword[1] + len("else"))
        if isinstance(s.orelse, ast.If):
            self.if_chain(s.orelse, indent, lead + " ", start, closes=True)
        else:
            self.body(indent, lead, start, keyword_end, s.orelse, closes=True)
            self.close_body(s.orelse, indent)

    def switch(self, s: ast.Switch, indent: int) -> None:
        brace = self.source.find("{", _end(s.subject.span))
        self.emit(indent, f"switch ({s.subject.text}) {{", _start(s.span), _after(brace), opens=True)
        for case in s.cases:
            label_end = _start(case.span) if case.label is None else _end(case.label.span)
            colon = self.source.find(":", label_end)
            head = "default:" if case.label is None else f"case {self.text(case.label)}:"
            self.emit(indent + 1, head, _start(case.span), _after(colon), opens=True)
            self.statements(case.body, indent + 2)
        close = _end(s.span)
        brace = (close[0], close[1] - 1)
        self.emit(indent, "}", brace, close, closes=True)

    # -- lines too long for one line
    def fits(self, indent: int, text: str) -> bool:
        return len(INDENT) * indent + len(text) <= MAX_WIDTH

    def cond_head(self, indent: int, opening: str, cond: ast.Cond, body: ast.Stmt) -> str:
        """`if (a && b)`; too long, one operand of the top `&&`/`||` chain a line.

        The continuation lines are two levels deeper, so they stand apart from the body.
        """
        head = f"{opening}{self.text(cond)})"
        brace = " {" if isinstance(body, ast.Block) else ""
        if self.fits(indent, head + brace) or not isinstance(cond, ast.Logic):
            return head
        operands: list[ast.Cond] = []
        ops: list[str] = []
        node: ast.Cond = cond
        while isinstance(node, ast.Logic):  # `&&`/`||` group to the left: walk the left spine
            operands.append(node.right)
            ops.append(node.op)
            node = node.left
        operands.append(node)
        operands.reverse()
        ops.reverse()
        continuation = "\n" + INDENT * (indent + 2)
        lines = [opening + self.text(operands[0])]
        lines += [f"{op} {self.text(operand)}" for op, operand in zip(ops, operands[1:], strict=True)]
        return continuation.join(lines) + ")"

    def assign(self, s: ast.Assign, indent: int) -> str:
        """`$x = a + b;`; too long, the operator chain fills lines one level deeper."""
        text = self.simple(s)
        if self.fits(indent, text) or not isinstance(s.value, ast.BinOp):
            return text
        pieces: list[str] = []
        node: ast.Expr = s.value
        while isinstance(node, ast.BinOp):  # left-associative: walk the left spine
            pieces.append(f"{node.op} {self.text(node.right)}")
            node = node.left
        pieces.append(f"{s.target.text} {s.op} {self.text(node)}")
        pieces.reverse()
        lines = [pieces[0]]
        for k, piece in enumerate(pieces[1:], 1):
            semicolon = 1 if k == len(pieces) - 1 else 0
            if self.fits(indent if len(lines) == 1 else indent + 1,
                         f"{lines[-1]} {piece}" + ";" * semicolon):
                lines[-1] += " " + piece
            else:
                lines.append(piece)
        return ("\n" + INDENT * (indent + 1)).join(lines) + ";"

    # -- one-line forms
    def simple(self, s: ast.Stmt) -> str:
        """A statement that fits on one line, with its `;` (an include takes none)."""
        if isinstance(s, ast.Include):
            return self.include(s)
        if isinstance(s, ast.Empty):
            return ";"
        if isinstance(s, ast.Break):
            return "break;"
        if isinstance(s, ast.If | ast.While | ast.ForEach | ast.Switch | ast.Block):
            return self.inline(s)
        return self.text(s) + ";"

    def include(self, s: ast.Include) -> str:
        return f"{s.keyword} {s.path.raw}"

    def inline(self, s: ast.Stmt) -> str:
        """A compound statement on one line: only inside a condition (`if ({ a; b; })`)."""
        if isinstance(s, ast.Block):
            return "{ " + " ".join(self.inline(x) for x in s.body) + " }" if s.body else "{ }"
        if isinstance(s, ast.If):
            text = f"if ({self.text(s.cond)}) {self.inline(s.then)}"
            return text + (f" else {self.inline(s.orelse)}" if s.orelse is not None else "")
        if isinstance(s, ast.While):
            return f"while ({self.text(s.cond)}) {self.inline(s.body)}"
        if isinstance(s, ast.ForEach):
            return f"for ({s.var.text} in {s.collection.text}) {self.inline(s.body)}"
        if isinstance(s, ast.Switch):
            cases = []
            for case in s.cases:
                head = "default:" if case.label is None else f"case {self.text(case.label)}:"
                cases.append(" ".join([head, *(self.inline(x) for x in case.body)]))
            return f"switch ({s.subject.text}) {{ " + " ".join(cases) + " }"
        return self.simple(s)

    def route_name(self, name: ast.RouteName) -> str:
        if name.style != "string":
            return name.name
        # The tree keeps the unquoted name only; the token as written is in the source.
        raw = self.source.slice(name.span)
        if raw[:1] in "\"'" and len(raw) > 1 and raw[-1] == raw[0]:
            return raw
        return '"' + name.name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def args(self, args: tuple[_Node | None, ...]) -> str:
        """`a, b`; an empty argument prints as nothing: `f(a, , b)`, `f(a,)`."""
        return ", ".join("" if a is None else self.text(a) for a in args).rstrip()

    def text(self, n: _Node | ast.Stmt) -> str:
        """An expression, condition or command, on one line."""
        if isinstance(n, ast.PVar):
            return n.text
        if isinstance(n, ast.StringLit):
            return n.raw
        if isinstance(n, ast.Number):
            return n.text
        if isinstance(n, ast.Null):
            return "NULL"
        if isinstance(n, ast.IpLiteral):
            return n.text
        if isinstance(n, ast.BareName):
            return n.name
        if isinstance(n, ast.BinOp | ast.Logic):
            return f"{self.text(n.left)} {n.op} {self.text(n.right)}"
        if isinstance(n, ast.Compare):
            return f"{n.left.text} {n.op} {self.text(n.right)}"
        if isinstance(n, ast.BitNot):
            return "~" + self.text(n.operand)
        if isinstance(n, ast.Not):
            return "!" + self.text(n.operand)
        if isinstance(n, ast.Paren):
            return f"({self.text(n.inner)})"
        if isinstance(n, ast.ArithTest):
            # A short-form variable swallows a `]` right after it (`$x]`): keep a blank there.
            return f"[ {self.text(n.expr)} ]"
        if isinstance(n, ast.Assign):
            return f"{n.target.text} {n.op} {self.text(n.value)}"
        if isinstance(n, ast.If | ast.While | ast.ForEach | ast.Switch | ast.Block):
            return self.inline(n)
        return self.command(n)

    def command(self, n: ast.Stmt) -> str:
        if isinstance(n, ast.Call):
            return f"{n.name}({self.args(n.args)})"
        if isinstance(n, ast.RouteCall):
            target = n.target.text if isinstance(n.target, ast.PVar) else self.route_name(n.target)
            return "route(" + ", ".join([target, *(self.text(a) for a in n.args)]) + ")"
        if isinstance(n, ast.Return):
            return self.return_(n)
        if isinstance(n, ast.Exit):
            return "exit"
        if isinstance(n, ast.Drop):
            return "drop"
        if isinstance(n, ast.Log):
            level = () if n.level is None else (n.level,)
            return f"log({self.args((*level, n.text))})"
        if isinstance(n, ast.Xlog):
            fmt = " ".join(p.raw for p in n.parts)
            return f"{n.kind}({fmt})" if n.level is None else f"{n.kind}({n.level.raw}, {fmt})"
        if isinstance(n, ast.Assert):
            message = () if n.text is None else (n.text,)
            return f"assert({self.args((n.cond, *message))})"
        if isinstance(n, ast.ErrorCmd):
            return f"error({n.first.raw}, {n.second.raw})"
        if isinstance(n, ast.Async):
            parts = [self.text(n.call), self.route_name(n.resume)]
            if n.timeout is not None:
                parts.append(n.timeout.text)
            return "async(" + ", ".join(parts) + ")"
        if isinstance(n, ast.Launch):
            parts = [self.text(n.call)]
            if n.report is not None:
                parts.append(self.route_name(n.report))
            if n.param is not None:
                parts.append(n.param.raw)
            return "launch(" + ", ".join(parts) + ")"
        raise TypeError(f"sipc fmt: no layout for {type(n).__name__}")

    def return_(self, n: ast.Return) -> str:
        if not n.parenthesized:
            return "return" if n.code is None else f"return {self.text(n.code)}"
        if n.code is None and not n.values:
            return "return()"
        # `return(, v)` (values only) keeps its empty first argument.
        return f"return({self.args((n.code, *n.values))})"


# ---------------------------------------------------------------------------- pass 2: layout


@dataclass(slots=True)
class _CommentGroup:
    """Comments printed on one line of their own (block comments may run over several)."""

    indent: int
    text: str
    first_line: int  # source lines, for the blank-line rule
    last_line: int


_Element = _Line | _CommentGroup


@dataclass(slots=True)
class _Chain:
    """Comments on one source line with only blanks between them (`/* a */ /* b */ # c`)."""

    comments: list[Comment]

    @property
    def pos(self) -> Pos:
        return self.comments[0].line, self.comments[0].col

    @property
    def own_line(self) -> bool:
        return self.comments[0].own_line

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.comments)

    @property
    def ends_open(self) -> bool:
        """True when it ends with a `#` comment, which swallows whatever follows on the line."""
        return self.comments[-1].kind == "line"


class _Layout:
    """Places comments among the printed lines and decides the blank lines."""

    def __init__(self, source: _Source, lines: list[_Line], items: list[_Item]) -> None:
        self.source = source
        self.lines = lines
        self.items = items
        # Comments to print on their own lines before line i (index len(lines): at the end).
        self.before: list[list[_Chain]] = [[] for _ in range(len(lines) + 1)]
        self.starts = [line.start for line in lines]
        self.ends = [line.end for line in lines]

    def render(self, comments: list[Comment], fragment: bool = False) -> str:
        """The text; for a `fragment`, without the wrapper route's first and last lines."""
        for chain in self.chains(comments):
            self.place(chain)
        elements, line_index = self.elements()
        blanks = self.blank_lines(elements, line_index)
        out: list[str] = []
        wrapper = {id(self.lines[0]), id(self.lines[-1])} if fragment else set()
        for k, element in enumerate(elements):
            if id(element) in wrapper:
                continue
            if fragment:
                element.indent = max(element.indent - 1, 0)
            if blanks[k]:
                out.append("")
            out.append(self.show(element))
        return "\n".join(out) + "\n" if out else ""

    def chains(self, comments: list[Comment]) -> list[_Chain]:
        chains: list[_Chain] = []
        for c in sorted(comments, key=lambda c: (c.line, c.col)):
            if chains and not c.own_line and self.follows(chains[-1].comments[-1], c):
                chains[-1].comments.append(c)
            else:
                chains.append(_Chain([c]))
        return chains

    def follows(self, prev: Comment, c: Comment) -> bool:
        """True when only blanks separate block comment `prev` from `c` on one line."""
        if prev.kind != "block" or prev.end_line != c.line:
            return False
        end = self.source.offset((prev.line, prev.col)) + len(prev.text)
        return not self.source.text[end : self.source.offset((c.line, c.col))].strip()

    def place(self, chain: _Chain) -> None:
        pos = chain.pos
        if chain.own_line:
            # Before the first line not wholly before the comment (it may sit inside a
            # multi-line statement, which then moves below it).
            self.before[bisect.bisect_right(self.ends, pos)].append(chain)
            return
        i = bisect.bisect_right(self.starts, pos) - 1
        if i < 0:
            self.before[0].append(chain)
            return
        line = self.lines[i]
        if line.trailing_closed:
            # A `#` already ends this line: the comment goes on its own line below it.
            self.before[i + 1].insert(self.overflow_slot(i + 1), chain)
            return
        line.trailing.append(chain.text)
        line.last_line = max(line.last_line, chain.comments[-1].end_line)
        line.trailing_closed = chain.ends_open

    def overflow_slot(self, i: int) -> int:
        """Overflowing trailing comments come before own-line comments already placed at i."""
        line_end = self.lines[i - 1].last_line
        return sum(1 for ch in self.before[i] if ch.pos[0] <= line_end)

    def elements(self) -> tuple[list[_Element], dict[int, int]]:
        """Comments and lines in print order; also where each line landed."""
        elements: list[_Element] = []
        line_index: dict[int, int] = {}
        for i in range(len(self.lines) + 1):
            nxt = self.lines[i] if i < len(self.lines) else None
            for chain in self.before[i]:
                elements.append(self.group(chain, nxt))
            if nxt is not None:
                line_index[i] = len(elements)
                elements.append(nxt)
        return elements, line_index

    def group(self, chain: _Chain, nxt: _Line | None) -> _CommentGroup:
        first, last = chain.comments[0].line, chain.comments[-1].end_line
        if nxt is None:
            return _CommentGroup(0, chain.text, first, last)
        indent = nxt.indent + 1 if nxt.closes else nxt.indent
        # A comment moved up out of a statement counts as sitting just before it.
        first = min(first, nxt.start[0])
        return _CommentGroup(indent, chain.text, first, min(last, max(first, nxt.start[0] - 1)))

    def blank_lines(self, elements: list[_Element], line_index: dict[int, int]) -> list[bool]:
        """Whether a blank line precedes each element."""
        natural = [False] * len(elements)
        for k in range(1, len(elements)):
            prev, cur = elements[k - 1], elements[k]
            if isinstance(prev, _Line) and prev.opens:
                continue
            if isinstance(cur, _Line) and cur.closes:
                continue
            natural[k] = self.source.blank_line_between(last_line(prev), first_line(cur))
        blanks = list(natural)
        for item in self.items:
            if not item.is_route:
                continue
            first, last = line_index[item.first], line_index[item.last]
            # The comments right above a route (no blank between) belong to it.
            top = first
            while top > 0 and isinstance(elements[top - 1], _CommentGroup) and not natural[top]:
                top -= 1
            if top > 0:
                blanks[top] = True
            if last + 1 < len(elements):
                blanks[last + 1] = True
        return blanks

    def show(self, element: _Element) -> str:
        pad = INDENT * element.indent
        if isinstance(element, _CommentGroup):
            return pad + element.text
        if element.trailing:
            return pad + element.text + "  " + " ".join(element.trailing)
        return pad + element.text


def first_line(element: _Element) -> int:
    return element.first_line if isinstance(element, _CommentGroup) else element.start[0]


def last_line(element: _Element) -> int:
    return element.last_line
