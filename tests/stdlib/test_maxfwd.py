"""mf_process_maxfwd_header / is_maxfwd_lt on parsed requests."""

from __future__ import annotations

from stdlib._modules import set_modparam
from stdlib.maxfwd import is_maxfwd_lt, mf_process_maxfwd_header
from stdlib.testing import context


def options(maxfwd: str | None) -> str:
    line = f"Max-Forwards: {maxfwd}\n" if maxfwd is not None else ""
    return (
        "OPTIONS sip:bob@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKmf1\n"
        f"{line}"
        "From: <sip:alice@example.org>;tag=a1\n"
        "To: <sip:bob@example.com>\n"
        "Call-ID: mf-1\n"
        "CSeq: 1 OPTIONS\n"
        "Content-Length: 0\n\n"
    )


def test_missing_header_is_added_first_with_the_given_value() -> None:
    ctx, _ = context(options(None))
    assert mf_process_maxfwd_header(ctx, 10) == 2
    lines = ctx.msg.to_bytes().split(b"\r\n")
    assert lines[1] == b"Max-Forwards: 10"
    assert ctx.maxfwd_done


def test_value_is_decremented_in_place() -> None:
    ctx, _ = context(options("70"))
    assert mf_process_maxfwd_header(ctx, 10) == 1
    wire = ctx.msg.to_bytes()
    assert b"Max-Forwards: 69\r\n" in wire and wire.count(b"Max-Forwards") == 1
    assert wire.index(b"Max-Forwards") < wire.index(b"From:")  # still where it was


def test_zero_means_too_many_hops_and_nothing_changes() -> None:
    ctx, _ = context(options("0"))
    before = ctx.msg.to_bytes()
    assert mf_process_maxfwd_header(ctx, 10) == -1
    assert ctx.msg.to_bytes() == before
    assert not ctx.maxfwd_done


def test_value_over_the_limit_is_lowered_before_decrementing() -> None:
    set_modparam("maxfwd", "max_limit", 16)
    ctx, _ = context(options("70"))
    assert mf_process_maxfwd_header(ctx, 10) == 1
    assert ctx.msg.header("Max-Forwards") == "15"


def test_bad_values_are_errors() -> None:
    ctx, _ = context(options("many"))
    assert mf_process_maxfwd_header(ctx, 10) == -2
    ctx, _ = context(options("5"))
    assert mf_process_maxfwd_header(ctx, 0) == -2
    assert mf_process_maxfwd_header(ctx, 300) == -2  # above 256


def test_is_maxfwd_lt() -> None:
    ctx, _ = context(options("5"))
    assert is_maxfwd_lt(ctx, 6) == 1
    assert is_maxfwd_lt(ctx, 5) == -1
    ctx, _ = context(options(None))
    assert is_maxfwd_lt(ctx, 5) == -2
    ctx, _ = context(options("x"))
    assert is_maxfwd_lt(ctx, 5) == -3
