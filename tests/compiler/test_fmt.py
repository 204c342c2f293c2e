"""`sipc fmt`: the canonical layout, comment placement, the corpus invariants, the command.

Every unit test also checks the three invariants on its input: the formatted text parses to
the same tree (spans ignored), formatting it again changes nothing, and every comment's text
is still there.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler import ast
from compiler import fmt_command as fmt_command_module
from compiler.cli import main
from compiler.fmt import FormatResult, can_format, format_source
from compiler.parse import ParseResult, parse_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "opensips"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def formatted(source: str) -> str:
    """Format `source`, asserting the invariants on the way."""
    result = format_source(source, "t.cfg")
    assert result.text is not None, result.diagnostics
    assert_invariants(source, result.text)
    return result.text


def tree(text: str) -> ParseResult:
    """The parse of a script, or of a file of statements as the body of a route."""
    parsed = parse_text(text, "t.cfg", inline_includes=False)
    if can_format(parsed):
        return parsed
    return parse_text("route {\n" + text + "\n}\n", "t.cfg", inline_includes=False)


def assert_invariants(source: str, text: str) -> None:
    before, after = tree(source), tree(text)
    assert can_format(after), [d.message for d in after.diagnostics]
    assert after.script == before.script, "the formatted text parses to a different tree"
    again = format_source(text, "t.cfg")
    assert again.text == text, "formatting the formatted text changed it"
    missing = [c.text for c in before.comments if c.text not in text]
    assert not missing, f"comments lost: {missing}"


# ---------------------------------------------------------------------------- layout
# fmt_cases/NAME.in.cfg formats to fmt_cases/NAME.out.cfg; the name says what the pair shows.
# The expected files were written by hand as the specification of the layout.

CASES = Path(__file__).with_name("fmt_cases")
CASE_NAMES = sorted(p.name.removesuffix(".in.cfg") for p in CASES.glob("*.in.cfg"))


def test_every_case_has_its_expected_output() -> None:
    assert CASE_NAMES, f"no cases in {CASES}"
    for name in CASE_NAMES:
        assert (CASES / f"{name}.out.cfg").is_file(), f"{name}.out.cfg is missing"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name: str) -> None:
    source = (CASES / f"{name}.in.cfg").read_text(encoding="utf-8")
    expected = (CASES / f"{name}.out.cfg").read_text(encoding="utf-8")
    assert formatted(source) == expected


def test_route_kinds_names_and_labels() -> None:
    source = dedent(
        """
        route["quoted"] { exit; }
        route[1] { route("quoted"); route(1); route($var(r)); route(r, "a", 2); }
        branch_route[br] { exit; }
        failure_route[miss] { exit; }
        onreply_route { exit; }
        onreply_route[rep] { exit; }
        timer_route[tick,60] { exit; }
        event_route[E_UL_CONTACT_INSERT,sync] { exit; }
        startup_route { exit; }
        local_route { exit; }
        error_route { exit; }
        """
    )
    text = formatted(source)
    headers = [line for line in text.splitlines() if line.endswith("{")]
    assert headers == [
        'route["quoted"] {',
        "route[1] {",
        "branch_route[br] {",
        "failure_route[miss] {",
        "onreply_route {",
        "onreply_route[rep] {",
        "timer_route[tick, 60] {",
        "event_route[E_UL_CONTACT_INSERT, sync] {",
        "startup_route {",
        "local_route {",
        "error_route {",
    ]
    assert '    route("quoted");\n    route(1);\n    route($var(r));\n    route(r, "a", 2);\n' in text


# ---------------------------------------------------------------------------- comments


def test_a_comment_after_a_hash_comment_moves_below_instead_of_being_swallowed() -> None:
    source = dedent(
        """
        route {
          xlog("a" # first
               "b" /* second */ );
          exit;
        }
        """
    )
    text = formatted(source)
    assert text == dedent(
        """
        route {
            xlog("a" "b");  # first
            /* second */
            exit;
        }
        """
    )


def test_a_script_of_only_comments_and_an_empty_script() -> None:
    assert formatted("# only\n   /* comments */\n") == "# only\n/* comments */\n"
    assert formatted("") == ""
    assert formatted("\n\n") == ""


# ---------------------------------------------------------------------------- input forms


def test_crlf_input_keeps_crlf_line_ends() -> None:
    source = "# c\r\nroute{\r\n  if ($a) { a(); } # t\r\n}\r\n"
    text = formatted(source)
    assert text == "# c\r\nroute {\r\n    if ($a) {\r\n        a();\r\n    }  # t\r\n}\r\n"


def test_multi_line_string_is_printed_verbatim() -> None:
    source = 'route {\n  append_hf("X-A: 1\r\nX-B: 2\n  indented\n");\n}\n'
    text = formatted(source)
    assert '    append_hf("X-A: 1\r\nX-B: 2\n  indented\n");\n' in text


def test_a_file_of_statements_is_formatted_at_the_left_margin() -> None:
    source = "# included inside a route\n  if ($a) { xlog(\"x\"); } # t\n\n\n$var(b)=1;\n/* end */\n"
    expected = '# included inside a route\nif ($a) {\n    xlog("x");\n}  # t\n\n$var(b) = 1;\n/* end */\n'
    text = format_source(source, "part.cfg").text
    assert text == expected
    assert format_source(text, "part.cfg").text == text

    def as_route(body: str) -> object:
        return parse_text("route {\n" + body + "\n}\n", "x", inline_includes=False).script

    assert as_route(text) == as_route(source)


def test_a_fragment_that_is_not_one_run_of_statements_is_refused() -> None:
    result = format_source("a(); } route[x] { b();\n", "part.cfg")
    assert result.text is None
    assert any(d.code == "syntax" for d in result.diagnostics)


def test_syntax_errors_are_refused_with_diagnostics() -> None:
    source = "route {\n  a()\n  b();\n}\n"
    result = format_source(source, "bad.cfg")
    assert result == FormatResult(None, result.diagnostics)
    assert not result.ok
    assert any(d.code == "syntax" and d.span.file == "bad.cfg" for d in result.diagnostics)


def test_unterminated_block_comment_is_refused() -> None:
    result = format_source("route { exit; }\n/* never closed\n", "bad.cfg")
    assert result.text is None
    assert any("unterminated" in d.message for d in result.diagnostics)


# ---------------------------------------------------------------------------- generated scripts
# Scripts built token by token, with blanks, newlines and comments of every kind between any
# two tokens: the invariants must hold wherever a comment falls.

Tokens = list[str]


def _conditions() -> st.SearchStrategy[Tokens]:
    leaf = st.sampled_from(
        [["$var(a)", "==", "1"], ["f", "(", ")"], ["!", "g", "(", "$rU", ")"], ["$rU"],
         ["[", "$var(n)", "&", "4", "]"], ["$du", "!=", "NULL"],
         ["is_method", "(", '"INVITE|ACK|BYE|CANCEL|OPTIONS|REGISTER|SUBSCRIBE"', ")"],
         ["$var(a_long_variable_name)", "==", '"a long string constant value"']]
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["&&", "||", "and"]), inner).map(
                lambda t: [*t[0], t[1], *t[2]]
            ),
            inner.map(lambda c: ["(", *c, ")"]),
            inner.map(lambda c: ["not", "(", *c, ")"]),
        ),
        max_leaves=6,
    )


SIMPLE: list[Tokens] = [
    ["f", "(", ")", ";"],
    ["f", "(", "$var(a)", ",", ",", '"s"', ")", ";"],
    ["$var(x)", "=", "1", "+", "$var(y)", "*", "2", ";"],
    ["$var(s)", "=", '"a rather long piece of text"', "+", "$var(y)", "+", '"another long piece"',
     "+", "$var(z)", "+", '"and a third one to make it wrap"', "|", "4", ";"],
    ["xlog", "(", '"L_INFO"', ",", '"a $ru"', '"b"', ")", ";"],
    ["return", "(", "1", ")", ";"],
    ["return", "-1", ";"],
    ["exit", ";"],
    [";"],
    ["route", "(", "r1", ",", '"x"', ")", ";"],
    ["async", "(", "f", "(", ")", ",", "r1", ")", ";"],
]


def _statements() -> st.SearchStrategy[Tokens]:
    simple = st.sampled_from(SIMPLE)

    def compound(inner: st.SearchStrategy[Tokens]) -> st.SearchStrategy[Tokens]:
        block = st.lists(inner, min_size=0, max_size=3).map(
            lambda b: ["{", *(t for s in b for t in s), "}"]
        )
        body = st.one_of(inner, block)
        if_ = st.tuples(_conditions(), body, st.one_of(st.none(), body)).map(
            lambda t: ["if", "(", *t[0], ")", *t[1], *(["else", *t[2]] if t[2] else [])]
        )
        while_ = st.tuples(_conditions(), body).map(lambda t: ["while", "(", *t[0], ")", *t[1]])
        for_ = body.map(lambda b: ["for", "(", "$var(k)", "in", "$(avp(x)[*])", ")", *b])
        switch = st.tuples(inner, st.lists(inner, max_size=2)).map(
            lambda t: ["switch", "(", "$rU", ")", "{", "case", "1", ":", "case", '"a"', ":", *t[0],
                       "break", ";", "default", ":", *(x for s in t[1] for x in s), "}"]
        )
        return st.one_of(if_, while_, for_, switch)

    return st.recursive(simple, compound, max_leaves=6)


def _script() -> st.SearchStrategy[Tokens]:
    route = st.tuples(
        st.sampled_from([["route"], ["route", "[", "r1", "]"], ["failure_route", "[", "f", "]"]]),
        st.lists(_statements(), min_size=1, max_size=4),
    ).map(lambda t: [*t[0], "{", *(x for s in t[1] for x in s), "}"])
    top = st.one_of(
        route,
        st.just(["loadmodule", '"tm.so"']),
        st.just(["modparam", "(", '"tm"', ",", '"p"', ",", '"a"', '"b"', ")"]),
        # A global value runs to the end of its line, so it is one token here.
        st.sampled_from([["\nlog_level = 3\n"], ["\nlisten = udp:1.2.3.4 /* c */ as 5.6.7.8\n"],
                         ["\nx = { a\n # in braces\n b }\n"]]),
    )
    script = st.lists(top, min_size=1, max_size=4)
    # A file of statements, as included inside a route.
    fragment = st.lists(_statements(), min_size=1, max_size=4)
    return st.one_of(script, fragment).map(lambda items: [t for i in items for t in i])


SEPARATORS = [" ", "\n", "\n\n", "\n\n\n", "\t", " # line comment\n",
              " /* block */ ", "\n/* own\n   lines */\n", "\n  # own line\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=_script(), crlf=st.booleans(), data=st.data())
def test_generated_scripts_keep_the_invariants(
    tokens: Tokens, crlf: bool, data: st.DataObject
) -> None:
    seps = data.draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(tokens),
                              max_size=len(tokens)))
    numbered = [sep.replace("comment", f"comment {k}").replace("block", f"block {k}")
                .replace("own", f"own {k}") for k, sep in enumerate(seps)]
    source = "".join(tok + sep for tok, sep in zip(tokens, numbered, strict=True))
    if crlf:
        source = source.replace("\n", "\r\n")
    # Every generated text should parse; a parser quirk is not fmt's business, and hypothesis
    # fails the test if it has to throw away too many.
    assume(can_format(tree(source)))
    formatted(source)


# ---------------------------------------------------------------------------- the corpus


def corpus_paths() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "README.md")


CORPUS_PATHS = corpus_paths()
needs_corpus = pytest.mark.skipif(
    not CORPUS_PATHS, reason=f"{CORPUS} is absent: the shared corpus is not beside this checkout"
)


# The corpus files the formatter must format: those that parse without errors (the others
# must be refused, which test_corpus_round_trip checks for every file).
FORMATTABLE = [
    p for p in CORPUS_PATHS if can_format(tree(p.read_text(encoding="utf-8", errors="replace")))
]


@functools.cache
def corpus_format(path: Path) -> tuple[str, FormatResult]:
    source = path.read_text(encoding="utf-8", errors="replace")
    return source, format_source(source, path.name)


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_PATHS, ids=lambda p: p.name)
def test_corpus_round_trip(path: Path) -> None:
    source, result = corpus_format(path)
    before = tree(source)
    if not can_format(before):
        assert result.text is None, "a file with syntax errors was formatted"
        assert any(d.severity == "error" for d in result.diagnostics)
        return
    assert result.text is not None
    after = tree(result.text)
    assert can_format(after), [d.message for d in after.diagnostics][:3]
    assert after.script == before.script


@needs_corpus
@pytest.mark.parametrize("path", FORMATTABLE, ids=lambda p: p.name)
def test_corpus_idempotent(path: Path) -> None:
    _, result = corpus_format(path)
    assert result.text is not None
    assert format_source(result.text, path.name).text == result.text


@needs_corpus
@pytest.mark.parametrize("path", FORMATTABLE, ids=lambda p: p.name)
def test_corpus_every_comment_survives(path: Path) -> None:
    source, result = corpus_format(path)
    assert result.text is not None
    comments = parse_text(source, path.name, inline_includes=False).comments
    missing = [c.text for c in comments if c.text not in result.text]
    assert not missing
    # ...and as comments, not swallowed into a neighbour: the count is the same after.
    after = parse_text(result.text, path.name, inline_includes=False).comments
    assert len(after) == len(comments)


@needs_corpus
@pytest.mark.parametrize("path", FORMATTABLE, ids=lambda p: p.name)
def test_corpus_indentation_does_not_matter(path: Path) -> None:
    """Re-indent the formatted file at random: the formatter gives the same text back."""
    _, result = corpus_format(path)
    assert result.text is not None
    verbatim = _verbatim_lines(result.text)
    rng = random.Random(path.name)
    lines = result.text.split("\n")
    shuffled = [
        line if number in verbatim else rng.choice(["", "\t", "  ", "\t\t   "]) + line.lstrip()
        for number, line in enumerate(lines, 1)
    ]
    assert format_source("\n".join(shuffled), path.name).text == result.text


def _verbatim_lines(text: str) -> set[int]:
    """Lines that continue a multi-line string, global value or block comment."""
    parsed = parse_text(text, "x", inline_includes=False)
    spans = [(c.line, c.end_line) for c in parsed.comments]
    stack: list[object] = [parsed.script]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.StringLit | ast.GlobalParam):
            spans.append((node.span.line, node.span.end_line))
        elif isinstance(node, tuple):
            stack.extend(node)
        elif dataclasses.is_dataclass(node):
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))
    return {n for first, last in spans for n in range(first + 1, last + 1)}


@needs_corpus
def test_corpus_layout_rules_hold_in_every_formatted_file() -> None:
    checked = 0
    for path in CORPUS_PATHS:
        _, result = corpus_format(path)
        if result.text is None:
            continue
        checked += 1
        lines = result.text.split("\n")
        assert result.text.endswith("\n") or not result.text
        assert "\n\n\n" not in result.text, f"{path.name}: two blank lines in a row"
        for number, line in enumerate(lines, 1):
            assert not line.endswith((" ", "\t")) or _inside_literal(result.text, number), (
                f"{path.name}:{number}: trailing blanks"
            )
            assert not line.startswith("\t") or _inside_literal(result.text, number), (
                f"{path.name}:{number}: a tab indents this line"
            )
    assert checked > 0


def _inside_literal(text: str, line_number: int) -> bool:
    """True when the line continues a multi-line string or block comment (printed verbatim)."""
    parsed = parse_text(text, "x", inline_includes=False)
    if any(c.line <= line_number <= c.end_line for c in parsed.comments if c.kind == "block"):
        return True
    prefix = "\n".join(text.split("\n")[: line_number - 1])
    return prefix.count('"') % 2 == 1 or prefix.count("'") % 2 == 1


# ---------------------------------------------------------------------------- the command

UGLY = "route{\nif($a==1){exit;}\n}\n"
PRETTY = "route {\n    if ($a == 1) {\n        exit;\n    }\n}\n"


def run(args: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["fmt", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def test_cli_rewrites_files_in_place_only_when_they_change(tmp_path: Path) -> None:
    ugly, pretty = tmp_path / "ugly.cfg", tmp_path / "pretty.cfg"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    before = pretty.stat().st_mtime_ns
    code, out, err = run([str(ugly), str(pretty)])
    assert code == 0
    assert ugly.read_text() == PRETTY
    assert f"reformatted {ugly}" in err
    assert f"reformatted {pretty}" not in err
    assert pretty.stat().st_mtime_ns == before
    assert out == ""


def test_cli_check_lists_files_and_writes_nothing(tmp_path: Path) -> None:
    ugly, pretty = tmp_path / "ugly.cfg", tmp_path / "pretty.cfg"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    code, _, err = run(["--check", str(ugly), str(pretty)])
    assert code == 1
    assert f"would reformat {ugly}" in err
    assert str(pretty) not in err.replace(f"would reformat {ugly}", "")
    assert ugly.read_text() == UGLY
    assert run(["--check", str(pretty)])[0] == 0


def test_cli_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    ugly = tmp_path / "ugly.cfg"
    ugly.write_text(UGLY)
    code, out, _ = run(["--diff", str(ugly)])
    assert code == 0
    assert ugly.read_text() == UGLY
    assert f"--- {ugly}\t(original)" in out and f"+++ {ugly}\t(formatted)" in out
    assert "-if($a==1){exit;}\n" in out and "+    if ($a == 1) {\n" in out


def test_cli_stdin_to_stdout() -> None:
    code, out, _ = run(["-"], stdin=UGLY)
    assert code == 0
    assert out == PRETTY
    assert run(["--check", "-"], stdin=UGLY)[0] == 1
    assert run(["--check", "-"], stdin=PRETTY)[0] == 0


def test_cli_crlf_file_stays_crlf(tmp_path: Path) -> None:
    path = tmp_path / "win.cfg"
    path.write_bytes(UGLY.replace("\n", "\r\n").encode())
    assert run([str(path)])[0] == 0
    assert path.read_bytes() == PRETTY.replace("\n", "\r\n").encode()


def test_cli_syntax_errors_are_reported_and_the_file_left_alone(tmp_path: Path) -> None:
    bad, ugly = tmp_path / "bad.cfg", tmp_path / "ugly.cfg"
    bad.write_text("route {\n    a()\n    b();\n}\n")
    ugly.write_text(UGLY)
    code, _, err = run([str(bad), str(ugly)])
    assert code == 1
    assert "error[syntax]" in err and "expected `;`" in err
    assert f"{bad}:2:" in err
    assert bad.read_text() == "route {\n    a()\n    b();\n}\n"
    assert ugly.read_text() == PRETTY, "the other files are still formatted"


def test_cli_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.cfg"
    code, _, err = run([str(missing)])
    assert code == 2
    assert f"cannot read {missing}: no such file" in err
    assert "Traceback" not in err
    assert run([])[0] == 2, "no file at all is a usage error"


def test_cli_internal_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(text: str, filename: str = "") -> FormatResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(fmt_command_module, "format_source", explode)
    path = tmp_path / "a.cfg"
    path.write_text(UGLY)
    code, _, err = run([str(path)])
    assert code == 2
    assert f"sipc: internal error: {path}: RuntimeError: boom" in err
    assert "Traceback" not in err
    assert path.read_text() == UGLY


def test_cli_help_explains_the_options_and_exit_codes() -> None:
    code, out, _ = run(["--help"])
    assert code == 0
    for word in ("--check", "--diff", "stdin", "Exit status", "syntax errors"):
        assert word in out
