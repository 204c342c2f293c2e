"""The parser on the language's constructs and on the pitfalls of spec/language.md §14."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import ast
from compiler.parse import parse_file, parse_text, unescape_string
from compiler.pvparse import PvSyntaxError, parse_format, parse_pv


def body(src: str) -> tuple[ast.Stmt, ...]:
    """The statements of `route { src }`."""
    result = parse_text("route {\n" + src + "\n}\n", "t.cfg")
    assert result.script is not None, [d.message for d in result.diagnostics]
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert not errors, [d.message for d in errors]
    return result.script.routes[0].body.body


def rhs(expr: str) -> ast.Expr:
    stmt = body(f"$var(x) = {expr};")[0]
    assert isinstance(stmt, ast.Assign)
    return stmt.value


def cond(text: str) -> ast.Cond:
    stmt = body(f"if ({text}) exit;")[0]
    assert isinstance(stmt, ast.If)
    return stmt.cond


def num(n: int) -> ast.Number:
    return ast.Number(n, str(n))


def var(name: str, inner: str | None = None) -> ast.PVar:
    return ast.PVar(name, inner)


# ---------------------------------------------------------------- precedence


def test_multiplication_does_not_bind_tighter_than_addition() -> None:
    # OpenSIPS: `2 + 3 * 4` is (2 + 3) * 4 = 20.
    assert rhs("2 + 3 * 4") == ast.BinOp("*", ast.BinOp("+", num(2), num(3)), num(4))


def test_bit_operators_bind_looser_than_arithmetic() -> None:
    assert rhs("1 | 2 + 3") == ast.BinOp("|", num(1), ast.BinOp("+", num(2), num(3)))
    assert rhs("1 + 2 | 3") == ast.BinOp("|", ast.BinOp("+", num(1), num(2)), num(3))


def test_and_or_share_one_level_left_to_right() -> None:
    a, b, c = var("a"), var("b"), var("c")
    assert cond("$a || $b && $c") == ast.Logic("&&", ast.Logic("||", a, b), c)
    assert cond("$a and $b or $c") == ast.Logic("||", ast.Logic("&&", a, b), c)


def test_not_binds_tighter_than_and_or() -> None:
    a, b = var("a"), var("b")
    assert cond("!$a && $b") == ast.Logic("&&", ast.Not(a), b)
    assert cond("not $a") == ast.Not(a)


def test_parentheses_are_kept() -> None:
    assert rhs("2 + (3 * 4)") == ast.BinOp("+", num(2), ast.Paren(ast.BinOp("*", num(3), num(4))))


def test_dangling_else_binds_to_the_nearest_if() -> None:
    (stmt,) = body("if ($a) if ($b) drop; else exit;")
    assert isinstance(stmt, ast.If) and stmt.orelse is None
    assert isinstance(stmt.then, ast.If) and isinstance(stmt.then.orelse, ast.Exit)


# ---------------------------------------------------------------- conditions


def test_comparisons_and_ip_networks() -> None:
    assert cond('$rU =~ "^00"') == ast.Compare("=~", var("rU"), ast.StringLit("^00", '"^00"'))
    assert cond("$si == 10.0.0.0/8") == ast.Compare("==", var("si"), ast.IpLiteral("10.0.0.0/8"))
    assert cond("$si != 127.0.0.1") == ast.Compare("!=", var("si"), ast.IpLiteral("127.0.0.1"))
    assert cond("$du == NULL") == ast.Compare("==", var("du"), ast.Null())
    assert cond("$var(n) >= -2") == ast.Compare(">=", var("var", "n"), num(-2))


def test_arith_test_and_actions_as_conditions() -> None:
    assert cond("[$var(a) & 4]") == ast.ArithTest(ast.BinOp("&", var("var", "a"), num(4)))
    assert cond('is_method("INVITE")') == ast.Call("is_method", (ast.StringLit("INVITE", ""),))
    assert isinstance(cond("route(check)"), ast.RouteCall)
    assert isinstance(cond("$var(x) = 1"), ast.Assign)


def test_comparison_needs_a_variable_on_the_left() -> None:
    result = parse_text("route { if (5 == $var(x)) exit; }", "t.cfg")
    assert not result.ok and result.partial
    assert any(d.code == "syntax" for d in result.diagnostics)


# ---------------------------------------------------------------- statements


def test_switch_with_fall_through_and_default() -> None:
    (sw,) = body('switch ($rm) { case "INVITE": case 1: xlog("x"); break; default: drop; }')
    assert isinstance(sw, ast.Switch)
    labels = [c.label for c in sw.cases]
    assert labels == [ast.StringLit("INVITE", ""), num(1), None]
    assert sw.cases[0].body == ()
    assert isinstance(sw.cases[1].body[-1], ast.Break)


def test_loops() -> None:
    w, f = body("while ($var(i) < 3) { $var(i) += 1; } for ($var(v) in $(avp(l)[*])) drop;")
    assert isinstance(w, ast.While) and isinstance(w.body, ast.Block)
    assert isinstance(f, ast.ForEach)
    assert f.collection == ast.PVar("avp", "l", "*")


@pytest.mark.parametrize("op", ["=", ":=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^="])
def test_assignment_operators(op: str) -> None:
    (stmt,) = body(f"$var(x) {op} 1;")
    assert isinstance(stmt, ast.Assign) and stmt.op == op


def test_return_forms() -> None:
    stmts = body(
        'return; return(); return(-1); return -2; return $var(r); return(1, $var(a), "s", NULL);'
    )
    codes = [s.code for s in stmts if isinstance(s, ast.Return)]
    assert codes == [None, None, num(-1), num(-2), var("var", "r"), num(1)]
    last = stmts[-1]
    assert isinstance(last, ast.Return) and len(last.values) == 3


def test_async_launch_exit_drop_log() -> None:
    a, la, e, d, lg, x = body(
        'async(rest_get("u", $var(b)), resume, 5); launch(exec("ls"), done, "p"); exit; drop(); '
        'log(2, "plain"); xlog("L_WARN", "a $ru " "b");'
    )
    assert isinstance(a, ast.Async) and a.resume.name == "resume" and a.timeout == num(5)
    assert isinstance(la, ast.Launch) and la.report is not None and la.param is not None
    assert isinstance(e, ast.Exit) and isinstance(d, ast.Drop)
    assert isinstance(lg, ast.Log) and lg.level == num(2)
    assert isinstance(x, ast.Xlog) and x.level is not None and len(x.parts) == 2


def test_empty_arguments_keep_their_positions() -> None:
    (call,) = body('f(,"x",,);')
    assert isinstance(call, ast.Call)
    assert call.args == (None, ast.StringLit("x", ""), None, None)
    (none,) = body("g();")
    assert isinstance(none, ast.Call) and none.args == ()


def test_the_seed_forms_read() -> None:
    src = """
    loadmodule "event_routing.so"
    route {
        subscribe("REGISTER", "aor=bob", "reg_handler");
        route(CHECK_IF_MOBILE, "$event(contact)");
        halt();
        hangup();
    }
    route [reg_handler] { fork_call("$event(contact)"); }
    route[CHECK_IF_MOBILE] { exit; }
    """
    result = parse_text(src, "seed.cfg")
    assert result.script is not None and not result.diagnostics
    handler = result.script.routes[1]
    (call,) = handler.body.body
    assert isinstance(call, ast.Call) and call.name == "fork_call"
    (arg,) = call.args
    assert isinstance(arg, ast.StringLit) and arg.parts == (ast.PVar("event", "contact"),)


# ---------------------------------------------------------------- top level


def test_top_level_items() -> None:
    src = (
        'mpath="/usr/lib/opensips/modules/"\nsocket=udp:127.0.0.1:5060 # me\nlog_level=-1\n'
        'loadmodule "tm.so"\nmodparam("tm", "fr_timeout", 10)\n'
        'modparam("usrloc|registrar", "db_url", "mysql://a:" "b@h/db")\n'
        "timer_route[gw, 300] { exit; }\nevent_route[E_UL_CONTACT_INSERT] { exit; }\n"
        "onreply_route { exit; }\nfailure_route[1] { exit; }\n"
    )
    result = parse_text(src, "t.cfg")
    assert result.script is not None
    items = result.script.items
    assert items[1] == ast.GlobalParam("socket", "udp:127.0.0.1:5060")
    assert items[2] == ast.GlobalParam("log_level", "-1")
    assert isinstance(items[3], ast.LoadModule) and items[3].module == "tm"
    mp = items[5]
    assert isinstance(mp, ast.ModParam) and isinstance(mp.value, tuple) and len(mp.value) == 2
    timer = items[6]
    assert isinstance(timer, ast.RouteDef) and timer.interval == num(300)
    assert [r.title for r in result.script.routes] == [
        "timer_route[gw]",
        "event_route[E_UL_CONTACT_INSERT]",
        "onreply_route",
        "failure_route[1]",
    ]


def test_yes_no_words_are_numbers() -> None:
    assert rhs("yes") == ast.Number(1, "yes")
    assert rhs("off") == ast.Number(0, "off")
    assert rhs("0x1F") == ast.Number(31, "0x1F")
    assert rhs("010") == ast.Number(8, "010")


# ---------------------------------------------------------------- lexical pitfalls


def test_comments_nest_and_hash_runs_to_end_of_line() -> None:
    stmts = body("/* a /* b */ still comment */ exit; # done ;\n drop;")
    assert [type(s) for s in stmts] == [ast.Exit, ast.Drop]


def test_double_slash_is_not_a_comment() -> None:
    result = parse_text("route { exit; // not a comment\n}", "t.cfg")
    codes = [d.code for d in result.diagnostics]
    assert "slash-comment" in codes


def test_unterminated_block_comment_is_an_error() -> None:
    result = parse_text("route { exit; }\n/* open", "t.cfg")
    assert any("unterminated block comment" in d.message for d in result.diagnostics)


def test_string_escapes() -> None:
    assert unescape_string(r'"a\nb\tc\"d\\e"') == 'a\nb\tc"d\\e'
    assert unescape_string(r'"\d+"') == "\\d+"  # unknown escapes stay verbatim
    assert unescape_string(r'"\1"') == "\\1"  # one octal digit is not an escape
    assert unescape_string(r'"\101\x41"') == "AA"
    assert unescape_string(r"'\n raw'") == "\\n raw"


def test_a_string_keeps_hash_braces_and_semicolons() -> None:
    (call,) = body('xlog("# { } ; ( )");')
    assert isinstance(call, ast.Xlog) and call.parts[0].value == "# { } ; ( )"


def test_variable_token_forms() -> None:
    assert parse_pv("$ru") == ast.PVar("ru")
    assert parse_pv("$T_branch_idx") == ast.PVar("T_branch_idx")
    assert parse_pv("$avp(x)") == ast.PVar("avp", "x")
    assert parse_pv("$(avp(x)[*])") == ast.PVar("avp", "x", "*")
    assert parse_pv("$(hdr(Via)[-1])") == ast.PVar("hdr", "Via", -1)
    assert parse_pv("$avp($var(n))") == ast.PVar("avp", ast.PVar("var", "n"))
    via = parse_pv("$(hdr(Via)[0]{via.param,received}{s.len})")
    assert via.index == 0 and [t.name for t in via.transforms] == ["via.param", "s.len"]
    assert via.transforms[0].args == ("received",)
    assert parse_pv("$(<request>ru)").context == "request"
    sub = parse_pv("$(var(x){s.substr, 1, $(var(y){s.len})})")
    assert sub.transforms[0].args[1] == ast.PVar(
        "var", "y", transforms=(ast.Transform("s.len", ()),)
    )


def test_index_needs_the_wrapped_form() -> None:
    result = parse_text("route { $var(a) = $avp(x)[1]; }", "t.cfg")
    assert not result.ok
    (err,) = result.diagnostics
    assert err.code == "syntax" and err.span.col == 26


def test_format_strings() -> None:
    assert parse_format("from $fU to $(tU{s.len}) costs $$5") == (
        "from ",
        ast.PVar("fU"),
        " to ",
        ast.PVar("tU", transforms=(ast.Transform("s.len", ()),)),
        " costs $5",
    )
    # In a format, `.` is a name character: `$fU.` is a variable named `fU.`.
    assert parse_format("$fU.") == (ast.PVar("fU."),)
    with pytest.raises(PvSyntaxError):
        parse_format("$ alone")


# ---------------------------------------------------------------- errors and recovery


def test_several_syntax_errors_in_one_run() -> None:
    src = "route[a] {\n  exit\n  drop;\n}\nroute[b] { if ($x ==) exit; }\nroute[c] { f(; }\n"
    result = parse_text(src, "t.cfg")
    errors = [d for d in result.diagnostics if d.code == "syntax"]
    assert [d.span.line for d in errors] == [2, 5, 6]
    assert "expected `;`" in errors[0].message


def _syntax_lines(src: str) -> list[int]:
    return [d.span.line for d in parse_text(src, "t.cfg").diagnostics if d.code == "syntax"]


def test_a_bad_statement_is_set_aside_alone_so_the_next_one_is_reported() -> None:
    src = 'route {\n  $var(x) = 1 2;\n  xlog("ok");\n  $var(y) = "a" 3;\n  $var(z) = ;\n}\n'
    assert _syntax_lines(src) == [2, 4, 5]
    # a statement in a nested block too (the `if` block may end up empty)
    src = "route {\n  if ($ru) {\n    $var(a) = 1 2;\n  }\n  $var(b) = 3 4;\n}\n"
    assert _syntax_lines(src) == [3, 5]
    # `;` inside a string does not end the statement
    assert _syntax_lines('route {\n  $var(s) = "a;b" 2;\n  $var(t) = 3 4;\n}\n') == [2, 3]


def test_a_statement_is_not_set_aside_where_that_would_mislead() -> None:
    # the route's only statement: an emptied body would be a mistake the script lacks
    result = parse_text("route[a] {\n  $var(x) = 1 2;\n}\nroute[b] { exit; }\n", "t.cfg")
    assert [d.code for d in result.diagnostics] == ["syntax"]
    # a statement with a block of its own: the whole route is set aside, one error
    assert _syntax_lines("route {\n  if ($x ==) { exit; }\n  $var(y) = 1 2;\n}\n") == [2]


def test_unclosed_block_names_the_open_block() -> None:
    result = parse_text("route[relay] {\n  if ($x) {\n    exit;\n", "t.cfg")
    (err,) = [d for d in result.diagnostics if d.code == "syntax"]
    assert "end of file" in err.message
    assert err.notes and "`if` block is still open" in err.notes[0].message
    assert err.notes[0].span is not None and err.notes[0].span.line == 2


def test_includes_are_inlined_with_their_origin(tmp_path: Path) -> None:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "relay.cfg").write_text("route[relay] {\n  t_relay();\n  $var(x) = ;\n}\n")
    main = tmp_path / "main.cfg"
    main.write_text('loadmodule "tm.so"\ninclude_file "inc/relay.cfg"\nroute { route(relay); }\n')
    result = parse_file(str(main))
    (err,) = [d for d in result.diagnostics if d.code == "syntax"]
    assert err.span.file.endswith("relay.cfg") and err.span.line == 3
    chain = result.source_map.include_chain(err.span.file)
    assert [(s.file, s.line) for s in chain] == [(str(main), 2)]


def test_missing_include_is_reported(tmp_path: Path) -> None:
    main = tmp_path / "main.cfg"
    main.write_text('import_file "nope.cfg"\nroute { exit; }\n')
    result = parse_file(str(main))
    assert [d.code for d in result.diagnostics] == ["include-not-found"]
    assert result.script is not None


def test_include_cycle_is_reported(tmp_path: Path) -> None:
    a = tmp_path / "a.cfg"
    a.write_text('include_file "a.cfg"\nroute { exit; }\n')
    result = parse_file(str(a))
    assert any("include cycle" in d.message for d in result.diagnostics)


def test_spans_point_at_the_source() -> None:
    result = parse_text("route {\n    $var(x) = $ru;\n}\n", "t.cfg")
    assert result.script is not None
    (stmt,) = result.script.routes[0].body.body
    assert isinstance(stmt, ast.Assign)
    s = stmt.value.span
    assert (s.line, s.col, s.end_line, s.end_col) == (2, 15, 2, 18)


def test_a_byte_order_mark_is_ignored() -> None:
    result = parse_text("\ufeffroute { exit; }\n", "bom.cfg")
    assert result.ok and result.script is not None
