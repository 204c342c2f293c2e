"""sipmsgops on parsed messages: header edits as they appear on the wire, tests, R-URI params."""

from __future__ import annotations

import json

import pytest

from runtime.api import RouteKind
from stdlib._handles import PvHandle
from stdlib.sipmsgops import (
    append_hf,
    append_time,
    append_urihf,
    get_glob_headers_values,
    has_body,
    has_totag,
    insert_hf,
    is_method,
    is_present_hf,
    is_privacy,
    is_uri_user_e164,
    list_hdr_add_option,
    list_hdr_has_option,
    list_hdr_remove_option,
    remove_hf,
    remove_hf_glob,
    remove_hf_re,
    ruri_add_param,
    ruri_del_param,
    ruri_has_param,
    ruri_tel2sip,
    sip_to_json,
)
from stdlib.testing import context

INVITE = """
INVITE sip:+4930123456@gw.example.com;user=phone;transport=udp SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@example.com>
From: Alice <sip:alice@example.org>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.org
CSeq: 314159 INVITE
Supported: timer, 100rel
Privacy: id;header
X-Debug: 1
x-trace: abc
Contact: <sip:alice@198.51.100.7:5062>
Content-Type: application/sdp
Content-Length: 13

v=0
o=alice
"""

REPLY = """
SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds
To: Bob <sip:bob@example.com>;tag=8321234356
From: Alice <sip:alice@example.org>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.org
CSeq: 314159 INVITE
Content-Length: 0

"""


def test_append_hf_goes_after_the_last_header_and_keeps_the_body() -> None:
    ctx, _ = context(INVITE)
    assert append_hf(ctx, "P-Hint: outbound\r\n") == 1
    wire = ctx.msg.to_bytes()
    assert b"Content-Length: 13\r\nP-Hint: outbound\r\n\r\nv=0\no=alice\n" in wire
    assert is_present_hf(ctx, "P-Hint") == 1


def test_append_hf_after_an_anchor_header() -> None:
    ctx, _ = context(INVITE)
    assert append_hf(ctx, "P-A: 1", "Call-ID") == 1
    assert b"Call-ID: a84b4c76e66710@pc33.example.org\r\nP-A: 1\r\nCSeq:" in ctx.msg.to_bytes()
    assert append_hf(ctx, "P-B: 1", "No-Such") == -1


def test_insert_hf_at_the_top_or_before_a_header() -> None:
    ctx, _ = context(INVITE)
    assert insert_hf(ctx, "P-First: 1") == 1
    assert ctx.msg.to_bytes().split(b"\r\n")[1] == b"P-First: 1"
    assert insert_hf(ctx, "P-Before-From: 1", "From") == 1
    assert b"P-Before-From: 1\r\nFrom: Alice" in ctx.msg.to_bytes()


def test_append_urihf_wraps_the_current_ruri() -> None:
    ctx, _ = context(INVITE)
    ctx.ruri = "sip:carol@example.net"
    assert append_urihf(ctx, "P-Target: <", ">") == 1
    assert ctx.msg.header("P-Target") == "<sip:carol@example.net>"


def test_remove_hf_by_name_regex_and_glob() -> None:
    ctx, _ = context(INVITE)
    assert remove_hf(ctx, "x-debug") == 1
    assert remove_hf(ctx, "X-Debug") == -1
    assert b"X-Debug" not in ctx.msg.to_bytes()
    assert remove_hf_re(ctx, "^x-tr") == 1
    assert ctx.msg.header("x-trace") is None
    assert remove_hf_glob(ctx, "Supp*") == 1
    assert remove_hf_glob(ctx, "Nothing*") == -1
    assert ctx.msg.header("Supported") is None
    assert ctx.msg.header("From") is not None


def test_remove_hf_knows_compact_names() -> None:
    ctx, _ = context(INVITE.replace("Contact:", "m:"))
    assert remove_hf(ctx, "Contact") == 1
    assert b"\r\nm:" not in ctx.msg.to_bytes()


def test_is_method_single_and_lists() -> None:
    ctx, _ = context(INVITE)
    assert is_method(ctx, "INVITE") == 1
    assert is_method(ctx, "REGISTER|INVITE") == 1
    assert is_method(ctx, "invite") == 1
    assert is_method(ctx, "BYE,CANCEL") == -1
    assert is_method(ctx, "BYE|REGISTER") == -1
    reply, _ = context(REPLY, RouteKind.ONREPLY)
    assert is_method(reply, "INVITE|BYE") == 1  # the CSeq method of a reply


def test_has_totag_and_body() -> None:
    ctx, _ = context(INVITE)
    assert has_totag(ctx) == -1
    assert has_body(ctx) == 1
    assert has_body(ctx, "application/sdp") == 1
    assert has_body(ctx, "text/plain") == -1
    reply, _ = context(REPLY, RouteKind.ONREPLY)
    assert has_totag(reply) == 1
    assert has_body(reply) == -1


def test_list_header_options() -> None:
    ctx, _ = context(INVITE)
    assert list_hdr_has_option(ctx, "Supported", "100REL") == 1
    assert list_hdr_has_option(ctx, "Supported", "path") == -1
    assert list_hdr_add_option(ctx, "Supported", "path") == 1
    assert ctx.msg.header("Supported") == "timer, 100rel, path"
    assert list_hdr_remove_option(ctx, "Supported", "timer") == 1
    assert ctx.msg.header("Supported") == "100rel, path"
    assert list_hdr_remove_option(ctx, "Supported", "timer") == -1
    assert list_hdr_add_option(ctx, "Require", "timer") == -1


def test_is_privacy() -> None:
    ctx, _ = context(INVITE)
    assert is_privacy(ctx, "id") == 1
    assert is_privacy(ctx, "header") == 1
    assert is_privacy(ctx, "user") == -1


def test_append_time_adds_a_gmt_date() -> None:
    ctx, _ = context(INVITE)
    assert append_time(ctx) == 1
    date = ctx.msg.header("Date")
    assert date is not None and date.endswith(" GMT")


def test_ruri_params() -> None:
    ctx, _ = context(INVITE)
    assert ruri_has_param(ctx, "user") == 1
    assert ruri_has_param(ctx, "user", "phone") == 1
    assert ruri_has_param(ctx, "user", "ip") == -1
    assert ruri_has_param(ctx, "lr") == -1
    assert ruri_add_param(ctx, "npdi") == 1
    assert ctx.ruri == "sip:+4930123456@gw.example.com;user=phone;transport=udp;npdi"
    assert ruri_del_param(ctx, "transport") == 1
    assert ctx.ruri == "sip:+4930123456@gw.example.com;user=phone;npdi"
    assert ruri_del_param(ctx, "transport") == -1
    assert ctx.msg.to_bytes().startswith(
        b"INVITE sip:+4930123456@gw.example.com;user=phone;npdi SIP/2.0"
    )


def test_ruri_tel2sip() -> None:
    ctx, _ = context(
        INVITE.replace(
            "sip:+4930123456@gw.example.com;user=phone;transport=udp",
            "tel:+4930123456;phone-context=x",
        )
    )
    assert ruri_tel2sip(ctx) == 1
    assert ctx.ruri == "sip:+4930123456;phone-context=x@example.org;user=phone"
    assert ruri_tel2sip(ctx) == 1  # already SIP: nothing to do


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:+4930123456@example.com", 1),
        ("tel:+4930123456", 1),
        ("sip:4930123456@example.com", -1),
        ("sip:+4@example.com", -1),
        ("sip:+12345678901234567@example.com", -1),
        ("sip:+49301x3456@example.com", -1),
        ("sip:example.com", -1),
    ],
)
def test_is_uri_user_e164(uri: str, expected: int) -> None:
    ctx, _ = context(INVITE)
    assert is_uri_user_e164(ctx, uri) == expected


def test_get_glob_headers_values_fills_both_avps_in_message_order() -> None:
    ctx, _ = context(INVITE)
    names, values = PvHandle(ctx, "avp", "names"), PvHandle(ctx, "avp", "vals")
    assert get_glob_headers_values(ctx, "x-*", names, values) == 1
    # AVP index 0 is the most recent value: the last matching header
    assert ctx.avp.get_all("names") == ["x-trace", "X-Debug"]
    assert ctx.avp.get_all("vals") == ["abc", "1"]
    assert get_glob_headers_values(ctx, "P-*", names, values) == -1
    assert get_glob_headers_values(ctx, "C?eq", names, values) == 1
    assert ctx.avp.get("vals") == "314159 INVITE"


def test_sip_to_json_has_first_line_headers_and_body() -> None:
    ctx, _ = context(INVITE)
    out = PvHandle(ctx, "var", "json")
    assert sip_to_json(ctx, out) == 1
    text = ctx.var_get("json")
    assert isinstance(text, str) and "\n" not in text.replace("\\n", "")
    document = json.loads(text)
    assert document["first_line"] == (
        "INVITE sip:+4930123456@gw.example.com;user=phone;transport=udp SIP/2.0"
    )
    assert document["headers"]["CSeq"] == ["314159 INVITE"]
    assert document["headers"]["X-Debug"] == ["1"] and document["headers"]["x-trace"] == ["abc"]
    assert next(iter(document["headers"])) == "Via"
    assert document["body"] == "v=0\no=alice\n"
    reply, _ = context(REPLY, RouteKind.ONREPLY)
    assert sip_to_json(reply, out) == 1
    document = json.loads(str(ctx.var_get("json")))
    assert document["first_line"] == "SIP/2.0 180 Ringing" and "body" not in document


def test_is_method_on_a_reply_whose_cseq_does_not_parse_is_false() -> None:
    reply, _ = context(REPLY.replace("INVITE\n", "INVITE\xe4\n", 1), RouteKind.ONREPLY)
    assert is_method(reply, "INVITE") == -1
    assert reply.method == ""  # `$rm`: no method to read


def test_ruri_edits_that_cannot_be_a_request_uri_fail_and_keep_it() -> None:
    # The request line splits at SP only: a tab stays in the R-URI as received.
    ctx, _ = context(INVITE.replace("INVITE sip:", "INVITE s\tip:", 1))
    before = ctx.ruri
    assert before is not None and "\t" in before
    assert ruri_add_param(ctx, "user=phone") == -1
    assert ctx.ruri == before
    tel, _ = context(
        INVITE.replace("INVITE sip:+4930123456@gw.example.com", "INVITE tel:+49\t30", 1)
    )
    assert ruri_tel2sip(tel) == -1
