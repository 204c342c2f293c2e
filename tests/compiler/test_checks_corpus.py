"""The registry-driven checks over the whole OpenSIPS corpus (../shared/corpus/opensips).

No pass may raise on any file; every message keeps the house style; and a 3.x script that
calls only functions sipc implements checks clean once the `loadmodule` lines the
documentation snippets leave out are added — except the snippets' own mistakes, listed
below with what is wrong with them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from compiler import ast
from compiler.check.walk import iter_nodes
from compiler.diagnostics import Diagnostic
from compiler.driver import Analysis, analyze
from stdlib import MODULES, REGISTRY
from tests.compiler.corpus import CORPUS, CorpusFile, scripts

REGISTRY_CODES = frozenset(
    {
        "unknown-function",
        "module-not-loaded",
        "unsupported-function",
        "unknown-modparam",
        "modparam-type",
        "arity",
        "arg-type",
        "regex",
        "not-async",
        "async-only",
        "type-mismatch",
        "precedence",
        "route-context",
        "use-before-set",
    }
)

# Mistakes of the snippets themselves, which OpenSIPS 3.x would report too.
SNIPPET_MISTAKES = {
    # `setflag(5)`: 3.x names flags with a string
    ("rr-9.cfg", "arg-type"),
    # an error_route snippet the corpus builder wrapped in a request route: `$err.*` is empty there
    ("signaling-1.cfg", "route-context"),
    # `t_check_status(183)`, `t_relay(0x1, ...)`, `t_replicate("sip:1.2.3.4",0x4)`: 2.x-style
    # numbers where 3.x takes a regex and a flags string
    ("tm-33.cfg", "arg-type"),
    ("tm-25.cfg", "arg-type"),
    ("tm-43.cfg", "arg-type"),
}


# What sipc cannot do yet rather than what is wrong: a parameter its module's table lacks
# (the generated module would refuse it at start-up, as the check says).
SIPC_LIMITS = frozenset({"unknown-modparam"})


@functools.cache
def _analyses() -> list[tuple[CorpusFile, Analysis]]:
    return [(f, analyze(str(f.path))) for f in scripts()]


def _require_corpus() -> None:
    if not scripts():
        pytest.skip(f"{CORPUS} is absent: the shared corpus is not beside this checkout")


def test_no_pass_raises_on_any_file() -> None:
    _require_corpus()
    assert len(_analyses()) == len(scripts())


def test_messages_keep_the_house_style() -> None:
    _require_corpus()
    ours: list[Diagnostic] = [
        d for _f, a in _analyses() for d in a.diagnostics if d.code in REGISTRY_CODES
    ]
    assert ours, "the corpus should give the registry passes something to say"
    for d in ours:
        assert not d.message.endswith("."), d.message
        assert not d.message[:1].isupper(), d.message
        if d.severity == "error":
            assert d.help, d.message


def _implemented_only(script: ast.Script) -> list[str] | None:
    """The modules a script's calls and modparams need, when all are implemented."""
    loaded = {i.module for i in script.items if isinstance(i, ast.LoadModule)}
    if not all(MODULES.get(m) for m in loaded):
        return None
    needed = {i.module.value for i in script.items if isinstance(i, ast.ModParam)}
    if not all(MODULES.get(m) for m in needed):
        return None
    for node in iter_nodes(script):
        if isinstance(node, ast.Call):
            spec = REGISTRY.get(node.name)
            if spec is None:
                return None
            needed.add(spec.module)
    return sorted(needed - loaded - {"core"})


def implemented_scripts() -> Iterator[tuple[CorpusFile, str]]:
    """3.x scripts whose calls sipc implements, with the `loadmodule` lines they lack added."""
    for f, analysis in _analyses():
        script = analysis.parse.script
        if not f.dialect.startswith("3") or script is None or analysis.parse.diagnostics:
            continue
        missing = _implemented_only(script)
        if missing is not None:
            yield f, "".join(f'loadmodule "{m}.so"\n' for m in missing) + f.path.read_text()


def test_scripts_with_implemented_functions_check_clean() -> None:
    _require_corpus()
    checked = 0
    unexpected: list[str] = []
    for f, text in implemented_scripts():
        completed = analyze(str(f.path), text=text)
        checked += 1
        for d in completed.diagnostics:
            if d.code in SIPC_LIMITS or (f.name, d.code) in SNIPPET_MISTAKES:
                continue
            if d.code in REGISTRY_CODES:
                unexpected.append(f"{f.name}:{d.span.line}: [{d.code}] {d.message}")
    assert checked > 50
    assert not unexpected, "\n".join(unexpected)
