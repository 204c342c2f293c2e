"""Operators mixed without parentheses where OpenSIPS's precedence is not the usual one.

OpenSIPS gives `+ - * / %` one level and all bit operators (`| & ^ << >>`) one lower level,
both left-associative, so `2 + 3 * 4` is 20; and `&&`/`||` share one level, so
`a || b && c` is `(a || b) && c` (language.md §6.1, §6.2). A reader brought up on C reads
both the other way. A chain of operators of different C precedence written without
parentheses gets one warning, with the parenthesised forms to choose from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compiler import ast
from compiler.check.functions import show_arg
from compiler.check.walk import nodes_of
from compiler.diagnostics import Diagnostic, make
from compiler.records import record

# C's precedence, tightest highest: what a reader expects.
C_RANK = {"*": 5, "/": 5, "%": 5, "+": 4, "-": 4, "<<": 3, ">>": 3, "&": 2, "^": 1, "|": 0}
LOGIC_RANK = {"&&": 1, "||": 0}
# Longer chains are machine-made; rewriting them with parentheses would help no one.
MAX_CHAIN = 64


@record
class _Tree:
    """An operator tree over the operands of one chain, printed with minimal parentheses."""

    op: str
    left: _Tree | int
    right: _Tree | int


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    inner: set[int] = set()
    nodes = nodes_of(script, ast.BinOp, ast.Logic)
    for node in nodes:
        if isinstance(node, ast.BinOp | ast.Logic):
            for child in (node.left, node.right):
                if type(child) is type(node):
                    inner.add(id(child))
    for node in nodes:
        if id(node) in inner:
            continue
        if isinstance(node, ast.BinOp):
            out.extend(_check_chain(node, ast.BinOp, C_RANK, always=True))
        elif isinstance(node, ast.Logic):
            out.extend(_check_chain(node, ast.Logic, LOGIC_RANK, always=False))
    return out


def _check_chain(
    root: ast.BinOp | ast.Logic, cls: type, ranks: dict[str, int], *, always: bool
) -> list[Diagnostic]:
    operands: list[Any] = []
    ops: list[str] = []
    actual = _flatten(root, cls, operands, ops)
    if len({ranks[op] for op in ops}) < 2 or len(ops) > MAX_CHAIN:
        return []
    expected = _c_parse(ops, ranks)
    texts = [show(o) for o in operands]
    written = " ".join(t for pair in zip(texts, [*ops, ""], strict=True) for t in pair).strip()
    opensips_form = _render(actual, texts, ranks)
    c_form = _render(expected, texts, ranks)
    if actual != expected:
        levels = (
            "`+ - * / %` share one precedence level, and the bit operators one lower level"
            if cls is ast.BinOp
            else "`&&` and `||` share one precedence level, left first"
        )
        return [
            make(
                "precedence",
                root.span,
                f"`{written}` means `{opensips_form}` in OpenSIPS: {levels}",
                help=f"write `{opensips_form}` to keep this meaning, or `{c_form}`",
            )
        ]
    if not always:
        return []
    return [
        make(
            "precedence",
            root.span,
            f"`{written}` mixes operators of different precedence without parentheses",
            help=f"write `{opensips_form}` to make the order plain",
        )
    ]


def _flatten(node: Any, cls: type, operands: list[Any], ops: list[str]) -> _Tree | int:
    """The chain's operands and operators in written order, and the tree OpenSIPS built.

    The left spine is walked in a loop (chains can be long); a right child of the same
    class is one precedence level deeper, so that recursion stays shallow.
    """
    spine: list[Any] = []
    cur: Any = node
    while isinstance(cur, ast.BinOp | ast.Logic) and type(cur) is cls:
        spine.append(cur)
        cur = cur.left
    operands.append(cur)
    tree: _Tree | int = len(operands) - 1
    for link in reversed(spine):
        ops.append(link.op)
        tree = _Tree(link.op, tree, _flatten(link.right, cls, operands, ops))
    return tree


def _c_parse(ops: list[str], ranks: dict[str, int]) -> _Tree | int:
    """The tree C's precedence (left-associative at each level) gives the same chain."""
    position = 0
    operand = 0

    def parse(min_rank: int) -> _Tree | int:
        nonlocal position, operand
        left: _Tree | int = operand
        operand += 1
        while position < len(ops) and ranks[ops[position]] >= min_rank:
            op = ops[position]
            position += 1
            right = parse(ranks[op] + 1)
            left = _Tree(op, left, right)
        return left

    return parse(0)


def _render(tree: _Tree | int, texts: list[str], ranks: dict[str, int]) -> str:
    if isinstance(tree, int):
        return texts[tree]

    def side(child: _Tree | int, *, is_right: bool) -> str:
        text = _render(child, texts, ranks)
        if isinstance(child, _Tree) and (ranks[child.op] != ranks[tree.op] or is_right):
            return f"({text})"
        return text

    return f"{side(tree.left, is_right=False)} {tree.op} {side(tree.right, is_right=True)}"


# ---------------------------------------------------------------------------- printing


def show(node: Any) -> str:
    """A node as the script would write it (for messages; not a formatter)."""
    if isinstance(node, ast.BinOp | ast.Logic):
        spine: list[ast.BinOp | ast.Logic] = []
        while isinstance(node, ast.BinOp | ast.Logic):  # a loop: chains can be long
            spine.append(node)
            node = node.left
        text = show(node)
        for link in reversed(spine):
            text = f"{text} {link.op} {show(link.right)}"
        return text
    printer = _PRINTERS.get(type(node))
    return printer(node) if printer is not None else "..."


def _show_call(node: ast.Call) -> str:
    return f"{node.name}({', '.join(show_arg(a) for a in node.args)})"


def _show_route_call(node: ast.RouteCall) -> str:
    target = node.target.text if isinstance(node.target, ast.PVar) else node.target.name
    return f"route({', '.join([target, *(show_arg(a) for a in node.args)])})"


_PRINTERS: dict[type, Callable[[Any], str]] = {
    ast.Number: lambda n: n.text,
    ast.StringLit: lambda n: n.raw or f'"{n.value}"',
    ast.PVar: lambda n: n.text,
    ast.Null: lambda n: "NULL",
    ast.IpLiteral: lambda n: n.text,
    ast.Paren: lambda n: f"({show(n.inner)})",
    ast.BitNot: lambda n: f"~{show(n.operand)}",
    ast.Compare: lambda n: f"{show(n.left)} {n.op} {show(n.right)}",
    ast.Not: lambda n: f"!{show(n.operand)}",
    ast.ArithTest: lambda n: f"[{show(n.expr)}]",
    ast.Call: _show_call,
    ast.RouteCall: _show_route_call,
    ast.Assign: lambda n: f"{show(n.target)} {n.op} {show(n.value)}",
}
