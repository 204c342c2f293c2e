"""`did you mean ...?`: the closest known name to a misspelt one, as difflib finds it.

`closest(word, known, cutoff)` answers what `difflib.get_close_matches(word, known, n=1,
cutoff=cutoff)` answers: of the names whose `SequenceMatcher` ratio with `word` reaches
`cutoff`, the one with the highest `(ratio, name)`. It gets there with less work. difflib
tries every name with two cheap upper bounds of the ratio (the lengths; the letters in
common) before the ratio itself; here the bounds are computed more cheaply, names are tried
best bound first, and a name whose bound is below the best ratio found cannot win, so it is
not tried at all. The length bound is the same for all names of one length, so names are
grouped by length (once per list of names and run). For the letters in common, each letter
of a word is numbered by its occurrence (`aba` -> a1, b1, a2): what two words share of
these is, letter by letter, the smaller of the two counts, as difflib counts it. An index
from each numbered letter to the names that have it (made once per list and run) gives
every name's count for a word in one `Counter` update.

Scripts also repeat their mistakes (a route called from ten places that is never defined),
so each question is answered once per `check()` run: `forget()` starts a run afresh. The
indexes outlive a run: most lists are the same in every run (the registry's functions, the
pseudo-variables), so a process that checks many scripts indexes them once. At most
_MAX_INDEXES lists are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher
from itertools import chain

_ANSWERS: dict[tuple[str, tuple[str, ...], float], str | None] = {}
# Of a list of names: its names grouped by length, (length, names) shortest first; and
# each numbered letter -> the names that have it.
_Index = tuple[list[tuple[int, list[str]]], dict[tuple[str, int], list[str]]]
_INDEXES: dict[tuple[str, ...], _Index] = {}
_MAX_INDEXES = 32


def forget() -> None:
    """Drop the answers of the previous run (and the indexes, when there are many)."""
    _ANSWERS.clear()
    if len(_INDEXES) > _MAX_INDEXES:
        _INDEXES.clear()


def closest(word: str, known: Iterable[str], cutoff: float) -> str | None:
    """`difflib.get_close_matches(word, known, n=1, cutoff=cutoff)`, or None when empty."""
    candidates = tuple(known)
    key = (word, candidates, cutoff)
    if key not in _ANSWERS:
        _ANSWERS[key] = _closest(word, candidates, cutoff)
    return _ANSWERS[key]


def _closest(word: str, candidates: tuple[str, ...], cutoff: float) -> str | None:
    size = len(word)
    index = _INDEXES.get(candidates)
    if index is None:
        index = _INDEXES[candidates] = _index(candidates)
    groups, having = index
    # (real_quick_ratio, names): an upper bound of the ratio of each name, best first
    bounded = sorted(
        ((_ratio(min(size, length), size + length), names) for length, names in groups),
        key=lambda bound_names: bound_names[0],
        reverse=True,
    )
    nobody: list[str] = []
    common = Counter(chain.from_iterable(having.get(letter, nobody) for letter in _letters(word)))
    in_common = common.get
    matcher = SequenceMatcher()
    matcher.set_seq2(word)
    best: tuple[float, str] | None = None
    for bound, names in bounded:
        if bound < cutoff or (best is not None and bound < best[0]):
            break  # this bound and all after it: too low to pass, or to win
        length = size + len(names[0])
        floor = cutoff if best is None else max(cutoff, best[0])
        for name in names:
            # SequenceMatcher.quick_ratio(), as _ratio computes it
            quick = 2.0 * in_common(name, 0) / length if length else 1.0
            if quick < floor:
                continue
            matcher.set_seq1(name)
            ratio = matcher.ratio()
            if ratio >= cutoff and (best is None or (ratio, name) > best):
                best = (ratio, name)
                floor = max(cutoff, ratio)
    return None if best is None else best[1]


def _index(names: tuple[str, ...]) -> _Index:
    """`names` grouped by length, and each numbered letter -> the names that have it."""
    groups: dict[int, list[str]] = {}
    having: dict[tuple[str, int], list[str]] = {}
    for name in names:
        groups.setdefault(len(name), []).append(name)
        for letter in _letters(name):
            having.setdefault(letter, []).append(name)
    return sorted(groups.items()), having


def _letters(text: str) -> set[tuple[str, int]]:
    """The letters of `text`, each numbered by its occurrence: `aba` -> {a1, b1, a2}."""
    seen: dict[str, int] = {}
    out = set()
    for letter in text:
        n = seen[letter] = seen.get(letter, 0) + 1
        out.add((letter, n))
    return out


def _ratio(matches: int, length: int) -> float:
    """difflib's `_calculate_ratio`."""
    return 2.0 * matches / length if length else 1.0
