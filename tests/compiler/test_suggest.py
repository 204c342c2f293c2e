"""`closest` answers what `difflib.get_close_matches(word, known, n=1, cutoff)` answers."""

from __future__ import annotations

import difflib
import random

import pytest

from compiler.check import functions, pvars, suggest

NAME_LISTS = {
    "functions": list(functions._ALL_FUNCTION_NAMES),
    "variables": list(pvars._ALL_PV_NAMES),
    "routes": [f"route_{i}_{j}" for i in range(12) for j in range(8)] + ["relay", "relay2"],
    "tiny": ["a", "", "ab", "ba", "abc", "ab"],
}


def misspelt(rng: random.Random, names: list[str]) -> str:
    if rng.random() < 0.2:
        return "".join(rng.choice("abcdefgh_") for _ in range(rng.randrange(0, 12)))
    word = list(rng.choice(names))
    for _ in range(rng.randrange(4)):
        where = rng.randrange(len(word) + 1)
        if rng.random() < 0.5 and word[where:]:
            del word[where]
        else:
            word.insert(where, rng.choice("abcdefghijklmnopqrstuvwxyz_0123456789"))
    return "".join(word)


@pytest.mark.parametrize("kind", NAME_LISTS)
def test_closest_is_difflibs_answer(kind: str) -> None:
    names = NAME_LISTS[kind]
    rng = random.Random(kind)
    for _ in range(150):
        word = misspelt(rng, names)
        for cutoff in (0.6, 0.75):
            suggest.forget()
            expected = difflib.get_close_matches(word, names, n=1, cutoff=cutoff)
            assert suggest.closest(word, names, cutoff) == (expected[0] if expected else None)
