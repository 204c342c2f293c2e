"""The regex fast paths must agree with the general parsers wherever they apply."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.sip import SipParseError
from runtime.sip.headers import (
    parse_name_addr,
    parse_name_addr_general,
    parse_via,
    parse_via_general,
)
from runtime.sip.lexical import parse_params, parse_params_general
from runtime.sip.uri import parse_uri, parse_uri_general

SEEDS = {
    "uri": [
        "sip:alice@example.com",
        "sips:bob:pw@10.0.0.1:5061;transport=tcp;lr",
        "sip:5753606;context=private@10.1.10.1",
        "sip:host.example.com:5060;maddr=1.2.3.4",
    ],
    "via": [
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport",
        "SIP/2.0/TCP host.example.com;received=10.0.0.1;rport=5060;ttl=3",
    ],
    "name_addr": [
        '"Alice" <sip:alice@example.com>;tag=1',
        "Bob Smith <sip:bob@b.example.com;lr>",
        "<sip:c@d:5070>;expires=60;q=0.5",
        "caller<sip:caller@example.com>;tag=323",
    ],
    "params": [";branch=z9hG4bK1;rport", ";lr;ftag=abc;maddr=[2001:db8::1]"],
}
ALPHABET = "aZ09.-_:;=@<>\"' ,%[]?/+~*!"


def outcome(parse: Callable[[str], object], text: str) -> object:
    try:
        result = parse(text)
    except SipParseError:
        return "error"
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return repr(dataclasses.astuple(result))
    return repr(result)


def mutate(seed: str, edits: list[tuple[int, str]]) -> str:
    text = seed
    for at, insert in edits:
        position = at % (len(text) + 1)
        text = text[:position] + insert + text[position + 1 :] if insert else text[:position] + text[position + 1 :]
    return text


EDITS = st.lists(st.tuples(st.integers(0, 200), st.text(ALPHABET, max_size=2)), max_size=4)


Parser = Callable[[str], object]
PAIRS: dict[str, tuple[Parser, Parser]] = {
    "uri": (parse_uri, parse_uri_general),
    "via": (parse_via, parse_via_general),
    "name_addr": (parse_name_addr, parse_name_addr_general),
    "params": (parse_params, parse_params_general),
}


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(SEEDS)), data=st.data(), edits=EDITS)
def test_fast_and_general_parsers_agree(
    kind: str, data: st.DataObject, edits: list[tuple[int, str]]
) -> None:
    fast, general = PAIRS[kind]
    text = mutate(data.draw(st.sampled_from(SEEDS[kind])), edits)
    assert outcome(fast, text) == outcome(general, text), text


def test_seeds_parse_the_same_on_both_paths() -> None:
    for kind, texts in SEEDS.items():
        fast, general = PAIRS[kind]
        for text in texts:
            assert outcome(fast, text) == outcome(general, text) != "error"
