"""What sipc tells a user about a script: diagnostics, their codes, and how they are printed.

Passes collect `Diagnostic`s and never raise on a user's mistake. Messages follow rustc:
lowercase, no trailing period, code in backticks, the smallest span, and a separate `help:`
saying how to fix it. Every code is registered in `CODES` with a one-line description
(`sipc check --explain CODE` prints it).

Renderers are small classes, one per `--output-format`: `full` (rustc-like, with the
source line and a caret run), `concise` (one line), `json` (one object per line) and
`github` (workflow annotations).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from compiler.ast import Span
from compiler.records import record

Severity = Literal["error", "warning", "note"]


@record
class Note:
    """A secondary message, optionally pointing at another place (`first defined here`)."""

    message: str
    span: Span | None = None


@record
class Diagnostic:
    span: Span
    severity: Severity
    code: str
    message: str
    help: str | None = None
    notes: tuple[Note, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.col, self.code)


@record
class CodeInfo:
    severity: Severity
    summary: str


CODES: dict[str, CodeInfo] = {
    "syntax": CodeInfo("error", "the text does not follow the grammar of the language"),
    "slash-comment": CodeInfo("error", "`//` is not a comment in OpenSIPS scripts"),
    "not-utf8": CodeInfo(
        "warning", "a script file that is not UTF-8 text (its bad bytes read as U+FFFD)"
    ),
    "stray-character": CodeInfo(
        "warning", "a character the language has no use for, which OpenSIPS skips"
    ),
    "include-not-found": CodeInfo(
        "error", "an `include_file`/`import_file` names a file that cannot be read"
    ),
    "empty-route": CodeInfo("error", "a route body must hold at least one statement"),
    "unknown-global": CodeInfo(
        "error", "a top-level `name = value` whose name is not a core parameter"
    ),
    "global-value": CodeInfo("error", "a core parameter's value has the wrong form"),
    "deprecated-global": CodeInfo(
        "warning", "a core parameter that newer OpenSIPS versions renamed or removed"
    ),
    "unknown-route": CodeInfo("error", "a route name that no route block defines"),
    "duplicate-route": CodeInfo("error", "the same route is defined twice"),
    "route-name": CodeInfo(
        "error", "a route definition lacks a name it needs or has one it may not have"
    ),
    "unknown-variable": CodeInfo("error", "a pseudo-variable that neither OpenSIPS nor sipc knows"),
    "variable-syntax": CodeInfo("error", "a `$...` reference that cannot be read"),
    "unknown-transformation": CodeInfo(
        "error", "a `{class.name}` transformation that does not exist"
    ),
    "transformation-args": CodeInfo(
        "error", "a transformation called with the wrong number of arguments"
    ),
    "unreachable": CodeInfo(
        "warning", "a statement after `exit`, `return`, `drop` or `async()` never runs"
    ),
    "break-outside-loop": CodeInfo("error", "`break` outside `while`, `for` or `switch`"),
    "removed-function": CodeInfo("error", "a 2.x function that 3.x renamed or removed"),
    "bare-word": CodeInfo("error", "an unquoted word as a function argument (2.x syntax)"),
    "regex-operand": CodeInfo("error", "`=~`/`!~` need a string or a variable on the right"),
    "switch-default": CodeInfo(
        "error", "`default` must be the last item of a `switch` and appear once"
    ),
    "read-only-variable": CodeInfo(
        "error", "an assignment to a pseudo-variable that cannot be written"
    ),
    "foreach-iterator": CodeInfo("error", "a `for` iterator must be `$var`, `$avp` or `$json`"),
    "unknown-function": CodeInfo(
        "error", "a function that neither OpenSIPS's core nor a module sipc knows provides"
    ),
    "module-not-loaded": CodeInfo(
        "error", "a function or `modparam` of a module the script does not `loadmodule`"
    ),
    "unsupported-function": CodeInfo("error", "an OpenSIPS function sipc does not implement yet"),
    "unsupported": CodeInfo("error", "a construct the code generator cannot compile yet"),
    "unsupported-variable": CodeInfo(
        "error", "an OpenSIPS pseudo-variable sipc's runtime cannot read (or write) yet"
    ),
    "unsupported-transformation": CodeInfo(
        "error", "an OpenSIPS transformation sipc's runtime cannot apply yet"
    ),
    "unknown-modparam": CodeInfo("error", "a `modparam` name the module does not have"),
    "modparam-type": CodeInfo("error", "a `modparam` value of the wrong type (number vs string)"),
    "arity": CodeInfo(
        "error", "a function called with too many arguments or without a mandatory one"
    ),
    "arg-type": CodeInfo(
        "error", "an argument of the wrong kind (quoted number, variable where a literal is needed)"
    ),
    "regex": CodeInfo("error", "a regular expression argument that does not compile"),
    "not-async": CodeInfo(
        "error", "a function inside `async()`/`launch()` that is not exported for async use"
    ),
    "async-only": CodeInfo(
        "error", "a function that runs only through `async()`/`launch()`, called directly"
    ),
    "type-mismatch": CodeInfo(
        "error", "an operation whose operand types OpenSIPS rejects or mishandles at run time"
    ),
    "precedence": CodeInfo(
        "warning", "operators mixed without parentheses, where OpenSIPS's precedence surprises"
    ),
    "route-context": CodeInfo(
        "error", "a function or variable used in a route kind where it is not allowed"
    ),
    "use-before-set": CodeInfo(
        "warning", "a `$var` read before any assignment on some path through the route"
    ),
}


def make(
    code: str,
    span: Span,
    message: str,
    *,
    help: str | None = None,
    notes: Iterable[Note] = (),
    severity: Severity | None = None,
) -> Diagnostic:
    """Build a diagnostic with the severity its code is registered with."""
    info = CODES[code]
    return Diagnostic(span, severity or info.severity, code, message, help, tuple(notes))


# ---------------------------------------------------------------------------- renderers


@dataclass(slots=True)
class RenderContext:
    """What a renderer may need beyond the diagnostic: source lines and include sites."""

    sources: Mapping[str, str] = field(default_factory=dict)
    include_chain: Callable[[str], list[Span]] = lambda _file: []
    color: bool = False

    def line_text(self, file: str, line: int) -> str | None:
        text = self.sources.get(file)
        if text is None:
            return None
        lines = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None


_STYLE = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m"}
_BOLD, _BLUE, _RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[0m"


class FullRenderer:
    """rustc-like: header, `-->` location, the source lines with carets, then help and notes."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def _c(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.ctx.color else text

    def render(self, d: Diagnostic) -> str:
        out: list[str] = []
        head = self._c(_STYLE[d.severity], f"{d.severity}[{d.code}]")
        out.append(f"{head}{self._c(_BOLD, ': ' + d.message)}")
        gutter_width = len(str(max(d.span.end_line, d.span.line)))
        pad = " " * gutter_width
        out.append(f"{pad}{self._c(_BLUE, '-->')} {d.span.file}:{d.span.line}:{d.span.col}")
        out.extend(self._snippet(d.span, gutter_width))
        for site in self.ctx.include_chain(d.span.file):
            out.append(f"{pad} {self._c(_BLUE, '=')} note: in a file included from {site}")
        if d.help:
            out.append(f"{pad} {self._c(_BLUE, '=')} help: {d.help}")
        for note in d.notes:
            where = f" (at {note.span})" if note.span is not None else ""
            out.append(f"{pad} {self._c(_BLUE, '=')} note: {note.message}{where}")
        return "\n".join(out)

    def _snippet(self, span: Span, width: int) -> list[str]:
        bar = self._c(_BLUE, "|")
        lines = [f"{' ' * width} {bar}"]
        last = max(span.end_line, span.line)
        shown = list(range(span.line, last + 1))
        if len(shown) > 4:  # a long span: its first two and last line
            shown = [*shown[:2], -1, shown[-1]]
        for number in shown:
            if number == -1:
                lines.append(f"{'...':<{width}} {bar}")
                continue
            raw = self.ctx.line_text(span.file, number)
            if raw is None:
                continue
            lines.append(
                f"{self._c(_BLUE, str(number).rjust(width))} {bar} {raw.replace(chr(9), '    ')}"
            )
            start = span.col if number == span.line else _first_non_blank(raw)
            end = span.end_col if number == last else len(raw) + 1
            start_v = _visual_col(raw, start)
            end_v = max(_visual_col(raw, end), start_v + 1)
            carets = " " * (start_v - 1) + "^" * (end_v - start_v)
            lines.append(f"{' ' * width} {bar} {self._c(_STYLE['error'], carets)}")
        return lines


def _first_non_blank(text: str) -> int:
    return len(text) - len(text.lstrip()) + 1


def _visual_col(text: str, col: int) -> int:
    """Column `col` (1-based, characters) as displayed with tabs widened to 4 spaces."""
    prefix = text[: max(col - 1, 0)]
    return len(prefix.replace("\t", "    ")) + 1 + max(col - 1 - len(text), 0)


class ConciseRenderer:
    """`file:line:col: error: message  [code]`."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def render(self, d: Diagnostic) -> str:
        s = d.span
        return f"{s.file}:{s.line}:{s.col}: {d.severity}: {d.message}  [{d.code}]"


class JsonRenderer:
    """One JSON object per line, for editors and tools."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def render(self, d: Diagnostic) -> str:
        s = d.span
        obj = {
            "file": s.file,
            "line": s.line,
            "column": s.col,
            "end_line": s.end_line,
            "end_column": s.end_col,
            "severity": d.severity,
            "code": d.code,
            "message": d.message,
            "hint": d.help,
            "notes": [
                {"message": n.message, **({"location": str(n.span)} if n.span else {})}
                for n in d.notes
            ],
            "included_from": [str(site) for site in self.ctx.include_chain(s.file)],
        }
        return json.dumps(obj, ensure_ascii=False)


class GithubRenderer:
    """GitHub Actions workflow commands: `::error file=...,line=...::message`."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def render(self, d: Diagnostic) -> str:
        s = d.span
        level = {"error": "error", "warning": "warning", "note": "notice"}[d.severity]
        message = d.message + (f" (help: {d.help})" if d.help else "")
        props = (
            f"file={_gh_prop(s.file)},line={s.line},col={s.col},"
            f"endLine={s.end_line},endColumn={s.end_col},title={_gh_prop('sipc ' + d.code)}"
        )
        return f"::{level} {props}::{_gh_data(message)}"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


Renderer = FullRenderer | ConciseRenderer | JsonRenderer | GithubRenderer
RENDERERS: dict[str, type[Renderer]] = {
    "full": FullRenderer,
    "concise": ConciseRenderer,
    "json": JsonRenderer,
    "github": GithubRenderer,
}


def render_all(diagnostics: Iterable[Diagnostic], fmt: str, ctx: RenderContext) -> str:
    """Render diagnostics in file/line order; `full` separates them with blank lines."""
    renderer = RENDERERS[fmt](ctx)
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    joiner = "\n\n" if fmt == "full" else "\n"
    return joiner.join(renderer.render(d) for d in ordered)


def summary(diagnostics: Iterable[Diagnostic]) -> str:
    """`2 errors, 1 warning` (empty when there is nothing to say)."""
    errors = warnings = 0
    for d in diagnostics:
        if d.severity == "error":
            errors += 1
        elif d.severity == "warning":
            warnings += 1
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)
