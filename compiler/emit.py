"""The last step of a build: black, then the map from Python lines back to the script.

codegen.py ends each statement line with a marker comment `# file.cfg:LINE` (a route's
`def` line: `# file.cfg:LINE route[name]`). black may move and split lines, so the map is
built from the formatted text: `__sipc_linemap__ = {python_line: (file, line, route)}`.
The runtime reads it to add `at proxy.cfg:42 in route[relay]` to an exception raised in a
route. The same input gives the same bytes.
"""

from __future__ import annotations

import ast as pyast
import io
import re
import tokenize

import black

_MARKER = re.compile(r"#\s+(?P<file>\S+?):(?P<line>\d+)(?:\s+(?P<route>\S+))?\s*$")


_BLACK_LINE_LENGTH = 88


def format_source(source: str) -> str:
    """black with its defaults (line length 88), as a user's project would run it."""
    return black.format_str(source, mode=black.Mode())


def linemap(text: str) -> dict[int, tuple[str, int, str]]:
    """Python line -> (script file, script line, route), from the markers in `text`.

    black puts a statement's trailing comment on the statement's last line, so each
    statement (the header lines of a compound one) is looked up in the syntax tree and
    every one of its lines gets the marker found on any of them: an exception raised on the
    first line of a call spread over several still names the right script line.
    """
    markers: dict[int, tuple[str, int, str | None]] = {}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            m = _MARKER.search(tok.string)
            if m is not None:
                markers[tok.start[0]] = (m.group("file"), int(m.group("line")), m.group("route"))
    out: dict[int, tuple[str, int, str]] = {}
    tree = pyast.parse(text)
    for func in tree.body:
        if not isinstance(func, pyast.FunctionDef | pyast.AsyncFunctionDef):
            continue
        # black may split a long `def` line: its marker is then on the line with `):`
        head_lines = range(func.lineno, func.body[0].lineno)
        head = next((markers[n] for n in head_lines if n in markers), None)
        if head is None or head[2] is None:
            continue
        route = head[2]
        for n in head_lines:
            out[n] = (head[0], head[1], route)
        for node in pyast.walk(func):
            if not isinstance(node, pyast.stmt) or node is func:
                continue
            body = getattr(node, "body", None)
            last = (
                body[0].lineno - 1
                if isinstance(body, list) and body
                else node.end_lineno or node.lineno
            )
            lines = range(node.lineno, last + 1)
            found = next((markers[n] for n in lines if n in markers), None)
            if found is not None:
                for n in lines:
                    out[n] = (found[0], found[1], route)
    return dict(sorted(out.items()))


def finish(source: str) -> str:
    """Format `source` and append its line map."""
    formatted = format_source(source)
    mapping = linemap(formatted)
    lines = ["", "", "__sipc_linemap__: dict[int, tuple[str, int, str]] = {"]
    for py_line in sorted(mapping):
        file, line, route = mapping[py_line]
        entry = f"    {py_line}: ({_dq(file)}, {line}, {_dq(route)}),"
        if len(entry) > _BLACK_LINE_LENGTH:  # black's layout for a tuple that does not fit
            entry = f"    {py_line}: (\n        {_dq(file)},\n        {line},\n        {_dq(route)},\n    ),"
        lines.append(entry)
    lines += ["}", "", ""]
    if not mapping:  # black writes an empty dict on one line
        lines[-4:] = [lines[-4][:-1] + "{}", "", ""]
    # The map goes after the routes, so the line numbers it holds stay true, and before the
    # `if __name__ == "__main__":` block, which never returns.
    head, sep, main_block = formatted.partition('\nif __name__ == "__main__":')
    # The map is written in black's layout, so black on the whole module changes nothing
    # (a test checks it) and the module is formatted once, not twice.
    return head.rstrip("\n") + "\n" + "\n".join(lines) + sep.lstrip("\n") + main_block


def _dq(text: str) -> str:
    """A Python string literal in black's double-quote style."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
