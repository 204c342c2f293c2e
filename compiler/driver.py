"""The front end as one call: read a script, parse it, run the checks, keep what renderers need."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from compiler import check as checks
from compiler.ast import Span
from compiler.diagnostics import Diagnostic, RenderContext, make
from compiler.parse import ParseResult, parse_file, parse_text


@dataclass(slots=True)
class Analysis:
    parse: ParseResult
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    def render_context(self, *, color: bool = False) -> RenderContext:
        smap = self.parse.source_map
        return RenderContext(sources=smap.texts, include_chain=smap.include_chain, color=color)


def analyze(path: str, *, text: str | None = None, display: str | None = None) -> Analysis:
    """Parse and check one script file (or `text` standing for it)."""
    # Python's cycle collector would run hundreds of times while the tree grows and find
    # nothing to free: the tree has no cycles, and the passes' temporaries go when their
    # last reference does. So it waits until the analysis is done (~13% of a long script).
    # What the analysis made then goes to the oldest generation at once (freeze/unfreeze
    # moves lists, it does not look at objects), or the first collection after it would
    # walk the whole tree for nothing (~14 ms on 10,000 lines). Not when the process has
    # frozen objects of its own (the proxy does): unfreeze would let those go too.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze(path, text, display)
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if collecting:
            gc.enable()


def _analyze(path: str, text: str | None, display: str | None) -> Analysis:
    if text is None:
        result = parse_file(path, display=display)
    else:
        result = parse_text(text, display or path, path=path)
    diagnostics = list(result.diagnostics)
    if result.script is not None:
        try:
            diagnostics.extend(checks.check(result.script, partial=result.partial))
        except RecursionError:
            span = result.script.span
            diagnostics.append(
                make(
                    "syntax",
                    Span(span.file, span.line, span.col, span.line, span.col + 1),
                    "the script nests statements too deeply to check",
                    help="split the logic into `route[...]` blocks",
                )
            )
    return Analysis(result, diagnostics)
