"""record_route and loose_route on parsed requests (RFC 3261 §16.4, §16.6, §16.12)."""

from __future__ import annotations

from runtime.api import Ctx
from runtime.core.sipfields import split_commas
from stdlib._modules import set_modparam
from stdlib.rr import (
    add_rr_param,
    check_route_param,
    is_direction,
    loose_route,
    record_route,
    record_route_preset,
)
from stdlib.testing import context

OURS = "192.0.2.10"


def route_set(ctx: Ctx) -> list[str]:
    """The Route values in order, however they are spread over header lines."""
    return [entry for value in ctx.msg.headers_named("Route") for entry in split_commas(value)]


def request(
    method: str = "BYE",
    ruri: str = "sip:bob@client.example.com:5070",
    routes: tuple[str, ...] = (),
    to_tag: str | None = "b2",
    from_tag: str = "a1",
) -> str:
    route_lines = "".join(f"Route: {value}\n" for value in routes)
    to_params = f";tag={to_tag}" if to_tag else ""
    return (
        f"{method} {ruri} SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKrr1\n"
        "Max-Forwards: 70\n"
        f"{route_lines}"
        f"From: <sip:alice@example.org>;tag={from_tag}\n"
        f"To: <sip:bob@example.com>{to_params}\n"
        "Call-ID: rr-1\n"
        f"CSeq: 2 {method}\n"
        "Content-Length: 0\n\n"
    )


# ---------------------------------------------------------------------------- record_route


def test_record_route_puts_our_lr_uri_with_ftag_on_top() -> None:
    ctx, _ = context(request("INVITE", to_tag=None))
    assert record_route(ctx) == 1
    lines = ctx.msg.to_bytes().split(b"\r\n")
    assert lines[1] == f"Record-Route: <sip:{OURS}:5060;lr;ftag=a1>".encode()
    assert record_route(ctx) == -1  # once per request
    assert ctx.msg.to_bytes().count(b"Record-Route") == 1


def test_record_route_params_and_add_rr_param_before_and_after() -> None:
    ctx, _ = context(request("INVITE", to_tag=None))
    assert add_rr_param(ctx, "early=1") == 1
    assert record_route(ctx, ";nat=yes") == 1
    assert add_rr_param(ctx, ";late=2") == 1
    assert ctx.msg.header("Record-Route") == f"<sip:{OURS}:5060;lr;ftag=a1;early=1;nat=yes;late=2>"


def test_record_route_without_fromtag_modparam() -> None:
    set_modparam("rr", "append_fromtag", 0)
    ctx, _ = context(request("INVITE", to_tag=None))
    record_route(ctx)
    assert ctx.msg.header("Record-Route") == f"<sip:{OURS}:5060;lr>"


def test_record_route_preset_and_double_rr() -> None:
    ctx, _ = context(request("INVITE", to_tag=None))
    assert record_route_preset(ctx, "203.0.113.5:5080", "10.0.0.1") == 1
    assert ctx.msg.headers_named("Record-Route") == [
        "<sip:203.0.113.5:5080;lr;ftag=a1>",
        "<sip:10.0.0.1;lr;ftag=a1>",
    ]
    set_modparam("rr", "enable_double_rr", 0)
    ctx, _ = context(request("INVITE", to_tag=None))
    assert record_route_preset(ctx, "203.0.113.5", "10.0.0.1") == -1
    assert ctx.msg.header("Record-Route") is None


# ---------------------------------------------------------------------------- loose_route


def test_no_route_header() -> None:
    ctx, _ = context(request())
    assert loose_route(ctx) == -1
    assert ctx.du is None


def test_our_route_is_removed_and_next_loose_hop_goes_to_du() -> None:
    ctx, _ = context(request(routes=(f"<sip:{OURS};lr;ftag=a1>", "<sip:p2.example.com;lr>")))
    assert loose_route(ctx) == 1
    assert route_set(ctx) == ["<sip:p2.example.com;lr>"]
    assert ctx.du == "sip:p2.example.com;lr"
    assert ctx.ruri == "sip:bob@client.example.com:5070"  # unchanged by loose routing


def test_route_entries_sharing_one_header_line() -> None:
    ctx, _ = context(request(routes=(f"<sip:{OURS}:5060;lr>, <sip:p2.example.com;lr>",)))
    assert loose_route(ctx) == 1
    assert route_set(ctx) == ["<sip:p2.example.com;lr>"]


def test_only_our_route_in_dialog() -> None:
    ctx, _ = context(request(routes=(f"<sip:{OURS};lr>",)))
    assert loose_route(ctx) == 1
    assert ctx.msg.header("Route") is None
    assert ctx.du is None


def test_preloaded_request_whose_only_route_is_ours() -> None:
    ctx, _ = context(request("INVITE", routes=(f"<sip:{OURS};lr>",), to_tag=None))
    assert loose_route(ctx) == -1
    assert ctx.msg.header("Route") is None  # removed all the same


def test_foreign_top_route_is_followed_without_removal() -> None:
    ctx, _ = context(request(routes=("<sip:edge.example.net;lr>",)))
    assert loose_route(ctx) == 1
    assert ctx.du == "sip:edge.example.net;lr"
    assert route_set(ctx) == ["<sip:edge.example.net;lr>"]


def test_next_hop_is_a_strict_router() -> None:
    ctx, _ = context(
        request(routes=(f"<sip:{OURS};lr>", "<sip:strict.example.net>", "<sip:p3.example.net;lr>"))
    )
    assert loose_route(ctx) == 1
    # the strict router becomes the R-URI, the R-URI goes to the end of the Route set
    assert ctx.ruri == "sip:strict.example.net"
    assert route_set(ctx) == [
        "<sip:p3.example.net;lr>",
        "<sip:bob@client.example.com:5070>",
    ]
    assert ctx.du is None
    assert ctx.msg.to_bytes().startswith(b"BYE sip:strict.example.net SIP/2.0\r\n")


def test_previous_hop_was_a_strict_router() -> None:
    # a strict router put our Record-Route into the R-URI; the target is the last Route
    ctx, _ = context(
        request(
            ruri=f"sip:{OURS};lr;ftag=a1;nat=yes",
            routes=("<sip:p2.example.com;lr>", "<sip:bob@client.example.com:5070>"),
        )
    )
    assert loose_route(ctx) == 1
    assert ctx.ruri == "sip:bob@client.example.com:5070"
    assert route_set(ctx) == ["<sip:p2.example.com;lr>"]
    assert ctx.du == "sip:p2.example.com;lr"
    assert check_route_param(ctx, "nat=yes") == 1


def test_check_route_param_and_direction_read_our_route() -> None:
    ctx, _ = context(request(routes=(f"<sip:{OURS};lr;ftag=a1;nat=yes>",), from_tag="a1"))
    assert check_route_param(ctx, "nat=yes") == -1  # nothing routed yet
    assert loose_route(ctx) == 1
    assert check_route_param(ctx, "NAT=yes") == 1  # regex params are case-insensitive
    assert check_route_param(ctx, "foo=") == -1
    assert is_direction(ctx, "downstream") == 1
    assert is_direction(ctx, "upstream") == -1

    # the callee's BYE: its From tag is the callee's, not the ftag
    ctx, _ = context(request(routes=(f"<sip:{OURS};lr;ftag=a1>",), from_tag="b2", to_tag="a1"))
    assert loose_route(ctx) == 1
    assert is_direction(ctx, "upstream") == 1
    assert is_direction(ctx, "downstream") == -1
    assert is_direction(ctx, "sideways") == -1


def test_a_route_set_seen_before_routes_the_same() -> None:
    # what parsing a Route set and an R-URI gave is kept by their text: the second
    # request takes it from there and must come out exactly as the first
    routes = (f"<sip:{OURS};lr;ftag=a1;nat=yes>", "<sip:p2.example.com;lr>", "<sip:p3;lr>")
    results = []
    for _ in range(2):
        ctx, _ = context(request(routes=routes))
        assert loose_route(ctx) == 1
        results.append((ctx.du, ctx.ruri, route_set(ctx), check_route_param(ctx, "nat=yes")))
    assert results[0] == results[1] == (
        "sip:p2.example.com;lr",
        "sip:bob@client.example.com:5070",
        ["<sip:p2.example.com;lr>", "<sip:p3;lr>"],
        1,
    )


def test_which_routes_are_ours_is_asked_every_time() -> None:
    # a Route set seen before is not remembered as ours or not: an address that becomes
    # ours (an alias) is consumed from then on
    route = "<sip:198.51.100.99;lr>"
    ctx, core = context(request(routes=(route,)))
    assert loose_route(ctx) == 1
    assert ctx.du == "sip:198.51.100.99;lr"
    assert route_set(ctx) == [route]

    ctx, core = context(request(routes=(route,)))
    core.local = (*core.local, ("198.51.100.99", 5060))
    assert loose_route(ctx) == 1
    assert ctx.du is None
    assert ctx.msg.header("Route") is None


def test_an_unparsable_route_set_is_no_route_set() -> None:
    for _ in range(2):  # not remembered: refused again
        ctx, _ = context(request(routes=("<sip:[bad;lr>",)))
        assert loose_route(ctx) == -1
        assert ctx.msg.header("Route") == "<sip:[bad;lr>"


def test_a_line_break_from_the_message_is_no_record_route() -> None:
    # A bare CR is left in a header value by the parser; the From tag carries it here.
    ctx, _ = context(request("INVITE", to_tag=None, from_tag="a1\rX"))
    assert record_route(ctx) == -1
    assert add_rr_param(ctx, ";p=a\nb") == -1
    assert record_route_preset(ctx, "192.0.2.10:5060;x=\r") == -1
    assert b"Record-Route" not in ctx.msg.to_bytes()
