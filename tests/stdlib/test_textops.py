"""textops: search, replace and sed-like subst over parsed messages."""

from __future__ import annotations

import pytest

from stdlib._regex import SubstSyntaxError, compile_regex, parse_subst
from stdlib.testing import context
from stdlib.textops import (
    replace,
    replace_all,
    replace_body,
    replace_body_all,
    search,
    search_append,
    search_append_body,
    search_body,
    subst,
    subst_body,
    subst_uri,
    subst_user,
)

INVITE = """
INVITE sip:0049301234@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: <sip:0049301234@example.com>
From: Alice <sip:alice@example.org>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.org
CSeq: 314159 INVITE
User-Agent: OldPhone/1.0 (build 77)
Content-Type: application/sdp
Content-Length: 42

v=0
c=IN IP4 10.0.0.5
m=audio 4000 RTP/AVP 0
"""


def test_search_covers_the_whole_message_case_insensitively() -> None:
    ctx, _ = context(INVITE)
    assert search(ctx, "^invite sip:") == 1
    assert search(ctx, "oldphone/[[:digit:]]+") == 1
    assert search(ctx, "^Route:") == -1
    assert search_body(ctx, "c=IN IP4 10\\.") == 1
    assert search_body(ctx, "video") == -1


def test_search_append_inserts_after_the_match() -> None:
    ctx, _ = context(INVITE)
    assert search_append(ctx, "OldPhone/1\\.0", " patched") == 1
    assert ctx.msg.header("User-Agent") == "OldPhone/1.0 patched (build 77)"
    assert search_append(ctx, "NoSuchText", "x") == -1
    assert search_append_body(ctx, "v=0\n", "o=- 1 1 IN IP4 10.0.0.5\n") == 1
    assert ctx.msg.body.startswith(b"v=0\no=- 1 1 IN IP4 10.0.0.5\nc=IN")


def test_replace_starts_after_the_request_line() -> None:
    ctx, _ = context(INVITE)
    # the R-URI also holds the number, but replace() only sees the headers and body
    assert replace(ctx, "0049301234", "+49301234") == 1
    wire = ctx.msg.to_bytes()
    assert wire.startswith(b"INVITE sip:0049301234@example.com SIP/2.0")
    assert ctx.msg.header("To") == "<sip:+49301234@example.com>"


def test_replace_all_and_plain_text_replacement() -> None:
    ctx, _ = context(INVITE)
    assert replace_all(ctx, "example\\.(com|org)", "ex\\1") == 1
    assert ctx.msg.header("To") == "<sip:0049301234@ex\\1>"  # no back-references in replace
    assert ctx.msg.header("From") == "Alice <sip:alice@ex\\1>;tag=1928301774"


def test_body_replacements_keep_content_length_right() -> None:
    ctx, _ = context(INVITE)
    assert replace_body(ctx, "10\\.0\\.0\\.5", "203.0.113.200") == 1
    body = ctx.msg.body
    assert b"c=IN IP4 203.0.113.200\n" in body
    assert ctx.msg.header("Content-Length") == str(len(body))
    assert replace_body_all(ctx, "audio 4000", "audio 5000") == 1
    assert replace_body(ctx, "video", "x") == -1
    wire = ctx.msg.to_bytes()
    assert wire.endswith(b"\r\n\r\n" + ctx.msg.body) and b"audio 5000" in wire


def test_subst_with_back_references_on_headers() -> None:
    ctx, _ = context(INVITE)
    # `.` matches the CR of a header line (as in POSIX), so stop the match before it
    assert subst(ctx, r"/^User-Agent: ([a-z]+)\/([0-9.]+)[^\r]*/User-Agent: \1 v\2/is") == 1
    assert ctx.msg.header("User-Agent") == "OldPhone v1.0"
    assert b"v1.0\r\nContent-Type" in ctx.msg.to_bytes()
    assert subst(ctx, "/nomatch/x/") == -1
    assert subst(ctx, "/broken/") == -1  # not /re/repl/flags: an error, reported as false


def test_subst_global_flag() -> None:
    ctx, _ = context(INVITE)
    assert subst(ctx, "/example\\.com/example.net/g") == 1
    assert ctx.msg.header("To") == "<sip:0049301234@example.net>"
    # without g only the first occurrence after the request line changes
    ctx, _ = context(INVITE)
    assert subst(ctx, "/IP4/IP6/") == 1
    assert ctx.msg.body.count(b"IP6") == 1


def test_subst_uri_and_subst_user() -> None:
    ctx, _ = context(INVITE)
    assert subst_uri(ctx, "/^sip:00([0-9]+)@(.*)$/sip:+\\1@\\2/") == 1
    assert ctx.ruri == "sip:+49301234@example.com"
    assert ctx.msg.to_bytes().startswith(b"INVITE sip:+49301234@example.com SIP/2.0")
    assert subst_user(ctx, "/^\\+49/0/") == 1
    assert ctx.ruri_user == "0301234"
    assert subst_user(ctx, "/^999/0/") == -1


def test_subst_body() -> None:
    ctx, _ = context(INVITE)
    assert subst_body(ctx, "/m=audio ([0-9]+)/m=audio 6\\1/") == 1
    assert b"m=audio 64000 " in ctx.msg.body
    assert ctx.msg.header("Content-Length") == str(len(ctx.msg.body))


def test_parse_subst_forms() -> None:
    parsed = parse_subst("#a/b#x\\#y#g")  # another delimiter, escaped inside the replacement
    assert parsed.replace_all and parsed.apply("a/b a/b") == ("x#y x#y", 2)
    assert parse_subst("/(a)(b)/\\2\\1\\\\/").apply("ab") == ("ba\\", 1)
    assert parse_subst("/A/b/i").apply("a") == ("b", 1)
    assert parse_subst("/A/b/").apply("a") == ("a", 0)  # case-sensitive without i
    assert parse_subst("/^b/x/").apply("a\nb") == ("a\nb", 0)  # ^ anchors the text
    assert parse_subst("/^b/x/s").apply("a\nb") == ("a\nx", 1)  # s: newline-sensitive
    for bad in ("/x/", "/x/y/q", "/(x/y/", "/x/\\3/"):
        with pytest.raises(SubstSyntaxError):
            parse_subst(bad)


def test_regex_parameters_are_case_insensitive_and_line_anchored() -> None:
    pattern = compile_regex("^to: [[:alpha:]]+$")
    assert pattern.search("From: x\nTO: bob\nCSeq: 1")
    assert compile_regex("[[:space:]]x").search("a\tx")
    assert compile_regex("abc") is compile_regex("abc")  # compiled once


def test_subst_replacement_reads_variables_at_each_call() -> None:
    ctx, _ = context(INVITE)
    ctx.var_set("cc", "49")
    assert subst_uri(ctx, "/^sip:00[0-9][0-9]([0-9]+)@(.*)$/sip:+$var(cc)\\1@$fd/") == 1
    assert ctx.ruri == "sip:+49301234@example.org"
    ctx.avp_push("tag", "x1")
    assert subst(ctx, "/^(User-Agent: [^\\r]*)/\\1 [$avp(tag)] $$5/s") == 1
    assert ctx.msg.header("User-Agent") == "OldPhone/1.0 (build 77) [x1] $5"


def test_subst_keeps_unknown_variables_as_written() -> None:
    parsed = parse_subst("/a/$nosuch(x)-$$/")
    assert parsed.apply("a") == ("$nosuch(x)-$", 1)
    ctx, _ = context(INVITE)
    assert subst_user(ctx, "/^00/$no_such_var_here/") == 1
    assert ctx.ruri_user == "$no_such_var_here49301234"


def test_subst_uri_and_subst_user_fail_on_what_cannot_be_a_request_uri() -> None:
    ctx, _ = context(INVITE)
    before = ctx.ruri
    assert subst_uri(ctx, "/^sip:/sip :/") == -1
    assert subst_user(ctx, "/^(.*)$/\\1 x/") == -1
    assert ctx.ruri == before
