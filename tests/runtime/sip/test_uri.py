"""URI parsing, printing and RFC 3261 §19.1.4 comparison."""

from __future__ import annotations

import pytest

from runtime.sip import OpaqueURI, SipParseError, SipURI, TelURI, parse_uri


def test_full_sip_uri_components() -> None:
    uri = parse_uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&priority=urgent")
    assert isinstance(uri, SipURI)
    assert uri.is_secure
    assert (uri.user, uri.password) == ("alice", "secret")
    assert (uri.host, uri.port) == ("[2001:db8::1]", 5061)
    assert uri.params == (("transport", "tcp"), ("lr", None))
    assert uri.transport == "tcp" and uri.lr
    assert uri.headers == (("subject", "hi"), ("priority", "urgent"))


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@example.com",
        "sip:example.com:5070;lr",
        "sips:+1-555;phone-context=x@gw.example.net;user=phone",
        "sip:alice:pw@10.0.0.1:5060;transport=udp;maddr=239.1.1.1?Route=%3Csip:a%3E",
        "sip:%61lice@example.com;n%61me=v%61lue",
        "tel:+1-201-555-0123;ext=22",
        "urn:service:sos",
    ],
)
def test_str_gives_the_uri_back(text: str) -> None:
    assert str(parse_uri(text)) == text


def test_uri_without_user() -> None:
    uri = parse_uri("sip:proxy.example.com;lr")
    assert isinstance(uri, SipURI)
    assert uri.user is None and uri.host == "proxy.example.com" and uri.port is None


def test_tel_and_opaque() -> None:
    tel = parse_uri("tel:+358-555-1234567;postd=pp22")
    assert isinstance(tel, TelURI)
    assert tel.number == "+358-555-1234567" and tel.param("postd") == "pp22"
    assert tel.user == "+358-555-1234567"
    other = parse_uri("mailto:alice@example.com")
    assert isinstance(other, OpaqueURI) and other.opaque == "alice@example.com"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("example.com", "scheme"),
        ("sip:", "bad host"),
        ("sip:@example.com", "empty user"),
        ("sip:alice@example.com:99999", "port"),
        ("sip:alice@example.com:50a", "port"),
        ("sip:alice@[2001:db8::zz]", "IPv6"),
        ("sip:alice@[2001:db8::1", "']'"),
        ("sip:alice @example.com", "whitespace"),
        ("sip:al%4ice@example.com", "hex"),
        ("sip:alice@exa mple.com", "whitespace"),
        ("sip:alice@example.com;;lr", "empty parameter"),
        ("sip:alice@example.com?novalue", "URI header"),
        ("sip:2001:db8::10", "port"),
    ],
)
def test_malformed_uris(text: str, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_uri(text)
    assert reason in caught.value.reason


def test_error_offset_points_at_the_port() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_uri("sip:alice@example.com:port", offset=100)
    assert caught.value.offset == 100 + len("sip:alice@example.com:")


def test_comparison_rules_of_19_1_4() -> None:
    def same(a: str, b: str) -> bool:
        left, right = parse_uri(a), parse_uri(b)
        assert isinstance(left, SipURI) and isinstance(right, SipURI)
        return left == right

    assert same("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp")
    assert same("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5")
    assert same("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5")
    assert not same("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP")
    assert not same("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060")
    assert not same("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp")
    assert not same("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting")
    assert not same("sip:alice@example.com;name=value%2541", "sip:alice@example.com;name=valueA")
    assert same("sip:alice@example.com;name=value%2541", "sip:alice@example.com;name=value%2541")


def test_replace_makes_a_new_uri() -> None:
    uri = parse_uri("sip:bob@biloxi.com;lr")
    assert isinstance(uri, SipURI)
    moved = uri.replace(host="10.0.0.2", port=5080)
    assert str(moved) == "sip:bob@10.0.0.2:5080;lr"
    assert str(uri) == "sip:bob@biloxi.com;lr"
