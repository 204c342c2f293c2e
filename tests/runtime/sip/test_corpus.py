"""Verdicts on the shared SIP corpus, and the field that makes each tricky message tricky."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from runtime.sip import (
    OpaqueURI,
    Request,
    Response,
    SipParseError,
    SipURI,
    StreamFramer,
    parse_message,
)

CORPUS_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "sip"
MANIFEST = CORPUS_DIR / "manifest.tsv"
# The corpus README: this file is one TCP read holding three messages; every other file
# is the payload of one UDP datagram.
STREAM_FILES = frozenset({"ss-tcp-stream-three-messages.sip"})
CorpusReader = Callable[[str], bytes]


@dataclass(frozen=True)
class CorpusEntry:
    file: str
    expected: str
    what: str

    def read(self) -> bytes:
        return (CORPUS_DIR / self.file).read_bytes()


def load_manifest() -> list[CorpusEntry]:
    """Rows of manifest.tsv, or [] when the corpus is not beside the checkout."""
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [CorpusEntry(row["file"], row["expected"], row["what it tests"]) for row in rows]


def require_corpus() -> None:
    if not MANIFEST.is_file():
        pytest.skip(f"SIP corpus not found at {CORPUS_DIR} (../shared/corpus/sip beside the checkout)")


ENTRIES = load_manifest()


def _messages(entry: CorpusEntry) -> list[bytes]:
    data = entry.read()
    if entry.file not in STREAM_FILES:
        return [data]
    framed = StreamFramer().feed(data)
    assert all(isinstance(item, bytes) for item in framed)
    return [item for item in framed if isinstance(item, bytes)]


def _ids(entries: list[CorpusEntry]) -> list[str]:
    return [entry.file for entry in entries]


def test_manifest_is_present_and_lists_every_kind() -> None:
    require_corpus()
    kinds = {entry.expected for entry in ENTRIES}
    assert kinds == {"valid", "invalid", "valid-but-tricky"}


ACCEPTED = [e for e in ENTRIES if e.expected in ("valid", "valid-but-tricky")]
REJECTED = [e for e in ENTRIES if e.expected == "invalid"]


@pytest.mark.parametrize("entry", ACCEPTED, ids=_ids(ACCEPTED))
def test_accepted_messages_parse_and_validate(entry: CorpusEntry) -> None:
    for data in _messages(entry):
        message = parse_message(data)
        message.validate()
        assert message.vias and message.cseq is not None
        # Nothing was edited, so the bytes go out exactly as they came in.
        reparsed = parse_message(message.to_bytes())
        assert reparsed.to_bytes() == message.to_bytes()


@pytest.mark.parametrize("entry", REJECTED, ids=_ids(REJECTED))
def test_rejected_messages_raise_with_reason_and_offset(entry: CorpusEntry) -> None:
    data = entry.read()
    with pytest.raises(SipParseError) as caught:
        parse_message(data).validate()
    assert caught.value.reason
    assert 0 <= caught.value.offset <= len(data)


# Where the fault is: (file, words expected in the reason, byte the offset must point at)
FAULTS = [
    ("badinv01.sip", "empty parameter", None),
    ("clerr.sip", "Content-Length 9999", b"9999"),
    ("scalar02.sip", "below 2**31", b"36893488147419103232"),
    ("quotbal.sip", "unterminated", b'"Mr. J. User'),
    ("lwsruri.sip", "whitespace", b" lr SIP/2.0"),
    ("lwsstart.sip", "whitespace", b" sip:user@example.com  SIP"),
    ("escruri.sip", "headers are not allowed", b"?Route="),
    ("regbadct.sip", "enclosed in <>", b"sip:user@example.com?Route"),
    ("badaspec.sip", "whitespace around the URI", b" sip:t.watson"),
    ("baddn.sip", "not terminated by an empty line", None),
    ("mismatch01.sip", "differs from the request method", b"8 INVITE"),
    ("bigcode.sip", "outside 100-699", b"4294967301"),
    ("insuf.sip", "missing To", None),
    ("test.sip", "request line", b"INVITE sip:alan"),
    ("ipv6-bad.sip", "port", b"db8::10 SIP"),
    ("sme-options-scanner-no-blank-line.sip", "empty line", None),
    ("ss-ekiga-register-bad-contact.sip", "whitespace inside a URI", b"sip:twolmsted@24"),
    ("ss-aastra-register-broken.sip", "bare CR or LF", b"Contact: <sip:100001@83"),
    ("ss-invite-cl-without-body.sip", "Content-Length 232", b"232"),
]


@pytest.mark.parametrize(("name", "reason", "at"), FAULTS, ids=[f[0] for f in FAULTS])
def test_rejection_reason_and_offset(
    corpus_message: CorpusReader, name: str, reason: str, at: bytes | None
) -> None:
    data = corpus_message(name)
    with pytest.raises(SipParseError) as caught:
        parse_message(data).validate()
    assert reason in caught.value.reason
    if at is not None:
        assert data[caught.value.offset :].startswith(at), data[caught.value.offset :][:30]


def test_every_invalid_file_has_a_located_fault() -> None:
    require_corpus()
    assert {entry.file for entry in REJECTED} == {name for name, _, _ in FAULTS}


# ---------------------------------------------------------------- the tricky ones
def _request(corpus_message: CorpusReader, name: str) -> Request:
    message = parse_message(corpus_message(name))
    message.validate()
    assert isinstance(message, Request)
    return message


def test_lwsdisp_token_display_name_glued_to_uri(corpus_message: CorpusReader) -> None:
    sender = _request(corpus_message, "lwsdisp.sip").from_
    assert sender is not None
    assert sender.display_name == "caller"
    assert isinstance(sender.uri, SipURI)
    assert (sender.uri.user, sender.uri.host) == ("caller", "example.com")
    assert sender.tag == "323"


def test_badbranch_bare_magic_cookie_falls_back_to_2543(corpus_message: CorpusReader) -> None:
    via = _request(corpus_message, "badbranch.sip").top_via
    assert via is not None
    assert via.branch == "z9hG4bK"
    assert not via.has_rfc3261_branch
    assert via.needs_rfc2543_matching


def test_unkscm_unknown_scheme_kept_opaque(corpus_message: CorpusReader) -> None:
    ruri = _request(corpus_message, "unkscm.sip").ruri
    assert isinstance(ruri, OpaqueURI)
    assert ruri.scheme == "nobodyKnowsThisScheme"
    assert ruri.opaque == "totallyopaquecontent"


def test_novelsc_registered_odd_scheme_kept_opaque(corpus_message: CorpusReader) -> None:
    ruri = _request(corpus_message, "novelsc.sip").ruri
    assert isinstance(ruri, OpaqueURI)
    assert str(ruri) == "soap.beep://192.0.2.103:3002"


def test_bext01_option_tags_readable(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "bext01.sip")
    assert request.header("Proxy-Require") == "noProxiesSupportThis, norDoAnyProxiesSupportThis"
    assert [tag.strip() for tag in (request.header("require") or "").split(",")] == [
        "nothingSupportsThis",
        "nothingSupportsThisEither",
    ]


def test_invut_unknown_body_type_kept(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "invut.sip")
    assert request.content_type == "application/unknownformat"
    assert request.body.startswith(b"<audio>") and len(request.body) == 40


def test_regaut01_unknown_auth_scheme_untouched(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "regaut01.sip")
    assert request.header("Authorization") == "NoOneKnowsThisScheme opaque-data=here"
    assert request.content_length == 0


def test_zeromf_max_forwards_zero(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "zeromf.sip")
    assert request.max_forwards == 0
    assert request.decrement_max_forwards() is None  # a proxy answers 483 instead


def test_cparam01_unknownparam_belongs_to_the_contact(corpus_message: CorpusReader) -> None:
    (contact,) = _request(corpus_message, "cparam01.sip").contacts
    assert not contact.bracketed
    assert contact.param("unknownparam") == ""
    assert isinstance(contact.uri, SipURI)
    assert contact.uri.params == ()
    assert contact.uri.user == "+19725552222"


def test_regescrt_escaped_route_header_kept_on_binding(corpus_message: CorpusReader) -> None:
    (contact,) = _request(corpus_message, "regescrt.sip").contacts
    assert isinstance(contact.uri, SipURI)
    assert contact.uri.headers == (("Route", "%3Csip:sip.example.com%3E"),)
    assert str(contact.uri) == "sip:user@example.com?Route=%3Csip:sip.example.com%3E"


def test_inv2543_body_runs_to_end_of_datagram(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "inv2543.sip")
    assert request.content_length is None and request.max_forwards is None
    assert len(request.body) == 105
    sender = request.from_
    assert sender is not None and sender.tag is None
    assert request.top_via is not None and request.top_via.branch is None


def test_port_ambiguous_is_one_ipv6_address(corpus_message: CorpusReader) -> None:
    ruri = _request(corpus_message, "port-ambiguous.sip").ruri
    assert isinstance(ruri, SipURI)
    assert (ruri.host, ruri.port) == ("[2001:db8::10:5070]", None)


def test_audiocodes_broken_pai_forwarded_untouched(corpus_message: CorpusReader) -> None:
    data = corpus_message("sme-invite-audiocodes.sip")
    request = _request(corpus_message, "sme-invite-audiocodes.sip")
    assert request.header("P-Asserted-Identity") == (
        '"Dave Horton<sip:4083084809;context=private>@10.1.0.2'
    )
    ruri = request.ruri
    assert isinstance(ruri, SipURI) and ruri.user == "5753606;context=private"
    request.prepend_via("SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKproxy1")
    assert request.to_bytes().endswith(data[data.index(b"Via: SIP/2.0/UDP 10.1.10.101") :])


def test_msc_display_names_glued_and_bare_to(corpus_message: CorpusReader) -> None:
    response = parse_message(corpus_message("ss-200ok-msc-no-lws-display.sip"))
    response.validate()
    assert isinstance(response, Response) and response.status == 200
    assert response.from_ is not None and response.from_.display_name == "Blue Face"
    (contact,) = response.contacts
    assert contact.display_name == "+3535xxx"
    assert response.to is not None and not response.to.bracketed
    assert response.to.tag == "MTHf2-ol1Yn0"
    assert [str(rr.uri) for rr in response.record_routes] == [
        "sip:213.168.225.133:5060;lr",
        "sip:213.168.225.133:5061;lr",
    ]


def test_tcp_stream_three_messages_cut_by_content_length(corpus_message: CorpusReader) -> None:
    items = StreamFramer().feed(corpus_message("ss-tcp-stream-three-messages.sip"))
    messages = [parse_message(item) for item in items if isinstance(item, bytes)]
    assert len(items) == 3
    assert [type(m).__name__ for m in messages] == ["Request", "Request", "Response"]
    assert [m.body for m in messages] == [b"includesdp=true", b"includesdp=true", b""]
    assert len(messages[1].vias) == 3


def test_kam_register_2543_trailing_crlf_discarded(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "kam-register-2543.sip")
    assert request.body == b""
    assert request.to_bytes() == corpus_message("kam-register-2543.sip")[:-2]
    assert request.top_via is not None and request.top_via.needs_rfc2543_matching


# ------------------------------------------------------- notable valid messages
def test_wsinv_folding_and_whitespace(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "wsinv.sip")
    assert request.max_forwards == 68
    assert request.cseq is not None and (request.cseq.number, request.cseq.method) == (9, "INVITE")
    assert request.to is not None and request.to.tag == "1918181833n"
    assert request.from_ is not None and request.from_.display_name == 'J Rosenberg \\"'
    assert request.from_.tag == "98asjd8"
    assert [(v.transport, v.host, v.branch) for v in request.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    (contact,) = request.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.param("newparam") == "newvalue" and contact.q == 0.33
    assert request.header("s") == "" and request.header("Subject") == ""
    assert request.header("NewFangledHeader") == "newfangled value continued newfangled value"
    assert len(request.body) == 150


def test_esc01_escapes_decoded_once(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "esc01.sip")
    (contact,) = request.contacts
    uri = contact.uri
    assert isinstance(uri, SipURI)
    assert uri.user_unescaped == "caller"
    assert uri.param("name") == "value%41"
    assert uri.param("lr") == ""
    assert uri != SipURI("sip", "caller", None, "host5.example.net", None,
                         (("lr", None), ("name", "valueA")))
    assert uri == SipURI("sip", "caller", None, "host5.example.net", None,
                         (("lr", None), ("name", "value%2541")))
    ruri = request.ruri
    assert isinstance(ruri, SipURI) and ruri.user_unescaped == "sips:user@example.com"


def test_escnull_nul_users_stay_distinct(corpus_message: CorpusReader) -> None:
    first, second = _request(corpus_message, "escnull.sip").contacts
    assert isinstance(first.uri, SipURI) and isinstance(second.uri, SipURI)
    assert first.uri.user_unescaped == "\x00"
    assert second.uri.user_unescaped == "\x00\x00"
    assert first.uri != second.uri


def test_semiuri_user_with_semicolon(corpus_message: CorpusReader) -> None:
    ruri = _request(corpus_message, "semiuri.sip").ruri
    assert isinstance(ruri, SipURI)
    assert ruri.user_unescaped == "user;par=u@example.net"
    assert ruri.params == ()


def test_intmeth_unusual_tokens(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "intmeth.sip")
    assert request.method == "!interesting-Method0123456789_*+`.%indeed'~"
    ruri = request.ruri
    assert isinstance(ruri, SipURI)
    assert ruri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert request.to is not None and request.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert request.header("extensionHeader-!.%*+_`'~") == "\ufeff\u5927\u505c\u96fb"


def test_via_received_ipv6_without_brackets(corpus_message: CorpusReader) -> None:
    via = _request(corpus_message, "via-received-param-no-delim.sip").top_via
    assert via is not None
    assert via.received == "2001:db8::9:255" and via.branch == "z9hG4bKas3"
    assert via.host == "[2001:db8::9:1]"


def test_route_set_over_several_lines(corpus_message: CorpusReader) -> None:
    routes = _request(corpus_message, "ss-bye-multiple-route-headers.sip").routes
    assert len(routes) == 7
    assert [r.uri.host for r in routes[:3]] == ["220.240.255.198", "192.168.1.2", "21.10.21.2"]
    assert isinstance(routes[0].uri, SipURI) and routes[0].uri.lr


def test_rfc7118_folded_contact_params(corpus_message: CorpusReader) -> None:
    request = _request(corpus_message, "rfc7118-register-wss.sip")
    assert request.top_via is not None and request.top_via.transport == "WSS"
    (contact,) = request.contacts
    assert contact.param("reg-id") == "1"
    assert contact.param("+sip.instance") == '"<urn:uuid:f81-7dec-14a06cf1>"'
    assert isinstance(contact.uri, SipURI) and contact.uri.transport == "ws"


def test_two_contacts_with_q_and_expires(corpus_message: CorpusReader) -> None:
    response = parse_message(corpus_message("ss-200ok-register-two-contacts.sip"))
    first, second = response.contacts
    assert (first.q, first.expires) == (0.1, 3298)
    assert (second.display_name, second.expires) == ("Joe Bloggs", 3600)
    via = response.top_via
    assert via is not None and via.rport == 64226 and via.received == "89.100.104.191"
