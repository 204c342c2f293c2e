"""compiler.lexing: its loop gives the parser what Lark's own contextual lexer loop gives.

Both loops run under the real parser (the contextual lexer needs the parser's states) over
every corpus script, over scripts with syntax errors (where the parser's recovery stops and
resumes the lexer) and over mutated text; the tokens, with all their positions, and the
diagnostics must be the same.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.lexer import ContextualLexer

from compiler import lexing, parse
from tests.compiler.corpus import CORPUS, corpus_files

_Seen = tuple[Any, ...]


def _run(cls: type[ContextualLexer], text: str) -> tuple[list[_Seen], list[str]]:
    """The tokens the parser got from `cls`'s loop, and the diagnostics of the parse."""
    lexer = parse._parser().parser.lexer
    installed = lexer.__class__
    seen: list[_Seen] = []

    class Recording(cls):  # type: ignore[misc, valid-type]
        def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Any]:
            for t in cls.lex(self, lexer_state, parser_state):
                where = (t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos)
                seen.append((t.type, str(t), t.value, *where, type(t).__name__))
                yield t

    lexer.__class__ = Recording
    try:
        result = parse.parse_text(text, "t.cfg", inline_includes=False)
    finally:
        lexer.__class__ = installed
    diagnostics = [f"{d.span} {d.code} {d.message}" for d in result.diagnostics]
    return seen, diagnostics


def _same(text: str) -> int:
    fast = _run(lexing.FastContextualLexer, text)
    stock = _run(ContextualLexer, text)
    assert fast[0] == stock[0]
    assert fast[1] == stock[1]
    return len(fast[0])


def test_the_parser_runs_the_fast_loop() -> None:
    assert type(parse._parser().parser.lexer) is lexing.FastContextualLexer
    # every state of sipc's grammar is handled by the loop itself, none left to Lark's
    assert all(t is not None for t in parse._parser().parser.lexer.tables().values())


_FILES = corpus_files()


@pytest.mark.skipif(not _FILES, reason=f"the OpenSIPS corpus is absent ({CORPUS})")
def test_same_tokens_on_the_corpus() -> None:
    total = 0
    for f in _FILES:
        total += _same(f.path.read_text(encoding="utf-8", errors="replace"))
    assert total > 10_000


@pytest.mark.parametrize(
    "text",
    [
        'route {\n  xlog("a")\n  xlog("b");\n}\n',  # a missing `;`: repaired, lexing resumes
        "route {\n  if ($ru == ) { exit; }\n}\nroute[b] { drop; }\n",  # an item set aside
        'route { $var(x) = "unterminated;\n}\n',
        "route { `backtick` }\n",  # no terminal matches: Lark's loop raises
        "x = 1\ny = \nroute { exit; }\n",
        "",
        "   \n\n  ",
        'route {\r\n\tif (is_method("INVITE")) {\r\n\t\tt_relay();\r\n\t}\r\n}\r\n',
    ],
)
def test_same_tokens_on_broken_and_odd_scripts(text: str) -> None:
    _same(text)


@pytest.mark.skipif(not _FILES, reason=f"the OpenSIPS corpus is absent ({CORPUS})")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_same_tokens_on_mutated_corpus(data: st.DataObject) -> None:
    f = data.draw(st.sampled_from(_FILES))
    text = f.path.read_text(encoding="utf-8", errors="replace")
    rnd = random.Random(data.draw(st.integers(0, 2**32)))
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 6))):
        if not chars:
            break
        i = rnd.randrange(len(chars))
        op = rnd.choice("dfi")
        if op == "d":
            del chars[i]
        elif op == "f":
            chars[i] = rnd.choice(';{}()"$ \n=#')
        else:
            chars.insert(i, rnd.choice(';{}()"$ \n=#'))
    _same("".join(chars))
