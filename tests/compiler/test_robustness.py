"""No input makes `sipc check` or `sipc fmt` print a traceback.

Hypothesis mutates real scripts from the corpus (bytes flipped, cut, deleted, inserted,
lines swapped) and also writes token soup from the language's own alphabet. The only
allowed outcomes are a clean run (exit 0) or diagnostics (exit 1) — never an exception,
never exit 2 (which means an internal error).
"""

from __future__ import annotations

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from tests.compiler.corpus import scripts

_SAMPLES = [f.path.read_text(encoding="utf-8", errors="replace") for f in scripts()[::7]]
_SAMPLES = [s for s in _SAMPLES if len(s) < 20_000] or [
    'loadmodule "tm.so"\nroute {\n  if ($rU == "a") { t_relay(); exit; }\n  route(x);\n}\nroute[x] { drop; }\n'
]
_ALPHABET = [
    "route",
    "route[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ";",
    ",",
    "if",
    "else",
    "switch",
    "case",
    ":",
    "while",
    "for",
    "in",
    "$var(x)",
    "$(avp(a)[*])",
    "$(ru{s.len})",
    "$",
    '"',
    "'",
    '"s $rU"',
    "==",
    "=",
    "=~",
    "&&",
    "||",
    "!",
    "+",
    "*",
    "[",
    "-1",
    "0x1F",
    "yes",
    "NULL",
    "exit",
    "return(",
    "drop",
    "break",
    "async(",
    "launch(",
    "xlog(",
    "/*",
    "*/",
    "#",
    "//",
    "\n",
    " ",
    "\\\n",
    'include_file "x.cfg"\n',
    "log_level=",
    "socket=udp:1.2.3.4:5060\n",
    "modparam(",
    "loadmodule",
    "10.0.0.0/8",
    "`",
    "\x00",
    "é",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(_SAMPLES))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["flip", "cut", "delete", "insert", "dup"]))
        if op == "flip":
            text = text[:at] + chr(draw(st.integers(0, 255))) + text[at + 1 :]
        elif op == "cut":
            text = text[:at]
        elif op == "delete":
            n = draw(st.integers(1, 40))
            text = text[:at] + text[at + n :]
        elif op == "insert":
            text = text[:at] + draw(st.sampled_from(_ALPHABET)) + text[at:]
        else:
            n = draw(st.integers(1, 200))
            text = text[:at] + text[at : at + n] * 2 + text[at + n :]
    return text


soup = st.lists(st.sampled_from(_ALPHABET), max_size=80).map("".join)

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run_all(text: str) -> None:
    runner = CliRunner()
    for args in (["check", "-"], ["check", "--output-format", "json", "-"], ["fmt", "-"]):
        result = runner.invoke(main, args, input=text)
        assert result.exit_code in (0, 1), (args, result.output, result.exception)
        assert "Traceback" not in result.output
        assert "internal error" not in result.output


@_SETTINGS
@given(mutated())
def test_mutated_corpus_scripts(text: str) -> None:
    _run_all(text)


@_SETTINGS
@given(soup)
def test_token_soup(text: str) -> None:
    _run_all(text)


def test_deep_nesting_is_a_diagnostic_not_a_crash() -> None:
    text = "route {\n" + "if ($a) {\n" * 400 + "exit;\n" + "}\n" * 400 + "}\n"
    _run_all(text)


def test_long_chains_are_handled() -> None:
    _run_all("route { $var(x) = 1" + " + 1" * 3000 + "; }\n")
    _run_all("route { if (" + "!" * 500 + "$a) exit; }\n")
    _run_all("route { " + "if ($a) " * 3000 + "exit; }\n")
