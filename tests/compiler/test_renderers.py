"""Golden outputs of every diagnostic renderer.

Each folder of golden/diagnostics holds `input.cfg` (and what it includes) and the expected
output of `full`, `concise`, `json` and `github`. `pytest --update-goldens` rewrites them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.diagnostics import RENDERERS, render_all
from compiler.driver import analyze

GOLDEN = Path(__file__).parent / "golden" / "diagnostics"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "input.cfg").is_file())


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_renderer_golden(
    case: Path, fmt: str, update_goldens: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case)
    analysis = analyze("input.cfg")
    assert analysis.diagnostics, "a golden case must produce diagnostics"
    got = render_all(analysis.diagnostics, fmt, analysis.render_context()) + "\n"
    expected_file = case / f"{fmt}.txt"
    if update_goldens or not expected_file.exists():
        expected_file.write_text(got, encoding="utf-8")
    assert got == expected_file.read_text(encoding="utf-8")


def test_full_output_shows_a_span_over_several_lines() -> None:
    lines = (GOLDEN / "multiline" / "full.txt").read_text(encoding="utf-8").splitlines()
    shown = [ln.split(" |", 1)[0].strip() for ln in lines if " |" in ln]
    assert {"3", "4", "5"} <= set(shown)  # every line of the `if`, each with its carets


def test_error_in_an_included_file_shows_the_include_chain() -> None:
    full = (GOLDEN / "include" / "full.txt").read_text(encoding="utf-8")
    assert "--> inc/relay.cfg:2:" in full
    assert "included from input.cfg:2:1" in full
    concise = (GOLDEN / "include" / "concise.txt").read_text(encoding="utf-8")
    assert concise.startswith("inc/relay.cfg:2:")


def test_color_wraps_the_header_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN / "basic")
    analysis = analyze("input.cfg")
    plain = render_all(analysis.diagnostics, "full", analysis.render_context(color=False))
    colored = render_all(analysis.diagnostics, "full", analysis.render_context(color=True))
    assert "\x1b[" not in plain and "\x1b[1;31merror[unknown-global]" in colored
