"""Script text -> `compiler.ast` nodes, with syntax diagnostics.

The grammar (grammar.lark) is loaded once and cached. A parse never raises on a user's
mistake: it returns a `ParseResult` with the tree (None when the text had syntax errors)
and the diagnostics. LALR error recovery skips to the next `;` or `}` after an error so
one run reports several mistakes (at most MAX_SYNTAX_ERRORS), each saying what was expected
and which block is still open.
"""

from __future__ import annotations

import copy
import functools
import io
import re
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule

from compiler import ast, cache, lexing
from compiler.astbuild import Builder, callbacks, unshared
from compiler.astbuild import unescape_string as unescape_string  # part of this module's API
from compiler.diagnostics import Diagnostic, Note, make
from compiler.pvparse import pv_token_pattern
from compiler.source import Comment, SourceMap, flatten, scan

MAX_SYNTAX_ERRORS = 20
# Deeper nesting of `{` and `(` than any real script has; beyond it the recursive passes
# (tree building, checks, formatting) would run out of stack, so it is an error up front.
MAX_NESTING = 100


# Lark's own tree builder is not used (compiler/astbuild.py gives the parser its callbacks);
# spans follow the rules `propagate_positions` sets.
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
            return _tuned(Lark.load(io.BytesIO(stored)))
        except Exception:  # a damaged or foreign file: build it anew
            pass
    parser = Lark(grammar, **_LARK_OPTIONS)
    buffer = io.BytesIO()
    parser.save(buffer)
    cache.write(name, buffer.getvalue())
    return _tuned(parser)


class _ParserRule(Rule):
    """A rule of the parser's tables, hashed and compared as the object it is.

    Lark's LALR loop looks each reduction's rule up in the callbacks (`__hash__`) and
    asserts it is not the end state (`!=`, so `__eq__`): two calls of Python methods per
    reduction (~14 ms of a 10,000-line parse). The tables and `Lark.rules` share one object
    per rule (built or loaded), so identity is the same equality here, and the C slots of
    `object` answer it."""

    __slots__ = ()
    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__


def _tuned(parser: Lark) -> Lark:
    """`parser` made faster, after it is saved (not in the cache file): rules compared by
    identity, the contextual lexer run by `compiler.lexing`'s loop. Same results."""
    return lexing.install(_rules_by_identity(parser))


def _rules_by_identity(parser: Lark) -> Lark:
    """`parser`, its rules made `_ParserRule`s (after it is saved: not in the cache file).

    Only a speed-up: with a Lark whose objects are laid out otherwise it is left out."""
    try:
        lalr = parser.parser.parser.parser
        rules = {id(rule): rule for rule in parser.rules}
        for actions in lalr.parse_table.states.values():
            for _action, arg in actions.values():
                if isinstance(arg, Rule):
                    rules[id(arg)] = arg
        for rule in rules.values():
            if type(rule) is Rule:
                rule.__class__ = _ParserRule
        # Lark's own tree builder, keyed by the same objects: hashed anew (a dict copy
        # would keep the old hashes)
        lalr.callbacks = {rule: callback for rule, callback in lalr.callbacks.items()}
    except (AttributeError, TypeError):
        pass
    return parser


def building(builder: Builder) -> Any:
    """The cached parser's front end (lexer + LALR), calling `builder` as it reduces.

    A shallow copy with its own callbacks: the cached parser is left as it is, so parses in
    several threads do not meet. `.parse(text, on_error=...)` returns `(Script, first, last)`.
    """
    lark = _parser()
    frontend = copy.copy(lark.parser)
    lalr = frontend.parser = copy.copy(frontend.parser)
    lalr.parser = type(lalr.parser)(lalr.parser.parse_table, callbacks(builder, lark.rules))
    return frontend


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
    script, syntax_errors, built, partial = _parse_with_recovery(scanned.code, smap)
    diagnostics.extend(syntax_errors)
    if script is None:
        return ParseResult(None, diagnostics, smap, comments)
    diagnostics.extend(built)
    return ParseResult(script, diagnostics, smap, comments, partial=partial)


_NESTING_MARKS = re.compile(r"[\"'{}()]")
_DQ_BODY = re.compile(r'(?:[^"\\]|\\.)*', re.S)  # after a `"`: up to the closing one
# The strings `_nesting_too_deep` skips, as it skips them (a `"` string runs to its closing
# `"` or, unterminated, to the end; a `'` string to its closing `'`), and what is neither a
# string nor a bracket.
_STRINGS = re.compile(r"""\"[^"\\]*(?:\\.[^"\\]*)*.?|'[^']*'""", re.S)
_NOT_BRACKETS = re.compile(r"[^{}()]+")
_BRACKET_STEP = {"{": 1, "(": 1, "}": -1, ")": -1}.__getitem__


def _nesting_too_deep(code: str) -> int | None:
    """The offset where `{`/`(` nesting first passes MAX_NESTING, skipping strings."""
    if code.count("{") + code.count("(") <= MAX_NESTING:
        return None
    # Most scripts are far from the limit, which regexes and running sums (all at C speed)
    # can tell: the depth after each bracket outside strings, counted without the floor at
    # 0 below (so only where no `}`/`)` comes first) and past an unterminated `'` string
    # (where the walk below stops): when that stays within the limit, so does the walk's.
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", code))
    depths = list(accumulate(map(_BRACKET_STEP, brackets)))
    if depths and min(depths) >= 0 and max(depths) <= MAX_NESTING:
        return None
    depth = 0
    search, body = _NESTING_MARKS.search, _DQ_BODY.match
    m = search(code)
    while m is not None:
        i = m.start()
        c = code[i]
        if c == '"':
            end = body(code, i + 1).end()  # type: ignore[union-attr]  # `*` always matches
            m = search(code, end + 1)
            continue
        if c == "'":
            j = code.find("'", i + 1)
            if j < 0:
                return None
            m = search(code, j + 1)
            continue
        if c in "{(":
            depth += 1
            if depth > MAX_NESTING:
                return i
        elif depth:
            depth -= 1
        m = search(code, i + 1)
    return None


class _LineIndex:
    """Line and column of an offset; the line starts are found on the first question."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] = []

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        if not self.starts:
            self.starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
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
) -> tuple[ast.Script | None, list[Diagnostic], list[Diagnostic], bool]:
    """Parse; set aside each top-level item that local repair cannot fix, and parse the rest.

    Local repair covers the commonest mistake, a missing `;` at the end of a line: the
    parser gets the `;` it wanted and goes on, so every missing one is reported. Any other
    error sets aside the top-level item it is in: the text from the line that began that
    item to the next line that begins one (a route, `loadmodule`, `modparam` or `name =` at
    column 1) is blanked, positions unchanged, and the file is parsed again. So a run reports
    one error per broken item, up to MAX_SYNTAX_ERRORS, and the items that are fine still
    make a (partial) tree for the other checks. Returns the tree, the syntax errors, the
    builder's diagnostics on the tree, and whether items were set aside.
    """
    errors: list[Diagnostic] = []
    seen: set[tuple[str, int, int, str]] = set()
    text = code
    partial = False
    while True:
        builder = Builder(smap)  # a new one per attempt: only the last tree's notes count
        parser = building(builder)
        rec = _Recovery(smap, text, builder)
        tree: ast.Script | None
        try:
            built: Any = parser.parse(text, on_error=rec.on_error)  # (Script, first, last)
            tree = built[0]
        except UnexpectedInput as exc:
            rec.report(exc)
            tree = None
        except RecursionError:
            rec.errors.append(
                make("syntax", smap.span(1, 1, 1, 2), "the script is nested too deeply to read")
            )
            return None, errors + rec.errors, [], partial
        for d in rec.errors:
            key = (d.span.file, d.span.line, d.span.col, d.message)
            if key not in seen:
                seen.add(key)
                errors.append(d)
        if tree is not None or len(errors) >= MAX_SYNTAX_ERRORS or rec.stop_offset is None:
            return tree, errors[:MAX_SYNTAX_ERRORS], builder.diagnostics, partial
        start, end = _statement_around(text, rec.stop_offset) or _item_around(code, rec.stop_offset)
        blanked = _blank(text, start, end)
        if blanked == text:
            return None, errors[:MAX_SYNTAX_ERRORS], [], partial
        text, partial = blanked, True


def _item_around(code: str, offset: int) -> tuple[int, int]:
    """The top-level item holding `offset`: from its first line to the next item's."""
    start = 0
    for m in _RESTART.finditer(code, 0, offset + 1):
        start = m.start()
    nxt = _RESTART.search(code, _next_line(code, offset))
    return start, nxt.start() if nxt else len(code)


# what bounds a statement inside a block, with the strings it must not look into
_STATEMENT_MARKS = re.compile(r"""\"(?:[^"\\]|\\.)*\"|'[^']*'|[;{}]""")


def _statement_around(code: str, offset: int) -> tuple[int, int] | None:
    """The simple statement holding `offset` inside a block: from just after the `;`, `{`
    or `}` before it to the `;` that ends it, when no `{` or `}` comes in between (a
    statement with a block of its own is left to `_item_around`). Setting aside only that
    statement lets the parse go on in the same route, so its next mistake is reported too.
    None when `offset` is not inside a block (or no `;` ends the statement)."""
    item_start, _ = _item_around(code, offset)
    start = None
    opened: list[int] = []  # offsets of the `{` still open
    marks = _STATEMENT_MARKS.finditer(code, item_start)
    for m in marks:
        mark = m.group()
        if m.start() < offset:
            if m.end() > offset:
                return None  # the mistake is inside a string
            if mark == "{":
                opened.append(m.start())
            elif mark == "}" and opened:
                opened.pop()
            if mark in ("{", "}", ";"):
                start = m.end()
            continue
        if mark in ("{", "}"):
            return None  # a block inside the statement
        if mark == ";":
            break
    else:
        return None
    if start is None or not opened:
        return None
    end = m.end()
    # a route's body must keep a statement: an emptied one is a mistake of its own, which
    # the script does not have (an emptied `if` or loop block is not)
    if len(opened) > 1 or code[opened[-1] + 1 : start].strip():
        return start, end
    depth = 0
    for m in marks:
        mark = m.group()
        if mark == "}" and depth == 0:
            return (start, end) if code[end : m.start()].strip() else None
        if mark in ("{", "}"):
            depth += 1 if mark == "{" else -1
    return None


def _blank(code: str, start: int, end: int) -> str:
    middle = "".join("\n" if c == "\n" else " " for c in code[start:end])
    return code[:start] + middle + code[end:]


def _next_line(code: str, offset: int) -> int:
    nl = code.find("\n", offset)
    return len(code) if nl < 0 else nl + 1


class _Recovery:
    """Collects the syntax errors of one parse attempt and repairs a missing `;` in place."""

    def __init__(self, smap: SourceMap, code: str, builder: Builder) -> None:
        self.smap = smap
        self.code = code
        self.builder = builder
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
        notes = len(self.builder.diagnostics)
        try:
            snapshot = ip.copy(deepcopy_values=False)  # type: ignore[no-untyped-call]
            values = snapshot.parser_state.value_stack
            values[:] = unshared(values)
            snapshot.feed_token(semi)
            snapshot.feed_token(tok)
        except UnexpectedInput:
            return False
        finally:  # the trial's reductions are made again below, for real
            del self.builder.diagnostics[notes:]
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
