"""sipmsg_validate: OpenSIPS's flags and negative return codes, the reason text."""

from __future__ import annotations

import pytest

from runtime.api import RouteKind
from runtime.core.ctx import Ctx
from runtime.sip import parse_message
from runtime.transport.socketinfo import parse_listen
from stdlib.msgvalidate import Fault, sipmsg_validate, valid_hostname, valid_username
from stdlib.testing import PEER_IP, PEER_PORT, RecordingCore, context

BASE = (
    "INVITE sip:bob@b.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-v1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@a.example>;tag=f1\r\n"
    "To: <sip:bob@b.example>\r\n"
    "Call-ID: v-1@10.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1:5062>\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)


class Out:
    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, value: str | None) -> None:
        self.value = value


def edited(*, drop: str = "", replace: tuple[str, str] = ("", ""), add: str = "") -> bytes:
    text = BASE
    if drop:
        text = "\r\n".join(line for line in BASE.split("\r\n") if not line.startswith(drop + ":"))
    if replace[0]:
        assert replace[0] in text
        text = text.replace(*replace)
    if add:
        text = text.replace("Content-Length:", add + "\r\nContent-Length:")
    return text.encode()


def validate(data: bytes, flags: str | None = None) -> tuple[int, str | None]:
    ctx, _ = context(data)
    out = Out()
    return sipmsg_validate(ctx, flags, out), out.value


def test_a_good_request_is_valid() -> None:
    assert validate(BASE.encode()) == (1, None)
    assert validate(BASE.encode(), "shmrftc") == (1, None)


@pytest.mark.parametrize(
    ("data", "flags", "code"),
    [
        (edited(drop="Call-ID"), None, -3),
        (edited(drop="CSeq"), None, -7),
        (edited(drop="From"), None, -8),
        (edited(drop="To"), None, -9),
        (edited(drop="Via"), None, -10),
        (edited(drop="Max-Forwards"), None, -13),
        (edited(drop="Max-Forwards"), "m", 1),
        (edited(drop="Contact"), None, 1),
        (edited(drop="Contact"), "c", -14),
        (edited(replace=("sip:bob@b.example SIP", "sip:bob@b..example SIP")), "r", -12),
        (edited(replace=("sip:bob@b.example SIP", "sip:bob@b..example SIP")), None, 1),
        (edited(replace=("sip:bob@b.example SIP", "sip:b{ob@b.example SIP")), "r", -27),
        (edited(replace=("sip:bob@b.example SIP", "foo:bar SIP")), "r", -11),
        (edited(replace=("<sip:bob@b.example>", "<sip:bob@-b.example>")), "t", -23),
        (edited(replace=("<sip:bob@b.example>", "<sip:b^ob@b.example>")), "t", -29),
        (edited(replace=("<sip:alice@a.example>", "<sip:alice@a_b.example>")), "f", -25),
        (edited(replace=("<sip:alice@a.example>", "<sip:al|ce@a.example>")), "f", -28),
        (edited(replace=("<sip:alice@a.example>", "<foo:x>")), "f", -24),
        (edited(replace=("<sip:alice@a.example>", "<foo:x>")), None, 1),
        (edited(replace=("Contact: <sip:alice@10.0.0.1:5062>", "Contact: *")), "c", -30),
        (edited(add="Path: <sip:p.example;lr>"), None, -15),
        (edited(replace=("Content-Length: 0", "Content-Length: 5")), None, -5),
        (edited(add="Max-Forwards: 300", drop="Max-Forwards"), "h", -2),
    ],
)
def test_the_codes_of_opensips(data: bytes, flags: str | None, code: int) -> None:
    result, reason = validate(data, flags)
    assert result == code
    assert (reason is None) == (code == 1)


def test_the_reason_goes_to_the_variable() -> None:
    assert validate(edited(drop="Call-ID")) == (-3, "message doesn't have callid")


def test_flags_are_case_insensitive_and_unknown_letters_ignored() -> None:
    data = edited(drop="Max-Forwards")
    assert validate(data, "M")[0] == 1
    assert validate(data, "xyz")[0] == Fault.NO_MAX_FORWARDS


def test_a_register_may_unregister_everything_with_a_star() -> None:
    register = (
        BASE.replace("INVITE sip:bob@b.example", "REGISTER sip:b.example")
        .replace("1 INVITE", "1 REGISTER")
        .replace("Contact: <sip:alice@10.0.0.1:5062>", "Contact: *")
    )
    assert validate(register.encode(), "c")[0] == -30  # no Expires: 0
    ok = register.replace("Content-Length:", "Expires: 0\r\nContent-Length:")
    assert validate(ok.encode(), "c")[0] == 1
    assert validate(ok.replace("Expires: 0", "Expires: 60").encode(), "c")[0] == -30


def test_a_body_needs_a_content_type_and_the_sdp_must_parse() -> None:
    body = "hello"
    data = BASE.replace("Content-Length: 0", f"Content-Length: {len(body)}") + body
    assert validate(data.encode())[0] == Fault.NO_CONTENT_TYPE
    sdp = data.replace("Content-Length:", "Content-Type: application/sdp\r\nContent-Length:")
    assert validate(sdp.encode())[0] == 1
    assert validate(sdp.encode(), "s")[0] == Fault.PARSE_SDP


@pytest.mark.parametrize(
    ("status", "header", "code"),
    [
        (405, "Allow: INVITE", -16),
        (407, 'Proxy-Authenticate: Digest realm="a"', -18),
        (420, "Unsupported: foo", -19),
        (401, 'WWW-Authenticate: Digest realm="a"', -20),
    ],
)
def test_replies_must_carry_what_their_status_asks_for(status: int, header: str, code: int) -> None:
    reply = BASE.replace("INVITE sip:bob@b.example SIP/2.0", f"SIP/2.0 {status} X")
    ctx, _ = context(reply.encode(), RouteKind.ONREPLY)
    assert sipmsg_validate(ctx) == code
    with_header = reply.replace("Content-Length:", header + "\r\nContent-Length:")
    ctx, _ = context(with_header.encode(), RouteKind.ONREPLY)
    assert sipmsg_validate(ctx) == 1


def test_a_423_to_a_register_needs_min_expires() -> None:
    reply = BASE.replace("INVITE sip:bob@b.example SIP/2.0", "SIP/2.0 423 Too Brief").replace(
        "1 INVITE", "1 REGISTER"
    )
    ctx, _ = context(reply.encode(), RouteKind.ONREPLY)
    assert sipmsg_validate(ctx) == Fault.NO_MIN_EXPIRES_423


def test_content_length_is_needed_on_streams() -> None:
    data = edited(drop="Content-Length")
    assert validate(data)[0] == 1  # UDP
    tcp = parse_listen("tcp:127.0.0.1:5060")
    ctx = Ctx(parse_message(data), tcp, PEER_IP, PEER_PORT, RecordingCore())
    assert sipmsg_validate(ctx) == Fault.NO_CONTENT_LENGTH


def test_hostnames_and_usernames() -> None:
    assert valid_hostname("a.example") and valid_hostname("[2001:db8::1]")
    assert valid_hostname("10.0.0.1") and valid_hostname("a-b.example.")
    assert not valid_hostname("-a.example") and not valid_hostname("a..b")
    assert not valid_hostname("a.b-") and not valid_hostname("")
    assert valid_username("alice") and valid_username("+1%20x;isub=2")
    assert not valid_username("al ice") and not valid_username("a%2") and not valid_username("a%zz")
