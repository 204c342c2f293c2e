"""`did you mean ...?`: the closest known name to a misspelt one, as difflib finds it.

Scripts repeat their mistakes (a route called from ten places that is never defined), so
each question is answered once per `check()` run: `forget()` starts a run afresh.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_ANSWERS: dict[tuple[str, tuple[str, ...], float], str | None] = {}


def forget() -> None:
    """Drop the answers of the previous run."""
    _ANSWERS.clear()


def closest(word: str, known: Iterable[str], cutoff: float) -> str | None:
    """`difflib.get_close_matches(word, known, n=1, cutoff=cutoff)`, or None when empty."""
    candidates = tuple(known)
    key = (word, candidates, cutoff)
    if key in _ANSWERS:
        return _ANSWERS[key]
    # difflib's first test of each candidate (real_quick_ratio, which only compares
    # lengths) done here in one pass; those that fail it it would skip anyway.
    size = len(word)
    likely = [c for c in candidates if _length_ratio(size, len(c)) >= cutoff]
    found = difflib.get_close_matches(word, likely, n=1, cutoff=cutoff)
    answer = _ANSWERS[key] = found[0] if found else None
    return answer


def _length_ratio(a: int, b: int) -> float:
    """SequenceMatcher.real_quick_ratio() of strings of these lengths."""
    return 2.0 * min(a, b) / (a + b) if a + b else 1.0
