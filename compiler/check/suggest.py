"""`did you mean ...?`: the closest known name to a misspelt one, as difflib finds it.

`closest(word, known, cutoff)` answers what `difflib.get_close_matches(word, known, n=1,
cutoff=cutoff)` answers: of the names whose `SequenceMatcher` ratio with `word` reaches
`cutoff`, the one with the highest `(ratio, name)`. It gets there with less work. difflib
tries every name with two cheap upper bounds of the ratio (the lengths; the letters in
common) before the ratio itself; here the bounds are computed more cheaply (a name's
letter counts are kept for the run), names are tried best bound first, and a name whose
bound is below the best ratio found cannot win, so it is not tried at all.

Scripts also repeat their mistakes (a route called from ten places that is never defined),
so each question is answered once per `check()` run: `forget()` starts a run afresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher

_ANSWERS: dict[tuple[str, tuple[str, ...], float], str | None] = {}
_LETTERS: dict[str, Counter[str]] = {}


def forget() -> None:
    """Drop the answers of the previous run."""
    _ANSWERS.clear()
    _LETTERS.clear()


def closest(word: str, known: Iterable[str], cutoff: float) -> str | None:
    """`difflib.get_close_matches(word, known, n=1, cutoff=cutoff)`, or None when empty."""
    candidates = tuple(known)
    key = (word, candidates, cutoff)
    if key not in _ANSWERS:
        _ANSWERS[key] = _closest(word, candidates, cutoff)
    return _ANSWERS[key]


def _closest(word: str, candidates: tuple[str, ...], cutoff: float) -> str | None:
    size = len(word)
    letters = Counter(word).items()
    # (real_quick_ratio, name), best first: an upper bound of the name's ratio
    bounded = sorted(
        ((_ratio(min(size, len(c)), size + len(c)), c) for c in candidates), reverse=True
    )
    matcher = SequenceMatcher()
    matcher.set_seq2(word)
    best: tuple[float, str] | None = None
    for bound, name in bounded:
        if bound < cutoff or (best is not None and bound < best[0]):
            break  # this bound and all after it: too low to pass, or to win
        counts = _LETTERS.get(name)
        if counts is None:
            counts = _LETTERS[name] = Counter(name)
        common = sum(min(n, counts[letter]) for letter, n in letters if letter in counts)
        quick = _ratio(common, size + len(name))  # SequenceMatcher.quick_ratio()
        if quick < cutoff or (best is not None and quick < best[0]):
            continue
        matcher.set_seq1(name)
        ratio = matcher.ratio()
        if ratio >= cutoff and (best is None or (ratio, name) > best):
            best = (ratio, name)
    return None if best is None else best[1]


def _ratio(matches: int, length: int) -> float:
    """difflib's `_calculate_ratio`."""
    return 2.0 * matches / length if length else 1.0
