"""2.x spellings that 3.x no longer reads: functions that were renamed or removed.

The table is the language's history (spec/functions.md, core section, and language.md §13),
not the function registry: it holds names that exist in no 3.x module, so it needs none.
"""

from __future__ import annotations

from compiler import ast
from compiler.check.walk import nodes_of
from compiler.diagnostics import Diagnostic, make

# old name -> (what replaced it, the version that removed it)
REMOVED_FUNCTIONS: dict[str, tuple[str, str]] = {
    "append_branch": ("`append_msg_branch()` (or `append_branch_old()`)", "3.6"),
    "remove_branch": ("`remove_msg_branch()`", "3.6"),
    "force_local_rport": ("`add_local_rport()`", "3.0"),
    "add_tcp_alias": ("`force_tcp_alias()`", "3.0"),
    "fetch_event_params": ("`$param(name)` inside the `event_route`", "3.6"),
}


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for node in nodes_of(script, ast.Call):
        if isinstance(node, ast.Call) and node.name in REMOVED_FUNCTIONS:
            instead, version = REMOVED_FUNCTIONS[node.name]
            out.append(
                make(
                    "removed-function",
                    node.name_span,
                    f"`{node.name}()` no longer exists in OpenSIPS {version} and later",
                    help=f"use {instead}",
                )
            )
    return out
