"""Lark's contextual lexer, run by a shorter loop.

The contextual lexer gives every LALR state its own scanner: one regex, the alternation of
the terminals that state accepts (and the ignored ones), ordered by Lark's priorities.
`ContextualLexer.lex` drives those scanners through three Python calls per token and one
per ignored run of white space (`next_token`, `Scanner.match`, `LineCounter.feed`), with a
`Token` made through two more. On a 10,000-line script that loop was about two thirds of the
whole parse.

`FastContextualLexer.lex` is the same lexer: the same scanner per state, matched at the same
position, the same tokens with the same positions, keyword terminals re-typed as Lark's
`UnlessCallback` does, the lexer state (`line_ctr`, `last_token`) left as Lark leaves it
after every token, so the parser's error recovery resumes where it should. Only the calls
are gone. Whatever the loop does not handle itself (text no scanner of the state matches,
so a syntax error; a lexer set up otherwise than sipc's grammar sets it up) goes back to
Lark's loop at that point, which raises the error Lark raises.

`install()` swaps the class of a loaded parser's lexer; it relies on Lark's internals as of
lark 1.3 and leaves any other layout as it is (only speed is at stake).
tests/compiler/test_lexing.py compares the two loops token by token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lark import Lark, Token
from lark.lexer import BasicLexer, ContextualLexer, LexerState, PatternStr, UnlessCallback

# Per LALR state: (the scanner's compiled regex, the ignored terminal names, the keywords of
# a regex terminal by their exact text, keyed by terminal name). None: Lark's loop.
_Table = tuple[Any, frozenset[str], dict[str, dict[str, str]]]


def _table(lexer: BasicLexer) -> _Table | None:
    """What the fast loop needs of one state's lexer, or None when it is not that simple."""
    scanner = lexer.scanner  # builds lexer.callback too
    if len(scanner._mres) != 1 or lexer.use_bytes:
        return None
    keywords: dict[str, dict[str, str]] = {}
    for name, callback in lexer.callback.items():
        if type(callback) is not UnlessCallback or name in lexer.ignore_types:
            return None  # a user's callback, or a chain of them: Lark's loop runs those
        words: dict[str, str] = {}
        for term in callback.scanner.terminals:
            if not isinstance(term.pattern, PatternStr) or term.pattern.flags:
                return None  # a case-insensitive keyword: not a plain text lookup
            words.setdefault(term.pattern.value, term.name)  # the first in order wins
        keywords[name] = words
    return scanner._mres[0], lexer.ignore_types, keywords


class FastContextualLexer(ContextualLexer):
    """`ContextualLexer` with `lex` as one loop (see the module's docstring)."""

    _tables: dict[Any, _Table | None]

    def tables(self) -> dict[Any, _Table | None]:
        try:
            return self._tables
        except AttributeError:
            by_lexer: dict[int, _Table | None] = {}
            tables = {}
            for state, lexer in self.lexers.items():
                key = id(lexer)
                if key not in by_lexer:
                    by_lexer[key] = _table(lexer) if type(lexer) is BasicLexer else None
                tables[state] = by_lexer[key]
            self._tables = tables
            return tables

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        tables = self.tables()
        text_slice = lexer_state.text
        text, end = text_slice.text, text_slice.end
        ctr = lexer_state.line_ctr
        if ctr.newline_char != "\n" or not isinstance(text, str):
            yield from super().lex(lexer_state, parser_state)
            return
        pos, line, line_start = ctr.char_pos, ctr.line, ctr.line_start_pos
        stack = parser_state.state_stack
        count, rfind, new = text.count, text.rfind, str.__new__
        while pos < end:
            entry = tables[stack[-1]]
            if entry is None:
                break
            regex, ignore, keywords = entry
            m = regex.match(text, pos, end)
            if m is None:
                break
            after = m.end()
            name = m.lastgroup
            lines = count("\n", pos, after)
            if name in ignore:
                if lines:
                    line += lines
                    line_start = rfind("\n", pos, after) + 1
                pos = after
                continue
            value = m.group()
            if name in keywords:
                name = keywords[name].get(value, name)
            tok = new(Token, value)
            tok.type = name
            tok.value = value
            tok.start_pos = pos
            tok.line = line
            tok.column = pos - line_start + 1
            if lines:
                line += lines
                line_start = rfind("\n", pos, after) + 1
            tok.end_line = line
            tok.end_column = column = after - line_start + 1
            tok.end_pos = pos = after
            # the state Lark's loop leaves after a token, for a parser that stops and resumes
            ctr.char_pos = pos
            ctr.line = line
            ctr.column = column
            ctr.line_start_pos = line_start
            lexer_state.last_token = tok
            yield tok
        ctr.char_pos = pos
        ctr.line = line
        ctr.column = pos - line_start + 1
        ctr.line_start_pos = line_start
        if pos < end:
            yield from super().lex(lexer_state, parser_state)


def install(parser: Lark) -> Lark:
    """`parser` with its contextual lexer run by `FastContextualLexer.lex`."""
    lexer = getattr(parser.parser, "lexer", None)
    if type(lexer) is ContextualLexer:
        lexer.__class__ = FastContextualLexer
    return parser
