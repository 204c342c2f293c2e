"""Walking the syntax tree: every node below a node, and every statement list."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from compiler import ast


def iter_nodes(node: Any) -> Iterator[Any]:
    """Every dataclass node reachable from `node`, parents before children."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, tuple):
            stack.extend(reversed(cur))
            continue
        if not dataclasses.is_dataclass(cur) or isinstance(cur, ast.Span):
            continue
        yield cur
        # A string's format parts are only variables where the string is expanded, which
        # the caller decides (see `string_pvars`).
        children = [
            getattr(cur, f.name) for f in dataclasses.fields(cur) if f.name not in ("span", "parts")
        ]
        stack.extend(reversed(children))


def string_pvars(s: ast.StringLit) -> Iterator[ast.PVar]:
    """The variables a format string expands."""
    for part in s.parts or ():
        if isinstance(part, ast.PVar):
            yield part
