"""Checker cases with the expectation written on the offending line, as mypy's test data does.

`# E: text  [code]` expects an error on that line whose message contains `text`;
`# W:` a warning. A case file passes when every expectation is met and nothing else is
reported.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

from compiler.driver import analyze

CASES = sorted((Path(__file__).parent / "check_cases").glob("*.cfg"))
_EXPECT = re.compile(r"#\s*([EW]):\s*(.+?)\s+\[([a-z-]+)\]\s*$")


def expectations(path: Path) -> list[tuple[int, str, str, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            severity = "error" if m.group(1) == "E" else "warning"
            out.append((number, severity, m.group(3), m.group(2)))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_check_case(case: Path) -> None:
    got = [(d.span.line, d.severity, d.code, d.message) for d in analyze(str(case)).diagnostics]
    missing = []
    for line, severity, code, text in expectations(case):
        match = next(
            (g for g in got if g[0] == line and g[1] == severity and g[2] == code and text in g[3]),
            None,
        )
        if match is None:
            missing.append(f"line {line}: expected {severity} [{code}] {text!r}")
        else:
            got.remove(match)
    unexpected = [f"line {g[0]}: {g[1]} [{g[2]}] {g[3]}" for g in got]
    assert not missing and not unexpected, "\n".join([*missing, "unexpected:", *unexpected])


def test_cases_exist() -> None:
    assert len(CASES) >= 4
    assert all(expectations(c) for c in CASES)


def test_analyze_gives_the_cycle_collector_back_as_it_found_it() -> None:
    analyze("x.cfg", text="route { exit; }\n")
    assert gc.isenabled()
    gc.disable()
    try:
        analyze("x.cfg", text="route { exit; }\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
