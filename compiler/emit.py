"""The last step of a build: black, then the map from Python lines back to the script.

codegen.py ends each statement line with a marker comment `# file.cfg:LINE` (a route's
`def` line: `# file.cfg:LINE route[name]`). black may move and split lines, so the map is
built from the formatted text: `__sipc_linemap__ = {python_line: (file, line, route)}`.
The runtime reads it to add `at proxy.cfg:42 in route[relay]` to an exception raised in a
route. The same input gives the same bytes.
"""

from __future__ import annotations

import re

import black

_MARKER = re.compile(r"#\s+(?P<file>\S+?):(?P<line>\d+)(?:\s+(?P<route>\S+))?\s*$")
_DEF = re.compile(r"^(?:async\s+)?def\s+\w+\(ctx")


def format_source(source: str) -> str:
    """black with its defaults (line length 88), as a user's project would run it."""
    return black.format_str(source, mode=black.Mode())


def linemap(text: str) -> dict[int, tuple[str, int, str]]:
    """Python line -> (script file, script line, route) from the markers in `text`."""
    out: dict[int, tuple[str, int, str]] = {}
    route = "<top level>"
    for number, line in enumerate(text.splitlines(), start=1):
        m = _MARKER.search(line)
        if m is None:
            continue
        if _DEF.match(line) and m.group("route"):
            route = m.group("route")
        out[number] = (m.group("file"), int(m.group("line")), route)
    return out


def finish(source: str) -> str:
    """Format `source` and append its line map."""
    formatted = format_source(source)
    mapping = linemap(formatted)
    lines = ["", "", "__sipc_linemap__: dict[int, tuple[str, int, str]] = {"]
    for py_line in sorted(mapping):
        file, line, route = mapping[py_line]
        lines.append(f"    {py_line}: ({_dq(file)}, {line}, {_dq(route)}),")
    lines += ["}", "", ""]
    # The map goes after the routes, so the line numbers it holds stay true, and before the
    # `if __name__ == "__main__":` block, which never returns.
    head, sep, main_block = formatted.partition('\nif __name__ == "__main__":')
    text = head.rstrip("\n") + "\n" + "\n".join(lines) + sep.lstrip("\n") + main_block
    # black once more for the map itself (long paths wrap); the code above it is already
    # formatted, so its lines, and the numbers in the map, stay where they are.
    return format_source(text)


def _dq(text: str) -> str:
    """A Python string literal in black's double-quote style."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
