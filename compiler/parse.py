"""Script text -> `compiler.ast` nodes, with syntax diagnostics.

The grammar (grammar.lark) is loaded once and cached. A parse never raises on a user's
mistake: it returns a `ParseResult` with the tree (None when the text had syntax errors)
and the diagnostics. LALR error recovery skips to the next `;` or `}` after an error so
one run reports several mistakes (at most MAX_SYNTAX_ERRORS), each saying what was expected
and which block is still open.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lark
from lark import (
    Lark,
    Token,
    Tree,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)
from lark import v_args as _v_args
from lark.visitors import Transformer_NonRecursive

from compiler import ast, cache
from compiler.diagnostics import Diagnostic, Note, make
from compiler.pvparse import PvSyntaxError, parse_format, parse_pv, pv_token_pattern
from compiler.source import Comment, SourceMap, flatten, scan

MAX_SYNTAX_ERRORS = 20
# Deeper nesting of `{` and `(` than any real script has; beyond it the recursive passes
# (tree building, checks, formatting) would run out of stack, so it is an error up front.
MAX_NESTING = 100


_LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "contextual",
    "propagate_positions": True,
    "maybe_placeholders": True,
}


@functools.cache
def _parser() -> Lark:
    """The LALR parser, loaded from the user's cache when it was built before (~10 ms)
    instead of being built from the grammar (~100 ms); see `compiler.cache`."""
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    grammar = grammar.replace("@@VAR@@", pv_token_pattern())
    name = f"parser-{cache.key([grammar, repr(_LARK_OPTIONS), lark.__version__])}.pickle"
    stored = cache.read(name)
    if stored is not None:
        try:
            return Lark.load(io.BytesIO(stored))
        except Exception:  # a damaged or foreign file: build it anew
            pass
    parser = Lark(grammar, **_LARK_OPTIONS)
    buffer = io.BytesIO()
    parser.save(buffer)
    cache.write(name, buffer.getvalue())
    return parser


@dataclass(slots=True)
class ParseResult:
    script: ast.Script | None
    diagnostics: list[Diagnostic]
    source_map: SourceMap
    comments: list[Comment] = field(default_factory=list)
    # True when items with syntax errors were left out of `script`.
    partial: bool = False

    @property
    def ok(self) -> bool:
        return self.script is not None and not any(d.severity == "error" for d in self.diagnostics)


def parse_file(
    path: str, *, inline_includes: bool = True, display: str | None = None
) -> ParseResult:
    """Parse a script file; `include_file` lines are inlined unless `inline_includes` is off."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        smap = SourceMap()
        span = ast.Span(display or path, 1, 1, 1, 1)
        diag = make("include-not-found", span, f"cannot read `{path}`: {exc.strerror}")
        return ParseResult(None, [diag], smap)
    return parse_text(text, display or path, inline_includes=inline_includes, path=path)


def parse_text(
    text: str, filename: str = "<string>", *, inline_includes: bool = True, path: str | None = None
) -> ParseResult:
    """Parse script text; `filename` is what diagnostics call it."""
    diagnostics: list[Diagnostic] = []
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark some editors write
        text = " " + text[1:]
    if inline_includes:
        flat = flatten(path or filename, text, display=filename)
        smap, flat_text = flat.source_map, flat.text
        for p in flat.problems:
            diagnostics.append(make("include-not-found", p.span, p.message, help=p.help))
    else:
        from compiler.source import _Segment  # a one-file map

        smap = SourceMap()
        smap.segments.append(_Segment(1, filename, 1))
        smap.texts[filename] = text
        flat_text = text
    scanned = scan(flat_text)
    positions = _LineIndex(flat_text)
    for prob in scanned.problems:
        line, col = positions.at(prob.offset)
        eline, ecol = positions.at(prob.offset + prob.length)
        diagnostics.append(
            make(prob.code, smap.span(line, col, eline, ecol), prob.message, help=prob.help)
        )
    comments = scanned.comments if not inline_includes else []
    too_deep = _nesting_too_deep(scanned.code)
    if too_deep is not None:
        line, col = positions.at(too_deep)
        diagnostics.append(
            make(
                "syntax",
                smap.span(line, col, line, col + 1),
                f"blocks and parentheses are nested more than {MAX_NESTING} levels deep here",
                help="split the logic into `route[...]` blocks",
            )
        )
        return ParseResult(None, diagnostics, smap, comments)
    tree, syntax_errors, partial = _parse_with_recovery(scanned.code, smap)
    diagnostics.extend(syntax_errors)
    if tree is None:
        return ParseResult(None, diagnostics, smap, comments)
    builder = _Builder(smap)
    script: ast.Script = builder.transform(tree)
    diagnostics.extend(builder.diagnostics)
    return ParseResult(script, diagnostics, smap, comments, partial=partial)


def _nesting_too_deep(code: str) -> int | None:
    """The offset where `{`/`(` nesting first passes MAX_NESTING, skipping strings."""
    depth = 0
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c == '"':
            j = i + 1
            while j < n and code[j] != '"':
                j += 2 if code[j] == "\\" else 1
            i = j + 1
            continue
        if c == "'":
            j = code.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c in "{(":
            depth += 1
            if depth > MAX_NESTING:
                return i
        elif c in "})":
            depth = max(depth - 1, 0)
        i += 1
    return None


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0]
        for i, c in enumerate(text):
            if c == "\n":
                self.starts.append(i + 1)

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


# ---------------------------------------------------------------------------- recovery

_TOKEN_NAMES = {
    "SEMICOLON": "`;`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "STRING": "a string",
    "NUMBER": "a number",
    "VAR": "a variable",
    "ID": "a name",
    "GLOBAL_NAME": "a parameter name",
    "GLOBAL_VALUE": "a value",
    "IPV4": "an IP address",
    "IPV6": "an IP address",
    "IPNET": "an IP network",
    "$END": "the end of the file",
}
# Tokens worth naming first when a long list is expected.
_PREFERRED = ["SEMICOLON", "RPAR", "RBRACE", "COMMA", "LPAR", "LBRACE", "RSQB", "STRING", "VAR"]


def _terminal_name(name: str) -> str:
    if name in _TOKEN_NAMES:
        return _TOKEN_NAMES[name]
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return f"`{name.lower()}`"
    if pattern.type == "str":
        return f"`{pattern.value}`"
    return f"`{name.lower()}`"


def _describe_expected(expected: set[str]) -> str:
    preferred = [t for t in _PREFERRED if t in expected]
    rest = sorted(t for t in expected if t not in _PREFERRED and not t.startswith("__"))
    names = list(dict.fromkeys(_terminal_name(t) for t in [*preferred, *rest]))
    if not names:
        return "something else"
    if len(names) > 6:
        names = [*names[:5], "…"]
    return names[0] if len(names) == 1 else "one of " + ", ".join(names)


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    text = str(tok).split("\n", 1)[0].strip() or str(tok).strip()
    if len(text) > 30:
        text = text[:27] + "..."
    return f"`{text}`"


# A line that starts a top-level item at column 1: where parsing restarts after an error.
_RESTART = re.compile(
    r"^(?:(?:route|branch_route|failure_route|onreply_route|error_route|local_route"
    r"|startup_route|timer_route|event_route)\s*[\[{]|loadmodule\b|modparam\b"
    r"|[A-Za-z][\w-]*[ \t]*=(?!=))",
    re.M,
)


def _parse_with_recovery(
    code: str, smap: SourceMap
) -> tuple[Tree[Token] | None, list[Diagnostic], bool]:
    """Parse; set aside each top-level item that local repair cannot fix, and parse the rest.

    Local repair covers the commonest mistake, a missing `;` at the end of a line: the
    parser gets the `;` it wanted and goes on, so every missing one is reported. Any other
    error sets aside the top-level item it is in: the text from the line that began that
    item to the next line that begins one (a route, `loadmodule`, `modparam` or `name =` at
    column 1) is blanked, positions unchanged, and the file is parsed again. So a run reports
    one error per broken item, up to MAX_SYNTAX_ERRORS, and the items that are fine still
    make a (partial) tree for the other checks. Returns the tree, the errors, and whether
    items were set aside.
    """
    errors: list[Diagnostic] = []
    seen: set[tuple[str, int, int, str]] = set()
    text = code
    partial = False
    while True:
        rec = _Recovery(smap, text)
        tree: Tree[Token] | None
        try:
            tree = _parser().parse(text, on_error=rec.on_error)
        except UnexpectedInput as exc:
            rec.report(exc)
            tree = None
        except RecursionError:
            rec.errors.append(
                make("syntax", smap.span(1, 1, 1, 2), "the script is nested too deeply to read")
            )
            return None, errors + rec.errors, partial
        for d in rec.errors:
            key = (d.span.file, d.span.line, d.span.col, d.message)
            if key not in seen:
                seen.add(key)
                errors.append(d)
        if tree is not None or len(errors) >= MAX_SYNTAX_ERRORS or rec.stop_offset is None:
            return tree, errors[:MAX_SYNTAX_ERRORS], partial
        start, end = _item_around(code, rec.stop_offset)
        blanked = _blank(text, start, end)
        if blanked == text:
            return None, errors[:MAX_SYNTAX_ERRORS], partial
        text, partial = blanked, True


def _item_around(code: str, offset: int) -> tuple[int, int]:
    """The top-level item holding `offset`: from its first line to the next item's."""
    start = 0
    for m in _RESTART.finditer(code, 0, offset + 1):
        start = m.start()
    nxt = _RESTART.search(code, _next_line(code, offset))
    return start, nxt.start() if nxt else len(code)


def _blank(code: str, start: int, end: int) -> str:
    middle = "".join("\n" if c == "\n" else " " for c in code[start:end])
    return code[:start] + middle + code[end:]


def _next_line(code: str, offset: int) -> int:
    nl = code.find("\n", offset)
    return len(code) if nl < 0 else nl + 1


class _Recovery:
    """Collects the syntax errors of one parse attempt and repairs a missing `;` in place."""

    def __init__(self, smap: SourceMap, code: str) -> None:
        self.smap = smap
        self.code = code
        self.errors: list[Diagnostic] = []
        self.stop_offset: int | None = None

    def on_error(self, exc: UnexpectedInput) -> bool:
        if len(self.errors) >= MAX_SYNTAX_ERRORS:
            return False
        if (
            isinstance(exc, UnexpectedToken)
            and exc.token.type != "$END"
            and self._missing_semicolon(exc)
            and self._feed_semicolon(exc)
        ):
            self.report(exc)
            return True
        # Let the parser raise; parse_with_recovery reports it and restarts further on.
        return False

    def _missing_semicolon(self, exc: UnexpectedToken) -> bool:
        prev = self._previous_token_end(exc)
        return "SEMICOLON" in exc.expected and prev is not None and prev[0] < (exc.token.line or 0)

    def _feed_semicolon(self, exc: UnexpectedToken) -> bool:
        tok = exc.token
        semi = Token.new_borrow_pos("SEMICOLON", ";", tok)
        ip = exc.interactive_parser
        try:
            snapshot = ip.copy()  # type: ignore[no-untyped-call]
            snapshot.feed_token(semi)
            snapshot.feed_token(tok)
        except UnexpectedInput:
            return False
        ip.feed_token(semi)
        ip.feed_token(tok)
        return True

    def report(self, exc: UnexpectedInput) -> None:
        if len(self.errors) >= MAX_SYNTAX_ERRORS:
            return
        pos = getattr(exc, "pos_in_stream", None)
        if isinstance(exc, UnexpectedToken):
            pos = exc.token.start_pos
        self.stop_offset = pos if pos is not None else len(self.code)
        if isinstance(exc, UnexpectedToken):
            self.errors.append(self._token_error(exc))
        elif isinstance(exc, UnexpectedCharacters):
            line, col = exc.line, exc.column
            pos = exc.pos_in_stream or 0
            char = self.code[pos] if pos < len(self.code) else ""
            span = self.smap.span(line, col, line, col + 1)
            if char == "$":
                msg = "cannot read this variable: `$` must start `$name`, `$name(...)` or a balanced `$(...)`"
            else:
                msg = f"unexpected character `{char}`"
            self.errors.append(make("syntax", span, msg))
        else:
            span = self.smap.span(getattr(exc, "line", 1), getattr(exc, "column", 1), 1, 1)
            self.errors.append(make("syntax", span, str(exc).splitlines()[0]))

    def _token_error(self, exc: UnexpectedToken) -> Diagnostic:
        tok = exc.token
        expected = set(exc.expected)
        open_blocks = self._open_blocks(exc)
        notes = [
            Note(f"this `{kind}` block is still open", span) for kind, span in open_blocks[-1:]
        ]
        if tok.type != "$END" and "RBRACE" not in expected:
            notes = []
        if tok.type == "$END":
            line = self.code.count("\n") + 1
            col = len(self.code) - self.code.rfind("\n")
            span = self.smap.span(line, max(col - 1, 1), line, max(col, 2))
            if "RBRACE" in expected and open_blocks:
                return make("syntax", span, "unexpected end of file: expected `}`", notes=notes)
            return make(
                "syntax",
                span,
                f"unexpected end of file: expected {_describe_expected(expected)}",
                notes=notes,
            )
        span = self.smap.span(
            tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 2
        )
        prev = self._previous_token_end(exc)
        if "SEMICOLON" in expected and prev is not None and prev[0] < (tok.line or 0):
            pspan = self.smap.span(prev[0], max(prev[1] - 1, 1), prev[0], prev[1])
            return make(
                "syntax",
                pspan,
                "expected `;` after this statement",
                help=f"add `;` here; the next line starts with {_describe_token(tok)}",
                notes=notes,
            )
        return make(
            "syntax",
            span,
            f"unexpected {_describe_token(tok)}: expected {_describe_expected(expected)}",
            notes=notes,
        )

    def _previous_token_end(self, exc: UnexpectedToken) -> tuple[int, int] | None:
        """Line and column just after the last token before the bad one."""
        tok = exc.token
        pos = tok.start_pos if tok.start_pos is not None else 0
        j = pos - 1
        while j >= 0 and self.code[j] in " \t\r\n\f\x08":
            j -= 1
        if j < 0:
            return None
        line = self.code.count("\n", 0, j + 1) + 1
        col = j + 1 - (self.code.rfind("\n", 0, j + 1) + 1) + 1
        return line, col

    def _open_blocks(self, exc: UnexpectedToken) -> list[tuple[str, ast.Span]]:
        """The `{` blocks open before the error, outermost first, with what opened them."""
        tok = exc.token
        end = tok.start_pos if tok.start_pos is not None else len(self.code)
        stack: list[tuple[str, ast.Span]] = []
        code = self.code
        i = 0
        while i < end:
            c = code[i]
            if c == '"':
                j = i + 1
                while j < len(code) and code[j] != '"':
                    j += 2 if code[j] == "\\" else 1
                i = j + 1
                continue
            if c == "'":
                j = code.find("'", i + 1)
                i = len(code) if j < 0 else j + 1
                continue
            if c == "{":
                stack.append((self._opener(i), self._span_at(i)))
            elif c == "}" and stack:
                stack.pop()
            i += 1
        return stack

    def _opener(self, brace: int) -> str:
        """What a `{` belongs to: `route[relay]`, `if`, `switch` ... read from the text before it."""
        head = self.code[max(0, brace - 200) : brace].rstrip()
        if head.endswith("else"):
            return "else"
        words = head.replace("(", " ( ").replace("[", " [ ").split()
        depth = 0
        for k in range(len(words) - 1, -1, -1):
            w = words[k]
            if w in (")", "]") or w.endswith((")", "]")):
                depth += w.count(")") + w.count("]")
            if w in ("(", "["):
                depth -= 1
                if depth <= 0 and k > 0:
                    kw = words[k - 1]
                    if w == "[":
                        label = " ".join(words[k : len(words)]).replace(" ", "")
                        return kw + label
                    return kw
        last = words[-1] if words else "block"
        return last

    def _span_at(self, offset: int) -> ast.Span:
        line = self.code.count("\n", 0, offset) + 1
        col = offset - (self.code.rfind("\n", 0, offset) + 1) + 1
        return self.smap.span(line, col, line, col + 1)


# ---------------------------------------------------------------------------- tree -> AST


def _number_value(text: str) -> int:
    words = {"yes": 1, "true": 1, "on": 1, "enable": 1, "no": 0, "false": 0, "off": 0, "disable": 0}
    if text in words:
        return words[text]
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if len(text) > 1 and text[0] == "0" and all(c in "01234567" for c in text):
        return int(text, 8)
    return int(text)


_DQ_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", '"': '"', "\\": "\\"}


def unescape_string(raw: str) -> str:
    """The value of a string token (spec/language.md §2.3)."""
    if raw.startswith("'"):
        return raw[1:-1]
    body = raw[1:-1]
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _DQ_ESCAPES:
            out.append(_DQ_ESCAPES[nxt])
            i += 2
        elif nxt == "\n":
            i += 2
        elif nxt == "x" and i + 2 < n and body[i + 2] in "0123456789abcdefABCDEF":
            j = i + 2
            while j < n and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(body[i + 2 : j], 16)))
            i = j
        elif nxt in "01234567" and i + 2 < n and body[i + 2] in "01234567":
            j = i + 1
            while j < n and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1 : j], 8) & 0xFF))
            i = j
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


@_v_args(meta=True)
class _Builder(Transformer_NonRecursive[Token, ast.Script]):  # long `a + b + ...` chains make deep trees
    """Turns the Lark tree into `compiler.ast` nodes, noting what the grammar lets through."""

    def __init__(self, smap: SourceMap) -> None:
        super().__init__(visit_tokens=True)
        self.smap = smap
        self.diagnostics: list[Diagnostic] = []

    # -- helpers
    def _span(self, meta: Any) -> ast.Span:
        if getattr(meta, "empty", True) and not hasattr(meta, "line"):
            return ast.NO_SPAN
        return self.smap.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> ast.Span:
        return self.smap.span(
            tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1
        )

    # -- tokens (visit_tokens): Lark calls these with the token only
    @_v_args(inline=False, meta=False)
    def VAR(self, tok: Token) -> ast.PVar:
        span = self._tspan(tok)
        try:
            return _respan(parse_pv(str(tok), span), span)
        except PvSyntaxError as exc:
            self.diagnostics.append(
                make("variable-syntax", span, f"cannot read the variable `{tok}`: {exc.message}")
            )
            return ast.PVar(name="", text=str(tok), span=span)

    @_v_args(inline=False, meta=False)
    def STRING(self, tok: Token) -> ast.StringLit:
        span = self._tspan(tok)
        raw = str(tok)
        value = unescape_string(raw)
        parts: tuple[str | ast.PVar, ...] | None
        error: str | None = None
        if "$" in value and not raw.startswith("'"):
            try:
                parts = _locate_parts(parse_format(value, span), raw, span)
            except PvSyntaxError as exc:
                parts, error = None, exc.message
        else:
            parts = (value,) if value else ()
        return ast.StringLit(value=value, raw=raw, parts=parts, format_error=error, span=span)

    # -- top level
    def start(self, meta: Any, items: list[Any]) -> ast.Script:
        return ast.Script(items=tuple(items), span=self._span(meta))

    def global_param(self, meta: Any, c: list[Token]) -> ast.GlobalParam:
        name, value = c
        raw = str(value)
        text = raw[1:].lstrip(" \t")  # the token starts at `=`
        vspan = self._tspan(value)
        skipped = len(raw) - len(text)
        vspan = ast.Span(vspan.file, vspan.line, vspan.col + skipped, vspan.end_line, vspan.end_col)
        return ast.GlobalParam(
            name=str(name),
            value=text.strip(),
            span=self._span(meta),
            value_span=vspan,
        )

    def loadmodule(self, meta: Any, c: list[ast.StringLit]) -> ast.LoadModule:
        return ast.LoadModule(path=c[0], span=self._span(meta))

    def modparam(self, meta: Any, c: list[Any]) -> ast.ModParam:
        return ast.ModParam(module=c[0], param=c[1], value=c[2], span=self._span(meta))

    def modparam_strings(self, meta: Any, c: list[ast.StringLit]) -> tuple[ast.StringLit, ...]:
        return tuple(c)

    def modparam_number(self, meta: Any, c: list[ast.Number]) -> ast.Number:
        return c[0]

    def include(self, meta: Any, c: list[Any]) -> ast.Include:
        return ast.Include(keyword=str(c[0]), path=c[1], span=self._span(meta))

    # -- routes
    def route_kind(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    def name_id(self, meta: Any, c: list[Token]) -> ast.RouteName:
        return ast.RouteName(str(c[0]), "id", self._span(meta))

    def name_number(self, meta: Any, c: list[Token]) -> ast.RouteName:
        return ast.RouteName(str(c[0]), "number", self._span(meta))

    def name_string(self, meta: Any, c: list[ast.StringLit]) -> ast.RouteName:
        return ast.RouteName(c[0].value, "string", self._span(meta))

    def label_interval(self, meta: Any, c: list[ast.Number]) -> tuple[str, ast.Number]:
        return ("interval", c[0])

    def label_mode(self, meta: Any, c: list[Token]) -> tuple[str, str]:
        return ("mode", str(c[0]))

    def route_label(self, meta: Any, c: list[Any]) -> tuple[ast.RouteName, Any]:
        return (c[0], c[1] if len(c) > 1 else None)

    def body(self, meta: Any, c: list[ast.Stmt]) -> ast.Block:
        return ast.Block(body=tuple(c), span=self._span(meta))

    def route_def(self, meta: Any, c: list[Any]) -> ast.RouteDef:
        kind = c[0]
        label = c[1] if len(c) == 3 else None
        block: ast.Block = c[-1]
        span = self._span(meta)
        name: ast.RouteName | None = None
        interval: ast.Number | None = None
        mode: str | None = None
        if label is not None:
            name, extra = label
            if extra is not None:
                if extra[0] == "interval":
                    interval = extra[1]
                else:
                    mode = extra[1]
        route = ast.RouteDef(
            kind=kind, name=name, body=block, interval=interval, mode=mode, span=span
        )
        self._check_route_shape(route)
        return route

    def _check_route_shape(self, r: ast.RouteDef) -> None:
        head = ast.Span(r.span.file, r.span.line, r.span.col, r.span.line, r.span.col + len(r.kind))
        if not r.body.body:
            self.diagnostics.append(
                make(
                    "empty-route",
                    r.body.span,
                    f"the body of `{r.title}` is empty",
                    help=f"OpenSIPS rejects an empty route body; write `{r.title} {{ ; }}`",
                )
            )
        if (
            r.kind in ("branch_route", "failure_route", "timer_route", "event_route")
            and r.name is None
        ):
            self.diagnostics.append(
                make("route-name", head, f"`{r.kind}` needs a name: `{r.kind}[name]`")
            )
        if r.kind in ("error_route", "local_route", "startup_route") and r.name is not None:
            self.diagnostics.append(
                make(
                    "route-name",
                    r.name.span,
                    f"`{r.kind}` takes no name",
                    help=f"write `{r.kind} {{ ... }}`",
                )
            )
        if r.kind == "timer_route" and r.name is not None and r.interval is None:
            self.diagnostics.append(
                make(
                    "route-name",
                    r.name.span,
                    "`timer_route` needs an interval in seconds",
                    help=f"write `timer_route[{r.name.name}, 60]`",
                )
            )
        if r.interval is not None and r.kind != "timer_route":
            self.diagnostics.append(
                make(
                    "route-name",
                    r.interval.span,
                    f"only `timer_route` takes an interval, not `{r.kind}`",
                )
            )
        if r.mode is not None and r.kind != "event_route":
            self.diagnostics.append(
                make(
                    "route-name",
                    r.name.span if r.name else head,
                    f"`{r.mode}` is only read in `event_route[E, {r.mode}]`",
                )
            )

    # -- statements
    def empty_stmt(self, meta: Any, c: list[Any]) -> ast.Empty:
        return ast.Empty(span=self._span(meta))

    def break_stmt(self, meta: Any, c: list[Any]) -> ast.Break:
        return ast.Break(span=self._span(meta))

    def block(self, meta: Any, c: list[ast.Stmt]) -> ast.Block:
        return ast.Block(body=tuple(c), span=self._span(meta))

    def block_or_stmt(self, meta: Any, c: list[ast.Stmt]) -> ast.Stmt:
        return c[0]

    def if_stmt(self, meta: Any, c: list[Any]) -> ast.If:
        orelse = c[2] if len(c) > 2 else None
        return ast.If(cond=c[0], then=c[1], orelse=orelse, span=self._span(meta))

    def while_stmt(self, meta: Any, c: list[Any]) -> ast.While:
        return ast.While(cond=c[0], body=c[1], span=self._span(meta))

    def foreach_stmt(self, meta: Any, c: list[Any]) -> ast.ForEach:
        return ast.ForEach(var=c[0], collection=c[1], body=c[2], span=self._span(meta))

    def switch_stmt(self, meta: Any, c: list[Any]) -> ast.Switch:
        return ast.Switch(subject=c[0], cases=tuple(c[1:]), span=self._span(meta))

    def case(self, meta: Any, c: list[Any]) -> ast.Case:
        return ast.Case(label=c[0], body=tuple(c[1:]), span=self._span(meta))

    def default(self, meta: Any, c: list[Any]) -> ast.Case:
        return ast.Case(label=None, body=tuple(c), span=self._span(meta))

    def case_label(self, meta: Any, c: list[Any]) -> ast.Number | ast.StringLit:
        label: ast.Number | ast.StringLit = c[0]
        return label

    def assign(self, meta: Any, c: list[Any]) -> ast.Assign:
        return ast.Assign(target=c[0], op=c[1], value=c[2], span=self._span(meta))

    # -- commands
    def exit_cmd(self, meta: Any, c: list[Any]) -> ast.Exit:
        return ast.Exit(span=self._span(meta))

    def drop_cmd(self, meta: Any, c: list[Any]) -> ast.Drop:
        return ast.Drop(span=self._span(meta))

    def log_cmd(self, meta: Any, c: list[Any]) -> ast.Log:
        level = c[0] if len(c) == 2 else None
        return ast.Log(level=level, text=c[-1], span=self._span(meta))

    def xlog_cmd(self, meta: Any, c: list[Any]) -> ast.Xlog:
        return ast.Xlog(kind=c[0], level=None, parts=tuple(c[1:]), span=self._span(meta))

    def xlog_level_cmd(self, meta: Any, c: list[Any]) -> ast.Xlog:
        return ast.Xlog(kind=c[0], level=c[1], parts=tuple(c[2:]), span=self._span(meta))

    def xlog_kw(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    def assert_cmd(self, meta: Any, c: list[Any]) -> ast.Assert:
        return ast.Assert(cond=c[0], text=c[1] if len(c) > 1 else None, span=self._span(meta))

    def error_cmd(self, meta: Any, c: list[Any]) -> ast.ErrorCmd:
        return ast.ErrorCmd(first=c[0], second=c[1], span=self._span(meta))

    def async_cmd(self, meta: Any, c: list[Any]) -> ast.Async:
        return ast.Async(
            call=c[0], resume=c[1], timeout=c[2] if len(c) > 2 else None, span=self._span(meta)
        )

    def launch_cmd(self, meta: Any, c: list[Any]) -> ast.Launch:
        return ast.Launch(
            call=c[0],
            report=c[1] if len(c) > 1 else None,
            param=c[2] if len(c) > 2 else None,
            span=self._span(meta),
        )

    def call(self, meta: Any, c: list[Any]) -> ast.Call:
        name: Token = c[0]
        args: tuple[ast.Arg, ...] = c[1]
        return ast.Call(
            name=str(name), args=args, span=self._span(meta), name_span=self._tspan(name)
        )

    def args(self, meta: Any, c: list[Any]) -> tuple[ast.Arg, ...]:
        if len(c) == 1 and c[0] is None:
            return ()
        return tuple(c)

    def arg_string(self, meta: Any, c: list[ast.StringLit]) -> ast.StringLit:
        return c[0]

    def arg_name(self, meta: Any, c: list[Token]) -> ast.BareName:
        return ast.BareName(name=str(c[0]), span=self._span(meta))

    def null(self, meta: Any, c: list[Any]) -> ast.Null:
        return ast.Null(span=self._span(meta))

    def route_call(self, meta: Any, c: list[Any]) -> ast.RouteCall:
        return ast.RouteCall(target=c[0], args=tuple(c[1:]), span=self._span(meta))

    def return_cmd(self, meta: Any, c: list[Any]) -> ast.Return:
        span = self._span(meta)
        if not c:
            return ast.Return(code=None, parenthesized=False, span=span)
        only = c[0]
        if only is None:  # return()
            return ast.Return(code=None, span=span)
        if isinstance(only, tuple):
            code, values = only
            return ast.Return(code=code, values=tuple(values), span=span)
        return ast.Return(code=only, parenthesized=False, span=span)

    def return_args(self, meta: Any, c: list[Any]) -> tuple[Any, list[Any]]:
        return (c[0], c[1:])

    def return_values_only(self, meta: Any, c: list[Any]) -> tuple[Any, list[Any]]:
        return (None, c)

    # -- conditions and expressions
    def logic(self, meta: Any, c: list[Any]) -> ast.Logic:
        op: Literal["&&", "||"] = "&&" if c[1] in ("&&", "and") else "||"
        return ast.Logic(op=op, left=c[0], right=c[2], span=self._span(meta))

    def not_(self, meta: Any, c: list[Any]) -> ast.Not:
        return ast.Not(operand=c[1], span=self._span(meta))

    def paren(self, meta: Any, c: list[Any]) -> ast.Paren:
        return ast.Paren(inner=c[0], span=self._span(meta))

    def arith_test(self, meta: Any, c: list[Any]) -> ast.ArithTest:
        return ast.ArithTest(expr=c[0], span=self._span(meta))

    def comparison(self, meta: Any, c: list[Any]) -> ast.Compare:
        return ast.Compare(op=c[1], left=c[0], right=c[2], span=self._span(meta))

    def ip(self, meta: Any, c: list[Token]) -> ast.IpLiteral:
        return ast.IpLiteral(text=str(c[0]), span=self._span(meta))

    def binop(self, meta: Any, c: list[Any]) -> ast.BinOp:
        return ast.BinOp(op=c[1], left=c[0], right=c[2], span=self._span(meta))

    def bitnot(self, meta: Any, c: list[Any]) -> ast.BitNot:
        return ast.BitNot(operand=c[0], span=self._span(meta))

    def snumber(self, meta: Any, c: list[Any]) -> ast.Number:
        sign = c[0] if len(c) == 2 else ""
        text: str = c[-1]
        value = _number_value(text)
        return ast.Number(
            value=-value if sign == "-" else value, text=sign + text, span=self._span(meta)
        )

    def number(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    def _op(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    assign_op = cmp_op = logic_op = not_op = bit_op = add_op = sign = _op


def _respan(pv: ast.PVar, span: ast.Span) -> ast.PVar:
    return (
        pv
        if pv.span == span
        else ast.PVar(pv.name, pv.inner, pv.index, pv.transforms, pv.context, pv.text, span)
    )


def _locate_parts(
    parts: tuple[str | ast.PVar, ...], raw: str, span: ast.Span
) -> tuple[str | ast.PVar, ...]:
    """Give each variable of a one-line format string its own span inside the string."""
    if span.line != span.end_line:
        return parts
    out: list[str | ast.PVar] = []
    cursor = 1
    for part in parts:
        if isinstance(part, ast.PVar) and part.text:
            at = raw.find(part.text, cursor)
            if at >= 0:
                col = span.col + at
                part = _respan(
                    part, ast.Span(span.file, span.line, col, span.line, col + len(part.text))
                )
                cursor = at + len(part.text)
        out.append(part)
    return tuple(out)
