"""What the precedence, context and flow checks say is true of the script they judge.

The precedence help offers two rewrites; evaluating them shows the first keeps OpenSIPS's
meaning and the second is what a C (or Python) reader expected. Python's precedence for
`* + - & ^ |` and for `and`/`or` is C's, so `eval` plays the C reader.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import ast
from compiler.check import contexts, precedence, uses
from compiler.driver import analyze
from compiler.parse import parse_text

ARITH_OPS = ("+", "-", "*", "|", "&", "^")
_FORMS = re.compile(r"write `(.+?)` to (?:keep this meaning, or `(.+?)`|make the order plain)")


def _eval_opensips(node: Any) -> int:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Paren):
        return _eval_opensips(node.inner)
    assert isinstance(node, ast.BinOp)
    left, right = _eval_opensips(node.left), _eval_opensips(node.right)
    return int(eval(f"({left}) {node.op} ({right})"))


def _truth(node: Any) -> bool:
    if isinstance(node, ast.Number):
        return node.value != 0
    if isinstance(node, ast.Paren):
        return _truth(node.inner)
    assert isinstance(node, ast.Logic)
    if node.op == "&&":
        return _truth(node.left) and _truth(node.right)
    return _truth(node.left) or _truth(node.right)


def _script(text: str) -> ast.Script:
    result = parse_text(text, "case.cfg")
    assert result.script is not None and not result.diagnostics
    return result.script


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 9), min_size=2, max_size=6),
    st.lists(st.sampled_from(ARITH_OPS), min_size=5, max_size=5),
)
def test_precedence_help_keeps_opensips_meaning(numbers: list[int], ops: list[str]) -> None:
    parts = [str(numbers[0])]
    for number, op in zip(numbers[1:], ops, strict=False):
        parts += [op, str(number)]
    written = " ".join(parts)
    script = _script(f"route {{ $var(x) = {written}; }}")
    assign = script.routes[0].body.body[0]
    assert isinstance(assign, ast.Assign)
    opensips_value = _eval_opensips(assign.value)
    found = precedence.check(script)
    if not found:  # one level only: OpenSIPS and C read it alike
        assert eval(written) == opensips_value
        return
    assert len(found) == 1 and found[0].help is not None
    match = _FORMS.search(found[0].help)
    assert match is not None
    assert eval(match.group(1)) == opensips_value
    if match.group(2) is not None:
        assert eval(match.group(2)) == eval(written)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from((0, 1)), min_size=3, max_size=6),
    st.lists(st.sampled_from(("&&", "||")), min_size=5, max_size=5),
)
def test_logic_help_keeps_opensips_meaning(values: list[int], ops: list[str]) -> None:
    parts = [str(values[0])]
    for value, op in zip(values[1:], ops, strict=False):
        parts += [op, str(value)]
    written = " ".join(parts)
    script = _script(f"route {{ if ({written}) exit; }}")
    stmt = script.routes[0].body.body[0]
    assert isinstance(stmt, ast.If)
    meaning = _truth(stmt.cond)

    def python(text: str) -> bool:
        return bool(eval(text.replace("&&", "and").replace("||", "or")))

    found = precedence.check(script)
    if not found:
        assert python(written) == meaning  # no surprise: C reads it the same way
        return
    match = _FORMS.search(found[0].help or "")
    assert match is not None and match.group(2) is not None
    assert python(match.group(1)) == meaning
    assert python(match.group(2)) == python(written)


def test_route_context_note_names_the_chain() -> None:
    text = (
        'loadmodule "sl.so"\n'
        "route { exit; }\n"
        "onreply_route[r1] { route(fix_contact); }\n"
        'route[fix_contact] { sl_send_reply(500, "x"); }\n'
    )
    found = contexts.check(_script(text))
    assert [d.span.line for d in found] == [4]
    notes = [n.message for n in found[0].notes]
    assert "called from onreply_route[r1] via route[fix_contact]" in notes


def test_named_route_is_checked_as_a_request_route_too() -> None:
    text = (
        'loadmodule "sl.so"\nloadmodule "tm.so"\n'
        "route { exit; }\n"
        "onreply_route[r1] { route(cancel); }\n"
        "route[cancel] { t_cancel_branch(); }\n"
    )
    found = [d for d in contexts.check(_script(text))]
    assert len(found) == 1 and "request route" in found[0].message
    assert any("as a request route" in n.message for n in found[0].notes)


def test_resume_route_runs_in_the_kind_of_its_caller() -> None:
    text = (
        'loadmodule "sl.so"\nloadmodule "cfgutils.so"\n'
        "route { exit; }\n"
        "onreply_route[r1] { async(sleep(1), after); }\n"
        'route[after] { sl_send_reply(200, "x"); }\n'
    )
    found = contexts.check(_script(text))
    assert len(found) == 1 and "`onreply_route`" in found[0].message
    assert any("async() resume route[after]" in n.message for n in found[0].notes)


def test_use_before_set_follows_route_calls_and_says_why() -> None:
    text = (
        'route { route(set_it); xlog("$var(a)"); xlog("$var(b)"); }\n'
        "route[set_it] { $var(a) = 1; }\n"
    )
    found = uses.check(_script(text))
    assert [d.message.split("`")[1] for d in found] == ["$var(b)"]
    assert found[0].help is not None and "OpenSIPS keeps" in found[0].help


def test_recursive_routes_terminate() -> None:
    text = (
        "route { route(a); }\n"
        "route[a] { if ($var(n) < 3) { $var(n) = $var(n) + 1; route(b); } }\n"
        "route[b] { route(a); }\n"
    )
    codes = [d.code for d in analyze("case.cfg", text=text).diagnostics]
    assert codes == ["use-before-set"]


def test_long_operator_chains_are_checked_without_recursion() -> None:
    terms = 1500  # beyond the interpreter's default recursion limit
    text = (
        "route {\n    $var(x) = "
        + " + ".join(["1"] * terms)
        + " * $rU;\n    if ("
        + " && ".join(["$var(x) == 1"] * terms)
        + " || $var(q)) exit;\n}\n"
    )
    codes = sorted(d.code for d in analyze("case.cfg", text=text).diagnostics)
    assert codes == ["type-mismatch", "use-before-set"]
