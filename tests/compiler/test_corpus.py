"""The OpenSIPS corpus: every script OpenSIPS reads, sipc reads; every one it rejects, sipc explains.

The README of ../shared/corpus/opensips gives each file's dialect and, where OpenSIPS 3.6.8's
own parser rejects it, the line. Dialects 3.x and 3.x/4.x must parse; 2.x files must parse
wherever their syntax is 3.x's (the README flags the ones whose syntax is not). For a
rejected file, `sipc check` must report something at the defect.
"""

from __future__ import annotations

import pytest

from compiler.driver import analyze
from compiler.parse import parse_file
from tests.compiler.corpus import CORPUS, CorpusFile, scripts

SYNTAX_CODES = {"syntax", "slash-comment", "empty-route", "variable-syntax"}
FILES = scripts()


def _id(f: CorpusFile) -> str:
    return f.name


def _require_corpus() -> None:
    if not FILES:
        pytest.skip(f"{CORPUS} is absent: the shared corpus is not beside this checkout")


def test_corpus_is_present() -> None:
    _require_corpus()
    assert len(FILES) > 100


@pytest.mark.parametrize("f", [f for f in FILES if f.rejected_at is None], ids=_id)
def test_accepted_scripts_parse(f: CorpusFile) -> None:
    result = parse_file(str(f.path))
    syntax = [d for d in result.diagnostics if d.code in SYNTAX_CODES]
    assert result.script is not None and not syntax, "\n".join(
        f"{d.span}: {d.message}" for d in syntax
    )


# A defect may be reported up to this many lines before the line OpenSIPS names: a missing
# `;` is reported at the end of the statement that lacks it, OpenSIPS at the next token.
WINDOW = 3


@pytest.mark.parametrize("f", [f for f in FILES if f.rejected_at is not None], ids=_id)
def test_rejected_scripts_get_a_diagnostic_at_the_defect(f: CorpusFile) -> None:
    analysis = analyze(str(f.path))
    line = f.rejected_at
    assert line is not None
    near = [
        d
        for d in analysis.diagnostics
        if d.span.file == str(f.path) and line - WINDOW <= d.span.line <= line
    ]
    assert near, f"nothing reported near line {line}; got " + "; ".join(
        f"{d.span.line}: {d.message}" for d in analysis.diagnostics
    )


def test_every_dialect_is_counted() -> None:
    _require_corpus()
    dialects = {f.dialect for f in FILES}
    assert {"3.x", "2.x"} <= dialects
